"""The files the command line reads back (config.json, the checkpoint's extra data, a model's
metadata) are checked: a damaged one is one line naming the file and the field, exit code 2."""

import json
import os

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run

import numpynn
from numpynn import io as nn_io
from numpynn.cli import main
from numpynn.cli.config import TrainConfig
from numpynn.errors import FileFormatError
from numpynn.trained import class_probabilities


@pytest.fixture(scope="module")
def planar_run(tmp_path_factory):
    """A two-epoch run on the planar points: its run directory."""
    run_dir = tmp_path_factory.mktemp("runs") / "planar"
    argv = ["train", "--dataset", "planar", "--epochs", "2", "--no-plots", "--quiet"]
    assert main([*argv, "--threads", "1", "--out", str(run_dir)]) == 0
    return run_dir


@pytest.fixture
def damaged_run(planar_run, tmp_path):
    """A copy of ``planar_run`` to damage."""
    copy = tmp_path / "run"
    copy.mkdir()
    for path in planar_run.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    return copy


# --- config.json ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("optimizer", "lion", ["optimizer", "'lion'", "adamw"]),
        ("loss", 3, ["loss", "cross_entropy"]),
        ("output", "relu", ["output", "softmax"]),
        ("hidden", 4, ["hidden", "list of positive integers"]),
        ("hidden", [4, 0], ["hidden", "positive integer", "got 0"]),
        ("hidden", [], ["hidden", "list of positive integers"]),
        ("lr_decay", "x", ["lr_decay", "a finite number > 0", "'x'"]),
        ("lr", float("inf"), ["lr", "a finite number > 0"]),
        ("epochs", True, ["epochs", "positive integer"]),
        ("batch_size", 2.5, ["batch_size", "positive integer"]),
        ("dropout", 1.5, ["dropout", "[0, 1)"]),
        ("seed", -1, ["seed", "integer >= 0"]),
        ("blas_threads", "all", ["blas_threads", "positive integer"]),
        ("patience", 0, ["patience", "positive integer", "got 0"]),
        ("patience", "3", ["patience", "positive integer"]),
    ],
)
def test_resume_refuses_a_config_json_with_a_bad_setting(capsys, damaged_run, field, value, words):
    path = damaged_run / "config.json"
    config = json.loads(path.read_text())
    config[field] = value
    path.write_text(json.dumps(config))
    code, _, err = run(capsys, "train", "--resume", damaged_run, "--epochs", "3")
    assert code == 2
    assert_one_line_error(err, str(path), *words)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[1, 2]", ["JSON object", "list"]),
        ("{not json", ["config.json"]),
        ('{"dataset": "planar", "colour": "red"}', ["unknown setting 'colour'"]),
        ('{"dataset": "planar"}', ["'hidden' is missing"]),
    ],
)
def test_resume_refuses_a_config_json_that_is_not_a_config(capsys, damaged_run, text, words):
    (damaged_run / "config.json").write_text(text)
    code, _, err = run(capsys, "train", "--resume", damaged_run, "--epochs", "3")
    assert code == 2
    assert_one_line_error(err, "is not a numpynn run config", *words)


def test_a_config_json_without_blas_threads_still_resumes(capsys, damaged_run):
    path = damaged_run / "config.json"
    config = json.loads(path.read_text())
    del config["blas_threads"]
    path.write_text(json.dumps(config))
    code, _, err = run(capsys, "train", "--resume", damaged_run, "--epochs", "3", "--quiet")
    assert code == 0, err


@pytest.mark.parametrize(
    ("option", "setting", "text"),
    [
        ("--lr", "lr", "0"),
        ("--lr-decay", "lr_decay", "-0.5"),
        ("--epochs", "epochs", "0"),
        ("--l2", "l2", "-1"),
        ("--dropout", "dropout", "1"),
        ("--seed", "seed", "-3"),
        ("--validation", "validation", "0"),
        ("--hidden", "hidden", "0"),
        ("--patience", "patience", "0"),
    ],
)
def test_options_and_config_json_are_checked_by_the_same_rule(capsys, option, setting, text):
    value = [int(text)] if setting == "hidden" else float(text)  # as config.json may hold it
    with pytest.raises(ValueError, match=f"^{setting} must be ") as refused:
        TrainConfig(**{setting: value})
    rule = str(refused.value).rsplit(", got ", 1)[0]  # e.g. "lr must be a finite number > 0"
    code, _, err = run(capsys, "train", option, text)
    assert code == 2
    assert_one_line_error(err, option, f"{rule}, got {text!r}")


def test_load_gives_file_format_error_naming_the_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**TrainConfig().to_dict(), "l2": -1}))
    with pytest.raises(FileFormatError, match=f"{path}.*l2 must be a finite number >= 0, got -1"):
        TrainConfig.load(path)


# --- the checkpoint's extra data -----------------------------------------------------------


@pytest.mark.parametrize("state", [[1, 2], {}, {"seconds": "1.5"}, {"seconds": [1, None]}])
def test_resume_refuses_a_checkpoint_whose_progress_state_is_damaged(capsys, damaged_run, state):
    path = damaged_run / "checkpoint.npz"
    ckpt = nn_io.load_checkpoint(path)
    callbacks = {**ckpt.callbacks, "Progress": state}
    nn_io.save_checkpoint(
        path, ckpt.model, ckpt.optimizer, ckpt.rng, ckpt.epoch, ckpt.history, callbacks=callbacks
    )
    code, _, err = run(capsys, "train", "--resume", damaged_run, "--epochs", "3")
    assert code == 2
    assert_one_line_error(err, str(path), "Progress")


def test_resume_of_a_checkpoint_of_numpynn_0_1_says_what_to_do(capsys, damaged_run):
    path = damaged_run / "checkpoint.npz"
    ckpt = nn_io.load_checkpoint(path)  # as numpynn 0.1.0 wrote it: no callbacks' states
    nn_io.save_checkpoint(path, ckpt.model, ckpt.optimizer, ckpt.rng, ckpt.epoch, ckpt.history)
    code, _, err = run(capsys, "train", "--resume", damaged_run, "--epochs", "3")
    assert code == 2
    assert_one_line_error(err, str(path), "no state", "numpynn 0.1.0", "train anew")


# --- a model's metadata --------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_model():
    return numpynn.mlp([64, 8, 10], "relu", "softmax", seed=0)


@pytest.mark.parametrize(
    ("command", "metadata", "words"),
    [
        ("evaluate", {"dataset": "digits", "config": [1]}, ["'config'", "JSON object"]),
        ("evaluate", {"dataset": "digits", "config": {"loss": "hinge"}}, ["loss", "'hinge'"]),
        ("evaluate", {"dataset": 7}, ["'dataset'", "dataset name"]),
        ("evaluate", {"dataset": "digits", "class_labels": 10}, ["'class_labels'"]),
        ("predict", {"image_shape": "8x8"}, ["'image_shape'", "[height, width]"]),
        ("predict", {"image_shape": [8, -8]}, ["'image_shape'", "[height, width]"]),
        ("predict", {"class_labels": [0, 1]}, ["'class_labels'", "class names"]),
    ],
)
def test_a_model_with_damaged_metadata_is_one_line(
    capsys, tmp_path, digits_model, command, metadata, words
):
    path = tmp_path / "model.npz"
    numpynn.save(digits_model, path, metadata=metadata)
    inputs = [tmp_path / "digit.png"] if command == "predict" else []
    if inputs:
        from PIL import Image

        Image.fromarray(np.full((16, 16), 255, np.uint8)).save(inputs[0])
    code, _, err = run(capsys, command, path, *inputs)
    assert code == 2
    assert_one_line_error(err, str(path), *words)


# --- class probabilities -------------------------------------------------------------------


def test_class_probabilities_are_predict_proba_for_a_softmax_classifier(digits_model):
    X = np.random.default_rng(0).random((5, 64), dtype=np.float32)
    np.testing.assert_array_equal(
        class_probabilities(digits_model, X), digits_model.predict_proba(X)
    )


def test_one_sigmoid_output_p_gives_the_columns_1_minus_p_and_p():
    model = numpynn.mlp([2, 4, 1], "tanh", "sigmoid", seed=0)
    X = np.random.default_rng(0).random((6, 2), dtype=np.float32)
    P = class_probabilities(model, X)
    p = model.predict_proba(X)[:, 0]
    np.testing.assert_allclose(P, np.column_stack([1 - p, p]))


def test_a_classifier_trained_with_the_quadratic_cost_is_read_by_its_output_layer():
    # Nielsen's network: sigmoid outputs, quadratic cost on one-hot targets.
    model = numpynn.mlp([4, 5, 3], "sigmoid", "sigmoid", seed=0)
    X = np.random.default_rng(1).random((8, 4), dtype=np.float32)
    T = np.eye(3, dtype=np.float32)[np.arange(8) % 3]
    model.fit(X, T, loss="mse", optimizer="sgd", epochs=1, batch_size=4, seed=0)
    P = class_probabilities(model, X)
    np.testing.assert_array_equal(P, model.forward(X))  # the sigmoid outputs as they are
    assert P.shape == (8, 3)


@pytest.mark.parametrize(
    ("cores", "idle", "expected"),
    [(2, 1.8, None), (2, 1.4, 1), (2, 0.6, 1), (2, 0.0, 1), (8, 5.8, 6), (1, 0.0, 1)],
)
def test_auto_threads_uses_the_cores_measured_idle_now(
    monkeypatch: pytest.MonkeyPatch, cores: int, idle: float, expected: int | None
) -> None:
    from numpynn.cli import threads as policy

    monkeypatch.setattr(policy.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(policy, "idle_cores", lambda seconds: idle)
    monkeypatch.setattr(policy.os, "getloadavg", lambda: (9.0, 9.0, 9.0))  # stale: not used
    threads, why = policy.auto_threads()
    assert threads == expected
    assert why == f"{min(idle, cores):.1f} of {cores} cores idle over the last 0.2 s"


def test_auto_threads_falls_back_to_the_load_average_without_proc_stat(monkeypatch):
    from numpynn.cli import threads as policy

    monkeypatch.setattr(policy.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(policy, "idle_cores", lambda seconds: None)
    monkeypatch.setattr(policy.os, "getloadavg", lambda: (1.2, 1.0, 1.0))
    assert policy.auto_threads() == (1, "0.8 of 2 cores idle by the 1-minute load average")


def test_idle_cores_measures_this_machine():
    from numpynn.cli import threads as policy

    idle = policy.idle_cores(0.05)
    assert idle is None or 0 <= idle <= (os.cpu_count() or 1) + 0.5
