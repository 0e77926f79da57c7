"""Datasets by name, split into training, validation and test sets for the command line."""

from __future__ import annotations

from dataclasses import dataclass

from .. import datasets
from .._typing import Array


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
    dataset = datasets.get(name)
    (X, y), (X_test, y_test) = _load(dataset, data_dir)
    image_shape = dataset.image_shape
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
    labels = list(dataset.classes)
    return Splits(X_train, y_train, X_val, y_val, X_test, y_test, labels, image_shape)


def load_test(name: str, data_dir: str | None = None) -> tuple[Array, Array]:
    """The test set of ``name``: X (n_samples, n_features) float32, y (n_samples,) int64."""
    return _load(datasets.get(name), data_dir)[1]


def _load(
    dataset: datasets.Dataset, data_dir: str | None
) -> tuple[tuple[Array, Array], tuple[Array, Array]]:
    """(train, test) of ``dataset``, refusing a --data-dir it does not read."""
    if data_dir is not None and not dataset.reads_data_dir:
        readers = [name for name in datasets.names() if datasets.get(name).reads_data_dir]
        raise ValueError(
            f"--data-dir {data_dir}: the {dataset.name} dataset does not read a data directory "
            f"(it is {dataset.source}); --data-dir is for {' and '.join(readers)}"
        )
    return dataset.load(data_dir)
