"""RNN, LSTM and GRU: PyTorch's outputs and gradients in float64 (1e-10), gradient checks,
the initial and the carried state, shapes, model files, training and exact resume."""

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

LAYERS = [nn.RNN, nn.LSTM, nn.GRU]
shapes = st.tuples(
    st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)
)  # n, T, n_in, H


def layer_and_data(
    cls: type, n: int, T: int, n_in: int, H: int, sequences: bool, seed: int = 0, **kw: Any
) -> tuple[Any, np.ndarray, np.ndarray]:
    layer = cls(n_in, H, return_sequences=sequences, dtype=np.float64, seed=seed, **kw)
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((n, T, n_in))
    weights = rng.standard_normal((n, T, H) if sequences else (n, H))  # L = sum(weights * out)
    return layer, x, weights


def random_state(cls: type, n: int, H: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((n, H)) for _ in range(cls.n_states))


# --- PyTorch parity ------------------------------------------------------------------------


def torch_twin(layer: Any) -> Any:
    """torch.nn.RNN/LSTM/GRU(batch_first=True) holding ``layer``'s weights (float64)."""
    import torch

    module = getattr(torch.nn, type(layer).__name__)(
        layer.n_in, layer.hidden, batch_first=True, dtype=torch.float64
    )
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(layer.Wx.T))
        module.weight_hh_l0.copy_(torch.from_numpy(layer.Wh.T))
        if isinstance(layer, nn.GRU):
            module.bias_ih_l0.copy_(torch.from_numpy(layer.bx))
            module.bias_hh_l0.copy_(torch.from_numpy(layer.bh))
        else:  # our b is torch's b_ih + b_hh
            module.bias_ih_l0.copy_(torch.from_numpy(layer.b / 2))
            module.bias_hh_l0.copy_(torch.from_numpy(layer.b / 2))
    return module


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
@settings(max_examples=12, deadline=None)
@given(shape=shapes, sequences=st.booleans(), initial=st.booleans())
def test_outputs_and_every_gradient_equal_pytorchs(
    cls: type, shape: tuple[int, ...], sequences: bool, initial: bool
) -> None:
    import torch

    n, H = shape[0], shape[3]
    layer, x, weights = layer_and_data(cls, *shape, sequences)
    module = torch_twin(layer)
    x_t = torch.tensor(x, requires_grad=True)
    # the initial state (given, or zeros) is a leaf: its gradient is the layer's dh0 (dc0)
    state = (
        random_state(cls, n, H, seed=5)
        if initial
        else tuple(np.zeros((n, H)) for _ in range(cls.n_states))
    )
    if initial:
        layer.set_state(*state)
    torch_state = tuple(torch.tensor(s[None], requires_grad=True) for s in state)
    out_t, _ = module(x_t, torch_state if cls is nn.LSTM else torch_state[0])
    if not sequences:
        out_t = out_t[:, -1]
    out = layer.forward(x, training=True)
    (out_t * torch.from_numpy(weights)).sum().backward()
    dx = layer.backward(weights)

    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dx, x_t.grad.numpy(), rtol=0, atol=1e-10)
    grads = {"dWx": module.weight_ih_l0.grad.T, "dWh": module.weight_hh_l0.grad.T}
    if cls is nn.GRU:
        grads |= {"dbx": module.bias_ih_l0.grad, "dbh": module.bias_hh_l0.grad}
    else:
        grads["db"] = module.bias_ih_l0.grad  # = bias_hh_l0's gradient
        np.testing.assert_allclose(layer.db, module.bias_hh_l0.grad.numpy(), rtol=0, atol=1e-10)
    for name, expected in grads.items():
        np.testing.assert_allclose(getattr(layer, name), expected.numpy(), rtol=0, atol=1e-10)
    for name, s_t in zip(("dh0", "dc0"), torch_state, strict=False):
        np.testing.assert_allclose(getattr(layer, name), s_t.grad[0].numpy(), rtol=0, atol=1e-10)


# --- gradient checks -----------------------------------------------------------------------


def check_gradients(layer: Any, x: np.ndarray, weights: np.ndarray) -> None:
    """Backprop's dL/dx and dL/dP for each parameter P, L = sum(weights * forward(x)), against
    central differences (relative error < 1e-6)."""

    def loss() -> float:
        return float(np.sum(weights * layer.forward(x)))

    layer.forward(x, training=True)
    dx = layer.backward(weights).copy()
    floor = noise_floor(loss(), np.float64)
    for name in layer.params:
        numerical = numerical_gradient(loss, getattr(layer, name))
        assert relative_error(getattr(layer, "d" + name), numerical, floor) < 1e-6, name
    assert relative_error(dx, numerical_gradient(loss, x), floor) < 1e-6
    if layer.state is not None:  # the initial state's gradients, dh0 (and dc0)
        for name, state in zip(("dh0", "dc0"), layer.state, strict=False):
            numerical = numerical_gradient(loss, state)
            assert relative_error(getattr(layer, name), numerical, floor) < 1e-6, name


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
@settings(max_examples=10, deadline=None)
@given(shape=shapes, sequences=st.booleans(), initial=st.booleans())
def test_gradients_match_central_differences(
    cls: type, shape: tuple[int, ...], sequences: bool, initial: bool
) -> None:
    layer, x, weights = layer_and_data(cls, *shape, sequences)
    if initial:
        layer.set_state(*random_state(cls, shape[0], shape[3], seed=5))
    check_gradients(layer, x, weights)


def test_stacked_layers_pass_numpynns_gradient_check() -> None:
    """GRU (every step) -> LSTM (last step) -> Dense -> Softmax, with a cross-entropy."""
    f64 = np.float64
    model = nn.Sequential(
        nn.GRU(2, 3, return_sequences=True, dtype=f64, seed=0),
        nn.LSTM(3, 3, dtype=f64, seed=1),
        nn.Dense(3, 2, dtype=f64, seed=2),
        nn.Softmax(),
    )
    X = np.random.default_rng(0).standard_normal((3, 4, 2))
    errors = nn.gradient_check(model, X, np.array([0, 1, 0]), "cross_entropy")
    assert len(errors) == 10 and max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("sequences", [False, True])
def test_a_stateful_layer_carries_its_last_state_into_the_next_call(
    cls: type, sequences: bool
) -> None:
    """Two calls on the halves of a sequence give the whole sequence's outputs; the second
    call's gradients treat the carried state as a constant (truncated BPTT)."""
    layer, x, weights = layer_and_data(cls, 2, 6, 3, 4, sequences, stateful=True)
    whole = cls(3, 4, return_sequences=True, dtype=np.float64, seed=0).forward(x)
    first = layer.forward(x[:, :3], training=True).copy()  # training reuses its arrays
    carried = tuple(s.copy() for s in layer.state)
    second = layer.forward(x[:, 3:], training=True)
    if sequences:
        np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=1e-14)
    else:
        np.testing.assert_allclose(second, whole[:, -1], atol=1e-14)
    np.testing.assert_array_equal(carried[0], whole[:, 2])

    dx = layer.backward(weights[:, :3] if sequences else weights)
    grads = {name: getattr(layer, "d" + name).copy() for name in layer.params}
    # the same call from the carried state, as a constant: a non-stateful twin
    twin = cls(3, 4, return_sequences=sequences, dtype=np.float64, seed=0)
    twin.set_state(*carried)
    np.testing.assert_array_equal(twin.forward(x[:, 3:], training=True), second)
    np.testing.assert_array_equal(twin.backward(weights[:, :3] if sequences else weights), dx)
    for name, grad in grads.items():
        np.testing.assert_array_equal(getattr(twin, "d" + name), grad)
    check_gradients(twin, x[:, 3:].copy(), weights[:, :3] if sequences else weights)


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_reset_state_starts_again_from_zeros(cls: type) -> None:
    layer, x, _ = layer_and_data(cls, 2, 3, 2, 3, False, stateful=True)
    fresh = layer.forward(x)
    assert not np.allclose(layer.forward(x), fresh)  # from the carried state
    layer.reset_state()
    assert layer.state is None
    np.testing.assert_array_equal(layer.forward(x), fresh)


def test_an_initial_state_is_used_by_every_call_of_a_layer_that_is_not_stateful() -> None:
    layer, x, _ = layer_and_data(nn.LSTM, 2, 3, 2, 3, True)
    layer.set_state(*random_state(nn.LSTM, 2, 3, seed=1))
    np.testing.assert_array_equal(layer.forward(x), layer.forward(x))
    h0, c0 = random_state(nn.LSTM, 2, 3, seed=1)
    assert np.array_equal(layer.state[0], h0) and np.array_equal(layer.state[1], c0)


def test_a_stateful_layer_refuses_a_batch_of_another_size() -> None:
    layer, x, _ = layer_and_data(nn.GRU, 4, 3, 2, 3, False, stateful=True)
    layer.forward(x)
    with pytest.raises(ValueError, match="holds a state for 4 sequences but gets a batch of 2"):
        layer.forward(x[:2])


def test_set_state_checks_its_shapes() -> None:
    with pytest.raises(ShapeError, match=r"state h must have shape \(n, 3\), got \(2, 4\)"):
        nn.LSTM(2, 3).set_state(np.zeros((2, 4)))
    with pytest.raises(ShapeError, match=r"state c must have h's shape \(2, 3\), got \(1, 3\)"):
        nn.LSTM(2, 3).set_state(np.zeros((2, 3)), np.zeros((1, 3)))
    with pytest.raises(TypeError, match="GRU has no cell state"):
        nn.GRU(2, 3).set_state(np.zeros((2, 3)), np.zeros((2, 3)))


# --- the layer contract --------------------------------------------------------------------


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_parameters_have_torchs_shapes_and_initialisation(cls: type) -> None:
    layer = cls(5, 8, seed=0)
    blocks = {nn.RNN: 1, nn.LSTM: 4, nn.GRU: 3}[cls]
    assert layer.Wx.shape == (5, blocks * 8) and layer.Wh.shape == (8, blocks * 8)
    for name in layer.params:
        value = getattr(layer, name)
        assert value.dtype == np.float32 and np.abs(value).max() <= 1 / np.sqrt(8)
        assert getattr(layer, "d" + name).shape == value.shape
    np.testing.assert_array_equal(cls(5, 8, seed=0).Wh, layer.Wh)


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_config_round_trips(cls: type) -> None:
    layer = cls(3, 7, return_sequences=True, stateful=True, seed=1)
    assert layer.config() == {"n_in": 3, "hidden": 7, "return_sequences": True, "stateful": True}
    assert type(layer)(**layer.config()).config() == layer.config()
    assert repr(layer) == f"{cls.__name__}(n_in=3, hidden=7, return_sequences=True, stateful=True)"


def test_shapes_in_and_out() -> None:
    assert nn.LSTM(3, 7).input_shape == (None, 3)
    assert nn.LSTM(3, 7).output_shape((10, 3)) == (7,)
    assert nn.GRU(3, 7, return_sequences=True).output_shape((10, 3)) == (10, 7)
    model = nn.Sequential(nn.RNN(3, 5, return_sequences=True), nn.LSTM(5, 4), nn.Dense(4, 2))
    assert model.input_shape == (None, 3) and model.output_shape == (2,)
    assert model.forward(np.zeros((6, 9, 3))).shape == (6, 2)


def test_an_lstm_fed_rows_is_a_shape_error_at_construction() -> None:
    message = (
        r"layer 1: LSTM\(n_in=8, hidden=4, return_sequences=False, stateful=False\) takes "
        r"sequences of shape \(n_samples, steps, 8\) but gets rows of shape \(n_samples, 8\): "
        r"LSTM reads sequences \(n_samples, steps, features\), not rows"
    )
    with pytest.raises(ShapeError, match=message):
        nn.Sequential(nn.Dense(3, 8), nn.LSTM(8, 4))


def test_a_sequence_of_other_features_is_a_shape_error() -> None:
    with pytest.raises(ShapeError, match=r"GRU\(n_in=5.* takes sequences of shape \(n_samples"):
        nn.Sequential(nn.LSTM(3, 4, return_sequences=True), nn.GRU(5, 2))
    with pytest.raises(ShapeError, match=r"expects sequences of shape \(n_samples, steps, 3\)"):
        nn.RNN(3, 4).forward(np.zeros((2, 3)))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"hidden": 0}, ValueError, "LSTM hidden must be a positive integer, got 0"),
        ({"n_in": 2.5}, ValueError, "LSTM n_in must be a positive integer, got 2.5"),
        ({"return_sequences": "yes"}, TypeError, "return_sequences must be True or False"),
        ({"stateful": 1}, TypeError, "LSTM stateful must be True or False, got 1"),
        ({"dtype": np.int32}, TypeError, "LSTM dtype must be a floating type, got int32"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        nn.LSTM(**({"n_in": 2, "hidden": 3} | kwargs))


# --- models: files, training, resume ---------------------------------------------------------

rng_data = np.random.default_rng(0)
X_SEQ = rng_data.standard_normal((600, 8, 1)).astype(np.float32)
Y_SEQ = (X_SEQ.sum(axis=(1, 2)) > 0).astype(np.int64)  # the sign of the sum


def classifier() -> nn.Sequential:
    return nn.Sequential(nn.LSTM(1, 12, seed=0), nn.Dense(12, 2, seed=1), nn.Softmax())


def test_a_model_with_an_lstm_saves_and_loads_with_identical_outputs(tmp_path: Path) -> None:
    model = nn.Sequential(nn.LSTM(4, 6, seed=0), nn.Dense(6, 10, seed=1), nn.Softmax())
    x = np.random.default_rng(1).standard_normal((5, 7, 4)).astype(np.float32)
    nn.save(model, tmp_path / "lstm.npz")
    loaded = nn.load(tmp_path / "lstm.npz")
    assert repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))


def test_an_lstm_learns_the_sign_of_a_sequences_sum() -> None:
    model = classifier()
    history = model.fit(X_SEQ[:500], Y_SEQ[:500], epochs=30, batch_size=25, seed=0)
    assert history["loss"][-1] < history["loss"][0] / 5
    assert model.evaluate(X_SEQ[500:], Y_SEQ[500:])["accuracy"] >= 0.95  # 0.98


def test_a_gru_tagger_learns_the_sign_of_the_running_sum_at_every_step() -> None:
    """return_sequences into Dense and Softmax over the last axis: one class per step."""
    X = X_SEQ[:400, :, :]
    Y = (np.cumsum(X[..., 0], axis=1) > 0).astype(np.int64)  # (n, T) class ids
    model = nn.Sequential(
        nn.GRU(1, 12, return_sequences=True, seed=0), nn.Dense(12, 2, seed=1), nn.Softmax()
    )
    history = model.fit(X[:300], Y[:300], epochs=20, batch_size=25, seed=0)
    assert history["loss"][-1] < history["loss"][0] / 2
    assert model.forward(X[300:]).shape == (100, 8, 2)
    assert model.evaluate(X[300:], Y[300:])["accuracy"] >= 0.93


def test_training_an_lstm_resumes_bit_identically(tmp_path: Path) -> None:
    class Crash(nn.Callback):
        def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
            if self.run.epoch == 2 and batch == 1:
                raise RuntimeError("crash")

    def fit(run_dir: Path, *extra: nn.Callback, resume: bool = False) -> Any:
        model = classifier()
        history = model.fit(
            X_SEQ[:240], Y_SEQ[:240], epochs=4, batch_size=40, seed=0, resume=resume,
            validation_data=(X_SEQ[:40], Y_SEQ[:40]),
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


def test_a_stateful_layer_predicts_many_sequences_in_one_pass() -> None:
    """Inference takes sequences whole (no chunks of samples): a stateful layer's carried
    state is the whole batch's."""
    layer = nn.LSTM(2, 3, stateful=True, seed=0)
    model = nn.Sequential(layer, nn.Dense(3, 2, seed=1), nn.Softmax())
    X = np.random.default_rng(0).normal(size=(300, 4, 2)).astype(np.float32)
    assert model.predict_proba(X).shape == (300, 2)
    layer.reset_state()


def test_ragged_sequences_are_a_clear_error() -> None:
    model = nn.Sequential(nn.LSTM(2, 3, seed=0), nn.Dense(3, 2, seed=1), nn.Softmax())
    with pytest.raises(ValueError, match="X must be a 3-D array of numbers"):
        model.predict([[[1.0, 2.0]], [[1.0, 2.0], [3.0, 4.0]]])
