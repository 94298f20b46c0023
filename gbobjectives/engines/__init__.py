"""Engine adapters: one module per engine, each importing its engine library only when training.

Importing this package registers every adapter with :mod:`gbobjectives._engine_hooks`, which is
how ``loss.xgboost_objective`` and friends find them without the losses importing an engine.
"""

from gbobjectives.engines import catboost, lightgbm, sklearn_api, xgboost

__all__ = ["catboost", "lightgbm", "sklearn_api", "xgboost"]
