"""What the commands need to know about a model: class probabilities, a description, metadata."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._typing import Array
from ..errors import FileFormatError
from ..model import Sequential
from .config import check_setting


def class_probabilities(model: Sequential, X: Array) -> Array:
    """Class probabilities (n_samples, n_classes) of a classifier on X: (n_samples, n_features),
    by ``model.predict_proba``; one output p (a binary classifier) gives the columns (1 - p, p)."""
    p = model.predict_proba(X)
    return np.column_stack([1 - p[:, 0], p[:, 0]]) if p.shape[1] == 1 else p


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
    """The metadata the command line stored with ``numpynn.save`` (empty if there is none);
    FileFormatError naming the file if a field the commands read has the wrong type."""
    import numpynn

    metadata = numpynn.load_metadata(path).get("metadata")
    if not isinstance(metadata, dict):
        return {}
    for key, (ok, expected) in METADATA.items():
        if key in metadata and not ok(metadata[key]):
            raise FileFormatError(
                f"{path}: metadata field {key!r} must be {expected}, got {metadata[key]!r:.80}"
            )
    config = metadata.get("config", {})
    if "loss" in config:
        try:
            check_setting("loss", config["loss"])
        except ValueError as exc:
            raise FileFormatError(f"{path}: metadata field 'config': {exc}") from None
    return metadata


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# The metadata fields the commands read: a test of the value and what it must be.
METADATA: dict[str, tuple[Callable[[Any], bool], str]] = {
    "dataset": (lambda v: isinstance(v, str), "a dataset name"),
    "class_labels": (
        lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "a list of class names",
    ),
    "image_shape": (
        lambda v: (
            v is None
            or (isinstance(v, list) and len(v) == 2 and all(_is_int(x) and x > 0 for x in v))
        ),
        "null or [height, width]",
    ),
    "config": (lambda v: isinstance(v, dict), "a JSON object of training settings"),
}
