"""Sequential.generate: a language model continues token ids by sampling (generation.py)."""

import contextlib

import numpy as np
import pytest

import numpynn as nn
from numpynn import generation

V = 6  # vocabulary of the small models
MAX_LEN = 4


def tiny_gpt():
    return nn.Sequential(
        nn.Embedding(V, 8, dtype=np.float64, seed=0),
        nn.PositionalEmbedding(MAX_LEN, 8, dtype=np.float64, seed=1),
        nn.TransformerBlock(8, n_heads=2, causal=True, dtype=np.float64, seed=2),
        nn.Dense(8, V, dtype=np.float64, seed=3),
        nn.Softmax(),
    )


def tiny_lstm():
    return nn.Sequential(
        nn.Embedding(V, 8, dtype=np.float64, seed=0),
        nn.LSTM(8, 12, return_sequences=True, dtype=np.float64, seed=1),
        nn.Dense(12, V, dtype=np.float64, seed=2),
        nn.Softmax(),
    )


def greedy_by_hand(model, prompt, steps, block=None):
    ids = np.atleast_2d(prompt)
    for _ in range(steps):
        window = ids if block is None else ids[:, -block:]
        probs = model.forward(window)[:, -1]
        ids = np.concatenate([ids, probs.argmax(axis=1)[:, None]], axis=1)
    return ids


# the GPT without its key/value cache reads the last MAX_LEN ids (past the block, the cache's
# windows are another: tests/test_kv_cache.py); the LSTM carries its state (cache=True)
@pytest.mark.parametrize(
    "make, block, cache", [(tiny_gpt, MAX_LEN, False), (tiny_lstm, None, True)]
)
def test_temperature_near_zero_and_top_k_1_are_greedy_decoding(make, block, cache):
    model = make()
    prompt = np.array([[1, 2, 3], [0, 5, 4]])
    expected = greedy_by_hand(model, prompt, 10, block)
    got = model.generate(prompt, 10, temperature=1e-6, seed=0, cache=cache)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(
        model.generate(prompt, 10, top_k=1, seed=1, cache=cache), expected
    )


def test_the_same_seed_gives_the_same_ids_and_another_seed_others():
    model = tiny_gpt()
    first = model.generate([1, 2], 40, seed=0)
    np.testing.assert_array_equal(model.generate([1, 2], 40, seed=0), first)
    assert not np.array_equal(model.generate([1, 2], 40, seed=1), first)


def chi_square(counts, probs):
    expected = probs * counts.sum()
    return float(((counts - expected) ** 2 / expected).sum())


@pytest.mark.parametrize("temperature, top_k", [(1.0, None), (0.5, 3), (2.0, V)])
def test_draws_follow_the_models_probabilities(temperature, top_k):
    model = tiny_gpt()
    prompt = np.array([3, 1, 4])
    p = model.forward(prompt[None])[0, -1]  # (V,): the next id's probabilities
    p = p ** (1 / temperature)  # softmax(logits / T) = p^(1/T) renormalised
    if top_k is not None:
        p[np.argsort(p)[:-top_k]] = 0
    p /= p.sum()
    n = 20_000
    ids = model.generate(np.tile(prompt, (n, 1)), 1, temperature=temperature, top_k=top_k, seed=0)
    counts = np.bincount(ids[:, -1], minlength=V)
    assert (counts[p == 0] == 0).all()  # outside the top k: never drawn
    kept = p > 0
    # chi-square with at most 5 degrees of freedom: 20.5 is its 99.9% quantile (fixed seed)
    assert chi_square(counts[kept], p[kept]) < 20.5


def test_windows_longer_than_max_len_are_cut_to_the_last_max_len_ids():
    model = tiny_gpt()
    prompt = np.array([5, 4, 3, 2, 1, 0, 1, 2, 3])  # longer than MAX_LEN
    ids = model.generate(prompt, 6, top_k=1, cache=False)
    np.testing.assert_array_equal(ids, greedy_by_hand(model, prompt, 6, MAX_LEN)[0])
    other_start = np.r_[[0, 0, 0, 0, 0], prompt[5:]]  # only ids before the window differ
    np.testing.assert_array_equal(
        model.generate(other_start, 6, top_k=1, cache=False)[-6:], ids[-6:]
    )
    cached = model.generate(prompt, 6, top_k=1)  # the cache's windows start in the prompt too
    np.testing.assert_array_equal(model.generate(other_start, 6, top_k=1)[-6:], cached[-6:])


def test_1d_prompts_give_1d_ids_and_2d_prompts_2d_ids():
    model = tiny_lstm()
    one = model.generate(np.array([1, 2, 3]), 5, seed=0)
    assert one.shape == (8,) and one.dtype == np.int64
    np.testing.assert_array_equal(one[:3], [1, 2, 3])
    two = model.generate(np.array([[1, 2, 3]]), 5, seed=0)
    assert two.shape == (1, 8)
    np.testing.assert_array_equal(two[0], one)
    assert model.generate([[1, 2], [3, 4], [5, 0]], 4, seed=0).shape == (3, 6)
    np.testing.assert_array_equal(model.generate([1, 2], 0), [1, 2])


def test_clear_errors():
    model = tiny_gpt()
    for temperature in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="temperature must be"):
            model.generate([1], 3, temperature=temperature)
    for top_k in (0, V + 1):
        with pytest.raises(ValueError, match=rf"top_k must be in \[1, {V}\]"):
            model.generate([1], 3, top_k=top_k)
    with pytest.raises(ValueError, match="token ids in"):
        model.generate([1, V], 3)  # an id outside the vocabulary: the Embedding's error
    with pytest.raises(TypeError, match="integer token ids"):
        model.generate([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="T0 >= 1"):
        model.generate(np.zeros(0, int), 3)
    rows = nn.Sequential(nn.Dense(4, 3), nn.Softmax())
    with pytest.raises(TypeError, match=r"generate needs a language model.*first layer is Dense"):
        rows.generate([1, 2], 3)
    last_step_only = nn.Sequential(nn.Embedding(V, 4), nn.LSTM(4, 5), nn.Dense(5, V), nn.Softmax())
    with pytest.raises(TypeError, match=r"generate needs a language model.*outputs shape \(6,\)"):
        last_step_only.generate([1, 2], 3)


def test_a_small_character_gpt_trained_on_a_phrase_writes_it():
    text = "to be, or not to be, that is the question. " * 40
    vocab = sorted(set(text))
    ids = np.array([vocab.index(c) for c in text])
    T = 16
    starts = np.arange(0, len(ids) - T - 1, 3)
    X = np.stack([ids[s : s + T] for s in starts])
    Y = np.stack([ids[s + 1 : s + T + 1] for s in starts])
    gpt = nn.Sequential(
        nn.Embedding(len(vocab), 32, seed=0),
        nn.PositionalEmbedding(T, 32, seed=1),
        nn.TransformerBlock(32, n_heads=4, causal=True, seed=2),
        nn.LayerNorm(32),
        nn.Dense(32, len(vocab), seed=3),
        nn.Softmax(),
    )
    gpt.fit(X, Y, epochs=15, batch_size=32, seed=0, optimizer=nn.AdamW(3e-3, clipnorm=1.0))
    prompt = [vocab.index(c) for c in "to be, "]
    out = gpt.generate(prompt, 60, temperature=0.5, seed=0)
    written = "".join(vocab[i] for i in out)
    assert written == (text * 2)[: len(written)]


def recurrent_model(layer_type):
    return nn.Sequential(
        nn.Embedding(V, 8, dtype=np.float64, seed=0),
        layer_type(8, 12, return_sequences=True, dtype=np.float64, seed=1),
        nn.LayerNorm(12, dtype=np.float64),
        layer_type(12, 12, return_sequences=True, dtype=np.float64, seed=2),
        nn.Dense(12, V, dtype=np.float64, seed=3),
        nn.Softmax(),
    )


@pytest.mark.parametrize("layer_type", [nn.RNN, nn.LSTM, nn.GRU])
def test_a_recurrent_model_carrying_its_state_equals_re_running_the_prefix(layer_type, monkeypatch):
    model = recurrent_model(layer_type)
    prompt = np.array([[1, 2, 3], [4, 0, 5]])
    steps = []  # what the model reads at each step: the prompt, then one id at a time
    forward = generation.forward
    monkeypatch.setattr(
        generation,
        "forward",
        lambda layers, x, training: steps.append(x.shape) or forward(layers, x, training),
    )
    carried = model.generate(prompt, 30, seed=0)
    assert steps == [(2, 3)] + [(2, 1)] * 29
    # the probabilities of every id given the ids before it, as one pass over all of them
    probs = model.forward(carried)
    monkeypatch.setattr(generation, "_carrying_state", lambda layers: contextlib.nullcontext(False))
    np.testing.assert_array_equal(model.generate(prompt, 30, seed=0), carried)  # re-run: same
    for layer in model.layers:
        if isinstance(layer, layer_type):
            layer.stateful = True
    by_step = [model.forward(carried[:, :3])] + [
        model.forward(carried[:, t : t + 1]) for t in range(3, 33)
    ]
    np.testing.assert_allclose(np.concatenate(by_step, axis=1), probs, rtol=1e-13, atol=1e-15)


def test_generate_leaves_a_stateful_layers_state_and_starts_from_zeros():
    model = recurrent_model(nn.LSTM)
    prompt = np.array([[1, 2, 3]])
    expected = model.generate(prompt, 10, seed=0)
    lstm = model.layers[1]
    lstm.stateful = True
    model.forward(np.array([[5, 5, 5]]))  # carries a state
    state = tuple(s.copy() for s in lstm.state)
    np.testing.assert_array_equal(model.generate(prompt, 10, seed=0), expected)
    assert lstm.stateful
    for kept, now in zip(state, lstm.state, strict=True):
        np.testing.assert_array_equal(now, kept)


def test_a_model_of_logits_fitted_from_logits_generates_as_with_its_softmax():
    with_softmax = tiny_gpt()
    logits = nn.Sequential(*with_softmax.layers[:-1])
    with pytest.raises(TypeError, match=r"final Softmax.*ends with Dense"):
        logits.generate([1, 2], 3)  # outputs of unknown meaning (a squared-error model)
    logits.loss = nn.CrossEntropy(from_logits=True)
    np.testing.assert_array_equal(
        logits.generate([1, 2], 20, temperature=0.7, seed=3),
        with_softmax.generate([1, 2], 20, temperature=0.7, seed=3),
    )


@pytest.mark.parametrize("make", [tiny_gpt, tiny_lstm])
def test_stream_yields_the_ids_generate_appends_one_step_at_a_time(make):
    model = make()
    prompt = np.array([1, 2, 3])
    whole = model.generate(prompt, 7, temperature=0.9, seed=5)
    steps = list(generation.stream(model, prompt, 7, temperature=0.9, seed=5))
    assert len(steps) == 7 and all(s.shape == (1,) for s in steps)
    np.testing.assert_array_equal(np.concatenate(steps), whole[3:])
