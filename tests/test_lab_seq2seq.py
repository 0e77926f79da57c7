"""Chapters 16 (seq2seq on addition) and 17 (attention on dates): the generators' formats and
the split, the whole models' gradients against central differences, and the pages' claims at
a small size; the slow tests run the pages' code as written."""

from __future__ import annotations

import datetime

import numpy as np
import pytest
from page_code import run_page

from numpynn.gradcheck import noise_floor, numerical_gradient, relative_error
from numpynn.lab import attention, seq2seq
from numpynn.lab.attention import DotAttention, attention_model, date_problems
from numpynn.lab.seq2seq import addition_problems, encode, seq2seq_model, split

# --- the data ------------------------------------------------------------------------------


def test_addition_problems_have_the_books_format_and_right_sums():
    questions, answers = addition_problems(2000, seed=3)
    assert len(questions) == len(answers) == 2000
    assert all(len(q) == 7 and len(a) == 5 for q, a in zip(questions, answers, strict=True))
    for q, a in zip(questions, answers, strict=True):
        left, right = q.strip().split("+")
        assert 0 <= int(left) <= 999 and 0 <= int(right) <= 999
        assert a.startswith("_") and int(a[1:]) == int(left) + int(right)
    lengths = {len(q.strip().split("+")[0]) for q in questions}
    assert lengths == {1, 2, 3}  # short numbers too, not only three-digit ones
    assert addition_problems(2000, seed=3) == (questions, answers)  # seeded
    assert addition_problems(2000, seed=4) != (questions, answers)


def test_the_split_holds_out_the_last_tenth():
    x, t = np.arange(100)[:, None], np.arange(100)[:, None]
    (x_train, t_train), (x_test, t_test) = split(x, t)
    assert len(x_train) == 90 and len(x_test) == 10
    assert np.array_equal(x_test[:, 0], np.arange(90, 100)) and np.array_equal(t_train, x_train)
    assert np.array_equal(t_test, x_test)
    with pytest.raises(ValueError, match="held_out"):
        split(x, t, held_out=0.0)


def test_encode_and_decode_round_trip():
    questions, _ = addition_problems(20)
    ids = encode(questions, seq2seq.ADDITION_VOCAB)
    assert ids.shape == (20, 7) and ids.dtype == np.int64
    assert seq2seq.decode(ids, seq2seq.ADDITION_VOCAB) == questions


def test_dates_are_written_in_the_books_varied_formats_with_iso_answers():
    questions, answers = date_problems(3000, seed=1)
    assert all(len(q) == 29 and len(a) == 11 for q, a in zip(questions, answers, strict=True))
    styles = {"slash": 0, "weekday": 0, "short month": 0, "upper": 0, "lower": 0, "title": 0}
    for q, a in zip(questions, answers, strict=True):
        day = datetime.date.fromisoformat(a[1:])
        text = q.rstrip()
        assert 1970 <= day.year <= 2029
        if "/" in text:
            styles["slash"] += 1
            assert text == f"{day.month}/{day.day}/{day.year % 100:02d}"
            continue
        assert text.lower().endswith(f" {day.day}, {day.year}")
        name = text.lower().split(", ")[-2].split()[0]
        assert day.strftime("%B").lower().startswith(name)
        styles["short month"] += len(name) == 3 and name != "may"
        if text.count(",") == 2:
            styles["weekday"] += 1
            assert text.lower().startswith(day.strftime("%A").lower())
        styles["upper" if text.isupper() else "lower" if text.islower() else "title"] += 1
    assert all(count > 100 for count in styles.values()), styles
    assert set("".join(questions + answers)) <= set(attention.DATE_VOCAB)
    assert date_problems(3000, seed=1) == (questions, answers)


# --- the models' gradients -----------------------------------------------------------------


def check_model_gradients(model, vocab_size: int) -> None:
    """Every parameter's gradient of the whole model's loss (encoder, decoder, attention,
    the decoder's initial state) against central differences, in float64."""
    rng = np.random.default_rng(0)
    for p in model.params:  # larger weights than the initialisation's: no tiny gradients
        p[...] = 0.5 * rng.standard_normal(p.shape)
    x, t = rng.integers(0, vocab_size, (3, 5)), rng.integers(0, vocab_size, (3, 4))
    model.forward(x, t)
    model.backward()
    grads = [g.copy() for g in model.grads]

    def loss() -> float:
        return model.forward(x, t)

    floor = noise_floor(loss(), np.float64)
    for i, (p, g) in enumerate(zip(model.params, grads, strict=True)):
        assert relative_error(g, numerical_gradient(loss, p), floor) < 1e-7, i


@pytest.mark.parametrize("peeky", [False, True], ids=["seq2seq", "peeky"])
def test_the_seq2seq_models_gradients_match_central_differences(peeky):
    check_model_gradients(seq2seq_model(13, 3, 4, peeky=peeky, dtype=np.float64, seed=1), 13)


def test_the_attention_models_gradients_match_central_differences():
    check_model_gradients(attention_model(11, 3, 4, dtype=np.float64, seed=2), 11)


def test_dot_attention_weights_are_a_softmax_over_the_encoders_steps():
    rng = np.random.default_rng(0)
    enc, dec = rng.standard_normal((2, 6, 4)), rng.standard_normal((2, 3, 4))
    context = DotAttention().forward(enc, dec)
    scores = np.einsum("nsh,nth->nst", dec, enc)
    weights = np.exp(scores) / np.exp(scores).sum(axis=2, keepdims=True)
    np.testing.assert_allclose(context, weights @ enc, atol=1e-12)


# --- the pages' claims at a small size -----------------------------------------------------


@pytest.fixture(scope="module")
def addition():
    return seq2seq.addition_accuracy(n_problems=8000, epochs=4, hidden=64, lr=0.005)


def test_reversing_the_question_beats_plain_and_peeky_beats_reversed(addition):
    final = {name: curve[-1] for name, curve in addition["accuracy"].items()}
    assert final["reversed"] > final["plain"]
    assert final["reversed + peeky"] > final["reversed"]
    assert addition["accuracy"]["plain"].shape == (4,) and addition["n_test"] == 800


def test_the_seq2seq_chapter_draws_and_summarises(addition, tmp_path):
    figure = seq2seq.figures(addition)["seq2seq-addition.png"]
    assert figure.axes[0].get_xlabel() == "epoch"
    assert "reversed + peeky" in seq2seq.summary(addition)


@pytest.fixture(scope="module")
def dates():
    return attention.date_accuracy(
        n_problems=4000, epochs=4, hidden=32, lr=0.005, batch_size=32, n_maps=2
    )


def test_attention_beats_seq2seq_and_peeky_on_dates(dates):
    final = {name: curve[-1] for name, curve in dates["accuracy"].items()}
    assert final["attention"] > final["peeky"] and final["attention"] > final["seq2seq"]
    assert final["attention"] > 0.5


def test_attention_weights_rows_sum_to_one_and_the_maps_are_drawn(dates):
    maps = dates["maps"]
    assert len(maps) == 2
    for m in maps:  # in the question's written order, its padding cut off
        assert m["weights"].shape == (10, len(m["question"]))
        assert np.all(m["weights"] >= 0) and np.all(m["weights"].sum(axis=1) <= 1 + 1e-6)
    questions, _ = date_problems(3)
    model = attention_model(len(attention.DATE_VOCAB), 4, 8, seed=0)
    model.generate(encode(questions, attention.DATE_VOCAB), 0, 10)
    assert model.decoder.weights.shape == (3, 10, 29)
    np.testing.assert_allclose(model.decoder.weights.sum(axis=2), 1, atol=1e-6)
    figures = attention.figures(dates)
    assert set(figures) == {"attention-dates.png", "attention-maps.png"}
    heat_maps = figures["attention-maps.png"].axes[:2]  # the third axes is the colour bar
    assert all(ax.get_xlabel() == "input characters" for ax in heat_maps)


# --- the pages' code, as written -----------------------------------------------------------


@pytest.mark.slow
def test_the_seq2seq_pages_code_runs_and_its_claims_hold(tmp_path):
    page = run_page("docs/learn/16-seq2seq.md", tmp_path)
    final = {name: curve[-1] for name, curve in page["numbers"]["accuracy"].items()}
    assert final["plain"] < final["reversed"] < final["reversed + peeky"]
    assert (tmp_path / "seq2seq-addition.png").exists()


@pytest.mark.slow
def test_the_attention_pages_code_runs_and_its_claims_hold(tmp_path):
    page = run_page("docs/learn/17-attention.md", tmp_path)
    final = {name: curve[-1] for name, curve in page["numbers"]["accuracy"].items()}
    assert final["attention"] > max(final["peeky"], final["seq2seq"])
    assert (tmp_path / "attention-maps.png").exists()


def test_unknown_variants_and_models_are_refused_by_name():
    with pytest.raises(ValueError, match=r"variants must be among .*'backwards'"):
        seq2seq.addition_accuracy(n_problems=60, epochs=1, variants=("backwards",))
    with pytest.raises(ValueError, match=r"models must be among .*'transformer'"):
        attention.date_accuracy(n_problems=60, epochs=1, models=("transformer",))


def test_the_seed_also_seeds_the_shuffles(monkeypatch):
    seen = []
    train = seq2seq.train_seq2seq

    def recording(*args, **kwargs):
        seen.append(kwargs["seed"])
        return train(*args, **kwargs)

    monkeypatch.setattr(seq2seq, "train_seq2seq", recording)
    monkeypatch.setattr(attention, "train_seq2seq", recording)
    small = {"n_problems": 60, "epochs": 1, "hidden": 4, "wordvec": 2}
    seq2seq.addition_accuracy(**small, variants=("plain",), seed=3)
    attention.date_accuracy(**small, models=("seq2seq",), seed=4)
    assert seen == [3, 4]
