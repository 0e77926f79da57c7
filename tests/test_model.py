"""Sequential, mlp, fit, predict, evaluate and callbacks."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numpynn as nn


def blobs(n=120, n_features=4, n_classes=3, seed=0):
    """Well-separated Gaussian blobs: X (n, n_features) float64, y (n,) int64."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    centres = rng.normal(scale=4.0, size=(n_classes, n_features))
    return centres[y] + rng.normal(size=(n, n_features)), y


def test_same_seed_gives_bit_identical_training():
    X, y = blobs()
    results = []
    for _ in range(2):
        model = nn.mlp([4, 16, 3], dropout=0.3, seed=5)
        history = model.fit(X, y, epochs=3, batch_size=16, seed=11)
        results.append((history, [p.copy() for p in model.parameters()]))
    (h1, p1), (h2, p2) = results
    assert h1 == h2
    assert all(np.array_equal(a, b) for a, b in zip(p1, p2, strict=True))


def test_different_seeds_shuffle_differently():
    X, y = blobs()
    histories = [nn.mlp([4, 16, 3], seed=5).fit(X, y, epochs=2, seed=s)["loss"] for s in (1, 2)]
    assert histories[0] != histories[1]


def test_float32_by_default_and_float64_on_request():
    X, y = blobs()
    model = nn.mlp([4, 8, 3], seed=0)
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert model.forward(X).dtype == np.float32
    model64 = nn.mlp([4, 8, 3], dtype=np.float64, seed=0)
    model64.fit(X, y, epochs=1)
    assert model64.forward(X).dtype == np.float64


def test_classifier_learns_blobs_and_reports_history():
    X, y = blobs()
    X_val, y_val = blobs(seed=0)[0][:30], blobs(seed=0)[1][:30]
    model = nn.mlp([4, 16, 3], seed=0)
    history = model.fit(X, y, epochs=30, batch_size=16, validation_data=(X_val, y_val), seed=0)
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 30 for values in history.values())
    assert history["loss"][-1] < history["loss"][0]
    assert history["accuracy"][-1] >= 0.95
    assert model.predict(X).shape == (120,)
    assert model.evaluate(X, y)["accuracy"] == pytest.approx(np.mean(model.predict(X) == y))
    proba = model.predict_proba(X)
    assert proba.shape == (120, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


def test_regression_predicts_values():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(200, 1))
    y = 3 * X[:, 0] - 1
    model = nn.Sequential(nn.Dense(1, 1, dtype=np.float64, seed=0), nn.Identity())
    model.fit(X, y, optimizer=nn.SGD(lr=0.5), epochs=200, batch_size=None)
    np.testing.assert_allclose(model.predict([[0.5]]), [[0.5]], atol=1e-3)
    with pytest.raises(TypeError, match="predict_proba needs a classifier"):
        model.predict_proba(X)


def test_binary_classifier_predicts_0_1_labels_and_probabilities():
    X, y = nn.datasets.truth_table("or")
    model = nn.Sequential(nn.Dense(2, 1, dtype=np.float64, seed=0), nn.Sigmoid())
    model.fit(X, y, optimizer=nn.SGD(lr=1.0), epochs=500, batch_size=None)
    assert model.predict(X).tolist() == [0, 1, 1, 1]
    assert model.predict_proba(X).shape == (4, 1)


def test_full_batch_is_one_step_per_epoch():
    X, y = blobs()
    steps = []
    model = nn.mlp([4, 8, 3], seed=0)
    model.fit(X, y, epochs=3, batch_size=None, optimizer=(opt := nn.SGD(lr=0.1)))
    steps.append(opt.t)
    model.fit(X, y, epochs=1, batch_size=50, optimizer=(opt := nn.SGD(lr=0.1)))
    steps.append(opt.t)
    assert steps == [3, 3]  # 120 samples in batches of 50: 50, 50, 20


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), n_features=st.integers(2, 6))
def test_linearly_separable_data_reaches_100_percent_training_accuracy(seed, n_features):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, n_features))
    w = rng.normal(size=n_features)
    margin = X @ w
    keep = np.abs(margin) > 0.3 * np.abs(margin).mean()  # a clear margin
    X, y = X[keep], (margin[keep] > 0).astype(int)
    model = nn.Sequential(nn.Dense(n_features, 2, dtype=np.float64, seed=seed), nn.Softmax())
    model.fit(X, y, optimizer=nn.Adam(lr=0.05), epochs=300, batch_size=None)
    assert model.evaluate(X, y)["accuracy"] == 1.0


def test_sample_weight_of_zero_ignores_samples():
    X, y = blobs()
    flipped = y.copy()
    flipped[:20] = (y[:20] + 1) % 3  # wrong labels on the first 20 samples...
    weights = np.ones(len(y))
    weights[:20] = 0.0  # ...which weight 0 removes
    trained = [nn.mlp([4, 8, 3], dtype=np.float64, seed=0) for _ in range(2)]
    trained[0].fit(X, flipped, sample_weight=weights, epochs=5, batch_size=None, seed=0)
    trained[1].fit(X[20:], y[20:], epochs=5, batch_size=None, seed=0)
    for a, b in zip(trained[0].parameters(), trained[1].parameters(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)


class Recorder(nn.Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, model):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch):
        self.calls.append(f"epoch_begin {epoch}")

    def on_batch_end(self, batch, logs):
        self.calls.append(f"batch {batch}")

    def on_epoch_end(self, epoch, logs):
        self.calls.append(f"epoch_end {epoch} {sorted(logs)}")

    def on_train_end(self, history):
        self.calls.append("train_end")


def test_callback_hooks_are_called_in_order():
    X, y = blobs(n=20)
    recorder = Recorder()
    nn.mlp([4, 4, 3], seed=0).fit(X, y, epochs=2, batch_size=10, callbacks=[recorder])
    epoch_logs = "['accuracy', 'loss', 'seconds']"
    assert recorder.calls == [
        "train_begin",
        "epoch_begin 0", "batch 0", "batch 1", f"epoch_end 0 {epoch_logs}",
        "epoch_begin 1", "batch 0", "batch 1", f"epoch_end 1 {epoch_logs}",
        "train_end",
    ]  # fmt: skip


def test_a_callback_can_stop_training():
    class StopAfterOne(nn.Callback):
        def on_train_begin(self, model):
            self.model = model

        def on_epoch_end(self, epoch, logs):
            self.model.stop_training = True

    X, y = blobs()
    history = nn.mlp([4, 4, 3], seed=0).fit(X, y, epochs=10, callbacks=[StopAfterOne()])
    assert len(history["loss"]) == 1


def test_print_progress_prints_one_line_per_epoch(capsys):
    X, y = blobs()
    nn.mlp([4, 4, 3], seed=0).fit(X, y, epochs=4, callbacks=[nn.PrintProgress(every=2)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and "loss" in lines[0]


def test_divergence_stops_training_with_a_clear_error():
    X, _ = blobs()
    model = nn.mlp([4, 32, 3], activation="relu", output="identity", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the error alone, no overflow warnings before it
        with pytest.raises(nn.DivergenceError, match=r"epoch \d+, batch \d+.*smaller learning"):
            model.fit(X, X[:, :3] * 1e3, loss="mse", optimizer=nn.SGD(lr=100.0), epochs=50)


def test_mlp_builds_the_classic_network():
    model = nn.mlp([784, 30, 10], activation="sigmoid", output="softmax", seed=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "Sigmoid", "Dense", "Softmax"]
    assert (model.n_inputs, model.n_outputs) == (784, 10)
    with_dropout = nn.mlp([4, 8, 8, 2], dropout=0.5, seed=0)
    assert [type(layer).__name__ for layer in with_dropout.layers].count("Dropout") == 2


@pytest.mark.parametrize(
    ("init", "std"),
    [
        ("normal", 0.01),
        ("xavier", np.sqrt(2 / (1000 + 1000))),
        ("he", np.sqrt(2 / 1000)),
        ("nielsen", 1 / np.sqrt(1000)),
    ],
)
def test_initialisers_have_their_textbook_scale(init, std):
    W = nn.Dense(1000, 1000, init=init, seed=0).W
    assert W.std() == pytest.approx(std, rel=0.02)


def test_binary_predictions_of_a_logits_model_follow_its_loss():
    """Without a Sigmoid layer the outputs are logits for BinaryCrossEntropy(from_logits=True):
    predict agrees with evaluate (BinaryCrossEntropy() there is refused: test_bad_input.py)."""
    X, y = blobs(n_classes=2)
    model = nn.Sequential(nn.Dense(4, 1, dtype=np.float64, seed=0))
    model.fit(X, y, loss=nn.BinaryCrossEntropy(from_logits=True), epochs=1, seed=0)
    assert np.mean(model.predict(X) == y) == model.evaluate(X, y)["accuracy"]
    np.testing.assert_allclose(model.predict_proba(X), nn.sigmoid(model.forward(X)))


def test_multiclass_probabilities_from_a_logits_loss_sum_to_one():
    X, y = blobs()
    model = nn.Sequential(nn.Dense(4, 3, dtype=np.float64, seed=0))
    model.fit(X, y, loss=nn.CrossEntropy(from_logits=True), epochs=2, seed=0)
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)
    assert np.mean(model.predict(X) == y) == model.evaluate(X, y)["accuracy"]


def test_nielsens_sigmoid_network_with_the_quadratic_cost_predicts_classes():
    X, y = blobs()
    model = nn.mlp([4, 8, 3], activation="sigmoid", output="sigmoid", seed=0)
    model.fit(X, np.eye(3)[y], loss="mse", optimizer=nn.SGD(lr=3.0), epochs=20, batch_size=10)
    assert model.predict(X).shape == (120,)
    assert np.mean(model.predict(X) == y) >= 0.9
    np.testing.assert_array_equal(model.predict_proba(X), model.forward(X))
