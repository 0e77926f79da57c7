"""PNG figures of a training run and of the activation functions (matplotlib, headless).

Uses matplotlib's object API (``Figure``), never pyplot: no display, no global state, safe in
scripts and tests. Each ``*_figure`` function returns the ``Figure`` (tests inspect its axes);
each ``plot_*`` function writes it as one PNG atomically (:func:`save_figure`) and returns its
path. :func:`new_figure` and :func:`save_figure` are the two steps every figure of numpynn
takes, the learning path's (:mod:`numpynn.lab`) included.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ._typing import Array
from .atomic import atomic_write
from .epochs import one_based
from .layers import Dense

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .model import Sequential

PathLike = str | os.PathLike[str]


MARKERS_UP_TO = 40  # epochs: more than this, and the curves are lines without markers


def history_figure(
    history: Mapping[str, Sequence[float]],
    *,
    title: str = "",
    loss_name: str = "",
    best_epoch: int | None = None,
    test_accuracy: float | None = None,
) -> Figure:
    """Loss (left) and accuracy in % (right) per epoch, training and validation.

    ``history`` maps "loss", "accuracy", "val_loss", "val_accuracy" to one value per epoch
    (the accuracy panel is left out when there is no accuracy). ``best_epoch`` (from 1), the
    epoch whose weights the final model holds, is marked on the validation curves, with
    ``test_accuracy`` (a fraction) beside it. Epochs beyond 40 are drawn without markers.

    Parameters
    ----------
    history : mapping of str to sequence of float
        One value per epoch under ``"loss"``, ``"accuracy"``, ``"val_loss"``,
        ``"val_accuracy"`` (any may be missing), e.g. what ``fit`` returns.
    title : str
        The figure's title ("": none).
    loss_name : str
        The loss's name in the loss axis's label ("": none).
    best_epoch : int, optional
        The epoch (from 1) to mark; none if None or out of range.
    test_accuracy : float, optional
        The final model's test accuracy (a fraction), marked at ``best_epoch``.

    Returns
    -------
    matplotlib.figure.Figure
        One panel (loss) or two (loss, accuracy in %).
    """
    return histories_figure(
        {"": history},
        title=title,
        loss_name=loss_name,
        best_epoch=best_epoch,
        test_accuracy=test_accuracy,
    )


def histories_figure(
    runs: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    title: str = "",
    loss_name: str = "",
    best_epoch: int | None = None,
    test_accuracy: float | None = None,
) -> Figure:
    """The curves of several runs ({name: history}) overlaid, one colour per run: training
    solid, validation dashed. One run named "" is drawn as :func:`history_figure` says.

    Parameters
    ----------
    runs : mapping of str to mapping
        ``{name: history}``, each history as :func:`numpynn.plots.history_figure` takes it.
    title, loss_name, best_epoch, test_accuracy
        As :func:`numpynn.plots.history_figure`; ``best_epoch`` is marked only for one run.

    Returns
    -------
    matplotlib.figure.Figure
        One panel (loss) or two (loss, accuracy in %).
    """
    from matplotlib.ticker import MaxNLocator

    has_accuracy = any("accuracy" in h or "val_accuracy" in h for h in runs.values())
    fig = new_figure(figsize=(11 if has_accuracy else 6, 4.3))
    panels = [("loss", "loss" + (f" ({loss_name})" if loss_name else ""), 1.0)]
    if has_accuracy:
        panels.append(("accuracy", "accuracy (%)", 100.0))
    colours = ["C0", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9"]
    for i, (key, ylabel, scale) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for r, (run, history) in enumerate(runs.items()):
            n_epochs = max((len(history.get(k, [])) for k in (key, "val_" + key)), default=0)
            marker = n_epochs <= MARKERS_UP_TO
            for name, kind, style, point in (
                (key, "training", "-", "o"),
                ("val_" + key, "validation", "--", "s"),
            ):
                values = history.get(name)
                if not values:
                    continue
                colour = (
                    colours[r % len(colours)] if run else ("C0" if kind == "training" else "C1")
                )
                ax.plot(
                    [one_based(e) for e in range(len(values))],  # epochs as read, from 1
                    np.asarray(values, dtype=float) * scale,
                    style,
                    color=colour,
                    marker=point if marker else None,
                    markersize=3.5,
                    linewidth=1.5,
                    label=f"{run}: {kind}" if run else kind,
                )
        if best_epoch is not None and len(runs) == 1:
            _mark_best(ax, next(iter(runs.values())), key, scale, best_epoch, test_accuracy)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epoch 2, never 1.2
        ax.set_ylabel(ylabel)
        ax.set_title("Accuracy" if key == "accuracy" else "Loss")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _mark_best(
    ax: Any,
    history: Mapping[str, Sequence[float]],
    key: str,
    scale: float,
    best_epoch: int,
    test_accuracy: float | None,
) -> None:
    """A star at ``best_epoch`` on the validation curve and, on the accuracy panel, the test
    accuracy of the final model at that epoch."""
    values = history.get("val_" + key) or history.get(key)
    if not values or not 1 <= best_epoch <= len(values):
        return
    y = values[best_epoch - 1] * scale
    ax.plot(
        [best_epoch],
        [y],
        "*",
        color="C3",
        markersize=13,
        zorder=5,
        label=f"final weights: epoch {best_epoch}",
    )
    if key == "accuracy" and test_accuracy is not None:
        ax.plot(
            [best_epoch],
            [test_accuracy * scale],
            "D",
            color="k",
            markersize=6,
            zorder=5,
            label=f"test accuracy {test_accuracy:.2%}",
        )


def plot_history(
    history: Mapping[str, Sequence[float]],
    path: PathLike,
    *,
    title: str = "",
    loss_name: str = "",
    best_epoch: int | None = None,
    test_accuracy: float | None = None,
) -> Path:
    """:func:`history_figure` as a PNG at ``path``.

    Parameters
    ----------
    history, title, loss_name, best_epoch, test_accuracy
        As :func:`numpynn.plots.history_figure`.
    path : str or os.PathLike
        The file to write; its suffix names the format (PNG without one).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        For a suffix matplotlib cannot write (:func:`numpynn.plots.save_figure`).
    PathError
        For a path that cannot be written (:class:`numpynn.PathError`).
    """
    figure = history_figure(
        history,
        title=title,
        loss_name=loss_name,
        best_epoch=best_epoch,
        test_accuracy=test_accuracy,
    )
    return save_figure(figure, path)


def plot_histories(
    runs: Mapping[str, Mapping[str, Sequence[float]]], path: PathLike, *, title: str = ""
) -> Path:
    """:func:`histories_figure` (several runs overlaid) as a PNG at ``path``.

    Parameters
    ----------
    runs, title
        As :func:`numpynn.plots.histories_figure`.
    path : str or os.PathLike
        The file to write; its suffix names the format (PNG without one).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        For a suffix matplotlib cannot write (:func:`numpynn.plots.save_figure`).
    PathError
        For a path that cannot be written (:class:`numpynn.PathError`).
    """
    return save_figure(histories_figure(runs, title=title), path)


def confusion_figure(C: npt.ArrayLike, labels: Sequence[str], *, title: str = "") -> Figure:
    """The confusion matrix C: (n_classes, n_classes) (rows true class, columns predicted) with
    the counts in each cell. The errors (off the diagonal) are coloured on their own scale, so
    a few confusions stand out beside the large diagonal; the diagonal is drawn in grey.

    Parameters
    ----------
    C : array_like
        (n_classes, n_classes) counts, e.g. from :func:`numpynn.metrics.confusion_matrix`.
    labels : sequence of str
        The n_classes class names, in order.
    title : str
        Put before "confusion matrix" in the title ("": nothing).

    Returns
    -------
    matplotlib.figure.Figure
        One panel, titled with the number of samples and the accuracy.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.ticker import MaxNLocator

    C = np.asarray(C)
    n = len(C)
    diagonal = np.eye(n, dtype=bool)
    errors = np.ma.masked_array(C, mask=diagonal)
    fig = new_figure(figsize=(max(5.6, 2.2 + 0.62 * n), max(4.4, 1.4 + 0.55 * n)))
    ax = fig.add_subplot(1, 1, 1)
    most = int(errors.max()) if errors.count() and errors.max() > 0 else 1
    image = ax.imshow(errors, cmap="Reds", vmin=0, vmax=most)
    ax.imshow(np.ma.masked_array(C, mask=~diagonal), cmap=ListedColormap(["#d9d9d9"]))
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="errors (off-diagonal counts)")
    bar.locator = MaxNLocator(integer=True)
    bar.update_ticks()
    for i in range(n):
        for j in range(n):
            value = int(C[i, j])
            if i == j:
                color, weight = "black", "bold"
            else:
                color = "white" if value > most / 2 else ("black" if value else "#aaaaaa")
                weight = "normal"
            ax.text(
                j,
                i,
                str(value),
                ha="center",
                va="center",
                color=color,
                fontsize=8,
                fontweight=weight,
            )
    ax.set_xticks(range(n), labels, rotation=45 if max(map(len, labels)) > 2 else 0, ha="right")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(C) / max(C.sum(), 1)
    heading = f"{title}: " if title else ""
    ax.set_title(
        f"{heading}confusion matrix\n{C.sum()} samples, accuracy {accuracy:.2%}; "
        "errors coloured, diagonal grey",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def plot_confusion_matrix(
    C: npt.ArrayLike, labels: Sequence[str], path: PathLike, *, title: str = ""
) -> Path:
    """:func:`confusion_figure` as a PNG at ``path``.

    Parameters
    ----------
    C, labels, title
        As :func:`numpynn.plots.confusion_figure`.
    path : str or os.PathLike
        The file to write; its suffix names the format (PNG without one).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        For a suffix matplotlib cannot write (:func:`numpynn.plots.save_figure`).
    PathError
        For a path that cannot be written (:class:`numpynn.PathError`).
    """
    return save_figure(confusion_figure(C, labels, title=title), path)


def misclassified_figure(
    images: npt.ArrayLike,
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    labels: Sequence[str],
    *,
    probabilities: npt.ArrayLike | None = None,
    max_images: int = 36,
    title: str = "",
) -> Figure:
    """A grid of up to ``max_images`` images: (n, height, width) greyscale in [0, 1], each
    titled with its predicted class (and its predicted probability, ``probabilities``: (n,))
    above the true class, e.g. the misclassified test digits.

    Parameters
    ----------
    images : array_like
        (n, height, width) greyscale images, values in [0, 1].
    y_true, y_pred : array_like
        (n,) int class ids: the true and the predicted classes.
    labels : sequence of str
        The class names, indexed by class id.
    probabilities : array_like, optional
        (n,): each image's predicted probability.
    max_images : int
        The most images drawn (the first ones).
    title : str
        Put before the figure's title ("": nothing).

    Returns
    -------
    matplotlib.figure.Figure
        Up to 9 images a row.
    """
    images = np.asarray(images)
    n_total = len(images)
    images = images[:max_images]
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    p = None if probabilities is None else np.asarray(probabilities)
    n = len(images)
    columns = min(max(n, 1), 9)
    rows = max(1, -(-n // columns))
    fig = new_figure(figsize=(1.55 * columns, 1.95 * rows + 0.6))
    for k in range(n):
        ax = fig.add_subplot(rows, columns, k + 1)
        ax.imshow(images[k], cmap="gray_r", vmin=0, vmax=1)
        said = f"{labels[y_pred[k]]}" + ("" if p is None else f" ({p[k]:.2f})")
        ax.set_title(f"{said}\ntrue {labels[y_true[k]]}", fontsize=11, color="darkred")
        ax.axis("off")
    shown = f" (first {n} of {n_total})" if n < n_total else ""
    what = (
        "predicted class (its probability) above the true one"
        if p is not None
        else ("predicted class above the true one")
    )
    heading = f"{title}: " if title else ""
    fig.suptitle(
        f"{heading}misclassified test images{shown}: {what}"
        if n
        else f"{heading}no misclassified test images",
        fontsize=11,
    )
    fig.tight_layout()
    return fig


def plot_misclassified(
    images: npt.ArrayLike,
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    labels: Sequence[str],
    path: PathLike,
    max_images: int = 36,
    *,
    probabilities: npt.ArrayLike | None = None,
    title: str = "",
) -> Path:
    """:func:`misclassified_figure` as a PNG at ``path``.

    Parameters
    ----------
    images, y_true, y_pred, labels, max_images, probabilities, title
        As :func:`numpynn.plots.misclassified_figure`.
    path : str or os.PathLike
        The file to write; its suffix names the format (PNG without one).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        For a suffix matplotlib cannot write (:func:`numpynn.plots.save_figure`).
    PathError
        For a path that cannot be written (:class:`numpynn.PathError`).
    """
    figure = misclassified_figure(
        images,
        y_true,
        y_pred,
        labels,
        probabilities=probabilities,
        max_images=max_images,
        title=title,
    )
    return save_figure(figure, path)


def activations_figure() -> Figure:
    """Every activation function of :mod:`numpynn.layers` and its derivative on [-5, 5].

    Derivatives are the layers' own ``backward`` applied to ones, so the figure shows exactly
    what backpropagation uses. Softmax, a function of a whole row, is drawn for the row (x, 0),
    where its first output is the sigmoid of x. Leaky ReLU's small slope for x < 0 is shown
    enlarged in an inset."""
    from .layers import ACTIVATION_LAYERS, LeakyReLU, activation_layer

    x = np.linspace(-5, 5, 1001).reshape(-1, 1)
    names = list(ACTIVATION_LAYERS)
    columns = 4
    rows = -(-len(names) // columns)
    fig = new_figure(figsize=(3.6 * columns, 3.2 * rows))
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
        ax.set_xlabel("x", fontsize=9)
        ax.set_ylabel("h(x), h'(x)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
        if isinstance(layer, LeakyReLU):
            _leaky_inset(ax, x, y, dy, layer.alpha)
    fig.suptitle("Activation functions h(x) and their derivatives h'(x)")
    fig.tight_layout()
    return fig


def _leaky_inset(ax: Any, x: Any, y: Any, dy: Any, alpha: float) -> None:
    """Leaky ReLU for x < 0, enlarged: the slope alpha that keeps its gradient alive."""
    left = x[:, 0] <= 0
    inset = ax.inset_axes([0.12, 0.3, 0.36, 0.34])  # the empty upper left: x < 0, h(x) > 1
    inset.plot(x[left, 0], y[left, 0], linewidth=1.5)
    inset.plot(x[left, 0], dy[left, 0], "--", linewidth=1.2)
    inset.axhline(0, color="grey", linewidth=0.5)
    inset.set_ylim(-6 * alpha, 2 * alpha)
    inset.set_title(f"x < 0, enlarged: slope {alpha:g}", fontsize=7)
    inset.tick_params(labelsize=6)


def plot_activations(path: PathLike) -> Path:
    """:func:`activations_figure` as a PNG at ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its suffix names the format (PNG without one).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        For a suffix matplotlib cannot write (:func:`numpynn.plots.save_figure`).
    PathError
        For a path that cannot be written (:class:`numpynn.PathError`).
    """
    return save_figure(activations_figure(), path)


def decision_boundary_figure(
    predict: Any,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    X_test: npt.ArrayLike | None = None,
    y_test: npt.ArrayLike | None = None,
    labels: Sequence[str] | None = None,
    title: str = "",
) -> Figure:
    """The regions a 2-D classifier assigns to each class, with the samples on top: the
    training samples X: (n, 2), y: (n,) as circles, the test samples as triangles.

    ``predict`` maps points (m, 2) to labels (m,); ``labels`` names the classes.

    Parameters
    ----------
    predict : callable
        Points (m, 2) -> int class ids (m,), e.g. a model's ``predict``; called once on a
        300 x 300 grid over the samples plus 0.5 on each side.
    X : array_like
        (n, 2): the training samples.
    y : array_like
        (n,): their int class ids.
    X_test, y_test : array_like, optional
        (n_test, 2) and (n_test,): test samples, drawn as triangles.
    labels : sequence of str, optional
        The class names, indexed by class id (default ``"0"``, ``"1"``, ...).
    title : str
        The panel's title (default "Decision boundary").

    Returns
    -------
    matplotlib.figure.Figure
        One panel, the regions coloured by class (five colours, repeated past five).
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    X, y = np.asarray(X), np.asarray(y)
    points = X if X_test is None else np.vstack([X, np.asarray(X_test)])
    classes = np.unique(np.concatenate([y, [] if y_test is None else np.asarray(y_test)]))
    n_classes = max(int(classes.max()) + 1 if classes.size else 1, 2)
    names = list(labels) if labels is not None else [str(k) for k in range(n_classes)]
    region_colours = ["#fcae91", "#9ecae1", "#a1d99b", "#dadaeb", "#fdd0a2"]  # class 0 red, 1 blue
    point_colours = ["#a50f15", "#08519c", "#006d2c", "#54278f", "#a63603"]
    margin = 0.5
    (x0, y0), (x1, y1) = points.min(axis=0) - margin, points.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(X.dtype)
    regions = np.asarray(predict(grid)).reshape(gx.shape)
    fig = new_figure(figsize=(6.2, 5.4))
    ax = fig.add_subplot(1, 1, 1)
    cmap = ListedColormap([region_colours[k % 5] for k in range(n_classes)])
    ax.contourf(gx, gy, regions, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.8)
    handles: list[Any] = []
    for k in range(n_classes):
        handles.append(Patch(color=region_colours[k % 5], label=f"region of {names[k]}"))
    for data_X, data_y, marker, kind in ((X, y, "o", "training"), (X_test, y_test, "^", "test")):
        if data_X is None or data_y is None:
            continue
        data_X, data_y = np.asarray(data_X), np.asarray(data_y)
        for k in range(n_classes):
            mine = data_y == k
            if mine.any():
                handles.append(
                    ax.scatter(
                        data_X[mine, 0],
                        data_X[mine, 1],
                        color=point_colours[k % 5],
                        marker=marker,
                        s=22 if kind == "test" else 12,
                        edgecolors="k",
                        linewidths=0.4,
                        label=f"{names[k]} ({kind})",
                    )
                )
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(title or "Decision boundary", fontsize=10)
    ax.legend(handles=handles, fontsize=7, loc="upper right", framealpha=0.85)
    fig.tight_layout()
    return fig


def plot_decision_boundary(
    predict: Any,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    path: PathLike,
    title: str = "",
    *,
    X_test: npt.ArrayLike | None = None,
    y_test: npt.ArrayLike | None = None,
    labels: Sequence[str] | None = None,
) -> Path:
    """:func:`decision_boundary_figure` as a PNG at ``path``.

    Parameters
    ----------
    predict, X, y, title, X_test, y_test, labels
        As :func:`numpynn.plots.decision_boundary_figure`.
    path : str or os.PathLike
        The file to write; its suffix names the format (PNG without one).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        For a suffix matplotlib cannot write (:func:`numpynn.plots.save_figure`).
    PathError
        For a path that cannot be written (:class:`numpynn.PathError`).
    """
    figure = decision_boundary_figure(
        predict, X, y, X_test=X_test, y_test=y_test, labels=labels, title=title
    )
    return save_figure(figure, path)


def filters_figure(W: npt.ArrayLike, *, title: str = "") -> Figure:
    """The filters of a convolution, W: (C_out, C_in, k, k), one small grey picture each (of
    the first input channel), as in DLFS ch. 7: each scaled to its own range, light for large
    weights.

    Parameters
    ----------
    W : array_like
        (C_out, C_in, k, k): a convolution's weights, e.g. ``Conv2D.W``.
    title : str
        Put before the figure's title ("": nothing).

    Returns
    -------
    matplotlib.figure.Figure
        Up to 8 filters a row.
    """
    W = np.asarray(W)
    n = len(W)
    columns = min(n, 8)
    rows = -(-n // columns)
    fig = new_figure(figsize=(1.1 * columns, 1.1 * rows + 0.5))
    for k in range(n):
        ax = fig.add_subplot(rows, columns, k + 1)
        ax.imshow(W[k, 0], cmap="gray", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
    channels = "" if W.shape[1] == 1 else f", input channel 1 of {W.shape[1]}"
    heading = f"{title}: " if title else ""
    fig.suptitle(f"{heading}{n} filters, {W.shape[2]}x{W.shape[3]}{channels}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_filters(W: npt.ArrayLike, path: PathLike, *, title: str = "") -> Path:
    """:func:`filters_figure` as a PNG at ``path``.

    Parameters
    ----------
    W, title
        As :func:`numpynn.plots.filters_figure`.
    path : str or os.PathLike
        The file to write; its suffix names the format (PNG without one).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        For a suffix matplotlib cannot write (:func:`numpynn.plots.save_figure`).
    PathError
        For a path that cannot be written (:class:`numpynn.PathError`).
    """
    return save_figure(filters_figure(W, title=title), path)


def first_layer_images(model: Sequential, shape: tuple[int, int] = (28, 28)) -> Array:
    """The first layer's weights W: (height * width, n_hidden), of a model that starts with
    Dense, as n_hidden images (n_hidden, height, width) of ``shape``: image j holds the weight
    of each pixel in hidden unit j's weighted sum.

    Parameters
    ----------
    model : Sequential
        A model whose first layer with parameters is Dense.
    shape : tuple of (int, int)
        (height, width) of the input images.

    Returns
    -------
    array
        (n_hidden, height, width): a view of the weights, not a copy.

    Raises
    ------
    ValueError
        For a model whose first layer with parameters is not Dense (a convnet:
        :func:`numpynn.plots.filters_figure`), or a Dense that does not take
        height * width inputs.
    """
    first = next((layer for layer in model.layers if layer.params), None)
    if not isinstance(first, Dense):
        name = type(first).__name__ if first is not None else "no trainable layer"
        raise ValueError(f"the model's first trainable layer is {name}, not Dense")
    W = first.W
    if W.shape[0] != shape[0] * shape[1]:
        raise ValueError(
            f"the first Dense layer takes {W.shape[0]} inputs, not {shape[0]}x{shape[1]} pictures"
        )
    return W.T.reshape(W.shape[1], *shape)


def weights_figure(images: npt.ArrayLike, *, title: str, most: int = 100) -> Figure:
    """First-layer weights as pictures, images: (n_hidden, height, width), one per hidden unit
    (the first ``most``), as Nielsen and DLFS draw them: red positive, blue negative, white 0,
    each on its own symmetric scale, in a near-square grid under ``title``.

    Parameters
    ----------
    images : array_like
        (n_hidden, height, width), e.g. from :func:`numpynn.plots.first_layer_images`.
    title : str
        The figure's title.
    most : int
        The most images drawn (the first ones).

    Returns
    -------
    matplotlib.figure.Figure
        A near-square grid of images, each titled with its unit.
    """
    images = np.asarray(images)
    n = min(len(images), most)
    columns = int(np.ceil(np.sqrt(n)))
    rows = -(-n // columns)
    side = 1.3 if n <= 36 else 0.9
    fig = new_figure(figsize=(side * columns + 0.4, side * rows + 0.9))
    for j, image in enumerate(images[:n]):
        ax = fig.add_subplot(rows, columns, j + 1)
        scale = float(np.abs(image).max()) or 1.0
        ax.imshow(image, cmap="RdBu_r", vmin=-scale, vmax=scale)
        ax.set_title(f"unit {j}", fontsize=8 if n <= 36 else 6)
        ax.axis("off")
    height, width = images.shape[1:]
    per = (
        f"one {height}x{width} image per hidden unit"
        if n == len(images)
        else f"the first {n} of {len(images)} hidden units, {height}x{width} each"
    )
    fig.suptitle(
        f"{title}, {per}\nred: the pixel adds to the unit's sum, blue: it subtracts", fontsize=10
    )
    fig.tight_layout()
    return fig


def plot_weights(images: npt.ArrayLike, path: PathLike, *, title: str) -> Path:
    """:func:`weights_figure` as a PNG at ``path``.

    Parameters
    ----------
    images, title
        As :func:`numpynn.plots.weights_figure`.
    path : str or os.PathLike
        The file to write; its suffix names the format (PNG without one).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        For a suffix matplotlib cannot write (:func:`numpynn.plots.save_figure`).
    PathError
        For a path that cannot be written (:class:`numpynn.PathError`).
    """
    return save_figure(weights_figure(images, title=title), path)


def new_figure(figsize: tuple[float, float]) -> Figure:
    """An empty ``Figure`` of ``figsize`` inches at 100 dpi (the object API: no pyplot).

    Parameters
    ----------
    figsize : tuple of (float, float)
        (width, height) in inches.

    Returns
    -------
    matplotlib.figure.Figure
        A figure with no axes.

    Raises
    ------
    ImportError
        Without matplotlib (the ``cli`` extra installs it).
    """
    from matplotlib.figure import Figure  # lazy: the library never needs matplotlib

    return Figure(figsize=figsize, dpi=100)


def save_figure(fig: Figure, path: PathLike) -> Path:
    """Write ``fig`` at ``path`` atomically (a reader never sees half a file) in the format
    its suffix names, as matplotlib writes it (.png, .jpg, .pdf, .svg...; PNG for a name
    without a suffix); return the path.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or os.PathLike
        The file to write; its suffix names the format (PNG without one).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        Naming the path, for a suffix matplotlib cannot write.
    PathError
        For a path that cannot be written (:class:`numpynn.PathError`, :mod:`numpynn.paths`).
    """
    path = Path(path)
    kind = path.suffix[1:].lower() or "png"
    formats = fig.canvas.get_supported_filetypes()
    if kind not in formats:
        suffixes = ", ".join(f".{k}" for k in sorted(formats))
        raise ValueError(
            f"cannot write figure {path}: matplotlib cannot write .{kind} files; end the name "
            f"in one of {suffixes}"
        )
    buffer = io.BytesIO()
    fig.savefig(buffer, format=kind)
    with atomic_write(path, "figure") as f:
        f.write(buffer.getvalue())
    return path
