"""The training loop: shuffled mini-batches, forward, loss, backward, update. Read top to bottom.

``Sequential.fit`` validates the inputs, then calls :func:`train`, which trusts them.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import Protocol

import numpy as np

from ._typing import Array
from .callbacks import Callback, TrainingRun
from .epochs import at_batch
from .errors import DivergenceError, TrainingInterrupted
from .layers import Dropout, Layer
from .layers.base import walk
from .layers.recurrent import _Recurrent
from .losses import BinaryCrossEntropy, CrossEntropy, Loss, MeanSquaredError
from .sampling import BatchSource


class BatchSplit(Protocol):
    """Forward, loss and backward of a batch split over threads (numpynn.parallel.Replicas)."""

    workers: int  # threads, and the fewest rows a batch must have to be split

    def step(
        self, x: Array, t: Array, w: Array | None, rng: np.random.Generator
    ) -> tuple[Array, float]:
        """Leave the batch's gradients on the model's layers; return (output, loss)."""
        ...


Augment = Callable[[Array, np.random.Generator], Array]

DIVERGENCE = 100.0  # fit's default: a batch loss 100 times the run's start has exploded


def train(
    run: TrainingRun,
    layers: Sequence[Layer],
    X: Array | BatchSource,
    T: Array | None,
    *,
    weights: Array | None = None,
    loss: Loss,
    batch_size: int,
    validation: tuple[Array, Array] | None,
    shuffle: bool,
    accuracy: bool,
    augment: Augment | None = None,
    resume: bool = False,
    replicas: BatchSplit | None = None,
    max_steps: int | None = None,
    divergence: float | None = DIVERGENCE,
) -> dict[str, list[float]]:
    """Train ``layers`` (the model's, with a final Softmax/Sigmoid fused into ``loss``) on
    X: (n_samples, ...) and targets T: (n_samples, n_outputs), each sample's loss
    weighted by ``weights`` (n_samples,) if given, from epoch ``run.epoch`` to ``run.epochs``
    (or until a callback stops it); ``accuracy`` adds the fraction of correct classes to the
    logs. ``augment(x, rng)`` returns a changed copy of each training batch x (random shifts
    of images...), drawing from the run's generator, so a resumed run draws the same.
    ``replicas`` (:mod:`numpynn.parallel`) split each batch's rows over threads.

    ``X`` may also be a :class:`~numpynn.sampling.BatchSource` (``T`` None): random windows
    of a token stream or random rows (an epoch is then a number of steps), or contiguous
    windows whose batches continue each other, the recurrent layers carrying their state
    from one to the next (stateful from a zero state each epoch, and restored after; the
    validation windows are read from a zero state).
    ``max_steps`` ends the run after that many batches in all (counted from the run's
    start), inside an epoch if need be, which then ends there. A NaN or infinite batch loss,
    or one above ``divergence`` times the run's starting loss (:func:`loss_limit`; None:
    only NaN and inf), raises DivergenceError. Return the run's history."""
    model, optimizer = run.model, run.optimizer
    callbacks = sorted(run.callbacks, key=lambda callback: callback.order)
    model.stop_training = False
    for callback in callbacks:
        callback.run = run
        callback.on_train_begin(model)
    for layer in walk(layers):  # with a composite layer's parts
        if isinstance(layer, Dropout):
            layer.rng = run.rng  # one generator for shuffling and dropout: one seed fixes both
    params, grads = model.parameters(), model.gradients()
    backward_order = _backward_order(layers)
    batch_callbacks = [c for c in callbacks if type(c).on_batch_end is not Callback.on_batch_end]

    if isinstance(X, BatchSource):
        run.steps_per_epoch = X.steps(batch_size)
    else:
        assert T is not None  # fit gives targets with X's rows
        n = len(X)
        batch_size = min(batch_size, n)
        # The batches are gathered into two reused arrays (the last, smaller batch into
        # their first rows).
        x_all = np.empty((batch_size, *X.shape[1:]), X.dtype)
        t_all = np.empty((batch_size, *T.shape[1:]), T.dtype)
        run.steps_per_epoch = -(-n // batch_size)
    if resume:
        restore(run)
    run.step = run.epoch * run.steps_per_epoch  # a run (re)starts at the start of an epoch
    # CrossEntropy's accuracy compares argmax(output) with each target row's class (argmax):
    # find the classes once per fit, note the predictions per batch, count them per epoch.
    # (Targets of class ids, a sequence model's, are counted per batch by count_correct.)
    one_hot_rows = T is not None and isinstance(loss, CrossEntropy) and T.dtype.kind == "f"
    labels = T.argmax(axis=1) if accuracy and one_hot_rows and T is not None else None
    predicted = np.empty(0 if T is None else len(T), np.intp)
    # The validation set gets its own loss object, so the training loss keeps its batch-sized
    # scratch arrays instead of swapping them for validation-sized ones every epoch.
    validation_loss = type(loss)(**loss.config())
    limit = math.inf  # the highest batch loss that is not a divergence, set at the first batch
    carries = isinstance(X, BatchSource) and X.carries_state
    carriers = [layer for layer in walk(layers) if carries and isinstance(layer, _Recurrent)]
    with _carrying(carriers, True):
        while (
            run.epoch < run.epochs
            and not model.stop_training
            and (max_steps is None or run.step < max_steps)
        ):
            epoch = run.epoch
            for callback in callbacks:
                callback.on_epoch_begin(epoch)
            started = time.perf_counter()
            batches: Iterator[tuple[Array, Array]]
            if isinstance(X, BatchSource):
                for layer in carriers:
                    layer.reset_state()
                batches = X.batches(batch_size, run.rng)
            else:
                assert T is not None
                order = run.rng.permutation(n) if shuffle else np.arange(n)
                batches = _rows(X, T, order, batch_size, x_all, t_all)
            total_loss = 0.0
            total_correct = 0
            total_counted = 0  # the predictions scored: samples, or a sequence model's tokens
            seen = 0  # samples (rows or windows) trained on in this epoch
            for batch, (x, t) in enumerate(batches):
                start, m = seen, len(x)
                seen += m
                w = None if weights is None else weights.take(order[start : start + m], mode="clip")
                if augment is not None:
                    x = augment(x, run.rng)

                if replicas is not None and m >= replicas.workers:  # the rows over threads
                    output, batch_loss = replicas.step(x, t, w, run.rng)
                else:
                    output = forward(layers, x, training=True)
                    batch_loss = loss.forward(output, t, w)
                    backward(backward_order, loss.backward())
                if limit == math.inf and divergence is not None:
                    limit = loss_limit(divergence, batch_loss, run.history, T, loss)
                if not batch_loss <= limit:  # NaN fails every comparison
                    grew = (
                        f"{batch_loss:.4g}, over {divergence:g} times the loss at the run's start "
                        f"(limit {limit:.4g})"
                        if math.isfinite(batch_loss)
                        else f"{batch_loss}"
                    )
                    raise DivergenceError(
                        f"training diverged at {at_batch(epoch, batch)}: the loss became "
                        f"{grew}; try a smaller learning rate (now {optimizer.lr:g})",
                        run,
                        epoch,
                        batch,
                    )
                optimizer.step(params, grads)
                run.step += 1

                counted = loss.n_counted(t)
                total_loss += batch_loss * counted
                total_counted += counted
                if labels is not None:
                    output.argmax(axis=1, out=predicted[start : start + m])
                elif accuracy:
                    total_correct += loss.count_correct(output, t)
                for callback in batch_callbacks:
                    callback.on_batch_end(batch, {"loss": batch_loss})
                if run.interrupted:  # Ctrl-C: stop here, between two updates
                    raise TrainingInterrupted(run, epoch, batch)
                if max_steps is not None and run.step >= max_steps:
                    break

            if labels is not None:
                total_correct = int(np.count_nonzero(predicted[:seen] == labels[order[:seen]]))
            logs = {"loss": total_loss / total_counted}
            if accuracy:
                logs["accuracy"] = total_correct / total_counted
            if validation is not None:
                X_val, T_val = validation
                with _carrying(carriers, False):
                    val_output = forward_in_chunks(layers, X_val)
                logs["val_loss"] = validation_loss.forward(val_output, T_val)
                if accuracy:
                    correct = validation_loss.count_correct(val_output, T_val)
                    logs["val_accuracy"] = correct / validation_loss.n_counted(T_val)
            for key, value in logs.items():
                run.history.setdefault(key, []).append(value)
            logs["seconds"] = time.perf_counter() - started
            run.epoch = epoch + 1
            for callback in callbacks:
                callback.on_epoch_end(epoch, logs)

    for callback in callbacks:
        callback.on_train_end(run.history)
    return run.history


def loss_limit(
    divergence: float, first: float, history: dict[str, list[float]], T: Array | None, loss: Loss
) -> float:
    """The highest batch loss of a run that has not diverged: ``divergence`` times its
    starting loss, the largest of the first batch's loss ``first`` (of this fit), the run's
    first epoch's mean loss (a resumed run's ``history``) and an uninformed guess's loss:
    log(C) for a classifier of C classes (one-hot T: (n, C)), log(2) per output for binary
    cross-entropy (a probability of 0.5), the targets' variance for
    MeanSquaredError (predicting their mean), so that a fit which starts near a loss of 0 (a
    model trained before) gets room for its noise. An infinite limit (no check) if that start
    is not a positive finite number (a NaN is reported anyway)."""
    start = max([first, *history.get("loss", [])[:1]])
    if T is not None and T.ndim == 2 and T.dtype.kind == "f":
        if isinstance(loss, CrossEntropy) and T.shape[1] > 1:
            start = max(start, math.log(T.shape[1]))
        elif isinstance(loss, BinaryCrossEntropy):  # a sum over the outputs, 0.5 each
            start = max(start, T.shape[1] * math.log(2))
        elif isinstance(loss, MeanSquaredError):  # its loss: 0.5 * sum of squares per sample
            start = max(start, 0.5 * float(np.var(T[:10_000], axis=0).sum()))
    return divergence * start if math.isfinite(start) and start > 0 else math.inf


@contextlib.contextmanager
def _carrying(layers: Sequence[_Recurrent], carry: bool) -> Iterator[None]:
    """Within it, the recurrent ``layers`` start from a zero state and carry their state from
    one call to the next if ``carry`` (else none); their own flag and state are restored
    after."""
    saved = [(layer.stateful, layer.state) for layer in layers]
    try:
        for layer in layers:
            layer.stateful = carry
            layer.reset_state()
        yield
    finally:
        for layer, (stateful, state) in zip(layers, saved, strict=True):
            layer.stateful, layer.state = stateful, state


def _rows(
    X: Array, T: Array, order: Array, batch_size: int, x_all: Array, t_all: Array
) -> Iterator[tuple[Array, Array]]:
    """The mini-batches (x, t) of the rows of X and T in ``order``, gathered into x_all and
    t_all (the last, smaller batch into their first rows); mode="clip" skips numpy's
    bounds-check copy (the rows are valid)."""
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        m = len(rows)
        yield X.take(rows, 0, x_all[:m], "clip"), T.take(rows, 0, t_all[:m], "clip")


def restore(run: TrainingRun) -> None:
    """Continue ``run`` from the latest state its checkpointing callback saved, if any."""
    restorers = [c for c in run.callbacks if type(c).restore is not Callback.restore]
    if not restorers:
        raise ValueError(
            "fit(resume=True) continues from the checkpoints of a ModelCheckpoint callback; "
            "pass one in callbacks (the one the interrupted run had)"
        )
    restorers[0].restore()


@contextlib.contextmanager
def interrupt_after_batch(run: TrainingRun) -> Iterator[None]:
    """Within it (in the main thread), the first Ctrl-C only sets ``run.interrupted``, so
    that :func:`train` stops at the end of the batch; a second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if run.interrupted:
            raise KeyboardInterrupt
        run.interrupted = True

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def forward(layers: Sequence[Layer], x: Array, training: bool) -> Array:
    """Apply ``layers`` in turn to x: (n_samples, n_in) -> (n_samples, n_out)."""
    for layer in layers:
        x = layer.forward(x, training)
    return x


CHUNK = 256  # images per forward pass at inference: im2col's columns stay near 60 MB


def forward_in_chunks(layers: Sequence[Layer], x: Array) -> Array:
    """``forward(layers, x, training=False)``, for images (x of 4 axes) in chunks of
    ``CHUNK`` samples: each sample's output is the same up to float rounding (BLAS may sum in
    another order for another number of rows), but a convolution's im2col columns (C k k values
    per output pixel) need memory for a chunk, not for the whole of x."""
    if x.ndim < 4 or len(x) <= CHUNK:  # rows and sequences whole (a stateful layer carries)
        return forward(layers, x, training=False)
    first = forward(layers, x[:CHUNK], training=False)
    out = np.empty((len(x), *first.shape[1:]), first.dtype)
    out[:CHUNK] = first
    for start in range(CHUNK, len(x), CHUNK):
        out[start : start + CHUNK] = forward(layers, x[start : start + CHUNK], training=False)
    return out


def _backward_order(layers: Sequence[Layer]) -> list[Layer]:
    """The layers that backpropagation visits, top first: none below the first trainable one,
    which needs no input gradient (saving its largest matrix product) and comes last."""
    trainable = [i for i, layer in enumerate(layers) if layer.params]
    return list(reversed(layers[trainable[0] :])) if trainable else []


def backward(order: Sequence[Layer], grad: Array) -> None:
    """Backpropagate dL/d(output) through ``order`` (from :func:`_backward_order`), leaving each
    parameter's gradient on its layer."""
    for layer in order[:-1]:
        grad = layer.backward(grad)
    if order:
        order[-1].backward_params(grad)
