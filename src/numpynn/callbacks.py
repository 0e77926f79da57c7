"""Callbacks: hooks that ``fit`` calls during training (progress display, early stopping...).

``fit`` calls, in order: ``on_train_begin(model)``; per epoch ``on_epoch_begin(epoch)``,
``on_batch_end(batch, logs)`` after each mini-batch (logs: ``{"loss": batch loss}``) and
``on_epoch_end(epoch, logs)`` (logs: the epoch's ``loss``, ``accuracy``, ``val_loss``,
``val_accuracy`` and ``seconds``); finally ``on_train_end(history)``. Epochs count from 0.
A callback stops training by setting ``model.stop_training = True``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .validation import check_non_negative, check_positive_int

if TYPE_CHECKING:
    from .model import Sequential


class Callback:
    """Base class: every hook does nothing until overridden."""

    def on_train_begin(self, model: Sequential) -> None:
        self.model = model

    def on_epoch_begin(self, epoch: int) -> None:
        pass

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        pass

    def on_train_end(self, history: dict[str, list[float]]) -> None:
        pass


class PrintProgress(Callback):
    """Print the epoch's metrics on epochs 0, every, 2 * every, ..."""

    def __init__(self, every: int = 1) -> None:
        self.every = check_positive_int("every", every)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if epoch % self.every == 0:
            metrics = "  ".join(f"{k} {v:.6g}" for k, v in logs.items() if k != "seconds")
            print(f"epoch {epoch:>6}  {metrics}")


class EarlyStopping(Callback):
    """Stop when ``monitor`` (default ``val_loss``) has not improved by more than ``min_delta``
    for ``patience`` epochs; with ``restore_best``, put back the best epoch's weights."""

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best: bool = True,
    ) -> None:
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be the name of a logged metric, got {monitor!r}")
        self.monitor = monitor
        self.patience = check_positive_int("patience", patience)
        self.min_delta = check_non_negative("min_delta", min_delta)
        self.restore_best = restore_best
        self.sign = -1.0 if "accuracy" in monitor else 1.0  # accuracy: higher is better
        self.resumed = False  # set_state was called: the next fit continues from it

    def on_train_begin(self, model: Sequential) -> None:
        super().on_train_begin(model)
        if self.resumed:
            self.resumed = False
            return
        self.best = math.inf
        self.best_epoch = -1
        self.best_params: list[Any] = []
        self.wait = 0

    def get_state(self) -> dict[str, Any]:
        """Where the last ``fit`` stands, as JSON data: ``"best"`` (the best value of
        ``monitor``, None before one), ``"best_epoch"`` (-1 before one) and ``"wait"`` (epochs
        since). With ``best_params`` it is what :meth:`set_state` needs to continue."""
        best = self.sign * self.best if math.isfinite(self.best) else None
        return {"best": best, "best_epoch": self.best_epoch, "wait": self.wait}

    def set_state(self, state: dict[str, Any], best_params: list[Any]) -> None:
        """Make the next ``fit`` continue from ``state`` (a :meth:`get_state`) and the best
        epoch's parameters instead of starting afresh. Epochs count from the next fit's first:
        a best epoch of an earlier fit is negative."""
        self.best = math.inf if state["best"] is None else self.sign * float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        self.wait = int(state["wait"])
        self.best_params = [p.copy() for p in best_params]
        self.resumed = True

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r}, which fit does not report; it reports "
                f"{sorted(logs)} (val_* needs validation_data)"
            )
        value = self.sign * logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_params = [p.copy() for p in self.model.parameters()]
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.model.stop_training = True

    def on_train_end(self, history: dict[str, list[float]]) -> None:
        if self.restore_best and self.best_params:
            for p, best in zip(self.model.parameters(), self.best_params, strict=True):
                p[...] = best
