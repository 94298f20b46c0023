"""scikit-learn's own estimator checks, for both estimators on both engines.

Expected failures (and why) are listed in ``EXPECTED_FAILED``; everything else must pass.
"""

from __future__ import annotations

import pytest

pytest.importorskip("xgboost")
pytest.importorskip("lightgbm")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from gbobjectives import BoostedClassifier, BoostedRegressor  # noqa: E402

_FLOAT32_WEIGHTS = (
    "XGBoost accumulates gradient/Hessian sums in float32, so a row of weight 2 and two repeated rows "
    "agree only to float32 rounding (measured max abs difference 6e-8 in the raw scores), tighter than the "
    "check's rtol=1e-7/atol=1e-9; tests/test_sklearn_estimators.py checks the equivalence at 1e-5"
)

_FLOAT32_REFIT = (
    "the default HuberLoss refits each leaf to its weighted Huber M-estimate after the tree is grown; "
    "XGBoost stores leaf values in float32, and the weighted solve and the repeated-rows solve differ "
    "in the last float32 bit (measured 0.54195923 vs 0.54195917, 1 ulp), above the check's rtol=1e-7"
)

#: (estimator class name, engine) -> {check name: reason}
EXPECTED_FAILED: dict[tuple[str, str], dict[str, str]] = {
    ("BoostedClassifier", "xgboost"): {
        "check_sample_weight_equivalence_on_dense_data": _FLOAT32_WEIGHTS,
        "check_sample_weight_equivalence_on_sparse_data": _FLOAT32_WEIGHTS,
    },
    ("BoostedRegressor", "xgboost"): {
        "check_sample_weight_equivalence_on_dense_data": _FLOAT32_REFIT,
        "check_sample_weight_equivalence_on_sparse_data": _FLOAT32_REFIT,
    },
}

ESTIMATORS = [
    cls(engine=engine, n_estimators=10, n_jobs=1, random_state=0)
    for cls in (BoostedClassifier, BoostedRegressor)
    for engine in ("xgboost", "lightgbm")
]


def expected_failed_checks(estimator) -> dict[str, str]:
    return EXPECTED_FAILED.get((type(estimator).__name__, estimator.engine), {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
