"""Convolution and pooling on images, channels first: x has shape (n, C, H, W).

im2col (Deep Learning from Scratch, ch. 7) turns a convolution into matrix products. Pad
x to xp: (n, C, H + 2p, W + 2p); every k x k window of xp, taken every ``s`` pixels, is an
output pixel (i, j) with H_out = (H + 2p - k) // s + 1 (likewise W_out). Lay each window out
as a column, in one of two layouts:

    per sample:      cols: (n, C k k, H_out W_out),   cols[n, (c, u, v), (i, j)]
    one matrix:      cols: (C k k, n H_out W_out),    cols[(c, u, v), (n, i, j)]
                     = xp[n, c, i s + u, j s + v]

and the convolution with W: (C_out, C, k, k) is W2 = W.reshape(C_out, C k k) times cols:
one product per sample, whose result is already the output's (n, C_out, H_out W_out), or one
large product, (C_out, n H_out W_out), whose result is transposed into place. The large
product runs nearer the BLAS's peak; the transposes of y and dy cost time in proportion to
C_out. ``Conv2D`` takes one matrix when windows have ``ONE_MATRIX_FROM`` values or more.
col2im is im2col's adjoint: it adds each column back onto the window it came from (a loop
over the k k kernel offsets, never over pixels). Both are built on
``numpy.lib.stride_tricks.sliding_window_view`` or on the k k strided slices
``xp[:, :, u : u + s H_out : s, v : v + s W_out : s]`` that hold offset (u, v) of every window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import initializers
from ._typing import Array, Seed
from .errors import ShapeError
from .layers import Layer, ReLU, _out
from .scratch import scratch


def output_size(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """Pixels along one axis of a convolution's or pool's output: (size + 2p - k) // s + 1."""
    return (size + 2 * padding - kernel) // stride + 1


ONE_MATRIX_FROM = 128  # C k k values per window; measured in benchmarks/CONV.md


def im2col(
    xp: Array, k: int, stride: int, out: Array | None = None, per_sample: bool = True
) -> Array:
    """xp: (n, C, Hp, Wp) -> cols, each column one k x k window: (n, C k k, H_out W_out) per
    sample, else one (C k k, n H_out W_out) matrix. ``out`` (optional) receives the result.
    One strided copy of the window view."""
    windows = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    n, C, H_out, W_out = windows.shape[:4]
    shape: tuple[int, ...] = (n, C * k * k, H_out * W_out)
    order = (0, 1, 4, 5, 2, 3)  # (n, C, k, k, H_out, W_out)
    if not per_sample:
        shape, order = (C * k * k, n * H_out * W_out), (1, 4, 5, 0, 2, 3)
    cols = np.empty(shape, xp.dtype) if out is None else out
    np.copyto(cols.reshape([windows.shape[i] for i in order]), windows.transpose(order))
    return cols


def col2im(cols: Array, shape: tuple[int, ...], k: int, stride: int, out: Array) -> Array:
    """The adjoint of im2col for an xp of ``shape`` (n, C, Hp, Wp): add each column of cols
    onto its window of ``out``, which is zeroed first and returned. Per-sample cols (3 axes)
    go into an (n, C, Hp, Wp) ``out``; one matrix into a channels-first (C, n, Hp, Wp) one."""
    n, C, Hp, Wp = shape
    H_out, W_out = output_size(Hp, k, stride), output_size(Wp, k, stride)
    if cols.ndim == 3:
        offsets = cols.reshape(n, C, k, k, H_out, W_out)
    else:  # (C, k, k, n, H_out, W_out), viewed as (C, n, k, k, H_out, W_out)
        offsets = cols.reshape(C, k, k, n, H_out, W_out).transpose(0, 3, 1, 2, 4, 5)
    out.fill(0)
    for u in range(k):
        for v in range(k):
            out[:, :, _span(u, stride, H_out), _span(v, stride, W_out)] += offsets[:, :, u, v]
    return out


def _span(start: int, stride: int, count: int) -> slice:
    """The indices start, start + stride, ... (count of them): one kernel offset's pixels."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def _positive(layer: str, **sizes: int) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{layer} {name} must be a positive integer, got {value!r}")


def _check_images(layer: Layer, x: Array, channels: int | None, k: int, padding: int) -> None:
    """ShapeError naming ``layer`` unless x is (n, channels, H, W) with the padded H and W at
    least k (``channels`` None: any count)."""
    C = "C" if channels is None else channels
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        raise ShapeError(
            f"{layer!r} expects images of shape (n_samples, {C}, height, width), got "
            f"{x.shape}" + (": reshape flat rows to images first" if x.ndim == 2 else "")
        )
    if min(x.shape[2:]) + 2 * padding < k:
        raise ShapeError(
            f"{layer!r}: the {k}x{k} window is larger than the padded input "
            f"{x.shape[2] + 2 * padding}x{x.shape[3] + 2 * padding} (input {x.shape}, "
            f"padding {padding})"
        )


class Conv2D(Layer):
    """2-D convolution (a cross-correlation, as in DLFS, PyTorch and Keras).

    y[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] xp[n, c, i s + u, j s + v]

    x: (n, C_in, H, W) -> y: (n, C_out, H_out, W_out); W: (C_out, C_in, k, k), b: (C_out,);
    xp is x with ``padding`` zeros on each side, s the stride (module docstring: im2col).
    With cols = im2col(xp) and W2 = W.reshape(C_out, C_in k k):

        y = W2 @ cols + b,   dW2 = dy @ cols^T (summed over samples),
        db = sum of dy over n, i, j,   dx = col2im(W2^T @ dy), cropped to x's pixels.

    ``init`` names a :mod:`~numpynn.initializers` initialiser; it draws W2^T as a
    (C_in k k, C_out) matrix: the layer is a Dense layer on each window, with fan-in
    C_in k k. "he" is the default, for the ReLU that usually follows.
    """

    params = ("W", "b")

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        *,
        init: str = "he",
        dtype: type | np.dtype[Any] = np.float32,
        seed: Seed = None,
    ) -> None:
        _positive(
            "Conv2D",
            in_channels=in_channels,
            out_channels=out_channels,
            kernel_size=kernel_size,
            stride=stride,
        )
        if isinstance(padding, bool) or not isinstance(padding, int | np.integer) or padding < 0:
            raise ValueError(f"Conv2D padding must be a non-negative integer, got {padding!r}")
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"Conv2D dtype must be a floating type, got {dtype}")
        C, k = int(in_channels), int(kernel_size)
        self.stride, self.padding, self.init = int(stride), int(padding), init
        W2T = initializers.get(init)(C * k * k, int(out_channels), np.random.default_rng(seed))
        self.W = np.ascontiguousarray(W2T.T, dtype=dtype).reshape(int(out_channels), C, k, k)
        self.b = np.zeros(int(out_channels), dtype=dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    @property
    def in_channels(self) -> int:
        return int(self.W.shape[1])

    @property
    def out_channels(self) -> int:
        return int(self.W.shape[0])

    @property
    def kernel_size(self) -> int:
        return int(self.W.shape[2])

    def forward(self, x: Array, training: bool = False) -> Array:
        k, s, p = self.kernel_size, self.stride, self.padding
        _check_images(self, x, self.in_channels, k, p)
        n, C, H, W = x.shape
        H_out, W_out = output_size(H, k, s, p), output_size(W, k, s, p)
        self.x_shape = x.shape
        if p:  # a scratch array whose border stays zero: only its interior is written
            xp = scratch(self, "xp", (n, C, H + 2 * p, W + 2 * p), x.dtype, fill=0)
            xp[:, :, p : p + H, p : p + W] = x
        else:
            xp = x
        self.xp_shape = xp.shape
        self.per_sample = C * k * k < ONE_MATRIX_FROM
        C_out, pixels = self.out_channels, H_out * W_out
        cols_shape = (n, C * k * k, pixels) if self.per_sample else (C * k * k, n * pixels)
        self.cols = im2col(xp, k, s, scratch(self, "cols", cols_shape, x.dtype), self.per_sample)
        W2 = self.W.reshape(C_out, -1)
        y = _new(self, "y", (n, C_out, pixels), x.dtype, training)
        if self.per_sample:
            np.matmul(W2, self.cols, out=y)
            y += self.b[:, None]  # y = W2 @ cols + b
        else:
            y_T = scratch(self, "y_T", (C_out, n * pixels), x.dtype)
            np.matmul(W2, self.cols, out=y_T)
            np.add(y_T.reshape(C_out, n, pixels).transpose(1, 0, 2), self.b[:, None], out=y)
        return y.reshape(n, C_out, H_out, W_out)

    def backward(self, dout: Array) -> Array:
        dy = self._backward_params(dout)
        n, C, H, W = self.x_shape
        W2 = self.W.reshape(self.out_channels, -1)
        dcols = np.matmul(W2.T, dy, out=scratch(self, "dcols", self.cols.shape, dout.dtype))
        p, (Hp, Wp) = self.padding, self.xp_shape[2:]
        dxp_shape = (n, C, Hp, Wp) if self.per_sample else (C, n, Hp, Wp)
        dxp = scratch(self, "dxp", dxp_shape, dout.dtype)
        col2im(dcols, self.xp_shape, self.kernel_size, self.stride, out=dxp)
        dxp = dxp[:, :, p : p + H, p : p + W]  # cropped to x's pixels
        if self.per_sample:
            return dxp
        dx = scratch(self, "dx", self.x_shape, dout.dtype)
        np.copyto(dx, dxp.transpose(1, 0, 2, 3))  # back to (n, C, H, W)
        return dx

    def backward_params(self, dout: Array) -> None:
        self._backward_params(dout)

    def _backward_params(self, dout: Array) -> Array:
        """Set dW and db; return dy in the columns' layout: (n, C_out, H_out W_out) per
        sample, else (C_out, n H_out W_out)."""
        n, C_out = len(dout), self.out_channels
        dy = dout.reshape(n, C_out, -1)
        dW2 = self.dW.reshape(C_out, -1)
        if self.per_sample:
            per_sample = scratch(self, "dW_n", (n, *dW2.shape), dy.dtype)
            np.matmul(dy, self.cols.transpose(0, 2, 1), out=per_sample)  # dy_n @ cols_n^T
            np.sum(per_sample, axis=0, out=dW2)
            np.einsum("nop->o", dy, out=self.db, casting="same_kind")  # sum over n, i, j
            return dy
        dy_T = scratch(self, "dy_T", (C_out, n * dy.shape[2]), dy.dtype)
        np.copyto(dy_T.reshape(C_out, n, -1), dy.transpose(1, 0, 2))
        np.matmul(dy_T, self.cols.T, out=dW2)  # dy @ cols^T
        np.einsum("op->o", dy_T, out=self.db, casting="same_kind")  # sum over n, i, j
        return dy_T

    def config(self) -> dict[str, Any]:
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "init": self.init,
        }


class _Pool2D(Layer):
    """Pooling over size x size windows taken every ``stride`` pixels (default: ``size``,
    windows that tile the image); rows and columns left over at the edge are dropped."""

    def __init__(self, size: int = 2, stride: int | None = None) -> None:
        stride = size if stride is None else stride
        _positive(type(self).__name__, size=size, stride=stride)
        self.size, self.stride = int(size), int(stride)

    def _windows(self, x: Array) -> tuple[int, ...]:
        """Check x, keep its shape and ``self.windows``: per window offset (u, v), row-major,
        the index of that pixel of every window, x[window]: (n, C, H_out, W_out). Returns
        that output shape."""
        _check_images(self, x, None, self.size, 0)
        k, s = self.size, self.stride
        n, C, H, W = self.x_shape = x.shape
        H_out, W_out = output_size(H, k, s), output_size(W, k, s)
        self.windows = [
            (Ellipsis, _span(u, s, H_out), _span(v, s, W_out)) for u in range(k) for v in range(k)
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
    tie, to the first maximum in row-major order (as np.argmax does)."""

    def forward(self, x: Array, training: bool = False) -> Array:
        shape = self._windows(x)
        y = _new(self, "y", shape, x.dtype, training)
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
    Training puts it in place of a ReLU followed by a MaxPool2D (:func:`fuse_relu_pool`)."""

    def _start(self, first: Array, y: Array, code: Array) -> None:
        np.maximum(first, 0, out=y)
        np.greater(first, 0, out=code)  # 1 where the first pixel is the maximum, else 0: none


def fuse_relu_pool(layers: Sequence[Layer]) -> list[Layer]:
    """``layers`` with each ReLU directly followed by a MaxPool2D replaced by one
    :class:`ReLUMaxPool2D` of the pool's size and stride (the same output and gradients)."""
    fused: list[Layer] = []
    for layer in layers:
        if type(layer) is MaxPool2D and fused and type(fused[-1]) is ReLU:
            fused[-1] = ReLUMaxPool2D(layer.size, layer.stride)
        else:
            fused.append(layer)
    return fused


class AvgPool2D(_Pool2D):
    """y[n, c, i, j] = mean of x[n, c] over window (i, j): (n, C, H, W) -> (n, C, H_out,
    W_out), H_out = (H - size) // stride + 1; dL/dx = dout / size^2 on each window's pixels."""

    def forward(self, x: Array, training: bool = False) -> Array:
        shape = self._windows(x)
        y = _new(self, "y", shape, x.dtype, training)
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

    def forward(self, x: Array, training: bool = False) -> Array:
        _check_images(self, x, None, 1, 0)
        self.x_shape = x.shape
        return np.mean(x, axis=(2, 3), out=_out(self, "y", x.shape[:2], x.dtype, training))

    def backward(self, dout: Array) -> Array:
        H, W = self.x_shape[2:]
        dx = scratch(self, "dx", self.x_shape, dout.dtype)
        np.copyto(dx, (dout / dout.dtype.type(H * W))[:, :, None, None])
        return dx


def _new(layer: Layer, name: str, shape: tuple[int, ...], dtype: Any, training: bool) -> Array:
    """A scratch array in training, else a new one (the caller may keep it)."""
    return scratch(layer, name, shape, dtype) if training else np.empty(shape, dtype)
