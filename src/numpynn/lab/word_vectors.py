"""Chapter 12, word vectors (DLFS vol. 2 ch. 2-4) on the words of tiny Shakespeare: the
count-based method (co-occurrence counts, PPMI, a truncated SVD) and the inference-based one
(CBOW with negative sampling); the nearest words of a few queries by cosine similarity, and
the words in 2-D; its figure and its summary.

The word tokenizer of the three word chapters (12, 13 and 15) lives here:
:func:`tokenize` and :func:`word_ids`, and :func:`shakespeare_words` reads the corpus."""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._typing import Array
from ..datasets.text import SHAKESPEARE, read_text
from ..layers import Embedding
from ..optimizers import Adam
from ..plots import new_figure
from .chapter import Chapter

if TYPE_CHECKING:
    from matplotlib.figure import Figure

UNKNOWN = "<unk>"  # the word of every id outside a limited vocabulary, as PTB's
QUERIES = ("king", "you", "love", "good", "father", "blood")

# --- the words ---------------------------------------------------------------------------

# A word is a run of letters, with inner apostrophes ("know't", "o'er"); every other
# character that is not a space is a token of its own (",", ":", "!", a lone "'").
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)*|\S")


def tokenize(text: str) -> list[str]:
    """The tokens of ``text`` as DLFS vol. 2's ``preprocess`` makes them: lower-case words,
    and punctuation marks as tokens of their own ("Hear me speak." -> hear, me, speak, .)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return _TOKEN.findall(text.lower())


def shakespeare_words(data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """The 253,593 tokens of tiny Shakespeare (:func:`tokenize`), its file found as
    :func:`numpynn.datasets.load_shakespeare` finds it (``data_dir``, NUMPYNN_DATA_DIR, the
    cache, the download)."""
    return tokenize(read_text(SHAKESPEARE, data_dir))


def word_ids(words: Sequence[str], vocab_size: int | None = None) -> tuple[Array, list[str]]:
    """(ids (len(words),) int64, id_to_word): the words numbered by frequency, most frequent
    first (ties in order of first appearance). With ``vocab_size``, the vocab_size - 1 most
    frequent words keep their ids and every other word becomes ``UNKNOWN``, the last id
    (PTB's vocabulary is limited so)."""
    counts = Counter(words)  # in order of first appearance; most_common keeps it for ties
    ranked = [word for word, _ in counts.most_common()]
    if vocab_size is not None:
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 2:
            raise ValueError(f"vocab_size must be an integer >= 2, got {vocab_size!r}")
        if vocab_size < len(ranked):
            ranked = [*ranked[: vocab_size - 1], UNKNOWN]
    word_to_id = {word: i for i, word in enumerate(ranked)}
    unknown = word_to_id.get(UNKNOWN, -1)
    ids = np.array([word_to_id.get(word, unknown) for word in words], dtype=np.int64)
    return ids, ranked


def coverage(ids: Array, id_to_word: Sequence[str]) -> float:
    """The share of the tokens ``ids`` that are words of the vocabulary, not ``UNKNOWN``
    (``ids`` and ``id_to_word`` from :func:`word_ids`)."""
    if id_to_word[-1] != UNKNOWN:
        return 1.0
    return float(np.mean(ids != len(id_to_word) - 1))


# --- the count-based method (DLFS vol. 2 ch. 2) ------------------------------------------


def co_occurrence(ids: Array, vocab_size: int, window: int = 1) -> Array:
    """C (vocab_size, vocab_size) float32: C[i, j] = how often word j stands within
    ``window`` words on either side of word i (DLFS vol. 2's ``create_co_matrix``)."""
    C = np.zeros((vocab_size, vocab_size), dtype=np.float32)
    for d in range(1, window + 1):
        np.add.at(C, (ids[:-d], ids[d:]), 1)  # the word d places to the right
        np.add.at(C, (ids[d:], ids[:-d]), 1)  # and to the left
    return C


def ppmi(C: Array, eps: float = 1e-8) -> Array:
    """The positive pointwise mutual information of counts C (V, V): M[i, j] = max(0,
    log2(C[i, j] N / (S[i] S[j]))), N the total count, S the row sums (DLFS's ``ppmi``)."""
    S = C.sum(axis=1, dtype=np.float64)
    N = S.sum()
    row, column = S.astype(C.dtype)[:, None], S.astype(C.dtype)[None, :]
    pmi = C * C.dtype.type(N)  # in place from here: one (V, V) array, 400 MB for V = 10,000
    pmi /= row
    pmi /= column
    pmi += C.dtype.type(eps)
    with np.errstate(divide="ignore"):
        np.log2(pmi, out=pmi)
    return np.maximum(pmi, 0, out=pmi)


def truncated_svd(M: Array, k: int, n_iter: int = 5, seed: int = 0) -> tuple[Array, Array]:
    """(U (V, k), S (k,)): the k largest singular values of M (V, V') and their left singular
    vectors, by randomized SVD (Halko, Martinsson and Tropp 2011, as scikit-learn's
    ``randomized_svd`` that DLFS uses): an orthonormal basis Q (V, k + 10) of M's range found by
    ``n_iter`` power iterations from a random start, then NumPy's exact SVD of the small
    Q^T M. The signs of the columns are those of that SVD."""
    rng = np.random.default_rng(seed)
    Q = M @ rng.standard_normal((M.shape[1], k + 10)).astype(M.dtype)
    for _ in range(n_iter):  # (M M^T)^q M Omega: the large singular values dominate
        Q, _r = np.linalg.qr(Q)
        Q, _r = np.linalg.qr(M.T @ Q)
        Q = M @ Q
    Q, _r = np.linalg.qr(Q)
    U_small, S, _vt = np.linalg.svd(Q.T @ M, full_matrices=False)
    return (Q @ U_small)[:, :k], S[:k]


def count_vectors(
    ids: Array, vocab_size: int, window: int = 2, dim: int = 100, seed: int = 0
) -> Array:
    """Word vectors (vocab_size, dim) by the count-based method: ``co_occurrence``
    (``window``), ``ppmi``, then the first ``dim`` left singular vectors
    (``truncated_svd``).

    Parameters
    ----------
    ids : array of int
        The text as word ids (n_tokens,), each in [0, vocab_size).
    vocab_size : int
        V, the number of words.
    window : int
        The words counted on either side of each word.
    dim : int
        The vectors' width, at most vocab_size.
    seed : int
        Seeds the randomized SVD's start.

    Returns
    -------
    array
        (vocab_size, dim) float32: row i is word i's vector (unit-length columns).
    """
    U, _s = truncated_svd(ppmi(co_occurrence(ids, vocab_size, window)), dim, seed=seed)
    return U


# --- the inference-based method (DLFS vol. 2 ch. 3-4) -------------------------------------


def contexts_and_targets(ids: Array, window: int) -> tuple[Array, Array]:
    """(contexts (n, 2 window), targets (n,)): each word of ``ids`` that has ``window`` words
    on either side, and those words (DLFS's ``create_contexts_target``)."""
    n = len(ids) - 2 * window
    if n < 1:
        raise ValueError(f"ids must hold more than 2 window = {2 * window} words, got {len(ids)}")
    offsets = [d for d in range(-window, window + 1) if d != 0]
    contexts = np.stack([ids[window + d : window + d + n] for d in offsets], axis=1)
    return contexts, ids[window : window + n]


class CBOW:
    """CBOW with negative sampling (DLFS vol. 2 ch. 4): the mean of the context words' input
    vectors, h = mean_j W_in[c_j] (n, H), scored against the output vector of the target and
    of ``negatives`` words drawn from the unigram distribution to the power 0.75,
    s_k = h . W_out[w_k]; the loss is the binary cross-entropy of sigmoid(s) against 1 for
    the target and 0 for each drawn word, summed over the 1 + negatives words and averaged
    over the n samples (the book's ``NegativeSamplingLoss``). The drawn words may include
    the target (as the book's GPU path; its CPU path redraws them).

    W_in and W_out are numpynn :class:`numpynn.Embedding` tables (vocab_size, H), both starting
    N(0, 0.01^2) as the book's; ``counts`` (vocab_size,) are the words' frequencies.
    ``params`` and ``grads`` list the tables and their gradients for an optimiser.

    Parameters
    ----------
    vocab_size : int
        V, the number of words.
    hidden : int
        The vectors' width H.
    counts : array
        (vocab_size,): each word's count in the text, for the sampler.
    negatives : int
        The words drawn against each target.
    seed : int
        Seeds the tables.
    dtype : numpy dtype
        The tables' floating type (float32 by default).
    """

    def __init__(
        self,
        vocab_size: int,
        hidden: int,
        counts: Array,
        negatives: int = 5,
        seed: int = 0,
        dtype: type = np.float32,
    ) -> None:
        rng = np.random.default_rng(seed)
        self.inputs = Embedding(vocab_size, hidden, dtype=dtype)  # W_in: the word vectors
        self.outputs = Embedding(vocab_size, hidden, dtype=dtype)  # W_out
        for table in (self.inputs, self.outputs):
            table.W[...] = 0.01 * rng.standard_normal(table.W.shape)
        self.params = [self.inputs.W, self.outputs.W]
        self.grads = [self.inputs.dW, self.outputs.dW]
        p = np.asarray(counts, dtype=np.float64) ** 0.75
        self.cumulative = np.cumsum(p / p.sum())  # the sampler: a uniform draw -> a word
        self.negatives = negatives

    def sample(self, n: int, rng: np.random.Generator) -> Array:
        """(n, negatives) word ids drawn from the unigram distribution to the power 0.75."""
        drawn = np.searchsorted(self.cumulative, rng.random((n, self.negatives)), side="right")
        return np.minimum(drawn, len(self.cumulative) - 1)

    def forward(self, contexts: Array, targets: Array, drawn: Array) -> float:
        """The mean loss of contexts (n, 2 window) predicting targets (n,) against the drawn
        words (n, negatives)."""
        self.h = self.inputs.forward(contexts, training=True).mean(axis=1)  # (n, H)
        words = np.concatenate([targets[:, None], drawn], axis=1)  # (n, 1 + negatives)
        self.w = self.outputs.forward(words, training=True)  # (n, 1 + negatives, H)
        s = np.einsum("nh,nkh->nk", self.h, self.w)
        self.labels = np.zeros_like(s)
        self.labels[:, 0] = 1  # the target is the positive example
        self.p = 1 / (1 + np.exp(-s))
        # -log sigmoid(s) for the target, -log(1 - sigmoid(s)) for the drawn words, stably
        losses = np.logaddexp(0, s) - self.labels * s
        return float(losses.sum() / len(s))

    def backward(self) -> None:
        """The gradients of the last ``forward``'s loss into ``grads``."""
        n, width = len(self.h), self.inputs.ids.shape[1]
        ds = (self.p - self.labels) / n  # (n, 1 + negatives): d loss / d s
        self.outputs.backward(ds[:, :, None] * self.h[:, None, :])
        dh = np.einsum("nk,nkh->nh", ds, self.w) / width  # the mean's share to each context
        self.inputs.backward(np.broadcast_to(dh[:, None, :], (n, width, dh.shape[1])))


def train_cbow(
    ids: Array,
    vocab_size: int,
    window: int = 5,
    hidden: int = 100,
    negatives: int = 5,
    batch_size: int = 100,
    epochs: int = 10,
    lr: float = 0.001,
    seed: int = 0,
) -> tuple[CBOW, list[float]]:
    """Train :class:`numpynn.lab.word_vectors.CBOW` on the word ids (DLFS vol. 2 ch. 4's
    ``train.py``: window 5, hidden 100, batch 100, 10 epochs, Adam lr 0.001): the model and its
    mean loss by epoch.
    Each epoch visits the (context, target) pairs in a new random order.

    Parameters
    ----------
    ids : array of int
        The text as word ids (n_tokens,), each in [0, vocab_size).
    vocab_size : int
        V, the number of words.
    window : int
        The context words on either side of each target.
    hidden : int
        The word vectors' width H.
    negatives : int
        The words drawn against each target.
    batch_size : int
        The (context, target) pairs per step.
    epochs : int
        The passes over the pairs.
    lr : float
        Adam's learning rate.
    seed : int
        Seeds the tables, the order and the drawn words.

    Returns
    -------
    tuple of (CBOW, list of float)
        The trained model (its word vectors: ``model.inputs.W``, (vocab_size, hidden)) and
        its mean loss of each epoch.

    Raises
    ------
    ValueError
        For ``ids`` of at most 2 * window words.
    """
    contexts, targets = contexts_and_targets(ids, window)
    counts = np.bincount(ids, minlength=vocab_size)
    model = CBOW(vocab_size, hidden, counts, negatives, seed=seed)
    optimizer = Adam(lr=lr)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(targets))
        total = 0.0
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            loss = model.forward(contexts[rows], targets[rows], model.sample(len(rows), rng))
            model.backward()
            optimizer.step(model.params, model.grads)
            total += loss * len(rows)
        losses.append(total / len(order))
    return model, losses


# --- nearest words ------------------------------------------------------------------------


def most_similar(
    query: str, vectors: Array, id_to_word: Sequence[str], top: int = 5
) -> list[tuple[str, float]]:
    """The ``top`` words nearest ``query`` by cosine similarity of their rows of ``vectors``
    (V, dim), the query itself left out: [(word, similarity), ...], nearest first."""
    words = list(id_to_word)
    if query not in words:
        raise ValueError(f"query {query!r} is not in the vocabulary of {len(words)} words")
    unit = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-8)
    q = words.index(query)
    similarity = unit @ unit[q]
    similarity[q] = -np.inf
    nearest = np.argsort(-similarity, kind="stable")[:top]
    return [(words[i], float(similarity[i])) for i in nearest]


def projection(vectors: Array) -> Array:
    """(n, 2): the rows of ``vectors`` (n, dim), scaled to length 1 (cosine similarity is
    their dot product), on their first two principal axes (the centred rows' first two right
    singular vectors)."""
    unit = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-8)
    centred = unit - unit.mean(axis=0)
    _u, _s, Vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ Vt[:2].T


def nearest_words(
    vocab_size: int = 3000,
    svd_window: int = 2,
    dim: int = 100,
    cbow_window: int = 5,
    cbow_epochs: int = 5,
    batch_size: int = 100,
    queries: Sequence[str] = QUERIES,
    top: int = 5,
    n_words: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Word vectors of tiny Shakespeare's words (its first ``n_words`` tokens, or all) limited
    to ``vocab_size`` words (the rest ``UNKNOWN``), by the count-based method
    (:func:`count_vectors`, window ``svd_window``) and by CBOW (:func:`train_cbow`, window
    ``cbow_window``, ``cbow_epochs`` epochs), both of ``dim`` numbers.

    Parameters
    ----------
    vocab_size : int
        The vocabulary's size (>= 2), ``UNKNOWN`` included.
    svd_window : int
        The count-based method's window.
    dim : int
        Both methods' vector width.
    cbow_window : int
        CBOW's window.
    cbow_epochs : int
        CBOW's training epochs.
    batch_size : int
        CBOW's batch size.
    queries : sequence of str
        The words whose neighbours are listed, each in the vocabulary.
    top : int
        The neighbours per query.
    n_words : int, optional
        The tokens of tiny Shakespeare used, the first ones (None: all).
    seed : int
        Seeds the SVD and CBOW.

    Returns
    -------
    dict
        ``"nearest"``: ``{"svd": {query: [(word, cosine), ...]}, "cbow": same}``, the
        ``top`` nearest first; ``"points"``: ``{"svd": array (m, 2), "cbow": array (m, 2)}``,
        the queries and their nearest words of each method projected to 2-D
        (``projection``); ``"shown"``: ``{"svd": [(word, query), ...], "cbow": same}``, the
        m words of those points and the query each belongs to; ``"cbow_loss"``:
        (cbow_epochs,); ``"seconds"``: ``{"svd": float, "cbow": float}``; and the settings
        ``"n_tokens"``, ``"vocab_size"``, ``"coverage"`` (the share of tokens in the
        vocabulary), ``"svd_window"``, ``"dim"``, ``"cbow_window"``, ``"cbow_epochs"``,
        ``"batch_size"``, ``"queries"``.

    Raises
    ------
    ValueError
        For a ``vocab_size`` that is not an int >= 2, or a query not in the vocabulary.
    """
    words = shakespeare_words()
    if n_words is not None:
        words = words[:n_words]
    ids, id_to_word = word_ids(words, vocab_size)
    V = len(id_to_word)
    started = time.perf_counter()
    svd = count_vectors(ids, V, svd_window, dim, seed=seed)
    svd_seconds = time.perf_counter() - started
    started = time.perf_counter()
    model, cbow_loss = train_cbow(
        ids, V, cbow_window, dim, batch_size=batch_size, epochs=cbow_epochs, seed=seed
    )
    cbow_seconds = time.perf_counter() - started
    vectors = {"svd": svd, "cbow": model.inputs.W.astype(np.float64)}
    nearest: dict[str, dict[str, list[tuple[str, float]]]] = {}
    points, shown = {}, {}
    for method, W in vectors.items():
        nearest[method] = {q: most_similar(q, W, id_to_word, top) for q in queries}
        pairs = [(q, q) for q in queries]
        pairs += [(w, q) for q in queries for w, _c in nearest[method][q] if (w, w) not in pairs]
        unique = list(dict(pairs).items())  # a word near two queries is shown once
        rows = [id_to_word.index(w) for w, _q in unique]
        points[method] = projection(W[rows])
        shown[method] = unique
    return {
        "nearest": nearest,
        "points": points,
        "shown": shown,
        "cbow_loss": np.array(cbow_loss),
        "seconds": {"svd": svd_seconds, "cbow": cbow_seconds},
        "n_tokens": len(ids),
        "vocab_size": V,
        "coverage": coverage(ids, id_to_word),
        "svd_window": svd_window,
        "dim": dim,
        "cbow_window": cbow_window,
        "cbow_epochs": cbow_epochs,
        "batch_size": batch_size,
        "queries": list(queries),
    }


# --- the figure ------------------------------------------------------------------------

METHODS = {"svd": "PPMI + SVD (counts)", "cbow": "CBOW, negative sampling"}


def word_map_figure(result: dict[str, Any]) -> Figure:
    """Two panels, one per method: the queries (bold) and their nearest words on the first
    two principal axes of their vectors, each query's group in one colour (``result`` from
    :func:`nearest_words`)."""
    fig = new_figure(figsize=(13, 6))
    colours = dict(zip(result["queries"], _palette(len(result["queries"])), strict=True))
    for k, (method, title) in enumerate(METHODS.items()):
        ax = fig.add_subplot(1, 2, k + 1)
        xy = result["points"][method]
        for (word, query), (x, y) in zip(result["shown"][method], xy, strict=True):
            is_query = word == query
            ax.scatter(x, y, s=40 if is_query else 14, color=colours[query])
            ax.annotate(
                word,
                (x, y),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=11 if is_query else 9,
                fontweight="bold" if is_query else "normal",
                color=colours[query],
            )
        ax.set_title(title)
        ax.set_xlabel("first principal axis")
        ax.set_ylabel("second principal axis")
        ax.grid(alpha=0.3)
        ax.margins(0.12)
    fig.suptitle(
        f"Tiny Shakespeare's words: {result['dim']}-number vectors of {result['vocab_size']:,} "
        f"words, each query (bold) with its {len(result['nearest']['svd'][result['queries'][0]])}"
        " nearest words by cosine similarity"
    )
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def _palette(n: int) -> list[str]:
    """n distinct colours (matplotlib's tab10)."""
    return [f"C{i % 10}" for i in range(n)]


# --- the chapter -----------------------------------------------------------------------


def run() -> dict[str, Any]:
    """The chapter's numbers: :func:`nearest_words` at a size that runs in under a minute:
    3,000 words, CBOW for 5 epochs."""
    return nearest_words()


def full() -> dict[str, Any]:
    """The book's setting on Shakespeare: a 10,000-word vocabulary (PTB's size), CBOW for
    10 epochs."""
    return nearest_words(vocab_size=10_000, cbow_epochs=10)


def figures(result: dict[str, Any]) -> dict[str, Figure]:
    """The chapter's figure, by file name."""
    return {"words.png": word_map_figure(result)}


def summary(result: dict[str, Any]) -> str:
    """The nearest words of each query by both methods, and the CBOW loss by epoch."""
    lines = [
        f"{result['n_tokens']:,} tokens, vocabulary {result['vocab_size']:,} words "
        f"({result['coverage']:.1%} of the tokens); SVD {result['seconds']['svd']:.1f} s, "
        f"CBOW {result['seconds']['cbow']:.1f} s"
    ]
    for method, title in METHODS.items():
        lines.append(f"{title}:")
        for query, near in result["nearest"][method].items():
            words = ", ".join(f"{w} {c:.2f}" for w, c in near)
            lines.append(f"  {query:<8} {words}")
    losses = " ".join(f"{x:.3f}" for x in result["cbow_loss"])
    lines.append(f"CBOW loss by epoch: {losses}")
    return "\n".join(lines)


CHAPTER = Chapter(
    name="words",
    title="word vectors: PPMI + SVD and CBOW on Shakespeare's words, nearest words, 2-D map",
    page="12-word-vectors.md",
    run=run,
    figures=figures,
    summary=summary,
    full=full,
)
