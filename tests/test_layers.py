"""Layers one at a time: each computes its own formula with its own settings, keeps its input's
floating type, and never takes back a result it returned."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numpynn as nn

FLOAT_TYPES = [np.float16, np.float32, np.float64]

# Every layer type, built for inputs of 3 features and the floating type of its parameters.
LAYERS: dict[str, Callable[[Any], nn.Layer]] = {
    "Dense": lambda dtype: nn.Dense(3, 3, dtype=dtype, seed=0),
    "Sigmoid": lambda dtype: nn.Sigmoid(),
    "Tanh": lambda dtype: nn.Tanh(),
    "ReLU": lambda dtype: nn.ReLU(),
    "LeakyReLU": lambda dtype: nn.LeakyReLU(0.3),
    "Identity": lambda dtype: nn.Identity(),
    "Step": lambda dtype: nn.Step(),
    "Softmax": lambda dtype: nn.Softmax(),
    "Dropout": lambda dtype: nn.Dropout(0.5, seed=0),
    "Flatten": lambda dtype: nn.Flatten(),
    "GELU": lambda dtype: nn.GELU(),
}


def test_every_layer_type_on_rows_is_covered() -> None:
    on_rows = ("numpynn.layers.core", "numpynn.layers.activations")
    assert set(LAYERS) == {
        name for name, cls in nn.layers.LAYER_TYPES.items() if cls.__module__ in on_rows
    }


@pytest.mark.parametrize("alpha", [0.0, 0.2, 1.5])
def test_leaky_relu_uses_its_own_alpha_forward_and_backward(alpha: float) -> None:
    layer = nn.LeakyReLU(alpha)
    x = np.array([[-2.0, -0.5, 0.0, 3.0]])
    np.testing.assert_array_equal(layer.forward(x), [[-2 * alpha, -0.5 * alpha, 0.0, 3.0]])
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), [[alpha, alpha, alpha, 1.0]])


def test_leaky_relu_function_uses_its_alpha() -> None:
    x = np.array([-2.0, 0.5, 4.0])
    np.testing.assert_array_equal(nn.leaky_relu(x, alpha=0.25), [-0.5, 0.5, 4.0])


def test_leaky_relu_layer_default_alpha_is_0_01() -> None:
    np.testing.assert_array_equal(nn.LeakyReLU().forward(np.array([[-100.0, 0.5]])), [[-1, 0.5]])


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(LAYERS)),
    dtype=st.sampled_from(FLOAT_TYPES),
    training=st.booleans(),
    n_samples=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_output_and_input_gradient_keep_the_input_floating_type(
    name: str, dtype: Any, training: bool, n_samples: int, seed: int
) -> None:
    layer = LAYERS[name](dtype)
    x = np.random.default_rng(seed).normal(size=(n_samples, 3)).astype(dtype)
    with np.errstate(over="ignore"):  # float16 exp overflows to inf: sigmoid's limit, 0
        y = layer.forward(x, training=training)
        dx = layer.backward(np.ones_like(y))
    assert y.dtype == dtype
    assert dx.dtype == dtype


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(sorted(LAYERS)),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_inference_results_are_never_overwritten_by_a_later_call(
    name: str, dtype: Any, seed: int
) -> None:
    """In inference (training=False) a layer returns a new array the caller may keep; the next
    forward and backward, in either mode, leave it alone."""
    layer = LAYERS[name](dtype)
    rng = np.random.default_rng(seed)
    first = layer.forward(rng.normal(size=(4, 3)).astype(dtype))
    kept = first.copy()
    for training in (False, True):
        y = layer.forward(rng.normal(size=(4, 3)).astype(dtype), training=training)
        layer.backward(np.ones_like(y))
    np.testing.assert_array_equal(first, kept)


def test_layers_never_modify_their_input() -> None:
    for name, make in LAYERS.items():
        layer = make(np.float64)
        x = np.random.default_rng(0).normal(size=(4, 3))
        before = x.copy()
        for training in (False, True):
            y = layer.forward(x, training=training)
            layer.backward(np.ones_like(y))
        np.testing.assert_array_equal(x, before, err_msg=name)
