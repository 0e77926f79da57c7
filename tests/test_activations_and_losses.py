"""Activation functions and losses: values, stability for extreme inputs, targets."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

import numpynn as nn

logits = arrays(
    np.float64,
    st.tuples(st.integers(1, 5), st.integers(1, 6)),
    elements=st.floats(-1e4, 1e4, allow_nan=False),
)


@settings(max_examples=100)
@given(logits)
def test_softmax_rows_sum_to_one_and_stay_finite(z):
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = nn.softmax(z)
    assert np.isfinite(y).all()
    assert (y >= 0).all()
    assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-12)


@settings(max_examples=100)
@given(logits)
def test_sigmoid_stays_in_0_1_for_any_input(z):
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = nn.sigmoid(z)
    assert ((y >= 0) & (y <= 1)).all()


@pytest.mark.parametrize(
    "loss",
    [nn.CrossEntropy(from_logits=True), nn.BinaryCrossEntropy(from_logits=True)],
    ids=repr,
)
def test_cross_entropies_on_logits_of_magnitude_1e4_are_finite_and_warning_free(loss):
    z = np.array([[1e4, -1e4], [-1e4, 1e4]])
    y = loss.prepare_targets(np.array([[1, 0], [1, 0]]), 2, np.float64)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        value = loss.forward(z, y)
        grad = loss.backward()
    assert np.isfinite(value) and np.isfinite(grad).all()
    assert value == pytest.approx(1e4, rel=1e-6)  # the wrong row costs its margin


def test_cross_entropy_on_probabilities_stays_finite_for_saturated_outputs():
    loss = nn.CrossEntropy()
    value = loss.forward(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    assert np.isfinite(value) and np.isfinite(loss.backward()).all()


def test_mean_squared_error_is_half_the_mean_of_squared_norms():
    loss = nn.MeanSquaredError()
    value = loss.forward(np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [1.0, 1.0]]))
    assert value == pytest.approx((5 + 2) / (2 * 2))
    assert_allclose(loss.backward(), [[0.5, 1.0], [-0.5, -0.5]])


def test_cross_entropy_value():
    loss = nn.CrossEntropy()
    a = np.array([[0.1, 0.6, 0.3], [0.8, 0.1, 0.1]])
    assert loss.forward(a, loss.prepare_targets([1, 0], 3, np.float64)) == pytest.approx(
        -(np.log(0.6) + np.log(0.8)) / 2
    )


def test_integer_labels_and_one_hot_targets_give_the_same_loss():
    loss = nn.CrossEntropy(from_logits=True)
    z = np.random.default_rng(0).normal(size=(4, 3))
    from_labels = loss.forward(z, loss.prepare_targets([0, 2, 1, 2], 3, np.float64))
    one_hot = np.eye(3)[[0, 2, 1, 2]]
    assert from_labels == loss.forward(z, loss.prepare_targets(one_hot, 3, np.float64))


def test_sample_weights_scale_each_samples_loss():
    loss = nn.MeanSquaredError()
    out, t = np.array([[1.0], [3.0]]), np.zeros((2, 1))
    assert loss.forward(out, t, np.array([2.0, 0.0])) == pytest.approx(2 * 0.5 / 2)
    assert_allclose(loss.backward(), [[1.0], [0.0]])


def test_loss_names():
    assert isinstance(nn.losses.get("cross_entropy"), nn.CrossEntropy)
    with pytest.raises(ValueError, match=r"loss must be a Loss or one of .*got 'hinge'"):
        nn.losses.get("hinge")


def test_activation_functions_keep_the_shape_of_any_array():
    x = np.linspace(-3, 3, 24).reshape(2, 3, 4)
    for f in (nn.step, nn.sigmoid, nn.tanh, nn.relu, nn.leaky_relu, nn.identity, nn.softmax):
        assert f(x).shape == x.shape


FLOAT_ACTIVATIONS = [nn.sigmoid, nn.tanh, nn.relu, nn.leaky_relu, nn.identity, nn.softmax]


@pytest.mark.parametrize("f", FLOAT_ACTIVATIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_activation_functions_keep_a_floating_type(f, dtype):
    x = np.array([[-1.5, 0.0, 2.0]], dtype=dtype)
    assert f(x).dtype == dtype


@pytest.mark.parametrize("f", FLOAT_ACTIVATIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("x", [[[-2, 0, 3]], [[True, False, True]]], ids=["int", "bool"])
def test_activation_functions_give_float64_for_integer_or_boolean_input(f, x):
    """relu(-2) is 0.0 and identity(3) is 3.0: floats, so the next layer's arithmetic (a
    gradient, alpha * x, exp) is never integer arithmetic."""
    y = f(np.array(x))
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, f(np.array(x, dtype=np.float64)))


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.bool_])
def test_step_gives_int64_for_integer_or_boolean_input(dtype):
    y = nn.step(np.array([0, 1, 1], dtype=dtype))
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, [0, 1, 1])


def test_step_is_1_exactly_where_x_is_above_0_and_keeps_a_floating_type():
    y = nn.step(np.array([-1.0, 0.0, 1e-9, 0.5, 2.0], np.float32))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, [0, 0, 1, 1, 1])


def test_leaky_relu_default_alpha_is_0_01():
    np.testing.assert_array_equal(nn.leaky_relu(np.array([-100.0, 0.0, 0.5])), [-1.0, 0.0, 0.5])


LOSS_CASES = {  # a loss and how to draw its outputs and targets for n rows of k columns
    "mse": (
        nn.MeanSquaredError,
        lambda rng, n, k: (rng.normal(size=(n, k)), rng.normal(size=(n, k))),
    ),
    "cross-entropy": (
        nn.CrossEntropy,
        lambda rng, n, k: (nn.softmax(rng.normal(size=(n, k))), np.eye(k)[rng.integers(0, k, n)]),
    ),
    "cross-entropy on logits": (
        lambda: nn.CrossEntropy(from_logits=True),
        lambda rng, n, k: (rng.normal(size=(n, k)), np.eye(k)[rng.integers(0, k, n)]),
    ),
    "binary cross-entropy": (
        nn.BinaryCrossEntropy,
        lambda rng, n, k: (nn.sigmoid(rng.normal(size=(n, k))), rng.integers(0, 2, (n, k))),
    ),
    "binary cross-entropy on logits": (
        lambda: nn.BinaryCrossEntropy(from_logits=True),
        lambda rng, n, k: (rng.normal(size=(n, k)), rng.integers(0, 2, (n, k))),
    ),
}


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(LOSS_CASES)),
    counts=st.lists(st.integers(0, 3), min_size=1, max_size=6).filter(any),
    k=st.integers(2, 4),
    seed=st.integers(0, 2**16),
)
def test_an_integer_sample_weight_counts_the_sample_that_many_times(name, counts, k, seed):
    """forward(o, t, w) = (1/m) sum_i w_i loss_i: with w_i copies of row i, the unweighted loss
    of the M = sum(w) rows times M / m; each row's gradient is its copies' gradients summed."""
    make_loss, draw = LOSS_CASES[name]
    output, target = draw(np.random.default_rng(seed), len(counts), k)
    target = target.astype(np.float64)
    weights = np.array(counts, dtype=np.float64)
    m, M = len(counts), int(weights.sum())
    rows = np.repeat(np.arange(m), counts)

    weighted = make_loss()
    value = weighted.forward(output, target, weights)
    grad = weighted.backward().copy()
    repeated = make_loss()
    expected = repeated.forward(output[rows], target[rows]) * M / m
    expected_grad = np.zeros_like(grad)
    np.add.at(expected_grad, rows, repeated.backward() * M / m)

    assert value == pytest.approx(expected, rel=1e-12)
    assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("loss", [nn.CrossEntropy(), nn.BinaryCrossEntropy()], ids=repr)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_probabilities_of_exactly_0_and_1_give_a_finite_loss_in_every_float_type(loss, dtype):
    """Probabilities are clipped to [eps, 1 - eps] with the eps of their own type: 1 - eps of
    float64 would round to 1 in float32 and make log(1 - a) infinite."""
    a = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=dtype)
    t = np.array([[0.0, 1.0], [0.0, 1.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = loss.forward(a, t)
        grad = loss.backward()
    assert np.isfinite(value) and np.isfinite(grad).all()
    assert value > 1.0  # the wrong row costs about -log(eps), not 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_class_labels_may_be_floats_that_hold_integers(dtype):
    loss = nn.CrossEntropy()
    expected = loss.prepare_targets(np.array([0, 2, 1]), 3, np.float64)
    assert_allclose(loss.prepare_targets(np.array([0, 2, 1], dtype=dtype), 3, np.float64), expected)


@pytest.mark.parametrize(
    "y",
    [np.array([0.5, 1.0]), np.array([True, False]), np.array([0.0, np.nan]), np.array([np.inf])],
    ids=str,
)
def test_class_labels_that_are_not_integers_are_refused(y):
    with pytest.raises(TypeError, match=r"class labels y must be integers, got dtype"):
        nn.CrossEntropy().prepare_targets(y, 3, np.float64)


def test_losses_show_their_settings():
    assert repr(nn.CrossEntropy(from_logits=True)) == "CrossEntropy(from_logits=True)"
    assert repr(nn.BinaryCrossEntropy()) == "BinaryCrossEntropy(from_logits=False)"
    assert repr(nn.MeanSquaredError()) == "MeanSquaredError()"


def test_binary_accuracy_thresholds_probabilities_at_one_half_and_logits_at_0():
    t = np.array([[0.0], [1.0], [0.0]])
    assert nn.BinaryCrossEntropy().count_correct(np.array([[0.3], [0.7], [0.4]]), t) == 3
    logits = np.array([[-0.3], [0.2], [-0.4]])
    assert nn.BinaryCrossEntropy(from_logits=True).count_correct(logits, t) == 3


def test_check_loss_refuses_class_labels_for_several_binary_outputs() -> None:
    """One class label per sample fits BinaryCrossEntropy with one output only."""
    from numpynn.losses import check_loss

    with pytest.raises(nn.ShapeError, match="BinaryCrossEntropy"):
        check_loss([nn.Sigmoid()], nn.BinaryCrossEntropy(), 10, class_labels=True)
    check_loss([nn.Sigmoid()], nn.BinaryCrossEntropy(), 1, class_labels=True)
    check_loss([nn.Sigmoid()], nn.BinaryCrossEntropy(), 10)  # one-hot rows would fit
