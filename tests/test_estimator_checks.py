"""scikit-learn's own estimator checks, for both estimators on every installed engine.

Expected failures (and why) are listed in ``EXPECTED_FAILED``; everything else must pass.
"""

from __future__ import annotations

import pytest

pytest.importorskip("xgboost")
pytest.importorskip("lightgbm")

import importlib.util  # noqa: E402

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from gbobjectives import BoostedClassifier, BoostedRegressor  # noqa: E402

_FLOAT32_REFIT = (
    "the default HuberLoss refits each leaf to its weighted Huber M-estimate after the tree is grown; "
    "XGBoost stores leaf values in float32, and the weighted solve and the repeated-rows solve differ "
    "in the last float32 bit (measured 0.54195923 vs 0.54195917, 1 ulp), above the check's rtol=1e-7"
)

_FLOAT32_GRADIENTS = (
    "XGBoost stores gradients as float32 and sums them in double: a row of integer weight k (the check "
    "draws k in 0..4) contributes round32(k*g), its k repeated copies k*round32(g) exactly; for k = 3 "
    "these differ in the last float32 bit, and after 10 rounds predict_proba differs by ~2e-7 relative "
    "(measured 0.062914956 vs 0.062914942 with the 3-class softmax kernel), above the check's rtol=1e-7. "
    "Whether a given kernel's rounding pattern happens to pass is luck, so the entry is non-strict"
)

_CATBOOST_WEIGHTS = (
    "CatBoost does not treat an integer sample weight k as k repeated rows: its own CatBoostClassifier / "
    "CatBoostRegressor fail this check too (measured: predictions differ by up to 0.19 / 0.35 after 10 "
    "iterations, 1.85 with bootstrap_type='No', random_strength=0), so the custom objective cannot pass it"
)

#: (estimator class name, engine) -> {check name: reason}
EXPECTED_FAILED: dict[tuple[str, str], dict[str, str]] = {
    ("BoostedClassifier", "xgboost"): {
        "check_sample_weight_equivalence_on_dense_data": _FLOAT32_GRADIENTS,
        "check_sample_weight_equivalence_on_sparse_data": _FLOAT32_GRADIENTS,
    },
    ("BoostedRegressor", "xgboost"): {
        "check_sample_weight_equivalence_on_dense_data": _FLOAT32_REFIT,
        "check_sample_weight_equivalence_on_sparse_data": _FLOAT32_REFIT,
    },
    **{
        (name, "catboost"): {
            "check_sample_weight_equivalence_on_dense_data": _CATBOOST_WEIGHTS,
            "check_sample_weight_equivalence_on_sparse_data": _CATBOOST_WEIGHTS,
        }
        for name in ("BoostedClassifier", "BoostedRegressor")
    },
}

ENGINES = ("xgboost", "lightgbm") + (("catboost",) if importlib.util.find_spec("catboost") else ())

ESTIMATORS = [
    cls(engine=engine, n_estimators=10, n_jobs=1, random_state=0)
    for cls in (BoostedClassifier, BoostedRegressor)
    for engine in ENGINES
]


def expected_failed_checks(estimator) -> dict[str, str]:
    return EXPECTED_FAILED.get((type(estimator).__name__, estimator.engine), {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
