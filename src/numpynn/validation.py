"""Input checks for the public entry points: validate once at the boundary, then trust the data."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from ._typing import Array
from .errors import ShapeError


def check_X(
    X: npt.ArrayLike,
    *,
    name: str = "X",
    n_features: int | None = None,
    dtype: Any = None,
    ndim: int | None = 2,
) -> Array:
    """X as a finite, non-empty, C-contiguous float array, cast to ``dtype`` (or kept float,
    float64 for integer input). ``ndim`` 2: rows (n_samples, n_features); 3: sequences
    (n_samples, steps, features); 4: images (n_samples, channels, height, width); None: rows
    or images. ``n_features`` is the size of the axis that the model takes (features: the last
    axis; channels: axis 1). Raises TypeError/ValueError/ShapeError."""
    try:
        X = np.asarray(X)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        kind = {2: "a 2-D array", 3: "a 3-D array", 4: "a 4-D array"}.get(ndim or 0, "an array")
        raise ValueError(f"{name} must be {kind} of numbers: {exc}") from None
    if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise TypeError(f"{name} must hold numbers, got dtype {X.dtype}")
    if np.issubdtype(X.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got dtype {X.dtype}")
    rows, images = "(n_samples, n_features)", "(n_samples, channels, height, width)"
    expected = f"2-D rows {rows} or 4-D images {images}"
    if ndim == 2:
        expected = f"2-D with shape {rows}"
    elif ndim == 3:
        expected = "3-D sequences of shape (n_samples, steps, features)"
    elif ndim == 4:
        expected = f"4-D images of shape {images}"
    if X.ndim not in ((2, 4) if ndim is None else (ndim,)):
        hint = ""
        if X.ndim == 1 and ndim != 4:
            hint = "; use X.reshape(1, -1) for a single sample"
        elif ndim == 4 and X.ndim in (2, 3):
            hint = "; reshape flat rows or single images to (n_samples, channels, height, width)"
        elif ndim == 2 and X.ndim > 2:
            hint = "; flatten images to rows with X.reshape(len(X), -1)"
        elif ndim == 3 and X.ndim == 2:
            hint = "; a sequence model takes (n_samples, steps, features): one row per step"
        raise ShapeError(f"{name} must be {expected}, got {X.ndim}-D shape {X.shape}{hint}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty: got shape {X.shape}, need at least one sample")
    axis = -1 if X.ndim == 3 else 1  # sequences: features last; images: channels first
    if n_features is not None and X.shape[axis] != n_features:
        what = {2: "features (columns)", 3: "features (last axis)"}.get(X.ndim, "channels (axis 1)")
        takes = {
            2: f"(n_samples, {n_features})",
            3: f"(n_samples, steps, {n_features})",
        }.get(X.ndim, f"(n_samples, {n_features}, height, width)")
        raise ShapeError(
            f"{name} must have {n_features} {what} to match the model's input, got shape "
            f"{X.shape}; the model takes {takes}"
        )
    if dtype is None:
        dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.float64
    X = np.ascontiguousarray(X, dtype=dtype)
    # A finite sum proves every value finite (NaN and inf propagate) in one pass, with no
    # temporary array; only a non-finite sum (or an overflow) needs the exact count.
    if not np.isfinite(X.sum()) and not np.isfinite(X).all():
        bad = int(np.size(X) - np.isfinite(X).sum())
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")
    return X


def check_ids(X: npt.ArrayLike, *, name: str = "X", ndim: int = 2) -> Array:
    """Token ids as a non-empty, C-contiguous int64 array of ``ndim`` axes, (n_samples, T) by
    default; TypeError for anything but integers, ShapeError for another shape. The range of
    the ids is the layer's to check (it knows its vocabulary)."""
    X = np.asarray(X)
    if not np.issubdtype(X.dtype, np.integer):
        raise TypeError(f"{name} must hold integer token ids, got dtype {X.dtype}")
    if X.ndim != ndim:
        shape = "(n_samples, T)" if ndim == 2 else f"{ndim}-D"
        raise ShapeError(f"{name} must be token ids of shape {shape}, got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty: got shape {X.shape}, need at least one sample")
    return np.ascontiguousarray(X, dtype=np.int64)


def check_same_length(X: Array, y: npt.ArrayLike, x_name: str = "X", y_name: str = "y") -> None:
    """X and y must describe the same number of samples."""
    n_y = len(np.asarray(y)) if np.ndim(y) else 0
    if n_y != len(X):
        raise ShapeError(
            f"{x_name} and {y_name} must have the same number of samples, got {len(X)} rows in "
            f"{x_name} and {n_y} in {y_name}"
        )


def check_positive_int(name: str, value: object) -> int:
    """A positive integer; TypeError/ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_non_negative_int(name: str, value: object) -> int:
    """An integer >= 0; TypeError/ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 0, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def check_sample_weight(sample_weight: npt.ArrayLike, X: Array) -> Array:
    """Sample weights (n_samples,) >= 0 with a positive sum, scaled to average 1, in X's dtype."""
    w = np.asarray(sample_weight)
    if w.dtype == object or not (np.issubdtype(w.dtype, np.number) or w.dtype == bool):
        raise TypeError(f"sample_weight must hold numbers, got dtype {w.dtype}")
    if w.shape != (len(X),):
        raise ShapeError(
            f"sample_weight must have shape ({len(X)},), one weight per row of X, got {w.shape}"
        )
    w = w.astype(X.dtype)
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError(
            "sample_weight must hold finite values >= 0 with a positive sum, got values in "
            f"[{w.min():g}, {w.max():g}] summing to {w.sum():g}"
        )
    return w * (len(w) / w.sum())


def check_finite(name: str, value: object) -> float:
    """A finite real number; ValueError naming ``name`` otherwise."""
    return _check_real(name, value, "a finite number", lambda x: True)


def check_positive(name: str, value: object) -> float:
    """A finite number > 0; ValueError naming ``name`` otherwise."""
    return _check_real(name, value, "a finite number > 0", lambda x: x > 0)


def check_above_one(name: str, value: object) -> float:
    """A finite number > 1 (a factor that must grow something); ValueError naming ``name``
    otherwise."""
    return _check_real(name, value, "a finite number > 1", lambda x: x > 1)


def check_non_negative(name: str, value: object) -> float:
    """A finite number >= 0; ValueError naming ``name`` otherwise."""
    return _check_real(name, value, "a finite number >= 0", lambda x: x >= 0)


def check_fraction(name: str, value: object) -> float:
    """A number in [0, 1); ValueError naming ``name`` otherwise."""
    return _check_real(name, value, "in [0, 1)", lambda x: 0 <= x < 1)


def _check_real(name: str, value: object, requirement: str, ok: Callable[[float], bool]) -> float:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond float's range
            number = math.inf
        if math.isfinite(number) and ok(number):
            return number
    raise ValueError(f"{name} must be {requirement}, got {value!r}")
