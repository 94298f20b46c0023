"""All shipped losses, one module per family, sharing the base class in ``base``.

Each class registers itself when defined (:mod:`gbobjectives.losses.registry`). Every public
module of this package is imported here, and every shipped loss class is exported by name from
the registry, so a new loss in a new module needs no edit to this file or to the package root.
"""

import importlib as _importlib
import pkgutil as _pkgutil

from gbobjectives.losses.base import BinaryLoss, Loss, MulticlassLoss, RegressionLoss

# the shipped classes, imported by name for readers and editors; the export list is the registry's
from gbobjectives.losses.classification import FocalLoss, WeightedLogLoss, class_balanced_weights  # noqa: F401
from gbobjectives.losses.multiclass import MulticlassFocalLoss  # noqa: F401
from gbobjectives.losses.registry import example_losses, find_loss_class, shipped_losses
from gbobjectives.losses.regression import HuberLoss, LogCoshLoss, PseudoHuberLoss, QuantileLoss  # noqa: F401

for _module in _pkgutil.iter_modules(__path__):  # the loss modules: every public one
    if not _module.name.startswith("_") and _module.name not in ("base", "registry"):
        _importlib.import_module(f"{__name__}.{_module.name}")

#: every shipped loss class by name (a live view of the registry); the audit, the CLI and the
#: test suite iterate over it
LOSSES = shipped_losses()
globals().update(LOSSES)

__all__ = [
    "Loss",
    "BinaryLoss",
    "MulticlassLoss",
    "RegressionLoss",
    *LOSSES,
    "class_balanced_weights",
    "LOSSES",
    "example_losses",
    "find_loss_class",
]
