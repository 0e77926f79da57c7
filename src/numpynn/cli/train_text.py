"""``numpynn train`` for a language model: a run counted in steps (``TextConfig``).

Each step trains on a batch of random windows of the text (nanoGPT's way) or of random
names (one padded name per row, makemore's way); every ``eval_every`` steps the validation
loss is measured on a fixed set of validation windows (nats per character) and the run is
checkpointed; the learning rate warms up and decays along a cosine per step. At the end the
run directory holds the model (its vocabulary in the metadata, for ``numpynn generate`` and
``numpynn serve``), metrics.json (``val_loss`` of each evaluation, ``final_val_loss``),
history.csv and curves.png by step, report.txt and a sample of generated text.
"""

from __future__ import annotations

import datetime
import json
import math
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import datasets
from .. import io as nn_io
from .._typing import Array
from ..atomic import atomic_write_text
from ..callbacks import LearningRateScheduler
from ..checkpoint import ModelCheckpoint
from ..datasets.text import START, padded_words
from ..datasets.vocabulary import CharVocabulary
from ..language_models import char_rnn, gpt
from ..model import Sequential
from ..optimizers import AdamW
from ..paths import make_dir
from ..sampling import RandomRows, RandomWindows, spread_windows
from ..schedules import CosineDecay, Schedule, WarmUp
from ..trained import LANGUAGE_MODEL, TrainedLanguageModel, describe, n_parameters
from .progress import Progress
from .report import thread_pools, time_spent
from .text_config import TextConfig
from .train import INTERRUPTED, saved_run, stops_explained

SAMPLE_LENGTH = 500  # characters of the sample written at the end
SAMPLE_TEMPERATURE = 0.8
SAMPLE_NAMES = 20


@dataclass(frozen=True)
class TextSplits:
    """A language model's data: the training batches' source, the validation windows
    (X, T) (n, block) ids with targets (-1: not scored), the vocabulary and, for words, the
    token that starts and ends each one."""

    train: RandomWindows | RandomRows
    valid: tuple[Array, Array]
    vocabulary: CharVocabulary
    boundary: str | None
    words: tuple[str, ...] = ()  # the training words (names), to mark names already seen


def load_text_splits(cfg: TextConfig, data_dir: str | None) -> TextSplits:
    """The data of ``cfg``: random windows of a text (shakespeare), or random rows of padded
    words (names), ``eval_every`` steps an epoch."""
    data = datasets.get(cfg.dataset).load_text(data_dir)  # type: ignore[misc]
    if isinstance(data, datasets.TextData):
        train = RandomWindows(data.train, cfg.block, steps_per_epoch=cfg.eval_every)
        valid = spread_windows(data.valid, cfg.block, cfg.eval_windows)
        return TextSplits(train, valid, data.vocabulary, None)
    X, T = padded_words(data.train, data.vocabulary, cfg.block)
    return TextSplits(
        RandomRows(X, T, steps_per_epoch=cfg.eval_every),
        padded_words(data.valid, data.vocabulary, cfg.block),
        data.vocabulary,
        START,
        data.train,
    )


def new_language_model(cfg: TextConfig, n_tokens: int) -> Sequential:
    """The network of ``cfg``; ``cfg.seed`` fixes its initial weights."""
    seed = np.random.SeedSequence(cfg.seed).spawn(2)[0]
    if cfg.network == "gpt":
        return gpt(n_tokens, cfg.block, cfg.dim, cfg.layers, cfg.heads, cfg.dropout,
                   token_std=cfg.token_std, seed=seed)  # fmt: skip
    return char_rnn(n_tokens, cfg.dim, cfg.hidden, cfg.layers, cfg.network, cfg.dropout, seed=seed)


def lr_schedule(cfg: TextConfig) -> Schedule:
    """nanoGPT's: linear warm-up over ``warmup`` steps, then half a cosine from lr down to
    min_lr at the last step."""
    decay = CosineDecay(max(1, cfg.steps - cfg.warmup), min_lr=cfg.min_lr)
    return WarmUp(cfg.warmup, then=decay) if cfg.warmup else decay


def run_text(
    cfg: TextConfig,
    run_dir: Path,
    *,
    resume: bool,
    data_dir: str | None,
    quiet: bool,
    plots: bool,
    threads: int | None,
    started: float,
) -> int:
    """Train (or continue training) the language model in ``run_dir``; return the exit code."""
    loading = time.perf_counter()
    splits = load_text_splits(cfg, data_dir)
    data_seconds = time.perf_counter() - loading
    steps_per_epoch = cfg.eval_every  # an epoch of fit: the steps between two evaluations
    epochs = -(-cfg.steps // steps_per_epoch)
    checkpoint = run_dir / ModelCheckpoint.CHECKPOINT
    saved = saved_run(checkpoint, epochs) if resume and checkpoint.exists() else None
    if saved is not None and (run_dir / "metrics.json").exists() and saved.epoch == epochs:
        print(f"{run_dir} has finished its {cfg.steps} steps; nothing to resume")
        return 0
    if not quiet:
        at = f"resuming {run_dir} after step {saved.epoch * steps_per_epoch}" if saved else ""
        print(at or f"training {cfg.preset} on {cfg.dataset} in {run_dir}")
    make_dir(run_dir, "run directory")
    cfg.save(run_dir / "config.json")

    model = new_language_model(cfg, len(splits.vocabulary))
    metadata = {
        "task": LANGUAGE_MODEL,
        "dataset": cfg.dataset,
        "vocabulary": splits.vocabulary.to_json(),
        "boundary": splits.boundary,
        "config": cfg.to_dict(),
    }
    progress = Progress(epochs, steps_per_epoch, quiet, steps=cfg.steps)
    optimizer = AdamW(cfg.lr, beta2=cfg.beta2, weight_decay=cfg.weight_decay, clipnorm=cfg.clipnorm)
    callbacks = [
        LearningRateScheduler(lr_schedule(cfg), per_step=True),
        progress,
        ModelCheckpoint(run_dir, monitor="val_loss", metadata=metadata),
    ]
    train_seed = np.random.SeedSequence(cfg.seed).spawn(2)[1]
    try:
        with (
            np.errstate(over="ignore", invalid="ignore", divide="ignore"),
            stops_explained(run_dir, model, optimizer, cfg.to_dict(), cfg.lr),
        ):
            history = model.fit(
                splits.train,
                optimizer=optimizer,
                epochs=epochs,
                batch_size=cfg.batch_size,
                validation_data=splits.valid,
                seed=np.random.default_rng(train_seed),
                callbacks=callbacks,
                threads=threads,
                resume=resume,
                max_steps=cfg.steps,
            )
    finally:
        progress.close()
    (run_dir / INTERRUPTED).unlink(missing_ok=True)

    steps = [min((e + 1) * steps_per_epoch, cfg.steps) for e in range(len(history["loss"]))]
    final = history["val_loss"][-1]
    writer = TrainedLanguageModel(
        model, run_dir / "model.npz", metadata, cfg.dataset, splits.vocabulary, splits.boundary
    )
    sample = write_sample(writer, splits.words, cfg.seed)
    atomic_write_text(run_dir / "sample.txt", sample)
    nn_io.save(model, run_dir / "model.npz", metadata={**metadata, "val_loss": final})
    train_seconds = float(sum(progress.seconds))
    metrics = {
        "finished": datetime.datetime.now().isoformat(timespec="seconds"),
        "task": LANGUAGE_MODEL,
        "config": cfg.to_dict(),
        "model": describe(model),
        "n_parameters": n_parameters(model),
        "data": {"dataset": cfg.dataset, "vocabulary_size": len(splits.vocabulary)},
        "steps": steps,
        "loss": history["loss"],
        "val_loss": history["val_loss"],
        "final_val_loss": final,
        "history": {**history, "seconds": progress.seconds},
        "train_seconds": train_seconds,
        "samples_per_second": cfg.steps * cfg.batch_size / train_seconds if saved is None else None,
        "new_words": new_words(writer, splits.words, cfg.seed) if splits.words else None,
        "data_seconds": data_seconds,
        "resumed_from_step": saved.epoch * steps_per_epoch if saved else None,
        "threads": threads,
        "wall_seconds": (wall_seconds := time.perf_counter() - started),
        "versions": {
            "numpy": np.__version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "blas": thread_pools(),
    }
    atomic_write_text(run_dir / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    atomic_write_text(run_dir / "history.csv", history_csv(steps, history, progress.seconds))
    atomic_write_text(run_dir / "report.txt", report_text(metrics, sample))
    if plots:
        plot_curves(run_dir, cfg, steps, history)
    if not quiet:
        print(sample if splits.boundary else sample[:300].rstrip() + "\n...")
    spent = time_spent(wall_seconds, progress.seconds, saved.epoch if saved else None)
    print(
        f"validation loss {final:.4f} after {steps[-1]} steps ({math.exp(final):.2f} "
        f"perplexity); {spent}; run directory {run_dir}"
    )
    return 0


def write_sample(writer: TrainedLanguageModel, words: tuple[str, ...], seed: int) -> str:
    """The run's sample: 500 characters after a newline, or 20 names (those of the training
    set marked with *)."""
    if writer.boundary is None:
        text = "".join(writer.write("\n", SAMPLE_LENGTH, temperature=SAMPLE_TEMPERATURE, seed=seed))
        return text.lstrip("\n") + "\n"
    known = set(words)
    names = writer.words(SAMPLE_NAMES, seed=seed)
    return "".join(f"{n}{' *' if n in known else ''}\n" for n in names)


def new_words(writer: TrainedLanguageModel, words: tuple[str, ...], seed: int) -> float:
    """The fraction of 1,000 words drawn at temperature 1 (seed ``seed``) that are not among
    the training ``words``: how much a names model invents rather than recites."""
    drawn = writer.words(1000, seed=seed)
    known = set(words)
    return sum(word not in known for word in drawn) / len(drawn)


def history_csv(steps: list[int], history: dict[str, list[float]], seconds: list[float]) -> str:
    lines = ["step,loss,accuracy,val_loss,val_accuracy,seconds"]
    for i, step in enumerate(steps):
        values = [repr(history[k][i]) for k in ("loss", "accuracy", "val_loss", "val_accuracy")]
        lines.append(",".join([str(step), *values, f"{seconds[i]:.3f}"]))
    return "\n".join(lines) + "\n"


def report_text(metrics: dict[str, Any], sample: str) -> str:
    cfg = metrics["config"]
    rows = [
        f"numpynn language model: {cfg['preset']} on {cfg['dataset']}",
        f"model: {metrics['model']} ({metrics['n_parameters']:,} parameters)",
        f"steps: {cfg['steps']} of {cfg['batch_size']} windows of {cfg['block']} tokens; "
        f"AdamW lr {cfg['lr']:g} (warm-up {cfg['warmup']}, cosine to {cfg['min_lr']:g}), "
        f"weight decay {cfg['weight_decay']:g}, clipnorm {cfg['clipnorm']:g}",
        "",
        "step   loss     val_loss",
        *(
            f"{s:<6} {loss:.4f}   {val:.4f}"
            for s, loss, val in zip(
                metrics["steps"], metrics["loss"], metrics["val_loss"], strict=True
            )
        ),
        "",
        f"final validation loss {metrics['final_val_loss']:.4f} nats per character",
        f"training {metrics['train_seconds']:.1f} s",
        "",
        "sample:",
        sample,
    ]
    return "\n".join(rows)


def plot_curves(
    run_dir: Path, cfg: TextConfig, steps: list[int], history: dict[str, list[float]]
) -> None:
    """curves.png: the training and validation loss by step."""
    try:
        from ..plots import new_figure, save_figure
    except ImportError:  # pragma: no cover - matplotlib is in the cli extra
        print("numpynn: plots skipped: pip install 'numpynn[cli]' for matplotlib", file=sys.stderr)
        return
    fig = new_figure((6.4, 4.0))
    ax = fig.add_subplot()
    ax.plot(steps, history["loss"], "o-", label="training (mean over the steps before)")
    ax.plot(steps, history["val_loss"], "s-", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats per character)")
    final = history["val_loss"][-1]
    ax.set_title(f"--preset {cfg.preset} on {cfg.dataset}: final validation loss {final:.3f}")
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, run_dir / "curves.png")
