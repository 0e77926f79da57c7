"""Embeddings: token ids -> vectors (Embedding), and learned positions added to them
(PositionalEmbedding), as ``torch.nn.Embedding`` and nanoGPT's ``wpe``.

A language model starts ``Embedding(vocab, dim), PositionalEmbedding(max_len, dim)``: ids
(n, T) -> (n, T, dim) -> (n, T, dim), each step's vector plus the vector of its position.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._typing import Array, Seed
from ..errors import ShapeError
from ..scratch import scratch
from .base import Layer, Shape, check_float_dtype, check_input_shape, check_sizes, out_array


class Embedding(Layer):
    """A lookup table: y = W[ids], W: (n_tokens, dim), one row per token id.

    ids (n, T) integers in [0, n_tokens) -> y (n, T, dim); ids (n,) -> (n, dim). W starts
    N(0, 1), as ``torch.nn.Embedding``'s. The gradient adds each position's dout to its
    token's row: dW[t] = sum of dout over the positions where ids == t (rows of tokens that
    do not occur get 0). Ids have no gradient: ``backward`` returns None, so Embedding comes
    first in a model (which then takes int64 ids, ``takes_ids``).

    Parameters
    ----------
    n_tokens : int
        The vocabulary size.
    dim : int
        The width of a token's vector.
    dtype : numpy dtype
        The parameters' floating type (float32 by default).
    seed : int or numpy.random.Generator, optional
        Seeds the initial weights.
    """

    params = ("W",)
    takes_ids = True
    acts_per_position = True

    def __init__(
        self,
        n_tokens: int,
        dim: int,
        *,
        dtype: type | np.dtype[Any] = np.float32,
        seed: Seed = None,
    ) -> None:
        check_sizes("Embedding", n_tokens=n_tokens, dim=dim)
        dtype = check_float_dtype("Embedding", dtype)
        self.W = np.random.default_rng(seed).standard_normal((int(n_tokens), int(dim)))
        self.W = self.W.astype(dtype)
        self.dW = np.zeros_like(self.W)

    @property
    def n_tokens(self) -> int:
        return int(self.W.shape[0])

    @property
    def dim(self) -> int:
        return int(self.W.shape[1])

    @property
    def input_shape(self) -> Shape:
        return (None,)  # T ids, any T

    def output_shape(self, input_shape: Shape | None) -> Shape:
        """(T,) ids -> (T, dim)."""
        check_input_shape(self, input_shape)
        T = None if input_shape is None else input_shape[0]
        return (T, self.dim)

    def forward(self, x: Array, training: bool = False) -> Array:
        """ids (n, T) (or (n,)) -> W[ids]: (n, T, dim) (or (n, dim))."""
        self.ids = self._checked_ids(x)
        out = out_array(self, "y", (*x.shape, self.dim), self.W.dtype, training)
        return np.take(self.W, self.ids, axis=0, out=out, mode="clip")  # ids checked in range

    def backward(self, dout: Array) -> None:  # type: ignore[override]
        """dW[t] = sum of dout over the positions holding id t; ids have no gradient: None."""
        ids = self.ids.reshape(-1)
        rows = dout.reshape(-1, self.dim)
        # Sum the rows of each id with one reduceat over the rows sorted by id, faster than
        # np.add.at for 12 x 64 ids, dim 128, float32: 0.10 against 0.71 ms (vocabulary 65),
        # 0.87 against 1.16 ms (vocabulary 50k, most of it zeroing the 25 MB of dW).
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
        self.dW.fill(0)
        self.dW[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)
        return None

    def backward_params(self, dout: Array) -> None:
        self.backward(dout)

    def _checked_ids(self, x: Array) -> Array:
        """``x`` as intp ids; TypeError for non-integers, ValueError for an id out of range."""
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.integer):
            raise TypeError(f"{self!r} takes integer token ids, got an array of dtype {x.dtype}")
        if x.ndim not in (1, 2):
            raise ShapeError(
                f"{self!r} takes token ids of shape (n_samples, T) or (n_samples,), got {x.shape}"
            )
        if x.size:
            low, high = x.min(), x.max()
            if low < 0 or high >= self.n_tokens:
                bad = low if low < 0 else high
                raise ValueError(
                    f"{self!r} takes token ids in [0, {self.n_tokens}), got id {bad} (at "
                    f"{tuple(int(i) for i in np.argwhere(x == bad)[0])})"
                )
        return x.astype(np.intp, copy=False)

    def config(self) -> dict[str, Any]:
        return {"n_tokens": self.n_tokens, "dim": self.dim}


class PositionalEmbedding(Layer):
    """Learned positions added to a sequence: y = x + W[:T], W: (max_len, dim).

    x (n, T, dim), T <= max_len -> y (n, T, dim). W starts N(0, 0.02^2), as nanoGPT's
    ``wpe`` (GPT-2's initialisation). dW[:T] = sum over the samples of dout (the rows of
    positions past T get 0); dx = dout.

    Parameters
    ----------
    max_len : int
        The longest sequence (the block).
    dim : int
        The width of the vectors.
    dtype : numpy dtype
        The parameters' floating type (float32 by default).
    seed : int or numpy.random.Generator, optional
        Seeds the initial weights.
    """

    params = ("W",)

    def __init__(
        self,
        max_len: int,
        dim: int,
        *,
        dtype: type | np.dtype[Any] = np.float32,
        seed: Seed = None,
    ) -> None:
        check_sizes("PositionalEmbedding", max_len=max_len, dim=dim)
        dtype = check_float_dtype("PositionalEmbedding", dtype)
        rng = np.random.default_rng(seed)
        self.W = (0.02 * rng.standard_normal((int(max_len), int(dim)))).astype(dtype)
        self.dW = np.zeros_like(self.W)

    @property
    def max_len(self) -> int:
        return int(self.W.shape[0])

    @property
    def dim(self) -> int:
        return int(self.W.shape[1])

    @property
    def input_shape(self) -> Shape:
        return (None, self.dim)

    def output_shape(self, input_shape: Shape | None) -> Shape:
        """(T, dim) -> (T, dim); ShapeError when T > max_len."""
        check_input_shape(self, input_shape)
        if input_shape is None:
            return (None, self.dim)
        self._check_length(input_shape[0])
        return input_shape

    def _check_length(self, steps: int | None) -> None:
        if steps is not None and steps > self.max_len:
            raise ShapeError(
                f"{self!r} takes sequences of at most max_len={self.max_len} steps, got T={steps}"
            )

    def forward(self, x: Array, training: bool = False) -> Array:
        """x (n, T, dim) -> x + W[:T]."""
        if x.ndim != 3 or x.shape[2] != self.dim:
            raise ShapeError(
                f"{self!r} takes sequences of shape (n_samples, T, {self.dim}), got {x.shape}"
            )
        self._check_length(x.shape[1])
        y = out_array(self, "y", x.shape, np.result_type(x, self.W), training)
        return np.add(x, self.W[: x.shape[1]], out=y)

    # Generation runs the model on new positions only (numpynn/generation.py): the positions
    # are all this layer needs to know of the earlier steps.
    can_step = True

    def new_cache(self, capacity: int) -> None:
        """Nothing to keep from step to step; ShapeError if ``capacity`` > max_len."""
        self._check_length(capacity)

    def forward_step(self, x: Array, cache: None, position: int) -> Array:
        """x (n, t, dim), the steps at positions [position, position + t) -> x + W[position:
        position + t]: those positions of what ``forward`` gives on the whole sequence."""
        end = position + x.shape[1]
        self._check_length(end)
        return x + self.W[position:end]

    def backward(self, dout: Array) -> Array:
        """dW[:T] = sum over n of dout; dx = dout."""
        self.backward_params(dout)
        return dout

    def backward_params(self, dout: Array) -> None:
        T = dout.shape[1]
        self.dW[T:] = 0
        ones = scratch(self, "ones", (len(dout),), dout.dtype, fill=1)
        # sum over the samples as 1^T dout: one BLAS product over (n, T dim)
        np.matmul(ones, dout.reshape(len(dout), -1), out=self.dW[:T].reshape(-1))

    def config(self) -> dict[str, Any]:
        return {"max_len": self.max_len, "dim": self.dim}
