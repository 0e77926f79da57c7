"""Numerical gradient checking: compare backpropagation with central differences."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from ._typing import Array
from .layers import Dropout
from .losses import Loss
from .losses import get as get_loss
from .model import Sequential
from .validation import check_same_length, check_X


def numerical_gradient(f: Callable[[], float], x: Array, eps: float = 1e-6) -> Array:
    """df/dx by central differences (f(x + eps) - f(x - eps)) / (2 eps), one entry at a time.

    ``f`` takes no argument and reads ``x``, which is perturbed in place and restored."""
    grad = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + eps
        f_plus = f()
        x[i] = original - eps
        f_minus = f()
        x[i] = original
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a: Array, b: Array, floor: float = 1e-6) -> float:
    """||a - b|| / max(||a|| + ||b||, floor). The floor keeps the ratio meaningful for
    gradients that are almost zero, where rounding in the central differences dominates."""
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), floor))


def gradient_check(
    model: Sequential,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    loss: Loss | str,
    eps: float = 1e-5,
    seed: int = 0,
) -> dict[str, float]:
    """Relative error between backprop and numerical gradients for each parameter and for X.

    Runs in training mode with every layer, unfused, so each layer's own ``backward`` is
    checked (Dropout draws the same mask for every evaluation). Use a float64 model: the
    errors are then around 1e-9. Returns ``{"layer 0 W": err, ..., "X": err}``.
    """
    loss = get_loss(loss)
    inputs = check_X(X, n_features=model.n_inputs, dtype=model.dtype or np.float64).copy()
    check_same_length(inputs, y)
    T = loss.prepare_targets(y, model.n_outputs or inputs.shape[1], inputs.dtype)

    def loss_value() -> float:
        for layer in model.layers:
            if isinstance(layer, Dropout):
                layer.rng = np.random.default_rng(seed)
        out = inputs
        for layer in model.layers:
            out = layer.forward(out, training=True)
        return loss.forward(out, T)

    loss_value()
    grad = loss.backward()
    for layer in reversed(model.layers):
        grad = layer.backward(grad)
    errors = {}
    for i, layer in enumerate(model.layers):
        for name in layer.params:
            analytic = getattr(layer, "d" + name).copy()
            numeric = numerical_gradient(loss_value, getattr(layer, name), eps)
            errors[f"layer {i} {name}"] = relative_error(analytic, numeric)
    errors["X"] = relative_error(grad, numerical_gradient(loss_value, inputs, eps))
    return errors
