"""Chapter 2, activation functions (DLFS 3.2, Nielsen chapter 1): each function h and its
derivative h' on one figure, and the saturation of the sigmoid."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._typing import Array
from ..layers import activation_layer

NAMES = ("step", "sigmoid", "tanh", "relu", "leaky_relu")


def activation_curves(
    x: Array | None = None, names: tuple[str, ...] = NAMES
) -> dict[str, dict[str, Array]]:
    """h(x) and h'(x) for each named activation on ``x`` (default 1201 points in [-6, 6]).

    The derivative is the layer's own ``backward`` applied to ones: exactly what
    backpropagation multiplies by. Returns {name: {"x": x, "h": h(x), "dh": h'(x)}}."""
    x = np.linspace(-6, 6, 1201) if x is None else np.asarray(x, dtype=np.float64)
    curves = {}
    for name in names:
        layer = activation_layer(name)
        h = layer.forward(x.reshape(-1, 1)).ravel().copy()
        dh = layer.backward(np.ones((x.size, 1))).ravel().copy()
        curves[name] = {"x": x, "h": h, "dh": dh}
    return curves


def sigmoid_saturation(threshold: float = 0.01, depth: int = 5) -> dict[str, Any]:
    """How the sigmoid saturates: its largest slope (1/4 at x = 0), the |x| beyond which its
    slope is below ``threshold``, and the largest factor by which ``depth`` sigmoid layers can
    scale a gradient on its way down (0.25 ** depth, before the weights)."""
    curve = activation_curves(np.linspace(0, 20, 20001), ("sigmoid",))["sigmoid"]
    flat = curve["x"][curve["dh"] < threshold]
    return {
        "max_slope": float(curve["dh"].max()),
        "threshold": threshold,
        "saturates_beyond": float(flat[0]),
        "depth": depth,
        "max_gradient_factor": float(curve["dh"].max() ** depth),
    }
