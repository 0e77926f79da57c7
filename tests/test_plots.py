"""numpynn.plots: each figure is a readable PNG written headless."""

import numpy as np
import pytest
from PIL import Image

from numpynn import plots
from numpynn.layers import ACTIVATION_LAYERS

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


# --- what the figures contain (issue 13) ---------------------------------------------------

HISTORY = {
    "loss": [1.0, 0.5, 0.3],
    "accuracy": [0.6, 0.8, 0.9],
    "val_loss": [1.1, 0.6, 0.4],
    "val_accuracy": [0.55, 0.85, 0.80],
}


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_curves_have_axis_labels_accuracy_in_percent_and_the_run_in_the_title():
    fig = plots.history_figure(HISTORY, title="digits, run r1", loss_name="cross_entropy")
    loss_ax, acc_ax = fig.axes
    assert fig._suptitle.get_text() == "digits, run r1"
    assert (loss_ax.get_xlabel(), loss_ax.get_ylabel()) == ("epoch", "loss (cross_entropy)")
    assert (acc_ax.get_xlabel(), acc_ax.get_ylabel()) == ("epoch", "accuracy (%)")
    validation = acc_ax.get_lines()[1]
    np.testing.assert_allclose(validation.get_ydata(), [55, 85, 80])  # percent
    assert legend_texts(acc_ax) == ["training", "validation"]


def test_curves_mark_the_final_weights_epoch_and_the_test_accuracy():
    fig = plots.history_figure(HISTORY, best_epoch=2, test_accuracy=0.83)
    loss_ax, acc_ax = fig.axes
    assert "final weights: epoch 2" in legend_texts(loss_ax)
    assert legend_texts(acc_ax)[-2:] == ["final weights: epoch 2", "test accuracy 83.00%"]
    star, test_point = acc_ax.get_lines()[-2:]
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (2, 85)
    assert (test_point.get_xdata()[0], test_point.get_ydata()[0]) == (2, 83)


def test_curves_of_many_epochs_have_no_markers():
    long = {k: list(np.linspace(1, 0.5, 150)) for k in HISTORY}
    fig = plots.history_figure(long)
    assert all(line.get_marker() in (None, "None", "") for line in fig.axes[0].get_lines())
    short = plots.history_figure(HISTORY)
    assert short.axes[0].get_lines()[0].get_marker() == "o"


def test_curves_of_several_runs_are_overlaid_one_colour_each():
    fig = plots.histories_figure({"a": HISTORY, "b": HISTORY}, title="2 runs")
    labels = legend_texts(fig.axes[1])
    assert labels == ["a: training", "a: validation", "b: training", "b: validation"]
    colours = [line.get_color() for line in fig.axes[1].get_lines()]
    assert colours[0] == colours[1] != colours[2] == colours[3]


def test_confusion_colours_the_errors_on_their_own_scale():
    C = np.array([[500, 3, 0], [1, 480, 0], [0, 0, 490]])
    fig = plots.confusion_figure(C, ["0", "1", "2"], title="digits test set")
    ax = fig.axes[0]
    errors_image = ax.get_images()[0]
    assert errors_image.get_clim() == (0, 3)  # the largest error, not the diagonal's 500
    assert errors_image.get_array().mask.diagonal().all()  # the diagonal is not on that scale
    assert ax.get_title().startswith("digits test set: confusion matrix")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    assert fig.axes[1].get_ylabel() == "errors (off-diagonal counts)"


def test_misclassified_shows_each_predicted_probability_in_large_labels():
    images = np.random.default_rng(0).random((3, 8, 8))
    fig = plots.misclassified_figure(
        images, [1, 2, 3], [7, 1, 8], list("0123456789"), probabilities=[0.91, 0.5, 0.66]
    )
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["7 (0.91)\ntrue 1", "1 (0.50)\ntrue 2", "8 (0.66)\ntrue 3"]
    assert all(ax.title.get_fontsize() >= 11 for ax in fig.axes)


def test_decision_boundary_has_axis_labels_a_class_legend_and_test_points_marked():
    rng = np.random.default_rng(1)
    X, X_test = rng.standard_normal((40, 2)), rng.standard_normal((10, 2))
    fig = plots.decision_boundary_figure(
        lambda P: (P[:, 0] > 0).astype(int),
        X,
        (X[:, 0] > 0).astype(int),
        X_test=X_test,
        y_test=(X_test[:, 0] > 0).astype(int),
        labels=["red", "blue"],
    )
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x1", "x2")
    assert legend_texts(ax) == [
        "region of red",
        "region of blue",
        "red (training)",
        "blue (training)",
        "red (test)",
        "blue (test)",
    ]


def test_activations_have_axis_labels_and_show_the_leaky_slope():
    fig = plots.activations_figure()
    panels = [ax for ax in fig.axes if ax.get_title() and ax.get_xlabel()]
    assert len(panels) == len(ACTIVATION_LAYERS)  # one per activation, gelu included
    assert all(ax.get_ylabel() == "h(x), h'(x)" for ax in panels)
    leaky = next(ax for ax in panels if ax.get_title() == "leaky_relu")
    inset = leaky.child_axes[0]
    assert inset.get_title() == "x < 0, enlarged: slope 0.01"
    low, high = inset.get_ylim()
    assert high - low < 0.1  # zoomed in enough to see h(x) = 0.01 x


def test_a_two_class_confusion_matrix_is_large_enough_for_its_title():
    fig = plots.confusion_figure([[40, 6], [1, 53]], ["red", "blue"], title="planar test set")
    width, height = fig.get_size_inches()
    assert width >= 5.5 and height >= 4
