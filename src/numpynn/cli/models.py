"""What the commands need to know about a model: class scores, labels and its metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import activations
from .._typing import Array
from ..layers import Sigmoid, Softmax
from ..model import Sequential


def class_scores(model: Sequential, X: Array) -> Array:
    """Class probabilities (n_samples, n_classes) of a classifier on X: (n_samples, n_features).

    A softmax output is used as it is; one sigmoid output p gives (1 - p, p); several sigmoid
    outputs (Nielsen's network) are normalised to sum to 1; raw outputs go through a softmax."""
    output = model.forward(X)
    last = model.layers[-1] if model.layers else None
    if output.shape[1] == 1:
        p = output[:, 0] if isinstance(last, Sigmoid) else activations.sigmoid(output[:, 0])
        return np.column_stack([1 - p, p])
    if isinstance(last, Softmax):
        return output
    if isinstance(last, Sigmoid):
        return output / np.maximum(output.sum(axis=1, keepdims=True), 1e-12)
    return np.asarray(activations.softmax(output))


def n_parameters(model: Sequential) -> int:
    return sum(p.size for p in model.parameters())


def describe(model: Sequential) -> str:
    """'Dense(784, 512) -> ReLU -> Dropout(0.2) -> Dense(512, 10) -> Softmax'."""
    parts = []
    for layer in model.layers:
        config = layer.config()
        if "n_in" in config:
            parts.append(f"{type(layer).__name__}({config['n_in']}, {config['n_out']})")
        elif "rate" in config:
            parts.append(f"{type(layer).__name__}({config['rate']:g})")
        else:
            parts.append(type(layer).__name__)
    return " -> ".join(parts)


def user_metadata(path: Path) -> dict[str, Any]:
    """The metadata the command line stored with ``numpynn.save`` (empty if there is none)."""
    import numpynn

    description = numpynn.load_metadata(path)
    metadata = description.get("metadata", {})
    return metadata if isinstance(metadata, dict) else {}
