"""ONNX export of MultiHeadAttention and TransformerBlock: MatMul/Softmax heads with the causal
mask, the block's layer norms and GELU as primitive operators; onnxruntime computes what numpynn
computes (within 1e-5), for any batch and number of steps."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

import numpynn as nn
from numpynn.layers.base import get_array
from numpynn.onnx import to_onnx


def run_onnx(proto: Any, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"X": X})[0]


def randomised(layer: Any, seed: int = 9) -> Any:
    """Every parameter random (gamma around 1), so a wrong bias, head or norm shows."""
    rng = np.random.default_rng(seed)
    for name in layer.params:
        array = get_array(layer, name)
        array[...] = name.endswith("gamma") + 0.3 * rng.standard_normal(array.shape)
    return layer


def sequences(n: int, T: int, dim: int, seed: int = 0, dtype: Any = np.float32) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, T, dim)).astype(dtype)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("opset", [13, 17])
def test_attention_matches_onnxruntime(causal: bool, opset: int) -> None:
    model = nn.Sequential(randomised(nn.MultiHeadAttention(8, 2, causal=causal, seed=0)))
    proto = to_onnx(model, opset=opset)
    assert {"MatMul", "Softmax"} <= {node.op_type for node in proto.graph.node}
    for n, T in ((3, 5), (1, 1), (2, 11)):  # the batch and the steps are dynamic
        X = sequences(n, T, 8, seed=T)
        np.testing.assert_allclose(run_onnx(proto, X), model.forward(X), rtol=0, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_gpt_of_blocks_matches_onnxruntime(dtype: Any) -> None:
    model = nn.Sequential(
        randomised(nn.TransformerBlock(16, 4, causal=True, dtype=dtype, seed=0), seed=1),
        randomised(nn.TransformerBlock(16, 2, causal=False, dtype=dtype, seed=2), seed=3),
        nn.Dense(16, 5, dtype=dtype, seed=4), nn.Softmax(),
    )  # fmt: skip
    proto = to_onnx(model)
    for n, T in ((4, 7), (2, 1)):
        X = sequences(n, T, 16, seed=n, dtype=dtype)
        got = run_onnx(proto, X)
        assert got.dtype == dtype and got.shape == (n, T, 5)
        np.testing.assert_allclose(got, model.forward(X), rtol=0, atol=1e-5)
