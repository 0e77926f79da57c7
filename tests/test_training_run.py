"""One training run, in the library: ``fit`` with a schedule, early stopping and checkpoints
continues after a crash, a kill -9 or Ctrl-C (``resume=True``) and ends bit-identical to a run
that was never interrupted: weights, history and every callback's state."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import numpynn as nn
from numpynn.io import load_checkpoint

rng_data = np.random.default_rng(0)


def noisy_labels(X: np.ndarray) -> np.ndarray:
    """A rule with 30% of the labels random: the network fits it, then overfits the noise."""
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)
    noise = rng_data.random(len(X)) < 0.3
    y[noise] = rng_data.integers(0, 3, noise.sum())
    return y


X = rng_data.standard_normal((160, 6)).astype(np.float32)
Y = noisy_labels(X)
X_VAL = rng_data.standard_normal((50, 6)).astype(np.float32)
Y_VAL = noisy_labels(X_VAL)


class Crash(nn.Callback):
    """Raises in the middle of epoch ``epoch``, as a crash would."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        if self.run.epoch == self.epoch and batch == 3:
            raise RuntimeError("crash")


def callbacks(run_dir: Path, *extra: nn.Callback) -> list[nn.Callback]:
    return [
        nn.LearningRateScheduler(nn.schedules.StepDecay(step_size=3, gamma=0.5)),
        nn.EarlyStopping(patience=4),
        nn.ModelCheckpoint(run_dir),
        *extra,
    ]


def fit(run_dir: Path, *extra: nn.Callback, resume: bool = False, epochs: int = 30):
    model = nn.mlp([6, 24, 3], dropout=0.2, seed=1)
    history = model.fit(
        X,
        Y,
        validation_data=(X_VAL, Y_VAL),
        optimizer=nn.Adam(lr=0.01),
        epochs=epochs,
        batch_size=16,
        seed=5,
        callbacks=callbacks(run_dir, *extra),
        resume=resume,
    )
    return model, history


def assert_same_states(a: dict, b: dict) -> None:
    """Two callbacks' states (JSON data and arrays) are equal, arrays bit for bit."""
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], dict):
            assert_same_states(a[key], b[key])
        elif isinstance(a[key], list) and a[key] and isinstance(a[key][0], np.ndarray):
            assert all(np.array_equal(p, q) for p, q in zip(a[key], b[key], strict=True))
        else:
            assert a[key] == b[key], key


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The uninterrupted run: (model, history, run directory)."""
    run_dir = tmp_path_factory.mktemp("straight")
    model, history = fit(run_dir)
    return model, history, run_dir


def test_the_reference_run_decays_its_rate_and_stops_early(straight):
    _, history, run_dir = straight
    assert 8 < len(history["loss"]) < 30  # a few decays, then early stopping
    state = load_checkpoint(run_dir / "checkpoint.npz").callbacks
    assert state["LearningRateScheduler"] == {
        "base_lr": 0.01,  # the base rate, never only the decayed one
        "schedule": {"type": "StepDecay", "step_size": 3, "gamma": 0.5},
        "per_step": False,
    }
    assert state["EarlyStopping"]["stopped_epoch"] == len(history["loss"]) - 1


@pytest.mark.parametrize("crash_epoch", [0, 2, 6])
def test_resume_after_a_crash_is_bit_identical(straight, tmp_path, crash_epoch):
    model, history, run_dir = straight
    with pytest.raises(RuntimeError, match="crash"):
        fit(tmp_path, Crash(crash_epoch))
    saved = load_checkpoint(tmp_path / "checkpoint.npz") if crash_epoch else None
    assert saved is None or saved.epoch == crash_epoch  # the last complete epoch
    resumed, resumed_history = fit(tmp_path, resume=True)
    assert resumed_history == history
    for p, q in zip(resumed.parameters(), model.parameters(), strict=True):
        assert np.array_equal(p, q)
    ours = load_checkpoint(tmp_path / "checkpoint.npz")
    theirs = load_checkpoint(run_dir / "checkpoint.npz")
    assert_same_states(ours.callbacks, theirs.callbacks)
    assert ours.rng.bit_generator.state == theirs.rng.bit_generator.state


def test_resume_of_a_finished_run_trains_nothing_and_ends_the_same(straight):
    model, history, run_dir = straight
    again, again_history = fit(run_dir, resume=True)
    assert again_history == history
    for p, q in zip(again.parameters(), model.parameters(), strict=True):
        assert np.array_equal(p, q)  # early stopping restored the same best weights


def test_resume_without_a_checkpoint_starts_the_run(straight, tmp_path):
    _, history, _ = straight
    _, fresh_history = fit(tmp_path, resume=True)
    assert fresh_history == history


def test_resume_needs_a_model_checkpoint():
    with pytest.raises(ValueError, match="ModelCheckpoint"):
        nn.mlp([6, 3]).fit(X, Y, epochs=2, resume=True)


def test_resume_refuses_another_network_optimiser_or_callbacks(straight):
    _, _, run_dir = straight

    def resume(model, optimizer, extra=()):
        cbs = [*callbacks(run_dir), *extra]
        model.fit(X, Y, validation_data=(X_VAL, Y_VAL), optimizer=optimizer, epochs=30,
                  callbacks=cbs, resume=True)  # fmt: skip

    with pytest.raises(ValueError, match="another network"):
        resume(nn.mlp([6, 25, 3], dropout=0.2), nn.Adam(lr=0.02))
    with pytest.raises(ValueError, match="optimiser settings"):
        resume(nn.mlp([6, 24, 3], dropout=0.2), nn.SGD(lr=0.02))
    with pytest.raises(ValueError, match="callbacks"):
        resume(nn.mlp([6, 24, 3], dropout=0.2), nn.Adam(lr=0.02), [nn.EarlyStopping()])


def test_resume_refuses_another_named_schedule(straight):
    _, _, run_dir = straight
    other = nn.LearningRateScheduler(nn.schedules.ExponentialDecay(0.9))
    with pytest.raises(ValueError, match="StepDecay"):
        nn.mlp([6, 24, 3], dropout=0.2).fit(
            X,
            Y,
            validation_data=(X_VAL, Y_VAL),
            optimizer=nn.Adam(lr=0.02),
            epochs=30,
            callbacks=[other, nn.EarlyStopping(patience=4), nn.ModelCheckpoint(run_dir)],
            resume=True,
        )


def test_model_checkpoint_keeps_the_best_model_by_its_monitor(straight):
    _, history, run_dir = straight
    best = int(np.argmin(history["val_loss"]))
    metadata = nn.load_metadata(run_dir / "best.npz")["metadata"]
    assert metadata == {"epoch": best + 1, "val_loss": history["val_loss"][best]}


def test_model_checkpoint_runs_after_the_callbacks_whose_state_it_saves(tmp_path):
    # Listed first, it still saves the early-stopping state of the epoch just ended.
    model = nn.mlp([6, 24, 3], seed=1)
    stopper = nn.EarlyStopping(patience=50)
    model.fit(X, Y, validation_data=(X_VAL, Y_VAL), epochs=3, seed=0,
              callbacks=[nn.ModelCheckpoint(tmp_path), stopper])  # fmt: skip
    saved = load_checkpoint(tmp_path / "checkpoint.npz").callbacks["EarlyStopping"]
    assert saved["best_epoch"] == stopper.best_epoch and saved["wait"] == stopper.wait


def test_model_checkpoint_names_a_monitor_fit_does_not_report(tmp_path):
    with pytest.raises(ValueError, match=r"monitors 'val_loss'.*monitor=None"):
        nn.mlp([6, 3]).fit(X, Y, epochs=1, callbacks=[nn.ModelCheckpoint(tmp_path)])
    nn.mlp([6, 3]).fit(X, Y, epochs=1, callbacks=[nn.ModelCheckpoint(tmp_path, monitor=None)])
    assert (tmp_path / "checkpoint.npz").exists() and not (tmp_path / "best.npz").exists()


def test_both_monitors_count_the_best_epoch_from_0_and_the_files_from_1(tmp_path):
    model = nn.mlp([6, 24, 3], seed=1)
    stopper, checkpoint = nn.EarlyStopping(patience=50), nn.ModelCheckpoint(tmp_path)
    history = model.fit(X, Y, validation_data=(X_VAL, Y_VAL), epochs=8, seed=0,
                        callbacks=[stopper, checkpoint])  # fmt: skip
    best = int(np.argmin(history["val_loss"]))
    assert stopper.best_epoch == checkpoint.best_epoch == best
    assert stopper.best == checkpoint.best == history["val_loss"][best]
    saved = load_checkpoint(tmp_path / "checkpoint.npz").callbacks
    assert saved["EarlyStopping"]["best_epoch"] == best
    assert saved["ModelCheckpoint"]["best_epoch"] == best + 1  # as checkpoints always held it
    assert nn.load_metadata(tmp_path / "best.npz")["metadata"]["epoch"] == best + 1


def test_divergence_in_the_first_epoch_says_epoch_1():
    model = nn.mlp([6, 3], dtype=np.float64, seed=0)
    X_bad = X.astype(np.float64)
    # Row 40, in the third batch of 16 rows, drives logit 0 to +inf: the loss becomes nan.
    X_bad[40] = 1e308 * np.sign(model.parameters()[0][:, 0])
    with pytest.raises(nn.DivergenceError) as diverged, np.errstate(all="ignore"):
        model.fit(X_bad, Y, optimizer=nn.SGD(0.1), batch_size=16, shuffle=False)
    assert str(diverged.value).startswith("training diverged at epoch 1, batch 3: the loss ")
    assert (diverged.value.epoch, diverged.value.batch) == (0, 2)  # indices, from 0
    assert diverged.value.run.epoch == 0  # no epoch finished


# --- initial_epoch and the schedules -------------------------------------------------------


class RecordRates(nn.Callback):
    def __init__(self) -> None:
        self.rates: dict[int, float] = {}

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.rates[epoch] = self.run.optimizer.lr


def test_initial_epoch_continues_the_epoch_count_and_the_schedule():
    recorder = RecordRates()
    scheduler = nn.LearningRateScheduler(lambda epoch, lr0: lr0 * 0.5**epoch)
    model, adam = nn.mlp([6, 3], seed=0), nn.Adam(lr=0.4)
    history = model.fit(X, Y, optimizer=adam, epochs=5, initial_epoch=3,
                        callbacks=[scheduler, recorder])  # fmt: skip
    assert recorder.rates == {3: 0.05, 4: 0.025}
    assert len(history["loss"]) == 2


@pytest.mark.parametrize(
    ("schedule", "rates"),
    [
        (nn.schedules.ExponentialDecay(0.5), [1.0, 0.5, 0.25, 0.125]),
        (nn.schedules.StepDecay(2, gamma=0.1), [1.0, 1.0, 0.1, 0.1]),
        (nn.schedules.CosineDecay(4, min_lr=0.2), [1.0, 0.2 + 0.8 * (1 + 2**-0.5) / 2, 0.6,
                                                   0.2 + 0.8 * (1 - 2**-0.5) / 2]),
        (nn.schedules.WarmUp(2, then=nn.schedules.ExponentialDecay(0.5)), [0.5, 1.0, 1.0, 0.5]),
    ],
)  # fmt: skip
def test_named_schedules_give_the_textbook_rates(schedule, rates):
    assert [schedule(epoch, 1.0) for epoch in range(4)] == pytest.approx(rates)


def test_a_schedule_that_gives_a_bad_rate_is_named():
    scheduler = nn.LearningRateScheduler(lambda epoch, lr0: float("nan"))
    with pytest.raises(ValueError, match=r"learning rate nan for epoch 1 \(schedule\(0, 0.001\)\)"):
        nn.mlp([6, 3]).fit(X, Y, epochs=1, callbacks=[scheduler])


@pytest.mark.parametrize(
    "bad", [{"initial_epoch": 5}, {"initial_epoch": -1}, {"initial_epoch": 1.5}]
)
def test_initial_epoch_must_lie_before_epochs(bad):
    with pytest.raises((TypeError, ValueError), match="initial_epoch"):
        nn.mlp([6, 3]).fit(X, Y, epochs=5, **bad)


def test_only_callbacks_that_watch_batches_are_called_per_batch():
    class Counter(nn.Callback):
        calls = 0

        def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
            Counter.calls += 1

    nn.mlp([6, 3]).fit(X, Y, epochs=2, batch_size=16, callbacks=[Counter(), nn.PrintProgress(5)])
    assert Counter.calls == 2 * 10


# --- kill -9 and Ctrl-C, through the library API ---------------------------------------------

TRAINER = """
import signal
import sys
import numpy as np
import numpynn as nn

signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored

run_dir, resume = sys.argv[1], sys.argv[2] == "resume"
data = np.random.default_rng(0)
X = data.standard_normal((3000, 20)).astype(np.float32)
y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 0.5)
model = nn.mlp([20, 128, 3], dropout=0.2, seed=0)


class Announce(nn.Callback):  # tells the test how far the run is
    def on_epoch_end(self, epoch, logs):
        print("epoch", epoch, flush=True)


history = model.fit(
    X, y, validation_data=(X[:500] + 0.1, y[:500]), optimizer=nn.Adam(lr=0.01), epochs=40,
    batch_size=32, seed=1, resume=resume,
    callbacks=[nn.LearningRateScheduler(nn.schedules.CosineDecay(40)),
               nn.EarlyStopping(patience=50), nn.ModelCheckpoint(run_dir), Announce()],
)
nn.save(model, run_dir + "/final.npz", metadata={"history": history})
"""


def trainer(run_dir: Path, resume: bool) -> subprocess.Popen:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", TRAINER, str(run_dir), "resume" if resume else "start"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def assert_same_run(a: Path, b: Path) -> None:
    ma, mb = nn.load(a / "final.npz"), nn.load(b / "final.npz")
    assert (
        nn.load_metadata(a / "final.npz")["metadata"]
        == nn.load_metadata(b / "final.npz")["metadata"]
    )  # the history
    for p, q in zip(ma.parameters(), mb.parameters(), strict=True):
        assert np.array_equal(p, q)
    ca, cb = load_checkpoint(a / "checkpoint.npz"), load_checkpoint(b / "checkpoint.npz")
    assert_same_states(ca.callbacks, cb.callbacks)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_a_run_killed_at_random_moments_resumes_bit_identical(tmp_path, sig):
    reference = tmp_path / "reference"
    child = trainer(reference, resume=False)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err.decode()

    pieces = tmp_path / "pieces"
    rnd = random.Random(7)
    kills = 0
    while kills < 5:  # interrupted five times, each a random moment of a random epoch
        child = trainer(pieces, resume=kills > 0)
        assert child.stdout is not None
        for _ in range(rnd.randint(1, 3)):  # wait for 1-3 epochs to end (on any machine)
            assert child.stdout.readline().startswith(b"epoch"), child.communicate()[1]
        time.sleep(rnd.uniform(0.0, 0.03))  # then into the next epoch, or its checkpoint
        child.send_signal(sig)
        _, err = child.communicate(timeout=120)
        assert child.returncode != 0, "the run finished before it was interrupted"
        if sig == signal.SIGINT:  # Ctrl-C stops fit at the end of a batch
            assert b"TrainingInterrupted" in err, err.decode()
        kills += 1
    child = trainer(pieces, resume=True)  # then it runs to the end
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err.decode()
    assert_same_run(reference, pieces)


class CtrlC(nn.Callback):
    """Presses Ctrl-C (sends SIGINT to this process) ``times`` times after batch 3 of epoch 1."""

    def __init__(self, times: int) -> None:
        self.times = times

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        if self.run.epoch == 1 and batch == 3:
            for _ in range(self.times):
                os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_stops_fit_at_the_end_of_the_batch():
    model, adam = nn.mlp([6, 3], seed=0), nn.Adam()
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(nn.TrainingInterrupted) as stopped:
        model.fit(X, Y, optimizer=adam, epochs=5, batch_size=16, callbacks=[CtrlC(1)])
    assert (stopped.value.epoch, stopped.value.batch) == (1, 3)
    assert str(stopped.value) == "training interrupted at epoch 2, batch 4"  # read from 1
    assert adam.t == 10 + 4  # epoch 0's ten batches and batches 0-3: no update half-done
    assert stopped.value.run.epoch == 1
    assert signal.getsignal(signal.SIGINT) is before  # fit put its handler back


def test_a_second_ctrl_c_interrupts_at_once():
    with pytest.raises(KeyboardInterrupt) as stopped:
        nn.mlp([6, 3]).fit(X, Y, epochs=5, batch_size=16, callbacks=[CtrlC(2)])
    assert not isinstance(stopped.value, nn.TrainingInterrupted)
