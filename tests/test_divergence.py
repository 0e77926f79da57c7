"""A run that explodes stops with DivergenceError, a NaN or a finite loss far above the run's
start (issue 26), and nothing that trains well trips it: the CLI's presets, shortened, and
fits that start near a loss of 0."""

from __future__ import annotations

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run
from test_text_datasets import SHARED_DATA

import numpynn as nn
from numpynn.cli import main
from numpynn.cli.config import PRESETS
from numpynn.cli.text_config import TEXT_PRESETS
from numpynn.training import DIVERGENCE, loss_limit

rng = np.random.default_rng(0)
X = rng.standard_normal((200, 8))
Y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)  # 3 classes


def test_a_finite_loss_100_times_the_start_stops_the_run_naming_the_rate_epoch_and_batch():
    with pytest.raises(nn.DivergenceError) as caught:
        nn.mlp([8, 16, 3], seed=0).fit(X, Y, optimizer=nn.SGD(lr=1e4), epochs=3, seed=0)
    message = str(caught.value)
    assert "training diverged at epoch 1, batch " in message
    assert f"over {DIVERGENCE:g} times the loss at the run's start" in message
    assert "try a smaller learning rate (now 10000)" in message
    assert "nan" not in message and "inf" not in message  # finite: caught before the NaN


def test_divergence_none_checks_only_for_nan_and_a_larger_factor_leaves_more_room():
    def explode(divergence):
        model = nn.mlp([8, 16, 3], seed=0)
        return model.fit(X, Y, optimizer=nn.SGD(lr=10.0), epochs=3, seed=0, divergence=divergence)

    with pytest.raises(nn.DivergenceError):
        explode(DIVERGENCE)
    history = explode(None)  # the loss grew, stayed finite, and the run ran to its end
    assert len(history["loss"]) == 3 and max(history["loss"]) > 1e6


def test_a_second_fit_from_a_loss_near_0_gets_room_for_its_noise():
    model = nn.mlp([8, 64, 3], seed=0)
    model.fit(X, Y, epochs=200, batch_size=200, optimizer=nn.Adam(lr=0.01), seed=0)
    assert model.evaluate(X, Y)["loss"] < 0.05  # a fit that starts near 0 ...
    model.fit(X, Y, epochs=5, batch_size=8, optimizer=nn.SGD(lr=0.5), seed=0)  # ... noisy


def test_regression_targets_of_any_scale_train_and_an_exploding_one_stops():
    x = rng.standard_normal((100, 3))

    def regression(optimizer: nn.Optimizer) -> None:
        model = nn.mlp([3, 8, 1], output="identity", seed=0)
        model.fit(x, y, optimizer=optimizer, epochs=5, seed=0)

    for scale in (1e-4, 1.0, 1e4):
        y = scale * (x @ [1.0, -2.0, 0.5])[:, None]
        regression(nn.Adam(lr=0.01))
    with pytest.raises(nn.DivergenceError, match="times the loss at the run's start"):
        regression(nn.SGD(lr=1.0))


def test_the_limit_starts_at_least_at_an_uninformed_guess():
    onehot = np.eye(10)[np.arange(50) % 10]
    assert loss_limit(100, 0.01, {}, onehot, nn.CrossEntropy()) == pytest.approx(100 * np.log(10))
    assert loss_limit(100, 3.0, {"loss": [2.0]}, onehot, nn.CrossEntropy()) == 300
    assert loss_limit(100, 0.5, {"loss": [4.0]}, None, nn.MeanSquaredError()) == 400  # resumed
    yes_no = np.array([[1.0, 0.0], [0.0, 1.0]])  # two sigmoid outputs: 2 log 2 at 0.5 each
    assert loss_limit(10, 0.0, {}, yes_no, nn.BinaryCrossEntropy()) == pytest.approx(20 * np.log(2))
    values = np.array([[0.0], [2.0]])  # variance 1: an MSE of 0.5 predicting the mean
    assert loss_limit(10, 0.0, {}, values, nn.MeanSquaredError()) == pytest.approx(5)
    assert loss_limit(10, 0.0, {}, None, nn.MeanSquaredError()) == np.inf  # no scale: no check


@pytest.mark.parametrize("lr", ["50", "1e9"])
def test_the_command_line_stops_an_exploding_run_with_exit_1(capsys, tmp_path, lr):
    argv = ["train", "--dataset", "digits", "--epochs", "2", "--optimizer", "sgd", "--lr", lr]
    code, _, err = run(capsys, *argv, "--out", str(tmp_path / "run"))
    assert code == 1
    assert_one_line_error(err, "training diverged at epoch 1", f"--lr was {float(lr):g}")
    assert not (tmp_path / "run" / "model.npz").exists()


@pytest.mark.slow
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_the_classifier_presets_do_not_trip_it(capsys, tmp_path, preset):
    argv = ["train", "--preset", preset, "--dataset", "digits", "--epochs", "3", "--threads", "1"]
    code, _, err = run(capsys, *argv, "--validation", "200", "--out", str(tmp_path / "run"))
    assert code == 0, err


@pytest.mark.slow
@pytest.mark.parametrize("preset", sorted(TEXT_PRESETS))
def test_the_language_model_presets_do_not_trip_it(tmp_path, preset):
    dataset = TEXT_PRESETS[preset]["dataset"]
    argv = ["train", "--dataset", dataset, "--preset", preset, "--data-dir", SHARED_DATA]
    argv += ["--steps", "60", "--eval-every", "30", "--threads", "1", "--out", tmp_path / "r"]
    assert main([str(a) for a in argv]) == 0


@pytest.mark.slow
@pytest.mark.parametrize("chapter", ["planar", "optimizers", "overfitting", "learned", "search"])
def test_the_learning_paths_training_chapters_do_not_trip_it(chapter_numbers, chapter):
    """Each chapter's own run, with fit's default divergence check (a DivergenceError would
    end it); the BatchNorm chapter turns it off to show a loss going to NaN (tests/test_lab.py).
    """
    assert chapter_numbers(chapter)
