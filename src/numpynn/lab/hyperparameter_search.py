"""Chapter 10, hyper-parameter search (DLFS 6.5): random search over the learning rate and the
weight decay, drawn log-uniformly, each trial scored by its validation accuracy; its figure
and the best trials as a table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._typing import Array
from ..datasets import load_mnist, split_validation
from ..model import mlp
from ..optimizers import SGD
from ..plots import new_figure
from .chapter import Chapter

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def log_uniform(rng: np.random.Generator, low_high: tuple[float, float], n: int) -> Array:
    """n numbers 10 ** u, u uniform in [log10 low, log10 high): as many per decade."""
    low, high = np.log10(low_high[0]), np.log10(low_high[1])
    return 10 ** rng.uniform(low, high, size=n)


def random_search(
    trials: int = 50,
    lr_range: tuple[float, float] = (1e-6, 1e-2),
    weight_decay_range: tuple[float, float] = (1e-8, 1e-4),
    n_samples: int = 500,
    n_validation: int = 100,
    epochs: int = 50,
    hidden: tuple[int, ...] = (100, 100, 100, 100, 100, 100),
    batch_size: int = 100,
    seed: int = 0,
) -> dict[str, Any]:
    """Draw ``trials`` pairs (lr, weight_decay), each log-uniform in its range
    (lr = 10 ** uniform(log10 low, log10 high)), and train the ReLU network
    784 -> hidden -> 10 with ``SGD(lr, weight_decay=weight_decay)`` for ``epochs`` epochs on
    the first ``n_samples`` MNIST training images less ``n_validation`` held out at random
    for validation. Every trial starts from the same weights and sees the same mini-batches:
    the two hyper-parameters are the only difference.

    Parameters
    ----------
    trials : int
        The number of (lr, weight_decay) pairs drawn.
    lr_range : tuple of (float, float)
        The learning rate's (low, high), both > 0.
    weight_decay_range : tuple of (float, float)
        The weight decay's (low, high), both > 0.
    n_samples : int
        The number of MNIST training images used (the first ones).
    n_validation : int
        Of those, how many are held out for validation, in [1, n_samples).
    epochs : int
        Training epochs per trial.
    hidden : tuple of int
        The hidden layers' widths.
    batch_size : int
        The mini-batch size.
    seed : int
        Seeds the split, the draws, the weights and the shuffles.

    Returns
    -------
    dict
        ``"lr"``, ``"weight_decay"``: arrays (trials,), the draws; ``"val_accuracy"``
        (trials,): the validation accuracy after the last epoch; ``"curves"``
        (trials, epochs): after each epoch; ``"ranking"`` (trials,): the trials' indices
        from the best down (ties in the order drawn); and ``"lr_range"``,
        ``"weight_decay_range"``, ``"sizes"`` (``[784, *hidden, 10]``), ``"n_train"``
        (n_samples - n_validation), ``"n_validation"``, ``"epochs"``, ``"batch_size"``.

    Raises
    ------
    ValueError
        For an ``n_validation`` not in [1, n_samples).
    """
    (X, y), _ = load_mnist()
    (X, y), (X_val, y_val) = split_validation(X[:n_samples], y[:n_samples], n_validation, seed=seed)
    rng = np.random.default_rng(seed)
    lr = log_uniform(rng, lr_range, trials)
    weight_decay = log_uniform(rng, weight_decay_range, trials)
    sizes = [784, *hidden, 10]
    curves = np.zeros((trials, epochs))
    for k in range(trials):
        model = mlp(sizes, "relu", "softmax", seed=seed)
        history = model.fit(
            X,
            y,
            optimizer=SGD(lr=lr[k], weight_decay=weight_decay[k]),
            epochs=epochs,
            batch_size=batch_size,
            validation_data=(X_val, y_val),
            seed=seed,
        )
        curves[k] = history["val_accuracy"]
    val_accuracy = curves[:, -1]
    return {
        "lr": lr,
        "weight_decay": weight_decay,
        "val_accuracy": val_accuracy,
        "curves": curves,
        "ranking": np.argsort(-val_accuracy, kind="stable"),
        "lr_range": lr_range,
        "weight_decay_range": weight_decay_range,
        "sizes": sizes,
        "n_train": len(X),
        "n_validation": n_validation,
        "epochs": epochs,
        "batch_size": batch_size,
    }


# --- the figure ------------------------------------------------------------------------


def random_search_figure(result: dict[str, Any], best: int = 5) -> Figure:
    """Left: each trial at its (learning rate, weight decay), coloured by its validation
    accuracy, the ``best`` ones numbered by rank. Right: the validation accuracy against the
    learning rate (``result`` from :func:`random_search`)."""
    lr, wd = result["lr"], result["weight_decay"]
    accuracy = 100 * result["val_accuracy"]
    top = result["ranking"][:best]
    fig = new_figure(figsize=(13, 5.2))
    ax = fig.add_subplot(1, 2, 1)
    points = ax.scatter(
        lr, wd, c=accuracy, cmap="viridis", vmin=0, vmax=100, s=45, edgecolors="k", linewidths=0.4
    )
    ax.scatter(lr[top], wd[top], s=160, facecolors="none", edgecolors="tab:red", linewidths=1.5)
    for rank, i in enumerate(top, 1):
        ax.annotate(
            str(rank),
            (lr[i], wd[i]),
            xytext=(7, 5),
            textcoords="offset points",
            color="tab:red",
            fontsize=9,
            fontweight="bold",
        )
    fig.colorbar(points, ax=ax, label="validation accuracy (%)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _searched_box(ax, result["lr_range"], result["weight_decay_range"])
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("weight decay (log scale)")
    ax.set_title(
        f"{len(lr)} trials drawn log-uniformly in the dotted box; the {best} best circled",
        fontsize=10,
    )
    ax = fig.add_subplot(1, 2, 2)
    ax.scatter(
        lr,
        accuracy,
        c=accuracy,
        cmap="viridis",
        vmin=0,
        vmax=100,
        s=30,
        edgecolors="k",
        linewidths=0.4,
    )
    ax.scatter(
        lr[top], accuracy[top], s=130, facecolors="none", edgecolors="tab:red", linewidths=1.5
    )
    ax.set_xscale("log")
    ax.set_xlim(*_padded(result["lr_range"]))
    ax.set_ylim(0, 100)
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title("Validation accuracy by learning rate (the best circled)", fontsize=10)
    ax.grid(alpha=0.3)
    sizes = "-".join(map(str, result["sizes"]))
    fig.suptitle(
        f"Random search: validation accuracy after {result['epochs']} epochs on "
        f"{result['n_train']} MNIST images ({result['n_validation']} held out), {sizes} ReLU "
        "network, SGD"
    )
    fig.tight_layout()
    return fig


def _padded(low_high: tuple[float, float], factor: float = 1.8) -> tuple[float, float]:
    """A log axis's range widened by ``factor`` at each end: points on the edge stay whole."""
    return low_high[0] / factor, low_high[1] * factor


def _searched_box(ax: Axes, x_range: tuple[float, float], y_range: tuple[float, float]) -> None:
    """The searched rectangle, dotted, on padded log axes."""
    from matplotlib.patches import Rectangle

    (x0, x1), (y0, y1) = x_range, y_range
    box = Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, linestyle=":", edgecolor="0.4")
    ax.add_patch(box)
    ax.set_xlim(*_padded(x_range))
    ax.set_ylim(*_padded(y_range))


# --- the chapter -----------------------------------------------------------------------


def run() -> dict[str, Any]:
    """The chapter's numbers: :func:`random_search` over 50 trials."""
    return random_search()


def figures(result: dict[str, Any]) -> dict[str, Figure]:
    """The chapter's figure, by file name."""
    return {"search.png": random_search_figure(result)}


def summary(result: dict[str, Any], k: int = 10) -> str:
    """The ``k`` best trials as a text table: rank, validation accuracy, lr, weight decay."""
    lines = [f"{'rank':<6}{'val acc':<9}{'lr':<11}weight decay"]
    for rank, i in enumerate(result["ranking"][:k], 1):
        lines.append(
            f"{rank:<6}{result['val_accuracy'][i]:<9.0%}{result['lr'][i]:<11.2e}"
            f"{result['weight_decay'][i]:.2e}"
        )
    return "\n".join(lines)


CHAPTER = Chapter(
    name="search",
    title="hyper-parameter search: random learning rate and weight decay, by val accuracy",
    page="10-hyperparameter-search.md",
    run=run,
    figures=figures,
    summary=summary,
)
