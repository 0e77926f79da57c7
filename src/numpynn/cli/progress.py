"""Progress display: a tqdm bar per epoch with the live loss, and one summary line per epoch."""

from __future__ import annotations

import sys
from typing import Any

from ..callbacks import Callback
from ..epochs import one_based


class Progress(Callback):
    """Shows each epoch, from 1, of ``epochs``: a bar of ``n_batches`` steps on stderr (only
    on a terminal), then prints the summary line on stdout (``quiet``: nothing). Its state,
    which a checkpoint keeps, is the wall time of each epoch of the run (``seconds``)."""

    def __init__(
        self, epochs: int, n_batches: int, quiet: bool = False, steps: int | None = None
    ) -> None:
        self.epochs, self.n_batches, self.quiet = epochs, n_batches, quiet
        self.steps = steps  # a run counted in steps (a language model's): their number
        self.bar: Any = None
        self.seconds: list[float] = []

    def on_train_begin(self, model: Any) -> None:
        super().on_train_begin(model)
        self.seconds = []

    def on_epoch_begin(self, epoch: int) -> None:
        self.running_loss = 0.0
        if self.quiet:
            return
        from tqdm import tqdm  # type: ignore[import-untyped]  # lazy: the cli extra

        first = self.run.step + 1
        self.bar = tqdm(
            total=self.n_batches
            if self.steps is None
            else min(self.n_batches, self.steps - first + 1),
            desc=f"epoch {one_based(epoch)}/{self.epochs}"
            if self.steps is None
            else f"steps {first}-{min(first + self.n_batches - 1, self.steps)}",
            unit="batch",
            leave=False,
            disable=None,  # no bar when stderr is not a terminal
            file=sys.stderr,
            dynamic_ncols=True,
        )

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        # The live loss is a running average over the epoch's batches so far.
        self.running_loss += (logs["loss"] - self.running_loss) / (batch + 1)
        if self.bar is not None and not self.bar.disable:
            self.bar.update(1)
            if batch % 10 == 0:
                self.bar.set_postfix_str(f"loss {self.running_loss:.4f}", refresh=False)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.close()
        self.seconds.append(float(logs["seconds"]))
        if not self.quiet:
            if self.steps is None:
                print(summary_line(one_based(epoch), self.epochs, logs), flush=True)
            else:
                print(summary_line(self.run.step, self.steps, logs, "step"), flush=True)

    def on_train_end(self, history: dict[str, list[float]]) -> None:
        self.close()

    def get_state(self) -> dict[str, Any]:
        return {"seconds": self.seconds}

    def set_state(self, state: dict[str, Any]) -> None:
        seconds = state["seconds"]
        if not isinstance(seconds, list) or not all(isinstance(s, int | float) for s in seconds):
            raise TypeError(f"seconds must be a list of numbers, got {seconds!r:.80}")
        self.seconds = [float(s) for s in seconds]

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def summary_line(epoch: int, epochs: int, logs: dict[str, float], unit: str = "epoch") -> str:
    """'epoch  3/10  loss 0.0812  acc 97.52%  val_loss 0.0771  val_acc 97.80%  2.13 s' (or
    'step  250/2000 ...' for a run counted in steps)."""
    width = len(str(epochs))
    parts = [f"{unit} {epoch:>{width}}/{epochs}", f"loss {logs['loss']:.4f}"]
    if "accuracy" in logs:
        parts.append(f"acc {logs['accuracy']:.2%}")
    if "val_loss" in logs:
        parts.append(f"val_loss {logs['val_loss']:.4f}")
    if "val_accuracy" in logs:
        parts.append(f"val_acc {logs['val_accuracy']:.2%}")
    parts.append(f"{logs.get('seconds', 0.0):.2f} s")
    return "  ".join(parts)
