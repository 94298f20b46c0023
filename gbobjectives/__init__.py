"""gbobjectives: exact, stable custom training objectives for XGBoost, LightGBM and CatBoost.

>>> import gbobjectives as gbo
>>> loss = gbo.FocalLoss(gamma=2.0)
>>> grad, hess = loss.gradient_hessian([1, 0], [0.3, -1.2])
"""

from gbobjectives import catboost, lightgbm, metrics, xgboost  # engine modules import their engine lazily
from gbobjectives.checks import AuditResult, check_gradients
from gbobjectives.losses import (
    LOSSES,
    AbsoluteErrorLoss,
    ExpectileLoss,
    FocalLoss,
    HuberLoss,
    LogCoshLoss,
    Loss,
    MulticlassFocalLoss,
    PseudoHuberLoss,
    QuantileLoss,
    RelativeErrorLoss,
    WeightedLogLoss,
    class_balanced_weights,
)
from gbobjectives.metrics import MAPE, SMAPE, LogLossHit, LossMetric, Metric, PriorLogLoss
from gbobjectives.sklearn import BoostedClassifier, BoostedRegressor, load_model

__version__ = "0.1.0"

__all__ = [
    "Loss",
    "FocalLoss",
    "MulticlassFocalLoss",
    "WeightedLogLoss",
    "HuberLoss",
    "PseudoHuberLoss",
    "LogCoshLoss",
    "QuantileLoss",
    "AbsoluteErrorLoss",
    "RelativeErrorLoss",
    "ExpectileLoss",
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
    "xgboost",
    "lightgbm",
    "catboost",
    "metrics",
    "__version__",
]
