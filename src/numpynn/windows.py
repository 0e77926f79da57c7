"""Windows of one long stream of token ids, for training and measuring a language model
without building every window in memory (a text of a million characters has a million).

A window of ``block`` ids starting at s is the input x = ids[s : s + block]; its targets are
the next id at every position, t = ids[s + 1 : s + block + 1].

- :class:`RandomWindows` is what ``fit`` trains on: each batch draws its starts at random
  from the run's generator, nanoGPT's ``get_batch``; an epoch is a fixed number of batches.
- :func:`spread_windows` gives a fixed set of windows spread evenly over a stream: the
  validation windows whose mean loss is the same measurement at every evaluation.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ._typing import Array
from .validation import check_positive_int


def check_stream(ids: npt.ArrayLike, block: int, name: str = "ids") -> Array:
    """A stream of token ids: 1-D, integers >= 0, longer than one window and its targets
    (block + 1 ids); int64. TypeError/ValueError naming ``name`` otherwise."""
    block = check_positive_int("block", block)
    ids = np.asarray(ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"{name} must hold integer token ids, got dtype {ids.dtype}")
    if ids.ndim != 1:
        raise ValueError(f"{name} must be one stream of token ids (n_tokens,), got {ids.shape}")
    if len(ids) < block + 1:
        raise ValueError(
            f"{name} has {len(ids)} tokens: a window of block={block} and its targets need "
            f"at least {block + 1}"
        )
    if ids.min() < 0:
        raise ValueError(f"{name} must hold ids >= 0, got {ids.min()}")
    return np.ascontiguousarray(ids, dtype=np.int64)


def _window(ids: Array, starts: Array, block: int) -> tuple[Array, Array]:
    """(x, t), each (len(starts), block): the windows at ``starts`` and their targets."""
    positions = starts[:, None] + np.arange(block)
    return ids[positions], ids[positions + 1]


class RandomWindows:
    """Training data for ``fit``: random windows of a stream of token ids.

    ids (n_tokens,) integers; ``block`` ids per window; an epoch of ``fit`` is
    ``steps_per_epoch`` batches, each of ``batch_size`` windows whose starts are drawn
    uniformly from [0, n_tokens - block) with the run's generator (so a seed fixes them and a
    resumed run draws the same). Windows overlap and repeat: an epoch is a number of steps,
    not a pass over the text. ``model.fit(RandomWindows(train_ids, 64, steps_per_epoch=250),
    epochs=8, batch_size=12)`` is nanoGPT's 2,000 steps with an evaluation every 250.
    """

    def __init__(self, ids: npt.ArrayLike, block: int, *, steps_per_epoch: int) -> None:
        self.ids = check_stream(ids, block)
        self.block = int(block)
        self.steps_per_epoch = check_positive_int("steps_per_epoch", steps_per_epoch)

    def __len__(self) -> int:
        """The number of tokens in the stream."""
        return len(self.ids)

    def __repr__(self) -> str:
        return (
            f"RandomWindows({len(self.ids)} tokens, block={self.block}, "
            f"steps_per_epoch={self.steps_per_epoch})"
        )

    def batch(self, batch_size: int, rng: np.random.Generator) -> tuple[Array, Array]:
        """(x, t), each (batch_size, block) int64: windows at random starts and their
        targets."""
        starts = rng.integers(0, len(self.ids) - self.block, batch_size)
        return _window(self.ids, starts, self.block)


def spread_windows(ids: npt.ArrayLike, block: int, count: int) -> tuple[Array, Array]:
    """(X, T), each (count, block) int64: ``count`` windows of ``block`` ids whose starts are
    spread evenly from the first to the last possible one (fewer if the stream has fewer
    starts), and their targets. The same stream gives the same windows: a validation set."""
    ids = check_stream(ids, block)
    count = check_positive_int("count", count)
    last = len(ids) - block - 1  # the last start whose targets fit
    starts = np.unique(np.linspace(0, last, min(count, last + 1)).round().astype(np.int64))
    return _window(ids, starts, block)
