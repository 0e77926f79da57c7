"""The settings of a language model's training run (``TextConfig``) and its presets.

``numpynn train --dataset shakespeare --preset gpt`` (or ``char-lstm``; ``--dataset names
--preset names``) trains a language model: a number of steps, each a batch of windows of the
text (or of names), the validation loss every ``eval_every`` steps, AdamW with a warm-up and
a cosine decay per step, as nanoGPT does. Like ``TrainConfig``, the resolved settings are
saved as ``config.json`` (with ``"task": "language-model"``) and read back by ``--resume``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from .. import datasets
from ..language_models import RECURRENT
from ..optimizers import AdamW
from ..validation import (
    check_fraction,
    check_non_negative,
    check_non_negative_int,
    check_positive,
    check_positive_int,
)
from .config import SavedConfig, checked_by_library

TASK = "language-model"  # config.json's "task" for these runs (a classifier's has none)


@dataclass
class TextConfig(SavedConfig):
    """Everything that determines a language model's run (with the seed, it is
    reproducible). ``network`` "gpt": :func:`numpynn.language_models.gpt` of ``dim``,
    ``layers`` blocks and ``heads`` heads; "lstm" (or "gru", "rnn"): ``char_rnn`` with an
    embedding of ``dim`` and ``layers`` recurrent layers of ``hidden`` units."""

    dataset: str = "shakespeare"
    preset: str = "gpt"
    network: str = "gpt"
    block: int = 64  # tokens per window: the context the model reads
    dim: int = 128
    layers: int = 4
    heads: int = 4
    hidden: int = 0  # recurrent units (lstm/gru/rnn)
    dropout: float = 0.0
    token_std: float = 0.02  # the token embedding's initial weights' standard deviation (gpt)
    batch_size: int = 12  # windows per step
    steps: int = 2000
    eval_every: int = 250  # steps between validation losses (and checkpoints)
    eval_windows: int = 500  # validation windows spread over the validation text
    lr: float = 1e-3  # the peak rate, after the warm-up
    min_lr: float = 1e-4  # the rate at the end of the cosine decay
    warmup: int = 100  # steps of linear warm-up
    beta2: float = 0.99
    weight_decay: float = 0.1  # AdamW's decoupled decay of the weight matrices
    clipnorm: float = 1.0  # the gradients' global norm is clipped to this
    seed: int = 0
    blas_threads: int | None = None  # set when the run starts; --resume keeps it
    task: str = TASK

    may_be_missing: ClassVar[tuple[str, ...]] = ("blas_threads", "token_std")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, check_text_setting(f.name, getattr(self, f.name)))
        if self.network == "gpt" and self.dim % self.heads:
            raise ValueError(f"dim ({self.dim}) must be a multiple of heads ({self.heads})")
        if self.network != "gpt" and not self.hidden:
            raise ValueError(f"a {self.network} network needs hidden units, got hidden 0")


def _one_of(options: list[str]) -> Callable[[str, object], str]:
    def check(name: str, value: object) -> str:
        if value not in options:
            raise ValueError(f"{name} must be one of {', '.join(options)}, got {value!r}")
        return str(value)

    return check


TEXT_DATASETS = [name for name in datasets.names() if datasets.get(name).is_text]

CHECKS: dict[str, Callable[[str, object], Any]] = {
    "dataset": _one_of(TEXT_DATASETS),
    "network": _one_of(["gpt", *RECURRENT]),
    "task": _one_of([TASK]),
    "lr": checked_by_library(lambda v: AdamW(lr=v).lr, "lr"),
    "min_lr": check_non_negative,
    "beta2": checked_by_library(lambda v: AdamW(beta2=v).beta2, "beta2"),
    "weight_decay": checked_by_library(
        lambda v: AdamW(weight_decay=v).weight_decay, "weight_decay"
    ),
    "clipnorm": check_positive,
    "token_std": check_positive,
    "dropout": check_fraction,
    "seed": check_non_negative_int,
    "warmup": check_non_negative_int,
    "hidden": check_non_negative_int,
    **{
        name: check_positive_int
        for name in (
            "block",
            "dim",
            "layers",
            "heads",
            "batch_size",
            "steps",
            "eval_every",
            "eval_windows",
            "blas_threads",
        )
    },
}


def check_text_setting(name: str, value: object) -> Any:
    """``value`` if the setting ``name`` accepts it; ValueError naming it otherwise."""
    if name == "preset":
        return _one_of(sorted(TEXT_PRESETS))(name, value)
    if name == "blas_threads" and value is None:
        return None
    try:
        return CHECKS[name](name, value)
    except TypeError as exc:  # a value of the wrong type, e.g. 2.5 for an integer
        raise ValueError(str(exc)) from None


# The presets: each names its dataset and changes TextConfig's defaults (nanoGPT's).
TEXT_PRESETS: dict[str, dict[str, Any]] = {
    # nanoGPT's "I only have a laptop" Shakespeare run: 4 layers, 4 heads, 128 wide, block 64,
    # batch 12, 2,000 steps, no dropout, AdamW (1e-3 to 1e-4, beta2 0.99, decay 0.1, clip 1).
    "gpt": {"dataset": "shakespeare"},
    # A character LSTM sized for about ten minutes on two cores: one layer of 512 units reads
    # windows of 64 characters, 32 a step (benchmarks/research/PRESETS.md).
    "char-lstm": {
        "dataset": "shakespeare",
        "network": "lstm",
        "dim": 64,
        "hidden": 512,
        "layers": 1,
        "block": 64,
        "batch_size": 32,
        "steps": 2800,
        "eval_every": 400,
        "lr": 2e-3,
        "min_lr": 2e-4,
        "weight_decay": 0.01,
    },
    # A small GPT on makemore's names, each name one padded row ("." + name -> name + "."),
    # batches of random names: chosen by experiment (benchmarks/research/PRESETS.md).
    "names": {
        "dataset": "names",
        "block": 16,
        "dim": 96,
        "layers": 3,
        "heads": 4,
        "dropout": 0.1,
        "token_std": 1.0,
        "batch_size": 64,
        "steps": 9600,
        "eval_every": 800,
        "lr": 2e-3,
        "min_lr": 2e-4,
        "warmup": 200,
        "weight_decay": 0.1,
    },
}

# The settings the command line may give for a language model (the others are the preset's).
TEXT_OPTIONS = ("steps", "eval_every", "lr", "batch_size", "dropout", "seed")


def resolve_text(preset: str, options: dict[str, Any]) -> TextConfig:
    """The config of a new language-model run: TextConfig's defaults, the preset's, then
    ``options`` (only those the user gave)."""
    values = {**TEXT_PRESETS[preset], **options, "preset": preset}
    dataset = values.get("dataset", TextConfig.dataset)
    wanted = TEXT_PRESETS[preset].get("dataset")
    if wanted != dataset:
        fitting = [p for p, v in TEXT_PRESETS.items() if v.get("dataset") == dataset]
        raise ValueError(
            f"--preset {preset} trains on {wanted}, not {dataset}"
            + (f": use --preset {' or '.join(fitting)}" if fitting else "")
        )
    return TextConfig(**values)
