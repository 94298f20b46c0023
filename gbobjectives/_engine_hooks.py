"""The hook through which losses and metrics reach the engine adapters without importing them.

The loss core (``losses/``, ``links.py``, ``_numerics.py``, the metrics' mathematics) imports
no engine adapter and no engine library. Users still write ``loss.xgboost_objective``: that
attribute is a bound method of the loss (it pickles with the loss) which looks up the adapter
function in :data:`_ADAPTERS`, a table the engine modules fill when they are imported
(``gbobjectives.engines.xgboost`` registers ``"xgboost_objective"``, and so on). The package
``gbobjectives`` imports those modules - which import no engine library themselves - so the
table is full as soon as ``import gbobjectives`` has run; the dependency points from the
engines to the losses, never back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["register_adapter", "engine_adapter", "MetricAdapters", "ObjectiveAdapters"]

#: adapter name (the attribute users know) -> function ``f(scorer, *engine_args)``
_ADAPTERS: dict[str, Callable[..., Any]] = {}


def register_adapter(name: str, function: Callable[..., Any]) -> None:
    """Make ``function(scorer, *args)`` what ``scorer.<name>(*args)`` calls (engine modules do this)."""
    _ADAPTERS[name] = function


def engine_adapter(name: str) -> Callable[..., Any]:
    """The adapter function registered under ``name``; a clear error if no engine module did."""
    try:
        return _ADAPTERS[name]
    except KeyError:
        raise RuntimeError(
            f"no engine adapter {name!r} is registered: import gbobjectives (the package imports its engine "
            f"modules, which register their adapters)"
        ) from None


class MetricAdapters:
    """The engine adapters of anything that scores raw predictions (losses and metrics).

    Bound methods and instances of module-level classes: they pickle with their owner.
    """

    def xgboost_metric(self, predt: Any, dmatrix: Any) -> tuple[str, float]:
        """``xgboost.train(..., custom_metric=x.xgboost_metric)``: (name, weighted value on raw margins)."""
        return engine_adapter("xgboost_metric")(self, predt, dmatrix)

    def lightgbm_metric(self, preds: Any, eval_data: Any) -> tuple[str, float, bool]:
        """``lightgbm.train(..., feval=x.lightgbm_metric)``: (name, value, higher_is_better)."""
        return engine_adapter("lightgbm_metric")(self, preds, eval_data)

    @property
    def xgboost_sklearn_metric(self) -> Any:
        """``XGBClassifier(eval_metric=x.xgboost_sklearn_metric)``: a picklable callable with ``__name__``."""
        return engine_adapter("xgboost_sklearn_metric")(self)

    @property
    def lightgbm_sklearn_metric(self) -> Any:
        """``LGBMClassifier().fit(..., eval_metric=x.lightgbm_sklearn_metric)``: (name, value, higher_better)."""
        return engine_adapter("lightgbm_sklearn_metric")(self)


class ObjectiveAdapters(MetricAdapters):
    """The engine adapters of a loss: its objectives, plus the metric adapters (its weighted mean)."""

    def xgboost_objective(self, predt: Any, dtrain: Any) -> tuple[Any, Any]:
        """``xgboost.train(..., obj=loss.xgboost_objective)``: weighted (grad, hess)."""
        return engine_adapter("xgboost_objective")(self, predt, dtrain)

    def lightgbm_objective(self, preds: Any, train_data: Any) -> tuple[Any, Any]:
        """``lightgbm.train({"objective": loss.lightgbm_objective, ...}, ...)``: weighted (grad, hess)."""
        return engine_adapter("lightgbm_objective")(self, preds, train_data)

    def sklearn_objective(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> tuple[Any, Any]:
        """``objective=`` of XGBClassifier/XGBRegressor/LGBMClassifier/LGBMRegressor."""
        return engine_adapter("sklearn_objective")(self, y_true, y_pred, sample_weight)
