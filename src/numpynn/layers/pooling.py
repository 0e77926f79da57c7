"""Pooling on images, channels first: x has shape (n, C, H, W); windows of size x size taken
every ``stride`` pixels (:mod:`numpynn.layers.conv` for the window arithmetic)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._typing import Array
from ..scratch import scratch
from .activations import ReLU
from .base import Layer, Shape, check_input_shape, check_sizes, new_array, out_array
from .conv import check_images, output_size, strided, window_output_shape


class _Pool2D(Layer):
    """Pooling over size x size windows taken every ``stride`` pixels (default: ``size``,
    windows that tile the image); rows and columns left over at the edge are dropped."""

    def __init__(self, size: int = 2, stride: int | None = None) -> None:
        stride = size if stride is None else stride
        check_sizes(type(self).__name__, size=size, stride=stride)
        self.size, self.stride = int(size), int(stride)

    @property
    def input_shape(self) -> Shape:
        return (None, None, None)

    def output_shape(self, input_shape: Shape | None) -> Shape:
        return window_output_shape(self, input_shape, None, self.size, self.stride)

    def _windows(self, x: Array) -> tuple[int, ...]:
        """Check x, keep its shape and ``self.windows``: per window offset (u, v), row-major,
        the index of that pixel of every window, x[window]: (n, C, H_out, W_out). Returns
        that output shape."""
        check_images(self, x, None, self.size, 0)
        k, s = self.size, self.stride
        n, C, H, W = self.x_shape = x.shape
        H_out, W_out = output_size(H, k, s), output_size(W, k, s)
        self.windows = [
            (Ellipsis, strided(u, s, H_out), strided(v, s, W_out))
            for u in range(k)
            for v in range(k)
        ]
        return (n, C, H_out, W_out)

    def _dx(self, dout: Array) -> Array:
        """The input gradient's array, zeroed unless the windows tile the input exactly."""
        dx = scratch(self, "dx", self.x_shape, dout.dtype)
        if self.stride != self.size or self.x_shape[2:] != tuple(
            self.size * d for d in dout.shape[2:]
        ):
            dx.fill(0)
        return dx

    @property
    def overlap(self) -> bool:
        """Whether windows share pixels, whose gradients must then be added, not written."""
        return self.stride < self.size

    def config(self) -> dict[str, Any]:
        return {"size": self.size, "stride": self.stride}


class MaxPool2D(_Pool2D):
    """y[n, c, i, j] = max of x[n, c] over window (i, j): (n, C, H, W) -> (n, C, H_out, W_out),
    H_out = (H - size) // stride + 1. The gradient flows to each window's maximum only; on a
    tie, to the first maximum in row-major order (as np.argmax does).

    Parameters
    ----------
    size : int
        The windows' side, in pixels (>= 1).
    stride : int, optional
        The step between windows (>= 1); defaults to ``size``, windows that tile the image.

    Raises
    ------
    ValueError
        For a size or stride that is not a positive integer; in ``forward``, a
        :class:`numpynn.ShapeError` (a ValueError) for an input that is not (n, C, H, W) or
        is smaller than a window.
    """

    def forward(self, x: Array, training: bool = False) -> Array:
        shape = self._windows(x)
        y = new_array(self, "y", shape, x.dtype, training)
        # Each window's code: 1 + the offset of its maximum, or 0 for none (ReLUMaxPool2D)
        self.code = code = scratch(self, "code", shape, np.min_scalar_type(self.size**2 + 1))
        self._start(x[self.windows[0]], y, code)
        rises, new_code = (
            scratch(self, "rises", shape, bool),
            scratch(self, "new", shape, code.dtype),
        )
        for o, window in enumerate(self.windows[1:], start=1):
            np.greater(x[window], y, out=rises)  # a new maximum at offset o
            np.maximum(y, x[window], out=y)
            # code = where(rises, o + 1, code), without np.where's data-dependent branch (3x
            # faster): o grows, so the largest (o + 1) * rises is the last strict maximum's
            np.maximum(code, np.multiply(rises, code.dtype.type(o + 1), out=new_code), out=code)
        return y

    def _start(self, first: Array, y: Array, code: Array) -> None:
        """Set y and code from the windows' first pixels, ``first``: their maximum so far."""
        np.copyto(y, first)
        code.fill(1)

    def backward(self, dout: Array) -> Array:
        dx = self._dx(dout)
        hit = scratch(self, "hit", dout.shape, bool)
        for o, window in enumerate(self.windows):
            np.equal(self.code, o + 1, out=hit)
            if self.overlap:
                dx[window] += dout * hit
            else:
                np.multiply(dout, hit, out=dx[window])  # dx = dout at the maxima, else 0
        return dx


class ReLUMaxPool2D(MaxPool2D):
    """ReLU followed by MaxPool2D, in one layer: y[n, c, i, j] = max(0, max of x[n, c] over
    window (i, j)). Max pooling commutes with ReLU (both keep order), so this is the pair's
    output and gradient at the cost of the pool alone: no pass over the full-size x for the
    ReLU. The gradient flows to each window's first maximum where it is positive, else nowhere.
    Training puts it in place of a ReLU followed by a MaxPool2D (:func:`fuse_relu_pool`).

    Parameters
    ----------
    size : int
        The windows' side, in pixels (>= 1).
    stride : int, optional
        The step between windows (>= 1); defaults to ``size``, windows that tile the image.

    Raises
    ------
    ValueError
        For a size or stride that is not a positive integer; in ``forward``, a
        :class:`numpynn.ShapeError` (a ValueError) for an input that is not (n, C, H, W) or
        is smaller than a window.
    """

    def _start(self, first: Array, y: Array, code: Array) -> None:
        np.maximum(first, 0, out=y)
        np.greater(first, 0, out=code)  # 1 where the first pixel is the maximum, else 0: none


def fuse_relu_pool(layers: Sequence[Layer]) -> list[Layer]:
    """``layers`` with each ReLU directly followed by a MaxPool2D replaced by one
    :class:`ReLUMaxPool2D` of the pool's size and stride (the same output and gradients).

    Parameters
    ----------
    layers : sequence of Layer
        A model's layers, in order; not modified.

    Returns
    -------
    list of Layer
        A new list: the same layer objects, each fused pair replaced by a new ReLUMaxPool2D.
    """
    fused: list[Layer] = []
    for layer in layers:
        if type(layer) is MaxPool2D and fused and type(fused[-1]) is ReLU:
            fused[-1] = ReLUMaxPool2D(layer.size, layer.stride)
        else:
            fused.append(layer)
    return fused


class AvgPool2D(_Pool2D):
    """y[n, c, i, j] = mean of x[n, c] over window (i, j): (n, C, H, W) -> (n, C, H_out,
    W_out), H_out = (H - size) // stride + 1; dL/dx = dout / size^2 on each window's pixels.

    Parameters
    ----------
    size : int
        The windows' side, in pixels (>= 1).
    stride : int, optional
        The step between windows (>= 1); defaults to ``size``, windows that tile the image.

    Raises
    ------
    ValueError
        For a size or stride that is not a positive integer; in ``forward``, a
        :class:`numpynn.ShapeError` (a ValueError) for an input that is not (n, C, H, W) or
        is smaller than a window.
    """

    def forward(self, x: Array, training: bool = False) -> Array:
        shape = self._windows(x)
        y = new_array(self, "y", shape, x.dtype, training)
        np.copyto(y, x[self.windows[0]])
        for window in self.windows[1:]:
            y += x[window]
        y *= x.dtype.type(1 / self.size**2)
        return y

    def backward(self, dout: Array) -> Array:
        dx = self._dx(dout)
        share = scratch(self, "share", dout.shape, dout.dtype)
        np.multiply(dout, dout.dtype.type(1 / self.size**2), out=share)
        for window in self.windows:
            if self.overlap:
                dx[window] += share
            else:
                dx[window] = share
        return dx


class GlobalAvgPool2D(Layer):
    """y[n, c] = mean of x[n, c] over all H x W pixels: (n, C, H, W) -> (n, C);
    dL/dx[n, c, h, w] = dout[n, c] / (H W)."""

    @property
    def input_shape(self) -> Shape:
        return (None, None, None)

    def output_shape(self, input_shape: Shape | None) -> Shape:
        check_input_shape(self, input_shape)
        return (None,) if input_shape is None else input_shape[:1]

    def forward(self, x: Array, training: bool = False) -> Array:
        check_images(self, x, None, 1, 0)
        self.x_shape = x.shape
        return np.mean(x, axis=(2, 3), out=out_array(self, "y", x.shape[:2], x.dtype, training))

    def backward(self, dout: Array) -> Array:
        H, W = self.x_shape[2:]
        dx = scratch(self, "dx", self.x_shape, dout.dtype)
        np.copyto(dx, (dout / dout.dtype.type(H * W))[:, :, None, None])
        return dx
