"""numpynn train of a language model: runs counted in steps, their directory, resume, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run
from test_text_datasets import SHARED_DATA

import numpynn as nn
from numpynn import io as nn_io
from numpynn.checkpoint import ModelCheckpoint
from numpynn.cli import main
from numpynn.trained import load_language_model


@pytest.fixture(scope="module")
def gpt_run(tmp_path_factory):
    """The gpt preset, 4 steps with an evaluation every 2."""
    run_dir = tmp_path_factory.mktemp("gpt") / "run"
    argv = ["train", "--dataset", "shakespeare", "--data-dir", SHARED_DATA, "--steps", "4"]
    argv += ["--eval-every", "2", "--threads", "1", "--out", run_dir]
    assert main([str(a) for a in argv]) == 0
    return run_dir


def test_the_gpt_preset_is_nanogpts_cpu_model(gpt_run):
    config = json.loads((gpt_run / "config.json").read_text())
    assert config["task"] == "language-model" and config["preset"] == "gpt"
    wanted = {"block": 64, "dim": 128, "layers": 4, "heads": 4, "batch_size": 12}
    wanted |= {"dropout": 0.0, "lr": 1e-3, "min_lr": 1e-4, "beta2": 0.99, "weight_decay": 0.1}
    assert {k: config[k] for k in wanted} == wanted
    assert config["steps"] == 4  # --steps overrides the preset's 2000


def test_the_run_records_the_validation_loss_of_each_evaluation(gpt_run):
    metrics = json.loads((gpt_run / "metrics.json").read_text())
    assert metrics["steps"] == [2, 4]
    assert len(metrics["val_loss"]) == 2
    assert metrics["final_val_loss"] == metrics["val_loss"][-1]
    assert 3.0 < metrics["val_loss"][-1] < np.log(65) + 0.5  # near chance after 4 steps
    csv = (gpt_run / "history.csv").read_text().splitlines()
    assert csv[0].startswith("step,loss") and csv[2].startswith("4,")
    for name in ("report.txt", "curves.png", "sample.txt", "checkpoint.npz", "best.npz"):
        assert (gpt_run / name).exists(), name


def test_the_model_file_holds_its_vocabulary_and_writes(gpt_run):
    writer = load_language_model(gpt_run / "model.npz")
    assert len(writer.vocabulary) == 65 and writer.boundary is None
    assert writer.dataset == "shakespeare"
    text = "".join(writer.write("ROMEO:", 20, seed=0))
    assert len(text) == 20 and text == "".join(writer.write("ROMEO:", 20, seed=0))
    sample = (gpt_run / "sample.txt").read_text()
    assert len(sample) > 400


def test_a_finished_run_says_so_on_resume(capsys, gpt_run):
    code, out, _ = run(capsys, "train", "--resume", gpt_run, "--data-dir", SHARED_DATA)
    assert code == 0 and "has finished its 4 steps" in out


NAMES = ["train", "--dataset", "names", "--data-dir", str(SHARED_DATA), "--threads", "1"]
NAMES += ["--steps", "9", "--eval-every", "3", "--batch-size", "8", "--no-plots", "--quiet"]


def test_a_killed_names_run_resumes_bit_for_bit(tmp_path, monkeypatch):
    assert main([*NAMES, "--out", str(tmp_path / "straight")]) == 0

    save = ModelCheckpoint.on_epoch_end

    def save_then_die_after_step_6(self, epoch, logs):
        save(self, epoch, logs)
        if epoch == 1:
            raise KeyboardInterrupt  # as a kill right after the checkpoint of step 6

    monkeypatch.setattr(ModelCheckpoint, "on_epoch_end", save_then_die_after_step_6)
    assert main([*NAMES, "--out", str(tmp_path / "killed")]) == 130
    assert nn_io.load_checkpoint(tmp_path / "killed" / "checkpoint.npz").epoch == 2
    monkeypatch.undo()
    assert main(["train", "--resume", str(tmp_path / "killed"), "--quiet"]) == 0

    a, b = (nn.load(tmp_path / d / "model.npz") for d in ("straight", "killed"))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p, q)
    val = [
        json.loads((tmp_path / d / "metrics.json").read_text())["val_loss"]
        for d in ("straight", "killed")
    ]
    assert val[0] == val[1] and len(val[0]) == 3


def test_the_names_run_samples_names_and_marks_known_ones(tmp_path):
    assert main([*NAMES, "--out", str(tmp_path)]) == 0
    writer = load_language_model(tmp_path / "model.npz")
    assert writer.boundary == "." and len(writer.vocabulary) == 27
    names = (tmp_path / "sample.txt").read_text().splitlines()
    assert len(names) == 20
    assert all(set(n.removesuffix(" *")) <= set("abcdefghijklmnopqrstuvwxyz") for n in names)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--dataset", "shakespeare", "--hidden", "64"], ["--hidden", "configure a classifier"]),
        (["--dataset", "shakespeare", "--epochs", "3"], ["--epochs", "--steps"]),
        (["--dataset", "digits", "--steps", "10"], ["--steps", "language model", "--epochs"]),
        (["--dataset", "shakespeare", "--preset", "cnn"], ["--preset cnn", "--preset gpt"]),
        (
            ["--dataset", "names", "--preset", "gpt"],
            ["gpt trains on shakespeare", "--preset names"],
        ),
        (["--dataset", "shakespeare", "--steps", "0"], ["--steps", "positive integer", "'0'"]),
        (["--dataset", "shakespeare", "--eval-every", "x"], ["--eval-every", "'x'"]),
    ],
)
def test_bad_language_model_options_are_one_line_errors(capsys, argv, words):
    code, _, err = run(capsys, "train", *argv)
    assert code == 2
    assert_one_line_error(err, *words)


def test_resume_refuses_to_change_a_language_models_settings(capsys, gpt_run):
    code, _, err = run(capsys, "train", "--resume", gpt_run, "--lr", "0.01")
    assert code == 2
    assert_one_line_error(err, "cannot change --lr")
