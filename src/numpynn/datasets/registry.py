"""The datasets numpynn knows by name, each declared once: how to load it, its class names,
its image shape, whether it reads a data directory, how a picture is prepared for a model of
it, and the command line's training settings for it. Text datasets (``load_text``) have no
class names, images or X/y arrays.

Code outside ``numpynn.datasets`` asks an entry (``get(name)``) instead of comparing names.
A new dataset is one ``register(Dataset(...))`` call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from .mnist import FASHION_MNIST_CLASSES, Split
from .text import TextData, WordsData

PICTURES = ("digit", "item")  # the ways numpynn.imaging prepares a photo or drawing


@dataclass(frozen=True)
class Dataset:
    """One dataset. ``load(data_dir)`` -> ((X_train, y_train), (X_test, y_test)): X rows
    (n, n_features) float32, y (n,) int64 class labels (when ``classes`` names them).

    A text dataset has ``load_text(data_dir)`` instead (a TextData or WordsData); its ``load``
    refuses (there are no X/y arrays) and it has no classes, images or features.

    Parameters
    ----------
    name : str
        The dataset's name, e.g. ``"mnist"``, ``"planar"``.
    load : callable
        ``load(data_dir)`` -> ((X_train, y_train), (X_test, y_test)).
    classes : tuple of str
        Class names indexed by label (empty: no class labels).
    image_shape : tuple of int, optional
        (height, width) of an image dataset; None for points or text.
    reads_data_dir : bool
        Whether ``data_dir`` (the command line's ``--data-dir``) applies.
    picture : str, optional
        How a photo or drawing is prepared for a model of it: ``"digit"`` (MNIST style),
        ``"item"`` (Fashion-MNIST style), or None (it takes no pictures).
    train_defaults : mapping
        The command line's training settings for this dataset (over its defaults).
    preset_settings : mapping
        Per preset name, what that preset changes for this dataset.
    features : int, optional
        The columns of X for a dataset without images.
    source : str
        Where it comes from, in a few words.
    load_text : callable, optional
        A text dataset's loader, ``load_text(data_dir)`` -> TextData or WordsData.

    Raises
    ------
    ValueError
        For an empty name, an unknown picture, a picture without an image_shape, a text
        dataset with classes, image_shape or features, or an X/y dataset with neither
        image_shape nor features.
    """

    name: str  # "mnist", "fashion-mnist", "digits", "planar"
    load: Callable[[str | None], Split]
    classes: tuple[str, ...]  # class names indexed by label (empty: no class labels)
    image_shape: tuple[int, int] | None  # (height, width) of an image dataset, None for points
    reads_data_dir: bool  # whether --data-dir / data_dir applies
    # How a photo or drawing is prepared for a model of this dataset: "digit"
    # (imaging.preprocess_digit, MNIST style), "item" (imaging.preprocess_item, Fashion-MNIST
    # style), or None (it takes no pictures).
    picture: str | None
    # The command line's TrainConfig settings for this dataset (over TrainConfig's defaults).
    train_defaults: Mapping[str, Any] = field(default_factory=dict)
    # Per preset name, what that preset changes for this dataset (after the preset's own).
    preset_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    features: int | None = None  # columns of X for a dataset without images
    source: str = ""  # where it comes from, in a few words ("scikit-learn's 8x8 digits")
    # A text dataset's loader (data_dir -> TextData or WordsData); None for X/y datasets.
    load_text: Callable[[str | None], TextData | WordsData] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        if self.picture not in (*PICTURES, None):
            raise ValueError(
                f"picture must be one of {', '.join(PICTURES)} or None, got {self.picture!r}"
            )
        if self.picture is not None and self.image_shape is None:
            raise ValueError(f"the {self.name} dataset has a picture but no image_shape")
        if self.is_text and (self.classes or self.image_shape or self.features):
            raise ValueError(
                f"the {self.name} dataset is text: it has no classes, image_shape or features"
            )
        if self.image_shape is None and self.features is None and not self.is_text:
            raise ValueError(f"the {self.name} dataset needs an image_shape or its features")
        presets = {k: MappingProxyType(dict(v)) for k, v in self.preset_settings.items()}
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "train_defaults", MappingProxyType(dict(self.train_defaults)))
        object.__setattr__(self, "preset_settings", MappingProxyType(presets))

    @property
    def n_classes(self) -> int:
        """How many classes the labels name (0 for a dataset without class labels)."""
        return len(self.classes)

    @property
    def has_images(self) -> bool:
        """Whether X's rows are images (of ``image_shape``), which convnets and shifts need."""
        return self.image_shape is not None

    @property
    def is_text(self) -> bool:
        """Whether it is a text dataset (``load_text``), not X/y arrays."""
        return self.load_text is not None

    @property
    def n_features(self) -> int:
        """The columns of X, ``height * width`` for images, else ``features``; ValueError for
        text."""
        if self.is_text:
            raise ValueError(f"the {self.name} dataset is text: it has no features")
        if self.image_shape is not None:
            return self.image_shape[0] * self.image_shape[1]
        assert self.features is not None  # __post_init__ checked
        return self.features

    def settings_for(self, preset: str) -> Mapping[str, Any]:
        """What the preset ``preset`` changes for this dataset ({} for most).

        Parameters
        ----------
        preset : str
            A preset's name (``"cnn"``...).

        Returns
        -------
        mapping
            The settings it changes, read-only.
        """
        return self.preset_settings.get(preset, MappingProxyType({}))


_REGISTRY: dict[str, Dataset] = {}


def register(dataset: Dataset) -> None:
    """Add ``dataset``; ValueError if a registered dataset has its name.

    Parameters
    ----------
    dataset : Dataset
        The new entry.

    Raises
    ------
    TypeError
        For anything but a Dataset.
    ValueError
        When a dataset of that name is already registered.
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be a Dataset, got {type(dataset).__name__}")
    if dataset.name in _REGISTRY:
        raise ValueError(f"a dataset named {dataset.name!r} is already registered")
    _REGISTRY[dataset.name] = dataset


def get(name: str) -> Dataset:
    """The dataset registered as ``name``; ValueError naming the known ones otherwise.

    Parameters
    ----------
    name : str
        A registered name: ``"mnist"``, ``"fashion-mnist"``, ``"digits"``, ``"planar"``,
        ``"shakespeare"``, ``"names"``...

    Returns
    -------
    Dataset
        Its entry.

    Raises
    ------
    ValueError
        For an unknown name.
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name
        raise ValueError(f"dataset must be one of {', '.join(_REGISTRY)}, got {name!r}") from None


def names() -> tuple[str, ...]:
    """The registered names, in registration order."""
    return tuple(_REGISTRY)


# The loaders of the package's namespace, looked up when called, so that what runs is what
# numpynn.datasets holds then (a test may replace load_mnist there).


def _mnist(data_dir: str | None) -> Split:
    from . import load_mnist

    return load_mnist(data_dir)


def _fashion_mnist(data_dir: str | None) -> Split:
    from . import load_fashion_mnist

    return load_fashion_mnist(data_dir)


def _digits(data_dir: str | None) -> Split:
    from . import load_digits

    return load_digits()


def _planar(data_dir: str | None) -> Split:
    """The 400-point flower: a fixed split of 300 training and 100 test points."""
    from . import flower

    X, y = flower(400, seed=1)
    order = np.random.default_rng(0).permutation(len(X))
    X, y = X[order].astype(np.float32), y[order]
    return (X[:300], y[:300]), (X[300:], y[300:])


def _shakespeare(data_dir: str | None) -> TextData:
    from . import load_shakespeare

    return load_shakespeare(data_dir)


def _names(data_dir: str | None) -> WordsData:
    from . import load_names

    return load_names(data_dir)


def _text_has_no_arrays(name: str) -> Callable[[str | None], Split]:
    """The ``load`` of the text dataset ``name``: a ValueError pointing to ``load_text``."""

    def load(data_dir: str | None) -> Split:
        raise ValueError(f"the {name} dataset is text, not X/y arrays: use its load_text(data_dir)")

    return load


DIGIT_CLASSES = tuple(str(k) for k in range(10))

register(
    Dataset(
        "mnist",
        _mnist,
        DIGIT_CLASSES,
        (28, 28),
        reads_data_dir=True,
        picture="digit",
        source="MNIST's handwritten digits",
    )
)
register(
    Dataset(
        "fashion-mnist",
        _fashion_mnist,
        FASHION_MNIST_CLASSES,
        (28, 28),
        reads_data_dir=True,
        picture="item",
        # Fashion-MNIST's items are centred and aligned, unlike handwriting: shifts of up to
        # 1 pixel, not 2 (92.76-92.89% test accuracy against 91.67-92.38%: CNN_TRAINING.md).
        preset_settings={"cnn": {"shift": 1}},
        source="Zalando's clothing images",
    )
)
register(
    Dataset(
        "digits",
        _digits,
        DIGIT_CLASSES,
        (8, 8),
        reads_data_dir=False,
        picture="digit",
        train_defaults={
            "hidden": [64],
            "lr": 1e-3,
            "lr_decay": 1.0,
            "epochs": 30,
            "batch_size": 32,
            "validation": 200,
        },
        source="scikit-learn's 8x8 digits",
    )
)
register(
    Dataset(
        "planar",
        _planar,
        ("red", "blue"),
        None,
        reads_data_dir=False,
        picture=None,
        # The classic 2-4-1 network: tanh hidden layer, one sigmoid output.
        train_defaults={
            "hidden": [4],
            "activation": "tanh",
            "output": "sigmoid",
            "loss": "binary_cross_entropy",
            "lr": 0.05,
            "lr_decay": 1.0,
            "epochs": 150,
            "batch_size": 32,
            "dropout": 0.0,
            "validation": 40,
        },
        features=2,
        source="points numpynn generates",
    )
)
for _name, _loader, _source in (
    ("shakespeare", _shakespeare, "tiny Shakespeare, nanoGPT's character-level benchmark"),
    ("names", _names, "makemore's 32,033 first names"),
):
    register(
        Dataset(
            _name,
            _text_has_no_arrays(_name),
            (),
            None,
            reads_data_dir=True,
            picture=None,
            source=_source,
            load_text=_loader,
        )
    )
