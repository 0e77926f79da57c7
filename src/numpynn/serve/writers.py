"""Generation off the event loop: a few copies of the language model, each writing for one
request at a time in a worker thread, and a bounded line of requests waiting for one.

A model keeps state while it writes (a recurrent layer's state, a transformer's key/value
cache, what each layer keeps for backward), so two requests never share a copy: ``size``
copies write at once (NumPy releases the GIL in its matrix products, so each can have a
core), and a request that finds all busy waits its turn. At most ``max_queue`` requests wait;
one more is refused with QueueFullError (HTTP 503), before anything is sent.

Characters are drawn in the thread in chunks (at most ``CHUNK_CHARS`` characters or
``CHUNK_SECONDS`` seconds), each handed to the event loop as soon as it is complete, so that
a streamed answer shows the text as it is written and a client that goes away stops the
writing at the next chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import time
from collections.abc import AsyncIterator, Iterator

import anyio.to_thread

from ..trained import TrainedLanguageModel
from .batching import QueueFullError
from .text_requests import WordsRequest, WriteRequest

CHUNK_CHARS = 16  # characters per chunk of a streamed answer, at most...
CHUNK_SECONDS = 0.05  # ...or as many as are drawn in this time


@dataclasses.dataclass
class Stats:
    requests: int = 0  # requests that got a copy of the model
    characters: int = 0  # characters written
    rejected: int = 0  # requests refused with QueueFullError
    most_at_once: int = 0  # the most copies writing at the same time


class Writers:
    """``size`` copies of ``writer`` (the first is ``writer`` itself), lent to one request at
    a time; at most ``max_queue`` requests wait for one."""

    def __init__(self, writer: TrainedLanguageModel, size: int, max_queue: int) -> None:
        if size < 1 or max_queue < 0:
            raise ValueError(f"size must be >= 1 and max_queue >= 0, got {size}, {max_queue}")
        self.writer = writer
        self.size = size
        self.max_queue = max_queue
        self._free = [writer, *(copy.deepcopy(writer) for _ in range(size - 1))]
        self._turns = asyncio.Semaphore(size)  # first come, first served; one event loop
        self.waiting = 0
        self.stats = Stats()

    @property
    def busy(self) -> int:
        """Copies writing now."""
        return self.size - len(self._free)

    def check_room(self) -> None:
        """QueueFullError unless a request may wait for a copy now (a streamed answer checks
        before its response starts: a 503 cannot follow a 200)."""
        if self.busy + self.waiting >= self.size + self.max_queue:
            self.stats.rejected += 1
            raise QueueFullError(f"{self.busy} writing, {self.waiting} waiting for their turn")

    @contextlib.asynccontextmanager
    async def lend(self) -> AsyncIterator[TrainedLanguageModel]:
        """A copy of the model for this request alone, once one is free."""
        self.check_room()
        self.waiting += 1
        try:
            await self._turns.acquire()
        finally:
            self.waiting -= 1
        writer = self._free.pop()  # there is one for each turn
        self.stats.requests += 1
        self.stats.most_at_once = max(self.stats.most_at_once, self.busy)
        try:
            yield writer
        finally:
            self._free.append(writer)
            self._turns.release()

    async def write(self, request: WriteRequest) -> AsyncIterator[str]:
        """The continuation of ``request.prompt`` in chunks, as they are drawn, by a copy of
        the model lent for the whole text."""
        async with self.lend() as writer:
            sampling = request.sampling
            draws = writer.write(
                request.prompt,
                request.length,
                temperature=sampling.temperature,
                top_k=sampling.top_k,
                seed=sampling.seed,
            )
            try:
                while chunk := await anyio.to_thread.run_sync(_next_chunk, draws):
                    self.stats.characters += len(chunk)
                    yield chunk
            finally:
                # the thread is done (a cancelled task waits for it): close here, while the
                # copy is still ours, so that it ends its writing (restores a recurrent state)
                getattr(draws, "close", lambda: None)()

    async def words(self, request: WordsRequest) -> list[str]:
        """``request.count`` new words, drawn in a worker thread."""
        async with self.lend() as writer:
            sampling = request.sampling

            def draw() -> list[str]:
                return writer.words(
                    request.count,
                    prefix=request.prefix,
                    temperature=sampling.temperature,
                    top_k=sampling.top_k,
                    seed=sampling.seed,
                )

            return await anyio.to_thread.run_sync(draw)


def _next_chunk(draws: Iterator[str]) -> str:
    """The next characters of ``draws``: CHUNK_CHARS, or those drawn in CHUNK_SECONDS, or
    what is left ("" at the end)."""
    end = time.monotonic() + CHUNK_SECONDS
    chars = []
    for char in draws:
        chars.append(char)
        if len(chars) == CHUNK_CHARS or time.monotonic() >= end:
            break
    return "".join(chars)
