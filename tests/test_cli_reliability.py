"""numpynn train survives interruptions: exact resume, Ctrl-C, kill -9 and divergence."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import numpynn
from numpynn import io as nn_io
from numpynn.cli import main

# One BLAS thread: products of long rows can differ in the last bit with another thread count.
DIGITS = ["train", "--dataset", "digits", "--threads", "1", "--no-plots", "--quiet"]


def train(*argv):
    return main([*DIGITS, *map(str, argv)])


def parameters(path):
    return [p.copy() for p in numpynn.load(path).parameters()]


def history(run_dir):
    """The per-epoch history without the wall times."""
    h = json.loads((run_dir / "metrics.json").read_text())["history"]
    h.pop("seconds")
    return h


def assert_same_run(a, b):
    for p, q in zip(parameters(a / "model.npz"), parameters(b / "model.npz"), strict=True):
        assert p.dtype == q.dtype
        assert np.array_equal(p, q)  # bit for bit
    assert history(a) == history(b)


def start(*argv):
    """``python -m numpynn train ...`` (on the planar set, quick to start) as a subprocess with
    its output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "numpynn", "train", "--dataset", "planar", "--no-plots"]
        + ["--threads", "1"]
        + [str(a) for a in argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_epoch(process, timeout=30.0):
    """Read stdout until the first epoch summary line: training is running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("epoch "):
            return line
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"no epoch finished; stderr: {process.stderr.read()}")


# --- exact resume --------------------------------------------------------------------------


def test_a_run_stopped_after_epoch_k_and_resumed_equals_the_uninterrupted_run(tmp_path):
    # Dropout and Adam: resuming needs the weights, both moments, the step count and the
    # generator state that drives shuffling and dropout.
    assert train("--epochs", 6, "--dropout", 0.3, "--out", tmp_path / "straight") == 0
    assert train("--epochs", 2, "--dropout", 0.3, "--out", tmp_path / "pieces") == 0
    assert train("--resume", tmp_path / "pieces", "--epochs", 4) == 0
    assert train("--resume", tmp_path / "pieces", "--epochs", 6) == 0
    assert_same_run(tmp_path / "straight", tmp_path / "pieces")


def test_resume_is_exact_with_sgd_momentum_free_and_a_decaying_rate(tmp_path):
    options = ["--optimizer", "sgd", "--lr", 0.5, "--lr-decay", 0.8, "--hidden", 32, 16]
    assert train(*options, "--epochs", 5, "--out", tmp_path / "a") == 0
    assert train(*options, "--epochs", 3, "--out", tmp_path / "b") == 0
    assert train("--resume", tmp_path / "b", "--epochs", 5) == 0
    assert_same_run(tmp_path / "a", tmp_path / "b")


def test_resume_keeps_the_thread_count_of_the_run(tmp_path):
    assert train("--epochs", 1, "--out", tmp_path) == 0
    assert json.loads((tmp_path / "config.json").read_text())["blas_threads"] == 1
    assert main(["train", "--resume", str(tmp_path), "--epochs", "2", "--quiet"]) == 0
    assert json.loads((tmp_path / "config.json").read_text())["blas_threads"] == 1


def test_the_checkpoint_holds_the_epoch_history_and_optimizer_state(tmp_path):
    assert train("--epochs", 3, "--out", tmp_path) == 0
    checkpoint = nn_io.load_checkpoint(tmp_path / "checkpoint.npz")
    assert checkpoint.epoch == 3
    assert len(checkpoint.history["val_accuracy"]) == 3
    assert checkpoint.optimizer.t == 3 * int(np.ceil(1237 / 32))  # steps: epochs x batches
    for p, q in zip(checkpoint.model.parameters(), parameters(tmp_path / "model.npz"), strict=True):
        assert np.array_equal(p, q)


# --- Ctrl-C --------------------------------------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_exits_130_and_resume_finishes_exactly(tmp_path):
    run_dir = tmp_path / "run"
    process = start("--epochs", 100000, "--out", run_dir)
    wait_for_epoch(process)
    time.sleep(random.uniform(0.0, 0.3))
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    message = err.strip().splitlines()[-1]
    assert "Traceback" not in err
    assert "interrupted" in message
    assert f"numpynn train --resume {run_dir}" in message
    assert (run_dir / "checkpoint.npz").exists()
    assert nn_io.load_checkpoint(run_dir / "interrupted.npz").extra["stopped_at"] in message

    stopped = nn_io.load_checkpoint(run_dir / "checkpoint.npz").epoch
    assert stopped >= 1
    total = stopped + 2
    assert main(["train", "--resume", str(run_dir), "--epochs", str(total)]) == 0
    assert not (run_dir / "interrupted.npz").exists()  # the finished run supersedes it
    straight = ["--dataset", "planar", "--threads", "1", "--epochs", str(total)]
    straight += ["--out", str(tmp_path / "s")]
    assert main(["train", "--no-plots", *straight]) == 0
    assert_same_run(tmp_path / "s", run_dir)


# --- kill -9 -------------------------------------------------------------------------------


@pytest.mark.slow
def test_kill_9_at_random_moments_never_leaves_a_corrupt_checkpoint_and_resumes_exactly(tmp_path):
    run_dir = tmp_path / "run"
    rng = random.Random(0)
    started = time.monotonic()
    kills = mid_write = 0
    settings = ["--hidden", 256, 64, "--patience", 100000]  # (its state is resumed too)
    argv = ["--epochs", 1000000, *settings, "--out", run_dir]
    while kills < 15:
        process = start(*argv)
        argv = ["--resume", run_dir]
        wait_for_epoch(process)
        time.sleep(rng.uniform(0.0, 0.25))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        assert process.returncode == -signal.SIGKILL
        kills += 1
        mid_write += bool(list(run_dir.glob(".*.tmp")))  # killed while writing a file
        checkpoint = nn_io.load_checkpoint(run_dir / "checkpoint.npz")
        assert checkpoint.epoch == len(checkpoint.history["loss"]) >= 1
        numpynn.load(run_dir / "best.npz")
        json.loads((run_dir / "config.json").read_text())
    print(f"{kills} kills in {time.monotonic() - started:.0f} s, {mid_write} during a file write")
    # The last resume picks up where the killed run checkpointed, and the run ends exactly as
    # one that was never killed.
    last = nn_io.load_checkpoint(run_dir / "checkpoint.npz").epoch
    assert main(["train", "--resume", str(run_dir), "--epochs", str(last + 1)]) == 0
    assert nn_io.load_checkpoint(run_dir / "checkpoint.npz").epoch == last + 1
    assert not list(run_dir.glob(".*.tmp"))
    straight = ["--dataset", "planar", "--threads", "1", "--epochs", last + 1, *settings]
    assert main(["train", "--no-plots", *map(str, straight), "--out", str(tmp_path / "s")]) == 0
    assert_same_run(tmp_path / "s", run_dir)
    ours = nn_io.load_checkpoint(run_dir / "checkpoint.npz").callbacks["EarlyStopping"]
    theirs = nn_io.load_checkpoint(tmp_path / "s" / "checkpoint.npz").callbacks["EarlyStopping"]
    assert ours["best_epoch"] == theirs["best_epoch"] and ours["wait"] == theirs["wait"]
    for p, q in zip(ours["best_weights"], theirs["best_weights"], strict=True):
        assert np.array_equal(p, q)


# --- divergence ----------------------------------------------------------------------------


def test_divergence_is_one_line_exit_1_and_keeps_the_last_good_checkpoint(capsys, tmp_path):
    # The rate grows 30-fold each epoch: 0.1, 3, 90; leaky ReLU lets the outputs overflow.
    code = train(
        "--optimizer", "sgd", "--activation", "leaky_relu", "--lr", 0.1, "--lr-decay", 30,
        "--epochs", 5, "--out", tmp_path,
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert "diverged at epoch 3" in lines[0]
    assert "smaller learning rate" in lines[0] and "--lr 0.01" in lines[0]
    checkpoint = nn_io.load_checkpoint(tmp_path / "checkpoint.npz")
    assert checkpoint.epoch == 2
    assert all(np.isfinite(p).all() for p in checkpoint.model.parameters())
    assert not (tmp_path / "model.npz").exists()


def test_divergence_in_the_first_epoch_says_there_is_no_checkpoint(capsys, tmp_path):
    code = train("--optimizer", "sgd", "--activation", "leaky_relu", "--lr", 100, "--out", tmp_path)
    err = capsys.readouterr().err
    assert code == 1
    assert "diverged at epoch 1" in err and "no checkpoint" in err


def test_numpy_overflow_warnings_are_not_shown(capsys, tmp_path, recwarn):
    train("--optimizer", "sgd", "--activation", "leaky_relu", "--lr", 100, "--out", tmp_path)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_python_dash_m_reports_divergence_with_exit_code_1(tmp_path):
    env = {**os.environ, "NUMPYNN_DEBUG": ""}
    result = subprocess.run(
        [sys.executable, "-m", "numpynn", *DIGITS, "--optimizer", "sgd", "--activation",
         "leaky_relu", "--lr", "100", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "diverged" in result.stderr
