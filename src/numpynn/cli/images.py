"""Turn a photo or drawing of a digit (PNG/JPEG, any size) into a model input, MNIST style.

The steps, as for the MNIST images: greyscale; light ink on a dark background (inverted when
the border is light); background subtracted and contrast stretched to [0, 1]; cropped to the
ink; scaled so the longer side is 20 of 28 pixels and placed with its centre of mass at pixel
(14, 14), as in MNIST (for other sizes, e.g. the 8 x 8 digits: scaled to the full side and
centred by its bounding box).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._typing import Array
from .errors import CLIError

INK = 0.1  # pixels above this (after stretching to [0, 1]) count as ink


def load_image(path: str | Path, shape: tuple[int, int] = (28, 28)) -> Array:
    """The image at ``path`` as a flat float32 vector (height * width,) in [0, 1]."""
    from PIL import Image, UnidentifiedImageError  # lazy: the cli extra

    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                rgba = image.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                image = Image.alpha_composite(background, rgba)
            grey = np.asarray(image.convert("L"), dtype=np.float32) / 255
    except FileNotFoundError:
        raise CLIError(f"image file {path} does not exist") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise CLIError(f"{path} is not an image Pillow can read (PNG or JPEG): {exc}") from None
    return preprocess(grey, shape).ravel()


def preprocess(grey: Array, shape: tuple[int, int] = (28, 28)) -> Array:
    """grey: (height, width) in [0, 1] -> (shape) float32 in [0, 1], light digit on black."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) > 0.5:
        grey = 1 - grey
    background = float(np.median(np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])))
    peak = float(grey.max())
    if peak - background < 1e-3:  # a blank image: nothing to centre
        return np.zeros(shape, dtype=np.float32)
    ink = np.clip((grey - background) / (peak - background), 0, 1)
    rows, columns = np.nonzero(ink > INK)
    ink = ink[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]

    inner = 20 if shape == (28, 28) else min(shape)
    scale = inner / max(ink.shape)
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    digit = _resize(ink, size)

    canvas = np.zeros(shape, dtype=np.float32)
    h, w = digit.shape
    if shape == (28, 28):
        # MNIST puts the centre of mass at pixel (14, 14) (on average); keep the digit inside.
        total = digit.sum()
        cy = (np.arange(h) @ digit.sum(axis=1)) / total
        cx = (np.arange(w) @ digit.sum(axis=0)) / total
        top = int(np.clip(round(14 - cy), 0, 28 - h))
        left = int(np.clip(round(14 - cx), 0, 28 - w))
    else:  # other sets (the 8 x 8 digits) centre the bounding box
        top, left = (shape[0] - h) // 2, (shape[1] - w) // 2
    canvas[top : top + h, left : left + w] = digit
    return np.clip(canvas / max(float(canvas.max()), 1e-6), 0, 1)


def _resize(a: Array, size: tuple[int, int]) -> Array:
    """a: (height, width) floats -> (size[1], size[0]), antialiased."""
    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(a, dtype=np.float32))  # mode "F"
    resized = image.resize(size, Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32)
