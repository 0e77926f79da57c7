"""Optimisers: each update rule against its formula, computed by hand."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import numpynn as nn


def run(optimizer, grads):
    """Apply successive gradients to p = [1, -2] (a (1, 2) weight) and return p."""
    p = np.array([[1.0, -2.0]])
    for g in grads:
        optimizer.step([p], [np.array([g])])
    return p[0]


G = [[0.5, -1.0], [0.25, 2.0]]


def test_sgd():
    assert_allclose(run(nn.SGD(lr=0.1), G), [1 - 0.1 * 0.75, -2 - 0.1 * 1.0])


def test_momentum():
    v1 = -0.1 * np.array(G[0])
    v2 = 0.9 * v1 - 0.1 * np.array(G[1])
    assert_allclose(run(nn.SGD(lr=0.1, momentum=0.9), G), np.array([1, -2]) + v1 + v2)


def test_nesterov():
    p = np.array([1.0, -2.0])
    v = np.zeros(2)
    for g in map(np.array, G):
        v = 0.9 * v - 0.1 * g
        p = p + 0.9 * v - 0.1 * g
    assert_allclose(run(nn.SGD(lr=0.1, momentum=0.9, nesterov=True), G), p)


def test_adagrad():
    p, h = np.array([1.0, -2.0]), np.zeros(2)
    for g in map(np.array, G):
        h += g * g
        p = p - 0.1 * g / (np.sqrt(h) + 1e-8)
    assert_allclose(run(nn.AdaGrad(lr=0.1), G), p)


def test_rmsprop():
    p, h = np.array([1.0, -2.0]), np.zeros(2)
    for g in map(np.array, G):
        h = 0.9 * h + 0.1 * g * g
        p = p - 0.01 * g / (np.sqrt(h) + 1e-8)
    assert_allclose(run(nn.RMSProp(lr=0.01), G), p)


def test_adam():
    p, m, v = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    for t, g in enumerate(map(np.array, G), start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p = p - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    optimizer = nn.Adam(lr=0.01)
    assert_allclose(run(optimizer, G), p)
    assert optimizer.t == 2


def test_weight_decay_adds_l2_gradient_to_weights_but_not_biases():
    W, b = np.array([[2.0]]), np.array([2.0])
    nn.SGD(lr=0.1, weight_decay=0.5).step([W, b], [np.zeros((1, 1)), np.zeros(1)])
    assert W[0, 0] == pytest.approx(2 - 0.1 * 0.5 * 2)
    assert b[0] == 2.0


def test_state_is_kept_per_parameter():
    optimizer = nn.Adam()
    params = [np.ones((2, 3)), np.ones(3)]
    optimizer.step(params, [np.ones((2, 3)), np.ones(3)])
    assert [m.shape for m in optimizer.state["m"]] == [(2, 3), (3,)]
    assert [v.shape for v in optimizer.state["v"]] == [(2, 3), (3,)]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: nn.SGD(lr=0), "lr must be a finite number > 0, got 0"),
        (lambda: nn.Adam(lr=-1e-3), "lr must be a finite number > 0, got -0.001"),
        (lambda: nn.SGD(lr=float("nan")), "lr must be a finite number > 0, got nan"),
        (lambda: nn.SGD(momentum=1.0), r"momentum must be in \[0, 1\), got 1.0"),
        (lambda: nn.SGD(nesterov=True), "nesterov=True needs a momentum > 0"),
        (lambda: nn.Adam(beta1=1.5), r"beta1 must be in \[0, 1\), got 1.5"),
        (lambda: nn.RMSProp(weight_decay=-1), "weight_decay must be a finite number >= 0"),
        (lambda: nn.RMSProp(rho=1.0), r"rho must be in \[0, 1\), got 1.0"),
        (lambda: nn.RMSProp(eps=0.0), "eps must be a finite number > 0, got 0.0"),
        (lambda: nn.AdaGrad(eps=-1e-8), "eps must be a finite number > 0, got -1e-08"),
        (lambda: nn.Adam(beta2=-0.1), r"beta2 must be in \[0, 1\), got -0.1"),
        (lambda: nn.Adam(eps=float("inf")), "eps must be a finite number > 0, got inf"),
        (lambda: nn.optimizers.get("adamw"), "optimizer must be an Optimizer or one of"),
    ],
)
def test_bad_hyper_parameters_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


OPTIMIZERS = [nn.SGD, nn.AdaGrad, nn.RMSProp, nn.Adam]


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_every_optimizer_adds_its_weight_decay_to_the_weights_gradient(cls):
    """With weight_decay the step is the one for the gradient g + weight_decay * W."""
    W, g = np.array([[2.0, -1.0]]), np.array([[0.5, 0.25]])
    decayed, plain = W.copy(), W.copy()
    cls(lr=0.1, weight_decay=0.5).step([decayed], [g])
    cls(lr=0.1).step([plain], [g + 0.5 * W])
    assert_allclose(decayed, plain, rtol=1e-15)
    assert not np.allclose(decayed, W - 0.1 * g)  # the decay made a difference


@pytest.mark.parametrize(
    ("cls", "defaults"),
    [
        (nn.SGD, {"lr": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0}),
        (nn.AdaGrad, {"lr": 0.01, "eps": 1e-8, "weight_decay": 0.0}),
        (nn.RMSProp, {"lr": 0.001, "rho": 0.9, "eps": 1e-8, "weight_decay": 0.0}),
        (
            nn.Adam,
            {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
        ),
    ],
    ids=lambda x: getattr(x, "__name__", ""),
)
def test_default_hyper_parameters_are_the_textbook_ones(cls, defaults):
    assert cls().config() == defaults


def test_optimizers_show_their_settings():
    assert repr(nn.SGD(lr=0.5, momentum=0.9)) == (
        "SGD(lr=0.5, weight_decay=0.0, momentum=0.9, nesterov=False)"
    )


def test_only_optimizers_with_memory_keep_state():
    """Plain SGD keeps nothing between steps; momentum keeps a velocity per parameter."""
    params, grads = [np.ones((2, 2))], [np.ones((2, 2))]
    plain, momentum = nn.SGD(lr=0.1), nn.SGD(lr=0.1, momentum=0.9)
    plain.step(params, grads)
    momentum.step(params, grads)
    assert plain.state == {}
    assert list(momentum.state) == ["velocity"]
