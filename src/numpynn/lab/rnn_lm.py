"""Chapter 13, an RNN language model (DLFS vol. 2 ch. 5, its ``SimpleRnnlm``): the perplexity
by epoch of Embedding -> RNN -> Dense -> softmax on the first 1,000 words of tiny
Shakespeare, trained by truncated backpropagation through time (the book's figure 5-13);
its figure and its summary."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..layers import RNN, Dense, Embedding, Softmax
from ..model import Sequential
from ..optimizers import SGD
from ..plots import new_figure
from ..sampling import ContiguousWindows
from .chapter import Chapter
from .word_vectors import shakespeare_words, word_ids

if TYPE_CHECKING:
    from matplotlib.figure import Figure


INITS = ("book", "numpynn")  # the book's initial weights, numpynn's (PyTorch's) defaults


def simple_rnnlm(
    vocab_size: int, wordvec: int = 100, hidden: int = 100, init: str = "book", seed: int = 0
) -> Sequential:
    """The book's ``SimpleRnnlm``: ids (n, T) -> Embedding (wordvec) -> RNN (hidden, every
    step) -> Dense -> Softmax: (n, T, vocab_size) (the layers of
    :func:`numpynn.language_models.char_rnn` with ``cell="rnn"``). ``init="book"``: the book's
    initial weights, the embedding N(0, 0.01^2), Wx N(0, 1/wordvec), Wh and the Dense's W
    N(0, 1/hidden), biases 0; ``"numpynn"``: the layers' own (PyTorch's: the embedding
    N(0, 1), the rest uniform in +-1/sqrt(fan))."""
    if init not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    rng = np.random.default_rng(seed)
    embedding = Embedding(vocab_size, wordvec, seed=rng)
    rnn = RNN(wordvec, hidden, return_sequences=True, seed=rng)
    dense = Dense(hidden, vocab_size, seed=rng)
    if init == "book":
        embedding.W[...] = rng.standard_normal(embedding.W.shape) / 100
        rnn.Wx[...] = rng.standard_normal(rnn.Wx.shape) / math.sqrt(wordvec)
        rnn.Wh[...] = rng.standard_normal(rnn.Wh.shape) / math.sqrt(hidden)
        dense.W[...] = rng.standard_normal(dense.W.shape) / math.sqrt(hidden)
        rnn.b[...] = 0
        dense.b[...] = 0
    return Sequential(embedding, rnn, dense, Softmax())


def rnn_perplexity(
    n_words: int = 1000,
    wordvec: int = 100,
    hidden: int = 100,
    time_size: int = 5,
    batch_size: int = 10,
    lr: float = 0.1,
    epochs: int = 100,
    inits: tuple[str, ...] = INITS,
    seed: int = 0,
) -> dict[str, Any]:
    """Train ``simple_rnnlm`` (once per initialisation of ``inits``) on the first
    ``n_words`` tokens of tiny Shakespeare (its vocabulary: the distinct words among them) to
    predict each next word, by SGD (``lr``) on :class:`~numpynn.sampling.ContiguousWindows`
    of ``time_size`` words in ``batch_size`` tracks (truncated BPTT: the RNN carries its
    state from batch to batch), for ``epochs`` epochs (DLFS vol. 2 ch. 5's ``train.py``).

    Parameters
    ----------
    n_words : int
        The tokens of tiny Shakespeare used (the first ones).
    wordvec : int
        The embeddings' width.
    hidden : int
        The RNN's hidden size.
    time_size : int
        The words per window (truncated BPTT's length).
    batch_size : int
        The number of tracks read side by side.
    lr : float
        SGD's learning rate.
    epochs : int
        Training epochs per initialisation.
    inits : tuple of str
        ``"book"`` (the book's initial weights) and/or ``"numpynn"`` (the layers' own).
    seed : int
        Seeds the initial weights (the windows are read in order).

    Returns
    -------
    dict
        ``"perplexity"``: ``{init: array (epochs,)}``, exp of each epoch's mean
        cross-entropy per word, as the book's trainer reports it; ``"epochs"``: (epochs,)
        1 to epochs; and ``"vocab_size"``, ``"n_words"``, ``"steps_per_epoch"``,
        ``"wordvec"``, ``"hidden"``, ``"time_size"``, ``"batch_size"``, ``"lr"``.

    Raises
    ------
    ValueError
        For an init other than ``"book"`` or ``"numpynn"``.
    """
    ids, id_to_word = word_ids(shakespeare_words()[:n_words])
    data = ContiguousWindows(ids, time_size)
    perplexity = {}
    for init in inits:
        model = simple_rnnlm(len(id_to_word), wordvec, hidden, init=init, seed=seed)
        history = model.fit(
            data, optimizer=SGD(lr=lr), epochs=epochs, batch_size=batch_size, seed=seed
        )
        perplexity[init] = np.exp(history["loss"])
    return {
        "perplexity": perplexity,
        "epochs": np.arange(1, epochs + 1),
        "vocab_size": len(id_to_word),
        "n_words": len(ids),
        "steps_per_epoch": data.steps(batch_size),
        "wordvec": wordvec,
        "hidden": hidden,
        "time_size": time_size,
        "batch_size": batch_size,
        "lr": lr,
    }


# --- the figure ------------------------------------------------------------------------


INIT_STYLES: dict[str, dict[str, Any]] = {
    "book": {"color": "tab:blue", "label": "the book's initial weights (figure 5-13)"},
    "numpynn": {
        "color": "tab:orange",
        "linestyle": "-.",
        "label": "numpynn's (PyTorch's) initial weights",
    },
}


def perplexity_figure(result: dict[str, Any]) -> Figure:
    """The training perplexity by epoch of each initialisation, and the vocabulary size, the
    perplexity of a uniform guess (``result`` from :func:`rnn_perplexity`; the book's
    figure 5-13)."""
    fig = new_figure(figsize=(7.5, 4.8))
    ax = fig.add_subplot(1, 1, 1)
    for init, style in INIT_STYLES.items():
        if init in result["perplexity"]:
            ax.plot(result["epochs"], result["perplexity"][init], linewidth=2, **style)
    ax.axhline(
        result["vocab_size"],
        color="tab:gray",
        linestyle="--",
        linewidth=1.2,
        label=f"uniform guess over the {result['vocab_size']} words",
    )
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity")
    ax.set_xlim(0, result["epochs"][-1])
    ax.set_ylim(0, result["vocab_size"] * 1.08)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(
        f"RNN language model on the first {result['n_words']:,} words of tiny Shakespeare\n"
        f"wordvec {result['wordvec']}, hidden {result['hidden']}, time {result['time_size']}, "
        f"batch {result['batch_size']}, SGD lr {result['lr']:g}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


# --- the chapter -----------------------------------------------------------------------


def run() -> dict[str, Any]:
    """The chapter's numbers: :func:`rnn_perplexity` with the book's settings."""
    return rnn_perplexity()


def figures(result: dict[str, Any]) -> dict[str, Figure]:
    """The chapter's figure, by file name."""
    return {"rnnlm.png": perplexity_figure(result)}


def summary(result: dict[str, Any]) -> str:
    """The perplexity of each initialisation after a few epochs."""
    lines = [
        f"{result['n_words']:,} words, vocabulary {result['vocab_size']}, "
        f"{result['steps_per_epoch']} batches an epoch; training perplexity:"
    ]
    for init, ppl in result["perplexity"].items():
        shown = [e for e in (1, 10, 25, 50, 75, 100) if e <= len(ppl)]
        epochs = ", ".join(f"epoch {e} {ppl[e - 1]:.1f}" for e in shown)
        lines.append(f"  {init} initial weights: {epochs}")
    return "\n".join(lines)


CHAPTER = Chapter(
    name="rnnlm",
    title="an RNN language model on 1,000 words of Shakespeare: perplexity by epoch",
    page="13-rnn-language-model.md",
    run=run,
    figures=figures,
    summary=summary,
)
