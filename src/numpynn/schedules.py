"""Learning-rate schedules: the rate of each epoch from the base rate lr0, for
:class:`~numpynn.LearningRateScheduler`. Epochs count from 0.

A named schedule describes itself (type and settings), so a checkpoint records it and a resumed
run can be checked against it; any function of (epoch, lr0) works too.
"""

from __future__ import annotations

import math
from typing import Any

from .validation import check_fraction, check_non_negative, check_positive, check_positive_int


class Schedule:
    """Base class: ``schedule(epoch, lr0)`` is the learning rate of ``epoch``."""

    def __call__(self, epoch: int, lr0: float) -> float:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """``{"type": class name, **settings}``: JSON data a checkpoint keeps."""
        return {"type": type(self).__name__, **vars(self)}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class ExponentialDecay(Schedule):
    """``lr = lr0 * rate**epoch``.

    Parameters
    ----------
    rate : float
        The factor per epoch (> 0; < 1 decays).

    Raises
    ------
    ValueError
        For a rate that is not a finite number > 0.
    """

    def __init__(self, rate: float) -> None:
        self.rate = check_positive("rate", rate)

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0 * self.rate**epoch


class StepDecay(Schedule):
    """``lr = lr0 * gamma**(epoch // step_size)``: multiplied by gamma every step_size epochs.

    Parameters
    ----------
    step_size : int
        The epochs between two multiplications (>= 1).
    gamma : float
        The factor (> 0), 0.1 by default.

    Raises
    ------
    TypeError, ValueError
        For a setting of the wrong type or out of range, naming it.
    """

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = check_positive_int("step_size", step_size)
        self.gamma = check_positive("gamma", gamma)

    def __call__(self, epoch: int, lr0: float) -> float:
        return lr0 * self.gamma ** (epoch // self.step_size)


class CosineDecay(Schedule):
    """lr = min_lr + (lr0 - min_lr) * (1 + cos(pi * epoch / epochs)) / 2 for epoch < epochs,
    then min_lr: from lr0 down to min_lr along half a cosine.

    Parameters
    ----------
    epochs : int
        The epochs the decay takes (>= 1).
    min_lr : float
        The final learning rate (>= 0).

    Raises
    ------
    TypeError, ValueError
        For a setting of the wrong type or out of range, naming it.
    """

    def __init__(self, epochs: int, min_lr: float = 0.0) -> None:
        self.epochs = check_positive_int("epochs", epochs)
        self.min_lr = check_non_negative("min_lr", min_lr)

    def __call__(self, epoch: int, lr0: float) -> float:
        progress = min(epoch, self.epochs) / self.epochs
        return self.min_lr + (lr0 - self.min_lr) * (1 + math.cos(math.pi * progress)) / 2


class WarmUp(Schedule):
    """A linear warm-up: lr = lr0 * (epoch + 1) / epochs for the first ``epochs`` epochs
    (starting from ``start`` * lr0 at the latest), then ``then(epoch - epochs, lr0)`` (a
    named schedule) or lr0.

    Parameters
    ----------
    epochs : int
        The warm-up's length in epochs (>= 1).
    then : Schedule, optional
        The named schedule after the warm-up, its epochs counted from the warm-up's end;
        None keeps lr0.
    start : float
        The smallest fraction of lr0 during the warm-up, in [0, 1).

    Raises
    ------
    TypeError, ValueError
        For a setting of the wrong type or out of range, naming it; TypeError for a
        ``then`` that is not a :class:`numpynn.schedules.Schedule` (a plain function).
    """

    def __init__(self, epochs: int, then: Schedule | None = None, start: float = 0.0) -> None:
        self.epochs = check_positive_int("epochs", epochs)
        if then is not None and not isinstance(then, Schedule):
            raise TypeError(f"then must be a named schedule (numpynn.schedules), got {then!r}")
        self.then = then
        self.start = check_fraction("start", start)

    def __call__(self, epoch: int, lr0: float) -> float:
        if epoch < self.epochs:
            return lr0 * max(self.start, (epoch + 1) / self.epochs)
        return lr0 if self.then is None else self.then(epoch - self.epochs, lr0)

    def describe(self) -> dict[str, Any]:
        then = None if self.then is None else self.then.describe()
        return {"type": "WarmUp", "epochs": self.epochs, "then": then, "start": self.start}
