"""ONNX export: the graph is valid and onnxruntime computes what numpynn computes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import numpynn as nn
from numpynn.layers import Layer
from numpynn.onnx import save_onnx, to_onnx


def run_onnx(proto: Any, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"X": X})[0]


# --- MNIST: the real inputs the parity test uses ------------------------------------------


def load_mnist_subset(n_train: int, n_test: int) -> tuple[np.ndarray, ...]:
    """(X_train, y_train, X_test, y_test): float32 (n, 784) in [0, 1] and int64 labels."""
    (X_train, y_train), (X_test, y_test) = nn.datasets.load_mnist(download=False)
    return X_train[:n_train], y_train[:n_train], X_test[:n_test], y_test[:n_test]


@pytest.fixture(scope="module")
def mnist() -> tuple[np.ndarray, ...]:
    return load_mnist_subset(3000, 2000)


# --- parity --------------------------------------------------------------------------------


@pytest.mark.slow
def test_trained_mnist_model_matches_onnxruntime_within_1e_5(mnist: tuple) -> None:
    X_train, y_train, X_test, y_test = mnist
    model = nn.mlp([784, 64, 32, 10], activation="relu", dropout=0.2, seed=0)
    model.fit(X_train, y_train, epochs=3, batch_size=64, seed=0)
    assert model.evaluate(X_test, y_test)["accuracy"] > 0.8  # a model that learned something

    proto = to_onnx(model)
    onnx.checker.check_model(proto, full_check=True)
    expected = model.forward(X_test)
    got = run_onnx(proto, X_test)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(got.argmax(axis=1), model.predict(X_test))


def every_layer_model(dtype: Any, seed: int = 0) -> nn.Sequential:
    """One model holding every exportable layer type."""
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Dense(6, 8, dtype=dtype, seed=rng),
        nn.Sigmoid(),
        nn.Dense(8, 8, dtype=dtype, seed=rng),
        nn.Tanh(),
        nn.Dropout(0.5),
        nn.Dense(8, 8, dtype=dtype, seed=rng),
        nn.ReLU(),
        nn.Dense(8, 8, dtype=dtype, seed=rng),
        nn.LeakyReLU(0.2),
        nn.Identity(),
        nn.Dense(8, 5, dtype=dtype, seed=rng),
        nn.Softmax(),
    )


@pytest.mark.parametrize(("dtype", "atol"), [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_every_layer_type_matches_onnxruntime_on_random_inputs(dtype: Any, atol: float) -> None:
    model = every_layer_model(dtype)
    X = np.random.default_rng(1).normal(scale=3.0, size=(50, 6)).astype(dtype)
    got = run_onnx(to_onnx(model), X)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, model.forward(X), rtol=0, atol=atol)


@pytest.mark.parametrize(
    "activation",
    [nn.Sigmoid(), nn.Tanh(), nn.ReLU(), nn.LeakyReLU(0.3), nn.Identity(), nn.Softmax(), nn.Step()],
    ids=lambda layer: type(layer).__name__,
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_each_activation_matches_onnxruntime(activation: Layer, dtype: Any) -> None:
    model = nn.Sequential(nn.Dense(4, 7, dtype=dtype, seed=0), activation)
    X = np.random.default_rng(2).normal(size=(40, 4)).astype(dtype)
    np.testing.assert_allclose(run_onnx(to_onnx(model), X), model.forward(X), rtol=0, atol=1e-6)


def test_step_outputs_exact_zeros_and_ones() -> None:
    model = nn.Sequential(nn.Dense(3, 4, seed=0), nn.Step())
    X = np.random.default_rng(3).normal(size=(30, 3)).astype(np.float32)
    got = run_onnx(to_onnx(model), X)
    assert set(np.unique(got)) <= {0.0, 1.0}
    np.testing.assert_array_equal(got, model.forward(X))


def test_dropout_is_the_identity_at_inference() -> None:
    model = nn.Sequential(nn.Dense(3, 4, seed=0), nn.Dropout(0.9))
    ops = [node.op_type for node in to_onnx(model).graph.node]
    assert ops == ["Gemm", "Identity"]
    X = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(run_onnx(to_onnx(model), X), model.forward(X), atol=1e-7)


def test_batch_dimension_is_dynamic() -> None:
    model = nn.mlp([5, 3, 2], seed=0)
    proto = to_onnx(model)
    (dim_batch, dim_features) = proto.graph.input[0].type.tensor_type.shape.dim
    assert dim_batch.dim_param == "batch" and dim_features.dim_value == 5
    assert proto.graph.output[0].type.tensor_type.shape.dim[1].dim_value == 2
    for n in (1, 17, 256):
        X = np.random.default_rng(n).random((n, 5), dtype=np.float32)
        assert run_onnx(proto, X).shape == (n, 2)


def test_opset_is_recorded() -> None:
    proto = to_onnx(nn.mlp([2, 2], seed=0), opset=13)
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", 13)]
    assert proto.producer_name == "numpynn"


def test_numpynn_to_onnx_is_the_export_function() -> None:
    assert nn.to_onnx is to_onnx


# --- errors --------------------------------------------------------------------------------


class Square(Layer):
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return x * x


class MyReLU(nn.ReLU):
    """A subclass may compute something else: it is not exported as Relu."""


@pytest.mark.parametrize("layer", [Square(), MyReLU()], ids=["Square", "MyReLU"])
def test_unsupported_layer_raises_type_error_naming_it(layer: Layer) -> None:
    model = nn.Sequential(nn.Dense(2, 2, seed=0), layer)
    with pytest.raises(TypeError, match=rf"layer 1 \({type(layer).__name__}\(\)\).*Dense"):
        to_onnx(model)


@pytest.mark.parametrize("opset", [12, 10_000, "17", True])
def test_bad_opset_raises_value_error(opset: Any) -> None:
    with pytest.raises(ValueError, match="opset must be an integer"):
        to_onnx(nn.mlp([2, 2], seed=0), opset=opset)


def test_not_a_model_raises_type_error() -> None:
    with pytest.raises(TypeError, match="Sequential, got list"):
        to_onnx([nn.Dense(2, 2)])  # type: ignore[arg-type]


def test_mixed_float_types_raise_value_error() -> None:
    model = nn.Sequential(nn.Dense(2, 2, dtype=np.float32), nn.Dense(2, 2, dtype=np.float64))
    with pytest.raises(ValueError, match="mix floating types"):
        to_onnx(model)


# --- files ---------------------------------------------------------------------------------


def test_save_onnx_writes_a_loadable_model(tmp_path: Path) -> None:
    model = every_layer_model(np.float32)
    path = tmp_path / "model.onnx"
    save_onnx(model, path)
    loaded = onnx.load(path)
    onnx.checker.check_model(loaded)
    X = np.random.default_rng(4).random((8, 6), dtype=np.float32)
    np.testing.assert_allclose(run_onnx(loaded, X), model.forward(X), atol=1e-5)
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]  # no temporary left behind


def test_save_onnx_of_unsupported_model_leaves_existing_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"previous")
    with pytest.raises(TypeError, match="Square"):
        save_onnx(nn.Sequential(nn.Dense(2, 2), Square()), path)
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


# --- convnets ------------------------------------------------------------------------------


def convnet_of_every_image_layer(dtype: Any = np.float32) -> nn.Sequential:
    rng = np.random.default_rng(0)
    bn = nn.BatchNorm(4, eps=1e-3, dtype=dtype)
    for array in (bn.gamma, bn.beta, bn.running_mean):
        array[...] = rng.standard_normal(4)
    bn.running_var[...] = rng.random(4) + 0.1
    return nn.Sequential(
        nn.Conv2D(2, 4, 3, stride=2, padding=1, seed=1, dtype=dtype),
        bn,
        nn.ReLU(),
        nn.MaxPool2D(2),
        nn.AvgPool2D(2, stride=1),
        nn.Conv2D(4, 6, 1, seed=2, dtype=dtype),
        nn.GlobalAvgPool2D(),
        nn.Dense(6, 5, seed=3, dtype=dtype),
        nn.Softmax(),
    )


def test_every_image_layer_matches_onnxruntime_within_1e_5() -> None:
    model = convnet_of_every_image_layer()
    X = np.random.default_rng(1).random((7, 2, 13, 13), dtype=np.float32)
    proto = to_onnx(model)
    ops = [node.op_type for node in proto.graph.node]
    assert ops[:5] == ["Conv", "BatchNormalization", "Relu", "MaxPool", "AveragePool"]
    assert ops[5:8] == ["Conv", "GlobalAveragePool", "Flatten"]
    np.testing.assert_allclose(run_onnx(proto, X), model.forward(X), rtol=0, atol=1e-5)


def test_the_issue_convnet_with_trained_batchnorm_matches_onnxruntime() -> None:
    (X, y), _ = nn.datasets.load_mnist(shape="images", download=False)
    model = nn.Sequential(
        nn.Conv2D(1, 8, 3, padding=1, seed=0), nn.BatchNorm(8), nn.ReLU(), nn.MaxPool2D(2),
        nn.Conv2D(8, 8, 3, padding=1, seed=1), nn.BatchNorm(8), nn.ReLU(), nn.MaxPool2D(2),
        nn.Flatten(), nn.Dense(8 * 7 * 7, 16, seed=2), nn.ReLU(), nn.Dropout(0.5),
        nn.Dense(16, 10, seed=3), nn.Softmax(),
    )  # fmt: skip
    model.fit(X[:512], y[:512], epochs=1, batch_size=64, seed=0)  # moves the running statistics
    assert not np.allclose(model.layers[1].running_var, 1)
    proto = to_onnx(model)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 1, "height", "width"]
    np.testing.assert_allclose(run_onnx(proto, X[:300]), model.forward(X[:300]), atol=1e-5)


def test_a_float64_convnet_exports_a_valid_graph() -> None:
    # onnxruntime's CPU provider has no float64 Conv; the graph itself is valid ONNX
    proto = to_onnx(convnet_of_every_image_layer(np.float64))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
