"""Adapters for the scikit-learn APIs of both engines (XGBClassifier/Regressor, LGBMClassifier/Regressor).

Measured facts (XGBoost 3.2, LightGBM 4.7; tested in ``tests/test_engines_sklearn.py``):

* ``objective=callable`` - XGBoost passes ``sample_weight=`` as a KEYWORD, only when weights
  exist; LightGBM counts the callable's parameters (2 drops the weights silently, 3 passes
  them positionally, None without weights). ``f(y_true, y_pred, sample_weight=None)`` is the
  one signature that works for both, so that is ``loss.sklearn_objective``.
* ``eval_metric=callable`` - XGBoost wants ``f(y_true, y_pred, sample_weight=...) -> float``
  with a ``__name__`` (the metric's name); LightGBM ``f(y_true, y_pred, weight) ->
  (name, value, higher_better)``. Both hand it RAW scores when the objective is custom.
  The two small classes below are picklable, so estimators holding them survive
  ``joblib.dump`` and ``sklearn.base.clone``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gbobjectives._engine_hooks import register_adapter
from gbobjectives.engines import _common

__all__ = ["objective", "XGBoostSklearnMetric", "LightGBMSklearnMetric"]

_ENGINE = "the scikit-learn API"


def objective(
    loss: Any, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted (grad, hess), shaped like ``y_pred`` ((n,) or (n, K)), float32 (what both engines store).

    Labels are cached per label array (LightGBM passes the same one every round; XGBoost a
    fresh copy, which is then compared, not re-validated).
    """
    return _common.gradient_hessian(loss, y_pred, y_true, y_true, sample_weight, _ENGINE)


class XGBoostSklearnMetric:
    """``eval_metric=`` of ``XGBClassifier`` / ``XGBRegressor``: a float, with ``__name__``.

    Wraps a :class:`~gbobjectives.metrics.Metric` or a Loss (its weighted mean). XGBoost's
    early stopping infers the direction from ``__name__``; for a higher-is-better metric
    (``LogLossHit``) pass ``callbacks=[xgboost.callback.EarlyStopping(..., maximize=True)]``.

    Example
    -------
    >>> from gbobjectives import FocalLoss
    >>> m = XGBoostSklearnMetric(FocalLoss(gamma=2.0))
    >>> m.__name__, round(m([1, 0], [0.0, 0.0]), 6)
    ('focal(gamma=2)', 0.173287)
    """

    def __init__(self, metric: Any) -> None:
        self.metric = _common.as_metric(metric)
        self.__name__ = self.metric.name

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        engine = "XGBoost (scikit-learn API)"
        return _common.evaluate(self.metric, y_pred, y_true, y_true, sample_weight, engine)

    def __repr__(self) -> str:
        return f"XGBoostSklearnMetric({self.metric!r})"


class LightGBMSklearnMetric:
    """``eval_metric=`` of ``LGBMClassifier`` / ``LGBMRegressor``: ``(name, value, higher_better)``.

    Three parameters, so LightGBM passes the sample weights (``None`` without them).

    Example
    -------
    >>> from gbobjectives import HuberLoss
    >>> LightGBMSklearnMetric(HuberLoss())([0.0, 0.0], [0.5, 3.0])
    ('huber(delta=1)', 1.3125, False)
    """

    def __init__(self, metric: Any) -> None:
        self.metric = _common.as_metric(metric)
        self.__name__ = self.metric.name

    def __call__(self, y_true: Any, y_pred: Any, weight: Any = None) -> tuple[str, float, bool]:
        engine = "LightGBM (scikit-learn API)"
        value = _common.evaluate(self.metric, y_pred, y_true, y_true, weight, engine)
        return self.metric.name, value, bool(self.metric.higher_is_better)

    def __repr__(self) -> str:
        return f"LightGBMSklearnMetric({self.metric!r})"


# what ``loss.sklearn_objective`` / ``x.xgboost_sklearn_metric`` / ``x.lightgbm_sklearn_metric`` call
register_adapter("sklearn_objective", objective)
register_adapter("xgboost_sklearn_metric", XGBoostSklearnMetric)
register_adapter("lightgbm_sklearn_metric", LightGBMSklearnMetric)
