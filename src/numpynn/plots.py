"""PNG figures of a training run and of the activation functions (matplotlib, headless).

Uses matplotlib's object API (``Figure``), never pyplot: no display, no global state, safe in
scripts and tests. Every function writes one PNG atomically and returns its path.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .atomic import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PathLike = str | os.PathLike[str]


def plot_history(history: Mapping[str, Sequence[float]], path: PathLike) -> Path:
    """Loss (left) and accuracy (right) per epoch, training and validation.

    ``history`` maps "loss", "accuracy", "val_loss", "val_accuracy" to one value per epoch
    (the accuracy panel is left out when there is no accuracy)."""
    has_accuracy = "accuracy" in history or "val_accuracy" in history
    fig = _figure(figsize=(10 if has_accuracy else 5.5, 4))
    panels = [("loss", "Loss")] + ([("accuracy", "Accuracy")] if has_accuracy else [])
    for i, (key, title) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for name, label, style in ((key, "training", "o-"), ("val_" + key, "validation", "s--")):
            values = history.get(name)
            if values:
                ax.plot(range(1, len(values) + 1), values, style, label=label, markersize=4)
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return _save(fig, path)


def plot_confusion_matrix(C: npt.ArrayLike, labels: Sequence[str], path: PathLike) -> Path:
    """The confusion matrix C: (n_classes, n_classes) (rows true class, columns predicted) as a
    heat map with the counts written in each cell."""
    C = np.asarray(C)
    n = len(C)
    fig = _figure(figsize=(1.5 + 0.6 * n, 1.0 + 0.55 * n))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(C, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    threshold = C.max() / 2 if C.size else 0
    for i in range(n):
        for j in range(n):
            color = "white" if C[i, j] > threshold else "black"
            ax.text(j, i, str(C[i, j]), ha="center", va="center", color=color, fontsize=8)
    ax.set_xticks(range(n), labels, rotation=45 if max(map(len, labels)) > 2 else 0, ha="right")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(C) / max(C.sum(), 1)
    ax.set_title(f"Confusion matrix ({C.sum()} samples, accuracy {accuracy:.2%})")
    fig.tight_layout()
    return _save(fig, path)


def plot_misclassified(
    images: npt.ArrayLike,
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    labels: Sequence[str],
    path: PathLike,
    max_images: int = 36,
) -> Path:
    """A grid of up to ``max_images`` images: (n, height, width) greyscale in [0, 1], each
    titled with its predicted and true class, e.g. the misclassified test digits."""
    images = np.asarray(images)
    n_total = len(images)
    images = images[:max_images]
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    n = len(images)
    columns = min(max(n, 1), 9)
    rows = max(1, -(-n // columns))
    fig = _figure(figsize=(1.3 * columns, 1.6 * rows + 0.5))
    for k in range(n):
        ax = fig.add_subplot(rows, columns, k + 1)
        ax.imshow(images[k], cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"{labels[y_pred[k]]}\ntrue: {labels[y_true[k]]}", fontsize=8, color="darkred")
        ax.axis("off")
    shown = f" (first {n} of {n_total})" if n < n_total else ""
    fig.suptitle(
        f"Misclassified test images{shown}: the predicted class above the true one"
        if n
        else "No misclassified test images",
        fontsize=10,
    )
    fig.tight_layout()
    return _save(fig, path)


def plot_activations(path: PathLike) -> Path:
    """Every activation function of :mod:`numpynn.layers` and its derivative on [-5, 5].

    Derivatives are the layers' own ``backward`` applied to ones, so the figure shows exactly
    what backpropagation uses. Softmax, a function of a whole row, is drawn for the row (x, 0),
    where its first output is the sigmoid of x."""
    from .layers import ACTIVATION_LAYERS, activation_layer

    x = np.linspace(-5, 5, 1001).reshape(-1, 1)
    names = list(ACTIVATION_LAYERS)
    columns = 4
    rows = -(-len(names) // columns)
    fig = _figure(figsize=(3.4 * columns, 2.9 * rows))
    for k, name in enumerate(names):
        layer = activation_layer(name)
        if name == "softmax":
            row = np.hstack([x, np.zeros_like(x)])
            y = layer.forward(row)
            dy = layer.backward(np.hstack([np.ones_like(x), np.zeros_like(x)]))[:, :1]
            y, title = y[:, :1], "softmax of (x, 0), first output"
        else:
            y = layer.forward(x)
            dy = layer.backward(np.ones_like(x))
            title = name
        ax = fig.add_subplot(rows, columns, k + 1)
        ax.plot(x, y, label="h(x)", linewidth=2)
        ax.plot(x, dy, "--", label="h'(x)", linewidth=1.5)
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.axvline(0, color="grey", linewidth=0.5)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle("Activation functions h(x) and their derivatives h'(x)")
    fig.tight_layout()
    return _save(fig, path)


def plot_decision_boundary(
    predict: Any, X: npt.ArrayLike, y: npt.ArrayLike, path: PathLike, title: str = ""
) -> Path:
    """The regions a 2-D classifier assigns to each class, with the samples on top.

    ``predict`` maps points (n, 2) to labels (n,); X: (n_samples, 2), y: (n_samples,)."""
    X, y = np.asarray(X), np.asarray(y)
    margin = 0.5
    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(X.dtype)
    regions = np.asarray(predict(grid)).reshape(gx.shape)
    fig = _figure(figsize=(5.5, 5))
    ax = fig.add_subplot(1, 1, 1)
    ax.contourf(gx, gy, regions, alpha=0.3, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=12, edgecolors="k", linewidths=0.3)
    ax.set_title(title or "Decision boundary")
    fig.tight_layout()
    return _save(fig, path)


def _figure(figsize: tuple[float, float]) -> Figure:
    from matplotlib.figure import Figure  # lazy: the library never needs matplotlib

    return Figure(figsize=figsize, dpi=100)


def _save(fig: Figure, path: PathLike) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    path = Path(path)
    with atomic_write(path) as f:
        f.write(buffer.getvalue())
    return path
