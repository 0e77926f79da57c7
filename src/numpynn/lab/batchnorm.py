"""Chapter 8, batch normalization (DLFS 6.3): the training accuracy of a 5-hidden-layer ReLU
network with and without BatchNorm, for initial weights of standard deviation 1 down to
0.0001 (DLFS figures 6-18 and 6-19); its figure and its summary."""

from __future__ import annotations

import contextlib
import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .._typing import Array
from ..callbacks import Callback
from ..datasets import load_mnist
from ..errors import DivergenceError
from ..layers import BatchNorm, Dense, Layer, ReLU, Softmax
from ..model import Sequential
from ..optimizers import SGD
from ..plots import new_figure
from .chapter import Chapter

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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

    Parameters
    ----------
    scales : tuple of float
        The initial weights' standard deviations (default 16 from 1 down to 1e-4).
    epochs : int
        Training epochs per run.
    n_train : int
        The number of MNIST training images used (the first ones).
    hidden : tuple of int
        The hidden layers' widths.
    batch_size : int
        The mini-batch size.
    lr : float
        SGD's learning rate.
    eps : float
        BatchNorm's ``eps``.
    seed : int
        Seeds the weights (the same for every scale, then scaled) and the shuffles.

    Returns
    -------
    dict
        ``"accuracy"``: ``{"batchnorm": array, "plain": array}``, each
        (len(scales), epochs + 1): the accuracy on the n_train images before training and
        after each epoch, with BatchNorm's running averages (as ``predict`` works); NaN from
        the epoch in which the loss became NaN (``fit`` stopped with a
        :class:`~numpynn.DivergenceError`). ``"fit_accuracy"``: the same keys,
        (len(scales), epochs), the accuracy ``fit`` reports (each mini-batch before its
        update, with batch statistics). ``"scales"`` (len(scales),), ``"epochs"``
        (epochs + 1,) 0 to epochs, ``"sizes"`` (``[784, *hidden, 10]``),
        ``"n_train"``, ``"batch_size"``, ``"lr"``, ``"eps"``.
    """
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
            # divergence=None: the chapter shows the loss going all the way to NaN, not fit's
            # earlier stop at 100 times the starting loss.
            with contextlib.suppress(DivergenceError):
                model.fit(
                    X,
                    y,
                    optimizer=SGD(lr=lr),
                    epochs=epochs,
                    batch_size=batch_size,
                    seed=seed,
                    callbacks=[record],
                    divergence=None,
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


# --- the figure ------------------------------------------------------------------------


# The book's styles: the BatchNorm network solid, the plain one dashed.
NETWORK_STYLES: dict[str, dict[str, Any]] = {
    "batchnorm": {"color": "tab:blue", "linestyle": "-", "label": "with BatchNorm"},
    "plain": {"color": "tab:orange", "linestyle": "--", "label": "without BatchNorm"},
}


def batchnorm_accuracy_figure(result: dict[str, Any]) -> Figure:
    """One panel per initial weight scale: the training accuracy after each epoch with and
    without BatchNorm, as ``predict`` sees it (BatchNorm with its running averages), and,
    thin and dotted, the BatchNorm network's accuracy as ``fit`` reports it (with batch
    statistics); a run whose loss became NaN ends with an x and says so (``result`` from
    :func:`batchnorm_accuracy`)."""
    scales = result["scales"]
    epochs = result["epochs"]
    columns = 4
    rows = -(-len(scales) // columns)
    fig = new_figure(figsize=(13, 2.35 * rows + 1.4))
    for i, scale in enumerate(scales):
        ax = fig.add_subplot(rows, columns, i + 1)
        fit_curve = 100 * result["fit_accuracy"]["batchnorm"][i]
        ax.plot(
            epochs[1:],
            fit_curve,
            ":",
            color=NETWORK_STYLES["batchnorm"]["color"],
            linewidth=1.2,
            label="with BatchNorm, as fit reports it (batch statistics, during the epoch)",
        )
        final = []
        for name, style in NETWORK_STYLES.items():
            curve = 100 * result["accuracy"][name][i]
            ax.plot(epochs, curve, linewidth=1.8, **style)
            diverged = diverged_epoch(curve)
            if diverged is None:
                final.append(f"{curve[-1]:.0f}%")
                continue
            last = diverged - 1  # the last epoch that ended with a finite loss
            x = epochs[last], curve[last]
            ax.plot(*x, "x", color=style["color"], markersize=9, clip_on=False)
            ax.text(
                0.05,
                0.93,
                f"{style['label']}:\nloss NaN in epoch {diverged}",
                transform=ax.transAxes,
                color=style["color"],
                fontsize=8,
                va="top",
            )
            final.append("diverged")
        ax.set_title(f"W std {scale:.2g}: with {final[0]}, without {final[1]}", fontsize=9.5)
        ax.set_ylim(0, 105)
        ax.set_xlim(epochs[0], epochs[-1])
        ax.set_xticks(np.linspace(epochs[0], epochs[-1], 5).round().astype(int).tolist())
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        if i % columns == 0:
            ax.set_ylabel("training accuracy (%)", fontsize=9)
        else:
            ax.tick_params(labelleft=False)
        if i >= len(scales) - columns:
            ax.set_xlabel("epoch", fontsize=9)
        else:
            ax.tick_params(labelbottom=False)
    sizes = "-".join(map(str, result["sizes"]))
    fig.suptitle(
        f"Accuracy on the {result['n_train']:,} training images (first of MNIST) by initial "
        f"weights W ~ N(0, 1) x std\n{sizes} ReLU network, SGD lr {result['lr']:g}, "
        f"mini-batch {result['batch_size']}"
    )
    handles, labels = fig.axes[0].get_legend_handles_labels()
    order = [1, 2, 0]  # the two networks first, then the dotted line
    fig.legend(
        [handles[k] for k in order],
        [labels[k] for k in order],
        loc="upper center",
        ncol=3,
        bbox_to_anchor=(0.5, 0.94),
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return fig


# --- the chapter -----------------------------------------------------------------------


def run() -> dict[str, Any]:
    """The chapter's numbers: :func:`batchnorm_accuracy` with DLFS's settings."""
    return batchnorm_accuracy()


def figures(result: dict[str, Any]) -> dict[str, Figure]:
    """The chapter's figure, by file name."""
    return {"batchnorm.png": batchnorm_accuracy_figure(result)}


def summary(result: dict[str, Any]) -> str:
    """One line per weight scale: the training accuracy with and without BatchNorm after
    epoch 5 and the last, or the epoch in which the loss became NaN."""
    lines = []
    for i, scale in enumerate(result["scales"]):
        columns = []
        for name, label in (("batchnorm", "with BatchNorm"), ("plain", "without")):
            curve = result["accuracy"][name][i]
            diverged = diverged_epoch(curve)
            if diverged is None:
                columns.append(f"{label} {curve[5]:6.1%} {curve[-1]:6.1%}")
            else:
                columns.append(f"{label} loss NaN in epoch {diverged}")
        lines.append(f"weights std {scale:<8.2g} " + "; ".join(columns))
    epochs = result["epochs"][[5, -1]]
    head = f"training accuracy after epochs {epochs[0]} and {epochs[1]}:"
    return "\n".join([head, *lines])


CHAPTER = Chapter(
    name="batchnorm",
    title="batch normalization: training accuracy with and without, weight std 1 to 1e-4",
    page="08-batch-normalization.md",
    run=run,
    figures=figures,
    summary=summary,
)
