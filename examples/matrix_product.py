"""Worked example 1: a matrix product is the whole forward pass of a layer."""

import numpy as np

import numpynn as nn

A = np.array([[1, 2], [3, 4], [5, 6]])  # (3, 2)
B = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])  # (2, 4)
print(f"A @ B, shape {(A @ B).shape}:\n{A @ B}")

# A layer with no bias and no activation: 2 inputs -> 3 neurons.
layer = nn.Dense(2, 3, dtype=np.float64)
layer.W[...] = [[1, 3, 5], [2, 4, 6]]
print("layer output for x = [1, 2]:", nn.Sequential(layer).forward([[1, 2]])[0])

# A mismatched product names the layer and both shapes.
try:
    nn.Dense(3, 4).forward(np.ones((3, 2), dtype=np.float32))
except nn.ShapeError as error:
    print("error:", error)
