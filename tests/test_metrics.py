"""numpynn.metrics: the confusion matrix and per-class precision and recall."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numpynn.metrics import confusion_matrix, precision_recall


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    y_true = [0, 0, 1, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 2, 2]
    C = confusion_matrix(y_true, y_pred)
    assert C.dtype == np.int64
    assert C.tolist() == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]


def test_confusion_matrix_keeps_classes_that_never_occur():
    C = confusion_matrix([0, 0], [0, 0], n_classes=3)
    assert C.shape == (3, 3)
    assert C.sum() == 2


def test_precision_recall_of_a_worked_example():
    # class 1: predicted 3 times (2 right) -> precision 2/3; 3 true samples, 2 found -> 2/3.
    C = confusion_matrix([0, 0, 1, 1, 1, 2], [0, 1, 1, 1, 2, 2])
    pr = precision_recall(C)
    np.testing.assert_allclose(pr["precision"], [1.0, 2 / 3, 1 / 2])
    np.testing.assert_allclose(pr["recall"], [1 / 2, 2 / 3, 1.0])
    np.testing.assert_allclose(pr["f1"], [2 / 3, 2 / 3, 2 / 3])
    assert pr["support"].tolist() == [2, 3, 1]


def test_a_class_never_predicted_has_precision_zero_not_nan():
    pr = precision_recall(confusion_matrix([0, 1], [0, 0], n_classes=3))
    assert pr["precision"].tolist() == [0.5, 0.0, 0.0]
    assert pr["recall"].tolist() == [1.0, 0.0, 0.0]
    assert np.isfinite(pr["f1"]).all()


@pytest.mark.parametrize(
    ("y_true", "y_pred", "n_classes", "error"),
    [
        ([0, 1], [0], None, ValueError),  # different lengths
        ([0, 1.5], [0, 1], None, TypeError),  # not integer labels
        ([0, -1], [0, 1], None, ValueError),  # negative label
        ([0, 3], [0, 1], 3, ValueError),  # label outside n_classes
        ([[0, 1]], [[0, 1]], None, ValueError),  # not 1-D
    ],
)
def test_bad_labels_get_a_clear_error(y_true, y_pred, n_classes, error):
    with pytest.raises(error, match=r"y_|labels"):
        confusion_matrix(y_true, y_pred, n_classes)


def test_precision_recall_needs_a_square_integer_matrix():
    with pytest.raises(ValueError, match="square integer"):
        precision_recall(np.ones((2, 3), dtype=int))


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=60))
def test_totals_agree_with_the_labels(pairs):
    y_true, y_pred = map(np.array, zip(*pairs, strict=True))
    C = confusion_matrix(y_true, y_pred, n_classes=5)
    assert C.sum() == len(pairs)
    assert np.trace(C) == np.sum(y_true == y_pred)
    pr = precision_recall(C)
    # Recall weighted by support is the accuracy.
    assert np.isclose(pr["recall"] @ pr["support"] / len(pairs), np.mean(y_true == y_pred))
