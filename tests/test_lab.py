"""numpynn.lab: each experiment of the learning path shows what its chapter says, and draws
a readable figure. Small settings keep these fast; the chapters' own runs are `numpynn lab`."""

import dataclasses
import functools
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run

from numpynn import lab, layers
from numpynn.cli.lab import one_blas_thread
from numpynn.lab import CHAPTERS, backprop, forward_pass, hyperparameter_search
from numpynn.lab.batchnorm import diverged_epoch
from numpynn.lab.hyperparameter_search import log_uniform
from numpynn.lab.optimizers import f
from numpynn.lab.overfitting import train_test_gap

pytest.importorskip("matplotlib")
from numpynn.lab.activations import activation_curves_figure
from numpynn.lab.backprop import gradient_errors_figure
from numpynn.lab.batchnorm import batchnorm_accuracy_figure
from numpynn.lab.forward_pass import forward_pass_figure
from numpynn.lab.hyperparameter_search import random_search_figure
from numpynn.lab.initial_weights import activation_histograms_figure
from numpynn.lab.learned import (
    confident_mistakes_figure,
    first_layer_weights_figure,
    learned_confusion_figure,
)
from numpynn.lab.optimizers import mnist_losses_figure, optimizer_paths_figure
from numpynn.lab.overfitting import overfitting_curves_figure
from numpynn.lab.perceptrons import perceptrons_figure
from numpynn.lab.planar import hidden_sizes_figure
from numpynn.plots import save_figure

PNG = b"\x89PNG\r\n\x1a\n"
FIGURES = {  # what `numpynn lab all` writes and docs/learn shows
    "perceptron.png",
    "activations.png",
    "forward.png",
    "backprop.png",
    "planar.png",
    "optimizers-paths.png",
    "optimizers-mnist.png",
    "init-sigmoid.png",
    "init-tanh.png",
    "init-relu.png",
    "batchnorm.png",
    "overfitting.png",
    "search.png",
    "learned-weights.png",
    "learned-mistakes.png",
    "learned-confusion.png",
    "words.png",
    "rnnlm.png",
    "lstmlm.png",
    "bptt-book.png",
    "bptt-layers.png",
    "bptt-clipping.png",
    "makemore-ladder.png",
    "makemore-curves.png",
    "gpt-loss.png",
    "gpt-attention.png",
    "seq2seq-addition.png",
    "attention-dates.png",
    "attention-maps.png",
}


@pytest.fixture(autouse=True)
def single_blas_thread():
    """Small matrices: one BLAS thread is several times faster on a busy machine."""
    with one_blas_thread():
        yield


def save(fig, path):
    """Write the figure where the test reads it back; return it, to inspect its axes."""
    save_figure(fig, path)
    return fig


def assert_figure(fig, path):
    """A PNG was written, and every panel that shows axes has a title or labelled axes."""
    assert path.read_bytes()[:8] == PNG
    assert path.stat().st_size > 10_000
    shown = [ax for ax in fig.axes if ax.axison]
    assert shown
    for ax in shown:
        assert ax.get_title() or ax.get_xlabel() or ax.get_ylabel()
    return shown


# --- 1. perceptrons ---------------------------------------------------------------------


def test_hand_set_perceptrons_compute_the_gates_and_xor_takes_two_layers():
    lines = lab.gate_lines()
    assert lines["and"]["outputs"].tolist() == [0, 0, 0, 1]
    assert lines["or"]["outputs"].tolist() == [0, 1, 1, 1]
    assert lines["nand"]["outputs"].tolist() == [1, 1, 1, 0]
    assert lines["xor"]["outputs"].tolist() == [0, 1, 1, 0]
    assert lines["and"]["w"].tolist() == [0.5, 0.5] and lines["and"]["b"] == -0.7


def test_learning_rule_converges_on_and_or_nand_in_a_few_epochs_and_never_on_xor():
    result = lab.learning_rule(epochs=50)
    for gate in ("and", "or", "nand"):
        assert result[gate]["converged_epoch"] is not None
        assert result[gate]["converged_epoch"] <= 10
        assert result[gate]["mistakes"][result[gate]["converged_epoch"] :].max() == 0
    assert result["xor"]["converged_epoch"] is None
    assert result["xor"]["mistakes"].min() >= 1
    assert result["and"]["w"].shape == (51, 2) and result["and"]["b"].shape == (51,)


def test_perceptron_figure(tmp_path):
    fig = save(perceptrons_figure(lab.gate_lines(), lab.learning_rule()), tmp_path / "p.png")
    shown = assert_figure(fig, tmp_path / "p.png")
    assert len(shown) == 8
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in shown)


# --- 2. activation functions -------------------------------------------------------------


def test_activation_derivatives_are_the_slopes_of_the_functions():
    x = np.array([-3.0, -1.0, -0.5, 0.5, 1.0, 3.0])
    eps = 1e-6
    for name in ("sigmoid", "tanh", "relu", "leaky_relu"):
        c = lab.activation_curves(x, (name,))[name]
        above = lab.activation_curves(x + eps, (name,))[name]["h"]
        below = lab.activation_curves(x - eps, (name,))[name]["h"]
        np.testing.assert_allclose(c["dh"], (above - below) / (2 * eps), atol=1e-8)


def test_sigmoid_saturates_its_slope_is_at_most_a_quarter():
    s = lab.sigmoid_saturation(threshold=0.01, depth=5)
    assert s["max_slope"] == 0.25
    assert 4.5 < s["saturates_beyond"] < 4.7  # sigmoid'(4.6) = 0.0099
    assert s["max_gradient_factor"] == 0.25**5


def test_activation_figure(tmp_path):
    curves = lab.activation_curves()
    fig = save(activation_curves_figure(curves, lab.sigmoid_saturation()), tmp_path / "a.png")
    shown = assert_figure(fig, tmp_path / "a.png")
    assert [ax.get_ylabel() for ax in shown] == ["h(x)", "h'(x)", "h(x), h'(x)"]
    assert all(ax.get_xlabel() == "input x" and ax.get_legend() for ax in shown)


# --- 3. the forward pass -----------------------------------------------------------------


def test_forward_pass_gives_the_books_numbers_with_their_shapes():
    steps = {s["name"]: s for s in lab.forward_steps((1.0, 0.5))}
    np.testing.assert_allclose(steps["a1"]["value"], [[0.3, 0.7, 1.1]], rtol=1e-7)
    np.testing.assert_allclose(steps["z1"]["value"], [[0.57444252, 0.66818777, 0.75026011]])
    np.testing.assert_allclose(steps["z2"]["value"], [[0.62624937, 0.7710107]], rtol=1e-7)
    np.testing.assert_allclose(steps["y"]["value"], [[0.31682708, 0.69627909]], rtol=1e-7)
    assert steps["a1"]["shapes"] == "(1, 2) @ (2, 3) + (3,) -> (1, 3)"
    assert steps["a2"]["formula"] == "a2 = z1 @ W2 + b2"
    assert "0.31682708, 0.69627909" in forward_pass.summary(list(steps.values()))


def test_forward_pass_softmax_output_and_a_batch_of_two_rows():
    steps = lab.forward_steps([[1.0, 0.5], [2.0, 1.0]], output="softmax")
    np.testing.assert_allclose(
        steps[-1]["value"], [[0.40625907, 0.59374093], [0.40442364, 0.59557636]], rtol=1e-7
    )
    assert steps[-1]["formula"] == "y = softmax(a3)"


def test_forward_pass_figure(tmp_path):
    fig = save(forward_pass_figure(lab.forward_steps()), tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:8] == PNG
    (ax,) = fig.axes  # a diagram: no axes to label, the numbers are in the title and nodes
    assert "0.31682708" in ax.get_title()
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "a1 = x @ W1 + b1" in texts and "0.57444252" in texts


# --- 4. backpropagation checked ----------------------------------------------------------


def test_backprop_agrees_with_numerical_gradients_for_every_layer():
    rows = lab.gradient_errors()
    assert {r["parameter"] for r in rows} == {"W1", "b1", "W2", "b2", "W3", "b3", "X"}
    assert {r["activation"] for r in rows} == {"sigmoid", "tanh", "relu"}
    assert max(r["relative_error"] for r in rows) < 1e-7
    assert "W1" in backprop.summary(rows)


def test_gradient_check_catches_a_wrong_derivative(monkeypatch):
    right = layers.Tanh.backward
    monkeypatch.setattr(layers.Tanh, "backward", lambda self, dout: 1.1 * right(self, dout))
    rows = lab.gradient_errors(activations=("tanh",))
    errors = {r["parameter"]: r["relative_error"] for r in rows}
    assert errors["W1"] > 1e-2  # below the wrong Tanh: caught
    assert errors["W3"] < 1e-7  # above it: still right


def test_backprop_figure(tmp_path):
    fig = save(gradient_errors_figure(lab.gradient_errors()), tmp_path / "b.png")
    (ax,) = assert_figure(fig, tmp_path / "b.png")
    assert ax.get_yscale() == "log" and "relative error" in ax.get_ylabel()
    assert "2-5-4-2" in ax.get_title()


# --- 5. planar data ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def planar():
    with one_blas_thread():
        return lab.hidden_sizes(sizes=(1, 5), iterations=1000, grid_points=60)


def test_planar_accuracy_grows_with_hidden_units_and_five_reach_90_percent(planar):
    accuracy = {k: m["accuracy"] for k, m in planar["models"].items()}
    assert accuracy[1] < 0.8  # one hidden unit: a line cannot separate the petals
    assert accuracy[5] >= 0.9


def test_planar_boundary_of_one_hidden_unit_is_a_line(planar):
    """With one tanh unit the output is a monotone function of w . x + b: the two regions on
    the grid are the two sides of a line."""
    model = planar["models"][1]["model"]
    dense = model.dense_layers[0]
    grid = np.column_stack([planar["xx"].ravel(), planar["yy"].ravel()])
    z = (grid @ dense.W + dense.b).ravel()
    regions = planar["models"][1]["regions"].ravel()
    ones, zeros = z[regions == 1], z[regions == 0]
    assert ones.size and zeros.size
    assert ones.min() > zeros.max() or ones.max() < zeros.min()


def test_planar_figure(planar, tmp_path):
    fig = save(hidden_sizes_figure(planar), tmp_path / "planar.png")
    shown = assert_figure(fig, tmp_path / "planar.png")
    assert len(shown) == 3  # two boundaries and the accuracy bars
    assert "1 hidden unit:" in shown[0].get_title()
    assert shown[-1].get_ylabel() == "training accuracy (%)"


# --- 6. optimisers -----------------------------------------------------------------------


def test_optimizer_paths_start_together_and_descend():
    paths = lab.optimizer_paths(steps=30)
    assert list(paths) == ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam"]
    for path in paths.values():
        assert path.shape == (31, 2)
        assert path[0].tolist() == [-7.0, 2.0]
        assert f(*path[-1]) < f(*path[0]) / 10


def test_sgd_zigzags_across_the_steep_direction_and_adaptive_steps_arrive_sooner():
    """DLFS 6.1: SGD's y flips sign at every step (the bowl is 20x steeper along y); AdaGrad,
    RMSProp and Adam come within 0.5 of the minimum sooner, AdaGrad and RMSProp end closer.
    With the book's rates momentum overshoots: after 30 steps it is farther than SGD."""
    paths = lab.optimizer_paths(steps=30)
    sgd_y = paths["SGD"][:, 1]
    assert np.all(np.sign(sgd_y[1:]) != np.sign(sgd_y[:-1]))
    reach = {name: lab.steps_to_reach(p, 0.5) for name, p in paths.items()}
    for name in ("AdaGrad", "RMSProp", "Adam"):
        assert reach[name] < reach["SGD"], reach
    distance = {name: np.linalg.norm(p[-1]) for name, p in paths.items()}
    assert distance["AdaGrad"] < distance["SGD"] and distance["RMSProp"] < distance["SGD"]
    assert paths["Momentum"][:, 0].max() > 0  # overshoots past x = 0
    assert distance["Momentum"] > distance["SGD"]


def test_steps_to_reach_is_the_first_step_that_stays_inside():
    path = np.array([[3.0, 0.0], [0.1, 0.0], [2.0, 0.0], [0.2, 0.0], [0.1, 0.0]])
    assert lab.steps_to_reach(path, 0.5) == 3
    assert lab.steps_to_reach(path[:3], 0.5) is None


def test_optimizer_paths_figure(tmp_path):
    fig = save(optimizer_paths_figure(lab.optimizer_paths()), tmp_path / "o.png")
    shown = assert_figure(fig, tmp_path / "o.png")
    assert len(shown) == 6
    assert all(ax.get_xlabel() == "x" and ax.get_ylabel() == "y" for ax in shown)


@pytest.fixture(scope="module")
def mnist_curves():
    with one_blas_thread():
        return lab.mnist_losses(iterations=40, n_train=640, hidden=(30, 30))


def test_mnist_losses_one_per_mini_batch_adaptive_optimisers_ahead_of_sgd(mnist_curves):
    losses = mnist_curves["losses"]
    assert all(curve.shape == (40,) for curve in losses.values())
    late = {name: curve[-10:].mean() for name, curve in losses.items()}
    for name in ("AdaGrad", "RMSProp", "Adam", "Momentum"):
        assert late[name] < late["SGD"], late
    assert late["SGD"] < losses["SGD"][:5].mean()  # SGD learns too, only slower
    assert set(mnist_curves["test_accuracy"]) == set(losses)


def test_mnist_losses_figure(mnist_curves, tmp_path):
    fig = save(mnist_losses_figure(mnist_curves), tmp_path / "m.png")
    (ax,) = assert_figure(fig, tmp_path / "m.png")
    assert "iteration" in ax.get_xlabel() and "loss" in ax.get_ylabel()
    assert len(ax.get_legend().get_texts()) == 6


# --- 7. initial weights ------------------------------------------------------------------


def histograms(activation):
    return lab.activation_histograms(activation, n_samples=200)


def test_sigmoid_activations_pile_at_0_and_1_with_std_1_and_at_one_half_with_std_001():
    h = histograms("sigmoid")
    for a in h["std 1"]:
        assert np.mean((a < 0.1) | (a > 0.9)) > 0.6
    for a in h["std 0.01"]:
        assert np.quantile(np.abs(a - 0.5), 0.99) < 0.07 and a.std() < 0.03
    last = h["xavier"][-1]
    assert last.std() > 0.08 and np.mean((last < 0.1) | (last > 0.9)) < 0.05


def test_relu_keeps_its_scale_with_he_and_vanishes_with_std_001():
    h = histograms("relu")
    assert all(0.3 < a.std() < 3 for a in h["he"])  # every layer, the last included
    assert h["std 0.01"][-1].std() < 1e-4
    assert h["std 1"][-1].std() > 1e3  # explodes instead
    assert h["xavier"][-1].std() < h["he"][-1].std() / 2  # Xavier halves ReLU's variance


def test_tanh_activations_vanish_with_std_001():
    h = histograms("tanh")
    assert h["std 0.01"][-1].std() < 1e-3
    assert h["xavier"][-1].std() > 0.2


def test_activation_histogram_figure(tmp_path):
    inits = ("std 0.01", "he")
    h = lab.activation_histograms("relu", inits, n_layers=3, width=20, n_samples=50)
    fig = save(activation_histograms_figure(h, "relu"), tmp_path / "r.png")
    shown = assert_figure(fig, tmp_path / "r.png")
    assert len(shown) == 6  # one row per initialisation, one column per layer
    assert [ax.get_ylabel() for ax in shown[::3]] == ["std 0.01\ncount", "he\ncount"]
    assert all(ax.get_xlabel() for ax in shown[-3:]) and shown[0].get_xscale() == "log"


# --- 8. batch normalization -------------------------------------------------------------


@pytest.fixture(scope="module")
def batchnorm():
    """The book's 784-100x5-10 network, 10 mini-batches per epoch as in the book, but 200
    images of 20 and 6 epochs; weight std 1 and 0.01."""
    with one_blas_thread():
        return lab.batchnorm_accuracy(scales=(1.0, 0.01), epochs=6, n_train=200, batch_size=20)


def test_batchnorm_gives_both_curves_for_each_scale_from_the_same_start(batchnorm):
    accuracy = batchnorm["accuracy"]
    assert set(accuracy) == {"batchnorm", "plain"}
    assert all(curves.shape == (2, 7) for curves in accuracy.values())  # epochs 0 to 6
    assert all(curves.shape == (2, 6) for curves in batchnorm["fit_accuracy"].values())
    assert batchnorm["epochs"].tolist() == list(range(7))
    assert batchnorm["sizes"] == [784, 100, 100, 100, 100, 100, 10]
    # the same weights: before training BatchNorm (running mean 0, variance 1) changes nothing
    np.testing.assert_array_equal(accuracy["batchnorm"][:, 0], accuracy["plain"][:, 0])


def test_without_batchnorm_std_1_diverges_and_std_001_never_learns(batchnorm):
    plain = batchnorm["accuracy"]["plain"]
    assert diverged_epoch(plain[0]) == 1  # the loss became NaN in the first epoch
    assert np.isnan(plain[0, 1:]).all()
    assert plain[1].max() < 0.2  # every image in one class: the vanishing signal of chapter 7


def test_with_batchnorm_both_scales_learn(batchnorm):
    bn, plain = batchnorm["accuracy"]["batchnorm"], batchnorm["accuracy"]["plain"]
    assert not np.isnan(bn).any()  # std 1 does not diverge
    assert bn[0, -1] > bn[0, 0] + 0.1  # slowly, but it learns
    assert bn[1, -1] > 0.8 and bn[1, -1] > plain[1, -1] + 0.5


def test_predict_lags_fit_at_first_while_the_running_averages_catch_up(batchnorm):
    """Std 0.01: after the first epoch fit's accuracy (batch statistics) is well ahead of
    predict's (running averages still mostly their initial 0 and 1)."""
    bn, fit = batchnorm["accuracy"]["batchnorm"], batchnorm["fit_accuracy"]["batchnorm"]
    assert fit[1, 0] > bn[1, 1] + 0.1


def test_batchnorm_figure(batchnorm, tmp_path):
    fig = save(batchnorm_accuracy_figure(batchnorm), tmp_path / "bn.png")
    shown = assert_figure(fig, tmp_path / "bn.png")
    assert len(shown) == 2  # one panel per weight scale
    final = 100 * batchnorm["accuracy"]["batchnorm"][0, -1]
    assert shown[0].get_title() == f"W std 1: with {final:.0f}%, without diverged"
    assert shown[1].get_title().startswith("W std 0.01: with ")
    assert shown[0].get_ylabel() == "training accuracy (%)"
    assert all(ax.get_xlabel() == "epoch" for ax in shown)
    assert "loss NaN in epoch 1" in " ".join(t.get_text() for t in shown[0].texts)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()][:2] == ["with BatchNorm", "without BatchNorm"]


@pytest.mark.slow
def test_batchnorm_chapter_numbers():
    """The chapter's run (DLFS's settings): without BatchNorm std 1 and 0.54 diverge, std 0.29
    and 0.16 train best, 0.086 and below learn little or nothing; with BatchNorm every scale
    from 0.086 down to 0.00034 ends at least 30 points ahead, 0.00018 (at the edge, where the
    last bit of a BLAS sum shows: 41-43% on two machines) at least 20, and std 1e-4 learns
    only with DLFS's smaller eps."""
    result = lab.batchnorm_accuracy()
    scales = result["scales"]
    bn, plain = (result["accuracy"][name][:, -1] for name in ("batchnorm", "plain"))
    assert [diverged_epoch(c) for c in result["accuracy"]["plain"][:2]] == [1, 1]
    assert plain[2] > bn[2] and plain[3] > bn[3]
    middle = (scales < 0.1) & (scales > 3e-4)
    assert np.all(bn[middle] >= plain[middle] + 0.3), (bn, plain)
    edge = (scales < 3e-4) & (scales > 1.5e-4)
    assert np.all(bn[edge] >= plain[edge] + 0.2), (bn, plain)
    assert bn[-1] < 0.2 and plain[-1] < 0.2
    assert lab.batchnorm_accuracy(scales=(1e-4,), eps=1e-6)["accuracy"]["batchnorm"][0, -1] > 0.3


@pytest.mark.slow
def test_chapter_8s_network_code_runs_as_written():
    """The chapter's one network at std 0.01: 100% with BatchNorm, 11.7% (every image a 7)
    without."""
    page = Path(__file__).resolve().parent.parent / "docs/learn/08-batch-normalization.md"
    block = re.findall(r"```python\n(.*?)```", page.read_text(), re.DOTALL)[0]
    assert "nn.BatchNorm(100), " in block
    for code, accuracy in ((block, 1.0), (block.replace("nn.BatchNorm(100), ", ""), 0.117)):
        namespace: dict = {}
        exec(code, namespace)
        model, X, y = namespace["model"], namespace["X"], namespace["y"]
        assert model.evaluate(X, y)["accuracy"] == pytest.approx(accuracy)


# --- 9. overfitting ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def overfitting():
    """The book's 784-100x6-10 network and SGD rate, on 100 images for 100 epochs."""
    with one_blas_thread():
        return lab.overfitting_curves(epochs=100, n_train=100, n_test=300, batch_size=50)


def test_overfitting_curves_start_from_the_same_weights(overfitting):
    assert list(overfitting["train"]) == ["plain", "dropout", "weight decay"]
    for curves in (overfitting["train"], overfitting["test"]):
        assert all(c.shape == (101,) for c in curves.values())  # epochs 0 to 100
        assert len({c[0] for c in curves.values()}) == 1  # dropout is off in predict
    assert overfitting["settings"]["dropout"] == {"dropout": 0.2, "weight_decay": 0.0}


def test_the_plain_network_memorises_its_training_images(overfitting):
    assert overfitting["train"]["plain"][-1] == 1.0
    assert train_test_gap(overfitting, "plain", last=10) > 0.3


def test_dropout_narrows_the_train_test_gap(overfitting):
    run = {s: train_test_gap(overfitting, s, last=None) for s in ("dropout", "plain")}
    end = {s: train_test_gap(overfitting, s, last=10) for s in ("dropout", "plain")}
    assert run["dropout"] < run["plain"] - 0.05  # over the whole run
    assert end["dropout"] < end["plain"]  # and at its end, at this size


def test_weight_decay_narrows_the_train_test_gap(overfitting):
    assert overfitting["train"]["weight decay"][-10:].max() < 1.0  # it does not memorise
    run = {s: train_test_gap(overfitting, s, last=None) for s in ("weight decay", "plain")}
    end = {s: train_test_gap(overfitting, s, last=10) for s in ("weight decay", "plain")}
    assert end["weight decay"] < end["plain"] - 0.03
    assert run["weight decay"] < run["plain"]


def test_train_test_gap_is_the_mean_difference_over_the_last_epochs_or_the_run():
    result = {"train": {"a": np.array([0.1, 0.5, 1.0, 1.0])}, "test": {"a": np.zeros(4) + 0.5}}
    assert train_test_gap(result, "a", last=2) == pytest.approx(0.5)
    assert train_test_gap(result, "a", last=None) == pytest.approx(1 / 3)  # epochs 1 to 3


def test_overfitting_figure(overfitting, tmp_path):
    fig = save(overfitting_curves_figure(overfitting, last=10), tmp_path / "o.png")
    shown = assert_figure(fig, tmp_path / "o.png")
    assert len(shown) == 3  # one panel per setting
    assert [ax.get_title().split(":")[0] for ax in shown] == [
        "plain",
        "dropout 0.2",
        "weight decay 0.1",
    ]
    gap = 100 * train_test_gap(overfitting, "plain", 10)
    assert f"gap {gap:.1f} points (mean of the last 10 epochs)" in shown[0].get_title()
    assert all(ax.get_xlabel() == "epoch" and ax.get_ylabel() == "accuracy (%)" for ax in shown)
    legend = [t.get_text() for t in shown[0].get_legend().get_texts()]
    assert legend == ["training images", "test images"]


@pytest.mark.slow
def test_overfitting_chapter_numbers():
    """The chapter's run (DLFS's settings, 300 images, 300 epochs): the plain network
    memorises them; weight decay holds the training accuracy near 90% and the gap 5 points
    narrower; dropout's gap is narrower over the run but by the end nearly as wide."""
    result = lab.overfitting_curves()
    gap = {s: train_test_gap(result, s) for s in result["train"]}
    assert result["train"]["plain"][-1] == 1.0
    assert 0.85 < result["train"]["weight decay"][-50:].mean() < 0.95
    assert gap["weight decay"] < gap["plain"] - 0.05
    run = {s: train_test_gap(result, s, last=None) for s in ("dropout", "plain")}
    assert run["dropout"] < run["plain"] - 0.05
    assert abs(gap["dropout"] - gap["plain"]) < 0.03
    assert max(c[-1] for c in result["test"].values()) == result["test"]["plain"][-1]


# --- 10. hyper-parameter search ----------------------------------------------------------


@pytest.fixture(scope="module")
def search():
    with one_blas_thread():
        return lab.random_search(
            trials=8, n_samples=150, n_validation=50, epochs=6, hidden=(30, 30), batch_size=25
        )


def test_log_uniform_draws_as_many_in_each_decade():
    values = log_uniform(np.random.default_rng(0), (1e-6, 1e-2), 40_000)
    assert values.min() >= 1e-6 and values.max() < 1e-2
    per_decade = np.histogram(np.log10(values), bins=4, range=(-6, -2))[0]
    assert np.all(np.abs(per_decade / 10_000 - 1) < 0.05)


def test_search_trials_lie_in_the_searched_ranges(search):
    assert search["lr"].shape == search["weight_decay"].shape == search["val_accuracy"].shape
    assert search["lr"].shape == (8,) and search["curves"].shape == (8, 6)
    assert np.all((search["lr"] >= 1e-6) & (search["lr"] <= 1e-2))
    assert np.all((search["weight_decay"] >= 1e-8) & (search["weight_decay"] <= 1e-4))
    np.testing.assert_array_equal(search["val_accuracy"], search["curves"][:, -1])
    assert search["n_train"] == 100 and search["n_validation"] == 50


def test_search_best_trial_is_listed_first_and_has_the_highest_accuracy(search):
    best = search["ranking"][0]
    assert search["val_accuracy"][best] == search["val_accuracy"].max()
    assert sorted(search["ranking"]) == list(range(8))
    assert np.all(np.diff(search["val_accuracy"][search["ranking"]]) <= 0)
    table = hyperparameter_search.summary(search, k=3).splitlines()
    assert len(table) == 4  # the heading and the 3 best
    assert table[1].split() == [
        "1",
        f"{search['val_accuracy'][best]:.0%}",
        f"{search['lr'][best]:.2e}",
        f"{search['weight_decay'][best]:.2e}",
    ]


def test_search_figure(search, tmp_path):
    fig = save(random_search_figure(search, best=3), tmp_path / "s.png")
    shown = assert_figure(fig, tmp_path / "s.png")
    scatter, by_lr = shown[0], shown[2]  # shown[1] is the colour bar
    assert scatter.get_xscale() == scatter.get_yscale() == "log"
    assert scatter.get_xlabel() == "learning rate (log scale)"
    assert scatter.get_ylabel() == "weight decay (log scale)"
    assert shown[1].get_ylabel() == "validation accuracy (%)"
    assert by_lr.get_ylabel() == "validation accuracy (%)"
    assert [t.get_text() for t in scatter.texts] == ["1", "2", "3"]
    assert "8 trials" in scatter.get_title()


@pytest.mark.slow
def test_search_chapter_numbers():
    """The chapter's search: every trial with a learning rate below 1e-4 stays at chance
    (10-20%), the best lie at the top of the learning-rate range."""
    result = lab.random_search()
    slow = result["lr"] < 1e-4
    assert slow.sum() > 10 and result["val_accuracy"][slow].max() <= 0.2
    assert all(result["lr"][i] > 3e-3 for i in result["ranking"][:5])
    assert result["val_accuracy"].max() > 0.6


# --- 11. what the network learned --------------------------------------------------------


@pytest.fixture(scope="module")
def learned():
    with one_blas_thread():
        return lab.what_it_learned(n_hidden=9, n_train=1000, epochs=3, n_mistakes=12)


def test_first_layer_weights_are_one_28x28_image_per_hidden_unit(learned):
    W = learned["model"].dense_layers[0].W
    assert learned["weights"].shape == (9, 28, 28)
    np.testing.assert_array_equal(learned["weights"][4].ravel(), W[:, 4])


def test_confident_mistakes_are_mistakes_sorted_by_confidence(learned):
    from numpynn.datasets import load_mnist

    _, (X_test, y_test) = load_mnist()
    model, m = learned["model"], learned["mistakes"]
    index = m["index"]
    assert len(index) == 12
    np.testing.assert_array_equal(m["true"], y_test[index])
    np.testing.assert_array_equal(m["predicted"], model.predict(X_test[index]))
    assert np.all(m["predicted"] != m["true"])
    proba = model.predict_proba(X_test)
    np.testing.assert_allclose(m["probability"], proba[index].max(axis=1))
    assert np.all(np.diff(m["probability"]) <= 0)
    wrong = proba.argmax(axis=1) != y_test
    others = np.setdiff1d(np.nonzero(wrong)[0], index)
    assert proba[others].max(axis=1).max() <= m["probability"].min()  # none more confident
    np.testing.assert_array_equal(m["images"], X_test[index].reshape(-1, 28, 28))


def test_confusion_matrix_sums_to_the_test_size(learned):
    C = learned["confusion"]
    assert C.shape == (10, 10) and C.sum() == learned["n_test"] == 10_000
    wrong = C.sum() - np.trace(C)
    assert learned["test_accuracy"] == pytest.approx(np.trace(C) / 10_000)
    assert wrong >= len(learned["mistakes"]["index"])


def test_learned_figures(learned, tmp_path):
    fig = save(first_layer_weights_figure(learned), tmp_path / "w.png")
    assert (tmp_path / "w.png").read_bytes()[:8] == PNG
    assert len(fig.axes) == 9 and fig.axes[0].get_title() == "unit 0"
    assert "784-9-10" in fig.get_suptitle()
    fig = save(confident_mistakes_figure(learned), tmp_path / "m.png")
    assert (tmp_path / "m.png").read_bytes()[:8] == PNG
    assert len(fig.axes) == 12
    p, t = learned["mistakes"]["probability"][0], learned["mistakes"]["true"][0]
    assert fig.axes[0].get_title() == f"{learned['mistakes']['predicted'][0]} ({p:.2f})\ntrue {t}"
    assert fig.get_suptitle().startswith("The 12 most confident of the ")
    fig = save(learned_confusion_figure(learned), tmp_path / "c.png")
    (ax,) = assert_figure(fig, tmp_path / "c.png")[:1]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert ax.get_title().startswith("784-9-10 network on the MNIST test images: confusion matrix")


@pytest.mark.slow
def test_the_first_code_block_of_chapters_9_to_11_runs_as_written():
    """Chapter 9's weight-decay run gives its numbers, 90.3% training and 68.5% test accuracy;
    chapter 10's trial and chapter 11's network run."""
    docs = Path(__file__).resolve().parent.parent / "docs/learn"
    for page in ("09-overfitting.md", "10-hyperparameter-search.md", "11-what-*.md"):
        (path,) = docs.glob(page)
        namespace: dict = {}
        exec(re.findall(r"```python\n(.*?)```", path.read_text(), re.DOTALL)[0], namespace)
        if page.startswith("09"):
            model = namespace["model"]
            train = model.evaluate(namespace["X"], namespace["y"])["accuracy"]
            test = model.evaluate(namespace["X_test"], namespace["y_test"])["accuracy"]
            assert (round(train, 3), round(test, 3)) == (0.903, 0.685)
        if page.startswith("11"):
            assert namespace["images"].shape == (36, 28, 28) and namespace["C"].sum() == 10_000


# --- the command ---------------------------------------------------------------------------


def test_lab_list_names_every_experiment(capsys):
    code, out, _ = run(capsys, "lab", "--list")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == list(CHAPTERS)


def test_lab_is_listed_in_the_programs_help_and_has_its_own(capsys):
    assert "lab" in run(capsys, "--help")[1]
    code, out, _ = run(capsys, "lab", "--help")
    assert code == 0 and out.startswith("usage: numpynn lab")


def test_lab_forward_prints_the_steps_and_writes_its_figure(capsys, tmp_path):
    code, out, _ = run(capsys, "lab", "forward", "--out", tmp_path / "figures")
    assert code == 0
    assert "[[0.31682708, 0.69627909]]" in out
    assert (tmp_path / "figures" / "forward.png").read_bytes()[:8] == PNG
    assert not list((tmp_path / "figures").glob(".*.tmp"))  # written atomically


def test_lab_unknown_name_or_none_is_one_line(capsys):
    code, _, err = run(capsys, "lab", "adamw")
    assert code == 2
    assert_one_line_error(err, "adamw", "perceptron", "all")
    code, _, err = run(capsys, "lab")
    assert code == 2
    assert_one_line_error(err, "--list")


def test_lab_without_matplotlib_is_one_line(capsys, tmp_path, monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else find_spec(name, *a),
    )
    code, _, err = run(capsys, "lab", "forward", "--out", tmp_path)
    assert code == 1
    assert_one_line_error(err, "pip install 'numpynn[cli]'")


def test_importing_numpynn_the_lab_and_the_cli_does_not_import_matplotlib():
    code = "import sys, numpynn, numpynn.lab, numpynn.cli; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_figure_the_learning_path_shows_is_committed():
    docs = Path(__file__).resolve().parent.parent / "docs" / "learn"
    shown = set()
    for page in docs.glob("*.md"):
        shown |= set(re.findall(r"\(figures/([\w-]+\.png)\)", page.read_text()))
    assert shown == FIGURES
    assert all((docs / "figures" / name).stat().st_size > 10_000 for name in shown)


@pytest.mark.slow
def test_lab_all_writes_every_figure_of_the_learning_path(
    capsys, tmp_path, monkeypatch, chapter_numbers
):
    """``lab all`` runs every chapter, then draws and summarises it; each chapter's run is the
    session's shared one (tests/conftest.py), which other tests check."""
    for name, chapter in CHAPTERS.items():
        shared = functools.partial(chapter_numbers, name)
        monkeypatch.setitem(CHAPTERS, name, dataclasses.replace(chapter, run=shared))
    code, out, _ = run(capsys, "lab", "all", "--out", tmp_path)
    assert code == 0
    assert {p.name for p in tmp_path.glob("*.png")} == FIGURES
    assert out.count("== ") == len(CHAPTERS)


def test_the_early_chapters_refuse_bad_arguments_by_name():
    with pytest.raises(ValueError, match=r"output must be 'identity' or 'softmax', got 'relu'"):
        lab.book_network("relu")
    with pytest.raises(ValueError, match=r"threshold must be above .* got 1e-12"):
        lab.sigmoid_saturation(1e-12)
    from numpynn.lab.overfitting import train_test_gap

    result = {"train": {"a": np.ones(5)}, "test": {"a": np.zeros(5)}}
    assert train_test_gap(result, "a", last=2) == 1.0
    with pytest.raises(ValueError, match=r"last must be at least 1 epoch .* got 0"):
        train_test_gap(result, "a", last=0)
