"""gbobjectives: exact, stable custom training objectives for XGBoost, LightGBM and CatBoost.

>>> import gbobjectives as gbo
>>> loss = gbo.FocalLoss(gamma=2.0)
>>> grad, hess = loss.gradient_hessian([1, 0], [0.3, -1.2])
"""

# the engine modules register their adapters (gbobjectives/_engine_hooks.py) and import their engine lazily
from gbobjectives import catboost, engines, lightgbm, metrics, xgboost  # noqa: F401
from gbobjectives._config import show_config
from gbobjectives.checks import AuditResult, check_gradients
from gbobjectives.losses import (  # noqa: F401 - the loss classes are exported from the registry below
    LOSSES,
    BinaryLoss,
    FocalLoss,
    HuberLoss,
    LogCoshLoss,
    Loss,
    MulticlassFocalLoss,
    MulticlassLoss,
    PseudoHuberLoss,
    QuantileLoss,
    RegressionLoss,
    WeightedLogLoss,
    class_balanced_weights,
)
from gbobjectives.metrics import (
    MAPE,
    SMAPE,
    IntervalCoverage,
    LogLossHit,
    LossMetric,
    Metric,
    PriorLogLoss,
    QuantilePinball,
)
from gbobjectives.sklearn import BoostedClassifier, BoostedRegressor, load_model

__version__ = "0.1.0"

# every shipped loss class, read from the loss registry: a new loss needs no edit here
globals().update(LOSSES)

__all__ = [
    "Loss",
    "BinaryLoss",
    "MulticlassLoss",
    "RegressionLoss",
    *LOSSES,
    "class_balanced_weights",
    "check_gradients",
    "AuditResult",
    "LOSSES",
    "BoostedClassifier",
    "BoostedRegressor",
    "load_model",
    "Metric",
    "LossMetric",
    "MAPE",
    "SMAPE",
    "PriorLogLoss",
    "LogLossHit",
    "QuantilePinball",
    "IntervalCoverage",
    "xgboost",
    "lightgbm",
    "catboost",
    "metrics",
    "show_config",
    "__version__",
]
