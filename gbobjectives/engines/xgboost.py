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

``xgboost`` is imported only inside :func:`train` and :meth:`XGBoostLeafRefit.callback`: the
adapters merely call methods of the DMatrix they are given. :class:`Objective` and
:class:`Metric` are the adapters as picklable objects taking any loss; ``loss.xgboost_objective``
and ``x.xgboost_metric`` reach :func:`objective` and :func:`metric` through the hook this
module fills (:mod:`gbobjectives._engine_hooks`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from gbobjectives._engine_hooks import register_adapter
from gbobjectives._threads import limit_to_engine_threads
from gbobjectives.engines import _common
from gbobjectives.engines._backend import EstimatorBackend, engine_seed, engine_threads
from gbobjectives.losses.base import Loss
from gbobjectives.refit import LeafRefit, learning_rate_of, supports_refit

__all__ = ["objective", "metric", "train", "Objective", "Metric", "XGBoostLeafRefit"]

_ENGINE = "XGBoost"
#: the one table of XGBoost parameter names we read or set: canonical name -> its aliases
PARAMETER_ALIASES: dict[str, tuple[str, ...]] = {
    "eta": ("learning_rate",),
    "max_depth": (),
    "max_leaves": (),
    "subsample": (),
    "colsample_bytree": (),
    "min_child_weight": (),
    "lambda": ("reg_lambda",),
    "alpha": ("reg_alpha",),
    "nthread": ("n_jobs",),
    "seed": ("random_state",),
    "verbosity": (),
    "tree_method": (),
}
_LEARNING_RATE_ALIASES = ("eta", *PARAMETER_ALIASES["eta"])


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
    address = ctypes.addressof(ptr.contents)
    key = (dmatrix.handle.value, field)
    kept = _VIEWS.get(key)
    if kept is not None and kept[0] == address and kept[1].shape[0] == n:
        return kept[1]  # the same memory as last round: the same view (np.ctypeslib.as_array: ~9 us)
    view = np.ctypeslib.as_array(ptr, shape=(n,))
    view.flags.writeable = False
    _VIEWS[key] = (address, view)
    if len(_VIEWS) > 64:  # DMatrix handles come and go: keep the latest few
        del _VIEWS[next(iter(_VIEWS))]
    return view


#: (DMatrix handle, field) -> (address, read-only view) of the last call: a view reads the
#: memory live (the label cache still compares its contents every round); a handle whose
#: DMatrix was freed and reused by a new one is caught by the address and length
_VIEWS: dict[tuple[int, str], tuple[int, np.ndarray]] = {}


def objective(loss: Any, predt: np.ndarray, dtrain: Any) -> tuple[np.ndarray, np.ndarray]:
    """``obj=`` of ``xgboost.train``: weighted (grad, hess), (n,) or (n, K), float32 (what XGBoost stores).

    Example
    -------
    >>> # xgboost.train({"num_class": 3}, dtrain, obj=MulticlassFocalLoss().xgboost_objective)
    """
    y, w = _labels_weights(dtrain)
    return _common.gradient_hessian(loss, predt, dtrain, y, w, _ENGINE)


class Objective(_common.ObjectiveAdapter):
    """``obj=`` of ``xgboost.train`` as a picklable object taking any loss: ``Objective(loss)``.

    Example
    -------
    >>> import gbobjectives as gbo
    >>> gbo.xgboost.Objective(gbo.HuberLoss())
    gbobjectives.xgboost.Objective(HuberLoss(delta=1.0, hessian='mm'))
    """

    module = "gbobjectives.xgboost"

    def __call__(self, predt: np.ndarray, dtrain: Any) -> tuple[np.ndarray, np.ndarray]:
        return objective(self.loss, predt, dtrain)


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


class Metric(_common.MetricAdapter):
    """``custom_metric=`` of ``xgboost.train`` as a picklable object: ``Metric(loss_or_metric)``.

    Returns ``(name, value)`` on raw margins; pass ``maximize=m.higher_is_better``.
    """

    module = "gbobjectives.xgboost"

    def __call__(self, predt: np.ndarray, dmatrix: Any) -> tuple[str, float]:
        return metric(self.metric, predt, dmatrix)


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
    k_out = _common.n_outputs_of(loss, params.get("num_target"))
    if k_out is not None:  # one output per quantile (MultiQuantileLoss): one tree each per round
        params["num_target"] = k_out
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
        owner = custom_metric if isinstance(custom_metric, Metric) else getattr(custom_metric, "__self__", None)
        higher = getattr(owner, "higher_is_better", None)
        if higher is None and owner is not None and hasattr(owner, "gradient_hessian"):
            higher = False  # a loss's metric: lower is better
        maximize = higher
    obj = _TrainingObjective(loss, dtrain)
    if refit_leaves is None:
        refit_leaves = supports_refit(loss)
    if refit_leaves:
        # the engine's cached scores ignore the refit: objective and metric get corrected ones
        refit = XGBoostLeafRefit(loss, params, dtrain)
        for d, _name in evals or ():
            refit.add_eval(d, d.num_row())
        obj = refit.objective
        custom_metric = refit.wrap_metric(custom_metric)
        callbacks = [refit.callback(), *(callbacks or ())]  # first: leaves are written before slicing
    # the objective's kernels use at most the engine's threads (never more cores than it was given)
    with limit_to_engine_threads(params.get("nthread", params.get("n_jobs"))):
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


class XGBoostLeafRefit(LeafRefit):
    """Leaf refit for ``xgboost.train``: pass :meth:`objective` as ``obj``, metrics through
    :meth:`wrap_metric`, and :meth:`callback` in ``callbacks`` (first, so that the leaf values
    are written before e.g. ``EarlyStopping(save_best=True)`` slices the model)."""

    engine = "XGBoost"

    def __init__(self, loss: Any, params: dict[str, Any], dtrain: Any) -> None:
        w = dtrain.get_weight()
        super().__init__(loss, learning_rate_of(params, _LEARNING_RATE_ALIASES, 0.3), dtrain.get_label(), w, dtrain)
        if params.get("booster", "gbtree") != "gbtree" or int(params.get("num_parallel_tree", 1)) != 1:
            raise ValueError("leaf refit needs booster='gbtree' with one tree per round (num_parallel_tree=1)")
        self._pending: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._slice: tuple[int, Any, dict] | None = None
        # the training labels fetched once (a DMatrix copies them out on every get_label(),
        # and the label cache would compare the copy every round: ~1 ms per 1M rows)
        self._objective = _TrainingObjective(self.structure_loss, dtrain)

    def _engine_objective(self, z: np.ndarray, data: Any) -> tuple[np.ndarray, np.ndarray]:
        return self._objective(z, data)

    def _n_trees(self) -> int:
        return int(self.booster.num_boosted_rounds())

    def _tree(self, t: int, k: int = 0) -> tuple[Any, dict]:
        # one-round slice (pred_leaf only accepts iteration ranges starting at 0; slicing is
        # ~5 ms at 20k rows whatever the model size) and its JSON for the old leaf values; with
        # K outputs (num_target) the round holds K trees, tree k for output k
        if self._slice is None or self._slice[0] != t:
            sl = self.booster[t : t + 1]
            trees = json.loads(sl.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]
            self._slice = (t, sl, trees)
        return self._slice[1], self._slice[2][k]

    def _leaf_index(self, data: Any, t: int) -> np.ndarray:
        sl, _ = self._tree(t)
        leaf = np.asarray(sl.predict(data, pred_leaf=True), dtype=np.intp)
        return leaf.ravel() if self._k == 1 else leaf.reshape(leaf.shape[0], -1)

    def _old_values(self, t: int, ids: np.ndarray, k: int = 0) -> np.ndarray:
        _, tree = self._tree(t, k)
        return np.asarray(tree["split_conditions"], dtype=np.float64)[ids]

    _score_eps = 2.0**-24  # XGBoost caches float32 margins

    def _train_scores_now(self) -> np.ndarray | None:
        # the prediction cache XGBoost's own update() reads (a copy, ~1.5 ms at 1M rows)
        raw = np.asarray(self.booster.predict(self._train, output_margin=True, training=True)).ravel()
        out = self._buffer("engine scores", raw.shape)
        out[...] = raw  # float32 -> float64 into the kept buffer (no fresh 8 MB per round)
        return out

    def _leaf_table(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        _, tree = self._tree(t)
        leaves = np.flatnonzero(np.asarray(tree["left_children"]) == -1)
        return leaves, np.asarray(tree["split_conditions"], dtype=np.float64)[leaves]

    def _set_values(self, t: int, ids: np.ndarray, values: np.ndarray, k: int = 0) -> np.ndarray:
        stored = values.astype(np.float32).astype(np.float64)  # XGBoost keeps float32 leaves
        self._pending[t * self._k + k] = (ids, stored)  # trees are stored round-major
        return stored

    def write_leaves(self, booster: Any) -> Any:
        """Write the recorded leaf values into ``booster`` (one JSON round trip), in place."""
        self.sync()
        if not self._pending:
            return booster
        config = booster.save_config()
        model = json.loads(booster.save_raw("json"))
        trees = model["learner"]["gradient_booster"]["model"]["trees"]
        for t, (ids, vals) in self._pending.items():
            tree = trees[t]
            for nid, v in zip(ids.tolist(), vals.tolist()):
                # a leaf's value lives in split_conditions (read by prediction) and base_weights
                tree["split_conditions"][nid] = v
                tree["base_weights"][nid] = v
        booster.load_model(bytearray(json.dumps(model).encode()))
        booster.load_config(config)
        self._pending.clear()
        return booster

    def callback(self) -> Any:
        """An ``xgboost.callback.TrainingCallback`` driving this refit."""
        import xgboost as xgb

        refit = self

        class _Callback(xgb.callback.TrainingCallback):
            def before_training(self, model: Any) -> Any:
                refit._attach(model)
                return model

            def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                # no refit here: the next objective call (or a metric, or after_training)
                # refits the new tree, and the objective call gets the engine's scores handed
                # in, where a refit here would ask XGBoost for a copy (~3 ms per 1M rows); the
                # booster's leaves are written once, after training, either way
                return False

            def after_training(self, model: Any) -> Any:
                return refit.write_leaves(model)

        return _Callback()


# ------------------------------------------------------------------ scikit-learn estimators
class XGBoostBackend(EstimatorBackend):
    """The estimators' XGBoost back-end: :func:`train` on DMatrix objects built from the arrays."""

    name = "xgboost"
    aliases = PARAMETER_ALIASES

    def translate(self, est: Any, loss: Loss) -> dict[str, Any]:
        if est.min_child_samples is not None:
            raise ValueError(
                "min_child_samples is a LightGBM parameter (XGBoost limits leaves by Hessian sum only: "
                "use min_child_weight); set it to None with engine='xgboost'"
            )
        return {
            "eta": est.learning_rate,
            "max_depth": est.max_depth,
            "max_leaves": est.num_leaves,
            "subsample": est.subsample,
            "colsample_bytree": est.colsample_bytree,
            "min_child_weight": est.min_child_weight,
            "lambda": est.reg_lambda,
            "alpha": est.reg_alpha,
            "nthread": engine_threads(est.n_jobs),
            "seed": engine_seed(est.random_state),
            "verbosity": 0,
            "tree_method": "hist",
        }

    def train(self, est, loss, params, X, y, w, evals, n_rounds, early_stopping_rounds):
        import xgboost as xgb

        # a DMatrix option, not a booster parameter (XGBoost would warn that it is unused);
        # pandas 'category' columns need it, everything else ignores it
        categorical = bool(params.pop("enable_categorical", True))
        # XGBoost stores everything as float32: beyond 3.4e38 it fails inside the engine
        _common.check_xgboost_inputs(X, y, w)
        for i, (Xv, yv, wv) in enumerate(evals):
            _common.check_xgboost_inputs(Xv, yv, wv, prefix=f"eval_set[{i}] ")
        nthread = params.get("nthread", -1)
        dtrain = xgb.DMatrix(X, label=y, weight=w, nthread=nthread, enable_categorical=categorical)
        dvalid = [
            (xgb.DMatrix(Xv, label=yv, weight=wv, nthread=nthread, enable_categorical=categorical), f"valid_{i}")
            for i, (Xv, yv, wv) in enumerate(evals)
        ]
        history: dict = {}
        booster = train(
            loss,
            params,
            dtrain,
            n_rounds,
            evals=dvalid,
            early_stopping_rounds=early_stopping_rounds if dvalid else None,
            evals_result=history,
            verbose_eval=False,
            refit_leaves=getattr(est, "refit_leaves", None),
        )
        best = int(booster.best_iteration) if early_stopping_rounds and dvalid else None
        return booster, best, history

    def predict_raw(self, booster: Any, X: Any, n_rounds: int, n_threads: int | None) -> np.ndarray:
        import xgboost as xgb

        d = xgb.DMatrix(X, nthread=-1 if n_threads is None else n_threads, enable_categorical=True)
        return np.asarray(booster.predict(d, output_margin=True, iteration_range=(0, n_rounds)), dtype=np.float64)

    def importances(self, booster: Any, n_rounds: int, n_features: int) -> np.ndarray:
        # total gain over the rounds used to predict (a Booster slice keeps whole rounds, all K trees)
        scores = booster[:n_rounds].get_score(importance_type="total_gain")
        names = booster.feature_names or [f"f{i}" for i in range(n_features)]
        return np.array([scores.get(name, 0.0) for name in names], dtype=np.float64)

    def dumps(self, booster: Any) -> str:
        return bytes(booster.save_raw(raw_format="json")).decode("utf-8")

    def loads(self, text: str) -> Any:
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(bytearray(text.encode("utf-8")))
        return booster


# what ``loss.xgboost_objective`` and ``x.xgboost_metric`` call (see gbobjectives/_engine_hooks.py)
register_adapter("xgboost_objective", objective)
register_adapter("xgboost_metric", metric)
