"""Backpropagation agrees with central differences (relative error < 1e-6 in float64) for
every layer type and every loss, on random shapes."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import numpynn as nn

ACTIVATIONS = [nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU, nn.Identity, nn.Softmax]


def random_data(rng, n_samples, n_in, n_out, loss):
    X = rng.normal(size=(n_samples, n_in))
    if isinstance(loss, nn.CrossEntropy):
        y = rng.integers(0, n_out, n_samples)
    elif isinstance(loss, nn.BinaryCrossEntropy):
        y = rng.integers(0, 2, (n_samples, n_out))
    else:
        y = rng.normal(size=(n_samples, n_out))
    return X, y


def assert_gradients_agree(model, X, y, loss):
    errors = nn.gradient_check(model, X, y, loss)
    worst = max(errors, key=errors.get)
    assert errors[worst] < 1e-6, f"{worst}: relative error {errors[worst]:.2e}"


@settings(max_examples=25, deadline=None)
@given(
    activation=st.sampled_from(ACTIVATIONS),
    n_samples=st.integers(1, 6),
    n_in=st.integers(1, 5),
    n_hidden=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_every_activation_layer_between_two_dense_layers(
    activation, n_samples, n_in, n_hidden, seed
):
    rng = np.random.default_rng(seed)
    model = nn.Sequential(
        nn.Dense(n_in, n_hidden, dtype=np.float64, seed=rng),
        activation(),
        nn.Dense(n_hidden, 3, dtype=np.float64, seed=rng),
    )
    X, y = random_data(rng, n_samples, n_in, 3, nn.MeanSquaredError())
    # keep ReLU/LeakyReLU inputs 0.05 away from the kink, where the derivative is undefined:
    # farther than the checker's steps (2h = 1.5e-3 times max(1, |x|)) move them. Each unit
    # gets one of 11 bias shifts 0.1 apart; each of the <= 6 samples rules out at most one.
    hidden = model.layers[0].forward(X)
    shifts = 0.1 * np.array([0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5])
    for j in range(n_hidden):
        model.layers[0].b[j] += next(s for s in shifts if np.all(np.abs(hidden[:, j] + s) >= 0.05))
    assert_gradients_agree(model, X, y, nn.MeanSquaredError())


@settings(max_examples=25, deadline=None)
@given(
    loss=st.sampled_from(
        [
            nn.MeanSquaredError(),
            nn.BinaryCrossEntropy(),
            nn.BinaryCrossEntropy(from_logits=True),
            nn.CrossEntropy(),
            nn.CrossEntropy(from_logits=True),
        ]
    ),
    n_samples=st.integers(1, 6),
    n_in=st.integers(1, 4),
    n_out=st.integers(2, 5),
    seed=st.integers(0, 2**16),
)
def test_every_loss(loss, n_samples, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    layers = [nn.Dense(n_in, n_out, dtype=np.float64, seed=rng)]
    if not getattr(loss, "from_logits", True):  # probabilities in, as the loss expects
        layers.append(nn.Softmax() if isinstance(loss, nn.CrossEntropy) else nn.Sigmoid())
    X, y = random_data(rng, n_samples, n_in, n_out, loss)
    assert_gradients_agree(nn.Sequential(*layers), X, y, loss)


@settings(max_examples=15, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    activation=st.sampled_from(["sigmoid", "tanh"]),
    dropout=st.sampled_from([0.0, 0.3]),
    seed=st.integers(0, 2**16),
)
# a tiny first-layer gradient (norm 1e-5), where the plain central difference's rounding
# noise gave a relative error of 2.3e-6 (issue 14)
@example(sizes=[1, 1, 5, 1], activation="sigmoid", dropout=0.0, seed=215)
def test_random_architectures(sizes, activation, dropout, seed):
    """Deep networks of smooth activations, with dropout (the same mask in every evaluation)."""
    sizes = [*sizes, 3]
    model = nn.mlp(sizes, activation, "softmax", dropout=dropout, dtype=np.float64, seed=seed)
    X, y = random_data(np.random.default_rng(seed), 4, sizes[0], 3, nn.CrossEntropy())
    assert_gradients_agree(model, X, y, nn.CrossEntropy())


def test_numerical_gradient_is_fourth_order_accurate():
    """The five-point stencil: exp's derivative to 1e-9 relative (a central difference: 1e-5)."""
    x = np.array([-5.0, -1.0, 0.0, 0.3, 2.0, 5.0])
    grad = nn.numerical_gradient(lambda: float(np.exp(x).sum()), x)
    np.testing.assert_allclose(grad, np.exp(x), rtol=1e-9)


def test_step_layer_passes_no_gradient():
    layer = nn.Step()
    layer.forward(np.array([[-1.0, 2.0]]))
    assert np.array_equal(layer.backward(np.ones((1, 2))), np.zeros((1, 2)))


def test_the_checker_catches_a_wrong_backward():
    class WrongTanh(nn.Tanh):
        def backward(self, dout):
            return dout * (1 - self.y)  # should be 1 - y^2

    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Dense(3, 4, dtype=np.float64, seed=0),
        WrongTanh(),
        nn.Dense(4, 2, dtype=np.float64, seed=1),
    )
    errors = nn.gradient_check(model, rng.normal(size=(5, 3)), rng.normal(size=(5, 2)), "mse")
    assert errors["layer 0 W"] > 1e-3


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_fused_softmax_cross_entropy_gradient_equals_the_unfused_one(activation):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(8, 4)), rng.integers(0, 3, 8)
    fused = nn.mlp([4, 5, 3], activation, dtype=np.float64, seed=0)
    unfused = nn.mlp([4, 5, 3], activation, dtype=np.float64, seed=0)
    fused.fit(X, y, optimizer=nn.SGD(lr=0.1), epochs=1, batch_size=None, shuffle=False)
    loss = nn.CrossEntropy()
    out = unfused.forward(X, training=True)
    loss.forward(out, loss.prepare_targets(y, 3, np.float64))
    grad = loss.backward()
    for layer in reversed(unfused.layers):
        grad = layer.backward(grad)
    for f, u in zip(fused.dense_layers, unfused.dense_layers, strict=True):
        np.testing.assert_allclose(f.dW, u.dW, rtol=1e-9, atol=1e-12)
