"""Chapter 4, backpropagation checked (DLFS 5.7.3, Ng's gradient checking): the analytic
gradients of every layer against central differences, as a table of relative errors."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..datasets.toy import flower
from ..gradcheck import gradient_check
from ..model import mlp


def gradient_errors(
    sizes: tuple[int, ...] = (2, 5, 4, 2),
    activations: tuple[str, ...] = ("sigmoid", "tanh", "relu"),
    n_samples: int = 8,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """For each hidden activation, a float64 ``mlp(sizes)`` with a softmax output and
    cross-entropy, checked on ``n_samples`` points of the flower data by
    :func:`numpynn.gradient_check`. One row per parameter (and the input X):
    {"activation", "parameter" ("W1", "b1", ..., "X"), "shape", "relative_error"}, with
    relative error ||analytic - numerical|| / (||analytic|| + ||numerical||)."""
    X, y = flower(n_samples=max(n_samples, 2), seed=seed)
    X, y = X[:n_samples], y[:n_samples]
    rows = []
    for activation in activations:
        model = mlp(sizes, activation, "softmax", dtype=np.float64, seed=seed)
        errors = gradient_check(model, X, y, "cross_entropy")
        for key, error in errors.items():
            if key == "X":
                name, shape = "X", X.shape
            else:
                _, index, param = key.split()
                layer = model.layers[int(index)]
                number = model.dense_layers.index(layer) + 1  # type: ignore[arg-type]
                name, shape = f"{param}{number}", getattr(layer, param).shape
            rows.append(
                {
                    "activation": activation,
                    "parameter": name,
                    "shape": shape,
                    "relative_error": error,
                }
            )
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """The rows as a text table."""
    lines = [f"{'activation':<11}{'parameter':<10}{'shape':<10}relative error"]
    for r in rows:
        shape = "x".join(map(str, r["shape"]))
        lines.append(
            f"{r['activation']:<11}{r['parameter']:<10}{shape:<10}{r['relative_error']:.2e}"
        )
    return "\n".join(lines)
