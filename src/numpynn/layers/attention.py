"""Multi-head self-attention over sequences x: (n, T, dim), and the transformer block built
around it (nanoGPT's Block). The attention is exactly nanoGPT's CausalSelfAttention
(``c_attn`` is ``W_qkv``, ``c_proj`` is ``W_out``, torch's weights transposed).

With H heads of size hs = dim / H, one matrix product gives the queries, keys and values of
every step, the three column blocks of

    [q | k | v] = x W_qkv + b_qkv                        (n, T, 3 dim),

each split into H contiguous heads (n, H, T, hs). Each head attends with

    att = softmax(q k^T / sqrt(hs))                      (n, H, T, T),
    y_h = att v                                          (n, H, T, hs),

the future masked (score -inf above the diagonal, weight 0) when ``causal``; the heads are
joined again side by side into (n, T, dim) and projected: out = y W_out + b_out.

The products over (n, H) are batched (np.matmul on 4-D arrays), without a loop over heads.
Backward runs the same products backwards; the softmax's gradient is
ds = att * (datt - sum(datt * att)) over the last axis, which is 0 where the mask made att 0.

Generation (numpynn/generation.py) runs a causal layer on new positions only: a
:class:`KVCache` keeps the keys and values of the positions seen so far, and
``forward_step(x_new, cache, position)`` appends those of the new positions and lets their
queries attend over every cached position, giving the rows of ``forward`` on the whole
sequence for a fraction of the work. The cache belongs to the caller, not to the layer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._typing import Array, Seed
from ..errors import ShapeError
from ..scratch import scratch
from .activations import GELU
from .base import Layer, Shape, check_float_dtype, check_input_shape, check_sizes
from .core import Dense, Dropout
from .normalization import LayerNorm


def _array(layer: Layer, name: str, shape: tuple[int, ...], dtype: Any, training: bool) -> Any:
    """A scratch array in training (reused batch after batch), else a new one."""
    return scratch(layer, name, shape, dtype) if training else np.empty(shape, dtype)


class KVCache:
    """The keys and values of one causal attention layer for the positions it has seen, for
    :meth:`MultiHeadAttention.forward_step`: ``keys``, ``values`` (n, H, capacity, hs), made
    at the first :meth:`store` (shaped and typed as its keys), their first positions valid.
    Generation makes one per attention layer and drops it when done: it is no part of the
    layer (not trained, not saved)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = int(capacity)
        self.keys: Array | None = None
        self.values: Array | None = None

    def store(self, k: Array, v: Array, position: int) -> tuple[Array, Array]:
        """Write k, v (n, H, t, hs) at positions [position, position + t) (overwriting what
        was there: position 0 starts afresh) -> the keys and values of positions
        [0, position + t), views (n, H, position + t, hs)."""
        n, H, t, hs = k.shape
        end = position + t
        if end > self.capacity:
            raise ValueError(
                f"KVCache holds {self.capacity} positions, got positions [{position}, {end})"
            )
        if self.keys is None or self.keys.shape[:2] != (n, H) or self.keys.dtype != k.dtype:
            self.keys = np.empty((n, H, self.capacity, hs), k.dtype)
            self.values = np.empty((n, H, self.capacity, hs), k.dtype)
        assert self.values is not None
        self.keys[:, :, position:end] = k
        self.values[:, :, position:end] = v
        return self.keys[:, :, :end], self.values[:, :, :end]


class MultiHeadAttention(Layer):
    """Self-attention: x (n, T, dim) -> (n, T, dim), with ``n_heads`` heads of size
    dim / n_heads (see the module's docstring for the math).

    Parameters: ``W_qkv`` (dim, 3 dim), ``b_qkv`` (3 dim,), ``W_out`` (dim, dim), ``b_out``
    (dim,); weights drawn from N(0, 0.02) as nanoGPT's, biases 0. ``causal=True`` lets step t
    attend to steps <= t only. ``dropout`` zeroes attention weights in training (inverted
    dropout, its generator set by ``fit``). ``attention`` holds the last forward's weights
    (n, H, T, T), before dropout.

    Parameters
    ----------
    dim : int
        Features per position; a multiple of ``n_heads``.
    n_heads : int
        Attention heads, of dim / n_heads features each.
    causal : bool
        Let step t attend to steps <= t only (a language model).
    dropout : float
        In [0, 1): the dropout rate, in training only.
    dtype : numpy dtype
        The parameters' floating type (float32 by default).
    seed : int or numpy.random.Generator, optional
        Seeds the initial weights.

    Raises
    ------
    TypeError, ValueError
        For a size that is not a positive int, ``dim`` not divisible by ``n_heads``, or
        ``dropout`` outside [0, 1).
    """

    params = ("W_qkv", "b_qkv", "W_out", "b_out")
    parts = ("drop",)

    def __init__(
        self,
        dim: int,
        n_heads: int,
        causal: bool = False,
        dropout: float = 0.0,
        *,
        dtype: type | np.dtype[Any] = np.float32,
        seed: Seed = None,
    ) -> None:
        check_sizes("MultiHeadAttention", dim=dim, n_heads=n_heads)
        if dim % n_heads:
            raise ValueError(
                f"MultiHeadAttention dim must be divisible by n_heads (heads of dim / n_heads "
                f"features each), got dim={dim} and n_heads={n_heads}"
            )
        if not isinstance(causal, bool | np.bool_):
            raise TypeError(f"MultiHeadAttention causal must be True or False, got {causal!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, int | float):
            raise TypeError(f"MultiHeadAttention dropout must be a number, got {dropout!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MultiHeadAttention dropout must be in [0, 1), got {dropout!r}")
        dtype = check_float_dtype("MultiHeadAttention", dtype)
        self.n_heads, self.causal = int(n_heads), bool(causal)
        rng = np.random.default_rng(seed)
        D = int(dim)
        self.W_qkv = rng.normal(0.0, 0.02, (D, 3 * D)).astype(dtype)
        self.b_qkv = np.zeros(3 * D, dtype)
        self.W_out = rng.normal(0.0, 0.02, (D, D)).astype(dtype)
        self.b_out = np.zeros(D, dtype)
        self.dW_qkv, self.db_qkv = np.zeros_like(self.W_qkv), np.zeros_like(self.b_qkv)
        self.dW_out, self.db_out = np.zeros_like(self.W_out), np.zeros_like(self.b_out)
        self.drop = Dropout(dropout, seed=seed)
        self.attention: Array | None = None

    @property
    def dim(self) -> int:
        return int(self.W_out.shape[0])

    @property
    def dropout(self) -> float:
        return self.drop.rate

    @property
    def input_shape(self) -> Shape:
        return (None, self.dim)

    def output_shape(self, input_shape: Shape | None) -> Shape:
        """(T, dim) -> (T, dim)."""
        hint = ""
        if input_shape is not None and len(input_shape) == 1:
            hint = (
                ": attention reads sequences (n_samples, steps, features), not rows "
                "(n_samples, features)"
            )
        check_input_shape(self, input_shape, hint)
        return (input_shape[0] if input_shape is not None else None, self.dim)

    def _future(self, T: int) -> Array:
        """(T, T) True above the diagonal: the steps a causal query may not see."""
        mask: Array | None = self.__dict__.get("_mask")
        if mask is None or len(mask) != T:
            mask = self._mask = np.triu(np.ones((T, T), bool), k=1)
        return mask

    def forward(self, x: Array, training: bool = False) -> Array:
        """x: (n, T, dim) -> (n, T, dim)."""
        if x.ndim != 3 or x.shape[2] != self.dim:
            raise ShapeError(
                f"{self!r} takes sequences of shape (n_samples, steps, {self.dim}) but gets an "
                f"array of shape {x.shape}"
            )
        n, T, D = x.shape
        H, hs = self.n_heads, D // self.n_heads
        dtype = np.result_type(x.dtype, self.W_qkv.dtype)
        self.x = x.reshape(n * T, D)
        qkv = np.matmul(self.x, self.W_qkv, out=_array(self, "qkv", (n * T, 3 * D), dtype, True))
        qkv += self.b_qkv  # [q | k | v] = x W_qkv + b_qkv
        # (3, n, H, T, hs) views: block, sample, head, step, feature of the head
        self.q, self.k, self.v = qkv.reshape(n, T, 3, H, hs).transpose(2, 0, 3, 1, 4)
        scores = np.matmul(
            self.q, self.k.swapaxes(2, 3), out=_array(self, "att", (n, H, T, T), dtype, training)
        )
        if self.causal:
            np.copyto(scores, -np.inf, where=self._future(T))
        scores -= scores.max(axis=-1, keepdims=True)  # a stable softmax of scores / sqrt(hs)
        scores *= dtype.type(1.0 / math.sqrt(hs))
        att = np.exp(scores, out=scores)
        att /= att.sum(axis=-1, keepdims=True)
        self.attention = att
        self.att_dropped = self.drop.forward(att, training)
        # y_h = att v, written straight into the joined layout (n, T, H, hs) = (n, T, dim)
        y = _array(self, "y", (n * T, D), dtype, training)
        np.matmul(self.att_dropped, self.v, out=y.reshape(n, T, H, hs).swapaxes(1, 2))
        self.y = y
        out = np.matmul(y, self.W_out, out=_array(self, "out", (n * T, D), dtype, training))
        out += self.b_out  # out = y W_out + b_out
        return out.reshape(n, T, D)

    @property
    def can_step(self) -> bool:
        """Whether :meth:`forward_step` can run it on new positions: when causal (a position
        never sees later ones, so the earlier ones' keys and values stay valid)."""
        return self.causal

    def new_cache(self, capacity: int) -> KVCache:
        """An empty cache for :meth:`forward_step`, for sequences of up to ``capacity``."""
        if not self.causal:
            raise ValueError(f"{self!r} is not causal: it cannot run position by position")
        return KVCache(capacity)

    def forward_step(self, x: Array, cache: KVCache, position: int) -> Array:
        """x (n, t, dim), the inputs at positions [position, position + t) -> their outputs
        (n, t, dim): those rows of ``forward`` (inference) on the whole sequence of
        position + t steps, whose first ``position`` steps' keys and values ``cache``
        holds; stores the new positions' there. Causal layers only (``can_step``). The
        layer's attributes are left as they were."""
        n, t, D = x.shape
        H, hs = self.n_heads, D // self.n_heads
        end = position + t
        qkv = np.matmul(x.reshape(n * t, D), self.W_qkv)
        qkv += self.b_qkv  # [q | k | v] = x W_qkv + b_qkv, new positions only
        q, k, v = qkv.reshape(n, t, 3, H, hs).transpose(2, 0, 3, 1, 4)  # (n, H, t, hs) each
        keys, values = cache.store(k, v, position)  # (n, H, end, hs)
        scores = np.matmul(q, keys.swapaxes(2, 3))  # (n, H, t, end)
        if t > 1:  # new query i sits at position + i and sees keys j <= position + i
            np.copyto(scores, -np.inf, where=np.triu(np.ones((t, end), bool), k=position + 1))
        scores -= scores.max(axis=-1, keepdims=True)  # as forward: a stable softmax
        scores *= scores.dtype.type(1.0 / math.sqrt(hs))
        att = np.exp(scores, out=scores)
        att /= att.sum(axis=-1, keepdims=True)
        y = np.empty((n * t, D), att.dtype)
        np.matmul(att, values, out=y.reshape(n, t, H, hs).swapaxes(1, 2))  # heads joined
        out = np.matmul(y, self.W_out)
        out += self.b_out  # out = y W_out + b_out
        return out.reshape(n, t, D)

    def backward(self, dout: Array) -> Array:
        """dout: (n, T, dim) -> dx: (n, T, dim); sets dW_qkv, db_qkv, dW_out, db_out."""
        n, T, D = dout.shape
        H, hs = self.n_heads, D // self.n_heads
        dtype = dout.dtype
        dout = dout.reshape(n * T, D)
        np.matmul(self.y.T, dout, out=self.dW_out)  # dW_out = y^T dout
        np.sum(dout, axis=0, out=self.db_out)
        dy = np.matmul(dout, self.W_out.T, out=scratch(self, "dy", (n * T, D), dtype))
        dy_heads = dy.reshape(n, T, H, hs).swapaxes(1, 2)  # (n, H, T, hs)
        dqkv = scratch(self, "dqkv", (n * T, 3 * D), dtype)
        dq, dk, dv = dqkv.reshape(n, T, 3, H, hs).transpose(2, 0, 3, 1, 4)
        np.matmul(self.att_dropped.swapaxes(2, 3), dy_heads, out=dv)  # dv = att^T dy
        datt = np.matmul(
            dy_heads, self.v.swapaxes(2, 3), out=scratch(self, "datt", (n, H, T, T), dtype)
        )
        ds = self.drop.backward(datt)
        att = self.attention
        assert att is not None
        # softmax: ds = att * (datt - sum(datt * att)); then the 1 / sqrt(hs) of the scores
        rows = np.einsum("nhij,nhij->nhi", ds, att)[..., None]
        ds -= rows
        ds *= att
        ds *= dtype.type(1.0 / math.sqrt(hs))
        np.matmul(ds, self.k, out=dq)  # dq = ds k
        np.matmul(ds.swapaxes(2, 3), self.q, out=dk)  # dk = ds^T q
        np.matmul(self.x.T, dqkv, out=self.dW_qkv)  # dW_qkv = x^T dqkv
        np.sum(dqkv, axis=0, out=self.db_qkv)
        dx = np.matmul(dqkv, self.W_qkv.T, out=scratch(self, "dx", (n * T, D), dtype))
        return dx.reshape(n, T, D)

    def config(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "n_heads": self.n_heads,
            "causal": self.causal,
            "dropout": self.dropout,
        }


class TransformerBlock(Layer):
    """A pre-LayerNorm residual block (GPT-2's, nanoGPT's Block): x (n, T, dim) -> (n, T, dim),

        h = x + attn(ln1(x)),   out = h + proj(gelu(fc(ln2(h)))),

    with ``attn`` a :class:`MultiHeadAttention` (dim, n_heads, causal), ``ln1``, ``ln2``
    :class:`LayerNorm` (dim), ``fc`` a :class:`Dense` dim -> 4 dim, ``proj`` 4 dim -> dim, and
    the tanh GELU. Backward adds the gradient of each residual branch to the one that skips
    it: dh = dout + ln2'(fc'(gelu'(proj'(dout)))), dx = dh + ln1'(attn'(dh)).

    ``dropout`` acts as nanoGPT's: on the attention weights and on each branch's output before
    it is added (``drop_attn``, ``drop_mlp``), in training only. Weights N(0, 0.02) (nanoGPT's
    initialisation), biases 0, gamma 1, beta 0. The parameters are the parts' (``ln1.gamma``,
    ``attn.W_qkv``, ``fc.W``...): they map one to one to nanoGPT's ``ln_1``, ``attn.c_attn``,
    ``attn.c_proj``, ``ln_2``, ``mlp.c_fc``, ``mlp.c_proj`` (weights transposed).

    Parameters
    ----------
    dim : int
        Features per position; a multiple of ``n_heads``.
    n_heads : int
        Attention heads, of dim / n_heads features each.
    causal : bool
        Let step t attend to steps <= t only (a language model).
    dropout : float
        In [0, 1): the dropout rate, in training only.
    dtype : numpy dtype
        The parameters' floating type (float32 by default).
    seed : int or numpy.random.Generator, optional
        Seeds the initial weights.

    Raises
    ------
    TypeError, ValueError
        For a size that is not a positive int, ``dim`` not divisible by ``n_heads``, or
        ``dropout`` outside [0, 1).
    """

    parts = ("ln1", "attn", "drop_attn", "ln2", "fc", "gelu", "proj", "drop_mlp")
    params = (
        *("ln1.gamma", "ln1.beta"),
        *("attn.W_qkv", "attn.b_qkv", "attn.W_out", "attn.b_out"),
        *("ln2.gamma", "ln2.beta", "fc.W", "fc.b", "proj.W", "proj.b"),
    )

    def __init__(
        self,
        dim: int,
        n_heads: int,
        causal: bool = True,
        dropout: float = 0.0,
        *,
        dtype: type | np.dtype[Any] = np.float32,
        seed: Seed = None,
    ) -> None:
        rng = np.random.default_rng(seed)
        seeds = rng.integers(2**63, size=4)
        self.attn = MultiHeadAttention(
            dim, n_heads, causal, dropout, dtype=dtype, seed=int(seeds[0])
        )
        D, dtype = self.attn.dim, self.attn.W_qkv.dtype
        self.ln1, self.ln2 = LayerNorm(D, dtype=dtype), LayerNorm(D, dtype=dtype)
        self.fc, self.proj = Dense(D, 4 * D, dtype=dtype), Dense(4 * D, D, dtype=dtype)
        self.fc.W[...] = rng.normal(0.0, 0.02, self.fc.W.shape)
        self.proj.W[...] = rng.normal(0.0, 0.02, self.proj.W.shape)
        self.gelu = GELU()
        self.drop_attn = Dropout(dropout, seed=int(seeds[1]))
        self.drop_mlp = Dropout(dropout, seed=int(seeds[2]))

    @property
    def dim(self) -> int:
        return self.attn.dim

    @property
    def input_shape(self) -> Shape:
        return self.attn.input_shape

    def output_shape(self, input_shape: Shape | None) -> Shape:
        """(T, dim) -> (T, dim)."""
        rows = input_shape is not None and len(input_shape) == 1
        hint = ": a transformer block reads sequences (n_samples, steps, features), not rows"
        check_input_shape(self, input_shape, hint if rows else "")
        return (input_shape[0] if input_shape is not None else None, self.dim)

    def forward(self, x: Array, training: bool = False) -> Array:
        """x: (n, T, dim) -> (n, T, dim)."""
        if x.ndim != 3 or x.shape[2] != self.dim:
            raise ShapeError(
                f"{self!r} takes sequences of shape (n_samples, steps, {self.dim}) but gets an "
                f"array of shape {x.shape}"
            )
        branch = self.attn.forward(self.ln1.forward(x, training), training)
        branch = self.drop_attn.forward(branch, training)
        h = np.add(x, branch, out=_array(self, "h", x.shape, branch.dtype, training))
        branch = self.fc.forward(self.ln2.forward(h, training), training)
        branch = self.proj.forward(self.gelu.forward(branch, training), training)
        branch = self.drop_mlp.forward(branch, training)
        return np.add(h, branch, out=_array(self, "out", x.shape, branch.dtype, training))

    @property
    def can_step(self) -> bool:
        """Whether :meth:`forward_step` can run it on new positions: when causal."""
        return self.attn.can_step

    def new_cache(self, capacity: int) -> KVCache:
        """Its attention's cache (:meth:`MultiHeadAttention.new_cache`)."""
        return self.attn.new_cache(capacity)

    def forward_step(self, x: Array, cache: KVCache, position: int) -> Array:
        """x (n, t, dim) at positions [position, position + t) -> (n, t, dim), those rows of
        ``forward`` (inference) on the whole sequence; ``cache`` as for
        :meth:`MultiHeadAttention.forward_step`. Every part but the attention acts on each
        position alone (dropout is off at inference)."""
        h = self.attn.forward_step(self.ln1.forward(x), cache, position)
        h += x  # h = x + attn(ln1(x))
        rows = h.reshape(-1, self.dim)  # the MLP on rows: Dense's fastest path
        rows += self.proj.forward(self.gelu.forward(self.fc.forward(self.ln2.forward(rows))))
        return h  # out = h + proj(gelu(fc(ln2(h))))

    def backward(self, dout: Array) -> Array:
        """dout: (n, T, dim) -> dx: (n, T, dim); sets every part's parameter gradients."""
        branch = self.proj.backward(self.drop_mlp.backward(dout))
        branch = self.ln2.backward(self.fc.backward(self.gelu.backward(branch)))
        dh = np.add(dout, branch, out=scratch(self, "dh", dout.shape, dout.dtype))
        branch = self.ln1.backward(self.attn.backward(self.drop_attn.backward(dh)))
        return np.add(dh, branch, out=scratch(self, "dx", dout.shape, dout.dtype))

    def config(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "n_heads": self.attn.n_heads,
            "causal": self.attn.causal,
            "dropout": self.attn.dropout,
        }
