"""Callbacks: hooks that ``fit`` calls during a training run (progress, schedules, early
stopping, checkpoints).

``fit`` calls, in order: ``on_train_begin(model)``; then, with ``fit(resume=True)``, the
checkpointing callback restores the run (the model, the optimiser, the generator, the history
and every callback's state); per epoch ``on_epoch_begin(epoch)``, ``on_batch_end(batch, logs)``
after each mini-batch (logs: ``{"loss": batch loss}``; only callbacks that override it are
called) and ``on_epoch_end(epoch, logs)`` (logs: the epoch's ``loss``, ``accuracy``,
``val_loss``, ``val_accuracy`` and ``seconds``); finally ``on_train_end(history)``.

Epochs count from 0 at the start of the run, also in a fit that continues one
(``initial_epoch`` or a resume), in the hooks' arguments, the callbacks' attributes and their
state; what a callback prints counts them from 1 (:mod:`numpynn.epochs`). Callbacks run in
the order given, except that those with a higher ``order`` run after the others (a
checkpoint saves the state the others have updated).
A callback stops training by setting ``model.stop_training = True``; ``self.run`` is the
:class:`TrainingRun`. A callback with state returns it from ``get_state`` (JSON data and
NumPy arrays) and takes it back in ``set_state``: that is what a checkpoint holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np

from ._typing import Array
from .epochs import one_based
from .optimizers import Optimizer
from .schedules import Schedule
from .validation import check_non_negative, check_positive_int


class Model(Protocol):
    """What a callback may use of the model being trained (a protocol: :class:`numpynn.Sequential`
    is one; it is not instantiated).

    Attributes
    ----------
    stop_training : bool
        Set to True to end training after the current epoch.

    Methods
    -------
    parameters()
        The parameter arrays, in place (what the optimiser updates).
    gradients()
        Their gradients, in the same order.
    state_arrays()
        The parameters and the buffers (e.g. BatchNorm's running statistics): a full state.
    """

    stop_training: bool

    def parameters(self) -> list[Array]: ...

    def gradients(self) -> list[Array]: ...

    def state_arrays(self) -> list[Array]: ...


@dataclass
class TrainingRun:
    """One training run, shared by ``fit`` and its callbacks: what a checkpoint saves.

    Parameters
    ----------
    model : Model
        The model being trained.
    optimizer : Optimizer
        Its optimiser.
    rng : numpy.random.Generator
        Drives shuffling and dropout.
    epochs : int
        The run ends after this many epochs, counted from its start.
    callbacks : list of Callback
        The run's callbacks.
    history : dict of str to list of float
        Each logged metric's value per epoch.
    epoch : int
        Completed epochs.
    steps_per_epoch : int
        Batches in an epoch (set by ``fit``).
    step : int
        Batches done since the run's start: optimiser steps.
    interrupted : bool
        Ctrl-C was pressed: stop after the current batch.
    """

    model: Model
    optimizer: Optimizer
    rng: np.random.Generator  # drives shuffling and dropout
    epochs: int  # the run ends after this many epochs (counted from its start)
    callbacks: list[Callback]
    history: dict[str, list[float]] = field(default_factory=dict)
    epoch: int = 0  # completed epochs
    steps_per_epoch: int = 0  # batches in an epoch (set by fit)
    step: int = 0  # batches done since the run's start: optimiser steps
    interrupted: bool = False  # Ctrl-C was pressed: stop after the current batch


class Callback:
    """Base class: every hook does nothing until overridden."""

    order: ClassVar[int] = 0  # fit calls callbacks by order, then in the order given
    run: TrainingRun
    model: Model

    def on_train_begin(self, model: Model) -> None:
        """Before the first epoch; keeps ``model`` as ``self.model`` (call it from overrides).

        Parameters
        ----------
        model : Model
            The model being trained.
        """
        self.model = model

    def on_epoch_begin(self, epoch: int) -> None:
        """Before each epoch.

        Parameters
        ----------
        epoch : int
            The epoch's index (from 0).
        """

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        """After each batch's update.

        Parameters
        ----------
        batch : int
            The batch's index in its epoch (from 0).
        logs : dict of str to float
            ``{"loss": the batch's mean loss}``.
        """

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """After each epoch (``self.model.stop_training = True`` ends training).

        Parameters
        ----------
        epoch : int
            The epoch's index (from 0).
        logs : dict of str to float
            ``"loss"``, and ``"accuracy"``, ``"val_loss"``, ``"val_accuracy"`` where they
            apply, and ``"seconds"``, the epoch's time.
        """

    def on_train_end(self, history: dict[str, list[float]]) -> None:
        """After the last epoch.

        Parameters
        ----------
        history : dict of str to list of float
            Each logged metric's value per epoch.
        """

    def get_state(self) -> dict[str, Any] | None:
        """What a checkpoint must keep of this callback to continue the run exactly (JSON data
        and NumPy arrays); None for a callback without state."""
        return None

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue from ``state``, a :meth:`~numpynn.Callback.get_state` of the same kind of
        callback."""
        raise TypeError(f"{type(self).__name__} has no state to set")

    def restore(self) -> bool:
        """For ``fit(resume=True)``: restore ``self.run`` from this callback's latest saved
        state and return True, or return False if there is none (checkpointing callbacks)."""
        return False


class PrintProgress(Callback):
    """Print the epoch's metrics on the first epoch and every ``every`` epochs after it
    (epochs 1, 1 + every, 1 + 2 * every, ... counted from 1).

    Parameters
    ----------
    every : int
        Print every ``every`` epochs (a positive int).
    """

    def __init__(self, every: int = 1) -> None:
        self.every = check_positive_int("every", every)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if epoch % self.every == 0:
            metrics = "  ".join(f"{k} {v:.6g}" for k, v in logs.items() if k != "seconds")
            print(f"epoch {one_based(epoch):>6}  {metrics}")


class LearningRateScheduler(Callback):
    """Set the optimiser's learning rate at the start of each epoch: lr = schedule(epoch, lr0),
    where lr0 is the optimiser's learning rate when the run began (the base rate); with
    ``per_step=True``, before each batch: lr = schedule(step, lr0), step the number of batches
    done since the run's start (``TrainingRun.step``), as nanoGPT's warm-up and cosine decay.

    ``schedule`` is a function of (epoch, lr0) or a named schedule from
    :mod:`numpynn.schedules` (``StepDecay``, ``ExponentialDecay``, ``CosineDecay``,
    ``WarmUp``). The state holds the base rate and the named schedule, never only the decayed
    rate; resuming with another named schedule is refused.

    Parameters
    ----------
    schedule : callable
        A function of (epoch, lr0), or of (step, lr0) with ``per_step``, returning the rate.
    per_step : bool
        Set the rate before each batch instead of at each epoch's start.

    Raises
    ------
    TypeError
        If ``schedule`` is not callable or ``per_step`` not a bool.
    """

    def __init__(self, schedule: Callable[[int, float], float], *, per_step: bool = False) -> None:
        if not callable(schedule):
            raise TypeError(f"schedule must be a function of (epoch, lr0), got {schedule!r}")
        if not isinstance(per_step, bool):
            raise TypeError(f"per_step must be True or False, got {per_step!r}")
        self.schedule = schedule
        self.per_step = per_step

    def on_train_begin(self, model: Model) -> None:
        super().on_train_begin(model)
        self.base_lr = self.run.optimizer.lr

    def on_epoch_begin(self, epoch: int) -> None:
        self._set(self.run.step if self.per_step else epoch)

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        if self.per_step:
            self._set(self.run.step)  # the rate of the next step

    def _set(self, when: int) -> None:
        lr = self.schedule(when, self.base_lr)
        if not (isinstance(lr, int | float | np.floating) and math.isfinite(lr) and lr >= 0):
            at = f"step {when}" if self.per_step else f"epoch {one_based(when)}"
            raise ValueError(
                f"the schedule gave the learning rate {lr!r} for {at} "
                f"(schedule({when}, {self.base_lr!r}))"
            )
        self.run.optimizer.lr = float(lr)

    def get_state(self) -> dict[str, Any]:
        return {"base_lr": self.base_lr, "schedule": self._described(), "per_step": self.per_step}

    def set_state(self, state: dict[str, Any]) -> None:
        if state["schedule"] != self._described():
            raise ValueError(
                f"the run was saved with the schedule {state['schedule']}, this fit has "
                f"{self._described()}: resume with the run's own schedule"
            )
        if state.get("per_step", False) != self.per_step:
            raise ValueError(
                f"the run was saved with per_step={state.get('per_step', False)}, this fit "
                f"has per_step={self.per_step}: resume with the run's own schedule"
            )
        self.base_lr = float(state["base_lr"])

    def _described(self) -> dict[str, Any] | None:
        s = self.schedule
        return s.describe() if isinstance(s, Schedule) else None


class Monitor:
    """The best value so far of a metric that ``fit`` logs, and the index (from 0) of its
    epoch: for names with "accuracy" the highest, for the others the lowest, counting a
    value as better only by more than ``min_delta``. ``owner`` (a callback's name) and
    ``optional`` (whether the owner also takes ``monitor=None``) word the errors.

    Parameters
    ----------
    metric : str
        A key of ``fit``'s logs: ``"val_loss"``, ``"val_accuracy"``, ``"loss"``...
    owner : str
        The callback's name, for the error messages.
    min_delta : float
        The margin by which a value must beat the best (>= 0; not checked here: the owner
        checks it).
    optional : bool
        Whether the owner also takes ``monitor=None`` (worded in the errors).

    Raises
    ------
    TypeError
        For a metric that is not a string. (``improved`` raises ValueError for a metric
        that the logs lack.)
    """

    def __init__(
        self, metric: str, *, owner: str, min_delta: float = 0.0, optional: bool = False
    ) -> None:
        if not isinstance(metric, str):
            none = " or None" if optional else ""
            raise TypeError(f"monitor must be the name of a logged metric{none}, got {metric!r}")
        self.metric, self.owner, self.optional = metric, owner, optional
        self.min_delta = min_delta
        self.sign = -1.0 if "accuracy" in metric else 1.0  # minimise sign * value
        self.best: float | None = None
        self.best_epoch: int | None = None

    def reset(self) -> None:
        self.best, self.best_epoch = None, None

    def improved(self, epoch: int, logs: dict[str, float]) -> bool:
        """Whether the metric in ``logs`` of ``epoch`` beats the best, which it then becomes.
        ValueError if ``logs`` lack the metric.

        Parameters
        ----------
        epoch : int
            The epoch's index (from 0).
        logs : dict of str to float
            The epoch's logged metrics.

        Returns
        -------
        bool
            Whether the value is the new best.

        Raises
        ------
        ValueError
            When ``logs`` lack the metric, listing those it has.
        """
        if self.metric not in logs:
            none = "; monitor=None: no best model" if self.optional else ""
            raise ValueError(
                f"{self.owner} monitors {self.metric!r}, which fit does not report; it reports "
                f"{sorted(logs)} (val_* needs validation_data{none})"
            )
        value = logs[self.metric]
        if self.best is None or self.sign * value < self.sign * self.best - self.min_delta:
            self.best, self.best_epoch = value, epoch
            return True
        return False

    def get_state(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch}

    @staticmethod
    def valid_state(state: dict[str, Any], done: int) -> bool:
        """Whether ``state`` is a :meth:`~numpynn.Callback.get_state` of a run that has done
        ``done`` epochs: best a number and best_epoch an epoch below ``done``, or both None."""
        best, best_epoch = state["best"], state["best_epoch"]
        return (
            (best is None) == (best_epoch is None)
            and (best is None or _is_number(best))
            and (best_epoch is None or _is_count(best_epoch, done - 1))
        )

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue from ``state``, which :meth:`valid_state` accepts."""
        self.best, self.best_epoch = state["best"], state["best_epoch"]


class EarlyStopping(Callback):
    """Stop when ``monitor`` (default ``val_loss``) has not improved by more than ``min_delta``
    for ``patience`` epochs; with ``restore_best_weights``, end with the best epoch's weights
    (``model.state_arrays()``: the parameters and the buffers, e.g. BatchNorm's statistics).
    Names with "accuracy" are better when higher, the others when lower
    (:class:`~numpynn.callbacks.Monitor`). ``best`` is the best value, ``best_epoch`` and
    ``stopped_epoch`` are epoch indices (from 0), ``wait`` the epochs since the best.

    Parameters
    ----------
    monitor : str
        The history key to watch: ``"val_loss"``, ``"val_accuracy"``, ``"loss"``...
    patience : int
        Epochs without improvement before stopping.
    min_delta : float
        The smallest change that counts as an improvement (>= 0).
    restore_best_weights : bool
        End with the best epoch's weights.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best_weights: bool = True,
    ) -> None:
        self.tracker = Monitor(monitor, owner="EarlyStopping")  # the best value of monitor
        self.monitor = monitor
        self.patience = check_positive_int("patience", patience)
        self.min_delta = self.tracker.min_delta = check_non_negative("min_delta", min_delta)
        self.restore_best_weights = bool(restore_best_weights)

    @property
    def best(self) -> float | None:
        return self.tracker.best

    @property
    def best_epoch(self) -> int | None:
        return self.tracker.best_epoch

    def on_train_begin(self, model: Model) -> None:
        super().on_train_begin(model)
        self.tracker.reset()
        self.best_weights: list[Array] = []
        self.wait = 0  # epochs since the best
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.tracker.improved(epoch, logs):
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = [p.copy() for p in self.model.state_arrays()]
        else:
            self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, history: dict[str, list[float]]) -> None:
        if self.restore_best_weights and self.best_weights:
            for p, best in zip(self.model.state_arrays(), self.best_weights, strict=True):
                p[...] = best

    def get_state(self) -> dict[str, Any]:
        return {
            **self.tracker.get_state(),
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best_weights": self.best_weights,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        best, wait = state["best"], state["wait"]
        stopped_epoch, weights = state["stopped_epoch"], state["best_weights"]
        done = self.run.epoch  # epochs 0 .. done - 1 have run
        params = self.model.state_arrays()
        valid = (
            self.tracker.valid_state(state, done)
            and _is_count(wait, done)
            and (stopped_epoch is None or _is_count(stopped_epoch, done - 1))
            and isinstance(weights, list)
            and bool(weights) == (best is not None and self.restore_best_weights)
            and (not weights or _same_arrays(weights, params))
        )
        if not valid:
            raise TypeError(
                f"expected best (a number), best_epoch and stopped_epoch (epochs below {done}), "
                "wait (a count) and best_weights (arrays of the shapes of the model's parameters "
                "and buffers), got " + ", ".join(f"{k}={v!r:.40}" for k, v in state.items())
            )
        self.tracker.set_state(state)
        self.wait = wait
        self.stopped_epoch = stopped_epoch
        self.best_weights = [np.array(w) for w in weights]
        if self.stopped_epoch is not None:
            self.model.stop_training = True  # the run had stopped: nothing more to train


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: object, most: int) -> bool:
    """An integer in [0, most]."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= most


def _same_arrays(arrays: list[Any], like: list[Array]) -> bool:
    """Arrays of the shapes and dtypes of ``like``."""
    return len(arrays) == len(like) and all(
        isinstance(a, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype
        for a, b in zip(arrays, like, strict=True)
    )
