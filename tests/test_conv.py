"""Conv2D, the pooling layers and Flatten: forward against the definition, backpropagation
against central differences (relative error < 1e-6 in float64) on random shapes, strides and
paddings, and errors that name the layer and both shapes."""

from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import numpynn as nn
import numpynn.layers.conv
import numpynn.model
from numpynn.gradcheck import noise_floor, numerical_gradient, relative_error
from numpynn.layers import ReLUMaxPool2D, fuse_relu_pool
from numpynn.layers.conv import col2im, im2col, output_size

# Conv2D lays its columns out per sample or as one matrix, by the window's size
# (numpynn.layers.conv.ONE_MATRIX_FROM): the tests below take each layout in turn.
LAYOUTS = {"per_sample": 10**9, "one_matrix": 1}
layouts = pytest.mark.parametrize("layout", LAYOUTS)


def columns_layout(layout):
    return mock.patch.object(numpynn.layers.conv, "ONE_MATRIX_FROM", LAYOUTS[layout])


def assert_backward_matches_numerical(layer, x, training=True, seed=0):
    """Check dL/dx and dL/dP for L = sum(forward(x) * R), R random (so dL/dout = R)."""
    R = np.random.default_rng(seed).standard_normal(layer.forward(x, training).shape)

    def loss():
        return float(np.sum(layer.forward(x, training) * R))

    floor = noise_floor(loss(), x.dtype)  # a zero gradient is compared in absolute terms
    dx = layer.backward(R).copy()
    analytic = {name: getattr(layer, "d" + name).copy() for name in layer.params}
    error = relative_error(dx, numerical_gradient(loss, x), floor)
    assert error < 1e-6, f"{layer!r} dx: relative error {error:.2e}"
    for name, grad in analytic.items():
        error = relative_error(grad, numerical_gradient(loss, getattr(layer, name)), floor)
        assert error < 1e-6, f"{layer!r} d{name}: relative error {error:.2e}"


def naive_conv(x, W, b, stride, padding):
    """The definition, one output number at a time."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, Hp, Wp = xp.shape
    out, _, k, _ = W.shape
    H_out, W_out = (Hp - k) // stride + 1, (Wp - k) // stride + 1
    y = np.zeros((n, out, H_out, W_out))
    for i in range(n):
        for o in range(out):
            for r in range(H_out):
                for c in range(W_out):
                    window = xp[i, :, r * stride : r * stride + k, c * stride : c * stride + k]
                    y[i, o, r, c] = np.sum(window * W[o]) + b[o]
    return y


conv_shapes = st.fixed_dictionaries(
    {
        "n": st.integers(1, 3),
        "C": st.integers(1, 3),
        "out": st.integers(1, 3),
        "H": st.integers(1, 7),
        "W": st.integers(1, 7),
        "k": st.integers(1, 4),
        "stride": st.integers(1, 3),
        "padding": st.integers(0, 2),
        "seed": st.integers(0, 2**16),
    }
)


def conv_case(s):
    assume(min(s["H"], s["W"]) + 2 * s["padding"] >= s["k"])
    layer = nn.Conv2D(
        s["C"], s["out"], s["k"], s["stride"], s["padding"], dtype=np.float64, seed=s["seed"]
    )
    rng = np.random.default_rng(s["seed"])
    layer.b[...] = rng.standard_normal(layer.b.shape)
    x = rng.standard_normal((s["n"], s["C"], s["H"], s["W"]))
    return layer, x


@layouts
@settings(max_examples=40, deadline=None)
@given(conv_shapes)
def test_conv2d_forward_is_the_definition(layout, s):
    layer, x = conv_case(s)
    expected = naive_conv(x, layer.W, layer.b, s["stride"], s["padding"])
    with columns_layout(layout):
        np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)
        y = layer.forward(x, training=True)
    assert layer.per_sample == (layout == "per_sample")
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@layouts
@settings(max_examples=40, deadline=None)
@given(conv_shapes)
@example(  # every output reads padding only: dx is exactly 0, the numerical one rounding noise
    {"n": 2, "C": 1, "out": 2, "H": 7, "W": 1, "k": 1, "stride": 2, "padding": 1, "seed": 995}
)
def test_conv2d_gradients_match_central_differences(layout, s):
    layer, x = conv_case(s)
    with columns_layout(layout):
        assert_backward_matches_numerical(layer, x, seed=s["seed"])


@layouts
def test_conv2d_backward_params_gives_the_same_parameter_gradients_as_backward(layout):
    layer = nn.Conv2D(2, 3, 3, padding=1, dtype=np.float64, seed=0)
    x = np.random.default_rng(1).standard_normal((4, 2, 6, 5))
    with columns_layout(layout):
        dout = np.random.default_rng(2).standard_normal(layer.forward(x, training=True).shape)
        layer.backward(dout)
        dW, db = layer.dW.copy(), layer.db.copy()
        layer.dW[...], layer.db[...] = 0, 0
        layer.backward_params(dout)
    np.testing.assert_array_equal(layer.dW, dW)
    np.testing.assert_array_equal(layer.db, db)


def test_output_size_follows_the_formula():
    x = np.zeros((2, 1, 28, 28), np.float32)
    assert nn.Conv2D(1, 4, 3, padding=1).forward(x).shape == (2, 4, 28, 28)
    assert nn.Conv2D(1, 4, 5).forward(x).shape == (2, 4, 24, 24)
    assert nn.Conv2D(1, 4, 3, stride=2).forward(x).shape == (2, 4, 13, 13)
    assert output_size(28, 3, 2, 1) == 14
    assert nn.MaxPool2D(2).forward(x).shape == (2, 1, 14, 14)
    assert nn.MaxPool2D(3, stride=2).forward(x).shape == (2, 1, 13, 13)
    assert nn.AvgPool2D(3).forward(x).shape == (2, 1, 9, 9)
    assert nn.GlobalAvgPool2D().forward(x).shape == (2, 1)
    assert nn.Flatten().forward(x).shape == (2, 784)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 3),
    C=st.integers(1, 3),
    H=st.integers(1, 7),
    W=st.integers(1, 7),
    k=st.integers(1, 3),
    stride=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_col2im_is_the_adjoint_of_im2col(n, C, H, W, k, stride, seed):
    """<im2col(x), c> = <x, col2im(c)> for all x, c: col2im is im2col's transpose, in both
    column layouts (one matrix: col2im's result is channels first)."""
    assume(min(H, W) >= k)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, C, H, W))
    for per_sample, x_as_out in ((True, x), (False, x.transpose(1, 0, 2, 3))):
        cols = im2col(x, k, stride, per_sample=per_sample)
        c = rng.standard_normal(cols.shape)
        back = col2im(c, x.shape, k, stride, out=np.empty_like(x_as_out))
        assert np.isclose(np.sum(cols * c), np.sum(x_as_out * back), rtol=1e-12)


pool_shapes = st.fixed_dictionaries(
    {
        "layer": st.sampled_from([nn.MaxPool2D, nn.AvgPool2D, ReLUMaxPool2D]),
        "n": st.integers(1, 3),
        "C": st.integers(1, 3),
        "H": st.integers(1, 7),
        "W": st.integers(1, 7),
        "size": st.integers(1, 3),
        "stride": st.integers(1, 3),
        "seed": st.integers(0, 2**16),
    }
)


@settings(max_examples=50, deadline=None)
@given(pool_shapes)
def test_pool_gradients_match_central_differences(s):
    assume(min(s["H"], s["W"]) >= s["size"])
    layer = s["layer"](s["size"], s["stride"])
    rng = np.random.default_rng(s["seed"])
    shape = (s["n"], s["C"], s["H"], s["W"])
    if s["layer"] is not nn.AvgPool2D:
        # A window's maximum has no derivative where two entries tie, and the checker's steps
        # (up to 2h = 1.5e-3 max(1, |x|)) would cross a near-tie (about 2% of random normal
        # cases). Distinct values 0.1 apart, none 0 (ReLU's kink): no step reaches a
        # neighbour or 0 (|x| <= 22 here).
        x = 0.1 * (rng.permutation(np.prod(shape)).reshape(shape) - np.prod(shape) / 2) + 0.03
    else:
        x = rng.standard_normal(shape)
    assert_backward_matches_numerical(layer, x, seed=s["seed"])


@settings(max_examples=25, deadline=None)
@given(pool_shapes)
def test_pool_forward_is_the_window_max_or_mean(s):
    assume(min(s["H"], s["W"]) >= s["size"] and s["layer"] is not ReLUMaxPool2D)
    x = np.random.default_rng(s["seed"]).standard_normal((s["n"], s["C"], s["H"], s["W"]))
    k, st_ = s["size"], s["stride"]
    y = s["layer"](k, st_).forward(x)
    reduce = np.max if s["layer"] is nn.MaxPool2D else np.mean
    for r in range(y.shape[2]):
        for c in range(y.shape[3]):
            window = x[:, :, r * st_ : r * st_ + k, c * st_ : c * st_ + k]
            np.testing.assert_allclose(y[:, :, r, c], reduce(window, axis=(2, 3)), rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 5), st.integers(1, 5)),
    seed=st.integers(0, 2**16),
)
def test_global_avg_pool_and_flatten_gradients_match_central_differences(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    assert_backward_matches_numerical(nn.GlobalAvgPool2D(), x, seed=seed)
    assert_backward_matches_numerical(nn.Flatten(), x, seed=seed)
    np.testing.assert_allclose(nn.GlobalAvgPool2D().forward(x), x.mean(axis=(2, 3)))
    np.testing.assert_array_equal(nn.Flatten().forward(x), x.reshape(shape[0], -1))


def test_max_pool_routes_a_tie_to_the_first_maximum_in_row_major_order():
    pool = nn.MaxPool2D(2)
    x = np.array([[[[1.0, 3.0], [3.0, 3.0]]]])
    assert pool.forward(x, training=True).item() == 3.0
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 1, 1))), [[[[0, 1], [0, 0]]]])
    x = np.zeros((1, 1, 2, 2))  # e.g. after a ReLU: an all-zero window
    pool.forward(x, training=True)
    np.testing.assert_array_equal(pool.backward(np.full((1, 1, 1, 1), 5.0)), [[[[5, 0], [0, 0]]]])


@settings(max_examples=50, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(2, 7), st.integers(2, 7)),
    stride=st.sampled_from([2, None]),
    seed=st.integers(0, 2**16),
)
def test_max_pool_2x2_routes_each_gradient_to_the_first_argmax_despite_ties(shape, stride, seed):
    """Windows that tile (stride 2) or not (stride 3) agree with np.argmax per window, on
    values drawn from {0, 1, 2}: ties everywhere."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, shape).astype(float)
    pool = nn.MaxPool2D(2, stride if stride else 3)
    y = pool.forward(x, training=True)
    dout = rng.standard_normal(y.shape)
    dx = pool.backward(dout)
    expected = np.zeros_like(x)
    s = pool.stride
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            window = x[:, :, i * s : i * s + 2, j * s : j * s + 2].reshape(*shape[:2], 4)
            u, v = np.divmod(np.argmax(window, axis=2), 2)
            for n in range(shape[0]):
                for c in range(shape[1]):
                    expected[n, c, i * s + u[n, c], j * s + v[n, c]] += dout[n, c, i, j]
            np.testing.assert_array_equal(y[:, :, i, j], window.max(axis=2))
    np.testing.assert_array_equal(dx, expected)


@settings(max_examples=50, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(2, 7), st.integers(2, 7)),
    size=st.integers(1, 3),
    stride=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_relu_max_pool_is_relu_then_max_pool_to_the_bit(shape, size, stride, seed):
    """The fused layer's output and gradient equal the pair's exactly, on values drawn from
    {-1, 0, 1, 2}: all-negative and all-zero windows and ties everywhere, windows that
    overlap (stride < size) or leave pixels out."""
    assume(min(shape[2:]) >= size)
    rng = np.random.default_rng(seed)
    x = rng.integers(-1, 3, shape).astype(np.float32)
    relu, pool, fused = nn.ReLU(), nn.MaxPool2D(size, stride), ReLUMaxPool2D(size, stride)
    y = pool.forward(relu.forward(x, training=True), training=True)
    np.testing.assert_array_equal(fused.forward(x, training=True), y)
    dout = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_array_equal(fused.backward(dout), relu.backward(pool.backward(dout)))


def test_fuse_relu_pool_replaces_only_a_relu_directly_before_a_max_pool():
    conv, relu, pool, avg = nn.Conv2D(1, 2, 3), nn.ReLU(), nn.MaxPool2D(3, stride=2), nn.AvgPool2D()
    fused = fuse_relu_pool([conv, relu, pool, nn.ReLU(), avg, pool, relu, nn.Flatten()])
    assert [type(layer).__name__ for layer in fused] == [
        "Conv2D", "ReLUMaxPool2D", "ReLU", "AvgPool2D", "MaxPool2D", "ReLU", "Flatten"
    ]  # fmt: skip
    assert (fused[1].size, fused[1].stride) == (3, 2)
    assert fused[0] is conv and fused[4] is pool


def test_fit_trains_a_relu_and_max_pool_as_one_layer_with_the_same_result():
    X = np.random.default_rng(0).standard_normal((32, 1, 8, 8)).astype(np.float32)
    y = np.arange(32) % 3

    def trained(fuse):
        model = nn.Sequential(
            nn.Conv2D(1, 4, 3, padding=1, seed=0), nn.ReLU(), nn.MaxPool2D(2), nn.Flatten(),
            nn.Dense(64, 3, seed=1), nn.Softmax(),
        )  # fmt: skip
        with mock.patch.object(numpynn.model, "fuse_relu_pool", fuse):
            model.fit(X, y, optimizer=nn.SGD(lr=0.1), epochs=2, batch_size=8, seed=0)
        return model

    used = []

    def spy(layers):
        used.append(fuse_relu_pool(layers))
        return used[-1]

    fused, unfused = trained(spy), trained(list)
    assert [type(layer).__name__ for layer in used[0]][:3] == ["Conv2D", "ReLUMaxPool2D", "Flatten"]
    for a, b in zip(fused.parameters(), unfused.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_overlapping_max_pool_adds_the_gradients_of_a_shared_maximum():
    pool = nn.MaxPool2D(2, stride=1)  # windows [[0, 9], [0, 0]] and [[9, 0], [0, 0]]
    x = np.array([[[[0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]])
    pool.forward(x, training=True)
    np.testing.assert_array_equal(
        pool.backward(np.array([[[[1.0, 2.0]]]])), [[[[0, 3, 0], [0, 0, 0]]]]
    )


@pytest.mark.parametrize(
    "layer",
    [
        nn.Conv2D(2, 3, 3, padding=1),
        nn.MaxPool2D(2),
        nn.AvgPool2D(2),
        nn.GlobalAvgPool2D(),
        nn.Flatten(),
        nn.BatchNorm(2),
    ],
    ids=repr,
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("training", [True, False])
def test_output_and_input_gradient_dtypes_follow_the_input(layer, dtype, training):
    x = np.random.default_rng(0).standard_normal((2, 2, 4, 4)).astype(dtype)
    y = layer.forward(x, training)
    assert y.dtype == dtype
    assert layer.backward(np.ones_like(y)).dtype == dtype


def test_conv2d_float32_matches_float64_closely():
    x = np.random.default_rng(0).random((8, 3, 10, 10))
    layer32 = nn.Conv2D(3, 5, 3, padding=1, seed=0)
    layer64 = nn.Conv2D(3, 5, 3, padding=1, seed=0, dtype=np.float64)
    np.testing.assert_allclose(layer32.W, layer64.W.astype(np.float32))
    np.testing.assert_allclose(
        layer32.forward(x.astype(np.float32)), layer64.forward(x), rtol=1e-5, atol=1e-5
    )


def test_conv2d_he_init_has_the_fan_in_of_a_window():
    layer = nn.Conv2D(16, 64, 3, seed=0)
    assert layer.W.shape == (64, 16, 3, 3) and layer.W.dtype == np.float32
    assert np.std(layer.W) == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.05)
    assert not layer.b.any()
    np.testing.assert_array_equal(layer.W, nn.Conv2D(16, 64, 3, seed=0).W)


def test_config_rebuilds_the_layer():
    for layer in [
        nn.Conv2D(3, 8, 5, stride=2, padding=1, init="xavier"),
        nn.MaxPool2D(3, stride=2),
        nn.AvgPool2D(2),
        nn.GlobalAvgPool2D(),
        nn.Flatten(),
    ]:
        rebuilt = type(layer)(**layer.config())
        assert repr(rebuilt) == repr(layer)
    assert repr(nn.Conv2D(1, 32, 3, padding=1)) == (
        "Conv2D(in_channels=1, out_channels=32, kernel_size=3, stride=1, padding=1, init='he')"
    )


def test_conv2d_on_flat_rows_names_the_layer_and_both_shapes():
    with pytest.raises(
        nn.ShapeError, match=r"Conv2D\(in_channels=1.*\(n_samples, 1, height, width\).*\(5, 784\)"
    ):
        nn.Conv2D(1, 8, 3).forward(np.zeros((5, 784), np.float32))


def test_conv2d_with_the_wrong_channel_count_names_both_shapes():
    with pytest.raises(nn.ShapeError, match=r"\(n_samples, 3, height, width\), got \(2, 1, 8, 8\)"):
        nn.Conv2D(3, 8, 3).forward(np.zeros((2, 1, 8, 8), np.float32))


def test_kernel_larger_than_the_padded_input_is_a_shape_error():
    with pytest.raises(
        nn.ShapeError, match=r"Conv2D.*5x5 window is larger than the padded input 4x4"
    ):
        nn.Conv2D(1, 1, 5, padding=1).forward(np.zeros((1, 1, 2, 2), np.float32))
    with pytest.raises(nn.ShapeError, match=r"MaxPool2D\(size=3, stride=3\).*larger.*2x2"):
        nn.MaxPool2D(3).forward(np.zeros((1, 1, 2, 2), np.float32))


@pytest.mark.parametrize(
    "layer", [nn.MaxPool2D(2), nn.AvgPool2D(2), nn.GlobalAvgPool2D()], ids=repr
)
def test_pools_on_flat_rows_name_the_layer_and_the_shape(layer):
    with pytest.raises(
        nn.ShapeError,
        match=rf"{type(layer).__name__}\(.*\(n_samples, C, height, width\), got \(5, 784\)",
    ):
        layer.forward(np.zeros((5, 784), np.float32))


def test_dense_after_conv2d_without_flatten_names_both_shapes():
    y = nn.Conv2D(1, 2, 3).forward(np.zeros((4, 1, 5, 5), np.float32))
    with pytest.raises(
        nn.ShapeError, match=r"Dense\(n_in=18.*\(n_samples, 18\), got \(4, 2, 3, 3\)"
    ):
        nn.Dense(18, 10).forward(y)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: nn.Conv2D(0, 8, 3), "Conv2D in_channels must be a positive integer, got 0"),
        (lambda: nn.Conv2D(1, 8, 0), "Conv2D kernel_size must be a positive integer, got 0"),
        (lambda: nn.Conv2D(1, 8, 3, stride=0), "Conv2D stride must be a positive integer"),
        (lambda: nn.Conv2D(1, 8, 3, padding=-1), "Conv2D padding must be a non-negative"),
        (lambda: nn.Conv2D(1, 8, 2.5), "Conv2D kernel_size must be a positive integer"),
        (lambda: nn.MaxPool2D(0), "MaxPool2D size must be a positive integer, got 0"),
        (lambda: nn.AvgPool2D(2, stride=-1), "AvgPool2D stride must be a positive integer"),
    ],
)
def test_non_positive_sizes_are_value_errors_naming_the_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_conv2d_rejects_an_integer_dtype():
    with pytest.raises(TypeError, match="Conv2D dtype must be a floating type"):
        nn.Conv2D(1, 1, 3, dtype=np.int32)


@pytest.mark.parametrize(
    "layer", [nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU, nn.Identity, nn.Softmax]
)
def test_activation_layers_work_on_images(layer):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    assert layer().forward(x).shape == x.shape
    assert_backward_matches_numerical(layer(), x)


def test_dropout_works_on_images_and_keeps_the_expected_value():
    x = np.ones((50, 4, 10, 10), np.float32)
    drop = nn.Dropout(0.5, seed=0)
    y = drop.forward(x, training=True)
    assert y.shape == x.shape and set(np.unique(y)) == {0.0, 2.0}
    assert y.mean() == pytest.approx(1.0, abs=0.02)
    np.testing.assert_array_equal(drop.backward(np.ones_like(x)), y)
    assert drop.forward(x) is x


def test_a_small_convnet_learns_bars_by_gradient_descent():
    """Vertical vs horizontal bars: conv, batch norm, relu, max pool, dense, softmax, with the
    loss and Adam called directly; training accuracy reaches 100%."""
    rng = np.random.default_rng(0)
    X = rng.random((64, 1, 8, 8), dtype=np.float32) * 0.3
    y = rng.integers(0, 2, 64)
    for img, label, pos in zip(X, y, rng.integers(0, 8, 64), strict=True):
        if label:
            img[0, :, pos] += 1
        else:
            img[0, pos, :] += 1
    layers = [
        nn.Conv2D(1, 4, 3, padding=1, seed=0),
        nn.BatchNorm(4),
        nn.ReLU(),
        nn.MaxPool2D(2),
        nn.Flatten(),
        nn.Dense(64, 2, seed=1),
    ]
    loss, optimizer = nn.CrossEntropy(from_logits=True), nn.Adam(lr=0.01)
    T = loss.prepare_targets(y, 2, np.float32)
    params = [getattr(layer, p) for layer in layers for p in layer.params]
    grads = [getattr(layer, "d" + p) for layer in layers for p in layer.params]
    for _ in range(30):
        out = X
        for layer in layers:
            out = layer.forward(out, training=True)
        loss.forward(out, T)
        grad = loss.backward()
        for layer in reversed(layers[1:]):
            grad = layer.backward(grad)
        layers[0].backward_params(grad)
        optimizer.step(params, grads)
    out = X
    for layer in layers:
        out = layer.forward(out)
    assert np.mean(out.argmax(axis=1) == y) == 1.0
