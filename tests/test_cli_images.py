"""Image preprocessing for ``numpynn predict``: any photo or drawing -> an MNIST-style input."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from numpynn import datasets
from numpynn.cli.errors import CLIError
from numpynn.cli.images import load_image, preprocess


def drawn_one(size=(300, 200), background=255, ink=0):
    """A thick vertical stroke off-centre on a canvas: a handwritten 1."""
    image = Image.new("L", size[::-1], background)
    ImageDraw.Draw(image).line([(50, 40), (50, 250)], fill=ink, width=20)
    return image


def test_output_is_a_float_image_in_0_1(tmp_path):
    drawn_one().save(tmp_path / "one.png")
    x = load_image(tmp_path / "one.png")
    assert x.shape == (784,) and x.dtype == np.float32
    assert x.min() == 0 and x.max() == 1


def test_dark_ink_on_white_paper_is_inverted_to_light_on_black(tmp_path):
    drawn_one().save(tmp_path / "one.png")
    x = load_image(tmp_path / "one.png").reshape(28, 28)
    assert x[0, 0] == 0 and x[-1, -1] == 0  # background black
    assert x[14, 14] > 0.5  # the stroke passes through the centre


def test_light_ink_on_black_is_kept(tmp_path):
    drawn_one(background=0, ink=255).save(tmp_path / "one.png")
    dark = load_image(tmp_path / "one.png")
    drawn_one().save(tmp_path / "paper.png")
    np.testing.assert_allclose(dark, load_image(tmp_path / "paper.png"), atol=1e-6)


def test_the_digit_is_scaled_to_20_pixels_and_centred_by_mass(tmp_path):
    drawn_one(size=(900, 600)).save(tmp_path / "big.png")
    x = load_image(tmp_path / "big.png").reshape(28, 28)
    rows = np.flatnonzero(x.max(axis=1) > 0.1)
    assert 19 <= rows[-1] - rows[0] + 1 <= 21
    centre = np.array([np.arange(28) @ x.sum(axis=1), np.arange(28) @ x.sum(axis=0)]) / x.sum()
    np.testing.assert_allclose(centre, [14, 14], atol=0.5)  # where MNIST has it


def test_an_mnist_digit_photographed_large_comes_back_close_to_itself(tmp_path):
    _, (X_test, _) = datasets.load_mnist()
    for k in range(5):
        digit = X_test[k].reshape(28, 28)
        paper = 255 * (1 - np.kron(digit, np.ones((7, 7))))
        paper = np.pad(paper, 40, constant_values=255).astype(np.uint8)
        Image.fromarray(paper).convert("RGB").save(tmp_path / "d.jpg", quality=90)
        x = load_image(tmp_path / "d.jpg")
        assert np.corrcoef(x, X_test[k])[0, 1] > 0.95


def test_transparent_background_counts_as_white_paper(tmp_path):
    image = Image.new("RGBA", (100, 120), (0, 0, 0, 0))  # transparent black
    ImageDraw.Draw(image).line([(50, 10), (50, 110)], fill=(0, 0, 0, 255), width=10)
    image.save(tmp_path / "t.png")
    x = load_image(tmp_path / "t.png").reshape(28, 28)
    assert x[0, 0] == 0 and x.max() == 1


def test_a_blank_image_gives_zeros():
    assert not preprocess(np.ones((50, 50), dtype=np.float32)).any()


def test_other_target_sizes_fill_the_canvas():
    grey = np.zeros((64, 64), dtype=np.float32)
    grey[8:56, 20:44] = 1
    x = preprocess(grey, (8, 8))
    assert x.shape == (8, 8)
    assert x[:, 4].min() > 0  # the bar spans every row


def test_unreadable_files_are_one_clear_error(tmp_path):
    (tmp_path / "x.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(CLIError, match=r"x\.png is not an image"):
        load_image(tmp_path / "x.png")
    with pytest.raises(CLIError, match="does not exist"):
        load_image(tmp_path / "missing.png")
