"""LightGBM (native API) adapters and a ``train`` whose booster includes the start score.

Measured facts this module relies on (LightGBM 4.7; each has a test in
``tests/test_engines_lightgbm.py``):

* a custom objective gets float64 raw scores, (n,) or (n, K); sample weights are NOT applied
  by LightGBM: we multiply by ``train_data.get_weight()``;
* for multiclass we return (n, K) arrays: a flat row-major array is silently accepted and
  trains a WRONG model;
* the start is 0 with a custom objective (``boost_from_average`` is ignored);
  ``Dataset(init_score=...)`` sets it for training but ``Booster.predict`` does not add it
  back. :func:`train` therefore trains from ``init_score`` on the Datasets and then folds the
  start into the leaves of the first iteration's trees (``Booster.set_leaf_output``), so the
  booster's own raw predictions, ``model_to_string`` and pickles include it;
* ``feval`` gets raw scores with a custom objective and returns ``(name, value, higher_better)``.

``lightgbm`` is imported only inside :func:`train`. :class:`Objective` and :class:`Metric` are
the adapters as picklable objects taking any loss; ``loss.lightgbm_objective`` and
``x.lightgbm_metric`` reach :func:`objective` and :func:`metric` through the hook this module
fills (:mod:`gbobjectives._engine_hooks`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gbobjectives._engine_hooks import register_adapter
from gbobjectives._threads import limit_to_engine_threads
from gbobjectives._validation import check_scalar_param
from gbobjectives.engines import _common
from gbobjectives.engines._backend import EstimatorBackend, engine_seed, engine_threads
from gbobjectives.losses.base import Loss
from gbobjectives.refit import LeafRefit, learning_rate_of, supports_refit

__all__ = ["objective", "metric", "train", "fold_start_into_booster", "Objective", "Metric", "LightGBMLeafRefit"]

_ENGINE = "LightGBM"

#: the one table of LightGBM parameter names we read or set: canonical name -> every alias
#: LightGBM accepts for it (from its parameter documentation / config.h)
PARAMETER_ALIASES: dict[str, tuple[str, ...]] = {
    "objective": ("objective_type", "app", "application", "loss"),
    "metric": ("metrics", "metric_types"),
    "num_class": ("num_classes",),
    "learning_rate": ("shrinkage_rate", "eta"),
    "max_depth": (),
    "num_leaves": ("num_leaf", "max_leaves", "max_leaf", "max_leaf_nodes"),
    "bagging_fraction": ("sub_row", "subsample", "bagging"),
    "bagging_freq": ("subsample_freq",),
    "feature_fraction": ("sub_feature", "colsample_bytree"),
    "min_sum_hessian_in_leaf": ("min_sum_hessian_per_leaf", "min_sum_hessian", "min_hessian", "min_child_weight"),
    "min_data_in_leaf": ("min_data_per_leaf", "min_data", "min_child_samples", "min_samples_leaf"),
    "lambda_l2": ("reg_lambda", "lambda", "l2_regularization"),
    "lambda_l1": ("reg_alpha", "l1_regularization"),
    "num_threads": ("num_thread", "nthread", "nthreads", "n_jobs"),
    "seed": ("random_seed", "random_state"),
    "verbosity": ("verbose",),
    "feature_pre_filter": (),
}


def _names(parameter: str) -> tuple[str, ...]:
    return (parameter, *PARAMETER_ALIASES[parameter])


_OBJECTIVE_ALIASES = _names("objective")
_LEARNING_RATE_ALIASES = _names("learning_rate")
_METRIC_ALIASES = _names("metric")
_NUM_CLASS_ALIASES = _names("num_class")
_PRE_FILTER_ALIASES = _names("feature_pre_filter")
_NUM_THREADS_ALIASES = _names("num_threads")


def _labels_weights(dataset: Any) -> tuple[Any, Any]:
    return dataset.get_label(), dataset.get_weight()


def objective(loss: Any, preds: np.ndarray, train_data: Any) -> tuple[np.ndarray, np.ndarray]:
    """``params["objective"]`` of ``lightgbm.train``: weighted (grad, hess), (n,) or (n, K), float32.

    float32 and, for (n, K), column-major: LightGBM's ``Booster.__boost`` flattens with
    ``ravel(order="F")`` and casts to float32, both free on such an array."""
    y, w = _labels_weights(train_data)
    return _common.gradient_hessian(loss, preds, train_data, y, w, _ENGINE)


def metric(scorer: Any, preds: np.ndarray, eval_data: Any) -> tuple[str, float, bool]:
    """``feval=`` of ``lightgbm.train``: (name, value on raw scores, higher_is_better)."""
    m = _common.as_metric(scorer)
    y, w = _labels_weights(eval_data)
    return m.name, _common.evaluate(m, preds, eval_data, y, w, _ENGINE), bool(m.higher_is_better)


class Objective(_common.ObjectiveAdapter):
    """``params["objective"]`` of ``lightgbm.train`` as a picklable object: ``Objective(loss)``.

    Example
    -------
    >>> import gbobjectives as gbo
    >>> gbo.lightgbm.Objective(gbo.FocalLoss())
    gbobjectives.lightgbm.Objective(FocalLoss(gamma=2.0, alpha=None, hessian='upper'))
    """

    module = "gbobjectives.lightgbm"

    def __call__(self, preds: np.ndarray, train_data: Any) -> tuple[np.ndarray, np.ndarray]:
        return objective(self.loss, preds, train_data)


class Metric(_common.MetricAdapter):
    """``feval=`` of ``lightgbm.train`` as a picklable object: ``Metric(loss_or_metric)``,
    returning ``(name, value on raw scores, higher_is_better)``."""

    module = "gbobjectives.lightgbm"

    def __call__(self, preds: np.ndarray, eval_data: Any) -> tuple[str, float, bool]:
        return metric(self.metric, preds, eval_data)


def _num_rows(dataset: Any) -> int:
    if dataset._handle is not None:  # constructed
        return int(dataset.num_data())
    data = dataset.data
    if hasattr(data, "shape"):
        return int(data.shape[0])
    label = dataset.label
    if label is not None:
        return len(label)
    raise ValueError(
        "gbobjectives.lightgbm.train needs the number of rows of every valid set before training; "
        "build it from an array/DataFrame with label=, or construct() it first"
    )


def _raw_labels(dataset: Any, params: dict) -> tuple[Any, Any]:
    if dataset._handle is None and dataset.label is None and isinstance(dataset.data, (str, os.PathLike)):
        # labels stored in a file only appear on construction; construct as lightgbm.train would.
        # (For in-memory data without label= LightGBM would invent all-zero labels: report None.)
        dataset._update_params({k: v for k, v in params.items() if not callable(v)}).construct()
    if dataset._handle is None:
        return dataset.label, dataset.weight
    return _labels_weights(dataset)


def fold_start_into_booster(booster: Any, start: float | np.ndarray) -> Any:
    """Add the start score to every leaf of the first iteration's tree(s), in place.

    Tree ``k`` of iteration 0 holds class ``k`` (LightGBM orders trees iteration-major), so
    after this ``booster.predict(X, raw_score=True)`` equals ``start + sum of trees``.
    Returns the booster.
    """
    starts = np.atleast_1d(np.asarray(start, dtype=np.float64))
    if booster.num_trees() < starts.size:
        raise ValueError(f"the booster has {booster.num_trees()} trees; cannot fold a start of length {starts.size}")
    info = booster.dump_model(num_iteration=1)["tree_info"]
    for k, s in enumerate(starts):
        for leaf in range(int(info[k]["num_leaves"])):
            booster.set_leaf_output(k, leaf, booster.get_leaf_output(k, leaf) + float(s))
    return booster


def _clear_init_score(dataset: Any) -> None:
    dataset.init_score = None
    if dataset._handle is not None:
        # set_init_score(None) only forgets the Python copy; the C++ side would keep the scores
        dataset.set_field("init_score", None)


def train(
    loss: Any,
    params: dict[str, Any],
    train_set: Any,
    num_boost_round: int = 100,
    *,
    valid_sets: Sequence[Any] | None = None,
    valid_names: Sequence[str] | None = None,
    feval: Callable | Sequence[Callable] | None = None,
    init_model: Any = None,
    keep_training_booster: bool = False,
    callbacks: Sequence[Callable] | None = None,
    refit_leaves: bool | None = None,
) -> Any:
    """``lightgbm.train`` with ``loss`` as the objective, starting from ``loss.init_score``.

    The start is set as ``init_score`` on ``train_set`` and every valid set for the duration
    of training (so training and validation metrics see it; the Datasets are restored
    afterwards) and then folded into the first iteration's leaves: the returned Booster is
    self-contained, ``booster.predict(X, raw_score=True)`` is ``init_score + sum of trees``,
    and ``model_to_string`` / ``save_model`` / pickling keep it. The default metric is the
    loss's weighted mean (``loss.lightgbm_metric``, lower is better), reported first; ``feval``
    adds more. LightGBM's built-in metric is off unless ``params`` names one.

    Differences from ``lightgbm.train``: ``params`` must not name an objective; when
    ``train_set`` already has an ``init_score`` (or ``init_model`` is given), that is the start
    and nothing is folded - as in LightGBM, ``predict`` then omits it. With a custom objective,
    ``predict`` returns raw scores: apply ``loss.inverse_link``.

    ``refit_leaves`` (default: True when the loss declares a leaf rule ``leaf_value``, as
    :class:`~gbobjectives.QuantileLoss` and :class:`~gbobjectives.HuberLoss` do) re-sets each
    new tree's leaves to ``learning_rate * loss.leaf_value(residuals in the leaf)`` like
    LightGBM's built-in quantile objective (see :mod:`gbobjectives.refit`). It needs the raw
    features of ``train_set`` and of every valid set (still there before LightGBM constructs
    them, or with ``free_raw_data=False``); metrics see the refit scores.

    Example
    -------
    >>> import numpy as np, lightgbm as lgb, gbobjectives as gbo
    >>> X = np.random.default_rng(0).normal(size=(200, 3)); y = (X[:, 0] > 0.5).astype(float)
    >>> bst = gbo.lightgbm.train(gbo.FocalLoss(), {"verbose": -1}, lgb.Dataset(X, label=y), 5)
    >>> p = gbo.FocalLoss().inverse_link(bst.predict(X, raw_score=True))
    """
    import lightgbm as lgb

    params = dict(params)
    for alias in _OBJECTIVE_ALIASES:
        if alias in params:
            raise ValueError(
                f"params[{alias!r}]={params[alias]!r}: gbobjectives.lightgbm.train uses the loss "
                f"{loss!r} as the objective; remove it from params"
            )
    for alias in _LEARNING_RATE_ALIASES:
        if alias in params:
            # LightGBM 4.7 crashes the process (segmentation fault) on learning_rate=0
            try:
                check_scalar_param(f"params[{alias!r}]", params[alias], low=0.0, low_inclusive=False)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"{exc} (LightGBM's learning rate)") from None
    y_raw, w_raw = _raw_labels(train_set, params)
    # LightGBM stores labels as float32 and clamps them to +-1e38 without a word: the start score
    # (from these float64 labels) and the trees would then disagree, and training drifts. Say so.
    if y_raw is not None:
        _common.check_lightgbm_labels("train_set's label", y_raw)
    for i, ds in enumerate(valid_sets or ()):
        if ds is not train_set and getattr(ds, "label", None) is not None:
            _common.check_lightgbm_labels(f"valid_sets[{i}]'s label", ds.label)
    if train_set._handle is None and not any(a in params for a in _PRE_FILTER_ALIASES):
        # with the default feature_pre_filter=True, LightGBM drops every feature that cannot be
        # split under min_data_in_leaf (all of them below 2 * min_data_in_leaf rows: 1 row, 30
        # rows...) and then aborts under a custom objective ("Check failed: num_features() > 0").
        # Keeping them changes no tree (they still cannot split); the estimators do the same.
        params["feature_pre_filter"] = False
    n_classes = None
    k_param = next((params.pop(a) for a in _NUM_CLASS_ALIASES if a in params), None)
    if loss.task == "multiclass" and y_raw is not None and np.size(y_raw):
        n_classes = _common.n_classes_for(loss, k_param, y_raw)
        params["num_class"] = n_classes
    elif (k_out := _common.n_outputs_of(loss, k_param, "num_class")) is not None:
        # K outputs per round (MultiQuantileLoss): LightGBM's multiclass layout, trees of class
        # k holding output k; the custom objective leaves the labels unchecked (measured)
        params["num_class"] = n_classes = k_out
    elif k_param is not None:
        params["num_class"] = k_param
    start = _common.start_score(loss, y_raw, w_raw, n_classes, _ENGINE)  # before any tree is built

    params["objective"] = loss.lightgbm_objective
    if not any(a in params for a in _METRIC_ALIASES):
        params["metric"] = "None"  # nothing else is meaningful on raw scores of a custom objective
    user_feval = [] if feval is None else ([feval] if callable(feval) else list(feval))
    fevals = [loss.lightgbm_metric, *user_feval]
    if refit_leaves is None:
        refit_leaves = supports_refit(loss)
    if refit_leaves:

        def raw(ds: Any) -> Any:
            # LightGBM computes leaf indices only from raw features; it frees them on construction
            if ds.data is None or isinstance(ds.data, (str, os.PathLike)):
                raise ValueError(
                    "refit_leaves needs the raw features of every Dataset (build it from an array or "
                    "DataFrame, with free_raw_data=False if already constructed), or refit_leaves=False"
                )
            return ds.data

        refit = LightGBMLeafRefit(
            loss,
            params,
            train_set,
            raw(train_set),
            y_raw,
            w_raw,
            valid=[(ds, raw(ds)) for ds in (valid_sets or ()) if ds is not train_set],
        )
        # the engine's cached scores ignore the refit: objective and metrics get corrected ones
        params["objective"] = refit.objective
        fevals = [refit.wrap_metric(f) for f in fevals]
        callbacks = [*refit.callbacks(), *(callbacks or ())]

    has_user_start = init_model is not None or (
        train_set.init_score is not None or (train_set._handle is not None and train_set.get_init_score() is not None)
    )
    touched: list[Any] = []
    try:
        if not has_user_start:
            for ds in [train_set, *(valid_sets or ())]:
                if any(ds is t for t in touched):
                    continue
                if ds is not train_set and (
                    ds.init_score is not None or (ds._handle is not None and ds.get_init_score() is not None)
                ):
                    raise ValueError(
                        "a valid set carries its own init_score but train_set does not; give both or neither"
                    )
                n = _num_rows(ds)
                init = np.broadcast_to(start, (n, n_classes) if n_classes else (n,))
                ds.set_init_score(np.array(init, dtype=np.float64))  # (n, K): LightGBM's 2-D layout
                touched.append(ds)
        threads = next((params[k] for k in _NUM_THREADS_ALIASES if k in params), None)
        try:
            # the objective's kernels use at most the engine's threads (never more cores than it was given)
            with limit_to_engine_threads(threads):
                booster = lgb.train(
                    params,
                    train_set,
                    num_boost_round,
                    valid_sets=list(valid_sets) if valid_sets is not None else None,
                    valid_names=list(valid_names) if valid_names is not None else None,
                    feval=fevals,
                    init_model=init_model,
                    keep_training_booster=keep_training_booster,
                    callbacks=list(callbacks) if callbacks is not None else None,
                )
        except lgb.basic.LightGBMError as exc:
            if "num_features()) > (0)" not in str(exc):
                raise
            raise ValueError(
                "LightGBM kept no feature to train on: its feature_pre_filter (on when train_set was "
                "constructed) drops every feature that cannot be split with min_data_in_leaf rows on each "
                f"side, which is all of them on {_num_rows(train_set)} row(s). Build the Dataset with "
                "params={'feature_pre_filter': False} (or leave it unconstructed), or lower min_data_in_leaf"
            ) from None
    finally:
        for ds in touched:
            _clear_init_score(ds)
    if not has_user_start:
        fold_start_into_booster(booster, start)
    return booster


class LightGBMLeafRefit(LeafRefit):
    """Leaf refit for ``lightgbm.train``: ``params["objective"] = refit.objective``, metrics
    through :meth:`wrap_metric`, and :meth:`callbacks` in ``callbacks``. ``X`` is the raw
    feature matrix of ``train_set`` (LightGBM can only compute leaf indices from raw data);
    ``valid`` pairs each validation Dataset with its raw matrix."""

    engine = "LightGBM"

    def __init__(
        self,
        loss: Any,
        params: dict[str, Any],
        train_set: Any,
        X: Any,
        y: Any,
        w: Any,
        valid: Sequence[tuple[Any, Any]] = (),
    ) -> None:
        super().__init__(loss, learning_rate_of(params, _LEARNING_RATE_ALIASES, 0.1), y, w, train_set)
        # Booster.predict takes its thread count from its own keyword arguments, not from the
        # training parameters: without this, pred_leaf ran on every core under num_threads=1
        # and stalled for 6-56 s when another process held the cores (issue 13)
        self._predict_kw = {
            k: params[k] for k in _NUM_THREADS_ALIASES if k in params and params[k] not in (None, 0, -1)
        }
        self._raw: dict[int, Any] = {id(train_set): X}
        for ds, Xv in valid:
            if ds is train_set:
                continue
            self._raw[id(ds)] = Xv
            self.add_eval(ds, int(Xv.shape[0]))

    def _engine_objective(self, z: np.ndarray, data: Any) -> tuple[np.ndarray, np.ndarray]:
        return objective(self.structure_loss, z, data)

    def _n_trees(self) -> int:
        return int(self.booster.num_trees())

    def _n_rounds(self) -> int:
        return int(self.booster.num_trees()) // self._k  # K trees per round with K outputs

    def _leaf_index(self, data: Any, t: int) -> np.ndarray:
        leaf = self.booster.predict(
            self._raw[id(data)], pred_leaf=True, start_iteration=t, num_iteration=1, **self._predict_kw
        )
        leaf = np.asarray(leaf, dtype=np.intp)
        return leaf.ravel() if self._k == 1 else leaf.reshape(leaf.shape[0], -1)

    def _old_values(self, t: int, ids: np.ndarray, k: int = 0) -> np.ndarray:
        tree = t * self._k + k  # trees are stored iteration-major
        return np.array([self.booster.get_leaf_output(tree, int(i)) for i in ids], dtype=np.float64)

    # Reading the leaf table costs ~5 ms (model_to_string of one tree); pred_leaf costs ~0.17 ms
    # per 1,000 rows, so scores pay off from some 30k rows on
    _SCORES_MIN_ROWS = 50_000

    def _train_scores_now(self) -> np.ndarray | None:
        # LightGBM's C API for the training scores (what Booster.update hands the objective),
        # through its size query first; None (traverse instead) for anything unexpected
        import ctypes

        try:
            from lightgbm.basic import _LIB

            handle = self.booster._handle
            if getattr(self.booster, "train_set", None) is not self._train:
                return None
            n = ctypes.c_int64(0)
            if _LIB.LGBM_BoosterGetNumPredict(handle, ctypes.c_int(0), ctypes.byref(n)) != 0 or n.value != self._y.size:
                return None
            out = self._buffer("engine scores", (n.value,))
            ptr = out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
            if _LIB.LGBM_BoosterGetPredict(handle, ctypes.c_int(0), ctypes.byref(n), ptr) != 0:
                return None
        except Exception:  # another LightGBM build: traverse
            return None
        return out

    def _leaf_table(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        # the leaf outputs (shrinkage applied) of tree t, printed with round-trip precision
        text = self.booster.model_to_string(start_iteration=t, num_iteration=1)
        line = next(ln for ln in text.splitlines() if ln.startswith("leaf_value="))
        values = np.array(line[len("leaf_value=") :].split(), dtype=np.float64)
        return np.arange(values.size), values

    def _set_values(self, t: int, ids: np.ndarray, values: np.ndarray, k: int = 0) -> np.ndarray:
        for i, v in zip(ids.tolist(), values.tolist()):
            self.booster.set_leaf_output(t * self._k + k, i, v)
        return values

    def callbacks(self) -> list[Callable]:
        """Two LightGBM callbacks: one captures the booster before the first update, one
        refits after each update (order 0: before early stopping reads the scores)."""

        def attach(env: Any) -> None:
            self._attach(env.model)
            self.sync()

        attach.before_iteration = True  # type: ignore[attr-defined]
        attach.order = 0  # type: ignore[attr-defined]

        def after(env: Any) -> None:
            self.sync()

        after.before_iteration = False  # type: ignore[attr-defined]
        after.order = 0  # type: ignore[attr-defined]
        return [attach, after]


# ------------------------------------------------------------------ scikit-learn estimators
def _lightgbm_input(X: Any) -> Any:
    # LightGBM recognises scipy's csr_matrix but not the newer csr_array (it would warn and convert)
    import scipy.sparse as sp

    if sp.issparse(X) and not isinstance(X, sp.spmatrix):
        return sp.csr_matrix(X)
    return X


class LightGBMBackend(EstimatorBackend):
    """The estimators' LightGBM back-end: :func:`train` on Datasets built from the arrays."""

    name = "lightgbm"
    aliases = PARAMETER_ALIASES
    objective_keys = _OBJECTIVE_ALIASES

    def translate(self, est: Any, loss: Loss) -> dict[str, Any]:
        subsample = 1.0 if est.subsample is None else est.subsample
        return {
            "learning_rate": est.learning_rate,
            "max_depth": est.max_depth,
            "num_leaves": est.num_leaves,
            "bagging_fraction": est.subsample,
            # LightGBM only bags when bagging_freq > 0; XGBoost's subsample resamples every round
            "bagging_freq": 1 if subsample < 1.0 else None,
            "feature_fraction": est.colsample_bytree,
            "min_sum_hessian_in_leaf": est.min_child_weight,
            "min_data_in_leaf": est.min_child_samples,
            "lambda_l2": est.reg_lambda,
            "lambda_l1": est.reg_alpha,
            "num_threads": engine_threads(est.n_jobs),
            "seed": engine_seed(est.random_state),
            "verbosity": -1,
            # keep features that cannot split under min_data_in_leaf: on tiny data LightGBM would
            # otherwise drop every feature and abort with a fatal error under a custom objective
            "feature_pre_filter": False,
        }

    def train(self, est, loss, params, X, y, w, evals, n_rounds, early_stopping_rounds):
        import lightgbm as lgb

        # XGBoost's DMatrix option; LightGBM reads pandas 'category' columns natively and would
        # warn about an unknown parameter
        params.pop("enable_categorical", None)
        _common.check_lightgbm_labels("y", y)  # LightGBM clamps labels to +-1e38 (float32) silently
        X = _lightgbm_input(X)
        evals = [(_lightgbm_input(Xv), yv, wv) for Xv, yv, wv in evals]
        dtrain = lgb.Dataset(X, label=y, weight=w, free_raw_data=True)
        valid = [lgb.Dataset(Xv, label=yv, weight=wv, reference=dtrain) for Xv, yv, wv in evals]
        history: dict = {}
        callbacks = [lgb.record_evaluation(history)]
        if early_stopping_rounds and valid:
            # the loss's own metric is reported first by gbobjectives.lightgbm.train
            callbacks.append(lgb.early_stopping(early_stopping_rounds, first_metric_only=True, verbose=False))
        booster = train(
            loss,
            params,
            dtrain,
            n_rounds,
            valid_sets=valid or None,
            valid_names=[f"valid_{i}" for i in range(len(valid))] or None,
            callbacks=callbacks,
            refit_leaves=getattr(est, "refit_leaves", None),
        )
        # LightGBM's best_iteration counts rounds from 1; we report XGBoost's 0-based index
        best = int(booster.best_iteration) - 1 if early_stopping_rounds and valid else None
        return booster, best, history

    def predict_raw(self, booster: Any, X: Any, n_rounds: int, n_threads: int | None) -> np.ndarray:
        X = _lightgbm_input(X)
        kwargs = {} if n_threads is None else {"num_threads": n_threads}
        return np.asarray(booster.predict(X, raw_score=True, num_iteration=n_rounds, **kwargs), dtype=np.float64)

    def importances(self, booster: Any, n_rounds: int, n_features: int) -> np.ndarray:
        # LightGBM's "gain" is the total gain of the splits on each feature
        return np.asarray(booster.feature_importance(importance_type="gain", iteration=n_rounds), dtype=np.float64)

    def dumps(self, booster: Any) -> str:
        return booster.model_to_string(num_iteration=-1)

    def loads(self, text: str) -> Any:
        import lightgbm as lgb

        return lgb.Booster(model_str=text)


# what ``loss.lightgbm_objective`` and ``x.lightgbm_metric`` call (see gbobjectives/_engine_hooks.py)
register_adapter("lightgbm_objective", objective)
register_adapter("lightgbm_metric", metric)
