"""Batch normalization (Ioffe and Szegedy 2015; Deep Learning from Scratch, ch. 6.3)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._typing import Array
from .errors import ShapeError
from .layers import Layer, _out
from .scratch import scratch


class BatchNorm(Layer):
    """Normalise each feature over the batch, then scale and shift it:

        xhat = (x - mean) / sqrt(var + eps),   y = gamma xhat + beta.

    x: (n, C) for dense layers, or (n, C, H, W) for images, where the statistics of channel c
    are taken over all n H W of its values. gamma, beta: (C,), trained. In training, mean and
    var are the batch's (var divides by the count, not count - 1) and the running averages
    move towards them, running = momentum running + (1 - momentum) batch (DLFS's and Keras's
    convention: momentum 0.9 keeps 90% of the old value; PyTorch's momentum=0.1 is the same
    average). At inference, mean and var are the running averages: ``buffers``, saved with
    the model. With m values per feature, the gradients are

        dbeta = sum dout,   dgamma = sum dout xhat,
        dx = gamma / sqrt(var + eps) (dout - dbeta / m - xhat dgamma / m)   (training),
        dx = gamma / sqrt(var + eps) dout                                   (inference).
    """

    params = ("gamma", "beta")
    buffers = ("running_mean", "running_var")

    def __init__(
        self,
        num_features: int,
        *,
        momentum: float = 0.9,
        eps: float = 1e-5,
        dtype: type | np.dtype[Any] = np.float32,
    ) -> None:
        if (
            isinstance(num_features, bool)
            or not isinstance(num_features, int | np.integer)
            or num_features < 1
        ):
            raise ValueError(
                f"BatchNorm num_features must be a positive integer, got {num_features!r}"
            )
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"BatchNorm momentum must be in [0, 1), got {momentum!r}")
        if not eps > 0:
            raise ValueError(f"BatchNorm eps must be positive, got {eps!r}")
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"BatchNorm dtype must be a floating type, got {dtype}")
        self.momentum, self.eps = float(momentum), float(eps)
        C = int(num_features)
        self.gamma, self.beta = np.ones(C, dtype), np.zeros(C, dtype)
        self.dgamma, self.dbeta = np.zeros(C, dtype), np.zeros(C, dtype)
        self.running_mean, self.running_var = np.zeros(C, dtype), np.ones(C, dtype)

    @property
    def num_features(self) -> int:
        return len(self.gamma)

    def forward(self, x: Array, training: bool = False) -> Array:
        if x.ndim not in (2, 4) or x.shape[1] != self.num_features:
            C = self.num_features
            raise ShapeError(
                f"{self!r} expects input of shape (n_samples, {C}) or (n_samples, {C}, height, "
                f"width), got {x.shape}"
            )
        self.axes = (0,) if x.ndim == 2 else (0, 2, 3)  # all but the feature (channel) axis
        per_feature = (1, -1) + (1,) * (x.ndim - 2)  # (C,) -> broadcastable against x
        xhat = scratch(self, "xhat", x.shape, x.dtype)
        if training:
            mean = np.mean(x, axis=self.axes)
            np.subtract(x, mean.reshape(per_feature), out=xhat)
            var = np.mean(np.square(xhat, out=scratch(self, "sq", x.shape, x.dtype)), self.axes)
            self.running_mean *= self.momentum
            self.running_mean += (1 - self.momentum) * mean
            self.running_var *= self.momentum
            self.running_var += (1 - self.momentum) * var
        else:
            var = self.running_var
            np.subtract(x, self.running_mean.reshape(per_feature), out=xhat)
        self.training = training
        self.std = np.sqrt(var + self.eps).reshape(per_feature).astype(x.dtype)
        self.xhat = np.divide(xhat, self.std, out=xhat)
        y = np.multiply(
            xhat, self.gamma.reshape(per_feature), out=_out(self, "y", x.shape, x.dtype, training)
        )
        y += self.beta.reshape(per_feature)
        return y

    def backward(self, dout: Array) -> Array:
        np.sum(dout, axis=self.axes, out=self.dbeta)
        dx = np.multiply(dout, self.xhat, out=scratch(self, "dx", dout.shape, dout.dtype))
        np.sum(dx, axis=self.axes, out=self.dgamma)
        per_feature = self.std.shape
        scale = (self.gamma.reshape(per_feature) / self.std).astype(dout.dtype)
        if not self.training:
            return np.multiply(dout, scale, out=dx)
        m = dout.size // self.num_features
        np.multiply(self.xhat, (self.dgamma / m).reshape(per_feature).astype(dout.dtype), out=dx)
        np.subtract(dout, dx, out=dx)
        dx -= (self.dbeta / m).reshape(per_feature).astype(dout.dtype)
        dx *= scale  # gamma / std (dout - dbeta / m - xhat dgamma / m)
        return dx

    def config(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "momentum": self.momentum, "eps": self.eps}
