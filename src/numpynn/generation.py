"""Text generation: a language model continues token ids one sampled token at a time.

A language model is a ``Sequential`` whose first layer takes token ids (``Embedding``) and
whose output is a distribution over the vocabulary at every step, (n, T, vocab): Embedding
... Dense(dim, vocab), Softmax (``docs/guide.md``, "Sequences"). Each step reads the last
``block`` ids, takes the last position's logits, divides them by the temperature, keeps the
``top_k`` most probable tokens if asked, draws one and appends it.
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from ._typing import Array, Seed
from .layers import (
    ACTIVATION_LAYERS,
    GELU,
    Dense,
    Dropout,
    Embedding,
    Identity,
    Layer,
    LayerNorm,
    PositionalEmbedding,
    Shape,
    Softmax,
)
from .layers.recurrent import _Recurrent
from .training import forward


class LanguageModel(Protocol):
    """What generate reads of a ``numpynn.Sequential`` (which imports this module)."""

    layers: list[Layer]

    @property
    def output_shape(self) -> Shape | None: ...

    def outputs_are_logits(self) -> bool: ...


def generate(
    model: LanguageModel,
    prompt_ids: npt.ArrayLike,
    max_new_tokens: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: Seed = None,
) -> Array:
    """The prompt followed by ``max_new_tokens`` ids drawn from ``model``, one at a time.

    prompt_ids (T0,) or (n, T0) integer ids -> (T0 + max_new_tokens,) or
    (n, T0 + max_new_tokens) int64, each row continued independently. Each new id is drawn
    from softmax(logits / temperature) of the last position, logits the model's output
    before its final Softmax (exact and stable: no log of rounded probabilities), or its
    output if fitted with ``CrossEntropy(from_logits=True)`` and no Softmax, restricted
    to the ``top_k`` most probable ids if given; temperature -> 0 is greedy (argmax)
    decoding, ``top_k=1`` too. The model reads the last ``block`` ids: its
    ``PositionalEmbedding``'s max_len, or the whole sequence without one. This first version
    runs that whole window again for every new id (no key/value cache): O(block) positions
    of work per id. A recurrent model (RNN/LSTM/GRU with ``return_sequences``, every other
    layer acting on each step alone) reads the prompt once, then only each new id, its
    recurrent layers carrying their state (restored afterwards): the same outputs. Draws
    come from ``np.random.default_rng(seed)``: the same seed gives the same ids.
    """
    steps = stream(
        model, prompt_ids, max_new_tokens, temperature=temperature, top_k=top_k, seed=seed
    )
    prompt = np.asarray(prompt_ids)
    columns = [np.atleast_2d(prompt).astype(np.int64), *(c[:, None] for c in steps)]
    ids = np.concatenate(columns, axis=1)
    return ids[0] if prompt.ndim == 1 else ids


def stream(
    model: LanguageModel,
    prompt_ids: npt.ArrayLike,
    max_new_tokens: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: Seed = None,
) -> Iterator[Array]:
    """The ids :func:`generate` appends, one step at a time: ``max_new_tokens`` arrays (n,)
    int64 (n = 1 for a prompt (T0,)), each yielded as soon as it is drawn, so that a caller
    can show the text as it is written. The arguments are checked before the first draw. A
    recurrent model's state is restored when the iterator ends or is closed."""
    vocab = _check_language_model(model)
    temperature = _check_temperature(temperature)
    top_k = _check_top_k(top_k, vocab)
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, numbers.Integral):
        raise TypeError(f"max_new_tokens must be an int, got {type(max_new_tokens).__name__}")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    prompt = np.asarray(prompt_ids)
    if not np.issubdtype(prompt.dtype, np.integer):
        raise TypeError(f"prompt_ids must be integer token ids, got dtype {prompt.dtype}")
    if prompt.ndim not in (1, 2) or prompt.shape[-1] == 0:
        raise ValueError(
            f"prompt_ids must have shape (T0,) or (n, T0) with T0 >= 1, got {prompt.shape}"
        )
    return _draws(
        model,
        np.atleast_2d(prompt).astype(np.int64),
        max_new_tokens,
        temperature,
        top_k,
        np.random.default_rng(seed),
    )


def _draws(
    model: LanguageModel,
    ids: Array,
    max_new_tokens: int,
    temperature: float,
    top_k: int | None,
    rng: np.random.Generator,
) -> Iterator[Array]:
    """The generator behind :func:`stream`, its arguments checked: ids (n, T0) int64."""
    block = _block_size(model)
    layers = model.layers[:-1] if isinstance(model.layers[-1], Softmax) else model.layers
    T0 = ids.shape[1]
    out = np.empty((len(ids), T0 + max_new_tokens), np.int64)
    out[:, :T0] = ids
    with _carrying_state(layers) as carries:
        for t in range(T0, out.shape[1]):
            if carries:  # the state holds the ids before t - 1
                window = out[:, :t] if t == T0 else out[:, t - 1 : t]
            else:
                window = out[:, max(0, t - block) : t] if block else out[:, :t]
            last = forward(layers, window, training=False)[:, -1]  # (n, vocab)
            out[:, t] = _draw(last, temperature, top_k, rng)
            yield out[:, t].copy()


_STEPWISE: tuple[type[Layer], ...] = (
    Embedding,
    Dense,
    Dropout,
    Identity,
    LayerNorm,
    GELU,
    Softmax,
    *ACTIVATION_LAYERS.values(),
)


@contextlib.contextmanager
def _carrying_state(layers: Sequence[Layer]) -> Iterator[bool]:
    """Whether the model is recurrent: its RNN/LSTM/GRU layers (``return_sequences``) alone
    carry information along time, every other layer acting on each step alone, so that the
    next id needs only the last one and their state. If so, within the block they are
    stateful from a zero state; their ``stateful`` flag and state are restored after."""
    recurrent = [layer for layer in layers if isinstance(layer, _Recurrent)]
    others_stepwise = all(
        isinstance(layer, _STEPWISE) for layer in layers if not isinstance(layer, _Recurrent)
    )
    if not recurrent or not others_stepwise or not all(r.return_sequences for r in recurrent):
        yield False
        return
    saved = [(layer.stateful, layer.state) for layer in recurrent]
    try:
        for layer in recurrent:
            layer.stateful = True
            layer.reset_state()
        yield True
    finally:
        for layer, (stateful, state) in zip(recurrent, saved, strict=True):
            layer.stateful, layer.state = stateful, state


def _draw(logits: Array, temperature: float, top_k: int | None, rng: np.random.Generator) -> Array:
    """One id per row of logits (n, vocab), from softmax(logits / temperature) over the
    top_k largest logits of the row (all if None): inverse CDF of a uniform draw."""
    z = logits.astype(np.float64) / temperature
    if top_k is not None and top_k < z.shape[1]:
        dropped = np.argpartition(-z, top_k - 1, axis=1)[:, top_k:]  # all but the k largest
        np.put_along_axis(z, dropped, -np.inf, axis=1)
    z -= z.max(axis=1, keepdims=True)
    cdf = np.cumsum(np.exp(z), axis=1)  # unnormalised; last column = total
    u = rng.random(len(z)) * cdf[:, -1]
    # the first id whose cdf exceeds u (ids of probability 0 are never drawn)
    return np.minimum((cdf <= u[:, None]).sum(axis=1), z.shape[1] - 1)


def _check_language_model(model: LanguageModel) -> int:
    """The vocabulary size of a language model; TypeError saying what generate needs."""
    need = (
        "generate needs a language model: a first layer that takes token ids (Embedding) and "
        "outputs (n, T, vocab), e.g. Embedding, ..., Dense(dim, vocab), Softmax"
    )
    if not model.layers or not model.layers[0].takes_ids:
        first = repr(model.layers[0]) if model.layers else "no layers"
        raise TypeError(f"{need}; this model's first layer is {first}")
    shape = model.output_shape
    if shape is None or len(shape) != 2 or shape[-1] is None:
        raise TypeError(f"{need}; this model outputs shape {shape} per sample")
    if not isinstance(model.layers[-1], Softmax) and not model.outputs_are_logits():
        raise TypeError(
            f"{need}: probabilities from a final Softmax, or logits from a model fitted with "
            f"CrossEntropy(from_logits=True); this model ends with {model.layers[-1]!r}"
        )
    return int(shape[-1])


def _check_temperature(temperature: float) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(f"temperature must be a number > 0, got {type(temperature).__name__}")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature}")
    return float(temperature)


def _check_top_k(top_k: int | None, vocab: int) -> int | None:
    if top_k is None:
        return None
    if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral):
        raise TypeError(f"top_k must be an int or None, got {type(top_k).__name__}")
    if not 1 <= top_k <= vocab:
        raise ValueError(f"top_k must be in [1, {vocab}] (the vocabulary size), got {top_k}")
    return int(top_k)


def _block_size(model: LanguageModel) -> int | None:
    """The longest window the model reads: its PositionalEmbedding's max_len, else None."""
    for layer in model.layers:
        if isinstance(layer, PositionalEmbedding):
            return layer.max_len
    return None
