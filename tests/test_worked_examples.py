"""The worked examples of ../shared/reference/worked-examples.md, sections 1 to 6, to the
printed digits (float64, rtol=1e-7)."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import numpynn as nn

# --- 1. Matrix product is the whole forward pass ------------------------------------------


def test_matrix_product_of_a_3x2_and_a_2x4_matrix():
    A = np.array([[1, 2], [3, 4], [5, 6]])
    B = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    assert_array_equal(A @ B, [[11, 14, 17, 20], [23, 30, 37, 44], [35, 46, 57, 68]])


def test_a_dense_layer_without_bias_or_activation_is_a_matrix_product():
    layer = nn.Dense(2, 3, dtype=np.float64)
    layer.W[...] = [[1, 3, 5], [2, 4, 6]]
    assert_allclose(nn.Sequential(layer).forward([[1, 2]]), [[5, 11, 17]], rtol=1e-7)


def test_a_mismatched_product_names_the_layer_and_both_shapes():
    with pytest.raises(nn.ShapeError, match=r"Dense\(n_in=3.*\(3, 2\).*\(3, 4\)"):
        nn.Dense(3, 4).forward(np.ones((3, 2), dtype=np.float32))


# --- 2. Perceptron and logic gates ----------------------------------------------------------

GATE_INPUTS = np.array([[0, 0], [1, 0], [0, 1], [1, 1]])


@pytest.mark.parametrize(
    ("weights", "bias", "expected"),
    [
        ([0.5, 0.5], -0.7, [0, 0, 0, 1]),  # AND, theta = 0.7
        ([0.5, 0.5], -0.4, [0, 1, 1, 1]),  # OR, theta = 0.4
        ([-0.5, -0.5], 0.7, [1, 1, 1, 0]),  # NAND
    ],
)
def test_perceptron_with_textbook_weights(weights, bias, expected):
    assert_array_equal(nn.Perceptron(weights=weights, bias=bias).predict(GATE_INPUTS), expected)


@pytest.mark.parametrize(
    ("gate", "expected"),
    [
        (nn.gates.AND, [0, 0, 0, 1]),
        (nn.gates.OR, [0, 1, 1, 1]),
        (nn.gates.NAND, [1, 1, 1, 0]),
        (nn.gates.XOR, [0, 1, 1, 0]),
    ],
)
def test_gate_truth_tables(gate, expected):
    assert [gate(x1, x2) for x1, x2 in GATE_INPUTS] == expected
    assert_array_equal(gate(GATE_INPUTS[:, 0], GATE_INPUTS[:, 1]), expected)


def test_xor_is_two_layers_of_perceptrons():
    for x1, x2 in GATE_INPUTS:
        layer1 = (nn.gates.NAND(x1, x2), nn.gates.OR(x1, x2))
        assert nn.gates.XOR(x1, x2) == nn.gates.AND(*layer1)


@pytest.mark.parametrize("gate", ["and", "or", "nand"])
def test_perceptron_learning_rule_converges_on_separable_gates(gate):
    X, y = nn.datasets.truth_table(gate)
    p = nn.Perceptron(n_inputs=2).fit(X, y)
    assert p.converged_
    assert_array_equal(p.predict(X), y)


def test_perceptron_learning_rule_does_not_claim_to_converge_on_xor():
    X, y = nn.datasets.xor()
    with pytest.warns(nn.ConvergenceWarning, match="did not converge"):
        p = nn.Perceptron(n_inputs=2).fit(X, y, epochs=50)
    assert p.converged_ is False
    assert (p.predict(X) != y).any()


# --- 3. Activation functions ----------------------------------------------------------------


def test_activation_values():
    x = np.array([-2.0, 0.0, 1.5])
    assert_array_equal(nn.step(x), [0, 0, 1])
    assert_allclose(nn.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-7)
    assert_allclose(nn.tanh(x), np.tanh(x), rtol=1e-7)
    assert_array_equal(nn.relu(x), [0, 0, 1.5])
    assert_array_equal(nn.identity(x), x)
    assert_allclose(nn.leaky_relu(x, alpha=0.1), [-0.2, 0, 1.5], rtol=1e-7)


def test_softmax_is_stable_for_large_inputs():
    a = np.array([1010.0, 1000.0, 990.0])
    expected = np.exp(a - 1010) / np.exp(a - 1010).sum()
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = nn.softmax(a)
    assert_allclose(y, expected, rtol=1e-7)
    assert y.sum() == pytest.approx(1.0)


def test_softmax_works_row_wise_on_a_batch():
    a = np.array([[1.0, 2.0, 3.0], [1010.0, 1000.0, 990.0]])
    y = nn.softmax(a)
    assert_allclose(y.sum(axis=1), [1, 1], rtol=1e-12)
    assert_allclose(y[0], nn.softmax(a[0]), rtol=1e-12)


def test_sigmoid_is_finite_and_warning_free_at_plus_minus_1000():
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        y = nn.sigmoid(np.array([-1000.0, 1000.0]))
    assert_array_equal(y, [0.0, 1.0])


# --- 4. The three-layer network (2 -> 3 -> 2 -> 2) ------------------------------------------

W1, b1 = [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], [0.1, 0.2, 0.3]
W2, b2 = [[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]], [0.1, 0.2]
W3, b3 = [[0.1, 0.3], [0.2, 0.4]], [0.1, 0.2]


def three_layer_network(output: nn.Layer) -> nn.Sequential:
    net = nn.Sequential(
        nn.Dense(2, 3, dtype=np.float64),
        nn.Sigmoid(),
        nn.Dense(3, 2, dtype=np.float64),
        nn.Sigmoid(),
        nn.Dense(2, 2, dtype=np.float64),
        output,
    )
    for layer, (W, b) in zip(net.dense_layers, [(W1, b1), (W2, b2), (W3, b3)], strict=True):
        layer.W[...] = W
        layer.b[...] = b
    return net


def test_three_layer_network_intermediate_values():
    net = three_layer_network(nn.Identity())
    net.forward(np.array([[1.0, 0.5]]))
    dense1, sigmoid1, _, sigmoid2 = net.layers[:4]
    assert_allclose(dense1.forward(np.array([[1.0, 0.5]])), [[0.3, 0.7, 1.1]], rtol=1e-7)
    assert_allclose(sigmoid1.y, [[0.57444252, 0.66818777, 0.75026011]], rtol=1e-7)
    assert_allclose(sigmoid2.y, [[0.62624937, 0.7710107]], rtol=1e-7)


def test_three_layer_network_identity_output():
    net = three_layer_network(nn.Identity())
    assert_allclose(net.forward(np.array([[1.0, 0.5]])), [[0.31682708, 0.69627909]], rtol=1e-7)


@pytest.mark.parametrize(
    ("x", "expected"),
    [([2.0, 1.0], [0.40442364, 0.59557636]), ([1.0, 0.5], [0.40625907, 0.59374093])],
)
def test_three_layer_network_softmax_output(x, expected):
    net = three_layer_network(nn.Softmax())
    assert_allclose(net.forward(np.array([x])), [expected], rtol=1e-7)


def test_three_layer_network_batch_gives_the_same_rows():
    net = three_layer_network(nn.Softmax())
    batch = net.forward(np.array([[2.0, 1.0], [1.0, 0.5]]))
    assert_allclose(batch, [[0.40442364, 0.59557636], [0.40625907, 0.59374093]], rtol=1e-7)


# --- 5. Layer indexing convention -----------------------------------------------------------


def test_layer_l_has_weights_of_shape_sizes_l_minus_1_by_sizes_l():
    sizes = [2, 3, 1]
    net = nn.mlp(sizes, activation="tanh", output="sigmoid", seed=0)
    for layer_l, dense in enumerate(net.dense_layers, start=1):
        assert dense.W.shape == (sizes[layer_l - 1], sizes[layer_l])
        assert dense.b.shape == (sizes[layer_l],)


# --- 6. One hidden layer trained by gradient descent (planar flower data) -------------------


def planar_network(n_hidden: int = 4) -> nn.Sequential:
    return nn.Sequential(
        nn.Dense(2, n_hidden, init="normal", dtype=np.float64, seed=2),
        nn.Tanh(),
        nn.Dense(n_hidden, 1, init="normal", dtype=np.float64, seed=3),
        nn.Sigmoid(),
    )


def test_flower_data_is_two_balanced_classes_of_400_points():
    X, y = nn.datasets.flower()
    assert X.shape == (400, 2)
    assert np.bincount(y).tolist() == [200, 200]


def test_logistic_regression_gets_about_half_of_the_flower_right():
    X, y = nn.datasets.flower()
    model = nn.Sequential(nn.Dense(2, 1, dtype=np.float64, seed=0), nn.Sigmoid())
    history = model.fit(X, y, optimizer=nn.SGD(lr=1.2), epochs=2000, batch_size=None, seed=0)
    assert history["accuracy"][-1] < 0.6


def test_planar_network_backward_matches_the_textbook_formulas():
    X, y = nn.datasets.flower()
    Y = y.reshape(-1, 1).astype(np.float64)
    net = planar_network()
    dense1, _, dense2, _ = net.layers
    W1_, b1_, W2_, b2_ = (p.copy() for p in net.parameters())
    net.fit(
        X,
        y,
        loss=nn.BinaryCrossEntropy(),
        optimizer=nn.SGD(lr=1.2),
        epochs=1,
        batch_size=None,
        shuffle=False,
    )
    m = len(X)
    A1 = np.tanh(X @ W1_ + b1_)
    A2 = 1 / (1 + np.exp(-(A1 @ W2_ + b2_)))
    dZ2 = A2 - Y
    dW2, db2 = A1.T @ dZ2 / m, dZ2.mean(axis=0)
    dZ1 = (dZ2 @ W2_.T) * (1 - A1**2)
    dW1, db1 = X.T @ dZ1 / m, dZ1.mean(axis=0)
    for layer, dW, db in ((dense1, dW1, db1), (dense2, dW2, db2)):
        assert_allclose(layer.dW, dW, rtol=1e-7, atol=1e-15)
        assert_allclose(layer.db, db, rtol=1e-7, atol=1e-15)
    assert_allclose(dense1.W, W1_ - 1.2 * dW1, rtol=1e-7)


def test_planar_network_reaches_90_percent_training_accuracy():
    X, y = nn.datasets.flower()
    net = planar_network()
    history = net.fit(
        X,
        y,
        loss=nn.BinaryCrossEntropy(),
        optimizer=nn.SGD(lr=1.2),
        epochs=10_000,
        batch_size=None,
        seed=3,
    )
    costs = history["loss"]
    assert costs[999] > costs[4999] > costs[9999]  # the cost printed every 1,000 falls
    assert np.mean(net.predict(X) == y) >= 0.90


def test_one_hidden_unit_underfits_the_flower():
    X, y = nn.datasets.flower()
    net = planar_network(n_hidden=1)
    net.fit(X, y, optimizer=nn.SGD(lr=1.2), epochs=3000, batch_size=None, seed=3)
    assert np.mean(net.predict(X) == y) < 0.8
