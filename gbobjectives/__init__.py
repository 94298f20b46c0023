"""gbobjectives: exact, stable custom training objectives for XGBoost and LightGBM.

>>> import gbobjectives as gbo
>>> loss = gbo.FocalLoss(gamma=2.0)
>>> grad, hess = loss.gradient_hessian([1, 0], [0.3, -1.2])
"""

from gbobjectives.checks import AuditResult, check_gradients
from gbobjectives.losses import (
    LOSSES,
    FocalLoss,
    HuberLoss,
    LogCoshLoss,
    Loss,
    MulticlassFocalLoss,
    PseudoHuberLoss,
    QuantileLoss,
    WeightedLogLoss,
    class_balanced_weights,
)

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
    "class_balanced_weights",
    "check_gradients",
    "AuditResult",
    "LOSSES",
    "__version__",
]
