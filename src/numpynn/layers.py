"""Layers: small classes with ``forward`` and ``backward`` that read like the math.

Rows are samples: a layer maps ``x`` of shape ``(n_samples, n_in)`` to ``(n_samples, n_out)``;
the activations and Dropout work elementwise on any shape, e.g. images ``(n, C, H, W)``
(convolution and pooling: :mod:`numpynn.conv`; batch normalization: :mod:`numpynn.normalization`).
``forward`` keeps on ``self`` what ``backward`` needs; ``backward(dout)`` receives dL/d(output)
and returns dL/d(input), storing the gradient of each parameter ``P`` as ``dP``.

Speed: in training (``forward(x, training=True)`` and ``backward``) the layers of the usual
networks (Dense, Sigmoid, Tanh, ReLU, Dropout) write their results into scratch arrays that they
keep and reuse from batch to batch (:func:`numpynn.scratch.scratch`), so the training loop
allocates almost nothing; such a result is valid until the layer's next call.
Inference (``training=False``) returns new arrays. No layer modifies its input.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from . import activations, initializers
from ._typing import Array, Seed
from .errors import ShapeError
from .scratch import scratch


class Layer:
    """Base class. ``params`` names the trainable arrays; their gradients are ``d`` + name.
    ``buffers`` names the arrays of state that is not trained but must be saved with the model
    (BatchNorm's running statistics); like parameters, they are updated in place."""

    params: ClassVar[tuple[str, ...]] = ()
    buffers: ClassVar[tuple[str, ...]] = ()

    def forward(self, x: Array, training: bool = False) -> Array:
        """x: (n_samples, n_in) -> output: (n_samples, n_out)."""
        raise NotImplementedError

    def backward(self, dout: Array) -> Array:
        """dout = dL/d(output): (n_samples, n_out) -> dL/dx: (n_samples, n_in)."""
        raise NotImplementedError

    def backward_params(self, dout: Array) -> None:
        """Parameter gradients only, for the first layer (whose input needs no gradient)."""
        self.backward(dout)

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this layer (parameters excluded)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class Dense(Layer):
    """Fully connected layer: z = x @ W + b, with W: (n_in, n_out) and b: (n_out,).

    ``init`` names the weight initialiser (see :mod:`numpynn.initializers`); ``seed`` seeds it.
    """

    params = ("W", "b")

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        init: str = "xavier",
        dtype: type | np.dtype[Any] = np.float32,
        seed: Seed = None,
    ) -> None:
        for name, value in (("n_in", n_in), ("n_out", n_out)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"Dense {name} must be a positive integer, got {value!r}")
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"Dense dtype must be a floating type, got {dtype}")
        self.init = init
        rng = np.random.default_rng(seed)
        self.W = initializers.get(init)(int(n_in), int(n_out), rng).astype(dtype)
        self.b = np.zeros(int(n_out), dtype=dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    @property
    def n_in(self) -> int:
        return int(self.W.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.W.shape[1])

    def forward(self, x: Array, training: bool = False) -> Array:
        if x.ndim != 2 or x.shape[1] != self.W.shape[0]:
            raise ShapeError(
                f"{self!r} expects input of shape (n_samples, {self.n_in}), got {x.shape}: "
                f"cannot multiply {x.shape} by W of shape {self.W.shape}"
            )
        self.x = x
        z = np.matmul(x, self.W, out=_out(self, "z", (len(x), self.W.shape[1]), x.dtype, training))
        z += self.b  # z = x W + b
        return z

    def backward(self, dout: Array) -> Array:
        self.backward_params(dout)
        dx = scratch(self, "dx", self.x.shape, dout.dtype)
        return np.matmul(dout, self.W.T, out=dx)  # dL/dx = dout W^T

    def backward_params(self, dout: Array) -> None:
        np.matmul(self.x.T, dout, out=self.dW)  # dL/dW = x^T dout
        ones = scratch(self, "ones", (len(dout),), dout.dtype, fill=1)
        np.matmul(ones, dout, out=self.db)  # dL/db = column sums of dout, as 1^T dout (BLAS)

    def config(self) -> dict[str, Any]:
        return {"n_in": self.n_in, "n_out": self.n_out, "init": self.init}


class Sigmoid(Layer):
    """y = 1 / (1 + exp(-x)); dy/dx = y (1 - y)."""

    def forward(self, x: Array, training: bool = False) -> Array:
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        y = np.negative(x, out=_out(self, "y", x.shape, x.dtype, training))
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

    def forward(self, x: Array, training: bool = False) -> Array:
        self.y = np.tanh(x, out=_out(self, "y", x.shape, x.dtype, training))
        return self.y

    def backward(self, dout: Array) -> Array:
        dx = np.multiply(self.y, self.y, out=scratch(self, "dx", dout.shape, dout.dtype))
        np.subtract(1, dx, out=dx)
        dx *= dout  # dL/dx = dout (1 - y^2), in place in one scratch array
        return dx


class ReLU(Layer):
    """y = max(0, x); dy/dx = 1 where x > 0, else 0."""

    def forward(self, x: Array, training: bool = False) -> Array:
        self.mask = np.greater(x, 0, out=_out(self, "mask", x.shape, bool, training))
        return np.maximum(x, 0, out=_out(self, "y", x.shape, x.dtype, training))

    def backward(self, dout: Array) -> Array:
        return np.multiply(dout, self.mask, out=scratch(self, "dx", dout.shape, dout.dtype))


class LeakyReLU(Layer):
    """y = x where x > 0, else alpha * x; dy/dx = 1 or alpha."""

    def __init__(self, alpha: float = 0.01) -> None:
        self.alpha = float(alpha)

    def forward(self, x: Array, training: bool = False) -> Array:
        self.slope = np.where(x > 0, 1, self.alpha).astype(x.dtype)
        return x * self.slope

    def backward(self, dout: Array) -> Array:
        return dout * self.slope

    def config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class Identity(Layer):
    """y = x; dy/dx = 1. The output layer of a regression network."""

    def forward(self, x: Array, training: bool = False) -> Array:
        return x

    def backward(self, dout: Array) -> Array:
        return dout


class Step(Layer):
    """y = 1 where x > 0, else 0: the perceptron's activation. Its derivative is 0 (almost
    everywhere), so nothing below a Step layer learns by backpropagation."""

    def forward(self, x: Array, training: bool = False) -> Array:
        return activations.step(x)

    def backward(self, dout: Array) -> Array:
        return np.zeros_like(dout)


class Softmax(Layer):
    """y = softmax(x) on the last axis; dL/dx = y * (dout - sum(dout * y, axis=-1)).

    Followed by :class:`~numpynn.losses.CrossEntropy`, training fuses the two and uses the
    simpler, stabler gradient (y - t) / n_samples instead of this backward.
    """

    def forward(self, x: Array, training: bool = False) -> Array:
        self.y = activations.softmax(x)
        return self.y

    def backward(self, dout: Array) -> Array:
        return self.y * (dout - np.sum(dout * self.y, axis=-1, keepdims=True))


class Dropout(Layer):
    """Inverted dropout: in training, zero each input with probability ``rate`` and scale the
    rest by 1 / (1 - rate); at inference, the identity. ``fit`` sets ``rng`` from its seed."""

    def __init__(self, rate: float = 0.5, *, seed: Seed = None) -> None:
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.rng = np.random.default_rng(seed)

    def forward(self, x: Array, training: bool = False) -> Array:
        if not training or self.rate == 0.0:
            self.mask = None
            return x
        uniform = self.rng.random(
            dtype=np.float32, out=scratch(self, "uniform", x.shape, np.float32)
        )
        keep = np.greater_equal(uniform, self.rate, out=scratch(self, "keep", x.shape, bool))
        scale = x.dtype.type(1.0 - self.rate)
        self.mask = np.divide(keep, scale, out=scratch(self, "mask", x.shape, x.dtype))
        return np.multiply(x, self.mask, out=scratch(self, "y", x.shape, x.dtype))

    def backward(self, dout: Array) -> Array:
        if self.mask is None:
            return dout
        return np.multiply(dout, self.mask, out=scratch(self, "dx", dout.shape, dout.dtype))

    def config(self) -> dict[str, Any]:
        return {"rate": self.rate}


class Flatten(Layer):
    """x: (n_samples, d1, d2, ...) -> (n_samples, d1 * d2 * ...), e.g. a convolution's
    (n, C, H, W) feature maps into the rows a Dense layer takes; backward reshapes back."""

    def forward(self, x: Array, training: bool = False) -> Array:
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dout: Array) -> Array:
        return dout.reshape(self.shape)


ACTIVATION_LAYERS: dict[str, type[Layer]] = {
    "step": Step,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "identity": Identity,
    "softmax": Softmax,
}

LAYER_TYPES: dict[str, type[Layer]] = {
    cls.__name__: cls for cls in (Dense, Dropout, *ACTIVATION_LAYERS.values())
}


def activation_layer(name: str) -> Layer:
    """A new activation layer from its name ("relu", "sigmoid", ...)."""
    try:
        return ACTIVATION_LAYERS[name]()
    except (KeyError, TypeError):
        raise ValueError(
            f"activation must be one of {sorted(ACTIVATION_LAYERS)}, got {name!r}"
        ) from None


def _out(layer: Layer, name: str, shape: tuple[int, ...], dtype: Any, training: bool) -> Any:
    """Where ``forward`` writes its result: a scratch array in training, else None (a new
    array, which the caller may keep)."""
    return scratch(layer, name, shape, dtype) if training else None
