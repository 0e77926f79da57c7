"""Properties of a model's results, through the public API only (fit, forward, predict,
predict_proba, evaluate): what fit reports for the validation set is what evaluate computes on
it, forward's results belong to the caller, and predict agrees with predict_proba."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numpynn as nn

# (the model's output layers, the loss fit uses, how to draw targets for n samples)
CLASSIFIERS = {
    "softmax + cross-entropy": (
        lambda: [nn.Softmax()],
        lambda: nn.CrossEntropy(),
        lambda rng, n: rng.integers(0, 3, n),
    ),
    "logits + cross-entropy": (
        lambda: [],
        lambda: nn.CrossEntropy(from_logits=True),
        lambda rng, n: rng.integers(0, 3, n),
    ),
    "sigmoid + binary cross-entropy": (
        lambda: [nn.Sigmoid()],
        lambda: nn.BinaryCrossEntropy(),
        lambda rng, n: rng.integers(0, 2, (n, 3)),
    ),
    "logits + binary cross-entropy": (
        lambda: [],
        lambda: nn.BinaryCrossEntropy(from_logits=True),
        lambda rng, n: rng.integers(0, 2, (n, 3)),
    ),
    "sigmoid + quadratic cost": (
        lambda: [nn.Sigmoid()],
        lambda: nn.MeanSquaredError(),
        lambda rng, n: np.eye(3)[rng.integers(0, 3, n)],
    ),
}


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(sorted(CLASSIFIERS)),
    n_train=st.integers(1, 40),
    n_val=st.integers(1, 40),
    batch_size=st.sampled_from([None, 1, 7]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_validation_metrics_are_evaluate_on_the_validation_set(
    kind: str, n_train: int, n_val: int, batch_size: int | None, dtype: type, seed: int
) -> None:
    """After the last epoch, val_loss and val_accuracy are evaluate(X_val, y_val), in the
    model's own float type: averaged over the validation set's own size, whatever the
    training set's size."""
    output_layers, make_loss, targets = CLASSIFIERS[kind]
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Dense(4, 3, dtype=dtype, seed=seed), *output_layers())
    X, X_val = rng.normal(size=(n_train, 4)), rng.normal(size=(n_val, 4))
    y, y_val = targets(rng, n_train), targets(rng, n_val)
    history = model.fit(
        X, y, loss=make_loss(), epochs=2, batch_size=batch_size, validation_data=(X_val, y_val)
    )
    expected = model.evaluate(X_val, y_val)  # "loss", and "accuracy" for a classifying loss
    assert {k for k in history if k.startswith("val_")} == {f"val_{k}" for k in expected}
    for key, value in expected.items():
        assert history[f"val_{key}"][-1] == pytest.approx(value, rel=1e-12), key


def test_validation_accuracy_counts_the_validation_rows() -> None:
    """A constant classifier on 10 training and 4 validation rows, 3 of them right: 3/4."""
    model = nn.Sequential(nn.Dense(1, 2, dtype=np.float64, seed=0), nn.Softmax())
    X, y = np.zeros((10, 1)), np.zeros(10, int)
    X_val, y_val = np.zeros((4, 1)), np.array([0, 0, 0, 1])
    history = model.fit(X, y, epochs=2, validation_data=(X_val, y_val))  # learns b0 > b1
    assert history["val_accuracy"] == [0.75, 0.75]


OUTPUT_LAYERS = {
    "Dense": [],
    "Identity": [nn.Identity],
    "Sigmoid": [nn.Sigmoid],
    "Tanh": [nn.Tanh],
    "ReLU": [nn.ReLU],
    "LeakyReLU": [nn.LeakyReLU],
    "Softmax": [nn.Softmax],
    "Dropout": [nn.Tanh, lambda: nn.Dropout(0.5)],
}


@settings(max_examples=40, deadline=None)
@given(
    last=st.sampled_from(sorted(OUTPUT_LAYERS)),
    training=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_forward_results_are_never_overwritten_by_a_later_call(
    last: str, training: bool, dtype: type, seed: int
) -> None:
    """Whatever the output layer and the mode, the array forward returned keeps its values
    through later forward calls (in both modes), predictions and training."""
    rng = np.random.default_rng(seed)
    layers = [nn.Dense(3, 4, dtype=dtype, seed=seed), nn.Tanh(), nn.Dense(4, 2, dtype=dtype)]
    model = nn.Sequential(*layers, *(make() for make in OUTPUT_LAYERS[last]))
    X = rng.normal(size=(5, 3))
    first = model.forward(X, training=training)
    kept = first.copy()
    model.forward(rng.normal(size=(5, 3)), training=True)
    model.forward(rng.normal(size=(5, 3)), training=False)
    model.fit(X, rng.normal(size=(5, 2)), loss="mse", epochs=1, batch_size=2)
    model.forward(X, training=True)
    np.testing.assert_array_equal(first, kept)


@settings(max_examples=40, deadline=None)
@given(
    from_logits=st.booleans(),
    n_outputs=st.integers(1, 3),
    scale=st.sampled_from([0.01, 0.3, 1.0, 10.0]),
    seed=st.integers(0, 2**16),
)
def test_binary_predictions_are_probabilities_above_one_half(
    from_logits: bool, n_outputs: int, scale: float, seed: int
) -> None:
    """predict is predict_proba > 0.5 for a binary classifier, with or without a Sigmoid layer:
    a logit of 0.2 (probability 0.55) is class 1. Small weights put many outputs near the
    threshold."""
    rng = np.random.default_rng(seed)
    layers: list[nn.Layer] = [nn.Dense(2, n_outputs, dtype=np.float64, seed=seed)]
    if not from_logits:
        layers.append(nn.Sigmoid())
    model = nn.Sequential(*layers)
    X = rng.normal(size=(30, 2))
    y = rng.integers(0, 2, (30, n_outputs))
    model.fit(X, y, loss=nn.BinaryCrossEntropy(from_logits=from_logits), epochs=1)
    dense = model.layers[0]
    dense.W[...] = scale * rng.normal(size=dense.W.shape)
    dense.b[...] = scale * rng.normal(size=dense.b.shape)
    labels = (model.predict_proba(X) > 0.5).astype(np.int64)
    expected = labels[:, 0] if n_outputs == 1 else labels
    np.testing.assert_array_equal(model.predict(X), expected)


def test_a_logit_between_0_and_one_half_is_class_1() -> None:
    model = nn.Sequential(nn.Dense(1, 1, dtype=np.float64))
    model.fit([[0.0], [1.0]], [0, 1], loss=nn.BinaryCrossEntropy(from_logits=True), epochs=1)
    model.layers[0].W[...] = 1.0
    model.layers[0].b[...] = 0.0
    np.testing.assert_array_equal(model.predict([[-0.2], [0.2], [0.7]]), [0, 1, 1])


def test_evaluate_uses_the_loss_it_is_given() -> None:
    """A softmax classifier scored with the quadratic cost: the quadratic cost of its
    probabilities, not the cross-entropy it would default to."""
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Dense(3, 2, dtype=np.float64, seed=0), nn.Softmax())
    X, t = rng.normal(size=(5, 3)), np.eye(2)[rng.integers(0, 2, 5)]
    a = model.forward(X)
    result = model.evaluate(X, t, loss="mse")
    assert result["loss"] == pytest.approx(0.5 * np.sum((a - t) ** 2) / 5, rel=1e-12)


def test_evaluate_runs_in_inference_mode() -> None:
    """Dropout is off: evaluate gives the loss of forward's (inference) output, every time."""
    rng = np.random.default_rng(0)
    model = nn.mlp([3, 16, 2], dropout=0.5, dtype=np.float64, seed=0)
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 2, 20)
    a = model.forward(X)
    expected = -np.mean(np.log(a[np.arange(20), y]))
    assert model.evaluate(X, y)["loss"] == pytest.approx(expected, rel=1e-12)
    assert model.evaluate(X, y) == model.evaluate(X, y)


def test_a_model_without_parameters_evaluates() -> None:
    model = nn.Sequential(nn.Softmax())
    X = np.log(np.array([[0.25, 0.75], [0.5, 0.5]]))
    result = model.evaluate(X, [1, 0])
    assert result["loss"] == pytest.approx(-(np.log(0.75) + np.log(0.5)) / 2)
    assert result["accuracy"] == 1.0


def test_a_model_shows_its_layers_and_their_settings() -> None:
    model = nn.Sequential(nn.Dense(2, 3, init="he"), nn.LeakyReLU(0.2), nn.Dropout(0.1))
    assert repr(model) == (
        "Sequential(Dense(n_in=2, n_out=3, init='he'), LeakyReLU(alpha=0.2), Dropout(rate=0.1))"
    )
