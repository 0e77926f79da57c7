"""Scratch arrays reused from batch to batch, so the training loop allocates (almost) nothing."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._typing import Array


def scratch(
    owner: object, name: str, shape: tuple[int, ...], dtype: Any, fill: float | None = None
) -> Array:
    """``owner``'s work array called ``name``, of ``shape`` and ``dtype``, made anew only when
    the shape or dtype changes (in training: for the first batch, and twice more per epoch when
    the last batch is smaller: for it and for the next full one). ``fill`` sets the values of a
    new array; otherwise they are undefined until written. The arrays live in
    ``owner._scratch``, apart from anything the owner hands out."""
    arrays: dict[str, Array] = owner.__dict__.setdefault("_scratch", {})
    buffer = arrays.get(name)
    if buffer is None or buffer.shape != shape or buffer.dtype != dtype:
        buffer = arrays[name] = (
            np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)
        )
    return buffer


def scratch_like(owner: object, name: str, arrays: list[Array]) -> list[Array]:
    """One work array per array of ``arrays``, of its shape and dtype, kept in ``owner._scratch``
    under ``name`` and made anew only when those change (one check for the whole list)."""
    scratch_arrays: dict[str, Any] = owner.__dict__.setdefault("_scratch", {})
    buffers: list[Array] | None = scratch_arrays.get(name)
    if buffers is None or [(b.shape, b.dtype) for b in buffers] != [
        (a.shape, a.dtype) for a in arrays
    ]:
        buffers = scratch_arrays[name] = [np.empty_like(a) for a in arrays]
    return buffers
