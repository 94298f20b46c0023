"""All shipped losses, one module per family, sharing the base class in ``base``."""

from gbobjectives.losses.base import BinaryLoss, Loss, MulticlassLoss, RegressionLoss
from gbobjectives.losses.classification import FocalLoss, WeightedLogLoss, class_balanced_weights
from gbobjectives.losses.multiclass import MulticlassFocalLoss
from gbobjectives.losses.regression import (
    AbsoluteErrorLoss,
    ExpectileLoss,
    HuberLoss,
    LogCoshLoss,
    PseudoHuberLoss,
    QuantileLoss,
    RelativeErrorLoss,
)

#: every shipped loss class by name; the audit, the CLI and the test suite iterate over it
LOSSES: dict[str, type[Loss]] = {
    cls.__name__: cls
    for cls in (
        FocalLoss,
        MulticlassFocalLoss,
        WeightedLogLoss,
        HuberLoss,
        PseudoHuberLoss,
        LogCoshLoss,
        QuantileLoss,
        AbsoluteErrorLoss,
        RelativeErrorLoss,
        ExpectileLoss,
    )
}


def example_losses() -> list[Loss]:
    """A spread of parameter settings of every shipped loss, in every Hessian mode.

    Used by ``gbobjectives check`` and by the parametrised test suite, so a new loss
    added here is audited and tested everywhere.
    """
    out: list[Loss] = []
    for h in FocalLoss.hessian_options:
        out += [FocalLoss(gamma=g, alpha=a, hessian=h) for g in (0.0, 0.5, 2.0, 5.0) for a in (None, 0.25)]
        out += [
            MulticlassFocalLoss(gamma=g, alpha=a, hessian=h) for g in (0.0, 0.5, 2.0) for a in (None, [0.5, 1.0, 2.0])
        ]
    for h in WeightedLogLoss.hessian_options:
        out += [WeightedLogLoss(hessian=h), WeightedLogLoss(pos_weight=3.0, neg_weight=0.5, hessian=h)]
    for h in HuberLoss.hessian_options:
        out += [HuberLoss(delta=d, hessian=h) for d in (0.5, 1.0, 20.0)]
    for h in PseudoHuberLoss.hessian_options:
        out += [PseudoHuberLoss(delta=d, hessian=h) for d in (0.5, 1.0, 20.0)]
    out += [LogCoshLoss(hessian=h) for h in LogCoshLoss.hessian_options]
    for h in QuantileLoss.hessian_options:
        out += [QuantileLoss(quantile=q, hessian=h) for q in (0.1, 0.5, 0.9)]
    out += [AbsoluteErrorLoss(hessian=h) for h in AbsoluteErrorLoss.hessian_options]
    out += [RelativeErrorLoss(hessian=h) for h in RelativeErrorLoss.hessian_options]
    out += [ExpectileLoss(expectile=e) for e in (0.1, 0.5, 0.9)]
    return out


__all__ = [
    "Loss",
    "BinaryLoss",
    "MulticlassLoss",
    "RegressionLoss",
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
    "LOSSES",
    "example_losses",
]
