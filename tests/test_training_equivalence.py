"""The optimised training loop computes exactly the textbook mathematics.

Each test trains with ``fit`` and recomputes the same steps by hand, in float64, with plain
NumPy written straight from the formulas (no scratch arrays, no fused tricks).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import numpynn
from numpynn import SGD, Adam, DivergenceError, RMSProp

N, D, H, K = 10, 5, 4, 3  # samples, inputs, hidden units, classes


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, D)), rng.integers(0, K, N)


def net(activation: str = "relu", output: str = "softmax") -> numpynn.Sequential:
    return numpynn.mlp([D, H, K], activation, output, dtype=np.float64, seed=1)


def weights(model: numpynn.Sequential) -> list[np.ndarray]:
    return [p.copy() for p in model.parameters()]


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ce_gradients(params: list[np.ndarray], x: np.ndarray, labels: np.ndarray, w=None):
    """Loss and gradients of mean softmax cross-entropy for Dense-ReLU-Dense, by hand."""
    W1, b1, W2, b2 = params
    m = len(x)
    z1 = x @ W1 + b1
    h = np.maximum(z1, 0)
    a = softmax(h @ W2 + b2)
    t = np.eye(K)[labels]
    w = np.ones(m) if w is None else w
    loss = float(np.sum(w * -np.log(a[np.arange(m), labels])) / m)
    dz2 = (a - t) * w[:, None] / m  # the textbook fused gradient
    dh = dz2 @ W2.T
    dz1 = dh * (z1 > 0)
    return loss, [x.T @ dz1, dz1.sum(axis=0), h.T @ dz2, dz2.sum(axis=0)], a


def test_one_full_batch_sgd_step_equals_the_hand_computation() -> None:
    X, y = data()
    model = net()
    start = weights(model)
    history = model.fit(X, y, optimizer=SGD(0.5), epochs=1, batch_size=None, shuffle=False)
    loss, grads, a = ce_gradients(start, X, y)
    expected = [p - 0.5 * g for p, g in zip(start, grads, strict=True)]
    for got, want in zip(model.parameters(), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert history["loss"] == [pytest.approx(loss, rel=1e-12)]
    assert history["accuracy"] == [np.mean(a.argmax(axis=1) == y)]


def test_batches_of_unequal_size_reuse_no_stale_values() -> None:
    # 10 samples in batches of 4, 4, 2, for two epochs: the last, smaller batch changes every
    # scratch array's shape twice per epoch.
    X, y = data()
    model = net()
    params = weights(model)
    history = model.fit(X, y, optimizer=SGD(0.3), epochs=2, batch_size=4, shuffle=False)
    for epoch in range(2):
        total = 0.0
        correct = 0
        for start in range(0, N, 4):
            rows = slice(start, start + 4)
            loss, grads, a = ce_gradients(params, X[rows], y[rows])
            total += loss * len(X[rows])
            correct += int(np.sum(a.argmax(axis=1) == y[rows]))
            params = [p - 0.3 * g for p, g in zip(params, grads, strict=True)]
        assert history["loss"][epoch] == pytest.approx(total / N, rel=1e-12)
        assert history["accuracy"][epoch] == correct / N
    for got, want in zip(model.parameters(), params, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_shuffled_batches_follow_the_seeded_permutation() -> None:
    X, y = data()
    model = net()
    params = weights(model)
    history = model.fit(X, y, optimizer=SGD(0.3), epochs=1, batch_size=3, seed=7)
    order = np.random.default_rng(7).permutation(N)
    correct = 0
    for start in range(0, N, 3):
        rows = order[start : start + 3]
        _, grads, a = ce_gradients(params, X[rows], y[rows])
        correct += int(np.sum(a.argmax(axis=1) == y[rows]))  # each batch's own rows' labels
        params = [p - 0.3 * g for p, g in zip(params, grads, strict=True)]
    assert history["accuracy"] == [correct / N]
    for got, want in zip(model.parameters(), params, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_sample_weights_scale_each_sample_loss_and_gradient() -> None:
    X, y = data()
    sample_weight = np.linspace(0.2, 1.8, N)  # averages 1, as fit scales it
    model = net()
    start = weights(model)
    history = model.fit(
        X,
        y,
        optimizer=SGD(0.5),
        epochs=1,
        batch_size=None,
        shuffle=False,
        sample_weight=sample_weight,
    )
    loss, grads, _ = ce_gradients(start, X, y, sample_weight)
    assert history["loss"] == [pytest.approx(loss, rel=1e-12)]
    for got, p, g in zip(model.parameters(), start, grads, strict=True):
        np.testing.assert_allclose(got, p - 0.5 * g, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_follows_the_velocity_formula(nesterov: bool) -> None:
    X, y = data()
    model = net()
    params = weights(model)
    model.fit(
        X,
        y,
        optimizer=SGD(0.1, momentum=0.9, nesterov=nesterov),
        epochs=3,
        batch_size=None,
        shuffle=False,
    )
    velocity = [np.zeros_like(p) for p in params]
    for _ in range(3):
        _, grads, _ = ce_gradients(params, X, y)
        velocity = [0.9 * v - 0.1 * g for v, g in zip(velocity, grads, strict=True)]
        if nesterov:  # p <- p + mu v - lr g
            params = [
                p + 0.9 * v - 0.1 * g for p, v, g in zip(params, velocity, grads, strict=True)
            ]
        else:
            params = [p + v for p, v in zip(params, velocity, strict=True)]
    for got, want in zip(model.parameters(), params, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-14)


def test_adam_follows_kingma_and_ba_algorithm_1() -> None:
    X, y = data()
    model = net()
    params = weights(model)
    lr, b1, b2, eps, decay = 0.01, 0.9, 0.999, 1e-8, 0.01
    model.fit(
        X, y, optimizer=Adam(lr, weight_decay=decay), epochs=4, batch_size=None, shuffle=False
    )
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t in range(1, 5):
        _, grads, _ = ce_gradients(params, X, y)
        grads = [g + decay * p if p.ndim > 1 else g for p, g in zip(params, grads, strict=True)]
        m = [b1 * mi + (1 - b1) * g for mi, g in zip(m, grads, strict=True)]
        v = [b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads, strict=True)]
        params = [
            p - lr * (mi / (1 - b1**t)) / (np.sqrt(vi / (1 - b2**t)) + eps)
            for p, mi, vi in zip(params, m, v, strict=True)
        ]
    for got, want in zip(model.parameters(), params, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_rmsprop_follows_its_formula() -> None:
    X, y = data()
    model = net()
    params = weights(model)
    model.fit(X, y, optimizer=RMSProp(0.01, rho=0.9), epochs=3, batch_size=None, shuffle=False)
    h = [np.zeros_like(p) for p in params]
    for _ in range(3):
        _, grads, _ = ce_gradients(params, X, y)
        h = [0.9 * hi + 0.1 * g * g for hi, g in zip(h, grads, strict=True)]
        params = [
            p - 0.01 * g / (np.sqrt(hi) + 1e-8) for p, g, hi in zip(params, grads, h, strict=True)
        ]
    for got, want in zip(model.parameters(), params, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)


def test_sigmoid_network_with_quadratic_cost_matches_nielsen_backprop() -> None:
    # Nielsen's network.py: delta_L = (a - y) * s'(z_L); delta_l = (W_{l+1} delta) * s'(z_l).
    X, y = data()
    T = np.eye(K)[y]
    model = net("sigmoid", "sigmoid")
    W1, b1, W2, b2 = weights(model)
    model.fit(X, T, loss="mse", optimizer=SGD(3.0), epochs=1, batch_size=None, shuffle=False)

    def sigmoid(z: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-z))

    a1 = sigmoid(X @ W1 + b1)
    a2 = sigmoid(a1 @ W2 + b2)
    delta2 = (a2 - T) * a2 * (1 - a2)
    delta1 = (delta2 @ W2.T) * a1 * (1 - a1)
    step = 3.0 / N
    expected = [
        W1 - step * X.T @ delta1,
        b1 - step * delta1.sum(0),
        W2 - step * a1.T @ delta2,
        b2 - step * delta2.sum(0),
    ]
    for got, want in zip(model.parameters(), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_tanh_layer_backward_is_one_minus_y_squared() -> None:
    x = np.array([[-2.0, 0.0, 0.5]])
    layer = numpynn.Tanh()
    y = layer.forward(x, training=True)
    dout = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(layer.backward(dout), dout * (1 - np.tanh(x) ** 2))
    np.testing.assert_array_equal(y, np.tanh(x))


def test_float32_training_agrees_with_float64() -> None:
    X, y = data()
    m64 = net()
    m32 = numpynn.mlp([D, H, K], dtype=np.float32, seed=1)
    h64 = m64.fit(X, y, optimizer=SGD(0.2), epochs=3, batch_size=4, seed=3)
    h32 = m32.fit(X, y, optimizer=SGD(0.2), epochs=3, batch_size=4, seed=3)
    np.testing.assert_allclose(h32["loss"], h64["loss"], rtol=1e-5)
    for p32, p64 in zip(m32.parameters(), m64.parameters(), strict=True):
        assert p32.dtype == np.float32
        np.testing.assert_allclose(p32, p64, rtol=1e-4, atol=1e-6)


def test_same_seed_gives_bit_identical_training_with_dropout() -> None:
    X, y = data()
    runs = []
    for _ in range(2):
        model = numpynn.mlp([D, 8, K], dropout=0.3, dtype=np.float32, seed=1)
        history = model.fit(X, y, optimizer=Adam(0.01), epochs=3, batch_size=4, seed=5)
        runs.append((history, [p.tobytes() for p in model.parameters()]))
    assert runs[0] == runs[1]


def test_dropout_zeroes_and_rescales_in_training_only() -> None:
    layer = numpynn.Dropout(0.25, seed=0)
    x = np.ones((200, 50), dtype=np.float32)
    y = layer.forward(x, training=True)
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert 0.2 < np.mean(y == 0) < 0.3
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), y)
    assert layer.forward(x) is x


def test_batch_losses_given_to_callbacks_average_to_the_history_loss() -> None:
    X, y = data()
    seen: list[float] = []

    class Record(numpynn.Callback):
        def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
            seen.append(logs["loss"])

    history = net().fit(X, y, optimizer=SGD(0.1), epochs=1, batch_size=4, callbacks=[Record()])
    assert len(seen) == 3
    assert history["loss"][0] == pytest.approx((4 * seen[0] + 4 * seen[1] + 2 * seen[2]) / N)


def test_divergence_names_the_epoch_and_batch() -> None:
    X, y = data()
    model = net()
    # Row 9, in the third batch (rows 8-9), drives hidden unit 0 to +inf: the logits become
    # infinite and the loss nan.
    X[9] = 1e308 * np.sign(model.parameters()[0][:, 0])
    with pytest.raises(DivergenceError, match=r"epoch 1, batch 3\b"), np.errstate(all="ignore"):
        model.fit(X, y, optimizer=SGD(0.1), epochs=2, batch_size=4, shuffle=False)


def test_training_leaves_the_inputs_and_earlier_predictions_alone() -> None:
    X, y = data()
    X_before = X.copy()
    model = net()
    proba = model.predict_proba(X)
    proba_before = proba.copy()
    model.fit(X, y, optimizer=SGD(0.1), epochs=2, batch_size=4)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(proba, proba_before)


def test_forward_in_training_mode_returns_arrays_the_caller_keeps() -> None:
    X, _ = data()
    model = net()
    first = model.forward(X[:4], training=True)
    kept = first.copy()
    model.forward(X[4:8], training=True)
    np.testing.assert_array_equal(first, kept)


def test_threads_limits_blas_and_gives_the_same_model() -> None:
    X, y = data()
    a, b = net(), net()
    a.fit(X, y, optimizer=SGD(0.1), epochs=2, batch_size=4, seed=0)
    b.fit(X, y, optimizer=SGD(0.1), epochs=2, batch_size=4, seed=0, threads=1)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_allclose(pa, pb, rtol=1e-12)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_threads_must_be_a_positive_integer(threads: object) -> None:
    X, y = data()
    with pytest.raises((TypeError, ValueError), match="threads"):
        net().fit(X, y, threads=threads)  # type: ignore[arg-type]


def test_threads_without_threadpoolctl_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    X, y = data()
    with pytest.raises(ImportError, match="pip install threadpoolctl"):
        net().fit(X, y, threads=1)


def test_fused_loss_value_matches_the_unfused_definition() -> None:
    # -mean(log softmax) from the fused path equals the plain CrossEntropy on probabilities.
    rng = np.random.default_rng(3)
    z = rng.standard_normal((6, K)) * 5
    t = np.eye(K)[rng.integers(0, K, 6)]
    fused = numpynn.CrossEntropy(from_logits=True).forward(z, t)
    plain = numpynn.CrossEntropy().forward(softmax(z), t)
    assert math.isclose(fused, plain, rel_tol=1e-9)
