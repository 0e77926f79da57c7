"""Chapter 1, perceptrons (DLFS chapter 2): the gates' decision lines, XOR in two layers and
the perceptron learning rule, epoch by epoch; its figure and its summary."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from .._typing import Array
from ..datasets import truth_table
from ..errors import ConvergenceWarning
from ..gates import AND_PERCEPTRON, NAND_PERCEPTRON, OR_PERCEPTRON, XOR
from ..perceptron import Perceptron
from ..plots import new_figure
from .chapter import Chapter

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

GATES = ("and", "or", "nand", "xor")


def gate_lines() -> dict[str, dict[str, Any]]:
    """The hand-set gates of the book: for "and", "or", "nand" the weights ``w`` (2,), the bias
    ``b`` (the line w1 x1 + w2 x2 + b = 0 splits the input square) and the ``outputs`` (4,) on
    (0,0), (1,0), (0,1), (1,1); for "xor", the outputs of AND(NAND(x), OR(x)), two layers."""
    X, _ = truth_table("xor")
    lines: dict[str, dict[str, Any]] = {}
    for name, p in (("and", AND_PERCEPTRON), ("or", OR_PERCEPTRON), ("nand", NAND_PERCEPTRON)):
        lines[name] = {"w": p.w.copy(), "b": p.b, "outputs": p.predict(X)}
    lines["xor"] = {"outputs": XOR(X[:, 0], X[:, 1])}
    return lines


def learning_rule(
    gates: tuple[str, ...] = GATES, epochs: int = 12, lr: float = 0.1
) -> dict[str, dict[str, Any]]:
    """Train a perceptron from zero weights on each gate's truth table, one epoch at a time.

    For each gate: ``w`` (epochs + 1, 2) and ``b`` (epochs + 1,), the weights before training
    and after each epoch; ``mistakes`` (epochs + 1,), how many of the 4 inputs are then
    misclassified; ``converged_epoch``, the first epoch after which there are none (None when
    that never happens: XOR is not linearly separable).

    Parameters
    ----------
    gates : tuple of str
        Gate names: ``"and"``, ``"or"``, ``"nand"``, ``"xor"``.
    epochs : int
        The number of epochs (passes over the 4 inputs).
    lr : float
        The learning rule's rate.

    Returns
    -------
    dict
        ``{gate: {"w": array (epochs + 1, 2), "b": array (epochs + 1,), "mistakes": int
        array (epochs + 1,), "converged_epoch": int or None}}``.

    Raises
    ------
    ValueError
        For an unknown gate name.
    """
    results = {}
    for gate in gates:
        X, y = truth_table(gate)
        p = Perceptron(n_inputs=2)
        w, b, mistakes = [p.w.copy()], [p.b], [int(np.sum(p.predict(X) != y))]
        for _ in range(epochs):
            with warnings.catch_warnings():  # one epoch at a time: a mistake is no failure yet
                warnings.simplefilter("ignore", ConvergenceWarning)
                p.fit(X, y, epochs=1, lr=lr)
            w.append(p.w.copy())
            b.append(p.b)
            mistakes.append(int(np.sum(p.predict(X) != y)))
        errors = np.array(mistakes)
        zero = np.nonzero(errors == 0)[0]
        results[gate] = {
            "w": np.array(w),
            "b": np.array(b),
            "mistakes": errors,
            "converged_epoch": int(zero[0]) if zero.size else None,
        }
    return results


# --- the figure ------------------------------------------------------------------------


def perceptrons_figure(
    lines: dict[str, dict[str, Any]], learning: dict[str, dict[str, Any]]
) -> Figure:
    """Top row: the hand-set AND, OR, NAND perceptrons (the region where the output is 1
    shaded, their line w . x + b = 0) and XOR's two-layer regions. Bottom row: the line the
    learning rule reaches after each epoch for AND, OR and NAND, and the misclassified
    inputs per epoch for every gate (``lines`` from :func:`gate_lines`, ``learning`` from
    :func:`learning_rule`)."""
    fig = new_figure(figsize=(14, 7.2))
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


# --- the chapter -----------------------------------------------------------------------


def run() -> dict[str, Any]:
    """The chapter's numbers: {"lines": :func:`gate_lines`, "learning": :func:`learning_rule`}."""
    return {"lines": gate_lines(), "learning": learning_rule()}


def figures(numbers: dict[str, Any]) -> dict[str, Figure]:
    """The chapter's figure, by file name."""
    return {"perceptron.png": perceptrons_figure(numbers["lines"], numbers["learning"])}


def summary(numbers: dict[str, Any]) -> str:
    """One line per gate: the epoch after which the learning rule makes no mistakes."""
    return "\n".join(
        f"{gate.upper():<5} learning rule: "
        + (
            f"no mistakes after epoch {t['converged_epoch']}"
            if t["converged_epoch"]
            else f"still {t['mistakes'][-1]} mistakes after {len(t['mistakes']) - 1} epochs"
        )
        for gate, t in numbers["learning"].items()
    )


CHAPTER = Chapter(
    name="perceptron",
    title="perceptrons: AND/OR/NAND decision lines, XOR in two layers, the learning rule",
    page="01-perceptrons.md",
    run=run,
    figures=figures,
    summary=summary,
)
