"""Weight initialisers: each draws a ``(n_in, n_out)`` matrix from a ``np.random.Generator``.

=========  =================================  =====================================
name       distribution                       use with
=========  =================================  =====================================
normal     N(0, 1) * 0.01                     the course notes' small random weights
xavier     N(0, 2 / (n_in + n_out))           sigmoid, tanh, softmax (Glorot)
he         N(0, 2 / n_in)                     ReLU, leaky ReLU
nielsen    N(0, 1) / sqrt(n_in)               Nielsen's network2 default
=========  =================================  =====================================

Biases always start at zero.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._typing import Array

Initializer = Callable[[int, int, np.random.Generator], Array]


def normal(n_in: int, n_out: int, rng: np.random.Generator) -> Array:
    """Small random weights, N(0, 1) * 0.01.

    Parameters
    ----------
    n_in, n_out : int
        The layer's input and output features.
    rng : numpy.random.Generator
        The source of the random numbers.

    Returns
    -------
    ndarray
        W, float64 of shape (n_in, n_out).
    """
    return rng.standard_normal((n_in, n_out)) * 0.01


def xavier(n_in: int, n_out: int, rng: np.random.Generator) -> Array:
    """Glorot/Xavier normal: standard deviation sqrt(2 / (n_in + n_out)).

    Parameters
    ----------
    n_in, n_out : int
        The layer's input and output features.
    rng : numpy.random.Generator
        The source of the random numbers.

    Returns
    -------
    ndarray
        W, float64 of shape (n_in, n_out).
    """
    return rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / (n_in + n_out))


def he(n_in: int, n_out: int, rng: np.random.Generator) -> Array:
    """He normal: standard deviation sqrt(2 / n_in), for ReLU layers.

    Parameters
    ----------
    n_in, n_out : int
        The layer's input and output features.
    rng : numpy.random.Generator
        The source of the random numbers.

    Returns
    -------
    ndarray
        W, float64 of shape (n_in, n_out).
    """
    return rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)


def nielsen(n_in: int, n_out: int, rng: np.random.Generator) -> Array:
    """Nielsen's default: N(0, 1) / sqrt(n_in).

    Parameters
    ----------
    n_in, n_out : int
        The layer's input and output features.
    rng : numpy.random.Generator
        The source of the random numbers.

    Returns
    -------
    ndarray
        W, float64 of shape (n_in, n_out).
    """
    return rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)


INITIALIZERS: dict[str, Initializer] = {
    "normal": normal,
    "xavier": xavier,
    "he": he,
    "nielsen": nielsen,
}


def get(name: str) -> Initializer:
    """The initialiser called ``name``; ValueError naming the known ones otherwise.

    Parameters
    ----------
    name : str
        ``"normal"``, ``"xavier"``, ``"he"`` or ``"nielsen"``.

    Returns
    -------
    callable
        ``f(n_in, n_out, rng)`` returning a (n_in, n_out) weight matrix.

    Raises
    ------
    ValueError
        For an unknown name.
    """
    try:
        return INITIALIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"init must be one of {sorted(INITIALIZERS)}, got {name!r}") from None
