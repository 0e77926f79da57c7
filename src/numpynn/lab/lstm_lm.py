"""Chapter 15, an LSTM language model (DLFS vol. 2 ch. 6): the validation perplexity by epoch
of the book's ``Rnnlm`` (one LSTM layer) against its ``BetterRnnlm`` (two LSTM layers with
dropout) on tiny Shakespeare's words; its figure and its summary."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from ..callbacks import Callback
from ..layers import LSTM, Dense, Dropout, Embedding, Layer, Softmax
from ..model import Sequential
from ..optimizers import SGD
from ..plots import new_figure
from ..sampling import ContiguousWindows, spread_windows
from .chapter import Chapter
from .word_vectors import coverage, shakespeare_words, word_ids

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# name -> (LSTM layers, dropout): the book's Rnnlm and BetterRnnlm (without weight tying)
MODELS = {"one LSTM layer": (1, 0.0), "two LSTM layers, dropout 0.5": (2, 0.5)}


def lstm_lm(
    vocab_size: int,
    wordvec: int = 100,
    hidden: int = 100,
    n_layers: int = 1,
    dropout: float = 0.0,
    seed: int = 0,
) -> Sequential:
    """The book's LSTM language model: ids (n, T) -> Embedding (wordvec) -> ``n_layers``
    LSTM (hidden, every step) -> Dense -> Softmax: (n, T, vocab_size); with ``dropout``, a
    Dropout after the embedding and after each LSTM (``BetterRnnlm``). The book's initial
    weights: the embedding N(0, 0.01^2), each LSTM's Wx N(0, 1/n_in) and Wh N(0, 1/hidden),
    the Dense's W N(0, 1/hidden), biases 0."""
    rng = np.random.default_rng(seed)
    embedding = Embedding(vocab_size, wordvec, seed=rng)
    embedding.W[...] = rng.standard_normal(embedding.W.shape) / 100
    layers: list[Layer] = [embedding]
    if dropout:
        layers.append(Dropout(dropout))
    for i in range(n_layers):
        n_in = wordvec if i == 0 else hidden
        lstm = LSTM(n_in, hidden, return_sequences=True, seed=rng)
        lstm.Wx[...] = rng.standard_normal(lstm.Wx.shape) / math.sqrt(n_in)
        lstm.Wh[...] = rng.standard_normal(lstm.Wh.shape) / math.sqrt(hidden)
        lstm.b[...] = 0
        layers.append(lstm)
        if dropout:
            layers.append(Dropout(dropout))
    dense = Dense(hidden, vocab_size, seed=rng)
    dense.W[...] = rng.standard_normal(dense.W.shape) / math.sqrt(hidden)
    dense.b[...] = 0
    return Sequential(*layers, dense, Softmax())


class QuarterOnWorse(Callback):
    """``train_better_rnnlm.py``'s schedule: after an epoch whose validation loss is worse
    than the best so far, divide the learning rate by 4."""

    def __init__(self) -> None:
        self.best = math.inf

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if logs["val_loss"] > self.best:
            self.run.optimizer.lr /= 4
        self.best = min(self.best, logs["val_loss"])


def lstm_perplexity(
    vocab_size: int = 2000,
    n_train: int | None = 60_000,
    wordvec: int = 100,
    hidden: int = 100,
    time_size: int = 35,
    batch_size: int = 20,
    lr: float = 20.0,
    clipnorm: float = 0.25,
    epochs: int = 8,
    n_valid_windows: int = 200,
    models: dict[str, tuple[int, float]] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Train each of ``models`` (name -> (LSTM layers, dropout); ``MODELS`` by default)
    as ``lstm_lm`` on tiny Shakespeare's words (``vocab_size`` words, the rest ``<unk>``):
    the first 90% of the tokens are the training text (its first ``n_train`` tokens only, if
    given), the last 10% the validation text. SGD (``lr``, gradients clipped to a global norm
    of ``clipnorm``) on :class:`~numpynn.sampling.ContiguousWindows` of ``time_size`` words
    in ``batch_size`` tracks (truncated BPTT), for ``epochs`` epochs; a model with dropout
    divides its learning rate by 4 after an epoch whose validation loss got worse
    (``QuarterOnWorse``), as the book's ``train_better_rnnlm.py``.

    Parameters
    ----------
    vocab_size : int
        The vocabulary's size (>= 2), ``<unk>`` included.
    n_train : int, optional
        The training tokens used, the first ones (None: all of the first 90%).
    wordvec : int
        The embeddings' width.
    hidden : int
        The LSTMs' hidden size.
    time_size : int
        The words per window (truncated BPTT's length).
    batch_size : int
        The number of tracks read side by side.
    lr : float
        SGD's starting learning rate.
    clipnorm : float
        The limit on the gradients' global norm.
    epochs : int
        Training epochs per model.
    n_valid_windows : int
        The validation windows.
    models : dict, optional
        ``{name: (LSTM layers, dropout)}`` (None: ``MODELS``, the book's two).
    seed : int
        Seeds the initial weights and the dropout masks (the windows are read in order).

    Returns
    -------
    dict
        ``"valid"``: ``{name: array (epochs,)}``, the perplexity of ``n_valid_windows``
        windows of ``time_size`` words spread over the validation text, each read from a
        zero state, after each epoch; ``"train"``: ``{name: array (epochs,)}``, the training
        perplexity of each epoch (with dropout on); ``"lr"``: ``{name: array (epochs,)}``,
        the learning rate after each epoch; ``"seconds"``: ``{name: float}``;
        ``"n_params"``: ``{name: int}``; ``"epochs"``: (epochs,) 1 to epochs; and the
        settings ``"vocab_size"``, ``"coverage"`` (the share of tokens that are not
        ``<unk>``), ``"n_train"``, ``"n_valid"`` (tokens), ``"wordvec"``, ``"hidden"``,
        ``"time_size"``, ``"batch_size"``, ``"clipnorm"``, ``"base_lr"``.

    Raises
    ------
    ValueError
        For a ``vocab_size`` that is not an int >= 2.
    """
    models = MODELS if models is None else models
    ids, id_to_word = word_ids(shakespeare_words(), vocab_size)
    split = int(0.9 * len(ids))
    train_ids, valid_ids = ids[:split], ids[split:]
    if n_train is not None:
        train_ids = train_ids[:n_train]
    validation = spread_windows(valid_ids, time_size, n_valid_windows)
    result: dict[str, Any] = {"valid": {}, "train": {}, "lr": {}, "seconds": {}, "n_params": {}}
    for name, (n_layers, dropout) in models.items():
        model = lstm_lm(len(id_to_word), wordvec, hidden, n_layers, dropout, seed=seed)
        optimizer = SGD(lr=lr, clipnorm=clipnorm)
        rates = LearningRates()
        callbacks: list[Callback] = [QuarterOnWorse(), rates] if dropout else [rates]
        started = time.perf_counter()
        history = model.fit(
            ContiguousWindows(train_ids, time_size),
            optimizer=optimizer,
            epochs=epochs,
            batch_size=batch_size,
            validation_data=validation,
            seed=seed,
            callbacks=callbacks,
        )
        result["seconds"][name] = time.perf_counter() - started
        result["valid"][name] = np.exp(history["val_loss"])
        result["train"][name] = np.exp(history["loss"])
        result["lr"][name] = np.array(rates.rates)
        result["n_params"][name] = sum(p.size for p in model.parameters())
    return {
        **result,
        "epochs": np.arange(1, epochs + 1),
        "vocab_size": len(id_to_word),
        "coverage": coverage(ids, id_to_word),
        "n_train": len(train_ids),
        "n_valid": len(valid_ids),
        "wordvec": wordvec,
        "hidden": hidden,
        "time_size": time_size,
        "batch_size": batch_size,
        "clipnorm": clipnorm,
        "base_lr": lr,
    }


class LearningRates(Callback):
    """The optimiser's learning rate after each epoch (after the other callbacks)."""

    order = 10

    def __init__(self) -> None:
        self.rates: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.rates.append(self.run.optimizer.lr)


# --- the figure ------------------------------------------------------------------------

STYLES: list[dict[str, Any]] = [
    {"color": "tab:blue", "marker": "o"},
    {"color": "tab:red", "marker": "s", "linestyle": "--"},
]


def perplexity_figure(result: dict[str, Any]) -> Figure:
    """The validation perplexity by epoch of each model, with its training perplexity (as
    ``fit`` reports it, during the epoch, dropout on) thin and dotted (``result`` from
    :func:`lstm_perplexity`)."""
    fig = new_figure(figsize=(8, 5))
    ax = fig.add_subplot(1, 1, 1)
    for (name, valid), style in zip(result["valid"].items(), STYLES, strict=False):
        ax.plot(result["epochs"], valid, linewidth=2, label=f"{name}: validation", **style)
        ax.plot(
            result["epochs"],
            result["train"][name],
            color=style["color"],
            linestyle=":",
            linewidth=1.2,
            label=f"{name}: training",
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity")
    ax.set_xticks(result["epochs"][:: max(1, len(result["epochs"]) // 10)])
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(
        f"LSTM language models on tiny Shakespeare's words ({result['vocab_size']:,}-word "
        f"vocabulary)\ntrained on {result['n_train']:,} words, validated on "
        f"{result['n_valid']:,}; wordvec {result['wordvec']}, hidden {result['hidden']}, "
        f"time {result['time_size']}, batch {result['batch_size']}, SGD lr "
        f"{result['base_lr']:g}, clip {result['clipnorm']:g}",
        fontsize=9.5,
    )
    fig.tight_layout()
    return fig


# --- the chapter -----------------------------------------------------------------------


def run() -> dict[str, Any]:
    """The chapter's numbers: :func:`lstm_perplexity` at a size that runs in under a
    minute: 2,000 words, 60,000 training words, 100 units, 8 epochs."""
    return lstm_perplexity()


def full() -> dict[str, Any]:
    """The book's ``train_better_rnnlm.py`` setting on Shakespeare: 10,000 words, the whole
    training text, wordvec and hidden 650, 40 epochs (hours here)."""
    return lstm_perplexity(vocab_size=10_000, n_train=None, wordvec=650, hidden=650, epochs=40)


def figures(result: dict[str, Any]) -> dict[str, Figure]:
    """The chapter's figure, by file name."""
    return {"lstmlm.png": perplexity_figure(result)}


def summary(result: dict[str, Any]) -> str:
    """Each model's validation perplexity by epoch, its best, and its time."""
    lines = [
        f"vocabulary {result['vocab_size']:,} ({result['coverage']:.1%} of the tokens), "
        f"{result['n_train']:,} training words, {result['n_valid']:,} validation words"
    ]
    for name, valid in result["valid"].items():
        best = int(np.argmin(valid))
        by_epoch = " ".join(f"{p:.1f}" for p in valid)
        lines.append(
            f"{name} ({result['n_params'][name]:,} parameters, "
            f"{result['seconds'][name]:.0f} s): validation perplexity {by_epoch}; best "
            f"{valid[best]:.1f} after epoch {best + 1}"
        )
    return "\n".join(lines)


CHAPTER = Chapter(
    name="lstmlm",
    title="LSTM language models: one layer against two with dropout, validation perplexity",
    page="15-lstm-language-model.md",
    run=run,
    figures=figures,
    summary=summary,
    full=full,
)
