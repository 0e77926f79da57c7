"""Dynamic batching: requests that arrive close together share one forward pass.

A request's rows wait in a queue of at most ``max_queue`` rows. One worker takes the oldest
request. A request that found the batcher idle (nothing waiting, no forward pass running) and
is still alone when the worker takes it runs at once: a lone client pays no window. Otherwise
requests are coming in, and the worker waits until ``window`` seconds have passed since the
oldest arrived (or until ``max_batch`` rows are waiting) for more to join. Then it stacks the
waiting requests' rows into one array of at most ``max_batch`` rows (a request is never
split; one larger than ``max_batch`` goes alone), runs the forward pass, and hands each
request its own rows of the result. A forward pass expected to take longer than
``INLINE_SECONDS`` (at the time per row of the last one) runs in a thread, so that the server
keeps accepting requests meanwhile and the next batch gathers; a shorter one runs in the event
loop, because handing it to the thread and back costs more CPU than it saves (with the default
MLP: 0.02 ms per hand-over on an idle machine, 0.08 ms under load, against 0.04 ms for a
forward pass of one row). The first pass, not timed yet, runs in the thread. ``max_batch=1``
gives one forward pass per request (no batching); a request larger than ``max_queue`` is taken
only when nothing waits.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import dataclasses
import time
from collections.abc import Callable

import numpy as np

from .._typing import Array

INLINE_SECONDS = 0.001  # forward passes expected to be shorter run in the event loop


class QueueFullError(Exception):
    """The queue holds ``max_queue`` rows: come back later (HTTP 503 + Retry-After)."""


@dataclasses.dataclass
class _Request:
    X: Array  # (n_rows, n_features)
    answer: asyncio.Future[Array]
    arrived: float  # time.monotonic()
    found_idle: bool  # nothing waited and no forward pass ran when it arrived


@dataclasses.dataclass
class Stats:
    requests: int = 0  # requests answered
    rows: int = 0  # rows answered
    forward_passes: int = 0
    largest_batch: int = 0  # rows
    rejected: int = 0  # requests refused with QueueFullError


class Batcher:
    """Run ``forward`` (X: (n, n_features) -> (n, n_outputs)) on batches of waiting requests.

    window: seconds the oldest waiting request may wait for others while requests are coming
    in (a lone request on an idle batcher does not wait; 0: no waiting);
    max_batch: rows per forward pass; max_queue: rows waiting before QueueFullError (a
    request larger than max_queue is taken when nothing waits).
    Start it with ``start()`` inside the event loop that calls ``predict``; ``stop()`` ends it.
    """

    def __init__(
        self,
        forward: Callable[[Array], Array],
        window: float = 0.002,
        max_batch: int = 64,
        max_queue: int = 1024,
    ) -> None:
        if window < 0 or max_batch < 1 or max_queue < 1:
            raise ValueError(
                "window must be >= 0 and max_batch, max_queue >= 1, got "
                f"{window}, {max_batch}, {max_queue}"
            )
        self.forward = forward
        self.window = window
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.stats = Stats()
        self._waiting: collections.deque[_Request] = collections.deque()
        self._rows_waiting = 0
        self._arrived: asyncio.Event | None = None  # a request arrived
        self._full: asyncio.Event | None = None  # max_batch rows wait, or the window is over
        self._worker: asyncio.Task[None] | None = None
        self._busy = False  # a batch is being computed
        self._thread: concurrent.futures.ThreadPoolExecutor | None = None
        self._seconds_per_row = float("inf")  # of the last forward pass

    @property
    def queued(self) -> int:
        """Rows waiting for a forward pass."""
        return self._rows_waiting

    def start(self) -> None:
        self._arrived, self._full = asyncio.Event(), asyncio.Event()
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="forward")
        self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
        for request in self._waiting:
            request.answer.cancel()
        self._waiting.clear()
        self._rows_waiting = 0
        if self._thread is not None:
            self._thread.shutdown(wait=False)
            self._thread = None
        self._arrived = self._full = None

    async def predict(self, X: Array) -> Array:
        """forward(X) for X: (n_rows, n_features), computed with other requests' rows."""
        if self._arrived is None or self._full is None:
            raise RuntimeError("Batcher.start() was not called")
        if self._rows_waiting and self._rows_waiting + len(X) > self.max_queue:
            self.stats.rejected += 1
            raise QueueFullError(f"{self._rows_waiting} inputs are waiting")
        found_idle = not self._waiting and not self._busy
        answer = asyncio.get_running_loop().create_future()
        request = _Request(X, answer, time.monotonic(), found_idle)
        self._waiting.append(request)
        self._rows_waiting += len(X)
        self._arrived.set()
        if self._rows_waiting >= self.max_batch:
            self._full.set()
        return await request.answer

    async def _run(self) -> None:
        assert self._arrived is not None and self._full is not None
        loop = asyncio.get_running_loop()
        while True:
            while not self._waiting:
                self._arrived.clear()
                await self._arrived.wait()
            lone = len(self._waiting) == 1 and self._waiting[0].found_idle
            left = self._waiting[0].arrived + self.window - time.monotonic()
            if not lone and left > 0 and self._rows_waiting < self.max_batch:
                self._full.clear()  # set by predict at max_batch rows, or by the timer
                timer = loop.call_later(left, self._full.set)
                await self._full.wait()
                timer.cancel()
            self._busy = True
            try:
                await self._answer(self._take_batch())
            finally:
                self._busy = False

    async def _answer(self, batch: list[_Request]) -> None:
        """One forward pass of the rows of ``batch``; each request gets its own rows."""
        try:
            X = batch[0].X if len(batch) == 1 else np.concatenate([r.X for r in batch])
            if self._seconds_per_row * len(X) < INLINE_SECONDS:
                Y = self._timed_forward(X)
            else:
                loop = asyncio.get_running_loop()
                Y = await loop.run_in_executor(self._thread, self._timed_forward, X)
        except Exception as exc:  # a bug in forward: fail these requests, keep serving
            for request in batch:
                if not request.answer.done():
                    request.answer.set_exception(exc)
            return
        self.stats.forward_passes += 1
        self.stats.largest_batch = max(self.stats.largest_batch, len(X))
        start = 0
        for request in batch:
            n = len(request.X)
            if not request.answer.done():  # done: the client went away
                request.answer.set_result(Y[start : start + n])
            start += n
            self.stats.requests += 1
            self.stats.rows += n

    def _timed_forward(self, X: Array) -> Array:
        start = time.perf_counter()
        Y = self.forward(X)
        self._seconds_per_row = (time.perf_counter() - start) / max(len(X), 1)
        return Y

    def _take_batch(self) -> list[_Request]:
        """The oldest waiting requests, whole, up to max_batch rows (at least one request)."""
        batch = [self._waiting.popleft()]
        rows = len(batch[0].X)
        while self._waiting and rows + len(self._waiting[0].X) <= self.max_batch:
            request = self._waiting.popleft()
            batch.append(request)
            rows += len(request.X)
        self._rows_waiting -= rows
        return batch
