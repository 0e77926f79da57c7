"""Logic gates built from perceptrons. Each takes 0/1 scalars or arrays and returns 0/1.

XOR is not linearly separable, so no single perceptron computes it; two layers do:
XOR(x1, x2) = AND(NAND(x1, x2), OR(x1, x2)).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .perceptron import Perceptron

AND_PERCEPTRON = Perceptron(weights=[0.5, 0.5], bias=-0.7)
OR_PERCEPTRON = Perceptron(weights=[0.5, 0.5], bias=-0.4)
NAND_PERCEPTRON = Perceptron(weights=[-0.5, -0.5], bias=0.7)


def _gate(perceptron: Perceptron, x1: npt.ArrayLike, x2: npt.ArrayLike) -> Any:
    a, b = np.broadcast_arrays(np.asarray(x1), np.asarray(x2))
    out = perceptron.predict(np.stack([a.ravel(), b.ravel()], axis=1)).reshape(a.shape)
    return int(out) if out.ndim == 0 else out


def AND(x1: npt.ArrayLike, x2: npt.ArrayLike) -> Any:
    """1 when both inputs are 1: w = (0.5, 0.5), b = -0.7.

    Parameters
    ----------
    x1, x2 : int or array_like
        0/1 inputs: scalars, or arrays of shapes that broadcast together.

    Returns
    -------
    int or ndarray
        0 or 1: an int for scalar inputs, else an int64 array of the broadcast shape.
    """
    return _gate(AND_PERCEPTRON, x1, x2)


def OR(x1: npt.ArrayLike, x2: npt.ArrayLike) -> Any:
    """1 when either input is 1: w = (0.5, 0.5), b = -0.4.

    Parameters
    ----------
    x1, x2 : int or array_like
        0/1 inputs: scalars, or arrays of shapes that broadcast together.

    Returns
    -------
    int or ndarray
        0 or 1: an int for scalar inputs, else an int64 array of the broadcast shape.
    """
    return _gate(OR_PERCEPTRON, x1, x2)


def NAND(x1: npt.ArrayLike, x2: npt.ArrayLike) -> Any:
    """0 only when both inputs are 1: w = (-0.5, -0.5), b = 0.7.

    Parameters
    ----------
    x1, x2 : int or array_like
        0/1 inputs: scalars, or arrays of shapes that broadcast together.

    Returns
    -------
    int or ndarray
        0 or 1: an int for scalar inputs, else an int64 array of the broadcast shape.
    """
    return _gate(NAND_PERCEPTRON, x1, x2)


def XOR(x1: npt.ArrayLike, x2: npt.ArrayLike) -> Any:
    """1 when exactly one input is 1: AND(NAND(x1, x2), OR(x1, x2)), two layers of perceptrons.

    Parameters
    ----------
    x1, x2 : int or array_like
        0/1 inputs: scalars, or arrays of shapes that broadcast together.

    Returns
    -------
    int or ndarray
        0 or 1: an int for scalar inputs, else an int64 array of the broadcast shape.
    """
    return AND(NAND(x1, x2), OR(x1, x2))
