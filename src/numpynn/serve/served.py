"""The served model and what the API and the page say about it (name, classes, accuracy)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .._typing import Array
from ..cli.models import describe
from ..errors import FileFormatError, ShapeError
from ..imaging import as_model_input
from ..model import Sequential


@dataclasses.dataclass
class ServedModel:
    model: Sequential
    name: str  # the run directory and file ("20261126-005236-mnist/model.npz") or the file
    dataset: str | None
    labels: list[str]  # one per output class
    image_shape: tuple[int, int]  # (height, width) of the input image
    test_accuracy: float | None

    @property
    def input_mode(self) -> str:
        """How the page takes an input: "draw" a digit, or "upload" a photo (Fashion-MNIST)."""
        return "upload" if self.dataset == "fashion-mnist" else "draw"

    def probabilities(self, X: Array) -> Array:
        """Class probabilities (n, n_classes) for X: (n, height * width) in [0, 1] (given to
        a convnet as images (n, 1, height, width))."""
        X = as_model_input(X, self.model.input_shape, self.image_shape)
        p = self.model.predict_proba(X.astype(self.model.dtype, copy=False))
        return np.column_stack([1 - p[:, 0], p[:, 0]]) if p.shape[1] == 1 else p

    def layers(self) -> list[dict[str, Any]]:
        """[{"type": "Dense", "n_in": 784, "n_out": 32, ...}, {"type": "ReLU"}, ...]."""
        return [{"type": type(layer).__name__, **layer.config()} for layer in self.model.layers]

    def architecture(self) -> str:
        """'Dense(784, 32) -> ReLU -> Dense(32, 10) -> Softmax'."""
        return describe(self.model)


def load_served(path: str | Path) -> ServedModel:
    """The model file at ``path`` (read by the safe loader) and its metadata: class labels,
    dataset, image shape and test accuracy (from the metadata, else from the run report
    metrics.json beside a run's model.npz). FileFormatError or ValueError naming the file."""
    import numpynn

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    model = numpynn.load(path)
    metadata = numpynn.load_metadata(path).get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    n_inputs, n_outputs = model.n_inputs or 0, model.n_outputs or 0
    images = model.input_shape is not None and len(model.input_shape) == 3

    shape = metadata.get("image_shape")
    if shape is None and images:
        raise FileFormatError(
            f"{path}: a convnet's metadata must give its image_shape [height, width]"
        )
    if shape is None:
        side = math.isqrt(n_inputs)
        shape = [side, side]
    if not (isinstance(shape, list) and len(shape) == 2 and all(_positive_int(v) for v in shape)):
        raise FileFormatError(f"{path}: metadata field 'image_shape' must be [height, width]")
    if images:
        n_inputs = shape[0] * shape[1]
    if shape[0] * shape[1] != n_inputs or n_inputs == 0:
        raise ValueError(
            f"{path} takes {n_inputs} inputs, not a square image: serve works with image "
            "classifiers (mnist, fashion-mnist)"
        )
    try:
        zeros = np.zeros((1, n_inputs), dtype=model.dtype)
        model.predict_proba(as_model_input(zeros, model.input_shape, (shape[0], shape[1])))
    except TypeError:
        raise ValueError(
            f"{path} is not a classifier (its output layer is not a softmax or sigmoid)"
        ) from None
    except ShapeError as exc:  # a convnet whose image_shape is not the one it was trained on
        raise ValueError(f"{path} cannot take {shape[0]}x{shape[1]} images: {exc}") from None

    n_classes = 2 if n_outputs == 1 else n_outputs
    labels = metadata.get("class_labels")
    if labels is None:
        labels = [str(k) for k in range(n_classes)]
    if not (isinstance(labels, list) and all(isinstance(v, str) for v in labels)):
        raise FileFormatError(f"{path}: metadata field 'class_labels' must be a list of names")
    labels = labels[:n_classes] + [str(k) for k in range(len(labels), n_classes)]

    dataset = metadata.get("dataset")
    if dataset is not None and not isinstance(dataset, str):
        raise FileFormatError(f"{path}: metadata field 'dataset' must be a dataset name")

    run_dir = path.parent
    report = run_dir / "metrics.json"
    has_run = report.is_file()
    accuracy = metadata.get("test_accuracy")
    if accuracy is None and has_run and path.name == "model.npz":  # the report's model
        accuracy = _report_accuracy(report)
    if accuracy is not None and not (_number(accuracy) and 0 <= accuracy <= 1):
        raise FileFormatError(f"{path}: metadata field 'test_accuracy' must be in 0..1")

    name = f"{run_dir.name}/{path.name}" if has_run else path.name
    return ServedModel(model, name, dataset, labels, (shape[0], shape[1]), accuracy)


def _report_accuracy(report: Path) -> float | None:
    """The test accuracy in a run report (metrics.json), None if unreadable."""
    try:
        accuracy = json.loads(report.read_text())["test"]["accuracy"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return float(accuracy) if _number(accuracy) else None


def _positive_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
