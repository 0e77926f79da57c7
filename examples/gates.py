"""Worked example 2: perceptrons, logic gates, and why XOR needs two layers."""

import warnings

import numpy as np

import numpynn as nn

inputs = [(0, 0), (1, 0), (0, 1), (1, 1)]
print("x1 x2 | AND OR NAND XOR")
for x1, x2 in inputs:
    g = nn.gates
    print(f" {x1}  {x2} |  {g.AND(x1, x2)}   {g.OR(x1, x2)}   {g.NAND(x1, x2)}    {g.XOR(x1, x2)}")

p = nn.Perceptron(weights=[0.5, 0.5], bias=-0.7)
print("\nPerceptron(w=[0.5, 0.5], b=-0.7) on the four inputs:", p.predict(np.array(inputs)))

print("\nThe perceptron learning rule on each truth table:")
for gate in ("and", "or", "nand", "xor"):
    X, y = nn.datasets.truth_table(gate)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        learned = nn.Perceptron(n_inputs=2).fit(X, y, epochs=20)
    status = "did not converge"
    if learned.converged_:
        status = f"converged in {learned.n_epochs_} epochs"
    print(f"  {gate.upper():4}: {status:28} {learned!r}")
    for warning in caught:
        print(f"        warning: {warning.message}")
