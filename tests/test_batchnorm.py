"""BatchNorm: batch statistics in training, running averages at inference, gradients against
central differences in both modes, for dense (n, C), sequence (n, T, C) and image (n, C, H, W)
inputs; sequences as PyTorch's BatchNorm1d on (n, C, T) in float64."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numpynn as nn
from numpynn.gradcheck import noise_floor, numerical_gradient, relative_error


def random_batchnorm(C, seed):
    bn = nn.BatchNorm(C, dtype=np.float64)
    rng = np.random.default_rng(seed)
    bn.gamma[...] = rng.uniform(0.5, 2, C)
    bn.beta[...] = rng.standard_normal(C)
    bn.running_mean[...] = rng.standard_normal(C)
    bn.running_var[...] = rng.uniform(0.5, 2, C)
    return bn


def gradient_errors(layer, x, training, seed):
    """Relative errors of dx, dgamma, dbeta for L = sum(forward(x) * R)."""
    R = np.random.default_rng(seed + 1).standard_normal(x.shape)

    def loss():
        return float(np.sum(layer.forward(x, training) * R))

    floor = noise_floor(loss(), x.dtype)  # a zero gradient is compared in absolute terms
    errors = {"x": relative_error(layer.backward(R).copy(), numerical_gradient(loss, x), floor)}
    for name in layer.params:
        analytic = getattr(layer, "d" + name).copy()
        numeric = numerical_gradient(loss, getattr(layer, name))
        errors[name] = relative_error(analytic, numeric, floor)
    return errors


@settings(max_examples=40, deadline=None)
@given(
    images=st.booleans(),
    training=st.booleans(),
    n=st.integers(3, 5),  # with 2 values per feature, xhat = +-1 whatever x: dx ~ 0
    C=st.integers(1, 4),
    H=st.integers(1, 4),
    W=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_gradients_match_central_differences_in_both_modes(images, training, n, C, H, W, seed):
    shape = (n, C, H, W) if images else (n, C)
    x = np.random.default_rng(seed).normal(3, 2, shape)
    errors = gradient_errors(random_batchnorm(C, seed), x, training, seed)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("shape", [(64, 3), (16, 3, 5, 7)])
def test_training_output_has_zero_mean_and_unit_variance_per_feature(shape):
    x = np.random.default_rng(0).normal(5, 3, shape)
    y = nn.BatchNorm(3, dtype=np.float64).forward(x, training=True)
    axes = (0,) if len(shape) == 2 else (0, 2, 3)
    np.testing.assert_allclose(y.mean(axis=axes), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=axes), 1, rtol=1e-4)  # var / (var + eps)


def test_gamma_and_beta_scale_and_shift_the_normalised_input():
    x = np.random.default_rng(0).normal(size=(32, 2, 3, 3))
    bn = nn.BatchNorm(2, eps=1e-12, dtype=np.float64)
    bn.gamma[...], bn.beta[...] = [2.0, 3.0], [-1.0, 1.0]
    y = bn.forward(x, training=True)
    xhat = (x - x.mean(axis=(0, 2, 3), keepdims=True)) / x.std(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(y, xhat * [[[[2.0]], [[3.0]]]] + [[[[-1.0]], [[1.0]]]])


def test_running_averages_follow_the_momentum_rule():
    """running = momentum * running + (1 - momentum) * batch statistic (biased variance)."""
    rng = np.random.default_rng(0)
    bn = nn.BatchNorm(3, momentum=0.9, dtype=np.float64)
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(5):
        x = rng.normal(2, 3, (10, 3, 4, 4))
        bn.forward(x, training=True)
        mean = 0.9 * mean + 0.1 * x.mean(axis=(0, 2, 3))
        var = 0.9 * var + 0.1 * x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(bn.running_mean, mean)
    np.testing.assert_allclose(bn.running_var, var)


def test_inference_uses_the_running_averages_and_leaves_them_unchanged():
    bn = random_batchnorm(2, seed=0)
    mean, var = bn.running_mean.copy(), bn.running_var.copy()
    x = np.random.default_rng(1).normal(size=(4, 2))
    y = bn.forward(x)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5) * bn.gamma + bn.beta)
    np.testing.assert_array_equal(bn.running_mean, mean)
    np.testing.assert_array_equal(bn.running_var, var)


def test_inference_output_of_one_sample_does_not_depend_on_the_batch():
    bn = random_batchnorm(3, seed=0)
    x = np.random.default_rng(1).normal(size=(5, 3, 2, 2))
    np.testing.assert_allclose(bn.forward(x)[:1], bn.forward(x[:1]))


def test_the_running_statistics_are_declared_as_buffers():
    bn = nn.BatchNorm(8)
    assert bn.params == ("gamma", "beta")
    assert bn.buffers == ("running_mean", "running_var")
    assert nn.Dense(2, 3).buffers == () and nn.Conv2D(1, 2, 3).buffers == ()
    for name in (*bn.params, *bn.buffers):
        assert getattr(bn, name).shape == (8,) and getattr(bn, name).dtype == np.float32
    np.testing.assert_array_equal(bn.running_var, 1)


def test_config_rebuilds_the_layer():
    bn = nn.BatchNorm(16, momentum=0.99, eps=1e-3)
    assert repr(bn) == "BatchNorm(num_features=16, momentum=0.99, eps=0.001)"
    assert repr(nn.BatchNorm(**bn.config())) == repr(bn)


@pytest.mark.parametrize("shape", [(4, 3), (4, 5, 2, 2), (4, 5, 2), (4, 5)])
def test_a_wrong_feature_count_or_rank_names_the_layer_and_both_shapes(shape):
    bn = nn.BatchNorm(3) if shape in ((4, 5, 2, 2), (4, 5)) else nn.BatchNorm(5)
    C = bn.num_features
    with pytest.raises(
        nn.ShapeError,
        match=rf"BatchNorm\(num_features={C}.*\(n_samples, {C}\), \(n_samples, T, {C}\) or "
        rf"\(n_samples, {C}, height, width\), got \({', '.join(map(str, shape))}\)",
    ):
        bn.forward(np.zeros(shape, np.float32))


# --- sequences (n, T, C): the statistics of each channel over all n T steps ----------------


@settings(max_examples=30, deadline=None)
@given(
    training=st.booleans(),
    n=st.integers(1, 4),
    T=st.integers(2, 4),  # n T >= 2 values per channel (one would give xhat = 0)
    C=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_sequence_gradients_match_central_differences_in_both_modes(training, n, T, C, seed):
    x = np.random.default_rng(seed).normal(3, 2, (n, T, C))
    if training and n * T < 3:  # 2 values per channel: xhat = +-1 whatever x, dx ~ 0
        x = np.concatenate([x, x[:1] + 1.0])
    errors = gradient_errors(random_batchnorm(C, seed), x, training, seed)
    assert max(errors.values()) < 1e-6, errors


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 4), T=st.integers(2, 5), C=st.integers(1, 4), seed=st.integers(0, 99))
def test_a_sequence_is_normalised_as_torchs_batchnorm1d_on_its_transpose(n, T, C, seed):
    """makemore part 5: torch.nn.BatchNorm1d(C) on x.transpose(1, 2), (n, C, T), in float64:
    outputs and gradients in training, the running statistics (PyTorch's unbiased running
    variance aside: its running_var uses n T - 1), and the inference output."""
    import torch

    rng = np.random.default_rng(seed)
    x, dout = rng.normal(1, 2, (n, T, C)), rng.standard_normal((n, T, C))
    bn = random_batchnorm(C, seed)
    bn.running_mean[...], bn.running_var[...] = 0.0, 1.0
    twin = torch.nn.BatchNorm1d(C, momentum=0.1, dtype=torch.float64)
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(bn.gamma))
        twin.bias.copy_(torch.from_numpy(bn.beta))
    tx = torch.tensor(x, requires_grad=True)
    ty = twin(tx.transpose(1, 2)).transpose(1, 2)
    ty.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(bn.forward(x, training=True), ty.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(bn.backward(dout), tx.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(bn.dgamma, twin.weight.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(bn.dbeta, twin.bias.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(bn.running_mean, twin.running_mean.numpy(), atol=1e-12)
    m = n * T
    biased = (twin.running_var.numpy() - 0.9) * (m - 1) / m + 0.9  # 0.9 + 0.1 var (m - 1) / m
    np.testing.assert_allclose(bn.running_var, biased, atol=1e-12)
    with torch.no_grad():
        twin.running_var.copy_(torch.from_numpy(bn.running_var))
        twin.eval()
        inference = twin(torch.from_numpy(x).transpose(1, 2)).transpose(1, 2).numpy()
    np.testing.assert_allclose(bn.forward(x), inference, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("training", [True, False])
def test_a_sequence_is_normalised_as_its_steps_taken_as_rows_bit_for_bit(dtype, training):
    """(n, T, C) gives exactly what (n T, C) gives: the steps are rows of one batch."""
    rng = np.random.default_rng(0)
    x, dout = rng.normal(2, 3, (6, 8, 5)).astype(dtype), rng.normal(size=(6, 8, 5)).astype(dtype)
    seq, rows = random_batchnorm(5, 0), random_batchnorm(5, 0)
    y = seq.forward(x, training).copy()
    np.testing.assert_array_equal(y, rows.forward(x.reshape(48, 5), training).reshape(x.shape))
    dx = seq.backward(dout).copy()
    np.testing.assert_array_equal(dx, rows.backward(dout.reshape(48, 5)).reshape(x.shape))
    for name in ("dgamma", "dbeta", "running_mean", "running_var"):
        np.testing.assert_array_equal(getattr(seq, name), getattr(rows, name))


def test_a_sequence_keeps_its_shape_and_a_wrong_channel_count_is_a_shape_error():
    assert nn.BatchNorm(4).output_shape((7, 4)) == (7, 4)
    assert nn.BatchNorm(4).output_shape((None, 4)) == (None, 4)
    with pytest.raises(nn.ShapeError, match="takes sequences of shape"):
        nn.BatchNorm(4).output_shape((4, 7))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_features": 0}, "num_features must be a positive integer, got 0"),
        ({"num_features": 2, "momentum": 1.0}, r"momentum must be in \[0, 1\), got 1.0"),
        ({"num_features": 2, "eps": 0.0}, "eps must be positive, got 0.0"),
    ],
)
def test_bad_arguments_are_value_errors_naming_the_layer(kwargs, message):
    with pytest.raises(ValueError, match=f"BatchNorm {message}"):
        nn.BatchNorm(**kwargs)


def test_a_sequence_batchnorm_trains_the_same_split_over_two_workers():
    """Data-parallel replicas share the statistics over all n T steps of the whole batch."""

    def model():
        return nn.Sequential(
            nn.Embedding(5, 4, dtype=np.float64, seed=0),
            nn.BatchNorm(4, dtype=np.float64),
            nn.FlattenConsecutive(4),
            nn.Dense(16, 5, dtype=np.float64, seed=1),
            nn.Softmax(),
        )

    X = np.random.default_rng(0).integers(0, 5, (64, 4))
    y = X.sum(axis=1) % 5
    one, two = model(), model()
    one.fit(X, y, epochs=2, optimizer="sgd", batch_size=16, seed=0)
    two.fit(X, y, epochs=2, optimizer="sgd", batch_size=16, seed=0, workers=2)
    np.testing.assert_allclose(two.forward(X), one.forward(X), rtol=0, atol=1e-12)
    np.testing.assert_allclose(two.layers[1].running_var, one.layers[1].running_var, atol=1e-12)
