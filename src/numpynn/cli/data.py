"""Datasets by name, split into training, validation and test sets for the command line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import datasets
from .._typing import Array

DATASETS = ("mnist", "fashion-mnist", "digits", "planar")
DATA_DIR_DATASETS = ("mnist", "fashion-mnist")  # the ones that read --data-dir
IMAGE_SHAPES = {"mnist": (28, 28), "fashion-mnist": (28, 28), "digits": (8, 8)}


@dataclass
class Splits:
    """X_*: (n_samples, n_features) float32, or images (n_samples, 1, height, width) when
    loaded with ``images=True``; y_*: (n_samples,) int64 class labels."""

    X_train: Array
    y_train: Array
    X_val: Array
    y_val: Array
    X_test: Array
    y_test: Array
    labels: list[str]  # class names, indexed by label
    image_shape: tuple[int, int] | None  # (height, width) of image datasets, else None


def load(
    name: str, n_validation: int, seed: int, data_dir: str | None = None, *, images: bool = False
) -> Splits:
    """The dataset ``name`` with ``n_validation`` training samples held out (chosen by
    ``seed``) for validation. ``data_dir`` is passed to the MNIST-style loaders. ``images``:
    X as one-channel images (n, 1, height, width), for a convnet."""
    (X, y), (X_test, y_test), labels, image_shape = _load(name, data_dir)
    if images:
        if image_shape is None:
            raise ValueError(f"the {name} dataset holds points, not images")
        X, X_test = X.reshape(-1, 1, *image_shape), X_test.reshape(-1, 1, *image_shape)
    if not 0 < n_validation < len(X):
        raise ValueError(
            f"--validation must be between 1 and {len(X) - 1} (the {name} training set has "
            f"{len(X)} samples), got {n_validation}"
        )
    (X_train, y_train), (X_val, y_val) = datasets.split_validation(X, y, n_validation, seed=seed)
    return Splits(X_train, y_train, X_val, y_val, X_test, y_test, labels, image_shape)


def load_test(name: str, data_dir: str | None = None) -> tuple[Array, Array]:
    """The test set of ``name``: X (n_samples, n_features) float32, y (n_samples,) int64."""
    return _load(name, data_dir)[1]


def _load(name: str, data_dir: str | None) -> tuple[Any, Any, list[str], tuple[int, int] | None]:
    """(train, test, class labels, image shape) of the dataset ``name``."""
    labels = [str(k) for k in range(10)]
    if data_dir is not None and name not in DATA_DIR_DATASETS:
        source = "scikit-learn's 8x8 digits" if name == "digits" else "points numpynn generates"
        raise ValueError(
            f"--data-dir {data_dir}: the {name} dataset does not read a data directory (it is "
            f"{source}); --data-dir is for {' and '.join(DATA_DIR_DATASETS)}"
        )
    if name == "mnist":
        return (*datasets.load_mnist(data_dir), labels, (28, 28))
    if name == "fashion-mnist":
        return (
            *datasets.load_fashion_mnist(data_dir),
            list(datasets.FASHION_MNIST_CLASSES),
            (28, 28),
        )
    if name == "digits":
        return (*datasets.load_digits(), labels, (8, 8))
    if name == "planar":
        return (*_planar(), ["red", "blue"], None)
    raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {name!r}")


def _planar() -> tuple[tuple[Array, Array], tuple[Array, Array]]:
    """The 400-point flower: a fixed split of 300 training and 100 test points."""
    X, y = datasets.flower(400, seed=1)
    order = np.random.default_rng(0).permutation(len(X))
    X, y = X[order].astype(np.float32), y[order]
    return (X[:300], y[:300]), (X[300:], y[300:])
