"""scikit-learn's own estimator checks, for both estimators on both engines.

Expected failures (and why) are listed in ``EXPECTED_FAILED``; everything else must pass.
"""

from __future__ import annotations

import pytest

pytest.importorskip("xgboost")
pytest.importorskip("lightgbm")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from gbobjectives import BoostedClassifier, BoostedRegressor  # noqa: E402

_FLOAT32_REFIT = (
    "the default HuberLoss refits each leaf to its weighted Huber M-estimate after the tree is grown; "
    "XGBoost stores leaf values in float32, and the weighted solve and the repeated-rows solve differ "
    "in the last float32 bit (measured 0.54195923 vs 0.54195917, 1 ulp), above the check's rtol=1e-7"
)

#: (estimator class name, engine) -> {check name: reason}
#: (The XGBoost classifier used to fail the weight-equivalence checks by float32 rounding of
#: float64 gradients; the adapters now compute in float32, where a weight of 2 doubles the
#: gradient exactly, so a weighted row and two repeated rows give the same bits and it passes.)
EXPECTED_FAILED: dict[tuple[str, str], dict[str, str]] = {
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
