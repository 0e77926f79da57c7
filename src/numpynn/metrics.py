"""Classification metrics from true and predicted class labels (NumPy only).

The confusion matrix C has C[i, j] = number of samples of true class i predicted as class j.
From it, for each class k: precision = C[k, k] / sum_i C[i, k] (of the samples predicted k, the
fraction that are k), recall = C[k, k] / sum_j C[k, j] (of the samples of class k, the fraction
found), F1 = 2 * precision * recall / (precision + recall). A ratio with a zero denominator
(a class never predicted, or absent) is reported as 0.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ._typing import Array


def confusion_matrix(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, n_classes: int | None = None
) -> Array:
    """C: (n_classes, n_classes) int64, rows true class, columns predicted class.

    y_true, y_pred: (n_samples,) integer labels in [0, n_classes). ``n_classes`` defaults to
    1 + the largest label seen.

    Parameters
    ----------
    y_true : array_like
        (n_samples,) true class labels, integers >= 0.
    y_pred : array_like
        (n_samples,) predicted class labels, integers >= 0.
    n_classes : int, optional
        The number of classes; default 1 + the largest label.

    Returns
    -------
    ndarray
        C, (n_classes, n_classes) int64 counts.

    Raises
    ------
    TypeError
        For labels that are not integers.
    ValueError
        For labels that are not 1-D, negative or >= n_classes, or of different lengths.
    """
    y_true = _labels("y_true", y_true)
    y_pred = _labels("y_pred", y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same length, got {len(y_true)} and {len(y_pred)}"
        )
    largest = int(max(y_true.max(initial=-1), y_pred.max(initial=-1)))
    if n_classes is None:
        n_classes = largest + 1
    elif largest >= n_classes:
        raise ValueError(f"labels must lie in [0, {n_classes - 1}], got the label {largest}")
    counts = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes).astype(np.int64)


def precision_recall(C: npt.ArrayLike) -> dict[str, Array]:
    """Per-class "precision", "recall", "f1" (float64) and "support" (int64, true samples per
    class), each of shape (n_classes,), from a confusion matrix C: (n_classes, n_classes).

    Parameters
    ----------
    C : array_like
        A confusion matrix, (n_classes, n_classes) integers, rows true class, columns
        predicted class (:func:`confusion_matrix`).

    Returns
    -------
    dict of str to ndarray
        ``"precision"``, ``"recall"``, ``"f1"`` (float64; 0 where undefined) and
        ``"support"`` (int64), each (n_classes,).

    Raises
    ------
    ValueError
        For a C that is not a square integer matrix.
    """
    C = np.asarray(C)
    if C.ndim != 2 or C.shape[0] != C.shape[1] or not np.issubdtype(C.dtype, np.integer):
        raise ValueError(f"C must be a square integer matrix, got dtype {C.dtype} shape {C.shape}")
    correct = np.diag(C).astype(np.float64)
    predicted = C.sum(axis=0)
    support = C.sum(axis=1)
    precision = _ratio(correct, predicted)
    recall = _ratio(correct, support)
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64)}


def _ratio(numerator: Array, denominator: Array) -> Array:
    """numerator / denominator, 0 where the denominator is 0."""
    out = np.zeros(len(numerator), dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _labels(name: str, y: npt.ArrayLike) -> Array:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D class labels (n_samples,), got shape {y.shape}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if y.size and y.min() < 0:
        raise ValueError(f"{name} must hold labels >= 0, got {y.min()}")
    return y.astype(np.int64)
