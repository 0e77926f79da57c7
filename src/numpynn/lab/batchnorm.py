"""Chapter 8, batch normalization (DLFS 6.3): the training accuracy of a 5-hidden-layer ReLU
network with and without BatchNorm, for initial weights of standard deviation 1 down to
0.0001 (DLFS figures 6-18 and 6-19)."""

from __future__ import annotations

import contextlib
import itertools
from typing import Any

import numpy as np
import numpy.typing as npt

from .._typing import Array
from ..callbacks import Callback
from ..datasets import load_mnist
from ..errors import DivergenceError
from ..layers import BatchNorm, Dense, Layer, ReLU, Softmax
from ..model import Sequential
from ..optimizers import SGD

# DLFS's batch_norm_test.py: 16 scales from 1 down to 1e-4, evenly spaced on a log axis.
WEIGHT_SCALES = tuple(float(s) for s in np.logspace(0, -4, 16))
NETWORKS = ("batchnorm", "plain")


def network(weights: list[Array], batchnorm: bool, eps: float = 1e-5) -> Sequential:
    """Dense -> [BatchNorm] -> ReLU for every hidden layer, then Dense -> Softmax; the Dense
    layers start from ``weights`` (one (n_in, n_out) array each) and zero biases."""
    layers: list[Layer] = []
    for k, W in enumerate(weights):
        dense = Dense(*W.shape)
        dense.W[...] = W
        layers.append(dense)
        if k < len(weights) - 1:
            if batchnorm:
                layers.append(BatchNorm(W.shape[1], eps=eps))
            layers.append(ReLU())
    return Sequential(*layers, Softmax())


class EpochAccuracy(Callback):
    """After each epoch, records the accuracy on the whole training set as ``predict`` sees
    it (BatchNorm with its running averages; DLFS measures this), and the accuracy that
    ``fit`` reports (the epoch's mini-batches as they were trained, with batch statistics)."""

    def __init__(self, model: Sequential, X: Array, y: npt.ArrayLike) -> None:
        self.network, self.X, self.y = model, X, y
        self.accuracy = [model.evaluate(X, y)["accuracy"]]  # epoch 0: before training
        self.fit_accuracy: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.accuracy.append(self.network.evaluate(self.X, self.y)["accuracy"])
        self.fit_accuracy.append(logs["accuracy"])


def batchnorm_accuracy(
    scales: tuple[float, ...] = WEIGHT_SCALES,
    epochs: int = 20,
    n_train: int = 1000,
    hidden: tuple[int, ...] = (100, 100, 100, 100, 100),
    batch_size: int = 100,
    lr: float = 0.01,
    eps: float = 1e-5,
    seed: int = 0,
) -> dict[str, Any]:
    """For each scale, draw the weights W ~ N(0, 1) * scale of the ReLU network
    784 -> hidden -> 10 (softmax) once, and train it twice from them, with a BatchNorm
    (``eps``) before every hidden ReLU and without, by SGD (``lr``) on mini-batches of
    ``batch_size`` from the first ``n_train`` MNIST training images, for ``epochs`` epochs
    (both in the same order of mini-batches).

    Returns {"accuracy": {"batchnorm": (len(scales), epochs + 1), "plain": same}: the
    accuracy on the n_train images before training and after each epoch, with BatchNorm's
    running averages (as ``predict`` works); NaN from the epoch in which the loss became NaN
    (``fit`` stopped with a DivergenceError), "fit_accuracy": the same shapes without epoch 0,
    the accuracy fit reports (each mini-batch before its update, with batch statistics),
    "scales", "epochs": (epochs + 1,) 0 to epochs, "sizes", "n_train", "batch_size", "lr",
    "eps"}."""
    (X, y), _ = load_mnist()
    X, y = X[:n_train], y[:n_train]
    sizes = [784, *hidden, 10]
    accuracy = {name: np.full((len(scales), epochs + 1), np.nan) for name in NETWORKS}
    fit_accuracy = {name: np.full((len(scales), epochs), np.nan) for name in NETWORKS}
    for i, scale in enumerate(scales):
        rng = np.random.default_rng(seed)
        weights = [rng.standard_normal(shape) * scale for shape in itertools.pairwise(sizes)]
        for name in NETWORKS:
            model = network(weights, batchnorm=name == "batchnorm", eps=eps)
            record = EpochAccuracy(model, X, y)
            # A NaN loss stops fit: the epochs recorded so far are the curve, the rest NaN.
            with contextlib.suppress(DivergenceError):
                model.fit(
                    X,
                    y,
                    optimizer=SGD(lr=lr),
                    epochs=epochs,
                    batch_size=batch_size,
                    seed=seed,
                    callbacks=[record],
                )
            accuracy[name][i, : len(record.accuracy)] = record.accuracy
            fit_accuracy[name][i, : len(record.fit_accuracy)] = record.fit_accuracy
    return {
        "accuracy": accuracy,
        "fit_accuracy": fit_accuracy,
        "scales": np.array(scales),
        "epochs": np.arange(epochs + 1),
        "sizes": sizes,
        "n_train": n_train,
        "batch_size": batch_size,
        "lr": lr,
        "eps": eps,
    }


def diverged_epoch(curve: Array) -> int | None:
    """The epoch in which a run's loss became NaN (its first NaN accuracy), or None."""
    missing = np.nonzero(np.isnan(curve))[0]
    return int(missing[0]) if missing.size else None
