"""``ModelCheckpoint``: save the whole training run after every epoch, and the best model, so
that ``fit(resume=True)`` continues a run after a crash or Ctrl-C exactly."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import io
from .callbacks import Callback, Model, Monitor, TrainingRun
from .epochs import one_based
from .errors import FileFormatError
from .layers.base import get_array
from .model import Sequential
from .paths import make_dir


class ModelCheckpoint(Callback):
    """After each epoch, write ``directory/checkpoint.npz``: the model, the optimiser (its
    state and step count), the generator of shuffling and dropout, the epoch, the history and
    every callback's state (:func:`numpynn.io.save_checkpoint`); and, when ``monitor`` is the
    best so far ("accuracy" in its name: the highest; else the lowest), the model to
    ``directory/best.npz`` (:func:`numpynn.save`, with ``metadata`` plus the epoch, from 1,
    and the monitored value). ``monitor=None``: no best model. Every write is atomic: a crash
    at any moment leaves the previous file whole. ``best`` is the best value so far,
    ``best_epoch`` the index (from 0) of its epoch, as for :class:`~numpynn.EarlyStopping`.

    It runs after the other callbacks, so the checkpoint holds the state they reach at the end
    of the epoch. ``fit(resume=True)`` restores the run from ``checkpoint.npz``.

    Parameters
    ----------
    directory : str or os.PathLike
        Where ``checkpoint.npz`` and ``best.npz`` are written (created if need be).
    monitor : str or None
        The history key whose best epoch is kept in ``best.npz``; None keeps no best model.
    metadata : dict, optional
        JSON data saved with the best model (as :func:`numpynn.save`'s).

    Raises
    ------
    TypeError
        If ``directory`` is not a path or ``metadata`` not a dict.
    """

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
        self.tracker = (
            None
            if monitor is None
            else Monitor(monitor, owner="ModelCheckpoint", optional=True)  # checks the name
        )
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError(f"metadata must be a dict (JSON object), got {metadata!r}")
        self.directory = Path(directory)
        self.monitor = monitor
        self.metadata = metadata or {}

    @property
    def path(self) -> Path:
        return self.directory / self.CHECKPOINT

    @property
    def best(self) -> float | None:
        return None if self.tracker is None else self.tracker.best

    @property
    def best_epoch(self) -> int | None:
        return None if self.tracker is None else self.tracker.best_epoch

    def on_train_begin(self, model: Model) -> None:
        super().on_train_begin(model)
        if self.tracker is not None:
            self.tracker.reset()
        make_dir(self.directory, "checkpoint directory")

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        run, tracker = self.run, self.tracker
        if tracker is not None and tracker.improved(epoch, logs):
            value = logs[tracker.metric]
            metadata = {**self.metadata, "epoch": one_based(epoch), tracker.metric: value}
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

    # The state keeps the format of the checkpoints written so far: best_epoch from 1.

    def get_state(self) -> dict[str, Any]:
        best, best_epoch = self.best, self.best_epoch
        return {"best": best, "best_epoch": None if best_epoch is None else one_based(best_epoch)}

    def set_state(self, state: dict[str, Any]) -> None:
        best, saved_epoch = state["best"], state["best_epoch"]
        if self.tracker is None:
            return
        best_epoch = saved_epoch - 1 if type(saved_epoch) is int else saved_epoch
        ours = {"best": best, "best_epoch": best_epoch}
        if not Monitor.valid_state(ours, self.run.epoch):
            raise TypeError(
                f"expected best (a number) and best_epoch (an epoch from 1 to {self.run.epoch}), "
                f"or both None, got best={best!r:.40}, best_epoch={saved_epoch!r:.40}"
            )
        self.tracker.set_state(ours)

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
    for a second or third callback of the same class.

    Parameters
    ----------
    callbacks : list of Callback
        A run's callbacks, in order.

    Returns
    -------
    dict of str to dict
        Each stateful callback's ``get_state()`` by name (JSON data and NumPy arrays).
    """
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
    history, the epoch and each callback's state. ValueError naming the file if the run differs.

    Parameters
    ----------
    run : TrainingRun
        The run to continue; changed in place.
    checkpoint : Checkpoint
        The state read from ``path``.
    path : pathlib.Path
        The checkpoint's file, named in the errors.

    Raises
    ------
    ValueError
        For another network, fewer epochs than the checkpoint has done, other optimiser
        settings (the learning rate aside), another bit generator, or other stateful
        callbacks, naming the file.
    FileFormatError
        For a callback state that the callback refuses.
    """
    model, saved = run.model, checkpoint.model
    if not isinstance(model, Sequential) or _structure(model) != _structure(saved):
        raise ValueError(
            f"{path} holds the run of another network, {saved!r}; this fit trains {model!r}"
        )
    check_epochs(path, checkpoint.epoch, run.epochs)
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


def check_epochs(path: Path, done: int, epochs: int) -> None:
    """ValueError unless a run that ``path`` holds after ``done`` epochs can continue to
    ``epochs``: a resume never shortens a run.

    Parameters
    ----------
    path : pathlib.Path
        The checkpoint's file, named in the error.
    done : int
        The epochs the checkpoint has completed.
    epochs : int
        The epochs the resumed run asks for.

    Raises
    ------
    ValueError
        When ``done`` > ``epochs``.
    """
    if done > epochs:
        raise ValueError(
            f"{path} has trained {done} epochs already: epochs must be at least {done}, "
            f"got {epochs}"
        )


def _structure(model: Sequential) -> list[tuple[str, dict[str, Any], list[Any]]]:
    return [
        (
            type(layer).__name__,
            layer.config(),
            [
                (get_array(layer, p).shape, get_array(layer, p).dtype)
                for p in (*layer.params, *layer.buffers)
            ],
        )
        for layer in model.layers
    ]
