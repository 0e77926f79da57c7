"""The served model and what the API and the page say about it (name, classes, accuracy)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .._typing import Array
from ..errors import FileFormatError, ShapeError
from ..model import Sequential
from ..trained import PathLike, TrainedModel, describe, load_trained

REPORT_FILE = "metrics.json"  # a run's report, beside its model.npz


@dataclasses.dataclass(frozen=True)
class ServedModel:
    """A classifier of pictures as the server shows it; made by :func:`load_served`.

    Parameters
    ----------
    trained : TrainedModel
        The classifier and its metadata.
    name : str
        Its name on the page and in the API (:func:`display_name`).
    image_shape : tuple of int
        (height, width) of the input pictures.
    test_accuracy : float, optional
        Its accuracy on the test set, in [0, 1], if known.
    """

    trained: TrainedModel
    name: str  # the run directory and file ("20261126-005236-mnist/model.npz") or the file
    image_shape: tuple[int, int]  # (height, width) of the input image
    test_accuracy: float | None

    @property
    def model(self) -> Sequential:
        return self.trained.model

    @property
    def dataset(self) -> str | None:
        return self.trained.dataset

    @property
    def labels(self) -> list[str]:
        """One name per output class."""
        return self.trained.classes

    @property
    def input_mode(self) -> str:
        """How the page takes an input, "draw" a digit or "upload" a photo (of an item)."""
        return "upload" if self.trained.picture == "item" else "draw"

    def probabilities(self, X: Array) -> Array:
        """Class probabilities (n, n_classes) for X: (n, height * width) in [0, 1] (given to
        a convnet as images (n, 1, height, width)).

        Parameters
        ----------
        X : ndarray
            (n, height * width) pixels in [0, 1].

        Returns
        -------
        ndarray
            (n, n_classes) probabilities.
        """
        return self.trained.class_probabilities(X)

    def layers(self) -> list[dict[str, Any]]:
        """[{"type": "Dense", "n_in": 784, "n_out": 32, ...}, {"type": "ReLU"}, ...]."""
        return [{"type": type(layer).__name__, **layer.config()} for layer in self.model.layers]

    def architecture(self) -> str:
        """'Dense(784, 32) -> ReLU -> Dense(32, 10) -> Softmax'."""
        return describe(self.model)


def load_served(path: PathLike) -> ServedModel:
    """The classifier of pictures at ``path`` (``numpynn.trained.load_trained``: a model file,
    checkpoint or run directory) and its test accuracy (from its metadata, else from the run
    report metrics.json beside a run's model.npz). FileFormatError or ValueError naming the
    file for a model that cannot serve pictures.

    Parameters
    ----------
    path : str or os.PathLike
        A model file, a checkpoint or a run directory.

    Returns
    -------
    ServedModel
        The classifier with its display name, picture shape and test accuracy.

    Raises
    ------
    ValueError
        For a model of points, or one that is not a classifier or cannot take its pictures.
    FileFormatError
        For a damaged file, bad metadata or a test_accuracy outside [0, 1].
    numpynn.PathError
        For a path that cannot be read (an OSError).
    """
    trained = load_trained(path)
    height, width = trained.pictures()
    trained.check_features(height * width, f"its {height}x{width} pictures have")
    try:
        trained.class_probabilities(np.zeros((1, height * width)))
    except TypeError:
        raise ValueError(
            f"{trained.path} is not a classifier (its output layer is not a softmax or sigmoid)"
        ) from None
    except ShapeError as exc:  # a convnet whose image_shape is not the one it was trained on
        raise ValueError(f"{trained.path} cannot take {height}x{width} images: {exc}") from None

    file = trained.path
    report = file.parent / REPORT_FILE
    has_run = report.is_file()
    accuracy = trained.metadata.get("test_accuracy")
    if accuracy is None and has_run and file.name == "model.npz":  # the report's model
        accuracy = _report_accuracy(report)
    if accuracy is not None and not (_number(accuracy) and 0 <= accuracy <= 1):
        raise FileFormatError(f"{file}: metadata field 'test_accuracy' must be in 0..1")

    return ServedModel(trained, display_name(file), (height, width), accuracy)


def display_name(file: Path) -> str:
    """How the page and the API name a model file: "20261126-005236-mnist/model.npz" in a run
    directory (a run report beside it), else the file's name.

    Parameters
    ----------
    file : pathlib.Path
        A model file.

    Returns
    -------
    str
        ``"<run directory>/<file>"`` or ``"<file>"``.
    """
    has_run = (file.parent / REPORT_FILE).is_file()
    return f"{file.parent.name}/{file.name}" if has_run else file.name


def _report_accuracy(report: Path) -> float | None:
    """The test accuracy in a run report (metrics.json), None if unreadable."""
    try:
        accuracy = json.loads(report.read_text())["test"]["accuracy"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return float(accuracy) if _number(accuracy) else None


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
