"""Convolution and max pooling written the way Deep Learning from Scratch (ch. 7,
``common/util.py`` and ``common/layers.py``) writes them, in float64: the baseline column of
benchmarks/conv.py. im2col lays windows out as rows, (N out_h out_w, C fh fw), through a
zeroed 6-D array and a transposed copy; forward and backward transpose between that and
channels-first."""

from __future__ import annotations

import numpy as np


def im2col(x: np.ndarray, fh: int, fw: int, stride: int, pad: int) -> np.ndarray:
    N, C, H, W = x.shape
    out_h, out_w = (H + 2 * pad - fh) // stride + 1, (W + 2 * pad - fw) // stride + 1
    img = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((N, C, fh, fw, out_h, out_w))
    for y in range(fh):
        for x_ in range(fw):
            col[:, :, y, x_, :, :] = img[
                :, :, y : y + stride * out_h : stride, x_ : x_ + stride * out_w : stride
            ]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


def col2im(
    col: np.ndarray, shape: tuple[int, ...], fh: int, fw: int, stride: int, pad: int
) -> np.ndarray:
    N, C, H, W = shape
    out_h, out_w = (H + 2 * pad - fh) // stride + 1, (W + 2 * pad - fw) // stride + 1
    col = col.reshape(N, out_h, out_w, C, fh, fw).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1))
    for y in range(fh):
        for x_ in range(fw):
            img[:, :, y : y + stride * out_h : stride, x_ : x_ + stride * out_w : stride] += col[
                :, :, y, x_, :, :
            ]
    return img[:, :, pad : H + pad, pad : W + pad]


class Convolution:
    def __init__(self, W: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0) -> None:
        self.W, self.b, self.stride, self.pad = (
            W.astype(np.float64),
            b.astype(np.float64),
            stride,
            pad,
        )

    def forward(self, x: np.ndarray) -> np.ndarray:
        FN, _, FH, FW = self.W.shape
        N, _, H, W = x.shape
        out_h = 1 + (H + 2 * self.pad - FH) // self.stride
        out_w = 1 + (W + 2 * self.pad - FW) // self.stride
        col = im2col(x, FH, FW, self.stride, self.pad)
        col_W = self.W.reshape(FN, -1).T
        out = np.dot(col, col_W) + self.b
        self.x, self.col, self.col_W = x, col, col_W
        return out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout).transpose(1, 0).reshape(FN, C, FH, FW)
        dcol = np.dot(dout, self.col_W.T)
        return col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)


class Pooling:
    def __init__(self, size: int, stride: int) -> None:
        self.pool_h = self.pool_w = size
        self.stride, self.pad = stride, 0

    def forward(self, x: np.ndarray) -> np.ndarray:
        N, C, H, W = x.shape
        out_h = 1 + (H - self.pool_h) // self.stride
        out_w = 1 + (W - self.pool_w) // self.stride
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        self.x, self.arg_max = x, np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        return out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size))
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dmax = dmax.reshape((*dout.shape, pool_size))
        dcol = dmax.reshape(dmax.shape[0] * dmax.shape[1] * dmax.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)
