"""XGBoost entry points: ``gbobjectives.xgboost.train`` and the adapters.

>>> import gbobjectives as gbo
>>> callable(gbo.xgboost.train)
True

See :func:`gbobjectives.engines.xgboost.train`. Importing this module does not import
``xgboost``; calling :func:`train` does.
"""

from gbobjectives.engines.xgboost import Metric, Objective, metric, objective, train

__all__ = ["train", "Objective", "Metric", "objective", "metric"]
