"""Settings shared by the comparison: engines, tasks, default losses, limits, and its error type."""

from __future__ import annotations

#: engines --engines accepts; DEFAULT_ENGINES run when it is not given. CatBoost is opt-in: it calls
#: a custom multiclass objective once per row (~0.3 ms per row and round: minutes on digits)
ENGINES = ("xgboost", "lightgbm", "catboost")
DEFAULT_ENGINES = ("xgboost", "lightgbm")
TASKS = ("binary", "multiclass", "regression")
#: gbobjectives losses trained when ``--losses`` is not given; "quantile" means tau = 0.5 and 0.9
#: (the loss's declared ``sweep``)
DEFAULT_LOSSES: dict[str, tuple[str, ...]] = {
    "binary": ("logloss", "balanced", "focal"),
    "multiclass": ("logloss", "balanced", "focal"),
    "regression": ("huber", "pseudohuber", "logcosh", "quantile"),
}
#: names of rows that are not a loss class: the engines' own objective, and logloss with
#: class-balanced weights (any other name is looked up in the loss registry)
_RECIPES = {"builtin": set(TASKS), "balanced": {"binary", "multiclass"}}
#: auto-detection treats an integer target with at most this many values as multiclass
_MAX_AUTO_CLASSES = 10
#: more classes than this is almost surely a mistake (an id column as the target)
_MAX_CLASSES = 100
#: object columns with at most this many distinct values are one-hot encoded, others rejected
_MAX_ONE_HOT_LEVELS = 50
#: rows at which ``--threads 0`` (auto) starts using more than one thread: below it, thread
#: start-up costs more than it saves and timings become noisy on a busy machine
_AUTO_THREADS_ROWS = 50_000
#: LightGBM's default min_data_in_leaf (20) on both sides of a split
_LIGHTGBM_MIN_TRAIN_ROWS = 40

_XGB_BUILTIN = {"binary": "binary:logistic", "multiclass": "multi:softprob", "regression": "reg:squarederror"}
_LGB_BUILTIN = {"binary": "binary", "multiclass": "multiclass", "regression": "regression"}
_CB_BUILTIN = {"binary": "Logloss", "multiclass": "MultiClass", "regression": "RMSE"}


class CompareError(ValueError):
    """A problem with the user's input (data, target, options): one line, exit status 2."""
