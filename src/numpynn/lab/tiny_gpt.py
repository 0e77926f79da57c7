"""Chapter 19, a tiny GPT (Karpathy's nanoGPT, its Shakespeare-char CPU setting): a
character transformer trained on tiny Shakespeare by random windows, its training and
validation loss by step, what it writes after 0, 250, 1,000 and 2,000 steps, and what a few
of its attention heads look at on a line of text it never trained on."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._typing import Array
from ..callbacks import Callback, LearningRateScheduler
from ..datasets import load_shakespeare
from ..datasets.vocabulary import CharVocabulary
from ..generation import generate
from ..language_models import gpt
from ..layers import TransformerBlock
from ..model import Sequential
from ..optimizers import AdamW
from ..plots import new_figure
from ..sampling import RandomWindows, spread_windows
from ..schedules import CosineDecay, WarmUp
from .chapter import Chapter

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# nanoGPT's train_shakespeare_char.py as its README runs it on a CPU, the settings of
# `numpynn train --preset gpt` (TextConfig's defaults in cli/text_config.py; the lab cannot
# import the command line, so tests/test_lab_gpt.py checks that the two agree).
NANOGPT: dict[str, Any] = {
    "block": 64,
    "dim": 128,
    "layers": 4,
    "heads": 4,
    "batch_size": 12,
    "steps": 2000,
    "eval_every": 250,
    "eval_windows": 500,
    "lr": 1e-3,
    "min_lr": 1e-4,
    "warmup": 100,
    "beta2": 0.99,
    "weight_decay": 0.1,
    "clipnorm": 1.0,
}
NANOGPT_VAL_LOSS = 1.88  # nanoGPT's README for this setting (numpynn's preset: 1.8696, seed 0)

# The chapter's default: the same 2,000 steps with a model 64 wide and 2 blocks deep
# (about a sixth of the work per step), to run in well under a minute.
SMALL: dict[str, Any] = {**NANOGPT, "dim": 64, "layers": 2}

SAMPLE_STEPS = (0, 250, 1000, 2000)
TEMPERATURE = 0.8  # nanoGPT's sample.py
# A line of the validation text (the last 10%, never trained on): the heat maps' input.
LINE = "BAPTISTA:\nGood morrow, neighbour Gremio.\n"


class Recorder(Callback):
    """Records each step's training loss and, after the steps in ``sample_at`` (0: before
    the first), ``length`` characters written by the model after a newline."""

    def __init__(
        self,
        model: Sequential,
        vocabulary: CharVocabulary,
        sample_at: Sequence[int],
        length: int,
        seed: int,
    ) -> None:
        self.writer, self.vocabulary, self.sample_at = model, vocabulary, set(sample_at)
        self.length, self.seed = length, seed
        self.losses: list[float] = []
        self.samples: dict[int, str] = {}

    def on_train_begin(self, model: Any) -> None:
        super().on_train_begin(model)
        if 0 in self.sample_at:
            self._sample(0)

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        self.losses.append(logs["loss"])
        if self.run.step in self.sample_at:
            self._sample(self.run.step)

    def _sample(self, step: int) -> None:
        self.samples[step] = write(self.writer, self.vocabulary, self.length, self.seed)


def write(model: Sequential, vocabulary: CharVocabulary, length: int, seed: int) -> str:
    """``length`` characters the model writes after a newline, at :data:`TEMPERATURE`,
    with :func:`numpynn.generation.generate` (seeded)."""
    prompt = vocabulary.encode("\n")
    ids = generate(model, prompt, length, temperature=TEMPERATURE, seed=seed)
    return vocabulary.decode(ids[len(prompt) :])


def train_tiny_gpt(
    *,
    block: int = SMALL["block"],
    dim: int = SMALL["dim"],
    layers: int = SMALL["layers"],
    heads: int = SMALL["heads"],
    batch_size: int = SMALL["batch_size"],
    steps: int = SMALL["steps"],
    eval_every: int = SMALL["eval_every"],
    eval_windows: int = SMALL["eval_windows"],
    lr: float = SMALL["lr"],
    min_lr: float = SMALL["min_lr"],
    warmup: int = SMALL["warmup"],
    beta2: float = SMALL["beta2"],
    weight_decay: float = SMALL["weight_decay"],
    clipnorm: float = SMALL["clipnorm"],
    sample_at: Sequence[int] = SAMPLE_STEPS,
    sample_length: int = 200,
    seed: int = 0,
    data_dir: str | None = None,
) -> dict[str, Any]:
    """Train :func:`numpynn.gpt` (``dim`` wide, ``layers`` blocks of ``heads``
    heads, ``block`` characters of context) on tiny Shakespeare as ``numpynn train --preset
    gpt`` does, with the same seeding (same ``seed``, same run): ``steps`` batches of
    ``batch_size`` random windows (:class:`numpynn.sampling.RandomWindows`), AdamW with a
    warm-up of ``warmup`` steps to ``lr`` and a cosine to ``min_lr``, set every step by
    :class:`numpynn.callbacks.LearningRateScheduler`; the validation loss on ``eval_windows``
    windows spread over the validation text (:func:`numpynn.spread_windows`) before
    the first step and every ``eval_every`` steps.

    The keyword arguments' defaults are ``SMALL``'s: nanoGPT's CPU setting (``NANOGPT``) with
    ``dim`` 64 and 2 ``layers``.

    Parameters
    ----------
    block : int
        The context length T, in characters.
    dim : int
        The model's width.
    layers : int
        The number of transformer blocks.
    heads : int
        Attention heads per block (dividing ``dim``).
    batch_size : int
        Windows per step.
    steps : int
        The number of optimiser steps.
    eval_every : int
        Steps between validation losses.
    eval_windows : int
        The validation windows.
    lr, min_lr : float
        The learning rate after the warm-up, and the cosine's floor.
    warmup : int
        The warm-up's steps.
    beta2 : float
        AdamW's beta2.
    weight_decay : float
        AdamW's decoupled weight decay.
    clipnorm : float
        The limit on the gradients' global norm.
    sample_at : sequence of int
        The steps after which the model writes (0: before the first).
    sample_length : int
        The characters written each time.
    seed : int
        Seeds the model, the windows and the samples.
    data_dir : str, optional
        Where to look for tiny Shakespeare first (:func:`numpynn.datasets.load_shakespeare`).

    Returns
    -------
    dict
        ``"loss"``: (steps,), the training loss of each step; ``"val_steps"``: list of int,
        ``[0, eval_every, 2 eval_every, ..., steps]``; ``"val_loss"``: list of float, their
        validation losses (nats per character); ``"samples"``: ``{step: str}`` for the
        steps of ``sample_at`` reached; ``"seconds"``: the training's wall time;
        ``"model"`` (the trained Sequential) and ``"vocabulary"`` (its
        :class:`~numpynn.datasets.CharVocabulary`), for
        :func:`numpynn.lab.attention_maps`; ``"settings"``: the arguments but ``sample_at``
        and ``data_dir``.
    """
    settings = {k: v for k, v in locals().items() if k not in ("data_dir", "sample_at")}
    data = load_shakespeare(data_dir)
    model_seed, train_seed = np.random.SeedSequence(seed).spawn(2)  # the command line's
    model = gpt(len(data.vocabulary), block, dim, layers, heads, seed=model_seed)
    valid = spread_windows(data.valid, block, eval_windows)
    sampled = [s for s in sample_at if s <= steps]
    recorder = Recorder(model, data.vocabulary, sampled, sample_length, seed)
    schedule = WarmUp(warmup, then=CosineDecay(max(1, steps - warmup), min_lr=min_lr))
    first = model.evaluate(*valid)["loss"]
    started = time.perf_counter()
    history = model.fit(
        RandomWindows(data.train, block, steps_per_epoch=eval_every),
        optimizer=AdamW(lr, beta2=beta2, weight_decay=weight_decay, clipnorm=clipnorm),
        epochs=-(-steps // eval_every),
        batch_size=batch_size,
        validation_data=valid,
        seed=np.random.default_rng(train_seed),
        callbacks=[LearningRateScheduler(schedule, per_step=True), recorder],
        max_steps=steps,
    )
    seconds = time.perf_counter() - started
    val_steps = [min((e + 1) * eval_every, steps) for e in range(len(history["val_loss"]))]
    return {
        "loss": np.array(recorder.losses),
        "val_steps": [0, *val_steps],
        "val_loss": [first, *history["val_loss"]],
        "samples": recorder.samples,
        "seconds": seconds,
        "model": model,
        "vocabulary": data.vocabulary,
        "settings": settings,
    }


def attention_maps(model: Sequential, vocabulary: CharVocabulary, text: str = LINE) -> Array:
    """The attention weights of every head of every block of a :func:`numpynn.gpt` model reading
    ``text`` (at most its block): (layers, heads, T, T), row i the weights with which
    position i's query reads positions 0..i (each row sums to 1; causal: 0 above the
    diagonal). Read from each :class:`numpynn.MultiHeadAttention`'s ``attention`` after one
    inference forward pass.

    Parameters
    ----------
    model : Sequential
        A :func:`numpynn.gpt` model.
    vocabulary : CharVocabulary
        Its characters (``train_tiny_gpt``'s ``"vocabulary"``).
    text : str
        The text read, T characters, T at most the model's block.

    Returns
    -------
    array
        (layers, heads, T, T): the attention weights.

    Raises
    ------
    ValueError
        For characters outside the vocabulary, or
        :class:`~numpynn.errors.ShapeError` for a text longer than the block.
    """
    ids = vocabulary.encode(text)[None, :]
    model.predict(ids)
    blocks = [layer for layer in model.layers if isinstance(layer, TransformerBlock)]
    return np.stack([np.asarray(b.attn.attention)[0] for b in blocks])


def look_back(maps: Array) -> Array:
    """The mean distance back, in characters, at which each head looks: sum over j <= i of
    att[i, j] (i - j), averaged over the positions i. (layers, heads, T, T) -> (layers,
    heads)."""
    T = maps.shape[-1]
    distance = np.arange(T)[:, None] - np.arange(T)[None, :]
    return (maps * np.maximum(distance, 0)).sum(axis=-1).mean(axis=-1)


def offset_weights(maps: Array, offsets: int = 3) -> Array:
    """The mean weight each head puts on the character ``k`` positions back, for k = 0
    (itself) to ``offsets - 1``, over the positions i >= k: (layers, heads, T, T) ->
    (layers, heads, offsets). A head with most of its weight at k = 1 reads the previous
    character."""
    return np.stack(
        [np.diagonal(maps, offset=-k, axis1=2, axis2=3).mean(axis=-1) for k in range(offsets)],
        axis=-1,
    )


def most_read(maps: Array, text: str = LINE, skip: int = 8) -> list[list[str]]:
    """For each head, the character of ``text`` it reads most: the key position with the
    largest mean weight over the queries after the first ``skip`` (whose few keys all weigh
    much), as "'c' at i". (layers, heads, T, T) -> [[str] * heads] * layers."""
    mean = maps[:, :, skip:].mean(axis=2)  # (layers, heads, T)
    return [[f"'{shown(text[j])}' at {j}" for j in row.argmax(axis=-1)] for row in mean]


# --- the figures -----------------------------------------------------------------------


def loss_curve_figure(result: dict[str, Any], smooth: int = 50) -> Figure:
    """Training loss per step (faint; its moving average over ``smooth`` steps) and the
    validation loss, against nanoGPT's 1.88 (``result`` from :func:`train_tiny_gpt`)."""
    fig = new_figure(figsize=(9, 5))
    ax = fig.add_subplot(1, 1, 1)
    loss = result["loss"]
    steps = np.arange(1, len(loss) + 1)
    ax.plot(steps, loss, color="tab:blue", alpha=0.25, linewidth=0.7)
    k = min(smooth, len(loss))
    average = np.convolve(loss, np.ones(k) / k, mode="valid")
    label = f"training (one batch per step; mean of {k})"
    ax.plot(steps[k - 1 :], average, color="tab:blue", linewidth=1.8, label=label)
    final = result["val_loss"][-1]
    label = f"validation ({final:.3f} at step {result['val_steps'][-1]})"
    ax.plot(result["val_steps"], result["val_loss"], "o-", color="tab:orange", label=label)
    label = f"nanoGPT's validation loss, its 2,000 steps ({NANOGPT_VAL_LOSS})"
    ax.axhline(NANOGPT_VAL_LOSS, color="k", linestyle="--", linewidth=1, label=label)
    s = result["settings"]
    ax.set_title(
        f"GPT {s['layers']} blocks x {s['heads']} heads, {s['dim']} wide, on tiny Shakespeare "
        f"({s['batch_size']} windows of {s['block']} per step)"
    )
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.set_ylim(1.0, 4.5)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def shown(ch: str) -> str:
    """A character as a tick label: the newline as a visible mark, the space as a dot."""
    return {"\n": "\\n", " ": "\u00b7"}.get(ch, ch)


def attention_figure(maps: Array, text: str = LINE, layers: Sequence[int] = (0, -1)) -> Figure:
    """Heat maps of every head of the given blocks (first and last by default) on ``text``:
    row = the position reading (the query), column = the position read (``maps`` from
    :func:`attention_maps`); colours on a square-root scale, so that small weights show."""
    from matplotlib.colors import PowerNorm

    n_heads = maps.shape[1]
    rows = [maps.shape[0] + i if i < 0 else i for i in layers]
    fig = new_figure(figsize=(5.0 * n_heads, 5.4 * len(rows)))
    fig.set_layout_engine("constrained")
    labels = [shown(c) for c in text[: maps.shape[-1]]]
    ticks = range(len(labels))
    distance = look_back(maps)
    image = None
    for r, layer in enumerate(rows):
        for h in range(n_heads):
            ax = fig.add_subplot(len(rows), n_heads, r * n_heads + h + 1)
            image = ax.imshow(maps[layer, h], cmap="magma", norm=PowerNorm(0.5, vmin=0, vmax=1))
            ax.set_xticks(ticks, labels, fontsize=7, fontfamily="monospace")
            ax.set_yticks(ticks, labels, fontsize=7, fontfamily="monospace")
            ax.tick_params(length=0, pad=1)
            ax.set_title(
                f"block {layer + 1}, head {h + 1}: {distance[layer, h]:.1f} characters back",
                fontsize=11,
            )
            if h == 0:
                ax.set_ylabel("reading position (query)")
            ax.set_xlabel("position read (key)")
    if image is not None:
        fig.colorbar(image, ax=fig.axes, shrink=0.5, label="attention weight (square-root scale)")
    fig.suptitle(
        "Attention weights on a line of the validation text (row: the character reading; "
        "column: the one read)"
    )
    return fig


# --- the chapter -----------------------------------------------------------------------


def experiment(**settings: Any) -> dict[str, Any]:
    """:func:`train_tiny_gpt` with ``settings`` and the :func:`attention_maps` of the trained
    model on :data:`LINE`, under "attention"."""
    result = train_tiny_gpt(**settings)
    return {**result, "attention": attention_maps(result["model"], result["vocabulary"])}


def run() -> dict[str, Any]:
    """The chapter's default: the small model (:data:`SMALL`) for nanoGPT's 2,000 steps."""
    return experiment(**SMALL)


def full() -> dict[str, Any]:
    """nanoGPT's setting (:data:`NANOGPT`): 4 blocks of 4 heads, 128 wide, 2,000 steps."""
    return experiment(**NANOGPT)


def figures(numbers: dict[str, Any]) -> dict[str, Figure]:
    """The loss curves and the heat maps, by file name."""
    return {
        "gpt-loss.png": loss_curve_figure(numbers),
        "gpt-attention.png": attention_figure(numbers["attention"]),
    }


def summary(numbers: dict[str, Any]) -> str:
    """The validation loss by step, the samples and how far back each head looks."""
    s, steps, losses = numbers["settings"], numbers["val_steps"], numbers["val_loss"]
    lines = [
        f"GPT {s['layers']} blocks x {s['heads']} heads, {s['dim']} wide, block {s['block']}: "
        f"{s['steps']} steps in {numbers['seconds']:.1f} s",
        "validation loss: "
        + ", ".join(f"{v:.3f} (step {k})" for k, v in zip(steps, losses, strict=True))
        + f"; nanoGPT: {NANOGPT_VAL_LOSS} after 2000 steps of its 4 x 4 x 128 model",
    ]
    for step, text in numbers["samples"].items():
        lines.append(f"--- sample after step {step}:\n{text}")
    maps = numbers["attention"]
    distance, offsets, read = look_back(maps), offset_weights(maps), most_read(maps)
    for layer in range(len(maps)):
        for h in range(maps.shape[1]):
            weights = "/".join(f"{w:.2f}" for w in offsets[layer, h])
            lines.append(
                f"block {layer + 1} head {h + 1}: {distance[layer, h]:.1f} characters back on "
                f"average; weight on itself/the previous/the one before {weights}; reads "
                f"most {read[layer][h]}"
            )
    return "\n".join(lines)


CHAPTER = Chapter(
    name="gpt",
    title="a tiny GPT on Shakespeare: loss curve, samples along the way, attention heads",
    page="19-tiny-gpt.md",
    run=run,
    figures=figures,
    summary=summary,
    full=full,
)
