"""Chapter 16, seq2seq (DLFS2 ch. 7): an encoder-decoder of two LSTMs learns addition as text,
"16+75" -> "91"; accuracy by epoch for the plain model, with the question reversed, and
reversed + peeky (DLFS2 figures 7-23 and 7-26).

The models are small classes composing numpynn's layers (Embedding, LSTM, Dense), each with
``forward`` and ``backward``: an :class:`Encoder` reads the question and gives its LSTM's last
h (or every h, for attention); a :class:`Decoder` starts its LSTM from that h
(``LSTM.set_state``) and reads the answer shifted by one, "_91 " -> "91  "; its LSTM's ``dh0``
is the gradient that flows back into the encoder. :class:`Seq2seq` joins any encoder and
decoder of this kind (chapter 17's attention decoder too), :func:`train_seq2seq` trains one
with Adam and the cross-entropy of the answer's characters, and :func:`sequence_accuracy`
scores whole answers decoded greedily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .._typing import Array
from ..layers import LSTM, Dense, Embedding, Layer
from ..losses import CrossEntropy
from ..optimizers import Adam
from ..plots import new_figure
from .chapter import Chapter

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# --- the data: the book's dataset/addition.txt, made here --------------------------------

ADDITION_VOCAB = "0123456789+ _"  # 13 characters, as the book's vocabulary
QUESTION_LENGTH = 7  # "999+999"
ANSWER_LENGTH = 5  # "_1998"


def addition_problems(n: int = 50_000, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` problems a + b in the book's format: questions padded to 7 characters ("16+75  "),
    answers "_" + the sum padded to 5 ("_91  "). Each number has 1, 2 or 3 digits (equally
    likely), then a value of that many digits (0-9, 10-99, 100-999), so short numbers are not
    swamped by the 900 three-digit ones; problems may repeat, as in the book's file.

    Parameters
    ----------
    n : int
        The number of problems.
    seed : int
        Seeds the numbers.

    Returns
    -------
    tuple of (list of str, list of str)
        ``(questions, answers)``: ``n`` questions of 7 characters and their ``n`` answers of
        5, all in ``ADDITION_VOCAB``.
    """
    rng = np.random.default_rng(seed)
    digits = rng.integers(1, 4, size=(n, 2))
    low = np.where(digits == 1, 0, 10 ** (digits - 1))
    numbers = rng.integers(low, 10**digits)
    questions = [f"{a}+{b}".ljust(QUESTION_LENGTH) for a, b in numbers]
    answers = [f"_{a + b}".ljust(ANSWER_LENGTH) for a, b in numbers]
    return questions, answers


def encode(texts: list[str], vocab: str) -> Array:
    """Strings of one length -> character ids (n, length), int64, ids in ``vocab``'s order."""
    ids = {c: i for i, c in enumerate(vocab)}
    return np.array([[ids[c] for c in text] for text in texts], dtype=np.int64)


def decode(ids: Array, vocab: str) -> list[str]:
    """Character ids (n, length) -> the n strings."""
    return ["".join(vocab[i] for i in row) for row in ids]


def split(
    x: Array, t: Array, held_out: float = 0.1
) -> tuple[tuple[Array, Array], tuple[Array, Array]]:
    """The last ``held_out`` of the (already random) problems are the test set, as the book's
    ``sequence.load_data``: ((x_train, t_train), (x_test, t_test))."""
    n_test = round(len(x) * held_out)
    if not 0 < n_test < len(x):
        raise ValueError(f"held_out must leave problems on both sides, got {held_out!r}")
    cut = len(x) - n_test
    return (x[:cut], t[:cut]), (x[cut:], t[cut:])


# --- the models ----------------------------------------------------------------------------


def _layer_arrays(layers: list[Layer]) -> tuple[list[Array], list[Array]]:
    """Every parameter of ``layers`` and its gradient, in the same order."""
    params = [getattr(layer, p) for layer in layers for p in layer.params]
    grads = [getattr(layer, "d" + p) for layer in layers for p in layer.params]
    return params, grads


def lstm_step(lstm: LSTM, x: Array, state: tuple[Array, Array]) -> tuple[Array, tuple]:
    """One step of ``lstm`` from ``state`` = (h, c), each (n, H): x (n, 1, D) -> h (n, H) and
    the new state; the generation loop of a decoder."""
    lstm.set_state(*state)
    lstm.forward(x)
    h, c = lstm.hs[:, -1].copy(), lstm.cs[:, -1].copy()
    return h, (h, c)


class Encoder:
    """The book's Encoder: ids (n, T) -> Embedding (n, T, D) -> LSTM -> its last h (n, H), or
    every h (n, T, H) with ``return_sequences`` (attention reads them all)."""

    def __init__(
        self,
        vocab_size: int,
        wordvec: int,
        hidden: int,
        *,
        return_sequences: bool = False,
        dtype: Any = np.float32,
        seed: int = 0,
    ) -> None:
        self.embed = Embedding(vocab_size, wordvec, dtype=dtype, seed=seed)
        self.lstm = LSTM(
            wordvec, hidden, return_sequences=return_sequences, dtype=dtype, seed=seed + 1
        )
        self.layers: list[Layer] = [self.embed, self.lstm]

    def forward(self, xs: Array, training: bool = False) -> Array:
        return self.lstm.forward(self.embed.forward(xs, training), training)

    def backward(self, dh: Array) -> None:
        """dh: dL/d(output), (n, H) or (n, T, H); sets the parameters' gradients."""
        self.embed.backward(self.lstm.backward(dh))


class Decoder:
    """The book's Decoder, or its PeekyDecoder with ``peeky``: ids (n, T) -> Embedding ->
    LSTM started from the encoder's h -> Dense -> scores (n, T, V).

    Peeky concatenates the encoder's h to every step's embedding (the LSTM reads D + H
    numbers) and to every step's LSTM output (the Dense reads 2H), so every step sees it,
    not only the first."""

    def __init__(
        self,
        vocab_size: int,
        wordvec: int,
        hidden: int,
        *,
        peeky: bool = False,
        dtype: Any = np.float32,
        seed: int = 0,
    ) -> None:
        self.peeky = peeky
        extra = hidden if peeky else 0
        self.embed = Embedding(vocab_size, wordvec, dtype=dtype, seed=seed)
        self.lstm = LSTM(wordvec + extra, hidden, return_sequences=True, dtype=dtype, seed=seed + 1)
        self.affine = Dense(hidden + extra, vocab_size, dtype=dtype, seed=seed + 2)
        self.layers: list[Layer] = [self.embed, self.lstm, self.affine]

    def _peek(self, x: Array, h: Array) -> Array:
        """x (n, T, k) with h (n, H) appended to every step: (n, T, k + H)."""
        return np.concatenate([x, np.broadcast_to(h[:, None], (*x.shape[:2], len(h[0])))], 2)

    def forward(self, xs: Array, h: Array, training: bool = False) -> Array:
        """ids (n, T), the encoder's h (n, H) -> scores (n, T, V)."""
        self.lstm.set_state(h)
        x = self.embed.forward(xs, training)
        if self.peeky:
            x = self._peek(x, h)
        out = self.lstm.forward(x, training)
        if self.peeky:
            out = self._peek(out, h)
        return self.affine.forward(out, training)

    def backward(self, dscore: Array) -> Array:
        """dscore (n, T, V) -> dL/dh (n, H), the encoder's gradient: the LSTM's dh0 (plus, when
        peeky, the sum over steps of the gradients of the appended copies of h)."""
        H = self.lstm.hidden
        dout = self.affine.backward(dscore)
        dh = np.zeros_like(dout[:, 0, :H])
        if self.peeky:
            dh += dout[:, :, H:].sum(axis=1)
            dout = dout[:, :, :H]
        dx = self.lstm.backward(np.ascontiguousarray(dout))
        dh += self.lstm.dh0
        if self.peeky:
            D = self.embed.dim
            dh += dx[:, :, D:].sum(axis=1)
            dx = dx[:, :, :D]
        self.embed.backward(dx)
        return dh

    def generate(self, h: Array, start_id: int, length: int) -> Array:
        """Greedy decoding: ``length`` ids (n, length) from the encoder's h (n, H), each step
        fed the most probable character of the step before, starting from ``start_id``."""
        state = (h, np.zeros_like(h))
        ids = np.full((len(h), 1), start_id)
        out = []
        for _ in range(length):
            x = self.embed.forward(ids)
            if self.peeky:
                x = self._peek(x, h)
            out_h, state = lstm_step(self.lstm, x, state)
            if self.peeky:
                out_h = np.concatenate([out_h, h], axis=1)
            ids = self.affine.forward(out_h).argmax(axis=1)[:, None]
            out.append(ids[:, 0])
        self.lstm.reset_state()
        return np.stack(out, axis=1)


class SeqDecoder(Protocol):
    """What :class:`Seq2seq` asks of a decoder (:class:`Decoder`, chapter 17's
    ``AttentionDecoder``): given the encoder's output (h (n, H), or every h (n, T, H))."""

    layers: list[Layer]

    def forward(self, xs: Array, encoded: Array, training: bool = False) -> Array: ...

    def backward(self, dscore: Array) -> Array: ...

    def generate(self, encoded: Array, start_id: int, length: int) -> Array: ...


class Seq2seq:
    """An encoder and a decoder trained as one: question ids xs (n, T) and answer ids ts
    (n, T') starting with the start character -> the mean cross-entropy of predicting
    ts[:, 1:] from ts[:, :-1] (teacher forcing); ``backward`` sets every gradient."""

    def __init__(self, encoder: Encoder, decoder: SeqDecoder) -> None:
        self.encoder, self.decoder = encoder, decoder
        self.loss = CrossEntropy(from_logits=True)
        self.params, self.grads = _layer_arrays(encoder.layers + decoder.layers)

    def forward(self, xs: Array, ts: Array) -> float:
        encoded = self.encoder.forward(xs, training=True)
        scores = self.decoder.forward(ts[:, :-1], encoded, training=True)
        return self.loss.forward(scores, ts[:, 1:])

    def backward(self) -> None:
        self.encoder.backward(self.decoder.backward(self.loss.backward()))

    def generate(self, xs: Array, start_id: int, length: int) -> Array:
        """Greedy answers (n, length) to the questions xs (n, T)."""
        return self.decoder.generate(self.encoder.forward(xs), start_id, length)


def seq2seq_model(
    vocab_size: int,
    wordvec: int = 16,
    hidden: int = 128,
    *,
    peeky: bool = False,
    dtype: Any = np.float32,
    seed: int = 0,
) -> Seq2seq:
    """The book's Seq2seq (or PeekySeq2seq): Encoder and Decoder of the same sizes."""
    encoder = Encoder(vocab_size, wordvec, hidden, dtype=dtype, seed=seed)
    decoder = Decoder(vocab_size, wordvec, hidden, peeky=peeky, dtype=dtype, seed=seed + 10)
    return Seq2seq(encoder, decoder)


def sequence_accuracy(
    model: Seq2seq, x: Array, t: Array, batch_size: int = 1000
) -> tuple[float, Array]:
    """The share of questions x (n, T) whose whole answer t[:, 1:] the model decodes right,
    greedily from t's start character; and the answers (n, T' - 1)."""
    answers = np.concatenate(
        [
            model.generate(x[i : i + batch_size], int(t[0, 0]), t.shape[1] - 1)
            for i in range(0, len(x), batch_size)
        ]
    )
    return float(np.mean(np.all(answers == t[:, 1:], axis=1))), answers


def train_seq2seq(
    model: Seq2seq,
    train: tuple[Array, Array],
    test: tuple[Array, Array],
    *,
    epochs: int = 25,
    batch_size: int = 128,
    lr: float = 0.001,
    max_grad: float = 5.0,
    seed: int = 0,
) -> dict[str, Array]:
    """The book's training: Adam (lr 0.001), gradients clipped to global norm 5, shuffled
    mini-batches; after each epoch the test accuracy (:func:`sequence_accuracy`).
    Returns {"loss": mean training loss by epoch, "accuracy": test accuracy by epoch}."""
    (x, t), (x_test, t_test) = train, test
    optimizer = Adam(lr=lr, clipnorm=max_grad)
    rng = np.random.default_rng(seed)
    losses, accuracies = [], []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        total = 0.0
        for i in range(0, len(x), batch_size):
            batch = order[i : i + batch_size]
            total += model.forward(x[batch], t[batch]) * len(batch)
            model.backward()
            optimizer.step(model.params, model.grads)
        losses.append(total / len(x))
        accuracies.append(sequence_accuracy(model, x_test, t_test)[0])
    return {"loss": np.array(losses), "accuracy": np.array(accuracies)}


# --- the experiment ------------------------------------------------------------------------

VARIANTS = {  # name -> (question reversed, peeky)
    "plain": (False, False),
    "reversed": (True, False),
    "reversed + peeky": (True, True),
}
BOOK_FINAL = {"plain": 0.10, "reversed": 0.50, "reversed + peeky": 0.99}  # figures 7-23, 7-26


def addition_accuracy(
    n_problems: int = 50_000,
    epochs: int = 25,
    hidden: int = 128,
    wordvec: int = 16,
    batch_size: int = 128,
    lr: float = 0.001,
    variants: tuple[str, ...] = tuple(VARIANTS),
    seed: int = 0,
) -> dict[str, Any]:
    """Train the book's seq2seq on ``n_problems`` addition problems (10% held out) in each
    variant of ``VARIANTS``; the test accuracy (whole answers right) by epoch.

    Parameters
    ----------
    n_problems : int
        The number of problems (:func:`numpynn.lab.addition_problems`); the last 10% are
        the test set.
    epochs : int
        Training epochs per variant.
    hidden : int
        The LSTMs' hidden size.
    wordvec : int
        The character embeddings' width.
    batch_size : int
        The mini-batch size.
    lr : float
        Adam's learning rate (gradients clipped to global norm 5).
    variants : tuple of str
        Names of ``VARIANTS``: ``"plain"``, ``"reversed"``, ``"reversed + peeky"``.
    seed : int
        Seeds the problems, the initial weights and the shuffles.

    Returns
    -------
    dict
        ``"accuracy"`` and ``"loss"``: ``{variant: array (epochs,)}``, the test accuracy
        (whole answers right) and the mean training loss by epoch; ``"examples"``:
        ``{variant: [(question, right answer, model's answer)]}``, str triples for the
        first 5 test problems; and the settings ``"n_problems"``, ``"n_test"``,
        ``"epochs"``, ``"hidden"``, ``"wordvec"``, ``"batch_size"``, ``"lr"``.

    Raises
    ------
    ValueError
        For a variant not in ``VARIANTS``, or ``n_problems`` too small to hold out a test
        set (fewer than 6).
    """
    unknown = [name for name in variants if name not in VARIANTS]
    if unknown:
        raise ValueError(f"variants must be among {list(VARIANTS)}, got {unknown}")
    questions, answers = addition_problems(n_problems, seed)
    x, t = encode(questions, ADDITION_VOCAB), encode(answers, ADDITION_VOCAB)
    (x_train, t_train), (x_test, t_test) = split(x, t)
    result: dict[str, Any] = {"accuracy": {}, "loss": {}, "examples": {}}
    for name in variants:
        reverse, peeky = VARIANTS[name]
        xr, xr_test = (x_train[:, ::-1], x_test[:, ::-1]) if reverse else (x_train, x_test)
        model = seq2seq_model(len(ADDITION_VOCAB), wordvec, hidden, peeky=peeky, seed=seed)
        curves = train_seq2seq(
            model,
            (xr, t_train),
            (xr_test, t_test),
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
        )
        result["accuracy"][name], result["loss"][name] = curves["accuracy"], curves["loss"]
        guessed = decode(
            model.generate(xr_test[:5], int(t_test[0, 0]), ANSWER_LENGTH - 1), ADDITION_VOCAB
        )
        first = len(x_train)  # the first test problems, as text
        shown = zip(questions[first:], answers[first:], guessed, strict=False)
        result["examples"][name] = [(q.strip(), a[1:].strip(), g.strip()) for q, a, g in shown]
    return {
        **result,
        "n_problems": n_problems,
        "n_test": len(x_test),
        "epochs": epochs,
        "hidden": hidden,
        "wordvec": wordvec,
        "batch_size": batch_size,
        "lr": lr,
    }


# --- the figure ----------------------------------------------------------------------------

STYLES: dict[str, dict[str, Any]] = {
    "plain": {"color": "tab:gray", "marker": "o"},
    "reversed": {"color": "tab:blue", "marker": "s"},
    "reversed + peeky": {"color": "tab:red", "marker": "^"},
}


def addition_accuracy_figure(result: dict[str, Any]) -> Figure:
    """Test accuracy by epoch of each variant (DLFS2 figures 7-23 and 7-26 on one plot), the
    book's accuracy after 25 epochs as a dotted line of the same colour."""
    fig = new_figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    for name, curve in result["accuracy"].items():
        epochs = np.arange(1, len(curve) + 1)
        style = STYLES[name]
        ax.plot(epochs, 100 * curve, label=f"{name}: {curve[-1]:.1%}", markersize=4, **style)
        ax.axhline(100 * BOOK_FINAL[name], color=style["color"], linestyle=":", linewidth=1)
    ax.plot([], [], "k:", linewidth=1, label="the book after 25 epochs (approx.)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy, whole answer right (%)")
    ax.set_ylim(0, 102)
    ax.grid(alpha=0.3)
    ax.set_xticks(np.arange(1, result["epochs"] + 1, max(1, result["epochs"] // 10)))
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(0.0, 0.95))
    ax.set_title(
        f"seq2seq on addition: {result['n_problems']:,} problems ({result['n_test']:,} held "
        f"out), LSTM {result['hidden']}, Adam lr {result['lr']:g}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


# --- the chapter ---------------------------------------------------------------------------


def run() -> dict[str, Any]:
    """The chapter's numbers at a size that runs in under a minute: 20,000 problems, LSTM 64,
    8 epochs, Adam's lr 0.005 (the book: 50,000, 128, 25 and 0.001, :func:`full`)."""
    return addition_accuracy(n_problems=20_000, epochs=8, hidden=64, lr=0.005)


def full() -> dict[str, Any]:
    """The book's setting: 50,000 problems, LSTM 128, 25 epochs."""
    return addition_accuracy()


def figures(result: dict[str, Any]) -> dict[str, Figure]:
    """The chapter's figure, by file name."""
    return {"seq2seq-addition.png": addition_accuracy_figure(result)}


def summary(result: dict[str, Any]) -> str:
    """Each variant's test accuracy after the first and the last epoch, the book's, and a few
    answers."""
    lines = [f"test accuracy ({result['n_test']:,} problems), epoch 1 and {result['epochs']}:"]
    for name, curve in result["accuracy"].items():
        book = f"(book, 25 epochs: ~{BOOK_FINAL[name]:.0%})"
        lines.append(f"  {name:<17} {curve[0]:6.1%} {curve[-1]:6.1%}   {book}")
    for name, examples in result["examples"].items():
        shown = ", ".join(f"{q}={g}{'' if g == a else ' (' + a + ')'}" for q, a, g in examples)
        lines.append(f"  {name}: {shown}")
    return "\n".join(lines)


CHAPTER = Chapter(
    name="seq2seq",
    title="seq2seq on addition: plain, reversed input, reversed + peeky (DLFS2 ch. 7)",
    page="16-seq2seq.md",
    run=run,
    figures=figures,
    summary=summary,
    full=full,
)
