"""Chapter 1, perceptrons (DLFS chapter 2): the gates' decision lines, XOR in two layers and
the perceptron learning rule, epoch by epoch."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..datasets import truth_table
from ..errors import ConvergenceWarning
from ..gates import AND_PERCEPTRON, NAND_PERCEPTRON, OR_PERCEPTRON, XOR
from ..perceptron import Perceptron

GATES = ("and", "or", "nand", "xor")


def gate_lines() -> dict[str, dict[str, Any]]:
    """The hand-set gates of the book: for "and", "or", "nand" the weights ``w`` (2,), the bias
    ``b`` (the line w1 x1 + w2 x2 + b = 0 splits the input square) and the ``outputs`` (4,) on
    (0,0), (1,0), (0,1), (1,1); for "xor", the outputs of AND(NAND(x), OR(x)), two layers."""
    X, _ = truth_table("xor")
    lines: dict[str, dict[str, Any]] = {}
    for name, p in (("and", AND_PERCEPTRON), ("or", OR_PERCEPTRON), ("nand", NAND_PERCEPTRON)):
        lines[name] = {"w": p.w.copy(), "b": p.b, "outputs": p.predict(X)}
    lines["xor"] = {"outputs": XOR(X[:, 0], X[:, 1])}
    return lines


def learning_rule(
    gates: tuple[str, ...] = GATES, epochs: int = 12, lr: float = 0.1
) -> dict[str, dict[str, Any]]:
    """Train a perceptron from zero weights on each gate's truth table, one epoch at a time.

    For each gate: ``w`` (epochs + 1, 2) and ``b`` (epochs + 1,), the weights before training
    and after each epoch; ``mistakes`` (epochs + 1,), how many of the 4 inputs are then
    misclassified; ``converged_epoch``, the first epoch after which there are none (None when
    that never happens: XOR is not linearly separable)."""
    results = {}
    for gate in gates:
        X, y = truth_table(gate)
        p = Perceptron(n_inputs=2)
        w, b, mistakes = [p.w.copy()], [p.b], [int(np.sum(p.predict(X) != y))]
        for _ in range(epochs):
            with warnings.catch_warnings():  # one epoch at a time: a mistake is no failure yet
                warnings.simplefilter("ignore", ConvergenceWarning)
                p.fit(X, y, epochs=1, lr=lr)
            w.append(p.w.copy())
            b.append(p.b)
            mistakes.append(int(np.sum(p.predict(X) != y)))
        errors = np.array(mistakes)
        zero = np.nonzero(errors == 0)[0]
        results[gate] = {
            "w": np.array(w),
            "b": np.array(b),
            "mistakes": errors,
            "converged_epoch": int(zero[0]) if zero.size else None,
        }
    return results
