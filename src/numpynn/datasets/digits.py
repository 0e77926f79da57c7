"""scikit-learn's 8x8 handwritten digits: a small real set for fast tests and demos."""

from __future__ import annotations

import numpy as np

from .._typing import Array

TEST_FRACTION = 0.2
SPLIT_SEED = 0


def load_digits() -> tuple[tuple[Array, Array], tuple[Array, Array]]:
    """The 1797 8x8 digits as ((X_train, y_train), (X_test, y_test)).

    X is float32 of shape (n, 64) in [0, 1] (pixel counts 0..16 divided by 16), y int64 in
    0..9. The split is fixed: a seeded permutation with 20% of each class held out for test
    (1438 train, 359 test), the same on every call. Needs scikit-learn.

    Returns
    -------
    tuple
        ``((X_train, y_train), (X_test, y_test))``: X float32 (n, 64), y int64 (n,).

    Raises
    ------
    ImportError
        Without scikit-learn.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits  # type: ignore[import-untyped]
    except ImportError:
        raise ImportError(
            "load_digits needs scikit-learn: pip install scikit-learn (or numpynn[sklearn])"
        ) from None
    digits = sklearn_digits()
    X = (np.asarray(digits.data) / 16.0).astype(np.float32)
    y = np.asarray(digits.target, dtype=np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    is_test = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = order[y[order] == label]
        is_test[members[: round(TEST_FRACTION * len(members))]] = True
    train, test = order[~is_test[order]], order[is_test[order]]
    return (X[train], y[train]), (X[test], y[test])
