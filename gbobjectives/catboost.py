"""CatBoost entry points: ``gbobjectives.catboost.Objective``, ``Metric`` and ``train``.

>>> import gbobjectives as gbo
>>> gbo.catboost.Objective(gbo.FocalLoss())
gbobjectives.catboost.Objective(FocalLoss(gamma=2.0, alpha=None, hessian='upper'))

See :mod:`gbobjectives.engines.catboost`. Importing this module does not import
``catboost``; calling :func:`train` does.
"""

from gbobjectives.engines.catboost import Metric, Objective, train

__all__ = ["Objective", "Metric", "train"]
