"""numpynn.imaging: a picture of a digit (photo of paper, drawing) -> the MNIST-style input;
a picture of a piece of clothing -> the Fashion-MNIST-style input.

The pictures are made here, seeded, from real MNIST (and Fashion-MNIST) test images: each
drawn large, onto a larger sheet of paper with sensor noise and light falling across it
unevenly, or onto a clean canvas, in several styles (off-centre, thick, thin, small, light on
dark, dark on light).
"""

import io
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

import numpynn
from numpynn import datasets
from numpynn.errors import FileFormatError, NoDigitError
from numpynn.imaging import preprocess_digit, preprocess_item, read_image

N_DIGITS = 20  # test digits per style


@pytest.fixture(scope="module")
def mnist_test():
    _, (X_test, y_test) = datasets.load_mnist()
    return X_test.reshape(-1, 28, 28), y_test


@pytest.fixture(scope="module")
def classifier(digit_model_file):
    return numpynn.load(digit_model_file)


# --- pictures of digits ---------------------------------------------------------------------


def drawn_large(digit, size, stroke=1.0):
    """digit: (28, 28) in [0, 1] -> its ink drawn (size, size), strokes ``stroke`` times as
    wide as MNIST's."""
    image = Image.fromarray(np.uint8(255 * digit)).resize((size, size), Image.Resampling.BICUBIC)
    ink = np.asarray(image, dtype=np.float32) / 255
    radius = round(abs(stroke - 1) * size / 28)
    disk = np.hypot(*np.mgrid[-radius : radius + 1, -radius : radius + 1]) <= radius
    if stroke > 1:
        ink = ndimage.grey_dilation(ink, footprint=disk)
    elif stroke < 1:
        ink = ndimage.grey_erosion(ink, footprint=disk)
    return np.clip(ink, 0, 1)


def on_paper(digit, rng, size=160, where=None, stroke=1.0, noise=0.04, shade=0.5, ink=0.85):
    """A photo of ``digit`` written on a 300x400 sheet of paper: light falling across it (up to
    ``shade`` darker on one side, in a random direction, and a patch of brighter light), paper
    grey 0.92, ink taking ``ink`` of the light, Gaussian sensor noise of sd ``noise``."""
    h, w = 300, 400
    canvas = np.zeros((h, w), np.float32)
    top, left = where or (rng.integers(0, h - size), rng.integers(0, w - size))
    canvas[top : top + size, left : left + size] = drawn_large(digit, size, stroke)
    y, x = np.mgrid[0:h, 0:w] / w
    angle = rng.uniform(0, 2 * np.pi)
    light = 1 - shade * (0.5 + 0.5 * (np.cos(angle) * x + np.sin(angle) * y))
    light *= 1 - 0.2 * ((x - rng.uniform(0.2, 0.8)) ** 2 + (y - rng.uniform(0.2, 0.6)) ** 2)
    photo = light * 0.92 * (1 - ink * canvas) + rng.normal(0, noise, (h, w))
    return np.clip(photo, 0, 1).astype(np.float32)


def on_table(digit, rng, **options):
    """A photo of ``digit`` on paper (as ``on_paper``) lying on a darker, grainy table that
    shows all round it."""
    table = np.clip(rng.normal(0.3, 0.05, (360, 480)), 0, 1).astype(np.float32)
    table[30:330, 40:440] = on_paper(digit, rng, **options)
    return table


def on_canvas(digit, size=160, where=None, stroke=1.0, light_ink=True):
    """``digit`` drawn on a clean 240x240 canvas: light on black or dark on white."""
    canvas = np.zeros((240, 240), np.float32)
    top, left = where or ((240 - size) // 2,) * 2
    canvas[top : top + size, left : left + size] = drawn_large(digit, size, stroke)
    return canvas if light_ink else 1 - canvas


STYLES = {
    "paper": lambda d, rng: on_paper(d, rng, size=rng.integers(120, 200)),
    "dim noisy paper": lambda d, rng: on_paper(d, rng, noise=0.08, shade=0.7, ink=0.6),
    "off-centre": lambda d, rng: on_paper(d, rng, size=100, where=(5, 290)),
    "thick": lambda d, rng: on_paper(d, rng, stroke=2.0),
    "thin": lambda d, rng: on_paper(d, rng, stroke=0.5),
    "small": lambda d, rng: on_paper(d, rng, size=50),
    "paper on a table": lambda d, rng: on_table(d, rng),
    "light on black": lambda d, rng: on_canvas(d, light_ink=True),
    "dark on white, thin, off-centre": lambda d, rng: on_canvas(
        d, size=120, where=(0, 110), stroke=0.6, light_ink=False
    ),
    "dark on white, thick, small": lambda d, rng: on_canvas(
        d, size=60, where=(150, 20), stroke=1.8, light_ink=False
    ),
}


@pytest.fixture(scope="module")
def readings(mnist_test, classifier):
    """For each style: (the digits the classifier reads right as MNIST gives them, what it
    reads in their pictures, the preprocessed pictures)."""
    X, y = mnist_test
    right = np.flatnonzero(classifier.predict(X[:100].reshape(-1, 784)) == y[:100])[:N_DIGITS]
    result = {}
    for k, (style, picture) in enumerate(STYLES.items()):
        rng = np.random.default_rng(k)
        inputs = np.stack([preprocess_digit(picture(X[i], rng)) for i in right])
        result[style] = (right, classifier.predict(inputs.reshape(-1, 784)), inputs)
    return result


@pytest.mark.parametrize("style", STYLES)
def test_pictures_of_test_digits_are_read_as_the_digit_they_came_from(style, readings, mnist_test):
    """>= 95% of the pictures (of the test digits the classifier reads right as MNIST has
    them, so that what is measured is the preprocessing) are read as the digit drawn."""
    digits, predicted, _ = readings[style]
    _, y = mnist_test
    assert np.mean(predicted == y[digits]) >= 0.95


def test_pictures_of_all_styles_together_are_read_right(readings, mnist_test):
    _, y = mnist_test
    right = [np.mean(predicted == y[digits]) for digits, predicted, _ in readings.values()]
    assert np.mean(right) >= 0.97


@pytest.mark.parametrize("style", STYLES)
def test_preprocessing_a_picture_gives_back_an_image_close_to_the_mnist_digit(
    style, readings, mnist_test
):
    """Correlation of the 784 pixels with the original: MNIST's own framing is not always
    exact (a few digits touch its edge), so the median is high and the worst still close."""
    X, _ = mnist_test
    digits, _, inputs = readings[style]
    r = [np.corrcoef(x.ravel(), X[k].ravel())[0, 1] for k, x in zip(digits, inputs, strict=True)]
    assert np.median(r) >= 0.8 and min(r) >= 0.5


# --- MNIST's framing -----------------------------------------------------------------------


def drawn_one(size=(300, 200), background=255, ink=0):
    """A thick vertical stroke off-centre on a canvas: a handwritten 1."""
    image = Image.new("L", size[::-1], background)
    ImageDraw.Draw(image).line([(50, 40), (50, 250)], fill=ink, width=20)
    return np.asarray(image, dtype=np.float32) / 255


def test_output_is_a_float_image_in_0_1_light_on_black():
    x = preprocess_digit(drawn_one())
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert x.min() == 0 and x.max() == 1
    assert x[0, 0] == 0 and x[14, 14] > 0.5  # black background, the stroke through the centre


def test_dark_ink_on_white_and_light_ink_on_black_give_the_same_input():
    dark_on_light = preprocess_digit(drawn_one())
    light_on_dark = preprocess_digit(drawn_one(background=0, ink=255))
    np.testing.assert_allclose(dark_on_light, light_on_dark, atol=1e-6)


def test_the_digit_is_scaled_into_20_pixels_and_centred_by_mass_at_14_14():
    x = preprocess_digit(drawn_one(size=(900, 600)))
    rows = np.flatnonzero(x.max(axis=1) > 0.1)
    assert 19 <= rows[-1] - rows[0] + 1 <= 21
    centre = np.array([np.arange(28) @ x.sum(axis=1), np.arange(28) @ x.sum(axis=0)]) / x.sum()
    np.testing.assert_allclose(centre, [14, 14], atol=0.5)  # where MNIST has it


def test_an_mnist_digit_given_as_it_is_comes_back_close_to_itself(mnist_test):
    X, _ = mnist_test
    for k in range(10):
        assert np.corrcoef(preprocess_digit(X[k]).ravel(), X[k].ravel())[0, 1] > 0.9


def test_the_8x8_digits_shape_fills_the_box_centred():
    grey = np.zeros((64, 64), dtype=np.float32)
    grey[8:56, 20:44] = 1
    x = preprocess_digit(grey, (8, 8))
    assert x.shape == (8, 8)
    assert x[:, 3:5].min() > 0  # the bar spans every row, in the middle


# --- no digit ------------------------------------------------------------------------------


def blank_pages():
    rng = np.random.default_rng(0)
    x = np.mgrid[0:300, 0:400][1] / 400
    shaded = 0.9 - 0.4 * x
    specks = np.clip(shaded + rng.normal(0, 0.03, shaded.shape), 0, 1)
    for r, c in zip(rng.integers(5, 295, 20), rng.integers(5, 395, 20), strict=True):
        specks[r - 1 : r + 2, c - 1 : c + 2] = 0.2  # 3x3 dots of dirt
    return {
        "white": np.ones((300, 400)),
        "black": np.zeros((300, 400)),
        "shaded and noisy": np.clip(shaded + rng.normal(0, 0.04, shaded.shape), 0, 1),
        "uniform noise": rng.uniform(0, 1, (300, 400)),
        "specks": specks,
        "tiny": np.ones((3, 3)),
    }


@pytest.mark.parametrize("page", blank_pages())
def test_a_page_without_a_digit_is_no_digit_found(page):
    with pytest.raises(NoDigitError, match=r"^no digit found: "):
        preprocess_digit(blank_pages()[page].astype(np.float32))


def test_no_digit_is_a_value_error_exported_by_numpynn():
    assert issubclass(numpynn.NoDigitError, ValueError)


@pytest.mark.parametrize(
    ("grey", "message"),
    [
        (np.zeros((2, 3, 3)), "2-D image"),
        (np.full((5, 5), 255.0), r"values in \[0, 1\]"),
        (np.full((5, 5), np.nan), "NaN"),
    ],
)
def test_preprocess_digit_names_what_is_wrong_with_its_input(grey, message):
    with pytest.raises(ValueError, match=message):
        preprocess_digit(grey)


def test_preprocess_digit_names_a_bad_shape():
    with pytest.raises(ValueError, match=r"shape must be \(height, width\), two positive"):
        preprocess_digit(drawn_one(), (28, 0))


# --- Fashion-MNIST items ------------------------------------------------------------------

ITEM_STYLES = {
    "paper": STYLES["paper"],
    "dim noisy paper": STYLES["dim noisy paper"],
    "light on black": STYLES["light on black"],
    "dark on white, small": lambda d, rng: on_canvas(d, size=80, where=(150, 20), light_ink=False),
}


@pytest.fixture(scope="module")
def fashion_test():
    _, (X_test, y_test) = datasets.load_fashion_mnist()
    return X_test.reshape(-1, 28, 28), y_test


@pytest.fixture(scope="module")
def fashion_readings(fashion_test, fashion_model_file):
    """For each style: (the share of 40 items that the classifier reads right as
    Fashion-MNIST gives them and also in their pictures, through preprocess_item; the same
    through preprocess_digit, a picture it finds no digit in counting as read wrong)."""
    classifier = numpynn.load(fashion_model_file)
    X, y = fashion_test
    right = np.flatnonzero(classifier.predict(X[:100].reshape(-1, 784)) == y[:100])[:40]
    result = {}
    for k, (style, picture) in enumerate(ITEM_STYLES.items()):
        rng = np.random.default_rng(k)
        pictures = [picture(X[i], rng) for i in right]
        shares = []
        for preprocess in (preprocess_item, preprocess_digit):
            inputs = []
            for p in pictures:
                try:
                    inputs.append(preprocess(p))
                except NoDigitError:
                    inputs.append(np.zeros((28, 28), np.float32))
            read = classifier.predict(np.stack(inputs).reshape(-1, 784))
            shares.append(np.mean(read == y[right]))
        result[style] = shares
    return result


@pytest.mark.parametrize("style", ITEM_STYLES)
def test_pictures_of_fashion_items_are_read_as_the_items_they_came_from(style, fashion_readings):
    """Measured 0.90-0.93 through preprocess_item; the digit preprocessing (strokes made
    even, a 20-pixel box) gets 0.35-0.48 of the same pictures right."""
    item, digit = fashion_readings[style]
    assert item >= 0.7
    assert item >= digit + 0.2


def test_a_fashion_image_as_it_is_comes_back_close_to_itself(fashion_test):
    """Fashion-MNIST's own images fill their frame edge to edge and most of it: neither is
    taken for a table beyond the paper, nor the item for the paper."""
    X, _ = fashion_test
    r = [np.corrcoef(preprocess_item(X[k]).ravel(), X[k].ravel())[0, 1] for k in range(20)]
    assert np.median(r) >= 0.75 and min(r) >= 0.5


def drawn_boot(background=255, ink=40):
    """A dark rectangle 300 pixels tall and 100 wide on a plain 400 x 400 canvas."""
    image = Image.new("L", (400, 400), background)
    ImageDraw.Draw(image).rectangle((150, 50, 249, 349), fill=ink)  # (left, top, right, bottom)
    return np.asarray(image, dtype=np.float32) / 255


def test_an_item_is_trimmed_scaled_to_fill_the_frame_and_centred():
    x = preprocess_item(drawn_boot())
    assert x.shape == (28, 28) and x.dtype == np.float32 and x.max() == 1 and x.min() == 0
    rows, cols = np.flatnonzero(x.max(axis=1) > 0.5), np.flatnonzero(x.max(axis=0) > 0.5)
    assert rows[0] == 0 and rows[-1] == 27  # the longer side fills the frame
    assert 8 <= len(cols) <= 11  # 100 / 300 of it, the aspect kept: no 20-pixel box
    assert abs((cols[0] + cols[-1]) / 2 - 13.5) <= 1  # centred
    assert x[14, 14] > 0.9  # the item's inside is kept as it is: not thinned to strokes


@pytest.mark.parametrize("page", blank_pages())
def test_a_picture_without_an_item_is_no_item_found(page):
    with pytest.raises(NoDigitError, match=r"^no item found: "):
        preprocess_item(blank_pages()[page].astype(np.float32))


# --- reading files -------------------------------------------------------------------------


def png_bytes(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def test_read_image_gives_grey_levels_in_0_1(tmp_path):
    Image.fromarray(np.uint8(255 * drawn_one())).convert("RGB").save(tmp_path / "one.jpg")
    grey = read_image(tmp_path / "one.jpg")
    assert grey.shape == (300, 200) and grey.dtype == np.float32
    assert grey.min() < 0.05 and grey.max() > 0.95


def test_read_image_takes_the_bytes_of_a_file():
    image = Image.fromarray(np.uint8(255 * drawn_one()))
    np.testing.assert_array_equal(read_image(png_bytes(image)), drawn_one())


def test_transparent_background_counts_as_white_paper():
    image = Image.new("RGBA", (100, 120), (0, 0, 0, 0))  # transparent black
    ImageDraw.Draw(image).line([(50, 10), (50, 110)], fill=(0, 0, 0, 255), width=10)
    grey = read_image(png_bytes(image))
    assert grey[0, 0] == 1 and grey[60, 50] == 0


def test_16_bit_grey_is_read_at_full_scale():
    image = Image.fromarray(np.full((10, 10), 65535, dtype=np.uint16))
    assert read_image(png_bytes(image)).min() == 1


def test_unreadable_files_name_the_file_and_the_cause(tmp_path):
    (tmp_path / "x.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(FileFormatError, match=r"x\.png is not an image Pillow can read"):
        read_image(tmp_path / "x.png")
    with pytest.raises(FileFormatError, match=r"the image data is not an image .*: empty"):
        read_image(b"")
    truncated = png_bytes(Image.fromarray(np.uint8(255 * drawn_one())))[:100]
    with pytest.raises(FileFormatError, match="image file is truncated"):
        read_image(truncated)
    with pytest.raises(FileNotFoundError, match=r"image file .*missing\.png: it does not exist"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        read_image(tmp_path)


def test_importing_numpynn_imports_neither_pillow_nor_scipy():
    code = "import sys, numpynn.imaging; print('PIL' in sys.modules, 'scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_the_no_item_message_speaks_of_a_background_not_of_ink():
    from numpynn.imaging import preprocess_digit, preprocess_item

    speck = np.ones((100, 100))
    speck[50, 50] = 0
    for page, item, digit in (
        (np.ones((50, 50)), "holds nothing that stands out from its background", "holds no ink"),
        (speck, "holds only specks (the largest spans 2% of the image; an item", "specks of ink"),
    ):
        with pytest.raises(NoDigitError, match=re.escape(f"no item found: the image {item}")):
            preprocess_item(page)
        with pytest.raises(NoDigitError, match=digit):
            preprocess_digit(page)
