"""Chapter 17, attention (DLFS2 ch. 8): dates written in many ways, "september 27, 1994" or
"9/27/94", rewritten as "1994-09-27" by the book's AttentionSeq2seq, against chapter 16's
seq2seq and peeky seq2seq; accuracy by epoch, and the attention weights of a few dates as
heat maps (DLFS2 figure 8-26's kind).

The attention decoder (:class:`AttentionDecoder`) reads every hidden state of the encoder
(:class:`~numpynn.lab.seq2seq.Encoder` with ``return_sequences``): at each output step its
LSTM's h scores every input step by a dot product, softmax turns the scores into weights that
sum to 1 (:class:`DotAttention`), and the weighted sum of the encoder's states, the context,
joins h in the Dense layer that scores the next character. The models, the training loop and
the accuracy are chapter 16's (:mod:`numpynn.lab.seq2seq`).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from .._typing import Array
from ..activations import softmax
from ..layers import LSTM, Dense, Embedding, Layer
from ..plots import new_figure
from .chapter import Chapter
from .seq2seq import (
    Encoder,
    Seq2seq,
    decode,
    encode,
    lstm_step,
    seq2seq_model,
    split,
    train_seq2seq,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# --- the data: the book's dataset/date.txt, made here -----------------------------------

MONTHS = [datetime.date(2000, m, 1).strftime("%B").lower() for m in range(1, 13)]
WEEKDAYS = [datetime.date(2024, 1, d).strftime("%A").lower() for d in range(1, 8)]  # monday..
DATE_VOCAB = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ,/-_"
QUESTION_LENGTH = 29  # "wednesday, september 27, 1994"
ANSWER_LENGTH = 11  # "_1994-09-27"
FIRST, LAST = datetime.date(1970, 1, 1), datetime.date(2029, 12, 31)  # "9/27/94": 70-99 19xx


def _format(day: datetime.date, style: int, case: int) -> str:
    """One way of writing ``day``: 0 "september 27, 1994", 1 "sep 27, 1994", 2 "tuesday,
    september 27, 1994", 3 "9/27/94"; names in lower case, Title case or UPPER (case 0-2)."""
    if style == 3:
        return f"{day.month}/{day.day}/{day.year % 100:02d}"
    month = MONTHS[day.month - 1]
    text = f"{month if style != 1 else month[:3]} {day.day}, {day.year}"
    if style == 2:
        text = f"{WEEKDAYS[day.weekday()]}, {text}"
    return (str.lower, str.title, str.upper)[case](text)


def date_problems(n: int = 50_000, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` dates between 1970 and 2029, each written in one of four ways (and three cases)
    drawn at random, padded to 29 characters, with the answer "_1994-09-27": the book's
    date.txt format.

    Parameters
    ----------
    n : int
        The number of dates.
    seed : int
        Seeds the dates, their ways of writing and their cases.

    Returns
    -------
    tuple of (list of str, list of str)
        ``(questions, answers)``: ``n`` questions of 29 characters (space-padded) and their
        ``n`` answers of 11 (``"_"`` then the ISO date), all in ``DATE_VOCAB``.
    """
    rng = np.random.default_rng(seed)
    days = rng.integers(FIRST.toordinal(), LAST.toordinal() + 1, size=n)
    styles, cases = rng.integers(0, 4, size=n), rng.integers(0, 3, size=n)
    questions, answers = [], []
    for ordinal, style, case in zip(days, styles, cases, strict=True):
        day = datetime.date.fromordinal(int(ordinal))
        questions.append(_format(day, int(style), int(case)).ljust(QUESTION_LENGTH))
        answers.append("_" + day.isoformat())
    return questions, answers


# --- the attention decoder -----------------------------------------------------------------


class DotAttention:
    """Dot-product attention of every decoder step over every encoder step:

        S = dec_hs enc_hs^T (n, T', T), A = softmax(S) along T (each row sums to 1),
        C = A enc_hs (n, T', H), the contexts.

    Backward: dA = dC enc_hs^T; dS = A (dA - sum(A dA)) (softmax's Jacobian, per row);
    d enc_hs = A^T dC + dS^T dec_hs; d dec_hs = dS enc_hs."""

    def forward(self, enc_hs: Array, dec_hs: Array) -> Array:
        self.enc_hs, self.dec_hs = enc_hs, dec_hs
        self.weights = softmax(dec_hs @ enc_hs.transpose(0, 2, 1))
        return self.weights @ enc_hs

    def backward(self, dc: Array) -> tuple[Array, Array]:
        """dc (n, T', H) -> (d enc_hs (n, T, H), d dec_hs (n, T', H))."""
        a = self.weights
        da = dc @ self.enc_hs.transpose(0, 2, 1)
        ds = a * (da - np.sum(a * da, axis=2, keepdims=True))
        d_enc = a.transpose(0, 2, 1) @ dc + ds.transpose(0, 2, 1) @ self.dec_hs
        return d_enc, ds @ self.enc_hs


class AttentionDecoder:
    """The book's AttentionDecoder: ids (n, T') -> Embedding -> LSTM started from the
    encoder's last h -> attention over the encoder's states enc_hs (n, T, H) -> [context, h]
    (n, T', 2H) -> Dense -> scores (n, T', V)."""

    def __init__(
        self, vocab_size: int, wordvec: int, hidden: int, *, dtype: Any = np.float32, seed: int = 0
    ) -> None:
        self.embed = Embedding(vocab_size, wordvec, dtype=dtype, seed=seed)
        self.lstm = LSTM(wordvec, hidden, return_sequences=True, dtype=dtype, seed=seed + 1)
        self.attention = DotAttention()
        self.affine = Dense(2 * hidden, vocab_size, dtype=dtype, seed=seed + 2)
        self.layers: list[Layer] = [self.embed, self.lstm, self.affine]

    def forward(self, xs: Array, enc_hs: Array, training: bool = False) -> Array:
        self.lstm.set_state(enc_hs[:, -1])
        dec_hs = self.lstm.forward(self.embed.forward(xs, training), training)
        context = self.attention.forward(enc_hs, dec_hs)
        return self.affine.forward(np.concatenate([context, dec_hs], axis=2), training)

    def backward(self, dscore: Array) -> Array:
        """dscore (n, T', V) -> d enc_hs (n, T, H): through the attention, and through the
        LSTM's initial state (its dh0) into the last step."""
        H = self.lstm.hidden
        dout = self.affine.backward(dscore)
        d_enc, d_dec = self.attention.backward(dout[:, :, :H])
        d_dec += dout[:, :, H:]
        self.embed.backward(self.lstm.backward(d_dec))
        d_enc[:, -1] += self.lstm.dh0
        return d_enc

    def generate(self, enc_hs: Array, start_id: int, length: int) -> Array:
        """Greedy decoding as :meth:`Decoder.generate`; keeps each step's attention weights
        as ``weights``: (n, length, T)."""
        h = enc_hs[:, -1]
        state = (h, np.zeros_like(h))
        ids = np.full((len(h), 1), start_id)
        out, weights = [], []
        for _ in range(length):
            h, state = lstm_step(self.lstm, self.embed.forward(ids), state)
            context = self.attention.forward(enc_hs, h[:, None])
            weights.append(self.attention.weights[:, 0])
            scores = self.affine.forward(np.concatenate([context[:, 0], h], axis=1))
            ids = scores.argmax(axis=1)[:, None]
            out.append(ids[:, 0])
        self.lstm.reset_state()
        self.weights = np.stack(weights, axis=1)
        return np.stack(out, axis=1)


def attention_model(
    vocab_size: int, wordvec: int = 16, hidden: int = 256, *, dtype: Any = np.float32, seed: int = 0
) -> Seq2seq:
    """The book's AttentionSeq2seq: an Encoder giving every h, an AttentionDecoder."""
    encoder = Encoder(vocab_size, wordvec, hidden, return_sequences=True, dtype=dtype, seed=seed)
    return Seq2seq(
        encoder, AttentionDecoder(vocab_size, wordvec, hidden, dtype=dtype, seed=seed + 10)
    )


# --- the experiment ------------------------------------------------------------------------

MODELS = ("seq2seq", "peeky", "attention")
BOOK = {  # DLFS2 ch. 8, approximately: test accuracy after the first epochs
    "attention": "~100% from epoch 2-3",
    "peeky": "near 100% after a few more epochs",
    "seq2seq": "low",
}


def date_accuracy(
    n_problems: int = 50_000,
    epochs: int = 10,
    hidden: int = 256,
    wordvec: int = 16,
    batch_size: int = 128,
    lr: float = 0.001,
    models: tuple[str, ...] = MODELS,
    n_maps: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """Train each of ``models`` on ``n_problems`` dates (10% held out), the questions reversed
    as the book does; the test accuracy (whole dates right) by epoch, and the attention
    model's weights (in the questions' order) for ``n_maps`` test dates.

    Parameters
    ----------
    n_problems : int
        The number of dates (:func:`numpynn.lab.date_problems`); the last 10% are the test
        set.
    epochs : int
        Training epochs per model.
    hidden : int
        The LSTMs' hidden size H.
    wordvec : int
        The character embeddings' width.
    batch_size : int
        The mini-batch size.
    lr : float
        Adam's learning rate (gradients clipped to global norm 5).
    models : tuple of str
        Which models to train: ``"seq2seq"``, ``"peeky"``, ``"attention"``.
    n_maps : int
        The number of test dates whose attention weights are kept.
    seed : int
        Seeds the dates, the initial weights and the shuffles.

    Returns
    -------
    dict
        ``"accuracy"`` and ``"loss"``: ``{model: array (epochs,)}``, the test accuracy
        (whole dates right) and the mean training loss by epoch; ``"maps"``: the attention
        model's maps of the first ``n_maps`` test dates, this module's ``attention_maps``
        (``[{"question": str, "answer": str, "weights": array (10, len(question))}]``;
        ``[]`` without ``"attention"`` in ``models``); and the settings ``"n_problems"``,
        ``"n_test"``, ``"epochs"``, ``"hidden"``, ``"wordvec"``, ``"batch_size"``, ``"lr"``.

    Raises
    ------
    ValueError
        For a model not in ``MODELS``, or ``n_problems`` too small to hold out a test set
        (fewer than 6).
    """
    unknown = [name for name in models if name not in MODELS]
    if unknown:
        raise ValueError(f"models must be among {list(MODELS)}, got {unknown}")
    questions, answers = date_problems(n_problems, seed)
    x, t = encode(questions, DATE_VOCAB), encode(answers, DATE_VOCAB)
    (x_train, t_train), (x_test, t_test) = split(x, t)
    x_train, x_test = x_train[:, ::-1], x_test[:, ::-1]
    V = len(DATE_VOCAB)
    result: dict[str, Any] = {"accuracy": {}, "loss": {}, "maps": []}
    for name in models:
        if name == "attention":
            model = attention_model(V, wordvec, hidden, seed=seed)
        else:
            model = seq2seq_model(V, wordvec, hidden, peeky=name == "peeky", seed=seed)
        curves = train_seq2seq(
            model,
            (x_train, t_train),
            (x_test, t_test),
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
        )
        result["accuracy"][name], result["loss"][name] = curves["accuracy"], curves["loss"]
        if name == "attention":
            result["maps"] = attention_maps(model, questions[-len(x_test) :][:n_maps])
    settings = {"n_problems": n_problems, "n_test": len(x_test), "epochs": epochs}
    return {
        **result,
        **settings,
        "hidden": hidden,
        "wordvec": wordvec,
        "batch_size": batch_size,
        "lr": lr,
    }


def attention_maps(model: Seq2seq, questions: list[str]) -> list[dict[str, Any]]:
    """The attention model's answer to each question and its weights, (answer steps,
    question characters) in the written order (the model reads them reversed), the padding
    cut off; each row sums to 1 over the whole padded question.

    Parameters
    ----------
    model : Seq2seq
        A trained attention model (its decoder keeps the weights of its last ``generate``).
    questions : list of str
        Questions as :func:`numpynn.lab.date_problems` writes them: padded to one length,
        characters of ``DATE_VOCAB``.

    Returns
    -------
    list of dict
        One per question: ``"question"`` (str, unpadded), ``"answer"`` (str, the 10
        characters decoded greedily) and ``"weights"`` (array (10, len(question))).

    Raises
    ------
    KeyError
        For a character not in ``DATE_VOCAB``.
    AttributeError
        For a model whose decoder has no attention weights.
    """
    x = encode(questions, DATE_VOCAB)[:, ::-1]
    ids = model.generate(x, DATE_VOCAB.index("_"), ANSWER_LENGTH - 1)
    weights = model.decoder.weights[:, :, ::-1]  # type: ignore[attr-defined]
    maps = []
    for question, answer, w in zip(questions, decode(ids, DATE_VOCAB), weights, strict=True):
        maps.append(
            {
                "question": question.rstrip(),
                "answer": answer,
                "weights": w[:, : len(question.rstrip())],
            }
        )
    return maps


# --- the figures ---------------------------------------------------------------------------

STYLES: dict[str, dict[str, Any]] = {
    "seq2seq": {"color": "tab:gray", "marker": "o"},
    "peeky": {"color": "tab:blue", "marker": "s"},
    "attention": {"color": "tab:red", "marker": "^"},
}


def date_accuracy_figure(result: dict[str, Any]) -> Figure:
    """Test accuracy by epoch of seq2seq, peeky and attention on the dates."""
    fig = new_figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    for name, curve in result["accuracy"].items():
        epochs = np.arange(1, len(curve) + 1)
        ax.plot(epochs, 100 * curve, label=f"{name}: {curve[-1]:.1%}", markersize=5, **STYLES[name])
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy, whole date right (%)")
    ax.set_ylim(0, 102)
    ax.set_xticks(np.arange(1, result["epochs"] + 1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="center right")
    ax.set_title(
        f"Dates to ISO: {result['n_problems']:,} dates ({result['n_test']:,} held out), "
        f"LSTM {result['hidden']}, Adam lr {result['lr']:g}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def attention_maps_figure(result: dict[str, Any]) -> Figure:
    """Each map's weights as a heat map: output characters (rows) by input characters
    (columns), darker = more attention (DLFS2 figure 8-26's kind)."""
    maps = result["maps"]
    fig = new_figure(figsize=(3.6 * len(maps) + 1, 4.2))
    fig.set_layout_engine("constrained")
    for k, m in enumerate(maps):
        ax = fig.add_subplot(1, len(maps), k + 1)
        w = m["weights"]
        image = ax.imshow(w, cmap="Greys", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(w.shape[1]), list(m["question"]), fontsize=8)
        ax.set_yticks(range(w.shape[0]), list(m["answer"]), fontsize=9)
        ax.set_xlabel("input characters")
        ax.set_ylabel("output characters")
        ax.set_title(f'"{m["question"]}" -> {m["answer"]}', fontsize=9)
    fig.colorbar(image, ax=fig.axes, shrink=0.8, pad=0.02, label="attention weight")
    return fig


# --- the chapter ---------------------------------------------------------------------------


def run() -> dict[str, Any]:
    """The chapter's numbers at a size that runs in under a minute: 10,000 dates, LSTM 64,
    5 epochs, Adam's lr 0.005 (the book: 50,000, 256, 10 and 0.001, :func:`full`)."""
    return date_accuracy(n_problems=10_000, epochs=5, hidden=64, lr=0.005)


def full() -> dict[str, Any]:
    """The book's setting: 50,000 dates, LSTM 256, 10 epochs."""
    return date_accuracy()


def figures(result: dict[str, Any]) -> dict[str, Figure]:
    """The chapter's figures, by file name."""
    return {
        "attention-dates.png": date_accuracy_figure(result),
        "attention-maps.png": attention_maps_figure(result),
    }


def summary(result: dict[str, Any]) -> str:
    """Each model's test accuracy by epoch, the book's, and the attention model's answers."""
    lines = [f"test accuracy ({result['n_test']:,} dates) by epoch:"]
    for name, curve in result["accuracy"].items():
        by_epoch = " ".join(f"{a:6.1%}" for a in curve)
        lines.append(f"  {name:<9} {by_epoch}   (book: {BOOK[name]})")
    for m in result["maps"]:
        lines.append(f"  attention: {m['question']!r} -> {m['answer']}")
    return "\n".join(lines)


CHAPTER = Chapter(
    name="attention",
    title="attention on dates: seq2seq, peeky and attention; attention weights (DLFS2 ch. 8)",
    page="17-attention.md",
    run=run,
    figures=figures,
    summary=summary,
    full=full,
)
