"""A composite layer (one built of sub-layers, as TransformerBlock) lists its parts'
parameters and buffers by dotted names: the model's parameters, gradients and buffers, model
files, the optimizer, gradient checks, checkpoints and exact resume, and replicas carry them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import numpynn as nn
from numpynn.layers.base import Layer, get_array, grad_name, set_array, sublayers, walk


class DenseNormDrop(Layer):
    """Dense -> BatchNorm -> ReLU -> Dropout -> Dense: (n, n_in) -> (n, n_out)."""

    parts = ("first", "norm", "relu", "drop", "second")
    params = ("first.W", "first.b", "norm.gamma", "norm.beta", "second.W", "second.b")
    buffers = ("norm.running_mean", "norm.running_var")

    def __init__(
        self, n_in: int, n_out: int, *, dtype: Any = np.float32, seed: int | None = None
    ) -> None:
        self.first = nn.Dense(n_in, 8, dtype=dtype, seed=seed)
        self.norm = nn.BatchNorm(8, dtype=dtype)
        self.relu = nn.ReLU()
        self.drop = nn.Dropout(0.2)
        self.second = nn.Dense(8, n_out, dtype=dtype, seed=None if seed is None else seed + 1)

    @property
    def input_shape(self) -> tuple[int]:
        return (self.first.n_in,)

    def output_shape(self, input_shape: Any) -> tuple[int]:
        self.first.output_shape(input_shape)
        return (self.second.n_out,)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        for layer in (self.first, self.norm, self.relu, self.drop, self.second):
            x = layer.forward(x, training)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        for layer in (self.second, self.drop, self.relu, self.norm, self.first):
            dout = layer.backward(dout)
        return dout

    def config(self) -> dict[str, Any]:
        return {"n_in": self.first.n_in, "n_out": self.second.n_out}


rng = np.random.default_rng(0)
X = rng.standard_normal((240, 4)).astype(np.float32)
Y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)


def model() -> nn.Sequential:
    return nn.Sequential(DenseNormDrop(4, 6, seed=0), nn.Dense(6, 2, seed=2), nn.Softmax())


def test_dotted_names_reach_the_parts_arrays_and_gradients() -> None:
    layer = DenseNormDrop(3, 2, seed=0)
    assert get_array(layer, "norm.gamma") is layer.norm.gamma
    assert grad_name("norm.gamma") == "norm.dgamma" and grad_name("W") == "dW"
    new = np.zeros(8, np.float32)
    set_array(layer, "norm.dbeta", new)
    assert layer.norm.dbeta is new
    assert sublayers(layer) == ["first", "norm", "relu", "drop", "second"]
    assert walk([layer])[4] is layer.drop


def test_the_models_parameters_gradients_and_buffers_include_the_parts() -> None:
    net = model()
    layer = net.layers[0]
    assert net.parameters()[:3] == [layer.first.W, layer.first.b, layer.norm.gamma]
    assert net.gradients()[2] is layer.norm.dgamma
    assert net.buffers() == [layer.norm.running_mean, layer.norm.running_var]
    assert len(net.parameters()) == 8


def test_a_composite_layer_saves_and_loads_with_identical_outputs(tmp_path: Path) -> None:
    net = model()
    net.fit(X, Y, epochs=2, batch_size=40, seed=0)  # moves the weights and running statistics
    nn.save(net, tmp_path / "composite.npz")
    loaded = nn.load(tmp_path / "composite.npz")
    assert repr(loaded) == repr(net)
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))
    for a, b in zip(loaded.state_arrays(), net.state_arrays(), strict=True):
        assert np.array_equal(a, b)
    assert loaded.layers[0].norm.dgamma.shape == (8,)


def test_a_composite_layer_trains_with_adam() -> None:
    net = model()
    before = [p.copy() for p in net.parameters()]
    history = net.fit(X, Y, epochs=15, batch_size=40, seed=0, optimizer=nn.Adam(lr=0.01))
    assert history["loss"][-1] < history["loss"][0] / 2
    assert all(not np.array_equal(a, b) for a, b in zip(before, net.parameters(), strict=True))


def test_the_parts_pass_numpynns_gradient_check() -> None:
    net = nn.Sequential(DenseNormDrop(4, 3, dtype=np.float64, seed=0), nn.Softmax())
    errors = nn.gradient_check(net, X[:6].astype(np.float64), Y[:6], nn.CrossEntropy())
    assert "layer 0 norm.gamma" in errors
    assert max(errors.values()) < 1e-6


@pytest.mark.parametrize("workers", [1, 2])
def test_training_a_composite_layer_resumes_bit_identically(tmp_path: Path, workers: int) -> None:
    class Crash(nn.Callback):
        def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
            if self.run.epoch == 2 and batch == 1:
                raise RuntimeError("crash")

    def fit(run_dir: Path, *extra: nn.Callback, resume: bool = False) -> Any:
        net = model()
        history = net.fit(
            X, Y, epochs=4, batch_size=40, seed=0, resume=resume, workers=workers,
            validation_data=(X[:40], Y[:40]),
            optimizer=nn.Adam(lr=0.01), callbacks=[nn.ModelCheckpoint(run_dir), *extra],
        )  # fmt: skip
        return net, history

    net, history = fit(tmp_path / "straight")
    with pytest.raises(RuntimeError, match="crash"):
        fit(tmp_path / "run", Crash())
    resumed, resumed_history = fit(tmp_path / "run", resume=True)
    assert resumed_history == history
    for a, b in zip(resumed.state_arrays(), net.state_arrays(), strict=True):
        assert np.array_equal(a, b)
