"""The core layers: Dense (z = x W + b), Dropout, Flatten and Identity.

Rows are samples: a Dense layer maps ``x`` of shape ``(n_samples, n_in)`` to ``(n_samples,
n_out)``. ``forward`` keeps on ``self`` what ``backward`` needs; ``backward(dout)`` receives
dL/d(output) and returns dL/d(input), storing the gradient of each parameter ``P`` as ``dP``.

Speed: in training (``forward(x, training=True)`` and ``backward``) the layers of the usual
networks write their results into scratch arrays that they keep and reuse from batch to batch
(:func:`numpynn.scratch.scratch`), so the training loop allocates almost nothing; such a
result is valid until the layer's next call. Inference (``training=False``) returns new
arrays. No layer modifies its input.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import initializers
from .._typing import Array, Seed
from ..errors import ShapeError
from ..scratch import scratch
from ..validation import check_fraction
from .base import Layer, Shape, check_float_dtype, check_input_shape, check_sizes, out_array


class Dense(Layer):
    """Fully connected layer: z = x @ W + b, with W: (n_in, n_out) and b: (n_out,).

    x: (n_samples, n_in) -> z: (n_samples, n_out); on a sequence it acts on the last axis,
    (n_samples, T, n_in) -> (n_samples, T, n_out), each time step a row.

    Parameters
    ----------
    n_in, n_out : int
        Input and output features.
    init : str
        The weight initialiser's name (see :mod:`numpynn.initializers`): ``"xavier"``
        (default), ``"he"``, ``"normal"``, ``"nielsen"``. Biases start at 0.
    dtype : numpy dtype
        The parameters' floating type (float32 by default).
    seed : int or numpy.random.Generator, optional
        Seeds the initial weights.

    Raises
    ------
    TypeError, ValueError
        For a size that is not a positive int, or a dtype that is not a floating type.
    """

    params = ("W", "b")
    acts_per_position = True

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        init: str = "xavier",
        dtype: type | np.dtype[Any] = np.float32,
        seed: Seed = None,
    ) -> None:
        check_sizes("Dense", n_in=n_in, n_out=n_out)
        dtype = check_float_dtype("Dense", dtype)
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

    @property
    def input_shape(self) -> Shape:
        return (self.n_in,)

    def output_shape(self, input_shape: Shape | None) -> Shape:
        """(n_in,) -> (n_out,); on sequences, the last axis: (T, n_in) -> (T, n_out)."""
        if input_shape is None:
            return (self.n_out,)
        if len(input_shape) == 2:  # a sequence (steps, features): each step's features
            check_input_shape(self, input_shape[1:])
            return (input_shape[0], self.n_out)
        width = input_shape[0] if len(input_shape) == 1 else None
        if width is not None and width != self.n_in:
            raise ShapeError(
                f"{self!r} takes {self.n_in} inputs but gets {width}: W of shape {self.W.shape} "
                f"cannot follow an output of shape (n_samples, {width})"
            )
        check_input_shape(self, input_shape)
        return (self.n_out,)

    def forward(self, x: Array, training: bool = False) -> Array:
        if x.ndim < 2 or x.shape[-1] != self.n_in:
            hint = ": add a Flatten() before it" if x.ndim == 4 else ""
            raise ShapeError(
                f"{self!r} expects input of shape (n_samples, {self.n_in}), got {x.shape} (on "
                f"sequences: (n_samples, T, {self.n_in})): cannot multiply {x.shape} by W of "
                f"shape {self.W.shape}{hint}"
            )
        if x.ndim > 2:  # the last axis: every leading position is a row
            z = self.forward(x.reshape(-1, self.n_in), training)
            return z.reshape(*x.shape[:-1], self.n_out)
        self.x = x
        z = np.matmul(x, self.W, out=out_array(self, "z", (len(x), self.n_out), x.dtype, training))
        z += self.b  # z = x W + b
        return z

    def backward(self, dout: Array) -> Array:
        if dout.ndim > 2:
            dx = self.backward(dout.reshape(-1, self.n_out))
            return dx.reshape(*dout.shape[:-1], self.n_in)
        self.backward_params(dout)
        dx = scratch(self, "dx", self.x.shape, dout.dtype)
        return np.matmul(dout, self.W.T, out=dx)  # dL/dx = dout W^T

    def backward_params(self, dout: Array) -> None:
        dout = dout.reshape(-1, self.n_out)  # rows, as forward saw them
        np.matmul(self.x.T, dout, out=self.dW)  # dL/dW = x^T dout
        ones = scratch(self, "ones", (len(dout),), dout.dtype, fill=1)
        np.matmul(ones, dout, out=self.db)  # dL/db = column sums of dout, as 1^T dout (BLAS)

    def config(self) -> dict[str, Any]:
        return {"n_in": self.n_in, "n_out": self.n_out, "init": self.init}


class Identity(Layer):
    """y = x; dy/dx = 1. The output layer of a regression network."""

    acts_per_position = True

    def forward(self, x: Array, training: bool = False) -> Array:
        return x

    def backward(self, dout: Array) -> Array:
        return dout


class Dropout(Layer):
    """Inverted dropout: in training, zero each input with probability ``rate`` and scale the
    rest by 1 / (1 - rate); at inference, the identity. ``fit`` sets ``rng`` from its seed.

    Parameters
    ----------
    rate : float
        The probability of zeroing an input, in [0, 1).
    seed : int or numpy.random.Generator, optional
        The masks' generator until ``fit`` sets its own.

    Raises
    ------
    ValueError
        For a rate outside [0, 1).
    """

    acts_per_position = True

    def __init__(self, rate: float = 0.5, *, seed: Seed = None) -> None:
        self.rate = check_fraction("Dropout rate", rate)
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

    def output_shape(self, input_shape: Shape | None) -> Shape:
        if input_shape is None or None in input_shape:
            return (None,)
        return (math.prod(input_shape),)  # type: ignore[arg-type]

    def forward(self, x: Array, training: bool = False) -> Array:
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dout: Array) -> Array:
        return dout.reshape(self.shape)
