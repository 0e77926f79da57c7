"""Chapter 6, optimisers (DLFS 6.1): their paths on f(x, y) = x^2 / 20 + y^2 from the same
start (DLFS figure 6-8) and their training-loss curves on MNIST (DLFS figure 6-9)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._typing import Array
from ..callbacks import Callback
from ..datasets import load_mnist
from ..model import mlp
from ..optimizers import SGD, AdaGrad, Adam, Optimizer, RMSProp

# The learning rates of DLFS's optimizer_compare_naive.py; Nesterov and RMSProp, not in that
# figure, take momentum's rate and Adam's.
PATH_OPTIMIZERS: dict[str, Callable[[], Optimizer]] = {
    "SGD": lambda: SGD(lr=0.95),
    "Momentum": lambda: SGD(lr=0.1, momentum=0.9),
    "Nesterov": lambda: SGD(lr=0.1, momentum=0.9, nesterov=True),
    "AdaGrad": lambda: AdaGrad(lr=1.5),
    "RMSProp": lambda: RMSProp(lr=0.3),
    "Adam": lambda: Adam(lr=0.3),
}

# The learning rates of DLFS's optimizer_compare_mnist.py (5 layers of 100 ReLU units).
MNIST_OPTIMIZERS: dict[str, Callable[[], Optimizer]] = {
    "SGD": lambda: SGD(lr=0.01),
    "Momentum": lambda: SGD(lr=0.01, momentum=0.9),
    "Nesterov": lambda: SGD(lr=0.01, momentum=0.9, nesterov=True),
    "AdaGrad": lambda: AdaGrad(lr=0.01),
    "RMSProp": lambda: RMSProp(lr=0.001),
    "Adam": lambda: Adam(lr=0.001),
}


def f(x: Array, y: Array) -> Array:
    """f(x, y) = x^2 / 20 + y^2: a bowl 20 times steeper along y than along x."""
    return x**2 / 20 + y**2


def grad_f(p: Array) -> Array:
    """(df/dx, df/dy) = (x / 10, 2 y) at p = (x, y)."""
    return np.array([p[0] / 10, 2 * p[1]])


def optimizer_paths(
    start: tuple[float, float] = (-7.0, 2.0),
    steps: int = 30,
    optimizers: dict[str, Callable[[], Optimizer]] | None = None,
) -> dict[str, Array]:
    """Each optimiser's path (steps + 1, 2) from ``start`` on :func:`f`: the point (x, y) is
    the one parameter array, updated in place by ``optimizer.step([p], [grad_f(p)])``."""
    paths = {}
    for name, make in (optimizers or PATH_OPTIMIZERS).items():
        optimizer = make()
        p = np.array(start, dtype=np.float64)
        path = [p.copy()]
        for _ in range(steps):
            optimizer.step([p], [grad_f(p)])
            path.append(p.copy())
        paths[name] = np.array(path)
    return paths


def steps_to_reach(path: Array, radius: float) -> int | None:
    """The first step after which the path stays within ``radius`` of the minimum (0, 0)
    (None: it is outside at the last step)."""
    outside = np.nonzero(np.linalg.norm(path, axis=1) >= radius)[0]
    if outside.size == 0:
        return 0
    return None if outside[-1] == len(path) - 1 else int(outside[-1] + 1)


class BatchLosses(Callback):
    """Records the loss of every mini-batch."""

    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        self.losses.append(logs["loss"])


def mnist_losses(
    iterations: int = 1000,
    n_train: int = 10_000,
    batch_size: int = 128,
    hidden: tuple[int, ...] = (100, 100, 100, 100),
    optimizers: dict[str, Callable[[], Optimizer]] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Train the same ReLU network 784 -> hidden -> 10 (He initial weights, softmax,
    cross-entropy) with each optimiser for ``iterations`` mini-batches of ``batch_size`` from
    the first ``n_train`` MNIST training images.

    Returns {"losses": {name: (iterations,) training loss per mini-batch},
    "test_accuracy": {name: accuracy on the 10,000 test images}, "sizes": the layer sizes,
    "n_train": n_train, "batch_size": batch_size}."""
    (X, y), (X_test, y_test) = load_mnist()
    X, y = X[:n_train], y[:n_train]
    batches = -(-n_train // batch_size)
    epochs = -(-iterations // batches)
    losses, accuracy = {}, {}
    for name, make in (optimizers or MNIST_OPTIMIZERS).items():
        model = mlp([784, *hidden, 10], "relu", "softmax", seed=seed)  # the same start for all
        record = BatchLosses()
        model.fit(
            X,
            y,
            optimizer=make(),
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            callbacks=[record],
        )
        losses[name] = np.array(record.losses[:iterations])
        accuracy[name] = model.evaluate(X_test, y_test)["accuracy"]
    sizes = [784, *hidden, 10]
    return {
        "losses": losses,
        "test_accuracy": accuracy,
        "sizes": sizes,
        "n_train": n_train,
        "batch_size": batch_size,
    }
