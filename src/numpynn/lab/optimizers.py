"""Chapter 6, optimisers (DLFS 6.1): their paths on f(x, y) = x^2 / 20 + y^2 from the same
start (DLFS figure 6-8) and their training-loss curves on MNIST (DLFS figure 6-9); the two
figures and the chapter's summary."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .._typing import Array
from ..callbacks import Callback
from ..datasets import load_mnist
from ..model import mlp
from ..optimizers import SGD, AdaGrad, Adam, Optimizer, RMSProp
from ..plots import new_figure
from .chapter import Chapter

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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
    """Each optimiser's path (steps + 1, 2) from ``start`` on ``f``: the point (x, y) is
    the one parameter array, updated in place by ``optimizer.step([p], [grad_f(p)])``.

    Parameters
    ----------
    start : tuple of (float, float)
        The starting point (x, y).
    steps : int
        The number of optimiser steps.
    optimizers : dict, optional
        ``{name: factory}``, each factory making a new optimiser (None: ``PATH_OPTIMIZERS``,
        the book's six with their rates).

    Returns
    -------
    dict
        ``{name: array (steps + 1, 2)}``: the points, ``start`` first.
    """
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
    (None: it is outside at the last step).

    Parameters
    ----------
    path : array
        The points (steps + 1, 2), as :func:`numpynn.lab.optimizer_paths` returns them.
    radius : float
        The distance from (0, 0) that counts as arrived (strictly within).

    Returns
    -------
    int or None
        The step (0: the start is already within), or None.
    """
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

    Parameters
    ----------
    iterations : int
        The mini-batches whose losses are kept.
    n_train : int
        The number of MNIST training images used (the first ones).
    batch_size : int
        The mini-batch size.
    hidden : tuple of int
        The hidden layers' widths.
    optimizers : dict, optional
        ``{name: factory}``, each factory making a new optimiser (None:
        ``MNIST_OPTIMIZERS``, the book's six with their rates).
    seed : int
        Seeds the weights (the same for every optimiser) and the shuffles.

    Returns
    -------
    dict
        ``"losses"``: ``{name: array (iterations,)}``, the training loss of each
        mini-batch; ``"test_accuracy"``: ``{name: float}``, the accuracy on the 10,000
        test images after training (whole epochs: the training runs on to the end of the
        epoch that holds mini-batch ``iterations``); ``"sizes"`` (``[784, *hidden, 10]``),
        ``"n_train"``, ``"batch_size"``.
    """
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


# --- the figures -----------------------------------------------------------------------

# One colour per optimiser in both figures (matplotlib's tab10).
OPTIMIZER_COLORS = {
    "SGD": "tab:blue",
    "Momentum": "tab:orange",
    "Nesterov": "tab:green",
    "AdaGrad": "tab:red",
    "RMSProp": "tab:purple",
    "Adam": "tab:brown",
}


def optimizer_paths_figure(paths: dict[str, Array]) -> Figure:
    """Each optimiser's path on the contours of f(x, y) = x^2/20 + y^2, one panel each
    (``paths`` from :func:`optimizer_paths`)."""
    fig = new_figure(figsize=(14, 7))
    gx, gy = np.meshgrid(np.linspace(-10, 10, 400), np.linspace(-5, 5, 200))
    columns = 3
    rows = -(-len(paths) // columns)
    for k, (name, p) in enumerate(paths.items()):
        ax = fig.add_subplot(rows, columns, k + 1)
        ax.contour(gx, gy, f(gx, gy), levels=np.geomspace(0.05, 10, 9), colors="0.75")
        color = OPTIMIZER_COLORS.get(name, "k")
        ax.plot(p[:, 0], p[:, 1], "o-", color=color, markersize=3, linewidth=1.2)
        ax.plot(0, 0, "+", color="k", markersize=10)
        reached = steps_to_reach(p, 0.5)
        distance = np.linalg.norm(p[-1])
        within = f"within 0.5 from step {reached}" if reached is not None else "not within 0.5"
        ax.set_title(f"{name}: {within}; distance {distance:.2f} after {len(p) - 1}", fontsize=10)
        ax.set_xlim(-10, 10)
        ax.set_ylim(-5, 5)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    fig.suptitle(
        f"Paths from {tuple(next(iter(paths.values()))[0].tolist())} on "
        "f(x, y) = x^2/20 + y^2 (minimum at +)"
    )
    fig.tight_layout()
    return fig


def mnist_losses_figure(result: dict[str, Any], smooth: int = 20) -> Figure:
    """The training loss per mini-batch of each optimiser (faint) and its moving average over
    ``smooth`` mini-batches (``result`` from :func:`mnist_losses`)."""
    fig = new_figure(figsize=(9, 5))
    ax = fig.add_subplot(1, 1, 1)
    for name, losses in result["losses"].items():
        color = OPTIMIZER_COLORS.get(name)
        accuracy = result["test_accuracy"][name]
        ax.plot(losses, color=color, alpha=0.2, linewidth=0.8)
        k = min(smooth, len(losses))
        average = np.convolve(losses, np.ones(k) / k, mode="valid")
        label = f"{name} (test accuracy {accuracy:.1%})"
        ax.plot(np.arange(k - 1, len(losses)), average, color=color, linewidth=1.8, label=label)
    ax.set_ylim(0, 2.5)
    ax.set_xlabel(f"iteration (mini-batch of {result['batch_size']} images)")
    ax.set_ylabel("training loss (cross-entropy)")
    sizes = "-".join(map(str, result["sizes"]))
    ax.set_title(f"First {result['n_train']:,} MNIST training images, {sizes} ReLU network")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


# --- the chapter -----------------------------------------------------------------------


def run() -> dict[str, Any]:
    """The chapter's numbers: {"paths": :func:`optimizer_paths`, "mnist_losses":
    :func:`mnist_losses`}."""
    return {"paths": optimizer_paths(), "mnist_losses": mnist_losses()}


def figures(numbers: dict[str, Any]) -> dict[str, Figure]:
    """The chapter's two figures, by file name."""
    return {
        "optimizers-paths.png": optimizer_paths_figure(numbers["paths"]),
        "optimizers-mnist.png": mnist_losses_figure(numbers["mnist_losses"]),
    }


def summary(numbers: dict[str, Any]) -> str:
    """One line per optimiser: where its path ends and when it comes within 0.5 of the
    minimum; its last 50 mini-batches' loss on MNIST and its test accuracy."""
    mnist = numbers["mnist_losses"]
    lines = []
    for name, p in numbers["paths"].items():
        reached = steps_to_reach(p, 0.5)
        within = "not within 0.5" if reached is None else f"within 0.5 from step {reached}"
        lines.append(
            f"{name:<9} distance to (0, 0) after {len(p) - 1} steps {np.linalg.norm(p[-1]):.3f}; "
            f"{within}; MNIST: last 50 mini-batches' loss "
            f"{mnist['losses'][name][-50:].mean():.3f}, test accuracy "
            f"{mnist['test_accuracy'][name]:.2%}"
        )
    return "\n".join(lines)


CHAPTER = Chapter(
    name="optimizers",
    title="optimisers: paths on x^2/20 + y^2 and loss curves on an MNIST subset",
    page="06-optimizers.md",
    run=run,
    figures=figures,
    summary=summary,
)
