"""Chapter 5, planar data (Ng's course, week 3): a one-hidden-layer tanh network on the
"flower", and how its decision boundary changes with the number of hidden units."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..datasets.toy import flower
from ..layers import Dense, Sigmoid, Tanh
from ..model import Sequential
from ..optimizers import SGD

HIDDEN_SIZES = (1, 2, 3, 4, 5, 20, 50)


def planar_network(n_hidden: int, seed: int = 2) -> Sequential:
    """2 -> n_hidden (tanh) -> 1 (sigmoid), weights N(0, 1) * 0.01, zero biases (float64)."""
    return Sequential(
        Dense(2, n_hidden, init="normal", dtype=np.float64, seed=seed),
        Tanh(),
        Dense(n_hidden, 1, init="normal", dtype=np.float64, seed=seed + 1),
        Sigmoid(),
    )


def hidden_sizes(
    sizes: tuple[int, ...] = HIDDEN_SIZES,
    iterations: int = 5000,
    lr: float = 1.2,
    grid_points: int = 200,
    seed: int = 2,
) -> dict[str, Any]:
    """Train a :func:`planar_network` for each hidden size by full-batch gradient descent on
    the 400-point flower (binary cross-entropy, ``iterations`` steps of rate ``lr``).

    Returns {"X": (400, 2), "y": (400,), "xx", "yy": (grid_points, grid_points) grid
    coordinates, "models": {size: {"accuracy": training accuracy, "regions": predicted class
    on the grid, "model": the trained Sequential}}}."""
    X, y = flower()
    (x0, y0), (x1, y1) = X.min(axis=0) - 1, X.max(axis=0) + 1
    xx, yy = np.meshgrid(np.linspace(x0, x1, grid_points), np.linspace(y0, y1, grid_points))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    models = {}
    for size in sizes:
        model = planar_network(size, seed)
        model.fit(X, y, optimizer=SGD(lr=lr), epochs=iterations, batch_size=None, shuffle=False)
        models[size] = {
            "accuracy": float(np.mean(model.predict(X) == y)),
            "regions": model.predict(grid).reshape(xx.shape),
            "model": model,
        }
    return {"X": X, "y": y, "xx": xx, "yy": yy, "models": models}
