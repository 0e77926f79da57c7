"""Chapter 5, planar data (Ng's course, week 3): a one-hidden-layer tanh network on the
"flower", and how its decision boundary changes with the number of hidden units; its figure
and its summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..datasets.toy import flower
from ..layers import Dense, Sigmoid, Tanh
from ..model import Sequential
from ..optimizers import SGD
from ..plots import new_figure
from .chapter import Chapter

if TYPE_CHECKING:
    from matplotlib.figure import Figure

HIDDEN_SIZES = (1, 2, 3, 4, 5, 20, 50)


def planar_network(n_hidden: int, seed: int = 2) -> Sequential:
    """2 -> n_hidden (tanh) -> 1 (sigmoid), weights N(0, 1) * 0.01, zero biases (float64).

    Parameters
    ----------
    n_hidden : int
        The hidden layer's width.
    seed : int
        Seeds the first layer's weights (``seed + 1`` the second's).

    Returns
    -------
    Sequential
        Dense, Tanh, Dense, Sigmoid: input (n_samples, 2) -> (n_samples, 1).

    Raises
    ------
    ValueError
        For an ``n_hidden`` that is not a positive int.
    """
    return Sequential(
        Dense(2, n_hidden, init="normal", dtype=np.float64, seed=seed),
        Tanh(),
        Dense(n_hidden, 1, init="normal", dtype=np.float64, seed=seed + 1),
        Sigmoid(),
    )


def hidden_sizes(
    sizes: tuple[int, ...] = HIDDEN_SIZES,
    iterations: int = 5000,
    lr: float = 1.2,
    grid_points: int = 200,
    seed: int = 2,
) -> dict[str, Any]:
    """Train a :func:`planar_network` for each hidden size by full-batch gradient descent on
    the 400-point flower (binary cross-entropy, ``iterations`` steps of rate ``lr``).

    Parameters
    ----------
    sizes : tuple of int
        The hidden sizes, one network each.
    iterations : int
        Gradient-descent steps (full-batch epochs).
    lr : float
        The learning rate.
    grid_points : int
        The grid's points per axis, over the data's range plus 1 on each side.
    seed : int
        Seeds the initial weights.

    Returns
    -------
    dict
        ``"X"`` (400, 2) and ``"y"`` (400,): the flower; ``"xx"``, ``"yy"``
        (grid_points, grid_points): the grid's coordinates; ``"models"``: ``{size:
        {"accuracy": float, the training accuracy, "regions": int array (grid_points,
        grid_points), the predicted class on the grid, "model": the trained Sequential}}``.
    """
    X, y = flower()
    (x0, y0), (x1, y1) = X.min(axis=0) - 1, X.max(axis=0) + 1
    xx, yy = np.meshgrid(np.linspace(x0, x1, grid_points), np.linspace(y0, y1, grid_points))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    models = {}
    for size in sizes:
        model = planar_network(size, seed)
        model.fit(X, y, optimizer=SGD(lr=lr), epochs=iterations, batch_size=None, shuffle=False)
        models[size] = {
            "accuracy": float(np.mean(model.predict(X) == y)),
            "regions": model.predict(grid).reshape(xx.shape),
            "model": model,
        }
    return {"X": X, "y": y, "xx": xx, "yy": yy, "models": models}


# --- the figure ------------------------------------------------------------------------

CLASS_COLORS = ("tab:red", "tab:blue")  # class 0, class 1


def hidden_sizes_figure(result: dict[str, Any]) -> Figure:
    """One decision-boundary panel per hidden size, titled with its training accuracy, and
    the accuracies side by side (``result`` from :func:`hidden_sizes`)."""
    from matplotlib.colors import ListedColormap

    models = result["models"]
    X, y = result["X"], result["y"]
    n = len(models) + 1
    columns = 4
    rows = -(-n // columns)
    fig = new_figure(figsize=(14, 3.6 * rows))
    cmap = ListedColormap(["#f6c9c4", "#c4d9f6"])
    for k, (size, m) in enumerate(models.items()):
        ax = fig.add_subplot(rows, columns, k + 1)
        ax.contourf(result["xx"], result["yy"], m["regions"], levels=[-0.5, 0.5, 1.5], cmap=cmap)
        for label, color in enumerate(CLASS_COLORS):
            points = X[y == label]
            ax.scatter(points[:, 0], points[:, 1], s=6, color=color, label=f"class {label}")
        ax.set_title(
            f"{size} hidden unit{'s' * (size > 1)}: {m['accuracy']:.1%} correct", fontsize=10
        )
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        ax.set_aspect("equal")
        if k == 0:
            ax.legend(fontsize=7, loc="lower left", framealpha=0.9)
    ax = fig.add_subplot(rows, columns, n)
    sizes = list(models)
    accuracies = [100 * models[s]["accuracy"] for s in sizes]
    ax.bar(range(len(sizes)), accuracies, color="tab:blue")
    for i, a in enumerate(accuracies):
        ax.text(i, a + 1, f"{a:.1f}", ha="center", fontsize=8)
    ax.set_xticks(range(len(sizes)), [str(s) for s in sizes])
    ax.set_ylim(0, 105)
    ax.set_xlabel("hidden units")
    ax.set_ylabel("training accuracy (%)")
    ax.set_title("Training accuracy by hidden size", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    fig.suptitle("Flower data: 2 -> n (tanh) -> 1 (sigmoid), full-batch gradient descent")
    fig.tight_layout()
    return fig


# --- the chapter -----------------------------------------------------------------------


def run() -> dict[str, Any]:
    """The chapter's numbers: :func:`hidden_sizes` for 1 to 50 hidden units."""
    return hidden_sizes()


def figures(result: dict[str, Any]) -> dict[str, Figure]:
    """The chapter's figure, by file name."""
    return {"planar.png": hidden_sizes_figure(result)}


def summary(result: dict[str, Any]) -> str:
    """One line per hidden size: its training accuracy."""
    return "\n".join(
        f"{size:>3} hidden {'unit' if size == 1 else 'units'}: training accuracy "
        f"{m['accuracy']:.2%}"
        for size, m in result["models"].items()
    )


CHAPTER = Chapter(
    name="planar",
    title="planar data: the decision boundary for 1, 2, 3, 4, 5, 20 and 50 hidden units",
    page="05-planar-data.md",
    run=run,
    figures=figures,
    summary=summary,
)
