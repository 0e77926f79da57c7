"""Chapter 9, overfitting (DLFS 6.4): the training and test accuracy, epoch by epoch, of a
deep network trained on 300 MNIST images, plain, with dropout and with weight decay (DLFS
figures 6-20, 6-21 and 6-23); its figure and its summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._typing import Array
from ..datasets import load_mnist
from ..model import mlp
from ..optimizers import SGD
from ..plots import new_figure
from .batchnorm import EpochAccuracy
from .chapter import Chapter

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SETTINGS = ("plain", "dropout", "weight decay")


def overfitting_curves(
    dropout: float = 0.2,
    weight_decay: float = 0.1,
    epochs: int = 300,
    n_train: int = 300,
    n_test: int = 1000,
    hidden: tuple[int, ...] = (100, 100, 100, 100, 100, 100),
    batch_size: int = 100,
    lr: float = 0.01,
    seed: int = 0,
) -> dict[str, Any]:
    """Train the ReLU network 784 -> hidden -> 10 (He initial weights, softmax) three times
    from the same weights, by SGD (``lr``) on mini-batches of ``batch_size`` from the first
    ``n_train`` MNIST training images, for ``epochs`` epochs: "plain"; "dropout", a Dropout
    of rate ``dropout`` after every hidden ReLU; "weight decay", L2 regularisation
    ``SGD(weight_decay=weight_decay)`` (the gradient of weight_decay / 2 * ||W||^2 added to
    every W).

    Parameters
    ----------
    dropout : float
        The "dropout" run's rate, in [0, 1).
    weight_decay : float
        The "weight decay" run's L2 coefficient.
    epochs : int
        Training epochs per run.
    n_train : int
        The number of MNIST training images used (the first ones).
    n_test : int
        The number of MNIST test images scored (the first ones).
    hidden : tuple of int
        The hidden layers' widths.
    batch_size : int
        The mini-batch size.
    lr : float
        SGD's learning rate.
    seed : int
        Seeds the weights (the same for the three runs), the shuffles and the masks.

    Returns
    -------
    dict
        ``"train"``: ``{setting: array (epochs + 1,)}``, the accuracy on the n_train
        training images as ``predict`` sees them (dropout off), before training and after
        each epoch; ``"test"``: the same on the first ``n_test`` test images (``fit``'s
        ``validation_data``); ``"epochs"``: (epochs + 1,) 0 to epochs; ``"settings"``:
        ``{setting: {"dropout": float, "weight_decay": float}}``; ``"sizes"``
        (``[784, *hidden, 10]``), ``"n_train"``, ``"n_test"``, ``"batch_size"``, ``"lr"``.
    """
    (X, y), (X_test, y_test) = load_mnist()
    X, y = X[:n_train], y[:n_train]
    X_test, y_test = X_test[:n_test], y_test[:n_test]
    sizes = [784, *hidden, 10]
    settings = {
        "plain": {"dropout": 0.0, "weight_decay": 0.0},
        "dropout": {"dropout": dropout, "weight_decay": 0.0},
        "weight decay": {"dropout": 0.0, "weight_decay": weight_decay},
    }
    train, test = {}, {}
    for name, s in settings.items():
        model = mlp(sizes, "relu", "softmax", dropout=s["dropout"], seed=seed)
        record = EpochAccuracy(model, X, y)  # the training images, dropout off
        before = model.evaluate(X_test, y_test)["accuracy"]
        history = model.fit(
            X,
            y,
            optimizer=SGD(lr=lr, weight_decay=s["weight_decay"]),
            epochs=epochs,
            batch_size=batch_size,
            validation_data=(X_test, y_test),
            seed=seed,
            callbacks=[record],
        )
        train[name] = np.array(record.accuracy)
        test[name] = np.array([before, *history["val_accuracy"]])
    return {
        "train": train,
        "test": test,
        "epochs": np.arange(epochs + 1),
        "settings": settings,
        "sizes": sizes,
        "n_train": n_train,
        "n_test": n_test,
        "batch_size": batch_size,
        "lr": lr,
    }


def train_test_gap(result: dict[str, Any], setting: str, last: int | None = 50) -> float:
    """The training accuracy minus the test accuracy of ``setting``, averaged over the
    ``last`` epochs (one epoch's value moves by a point or two from epoch to epoch), or with
    ``last=None`` over every epoch of the run (epoch 0, before training, left out).

    Parameters
    ----------
    result : dict
        What :func:`numpynn.lab.overfitting_curves` returns.
    setting : str
        ``"plain"``, ``"dropout"`` or ``"weight decay"``.
    last : int, optional
        The number of final epochs averaged (None: all but epoch 0).

    Returns
    -------
    float
        The mean gap, a fraction (0.1: 10 points of accuracy).

    Raises
    ------
    KeyError
        For a ``setting`` not in ``result``.
    ValueError
        For a ``last`` below 1.
    """
    if last is not None and last < 1:
        raise ValueError(f"last must be at least 1 epoch (or None for all), got {last!r}")
    gap: Array = result["train"][setting] - result["test"][setting]
    return float(gap[1:].mean() if last is None else gap[-last:].mean())


# --- the figure ------------------------------------------------------------------------


SETTING_COLORS = {"plain": "tab:red", "dropout": "tab:blue", "weight decay": "tab:green"}


def overfitting_curves_figure(result: dict[str, Any], last: int = 50) -> Figure:
    """One panel per setting (plain, dropout, weight decay): the training accuracy (solid)
    and the test accuracy (dashed) after each epoch, titled with the gap between them over
    the ``last`` epochs (``result`` from :func:`overfitting_curves`)."""
    epochs = result["epochs"]
    names = list(result["train"])
    fig = new_figure(figsize=(14, 4.6))
    for k, name in enumerate(names):
        ax = fig.add_subplot(1, len(names), k + 1)
        color = SETTING_COLORS.get(name)
        train, test = 100 * result["train"][name], 100 * result["test"][name]
        ax.plot(epochs, train, color=color, linewidth=1.8, label="training images")
        ax.plot(epochs, test, "--", color=color, linewidth=1.8, label="test images")
        ax.fill_between(epochs, test, train, color=color, alpha=0.1, linewidth=0)
        s = result["settings"][name]
        what = {
            "plain": "plain",
            "dropout": f"dropout {s['dropout']:g}",
            "weight decay": f"weight decay {s['weight_decay']:g}",
        }.get(name, name)
        gap = 100 * train_test_gap(result, name, last)
        ax.set_title(
            f"{what}: train {train[-1]:.0f}%, test {test[-1]:.0f}%\n"
            f"gap {gap:.1f} points (mean of the last {last} epochs)",
            fontsize=10,
        )
        ax.set_ylim(0, 102)
        ax.set_xlim(epochs[0], epochs[-1])
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9, loc="lower right")
    sizes = "-".join(map(str, result["sizes"]))
    fig.suptitle(
        f"Overfitting: {result['n_train']} MNIST training images, accuracy on them and on "
        f"{result['n_test']:,} test images; {sizes} ReLU network, SGD lr {result['lr']:g}, "
        f"mini-batch {result['batch_size']}"
    )
    fig.tight_layout()
    return fig


# --- the chapter -----------------------------------------------------------------------


def run() -> dict[str, Any]:
    """The chapter's numbers: :func:`overfitting_curves` with DLFS's settings."""
    return overfitting_curves()


def figures(result: dict[str, Any]) -> dict[str, Figure]:
    """The chapter's figure, by file name."""
    return {"overfitting.png": overfitting_curves_figure(result)}


def summary(result: dict[str, Any]) -> str:
    """One line per setting: the final training and test accuracy and the gap between them,
    over the last 50 epochs and over the run."""
    lines = [f"accuracy after {result['epochs'][-1]} epochs, and the gap over the last 50:"]
    for name in result["train"]:
        train, test = result["train"][name], result["test"][name]
        lines.append(
            f"{name:<13} train {train[-1]:6.1%}  test {test[-1]:6.1%}  "
            f"gap {train_test_gap(result, name):.3f}; mean gap over all epochs "
            f"{train_test_gap(result, name, last=None):.3f}"
        )
    return "\n".join(lines)


CHAPTER = Chapter(
    name="overfitting",
    title="overfitting: train vs test accuracy on 300 images, dropout, weight decay",
    page="09-overfitting.md",
    run=run,
    figures=figures,
    summary=summary,
)
