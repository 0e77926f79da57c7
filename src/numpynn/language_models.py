"""Language models built from the sequence layers, as ``mlp`` and ``convnet`` build
classifiers: a GPT (nanoGPT's model) and a character RNN/LSTM/GRU. Each reads token ids
(n, T) and outputs a distribution over the vocabulary at every step, (n, T, n_tokens).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._typing import Seed
from .layers import (
    GRU,
    LSTM,
    RNN,
    Dense,
    Dropout,
    Embedding,
    Layer,
    LayerNorm,
    PositionalEmbedding,
    Softmax,
    TransformerBlock,
)
from .model import Sequential
from .validation import check_positive_int

RECURRENT = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


def gpt(
    n_tokens: int,
    block: int,
    dim: int = 128,
    n_layers: int = 4,
    n_heads: int = 4,
    dropout: float = 0.0,
    *,
    token_std: float = 0.02,
    dtype: type | np.dtype[Any] = np.float32,
    seed: Seed = None,
) -> Sequential:
    """nanoGPT's GPT: token and position embeddings (``block`` positions), ``n_layers``
    causal :class:`TransformerBlock` of width ``dim`` and ``n_heads`` heads, a final
    LayerNorm, a Dense head to the ``n_tokens`` logits and a Softmax. Initialised as nanoGPT
    does: every weight N(0, 0.02), the residual projections N(0, 0.02 / sqrt(2 n_layers)),
    biases 0 (nanoGPT's defaults have no biases, and its head shares the token embedding's
    weights; here each has its own); ``token_std`` sets the token embedding's (1.0 is
    PyTorch's default for an Embedding). ``gpt(65, 64)`` is nanoGPT's CPU Shakespeare model.

    Parameters
    ----------
    n_tokens : int
        The vocabulary size.
    block : int
        The context length: positions up to ``block``.
    dim : int
        The width of the embeddings and blocks; a multiple of ``n_heads``.
    n_layers : int
        Transformer blocks.
    n_heads : int
        Attention heads per block.
    dropout : float
        nanoGPT's dropout, in [0, 1).
    token_std : float
        The standard deviation of the token embedding's initial weights.
    dtype : numpy dtype
        The parameters' floating type (float32 by default).
    seed : int or numpy.random.Generator, optional
        Seeds the initial weights.

    Returns
    -------
    Sequential
        ids (n, T) -> next-id probabilities (n, T, n_tokens); train it with
        ``fit(X, y)`` on ids, sample from it with ``generate``.
    """
    n_layers = check_positive_int("n_layers", n_layers)
    rng = np.random.default_rng(seed)
    seeds = [int(s) for s in rng.integers(2**63, size=n_layers + 3)]
    blocks = [
        TransformerBlock(dim, n_heads, causal=True, dropout=dropout, dtype=dtype, seed=s)
        for s in seeds[3:]
    ]
    for layer in blocks:  # the projections into the residual stream, GPT-2's scaling
        for W in (layer.attn.W_out, layer.proj.W):
            W[...] = rng.normal(0.0, 0.02 / math.sqrt(2 * n_layers), W.shape)
    tokens = Embedding(n_tokens, dim, dtype=dtype, seed=seeds[0])
    positions = PositionalEmbedding(block, dim, dtype=dtype, seed=seeds[1])
    head = Dense(dim, n_tokens, dtype=dtype, seed=seeds[2])
    for W, std in ((tokens.W, token_std), (positions.W, 0.02), (head.W, 0.02)):
        W[...] = rng.normal(0.0, std, W.shape)
    layers: list[Layer] = [tokens, positions]
    if dropout:
        layers.append(Dropout(dropout))
    return Sequential(*layers, *blocks, LayerNorm(dim, dtype=dtype), head, Softmax())


def char_rnn(
    n_tokens: int,
    dim: int,
    hidden: int,
    n_layers: int = 1,
    cell: str = "lstm",
    dropout: float = 0.0,
    *,
    dtype: type | np.dtype[Any] = np.float32,
    seed: Seed = None,
) -> Sequential:
    """A character-level recurrent language model (Karpathy's char-rnn): an Embedding of
    ``dim``, ``n_layers`` recurrent layers (``cell``: "rnn", "lstm" or "gru") of ``hidden``
    units returning every step, with Dropout between them and before the head if
    ``dropout``, a Dense head to the ``n_tokens`` logits and a Softmax.

    Parameters
    ----------
    n_tokens : int
        The vocabulary size.
    dim : int
        The embedding's width.
    hidden : int
        Units of each recurrent layer.
    n_layers : int
        Recurrent layers.
    cell : str
        ``"rnn"``, ``"lstm"`` or ``"gru"``.
    dropout : float
        The dropout rate between the layers (0: none).
    dtype : numpy dtype
        The parameters' floating type (float32 by default).
    seed : int or numpy.random.Generator, optional
        Seeds the initial weights.

    Returns
    -------
    Sequential
        ids (n, T) -> next-id probabilities (n, T, n_tokens); train it with
        ``fit(X, y)`` on ids, sample from it with ``generate``.

    Raises
    ------
    ValueError
        For an unknown ``cell`` or a size that is not a positive int.
    """
    if cell not in RECURRENT:
        raise ValueError(f"cell must be one of {', '.join(RECURRENT)}, got {cell!r}")
    n_layers = check_positive_int("n_layers", n_layers)
    seeds = [int(s) for s in np.random.default_rng(seed).integers(2**63, size=n_layers + 2)]
    layers: list[Layer] = [Embedding(n_tokens, dim, dtype=dtype, seed=seeds[0])]
    for i in range(n_layers):
        n_in = dim if i == 0 else hidden
        kind = RECURRENT[cell]
        layers.append(kind(n_in, hidden, return_sequences=True, dtype=dtype, seed=seeds[1 + i]))
        if dropout:
            layers.append(Dropout(dropout))
    layers += [Dense(hidden, n_tokens, dtype=dtype, seed=seeds[-1]), Softmax()]
    return Sequential(*layers)
