"""The settings of a training run (``TrainConfig``), the presets, and per-dataset defaults.

A run's settings come from, in increasing priority: the ``TrainConfig`` defaults, the
dataset's defaults (``DATASET_DEFAULTS``), a preset (``PRESETS``), and the command-line
options. The resolved config is saved as ``config.json`` in the run directory, which is what
``numpynn train --resume`` reads back.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FileFormatError
from ..layers import ACTIVATION_LAYERS
from ..losses import LOSSES
from ..optimizers import OPTIMIZERS
from ..validation import (
    check_fraction,
    check_non_negative,
    check_non_negative_int,
    check_positive,
    check_positive_int,
)
from .data import DATASETS

# What each setting of TrainConfig accepts: names from a list, or numbers checked by
# numpynn.validation ("hidden" is a list of them; the OPTIONAL ones may also be None).
CHOICES: dict[str, list[str]] = {
    "dataset": list(DATASETS),
    "activation": sorted(set(ACTIVATION_LAYERS) - {"softmax", "step"}),
    "output": ["sigmoid", "softmax"],  # read as class probabilities
    "loss": sorted(LOSSES),
    "optimizer": sorted(OPTIMIZERS),
    "network": ["mlp", "cnn"],
    "schedule": ["exponential", "cosine"],
}
NUMBERS: dict[str, Callable[[str, object], Any]] = {
    "hidden": check_positive_int,
    "lr": check_positive,
    "lr_decay": check_positive,
    "epochs": check_positive_int,
    "batch_size": check_positive_int,
    "l2": check_non_negative,
    "dropout": check_fraction,
    "seed": check_non_negative_int,
    "validation": check_positive_int,
    "blas_threads": check_positive_int,
    "workers": check_positive_int,
    "patience": check_positive_int,
    "shift": check_non_negative_int,
}
INTEGERS = {name for name, check in NUMBERS.items() if "int" in check.__name__}
# Settings that may be missing from a config.json (older runs): their default then; all but
# the CHOICES and "shift" may also be None.
OPTIONAL = ("blas_threads", "workers", "patience", "network", "schedule", "shift")


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


@dataclass
class TrainConfig:
    """Everything that determines a training run (with the seed, the run is reproducible)."""

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

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save(self, path: Path) -> None:
        from ..atomic import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        """The config saved in ``path``; FileFormatError naming the file and the setting if
        it is not one. Every setting but the ``OPTIONAL`` ones must be there."""
        try:
            values = json.loads(Path(path).read_text())
            if not isinstance(values, dict):
                raise ValueError(f"expected a JSON object, got {type(values).__name__}")
            names = [f.name for f in dataclasses.fields(cls)]
            unknown = sorted(set(values) - set(names))
            if unknown:
                raise ValueError(f"unknown setting {unknown[0]!r}")
            missing = [k for k in names if k not in values and k not in OPTIONAL]
            if missing:
                raise ValueError(f"the setting {missing[0]!r} is missing")
            return cls(**values)
        except FileNotFoundError:
            raise
        except ValueError as exc:  # also UnicodeDecodeError and json's errors
            raise FileFormatError(f"{path} is not a numpynn run config: {exc}") from None


# Settings that differ from the TrainConfig defaults, per dataset.
DATASET_DEFAULTS: dict[str, dict[str, Any]] = {
    "mnist": {},
    "fashion-mnist": {},
    "digits": {
        "hidden": [64],
        "lr": 1e-3,
        "lr_decay": 1.0,
        "epochs": 30,
        "batch_size": 32,
        "validation": 200,
    },
    # The classic 2-4-1 network: tanh hidden layer, one sigmoid output.
    "planar": {
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
}

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


# What a preset changes for one dataset, after its own settings.
PRESET_DATASETS: dict[tuple[str, str], dict[str, Any]] = {
    # Fashion-MNIST's items are centred and aligned, unlike handwriting: shifts of up to 1
    # pixel, not 2 (92.76-92.89% test accuracy against 91.67-92.38%: CNN_TRAINING.md).
    ("cnn", "fashion-mnist"): {"shift": 1},
}


def resolve(preset: str, options: dict[str, Any]) -> TrainConfig:
    """The config of a new run: defaults, then the dataset's, the preset's (and the preset's
    for that dataset), then ``options`` (only the options the user gave)."""
    dataset = options.get("dataset") or PRESETS[preset].get("dataset") or TrainConfig.dataset
    values = {
        **DATASET_DEFAULTS[dataset],
        **PRESETS[preset],
        **PRESET_DATASETS.get((preset, dataset), {}),
        **options,
        "dataset": dataset,
    }
    cfg = TrainConfig(**values)
    if (cfg.network == "cnn" or cfg.shift) and dataset == "planar":
        raise ValueError(
            "the planar dataset holds points, not images: --preset cnn and shifts need an image "
            "dataset (mnist, fashion-mnist, digits)"
        )
    check_loss_fits_output(cfg, f"--preset {preset}" if "output" in PRESETS[preset] else dataset)
    return cfg


def check_loss_fits_output(cfg: TrainConfig, source: str) -> None:
    """Refuse a --loss that does not fit the network's output (the library's check,
    numpynn.losses.check_loss, in the command line's words), before anything is loaded."""
    n_classes = 2 if cfg.dataset == "planar" else 10
    ends = f"the {source} network ends with {cfg.output}"
    if cfg.loss == "cross_entropy" and cfg.output != "softmax":
        raise ValueError(
            f"--loss cross_entropy needs a softmax output, but {ends}: use --loss mse"
            + (" or binary_cross_entropy" if n_classes == 2 else "")
        )
    if cfg.loss == "binary_cross_entropy" and (cfg.output != "sigmoid" or n_classes != 2):
        raise ValueError(
            "--loss binary_cross_entropy needs one sigmoid output for two classes (--dataset "
            f"planar), but {ends} for {cfg.dataset}'s {n_classes} classes: use --loss "
            + ("mse" if cfg.output == "sigmoid" else "cross_entropy or mse")
        )
