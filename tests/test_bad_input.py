"""Every bad input to the library's entry points gets a clear, documented error (one test
each; the table in docs/errors.md lists the same cases)."""

import numpy as np
import pytest

import numpynn as nn

X = np.random.default_rng(0).normal(size=(10, 4))
y = np.arange(10) % 3


def model():
    return nn.mlp([4, 5, 3], seed=0)


def _stepped_adam():
    """An Adam that has trained another model (4-8-3)."""
    adam = nn.Adam()
    nn.mlp([4, 8, 3], seed=0).fit(X, y, optimizer=adam, epochs=1)
    return adam


CASES = {
    "X is 1-D": (
        lambda: model().fit(X[0], y[:1]),
        nn.ShapeError,
        r"X must be 2-D with shape \(n_samples, n_features\), got 1-D shape \(4,\); use "
        r"X.reshape\(1, -1\)",
    ),
    "X is 3-D": (
        lambda: model().predict(X.reshape(10, 2, 2)),
        nn.ShapeError,
        r"X must be 2-D .* got 3-D shape \(10, 2, 2\)",
    ),
    "X holds NaN": (
        lambda: model().fit(np.where(X > 1, np.nan, X), y),
        ValueError,
        r"X contains \d+ NaN or infinite value\(s\)",
    ),
    "X holds infinity": (
        lambda: model().predict(np.full((2, 4), np.inf)),
        ValueError,
        r"X contains 8 NaN or infinite value\(s\)",
    ),
    "X holds strings": (
        lambda: model().fit(np.array([["a"] * 4] * 10), y),
        TypeError,
        r"X must hold numbers, got dtype <U1",
    ),
    "X is ragged": (
        lambda: model().predict([[1, 2, 3, 4], [1, 2]]),
        ValueError,
        r"X must be a 2-D array of numbers",
    ),
    "X is empty": (
        lambda: model().fit(np.empty((0, 4)), np.empty(0, dtype=int)),
        ValueError,
        r"X is empty: got shape \(0, 4\), need at least one sample",
    ),
    "X has the wrong number of features": (
        lambda: model().predict(np.ones((2, 5))),
        nn.ShapeError,
        r"X must have 4 features \(columns\) to match the model's input, got shape \(2, 5\)",
    ),
    "X and y lengths differ": (
        lambda: model().fit(X, y[:7]),
        nn.ShapeError,
        r"X and y must have the same number of samples, got 10 rows in X and 7 in y",
    ),
    "labels out of range": (
        lambda: model().fit(X, y + 1),
        ValueError,
        r"class labels y must lie in \[0, 2\] for a model with 3 outputs, got labels in \[1, 3\]",
    ),
    "negative labels": (
        lambda: model().fit(X, y - 1),
        ValueError,
        r"class labels y must lie in \[0, 2\] .* got labels in \[-1, 1\]",
    ),
    "fractional labels": (
        lambda: model().fit(X, y + 0.5),
        TypeError,
        r"class labels y must be integers, got dtype float64 with fractional values: for "
        r"real-valued targets use MeanSquaredError",
    ),
    "one-hot y of the wrong width": (
        lambda: model().fit(X, np.eye(4)[y]),
        nn.ShapeError,
        r"y must have shape \(n_samples, 3\) to match the model's 3 outputs, got \(10, 4\)",
    ),
    "y holds NaN": (
        lambda: model().fit(X, np.full((10, 3), np.nan)),
        ValueError,
        r"y contains NaN or infinite values",
    ),
    "binary targets outside [0, 1]": (
        lambda: nn.Sequential(nn.Dense(4, 1), nn.Sigmoid()).fit(X, y),
        ValueError,
        r"y for BinaryCrossEntropy must lie in \[0, 1\], got values in \[0, 2\]",
    ),
    "zero learning rate": (
        lambda: model().fit(X, y, optimizer=nn.SGD(lr=0)),
        ValueError,
        r"lr must be a finite number > 0, got 0",
    ),
    "zero epochs": (
        lambda: model().fit(X, y, epochs=0),
        ValueError,
        r"epochs must be a positive integer, got 0",
    ),
    "negative batch size": (
        lambda: model().fit(X, y, batch_size=-32),
        ValueError,
        r"batch_size must be a positive integer, got -32",
    ),
    "fractional batch size": (
        lambda: model().fit(X, y, batch_size=2.5),
        TypeError,
        r"batch_size must be a positive integer, got 2.5",
    ),
    "validation_data not a pair": (
        lambda: model().fit(X, y, validation_data=X),
        TypeError,
        r"validation_data must be a pair \(X_val, y_val\)",
    ),
    "validation_data of three items": (
        lambda: model().fit(X, y, validation_data=(X, y, np.ones(10))),
        TypeError,
        r"validation_data must be a pair \(X_val, y_val\)",
    ),
    "validation X with the wrong features": (
        lambda: model().fit(X, y, validation_data=(X[:, :3], y)),
        nn.ShapeError,
        r"validation_data\[0\] must have 4 features",
    ),
    "sample_weight of the wrong length": (
        lambda: model().fit(X, y, sample_weight=np.ones(3)),
        nn.ShapeError,
        r"sample_weight must have shape \(10,\), one weight per row of X, got \(3,\)",
    ),
    "negative sample_weight": (
        lambda: model().fit(X, y, sample_weight=-np.ones(10)),
        ValueError,
        r"sample_weight must hold finite values >= 0 with a positive sum",
    ),
    "callback that is not a Callback": (
        lambda: model().fit(X, y, callbacks=[print]),
        TypeError,
        r"callbacks must be numpynn Callback objects, got the function print, not a callback",
    ),
    "unknown activation": (
        lambda: nn.mlp([4, 5, 3], activation="swish"),
        ValueError,
        r"activation must be one of \['gelu', 'identity', 'leaky_relu', .*\], got 'swish'",
    ),
    "more activation names than hidden layers": (
        lambda: nn.mlp([4, 5, 3], activation=["relu", "tanh"]),
        ValueError,
        r"activation must be one name or a list of 1 names \(one per hidden layer\), got "
        r"\['relu', 'tanh'\]",
    ),
    "fewer activation names than hidden layers": (
        lambda: nn.mlp([4, 5, 5, 3], activation=["relu"]),
        ValueError,
        r"activation must be one name or a list of 2 names \(one per hidden layer\), got "
        r"\['relu'\]",
    ),
    "predict_proba of a regression model": (
        lambda: nn.mlp([4, 5, 1], output="identity").predict_proba(X),
        TypeError,
        r"predict_proba needs a classifier: end the model with Softmax or Sigmoid, or fit it "
        r"with a cross-entropy loss",
    ),
    "unknown loss": (
        lambda: model().fit(X, y, loss="hinge"),
        ValueError,
        r"loss must be a Loss or one of \['binary_cross_entropy', 'cross_entropy', 'mse'\]",
    ),
    "unknown optimizer": (
        lambda: model().fit(X, y, optimizer="lion"),
        ValueError,
        r"optimizer must be an Optimizer or one of "
        r"\['adagrad', 'adam', 'adamw', 'rmsprop', 'sgd'\]",
    ),
    "unknown initialiser": (
        lambda: nn.Dense(2, 3, init="glorot"),
        ValueError,
        r"init must be one of \['he', 'nielsen', 'normal', 'xavier'\], got 'glorot'",
    ),
    "layers that do not chain": (
        lambda: nn.Sequential(nn.Dense(2, 3), nn.Sigmoid(), nn.Dense(4, 1)),
        nn.ShapeError,
        r"layer 2: Dense\(n_in=4, n_out=1.*\) takes 4 inputs but gets 3: W of shape \(4, 1\) "
        r"cannot follow an output of shape \(n_samples, 3\)",
    ),
    "one layer object at two positions": (
        lambda: nn.Sequential(nn.Dense(2, 3), (r := nn.ReLU()), nn.Dense(3, 3), r),
        ValueError,
        r"layer 3 is the same object as layer 1 \(ReLU\(\)\); give each position its own",
    ),
    "an optimizer reused on another model": (
        lambda: model().fit(X, y, optimizer=_stepped_adam()),
        nn.ShapeError,
        r"optimizer Adam\(.*\) holds 'm' state for parameters of shapes \[\(4, 8\), \(8,\)",
    ),
    "not a layer": (
        lambda: nn.Sequential(nn.Dense(2, 3), np.tanh),
        TypeError,
        r"layer 1 must be a numpynn Layer, got the function tanh, not a layer: "
        r"use the layer Tanh\(\)",
    ),
    "Dense with zero units": (
        lambda: nn.Dense(3, 0),
        ValueError,
        r"Dense n_out must be a positive integer, got 0",
    ),
    "Dropout rate of 1": (
        lambda: nn.Dropout(1.0),
        ValueError,
        r"Dropout rate must be in \[0, 1\), got 1.0",
    ),
    "Dropout rate of None": (
        lambda: nn.Dropout(None),
        ValueError,
        r"Dropout rate must be in \[0, 1\), got None",
    ),
    "LeakyReLU alpha NaN": (
        lambda: nn.LeakyReLU(float("nan")),
        ValueError,
        r"LeakyReLU alpha must be a finite number, got nan",
    ),
    "one_hot label out of range": (
        lambda: nn.losses.one_hot(np.array([0, 3]), 3),
        ValueError,
        r"labels must be in \[0, 3\) for 3 classes, got values in \[0, 3\]",
    ),
    "one_hot negative label": (
        lambda: nn.losses.one_hot(np.array([-1]), 3),
        ValueError,
        r"labels must be in \[0, 3\) for 3 classes, got values in \[-1, -1\]",
    ),
    "one_hot fractional labels": (
        lambda: nn.losses.one_hot(np.array([0.5]), 3),
        TypeError,
        r"labels must be integers, got dtype float64",
    ),
    "mlp with one size": (
        lambda: nn.mlp([784]),
        ValueError,
        r"sizes must list at least 2 layer sizes \(inputs, outputs\), got \[784\]",
    ),
    "perceptron labels not 0/1": (
        lambda: nn.Perceptron(n_inputs=2).fit([[0, 0], [1, 1]], [0, 2]),
        ValueError,
        r"y must hold only 0 and 1",
    ),
    "perceptron without weights or size": (
        lambda: nn.Perceptron(),
        ValueError,
        r"Perceptron needs weights=\[...\] or n_inputs=N",
    ),
    "unknown gate": (
        lambda: nn.datasets.truth_table("xnor"),
        ValueError,
        r"gate must be one of \['and', 'nand', 'or', 'xor'\], got 'xnor'",
    ),
    "gate given as a list": (
        lambda: nn.datasets.truth_table(["and"]),
        ValueError,
        r"gate must be one of \['and', 'nand', 'or', 'xor'\], got \['and'\]",
    ),
    "perceptron bias not a number": (
        lambda: nn.Perceptron(weights=[1, 1], bias="a"),
        ValueError,
        r"bias must be a finite number, got 'a'",
    ),
    "perceptron learning rate of 0": (
        lambda: nn.Perceptron(n_inputs=2).fit([[0, 0], [1, 1]], [0, 1], lr=0),
        ValueError,
        r"lr must be a finite number > 0, got 0",
    ),
    "flower noise not a number": (
        lambda: nn.datasets.flower(noise="a"),
        ValueError,
        r"noise must be a finite number >= 0, got 'a'",
    ),
    "PrintProgress every 0 epochs": (
        lambda: nn.PrintProgress(every=0),
        ValueError,
        r"every must be a positive integer, got 0",
    ),
    "EarlyStopping patience of 0": (
        lambda: nn.EarlyStopping(patience=0),
        ValueError,
        r"patience must be a positive integer, got 0",
    ),
    "gradient_check with y of another length": (
        lambda: nn.gradient_check(nn.mlp([4, 3, 2], dtype=np.float64), X, y[:5], "mse"),
        nn.ShapeError,
        r"X and y must have the same number of samples, got 10 rows in X and 5 in y",
    ),
    # A loss that does not match the model's output: refused before training starts.
    "BinaryCrossEntropy on raw scores": (
        lambda: nn.mlp([4, 5, 1], output="identity", seed=0).fit(
            X, y % 2, loss=nn.BinaryCrossEntropy(), epochs=1
        ),
        ValueError,
        r"BinaryCrossEntropy\(\) expects probabilities from a final Sigmoid, but the model ends "
        r"with Identity \(raw scores\): add Sigmoid\(\) at the end, or use "
        r"BinaryCrossEntropy\(from_logits=True\)",
    ),
    "BinaryCrossEntropy(from_logits=True) on sigmoid outputs": (
        lambda: nn.mlp([4, 5, 1], output="sigmoid", seed=0).fit(
            X, y % 2, loss=nn.BinaryCrossEntropy(from_logits=True), epochs=1
        ),
        ValueError,
        r"BinaryCrossEntropy\(from_logits=True\) expects raw scores \(logits\), but the model "
        r"ends with Sigmoid, which makes them probabilities",
    ),
    "BinaryCrossEntropy on softmax outputs": (
        lambda: model().fit(X, np.eye(3)[y], loss="binary_cross_entropy", epochs=1),
        ValueError,
        r"BinaryCrossEntropy\(from_logits=False\) treats each output as its own yes/no "
        r"probability, but the model ends with Softmax",
    ),
    "BinaryCrossEntropy with class labels for several outputs": (
        lambda: nn.mlp([4, 5, 3], output="sigmoid", seed=0).fit(
            X, y, loss="binary_cross_entropy", epochs=1
        ),
        nn.ShapeError,
        r"BinaryCrossEntropy on 3 outputs needs a 0/1 target per output, y of shape "
        r"\(n_samples, 3\), got one value per sample, shape \(10,\): for one class out of 3 "
        r"use Softmax with CrossEntropy",
    ),
    "CrossEntropy on sigmoid outputs": (
        lambda: nn.mlp([4, 5, 3], output="sigmoid", seed=0).fit(
            X, y, loss="cross_entropy", epochs=1
        ),
        ValueError,
        r"CrossEntropy\(\) expects probabilities that sum to 1 over the outputs \(a final "
        r"Softmax\), but the model ends with Sigmoid",
    ),
    "CrossEntropy on raw scores": (
        lambda: nn.mlp([4, 5, 3], output="identity", seed=0).fit(
            X, y, loss="cross_entropy", epochs=1
        ),
        ValueError,
        r"CrossEntropy\(\) expects probabilities from a final Softmax, but the model ends with "
        r"Identity \(raw scores\): add Softmax\(\) at the end, or use "
        r"CrossEntropy\(from_logits=True\)",
    ),
    "CrossEntropy(from_logits=True) on softmax outputs": (
        lambda: model().fit(X, y, loss=nn.CrossEntropy(from_logits=True), epochs=1),
        ValueError,
        r"CrossEntropy\(from_logits=True\) expects raw scores \(logits\), but the model ends "
        r"with Softmax",
    ),
    "CrossEntropy on one output": (
        lambda: nn.mlp([4, 5, 1], output="sigmoid", seed=0).fit(
            X, y % 2, loss="cross_entropy", epochs=1
        ),
        ValueError,
        r"CrossEntropy\(from_logits=False\) needs one output per class \(at least 2\), but the "
        r"model has 1 output: for two classes end with Dense\(n, 1\) and Sigmoid\(\) and use "
        r"BinaryCrossEntropy\(\)",
    ),
    "CrossEntropy with real-valued targets": (
        lambda: model().fit(X, X[:, :3], epochs=1),
        ValueError,
        r"y for CrossEntropy must be class labels \(n_samples,\) or one-hot rows "
        r"\(probabilities summing to 1\), got rows with values in .* for other targets use "
        r"MeanSquaredError",
    ),
}


# The losses that do fit their outputs keep training: (model, y, loss).
FITTING_LOSSES = {
    "Nielsen: sigmoid outputs, quadratic cost, class labels": (
        lambda: nn.mlp([4, 5, 3], "sigmoid", "sigmoid", seed=0),
        y,
        "mse",
    ),
    "softmax and cross-entropy": (lambda: model(), y, "cross_entropy"),
    "logits and CrossEntropy(from_logits=True)": (
        lambda: nn.mlp([4, 5, 3], output="identity", seed=0),
        y,
        nn.CrossEntropy(from_logits=True),
    ),
    "a logit and BinaryCrossEntropy(from_logits=True)": (
        lambda: nn.mlp([4, 5, 1], output="identity", seed=0),
        y % 2,
        nn.BinaryCrossEntropy(from_logits=True),
    ),
    "sigmoid and binary cross-entropy": (
        lambda: nn.mlp([4, 5, 1], output="sigmoid", seed=0),
        y % 2,
        "binary_cross_entropy",
    ),
    "multi-label sigmoid outputs, binary cross-entropy on one-hot rows": (
        lambda: nn.mlp([4, 5, 3], output="sigmoid", seed=0),
        np.eye(3)[y],
        "binary_cross_entropy",
    ),
    "regression: identity and the quadratic cost": (
        lambda: nn.mlp([4, 5, 2], output="identity", seed=0),
        X[:, :2],
        "mse",
    ),
    "softmax with soft targets": (lambda: model(), np.full((10, 3), 1 / 3), "cross_entropy"),
}


@pytest.mark.parametrize("case", FITTING_LOSSES)
def test_a_loss_that_fits_the_output_trains(case):
    make, targets, loss = FITTING_LOSSES[case]
    history = make().fit(X, targets, loss=loss, epochs=2, batch_size=5, seed=0)
    assert np.isfinite(history["loss"]).all()


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gets_a_clear_error(case):
    call, error, message = CASES[case]
    with pytest.raises(error, match=message):
        call()
