"""Activation functions: plain functions on arrays of any shape.

``softmax`` works row-wise on the last axis. Every function stays finite and
warning-free for inputs of any magnitude (e.g. 1e4).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ._typing import Array


def _float_array(x: npt.ArrayLike) -> Array:
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def step(x: npt.ArrayLike) -> Array:
    """Heaviside step: 1 where x > 0, else 0 (integers for integer input)."""
    x = np.asarray(x)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.int64
    return (x > 0).astype(dtype)


def sigmoid(x: npt.ArrayLike) -> Array:
    """1 / (1 + exp(-x)), evaluated as exp(x) / (1 + exp(x)) for x < 0 so nothing overflows."""
    x = _float_array(x)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def tanh(x: npt.ArrayLike) -> Array:
    """Hyperbolic tangent, (e^x - e^-x) / (e^x + e^-x)."""
    return np.tanh(_float_array(x))


def relu(x: npt.ArrayLike) -> Array:
    """Rectified linear unit, max(0, x)."""
    return np.maximum(_float_array(x), 0)


def leaky_relu(x: npt.ArrayLike, alpha: float = 0.01) -> Array:
    """x where x > 0, else alpha * x."""
    x = _float_array(x)
    return np.where(x > 0, x, alpha * x)


def identity(x: npt.ArrayLike) -> Array:
    """x unchanged (the output activation for regression)."""
    return _float_array(x)


def softmax(x: npt.ArrayLike) -> Array:
    """exp(x - max(x)) / sum(exp(x - max(x))) along the last axis; each row sums to 1."""
    x = _float_array(x)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


GELU_C = float(np.sqrt(2 / np.pi))  # the tanh approximation's constants (GPT-2's)
GELU_K = 0.044715


def gelu(x: npt.ArrayLike) -> Array:
    """Gaussian error linear unit, the tanh approximation of GPT-2 (torch's
    ``gelu(approximate="tanh")``): 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))."""
    x = _float_array(x)
    return 0.5 * x * (1 + np.tanh(GELU_C * (x + GELU_K * x**3)))
