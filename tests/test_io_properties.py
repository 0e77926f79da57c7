"""Property: any model numpynn can build saves and loads back to the very same model."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import numpynn as nn

activations = st.sampled_from(["sigmoid", "tanh", "relu", "leaky_relu", "identity", "step"])
outputs = st.sampled_from(["softmax", "sigmoid", "identity"])


@st.composite
def models(draw: st.DrawFn) -> nn.Sequential:
    sizes = draw(st.lists(st.integers(1, 12), min_size=2, max_size=5))
    model = nn.mlp(
        sizes,
        activation=draw(activations),
        output=draw(outputs),
        init=draw(st.sampled_from([None, "normal", "xavier", "he", "nielsen"])),
        dropout=draw(st.sampled_from([0.0, 0.1, 0.5, 0.9])),
        dtype=draw(st.sampled_from([np.float32, np.float64])),
        seed=draw(st.integers(0, 2**32 - 1)),
    )
    for layer in model.layers:
        if isinstance(layer, nn.LeakyReLU):
            layer.alpha = draw(st.floats(0.0, 1.0))
    for p in model.parameters():  # arbitrary finite values, not just the initialiser's
        p[...] = draw(st.floats(-1e6, 1e6, width=32)) * np.random.default_rng(0).random(p.shape)
    return model


@settings(max_examples=60, deadline=None)
@given(model=models(), seed=st.integers(0, 1000))
def test_round_trip_keeps_parameters_and_predictions(model: nn.Sequential, seed: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "model.npz"
        nn.save(model, path, metadata={"seed": seed})
        loaded = nn.load(path)
        assert nn.load_metadata(path)["metadata"] == {"seed": seed}
    assert [repr(layer) for layer in loaded.layers] == [repr(layer) for layer in model.layers]
    for p, q in zip(model.parameters(), loaded.parameters(), strict=True):
        assert p.dtype == q.dtype and np.array_equal(p, q)
    X = np.random.default_rng(seed).standard_normal((7, model.n_inputs or 1))
    with np.errstate(over="ignore"):
        assert np.array_equal(model.predict(X), loaded.predict(X), equal_nan=True)
