"""A trained classifier read from its file, with what its metadata says: the dataset it was
trained on, its class names, the shape of its input pictures and how a photo is prepared for
it. The one loader of ``numpynn evaluate``, ``numpynn predict`` and ``numpynn serve``.

    trained = load_trained("runs/mnist/model.npz")
    trained.classes                   # ["0", "1", ..., "9"]
    trained.class_probabilities(X)    # X: (n_samples, n_features) -> (n_samples, n_classes)

The metadata fields read here are the ones ``numpynn train`` saves with the model
(``numpynn.save(model, path, metadata=...)``); a model saved without them works too: its
classes are then numbered and a square number of inputs is taken as a square picture.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import datasets, imaging
from ._typing import Array
from .errors import FileFormatError
from .io import load_checkpoint, load_metadata, load_with_metadata
from .losses import LOSSES
from .model import Sequential

PathLike = str | os.PathLike[str]
MODEL_FILE = "model.npz"  # in a run directory: the run's final model
CHECKPOINT_FILE = "checkpoint.npz"  # ... the state after its last finished epoch
BEST_FILE = "best.npz"  # ... the model of its best epoch, whose metadata a checkpoint lacks


@dataclasses.dataclass(frozen=True)
class TrainedModel:
    """A classifier and the facts of its training. ``classes`` has one name per class: one
    per output, or 2 for one sigmoid output (the probability of class 1)."""

    model: Sequential
    path: Path  # the file read
    metadata: dict[str, Any]  # saved with the model; the fields in METADATA are checked
    dataset: str | None  # the name of the dataset it was trained on, if it says
    classes: list[str]
    image_shape: tuple[int, int] | None  # (height, width) of its pictures; None: points
    picture: str | None  # how a photo is prepared: "digit", "item"; None: it takes no pictures

    @property
    def input_shape(self) -> tuple[int | None, ...] | None:
        """The model's input shape without the batch axis: (n_features,), or (1, h, w)."""
        return self.model.input_shape

    @property
    def takes_images(self) -> bool:
        """Whether the model takes images (n, 1, height, width) (a convnet) rather than rows."""
        return self.input_shape is not None and len(self.input_shape) == 3

    def pictures(self) -> tuple[int, int]:
        """The (height, width) of the pictures the model reads; FileFormatError for a convnet
        whose metadata does not give it, ValueError for a model of points."""
        if self.image_shape is not None:
            return self.image_shape
        if self.takes_images:
            raise FileFormatError(
                f"{self.path}: a convnet's metadata must give its image_shape [height, width]"
            )
        raise ValueError(
            f"{self.path} takes {self.model.n_inputs} inputs, not a square image: pictures are "
            f"read by image classifiers ({', '.join(_picture_datasets())})"
        )

    def check_features(self, n_features: int, what: str) -> None:
        """ValueError unless the model takes ``n_features`` inputs (a convnet: pictures of that
        many pixels); ``what`` says whose they are: "the images have"."""
        if self.takes_images:
            if self.image_shape is not None and math.prod(self.image_shape) != n_features:
                height, width = self.image_shape
                raise ValueError(
                    f"{self.path} takes {height}x{width} images but {what} {n_features} features"
                )
        elif self.model.n_inputs != n_features:
            raise ValueError(
                f"{self.path} takes {self.model.n_inputs} inputs but {what} {n_features} features"
            )

    def class_probabilities(self, X: Array) -> Array:
        """Class probabilities (n_samples, n_classes) for X: (n_samples, n_features) rows; a
        convnet gets them as images (n_samples, 1, height, width) of its pictures' shape."""
        if self.takes_images:
            X = imaging.as_model_input(X, self.input_shape, self.pictures())
        return class_probabilities(self.model, X.astype(self.model.dtype, copy=False))

    def prepare(self, grey: Array) -> Array:
        """A grey picture (height, width) in [0, 1] (``imaging.read_image``) -> the model's
        input picture, framed as its dataset's were: an item of clothing, else a digit
        (``imaging.PICTURES``: ``preprocess_item``, ``preprocess_digit``); NoDigitError if it
        holds none."""
        shape = self.pictures()
        return imaging.PICTURES[self.picture or "digit"](grey, shape)


def class_probabilities(model: Sequential, X: Array) -> Array:
    """Class probabilities (n_samples, n_classes) of a classifier on X: (n_samples, ...), by
    ``model.predict_proba``; one output p (a binary classifier) gives the columns (1 - p, p)."""
    p = model.predict_proba(X)
    return np.column_stack([1 - p[:, 0], p[:, 0]]) if p.shape[1] == 1 else p


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


def n_parameters(model: Sequential) -> int:
    """The number of trained numbers (weights, biases, scales...) of ``model``."""
    return sum(p.size for p in model.parameters())


def load_trained(path: PathLike) -> TrainedModel:
    """The classifier at ``path`` and its metadata. ``path`` may be a model file (model.npz,
    best.npz), a checkpoint (its model, with the metadata of the run's best.npz beside it) or
    a run directory (its model.npz, else its checkpoint.npz). FileNotFoundError for a path
    that holds none; FileFormatError naming the file for a damaged one or bad metadata."""
    model, metadata, file = _read(Path(path))
    dataset = metadata.get("dataset")
    facts = datasets.get(dataset) if dataset in datasets.names() else None
    n_outputs = model.n_outputs or 0
    n_classes = 2 if n_outputs == 1 else n_outputs
    labels = metadata.get("class_labels") or (list(facts.classes) if facts else [])
    classes = labels[:n_classes] + [str(k) for k in range(len(labels), n_classes)]
    image_shape = _image_shape(model, metadata, facts)
    picture = facts.picture if facts else "digit" if image_shape else None
    return TrainedModel(model, file, metadata, dataset, classes, image_shape, picture)


def read_metadata(path: PathLike) -> dict[str, Any]:
    """The metadata saved with the model file at ``path`` (empty if there is none);
    FileFormatError naming the file if a field in METADATA has the wrong type."""
    return _checked_metadata(load_metadata(path), path)


def _checked_metadata(description: dict[str, Any], path: PathLike) -> dict[str, Any]:
    """The user's metadata in a model file's ``description``, its fields checked."""
    metadata = description.get("metadata")
    if not isinstance(metadata, dict):
        return {}
    for key, (ok, expected) in METADATA.items():
        if key in metadata and not ok(metadata[key]):
            raise FileFormatError(
                f"{path}: metadata field {key!r} must be {expected}, got {metadata[key]!r:.80}"
            )
    loss = metadata.get("config", {}).get("loss")
    if loss is not None and loss not in LOSSES:
        raise FileFormatError(
            f"{path}: metadata field 'config': loss must be one of "
            f"{', '.join(sorted(LOSSES))}, got {loss!r}"
        )
    return metadata


def _read(given: Path) -> tuple[Sequential, dict[str, Any], Path]:
    """(model, metadata, the file read) of a model file, checkpoint or run directory."""
    if not given.exists():
        raise FileNotFoundError(f"model file {given} does not exist")
    file = given
    if given.is_dir():
        inside = [given / name for name in (MODEL_FILE, CHECKPOINT_FILE)]
        file = next((f for f in inside if f.exists()), given)
        if file == given:
            raise FileNotFoundError(
                f"{given} is a directory without {MODEL_FILE} or {CHECKPOINT_FILE}: give a "
                "model file or a run directory of numpynn train"
            )
    try:
        model, description = load_with_metadata(file)  # one reading of the file
        return model, _checked_metadata(description, file), file
    except FileFormatError as not_a_model:
        try:
            checkpoint = load_checkpoint(file)
        except (FileFormatError, OSError):
            raise not_a_model from None
    best = file.parent / BEST_FILE  # the same run's model file carries its metadata
    return checkpoint.model, read_metadata(best) if best.exists() else {}, file


def _image_shape(
    model: Sequential, metadata: dict[str, Any], facts: datasets.Dataset | None
) -> tuple[int, int] | None:
    """The pictures' (height, width): the metadata's image_shape; else, for a model of rows,
    its dataset's, or a square of its number of inputs; else None."""
    shape = metadata.get("image_shape")
    if shape is not None:
        return (shape[0], shape[1])
    if model.input_shape is not None and len(model.input_shape) == 3:
        return None  # a convnet: only its metadata knows
    if facts is not None:
        return facts.image_shape
    side = math.isqrt(model.n_inputs or 0)
    return (side, side) if side > 0 and side * side == model.n_inputs else None


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# The metadata fields read here: a test of the value and what it must be.
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


def _picture_datasets() -> list[str]:
    """The names of the datasets whose models read pictures."""
    return [name for name in datasets.names() if datasets.get(name).picture is not None]
