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

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import initializers
from .._typing import Array, Seed
from ..errors import ShapeError
from ..scratch import scratch
from .base import (
    Layer,
    Shape,
    check_float_dtype,
    check_input_shape,
    check_sizes,
    describe_shape,
    new_array,
)


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
            out[:, :, strided(u, stride, H_out), strided(v, stride, W_out)] += offsets[:, :, u, v]
    return out


def strided(start: int, stride: int, count: int) -> slice:
    """The indices start, start + stride, ... (count of them): one kernel offset's pixels."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def check_images(layer: Layer, x: Array, channels: int | None, k: int, padding: int) -> None:
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


def window_output_shape(
    layer: Layer,
    input_shape: Shape | None,
    channels: int | None,
    kernel: int,
    stride: int,
    padding: int = 0,
) -> Shape:
    """(channels, H_out, W_out) of a layer sliding a kernel x kernel window over images of
    ``input_shape`` (C, H, W); ``channels`` None keeps C. ShapeError naming ``layer`` for
    other input or a window larger than the padded image."""
    check_input_shape(layer, input_shape)
    C, H, W = input_shape if input_shape is not None else (None, None, None)
    sizes = []
    for size in (H, W):
        if size is not None and size + 2 * padding < kernel:
            raise ShapeError(
                f"{layer!r}: the {kernel}x{kernel} window is larger than the padded input "
                f"({describe_shape(input_shape)}, padding {padding})"
            )
        sizes.append(None if size is None else output_size(size, kernel, stride, padding))
    return (C if channels is None else channels, *sizes)


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

    Parameters
    ----------
    in_channels, out_channels : int
        C_in and C_out.
    kernel_size : int
        k, the side of the square kernel.
    stride : int
        s, the step between windows.
    padding : int
        Zeros added on each side of the image: ``H_out = (H + 2 padding - k) // s + 1``.
    init : str
        The weight initialiser's name (default ``"he"``).
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
        check_sizes(
            "Conv2D",
            in_channels=in_channels,
            out_channels=out_channels,
            kernel_size=kernel_size,
            stride=stride,
        )
        if isinstance(padding, bool) or not isinstance(padding, int | np.integer) or padding < 0:
            raise ValueError(f"Conv2D padding must be a non-negative integer, got {padding!r}")
        dtype = check_float_dtype("Conv2D", dtype)
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

    @property
    def input_shape(self) -> Shape:
        return (self.in_channels, None, None)

    def output_shape(self, input_shape: Shape | None) -> Shape:
        return window_output_shape(
            self, input_shape, self.out_channels, self.kernel_size, self.stride, self.padding
        )

    def forward(self, x: Array, training: bool = False) -> Array:
        k, s, p = self.kernel_size, self.stride, self.padding
        check_images(self, x, self.in_channels, k, p)
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
        y = new_array(self, "y", (n, C_out, pixels), x.dtype, training)
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
