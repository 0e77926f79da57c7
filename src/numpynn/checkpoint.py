"""``ModelCheckpoint``: save the whole training run after every epoch, and the best model, so
that ``fit(resume=True)`` continues a run after a crash or Ctrl-C exactly."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import io
from .callbacks import Callback, Model, TrainingRun
from .errors import FileFormatError
from .model import Sequential


class ModelCheckpoint(Callback):
    """After each epoch, write ``directory/checkpoint.npz``: the model, the optimiser (its
    state and step count), the generator of shuffling and dropout, the epoch, the history and
    every callback's state (:func:`numpynn.io.save_checkpoint`); and, when ``monitor`` is the
    best so far ("accuracy" in its name: the highest; else the lowest), the model to
    ``directory/best.npz`` (:func:`numpynn.save`, with ``metadata`` plus the epoch, from 1,
    and the monitored value). ``monitor=None``: no best model. Every write is atomic: a crash
    at any moment leaves the previous file whole.

    It runs after the other callbacks, so the checkpoint holds the state they reach at the end
    of the epoch. ``fit(resume=True)`` restores the run from ``checkpoint.npz``."""

    order = 1
    CHECKPOINT = "checkpoint.npz"
    BEST = "best.npz"

    def __init__(
        self,
        directory: str | os.PathLike[str],
        monitor: str | None = "val_loss",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(directory, str | os.PathLike):
            raise TypeError(f"directory must be a path, got {directory!r}")
        if monitor is not None and not isinstance(monitor, str):
            raise TypeError(f"monitor must be the name of a logged metric or None, got {monitor!r}")
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError(f"metadata must be a dict (JSON object), got {metadata!r}")
        self.directory = Path(directory)
        self.monitor = monitor
        self.metadata = metadata or {}
        self.sign = -1.0 if monitor and "accuracy" in monitor else 1.0  # minimise sign * value

    @property
    def path(self) -> Path:
        return self.directory / self.CHECKPOINT

    def on_train_begin(self, model: Model) -> None:
        super().on_train_begin(model)
        self.best: float | None = None
        self.best_epoch: int | None = None  # from 1
        self.directory.mkdir(parents=True, exist_ok=True)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        run = self.run
        if self.monitor is not None:
            if self.monitor not in logs:
                raise ValueError(
                    f"ModelCheckpoint monitors {self.monitor!r}, which fit does not report; it "
                    f"reports {sorted(logs)} (val_* needs validation_data; monitor=None: no "
                    "best model)"
                )
            value = logs[self.monitor]
            if self.best is None or self.sign * value < self.sign * self.best:
                self.best, self.best_epoch = value, run.epoch
                metadata = {**self.metadata, "epoch": run.epoch, self.monitor: value}
                io.save(self._model(), self.directory / self.BEST, metadata=metadata)
        io.save_checkpoint(
            self.path,
            self._model(),
            run.optimizer,
            run.rng,
            run.epoch,
            run.history,
            callbacks=callback_states(run.callbacks),
        )

    def get_state(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def set_state(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch = state["best"], state["best_epoch"]

    def restore(self) -> bool:
        if not self.path.exists():
            return False
        restore_run(self.run, io.load_checkpoint(self.path), self.path)
        return True

    def _model(self) -> Sequential:
        if not isinstance(self.model, Sequential):
            raise TypeError(f"ModelCheckpoint saves Sequential models, got {self.model!r}")
        return self.model


def callback_states(callbacks: list[Callback]) -> dict[str, Any]:
    """The states of the callbacks that have one, by name: the class name, with "#2", "#3"...
    for a second or third callback of the same class."""
    states: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for callback in callbacks:
        state = callback.get_state()
        if state is not None:
            name = type(callback).__name__
            seen[name] = seen.get(name, 0) + 1
            states[name if seen[name] == 1 else f"{name}#{seen[name]}"] = state
    return states


def restore_run(run: TrainingRun, checkpoint: io.Checkpoint, path: Path) -> None:
    """Put the state saved in ``checkpoint`` (read from ``path``) into ``run``: the model's
    parameters and buffers and the optimiser's state in place, the generator's state, the
    history, the epoch and each callback's state. ValueError naming the file if the run differs."""
    model, saved = run.model, checkpoint.model
    if not isinstance(model, Sequential) or _structure(model) != _structure(saved):
        raise ValueError(
            f"{path} holds the run of another network, {saved!r}; this fit trains {model!r}"
        )
    if checkpoint.epoch > run.epochs:
        raise ValueError(
            f"{path} has trained {checkpoint.epoch} epochs already: epochs must be at least "
            f"{checkpoint.epoch}, got {run.epochs}"
        )
    optimizer, saved_optimizer = run.optimizer, checkpoint.optimizer
    ours = {k: v for k, v in optimizer.config().items() if k != "lr"}
    theirs = {k: v for k, v in saved_optimizer.config().items() if k != "lr"}
    if type(optimizer) is not type(saved_optimizer) or ours != theirs:
        raise ValueError(
            f"{path} was trained with {saved_optimizer!r}; this fit has {optimizer!r}: resume "
            "with the run's own optimiser settings"
        )
    bit_generator = run.rng.bit_generator
    if type(bit_generator) is not type(checkpoint.rng.bit_generator):
        raise ValueError(
            f"{path} saved a {type(checkpoint.rng.bit_generator).__name__} generator; this fit "
            f"has a {type(bit_generator).__name__} one (seed=)"
        )
    states = checkpoint.callbacks
    ours_named = callback_states(run.callbacks)
    if set(states) != set(ours_named):
        raise ValueError(
            f"{path} holds the state of the callbacks {sorted(states)}; this fit has the "
            f"callbacks with state {sorted(ours_named)}: resume with the run's own callbacks"
        )

    for p, value in zip(model.state_arrays(), saved.state_arrays(), strict=True):
        p[...] = value
    optimizer.lr = saved_optimizer.lr
    optimizer.t = saved_optimizer.t
    optimizer.state = {
        slot: [a.copy() for a in arrays] for slot, arrays in saved_optimizer.state.items()
    }
    bit_generator.state = checkpoint.rng.bit_generator.state
    run.history.clear()
    run.history.update(checkpoint.history)
    run.epoch = checkpoint.epoch
    named = dict(
        zip(ours_named, (c for c in run.callbacks if c.get_state() is not None), strict=True)
    )
    for name, callback in named.items():
        try:
            callback.set_state(states[name])
        except (KeyError, TypeError) as exc:
            raise FileFormatError(f"{path}: the state of {name} is not valid: {exc}") from None


def _structure(model: Sequential) -> list[tuple[str, dict[str, Any], list[Any]]]:
    return [
        (
            type(layer).__name__,
            layer.config(),
            [
                (getattr(layer, p).shape, getattr(layer, p).dtype)
                for p in (*layer.params, *layer.buffers)
            ],
        )
        for layer in model.layers
    ]
