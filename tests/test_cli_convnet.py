"""The command line and the server with convnets: ``train --preset cnn``, ``evaluate``,
``predict``, ``plot filters``, ``serve``. The runs are tiny (digits, two epochs; a convnet
trained on a few MNIST batches), so the tests check the plumbing, not the accuracy."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run
from fastapi.testclient import TestClient
from PIL import Image

import numpynn as nn
from numpynn import datasets
from numpynn.cli import main
from numpynn.cli.config import resolve
from numpynn.serve import create_app, load_served


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory):
    """``numpynn train --preset cnn`` on scikit-learn's 8x8 digits, two epochs."""
    run_dir = tmp_path_factory.mktemp("runs") / "cnn"
    argv = ["train", "--preset", "cnn", "--dataset", "digits", "--validation", "200"]
    code = main([*argv, "--epochs", "2", "--threads", "1", "--out", str(run_dir)])
    assert code == 0
    return run_dir


def test_the_cnn_preset_trains_a_convnet_with_shifts_and_a_cosine_rate(cnn_run):
    config = json.loads((cnn_run / "config.json").read_text())
    assert config["network"] == "cnn" and config["shift"] == 2 and config["schedule"] == "cosine"
    model = nn.load(cnn_run / "model.npz")
    assert [type(layer).__name__ for layer in model.layers[:8]] == [
        "Conv2D", "BatchNorm", "ReLU", "MaxPool2D", "Conv2D", "BatchNorm", "ReLU", "MaxPool2D"
    ]  # fmt: skip
    assert model.input_shape == (1, None, None)
    assert nn.load_metadata(cnn_run / "model.npz")["metadata"]["image_shape"] == [8, 8]
    for name in ("metrics.json", "best.npz", "checkpoint.npz", "curves.png", "misclassified.png"):
        assert (cnn_run / name).exists(), name
    report = (cnn_run / "report.txt").read_text()
    assert "lr 0.001 along a cosine to 1e-05 over 2 epochs" in report
    assert "dropout 0.25, shifts of up to 2 px" in report


def test_a_cnn_run_resumes(capsys, cnn_run):
    code, out, _ = run(capsys, "train", "--resume", cnn_run)
    assert code == 0
    assert "has finished its 2 epochs" in out


def test_a_cnn_run_gives_its_threads_to_workers_and_resumes_with_them(capsys, tmp_path):
    run_dir = tmp_path / "cnn2"
    argv = ["train", "--preset", "cnn", "--dataset", "digits", "--validation", "200"]
    code, out, _ = run(capsys, *argv, "--epochs", "1", "--threads", "2", "--out", run_dir)
    assert code == 0
    assert out.startswith("using 2 workers with 1 BLAS thread each (--threads 2)")
    config = json.loads((run_dir / "config.json").read_text())
    assert (config["workers"], config["blas_threads"]) == (2, 1)
    code, out, _ = run(capsys, "train", "--resume", run_dir)
    assert code == 0
    assert out.startswith("using 2 workers with 1 BLAS thread each (the run's own")


def test_evaluate_takes_a_convnet(capsys, cnn_run):
    code, out, _ = run(capsys, "evaluate", cnn_run / "model.npz")
    assert code == 0
    metrics = json.loads((cnn_run / "metrics.json").read_text())
    assert f"accuracy {metrics['test']['accuracy']:.2%}" in out


def test_evaluate_refuses_a_convnet_on_images_of_another_size(capsys, cnn_run):
    code, _, err = run(capsys, "evaluate", cnn_run / "model.npz", "--dataset", "planar")
    assert code == 2
    assert_one_line_error(err, "takes 8x8 images", "2 features")


def test_predict_takes_a_convnet(capsys, tmp_path, cnn_run):
    _, (X_test, _) = datasets.load_digits()
    big = np.pad(np.kron(X_test[0].reshape(8, 8), np.ones((12, 12))), 24)
    Image.fromarray((255 * (1 - big)).astype(np.uint8)).save(tmp_path / "d.png")
    code, out, _ = run(capsys, "predict", cnn_run / "model.npz", tmp_path / "d.png")
    assert code == 0
    assert out.startswith(str(tmp_path / "d.png"))
    assert "probability" in out


def test_plot_filters_draws_the_first_convolution(capsys, tmp_path, cnn_run):
    code, out, _ = run(capsys, "plot", "filters", cnn_run / "model.npz")
    assert code == 0
    assert (cnn_run / "filters.png").stat().st_size > 1000
    assert f"wrote {cnn_run / 'filters.png'}" in out


def test_plot_filters_of_a_model_without_convolution(capsys, tmp_path):
    nn.save(nn.mlp([4, 3]), tmp_path / "mlp.npz")
    code, _, err = run(capsys, "plot", "filters", tmp_path / "mlp.npz")
    assert code == 2
    assert_one_line_error(
        err, "has no Conv2D layer", f"numpynn plot weights {tmp_path / 'mlp.npz'}"
    )


def test_plot_weights_of_a_convnet_points_to_plot_filters(capsys, cnn_run):
    code, _, err = run(capsys, "plot", "weights", cnn_run / "model.npz")
    assert code == 2
    assert_one_line_error(err, "is a convnet", "numpynn plot filters")


def test_the_cnn_preset_shifts_fashion_items_by_1_pixel_and_digits_by_2():
    assert resolve("cnn", {"dataset": "fashion-mnist"}).shift == 1
    assert resolve("cnn", {"dataset": "mnist"}).shift == 2
    assert resolve("cnn", {"dataset": "fashion-mnist", "shift": 3}).shift == 3  # the user's
    assert resolve("default", {"dataset": "fashion-mnist"}).shift == 0


def test_the_cnn_preset_refuses_points(capsys, tmp_path):
    code, _, err = run(capsys, "train", "--preset", "cnn", "--dataset", "planar")
    assert code == 2
    assert_one_line_error(err, "planar dataset holds points, not images")


# --- serve -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served_convnet(tmp_path_factory):
    (X, y), _ = datasets.load_mnist(shape="images")
    model = nn.Sequential(
        nn.Conv2D(1, 4, 3, padding=1, seed=0), nn.BatchNorm(4), nn.ReLU(), nn.MaxPool2D(2),
        nn.Flatten(), nn.Dense(4 * 14 * 14, 10, seed=1), nn.Softmax(),
    )  # fmt: skip
    model.fit(X[:1024], y[:1024], epochs=1, batch_size=64, seed=0, threads=1)
    path = tmp_path_factory.mktemp("cnn") / "model.npz"
    nn.save(model, path, metadata={"image_shape": [28, 28], "dataset": "mnist"})
    return load_served(path)


def test_serve_gives_a_convnet_pixels_as_images(served_convnet):
    (X, _), _ = datasets.load_mnist(shape="images")
    with TestClient(create_app(served_convnet)) as client:
        answer = client.post("/api/predict", json={"pixels": X[0].ravel().tolist()}).json()
        expected = served_convnet.model.predict_proba(X[:1])[0]
        np.testing.assert_allclose(answer["probabilities"], expected, rtol=1e-5, atol=1e-6)
        image = io.BytesIO()
        Image.fromarray(np.uint8(255 - 255 * X[0, 0])).resize((280, 280)).save(image, "PNG")
        response = client.post(
            "/api/predict", content=image.getvalue(), headers={"content-type": "image/png"}
        )
        assert response.status_code == 200
        assert len(response.json()["probabilities"]) == 10
        assert client.get("/api/model").json()["input_shape"] == [28, 28]


def test_serve_refuses_a_convnet_without_its_image_shape(served_convnet, tmp_path):
    nn.save(served_convnet.model, tmp_path / "m.npz")
    with pytest.raises(nn.FileFormatError, match="a convnet's metadata must give its image_shape"):
        load_served(tmp_path / "m.npz")
