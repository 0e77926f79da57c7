"""The key/value cache of generation (generation.py, MultiHeadAttention.forward_step): each new
id costs one position's work, with the logits of the whole-window forward."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numpynn as nn
from numpynn import generation
from numpynn.layers import Layer, MultiHeadAttention
from numpynn.layers.attention import KVCache
from numpynn.layers.base import walk

V = 7


def gpt(
    n_layers: int = 2,
    n_heads: int = 2,
    head_size: int = 3,
    block: int | None = 8,
    softmax: bool = True,
    seed: int = 0,
    *,
    blocks: type[Layer] = nn.TransformerBlock,
) -> nn.Sequential:
    """A float64 GPT with weights drawn large enough that attention matters (the default
    N(0, 0.02) leaves the output almost a function of the last id alone)."""
    dim = n_heads * head_size
    rng = np.random.default_rng(seed)
    layers: list[Layer] = [nn.Embedding(V, dim, dtype=np.float64, seed=seed)]
    if block is not None:
        layers.append(nn.PositionalEmbedding(block, dim, dtype=np.float64, seed=seed + 1))
    layers += [
        blocks(dim, n_heads=n_heads, causal=True, dtype=np.float64, seed=seed + 2 + i)
        for i in range(n_layers)
    ]
    layers += [nn.LayerNorm(dim, dtype=np.float64), nn.Dense(dim, V, dtype=np.float64, seed=seed)]
    model = nn.Sequential(*layers, *([nn.Softmax()] if softmax else []))
    for p in model.parameters():
        p[...] = rng.normal(0.0, 0.7, p.shape)
    if not softmax:
        model.loss = nn.CrossEntropy(from_logits=True)
    return model


def logits_layers(model: nn.Sequential) -> list[Layer]:
    return model.layers[:-1] if isinstance(model.layers[-1], nn.Softmax) else model.layers


def context_start(t: int, T0: int, block: int) -> int:
    """Where the window of id t starts with the cache, as generate's docstring says: at
    max(0, T0 - block), moving to t - max(1, block // 2) whenever t - start > block."""
    start = max(0, T0 - block)
    for u in range(T0, t + 1):
        if u - start > block:
            start = u - max(1, block // 2)
    return start


def no_whole_window(layers, x, training):
    raise AssertionError("the cached path ran a whole-window forward")


def teacher_forced(model: nn.Sequential, ids: np.ndarray, T0: int, cache: bool = True):
    """The logits next_logits gives for every t >= T0, on ids written in advance."""
    block = generation._block_size(model)
    logits = generation.next_logits(logits_layers(model), ids, T0, block, cache)
    return list(logits)


shapes = dict(
    n=st.integers(1, 3),
    n_layers=st.integers(1, 3),
    n_heads=st.integers(1, 3),
    head_size=st.integers(1, 4),
    softmax=st.booleans(),
    seed=st.integers(0, 2**16),
)


@settings(max_examples=50, deadline=None)
@given(T0=st.integers(1, 8), data=st.data(), **shapes)
def test_within_the_block_cached_logits_equal_the_whole_window_forward(
    n, n_layers, n_heads, head_size, softmax, seed, T0, data
):
    block = 8
    total = data.draw(st.integers(T0, block), label="total")
    model = gpt(n_layers, n_heads, head_size, block, softmax, seed)
    ids = np.random.default_rng(seed).integers(0, V, (n, total))
    with mock.patch.object(generation, "forward", no_whole_window):
        cached = teacher_forced(model, ids, T0)
    assert len(cached) == total - T0
    layers = logits_layers(model)
    for t, got in zip(range(T0, total), cached, strict=True):
        expected = nn.training.forward(layers, ids[:, :t], training=False)[:, -1]
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(
    T0=st.integers(1, 6),
    temperature=st.floats(0.3, 3.0),
    top_k=st.one_of(st.none(), st.integers(1, V)),
    **shapes,
)
def test_within_the_block_cached_generation_draws_the_same_ids(
    n, n_layers, n_heads, head_size, softmax, seed, T0, temperature, top_k
):
    block = 8
    model = gpt(n_layers, n_heads, head_size, block, softmax, seed)
    prompt = np.random.default_rng(seed).integers(0, V, (n, T0))
    kwargs = dict(temperature=temperature, top_k=top_k, seed=seed)
    cached = model.generate(prompt, block - T0, cache=True, **kwargs)
    np.testing.assert_array_equal(cached, model.generate(prompt, block - T0, cache=False, **kwargs))


@settings(max_examples=40, deadline=None)
@given(T0=st.integers(1, 12), block=st.integers(1, 6), extra=st.integers(1, 15), **shapes)
def test_past_the_block_each_id_sees_the_documented_window(
    n, n_layers, n_heads, head_size, softmax, seed, T0, block, extra
):
    model = gpt(n_layers, n_heads, head_size, block, softmax, seed)
    ids = np.random.default_rng(seed).integers(0, V, (n, T0 + extra))
    with mock.patch.object(generation, "forward", no_whole_window):
        cached = teacher_forced(model, ids, T0)
    layers = logits_layers(model)
    for t, got in zip(range(T0, T0 + extra), cached, strict=True):
        s = context_start(t, T0, block)
        assert max(1, block // 2) <= t - s <= block or t <= block
        expected = nn.training.forward(layers, ids[:, s:t], training=False)[:, -1]
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_past_the_block_generate_draws_from_the_documented_windows():
    block = 6
    model = gpt(block=block)
    layers = logits_layers(model)
    prompt = np.array([[1, 2, 3], [4, 0, 6]])
    ids, rng = prompt, np.random.default_rng(4)
    for t in range(3, 40):
        logits = nn.training.forward(layers, ids[:, context_start(t, 3, block) : t], False)
        ids = np.c_[ids, generation._draw(logits[:, -1], 1.0, None, rng)]
    np.testing.assert_array_equal(model.generate(prompt, 37, seed=4), ids)
    # the whole-window path reads the last `block` ids: another text past the block
    assert not np.array_equal(model.generate(prompt, 37, seed=4, cache=False), ids)


class StepSpy:
    """Records (position, steps) of each forward_step call of one attention layer."""

    def __init__(self, layer: MultiHeadAttention) -> None:
        self.calls: list[tuple[int, int]] = []
        self.inner = layer.forward_step

    def __call__(self, x, cache, position):
        self.calls.append((position, x.shape[1]))
        return self.inner(x, cache, position)


def test_each_new_id_runs_one_position_and_a_full_cache_restarts_from_half_the_block():
    model = gpt(n_layers=1, block=8)
    attn = model.layers[2].attn
    spy = StepSpy(attn)
    with mock.patch.object(attn, "forward_step", spy):
        model.generate(np.array([1, 2, 3]), 16, seed=0)
    # the prompt in one pass, then one id at a time up to 8 positions; then the last 4 ids
    # again (positions 0-3) and one at a time up to 8 positions, twice
    assert spy.calls == (
        [(0, 3)] + [(p, 1) for p in range(3, 8)] + ([(0, 4)] + [(p, 1) for p in range(4, 8)]) * 2
    )


def test_a_prompt_longer_than_the_block_starts_from_its_last_block_ids():
    block = 5
    model = gpt(block=block)
    prompt = np.array([[5, 4, 3, 2, 1, 0, 1, 2, 3]])
    first = model.generate(prompt, 1, top_k=1)[:, -1]
    np.testing.assert_array_equal(first, model.forward(prompt[:, -block:])[:, -1].argmax(axis=1))


def test_the_cache_is_no_part_of_the_model_and_leaves_its_forward_alone(tmp_path):
    model = gpt()
    ids = np.array([[1, 2, 3, 4, 5, 6, 0, 1]])
    before = model.forward(ids)
    kept: list[KVCache] = []
    new_cache = KVCache.__init__

    def remember(cache, capacity):
        new_cache(cache, capacity)
        kept.append(cache)

    with mock.patch.object(KVCache, "__init__", remember):
        model.generate(ids[:, :2], 30, seed=0)
    assert len(kept) == 2 and all(c.keys is not None for c in kept)
    for layer in walk(model.layers):
        assert not any(isinstance(v, KVCache) for v in vars(layer).values()), layer
    np.testing.assert_array_equal(model.forward(ids), before)
    nn.save(model, tmp_path / "model.npz")
    np.testing.assert_array_equal(nn.load(tmp_path / "model.npz").forward(ids), before)


@pytest.mark.parametrize(
    "model, new_ids",
    [(gpt(blocks=MultiHeadAttention), 6), (gpt(block=None), 20)],  # no block without positions
    ids=["bare attention", "no positions"],
)
def test_a_bare_causal_attention_and_a_model_without_positions_use_the_cache(model, new_ids):
    prompt = np.array([[3, 1], [0, 6]])
    with mock.patch.object(generation, "forward", no_whole_window):
        cached = model.generate(prompt, new_ids, seed=1)
    np.testing.assert_array_equal(cached, model.generate(prompt, new_ids, seed=1, cache=False))


def models_that_cannot_step() -> list[nn.Sequential]:
    bidirectional = gpt(n_layers=1)
    bidirectional.layers[2] = nn.TransformerBlock(6, 2, causal=False, dtype=np.float64, seed=0)

    class Shift(Layer):  # mixes positions and says nothing of stepping
        def forward(self, x, training=False):
            return np.concatenate([x[:, :1], x[:, :-1]], axis=1)

    shifted = gpt(n_layers=1)
    shifted.layers.insert(3, Shift())
    return [bidirectional, shifted]


@pytest.mark.parametrize("model", models_that_cannot_step())
def test_a_model_that_cannot_step_runs_the_whole_window(model):
    prompt = np.array([[1, 2, 3]])
    steps = []
    forward = generation.forward
    with mock.patch.object(
        generation,
        "forward",
        lambda layers, x, training: steps.append(x.shape[1]) or forward(layers, x, training),
    ):
        cached = model.generate(prompt, 9, seed=2)
    assert steps == [3, 4, 5, 6, 7, 8, 8, 8, 8]
    np.testing.assert_array_equal(cached, model.generate(prompt, 9, seed=2, cache=False))


def test_a_new_layer_acting_per_position_is_one_class_for_both_paths():
    class Scale(Layer):
        acts_per_position = True

        def forward(self, x, training=False):
            return 1.5 * x

    transformer = gpt()
    transformer.layers.insert(-2, Scale())
    with mock.patch.object(generation, "forward", no_whole_window):
        cached = transformer.generate([1, 2], 6, seed=0)
    np.testing.assert_array_equal(cached, transformer.generate([1, 2], 6, seed=0, cache=False))

    recurrent = nn.Sequential(
        nn.Embedding(V, 4, dtype=np.float64, seed=0),
        Scale(),
        nn.GRU(4, 5, return_sequences=True, dtype=np.float64, seed=1),
        nn.Dense(5, V, dtype=np.float64, seed=2),
        nn.Softmax(),
    )
    steps = []
    forward = generation.forward
    with mock.patch.object(
        generation,
        "forward",
        lambda layers, x, training: steps.append(x.shape[1]) or forward(layers, x, training),
    ):
        carried = recurrent.generate([1, 2], 6, seed=0)
    assert steps == [2, 1, 1, 1, 1, 1]  # the state carried
    np.testing.assert_array_equal(carried, recurrent.generate([1, 2], 6, seed=0, cache=False))


def test_cache_must_be_a_bool():
    model = gpt()
    with pytest.raises(TypeError, match="cache must be True or False, got 1"):
        model.generate([1], 3, cache=1)
    with pytest.raises(TypeError, match="cache must be True or False"):
        generation.stream(model, [1], 3, cache="no")


def test_a_non_causal_attention_has_no_cache():
    attn = MultiHeadAttention(4, 2)
    assert not attn.can_step
    with pytest.raises(ValueError, match="not causal"):
        attn.new_cache(8)


def test_a_full_cache_refuses_more_positions():
    cache = KVCache(4)
    k = np.zeros((1, 2, 3, 5))
    cache.store(k, k, 0)
    with pytest.raises(ValueError, match=r"holds 4 positions, got positions \[3, 6\)"):
        cache.store(k, k, 3)


def test_float32_models_step_too():
    model = gpt()
    for layer in model.layers:
        for name in layer.params:
            nn.layers.base.set_array(
                layer, name, nn.layers.base.get_array(layer, name).astype("f4")
            )
    ids = np.random.default_rng(0).integers(0, V, (2, 8))
    cached = teacher_forced(model, ids, 1)
    uncached = teacher_forced(model, ids, 1, cache=False)
    assert cached[0].dtype == np.float32
    np.testing.assert_allclose(cached, uncached, rtol=0, atol=1e-4)
