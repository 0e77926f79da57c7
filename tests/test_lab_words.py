"""The word chapters of the learning path (issue 24): 12 word vectors, 13 the RNN language
model, 15 the LSTM language model; each claim of their pages at a small size, and the pages'
code as written (slow)."""

from __future__ import annotations

import numpy as np
import pytest
from page_code import run_page
from test_text_datasets import SHARED_DATA

from numpynn import SGD
from numpynn.gradcheck import numerical_gradient, relative_error
from numpynn.lab.lstm_lm import MODELS, QuarterOnWorse, lstm_lm, lstm_perplexity
from numpynn.lab.rnn_lm import rnn_perplexity, simple_rnnlm
from numpynn.lab.word_vectors import (
    CBOW,
    UNKNOWN,
    co_occurrence,
    contexts_and_targets,
    count_vectors,
    coverage,
    most_similar,
    ppmi,
    shakespeare_words,
    tokenize,
    train_cbow,
    truncated_svd,
    word_ids,
)


@pytest.fixture(autouse=True)
def shakespeare_from_shared_data(monkeypatch):
    """The text from ../shared/data, as CI has it."""
    monkeypatch.setenv("NUMPYNN_DATA_DIR", str(SHARED_DATA))


@pytest.fixture(scope="module")
def words():
    return shakespeare_words(SHARED_DATA)


# --- the tokenizer ------------------------------------------------------------------------


def test_tokenize_lowers_words_and_splits_off_punctuation_as_the_books_preprocess():
    assert tokenize("You say goodbye and I say hello.") == [
        "you", "say", "goodbye", "and", "i", "say", "hello", ".",
    ]  # fmt: skip
    assert tokenize("First Citizen:\nWe know't, O'er-much!") == [
        "first", "citizen", ":", "we", "know't", ",", "o'er", "-", "much", "!",
    ]  # fmt: skip


def test_tiny_shakespeare_has_253593_tokens_of_12384_distinct_words(words):
    assert len(words) == 253_593
    assert len(set(words)) == 12_384
    assert words[:4] == ["first", "citizen", ":", "before"]


def test_word_ids_number_by_frequency_and_limit_the_vocabulary_with_unk(words):
    ids, id_to_word = word_ids(["b", "a", "b", "c", "a", "b"])
    assert id_to_word == ["b", "a", "c"] and ids.tolist() == [0, 1, 0, 2, 1, 0]
    ids, id_to_word = word_ids(["b", "a", "b", "c", "a", "b", "d"], vocab_size=3)
    assert id_to_word == ["b", "a", UNKNOWN] and ids.tolist() == [0, 1, 0, 2, 1, 0, 2]
    ids, id_to_word = word_ids(words, vocab_size=3000)
    assert len(id_to_word) == 3000 and id_to_word[0] == ","
    assert coverage(ids, id_to_word) == pytest.approx(0.935, abs=0.0005)  # the page's 93.5%
    assert coverage(*word_ids(["a", "b"])) == 1.0


# --- the count-based method -----------------------------------------------------------------


def test_co_occurrence_and_ppmi_reproduce_the_books_small_example():
    """DLFS2 2.3.4 and 2.4.1: "You say goodbye and I say hello." with window 1."""
    ids, id_to_word = word_ids(tokenize("You say goodbye and I say hello."))
    C = co_occurrence(ids, len(id_to_word), window=1)
    book_order = [id_to_word.index(w) for w in ("you", "say", "goodbye", "and", "i", "hello", ".")]
    book_C = [
        [0, 1, 0, 0, 0, 0, 0],
        [1, 0, 1, 0, 1, 1, 0],
        [0, 1, 0, 1, 0, 0, 0],
        [0, 0, 1, 0, 1, 0, 0],
        [0, 1, 0, 1, 0, 0, 0],
        [0, 1, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 1, 0],
    ]
    np.testing.assert_array_equal(C[np.ix_(book_order, book_order)], book_C)
    M = ppmi(C)[np.ix_(book_order, book_order)]
    assert M[0, 1] == pytest.approx(1.807, abs=5e-4)  # you, say
    assert M[1, 2] == pytest.approx(0.807, abs=5e-4)  # say, goodbye
    assert M[5, 6] == pytest.approx(2.807, abs=5e-4)  # hello, .
    assert M[0, 2] == 0  # never together: PMI -inf, clipped to 0


def test_co_occurrence_window_2_counts_both_distances():
    C = co_occurrence(np.array([0, 1, 2]), 3, window=2)
    np.testing.assert_array_equal(C, [[0, 1, 1], [1, 0, 1], [1, 1, 0]])


def test_truncated_svd_finds_numpys_leading_singular_values_and_vectors():
    """Exact when the matrix's range fits in the k + 10 directions it searches (here rank 15
    plus a little noise); PPMI's spectrum decays, and five power iterations find its top."""
    rng = np.random.default_rng(0)
    M = rng.standard_normal((200, 15)) @ rng.standard_normal((15, 200))
    M += 0.001 * rng.standard_normal(M.shape)
    U, S = truncated_svd(M, 10)
    U_exact, S_exact, _vt = np.linalg.svd(M)
    np.testing.assert_allclose(S, S_exact[:10], rtol=1e-6)
    # the same directions up to sign
    np.testing.assert_allclose(np.abs(np.sum(U * U_exact[:, :10], axis=0)), 1, atol=1e-6)


def test_the_count_based_vectors_put_the_history_plays_kings_next_to_king(words):
    ids, id_to_word = word_ids(words, 3000)
    U = count_vectors(ids, 3000, window=2, dim=100)
    near = [w for w, _c in most_similar("king", U, id_to_word)]
    assert {"richard", "edward", "henry"} <= set(near)
    near = [w for w, _c in most_similar("you", U, id_to_word)]
    assert near[0] == "i"
    near = [w for w, _c in most_similar("father", U, id_to_word)]
    assert {"son", "mother"} <= set(near)


def test_most_similar_ranks_by_cosine_and_leaves_the_query_out():
    vectors = np.array([[1.0, 0], [2.0, 0.1], [0, 1.0], [-1.0, 0]])
    near = most_similar("a", vectors, ["a", "b", "c", "d"], top=3)
    assert [w for w, _c in near] == ["b", "c", "d"]
    assert near[0][1] == pytest.approx(2 / np.hypot(2, 0.1))
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        most_similar("z", vectors, ["a", "b", "c", "d"])


# --- CBOW --------------------------------------------------------------------------------


def test_contexts_and_targets_as_the_books_create_contexts_target():
    contexts, targets = contexts_and_targets(np.arange(6), window=1)
    np.testing.assert_array_equal(contexts, [[0, 2], [1, 3], [2, 4], [3, 5]])
    np.testing.assert_array_equal(targets, [1, 2, 3, 4])
    contexts, targets = contexts_and_targets(np.arange(6), window=2)
    np.testing.assert_array_equal(contexts, [[0, 1, 3, 4], [1, 2, 4, 5]])


def test_cbow_gradients_match_numerical_ones():
    rng = np.random.default_rng(1)
    model = CBOW(7, 4, counts=np.arange(1, 8), negatives=3, seed=0, dtype=np.float64)
    for table in (model.inputs, model.outputs):
        table.W[...] = rng.standard_normal(table.W.shape)  # away from 0.01's small scores
    contexts = rng.integers(0, 7, (5, 4))
    contexts[0, :2] = 3  # a word twice in one context: its gradients add
    targets = rng.integers(0, 7, 5)
    drawn = model.sample(5, rng)
    drawn[1, 0] = targets[1]  # a drawn word may be the target

    def loss():
        return model.forward(contexts, targets, drawn)

    loss()
    model.backward()
    for W, dW in zip(model.params, model.grads, strict=True):
        assert relative_error(dW, numerical_gradient(loss, W)) < 1e-7


def test_cbow_samples_words_by_their_count_to_the_power_three_quarters():
    counts = np.array([1, 16, 81])
    model = CBOW(3, 2, counts=counts, negatives=5)
    drawn = model.sample(40_000, np.random.default_rng(0))
    expected = counts**0.75 / np.sum(counts**0.75)
    np.testing.assert_allclose(
        np.bincount(drawn.ravel(), minlength=3) / drawn.size, expected, atol=0.005
    )


def test_cbow_training_lowers_its_loss_and_is_repeatable(words):
    ids, _ = word_ids(words[:20_000], 500)
    model, losses = train_cbow(ids, 500, window=5, hidden=20, epochs=3, seed=0)
    assert losses[0] < 4.2  # 6 log 2 = 4.16 at the start
    assert losses[2] < losses[1] < losses[0]
    again, losses_again = train_cbow(ids, 500, window=5, hidden=20, epochs=3, seed=0)
    assert losses_again == losses
    np.testing.assert_array_equal(again.inputs.W, model.inputs.W)


@pytest.mark.slow
def test_the_word_vectors_page_runs_as_written(tmp_path):
    page = run_page("docs/learn/12-word-vectors.md", tmp_path)
    assert page["U"].shape == (3000, 100)
    assert page["count_king"][0][0] == "richard"
    assert round(page["count_king"][0][1], 2) == 0.60
    assert len(page["losses"]) == 1 and page["losses"][0] == pytest.approx(2.668, abs=0.001)
    assert {"mother", "brother", "son"} & {w for w, _c in page["cbow_father"]}


# --- chapter 13: the RNN language model ----------------------------------------------------


def test_simple_rnnlm_is_embedding_rnn_dense_softmax_with_the_books_initial_weights():
    model = simple_rnnlm(366, wordvec=100, hidden=100, init="book", seed=0)
    assert [type(layer).__name__ for layer in model.layers] == [
        "Embedding", "RNN", "Dense", "Softmax",
    ]  # fmt: skip
    embedding, rnn, dense = model.layers[:3]
    assert rnn.return_sequences
    assert embedding.W.std() == pytest.approx(0.01, rel=0.02)
    for W in (rnn.Wx, rnn.Wh, dense.W):
        assert W.std() == pytest.approx(0.1, rel=0.05)
    assert not rnn.b.any() and not dense.b.any()
    default = simple_rnnlm(366, init="numpynn", seed=0)
    assert default.layers[0].W.std() == pytest.approx(1, rel=0.02)  # PyTorch's N(0, 1)
    with pytest.raises(ValueError, match="init must be one of book, numpynn, got 'he'"):
        simple_rnnlm(366, init="he")


def test_the_first_1000_words_have_366_distinct_ones_whose_frequencies_alone_give_167(words):
    ids, id_to_word = word_ids(words[:1000])
    assert len(id_to_word) == 366
    p = np.bincount(ids) / len(ids)
    assert np.exp(-np.sum(p * np.log(p))) == pytest.approx(166.5, abs=0.1)  # the plateau


def test_the_rnn_perplexity_falls_from_the_vocabulary_size_to_a_few_words():
    """The page's table: figure 5-13's shape with the book's initial weights, faster with
    numpynn's."""
    result = rnn_perplexity()
    book, default = result["perplexity"]["book"], result["perplexity"]["numpynn"]
    assert result["vocab_size"] == 366 and result["steps_per_epoch"] == 19
    assert 340 < book[0] < 366 and 340 < default[0] < 366
    assert 150 < book[9] < 190  # the plateau near the unigram perplexity, 166.5
    assert book[-1] < 5 and default[-1] < 1.5
    assert np.all(default[4:] < book[4:])
    again = rnn_perplexity(epochs=3, inits=("book",))["perplexity"]["book"]
    np.testing.assert_array_equal(again, book[:3])  # seeded: the same run


@pytest.mark.slow
def test_the_rnn_language_model_page_runs_as_written(tmp_path):
    page = run_page("docs/learn/13-rnn-language-model.md", tmp_path)
    perplexity = page["perplexity"]
    assert len(page["id_to_word"]) == 366
    assert round(perplexity[0], 1) == 349.3 and round(perplexity[-1], 1) == 4.1


# --- chapter 15: the LSTM language model ---------------------------------------------------


def test_lstm_lm_is_the_books_rnnlm_and_better_rnnlm_without_weight_tying():
    one = lstm_lm(50, wordvec=8, hidden=12, n_layers=1, seed=0)
    assert [type(layer).__name__ for layer in one.layers] == [
        "Embedding", "LSTM", "Dense", "Softmax",
    ]  # fmt: skip
    two = lstm_lm(50, wordvec=8, hidden=12, n_layers=2, dropout=0.5, seed=0)
    assert [type(layer).__name__ for layer in two.layers] == [
        "Embedding", "Dropout", "LSTM", "Dropout", "LSTM", "Dropout", "Dense", "Softmax",
    ]  # fmt: skip
    embedding, dense = two.layers[0], two.layers[-2]
    assert dense.W.shape == (12, 50) and embedding.W.shape == (50, 8)
    assert not np.shares_memory(dense.W, embedding.W)  # no weight tying: each its own
    assert np.abs(embedding.W).max() < 0.05  # N(0, 0.01^2)
    assert not two.layers[2].b.any() and not dense.b.any()


def test_quarter_on_worse_divides_the_learning_rate_after_a_worse_validation_loss():
    schedule = QuarterOnWorse()
    schedule.run = type("Run", (), {"optimizer": SGD(lr=20.0)})()
    for epoch, val_loss in enumerate([5.0, 4.0, 4.5, 4.2, 3.9]):
        schedule.on_epoch_end(epoch, {"val_loss": val_loss})
    assert schedule.run.optimizer.lr == 20.0 / 4 / 4  # 4.5 and 4.2 are worse than 4.0


def test_lstm_perplexity_falls_below_the_vocabulary_size_and_is_repeatable():
    settings = dict(vocab_size=300, n_train=6000, wordvec=16, hidden=16, epochs=3)
    result = lstm_perplexity(**settings, n_valid_windows=20)
    assert result["vocab_size"] == 300 and result["n_train"] == 6000
    for name in MODELS:
        valid = result["valid"][name]
        assert valid.shape == (3,) and valid[-1] < 300 / 2
        assert result["train"][name][-1] < result["train"][name][0]
    assert result["lr"]["one LSTM layer"].tolist() == [20.0] * 3  # no schedule without dropout
    again = lstm_perplexity(**settings, n_valid_windows=20)
    for name in MODELS:
        np.testing.assert_array_equal(again["valid"][name], result["valid"][name])


@pytest.mark.slow
def test_the_lstm_language_model_page_runs_as_written(tmp_path):
    page = run_page("docs/learn/15-lstm-language-model.md", tmp_path)
    assert len(page["train"]) == 60_000 and len(page["valid"]) == 25_360
    assert round(float(page["valid_perplexity"][0]), 1) == 230.2  # the table's first entry


@pytest.mark.slow
def test_the_one_layer_lstm_overfits_and_the_dropout_model_does_not(chapter_numbers):
    """The page's claims on the chapter's default run (``lstm_perplexity()``). Its exact
    figures depend on the BLAS kernel and its thread count (float32 sums under SGD at rate
    20), so the claims are checked, not the digits."""
    result = chapter_numbers("lstmlm")
    one, two = (result["valid"][name] for name in MODELS)
    train_one, train_two = (result["train"][name] for name in MODELS)
    assert np.all(np.diff(train_one) < 0)  # the training perplexity keeps falling
    assert 1 <= one.argmin() <= 4 and one[-1] > one.min() + 20  # while validation climbs back
    assert two[-1] < one[-1] and two.min() > one.min()  # below at the end, not at its best
    assert 45 < train_one[-1] < 60 and 80 < train_two[-1] < 100


def test_the_word_helpers_name_a_bad_argument():
    with pytest.raises(TypeError, match="text must be a str, got bytes"):
        tokenize(b"hear me")
    with pytest.raises(ValueError, match="vocab_size must be an integer >= 2, got 1"):
        word_ids(["a", "b"], vocab_size=1)
    with pytest.raises(ValueError, match="more than 2 window = 4 words, got 4"):
        contexts_and_targets(np.arange(4), window=2)


@pytest.mark.slow
def test_the_word_vectors_chapter_gives_the_pages_table(chapter_numbers):
    result = chapter_numbers("words")  # nearest_words(), the chapter's default run
    svd, cbow = result["nearest"]["svd"], result["nearest"]["cbow"]
    assert [(w, round(c, 2)) for w, c in svd["king"]] == [
        ("richard", 0.60), ("vi", 0.56), ("edward", 0.53), ("throne", 0.48), ("henry", 0.48),
    ]  # fmt: skip
    assert [w for w, _c in svd["love"]][:2] == ["friend", "villain"] and svd["love"][0][1] < 0.35
    assert [w for w, _c in cbow["father"]] == ["brother", "mother", "son", "sovereign", "husband"]
    assert [w for w, _c in cbow["good"]][:2] == ["master", "signior"]
    assert [w for w, _c in cbow["you"]][:3] == ["we", "you'll", "they"]
    assert np.round(result["cbow_loss"], 3).tolist() == [2.668, 2.454, 2.328, 2.234, 2.166]
    assert result["points"]["svd"].shape[1] == 2
