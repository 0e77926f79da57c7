"""``numpynn train``: configure one training run of the library, call ``fit``, write the report.

The run itself (checkpoints every epoch, the best model, the learning-rate schedule, early
stopping and the exact resume) is ``Sequential.fit`` with its callbacks; this module builds
them from the settings and turns what can go wrong into one-line messages. Ctrl-C finishes the
current batch, saves ``interrupted.npz`` and exits with 130; ``--resume`` continues from
``checkpoint.npz``, the last complete epoch.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .. import io as nn_io
from ..callbacks import Callback, EarlyStopping, LearningRateScheduler
from ..checkpoint import ModelCheckpoint, callback_states, check_epochs
from ..datasets import random_shift
from ..epochs import at_batch, one_based
from ..errors import DivergenceError, TrainingInterrupted
from ..model import Sequential, convnet, mlp
from ..optimizers import OPTIMIZERS, SGD, Optimizer
from ..paths import make_dir
from ..schedules import CosineDecay, ExponentialDecay, Schedule
from . import data, report
from .config import TrainConfig
from .errors import CLIError
from .progress import Progress

INTERRUPTED = "interrupted.npz"  # after Ctrl-C: the state after the last finished batch
BEST_VAL_LOSS = "best_val_loss.npz"  # with --patience: the model of the lowest val_loss


def run(
    cfg: TrainConfig,
    run_dir: Path,
    *,
    resume: bool,
    data_dir: str | None,
    quiet: bool,
    plots: bool,
    threads: int | None,
    started: float,
) -> int:
    """Train (or continue training) the run in ``run_dir``; return the exit code. ``started``
    is the ``time.perf_counter()`` of the command's start: the wall time printed counts from it."""
    loading = time.perf_counter()
    splits = data.load(cfg.dataset, cfg.validation, cfg.seed, data_dir, images=cfg.network == "cnn")
    data_seconds = time.perf_counter() - loading
    checkpoint = run_dir / ModelCheckpoint.CHECKPOINT
    saved = saved_run(checkpoint, cfg.epochs) if resume and checkpoint.exists() else None
    finished = (run_dir / "metrics.json").exists()
    if saved is not None and finished and stopped(saved):
        print(f"{run_dir} stopped early after epoch {saved.epoch} (--patience); nothing to resume")
        return 0
    if saved is not None and finished and saved.epoch == cfg.epochs:
        print(
            f"{run_dir} has finished its {cfg.epochs} epochs; train longer with "
            f"numpynn train --resume {run_dir} --epochs N"
        )
        return 0
    if not quiet:
        print(
            f"resuming {run_dir} after epoch {saved.epoch} of {cfg.epochs}"
            if saved
            else f"training in {run_dir}"
        )
    make_dir(run_dir, "run directory")
    cfg.save(run_dir / "config.json")  # what --resume reads back

    model = new_model(cfg, splits.X_train.shape[1:], len(splits.labels))
    metadata = model_metadata(cfg, splits)
    progress = Progress(cfg.epochs, -(-len(splits.X_train) // cfg.batch_size), quiet)
    stopper = EarlyStopping("val_loss", cfg.patience) if cfg.patience else None
    schedule: Schedule = ExponentialDecay(cfg.lr_decay)
    if cfg.schedule == "cosine":
        schedule = CosineDecay(cfg.epochs, min_lr=cfg.lr / 100)
    callbacks = [
        LearningRateScheduler(schedule),
        progress,
        *([stopper] if stopper else []),
        ModelCheckpoint(run_dir, monitor="val_accuracy", metadata=metadata),
    ]
    try:
        history = train_epochs(cfg, run_dir, model, splits, callbacks, resume, threads)
    finally:
        progress.close()
    (run_dir / INTERRUPTED).unlink(missing_ok=True)  # superseded by the finished run

    early_stopping = early_stopping_record(stopper, cfg)
    epoch = report.weights_epoch(len(history["loss"]), early_stopping)  # of the final weights
    if stopper is not None:
        if stopper.best_epoch is not None:
            best = {**metadata, "epoch": one_based(stopper.best_epoch), "val_loss": stopper.best}
            nn_io.save(model, run_dir / BEST_VAL_LOSS, metadata=best)
        if not quiet:
            print(early_stopping_text(stopper, cfg, len(progress.seconds)))
    test = report.evaluate(model, splits.X_test, splits.y_test, len(splits.labels))
    metadata = {**metadata, "epoch": epoch, "test_accuracy": test["accuracy"]}
    nn_io.save(model, run_dir / "model.npz", metadata=metadata)
    info = {
        "data_seconds": data_seconds,
        "resumed_from_epoch": saved.epoch if saved else None,
        "threads": threads,
        "early_stopping": early_stopping,
    }
    if plots:
        report.write_plots(run_dir, cfg, splits, model, history, test, epoch)
    info["wall_seconds"] = wall_seconds = time.perf_counter() - started
    report.write_run(run_dir, cfg, splits, model, history, progress.seconds, test, info)
    spent = report.time_spent(wall_seconds, progress.seconds, saved.epoch if saved else None)
    print(
        f"test accuracy {test['accuracy']:.2%} (loss {test['loss']:.4f}) on "
        f"{len(splits.y_test)} {cfg.dataset} test samples; {spent}; run directory {run_dir}"
    )
    return 0


def new_model(cfg: TrainConfig, input_shape: tuple[int, ...], n_classes: int) -> Sequential:
    """The network of ``cfg`` for samples of ``input_shape`` ((n_features,), or (channels,
    height, width) for "cnn"); ``cfg.seed`` fixes its initial weights (the second stream of
    the seed drives training, see :func:`train_epochs`)."""
    rng = np.random.default_rng(np.random.SeedSequence(cfg.seed).spawn(2)[0])
    n_outputs = 1 if (n_classes == 2 and cfg.output == "sigmoid") else n_classes
    sizes = [*cfg.hidden, n_outputs]
    if cfg.network == "cnn":
        return convnet(input_shape, sizes, activation=cfg.activation, output=cfg.output,
                       dropout=cfg.dropout, seed=rng)  # fmt: skip
    return mlp([input_shape[0], *sizes], cfg.activation, cfg.output, dropout=cfg.dropout, seed=rng)


def saved_run(path: Path, epochs: int) -> nn_io.Checkpoint:
    """The checkpoint at ``path``, which must be one this version's ``numpynn train`` can
    continue to ``epochs`` (CLIError or ValueError naming it otherwise)."""
    saved = nn_io.load_checkpoint(path)
    if "ModelCheckpoint" not in saved.callbacks:
        raise CLIError(
            f"{path} holds no state of numpynn train's callbacks (numpynn 0.1.0 wrote such "
            "checkpoints): this version cannot continue it; train anew (its model.npz and "
            "best.npz still load), or resume it with numpynn 0.1.0"
        )
    check_epochs(path, saved.epoch, epochs)  # fit's own check, before config.json changes
    return saved


def stopped(saved: nn_io.Checkpoint) -> bool:
    """Whether early stopping ended the run saved in ``saved``."""
    state = saved.callbacks.get("EarlyStopping")
    return isinstance(state, dict) and state.get("stopped_epoch") is not None


def early_stopping_text(stopper: EarlyStopping, cfg: TrainConfig, epochs_done: int) -> str:
    """'stopped early after epoch 12 of 30 ...' or, if it did not stop, which weights it kept."""
    if stopper.best_epoch is None:
        return f"no val_loss recorded (--patience {cfg.patience})"
    best = one_based(stopper.best_epoch)
    kept = f"restored the weights of epoch {best} (val_loss {stopper.best:.4f})"
    if stopper.stopped_epoch is not None:
        return (
            f"stopped early after epoch {epochs_done} of {cfg.epochs}: val_loss has not improved "
            f"for {stopper.wait} epochs (--patience {cfg.patience}); {kept}"
        )
    return f"lowest val_loss at epoch {best} (--patience {cfg.patience}); {kept}"


def early_stopping_record(stopper: EarlyStopping | None, cfg: TrainConfig) -> dict[str, Any] | None:
    """What metrics.json records of early stopping (None without --patience)."""
    if stopper is None:
        return None
    stopped_epoch = stopper.stopped_epoch
    return {
        "patience": cfg.patience,
        "stopped_early": stopped_epoch is not None,
        "stopped_after_epoch": None if stopped_epoch is None else one_based(stopped_epoch),
        "best_epoch": None if stopper.best_epoch is None else one_based(stopper.best_epoch),
        "best_val_loss": stopper.best,
        "restored_best_weights": bool(stopper.best_weights),
    }


def train_epochs(
    cfg: TrainConfig,
    run_dir: Path,
    model: Sequential,
    splits: data.Splits,
    callbacks: list[Callback],
    resume: bool,
    threads: int | None,
) -> dict[str, list[float]]:
    """``model.fit`` with the run's settings and callbacks, with ``threads`` BLAS threads
    (None: the BLAS default); returns the history. Ctrl-C and a divergence become one-line
    CLIErrors (:func:`stops_explained`)."""
    train_seed = np.random.SeedSequence(cfg.seed).spawn(2)[1]
    optimizer = OPTIMIZERS[cfg.optimizer](lr=cfg.lr, weight_decay=cfg.l2)
    if cfg.momentum:  # SGD's alone (resolve refuses it with the others)
        optimizer = SGD(lr=cfg.lr, weight_decay=cfg.l2, momentum=cfg.momentum)
    with (
        np.errstate(over="ignore", invalid="ignore", divide="ignore"),
        stops_explained(run_dir, model, optimizer, cfg.to_dict(), cfg.lr),
    ):
        return model.fit(
            splits.X_train,
            splits.y_train,
            loss=cfg.loss,
            optimizer=optimizer,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            validation_data=(splits.X_val, splits.y_val),
            seed=np.random.default_rng(train_seed),
            callbacks=callbacks,
            threads=threads,
            workers=cfg.workers or 1,
            resume=resume,
            augment=(lambda x, rng: random_shift(x, cfg.shift, rng)) if cfg.shift else None,
        )


@contextlib.contextmanager
def stops_explained(
    run_dir: Path, model: Sequential, optimizer: Optimizer, config: dict[str, Any], lr: float
) -> Iterator[None]:
    """Within it, Ctrl-C and a divergence of ``model.fit`` become one-line CLIErrors; after
    Ctrl-C, the state after the last batch is saved as interrupted.npz (with ``config``)."""
    checkpoint = run_dir / ModelCheckpoint.CHECKPOINT
    try:
        yield
    except TrainingInterrupted as stop:
        run, where = stop.run, at_batch(stop.epoch, stop.batch)
        path = run_dir / INTERRUPTED
        nn_io.save_checkpoint(
            path, model, optimizer, run.rng, run.epoch, run.history,
            extra={"config": config, "stopped_at": where},
            callbacks=callback_states(run.callbacks),
        )  # fmt: skip
        last = f"after epoch {run.epoch}" if run.epoch else "from the start (no epoch finished)"
        raise CLIError(
            f"interrupted at {where}; saved {path}; resume {last} with: numpynn train --resume "
            f"{run_dir}",
            130,
        ) from None
    except DivergenceError as diverged:
        done = diverged.run.epoch
        kept = (
            f"the last good checkpoint, {checkpoint} (epoch {done}), is intact"
            if done
            else "no epoch finished, so there is no checkpoint"
        )
        raise CLIError(f"{diverged}, e.g. --lr {lr / 10:g} (--lr was {lr:g}); {kept}", 1) from None


def model_metadata(cfg: TrainConfig, splits: data.Splits) -> dict[str, Any]:
    """What the model files record about their training, for evaluate and predict."""
    return {
        "dataset": cfg.dataset,
        "class_labels": splits.labels,
        "image_shape": list(splits.image_shape) if splits.image_shape else None,
        "config": cfg.to_dict(),
    }
