"""Data parallelism: each training step split over threads, each on a share of the batch's rows.

NumPy releases the GIL in its loops and in BLAS, so K Python threads, each stepping a replica
of the layers on about n / K of the rows with one BLAS thread, keep K cores busy through the
element-wise passes as well as the matrix products; one BLAS call on two threads leaves the
element-wise passes (much of a convnet's step) on one core. A replica shares its layer's
parameters and keeps its own gradients and scratch arrays, and:

* the loss gradient of a share of m_i rows is scaled by m_i / m, so the replicas' parameter
  gradients add up to the whole batch's, for one optimiser step;
* BatchNorm replicas add up their sums per feature (:class:`ReplicaSync`) before using
  them: the batch statistics and their gradients are the whole batch's, as on one thread;
  the first replica updates the running averages;
* a replica that draws random numbers (Dropout) draws from a generator seeded for the step
  from the run's generator, so a run is reproducible and resumable for a given number of
  workers.

The result is one thread's up to float rounding (sums in another order), apart from the
dropout masks. A replica is a shallow ``copy.copy`` of its layer: a layer of your own that
keeps other state (a generator of its own, say) shares it between the replicas, which then
use it in whatever order the threads reach it.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ._typing import Array
from .layers import BatchNorm, Dropout, Layer
from .layers.base import get_array, get_grad, get_part, grad_name, set_array, sublayers, walk
from .losses import Loss
from .scratch import scratch
from .training import _backward_order, backward, forward

Group = tuple[threading.Barrier, list[list[Array]]]  # one BatchNorm's: a barrier, two slots


class ReplicaSync:
    """One replica's link to the others of the same BatchNorm layer. ``total(sums)`` waits
    until every replica has given its part and returns the sum of the parts, added in
    replica order (the same bits in every replica); ``rows`` is the whole batch's row count."""

    def __init__(self, barrier: threading.Barrier, slots: list[list[Array]], index: int) -> None:
        self.barrier, self.slots, self.index = barrier, slots, index  # slot[index]: its part
        self.rows = 0
        self.calls = 0

    def total(self, sums: Array) -> Array:
        # Two alternating slots: a replica writing its next part cannot overwrite one that
        # another replica is still adding up (it must first pass the barrier that one waits at).
        slot = self.slots[self.calls % 2]
        self.calls += 1
        slot[self.index] = sums
        self.barrier.wait()
        total = slot[0].copy()
        for part in slot[1:]:
            total += part
        return total


class Replicas:
    """``workers`` replicas of ``layers`` (a model's, with the output activation fused into
    ``loss``) on ``workers`` threads; ``step`` trains on one batch with all of them."""

    def __init__(self, layers: Sequence[Layer], loss: Loss, workers: int) -> None:
        self.workers = workers
        groups: dict[int, Group] = {
            id(layer): (threading.Barrier(workers), [[np.zeros(0)] * workers for _ in range(2)])
            for layer in walk(layers)
            if isinstance(layer, BatchNorm)
        }
        self.barriers = [barrier for barrier, _ in groups.values()]
        self.syncs: list[ReplicaSync] = []
        self.layers = [
            [self._replica(layer, i, groups) for layer in layers] for i in range(workers)
        ]
        self.orders = [_backward_order(replica) for replica in self.layers]
        self.losses = [type(loss)(**loss.config()) for _ in range(workers)]
        self.gradients = [_gradients(replica) for replica in self.layers]
        self.model_gradients = _gradients(layers)
        self.draws = any(isinstance(layer, Dropout) and layer.rate > 0 for layer in walk(layers))
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="numpynn-worker")

    def _replica(self, layer: Layer, index: int, groups: dict[int, Group]) -> Layer:
        """A shallow copy of ``layer`` with the same parameters, its own gradients and scratch
        arrays and, but for the first replica, its own copy of the buffers (BatchNorm's
        running averages, which the first replica updates for all)."""
        replica = copy.copy(layer)
        replica.__dict__.pop("_scratch", None)
        for path in sublayers(layer):  # a composite layer's parts: copies of their own
            part = copy.copy(get_part(replica, path))
            part.__dict__.pop("_scratch", None)
            set_array(replica, path, part)
        for name in layer.params:
            set_array(replica, grad_name(name), np.zeros_like(get_grad(layer, name)))
        if index > 0:
            for name in layer.buffers:
                set_array(replica, name, get_array(layer, name).copy())
        for original, copied in zip(walk([layer]), walk([replica]), strict=True):
            if isinstance(copied, BatchNorm):
                copied.sync = ReplicaSync(*groups[id(original)], index)
                self.syncs.append(copied.sync)
        return replica

    def close(self) -> None:
        self.pool.shutdown()

    def step(
        self, x: Array, t: Array, w: Array | None, rng: np.random.Generator
    ) -> tuple[Array, float]:
        """Forward, loss and backward for x: (m, ...), targets t: (m, n_outputs) and weights
        w: (m,) or None, the rows split over the workers: leave the whole batch's parameter
        gradients on the model's layers; return the output (m, n_out), valid until the next
        step, and the batch's loss. ``rng`` seeds the replicas' random draws."""
        m, k = len(x), self.workers
        rows = list(itertools.pairwise([m * i // k for i in range(k + 1)]))  # (start, stop)
        for sync in self.syncs:
            sync.rows = m
        seeds = rng.integers(2**63, size=k) if self.draws else None
        errors = dict(np.geterr())
        shares = [
            self.pool.submit(
                self._share,
                i,
                x[a:b],
                t[a:b],
                None if w is None else w[a:b],
                m,
                None if seeds is None else int(seeds[i]),
                errors,
            )
            for i, (a, b) in enumerate(rows)
        ]
        failures = [e for e in (share.exception() for share in shares) if e is not None]
        if failures:
            for barrier in self.barriers:
                barrier.reset()
            for sync in self.syncs:
                sync.calls = 0
            causes = [e for e in failures if not isinstance(e, threading.BrokenBarrierError)]
            raise (causes or failures)[0]
        outputs, losses = zip(*(share.result() for share in shares), strict=True)
        output = scratch(self, "output", (m, *outputs[0].shape[1:]), outputs[0].dtype)
        np.concatenate(outputs, out=output)
        for i, gradient in enumerate(self.model_gradients):
            np.copyto(gradient, self.gradients[0][i])
            for replica in self.gradients[1:]:
                gradient += replica[i]
        return output, sum(loss * (b - a) for loss, (a, b) in zip(losses, rows, strict=True)) / m

    def _share(
        self,
        i: int,
        x: Array,
        t: Array,
        w: Array | None,
        m: int,
        seed: int | None,
        errors: dict[str, Any],
    ) -> tuple[Array, float]:
        """Replica i's forward, loss and backward on its rows (run on a worker thread)."""
        layers, loss = self.layers[i], self.losses[i]
        if seed is not None:
            for layer in walk(layers):
                if isinstance(layer, Dropout):
                    layer.rng = np.random.default_rng(seed)
        try:
            with np.errstate(**errors):  # the caller's: error states are per thread
                output = forward(layers, x, training=True)
                share_loss = loss.forward(output, t, w)
                gradient = loss.backward()
                gradient *= gradient.dtype.type(len(x) / m)  # the share's part of the mean
                backward(self.orders[i], gradient)
        except BaseException:
            for barrier in self.barriers:  # release the replicas waiting for this one
                barrier.abort()
            raise
        return output, share_loss


def _gradients(layers: Sequence[Layer]) -> list[Array]:
    return [get_grad(layer, name) for layer in layers for name in layer.params]
