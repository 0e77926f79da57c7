"""Chapter 18, makemore's ladder (Karpathy's makemore and his "Neural Networks: Zero to Hero"
videos on it, parts 1-5): five models of a name's next character, on makemore's 32,033
names split 80/10/10 as the videos split them (:func:`numpynn.datasets.load_names`):

1. bigram counts (part 1): P(next | this character), the counts of the training names + 1;
2. an MLP over character embeddings (part 2; Bengio et al. 2003): the last 3 characters,
   each a vector of 10, a tanh layer of 200, the 27 probabilities;
3. the same MLP with BatchNorm before its tanh (part 3);
4. WaveNet-style (part 5): 8 characters joined in pairs, pairs of pairs, then the whole
   (:class:`numpynn.FlattenConsecutive` of 2 in three levels), embedding 24, 128 units
   a level, about 76k parameters;
5. a small transformer (:func:`numpynn.gpt`, ``numpynn train --preset names``'s setting).

Each gives its loss on the dev names (mean negative log-likelihood per character, in nats)
and twenty names sampled from it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._typing import Array
from ..callbacks import LearningRateScheduler
from ..datasets import WordsData, load_names, padded_words
from ..datasets.text import START
from ..datasets.vocabulary import CharVocabulary
from ..generation import generate
from ..language_models import gpt
from ..layers import BatchNorm, Dense, Embedding, Flatten, FlattenConsecutive, Layer, Softmax, Tanh
from ..model import Sequential
from ..optimizers import SGD, AdamW
from ..plots import new_figure
from ..sampling import RandomRows
from ..schedules import CosineDecay, StepDecay, WarmUp
from .chapter import Chapter

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RUNGS = ("bigram", "mlp", "batchnorm", "wavenet", "transformer")
TITLES = {
    "bigram": "bigram counts",
    "mlp": "MLP",
    "batchnorm": "MLP + BatchNorm",
    "wavenet": "WaveNet-style",
    "transformer": "transformer",
}
# The videos' losses (../shared/data/README.md): the bigram's on the training names, the
# others' on the dev names; the transformer's is makemore.py's default model, "about 1.92".
PUBLISHED = {"bigram": 2.48, "mlp": 2.17, "batchnorm": 2.10, "wavenet": 1.99, "transformer": 1.92}

# The videos' settings: 200,000 steps of 32 names' contexts by SGD at 0.1, then 0.01 from
# step decay_at on (parts 2 and 3: 100,000; part 5: 150,000).
VIDEOS: dict[str, dict[str, int]] = {
    "mlp": {"block": 3, "embedding": 10, "hidden": 200, "steps": 200_000, "decay_at": 100_000},
    "batchnorm": {
        "block": 3,
        "embedding": 10,
        "hidden": 200,
        "steps": 200_000,
        "decay_at": 100_000,
    },
    "wavenet": {"block": 8, "embedding": 24, "hidden": 128, "steps": 200_000, "decay_at": 150_000},
}
BATCH_SIZE, LR = 32, 0.1

# `numpynn train --dataset names --preset names` (cli/text_config.py's TEXT_PRESETS["names"]
# over TextConfig's defaults; the lab cannot import the command line, so
# tests/test_lab_makemore.py checks that the two agree).
NAMES_GPT: dict[str, Any] = {
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
    "beta2": 0.99,
    "weight_decay": 0.1,
    "clipnorm": 1.0,
}

# The chapter's default, to run in about a minute: an eighth of the videos' steps for the
# two MLPs, 6% for the WaveNet (the rate falls at the same fraction of the run), and a
# transformer 64 wide and 2 blocks deep for 600 of the preset's 9,600 steps.
DEFAULT: dict[str, dict[str, Any]] = {
    "mlp": {**VIDEOS["mlp"], "steps": 25_000, "decay_at": 12_500},
    "batchnorm": {**VIDEOS["batchnorm"], "steps": 25_000, "decay_at": 12_500},
    "wavenet": {**VIDEOS["wavenet"], "steps": 12_000, "decay_at": 9_000},
    "transformer": {**NAMES_GPT, "dim": 64, "layers": 2, "steps": 600, "eval_every": 200,
                    "warmup": 20},
}  # fmt: skip
FULL: dict[str, dict[str, Any]] = {**VIDEOS, "transformer": NAMES_GPT}

CURVE_POINTS = 10  # dev losses measured along each run of rungs 2-4


def contexts(words: Sequence[str], vocabulary: CharVocabulary, block: int) -> tuple[Array, Array]:
    """makemore's ``build_dataset``: X (n, block) int64, the ``block`` characters before each
    character of every word and its end (START before the word's start), Y (n,) that
    character; n = the words' characters + one end per word."""
    # One stream: each word after `block` STARTs (id 0) and followed by its end, START; the
    # targets are every position but the padding, each read by the window before it.
    ids = vocabulary.encode("".join(START * block + word + START for word in words))
    segments = np.array([block + len(word) + 1 for word in words])
    target = np.ones(len(ids), bool)
    target[(np.cumsum(segments) - segments)[:, None] + np.arange(block)] = False
    positions = np.flatnonzero(target)
    windows = np.lib.stride_tricks.sliding_window_view(ids, block)
    return np.ascontiguousarray(windows[positions - block], np.int64), ids[positions]


def bigram_probabilities(words: Sequence[str], vocabulary: CharVocabulary) -> Array:
    """Part 1's model: P (V, V), P[a, b] the probability that b follows a, from the counts of
    the pairs in START + word + START over ``words``, each count + 1 (no pair is impossible)."""
    X, Y = contexts(words, vocabulary, 1)
    counts = np.ones((len(vocabulary), len(vocabulary)))
    np.add.at(counts, (X[:, 0], Y), 1)
    return counts / counts.sum(axis=1, keepdims=True)


def mean_nll(probabilities: Array, Y: Array) -> float:
    """The mean negative log-likelihood of the targets Y (n,) under probabilities (n, V)."""
    return float(-np.log(probabilities[np.arange(len(Y)), Y]).mean())


def character_model(
    kind: str, block: int, embedding: int, hidden: int, n_tokens: int = 27, seed: int = 0
) -> Sequential:
    """The ``block`` characters before -> the next one's probabilities (n_tokens,).

    ``"mlp"``: Embedding, Flatten (block x embedding), Dense(hidden), Tanh, Dense, Softmax
    (part 2); ``"batchnorm"``: a BatchNorm before the Tanh (part 3); ``"wavenet"``: log2(block)
    levels of FlattenConsecutive(2), Dense(hidden), BatchNorm, Tanh (part 5). With BatchNorm,
    the last layer's weights start 10 times smaller (part 3's "less confident" output)."""
    seeds = [int(s) for s in np.random.default_rng(seed).integers(2**63, size=6)]
    layers: list[Layer] = [Embedding(n_tokens, embedding, seed=seeds[0])]
    if kind == "wavenet":
        levels, width = round(math.log2(block)), embedding
        if 2**levels != block:
            raise ValueError(f"a wavenet's block must be a power of 2, got {block}")
        for level in range(levels):
            layers += [FlattenConsecutive(2), Dense(2 * width, hidden, seed=seeds[1 + level])]
            layers += [BatchNorm(hidden), Tanh()]
            width = hidden
    elif kind in ("mlp", "batchnorm"):
        layers += [Flatten(), Dense(block * embedding, hidden, seed=seeds[1])]
        layers += [BatchNorm(hidden), Tanh()] if kind == "batchnorm" else [Tanh()]
    else:
        raise ValueError(f"kind must be mlp, batchnorm or wavenet, got {kind!r}")
    head = Dense(hidden, n_tokens, seed=seeds[5])
    if kind != "mlp":
        head.W *= 0.1
    return Sequential(*layers, head, Softmax())


def sample_names(
    next_probabilities: Callable[[Array], Array],
    block: int,
    vocabulary: CharVocabulary,
    count: int = 20,
    seed: int = 0,
    max_length: int = 30,
) -> list[str]:
    """makemore's sampling loop: ``count`` names drawn one character at a time from
    ``next_probabilities`` (contexts (count, block) ids -> (count, V) probabilities), each
    from a context of START until it draws START (at most ``max_length`` characters)."""
    rng = np.random.default_rng(seed)
    context = np.zeros((count, block), np.int64)
    drawn = np.zeros((count, max_length), np.int64)
    for t in range(max_length):
        p = next_probabilities(context)
        u = rng.random((count, 1))  # the inverse of each row's cumulative distribution
        drawn[:, t] = np.minimum((np.cumsum(p, axis=1) < u).sum(axis=1), p.shape[1] - 1)
        context = np.concatenate([context[:, 1:], drawn[:, t : t + 1]], axis=1)
    return [vocabulary.decode(row).split(START, 1)[0] for row in drawn]


def bigram_loss(P: Array, words: Sequence[str], vocabulary: CharVocabulary) -> float:
    """The mean negative log-likelihood per character (ends included) of ``words`` under the
    bigram probabilities P (V, V)."""
    X, Y = contexts(words, vocabulary, 1)
    return mean_nll(P[X[:, 0]], Y)


def training_sample(data: WordsData) -> tuple[str, ...]:
    """The training names on which the neural rungs' training loss is measured: the first
    as many as there are dev names (a random sample: the names are shuffled), which takes
    an eighth of the time of all of them."""
    return data.train[: len(data.valid)]


def train_character_model(
    kind: str,
    data: WordsData,
    *,
    block: int,
    embedding: int,
    hidden: int,
    steps: int,
    decay_at: int,
    batch_size: int = BATCH_SIZE,
    lr: float = LR,
    count: int = 20,
    seed: int = 0,
) -> dict[str, Any]:
    """Train :func:`character_model` as the videos do: ``steps`` batches of ``batch_size``
    contexts drawn at random (:class:`numpynn.sampling.RandomRows`), SGD at ``lr`` and
    lr / 10 from step ``decay_at`` on; the dev loss before the first step and at
    :data:`CURVE_POINTS` points along the run.

    Returns {"steps": [0, ...], "dev_curve": their dev losses, "dev", "train": the final
    losses on the dev names and on a :func:`training_sample` of the training names,
    "samples": ``count`` sampled names, "parameters", "seconds": the training's wall time,
    "settings"}."""
    settings = {"block": block, "embedding": embedding, "hidden": hidden, "steps": steps,
                "decay_at": decay_at, "batch_size": batch_size, "lr": lr}  # fmt: skip
    X, Y = contexts(data.train, data.vocabulary, block)
    dev = contexts(data.valid, data.vocabulary, block)
    model_seed, train_seed = np.random.SeedSequence(seed).spawn(2)
    model = character_model(kind, block, embedding, hidden, len(data.vocabulary),
                            seed=int(model_seed.generate_state(1)[0]))  # fmt: skip
    first = model.evaluate(*dev)["loss"]
    per_point = -(-steps // CURVE_POINTS)
    started = time.perf_counter()
    history = model.fit(
        RandomRows(X, Y, steps_per_epoch=per_point),
        optimizer=SGD(lr),
        epochs=-(-steps // per_point),
        batch_size=batch_size,
        validation_data=dev,
        seed=np.random.default_rng(train_seed),
        callbacks=[LearningRateScheduler(StepDecay(decay_at), per_step=True)],
        max_steps=steps,
    )
    seconds = time.perf_counter() - started
    curve = [min((e + 1) * per_point, steps) for e in range(len(history["val_loss"]))]
    return {
        "steps": [0, *curve],
        "dev_curve": [first, *history["val_loss"]],
        "dev": history["val_loss"][-1],
        "train": model.evaluate(*contexts(training_sample(data), data.vocabulary, block))["loss"],
        "samples": sample_names(model.predict_proba, block, data.vocabulary, count, seed),
        "parameters": sum(p.size for p in model.parameters()),
        "seconds": seconds,
        "settings": settings,
    }


def train_transformer(
    data: WordsData, *, count: int = 20, seed: int = 0, **settings: Any
) -> dict[str, Any]:
    """Train :func:`numpynn.gpt` on the names as ``numpynn train --preset names`` does, with
    the same seeding: each name one row (:func:`numpynn.datasets.padded_words`), batches of
    rows at random, AdamW with a linear warm-up and a cosine decay set every step, gradients
    clipped; ``settings`` as :data:`NAMES_GPT`. The dev loss (per character, the end
    included, as the MLPs') before the first step and every ``eval_every`` steps; the names
    are drawn from START at temperature 1 until the next START.

    Returns the keys of :func:`train_character_model`."""
    s = {**NAMES_GPT, **settings}
    block, steps, warmup, vocabulary = s["block"], s["steps"], s["warmup"], data.vocabulary
    X, T = padded_words(data.train, vocabulary, block)
    dev = padded_words(data.valid, vocabulary, block)
    model_seed, train_seed = np.random.SeedSequence(seed).spawn(2)  # the command line's
    model = gpt(len(vocabulary), block, s["dim"], s["layers"], s["heads"], s["dropout"],
                token_std=s["token_std"], seed=model_seed)  # fmt: skip
    decay = CosineDecay(max(1, steps - warmup), min_lr=s["min_lr"])
    schedule = WarmUp(warmup, then=decay) if warmup else decay
    first = model.evaluate(*dev)["loss"]
    started = time.perf_counter()
    history = model.fit(
        RandomRows(X, T, steps_per_epoch=s["eval_every"]),
        optimizer=AdamW(
            s["lr"], beta2=s["beta2"], weight_decay=s["weight_decay"], clipnorm=s["clipnorm"]
        ),
        epochs=-(-steps // s["eval_every"]),
        batch_size=s["batch_size"],
        validation_data=dev,
        seed=np.random.default_rng(train_seed),
        callbacks=[LearningRateScheduler(schedule, per_step=True)],
        max_steps=steps,
    )
    seconds = time.perf_counter() - started
    curve = [min((e + 1) * s["eval_every"], steps) for e in range(len(history["val_loss"]))]
    starts = np.zeros((count, 1), np.int64)
    ids = generate(model, starts, block - 1, seed=seed)[:, 1:]
    return {
        "steps": [0, *curve],
        "dev_curve": [first, *history["val_loss"]],
        "dev": history["val_loss"][-1],
        "train": model.evaluate(*padded_words(training_sample(data), vocabulary, block))["loss"],
        "samples": [vocabulary.decode(row).split(START, 1)[0] for row in ids],
        "parameters": sum(p.size for p in model.parameters()),
        "seconds": seconds,
        "settings": s,
    }


def makemore_ladder(
    settings: dict[str, dict[str, Any]] | None = None,
    *,
    count: int = 20,
    seed: int = 0,
    data_dir: str | None = None,
) -> dict[str, dict[str, Any]]:
    """The five rungs on makemore's names (bigram counts, MLP, MLP + BatchNorm,
    WaveNet-style, transformer), trained on the training names and scored on the dev names
    of :func:`numpynn.datasets.load_names`.

    Parameters
    ----------
    settings : dict, optional
        {rung: its settings} for the four neural rungs; by default
        ``numpynn.lab.makemore.DEFAULT`` (about a minute's run);
        ``numpynn.lab.makemore.FULL`` is the videos' (200,000 steps) and the names preset's.
    count : int
        Names sampled from each rung.
    seed : int
        Seeds the weights, the batches and the samples: the same seed, the same numbers
        and names.
    data_dir : str, optional
        Where ``names.txt`` is (else the cache or the canonical URL, checked by SHA-256).

    Returns
    -------
    dict
        {rung: result} in the order "bigram", "mlp", "batchnorm", "wavenet", "transformer";
        each result holds "dev" and "train" losses (float, nats per character), ``count``
        sampled names, "samples" (list of str), "parameters" (int) and "seconds" (float); the neural
        rungs also the dev loss by step ("steps", "dev_curve": arrays) and their "settings".
    """
    settings = DEFAULT if settings is None else settings
    data = load_names(data_dir)
    started = time.perf_counter()
    P = bigram_probabilities(data.train, data.vocabulary)
    results: dict[str, dict[str, Any]] = {
        "bigram": {
            "train": bigram_loss(P, data.train, data.vocabulary),
            "dev": bigram_loss(P, data.valid, data.vocabulary),
            "samples": sample_names(lambda c: P[c[:, -1]], 1, data.vocabulary, count, seed),
            "parameters": P.size,
        }
    }
    results["bigram"]["seconds"] = time.perf_counter() - started
    for kind in ("mlp", "batchnorm", "wavenet"):
        results[kind] = train_character_model(kind, data, **settings[kind], count=count, seed=seed)
    results["transformer"] = train_transformer(
        data, **settings["transformer"], count=count, seed=seed
    )
    return results


# --- the figures -----------------------------------------------------------------------

COLOURS = {
    "bigram": "tab:gray",
    "mlp": "tab:blue",
    "batchnorm": "tab:orange",
    "wavenet": "tab:green",
    "transformer": "tab:purple",
}


def ladder_figure(numbers: dict[str, dict[str, Any]]) -> Figure:
    """Each rung's loss on the training and the dev names beside the published one, as bars
    (``numbers`` from :func:`makemore_ladder`)."""
    fig = new_figure(figsize=(10, 5.5))
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(RUNGS))
    width = 0.27
    bars = [
        ("published (bigram: training names; others: dev)", [PUBLISHED[r] for r in RUNGS], "0.7"),
        ("ours, training names", [numbers[r]["train"] for r in RUNGS], "tab:cyan"),
        ("ours, dev names", [numbers[r]["dev"] for r in RUNGS], "tab:blue"),
    ]
    for k, (label, values, colour) in enumerate(bars):
        drawn = ax.bar(
            x + (k - 1) * width, values, width, label=label, color=colour, edgecolor="black",
            linewidth=0.5,
        )  # fmt: skip
        ax.bar_label(drawn, fmt="%.2f", fontsize=8, padding=2)
    ax.set_xticks(x, [TITLES[r] for r in RUNGS])
    ax.set_ylabel("loss (nats per character)")
    ax.set_ylim(1.5, 2.8)
    steps = ", ".join(f"{TITLES[r]} {numbers[r]['settings']['steps']:,}" for r in RUNGS[1:])
    ax.set_title(f"makemore's ladder on the names; training steps: {steps}", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def curves_figure(numbers: dict[str, dict[str, Any]]) -> Figure:
    """The dev loss of each neural rung by training step (log scale), against the bigram's
    dev loss and, dotted, each rung's published loss."""
    fig = new_figure(figsize=(9, 5.5))
    ax = fig.add_subplot(1, 1, 1)
    for rung in RUNGS[1:]:
        r, colour = numbers[rung], COLOURS[rung]
        label = f"{TITLES[rung]} ({r['dev']:.3f}; published {PUBLISHED[rung]:.2f})"
        ax.plot(r["steps"][1:], r["dev_curve"][1:], "o-", color=colour, label=label)
        ax.axhline(PUBLISHED[rung], color=colour, linestyle=":", linewidth=1.2)
    bigram = numbers["bigram"]["dev"]
    label = f"bigram counts ({bigram:.3f})"
    ax.axhline(bigram, color=COLOURS["bigram"], linestyle="--", label=label)
    ax.set_xscale("log")
    ax.set_xlabel(
        "training step (log scale; a step: 32 contexts for the MLPs, 64 names for the transformer)"
    )
    ax.set_ylabel("dev loss (nats per character)")
    ax.set_ylim(1.8, 2.7)
    ax.set_title("Dev loss along each run (dotted: the published dev losses)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


# --- the chapter -----------------------------------------------------------------------


def run() -> dict[str, dict[str, Any]]:
    """The chapter's default (:data:`DEFAULT`): fewer steps than the videos, about a minute."""
    return makemore_ladder(DEFAULT)


def full() -> dict[str, dict[str, Any]]:
    """The videos' 200,000 steps for the MLPs and the WaveNet, and the names preset's
    transformer for its 9,600 steps (:data:`FULL`)."""
    return makemore_ladder(FULL)


def figures(numbers: dict[str, dict[str, Any]]) -> dict[str, Figure]:
    """The losses of the ladder and the dev curves, by file name."""
    return {
        "makemore-ladder.png": ladder_figure(numbers),
        "makemore-curves.png": curves_figure(numbers),
    }


def summary(numbers: dict[str, dict[str, Any]]) -> str:
    """One line per rung (parameters, steps, losses, time) and the names sampled."""
    lines = []
    for rung in RUNGS:
        r = numbers[rung]
        steps = r.get("settings", {}).get("steps", 0)
        lines.append(
            f"{TITLES[rung]:16s} {r['parameters']:7,d} parameters, {steps:7,d} steps: train "
            f"{r['train']:.3f}, dev {r['dev']:.3f} (published {PUBLISHED[rung]:.2f}), "
            f"{r['seconds']:.1f} s"
        )
    for rung in RUNGS:
        lines.append(f"--- {TITLES[rung]}: " + " ".join(numbers[rung]["samples"]))
    return "\n".join(lines)


CHAPTER = Chapter(
    name="makemore",
    title="makemore's ladder on the names: bigram, MLP, BatchNorm, WaveNet, transformer",
    page="18-makemore.md",
    run=run,
    figures=figures,
    summary=summary,
    full=full,
)
