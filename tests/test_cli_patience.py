"""numpynn train --patience N: early stopping on the validation loss, restoring the weights of
its best epoch, with an exact --resume."""

import contextlib
import io
import json

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run

import numpynn
from numpynn import io as nn_io
from numpynn.cli import main
from numpynn.cli.config import TrainConfig
from numpynn.trained import read_metadata as user_metadata

# Adam at 0.01 on the digits: val_loss bottoms out after about 10 epochs.
DIGITS = ["train", "--dataset", "digits", "--lr", "0.01", "--threads", "1", "--no-plots"]
PATIENCE = 3


def train(*argv):
    return main([*DIGITS, "--quiet", *map(str, argv)])


def parameters(path):
    return numpynn.load(path).parameters()


def metrics(run_dir):
    return json.loads((run_dir / "metrics.json").read_text())


def history(run_dir):
    """The per-epoch history without the wall times."""
    h = metrics(run_dir)["history"]
    h.pop("seconds")
    return h


def assert_same_parameters(a, b):
    for p, q in zip(parameters(a), parameters(b), strict=True):
        assert p.dtype == q.dtype
        assert np.array_equal(p, q)  # bit for bit


@pytest.fixture(scope="module")
def stopped(tmp_path_factory):
    """A run that stops early: (its run directory, its stdout)."""
    run_dir = tmp_path_factory.mktemp("runs") / "stopped"
    argv = [*DIGITS, "--epochs", "40", "--patience", PATIENCE, "--out", run_dir]
    out = io.StringIO()  # (capsys is for one test only)
    with contextlib.redirect_stdout(out):
        assert main([str(a) for a in argv]) == 0
    return run_dir, out.getvalue()


# --- stopping and restoring ----------------------------------------------------------------


def test_stops_patience_epochs_after_the_lowest_val_loss(stopped):
    run_dir, _ = stopped
    val_loss = history(run_dir)["val_loss"]
    best = int(np.argmin(val_loss)) + 1  # epochs count from 1
    assert len(val_loss) == best + PATIENCE < 40
    record = metrics(run_dir)["early_stopping"]
    assert record == {
        "patience": PATIENCE,
        "stopped_early": True,
        "stopped_after_epoch": best + PATIENCE,
        "best_epoch": best,
        "best_val_loss": val_loss[best - 1],
        "restored_best_weights": True,
    }
    assert metrics(run_dir)["epochs"] == best + PATIENCE


def test_prints_one_line_saying_it_stopped_and_restored(stopped):
    run_dir, out = stopped
    record = metrics(run_dir)["early_stopping"]
    lines = [line for line in out.splitlines() if "stopped early" in line]
    assert len(lines) == 1
    assert f"after epoch {record['stopped_after_epoch']} of 40" in lines[0]
    assert f"restored the weights of epoch {record['best_epoch']}" in lines[0]
    assert out.splitlines()[-1].startswith("test accuracy")


def test_report_txt_says_it_stopped_early(stopped):
    run_dir, _ = stopped
    record = metrics(run_dir)["early_stopping"]
    text = (run_dir / "report.txt").read_text()
    assert f"stopped early after epoch {record['stopped_after_epoch']} of 40" in text
    assert f"at epoch {record['best_epoch']}: model.npz holds its weights" in text


def test_model_npz_holds_the_best_epochs_weights_and_its_test_accuracy(stopped, tmp_path):
    run_dir, _ = stopped
    best = metrics(run_dir)["early_stopping"]["best_epoch"]
    # The same run without early stopping, ended at the best epoch: the same weights.
    assert train("--epochs", best, "--out", tmp_path) == 0
    assert_same_parameters(run_dir / "model.npz", tmp_path / "model.npz")
    assert_same_parameters(run_dir / "best_val_loss.npz", tmp_path / "model.npz")
    assert metrics(run_dir)["test"] == metrics(tmp_path)["test"]
    assert user_metadata(run_dir / "model.npz")["epoch"] == best
    # ... and not the last epoch's, which the checkpoint holds.
    last = nn_io.load_checkpoint(run_dir / "checkpoint.npz").model.parameters()
    assert not np.array_equal(last[0], parameters(run_dir / "model.npz")[0])


def test_without_patience_the_run_trains_every_epoch_and_records_none(tmp_path):
    assert train("--epochs", 3, "--out", tmp_path) == 0
    assert metrics(tmp_path)["early_stopping"] is None
    assert len(history(tmp_path)["val_loss"]) == 3
    assert "early stopping" not in (tmp_path / "report.txt").read_text()
    assert not (tmp_path / "best_val_loss.npz").exists()


def test_a_run_that_does_not_stop_keeps_the_lowest_val_loss_weights(stopped, tmp_path):
    run_dir, _ = stopped
    best = metrics(run_dir)["early_stopping"]["best_epoch"]
    assert train("--epochs", best + 1, "--patience", PATIENCE, "--out", tmp_path) == 0
    record = metrics(tmp_path)["early_stopping"]
    assert record["stopped_early"] is False and record["stopped_after_epoch"] is None
    assert record["best_epoch"] == best
    assert_same_parameters(run_dir / "model.npz", tmp_path / "model.npz")
    assert "did not stop early" in (tmp_path / "report.txt").read_text()


# --- exact resume --------------------------------------------------------------------------


def test_a_resumed_run_with_patience_equals_the_uninterrupted_one(stopped, tmp_path):
    run_dir, _ = stopped
    best = metrics(run_dir)["early_stopping"]["best_epoch"]
    pieces = tmp_path / "pieces"
    # Stopped at the best epoch (its weights are in the checkpoint), then one later (they are
    # in best_val_loss.npz only), then to the end.
    assert train("--epochs", best, "--patience", PATIENCE, "--out", pieces) == 0
    assert train("--resume", pieces, "--epochs", best + 1) == 0
    assert user_metadata(pieces / "best_val_loss.npz")["epoch"] == best
    assert train("--resume", pieces, "--epochs", 40) == 0
    assert_same_parameters(run_dir / "model.npz", pieces / "model.npz")
    assert history(run_dir) == history(pieces)
    assert metrics(run_dir)["early_stopping"] == metrics(pieces)["early_stopping"]


def test_resume_needs_only_the_checkpoint_which_holds_the_best_weights(stopped, tmp_path):
    run_dir, _ = stopped
    best = metrics(run_dir)["early_stopping"]["best_epoch"]
    assert train("--epochs", best + 1, "--patience", PATIENCE, "--out", tmp_path) == 0
    (tmp_path / "best_val_loss.npz").unlink()
    assert train("--resume", tmp_path, "--epochs", 40) == 0
    assert_same_parameters(run_dir / "model.npz", tmp_path / "model.npz")
    assert history(run_dir) == history(tmp_path)


def test_checkpoint_holds_the_early_stopping_state(stopped):
    run_dir, _ = stopped
    record = metrics(run_dir)["early_stopping"]
    state = nn_io.load_checkpoint(run_dir / "checkpoint.npz").callbacks["EarlyStopping"]
    assert state["best"] == record["best_val_loss"]
    assert state["best_epoch"] == record["best_epoch"] - 1  # callbacks count epochs from 0
    assert state["wait"] == PATIENCE
    assert state["stopped_epoch"] == record["stopped_after_epoch"] - 1
    for saved, p in zip(state["best_weights"], parameters(run_dir / "model.npz"), strict=True):
        assert np.array_equal(saved, p)


def test_resume_of_a_run_that_stopped_early_says_so(capsys, stopped):
    run_dir, _ = stopped
    before = (run_dir / "metrics.json").read_bytes()
    code, out, _ = run(capsys, "train", "--resume", run_dir, "--epochs", "50")
    assert code == 0
    assert "stopped early after epoch" in out and "nothing to resume" in out
    assert (run_dir / "metrics.json").read_bytes() == before


def test_resume_cannot_change_the_patience(capsys, stopped):
    run_dir, _ = stopped
    code, _, err = run(capsys, "train", "--resume", run_dir, "--patience", "5")
    assert code == 2
    assert_one_line_error(err, "--patience", "config.json")


def test_a_config_json_without_patience_resumes_with_it_off(tmp_path):
    assert train("--epochs", 2, "--out", tmp_path) == 0
    path = tmp_path / "config.json"
    config = json.loads(path.read_text())
    del config["patience"]  # a run directory of an earlier numpynn
    path.write_text(json.dumps(config))
    assert TrainConfig.load(path).patience is None
    assert train("--resume", tmp_path, "--epochs", 3) == 0
    assert metrics(tmp_path)["early_stopping"] is None
    assert json.loads(path.read_text())["patience"] is None


# --- bad values and damaged files ----------------------------------------------------------


@pytest.mark.parametrize("text", ["0", "-1", "x", "2.5"])
def test_a_bad_patience_is_a_one_line_usage_error(capsys, text):
    code, _, err = run(capsys, "train", "--patience", text)
    assert code == 2
    assert_one_line_error(err, "--patience", "positive integer", repr(text))


@pytest.mark.parametrize(
    "damage",
    [
        lambda state: None,
        lambda state: {**state, "best_epoch": 99},
        lambda state: {**state, "best": "low"},
        lambda state: {**state, "wait": -1},
        lambda state: {k: v for k, v in state.items() if k != "wait"},
        lambda state: {**state, "best_weights": state["best_weights"][:1]},
        lambda state: {**state, "best_weights": [w.T.copy() for w in state["best_weights"]]},
    ],
)
def test_resume_refuses_a_damaged_early_stopping_state(capsys, tmp_path, damage):
    assert train("--epochs", 2, "--patience", 5, "--out", tmp_path) == 0
    path = tmp_path / "checkpoint.npz"
    ckpt = nn_io.load_checkpoint(path)
    callbacks = {**ckpt.callbacks, "EarlyStopping": damage(ckpt.callbacks["EarlyStopping"])}
    nn_io.save_checkpoint(
        path, ckpt.model, ckpt.optimizer, ckpt.rng, ckpt.epoch, ckpt.history, callbacks=callbacks
    )
    code, _, err = run(capsys, "train", "--resume", tmp_path, "--epochs", "3")
    assert code == 2
    assert_one_line_error(err, str(path), "EarlyStopping")
