"""MNIST for the benchmarks: 60,000 float32 training rows held in memory, 10,000 test rows."""

from __future__ import annotations

import numpy as np

from numpynn.datasets import load_mnist as numpynn_load_mnist

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def load_mnist() -> Arrays:
    """(X_train (60000, 784) float32 in [0, 1], y_train int64, X_test (10000, 784), y_test)."""
    (X, y), (X_test, y_test) = numpynn_load_mnist(download=False)
    return X, y, X_test, y_test
