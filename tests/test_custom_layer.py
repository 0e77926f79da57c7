"""A layer type written outside numpynn, in a few lines, works like a built-in one: it chains
into a Sequential by its declared shapes, trains with fit, and saves and loads bit for bit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import numpynn as nn
from numpynn.errors import FileFormatError


class Scale(nn.Layer):
    """y = x * s with one trained scale s per feature: s of shape (n_features,)."""

    params = ("s",)

    def __init__(self, n_features: int) -> None:
        self.s = np.ones(n_features, np.float32)
        self.ds = np.zeros_like(self.s)

    @property
    def input_shape(self) -> tuple[int]:
        return (len(self.s),)

    def output_shape(self, input_shape: Any) -> Any:
        if input_shape is not None and input_shape != (len(self.s),):
            raise nn.ShapeError(f"{self!r} takes {len(self.s)} features, got {input_shape}")
        return (len(self.s),)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.x = x
        return x * self.s

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.ds[...] = (dout * self.x).sum(axis=0)
        return dout * self.s

    def config(self) -> dict[str, Any]:
        return {"n_features": len(self.s)}


def model() -> nn.Sequential:
    return nn.Sequential(nn.Dense(4, 3, seed=0), Scale(3), nn.Softmax())


def test_a_layer_defined_outside_numpynn_fits_saves_loads_and_predicts(tmp_path: Path) -> None:
    X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    net = model()
    net.fit(X, y, epochs=3, batch_size=16, seed=0)
    assert not np.array_equal(net.layers[1].s, np.ones(3)), "the custom parameter trained"
    nn.save(net, tmp_path / "m.npz")
    loaded = nn.load(tmp_path / "m.npz")
    assert type(loaded.layers[1]) is Scale
    np.testing.assert_array_equal(loaded.layers[1].s, net.layers[1].s)
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    # and it keeps training exactly as the original does
    net.fit(X, y, epochs=1, seed=1, optimizer=nn.SGD(0.1))
    loaded.fit(X, y, epochs=1, seed=1, optimizer=nn.SGD(0.1))
    np.testing.assert_array_equal(loaded.layers[1].s, net.layers[1].s)


def test_its_declared_shapes_are_checked_when_the_model_is_built() -> None:
    with pytest.raises(nn.ShapeError, match=r"layer 1: Scale\(n_features=5\) takes 5 features"):
        nn.Sequential(nn.Dense(4, 3), Scale(5))
    assert nn.Sequential(Scale(3), nn.Dense(3, 2)).input_shape == (3,)


def test_loading_names_a_layer_type_that_is_not_defined(tmp_path: Path) -> None:
    class Doubler(nn.Layer):
        def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
            return 2 * x

        def backward(self, dout: np.ndarray) -> np.ndarray:
            return 2 * dout

    net = nn.Sequential(nn.Dense(2, 2), Doubler())
    nn.save(net, tmp_path / "m.npz")
    x = np.ones((1, 2), np.float32)
    np.testing.assert_array_equal(nn.load(tmp_path / "m.npz").forward(x), net.forward(x))
    del nn.layers.LAYER_TYPES["Doubler"]  # as in a new process that never defined it
    with pytest.raises(
        FileFormatError, match=r"unknown layer type 'Doubler': define \(import\) its Layer subclass"
    ):
        nn.load(tmp_path / "m.npz")


def test_a_built_in_layer_name_is_refused() -> None:
    with pytest.raises(TypeError, match="numpynn has a layer named Dense"):

        class Dense(nn.Layer):
            pass

    assert nn.layers.LAYER_TYPES["Dense"] is nn.Dense


def test_onnx_export_refuses_it_by_name() -> None:
    pytest.importorskip("onnx")
    with pytest.raises(
        TypeError, match=r"layer 1 \(Scale\(n_features=3\)\) has no ONNX equivalent"
    ):
        nn.to_onnx(model())
