"""The learning path's figures, drawn from the experiments' results (matplotlib, headless).

Each ``plot_*`` function takes what its experiment returned, writes one PNG atomically and
returns the matplotlib ``Figure`` (to inspect or restyle). matplotlib is imported on the first
drawing, never by importing this module.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from .._typing import Array
from ..gates import AND_PERCEPTRON, NAND_PERCEPTRON, OR_PERCEPTRON
from ..plots import _figure, _save, confusion_figure, misclassified_figure
from .activations import activation_curves
from .batchnorm import diverged_epoch
from .optimizers import f, steps_to_reach
from .overfitting import train_test_gap

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PathLike = str | os.PathLike[str]

# One colour per optimiser in both optimiser figures (matplotlib's tab10).
OPTIMIZER_COLORS = {
    "SGD": "tab:blue",
    "Momentum": "tab:orange",
    "Nesterov": "tab:green",
    "AdaGrad": "tab:red",
    "RMSProp": "tab:purple",
    "Adam": "tab:brown",
}
ACTIVATION_COLORS = {
    "step": "tab:gray",
    "sigmoid": "tab:blue",
    "tanh": "tab:orange",
    "relu": "tab:green",
    "leaky_relu": "tab:red",
}
CLASS_COLORS = ("tab:red", "tab:blue")  # class 0, class 1


# --- chapter 1: perceptrons ------------------------------------------------------------


def plot_perceptrons(
    lines: dict[str, dict[str, Any]], learning: dict[str, dict[str, Any]], path: PathLike
) -> Figure:
    """Top row: the hand-set AND, OR, NAND perceptrons (the region where the output is 1
    shaded, their line w . x + b = 0) and XOR's two-layer regions. Bottom row: the line the
    learning rule reaches after each epoch for AND, OR and NAND, and the misclassified
    inputs per epoch for every gate (``lines`` from :func:`gate_lines`, ``learning`` from
    :func:`learning_rule`)."""
    fig = _figure(figsize=(14, 7.2))
    X = np.array([[0, 0], [1, 0], [0, 1], [1, 1]])
    gx, gy = np.meshgrid(np.linspace(-0.5, 1.5, 201), np.linspace(-0.5, 1.5, 201))
    for k, gate in enumerate(("and", "or", "nand", "xor")):
        ax = fig.add_subplot(2, 4, k + 1)
        if gate == "xor":
            regions = _xor_regions(gx, gy)
            title = "XOR = AND(NAND, OR): two layers"
        else:
            w, b = lines[gate]["w"], lines[gate]["b"]
            regions = (gx * w[0] + gy * w[1] + b > 0).astype(int)
            _line(ax, w, b, color="k", label="w . x + b = 0")
            title = f"{gate.upper()}: {_linear_text(w, b)} > 0"
        _shade(ax, regions)
        _gate_points(ax, X, lines[gate]["outputs"])
        _square(ax, title)
        if k == 0:
            ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
    for k, gate in enumerate(("and", "or", "nand")):
        ax = fig.add_subplot(2, 4, 5 + k)
        trace = learning[gate]
        last = trace["converged_epoch"] or len(trace["w"]) - 1
        shades = np.linspace(0.25, 1.0, last)
        for epoch in range(1, last + 1):
            w, b = trace["w"][epoch], trace["b"][epoch]
            final = epoch == last
            _line(
                ax,
                w,
                b,
                color=(0.1, 0.3, 0.7, shades[epoch - 1]),
                linewidth=2.5 if final else 1,
                label=f"epoch {epoch}" if final or epoch == 1 else None,
            )
        w, b = trace["w"][last], trace["b"][last]
        _shade(ax, (gx * w[0] + gy * w[1] + b > 0).astype(int))
        _gate_points(ax, X, lines[gate]["outputs"])
        done = trace["converged_epoch"]
        status = f"no mistakes after epoch {done}" if done else f"not converged in {last} epochs"
        _square(ax, f"{gate.upper()} learned: {_linear_text(w, b)} > 0\n({status})")
        ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
    ax = fig.add_subplot(2, 4, 8)
    for gate, trace in learning.items():
        ax.plot(trace["mistakes"], "o-", markersize=4, label=gate.upper())
    ax.set_xlabel("epoch of the perceptron learning rule")
    ax.set_ylabel("misclassified inputs (of 4)")
    ax.set_title("Mistakes per epoch: XOR never reaches 0", fontsize=10)
    ax.set_yticks(range(5))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle(
        "Perceptrons: output 1 where w1 x1 + w2 x2 + b > 0 (shaded; a point on the line gives 0);"
        " filled dots are the 1s of the truth table"
    )
    fig.tight_layout()
    _save(fig, path)
    return fig


def _linear_text(w: Array, b: float) -> str:
    """w1 x1 + w2 x2 + b as text: "0.5 x1 + 0.5 x2 - 0.7"."""
    text = f"{w[0]:g} x1"
    for value, name in ((w[1], " x2"), (b, "")):
        text += f" {'-' if value < 0 else '+'} {abs(value):g}{name}"
    return text


def _xor_regions(gx: Array, gy: Array) -> Array:
    """XOR of the two-layer perceptron network on a grid of real-valued inputs."""
    points = np.column_stack([gx.ravel(), gy.ravel()])
    hidden = np.column_stack([NAND_PERCEPTRON.predict(points), OR_PERCEPTRON.predict(points)])
    return AND_PERCEPTRON.predict(hidden).reshape(gx.shape)


def _shade(ax: Axes, regions: Array) -> None:
    """Shade the cells of the square [-0.5, 1.5]^2 where ``regions`` is 1."""
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(["white", "#cfe3f5"])
    extent = (-0.5, 1.5, -0.5, 1.5)
    ax.imshow(regions, extent=extent, origin="lower", cmap=cmap, vmin=0, vmax=1)


def _line(ax: Axes, w: Array, b: float, **style: Any) -> None:
    """The line w[0] x1 + w[1] x2 + b = 0 across the square [-0.5, 1.5]^2."""
    t = np.array([-0.5, 1.5])
    if w[1] != 0:
        ax.plot(t, -(w[0] * t + b) / w[1], **style)
    elif w[0] != 0:
        ax.plot([-b / w[0]] * 2, t, **style)


def _gate_points(ax: Axes, X: Array, outputs: Array) -> None:
    ones = np.asarray(outputs) == 1
    ax.scatter(X[ones, 0], X[ones, 1], s=80, c="tab:blue", edgecolors="k", zorder=3)
    ax.scatter(X[~ones, 0], X[~ones, 1], s=80, facecolors="white", edgecolors="k", zorder=3)


def _square(ax: Axes, title: str) -> None:
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylim(-0.5, 1.5)
    ax.set_aspect("equal")
    ax.set_xlabel("input x1")
    ax.set_ylabel("input x2")
    ax.set_title(title, fontsize=10)


# --- chapter 2: activation functions ---------------------------------------------------


def plot_activation_curves(
    curves: dict[str, dict[str, Array]], saturation: dict[str, Any], path: PathLike
) -> Figure:
    """The functions h(x), their derivatives h'(x), and the sigmoid with the inputs where it
    saturates shaded (``curves`` from :func:`activation_curves`, ``saturation`` from
    :func:`sigmoid_saturation`)."""
    fig = _figure(figsize=(14, 4.3))
    for k, (key, title, ylabel) in enumerate(
        (("h", "Activation functions h(x)", "h(x)"), ("dh", "Derivatives h'(x)", "h'(x)"))
    ):
        ax = fig.add_subplot(1, 3, k + 1)
        for name, c in curves.items():
            style = ":" if name == "leaky_relu" else "-"  # drawn over ReLU: keep ReLU visible
            color = ACTIVATION_COLORS.get(name)
            ax.plot(c["x"], c[key], style, label=name, color=color, linewidth=2)
        ax.set_ylim(*((-0.2, 1.2) if key == "dh" else (-1.2, 2.2)))
        _axes(ax, title, "input x", ylabel)
        ax.legend(fontsize=8, loc="upper left")
    ax = fig.add_subplot(1, 3, 3)
    x = np.linspace(-8, 8, 1601)
    sig = activation_curves(x, ("sigmoid",))["sigmoid"]
    edge = saturation["saturates_beyond"]
    ax.axvspan(-8, -edge, color="0.85")
    ax.axvspan(edge, 8, color="0.85", label=f"h'(x) < {saturation['threshold']:g}: saturated")
    ax.plot(x, sig["h"], color="tab:blue", linewidth=1.8, label="sigmoid h(x)")
    ax.plot(x, sig["dh"], "--", color="tab:blue", linewidth=1.8, label="h'(x) = h(x)(1 - h(x))")
    ax.annotate(
        f"max slope {saturation['max_slope']:g}",
        xy=(0, saturation["max_slope"]),
        xytext=(1.2, 0.4),
        arrowprops={"arrowstyle": "->"},
        fontsize=8,
    )
    _axes(ax, f"Sigmoid saturates for |x| > {edge:.1f}", "input x", "h(x), h'(x)")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    _save(fig, path)
    return fig


def _axes(ax: Axes, title: str, xlabel: str, ylabel: str) -> None:
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.axvline(0, color="grey", linewidth=0.5)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)


# --- chapter 3: the forward pass -------------------------------------------------------


def plot_forward_pass(steps: list[dict[str, Any]], path: PathLike) -> Figure:
    """The 2-3-2-2 network as a diagram: each neuron with its weighted sum a and its
    activation z, each layer with its formula and shapes (``steps`` from
    :func:`forward_steps`, for one input row)."""
    fig = _figure(figsize=(12, 5.4))
    ax = fig.add_subplot(1, 1, 1)
    by_name = {s["name"]: s for s in steps}
    columns = [("x", None), ("a1", "z1"), ("a2", "z2"), ("a3", "y")]
    positions = []
    for c, (a_name, z_name) in enumerate(columns):
        values = by_name[a_name]["value"][0]
        n = len(values)
        ys = ((n - 1) / 2 - np.arange(n)) * 1.5  # the first neuron on top
        positions.append(ys)
        for i, y in enumerate(ys):
            if z_name is None:
                text = f"x{i + 1} = {values[i]:g}"
            else:
                z = by_name[z_name]["value"][0][i]
                text = f"{a_name}[{i}] = {values[i]:.4f}\n{z_name}[{i}] = {z:.8f}"
            ax.add_patch(_circle((c * 3.0, y)))
            ax.text(c * 3.0, y, text, ha="center", va="center", fontsize=8.5)
        if c:
            for y0 in positions[c - 1]:
                for y1 in ys:
                    ax.plot([(c - 1) * 3.0 + 0.75, c * 3.0 - 0.75], [y0, y1], color="0.7", lw=0.8)
        head = by_name[a_name]
        if z_name is None:
            label = f"input x\n{head['shapes']}"
        else:
            z = by_name[z_name]
            label = f"{head['formula']}\n{head['shapes']}\n{z['formula']}"
        ax.text(c * 3.0, 2.9, label, ha="center", va="bottom", fontsize=8.5)
    ax.set_xlim(-1.2, 10.2)
    ax.set_ylim(-2.6, 4.4)
    ax.axis("off")
    output = by_name["y"]["value"][0]
    ax.set_title(
        f"Forward pass of the book's 3-layer network: x = {by_name['x']['value'][0].tolist()} "
        f"gives y = [{output[0]:.8f}, {output[1]:.8f}]"
    )
    fig.tight_layout()
    _save(fig, path)
    return fig


def _circle(center: tuple[float, float]) -> Any:
    from matplotlib.patches import Ellipse

    return Ellipse(center, 1.5, 1.15, facecolor="#eef4fb", edgecolor="tab:blue")


# --- chapter 4: backpropagation checked ------------------------------------------------


def plot_gradient_errors(rows: list[dict[str, Any]], path: PathLike) -> Figure:
    """The relative error of each parameter's analytic gradient against the numerical one,
    one group of bars per parameter, one bar per activation (log scale; ``rows`` from
    :func:`gradient_errors`)."""
    fig = _figure(figsize=(9, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    activations = list(dict.fromkeys(r["activation"] for r in rows))
    params = list(dict.fromkeys(r["parameter"] for r in rows))
    width = 0.8 / len(activations)
    for k, act in enumerate(activations):
        errors = {r["parameter"]: r["relative_error"] for r in rows if r["activation"] == act}
        x = np.arange(len(params)) + (k - (len(activations) - 1) / 2) * width
        ax.bar(x, [errors[p] for p in params], width, label=act, color=ACTIVATION_COLORS.get(act))
    ax.axhline(1e-7, color="darkred", linestyle="--", label="1e-7: backprop is right below")
    ax.set_yscale("log")
    lowest = max(min(r["relative_error"] for r in rows), 1e-16)  # an exact 0 has no log
    highest = max(r["relative_error"] for r in rows)
    ax.set_ylim(min(1e-13, lowest / 10), max(1e-5, highest * 10))  # a wrong gradient shows too
    ax.set_xticks(range(len(params)), params)
    ax.set_xlabel("gradient of (layer's weights W, biases b, or the input X)")
    ax.set_ylabel("relative error (analytic vs numerical)")
    first = [r for r in rows if r["activation"] == activations[0]]
    Ws = [r["shape"] for r in first if r["parameter"].startswith("W")]
    sizes = [W[0] for W in Ws] + [Ws[-1][1]]
    ax.set_title(
        f"Backpropagation against central differences: {'-'.join(map(str, sizes))} network, "
        "softmax and cross-entropy, float64",
        fontsize=10,
    )
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, ncol=2, loc="upper right")
    fig.tight_layout()
    _save(fig, path)
    return fig


# --- chapter 5: planar data ------------------------------------------------------------


def plot_hidden_sizes(result: dict[str, Any], path: PathLike) -> Figure:
    """One decision-boundary panel per hidden size, titled with its training accuracy, and
    the accuracies side by side (``result`` from :func:`hidden_sizes`)."""
    from matplotlib.colors import ListedColormap

    models = result["models"]
    X, y = result["X"], result["y"]
    n = len(models) + 1
    columns = 4
    rows = -(-n // columns)
    fig = _figure(figsize=(14, 3.6 * rows))
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
    _save(fig, path)
    return fig


# --- chapter 6: optimisers -------------------------------------------------------------


def plot_optimizer_paths(paths: dict[str, Array], path: PathLike) -> Figure:
    """Each optimiser's path on the contours of f(x, y) = x^2/20 + y^2, one panel each
    (``paths`` from :func:`optimizer_paths`)."""
    fig = _figure(figsize=(14, 7))
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
    _save(fig, path)
    return fig


def plot_mnist_losses(result: dict[str, Any], path: PathLike, smooth: int = 20) -> Figure:
    """The training loss per mini-batch of each optimiser (faint) and its moving average over
    ``smooth`` mini-batches (``result`` from :func:`mnist_losses`)."""
    fig = _figure(figsize=(9, 5))
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
    _save(fig, path)
    return fig


# --- chapter 7: initial weights --------------------------------------------------------


def plot_activation_histograms(
    histograms: dict[str, list[Array]], activation: str, path: PathLike
) -> Figure:
    """A grid of histograms: one row per initial weight scale, one column per layer
    (``histograms`` from :func:`activation_histograms`). ReLU's activations are shown on a
    logarithmic axis, without the zeros (about half of them), as their scale changes by
    orders of magnitude from layer to layer."""
    inits = list(histograms)
    n_layers = len(histograms[inits[0]])
    fig = _figure(figsize=(2.6 * n_layers + 0.6, 2.0 * len(inits) + 0.8))
    relu = activation == "relu"
    value_range = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}.get(activation, (0.0, 1.0))
    for r, init in enumerate(inits):
        for c, a in enumerate(histograms[init]):
            ax = fig.add_subplot(len(inits), n_layers, r * n_layers + c + 1)
            values = a.ravel()
            if relu:
                values = values[values > 0]
                ax.hist(values, bins=np.geomspace(1e-8, 1e6, 57).tolist(), color=_init_color(r))
                ax.set_xscale("log")
                ax.set_xticks([1e-8, 1e-4, 1, 1e4])
            else:
                ax.hist(values, bins=30, range=value_range, color=_init_color(r))
            ax.tick_params(labelsize=7)
            ax.set_title(f"layer {c + 1}: std {a.std():.2g}", fontsize=9)
            if c == 0:
                ax.set_ylabel(f"{init}\ncount", fontsize=9)
            if r == len(inits) - 1:
                ax.set_xlabel("activation (> 0, log)" if relu else "activation", fontsize=9)
    note = " (the zeros, about half, left out)" if relu else ""
    fig.suptitle(
        f"{activation} activations of a 5-layer, 100-unit network by initial weights{note}"
    )
    fig.tight_layout()
    _save(fig, path)
    return fig


def _init_color(row: int) -> str:
    return ("tab:red", "tab:gray", "tab:blue", "tab:green", "tab:purple")[row % 5]


# --- chapter 8: batch normalization ----------------------------------------------------

# The book's styles: the BatchNorm network solid, the plain one dashed.
NETWORK_STYLES: dict[str, dict[str, Any]] = {
    "batchnorm": {"color": "tab:blue", "linestyle": "-", "label": "with BatchNorm"},
    "plain": {"color": "tab:orange", "linestyle": "--", "label": "without BatchNorm"},
}


def plot_batchnorm_accuracy(result: dict[str, Any], path: PathLike) -> Figure:
    """One panel per initial weight scale: the training accuracy after each epoch with and
    without BatchNorm, as ``predict`` sees it (BatchNorm with its running averages), and,
    thin and dotted, the BatchNorm network's accuracy as ``fit`` reports it (with batch
    statistics); a run whose loss became NaN ends with an x and says so (``result`` from
    :func:`batchnorm_accuracy`)."""
    scales = result["scales"]
    epochs = result["epochs"]
    columns = 4
    rows = -(-len(scales) // columns)
    fig = _figure(figsize=(13, 2.35 * rows + 1.4))
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
    _save(fig, path)
    return fig


# --- chapter 9: overfitting ------------------------------------------------------------

SETTING_COLORS = {"plain": "tab:red", "dropout": "tab:blue", "weight decay": "tab:green"}


def plot_overfitting(result: dict[str, Any], path: PathLike, last: int = 50) -> Figure:
    """One panel per setting (plain, dropout, weight decay): the training accuracy (solid)
    and the test accuracy (dashed) after each epoch, titled with the gap between them over
    the ``last`` epochs (``result`` from :func:`overfitting_curves`)."""
    epochs = result["epochs"]
    names = list(result["train"])
    fig = _figure(figsize=(14, 4.6))
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
    _save(fig, path)
    return fig


# --- chapter 10: hyper-parameter search ------------------------------------------------


def plot_random_search(result: dict[str, Any], path: PathLike, best: int = 5) -> Figure:
    """Left: each trial at its (learning rate, weight decay), coloured by its validation
    accuracy, the ``best`` ones numbered by rank. Right: the validation accuracy against the
    learning rate (``result`` from :func:`random_search`)."""
    lr, wd = result["lr"], result["weight_decay"]
    accuracy = 100 * result["val_accuracy"]
    top = result["ranking"][:best]
    fig = _figure(figsize=(13, 5.2))
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
    _save(fig, path)
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


# --- chapter 11: what the network learned ----------------------------------------------


def plot_first_layer_weights(result: dict[str, Any], path: PathLike) -> Figure:
    """The first layer's weights as one 28x28 image per hidden unit, red positive, blue
    negative, each on its own symmetric scale (``result`` from :func:`what_it_learned`)."""
    images = result["weights"]
    n = len(images)
    columns = int(np.ceil(np.sqrt(n)))
    rows = -(-n // columns)
    fig = _figure(figsize=(1.3 * columns + 0.4, 1.3 * rows + 0.9))
    for j, image in enumerate(images):
        ax = fig.add_subplot(rows, columns, j + 1)
        scale = float(np.abs(image).max()) or 1.0
        ax.imshow(image, cmap="RdBu_r", vmin=-scale, vmax=scale)
        ax.set_title(f"unit {j}", fontsize=8)
        ax.axis("off")
    sizes = "-".join(map(str, result["sizes"]))
    fig.suptitle(
        f"First-layer weights of the {sizes} network, one 28x28 image per hidden unit\n"
        "red: the pixel adds to the unit's sum, blue: it subtracts"
    )
    fig.tight_layout()
    _save(fig, path)
    return fig


def plot_confident_mistakes(result: dict[str, Any], path: PathLike) -> Figure:
    """The test images the network got wrong with the highest probability, most confident
    first (:func:`numpynn.plots.misclassified_figure`; ``result`` from
    :func:`what_it_learned`)."""
    m = result["mistakes"]
    fig = misclassified_figure(
        m["images"],
        m["true"],
        m["predicted"],
        [str(d) for d in range(10)],
        probabilities=m["probability"],
    )
    C = result["confusion"]
    wrong = int(C.sum() - np.trace(C))
    fig.suptitle(
        f"The {len(m['true'])} most confident of the {wrong} mistakes on {C.sum():,} test images:"
        " predicted digit (its probability) above the true one",
        fontsize=11,
    )
    fig.tight_layout()
    _save(fig, path)
    return fig


def plot_learned_confusion(result: dict[str, Any], path: PathLike) -> Figure:
    """The confusion matrix on the test images (:func:`numpynn.plots.confusion_figure`;
    ``result`` from :func:`what_it_learned`)."""
    sizes = "-".join(map(str, result["sizes"]))
    title = f"{sizes} network on the MNIST test images"
    fig = confusion_figure(result["confusion"], [str(d) for d in range(10)], title=title)
    _save(fig, path)
    return fig
