"""An image of a digit (a photo of paper, a drawing, any size) -> a model input, MNIST style;
or of a piece of clothing, Fashion-MNIST style.

Two steps, shared by ``numpynn predict``, ``numpynn serve`` and anything else that reads
pictures:

- :func:`read_image`: a PNG/JPEG file (or its bytes) -> grey (height, width) in [0, 1].
- :func:`preprocess_digit`: grey -> the (28, 28) input in [0, 1], light digit on black; or
  :func:`preprocess_item` for Fashion-MNIST (:data:`PICTURES` names them by the dataset's
  ``picture`` in its registry entry).

MNIST was made from black-and-white scans of handwriting (NIST's), each size-normalised into
a 20x20 box keeping its aspect ratio, anti-aliased, and placed in 28x28 with its centre of
mass at pixel (14, 14). ``preprocess_digit`` first recovers that black-and-white digit from a
real picture, then frames it the same way:

1. The picture is resampled so its longer side is ``WORK`` pixels.
2. Lighting: a smooth surface (a quadratic in x and y) is fitted robustly to the paper, the
   surface that explains the most pixels (so neither the ink nor a table around the paper
   pulls it). The ink is what differs from it, as a fraction of the contrast the paper allows
   there: dark ink on light paper or light ink on dark, whichever the picture holds.
3. Noise: the ink image is smoothed (Gaussian) and thresholded by Otsu's method, never below
   ``NOISE_SIGMAS`` times the paper's own noise level nor below ``MIN_INK``. Ink along more
   than ``EDGE`` of the picture's edge (a table, a shadow) is set aside first.
4. Connected ink: the piece of ink with the most mass, and the pieces near it that are not
   specks, make the digit. Nothing left, or a digit smaller than ``MIN_DIGIT`` of the picture:
   :class:`~numpynn.errors.NoDigitError`. A digit small in its picture is looked at again,
   closer (steps 1, 3 and 4 on the digit and the paper around it).
5. Strokes are made between ``MIN_STROKE`` and about ``MAX_STROKE`` of the box wide (MNIST's
   pen was broad, and it hardly varied).
6. MNIST framing as above. (Other sizes, e.g. the 8x8 digits: scaled to fill the box and
   centred by the bounding box, as that set was made.)

Fashion-MNIST was made from product photos on plain backgrounds (Xiao et al. 2017): trimmed to
the item, its longer side scaled to 28 pixels, centred, intensities negated. ``preprocess_item``
finds the item as steps 1-4 find a digit (the background in place of the paper), then frames
its grey levels that way: no stroke widths and no 20-pixel box, which would distort a shirt.

SciPy's ``ndimage`` and Pillow do the image work; both are imported only when called.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable

import numpy as np

from ._typing import Array
from .errors import FileFormatError, NoDigitError
from .paths import READ, check_readable_file, path_errors

WORK = 320  # the longer side, in pixels, at which a picture is cleaned
SMOOTH = 1.5  # sigma of the Gaussian that denoises the ink, in working pixels
NOISE_SIGMAS = 6.0  # ink must stand this many noise levels above the paper
MIN_INK = 0.1  # ... and differ from the paper by at least this fraction of the possible contrast
EDGE = 0.1  # ink along more than this fraction of the picture's edge is not the digit
SPECK = 0.03  # a piece of ink with less than this fraction of the digit's mass is a speck
NEAR = 0.25  # pieces within this fraction of the digit's size belong to it
MIN_DIGIT = 0.04  # the digit's longer side is at least this fraction of the picture's
MIN_ITEM = 0.15  # ... and an item's (a photo of clothing shows it, not a speck of it)
RIM = 0.05  # an item's picture shows its background within this fraction of its edge
ZOOM = 0.6  # a digit (with a margin) smaller than this fraction of its picture is looked at again
MIN_STROKE = 0.1  # strokes are made at least this fraction of the box wide (2 of MNIST's 20)
MAX_STROKE = 0.2  # ... and thinned towards this when wider


def read_image(source: str | os.PathLike[str] | bytes) -> Array:
    """The image in a file (or in the bytes of one) as grey levels: (height, width) float32 in
    [0, 1]. Transparent pixels count as white paper; a photo's EXIF orientation is applied.

    Raises a :class:`~numpynn.errors.PathError` for a file that cannot be read (missing, a
    directory, no permission: :mod:`numpynn.paths`) and :class:`FileFormatError` (naming the
    file and the cause) for one Pillow cannot read.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError  # lazy: the cli extra

    if isinstance(source, bytes | bytearray):
        name, data = "the image data", bytes(source)
    else:
        name = str(source)
        path = check_readable_file(source, "image file")
        with path_errors(READ, source, "image file"):
            data = path.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = ImageOps.exif_transpose(opened)
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                rgba = image.convert("RGBA")
                paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                image = Image.alpha_composite(paper, rgba)
            if image.mode.startswith("I;16"):  # 16-bit grey
                return np.asarray(image, dtype=np.float32) / 65535
            return np.asarray(image.convert("L"), dtype=np.float32) / 255
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        why = str(exc)
        if isinstance(exc, UnidentifiedImageError):  # its message names our in-memory copy
            why = "unknown format" if data else "empty"
        raise FileFormatError(
            f"{name} is not an image Pillow can read (PNG or JPEG): {why}"
        ) from None


def preprocess_digit(grey: Array, shape: tuple[int, int] = (28, 28)) -> Array:
    """grey: (height, width) in [0, 1] (dark or light ink, any size) -> ``shape`` float32 in
    [0, 1], the digit light on black, framed as MNIST's are (see the module's docstring).

    Raises :class:`NoDigitError` when the picture holds no ink above its noise, or only specks.
    """
    grey, shape = _check_grey(grey), _check_shape(shape)
    height, width = grey.shape
    ink, light = _ink(grey, (0, 0, height, width))
    digit = _digit(ink)
    # A digit small in its picture: look again at the digit and the paper around it, closer.
    scale = max(height, width) / max(ink.shape)
    top, left, bottom, right = np.array(_box(digit)) * scale
    margin = 0.3 * max(bottom - top, right - left)
    top, left = max(0, int(top - margin)), max(0, int(left - margin))
    bottom, right = min(height, int(bottom + margin) + 1), min(width, int(right + margin) + 1)
    if max(bottom - top, right - left) < ZOOM * max(height, width):
        digit = _digit(_ink(grey, (top, left, bottom, right), light)[0])
    digit = _crop(digit)
    size = max(digit.shape)
    digit = _crop(_stroke(digit, MIN_STROKE * size, MAX_STROKE * size))
    inner = 20 if shape == (28, 28) else min(shape)
    small = np.clip(_resample(digit.astype(np.float32), inner / max(digit.shape)), 0, 1)
    return _frame(small / small.max(), shape)


def preprocess_item(grey: Array, shape: tuple[int, int] = (28, 28)) -> Array:
    """grey: (height, width) in [0, 1] (a photo of one piece of clothing on a plain
    background, dark or light) -> ``shape`` float32 in [0, 1], the item light on black, framed
    as Fashion-MNIST's are: trimmed to the item, its longer side scaled to the frame, centred
    (see the module's docstring).

    Raises :class:`NoDigitError` ("no item found: ...") when nothing stands out from the
    background but noise or specks.
    """
    grey, shape = _check_grey(grey), _check_shape(shape)
    ink, _ = _ink(grey, (0, 0, *grey.shape), rim=True)
    # An item may fill its picture from edge to edge (Fashion-MNIST's own images do), and
    # cover most of it: its background is what the picture's rim shows.
    found = _digit(ink, "item", edge=1.0, noise=_rim_noise, smallest=MIN_ITEM)
    top, left, bottom, right = _box(found)
    item = np.clip(ink[top:bottom, left:right], 0, 1)  # its grey levels, not just the mask
    scale = min(shape[0] / item.shape[0], shape[1] / item.shape[1])
    small = np.clip(_resample(item, scale), 0, 1)[: shape[0], : shape[1]]
    return _frame(small / small.max(), shape, by_mass=False)


# How a photo or drawing is prepared, by a dataset's ``picture`` (numpynn.datasets.Dataset).
PICTURES: dict[str, Callable[[Array, tuple[int, int]], Array]] = {
    "digit": preprocess_digit,
    "item": preprocess_item,
}


def as_model_input(
    X: Array, input_shape: tuple[int | None, ...] | None, image_shape: tuple[int, int]
) -> Array:
    """Images of ``image_shape`` (height, width) as flat pixel rows X: (n, height width), in
    the shape a model of ``input_shape`` (``Sequential.input_shape``) takes: unchanged for rows,
    (n, 1, height, width) for a convnet (one grey channel)."""
    if input_shape is not None and len(input_shape) == 3:
        return X.reshape(len(X), 1, *image_shape)
    return X


def _check_grey(grey: Array) -> Array:
    a = np.asarray(grey)
    if a.ndim != 2 or min(a.shape) < 1:
        raise ValueError(f"grey must be a 2-D image (height, width), got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise TypeError(f"grey must hold numbers, got dtype {a.dtype}")
    a = a.astype(np.float32)
    if not np.isfinite(a).all():
        raise ValueError("grey contains NaN or infinite values")
    if a.min() < 0 or a.max() > 1:
        raise ValueError(
            f"grey must hold values in [0, 1] (divide 8-bit pixels by 255), "
            f"got values in [{a.min():g}, {a.max():g}]"
        )
    return a


def _check_shape(shape: tuple[int, int]) -> tuple[int, int]:
    if len(shape) != 2 or not all(isinstance(n, int | np.integer) and n > 0 for n in shape):
        raise ValueError(f"shape must be (height, width), two positive integers, got {shape!r}")
    return int(shape[0]), int(shape[1])


def _resample(a: Array, scale: float) -> Array:
    """a: (height, width) floats scaled by ``scale`` (anti-aliased), each side >= 1 pixel."""
    from PIL import Image

    size = (max(1, round(a.shape[1] * scale)), max(1, round(a.shape[0] * scale)))
    image = Image.fromarray(np.ascontiguousarray(a, dtype=np.float32))  # mode "F"
    return np.asarray(image.resize(size, Image.Resampling.BILINEAR), dtype=np.float32)


Lighting = tuple[Array, bool]  # the coefficients of the paper's surface; dark ink or light


def _ink(
    grey: Array,
    region: tuple[int, int, int, int],
    light: Lighting | None = None,
    rim: bool = False,
) -> tuple[Array, Lighting]:
    """How much ink each pixel of ``region`` (top, left, bottom, right) of ``grey`` holds, from
    0 (paper) to 1 (as far from the paper as it can be), with the lighting flattened, at the
    working resolution; and the lighting (fitted here on the whole picture when not given;
    with ``rim``, to the paper the picture's rim shows)."""
    top, left, bottom, right = region
    part = grey[top:bottom, left:right]
    work = _resample(part, WORK / max(part.shape))
    # The terms of a quadratic surface in x and y, which run over [-1, 1] on the whole picture.
    h, w = work.shape
    y = 2 * (top + (np.arange(h) + 0.5) * (bottom - top) / h) / grey.shape[0] - 1
    x = 2 * (left + (np.arange(w) + 0.5) * (right - left) / w) / grey.shape[1] - 1
    y, x = np.meshgrid(y.astype(np.float32), x.astype(np.float32), indexing="ij")
    terms = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)
    if light is None:
        light = _lighting(work, terms, rim)
    coef, dark = light
    paper = terms @ coef
    # Ink as a fraction of the contrast the paper allows where it lies (dark ink on dim paper
    # is as much ink as on bright paper), never amplified more than twice the typical.
    headroom = paper if dark else 1 - paper
    headroom = np.maximum(headroom, max(0.5 * float(np.median(headroom)), 0.05))
    return (paper - work if dark else work - paper) / headroom, light


def _lighting(work: Array, terms: Array, rim: bool = False) -> Lighting:
    """The paper's lighting: a quadratic surface (coefficients of ``terms``) fitted to the
    pixels that are not ink; and whether the ink is darker than the paper (the ink is what
    differs from it, on the side where it differs most).

    Each common grey level (a peak of the histogram: the paper, the ink, a table around the
    paper) seeds a robust fit; the paper's is the surface that explains the most pixels
    closely (with ``rim``: the most pixels of the picture's rim, where the paper shows around
    an item that may cover most of the picture)."""
    h, w = work.shape
    step = max(1, max(h, w) // 80)  # fit on a grid of about 80 x 80 pixels
    A, v = terms[::step, ::step].reshape(-1, 6), work[::step, ::step].ravel()
    paper = _rim(work[::step, ::step].shape).ravel() if rim else np.ones(len(v), bool)
    counts = np.convolve(np.histogram(v, bins=50, range=(0, 1))[0], np.ones(3), mode="same")
    peaks = [
        k
        for k in np.argsort(counts)[::-1][:10]
        if counts[k] >= 0.1 * counts.max() and counts[k] == counts[max(0, k - 2) : k + 3].max()
    ][:3]
    fits = [_surface(A, v, np.abs(v - (k + 0.5) / 50) < 0.1) for k in peaks]
    # Count the pixels each explains within the same, tightest tolerance: a surface that
    # straddles the paper and a table explains many pixels, but loosely.
    tolerance = max(3 * min(spread for _, spread in fits), 0.03)
    coef = max(fits, key=lambda fit: np.sum(np.abs(v - A @ fit[0])[paper] < tolerance))[0]
    residual = work - terms @ coef
    smooth = _gaussian(residual)
    floor = max(NOISE_SIGMAS * (_rim_noise if rim else _noise)(smooth), 0.02)
    dark = np.clip(-smooth - floor, 0, None).sum() > np.clip(smooth - floor, 0, None).sum()
    return coef, bool(dark)


def _surface(A: Array, v: Array, keep: Array) -> tuple[Array, float]:
    """Least squares ``A @ coef ~ v`` on the pixels ``keep``, refitted on the pixels within 3
    spreads of the surface until they settle: (coef, spread), the spread a robust standard
    deviation (1.4826 x the median absolute deviation) of the pixels it keeps."""
    spread = 0.0
    coef = np.zeros(A.shape[1])
    for _ in range(8):
        if keep.sum() < 6:
            break
        Ak = A[keep]
        coef = np.linalg.solve(Ak.T @ Ak + 1e-6 * np.eye(6), Ak.T @ v[keep])
        r = v - A @ coef
        spread = 1.4826 * float(np.median(np.abs(r[keep])))
        now = np.abs(r) < min(max(3 * spread, 0.03), 0.1)
        if (now == keep).all():
            break
        keep = now
    return coef, spread


def _noise(a: Array) -> float:
    """The noise level of the paper in ``a`` (h, w): a robust standard deviation (1.4826 x the
    median absolute deviation) of its pixels, recomputed on those within 3 of them until only
    the commonest population is left (the paper, not the ink or a table around it)."""
    values = a[::2, ::2].ravel()
    sigma = 0.0
    for _ in range(5):
        centre = np.median(values)
        sigma = 1.4826 * float(np.median(np.abs(values - centre)))
        inside = np.abs(values - centre) < 3 * sigma
        if sigma == 0 or inside.all():
            break
        values = values[inside]
    return sigma


def _rim(shape: tuple[int, ...]) -> Array:
    """A boolean (h, w) mask of the picture's rim: the pixels within ``RIM`` of its edge."""
    h, w = shape
    band = max(1, round(RIM * max(h, w)))
    mask = np.ones((h, w), bool)
    mask[band:-band, band:-band] = False
    return mask


def _rim_noise(a: Array) -> float:
    """The noise level of the paper in ``a`` (h, w), measured on the picture's rim."""
    return _noise(a[_rim(a.shape)][None])


def _gaussian(a: Array) -> Array:
    from scipy import ndimage

    return ndimage.gaussian_filter(a, SMOOTH, mode="nearest")


def _digit(
    ink: Array,
    what: str = "digit",
    edge: float = EDGE,
    noise: Callable[[Array], float] = _noise,
    smallest: float = MIN_DIGIT,
) -> Array:
    """The digit (or the ``what``) as a boolean image (h, w): the thresholded ink with the
    specks removed, and without ink along more than ``edge`` of the picture's edge. ``noise``
    measures the paper's noise level in the smoothed ink; ink spanning less than ``smallest``
    of the picture is a speck."""
    from scipy import ndimage

    smooth = _gaussian(ink)
    floor = max(NOISE_SIGMAS * noise(smooth), MIN_INK)
    # Ink along a long stretch of the picture's edge is the table beyond the paper, or a
    # shadow: set aside before the threshold is chosen.
    labels, n = ndimage.label(smooth > floor, structure=np.ones((3, 3)))
    rim = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    beyond = np.flatnonzero(np.bincount(rim, minlength=n + 1)[1:] > edge * rim.size) + 1
    if len(beyond):
        smooth[np.isin(labels, beyond)] = 0
    labels, n = ndimage.label(smooth > max(_otsu(smooth), floor), structure=np.ones((3, 3)))
    # A digit is ink on paper; an item (Fashion-MNIST's) a thing on its background.
    inked = what == "digit"
    ground = "paper" if inked else "background"
    if n == 0:
        raise NoDigitError(
            f"no {what} found: the image holds {'no ink' if inked else 'nothing'} that "
            f"stands out from its {ground}"
            + f" (only along its edge: a table or a shadow beyond the {ground}?)"
            * bool(len(beyond)),
            np.clip(ink, 0, 1).astype(np.float32),
        )
    index = np.arange(1, n + 1)
    mass = ndimage.sum_labels(smooth, labels, index)
    boxes = ndimage.find_objects(labels)
    order = np.argsort(mass)[::-1]
    main = order[0]
    box = boxes[main]
    top, bottom, left, right = box[0].start, box[0].stop, box[1].start, box[1].stop
    size = max(bottom - top, right - left)
    if size < smallest * max(ink.shape):
        raise NoDigitError(
            f"no {what} found: the image holds only specks{' of ink' * inked} (the largest "
            f"spans {size / max(ink.shape):.0%} of the image; {'a' if inked else 'an'} {what} "
            f"spans at least {smallest:.0%})",
            np.clip(ink, 0, 1).astype(np.float32),
        )
    kept = [main + 1]
    for k in order[1:]:
        if mass[k] < SPECK * mass[main]:
            break
        margin = NEAR * max(bottom - top, right - left)
        b = boxes[k]
        if (
            b[0].start < bottom + margin
            and b[0].stop > top - margin
            and b[1].start < right + margin
            and b[1].stop > left - margin
        ):
            kept.append(k + 1)
            top, bottom = min(top, b[0].start), max(bottom, b[0].stop)
            left, right = min(left, b[1].start), max(right, b[1].stop)
    return np.isin(labels, kept)


def _otsu(a: Array, bins: int = 256) -> float:
    """Otsu's threshold: the level that maximises the between-class variance of ``a``."""
    if a.max() - a.min() < 1e-6:
        return float(a.max())
    counts, edges = np.histogram(a, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(counts)
    w1 = w0[-1] - w0
    m0 = np.cumsum(counts * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = w0 * w1 * (m0 / w0 - (m0[-1] - m0) / w1) ** 2
    return float(centres[np.nanargmax(between[:-1])])


def _box(mask: Array) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the True pixels of ``mask``."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(columns[0]), int(rows[-1]) + 1, int(columns[-1]) + 1


def _crop(mask: Array) -> Array:
    """The mask cropped to its True pixels."""
    top, left, bottom, right = _box(mask)
    return mask[top:bottom, left:right]


def _stroke(mask: Array, thinnest: float, widest: float) -> Array:
    """The mask with its strokes made about ``thinnest`` pixels wide if thinner, or thinned
    towards ``widest`` (by at most half their width) if wider. The stroke width is
    estimated as 4 x the mean distance of a stroke pixel to the paper."""
    from scipy import ndimage

    padded = np.pad(mask, 1)
    inside = ndimage.distance_transform_edt(padded)
    stroke = 4 * (inside[padded].mean() - 0.5)
    if stroke > widest:
        return inside > min(stroke - widest, stroke / 2) / 2
    if stroke >= thinnest:
        return mask
    radius = (thinnest - stroke) / 2
    padded = np.pad(mask, int(np.ceil(radius)) + 1)
    return ndimage.distance_transform_edt(~padded) <= radius


def _frame(digit: Array, shape: tuple[int, int], by_mass: bool = True) -> Array:
    """Place the scaled digit (h, w) in a black ``shape`` canvas: centre of mass at (14, 14)
    for MNIST's 28x28 (unless not ``by_mass``), the bounding box centred otherwise."""
    canvas = np.zeros(shape, dtype=np.float32)
    h, w = digit.shape
    if by_mass and shape == (28, 28):
        total = digit.sum()
        cy = (np.arange(h) @ digit.sum(axis=1)) / total
        cx = (np.arange(w) @ digit.sum(axis=0)) / total
        top = int(np.clip(round(14 - cy), 0, 28 - h))
        left = int(np.clip(round(14 - cx), 0, 28 - w))
    else:
        top, left = (shape[0] - h) // 2, (shape[1] - w) // 2
    canvas[top : top + h, left : left + w] = digit
    return canvas
