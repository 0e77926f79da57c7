"""Model inputs from a request: an uploaded image, or pixel rows sent as JSON.

``image_to_input`` is the one seam to the picture preprocessing, which ``numpynn predict``
shares: ``numpynn.imaging.read_image``, then the model's own framing (``TrainedModel.prepare``:
a digit, or an item of clothing for a Fashion-MNIST model).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import errors, imaging
from .._typing import Array

MAX_IMAGE_PIXELS = 4096 * 4096  # width * height of an upload we agree to decode


class BadInputError(ValueError):
    """A request body that cannot be a model input; ``status`` is the HTTP answer (4xx)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def image_to_input(data: bytes, prepare: Callable[[Array], Array]) -> Array:
    """PNG/JPEG bytes -> the model's input picture (height, width) float32 in [0, 1], light on
    black: ``prepare`` (``TrainedModel.prepare``) frames the grey picture as the model's
    dataset was. BadInputError: 400 if the bytes are no PNG or JPEG image, 413 if it has too
    many pixels, 422 if it holds no digit or item (numpynn.errors.NoDigitError's reason)."""
    check_image_header(data)
    try:
        return prepare(imaging.read_image(data))
    except errors.NoDigitError as exc:
        raise BadInputError(str(exc), 422) from None
    except errors.FileFormatError as exc:  # bytes that start as an image but do not decode
        raise BadInputError(f"the body is not a PNG or JPEG image ({exc})", 400) from None


def check_image_header(data: bytes) -> None:
    """BadInputError unless ``data`` starts as a PNG or JPEG image of at most
    MAX_IMAGE_PIXELS pixels (read from its header: nothing is decoded)."""
    from PIL import Image  # lazy: the serve extra

    if not data:
        raise BadInputError("the body is empty: send a PNG or JPEG image", 400)
    try:
        with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as image:
            width, height = image.size
    except Exception as exc:  # a decoder fed untrusted bytes raises many kinds of errors
        # UnidentifiedImageError's message names our in-memory copy (and its address)
        why = "unknown format" if isinstance(exc, Image.UnidentifiedImageError) else str(exc)
        raise BadInputError(
            f"the body is not a PNG or JPEG image Pillow can read ({type(exc).__name__}: {why})",
            400,
        ) from None
    if width * height > MAX_IMAGE_PIXELS:
        raise BadInputError(
            f"the image is {width} x {height} pixels; the limit is {MAX_IMAGE_PIXELS} pixels", 413
        )


def pixels_to_inputs(body: Any, n_inputs: int, max_items: int) -> tuple[Array, bool]:
    """JSON {"pixels": [n_inputs numbers in 0..1]} or a list of such -> (n, n_inputs) float64
    rows, and whether the body was a list. BadInputError (422) naming what is wrong."""
    many = isinstance(body, list)
    items = body if many else [body]
    if many and not items:
        raise BadInputError('the list is empty: send at least one {"pixels": [...]}')
    if len(items) > max_items:
        raise BadInputError(f"the list has {len(items)} items; the limit is {max_items}", 413)
    rows = np.empty((len(items), n_inputs))
    for k, item in enumerate(items):
        where = f"item {k}" if many else "the body"
        if not isinstance(item, dict) or set(item) != {"pixels"}:
            raise BadInputError(f'{where} must be a JSON object {{"pixels": [{n_inputs} numbers]}}')
        pixels = item["pixels"]
        if not isinstance(pixels, list) or len(pixels) != n_inputs:
            got = f"{len(pixels)} values" if isinstance(pixels, list) else type(pixels).__name__
            raise BadInputError(f"{where}: pixels must be a list of {n_inputs} numbers, got {got}")
        if not set(map(type, pixels)) <= {int, float}:  # no bool, str, list, null
            j = next(j for j, v in enumerate(pixels) if type(v) not in (int, float))
            raise BadInputError(f"{where}: pixel {j} is {pixels[j]!r:.40}, not a number")
        row = np.array(pixels, dtype=np.float64)
        bad = np.flatnonzero(~((row >= 0) & (row <= 1)))  # also NaN
        if len(bad):
            j = int(bad[0])
            raise BadInputError(
                f"{where}: pixel {j} is {pixels[j]!r:.40}; pixels must be numbers in 0..1"
            )
        rows[k] = row
    return rows, many
