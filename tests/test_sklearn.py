"""The scikit-learn estimators: conventions, model selection, and what MLPClassifier lacks."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import recall_score
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import numpynn as nn
from numpynn.sklearn import NumpyNNClassifier, NumpyNNRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, ...]:
    """8x8 digits: X (1797, 64) float64 in [0, 16], split 75/25."""
    X, y = load_digits(return_X_y=True)
    return tuple(train_test_split(X, y, test_size=0.25, random_state=0, stratify=y))


def blobs(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(
        n_samples=n, n_features=6, n_informative=4, n_classes=3, random_state=seed
    )
    return X, y


# --- scikit-learn model selection ----------------------------------------------------------


def test_pipeline_with_standard_scaler_learns_digits(digits: tuple) -> None:
    X_train, X_test, y_train, y_test = digits
    pipe = make_pipeline(StandardScaler(), NumpyNNClassifier((64,), max_iter=100, random_state=0))
    pipe.fit(X_train, y_train)
    assert pipe.score(X_test, y_test) > 0.95


def test_cross_val_score_gives_one_good_score_per_fold(digits: tuple) -> None:
    X_train, _, y_train, _ = digits
    clf = NumpyNNClassifier((32,), max_iter=40, batch_size=32, random_state=0)
    scores = cross_val_score(make_pipeline(StandardScaler(), clf), X_train, y_train, cv=3)
    assert scores.shape == (3,)
    assert scores.min() > 0.9


def test_grid_search_tries_every_candidate_and_refits_the_best(digits: tuple) -> None:
    X_train, X_test, y_train, y_test = digits
    grid = {"hidden_layer_sizes": [(4,), (64,)], "learning_rate": [1e-3, 1e-2]}
    search = GridSearchCV(NumpyNNClassifier(max_iter=15, random_state=0), grid, cv=2)
    search.fit(X_train / 16, y_train)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_params_["hidden_layer_sizes"] == (64,)  # 4 hidden units are too few
    assert search.best_estimator_.model_.dense_layers[0].n_out == 64
    assert search.score(X_test / 16, y_test) > 0.9


def test_get_params_lists_every_hyper_parameter_and_set_params_changes_it() -> None:
    clf = NumpyNNClassifier(dropout=0.2, class_weight="balanced")
    params = clf.get_params()
    assert params["dropout"] == 0.2 and params["class_weight"] == "balanced"
    assert {"callbacks", "validation_fraction", "activation", "random_state"} <= set(params)
    assert clf.set_params(max_iter=7).max_iter == 7


# --- fitted state --------------------------------------------------------------------------


def test_fitted_attributes() -> None:
    X, y = blobs()
    clf = NumpyNNClassifier((10,), max_iter=12, random_state=0).fit(X, y)
    assert list(clf.classes_) == [0, 1, 2]
    assert clf.n_features_in_ == 6
    assert clf.n_iter_ == len(clf.loss_curve_) <= 12
    assert clf.validation_loss_curve_ is None  # no validation split asked for
    assert clf.predict_proba(X).shape == (300, 3)
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)
    assert isinstance(clf.model_, nn.Sequential)


def test_string_class_labels_come_back_from_predict() -> None:
    X, y = blobs()
    names = np.array(["cat", "dog", "emu"])[y]
    clf = NumpyNNClassifier((16,), max_iter=50, batch_size=32, random_state=0).fit(X, names)
    assert list(clf.classes_) == ["cat", "dog", "emu"]
    assert set(clf.predict(X)) <= {"cat", "dog", "emu"}
    assert clf.score(X, names) > 0.8


def test_same_random_state_gives_identical_models() -> None:
    X, y = blobs()
    a = NumpyNNClassifier((8,), max_iter=5, dropout=0.3, random_state=3).fit(X, y)
    b = NumpyNNClassifier((8,), max_iter=5, dropout=0.3, random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_training_stops_when_the_loss_stops_improving() -> None:
    X, y = blobs()
    clf = NumpyNNClassifier((8,), max_iter=500, tol=0.1, n_iter_no_change=2, random_state=0)
    clf.fit(X, y)
    assert clf.n_iter_ < 500


def test_max_iter_reached_warns_convergence_warning() -> None:
    X, y = blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning, match="max_iter=2"):
            NumpyNNClassifier((8,), max_iter=2, random_state=0).fit(X, y)


# --- float32 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("X_dtype", "model_dtype"),
    [(np.float32, np.float32), (np.float64, np.float64), (np.int64, np.float64)],
)
def test_model_floating_type_follows_X(X_dtype: Any, model_dtype: Any) -> None:
    X, y = blobs()
    X = (X * 10).astype(X_dtype)
    clf = NumpyNNClassifier((8,), max_iter=3, random_state=0).fit(X, y)
    assert all(p.dtype == model_dtype for p in clf.model_.parameters())
    assert clf.predict_proba(X).dtype == model_dtype


def test_float32_regressor_predicts_float32() -> None:
    X, y = make_regression(n_samples=100, n_features=4, random_state=0)
    reg = NumpyNNRegressor((8,), max_iter=3, random_state=0).fit(X.astype(np.float32), y)
    assert reg.model_.dtype == np.float32
    assert reg.predict(X.astype(np.float32)).dtype == np.float32


# --- beyond MLPClassifier: dropout ---------------------------------------------------------


def test_dropout_adds_dropout_layers_changes_training_and_still_learns(digits: tuple) -> None:
    X_train, X_test, y_train, y_test = digits
    kwargs: dict[str, Any] = {"hidden_layer_sizes": (64, 32), "max_iter": 30, "random_state": 0}
    plain = NumpyNNClassifier(**kwargs).fit(X_train / 16, y_train)
    dropped = NumpyNNClassifier(dropout=0.3, **kwargs).fit(X_train / 16, y_train)
    rates = [layer.rate for layer in dropped.model_.layers if isinstance(layer, nn.Dropout)]
    assert rates == [0.3, 0.3]  # after each hidden layer
    assert dropped.loss_curve_ != plain.loss_curve_
    assert dropped.score(X_test / 16, y_test) > 0.9


# --- beyond MLPClassifier: sample_weight and class_weight ----------------------------------


def test_zero_sample_weight_is_the_same_as_removing_the_samples() -> None:
    X, y = blobs(200)
    y_poisoned = y.copy()
    y_poisoned[:50] = (y[:50] + 1) % 3  # wrong labels on the first 50 samples ...
    weights = np.r_[np.zeros(50), np.ones(150)]  # ... which get weight 0
    kwargs: dict[str, Any] = {"hidden_layer_sizes": (8,), "max_iter": 40, "random_state": 0}
    kwargs.update(batch_size=200, alpha=0.0)  # full batch: the same gradient steps
    weighted = NumpyNNClassifier(**kwargs).fit(X, y_poisoned, sample_weight=weights)
    removed = NumpyNNClassifier(**kwargs).fit(X[50:], y[50:])
    np.testing.assert_allclose(weighted.predict_proba(X), removed.predict_proba(X), atol=1e-9)


def test_zero_sample_weight_protects_against_wrong_labels_in_mini_batches() -> None:
    X, y = blobs(600)
    X_test, y_test = X[400:], y[400:]
    y_poisoned = y[:400].copy()
    y_poisoned[:200] = (y[:200] + 1) % 3
    kwargs: dict[str, Any] = {"hidden_layer_sizes": (16,), "max_iter": 60, "batch_size": 32}
    poisoned = NumpyNNClassifier(random_state=0, **kwargs).fit(X[:400], y_poisoned)
    weights = np.r_[np.zeros(200), np.ones(200)]
    ignored = NumpyNNClassifier(random_state=0, **kwargs).fit(
        X[:400], y_poisoned, sample_weight=weights
    )
    assert ignored.score(X_test, y_test) > poisoned.score(X_test, y_test) + 0.2


@pytest.mark.parametrize("seed", [0, 1])
def test_balanced_class_weight_improves_minority_recall(seed: int) -> None:
    X, y = make_classification(
        n_samples=1000, n_features=10, weights=[0.95, 0.05], class_sep=0.5, random_state=seed
    )
    kwargs: dict[str, Any] = {"hidden_layer_sizes": (16,), "max_iter": 50, "random_state": 0}
    recall = {
        str(cw): recall_score(
            y[700:],
            NumpyNNClassifier(class_weight=cw, **kwargs).fit(X[:700], y[:700]).predict(X[700:]),
        )
        for cw in (None, "balanced")
    }
    assert recall["balanced"] > recall["None"] + 0.3


def test_class_weight_dict_equals_the_matching_sample_weights() -> None:
    X, y = blobs()
    kwargs: dict[str, Any] = {"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0}
    by_class = NumpyNNClassifier(class_weight={0: 1.0, 1: 3.0, 2: 0.5}, **kwargs).fit(X, y)
    by_sample = NumpyNNClassifier(**kwargs).fit(X, y, sample_weight=np.array([1.0, 3.0, 0.5])[y])
    np.testing.assert_allclose(by_class.predict_proba(X), by_sample.predict_proba(X), rtol=1e-10)


def test_bad_sample_weight_raises_value_error_naming_it() -> None:
    X, y = blobs()
    with pytest.raises(ValueError, match="sample_weight must have shape"):
        NumpyNNClassifier(max_iter=1).fit(X, y, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match=r"sample_weight.*>= 0"):
        NumpyNNClassifier(max_iter=1).fit(X, y, sample_weight=-np.ones(len(y)))


# --- beyond MLPClassifier: per-layer activations -------------------------------------------


def test_one_activation_per_hidden_layer_builds_those_layers() -> None:
    X, y = blobs()
    clf = NumpyNNClassifier((8, 6, 4), ["tanh", "leaky_relu", "sigmoid"], max_iter=2)
    clf.fit(X, y)
    kinds = [type(layer).__name__ for layer in clf.model_.layers]
    assert kinds == ["Dense", "Tanh", "Dense", "LeakyReLU", "Dense", "Sigmoid", "Dense", "Softmax"]
    assert [d.init for d in clf.model_.dense_layers] == ["xavier", "he", "xavier", "xavier"]


def test_activation_list_of_the_wrong_length_raises_value_error() -> None:
    X, y = blobs()
    with pytest.raises(ValueError, match=r"list of 2 names \(one per hidden layer\)"):
        NumpyNNClassifier((8, 4), ["tanh"]).fit(X, y)


# --- beyond MLPClassifier: validation loss curve and callbacks -----------------------------


def test_validation_loss_curve_has_one_value_per_epoch() -> None:
    X, y = blobs()
    clf = NumpyNNClassifier((8,), max_iter=15, validation_fraction=0.2, random_state=0)
    clf.fit(X, y)
    assert clf.validation_loss_curve_ is not None
    assert len(clf.validation_loss_curve_) == len(clf.loss_curve_) == clf.n_iter_ == 15
    assert clf.validation_loss_curve_[-1] < clf.validation_loss_curve_[0]


def test_early_stopping_stops_on_the_validation_loss_and_keeps_the_best_weights() -> None:
    X, y = blobs(200)
    clf = NumpyNNClassifier(
        (256,), max_iter=1000, learning_rate=0.01, early_stopping=True, n_iter_no_change=5,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    curve = clf.validation_loss_curve_
    assert curve is not None and clf.n_iter_ < 1000
    best = int(np.argmin(curve))
    assert best == clf.n_iter_ - 1 - 5  # 5 epochs without improvement after the best one


class Recorder(nn.Callback):
    def __init__(self, stop_after: int | None = None) -> None:
        self.epochs: list[int] = []
        self.stop_after = stop_after

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.epochs.append(epoch)
        assert "loss" in logs
        if self.stop_after is not None and epoch + 1 == self.stop_after:
            self.model.stop_training = True


def test_callbacks_are_called_every_epoch() -> None:
    X, y = blobs()
    recorder = Recorder()
    clf = NumpyNNClassifier((8,), max_iter=6, callbacks=[recorder], random_state=0).fit(X, y)
    assert recorder.epochs == list(range(clf.n_iter_)) == list(range(6))


def test_a_callback_can_stop_training() -> None:
    X, y = blobs()
    clf = NumpyNNClassifier((8,), max_iter=100, callbacks=[Recorder(stop_after=3)]).fit(X, y)
    assert clf.n_iter_ == 3


def test_callbacks_that_are_not_callbacks_raise_type_error() -> None:
    X, y = blobs()
    with pytest.raises(TypeError, match=r"numpynn\.Callback"):
        NumpyNNClassifier(callbacks=[print]).fit(X, y)


# --- partial_fit ---------------------------------------------------------------------------


def test_partial_fit_continues_training_one_epoch_per_call() -> None:
    X, y = blobs()
    clf = NumpyNNClassifier((16,), batch_size=32, random_state=0)
    clf.partial_fit(X[:150], y[:150], classes=[0, 1, 2])
    first = clf.model_.dense_layers[0].W.copy()
    for _ in range(20):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == len(clf.loss_curve_) == 21
    assert clf.loss_curve_[-1] < clf.loss_curve_[1]
    assert not np.array_equal(first, clf.model_.dense_layers[0].W)
    assert clf.score(X, y) > 0.7


def test_partial_fit_needs_classes_on_the_first_call() -> None:
    X, y = blobs()
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        NumpyNNClassifier().partial_fit(X, y)


def test_partial_fit_rejects_unknown_labels() -> None:
    X, y = blobs()
    clf = NumpyNNClassifier().partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"labels \[7\] not in classes"):
        clf.partial_fit(X[:2], [7, 0])


# --- hyper-parameter errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"hidden_layer_sizes": 10}, TypeError, r"sequence of layer widths, e.g. \(10,\)"),
        ({"hidden_layer_sizes": (10, 0)}, ValueError, "positive integers"),
        ({"activation": "logistic"}, ValueError, "activation must be one of"),
        ({"optimizer": "lbfgs"}, ValueError, "optimizer must be one of"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer or 'auto'"),
        ({"dropout": 1.0}, ValueError, r"dropout must be in \[0, 1\)"),
        ({"learning_rate": -1.0}, ValueError, "lr must be a finite number > 0"),
        ({"early_stopping": True, "validation_fraction": 0.0}, ValueError, "validation_fraction"),
        ({"class_weight": "most"}, ValueError, "class_weight"),
    ],
)
def test_bad_hyper_parameter_raises_at_fit_naming_it(
    params: dict[str, Any], error: type, match: str
) -> None:
    X, y = blobs()
    clf = NumpyNNClassifier(**params)  # scikit-learn convention: __init__ only stores
    with pytest.raises(error, match=match):
        clf.fit(X, y)


def test_one_class_raises_value_error() -> None:
    with pytest.raises(ValueError, match="at least 2 classes, got one class"):
        NumpyNNClassifier().fit(np.ones((5, 2)), np.zeros(5))


# --- regressor -----------------------------------------------------------------------------


def test_regressor_fits_a_smooth_function() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(500, 1))
    y = np.sin(X[:, 0])
    reg = NumpyNNRegressor((32, 32), "tanh", max_iter=300, learning_rate=0.01, random_state=0)
    reg.fit(X, y)
    assert reg.predict(X).shape == (500,)
    assert reg.score(X, y) > 0.95


def test_regressor_predicts_every_output() -> None:
    X, Y = make_regression(n_samples=200, n_features=5, n_targets=3, random_state=0)
    reg = NumpyNNRegressor((16,), max_iter=200, learning_rate=0.01, random_state=0)
    reg.fit(X, Y / Y.std())
    assert reg.predict(X).shape == (200, 3)
    assert reg.score(X, Y / Y.std()) > 0.9


def test_regressor_partial_fit_keeps_the_number_of_outputs() -> None:
    X, Y = make_regression(n_samples=50, n_features=3, n_targets=2, random_state=0)
    reg = NumpyNNRegressor((4,)).partial_fit(X, Y)
    with pytest.raises(ValueError, match="2 output"):
        reg.partial_fit(X, Y[:, 0])


def test_adamw_is_refused_with_the_reason() -> None:
    from numpynn.sklearn import NumpyNNClassifier

    with pytest.raises(ValueError, match="decoupled weight decay is not the L2 penalty alpha"):
        NumpyNNClassifier(optimizer="adamw").fit(np.zeros((4, 2)), [0, 1, 0, 1])
