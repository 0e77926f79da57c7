"""ONNX export of Embedding (Gather, int64 ids in), PositionalEmbedding (Slice + Add),
LayerNorm (LayerNormalization) and GELU (its formula): onnxruntime computes what numpynn
computes, within 1e-5, for any batch and sequence length."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import numpynn as nn
from numpynn.onnx import to_onnx


def run_onnx(proto: Any, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"X": X})[0]


def language_model(dtype: Any = np.float32) -> nn.Sequential:
    model = nn.Sequential(
        nn.Embedding(11, 8, dtype=dtype, seed=0),
        nn.PositionalEmbedding(9, 8, dtype=dtype, seed=1),
        nn.LayerNorm(8, dtype=dtype),
        nn.GELU(),
        nn.Dense(8, 11, dtype=dtype, seed=2),
        nn.Softmax(),
    )
    rng = np.random.default_rng(3)
    norm = model.layers[2]
    norm.gamma[:], norm.beta[:] = rng.standard_normal(8), rng.standard_normal(8)
    return model


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_language_model_matches_onnxruntime_for_any_batch_and_length(dtype: Any) -> None:
    model = language_model(dtype)
    proto = to_onnx(model)
    ops = {node.op_type for node in proto.graph.node}
    assert {"Gather", "Slice", "LayerNormalization", "Tanh"} <= ops
    X_info = proto.graph.input[0].type.tensor_type
    assert X_info.elem_type == onnx.TensorProto.INT64
    assert [d.dim_param for d in X_info.shape.dim] == ["batch", "T"]
    rng = np.random.default_rng(0)
    for n, T in ((2, 9), (5, 1), (3, 4)):
        ids = rng.integers(0, 11, (n, T))
        got = run_onnx(proto, ids)
        assert got.shape == (n, T, 11) and got.dtype == dtype
        np.testing.assert_allclose(got, model.forward(ids), rtol=0, atol=1e-5)


def test_each_layer_matches_onnxruntime() -> None:
    rng = np.random.default_rng(1)
    x = (3 * rng.standard_normal((4, 6, 5))).astype(np.float32)
    positions = nn.Sequential(nn.PositionalEmbedding(7, 5, seed=0))
    np.testing.assert_allclose(run_onnx(to_onnx(positions), x), positions.forward(x), atol=1e-5)
    ids = rng.integers(0, 20, (3, 7))
    for after in ((), (nn.LayerNorm(5, eps=1e-3),), (nn.GELU(),)):
        model = nn.Sequential(nn.Embedding(20, 5, seed=4), *after)
        np.testing.assert_allclose(run_onnx(to_onnx(model), ids), model.forward(ids), atol=1e-5)


def test_gelu_exports_at_the_lowest_opset_and_layer_norm_asks_for_17() -> None:
    x = np.linspace(-6, 6, 24, dtype=np.float32).reshape(6, 4)  # rows
    gelu = nn.Sequential(nn.GELU())
    np.testing.assert_allclose(run_onnx(to_onnx(gelu, opset=13), x), gelu.forward(x), atol=1e-6)
    with pytest.raises(ValueError, match=r"layer 0 \(LayerNorm\(dim=4, eps=1e-05\)\).*opset >= 17"):
        to_onnx(nn.Sequential(nn.LayerNorm(4)), opset=16)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_batchnorm_on_steps_matches_onnxruntime_between_two_transposes(dtype: Any) -> None:
    """BatchNorm on (n, T, C) normalises the last axis; ONNX's BatchNormalization the second,
    so the export transposes to (n, C, T) and back."""
    model = nn.Sequential(
        nn.Embedding(11, 6, dtype=dtype, seed=0), nn.BatchNorm(6, dtype=dtype), nn.Tanh()
    )
    rng = np.random.default_rng(4)
    norm = model.layers[1]
    for name in ("gamma", "beta", "running_mean"):
        getattr(norm, name)[:] = rng.standard_normal(6)
    norm.running_var[:] = rng.uniform(0.5, 2, 6)
    proto = to_onnx(model)
    assert [node.op_type for node in proto.graph.node][1:4] == [
        "Transpose",
        "BatchNormalization",
        "Transpose",
    ]
    ids = rng.integers(0, 11, (3, 5))
    np.testing.assert_allclose(run_onnx(proto, ids), model.forward(ids), rtol=0, atol=1e-5)
