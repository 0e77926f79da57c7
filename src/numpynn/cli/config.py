"""The settings of a training run (``TrainConfig``) and the presets.

A run's settings come from, in increasing priority: the ``TrainConfig`` defaults, the
dataset's defaults (its registry entry's ``train_defaults``), a preset (``PRESETS``, and what
the dataset's entry changes for that preset), and the command-line options. The resolved
config is saved as ``config.json`` in the run directory, which is what ``numpynn train
--resume`` reads back.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from .. import datasets
from ..callbacks import EarlyStopping
from ..errors import FileFormatError
from ..layers import ACTIVATION_LAYERS
from ..losses import LOSSES, check_loss
from ..optimizers import OPTIMIZERS, SGD, Optimizer
from ..paths import READ, path_errors
from ..schedules import ExponentialDecay
from ..validation import (
    check_fraction,
    check_non_negative_int,
    check_positive_int,
)


def checked_by_library(build: Callable[[Any], Any], argument: str) -> Callable[[str, object], Any]:
    """The check of a setting the library takes as ``argument``: ``build(value)`` (which
    returns the value as the library holds it) makes it, so the rule is the library's own, and
    its error names the setting in place of ``argument``."""

    def check(name: str, value: object) -> Any:
        try:
            return build(value)
        except (TypeError, ValueError) as exc:
            message = str(exc)
            if message.startswith(f"{argument} "):
                message = name + message[len(argument) :]
            raise type(exc)(message) from None

    check.__name__ = f"check_{argument}"
    return check


# What each setting of TrainConfig accepts: names from a list, or numbers ("hidden" is a list
# of them; the OPTIONAL ones may also be None), checked by the library's constructor of what
# they become where it has one, else by numpynn.validation's shared checks.
CHOICES: dict[str, list[str]] = {
    "dataset": [name for name in datasets.names() if datasets.get(name).classes],  # classifiers
    "activation": sorted(set(ACTIVATION_LAYERS) - {"softmax", "step"}),
    "output": ["sigmoid", "softmax"],  # read as class probabilities
    "loss": sorted(LOSSES),
    "optimizer": sorted(OPTIMIZERS),
    "network": ["mlp", "cnn"],
    "schedule": ["exponential", "cosine"],
}
NUMBERS: dict[str, Callable[[str, object], Any]] = {
    "hidden": check_positive_int,
    "lr": checked_by_library(lambda v: Optimizer(lr=v).lr, "lr"),
    "lr_decay": checked_by_library(lambda v: ExponentialDecay(v).rate, "rate"),
    "momentum": checked_by_library(lambda v: SGD(momentum=v).momentum, "momentum"),
    "epochs": check_positive_int,
    "batch_size": check_positive_int,
    "l2": checked_by_library(lambda v: Optimizer(weight_decay=v).weight_decay, "weight_decay"),
    "dropout": check_fraction,
    "seed": check_non_negative_int,
    "validation": check_positive_int,
    "blas_threads": check_positive_int,
    "workers": check_positive_int,
    "patience": checked_by_library(lambda v: EarlyStopping(patience=v).patience, "patience"),
    "shift": check_non_negative_int,
}
# Settings that may be missing from a config.json (older runs): their default then; all but
# the CHOICES and "shift" may also be None.
OPTIONAL = ("blas_threads", "workers", "patience", "network", "schedule", "shift", "momentum")


def check_setting(name: str, value: object) -> Any:
    """``value`` if the setting ``name`` accepts it; ValueError naming it otherwise."""
    try:
        if name in CHOICES:
            if value not in CHOICES[name]:
                raise ValueError(f"{name} must be one of {', '.join(CHOICES[name])}, got {value!r}")
            return value
        if name == "hidden":
            if not isinstance(value, list) or not value:
                raise ValueError(f"hidden must be a list of positive integers, got {value!r}")
            return [NUMBERS[name](name, v) for v in value]
        if name in OPTIONAL and name != "shift" and value is None:
            return None
        return NUMBERS[name](name, value)
    except TypeError as exc:  # a value of the wrong type, e.g. 2.5 for an integer
        raise ValueError(str(exc)) from None


def parse_setting(name: str, text: str) -> Any:
    """The number of the setting ``name`` (for "hidden": one width) written in ``text`` (a
    command-line option), checked; ValueError naming the setting and the text otherwise."""
    try:
        value: object = int(text) if name in INTEGERS else float(text)
    except ValueError:
        value = text  # the check names what it expects
    try:
        return NUMBERS[name](name, value)
    except (TypeError, ValueError) as exc:  # "... got -1.0": show what was typed
        raise ValueError(f"{str(exc).rsplit(', got ', 1)[0]}, got {text!r}") from None


Config = TypeVar("Config", bound="SavedConfig")


class SavedConfig:
    """A run's settings (a dataclass) as its config.json: ``save``, and ``load`` for
    ``--resume``, which checks them again (the dataclass's ``__post_init__``)."""

    may_be_missing: ClassVar[tuple[str, ...]] = ()  # settings older files may lack

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def save(self, path: Path) -> None:
        from ..atomic import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls: type[Config], path: Path) -> Config:
        """The config saved in ``path``; FileFormatError naming the file and the setting if
        it is not one. Every setting but the ``may_be_missing`` ones must be there."""
        with path_errors(READ, path, "run config"):
            text = Path(path).read_bytes()
        try:
            values = json.loads(text.decode())
            if not isinstance(values, dict):
                raise ValueError(f"expected a JSON object, got {type(values).__name__}")
            names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
            unknown = sorted(set(values) - set(names))
            if unknown:
                raise ValueError(f"unknown setting {unknown[0]!r}")
            missing = [k for k in names if k not in values and k not in cls.may_be_missing]
            if missing:
                raise ValueError(f"the setting {missing[0]!r} is missing")
            return cls(**values)
        except ValueError as exc:  # also UnicodeDecodeError and json's errors
            raise FileFormatError(f"{path} is not a numpynn run config: {exc}") from None


@dataclass
class TrainConfig(SavedConfig):
    """Everything that determines a training run (with the seed, the run is reproducible)."""

    may_be_missing: ClassVar[tuple[str, ...]] = OPTIONAL

    dataset: str = "mnist"
    # "mlp": Dense layers of the widths in ``hidden``; "cnn": the convnet of issue 10, two
    # 3x3 convolutions (32 and 64 filters) with BatchNorm, ReLU and 2x2 max pooling, then
    # Dense layers of the widths in ``hidden``.
    network: str = "mlp"
    hidden: list[int] = field(default_factory=lambda: [512])  # hidden layer widths
    activation: str = "relu"
    output: str = "softmax"  # output activation
    loss: str = "cross_entropy"
    optimizer: str = "adam"
    lr: float = 2e-3
    # "exponential": the learning rate of epoch e (from 0) is lr * lr_decay**e; "cosine":
    # from lr down to lr / 100 along half a cosine over the epochs (lr_decay unused).
    schedule: str = "exponential"
    lr_decay: float = 0.7
    # SGD's momentum mu in [0, 1): v <- mu v - lr g, p <- p + v (0: plain SGD; None in runs
    # saved before it existed, the same).
    momentum: float | None = 0.0
    epochs: int = 8
    batch_size: int = 128
    l2: float = 0.0  # weight decay: adds l2 * W to each weight gradient
    dropout: float = 0.2
    seed: int = 0
    validation: int = 5000  # samples held out of the training set
    shift: int = 0  # augmentation: move each training image by up to this many pixels
    # Early stopping: stop when val_loss has not improved for this many epochs and keep the
    # weights of its best epoch (None: off).
    patience: int | None = None
    # BLAS threads the run uses (set when it starts; None: not known). Matrix products can
    # differ in the last bit with another thread count, so --resume keeps this one.
    blas_threads: int | None = None
    # Threads that each train on a share of every batch (fit(workers=)), for "cnn"; set when
    # the run starts (None: 1). Another count draws other dropout masks: --resume keeps it.
    workers: int | None = None

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, check_setting(f.name, getattr(self, f.name)))


# The settings written as integers (the others are floats or names).
INTEGERS = {f.name for f in dataclasses.fields(TrainConfig) if "int" in str(f.type)}

PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    # Nielsen's network.py: [784, 30, 10] sigmoid, quadratic cost, SGD, eta 3.0, mini-batch 10.
    "nielsen": {
        "hidden": [30],
        "activation": "sigmoid",
        "output": "sigmoid",
        "loss": "mse",
        "optimizer": "sgd",
        "lr": 3.0,
        "lr_decay": 1.0,
        "epochs": 30,
        "batch_size": 10,
        "dropout": 0.0,
    },
    # The best plain MLP of this library: two wide ReLU layers, dropout, decaying Adam.
    # Chosen on validation accuracy; timed in benchmarks/TRAIN_TARGETS.md.
    "best-mlp": {
        "hidden": [1024, 1024],
        "dropout": 0.5,
        "lr": 2e-3,
        "lr_decay": 0.85,
        "epochs": 18,
        "batch_size": 256,
    },
    # The convnet of issue 10 with BatchNorm, shifts of up to 2 pixels, Adam along a cosine:
    # 99.42% MNIST test accuracy over 3 seeds, 15 minutes each (benchmarks/CNN_TRAINING.md).
    "cnn": {
        "network": "cnn",
        "hidden": [128],
        "dropout": 0.25,
        "lr": 1e-3,
        "schedule": "cosine",
        "epochs": 24,
        "batch_size": 128,
        "shift": 2,
        "validation": 5000,
    },
}


def resolve(preset: str, options: dict[str, Any]) -> TrainConfig:
    """The config of a new run: defaults, then the dataset's, the preset's (and what the
    dataset changes for the preset), then ``options`` (only the options the user gave)."""
    name = options.get("dataset") or PRESETS[preset].get("dataset") or TrainConfig.dataset
    dataset = datasets.get(name)
    if not dataset.classes:
        raise ValueError(
            f"the {name} dataset has no class labels: numpynn train trains classifiers"
        )
    values = {
        **dataset.train_defaults,
        **PRESETS[preset],
        **dataset.settings_for(preset),
        **options,
        "dataset": name,
    }
    cfg = TrainConfig(**values)
    if (cfg.network == "cnn" or cfg.shift) and not dataset.has_images:
        images = [n for n in datasets.names() if datasets.get(n).has_images]
        raise ValueError(
            f"the {name} dataset holds points, not images: --preset cnn and shifts need an "
            f"image dataset ({', '.join(images)})"
        )
    check_loss_fits_output(cfg, f"--preset {preset}" if "output" in PRESETS[preset] else name)
    if cfg.momentum and cfg.optimizer != "sgd":
        raise ValueError(
            f"--momentum is SGD's velocity; {cfg.optimizer} keeps its own running averages of "
            "the gradients: use --optimizer sgd with --momentum, or leave --momentum out"
        )
    return cfg


def n_outputs(output: str, n_classes: int) -> int:
    """How many outputs the network of a classifier of ``n_classes`` classes has: one sigmoid
    output for two classes, else one per class."""
    return 1 if (n_classes == 2 and output == "sigmoid") else n_classes


def check_loss_fits_output(cfg: TrainConfig, source: str) -> None:
    """Refuse a --loss that does not fit the network's output, before anything is loaded: the
    library's check (numpynn.losses.check_loss, for class labels), in the command line's
    words. ``source`` names where the output came from (the dataset or the preset)."""
    n_classes = datasets.get(cfg.dataset).n_classes
    output_layer = ACTIVATION_LAYERS[cfg.output]()
    try:
        check_loss(
            [output_layer],
            LOSSES[cfg.loss](),
            n_outputs(cfg.output, n_classes),
            class_labels=True,
        )
    except ValueError:
        pass
    else:
        return
    ends = f"the {source} network ends with {cfg.output}"
    if cfg.loss == "binary_cross_entropy":
        two = [n for n in datasets.names() if datasets.get(n).n_classes == 2]
        raise ValueError(
            "--loss binary_cross_entropy needs one sigmoid output for two classes (--dataset "
            f"{' or '.join(two)}), but {ends} for {cfg.dataset}'s {n_classes} classes: use "
            "--loss " + ("mse" if cfg.output == "sigmoid" else "cross_entropy or mse")
        )
    raise ValueError(
        f"--loss {cfg.loss} needs a softmax output, but {ends}: use --loss mse"
        + (" or binary_cross_entropy" if n_classes == 2 else "")
    )
