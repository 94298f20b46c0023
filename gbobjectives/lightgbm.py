"""LightGBM entry points: ``gbobjectives.lightgbm.train`` and the adapters.

>>> import gbobjectives as gbo
>>> callable(gbo.lightgbm.train)
True

See :func:`gbobjectives.engines.lightgbm.train`. Importing this module does not import
``lightgbm``; calling :func:`train` does.
"""

from gbobjectives.engines.lightgbm import Metric, Objective, fold_start_into_booster, metric, objective, train

__all__ = ["train", "Objective", "Metric", "objective", "metric", "fold_start_into_booster"]
