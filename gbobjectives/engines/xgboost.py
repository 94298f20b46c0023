"""XGBoost (native API) adapters and a ``train`` that starts from the loss's best intercept.

Measured facts this module relies on (XGBoost 3.2; each has a test in
``tests/test_engines_xgboost.py``):

* custom objectives get float32 raw margins, (n,) or (n, K) with ``num_class``; sample
  weights are NOT applied by XGBoost: we multiply by ``dtrain.get_weight()``;
* the start is a fixed 0.5 with a custom objective; ``base_score`` (a scalar, or a length-K
  list with ``num_class`` - the vector intercept) is stored in the model and added by a plain
  ``predict(output_margin=True)``, so :func:`train` sets it to ``loss.init_score``;
* ``custom_metric`` receives RAW margins when the objective is custom; early stopping guesses
  the direction from the metric's name, so :func:`train` passes ``maximize`` explicitly.

``xgboost`` is imported only inside :func:`train`: the adapters merely call methods of the
DMatrix they are given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gbobjectives.engines import _common

__all__ = ["objective", "metric", "train"]

_ENGINE = "XGBoost"


def _labels_weights(dmatrix: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """The DMatrix's labels and weights (None without weights), as read-only views of its memory
    where XGBoost's C API allows it.

    ``DMatrix.get_label()`` / ``get_weight()`` cost ~75-200 us each per call whatever the size
    (a JSON array interface is built and parsed in Python), more than a whole round of a small
    model; the C function ``XGDMatrixGetFloatInfo`` hands out a pointer to the same float32
    vector in ~5 us. The views are read-only and valid while the DMatrix lives; the label cache
    of ``engines/_common.py`` compares them with its own copies, never keeps them. Anything
    unusual (multi-column labels, another XGBoost build) takes the public methods.
    """
    y = _float_info_view(dmatrix, "label")
    w = _float_info_view(dmatrix, "weight") if y is not None else None
    if y is None or w is None:
        y, w = dmatrix.get_label(), dmatrix.get_weight()
    return y, (None if w.size == 0 else w)  # XGBoost reports "no weights" as an empty array


def _float_info_view(dmatrix: Any, field: str) -> np.ndarray | None:
    """A read-only (n,) float32 view of ``field`` of the DMatrix, or None where unavailable."""
    import ctypes

    try:
        from xgboost.core import _LIB

        length, ptr = ctypes.c_uint64(), ctypes.POINTER(ctypes.c_float)()
        status = _LIB.XGDMatrixGetFloatInfo(dmatrix.handle, field.encode(), ctypes.byref(length), ctypes.byref(ptr))
    except Exception:  # not an XGBoost DMatrix of this build: use its public methods
        return None
    n = length.value
    if status != 0 or (n != 0 and n != dmatrix.num_row()):  # an error, or (n, K) labels
        return None
    if n == 0 or not ptr:
        return np.empty(0, dtype=np.float32)
    view = np.ctypeslib.as_array(ptr, shape=(n,))
    view.flags.writeable = False
    return view


def objective(loss: Any, predt: np.ndarray, dtrain: Any) -> tuple[np.ndarray, np.ndarray]:
    """``obj=`` of ``xgboost.train``: weighted (grad, hess), (n,) or (n, K), float32 (what XGBoost stores).

    Example
    -------
    >>> # xgboost.train({"num_class": 3}, dtrain, obj=MulticlassFocalLoss().xgboost_objective)
    """
    y, w = _labels_weights(dtrain)
    return _common.gradient_hessian(loss, predt, dtrain, y, w, _ENGINE)


class _TrainingObjective:
    """``loss.xgboost_objective`` for the duration of one :func:`train` call.

    The training DMatrix's labels and weights are fetched once: ``DMatrix.get_label()`` copies
    them out of C++ on every call (a fresh 4 MB array per 1M rows, whose page faults and
    comparison with the validated copy cost ~1-2 ms a round), and nothing changes them while
    ``train`` runs. Any other DMatrix goes through the plain adapter.
    """

    def __init__(self, loss: Any, dtrain: Any) -> None:
        self.loss, self.dtrain = loss, dtrain
        y, w = _labels_weights(dtrain)
        # own copies: the label cache then matches them by identity, in O(1), every round
        self.y, self.w = np.array(y), (None if w is None else np.array(w))

    def __call__(self, predt: np.ndarray, dtrain: Any) -> tuple[np.ndarray, np.ndarray]:
        if dtrain is not self.dtrain:
            return objective(self.loss, predt, dtrain)
        return _common.gradient_hessian(self.loss, predt, dtrain, self.y, self.w, _ENGINE)


def metric(scorer: Any, predt: np.ndarray, dmatrix: Any) -> tuple[str, float]:
    """``custom_metric=`` of ``xgboost.train``: (name, value) on raw margins, weight-aware."""
    m = _common.as_metric(scorer)
    y, w = _labels_weights(dmatrix)
    return m.name, _common.evaluate(m, predt, dmatrix, y, w, _ENGINE)


def train(
    loss: Any,
    params: dict[str, Any],
    dtrain: Any,
    num_boost_round: int = 10,
    *,
    evals: Sequence[tuple[Any, str]] | None = (),
    custom_metric: Any = None,
    maximize: bool | None = None,
    early_stopping_rounds: int | None = None,
    evals_result: dict | None = None,
    verbose_eval: bool | int | None = True,
    xgb_model: Any = None,
    callbacks: Sequence[Any] | None = None,
    refit_leaves: bool | None = None,
) -> Any:
    """``xgboost.train`` with ``loss`` as the objective, starting from ``loss.init_score``.

    The returned Booster is self-contained: the start is stored as ``base_score`` (a length-K
    vector intercept for multiclass), so ``booster.predict(d, output_margin=True)`` returns
    ``init_score + sum of trees`` with nothing to add by hand. The default metric is the
    loss's weighted mean (``loss.xgboost_metric``, lower is better; XGBoost's own default
    metric, computed on raw margins, is disabled unless ``params`` names an ``eval_metric``).

    Differences from ``xgboost.train``: ``params`` must not name an ``objective`` (the loss is
    the objective); a user ``base_score`` is kept; with ``xgb_model`` (continued training) the
    start comes from that model; a DMatrix carrying ``base_margin`` is started from its margins
    (``base_score`` 0). ``maximize`` defaults to the metric's direction when the metric is a
    gbobjectives one. With ``num_class`` the booster's ``predict()`` returns class ids: use
    ``output_margin=True`` and ``loss.inverse_link``.

    ``refit_leaves`` (default: True when the loss declares a leaf rule ``leaf_value``, as
    :class:`~gbobjectives.QuantileLoss` and :class:`~gbobjectives.HuberLoss` do) re-sets each
    new tree's leaves to ``eta * loss.leaf_value(residuals in the leaf)`` like XGBoost's
    built-in quantile objective (see :mod:`gbobjectives.refit`); metrics on ``evals`` see the
    refit scores, a built-in ``eval_metric`` in ``params`` would not.

    Example
    -------
    >>> import numpy as np, xgboost as xgb, gbobjectives as gbo
    >>> X = np.random.default_rng(0).normal(size=(200, 3)); y = (X[:, 0] > 0.5).astype(float)
    >>> bst = gbo.xgboost.train(gbo.FocalLoss(gamma=2.0), {"max_depth": 2}, xgb.DMatrix(X, label=y), 5)
    >>> p = gbo.FocalLoss().inverse_link(bst.predict(xgb.DMatrix(X), output_margin=True))
    """
    import xgboost as xgb

    params = dict(params)
    if "objective" in params:
        raise ValueError(
            f"params['objective']={params['objective']!r}: gbobjectives.xgboost.train uses the loss "
            f"{loss!r} as the objective; remove 'objective' from params"
        )
    y_raw, w_raw = _labels_weights(dtrain)
    n_classes = None
    if loss.task == "multiclass" and y_raw.size:
        n_classes = _common.n_classes_for(loss, params.get("num_class"), y_raw)
        params["num_class"] = n_classes
    # validates the labels before any tree is built
    start = _common.start_score(loss, y_raw, w_raw, n_classes, _ENGINE)
    if xgb_model is None and "base_score" not in params:
        if dtrain.get_base_margin().size:
            params["base_score"] = 0.0  # the DMatrix's margins are the start, not XGBoost's 0.5
        elif np.ndim(start) == 0:
            params["base_score"] = float(start)
        else:
            # a vector intercept: XGBoost >= 3.1 (3.0 takes only a scalar base_score)
            if tuple(int(p) for p in xgb.__version__.split(".")[:2]) < (3, 1):
                raise RuntimeError(
                    f"multiclass start scores need XGBoost >= 3.1 (vector base_score); found {xgb.__version__}"
                )
            params["base_score"] = [float(s) for s in np.ravel(start)]
    if "eval_metric" not in params:
        # XGBoost's default metric would be computed on raw margins (rmse of logits...)
        params["disable_default_eval_metric"] = True
    if custom_metric is None:
        custom_metric = loss.xgboost_metric
    if maximize is None:
        owner = getattr(custom_metric, "__self__", None)
        higher = getattr(owner, "higher_is_better", None)
        if higher is None and owner is not None and hasattr(owner, "gradient_hessian"):
            higher = False  # a loss's metric: lower is better
        maximize = higher
    obj = _TrainingObjective(loss, dtrain)
    if refit_leaves is None:
        from gbobjectives.refit import supports_refit

        refit_leaves = supports_refit(loss)
    if refit_leaves:
        from gbobjectives.refit import XGBoostLeafRefit

        # the engine's cached scores ignore the refit: objective and metric get corrected ones
        refit = XGBoostLeafRefit(loss, params, dtrain)
        for d, _name in evals or ():
            refit.add_eval(d, d.num_row())
        obj = refit.objective
        custom_metric = refit.wrap_metric(custom_metric)
        callbacks = [refit.callback(), *(callbacks or ())]  # first: leaves are written before slicing
    return xgb.train(
        params,
        dtrain,
        num_boost_round,
        evals=list(evals or ()),
        obj=obj,
        maximize=maximize,
        early_stopping_rounds=early_stopping_rounds,
        evals_result=evals_result,
        verbose_eval=verbose_eval,
        xgb_model=xgb_model,
        callbacks=callbacks,
        custom_metric=custom_metric,
    )
