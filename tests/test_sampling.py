"""Training a language model on a token stream: RandomWindows, spread_windows, max_steps and
the per-step learning-rate schedule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import numpynn as nn
from numpynn.errors import TrainingInterrupted

V, BLOCK, DIM = 7, 6, 8
IDS = np.random.default_rng(0).integers(0, V, 400)


def tiny_gpt() -> nn.Sequential:
    return nn.Sequential(
        nn.Embedding(V, DIM, dtype=np.float64, seed=0),
        nn.PositionalEmbedding(BLOCK, DIM, dtype=np.float64, seed=1),
        nn.TransformerBlock(DIM, n_heads=2, causal=True, dtype=np.float64, seed=2),
        nn.Dense(DIM, V, dtype=np.float64, seed=3),
        nn.Softmax(),
    )


def test_a_batch_holds_windows_and_their_next_ids():
    windows = nn.RandomWindows(IDS, BLOCK, steps_per_epoch=3)
    x, t = windows.batch(50, np.random.default_rng(1))
    assert x.shape == t.shape == (50, BLOCK) and x.dtype == np.int64
    starts = [
        next(s for s in range(len(IDS)) if np.array_equal(IDS[s : s + BLOCK], row)) for row in x
    ]
    for start, row in zip(starts, t, strict=True):
        np.testing.assert_array_equal(row, IDS[start + 1 : start + BLOCK + 1])
    x2, _ = windows.batch(50, np.random.default_rng(1))
    np.testing.assert_array_equal(x, x2)  # the generator fixes the draws


def test_windows_reach_the_last_id_of_the_stream():
    ids = np.arange(BLOCK + 2)  # two possible starts: 0 and 1
    x, t = nn.RandomWindows(ids, BLOCK, steps_per_epoch=1).batch(200, np.random.default_rng(0))
    assert set(x[:, 0]) == {0, 1} and t.max() == BLOCK + 1


def test_fit_on_random_windows_equals_fit_on_the_same_windows_drawn_beforehand():
    steps, batch = 10, 4
    streamed = tiny_gpt()
    history = streamed.fit(
        nn.RandomWindows(IDS, BLOCK, steps_per_epoch=5),
        epochs=2,
        batch_size=batch,
        optimizer=nn.AdamW(1e-2),
        seed=3,
    )
    rng = np.random.default_rng(3)
    pairs = [
        nn.RandomWindows(IDS, BLOCK, steps_per_epoch=1).batch(batch, rng) for _ in range(steps)
    ]
    X, T = np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
    drawn = tiny_gpt()
    drawn.fit(X, T, epochs=1, batch_size=batch, shuffle=False, optimizer=nn.AdamW(1e-2))
    for a, b in zip(streamed.parameters(), drawn.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(history["loss"]) == 2 and "accuracy" in history


def test_max_steps_ends_the_run_inside_an_epoch():
    model = tiny_gpt()
    seen = []

    class Steps(nn.Callback):
        def on_batch_end(self, batch, logs):
            seen.append(self.run.step)

    valid = nn.spread_windows(IDS, BLOCK, 20)
    history = model.fit(
        nn.RandomWindows(IDS, BLOCK, steps_per_epoch=4),
        epochs=10,
        batch_size=3,
        max_steps=10,
        validation_data=valid,
        callbacks=[Steps()],
        seed=0,
    )
    assert seen == list(range(1, 11))
    assert len(history["val_loss"]) == 3  # after steps 4, 8 and 10


def test_the_per_step_schedule_sets_each_steps_rate():
    model = tiny_gpt()
    rates = []

    class Rates(nn.Callback):
        def on_batch_end(self, batch, logs):
            rates.append(self.run.optimizer.lr)

    schedule = nn.schedules.WarmUp(3, then=nn.schedules.CosineDecay(5, min_lr=1e-4))
    model.fit(
        nn.RandomWindows(IDS, BLOCK, steps_per_epoch=3),
        epochs=3,
        batch_size=2,
        optimizer=nn.AdamW(1e-3),
        callbacks=[nn.LearningRateScheduler(schedule, per_step=True), Rates()],
        seed=0,
    )
    # Rates() runs after the scheduler: it sees the rate the scheduler set for the next step.
    assert rates == pytest.approx([schedule(step, 1e-3) for step in range(1, 10)])


def test_a_killed_stream_run_resumes_bit_for_bit(tmp_path: Path):
    def run(callbacks, resume=False):
        model = tiny_gpt()
        schedule = nn.schedules.CosineDecay(12, min_lr=1e-4)
        model.fit(
            nn.RandomWindows(IDS, BLOCK, steps_per_epoch=4),
            epochs=3,
            batch_size=3,
            optimizer=nn.AdamW(1e-2, clipnorm=1.0),
            validation_data=nn.spread_windows(IDS, BLOCK, 10),
            callbacks=[nn.LearningRateScheduler(schedule, per_step=True), *callbacks],
            seed=5,
            resume=resume,
        )
        return model

    straight = run([])

    class KillInEpoch2(nn.Callback):
        def on_batch_end(self, batch, logs):
            if self.run.step == 6:
                self.run.interrupted = True

    with pytest.raises(TrainingInterrupted):
        run([nn.ModelCheckpoint(tmp_path / "run"), KillInEpoch2()])
    resumed = run([nn.ModelCheckpoint(tmp_path / "run")], resume=True)
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_spread_windows_are_fixed_and_evenly_spread():
    X, T = nn.spread_windows(np.arange(100), 10, 5)
    np.testing.assert_array_equal(X[:, 0], [0, 22, 44, 67, 89])
    np.testing.assert_array_equal(T, X + 1)
    X, _ = nn.spread_windows(np.arange(12), 10, 50)  # only two starts exist
    np.testing.assert_array_equal(X[:, 0], [0, 1])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m, w: m.fit(w, IDS[:10], batch_size=2), TypeError, "give no y"),
        (lambda m, w: m.fit(w, batch_size=None), ValueError, "RandomWindows needs a number of samples per batch"),
        (lambda m, w: m.fit(w, batch_size=2, max_steps=0), ValueError, "max_steps must be"),
        (lambda m, w: m.fit(w, batch_size=2, loss="mse"), TypeError, "trains with CrossEntropy"),
        (
            lambda m, w: nn.mlp([4, 3]).fit(w, batch_size=2),
            TypeError,
            "RandomWindows trains a language model",
        ),
        (
            lambda m, w: m.fit(nn.RandomWindows(IDS + V, BLOCK, steps_per_epoch=1), batch_size=2),
            ValueError,
            rf"must lie in \[0, {V - 1}\] for a model of {V} outputs",
        ),
        (
            lambda m, w: m.fit(w, batch_size=2, sample_weight=np.ones(3)),
            ValueError,
            "RandomWindows draws rows",
        ),
        (lambda m, w: m.fit(np.zeros((3, BLOCK), np.int64)), TypeError, "needs targets y"),
    ],
)
def test_bad_stream_training_is_refused(call, error, match):
    with pytest.raises(error, match=match):
        call(tiny_gpt(), nn.RandomWindows(IDS, BLOCK, steps_per_epoch=2))


@pytest.mark.parametrize(
    ("ids", "block", "error", "match"),
    [
        (IDS.astype(float), BLOCK, TypeError, "integer token ids"),
        (IDS.reshape(20, 20), BLOCK, ValueError, r"one stream of token ids \(n_tokens,\)"),
        (IDS[:BLOCK], BLOCK, ValueError, f"need at least {BLOCK + 1}"),
        (-IDS - 1, BLOCK, ValueError, "ids >= 0"),
        (IDS, 0, ValueError, "block must be a positive integer"),
    ],
)
def test_bad_streams_are_refused(ids, block, error, match):
    with pytest.raises(error, match=match):
        nn.RandomWindows(ids, block, steps_per_epoch=1)


def test_fit_on_random_rows_equals_fit_on_the_same_rows_drawn_beforehand():
    rng_data = np.random.default_rng(1)
    X = rng_data.standard_normal((40, 5))
    y = (X[:, 0] > 0).astype(np.int64)

    def model():
        return nn.mlp([5, 8, 2], seed=0, dtype=np.float64)

    drawn_model = model()
    drawn_model.fit(nn.RandomRows(X, y, steps_per_epoch=3), epochs=2, batch_size=7, seed=4)
    rng = np.random.default_rng(4)
    rows = np.concatenate([rng.integers(0, 40, 7) for _ in range(6)])
    by_hand = model()
    by_hand.fit(X[rows], y[rows], epochs=1, batch_size=7, shuffle=False)
    for a, b in zip(drawn_model.parameters(), by_hand.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_random_rows_are_checked_as_arrays_are():
    X = np.zeros((10, 5))
    with pytest.raises(ValueError, match="the same number of samples"):
        nn.RandomRows(X, np.zeros(9), steps_per_epoch=1)
    with pytest.raises(TypeError, match="holds its targets"):
        nn.mlp([5, 2]).fit(nn.RandomRows(X, np.zeros(10, int), steps_per_epoch=1), np.zeros(10))
    with pytest.raises(ValueError, match="class labels"):
        nn.mlp([5, 2]).fit(nn.RandomRows(X, np.full(10, 7), steps_per_epoch=1), batch_size=2)
