"""The settings of a training run (``TrainConfig``), the presets, and per-dataset defaults.

A run's settings come from, in increasing priority: the ``TrainConfig`` defaults, the
dataset's defaults (``DATASET_DEFAULTS``), a preset (``PRESETS``), and the command-line
options. The resolved config is saved as ``config.json`` in the run directory, which is what
``numpynn train --resume`` reads back.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FileFormatError


@dataclass
class TrainConfig:
    """Everything that determines a training run (with the seed, the run is reproducible)."""

    dataset: str = "mnist"
    hidden: list[int] = field(default_factory=lambda: [512])  # hidden layer widths
    activation: str = "relu"
    output: str = "softmax"  # output activation
    loss: str = "cross_entropy"
    optimizer: str = "adam"
    lr: float = 2e-3
    lr_decay: float = 0.7  # the learning rate of epoch e (from 0) is lr * lr_decay**e
    epochs: int = 8
    batch_size: int = 128
    l2: float = 0.0  # weight decay: adds l2 * W to each weight gradient
    dropout: float = 0.2
    seed: int = 0
    validation: int = 5000  # samples held out of the training set
    # BLAS threads the run uses (set when it starts; None: not known). Matrix products can
    # differ in the last bit with another thread count, so --resume keeps this one.
    blas_threads: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save(self, path: Path) -> None:
        from ..atomic import atomic_write

        with atomic_write(path) as f:
            f.write((json.dumps(self.to_dict(), indent=2) + "\n").encode())

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        """The config saved in ``path``; FileFormatError naming the file if it is not one."""
        try:
            values = json.loads(Path(path).read_text())
            return cls(**values)
        except FileNotFoundError:
            raise
        except (ValueError, TypeError) as exc:
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
    "best-mlp": {
        "hidden": [800, 800],
        "dropout": 0.3,
        "lr": 1e-3,
        "lr_decay": 0.8,
        "epochs": 15,
        "batch_size": 128,
    },
}


def resolve(preset: str, options: dict[str, Any]) -> TrainConfig:
    """The config of a new run: defaults, then the dataset's, the preset's, then ``options``
    (only the options the user gave)."""
    dataset = options.get("dataset") or PRESETS[preset].get("dataset") or TrainConfig.dataset
    values = {**DATASET_DEFAULTS[dataset], **PRESETS[preset], **options, "dataset": dataset}
    return TrainConfig(**values)
