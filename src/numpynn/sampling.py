"""Training batches drawn at random for each step, as nanoGPT and makemore train: an epoch
of ``fit`` is then a number of steps, not a pass over the data.

A window of ``block`` ids of a stream of token ids starting at s is the input
x = ids[s : s + block]; its targets are the next id at every position,
t = ids[s + 1 : s + block + 1].

- :class:`RandomWindows`: each batch takes windows at random starts of one long stream
  (nanoGPT's ``get_batch``), without building every window in memory (a text of a million
  characters has a million).
- :class:`RandomRows`: each batch takes rows of (X, y) at random, with replacement
  (makemore's ``torch.randint(0, len(X), (batch_size,))``).
- :class:`ContiguousWindows`: the stream cut into ``batch_size`` tracks read side by side,
  each batch the next window of every track, so that a recurrent layer carries its state from
  one batch to the next (truncated backpropagation through time, DLFS vol. 2 ch. 5).
- :func:`~numpynn.spread_windows` gives a fixed set of windows spread evenly over a stream: the
  validation windows whose mean loss is the same measurement at every evaluation.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from ._typing import Array
from .validation import check_positive_int


def check_stream(ids: npt.ArrayLike, block: int, name: str = "ids") -> Array:
    """A stream of token ids: 1-D, integers >= 0, longer than one window and its targets
    (block + 1 ids); int64. TypeError/ValueError naming ``name`` otherwise.

    Parameters
    ----------
    ids : array_like
        (n_tokens,) integer token ids.
    block : int
        The window length (>= 1).
    name : str
        The argument's name in error messages.

    Returns
    -------
    ndarray
        (n_tokens,) int64, contiguous (``ids`` itself when it already is).

    Raises
    ------
    TypeError
        For ids that are not integers, or a block that is not an int.
    ValueError
        For ids that are not 1-D, fewer than block + 1 or negative, or a block < 1.
    """
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


class BatchSource:
    """Training data for ``fit`` that makes its own batches: ``steps(batch_size)`` batches an
    epoch, from ``batches(batch_size, rng)``. ``carries_state``: the batches continue each
    other row by row, so the recurrent layers carry their state from one to the next."""

    carries_state = False

    def __len__(self) -> int:
        """The number of samples (rows) or tokens (a stream) it draws from."""
        raise NotImplementedError

    def steps(self, batch_size: int) -> int:
        """The number of batches in an epoch.

        Parameters
        ----------
        batch_size : int
            Samples (or windows) per batch.

        Returns
        -------
        int
            Batches in an epoch.
        """
        raise NotImplementedError

    def batches(self, batch_size: int, rng: np.random.Generator) -> Iterator[tuple[Array, Array]]:
        """An epoch's batches (x, t): samples and their targets.

        Parameters
        ----------
        batch_size : int
            Samples (or windows) per batch.
        rng : numpy.random.Generator
            The run's generator (draws the batches).

        Yields
        ------
        tuple of ndarray
            (x, t): one batch of samples and their targets.
        """
        raise NotImplementedError


class RandomBatches(BatchSource):
    """Training data for ``fit`` whose epoch is ``steps_per_epoch`` batches, each drawn at
    random by :meth:`batch` from the run's generator (a seed fixes them, a resumed run draws
    the same)."""

    steps_per_epoch: int

    def steps(self, batch_size: int) -> int:
        return self.steps_per_epoch

    def batches(self, batch_size: int, rng: np.random.Generator) -> Iterator[tuple[Array, Array]]:
        return (self.batch(batch_size, rng) for _ in range(self.steps_per_epoch))

    def batch(self, batch_size: int, rng: np.random.Generator) -> tuple[Array, Array]:
        """(x, t): a batch of ``batch_size`` samples and their targets.

        Parameters
        ----------
        batch_size : int
            Samples (or windows) per batch.
        rng : numpy.random.Generator
            The run's generator.

        Returns
        -------
        tuple of ndarray
            (x, t), each ``batch_size`` rows.
        """
        raise NotImplementedError


class RandomRows(RandomBatches):
    """Training data for ``fit``: batches of rows of X (n_samples, ...) and their targets y
    (n_samples, ...) drawn uniformly with replacement, ``steps_per_epoch`` batches an epoch.
    ``fit`` checks X and y as it checks arrays (and prepares y for its loss).

    Parameters
    ----------
    X, y : array_like, shape (n_samples, ...)
        Inputs and targets, one row per sample.
    steps_per_epoch : int
        Batches in an epoch.

    Raises
    ------
    TypeError, ValueError
        For no samples, X and y of different lengths, or a steps_per_epoch that is not a
        positive int.
    """

    def __init__(self, X: npt.ArrayLike, y: npt.ArrayLike, *, steps_per_epoch: int) -> None:
        self.X, self.y = np.asarray(X), np.asarray(y)
        if self.X.ndim == 0 or len(self.X) == 0 or len(self.X) != len(self.y):
            raise ValueError(
                f"X and y must be the same number of samples (>= 1), got {self.X.shape} "
                f"and {self.y.shape}"
            )
        self.steps_per_epoch = check_positive_int("steps_per_epoch", steps_per_epoch)

    def __len__(self) -> int:
        return len(self.X)

    def __repr__(self) -> str:
        return f"RandomRows({len(self.X)} samples, steps_per_epoch={self.steps_per_epoch})"

    def batch(self, batch_size: int, rng: np.random.Generator) -> tuple[Array, Array]:
        """(X[rows], y[rows]) for ``batch_size`` rows drawn uniformly with replacement."""
        rows = rng.integers(0, len(self.X), batch_size)
        return self.X[rows], self.y[rows]


class RandomWindows(RandomBatches):
    """Training data for ``fit``: random windows of a stream of token ids.

    ids (n_tokens,) integers; ``block`` ids per window; an epoch of ``fit`` is
    ``steps_per_epoch`` batches, each of ``batch_size`` windows whose starts are drawn
    uniformly from [0, n_tokens - block) with the run's generator (so a seed fixes them and a
    resumed run draws the same). Windows overlap and repeat: an epoch is a number of steps,
    not a pass over the text. ``model.fit(RandomWindows(train_ids, 64, steps_per_epoch=250),
    epochs=8, batch_size=12)`` is nanoGPT's 2,000 steps with an evaluation every 250.

    Parameters
    ----------
    ids : array_like of int, shape (n_tokens,)
        The token stream.
    block : int
        Ids per window; the targets are the next ids.
    steps_per_epoch : int
        Batches in an epoch.
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


class ContiguousWindows(BatchSource):
    """Training data for ``fit``: a stream of token ids read in order, as truncated
    backpropagation through time reads it (DLFS vol. 2's ``RnnlmTrainer``).

    With batches of B windows, the ids are cut into B tracks of L = (n_tokens - 1) // B ids
    (track b starts at b L); batch s holds the s-th window of ``block`` ids of every track,
    x[b] = ids[b L + s block : b L + (s + 1) block], with the next ids as targets. An epoch
    is the L // block batches of one pass; the recurrent layers carry their state from each
    batch to the next (``fit`` makes them stateful from a zero state at the start of each
    epoch, and evaluates the validation windows from a zero state).

    Parameters
    ----------
    ids : array_like of int, shape (n_tokens,)
        The token stream.
    block : int
        Ids per window: the steps of truncated backpropagation through time.
    """

    carries_state = True

    def __init__(self, ids: npt.ArrayLike, block: int) -> None:
        self.ids = check_stream(ids, block)
        self.block = int(block)

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"ContiguousWindows({len(self.ids)} tokens, block={self.block})"

    def steps(self, batch_size: int) -> int:
        steps = (len(self.ids) - 1) // batch_size // self.block
        if steps < 1:
            raise ValueError(
                f"ContiguousWindows of {len(self.ids)} tokens cannot fill batch_size="
                f"{batch_size} tracks of block={self.block} ids and their targets: give fewer"
            )
        return steps

    def batches(self, batch_size: int, rng: np.random.Generator) -> Iterator[tuple[Array, Array]]:
        track = (len(self.ids) - 1) // batch_size
        starts = np.arange(batch_size) * track
        for step in range(self.steps(batch_size)):
            yield _window(self.ids, starts + step * self.block, self.block)


def spread_windows(ids: npt.ArrayLike, block: int, count: int) -> tuple[Array, Array]:
    """(X, T), each (count, block) int64: ``count`` windows of ``block`` ids whose starts are
    spread evenly from the first to the last possible one (fewer if the stream has fewer
    starts), and their targets. The same stream gives the same windows: a validation set.

    Parameters
    ----------
    ids : array_like
        (n_tokens,) integer token ids, at least block + 1 (:func:`numpynn.sampling.check_stream`).
    block : int
        The window length (>= 1).
    count : int
        The number of windows wanted (>= 1).

    Returns
    -------
    X : ndarray
        (count, block) int64 windows (fewer rows if the stream has fewer starts).
    T : ndarray
        (count, block) int64 targets: each window shifted by one id.

    Raises
    ------
    TypeError, ValueError
        As :func:`numpynn.sampling.check_stream`, or for a count that is not a positive int.
    """
    ids = check_stream(ids, block)
    count = check_positive_int("count", count)
    last = len(ids) - block - 1  # the last start whose targets fit
    starts = np.unique(np.linspace(0, last, min(count, last + 1)).round().astype(np.int64))
    return _window(ids, starts, block)
