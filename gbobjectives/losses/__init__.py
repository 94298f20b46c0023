"""All shipped losses, one module per family, sharing the base class in ``base``.

Each class registers itself when defined (:mod:`gbobjectives.losses.registry`). Every public
module of this package is imported here, and every shipped loss class is exported by name from
the registry, so a new loss in a new module needs no edit to this file or to the package root.
"""

import importlib as _importlib
import pkgutil as _pkgutil

from gbobjectives.losses.base import BinaryLoss, Loss, MulticlassLoss, RegressionLoss
from gbobjectives.losses.registry import example_losses, find_loss_class, shipped_losses

# The registry lists the losses in the order their classes are defined, i.e. the order these
# modules are imported (the CLI's help, compare's default list and the tables follow it): the
# families in this order first, then every other public module (a new loss needs no edit here).
_ORDER = ("classification", "multiclass", "regression", "quantile", "expectile")
_modules = [m.name for m in _pkgutil.iter_modules(__path__)]
for _name in (*_ORDER, *sorted(set(_modules) - set(_ORDER))):
    if not _name.startswith("_") and _name not in ("base", "registry"):
        _importlib.import_module(f"{__name__}.{_name}")

from gbobjectives.losses.classification import class_balanced_weights  # noqa: E402

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
