"""Text generation: a language model continues token ids one sampled token at a time.

A language model is a ``Sequential`` whose first layer takes token ids (``Embedding``) and
whose output is a distribution over the vocabulary at every step, (n, T, vocab): Embedding
... Dense(dim, vocab), Softmax (``docs/guide.md``, "Sequences"). Each step takes the logits of
the last position of a window of the ids so far, divides them by the temperature, keeps the
``top_k`` most probable tokens if asked, draws one and appends it.

How much work each new id costs depends on what the layers declare:

- Layers acting on each position alone (``acts_per_position``: Embedding, Dense, LayerNorm,
  the activations, Dropout at inference...) run on the new position only.
- Layers that mix positions but can run on new ones given a cache of the earlier ones
  (``can_step``, ``new_cache(capacity)``, ``forward_step(x_new, cache, position)``: causal
  ``MultiHeadAttention`` and ``TransformerBlock`` keep keys and values, a
  ``PositionalEmbedding`` adds the new position's row) make the key/value cache path: each
  new id costs one position's work (its attention reads the cached keys and values).
- Recurrent layers (RNN/LSTM/GRU with ``return_sequences``) carry their state, in a model
  whose other layers all act per position.
- Any other model (a non-causal attention, Flatten, a convolution...) runs its whole window
  again for every new id.

With ``cache=False`` every model takes the last path: the reference the others are tested
against, and the baseline of ``benchmarks/generation.py``.
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Generator, Iterator, Sequence
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt

from ._typing import Array, Seed
from .layers import Layer, PositionalEmbedding, Shape, Softmax
from .layers.recurrent import _Recurrent
from .training import forward


class LanguageModel(Protocol):
    """What generate reads of a ``numpynn.Sequential`` (which imports this module); a
    protocol, not instantiated.

    Attributes
    ----------
    layers : list of Layer
        The model's layers, the first one an Embedding (it takes token ids).

    Methods
    -------
    output_shape
        The shape of one sample's output, (T, vocab) for a language model.
    outputs_are_logits()
        Whether the output is logits (fitted with ``from_logits=True``, no final Softmax).
    """

    layers: list[Layer]

    @property
    def output_shape(self) -> Shape | None: ...

    def outputs_are_logits(self) -> bool: ...


class StepLayer(Protocol):
    """A layer mixing positions that generation can run on new positions alone (``can_step``
    true): ``new_cache(capacity)`` makes what it keeps of the positions seen so far (for
    sequences of up to ``capacity``), ``forward_step(x, cache, position)`` maps the
    inputs x (n, t, ...) at positions [position, position + t) to those rows of its
    ``forward`` on the whole sequence, and records them in the cache. Position 0 starts
    afresh. A protocol, not instantiated: a causal :class:`numpynn.MultiHeadAttention` is one.

    Attributes
    ----------
    can_step : bool
        Whether ``forward_step`` may be used.

    Methods
    -------
    new_cache(capacity)
        A new, empty cache for sequences of up to ``capacity`` positions.
    forward_step(x, cache, position)
        The rows of ``forward`` for inputs x (n, t, ...) at positions [position,
        position + t), recorded in ``cache``.
    """

    can_step: bool

    def new_cache(self, capacity: int) -> object: ...

    def forward_step(self, x: Array, cache: Any, position: int) -> Array: ...


def generate(
    model: LanguageModel,
    prompt_ids: npt.ArrayLike,
    max_new_tokens: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: Seed = None,
    cache: bool = True,
) -> Array:
    """The prompt followed by ``max_new_tokens`` ids drawn from ``model``, one at a time.

    prompt_ids (T0,) or (n, T0) integer ids -> (T0 + max_new_tokens,) or
    (n, T0 + max_new_tokens) int64, each row continued independently. Each new id is drawn
    from softmax(logits / temperature) of the last position, logits the model's output
    before its final Softmax (exact and stable: no log of rounded probabilities), or its
    output if fitted with ``CrossEntropy(from_logits=True)`` and no Softmax, restricted
    to the ``top_k`` most probable ids if given; temperature -> 0 is greedy (argmax)
    decoding, ``top_k=1`` too. Draws come from ``np.random.default_rng(seed)``: the same
    seed gives the same ids.

    Parameters
    ----------
    model : LanguageModel
        A model whose output is (n, T, vocab) for ids (n, T), e.g. :func:`numpynn.gpt`.
    prompt_ids : array_like of int, shape (T0,) or (n, T0)
        The ids to continue.
    max_new_tokens : int
        How many ids to draw.
    temperature : float
        > 0; divides the logits.
    top_k : int, optional
        Draw from the ``top_k`` most probable ids only.
    seed : int or numpy.random.Generator, optional
        The draws' generator.
    cache : bool
        Reuse a transformer's keys and values, or a recurrent model's state (below).

    Returns
    -------
    ndarray of int64, shape (T0 + max_new_tokens,) or (n, T0 + max_new_tokens)
        The prompt and the drawn ids, each row continued independently.

    Raises
    ------
    TypeError, ValueError
        For a bad ``temperature`` or ``top_k`` (:func:`check_temperature`,
        :func:`check_top_k`), or prompt ids outside the vocabulary.

    Notes
    -----
    The context of each id. With B the model's block (its ``PositionalEmbedding``'s max_len;
    without one the model reads the whole sequence), id t (its index in the row, t >= T0)
    is drawn from the model's output at the last position of the window ``ids[s:t]``:

    - ``cache=False``: s = max(0, t - B), the last B ids, the whole window run again for
      every id (O(B) positions of work per id).
    - ``cache=True`` (the default), for a transformer whose layers can step (see the
      module's docstring), each id costing one position's work with the key/value cache:
      while the sequence fits in the block (t <= B), s = 0 as above, hence the same ids as
      ``cache=False`` for the same seed (up to float rounding). Positions are learned up to
      B only: the window starts at s = max(0, T0 - B) (as above for the first id), and
      whenever t - s > B the cache is full and starts again from the last K = max(1, B // 2)
      ids, s = t - K (one pass over K positions, every B - K + 1 ids). Past the block, each
      id thus sees the last K to B ids, cycling, not always the last B; its logits are
      those of the whole-window forward on ``ids[s:t]``.
    - A recurrent model (RNN/LSTM/GRU with ``return_sequences``, every other layer acting
      on each position alone) reads the prompt once, then only each new id, its recurrent
      layers carrying their state (restored afterwards): the same outputs as
      ``cache=False`` on the whole sequence (such a model has no block).
    - Any other model: as ``cache=False``.

    The caches live in the generator for the time of the call, not in the layers.
    """
    steps = stream(
        model,
        prompt_ids,
        max_new_tokens,
        temperature=temperature,
        top_k=top_k,
        seed=seed,
        cache=cache,
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
    cache: bool = True,
) -> Iterator[Array]:
    """The ids :func:`generate` appends, one step at a time: ``max_new_tokens`` arrays (n,)
    int64 (n = 1 for a prompt (T0,)), each yielded as soon as it is drawn, so that a caller
    can show the text as it is written. The arguments are checked before the first draw;
    ``cache`` as for :func:`generate`. A recurrent model's state is restored, and the
    key/value cache released, when the iterator ends or is closed.

    Parameters
    ----------
    model : LanguageModel
        A model whose output is (n, T, vocab) for ids (n, T), e.g. :func:`numpynn.gpt`.
    prompt_ids : array_like of int
        (T0,) or (n, T0), T0 >= 1: the ids to continue.
    max_new_tokens : int
        How many ids to draw (>= 0).
    temperature : float
        > 0; divides the logits.
    top_k : int, optional
        Draw from the ``top_k`` most probable ids only.
    seed : int or numpy.random.Generator, optional
        The draws' generator.
    cache : bool
        Reuse a transformer's keys and values, or a recurrent model's state.

    Yields
    ------
    ndarray
        (n,) int64: the ids drawn at one step, one per row.

    Raises
    ------
    TypeError, ValueError
        Before the first draw: for a model that is not a language model, a bad
        ``temperature``, ``top_k``, ``max_new_tokens`` or ``cache``, or prompt ids that are
        not integers of shape (T0,) or (n, T0).
    """
    vocab = _check_language_model(model)
    temperature = check_temperature(temperature)
    top_k = check_top_k(top_k, vocab)
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, numbers.Integral):
        raise TypeError(f"max_new_tokens must be an int, got {type(max_new_tokens).__name__}")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    if not isinstance(cache, bool | np.bool_):
        raise TypeError(f"cache must be True or False, got {cache!r}")
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
        bool(cache),
    )


def _draws(
    model: LanguageModel,
    ids: Array,
    max_new_tokens: int,
    temperature: float,
    top_k: int | None,
    rng: np.random.Generator,
    cache: bool,
) -> Iterator[Array]:
    """The generator behind :func:`stream`, its arguments checked: ids (n, T0) int64."""
    layers = model.layers[:-1] if isinstance(model.layers[-1], Softmax) else model.layers
    T0 = ids.shape[1]
    out = np.empty((len(ids), T0 + max_new_tokens), np.int64)
    out[:, :T0] = ids
    with contextlib.closing(next_logits(layers, out, T0, _block_size(model), cache)) as logits:
        for t in range(T0, out.shape[1]):
            out[:, t] = _draw(next(logits), temperature, top_k, rng)
            yield out[:, t].copy()


def next_logits(
    layers: Sequence[Layer], ids: Array, T0: int, block: int | None, cache: bool = True
) -> Generator[Array, None, None]:
    """The logits (n, vocab) from which ``ids[:, t]`` is drawn, for t = T0, T0 + 1, ...,
    ids.shape[1] - 1, as the docstring of :func:`generate` says: ``layers`` a language
    model's without its final Softmax, ids (n, T) int64 of which the first t columns must be
    written before asking for the logits of t, ``block`` the longest window (None: no limit).
    Closing the iterator releases the caches and restores recurrent layers' state.

    Parameters
    ----------
    layers : sequence of Layer
        A language model's layers without its final Softmax.
    ids : ndarray
        (n, T) int64; columns T0.. are written by the caller between steps.
    T0 : int
        The prompt's length, the first position drawn.
    block : int, optional
        The longest window the model reads (its PositionalEmbedding's max_len); None: no
        limit.
    cache : bool
        Use the layers' key/value caches (or carry a recurrent model's state) when they
        can step.

    Yields
    ------
    ndarray
        (n, vocab) logits, one array per position T0 .. T - 1.
    """
    total = ids.shape[1]
    caches = _step_caches(layers, block or total) if cache else None
    if caches is not None:
        yield from _cached_logits(layers, caches, ids, T0, block)
        return
    with _carrying_state(layers if cache else ()) as carries:
        for t in range(T0, total):
            if carries:  # the state holds the ids before t - 1
                window = ids[:, :t] if t == T0 else ids[:, t - 1 : t]
            else:
                window = ids[:, max(0, t - block) : t] if block else ids[:, :t]
            yield forward(layers, window, training=False)[:, -1]


def _step_caches(layers: Sequence[Layer], capacity: int) -> list[object] | None:
    """One cache per layer (None for those acting on each position alone) when every layer
    acts per position or can step (:class:`StepLayer`); else None."""
    caches: list[object] = []
    for layer in layers:
        if layer.acts_per_position:
            caches.append(None)
        elif getattr(layer, "can_step", False):
            caches.append(cast(StepLayer, layer).new_cache(capacity))
        else:
            return None
    return caches


def _cached_logits(
    layers: Sequence[Layer], caches: list[object], ids: Array, T0: int, block: int | None
) -> Iterator[Array]:
    """:func:`next_logits` with the layers' caches (from :func:`_step_caches`): the window
    ``ids[start:t]`` is in the caches up to ``done`` and only ids[done:t] is run, at its
    positions in the window; when the window would pass ``block`` ids it starts again from
    the last max(1, block // 2) ids, run in one pass."""
    keep = max(1, block // 2) if block else 0
    start = max(0, T0 - block) if block else 0
    done = start  # ids[:, start:done] are in the caches
    # the layers above the last one that mixes positions need the last position alone
    mixing = [i for i, layer in enumerate(layers) if not layer.acts_per_position]
    last_mixing = mixing[-1] if mixing else -1
    for t in range(T0, ids.shape[1]):
        if block and t - start > block:  # the caches are full: start again from keep ids
            start = done = t - keep
        x = ids[:, done:t] if mixing else ids[:, t - 1 : t]
        for i, (layer, layer_cache) in enumerate(zip(layers, caches, strict=True)):
            if layer.acts_per_position:
                x = layer.forward(x, training=False)
            else:
                x = cast(StepLayer, layer).forward_step(x, layer_cache, done - start)
            if i == last_mixing:
                x = x[:, -1:]
        done = t
        yield x[:, -1]


@contextlib.contextmanager
def _carrying_state(layers: Sequence[Layer]) -> Iterator[bool]:
    """Whether the model is recurrent: its RNN/LSTM/GRU layers (``return_sequences``) alone
    carry information along time, every other layer acting on each step alone
    (``acts_per_position``), so that the next id needs only the last one and their state. If
    so, within the block they are stateful from a zero state; their ``stateful`` flag and
    state are restored after."""
    recurrent = [layer for layer in layers if isinstance(layer, _Recurrent)]
    others_stepwise = all(
        layer.acts_per_position for layer in layers if not isinstance(layer, _Recurrent)
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


def check_temperature(temperature: float) -> float:
    """The sampling temperature as a float, checked.

    Parameters
    ----------
    temperature : float
        Divides the logits before the softmax: below 1 sharper, above 1 flatter.

    Returns
    -------
    float
        ``temperature``.

    Raises
    ------
    TypeError
        If ``temperature`` is not a real number (a bool is refused).
    ValueError
        If it is not finite and > 0.
    """
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(f"temperature must be a number > 0, got {type(temperature).__name__}")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature}")
    return float(temperature)


def check_top_k(top_k: int | None, vocab: int) -> int | None:
    """The number of most likely tokens to sample from, checked.

    Parameters
    ----------
    top_k : int or None
        Keep the ``top_k`` largest logits; None keeps them all.
    vocab : int
        The vocabulary size.

    Returns
    -------
    int or None
        ``top_k``.

    Raises
    ------
    TypeError
        If ``top_k`` is neither an int nor None (a bool is refused).
    ValueError
        If it is outside ``[1, vocab]``.
    """
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
