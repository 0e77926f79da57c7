"""``numpynn predict`` on pictures, as a user runs it: photos of paper, blank pages, unsure
readings, and ``--show-input`` to see what the model saw."""

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run
from PIL import Image
from test_imaging import on_paper

from numpynn import datasets
from numpynn.imaging import preprocess_digit, preprocess_item


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Photos (JPEG) of the first five MNIST test digits written on shaded, noisy paper."""
    _, (X_test, y_test) = datasets.load_mnist()
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    paths = []
    for k in range(5):
        photo = on_paper(X_test[k].reshape(28, 28), rng)
        paths.append(folder / f"digit{k}.jpg")
        Image.fromarray(np.uint8(255 * photo)).save(paths[-1], quality=90)
    return paths, y_test[:5]


def blank_page(path):
    rng = np.random.default_rng(1)
    page = np.clip(0.85 + rng.normal(0, 0.03, (300, 400)), 0, 1)
    Image.fromarray(np.uint8(255 * page)).save(path)
    return path


def test_predict_reads_photos_of_digits_on_paper(capsys, digit_model_file, photos):
    paths, labels = photos
    code, out, _ = run(capsys, "predict", digit_model_file, *paths)
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == [str(p) for p in paths]
    assert [int(line.split()[1]) for line in lines] == list(labels)


def test_predict_says_no_digit_found_in_a_blank_page(capsys, tmp_path, digit_model_file):
    page = blank_page(tmp_path / "blank.png")
    code, out, err = run(capsys, "predict", digit_model_file, page)
    assert code == 2 and out == ""
    assert_one_line_error(err, f"no digit found in {page}")


def test_predict_frames_photos_of_clothes_for_a_fashion_mnist_model(
    capsys, tmp_path, fashion_model_file
):
    """The model's metadata names Fashion-MNIST: pictures go through preprocess_item, and
    the classes print by name."""
    import numpynn as nn

    model = nn.load(fashion_model_file)
    _, (X_test, y_test) = datasets.load_fashion_mnist()
    X_test = X_test.reshape(-1, 28, 28)
    right = np.flatnonzero(model.predict(X_test[:20].reshape(-1, 784)) == y_test[:20])[:5]
    rng = np.random.default_rng(0)
    paths = []
    for k in right:
        paths.append(tmp_path / f"item{k}.jpg")
        Image.fromarray(np.uint8(255 * on_paper(X_test[k], rng))).save(paths[-1], quality=90)
    code, out, _ = run(
        capsys, "predict", fashion_model_file, *paths, "--show-input", tmp_path / "in"
    )
    assert code == 0
    names = datasets.FASHION_MNIST_CLASSES
    read = [line.split("  ")[1] for line in out.splitlines() if "(probability" in line]
    assert read == [names[y_test[k]] for k in right]
    assert len({len(name) for name in read}) > 1  # names of several lengths, and yet:
    assert len({line.index("(probability") for line in out.splitlines() if "(" in line}) == 1
    with Image.open(tmp_path / "in" / f"item{right[0]}-input.png") as image:
        seen = np.asarray(image)[::10, ::10] / 255  # each model pixel is a 10x10 square
    expected = preprocess_item(np.asarray(Image.open(paths[0]).convert("L")) / 255)
    np.testing.assert_allclose(seen, expected, atol=1 / 255)
    page = blank_page(tmp_path / "blank.png")
    code, out, err = run(capsys, "predict", fashion_model_file, page)
    assert code == 2 and out == ""
    assert_one_line_error(err, f"no item found in {page}", "stands out from its background")
    assert "ink" not in err and "paper" not in err  # an item is not drawn in ink


def test_predict_warns_when_the_model_is_unsure(capsys, tmp_path, digit_model_file):
    # A 7 (the first test digit) drawn over another digit: some of these read as neither.
    _, (X_test, _) = datasets.load_mnist()
    scores = []
    for k in range(10):
        mixed = np.maximum(X_test[0], X_test[k]).reshape(28, 28)
        Image.fromarray(np.uint8(255 * mixed)).save(tmp_path / f"mixed{k}.png")
        code, out, err = run(capsys, "predict", digit_model_file, tmp_path / f"mixed{k}.png")
        assert code == 0
        probability = float(out.split("probability ")[1].rstrip(")\n"))
        scores.append(probability)
        warned = "warning:" in err
        assert warned == (probability < 0.5), (out, err)
        if warned:
            assert f"mixed{k}.png: the model is unsure (top probability" in err
            assert len(err.strip().splitlines()) == 1
    assert min(scores) < 0.5  # the warning was seen


def test_show_input_saves_the_28x28_image_the_model_saw(capsys, tmp_path, digit_model_file, photos):
    paths, _ = photos
    out_png = tmp_path / "seen.png"
    code, out, _ = run(capsys, "predict", digit_model_file, paths[0], "--show-input", out_png)
    assert code == 0
    assert f"is in {out_png}" in out.splitlines()[-1]
    with Image.open(out_png) as image:
        assert image.size == (280, 280) and image.mode == "L"
        seen = np.asarray(image)[::10, ::10] / 255  # each model pixel is a 10x10 square
    expected = preprocess_digit(np.asarray(Image.open(paths[0]).convert("L")) / 255)
    np.testing.assert_allclose(seen, expected, atol=1 / 255 + 1e-6)


def test_show_input_into_a_directory_saves_one_png_per_image(
    capsys, tmp_path, digit_model_file, photos
):
    paths, _ = photos
    code, out, _ = run(capsys, "predict", digit_model_file, *paths, "--show-input", tmp_path / "in")
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == [
        f"digit{k}-input.png" for k in range(5)
    ]
    assert out.count("input the model saw is in") == 5


def test_show_input_one_png_for_several_images_is_an_error(
    capsys, tmp_path, digit_model_file, photos
):
    paths, _ = photos
    code, _, err = run(capsys, "predict", digit_model_file, *paths, "--show-input", "x.png")
    assert code == 2
    assert_one_line_error(err, "--show-input x.png names one file but 5 images")


def test_predict_a_file_that_is_not_an_image(capsys, tmp_path, digit_model_file):
    (tmp_path / "notes.png").write_text("hello")
    code, _, err = run(capsys, "predict", digit_model_file, tmp_path / "notes.png")
    assert code == 2
    assert_one_line_error(err, "notes.png is not an image")


def test_predict_a_missing_image(capsys, tmp_path, digit_model_file):
    code, _, err = run(capsys, "predict", digit_model_file, tmp_path / "gone.png")
    assert code == 2
    assert_one_line_error(err, "gone.png", "does not exist")


def test_predict_answers_every_picture_it_can_and_reports_each_it_cannot(
    capsys, tmp_path, digit_model_file, photos
):
    """predict three.jpg blank.png seven.jpg notes.txt: the good pictures answered in order,
    one line on stderr for each bad one naming it and why, exit 2 at the end (issue 26)."""
    paths, labels = photos
    blank = blank_page(tmp_path / "blank.png")
    (tmp_path / "notes.txt").write_text("not a picture")
    missing = tmp_path / "gone.png"
    argv = [paths[0], blank, paths[1], tmp_path / "notes.txt", missing]
    code, out, err = run(capsys, "predict", digit_model_file, *argv)
    assert code == 2
    answers = [line.split() for line in out.splitlines()]
    assert [(a[0], int(a[1])) for a in answers] == [
        (str(paths[0]), labels[0]),
        (str(paths[1]), labels[1]),
    ]
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert len(errors) == 3, err
    assert f"no digit found in {blank}: " in errors[0]
    assert f"{tmp_path / 'notes.txt'} is not an image" in errors[1]
    assert f"cannot read image file {missing}: it does not exist" in errors[2]
    assert "Traceback" not in err and "[Errno" not in err


def test_show_input_saves_what_cleaning_made_of_a_picture_without_a_digit(
    capsys, tmp_path, digit_model_file, photos
):
    """The blank page's cleaned picture is saved too: where a user most wants to look."""
    blank = blank_page(tmp_path / "blank.png")
    (tmp_path / "notes.txt").write_text("not a picture")
    argv = [photos[0][0], blank, tmp_path / "notes.txt", "--show-input", tmp_path / "seen"]
    code, out, _ = run(capsys, "predict", digit_model_file, *argv)
    assert code == 2
    saved = tmp_path / "seen" / "blank-input.png"
    assert f"{blank}: the picture as cleaned (no digit found in it) is in {saved}" in out
    with Image.open(saved) as image:
        cleaned = np.asarray(image)
    assert cleaned.shape[0] > 28 and cleaned.max() < 128  # the page at working size, no ink
    assert (tmp_path / "seen" / "digit0-input.png").exists()
    assert not (tmp_path / "seen" / "notes-input.png").exists()  # never read: nothing to show
