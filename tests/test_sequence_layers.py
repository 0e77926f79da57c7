"""Embedding, PositionalEmbedding, LayerNorm and GELU: PyTorch's outputs and gradients in
float64 (1e-10), gradient checks, clear errors, configs, model files and training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import numpynn as nn
from numpynn.errors import ShapeError
from numpynn.gradcheck import noise_floor, numerical_gradient, relative_error

F64 = np.float64
sizes = st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 4))  # n, T, dim


def torch_tensor(a: np.ndarray, grad: bool = False) -> Any:
    import torch

    return torch.tensor(
        a, dtype=torch.float64 if a.dtype.kind == "f" else torch.int64
    ).requires_grad_(grad)


def assert_close(ours: np.ndarray, theirs: Any) -> None:
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=0, atol=1e-10)


# --- PyTorch parity ------------------------------------------------------------------------


@settings(max_examples=10, deadline=None)
@given(shape=sizes, vocab=st.integers(1, 6), seed=st.integers(0, 99))
def test_embedding_equals_torchs(shape: tuple[int, int, int], vocab: int, seed: int) -> None:
    import torch

    n, T, dim = shape
    layer = nn.Embedding(vocab, dim, dtype=F64, seed=seed)
    rng = np.random.default_rng(seed)
    ids, dout = rng.integers(0, vocab, (n, T)), rng.standard_normal((n, T, dim))
    twin = torch.nn.Embedding(vocab, dim, dtype=torch.float64)
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(layer.W))
    y = twin(torch.from_numpy(ids))
    y.backward(torch.from_numpy(dout))
    assert_close(layer.forward(ids, training=True), y)
    assert layer.backward(dout) is None  # ids have no gradient
    assert_close(layer.dW, twin.weight.grad)


@settings(max_examples=10, deadline=None)
@given(shape=sizes, extra=st.integers(0, 3), seed=st.integers(0, 99))
def test_positional_embedding_equals_w_of_the_first_t_positions_added(
    shape: tuple[int, int, int], extra: int, seed: int
) -> None:
    n, T, dim = shape
    layer = nn.PositionalEmbedding(T + extra, dim, dtype=F64, seed=seed)
    rng = np.random.default_rng(seed)
    x, dout = rng.standard_normal((n, T, dim)), rng.standard_normal((n, T, dim))
    W = torch_tensor(layer.W, grad=True)
    tx = torch_tensor(x, grad=True)
    y = tx + W[:T]
    y.backward(torch_tensor(dout))
    assert_close(layer.forward(x, training=True), y)
    assert_close(layer.backward(dout), tx.grad)
    assert_close(layer.dW, W.grad)


@settings(max_examples=10, deadline=None)
@given(shape=sizes, rank=st.integers(2, 4), seed=st.integers(0, 99))
def test_layer_norm_equals_torchs_on_any_rank(
    shape: tuple[int, int, int], rank: int, seed: int
) -> None:
    import torch

    n, T, dim = shape
    x_shape = (n, T, 2, dim)[4 - rank :] if rank < 4 else (n, T, 2, dim)
    rng = np.random.default_rng(seed)
    layer = nn.LayerNorm(dim, dtype=F64)
    layer.gamma[:], layer.beta[:] = rng.standard_normal(dim), rng.standard_normal(dim)
    x, dout = 3 * rng.standard_normal(x_shape) + 1, rng.standard_normal(x_shape)
    twin = torch.nn.LayerNorm(dim, dtype=torch.float64)
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(layer.gamma))
        twin.bias.copy_(torch.from_numpy(layer.beta))
    tx = torch_tensor(x, grad=True)
    y = twin(tx)
    y.backward(torch_tensor(dout))
    assert_close(layer.forward(x, training=True), y)
    assert_close(layer.backward(dout), tx.grad)
    assert_close(layer.dgamma, twin.weight.grad)
    assert_close(layer.dbeta, twin.bias.grad)


@settings(max_examples=10, deadline=None)
@given(shape=sizes, seed=st.integers(0, 99))
def test_gelu_equals_torchs_tanh_approximation(shape: tuple[int, int, int], seed: int) -> None:
    import torch

    rng = np.random.default_rng(seed)
    x, dout = 4 * rng.standard_normal(shape), rng.standard_normal(shape)
    tx = torch_tensor(x, grad=True)
    y = torch.nn.GELU(approximate="tanh")(tx)
    y.backward(torch_tensor(dout))
    layer = nn.GELU()
    assert_close(layer.forward(x, training=True), y)
    assert_close(layer.backward(dout), tx.grad)
    assert_close(nn.gelu(x), y)


def test_gelu_function_takes_lists_and_integers_and_stays_finite() -> None:
    np.testing.assert_allclose(nn.gelu([0, 1]), [0.0, 0.8411919906082768], rtol=1e-12)
    assert np.array_equal(nn.gelu([-1e4, 1e4]), [0.0, 1e4])


# --- gradient checks -----------------------------------------------------------------------


def check_gradients(
    layer: Any, x: np.ndarray, weights: np.ndarray, input_grad: bool, eps: float | None = None
) -> None:
    """Backprop against central differences (step ``eps``) for L = sum(weights * forward(x))."""

    def loss() -> float:
        return float(np.sum(weights * layer.forward(x)))

    layer.forward(x, training=True)
    dx = layer.backward(weights)
    dx = None if dx is None else dx.copy()
    floor = noise_floor(loss(), F64)
    for name in layer.params:
        numerical = numerical_gradient(loss, getattr(layer, name), eps)
        assert relative_error(getattr(layer, "d" + name), numerical, floor) < 1e-6, name
    if input_grad:
        assert relative_error(dx, numerical_gradient(loss, x, eps), floor) < 1e-6


@settings(max_examples=10, deadline=None)
@given(shape=sizes, seed=st.integers(0, 99))
@example(shape=(1, 2, 2), seed=29)  # a row of two nearly equal features
def test_gradients_match_central_differences(shape: tuple[int, int, int], seed: int) -> None:
    n, T, dim = shape
    rng = np.random.default_rng(seed)
    x, weights = rng.standard_normal((n, T, dim)), rng.standard_normal((n, T, dim))
    ids = rng.integers(0, 4, (n, T))
    check_gradients(nn.Embedding(4, dim, dtype=F64, seed=seed), ids, weights, input_grad=False)
    check_gradients(nn.Embedding(4, dim, dtype=F64, seed=seed), ids[:, 0], weights[:, 0], False)
    check_gradients(nn.PositionalEmbedding(T + 1, dim, dtype=F64, seed=seed), x, weights, True)
    norm = nn.LayerNorm(dim, dtype=F64)
    norm.gamma[:], norm.beta[:] = rng.standard_normal(dim), rng.standard_normal(dim)
    # a smaller step: where a row's features nearly agree, xhat bends on the scale of
    # sqrt(var + eps) >= 3e-3, too sharp for the default step 7e-4
    check_gradients(norm, x, weights, True, eps=1e-5)
    check_gradients(nn.GELU(), 2 * x, weights, True)


def test_a_language_model_passes_numpynns_gradient_check() -> None:
    model = nn.Sequential(
        nn.Embedding(5, 4, dtype=F64, seed=0),
        nn.PositionalEmbedding(6, 4, dtype=F64, seed=1),
        nn.LayerNorm(4, dtype=F64),
        nn.GELU(),
        nn.Dense(4, 5, dtype=F64, seed=2),
        nn.Softmax(),
    )
    rng = np.random.default_rng(0)
    X, Y = rng.integers(0, 5, (3, 6)), rng.integers(0, 5, (3, 6))
    errors = nn.gradient_check(model, X, Y, "cross_entropy")
    assert "X" not in errors and len(errors) == 6 and max(errors.values()) < 1e-6, errors


# --- errors and shapes ---------------------------------------------------------------------


def test_an_id_outside_the_vocabulary_is_a_clear_error() -> None:
    layer = nn.Embedding(10, 3)
    with pytest.raises(ValueError, match=r"Embedding\(n_tokens=10, dim=3\).*\[0, 10\).*id 10"):
        layer.forward(np.array([[1, 10, 2]]))
    with pytest.raises(ValueError, match=r"\[0, 10\).*id -1"):
        layer.forward(np.array([3, -1]))
    with pytest.raises(TypeError, match=r"Embedding.*integer token ids.*float64"):
        layer.forward(np.array([[1.0, 2.0]]))
    model = nn.Sequential(nn.Embedding(10, 3), nn.Dense(3, 10), nn.Softmax())
    with pytest.raises(ValueError, match=r"id 12"):
        model.predict(np.array([[0, 12]]))


def test_a_sequence_longer_than_max_len_is_a_shape_error() -> None:
    layer = nn.PositionalEmbedding(4, 3)
    with pytest.raises(
        ShapeError, match=r"PositionalEmbedding\(max_len=4, dim=3\).*max_len=4.*T=5"
    ):
        layer.forward(np.zeros((2, 5, 3), np.float32))
    with pytest.raises(ShapeError, match=r"max_len=4.*T=5"):
        layer.output_shape((5, 3))
    assert layer.output_shape((4, 3)) == (4, 3) and layer.output_shape(None) == (None, 3)
    with pytest.raises(ShapeError, match=r"PositionalEmbedding.*\(n_samples, T, 3\)"):
        layer.forward(np.zeros((2, 4, 2), np.float32))


def test_a_layer_norm_of_another_width_is_a_shape_error_at_construction() -> None:
    with pytest.raises(ShapeError, match=r"LayerNorm\(dim=5, eps=1e-05\).*5\).*gets.*8\)"):
        nn.Sequential(nn.Embedding(10, 8), nn.LayerNorm(5))
    with pytest.raises(ShapeError, match=r"PositionalEmbedding\(max_len=4, dim=6\)"):
        nn.Sequential(nn.Embedding(10, 8), nn.PositionalEmbedding(4, 6))
    with pytest.raises(ShapeError, match=r"LayerNorm.*5"):
        nn.LayerNorm(5).forward(np.zeros((2, 4), np.float32))


def test_shapes_in_and_out() -> None:
    model = nn.Sequential(
        nn.Embedding(10, 8), nn.PositionalEmbedding(6, 8), nn.LayerNorm(8), nn.GELU()
    )
    assert model.input_shape == (None,) and model.output_shape == (None, 8)
    assert nn.Embedding(10, 8).forward(np.array([1, 2, 3])).shape == (3, 8)
    assert nn.LayerNorm(8).output_shape((3, 5, 8)) == (3, 5, 8)
    assert model.predict(np.ones((2, 5), np.int32)).shape == (2, 5, 8)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: nn.Embedding(0, 3), ValueError, "Embedding n_tokens must be a positive integer"),
        (lambda: nn.Embedding(3, 2.5), ValueError, "Embedding dim must be a positive integer"),
        (lambda: nn.Embedding(3, 2, dtype=np.int32), TypeError, "Embedding dtype"),
        (lambda: nn.PositionalEmbedding(0, 2), ValueError, "max_len must be a positive"),
        (lambda: nn.LayerNorm(4, eps=0), ValueError, "LayerNorm eps must be a positive number"),
        (lambda: nn.LayerNorm(-1), ValueError, "LayerNorm dim must be a positive integer"),
    ],
)
def test_bad_arguments_are_refused(make: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make()


def test_initialisation_is_torchs_for_tokens_and_nanogpts_for_positions() -> None:
    tokens, positions = nn.Embedding(1000, 64, seed=0), nn.PositionalEmbedding(1000, 64, seed=0)
    assert abs(tokens.W.std() - 1) < 0.01 and abs(positions.W.std() - 0.02) < 0.0002
    assert tokens.W.dtype == np.float32 and nn.Embedding(2, 2, dtype=F64).W.dtype == F64
    norm = nn.LayerNorm(3)
    assert np.array_equal(norm.gamma, np.ones(3)) and np.array_equal(norm.beta, np.zeros(3))


# --- configs, model files, training --------------------------------------------------------


@pytest.mark.parametrize(
    "layer",
    [nn.Embedding(7, 3), nn.PositionalEmbedding(9, 4), nn.LayerNorm(5, eps=1e-6), nn.GELU()],
    ids=lambda layer: type(layer).__name__,
)
def test_config_round_trips(layer: Any) -> None:
    again = type(layer)(**layer.config())
    assert again.config() == layer.config() and repr(again) == repr(layer)


def test_gelu_is_an_activation_by_name() -> None:
    model = nn.mlp([3, 4, 2], activation="gelu")
    assert isinstance(model.layers[1], nn.GELU)


def language_model(vocab: int = 6, seed: int = 0) -> nn.Sequential:
    return nn.Sequential(
        nn.Embedding(vocab, 8, seed=seed),
        nn.PositionalEmbedding(5, 8, seed=seed + 1),
        nn.LayerNorm(8),
        nn.GELU(),
        nn.Dense(8, vocab, seed=seed + 2),
        nn.Softmax(),
    )


def test_a_model_of_every_new_layer_saves_and_loads_with_identical_outputs(
    tmp_path: Path,
) -> None:
    model = language_model()
    model.layers[2].gamma[:] = np.arange(8) / 4  # not the initial values
    ids = np.random.default_rng(1).integers(0, 6, (4, 5))
    nn.save(model, tmp_path / "lm.npz")
    loaded = nn.load(tmp_path / "lm.npz")
    assert repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded.forward(ids), model.forward(ids))
    without_dense = nn.Sequential(*model.layers[:4])
    nn.save(without_dense, tmp_path / "parts.npz")
    np.testing.assert_array_equal(
        nn.load(tmp_path / "parts.npz").predict(ids), without_dense.predict(ids)
    )


def test_a_language_model_learns_to_copy_the_previous_token() -> None:
    """Each step's target is its own token + 1 (mod vocab): learnable from the embedding."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 6, (300, 5))
    Y = (X + 1) % 6
    model = language_model()
    history = model.fit(X, Y, optimizer=nn.Adam(lr=0.01), epochs=15, batch_size=30, seed=0)
    assert history["loss"][-1] < history["loss"][0] / 4
    assert model.evaluate(X, Y)["accuracy"] > 0.99
