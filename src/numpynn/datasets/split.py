"""Hold out a validation set from a training set."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .._typing import Array, Seed
from ..errors import ShapeError
from ..validation import check_positive_int, check_same_length


def split_validation(
    X: npt.ArrayLike, y: npt.ArrayLike, n_validation: int, *, seed: Seed = 0
) -> tuple[tuple[Array, Array], tuple[Array, Array]]:
    """Split (X, y) into ((X_train, y_train), (X_val, y_val)) with ``n_validation`` rows held out.

    X: (n_samples, ...) and y: (n_samples, ...). The validation rows are chosen by a random
    permutation from ``seed`` (an int or a Generator); with ``seed=None`` they are the last
    ``n_validation`` rows in order, which on MNIST's 60000 training images reproduces the
    classic 50000/10000 split of mnist.pkl.gz.

    Parameters
    ----------
    X, y : array_like, shape (n_samples, ...)
        Inputs and targets, one row per sample.
    n_validation : int
        Rows to hold out, in [1, n_samples).
    seed : int, numpy.random.Generator or None
        Chooses the validation rows; None takes the last ones.

    Returns
    -------
    tuple
        ``((X_train, y_train), (X_val, y_val))``.

    Raises
    ------
    ValueError
        If ``n_validation`` is not in [1, n_samples).
    ShapeError
        If X or y is a scalar, or they differ in length.
    """
    X, y = np.asarray(X), np.asarray(y)
    n_validation = check_positive_int("n_validation", n_validation)
    if X.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"X and y must be arrays of samples, got shapes {X.shape} and {y.shape}")
    check_same_length(X, y)
    if n_validation >= len(X):
        raise ValueError(
            f"n_validation must be less than the number of samples ({len(X)}) so some are left "
            f"to train on, got {n_validation}"
        )
    if seed is None:
        order = np.arange(len(X))
    elif isinstance(seed, np.random.Generator) or (
        isinstance(seed, int | np.integer) and not isinstance(seed, bool)
    ):
        order = np.random.default_rng(seed).permutation(len(X))
    else:
        raise TypeError(f"seed must be an int, a numpy Generator or None, got {seed!r}")
    train, val = order[: len(X) - n_validation], order[len(X) - n_validation :]
    return (X[train], y[train]), (X[val], y[val])
