"""Chapter 3, the forward pass as matrix products (DLFS 3.4-3.5): the textbook 2-3-2-2
network, step by step, with the shapes and the book's numbers."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..layers import Dense, Identity, Sigmoid, Softmax
from ..model import Sequential

# The book's weights (DLFS init_network), rows are inputs: W: (n_in, n_out).
BOOK_WEIGHTS = (
    ([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], [0.1, 0.2, 0.3]),
    ([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]], [0.1, 0.2]),
    ([[0.1, 0.3], [0.2, 0.4]], [0.1, 0.2]),
)


def book_network(output: str = "identity") -> Sequential:
    """The 2 -> 3 -> 2 -> 2 network with the book's weights, sigmoid hidden layers and an
    "identity" or "softmax" output, in float64 for the printed digits."""
    out = {"identity": Identity, "softmax": Softmax}[output]()
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
    z = activations, y = the output."""
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


def format_steps(steps: list[dict[str, Any]]) -> str:
    """The steps as text, one line each: formula, shapes, values."""
    lines = []
    for s in steps:
        values = np.array2string(s["value"], precision=8, separator=", ")
        lines.append(f"{s['formula']:<20} {s['shapes']:<34} {values}")
    return "\n".join(lines)
