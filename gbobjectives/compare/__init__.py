"""``gbobjectives compare``: built-in objectives vs gbobjectives losses, on both engines.

For each data set the engines' own objective (``binary:logistic`` / ``binary``,
``multi:softprob`` / ``multiclass``, ``reg:squarederror`` / ``regression`` and, where a
gbobjectives loss has one, its built-in counterpart: Huber, quantile) and the chosen
gbobjectives losses are trained with the same trees, learning rate and rounds on XGBoost and
LightGBM, then scored on held-out rows (a single split or K-fold cross-validation):

* classification: logloss next to the prior-only logloss (what "predict the base rate"
  scores), the hit ``exp(-logloss)`` (the geometric-mean probability of the true class),
  ROC AUC, PR AUC (average precision) and accuracy;
* regression: RMSE, MAE, Huber loss and, for quantile rows, the pinball loss at the row's
  quantile and the coverage ``mean(y <= prediction)`` (which should be close to the quantile);
* both: the wall time of the training call.

Our losses are trained with :func:`gbobjectives.xgboost.train` / :func:`gbobjectives.lightgbm.train`
(start from ``loss.init_score``), the built-in objectives with ``xgboost.train`` /
``lightgbm.train``; every model is scored on its raw margins, through the same link.

The Python entry points are :func:`compare` (one data set), :func:`default_datasets`,
:func:`load_csv`, :func:`format_table`, :func:`write_results` and :func:`plot_results`;
:func:`run` is what the command line calls. Engines, pandas and matplotlib are imported
only when needed.

Example
-------
>>> from sklearn.datasets import load_breast_cancer
>>> X, y = load_breast_cancer(return_X_y=True)
>>> result = compare(X, y, name="cancer", losses=["focal"], rounds=5)  # doctest: +SKIP
>>> print(format_table(result))  # doctest: +SKIP
"""

from __future__ import annotations

from gbobjectives.compare.candidates import (
    Candidate,
    balanced_class_weights,
    known_loss_names,
    loss_applies,
    make_candidates,
    robust_scale,
)
from gbobjectives.compare.chart import plot_results
from gbobjectives.compare.command import run
from gbobjectives.compare.data import Dataset, default_datasets, encode_target, load_csv
from gbobjectives.compare.report import format_table, write_results
from gbobjectives.compare.settings import DEFAULT_LOSSES, ENGINES, TASKS, CompareError
from gbobjectives.compare.training import DatasetResult, compare, n_models

__all__ = [
    "CompareError",
    "Dataset",
    "Candidate",
    "DatasetResult",
    "ENGINES",
    "TASKS",
    "DEFAULT_LOSSES",
    "compare",
    "default_datasets",
    "load_csv",
    "make_candidates",
    "format_table",
    "write_results",
    "plot_results",
    "run",
    "known_loss_names",
    "loss_applies",
    "balanced_class_weights",
    "robust_scale",
    "encode_target",
    "n_models",
]
