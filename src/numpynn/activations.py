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
    """Heaviside step: 1 where x > 0, else 0 (integers for integer input).

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        0s and 1s, the same shape; x's dtype for float input, else int64.
    """
    x = np.asarray(x)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.int64
    return (x > 0).astype(dtype)


def sigmoid(x: npt.ArrayLike) -> Array:
    """1 / (1 + exp(-x)), evaluated as exp(x) / (1 + exp(x)) for x < 0 so nothing overflows.

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        The same shape; float64 for non-float input, else x's dtype.
    """
    x = _float_array(x)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def tanh(x: npt.ArrayLike) -> Array:
    """Hyperbolic tangent, (e^x - e^-x) / (e^x + e^-x).

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        The same shape; float64 for non-float input, else x's dtype.
    """
    return np.tanh(_float_array(x))


def relu(x: npt.ArrayLike) -> Array:
    """Rectified linear unit, max(0, x).

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        The same shape; float64 for non-float input, else x's dtype.
    """
    return np.maximum(_float_array(x), 0)


def leaky_relu(x: npt.ArrayLike, alpha: float = 0.01) -> Array:
    """x where x > 0, else alpha * x.

    Parameters
    ----------
    x : array_like
        Any shape.
    alpha : float
        The slope for x <= 0.

    Returns
    -------
    ndarray
        The same shape; float64 for non-float input, else x's dtype.
    """
    x = _float_array(x)
    return np.where(x > 0, x, alpha * x)


def identity(x: npt.ArrayLike) -> Array:
    """x unchanged (the output activation for regression).

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        x itself for a float array (no copy), else a float64 copy.
    """
    return _float_array(x)


def softmax(x: npt.ArrayLike) -> Array:
    """exp(x - max(x)) / sum(exp(x - max(x))) along the last axis; each row sums to 1.

    Parameters
    ----------
    x : array_like
        Scores, (..., n_classes): e.g. (n_samples, n_classes).

    Returns
    -------
    ndarray
        Probabilities of the same shape, each row (last axis) summing to 1; float64 for
        non-float input, else x's dtype.
    """
    x = _float_array(x)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


GELU_C = float(np.sqrt(2 / np.pi))  # the tanh approximation's constants (GPT-2's)
GELU_K = 0.044715


def gelu(x: npt.ArrayLike) -> Array:
    """Gaussian error linear unit, the tanh approximation of GPT-2 (torch's
    ``gelu(approximate="tanh")``): 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).

    Parameters
    ----------
    x : array_like
        Any shape.

    Returns
    -------
    ndarray
        The same shape; float64 for non-float input, else x's dtype.
    """
    x = _float_array(x)
    return 0.5 * x * (1 + np.tanh(GELU_C * (x + GELU_K * x**3)))
