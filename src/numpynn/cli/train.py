"""``numpynn train``: train a classifier, checkpointing every epoch, and write the run directory.

Reliability: after each epoch ``checkpoint.npz`` holds the model, the optimiser state, the
random generator and the history (written atomically, so a kill at any moment leaves the
previous one intact); ``best.npz`` holds the model of the best validation accuracy. Ctrl-C
finishes the current batch, saves ``interrupted.npz`` and exits with 130. ``--resume`` restarts
from ``checkpoint.npz`` (the last complete epoch) and continues exactly as an uninterrupted run.
"""

from __future__ import annotations

import math
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

from .. import io as nn_io
from .._typing import Array
from ..callbacks import Callback
from ..errors import DivergenceError, FileFormatError
from ..model import Sequential, mlp
from ..optimizers import OPTIMIZERS, Optimizer
from . import data, report
from .config import TrainConfig
from .errors import CLIError
from .models import class_probabilities, training_targets
from .progress import Progress


@dataclass
class State:
    """Where training stands: restored from a checkpoint or freshly initialised."""

    model: Sequential
    optimizer: Optimizer
    rng: np.random.Generator
    epoch: int  # number of complete epochs
    history: dict[str, list[float]]
    seconds: list[float]  # wall seconds of each epoch


def fresh_state(cfg: TrainConfig, n_features: int, n_classes: int) -> State:
    """A new network and optimiser; ``cfg.seed`` fixes the initial weights and the training
    generator (shuffling and dropout) through two independent streams."""
    init_seed, train_seed = np.random.SeedSequence(cfg.seed).spawn(2)
    n_outputs = 1 if (n_classes == 2 and cfg.output == "sigmoid") else n_classes
    model = mlp(
        [n_features, *cfg.hidden, n_outputs],
        cfg.activation,
        cfg.output,
        dropout=cfg.dropout,
        seed=np.random.default_rng(init_seed),
    )
    optimizer = OPTIMIZERS[cfg.optimizer](lr=cfg.lr, weight_decay=cfg.l2)
    return State(model, optimizer, np.random.default_rng(train_seed), 0, {}, [])


def restore_state(path: Path) -> State:
    ckpt = nn_io.load_checkpoint(path)
    extra = {} if ckpt.extra is None else ckpt.extra
    seconds = extra.get("seconds", []) if isinstance(extra, dict) else None
    if not isinstance(seconds, list) or not all(
        isinstance(s, int | float) and not isinstance(s, bool) for s in seconds
    ):
        raise FileFormatError(
            f"{path} is not a checkpoint of numpynn train: its extra data must be a JSON object "
            'whose "seconds" is a list of numbers'
        )
    seconds = [float(s) for s in seconds]
    history = {k: [float(v) for v in values] for k, values in ckpt.history.items()}
    return State(ckpt.model, ckpt.optimizer, ckpt.rng, int(ckpt.epoch), history, seconds)


# --- callbacks -----------------------------------------------------------------------------


class LearningRateSchedule(Callback):
    """lr of epoch e (counted from the start of the run) = lr * decay**e."""

    def __init__(self, optimizer: Optimizer, lr: float, decay: float, first: int) -> None:
        self.optimizer, self.lr, self.decay, self.first = optimizer, lr, decay, first

    def on_epoch_begin(self, epoch: int) -> None:
        self.optimizer.lr = self.lr * self.decay ** (self.first + epoch)


class ClassAccuracy(Callback):
    """Adds "accuracy" and "val_accuracy" (the most probable class) to the epoch's logs when
    the loss does not report them, e.g. the quadratic cost of Nielsen's network."""

    def __init__(self, X: Array, y: Array, X_val: Array, y_val: Array) -> None:
        self.sets = {"accuracy": (X, y), "val_accuracy": (X_val, y_val)}

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        for key, (X, y) in self.sets.items():
            if key not in logs:
                logs[key] = float(np.mean(class_probabilities(self.model, X).argmax(axis=1) == y))


class Checkpointer(Callback):
    """After each epoch: append to the history, save ``best.npz`` when the validation accuracy
    is the best so far, then save ``checkpoint.npz`` (both atomic)."""

    def __init__(
        self, run_dir: Path, state: State, extra: dict[str, Any], metadata: dict[str, Any]
    ) -> None:
        self.run_dir, self.state, self.extra, self.metadata = run_dir, state, extra, metadata
        val = state.history.get("val_accuracy", [])
        self.best = max(val) if val else -math.inf

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        import numpynn

        state = self.state
        for key in report.HISTORY_KEYS:
            if key in logs:
                state.history.setdefault(key, []).append(float(logs[key]))
        state.seconds.append(float(logs["seconds"]))
        state.epoch += 1
        if logs.get("val_accuracy", -math.inf) > self.best:
            self.best = logs["val_accuracy"]
            best = {**self.metadata, "epoch": state.epoch, "val_accuracy": self.best}
            numpynn.save(self.model, self.run_dir / "best.npz", metadata=best)
        nn_io.save_checkpoint(
            self.run_dir / "checkpoint.npz",
            self.model,
            state.optimizer,
            state.rng,
            state.epoch,
            state.history,
            extra={**self.extra, "seconds": state.seconds},
        )


class TrainingInterruptedError(Exception):
    """Raised between batches after a Ctrl-C, to leave ``fit``."""


class InterruptGuard(Callback):
    """Turns the first Ctrl-C (SIGINT) into a stop after the current batch (a second one
    aborts at once), and remembers where training is, for the messages."""

    def __init__(self) -> None:
        self.requested = False
        self.epoch = 0  # epoch of this fit call, from 0
        self.batch = -1  # last finished batch of that epoch
        self.epoch_done = False  # stopped after the epoch's checkpoint

    def __enter__(self) -> InterruptGuard:
        self.previous = signal.signal(signal.SIGINT, self.handle)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self.previous)

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print(
            "\nnumpynn: interrupted: stopping after the current batch (Ctrl-C again to abort)",
            file=sys.stderr,
            flush=True,
        )

    def on_epoch_begin(self, epoch: int) -> None:
        self.epoch, self.batch = epoch, -1

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        self.batch = batch
        if self.requested:
            raise TrainingInterruptedError

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.requested:
            self.epoch_done = True
            raise TrainingInterruptedError


# --- the command ---------------------------------------------------------------------------


def run(
    cfg: TrainConfig,
    run_dir: Path,
    *,
    resume: bool,
    data_dir: str | None,
    quiet: bool,
    plots: bool,
    threads: int | None,
) -> int:
    """Train (or continue training) the run in ``run_dir``; return the exit code."""
    started = time.perf_counter()
    splits = data.load(cfg.dataset, cfg.validation, cfg.seed, data_dir)
    data_seconds = time.perf_counter() - started
    n_classes = len(splits.labels)
    checkpoint = run_dir / "checkpoint.npz"
    resumed_from = None
    if resume and checkpoint.exists():
        state = restore_state(checkpoint)
        resumed_from = state.epoch
        if state.epoch > cfg.epochs:
            raise CLIError(
                f"{run_dir} has trained {state.epoch} epochs already: --epochs must be at least "
                f"{state.epoch}, got {cfg.epochs}"
            )
        if state.epoch == cfg.epochs and (run_dir / "metrics.json").exists():
            print(
                f"{run_dir} has finished its {cfg.epochs} epochs; train longer with "
                f"numpynn train --resume {run_dir} --epochs N"
            )
            return 0
        if not quiet:
            print(f"resuming {run_dir} after epoch {state.epoch} of {cfg.epochs}")
    else:
        state = fresh_state(cfg, splits.X_train.shape[1], n_classes)
        if not quiet:
            print(f"training in {run_dir}")
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg.save(run_dir / "config.json")  # what --resume reads back
    metadata = model_metadata(cfg, splits)

    first = state.epoch
    if first < cfg.epochs:
        train_epochs(cfg, run_dir, state, splits, metadata, quiet, threads)
    test = report.evaluate(state.model, splits.X_test, splits.y_test, n_classes, cfg.loss)
    import numpynn

    numpynn.save(
        state.model,
        run_dir / "model.npz",
        metadata={**metadata, "epoch": state.epoch, "test_accuracy": test["accuracy"]},
    )
    info = {
        "wall_seconds": time.perf_counter() - started,
        "data_seconds": data_seconds,
        "resumed_from_epoch": resumed_from,
        "threads": threads,
    }
    report.write_run(run_dir, cfg, splits, state.model, state.history, state.seconds, test, info)
    if plots:
        report.write_plots(run_dir, splits, state.model, state.history, test)
    print(
        f"test accuracy {test['accuracy']:.2%} (loss {test['loss']:.4f}) on "
        f"{len(splits.y_test)} {cfg.dataset} test samples; "
        f"{info['wall_seconds']:.1f} s; run directory {run_dir}"
    )
    return 0


def train_epochs(
    cfg: TrainConfig,
    run_dir: Path,
    state: State,
    splits: data.Splits,
    metadata: dict[str, Any],
    quiet: bool,
    threads: int | None,
) -> None:
    """Fit from epoch ``state.epoch`` to ``cfg.epochs`` with ``threads`` BLAS threads (None:
    the BLAS default), checkpointing after each epoch."""
    first = state.epoch
    n_classes = len(splits.labels)
    targets = training_targets(cfg.loss, state.model, n_classes)
    n_batches = -(-len(splits.X_train) // cfg.batch_size)
    guard = InterruptGuard()
    progress = Progress(cfg.epochs, n_batches, first, quiet)
    callbacks = [  # in this order: each sees the logs the ones before it completed
        LearningRateSchedule(state.optimizer, cfg.lr, cfg.lr_decay, first),
        ClassAccuracy(splits.X_train, splits.y_train, splits.X_val, splits.y_val),
        progress,
        Checkpointer(run_dir, state, {"config": cfg.to_dict()}, metadata),
        guard,
    ]
    try:
        with guard, np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            state.model.fit(
                splits.X_train,
                targets(splits.y_train),
                loss=cfg.loss,
                optimizer=state.optimizer,
                epochs=cfg.epochs - first,
                batch_size=cfg.batch_size,
                validation_data=(splits.X_val, targets(splits.y_val)),
                seed=state.rng,
                callbacks=callbacks,
                threads=threads,
            )
    except TrainingInterruptedError:
        progress.close()
        if guard.epoch_done:
            raise CLIError(
                f"interrupted after epoch {state.epoch} (saved in {run_dir / 'checkpoint.npz'}); "
                f"resume with: numpynn train --resume {run_dir}",
                130,
            ) from None
        where = f"epoch {first + guard.epoch + 1}, batch {guard.batch + 1}"
        nn_io.save_checkpoint(
            run_dir / "interrupted.npz",
            state.model,
            state.optimizer,
            state.rng,
            state.epoch,
            state.history,
            extra={"config": cfg.to_dict(), "seconds": state.seconds, "stopped_at": where},
        )
        last = f"after epoch {state.epoch}" if state.epoch else "from the start (no epoch finished)"
        raise CLIError(
            f"interrupted at {where}; saved {run_dir / 'interrupted.npz'}; "
            f"resume {last} with: numpynn train --resume {run_dir}",
            130,
        ) from None
    except DivergenceError:
        progress.close()
        where = f"epoch {first + guard.epoch + 1}, batch {guard.batch + 2}"
        lr = state.optimizer.lr
        kept = (
            f"the last good checkpoint, {run_dir / 'checkpoint.npz'} (epoch {state.epoch}), "
            "is intact"
            if state.epoch
            else "no epoch finished, so there is no checkpoint"
        )
        now = f", {lr:g} in this epoch" if lr != cfg.lr else ""
        raise CLIError(
            f"training diverged at {where} (the loss became NaN or infinite); try a smaller "
            f"learning rate, e.g. --lr {cfg.lr / 10:g} (it was {cfg.lr:g}{now}); {kept}",
            1,
        ) from None


def model_metadata(cfg: TrainConfig, splits: data.Splits) -> dict[str, Any]:
    """What the model files record about their training, for evaluate and predict."""
    return {
        "dataset": cfg.dataset,
        "class_labels": splits.labels,
        "image_shape": list(splits.image_shape) if splits.image_shape else None,
        "config": cfg.to_dict(),
    }
