"""numpynn.plots: each figure is a readable PNG written headless."""

import numpy as np
import pytest
from PIL import Image

from numpynn import plots

pytest.importorskip("matplotlib")


def assert_png(path, min_size=(300, 200)):
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size[0] >= min_size[0] and image.size[1] >= min_size[1]
        # Not blank: a figure with content has many distinct grey levels.
        assert len(np.unique(np.asarray(image.convert("L")))) > 20


def test_history_plot_has_loss_and_accuracy(tmp_path):
    history = {
        "loss": [1.0, 0.5, 0.3],
        "accuracy": [0.6, 0.8, 0.9],
        "val_loss": [1.1, 0.6, 0.4],
        "val_accuracy": [0.55, 0.75, 0.85],
    }
    path = plots.plot_history(history, tmp_path / "curves.png")
    assert path == tmp_path / "curves.png"
    assert_png(path, (900, 350))


def test_history_plot_without_accuracy_has_one_panel(tmp_path):
    assert_png(plots.plot_history({"loss": [3.0, 2.0]}, tmp_path / "loss.png"), (500, 350))


def test_confusion_matrix_plot(tmp_path):
    C = np.array([[50, 2, 0], [3, 40, 1], [0, 0, 44]])
    assert_png(plots.plot_confusion_matrix(C, ["cat", "dog", "bird"], tmp_path / "c.png"))


def test_misclassified_grid(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.random((12, 28, 28))
    path = plots.plot_misclassified(
        images, np.arange(12) % 10, (np.arange(12) + 1) % 10, list("0123456789"), tmp_path / "m.png"
    )
    assert_png(path)


def test_misclassified_grid_with_nothing_to_show(tmp_path):
    path = plots.plot_misclassified(
        np.zeros((0, 8, 8)), [], [], list("0123456789"), tmp_path / "none.png"
    )
    with Image.open(path) as image:
        assert image.format == "PNG"


def test_activations_figure(tmp_path):
    assert_png(plots.plot_activations(tmp_path / "act.png"), (1000, 500))


def test_decision_boundary(tmp_path):
    X = np.random.default_rng(1).standard_normal((50, 2))
    y = (X[:, 0] > 0).astype(int)
    path = plots.plot_decision_boundary(
        lambda P: (P[:, 0] > 0).astype(int), X, y, tmp_path / "b.png"
    )
    assert_png(path)


def test_plots_do_not_leave_a_temporary_file(tmp_path):
    plots.plot_history({"loss": [1.0]}, tmp_path / "h.png")
    assert [p.name for p in tmp_path.iterdir()] == ["h.png"]
