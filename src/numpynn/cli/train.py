"""``numpynn train``: train a classifier, checkpointing every epoch, and write the run directory.

Reliability: after each epoch ``checkpoint.npz`` holds the model, the optimiser state, the
random generator and the history (written atomically, so a kill at any moment leaves the
previous one intact); ``best.npz`` holds the model of the best validation accuracy. Ctrl-C
finishes the current batch, saves ``interrupted.npz`` and exits with 130. ``--resume`` restarts
from ``checkpoint.npz`` (the last complete epoch) and continues exactly as an uninterrupted run.

With ``--patience`` the checkpoint also holds the early-stopping state (best val_loss, its
epoch, epochs since) and ``best_val_loss.npz`` the weights of that best epoch. It is written
after the checkpoint of a new best epoch, so whenever a checkpoint names an earlier best epoch,
``best_val_loss.npz`` holds it; a checkpoint of the best epoch holds those weights itself.
"""

from __future__ import annotations

import math
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

from .. import io as nn_io
from .._typing import Array
from ..callbacks import Callback, EarlyStopping
from ..errors import DivergenceError, FileFormatError
from ..model import Sequential, mlp
from ..optimizers import OPTIMIZERS, Optimizer
from . import data, report
from .config import TrainConfig
from .errors import CLIError
from .models import class_probabilities, training_targets, user_metadata
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
    # With --patience: {"best_val_loss", "best_epoch" (from 1; both None before one),
    # "wait" (epochs since)} and the parameters of that best epoch.
    early: dict[str, Any] | None = None
    best_params: list[Array] = field(default_factory=list)


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


def restore_state(path: Path, patience: int | None) -> State:
    """The state saved in the checkpoint ``path``; with ``patience``, also the early-stopping
    state and the best epoch's parameters (from ``best_val_loss.npz`` beside it if need be)."""
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
    state = State(ckpt.model, ckpt.optimizer, ckpt.rng, int(ckpt.epoch), history, seconds)
    if patience is not None:
        state.early = early_stopping_state(path, extra.get("early_stopping"), state.epoch)
        best = state.early["best_epoch"]
        if best == state.epoch:
            state.best_params = [p.copy() for p in state.model.parameters()]
        elif best is not None:
            state.best_params = best_parameters(path.parent / BEST_VAL_LOSS, best, state.model)
    return state


BEST_VAL_LOSS = "best_val_loss.npz"  # with --patience: the weights of the best val_loss


def early_stopping_state(path: Path, early: object, epoch: int) -> dict[str, Any]:
    """``early`` (the checkpoint's "early_stopping") if it is an early-stopping state of a run
    after ``epoch`` epochs; FileFormatError naming the checkpoint otherwise."""

    def is_int(v: object) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    ok = isinstance(early, dict) and set(early) == {"best_val_loss", "best_epoch", "wait"}
    if ok:
        assert isinstance(early, dict)
        best, value, wait = early["best_epoch"], early["best_val_loss"], early["wait"]
        ok = is_int(wait) and 0 <= wait <= epoch
        if best is None:
            ok = ok and value is None
        else:
            ok = ok and is_int(best) and 1 <= best <= epoch and isinstance(value, int | float)
    if not ok:
        raise FileFormatError(
            f"{path} is not a checkpoint of numpynn train --patience: its extra data must hold "
            f'"early_stopping": {{"best_val_loss": a number, "best_epoch": an epoch from 1 to '
            f'{epoch}, "wait": an integer from 0 to {epoch}}}, got {early!r:.80}'
        )
    assert isinstance(early, dict)
    return early


def best_parameters(path: Path, epoch: int, model: Sequential) -> list[Array]:
    """The parameters in ``path`` (best_val_loss.npz), which must be those of ``epoch`` and fit
    ``model``; FileFormatError naming the file otherwise."""
    import numpynn

    if not path.exists():
        raise FileFormatError(
            f"{path} is missing: it holds the weights of epoch {epoch}, the "
            "best val_loss so far, which --resume needs with --patience"
        )
    saved = user_metadata(path).get("epoch")
    params = numpynn.load(path).parameters()
    shapes = [(p.shape, p.dtype) for p in params]
    if saved != epoch or shapes != [(p.shape, p.dtype) for p in model.parameters()]:
        raise FileFormatError(
            f"{path} does not hold the weights of epoch {epoch} of this run's network (the best "
            f"val_loss so far, which --resume needs with --patience); it holds epoch {saved!r:.20}"
        )
    return params


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
    is the best so far, then save ``checkpoint.npz`` (all atomic). With ``stopper`` (which must
    see the epoch first), the checkpoint also holds its state, and ``best_val_loss.npz`` is
    saved after the checkpoint of a new best val_loss."""

    def __init__(
        self,
        run_dir: Path,
        state: State,
        extra: dict[str, Any],
        metadata: dict[str, Any],
        stopper: EarlyStopping | None,
    ) -> None:
        self.run_dir, self.state, self.extra, self.metadata = run_dir, state, extra, metadata
        self.stopper = stopper
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
        extra = {**self.extra, "seconds": state.seconds}
        if self.stopper is not None:
            stopped = self.stopper.get_state()
            best = stopped["best"]  # best_epoch counts from this fit's first epoch, `epoch` here
            best_epoch = None if best is None else state.epoch - epoch + stopped["best_epoch"]
            state.early = {"best_val_loss": best, "best_epoch": best_epoch, "wait": stopped["wait"]}
            state.best_params = self.stopper.best_params
            extra["early_stopping"] = state.early
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
            extra=extra,
        )
        if state.early is not None and state.early["best_epoch"] == state.epoch:
            save_best_val_loss(self.run_dir, self.model, state, self.metadata)


def save_best_val_loss(
    run_dir: Path, model: Sequential, state: State, metadata: dict[str, Any]
) -> None:
    """Save ``model`` (which holds the weights of the best val_loss) as best_val_loss.npz."""
    import numpynn

    assert state.early is not None
    best = {
        **metadata,
        "epoch": state.early["best_epoch"],
        "val_loss": state.early["best_val_loss"],
    }
    numpynn.save(model, run_dir / BEST_VAL_LOSS, metadata=best)


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
        state = restore_state(checkpoint, cfg.patience)
        resumed_from = state.epoch
        if state.epoch > cfg.epochs:
            raise CLIError(
                f"{run_dir} has trained {state.epoch} epochs already: --epochs must be at least "
                f"{state.epoch}, got {cfg.epochs}"
            )
        finished = (run_dir / "metrics.json").exists()
        if stopped_early(cfg, state) and finished:
            print(f"{run_dir} {early_stopping_message(cfg, state)}; nothing to resume")
            return 0
        if state.epoch == cfg.epochs and finished:
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
    if state.early is not None and state.early["best_epoch"] == state.epoch:
        save_best_val_loss(run_dir, state.model, state, metadata)  # a kill may have missed it

    if state.epoch < cfg.epochs and not stopped_early(cfg, state):
        train_epochs(cfg, run_dir, state, splits, metadata, quiet, threads)
    epoch = state.epoch  # the epoch of the final weights
    if state.early is not None and state.best_params:
        for p, best in zip(state.model.parameters(), state.best_params, strict=True):
            p[...] = best  # as EarlyStopping does at the end of fit (also if none was left)
        epoch = state.early["best_epoch"]
        if not quiet and (stopped_early(cfg, state) or epoch != state.epoch):
            print(early_stopping_message(cfg, state))
    test = report.evaluate(state.model, splits.X_test, splits.y_test, n_classes, cfg.loss)
    import numpynn

    numpynn.save(
        state.model,
        run_dir / "model.npz",
        metadata={**metadata, "epoch": epoch, "test_accuracy": test["accuracy"]},
    )
    info = {
        "wall_seconds": time.perf_counter() - started,
        "data_seconds": data_seconds,
        "resumed_from_epoch": resumed_from,
        "threads": threads,
        "early_stopping": early_stopping_record(cfg, state),
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


def stopped_early(cfg: TrainConfig, state: State) -> bool:
    """Whether --patience stopped the run: val_loss has not improved for that many epochs."""
    return (
        cfg.patience is not None
        and state.early is not None
        and (state.early["wait"] >= cfg.patience)
    )


def early_stopping_message(cfg: TrainConfig, state: State) -> str:
    """'stopped early after epoch 12 of 30 ...' or, if it did not stop, which weights it kept."""
    assert state.early is not None
    best, value = state.early["best_epoch"], state.early["best_val_loss"]
    kept = "" if best is None else f"; restored the weights of epoch {best} (val_loss {value:.4f})"
    if stopped_early(cfg, state):
        return (
            f"stopped early after epoch {state.epoch} of {cfg.epochs}: val_loss has not improved "
            f"for {state.early['wait']} epochs (--patience {cfg.patience}){kept}"
        )
    return f"lowest val_loss at epoch {best} (--patience {cfg.patience}){kept}"


def early_stopping_record(cfg: TrainConfig, state: State) -> dict[str, Any] | None:
    """What metrics.json records of early stopping (None without --patience)."""
    if cfg.patience is None or state.early is None:
        return None
    stopped = stopped_early(cfg, state)
    return {
        "patience": cfg.patience,
        "stopped_early": stopped,
        "stopped_after_epoch": state.epoch if stopped else None,
        "best_epoch": state.early["best_epoch"],
        "best_val_loss": state.early["best_val_loss"],
        "restored_best_weights": bool(state.best_params),
    }


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
    stopper = None
    if cfg.patience is not None:
        stopper = EarlyStopping("val_loss", patience=cfg.patience, restore_best=True)
        if state.early is not None:  # resumed: continue from the checkpoint's state
            best = state.early["best_epoch"]
            stopper.set_state(
                {
                    "best": state.early["best_val_loss"],
                    "best_epoch": -1 if best is None else best - first - 1,  # from this fit
                    "wait": state.early["wait"],
                },
                state.best_params,
            )
    callbacks = [  # in this order: each sees the logs the ones before it completed
        LearningRateSchedule(state.optimizer, cfg.lr, cfg.lr_decay, first),
        ClassAccuracy(splits.X_train, splits.y_train, splits.X_val, splits.y_val),
        progress,
        *([stopper] if stopper else []),
        Checkpointer(run_dir, state, {"config": cfg.to_dict()}, metadata, stopper),
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
