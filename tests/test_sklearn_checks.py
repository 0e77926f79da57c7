"""scikit-learn's own estimator checks, run on both estimators."""

from __future__ import annotations

import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import (
    check_sample_weight_equivalence_on_dense_data,
    parametrize_with_checks,
)

from numpynn.sklearn import NumpyNNClassifier, NumpyNNRegressor

EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "alpha is MLPClassifier's L2 penalty, (alpha / 2) ||W||^2 / batch_size: repeating samples "
        "changes the batch size and so the penalty. With alpha=0 the check passes "
        "(test_sample_weight_equals_repetition_without_l2)."
    ),
}


def expected_failed_checks(estimator: object) -> dict[str, str]:
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks(
    [NumpyNNClassifier(random_state=0), NumpyNNRegressor(random_state=0)],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator: object, check: object) -> None:
    with warnings.catch_warnings():
        # the checks' tiny data sets do not always converge in the default 200 epochs
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)  # type: ignore[operator]


@pytest.mark.parametrize("estimator", [NumpyNNClassifier, NumpyNNRegressor])
def test_sample_weight_equals_repetition_without_l2(estimator: type) -> None:
    """Integer weights act like repeated samples (the check data fits in one batch)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check_sample_weight_equivalence_on_dense_data(
            estimator.__name__, estimator(alpha=0.0, random_state=0)
        )
