"""Chapter 3, the forward pass as matrix products (DLFS 3.4-3.5): the textbook 2-3-2-2
network, step by step, with the shapes and the book's numbers; its figure and its summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..layers import Dense, Identity, Sigmoid, Softmax
from ..model import Sequential
from ..plots import new_figure
from .chapter import Chapter

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The book's weights (DLFS init_network), rows are inputs: W: (n_in, n_out).
BOOK_WEIGHTS = (
    ([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], [0.1, 0.2, 0.3]),
    ([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]], [0.1, 0.2]),
    ([[0.1, 0.3], [0.2, 0.4]], [0.1, 0.2]),
)


def book_network(output: str = "identity") -> Sequential:
    """The 2 -> 3 -> 2 -> 2 network with the book's weights, sigmoid hidden layers and an
    "identity" or "softmax" output, in float64 for the printed digits.

    Parameters
    ----------
    output : str
        The output layer: ``"identity"`` or ``"softmax"``.

    Returns
    -------
    Sequential
        Dense, Sigmoid, Dense, Sigmoid, Dense and the output layer, input (n_samples, 2)
        -> (n_samples, 2).

    Raises
    ------
    ValueError
        For an ``output`` other than ``"identity"`` or ``"softmax"``.
    """
    outputs = {"identity": Identity, "softmax": Softmax}
    if output not in outputs:
        raise ValueError(f"output must be 'identity' or 'softmax', got {output!r}")
    out = outputs[output]()
    net = Sequential(
        Dense(2, 3, dtype=np.float64),
        Sigmoid(),
        Dense(3, 2, dtype=np.float64),
        Sigmoid(),
        Dense(2, 2, dtype=np.float64),
        out,
    )
    for dense, (W, b) in zip(net.dense_layers, BOOK_WEIGHTS, strict=True):
        dense.W[...] = W
        dense.b[...] = b
    return net


def forward_steps(x: npt.ArrayLike = (1.0, 0.5), output: str = "identity") -> list[dict[str, Any]]:
    """Run the book network on ``x`` (2,) or (n_samples, 2), one layer at a time.

    Each step is {"name": "a1", "formula": "a1 = x @ W1 + b1", "value": array,
    "shapes": "(1, 2) @ (2, 3) + (3,) -> (1, 3)"}, with the book's names: a = weighted sums,
    z = activations, y = the output.

    Parameters
    ----------
    x : array_like
        One input (2,) or a batch (n_samples, 2), converted to float64.
    output : str
        The output layer: ``"identity"`` or ``"softmax"``.

    Returns
    -------
    list of dict
        Seven steps, ``x``, ``a1``, ``z1``, ``a2``, ``z2``, ``a3``, ``y``, each with
        ``"name"``, ``"formula"`` and ``"shapes"`` (str) and ``"value"`` (array
        (n_samples, 2) or (n_samples, 3)).

    Raises
    ------
    ValueError
        For an ``output`` other than ``"identity"`` or ``"softmax"``, and
        :class:`~numpynn.errors.ShapeError` for an ``x`` without 2 features.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    net = book_network(output)
    steps = [{"name": "x", "formula": "x", "value": x, "shapes": f"{x.shape}"}]
    value = x
    k = 1
    for layer in net.layers:
        out = layer.forward(value)
        if isinstance(layer, Dense):
            prev = "x" if k == 1 else f"z{k - 1}"
            name = f"a{k}"
            formula = f"{name} = {prev} @ W{k} + b{k}"
            shapes = f"{value.shape} @ {layer.W.shape} + {layer.b.shape} -> {out.shape}"
        else:
            function = type(layer).__name__.lower()
            name = f"z{k}" if k < 3 else "y"
            formula = f"{name} = {function}(a{k})"
            shapes = f"{out.shape}"
            k += 1
        steps.append({"name": name, "formula": formula, "value": out, "shapes": shapes})
        value = out
    return steps


# --- the figure ------------------------------------------------------------------------


def forward_pass_figure(steps: list[dict[str, Any]]) -> Figure:
    """The 2-3-2-2 network as a diagram: each neuron with its weighted sum a and its
    activation z, each layer with its formula and shapes (``steps`` from
    :func:`forward_steps`, for one input row)."""
    fig = new_figure(figsize=(12, 5.4))
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
    return fig


def _circle(center: tuple[float, float]) -> Any:
    from matplotlib.patches import Ellipse

    return Ellipse(center, 1.5, 1.15, facecolor="#eef4fb", edgecolor="tab:blue")


# --- the chapter -----------------------------------------------------------------------


def run() -> list[dict[str, Any]]:
    """The chapter's numbers: :func:`forward_steps` for the book's input (1, 0.5)."""
    return forward_steps()


def figures(steps: list[dict[str, Any]]) -> dict[str, Figure]:
    """The chapter's figure, by file name."""
    return {"forward.png": forward_pass_figure(steps)}


def summary(steps: list[dict[str, Any]]) -> str:
    """The steps as text, one line each: formula, shapes, values."""
    lines = []
    for s in steps:
        values = np.array2string(s["value"], precision=8, separator=", ")
        lines.append(f"{s['formula']:<20} {s['shapes']:<34} {values}")
    return "\n".join(lines)


CHAPTER = Chapter(
    name="forward",
    title="the 3-layer network's forward pass as matrix products, step by step",
    page="03-forward-pass.md",
    run=run,
    figures=figures,
    summary=summary,
)
