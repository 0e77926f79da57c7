"""Activation layers: elementwise functions of their input (Softmax: of each row's last axis),
on any shape. The functions themselves are in :mod:`numpynn.activations`."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import activations
from .._typing import Array
from ..scratch import scratch
from ..validation import check_finite
from .base import Layer, out_array
from .core import Identity


class Sigmoid(Layer):
    """y = 1 / (1 + exp(-x)); dy/dx = y (1 - y)."""

    acts_per_position = True

    def forward(self, x: Array, training: bool = False) -> Array:
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        y = np.negative(x, out=out_array(self, "y", x.shape, x.dtype, training))
        with np.errstate(over="ignore"):  # exp(-x) = inf for x << 0 gives y = 0, the limit
            np.exp(y, out=y)
        y += 1
        self.y = np.reciprocal(y, out=y)  # y = 1 / (1 + exp(-x)), in place
        return self.y

    def backward(self, dout: Array) -> Array:
        dx = np.subtract(1, self.y, out=scratch(self, "dx", dout.shape, dout.dtype))
        dx *= self.y
        dx *= dout  # dL/dx = dout y (1 - y), in place in one scratch array
        return dx


class Tanh(Layer):
    """y = tanh(x); dy/dx = 1 - y^2."""

    acts_per_position = True

    def forward(self, x: Array, training: bool = False) -> Array:
        self.y = np.tanh(x, out=out_array(self, "y", x.shape, x.dtype, training))
        return self.y

    def backward(self, dout: Array) -> Array:
        dx = np.multiply(self.y, self.y, out=scratch(self, "dx", dout.shape, dout.dtype))
        np.subtract(1, dx, out=dx)
        dx *= dout  # dL/dx = dout (1 - y^2), in place in one scratch array
        return dx


class ReLU(Layer):
    """y = max(0, x); dy/dx = 1 where x > 0, else 0."""

    acts_per_position = True

    def forward(self, x: Array, training: bool = False) -> Array:
        self.mask = np.greater(x, 0, out=out_array(self, "mask", x.shape, bool, training))
        return np.maximum(x, 0, out=out_array(self, "y", x.shape, x.dtype, training))

    def backward(self, dout: Array) -> Array:
        return np.multiply(dout, self.mask, out=scratch(self, "dx", dout.shape, dout.dtype))


class LeakyReLU(Layer):
    """y = x where x > 0, else alpha * x; dy/dx = 1 or alpha.

    Parameters
    ----------
    alpha : float
        The slope for x <= 0 (0.01 by default).
    """

    acts_per_position = True

    def __init__(self, alpha: float = 0.01) -> None:
        self.alpha = check_finite("LeakyReLU alpha", alpha)

    def forward(self, x: Array, training: bool = False) -> Array:
        self.slope = np.where(x > 0, 1, self.alpha).astype(x.dtype)
        return x * self.slope

    def backward(self, dout: Array) -> Array:
        return dout * self.slope

    def config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class Step(Layer):
    """y = 1 where x > 0, else 0: the perceptron's activation. Its derivative is 0 (almost
    everywhere), so nothing below a Step layer learns by backpropagation."""

    acts_per_position = True

    def forward(self, x: Array, training: bool = False) -> Array:
        return activations.step(x)

    def backward(self, dout: Array) -> Array:
        return np.zeros_like(dout)


class Softmax(Layer):
    """y = softmax(x) on the last axis; dL/dx = y * (dout - sum(dout * y, axis=-1)).

    Followed by :class:`~numpynn.losses.CrossEntropy`, training fuses the two and uses the
    simpler, stabler gradient (y - t) / n_samples instead of this backward.
    """

    acts_per_position = True

    def forward(self, x: Array, training: bool = False) -> Array:
        self.y = activations.softmax(x)
        return self.y

    def backward(self, dout: Array) -> Array:
        return self.y * (dout - np.sum(dout * self.y, axis=-1, keepdims=True))


class GELU(Layer):
    """y = 0.5 x (1 + t), t = tanh(u), u = c (x + k x^3), c = sqrt(2 / pi), k = 0.044715: the
    tanh approximation of GPT-2 (:func:`numpynn.gelu`, torch's ``GELU(approximate="tanh")``);
    its exact derivative dy/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 k x^2)."""

    acts_per_position = True

    def forward(self, x: Array, training: bool = False) -> Array:
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        self.x = x
        t = np.multiply(x, x, out=scratch(self, "t", x.shape, x.dtype))
        t *= activations.GELU_K
        t += 1
        t *= x
        t *= activations.GELU_C  # u = c (x + k x^3)
        self.t = np.tanh(t, out=t)
        y = np.add(t, 1, out=out_array(self, "y", x.shape, x.dtype, training))
        y *= x
        y *= 0.5  # y = 0.5 x (1 + t)
        return y

    def backward(self, dout: Array) -> Array:
        x, t = self.x, self.t
        dx = np.multiply(x, x, out=scratch(self, "dx", dout.shape, dout.dtype))
        dx *= 3 * activations.GELU_K
        dx += 1
        dx *= x
        dx *= activations.GELU_C
        dx *= 1 - t * t  # x (1 - t^2) c (1 + 3 k x^2)
        dx += 1 + t
        dx *= 0.5  # dy/dx
        dx *= dout
        return dx


ACTIVATION_LAYERS: dict[str, type[Layer]] = {
    "step": Step,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "identity": Identity,
    "softmax": Softmax,
    "gelu": GELU,
}


def activation_layer(name: str) -> Layer:
    """A new activation layer from its name ("relu", "sigmoid", ...).

    Parameters
    ----------
    name : str
        A key of ``ACTIVATION_LAYERS``: ``"relu"``, ``"sigmoid"``, ``"tanh"``, ``"softmax"``...

    Returns
    -------
    Layer
        A new layer of that class, with its default settings.

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    try:
        return ACTIVATION_LAYERS[name]()
    except (KeyError, TypeError):
        raise ValueError(
            f"activation must be one of {sorted(ACTIVATION_LAYERS)}, got {name!r}"
        ) from None
