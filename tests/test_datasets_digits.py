"""scikit-learn's 8x8 digits and split_validation."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from numpynn.datasets import load_digits, split_validation
from numpynn.errors import ShapeError


def test_digits_shapes_scale_and_fixed_split() -> None:
    (X, y), (X_test, y_test) = load_digits()
    assert X.shape == (1438, 64) and X_test.shape == (359, 64)
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    # About 20% of each class in the test set.
    fraction = np.bincount(y_test) / (np.bincount(y) + np.bincount(y_test))
    assert np.all(np.abs(fraction - 0.2) < 0.01)
    (X_again, _), (X_test_again, _) = load_digits()
    np.testing.assert_array_equal(X_again, X)
    np.testing.assert_array_equal(X_test_again, X_test)


def test_digits_without_scikit_learn_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        load_digits()


def test_split_validation_holds_out_n_rows() -> None:
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    (X_tr, y_tr), (X_val, y_val) = split_validation(X, y, 3, seed=1)
    assert X_tr.shape == (7, 2) and X_val.shape == (3, 2)
    assert sorted(np.concatenate([y_tr, y_val]).tolist()) == list(range(10))
    np.testing.assert_array_equal(X_val[:, 0] // 2, y_val)  # rows stay paired
    (_, _), (_, y_val_again) = split_validation(X, y, 3, seed=1)
    np.testing.assert_array_equal(y_val_again, y_val)
    (_, _), (_, y_val_other) = split_validation(X, y, 3, seed=2)
    assert y_val_other.tolist() != y_val.tolist()


def test_split_validation_without_seed_takes_the_last_rows() -> None:
    X = np.zeros((10, 28, 28))
    (_, y_tr), (X_val, y_val) = split_validation(X, np.arange(10), 4, seed=None)
    assert y_tr.tolist() == [0, 1, 2, 3, 4, 5] and y_val.tolist() == [6, 7, 8, 9]
    assert X_val.shape == (4, 28, 28)


def test_split_validation_accepts_a_generator() -> None:
    X, y = np.zeros((10, 1)), np.arange(10)
    a = split_validation(X, y, 2, seed=np.random.default_rng(5))[1][1]
    b = split_validation(X, y, 2, seed=np.random.default_rng(5))[1][1]
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((np.zeros((5, 2)), np.zeros(4), 1), {}, ShapeError, "same number of samples"),
        ((np.zeros((5, 2)), np.zeros(5), 5), {}, ValueError, "less than the number of samples"),
        ((np.zeros((5, 2)), np.zeros(5), 0), {}, ValueError, "positive integer"),
        ((np.zeros((5, 2)), np.zeros(5), 1.5), {}, TypeError, "positive integer"),
        ((np.zeros((5, 2)), np.zeros(5), 1), {"seed": "x"}, TypeError, "seed must be"),
        ((np.float64(1), np.zeros(5), 1), {}, ShapeError, "arrays of samples"),
    ],
)
def test_split_validation_rejects_bad_input(args, kwargs, error, message: str) -> None:
    with pytest.raises(error, match=message):
        split_validation(*args, **kwargs)
