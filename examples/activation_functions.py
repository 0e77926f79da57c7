"""Worked example 3: the activation functions, and a softmax that never overflows.

For a figure of every function and its derivative: ``numpynn plot activations``.
"""

import numpy as np

import numpynn as nn

x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
print("x         ", x)
for f in (nn.step, nn.sigmoid, nn.tanh, nn.relu, nn.leaky_relu, nn.identity):
    print(f"{f.__name__:10}", np.round(f(x), 4))

a = np.array([1010.0, 1000.0, 990.0])  # naive exp(a) overflows
print("\nsoftmax([1010, 1000, 990]) =", nn.softmax(a), " sum =", nn.softmax(a).sum())
print("sigmoid([-1000, 1000])     =", nn.sigmoid(np.array([-1000.0, 1000.0])))
print("softmax of a batch, row by row:\n", nn.softmax(np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])))
