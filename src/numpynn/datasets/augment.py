"""Light data augmentation for image training sets."""

from __future__ import annotations

import numpy as np

from .._typing import Array
from ..errors import ShapeError


def random_shift(X: Array, max_shift: int, rng: np.random.Generator) -> Array:
    """A copy of ``X`` with each image moved by its own random whole-pixel shift (dy, dx),
    each uniform in -max_shift..max_shift; pixels shifted in are 0 (the background).

    X: (n, ..., H, W), e.g. (n, 1, 28, 28) from ``load_mnist(shape="images")``; the images are
    its last two axes. Draws exactly one ``rng.integers`` array of shape (n, 2), so a
    Generator restored from a checkpoint (``rng.bit_generator.state``) gives exactly the same
    shifts from there on. The loop runs over the (2 max_shift + 1)^2 shifts, not the images.

    Parameters
    ----------
    X : ndarray
        Images, (n, ..., H, W).
    max_shift : int
        The largest shift in pixels along each axis, in 0..min(H, W) - 1.
    rng : numpy.random.Generator
        Draws the shifts.

    Returns
    -------
    ndarray
        The shifted images, X's shape and dtype.

    Raises
    ------
    ValueError
        A :class:`numpynn.ShapeError` for X with fewer than 3 axes; ValueError for a
        max_shift that is not an integer in range.
    """
    if X.ndim < 3:
        raise ShapeError(f"random_shift expects images X of shape (n, ..., H, W), got {X.shape}")
    H, W = X.shape[-2:]
    if (
        isinstance(max_shift, bool)
        or not isinstance(max_shift, int | np.integer)
        or not 0 <= max_shift < min(H, W)
    ):
        raise ValueError(
            f"random_shift max_shift must be an integer in 0..{min(H, W) - 1} for {H}x{W} "
            f"images, got {max_shift!r}"
        )
    shifts = rng.integers(-max_shift, max_shift + 1, size=(len(X), 2))
    out = np.zeros_like(X)
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            moved = np.flatnonzero((shifts[:, 0] == dy) & (shifts[:, 1] == dx))
            (to_rows, from_rows), (to_cols, from_cols) = _spans(dy, H), _spans(dx, W)
            out[moved, ..., to_rows, to_cols] = X[moved, ..., from_rows, from_cols]
    return out


def _spans(shift: int, size: int) -> tuple[slice, slice]:
    """(to, from): out[to] = x[from] moves x by ``shift`` pixels along an axis of ``size``."""
    return slice(max(shift, 0), size + min(shift, 0)), slice(max(-shift, 0), size - max(shift, 0))
