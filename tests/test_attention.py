"""MultiHeadAttention (and TransformerBlock): PyTorch's outputs and gradients in float64
(1e-10), gradient checks, the causal mask, attention dropout, shapes, errors, model files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numpynn as nn
from numpynn.errors import ShapeError
from numpynn.gradcheck import noise_floor, numerical_gradient, relative_error
from numpynn.layers.base import get_array, get_grad

# n, T, heads, head size
shapes = st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 3), st.integers(1, 3))


def attention_and_data(
    n: int, T: int, H: int, hs: int, causal: bool, seed: int = 0, **kw: Any
) -> tuple[Any, np.ndarray, np.ndarray]:
    """A float64 layer with non-zero biases and weights large enough to make the softmax
    uneven; an input x and the weights of L = sum(weights * out)."""
    layer = nn.MultiHeadAttention(H * hs, H, causal=causal, dtype=np.float64, seed=seed, **kw)
    rng = np.random.default_rng(seed + 1)
    for name in layer.params:
        getattr(layer, name)[...] = 0.5 * rng.standard_normal(getattr(layer, name).shape)
    return layer, rng.standard_normal((n, T, H * hs)), rng.standard_normal((n, T, H * hs))


def torch_attention(layer: Any, x: Any) -> Any:
    """``layer``'s math in torch, from its weights: q, k, v the column blocks of x W_qkv + b_qkv,
    heads by scaled_dot_product_attention, joined and projected. Returns (out, parameters)."""
    import torch

    n, T, D = x.shape
    H = layer.n_heads
    params = {p: torch.tensor(getattr(layer, p), requires_grad=True) for p in layer.params}
    q, k, v = (x @ params["W_qkv"] + params["b_qkv"]).split(D, dim=2)
    q, k, v = (t.view(n, T, H, D // H).transpose(1, 2) for t in (q, k, v))
    y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=layer.causal)
    return y.transpose(1, 2).reshape(n, T, D) @ params["W_out"] + params["b_out"], params


@settings(max_examples=20, deadline=None)
@given(shape=shapes, causal=st.booleans())
def test_outputs_and_every_gradient_equal_pytorchs(shape: tuple[int, ...], causal: bool) -> None:
    import torch

    layer, x, weights = attention_and_data(*shape, causal)
    x_t = torch.tensor(x, requires_grad=True)
    out_t, params = torch_attention(layer, x_t)
    (out_t * torch.from_numpy(weights)).sum().backward()
    out = layer.forward(x, training=True)
    dx = layer.backward(weights)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dx, x_t.grad.numpy(), rtol=0, atol=1e-10)
    for name, p in params.items():
        np.testing.assert_allclose(getattr(layer, "d" + name), p.grad.numpy(), rtol=0, atol=1e-10)


def check_gradients(layer: Any, x: np.ndarray, weights: np.ndarray, training: bool) -> None:
    """Backprop's dL/dx and dL/dP against central differences (relative error < 1e-6), with
    L = sum(weights * forward(x)); in training, each forward draws the same dropout mask."""

    def loss() -> float:
        layer.drop.rng = np.random.default_rng(7)
        return float(np.sum(weights * layer.forward(x, training=training)))

    loss()  # the forward that backward follows (with the mask that loss draws)
    dx = layer.backward(weights).copy()
    floor = noise_floor(loss(), np.float64)
    for name in layer.params:
        numerical = numerical_gradient(loss, getattr(layer, name))
        assert relative_error(getattr(layer, "d" + name), numerical, floor) < 1e-6, name
    assert relative_error(dx, numerical_gradient(loss, x), floor) < 1e-6


@settings(max_examples=15, deadline=None)
@given(shape=shapes, causal=st.booleans())
def test_gradients_match_central_differences(shape: tuple[int, ...], causal: bool) -> None:
    check_gradients(*attention_and_data(*shape, causal), training=False)


@settings(max_examples=10, deadline=None)
@given(shape=shapes, causal=st.booleans())
def test_gradients_through_attention_dropout_match_central_differences(
    shape: tuple[int, ...], causal: bool
) -> None:
    check_gradients(*attention_and_data(*shape, causal, dropout=0.3), training=True)


# --- the mask, the attention weights, dropout ----------------------------------------------


def test_a_causal_step_sees_no_later_step() -> None:
    layer, x, _ = attention_and_data(2, 6, 2, 3, causal=True)
    out = layer.forward(x)
    assert layer.attention is not None and layer.attention.shape == (2, 2, 6, 6)
    assert np.all(np.triu(layer.attention[0, 0], k=1) == 0)
    np.testing.assert_allclose(layer.attention.sum(axis=-1), 1.0, rtol=1e-12)
    changed = x.copy()
    changed[:, 4:] += 1.0  # the future of steps 0..3
    np.testing.assert_array_equal(layer.forward(changed)[:, :4], out[:, :4])
    full, _, _ = attention_and_data(2, 6, 2, 3, causal=False)
    assert not np.allclose(full.forward(changed)[:, :4], full.forward(x)[:, :4])


def test_attention_dropout_acts_in_training_only() -> None:
    layer, x, _ = attention_and_data(4, 5, 2, 4, causal=False, dropout=0.5)
    plain, _, _ = attention_and_data(4, 5, 2, 4, causal=False)
    np.testing.assert_array_equal(layer.forward(x), plain.forward(x))
    assert not np.allclose(layer.forward(x, training=True), plain.forward(x, training=True))
    assert layer.drop.rate == 0.5 and layer.dropout == 0.5


def test_fit_seeds_the_attention_dropout() -> None:
    """Two fits with one seed train the same (fit sets the attention's Dropout generator)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5, 8)).astype(np.float32)
    Y = (X[:, :, 0] > 0).astype(np.int64)

    def trained() -> nn.Sequential:
        model = nn.Sequential(
            nn.MultiHeadAttention(8, 2, dropout=0.5, seed=None),
            nn.Dense(8, 2, seed=1),
            nn.Softmax(),
        )
        model.layers[0].W_qkv[...] = np.random.default_rng(3).normal(0, 0.02, (8, 24))
        model.layers[0].W_out[...] = np.random.default_rng(4).normal(0, 0.02, (8, 8))
        model.fit(X, Y, epochs=2, batch_size=10, seed=5)
        return model

    for a, b in zip(trained().parameters(), trained().parameters(), strict=True):
        np.testing.assert_array_equal(a, b)


# --- the layer contract --------------------------------------------------------------------


def test_parameters_have_nanogpts_shapes_and_initialisation() -> None:
    layer = nn.MultiHeadAttention(64, 4, seed=0)
    assert layer.W_qkv.shape == (64, 192) and layer.b_qkv.shape == (192,)
    assert layer.W_out.shape == (64, 64) and layer.b_out.shape == (64,)
    for name in layer.params:
        value = getattr(layer, name)
        assert value.dtype == np.float32 and getattr(layer, "d" + name).shape == value.shape
    assert abs(layer.W_qkv.std() - 0.02) < 0.001 and not layer.b_qkv.any()
    np.testing.assert_array_equal(nn.MultiHeadAttention(64, 4, seed=0).W_out, layer.W_out)


def test_config_round_trips() -> None:
    layer = nn.MultiHeadAttention(12, 3, causal=True, dropout=0.1)
    assert layer.config() == {"dim": 12, "n_heads": 3, "causal": True, "dropout": 0.1}
    assert type(layer)(**layer.config()).config() == layer.config()
    assert repr(layer) == "MultiHeadAttention(dim=12, n_heads=3, causal=True, dropout=0.1)"


def test_shapes_in_and_out() -> None:
    layer = nn.MultiHeadAttention(8, 2)
    assert layer.input_shape == (None, 8) and layer.output_shape((10, 8)) == (10, 8)
    model = nn.Sequential(nn.MultiHeadAttention(8, 2), nn.Dense(8, 3), nn.Softmax())
    assert model.input_shape == (None, 8) and model.output_shape == (None, 3)
    assert model.forward(np.zeros((6, 9, 8), np.float32)).shape == (6, 9, 3)


def test_rows_or_other_features_are_shape_errors() -> None:
    with pytest.raises(
        ShapeError, match=r"MultiHeadAttention\(dim=8.* takes sequences .* not rows"
    ):
        nn.Sequential(nn.Dense(3, 8), nn.MultiHeadAttention(8, 2))
    with pytest.raises(ShapeError, match=r"takes sequences of shape \(n_samples, steps, 8\)"):
        nn.Sequential(nn.MultiHeadAttention(4, 2), nn.MultiHeadAttention(8, 2))
    with pytest.raises(ShapeError, match=r"\(n_samples, steps, 8\) but gets an array of shape"):
        nn.MultiHeadAttention(8, 2).forward(np.zeros((2, 8)))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_heads": 3}, ValueError, "dim must be divisible by n_heads .* dim=8 and n_heads=3"),
        ({"n_heads": 0}, ValueError, "MultiHeadAttention n_heads must be a positive integer"),
        ({"dim": 2.0}, ValueError, "MultiHeadAttention dim must be a positive integer, got 2.0"),
        ({"causal": 1}, TypeError, "MultiHeadAttention causal must be True or False, got 1"),
        ({"dropout": 1.0}, ValueError, r"dropout must be in \[0, 1\), got 1.0"),
        ({"dropout": "0.1"}, TypeError, "dropout must be a number, got '0.1'"),
        ({"dtype": np.int32}, TypeError, "MultiHeadAttention dtype must be a floating type"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        nn.MultiHeadAttention(**({"dim": 8, "n_heads": 2} | kwargs))


# --- models: files, training ---------------------------------------------------------------


def test_a_model_with_attention_saves_and_loads_with_identical_outputs(tmp_path: Path) -> None:
    model = nn.Sequential(
        nn.MultiHeadAttention(8, 2, causal=True, dropout=0.1, seed=0), nn.Dense(8, 5, seed=1)
    )
    x = np.random.default_rng(1).standard_normal((3, 7, 8)).astype(np.float32)
    nn.save(model, tmp_path / "attention.npz")
    loaded = nn.load(tmp_path / "attention.npz")
    assert repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))


def test_attention_learns_the_sign_of_a_sequences_sum_at_every_step() -> None:
    """Each step's target is the sign of the whole sequence's sum of feature 0: only
    attention, which mixes the steps, brings it to each step."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 6, 8)).astype(np.float32)
    Y = np.repeat((X[:, :, 0].sum(axis=1, keepdims=True) > 0).astype(np.int64), 6, axis=1)
    model = nn.Sequential(nn.MultiHeadAttention(8, 2, seed=1), nn.Dense(8, 2, seed=2), nn.Softmax())
    history = model.fit(X, Y, epochs=30, batch_size=20, seed=0, optimizer=nn.Adam(lr=0.01))
    assert history["loss"][-1] < history["loss"][0] / 3
    assert history["accuracy"][-1] > 0.9


# --- TransformerBlock ----------------------------------------------------------------------


def block_and_data(
    n: int, T: int, H: int, hs: int, causal: bool = True, seed: int = 0, **kw: Any
) -> tuple[Any, np.ndarray, np.ndarray]:
    """A float64 block with every parameter random (gamma around 1); x and L's weights."""
    block = nn.TransformerBlock(H * hs, H, causal=causal, dtype=np.float64, seed=seed, **kw)
    rng = np.random.default_rng(seed + 1)
    for name in block.params:
        array = get_array(block, name)
        array[...] = (name.endswith("gamma")) + 0.3 * rng.standard_normal(array.shape)
    return block, rng.standard_normal((n, T, H * hs)), rng.standard_normal((n, T, H * hs))


def torch_block(block: Any) -> Any:
    """nanoGPT's Block (ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj) in torch,
    float64, holding ``block``'s weights (torch's Linear weights are ours transposed)."""
    import torch
    from torch import nn as tnn

    D, H = block.dim, block.attn.n_heads

    class CausalSelfAttention(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_attn, self.c_proj = tnn.Linear(D, 3 * D), tnn.Linear(D, D)

        def forward(self, x: Any) -> Any:
            n, T, _ = x.shape
            q, k, v = self.c_attn(x).split(D, dim=2)
            q, k, v = (t.view(n, T, H, D // H).transpose(1, 2) for t in (q, k, v))
            att = (q @ k.transpose(-2, -1)) * (1.0 / (D // H) ** 0.5)
            if block.attn.causal:
                future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
                att = att.masked_fill(future, float("-inf"))
            y = torch.softmax(att, dim=-1) @ v
            return self.c_proj(y.transpose(1, 2).contiguous().view(n, T, D))

    class MLP(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_fc, self.c_proj = tnn.Linear(D, 4 * D), tnn.Linear(4 * D, D)
            self.gelu = tnn.GELU(approximate="tanh")

        def forward(self, x: Any) -> Any:
            return self.c_proj(self.gelu(self.c_fc(x)))

    class Block(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln_1, self.attn = tnn.LayerNorm(D), CausalSelfAttention()
            self.ln_2, self.mlp = tnn.LayerNorm(D), MLP()

        def forward(self, x: Any) -> Any:
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    module = Block().double()
    with torch.no_grad():
        for ours, theirs in TORCH_NAMES.items():
            value = torch.from_numpy(get_array(block, ours))
            module.get_parameter(theirs).copy_(value.T if value.ndim == 2 else value)
    return module


TORCH_NAMES = {
    "ln1.gamma": "ln_1.weight", "ln1.beta": "ln_1.bias",
    "attn.W_qkv": "attn.c_attn.weight", "attn.b_qkv": "attn.c_attn.bias",
    "attn.W_out": "attn.c_proj.weight", "attn.b_out": "attn.c_proj.bias",
    "ln2.gamma": "ln_2.weight", "ln2.beta": "ln_2.bias",
    "fc.W": "mlp.c_fc.weight", "fc.b": "mlp.c_fc.bias",
    "proj.W": "mlp.c_proj.weight", "proj.b": "mlp.c_proj.bias",
}  # fmt: skip


@settings(max_examples=12, deadline=None)
@given(shape=shapes, causal=st.booleans())
def test_a_block_equals_a_nanogpt_block_in_torch(shape: tuple[int, ...], causal: bool) -> None:
    import torch

    block, x, weights = block_and_data(*shape, causal=causal)
    assert set(block.params) == set(TORCH_NAMES)
    module = torch_block(block)
    x_t = torch.tensor(x, requires_grad=True)
    out_t = module(x_t)
    (out_t * torch.from_numpy(weights)).sum().backward()
    out = block.forward(x, training=True)
    dx = block.backward(weights)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dx, x_t.grad.numpy(), rtol=0, atol=1e-10)
    for ours, theirs in TORCH_NAMES.items():
        grad = module.get_parameter(theirs).grad.numpy()
        expected = grad.T if grad.ndim == 2 else grad
        np.testing.assert_allclose(get_grad(block, ours), expected, rtol=0, atol=1e-10)


@settings(max_examples=8, deadline=None)
@given(shape=shapes, causal=st.booleans(), dropout=st.sampled_from([0.0, 0.3]))
def test_block_gradients_match_central_differences(
    shape: tuple[int, ...], causal: bool, dropout: float
) -> None:
    block, x, weights = block_and_data(*shape, causal=causal, dropout=dropout)

    def loss() -> float:
        for k, drop in enumerate((block.attn.drop, block.drop_attn, block.drop_mlp)):
            drop.rng = np.random.default_rng(k)
        return float(np.sum(weights * block.forward(x, training=True)))

    loss()
    dx = block.backward(weights).copy()
    floor = noise_floor(loss(), np.float64)
    for name in block.params:
        numerical = numerical_gradient(loss, get_array(block, name))
        assert relative_error(get_grad(block, name), numerical, floor) < 1e-6, name
    assert relative_error(dx, numerical_gradient(loss, x), floor) < 1e-6


def test_a_blocks_parts_and_config() -> None:
    block = nn.TransformerBlock(16, 4, seed=0)
    assert isinstance(block.ln1, nn.LayerNorm) and isinstance(block.ln2, nn.LayerNorm)
    assert isinstance(block.attn, nn.MultiHeadAttention) and block.attn.causal
    assert block.fc.W.shape == (16, 64) and block.proj.W.shape == (64, 16)
    assert block.config() == {"dim": 16, "n_heads": 4, "causal": True, "dropout": 0.0}
    assert repr(type(block)(**block.config())) == repr(block)
    np.testing.assert_array_equal(nn.TransformerBlock(16, 4, seed=0).fc.W, block.fc.W)
    assert block.output_shape((None, 16)) == (None, 16)
    with pytest.raises(ValueError, match="dim=16 and n_heads=3"):
        nn.TransformerBlock(16, 3)
    with pytest.raises(ShapeError, match=r"TransformerBlock\(dim=16.* not rows"):
        nn.Sequential(nn.Dense(3, 16), nn.TransformerBlock(16, 4))


def gpt(vocab: int = 7, T: int = 8, dim: int = 16, seed: int = 0) -> nn.Sequential:
    return nn.Sequential(
        nn.Embedding(vocab, dim, seed=seed), nn.PositionalEmbedding(T, dim, seed=seed + 1),
        nn.TransformerBlock(dim, 2, dropout=0.1, seed=seed + 2),
        nn.TransformerBlock(dim, 2, dropout=0.1, seed=seed + 3),
        nn.LayerNorm(dim), nn.Dense(dim, vocab, seed=seed + 4), nn.Softmax(),
    )  # fmt: skip


# the next token of a sequence counting up modulo 7 from a random start
STARTS = np.random.default_rng(0).integers(0, 7, 200)
TOKENS = (STARTS[:, None] + np.arange(9)) % 7


def test_a_small_gpt_learns_to_count(tmp_path: Path) -> None:
    model = gpt()
    history = model.fit(
        TOKENS[:, :-1], TOKENS[:, 1:], epochs=10, batch_size=20, seed=0, loss=nn.CrossEntropy(),
        optimizer=nn.AdamW(lr=3e-3),
    )  # fmt: skip
    assert history["loss"][-1] < history["loss"][0] / 4 and history["accuracy"][-1] > 0.95
    nn.save(model, tmp_path / "gpt.npz")
    loaded = nn.load(tmp_path / "gpt.npz")
    assert repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded.forward(TOKENS[:5, :-1]), model.forward(TOKENS[:5, :-1]))


def test_training_a_gpt_resumes_bit_identically(tmp_path: Path) -> None:
    class Crash(nn.Callback):
        def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
            if self.run.epoch == 2 and batch == 1:
                raise RuntimeError("crash")

    def fit(run_dir: Path, *extra: nn.Callback, resume: bool = False) -> Any:
        model = gpt()
        history = model.fit(
            TOKENS[:, :-1], TOKENS[:, 1:], epochs=3, batch_size=40, seed=0, resume=resume,
            loss=nn.CrossEntropy(), optimizer=nn.AdamW(lr=3e-3),
            validation_data=(TOKENS[:40, :-1], TOKENS[:40, 1:]),
            callbacks=[nn.ModelCheckpoint(run_dir), *extra],
        )  # fmt: skip
        return model, history

    model, history = fit(tmp_path / "straight")
    with pytest.raises(RuntimeError, match="crash"):
        fit(tmp_path / "run", Crash())
    resumed, resumed_history = fit(tmp_path / "run", resume=True)
    assert resumed_history == history
    for a, b in zip(resumed.state_arrays(), model.state_arrays(), strict=True):
        assert np.array_equal(a, b)
