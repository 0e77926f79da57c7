"""ONNX export of RNN, LSTM and GRU: the ONNX operators, gates reordered and time first,
compute what numpynn computes (onnxruntime, float32, within 1e-5)."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import numpynn as nn
from numpynn.onnx import to_onnx

LAYERS = [nn.RNN, nn.LSTM, nn.GRU]


def run_onnx(proto: Any, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"X": X})[0]


def sequences(n: int, T: int, n_in: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, T, n_in)).astype(np.float32)


def with_random_biases(layer: Any) -> Any:
    """Biases as large as the weights (the initial ones are), so a bias in the wrong gate shows."""
    rng = np.random.default_rng(9)
    for name in layer.params:
        getattr(layer, name)[...] = rng.uniform(-0.6, 0.6, getattr(layer, name).shape)
    return layer


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("opset", [13, 17])
def test_last_state_matches_onnxruntime(cls: type, opset: int) -> None:
    model = nn.Sequential(
        with_random_biases(cls(5, 7, seed=0)), nn.Dense(7, 3, seed=1), nn.Softmax()
    )
    X = sequences(4, 9, 5)
    proto = to_onnx(model, opset=opset)
    assert cls.__name__ in {node.op_type for node in proto.graph.node}
    got = run_onnx(proto, X)
    assert got.shape == (4, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, model.forward(X), rtol=0, atol=1e-5)


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_every_step_matches_onnxruntime_for_another_batch_and_length(cls: type) -> None:
    """return_sequences: (n, T, H); the batch and the number of steps are dynamic."""
    model = nn.Sequential(
        with_random_biases(cls(3, 6, return_sequences=True, seed=0)),
        with_random_biases(nn.LSTM(6, 4, seed=1)),
    )
    proto = to_onnx(model)
    for n, T in ((2, 5), (7, 1), (3, 12)):
        X = sequences(n, T, 3, seed=n)
        np.testing.assert_allclose(run_onnx(proto, X), model.forward(X), rtol=0, atol=1e-5)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", "d0", 3]


def test_a_float64_model_exports_a_valid_graph() -> None:
    """ONNX defines the operators for doubles (onnxruntime runs them in float32 only)."""
    model = nn.Sequential(nn.GRU(2, 3, dtype=np.float64, seed=0), nn.Dense(3, 1, dtype=np.float64))
    proto = to_onnx(model)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


def test_a_layer_holding_a_state_is_refused_until_reset() -> None:
    layer = nn.LSTM(2, 3, stateful=True, seed=0)
    model = nn.Sequential(layer)
    model.forward(sequences(2, 4, 2))
    with pytest.raises(ValueError, match=r"holds a state .* call reset_state\(\) before"):
        to_onnx(model)
    layer.reset_state()
    X = sequences(2, 4, 2)
    np.testing.assert_allclose(run_onnx(to_onnx(model), X), model.forward(X), atol=1e-5)


def test_a_dense_layer_on_each_step_exports_as_matmul_and_add() -> None:
    import onnxruntime as ort

    model = nn.Sequential(
        nn.LSTM(3, 5, return_sequences=True, seed=0), nn.Dense(5, 4, seed=1), nn.Softmax()
    )
    proto = nn.to_onnx(model)
    assert [n.op_type for n in proto.graph.node].count("Gemm") == 0
    session = ort.InferenceSession(proto.SerializeToString())
    x = np.random.default_rng(0).normal(size=(2, 6, 3)).astype(np.float32)
    np.testing.assert_allclose(session.run(None, {"X": x})[0], model.forward(x), atol=1e-5)
