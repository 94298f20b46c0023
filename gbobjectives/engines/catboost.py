r"""CatBoost adapters: :class:`Objective`, :class:`Metric` and a ``train`` that starts from ``loss.init_score``.

Measured facts this module relies on (CatBoost 1.2.10; each has a test in
``tests/test_engines_catboost.py``):

* a custom objective is an object with ``calc_ders_range(approxes, targets, weights)``
  (binary / regression) or ``calc_ders_multi(approx, target, weight)`` (multiclass, called
  ONCE PER ROW); CatBoost hands over float64 raw scores and float32 labels and weights as
  numpy views of one chunk of rows (186-1,000 rows), and accepts an (n, 2) float64 array back;
* it wants derivatives of the log-LIKELIHOOD: ``der1 = -gradient``, ``der2 = -Hessian`` of
  our losses (both negated);
* sample weights are passed to the objective and NOT applied by CatBoost: we multiply once
  (a weighted custom logloss then gives CatBoost's weighted built-in Logloss model);
* a custom metric is an object with ``evaluate(approxes, target, weight) -> (error, weight)``
  (``approxes`` a tuple of K float64 arrays), ``is_max_optimal()`` and
  ``get_final_error(error, weight)``; ``eval_metric`` is required with a custom objective;
* with a custom objective CatBoost's learning rate defaults to 0.03 (not its auto-tuned
  value) and there is no ``boost_from_average``: :func:`train` starts the model from
  ``loss.init_score`` through ``Pool`` baselines and stores it as the model's bias
  (``set_scale_and_bias``, a length-K vector for multiclass), so predictions include it;
* CatBoost tries to ``numba.njit`` the methods of custom objects and warns on every fit when
  it cannot (numba missing, or methods that use ``self``): ours set ``no_jit = True``.

``catboost`` is imported only inside :func:`train`.

Sign convention, for a loss ``l(y, z)`` with gradient ``g = dl/dz`` and Hessian ``h``:

.. math:: \mathrm{der1}_i = -w_i\,g_i,\qquad \mathrm{der2}_i = -w_i\,h_i

Example
-------
>>> import gbobjectives as gbo
>>> obj = gbo.catboost.Objective(gbo.WeightedLogLoss())
>>> obj.calc_ders_range(np.array([0.0, 0.0]), np.array([1.0, 0.0], np.float32), None).tolist()
[[0.5, -0.25], [-0.5, -0.25]]
"""

from __future__ import annotations

import ctypes
import math
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from gbobjectives import _compiled
from gbobjectives._estimator_inputs import category_positions, is_category_dtype
from gbobjectives._validation import check_sample_weight
from gbobjectives.engines import _common
from gbobjectives.engines._backend import EstimatorBackend, engine_seed, engine_threads
from gbobjectives.losses._fast import Workspace
from gbobjectives.losses.base import Loss

__all__ = ["Objective", "Metric", "train", "ENGINE"]

ENGINE = "CatBoost"

#: Chunks of validated labels kept per objective (CatBoost's chunks of one training set:
#: ~100 at 100k rows); beyond this the cache starts over (correct, only slower).
_MAX_CACHED_CHUNKS = 8192


class _ChunkLabels:
    """Validated labels/weights and the loss's label preparation, per chunk of rows.

    CatBoost calls the objective on views of the same label memory every iteration, but
    hands no data-set object to key a cache on. The key is therefore the chunk's address and
    length; a hit is confirmed by comparing the bytes of the labels and weights with cached
    copies (``tobytes`` + memcmp: ~1 us for 1,000 rows, where ``np.array_equal`` took ~5 us
    and validating and preparing again ~30 us), so memory reused by another training never
    returns stale labels.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[int, int, int], tuple[bytes, bytes | None, dict]] = {}

    def clear(self) -> None:
        self._entries.clear()

    def get(self, scorer: Any, loss: Any, targets: Any, weights: Any, z: np.ndarray) -> dict:
        """The prepared labels of this chunk (``loss._prepare_labels`` on validated float64 labels)."""
        n = z.shape[0]
        key = None
        if type(targets) is np.ndarray and (weights is None or type(weights) is np.ndarray):
            address = _compiled.address
            key = (address(targets), n, 0 if weights is None else address(weights))
            hit = self._entries.get(key)
            if (
                hit is not None
                and hit[0] == targets.tobytes()
                and (hit[1] is None if weights is None else hit[1] == weights.tobytes())
            ):
                return hit[2]
        try:
            y = scorer._check_labels(np.asarray(targets), z)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{_common._describe(scorer)} cannot take the labels CatBoost passed: {exc}") from None
        try:
            w = check_sample_weight(None if weights is None else np.asarray(weights), y.shape[0])
        except (ValueError, TypeError) as exc:
            raise ValueError(f"invalid sample weights in the CatBoost data set: {exc}") from None
        prep = loss._prepare_labels(y, w, np.dtype(np.float64)) if loss is not None else {"y": y, "w": w}
        if key is not None:
            if len(self._entries) >= _MAX_CACHED_CHUNKS:
                self._entries.clear()
            self._entries[key] = (targets.tobytes(), None if weights is None else weights.tobytes(), prep)
        return prep


class _Wrapper(_common.WrapperBase):
    """Pickling of an adapter around one gbobjectives object (the attribute ``_wrapped``; equality,
    hash and repr from :class:`~gbobjectives.engines._common.WrapperBase`): its caches are
    rebuilt by ``_init_caches`` after unpickling, never pickled."""

    module = "gbobjectives.catboost"
    #: CatBoost would try numba.njit on the methods (they use ``self``) and warn on every fit
    no_jit = True

    def _init_caches(self) -> None:
        self._labels = _ChunkLabels()

    def __getstate__(self) -> dict[str, Any]:
        return {self._wrapped: getattr(self, self._wrapped)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        setattr(self, self._wrapped, state[self._wrapped])
        self._init_caches()


class Objective(_Wrapper):
    r"""CatBoost's ``loss_function=``: any gbobjectives loss, with CatBoost's sign convention.

    ``calc_ders_range`` returns, for a chunk of rows, an (n, 2) float64 array of
    ``(der1, der2) = (-w g, -w h)``: the loss's exact gradient ``g`` and its training-safe
    Hessian ``h`` (``loss.gradient_hessian``), negated because CatBoost maximises a
    log-likelihood, and multiplied by the sample weights once (CatBoost does not apply them
    to a custom objective). ``calc_ders_multi`` does the same for one row of a multiclass
    loss and returns ``(der1 (K,), der2 (K, K))`` with the (diagonal) Hessian on the diagonal.

    Picklable (caches are dropped), comparable (equal when the losses are equal).
    The start score is not part of an objective: use :func:`train` or ``Pool(baseline=...)``
    with ``loss.init_score``, or the estimators with ``engine="catboost"``.

    Example
    -------
    >>> import numpy as np, catboost, gbobjectives as gbo
    >>> loss = gbo.FocalLoss(gamma=2.0)
    >>> X = np.random.default_rng(0).normal(size=(200, 3)); y = (X[:, 0] > 0.5).astype(float)
    >>> clf = catboost.CatBoostClassifier(loss_function=gbo.catboost.Objective(loss),
    ...     eval_metric=gbo.catboost.Metric(loss), iterations=5, learning_rate=0.1, verbose=False)
    >>> p = loss.inverse_link(clf.fit(X, y).predict(X, prediction_type="RawFormulaVal"))
    """

    _wrapped = "loss"

    def __init__(self, loss: Any) -> None:
        from gbobjectives.losses.base import Loss

        if not isinstance(loss, Loss):
            raise TypeError(f"loss must be a gbobjectives loss (e.g. gbo.FocalLoss()), got {loss!r}")
        self.loss = loss
        self._init_caches()

    def _init_caches(self) -> None:
        super()._init_caches()
        self._local = threading.local()  # one scratch Workspace per CatBoost thread
        self._multi_labels: dict[float, int] = {}

    def clear_cache(self) -> None:
        """Forget the cached labels of past trainings (they are verified on use; this frees memory)."""
        self._labels.clear()

    # ------------------------------------------------------------------ binary / regression
    def calc_ders_range(self, approxes: Any, targets: Any, weights: Any) -> np.ndarray:
        """``(-w g, -w h)`` for one chunk of rows, shape (n, 2), float64.

        ``approxes`` are the raw scores (float64 from CatBoost), ``targets`` the labels,
        ``weights`` the sample weights or None.
        """
        loss = self.loss
        if loss.task == "multiclass":
            raise ValueError(
                f"{loss!r} is a multiclass loss but CatBoost called calc_ders_range (a one-dimensional model): "
                "train with loss_function=Objective(loss) on labels 0..K-1 and classes_count=K "
                "(CatBoost then calls calc_ders_multi)"
            )
        z = approxes
        if not (type(z) is np.ndarray and z.dtype == np.float64 and z.ndim == 1):
            z = _common.check_raw_scores(loss, z, ENGINE)
        fast = self._fast_binary(loss, targets, weights, z)
        if fast is not None:
            return fast
        # one reduction instead of an isfinite pass; a NaN/inf (or an overflowing sum) gets
        # the full check, which raises naming the loss
        if not math.isfinite(np.add.reduce(z)):
            z = _common.check_raw_scores(loss, z, ENGINE)
        prep = self._labels.get(loss, loss, targets, weights, z)
        stats = loss._round_statistics(prep["y"], z, prep["w"])
        if stats:
            # CatBoost hands over chunks of ~200-1,000 rows and no per-iteration hook: the
            # statistics of the chunk at hand (QuantileLoss "mm": its residual scale), and no
            # engine factor (Loss._engine_factor, QuantileLoss's power of two), which could differ
            # between the chunks of one tree: the loss's own (gradient, Hessian)
            prep = {**prep, **stats, "engine_units": False}
        ws = getattr(self._local, "ws", None)
        if ws is None:
            ws = self._local.ws = Workspace()
        n = z.shape[0]
        # (n, 2) as the transpose of a C-contiguous (2, n) buffer: the kernels write contiguous
        # columns and one negation pass covers both (CatBoost reads any strides)
        buf = np.empty((2, n))
        g_out, h_out = buf[0], buf[1]
        ws.outputs = (g_out, h_out)
        try:
            g, h = loss._gradient_hessian_fast(z, prep, ws)
        finally:
            ws.outputs = None
        if g is not g_out:
            g_out[...] = g
        if h is not h_out:
            h_out[...] = h
        np.negative(buf, out=buf)
        return buf.T

    def _fast_binary(self, loss: Any, targets: Any, weights: Any, z: np.ndarray) -> np.ndarray | None:
        """The whole call in one compiled kernel, or None (then the general path below).

        For a binary loss with a compiled kernel on hard labels (WeightedLogLoss, FocalLoss): the
        kernel's pointers and constants are kept with the chunk's labels, the class weights are
        passed negated (grad and hess are linear in them, so this IS CatBoost's sign convention:
        no negation pass) and the kernel checks the scores' finiteness. CatBoost makes ~36,000
        calls per 100 iterations at 100k rows, so the Python around the kernel is what costs."""
        constants = getattr(loss, "_kernel", None)
        if constants is None or loss.task != "binary" or not z.flags.c_contiguous or not _compiled.available():
            return None
        prep = self._labels.get(loss, loss, targets, weights, z)
        kernel = prep.get("_catboost")
        if kernel is None:
            if "yk" not in prep or prep["yk"].dtype != np.float64:  # soft labels: the general path
                return None
            address = _compiled.address
            wk = prep["wk"]
            kernel = prep["_catboost"] = (
                _compiled.binary_function(np.float64, np.float64),
                address(prep["yk"]),
                None if wk is None else address(wk),
                # ctypes converts prepared c_double objects faster than Python floats (2.2 vs 3.5 us a call)
                tuple(ctypes.c_double(v) for v in (-constants[0], -constants[1], *constants[2:])),
            )
        f, py, pw, negated = kernel
        n = z.shape[0]
        buf = np.empty((2, n))  # (n, 2) as the transpose: the kernel writes contiguous columns
        pb = _compiled.address(buf)
        if f(n, _compiled.address(z), py, pw, *negated, pb, pb + 8 * n) & _compiled.NONFINITE:
            _common.check_raw_scores(loss, z, ENGINE)  # raises, naming the loss
        return buf.T

    # ------------------------------------------------------------------ multiclass
    def calc_ders_multi(self, approx: Any, target: Any, weight: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(-w g (K,), diag(-w h) (K, K))`` for ONE row of a multiclass loss.

        CatBoost calls this once per row (so its cost is the Python call, not the arithmetic):
        labels are checked with plain Python, the loss's float64 mathematics runs on a (1, K) array.
        """
        loss = self.loss
        if loss.task != "multiclass":
            raise ValueError(
                f"{loss!r} is a {loss.task} loss but CatBoost called calc_ders_multi (a multi-dimensional "
                "model): remove classes_count / use a multiclass loss such as MulticlassFocalLoss"
            )
        z = np.asarray(approx, dtype=np.float64).reshape(1, -1)
        K = z.shape[1]
        if not math.isfinite(np.add.reduce(z, axis=None)):
            z = _common.check_raw_scores(loss, z, ENGINE)
        c = self._multi_labels.get(target)
        if c is None:
            c = self._check_class(target, K)
        w = 1.0 if weight is None else float(weight)
        if not (w >= 0.0 and math.isfinite(w)):
            raise ValueError(f"invalid sample weight {weight!r} from CatBoost: weights must be finite and >= 0")
        g, h = loss._gradient_hessian(_CLASS_ARRAYS[c] if c < len(_CLASS_ARRAYS) else np.array([c]), z, None)
        der1 = np.multiply(g[0], -w)
        der2 = np.zeros((K, K))
        np.multiply(h[0], -w, out=der2.reshape(-1)[:: K + 1])
        return der1, der2

    def _check_class(self, target: Any, K: int) -> int:
        try:
            t = float(target)
        except (TypeError, ValueError):
            raise ValueError(f"{_common._describe(self.loss)} needs class indices as labels, got {target!r}") from None
        if not (t == int(t) if math.isfinite(t) else False) or not 0 <= t < K:
            raise ValueError(
                f"{_common._describe(self.loss)} needs class indices in [0, {K}) as labels, got {target!r} "
                f"(CatBoost model with {K} dimensions)"
            )
        if self.loss.n_classes is not None and self.loss.n_classes != K:
            raise ValueError(
                f"{self.loss!r} was built for {self.loss.n_classes} classes but the CatBoost model has {K}"
            )
        self._multi_labels[target] = int(t)
        return int(t)


_CLASS_ARRAYS = tuple(np.array([c], dtype=np.intp) for c in range(64))


class Metric(_Wrapper):
    r"""CatBoost's ``eval_metric=`` for a gbobjectives loss (its weighted mean) or metric.

    ``evaluate(approxes, target, weight)`` returns ``(value * W, W)`` with ``W`` the weight
    sum of the rows it was given and ``value`` the metric on them; ``get_final_error(error,
    weight)`` divides. For means of per-row terms (every loss, MAPE, SMAPE) this is exact
    however CatBoost splits the rows; CatBoost 1.2 evaluates a custom metric on each data set
    in one call, so :class:`~gbobjectives.metrics.LogLossHit` is exact too.
    ``is_max_optimal()`` is the metric's ``higher_is_better`` (early stopping direction).
    CatBoost names a custom metric by its class: results appear under ``"Metric"``.

    Example
    -------
    >>> import gbobjectives as gbo
    >>> m = gbo.catboost.Metric(gbo.WeightedLogLoss())
    >>> err, w = m.evaluate((np.zeros(2),), np.array([1.0, 0.0], np.float32), None)
    >>> round(m.get_final_error(err, w), 6), m.is_max_optimal()
    (0.693147, False)
    """

    _wrapped = "metric"

    def __init__(self, loss_or_metric: Any) -> None:
        try:
            self.metric = _common.as_metric(loss_or_metric)
        except TypeError:
            raise TypeError(
                f"loss_or_metric must be a gbobjectives loss or metric (e.g. gbo.FocalLoss(), gbo.MAPE()), "
                f"got {loss_or_metric!r}"
            ) from None
        self._init_caches()

    @property
    def name(self) -> str:
        return self.metric.name

    def is_max_optimal(self) -> bool:
        return bool(self.metric.higher_is_better)

    def get_final_error(self, error: float, weight: float) -> float:
        return error / weight if weight > 0 else 0.0

    def evaluate(self, approxes: Sequence[Any], target: Any, weight: Any) -> tuple[float, float]:
        m = self.metric
        if len(approxes) == 1:
            raw = approxes[0]
        else:
            raw = np.stack([np.asarray(a, dtype=np.float64) for a in approxes], axis=1)
        z = _common.check_raw_scores(m, raw, ENGINE)
        prep = self._labels.get(m, None, target, weight, z)
        y, w = prep["y"], prep["w"]
        total = float(y.shape[0]) if w is None else float(np.sum(w))
        if not total > 0:
            return 0.0, 0.0
        return float(m._score(y, z, w)) * total, total


def _pool_labels_weights(pool: Any) -> tuple[np.ndarray, np.ndarray | None]:
    y = pool.get_label()
    if y is None:
        raise ValueError("gbobjectives.catboost.train needs a Pool with labels (Pool(X, label=y))")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    w = pool.get_weight()
    w = None if w is None or len(w) == 0 else np.asarray(w, dtype=np.float64)
    if w is not None and np.all(w == 1.0):
        w = None  # CatBoost reports "no weights" as all ones
    return y, w


def _has_baseline(pool: Any) -> bool:
    b = pool.get_baseline()
    return b is not None and np.size(b) > 0


def _with_baseline(pool: Any, start: float | np.ndarray) -> Any:
    """A copy of ``pool`` starting from ``start`` (a Pool's baseline cannot be removed again)."""
    copy = pool.slice(np.arange(pool.num_row()))
    s = np.atleast_1d(np.asarray(start, dtype=np.float64))
    copy.set_baseline(np.tile(s, (pool.num_row(), 1)))
    return copy


_OBJECTIVE_KEYS = ("loss_function", "objective")


def train(
    loss: Any,
    params: dict[str, Any],
    pool: Any,
    *,
    eval_set: Any = None,
    early_stopping_rounds: int | None = None,
    verbose: bool | int = False,
    init_model: Any = None,
    init_score: float | Sequence[float] | None = None,
) -> Any:
    """Train a ``catboost.CatBoost`` model with ``loss`` as the objective, from ``loss.init_score``.

    The start is given to CatBoost as the ``baseline`` of copies of ``pool`` and of every
    ``eval_set`` Pool (your Pools are not modified), and stored in the returned model as its
    bias (``model.get_scale_and_bias()``; a length-K vector for multiclass), so that
    ``model.predict(X, prediction_type="RawFormulaVal")`` is ``init_score + sum of trees``,
    also after ``save_model`` / ``load_model``. Apply ``loss.inverse_link`` for probabilities.

    ``params`` are CatBoost's (``iterations``, ``learning_rate``, ``depth``, ``thread_count``,
    ...). They must not name ``loss_function``; ``eval_metric`` defaults to the loss's weighted
    mean (:class:`Metric`), which drives early stopping on the last ``eval_set``. Note that
    with a custom objective CatBoost's default learning rate is 0.03 (set it). For multiclass
    losses ``classes_count`` is set from the labels (or the loss's ``alpha``). When ``pool``
    already has a baseline (or ``init_model`` is given), that is the start and no bias is set.
    ``init_score`` overrides the start (default: ``loss.init_score`` of the Pool's labels and
    weights as CatBoost stores them, in float32). ``allow_writing_files`` defaults to False
    (CatBoost would write ``./catboost_info`` at every fit).

    Example
    -------
    >>> import numpy as np, catboost, gbobjectives as gbo
    >>> X = np.random.default_rng(0).normal(size=(200, 3)); y = (X[:, 0] > 0.5).astype(float)
    >>> loss = gbo.FocalLoss(gamma=2.0)
    >>> model = gbo.catboost.train(loss, {"iterations": 5, "learning_rate": 0.1, "thread_count": 1},
    ...                            catboost.Pool(X, label=y))
    >>> p = loss.inverse_link(model.predict(X, prediction_type="RawFormulaVal"))
    """
    import catboost

    if _common.n_outputs_of(loss) is not None:
        raise ValueError(
            f"{loss!r} has {loss.n_outputs} outputs per row; gbobjectives.catboost.train trains one output "
            "for a regression loss (CatBoost's multi-output custom objectives are not wired up): use "
            "gbobjectives.xgboost.train / gbobjectives.lightgbm.train (engine='xgboost' or 'lightgbm'), or "
            "CatBoost's own MultiQuantile"
        )
    params = dict(params)
    for key in _OBJECTIVE_KEYS:
        if key in params:
            raise ValueError(
                f"params[{key!r}]={params[key]!r}: gbobjectives.catboost.train uses the loss {loss!r} as the "
                "objective; remove it from params"
            )
    if not isinstance(pool, catboost.Pool):
        raise TypeError(f"pool must be a catboost.Pool, got {type(pool).__name__}")
    evals = [] if eval_set is None else ([eval_set] if isinstance(eval_set, catboost.Pool) else list(eval_set))
    if not all(isinstance(e, catboost.Pool) for e in evals):
        raise TypeError("eval_set must be a catboost.Pool or a list of Pools")
    y, w = _pool_labels_weights(pool)
    n_classes = None
    if loss.task == "multiclass":
        n_classes = _common.n_classes_for(loss, params.pop("classes_count", None), y)
        params["classes_count"] = n_classes
    start = _common.start_score(loss, y, w, n_classes, ENGINE)  # validates the labels first
    if init_score is not None:
        start = np.asarray(init_score, dtype=np.float64)
        want = (n_classes,) if n_classes else ()
        if start.shape != want or not np.all(np.isfinite(start)):
            what = f"length-{n_classes} vector" if n_classes else "scalar"
            raise ValueError(f"init_score must be a finite {what} for {loss!r}, got {init_score!r}")
        start = start if n_classes else float(start)

    objective = Objective(loss)
    params["loss_function"] = objective
    params.setdefault("eval_metric", Metric(loss))
    params.setdefault("allow_writing_files", False)
    user_start = init_model is not None or _has_baseline(pool)
    if not user_start:
        if any(_has_baseline(e) for e in evals):
            raise ValueError("an eval_set Pool carries its own baseline but pool does not; give both or neither")
        pool = _with_baseline(pool, start)
        evals = [_with_baseline(e, start) for e in evals]
    model = catboost.CatBoost(params)
    try:
        model.fit(
            pool,
            eval_set=evals or None,
            early_stopping_rounds=early_stopping_rounds,
            verbose=verbose,
            init_model=init_model,
        )
    finally:
        objective.clear_cache()
    if not user_start:
        model.set_scale_and_bias(1.0, [float(s) for s in np.ravel(start)] if n_classes else float(start))
    return model


# ------------------------------------------------------------------ scikit-learn estimators
class CatBoostBackend(EstimatorBackend):
    """CatBoost through :func:`gbobjectives.catboost.train` (symmetric trees, depth 6 by default).

    Deliberate defaults (CatBoost changes its own for a custom objective): the estimator's
    ``learning_rate`` (CatBoost would fall back to 0.03), one Newton step per leaf as CatBoost's
    built-in Logloss/RMSE do, and for losses set to a constant Hessian (``hessian="constant"``)
    30 gradient steps per leaf, which move each leaf to the loss's best constant for its rows
    where a single unit-Hessian step is bounded by the gradient (measured with the then-default
    unit Hessian: held-out pinball 1.34x the built-in Quantile's with one step, 0.99-1.01x with
    30). The default majorize-minimize curvatures take one Newton step, which scales with the
    residual (CatBoost hands the objective chunks of rows, so QuantileLoss's scale is the
    chunk's; see ``engines/catboost.py``).
    """

    name = "catboost"
    aliases = {
        "learning_rate": ("eta",),
        "depth": ("max_depth",),
        "max_leaves": ("num_leaves",),
        "subsample": (),
        "rsm": ("colsample_bylevel",),
        "l2_leaf_reg": ("reg_lambda",),
        "thread_count": (),
        "random_seed": ("random_state",),
        "verbose": ("logging_level", "verbose_eval", "silent"),
        "allow_writing_files": (),
        "leaf_estimation_method": (),
        "leaf_estimation_iterations": (),
    }
    objective_keys = _OBJECTIVE_KEYS

    def translate(self, est: Any, loss: Loss) -> dict[str, Any]:
        for name, hint in (
            ("min_child_samples", "min_data_in_leaf (only with grow_policy='Depthwise' or 'Lossguide')"),
            ("min_child_weight", "no Hessian-sum limit in CatBoost"),
            ("reg_alpha", "no L1 leaf penalty in CatBoost"),
        ):
            if getattr(est, name) is not None:
                raise ValueError(
                    f"{name} is not a CatBoost parameter ({hint}); set it to None with engine='catboost' "
                    "or pass CatBoost's own parameters in engine_params"
                )
        if est.num_leaves is not None and "grow_policy" not in (est.engine_params or {}):
            raise ValueError(
                "num_leaves needs engine_params={'grow_policy': 'Lossguide'} with engine='catboost' "
                "(its default symmetric trees have 2**max_depth leaves)"
            )
        constant_hessian = getattr(loss, "hessian", None) == "constant"
        n_threads = engine_threads(est.n_jobs)
        return {
            "learning_rate": est.learning_rate,
            "depth": est.max_depth,
            "max_leaves": est.num_leaves,
            "subsample": est.subsample,
            "rsm": est.colsample_bytree,
            "l2_leaf_reg": est.reg_lambda,
            "thread_count": -1 if n_threads is None else n_threads,
            "random_seed": engine_seed(est.random_state),
            "verbose": False,
            "allow_writing_files": False,  # CatBoost would write ./catboost_info at every fit
            "leaf_estimation_method": "Gradient" if constant_hessian else "Newton",
            "leaf_estimation_iterations": 30 if constant_hessian else 1,
        }

    def train(self, est, loss, params, X, y, w, evals, n_rounds, early_stopping_rounds):
        import catboost

        if len(y) < 2:
            # CatBoost's quantizer rejects it deep inside ("All features are either constant ...")
            raise ValueError(f"engine='catboost' needs at least 2 samples in X, got {len(y)} sample")
        # XGBoost's DMatrix option; CatBoost is told the category columns through cat_features
        params.pop("enable_categorical", None)
        params = {**params, "iterations": n_rounds}
        cat_features = category_positions(X) or None
        pool = catboost.Pool(_catboost_features(X), label=y, weight=w, cat_features=cat_features)
        valid = [
            catboost.Pool(_catboost_features(Xv), label=yv, weight=wv, cat_features=cat_features)
            for Xv, yv, wv in evals
        ]
        try:
            model = train(
                loss,
                params,
                pool,
                eval_set=valid or None,
                early_stopping_rounds=early_stopping_rounds if valid else None,
                # the float64 labels' start (init_score_), not that of CatBoost's float32 copy
                init_score=loss.init_score(y, w),
            )
        except catboost.CatBoostError as exc:
            if "features are either constant or ignored" in str(exc):
                raise ValueError(
                    "X: every feature is constant (or ignored), which CatBoost cannot train on; "
                    "the XGBoost and LightGBM engines fit the start score alone"
                ) from None
            raise
        best = int(model.get_best_iteration()) if early_stopping_rounds and valid else None
        history = {}
        for key, metrics in model.get_evals_result().items():
            # CatBoost's "validation" / "validation_1"... as the other engines' "valid_0", "valid_1"...
            if key.startswith("validation"):
                key = "valid_" + (key[len("validation_") :] if "_" in key else "0")
            # CatBoost names a custom metric by its class ("Metric"): use the loss's name
            history[key] = {(loss.name if name == "Metric" else name): values for name, values in metrics.items()}
        return model, best, history

    def predict_raw(self, booster: Any, X: Any, n_rounds: int, n_threads: int | None) -> np.ndarray:
        raw = booster.predict(
            _catboost_features(X),
            prediction_type="RawFormulaVal",
            ntree_end=min(n_rounds, booster.tree_count_),
            thread_count=-1 if n_threads is None else n_threads,
        )
        return np.asarray(raw, dtype=np.float64)

    def importances(self, booster: Any, n_rounds: int, n_features: int) -> np.ndarray:
        # CatBoost reports no split gain: its default importance, PredictionValuesChange (how much
        # the prediction changes, on average, when the feature's value changes), over the rounds
        # used to predict
        if booster.tree_count_ > n_rounds:
            booster = booster.copy()
            booster.shrink(ntree_end=n_rounds)
        return np.asarray(booster.get_feature_importance(type="PredictionValuesChange"), dtype=np.float64)

    def dumps(self, booster: Any) -> str:
        import base64

        # CatBoost's binary model (exact floats, bias included), as text for the JSON file
        return base64.b64encode(booster._serialize_model()).decode("ascii")

    def loads(self, text: str) -> Any:
        import base64

        import catboost

        model = catboost.CatBoost()
        model.load_model(blob=base64.b64decode(text.encode("ascii"), validate=True))
        return model


#: the value a missing entry of a pandas ``category`` column takes for CatBoost, which accepts
#: only strings and integers as categories (NaN is rejected): missing is a category of its own
_MISSING_CATEGORY = "\x00missing"


def _catboost_features(X: Any) -> Any:
    """``X`` in a form CatBoost accepts.

    pandas ``category`` columns become their categories' text (CatBoost takes strings or integers
    as categories, not floats or NaN; a missing entry is a category of its own), so the same
    value maps to the same category at fit and predict whatever the declared category order.
    scipy sparse input (sparse arrays too, which CatBoost rejects) becomes a ``csr_matrix`` with
    int32 indices (CatBoost asserts int32).
    """
    import scipy.sparse as sp

    if category_positions(X):
        out = X.copy(deep=False)
        for col, dtype in X.dtypes.items():
            if is_category_dtype(dtype):
                labels = np.array([str(c) for c in dtype.categories] + [_MISSING_CATEGORY], dtype=object)
                out[col] = labels[X[col].cat.codes.to_numpy()]  # code -1 (missing): the last label
        return out
    if not sp.issparse(X):
        return X
    X = sp.csr_matrix(X)
    if X.nnz >= 2**31 or X.shape[1] >= 2**31:
        raise ValueError(f"X: a sparse matrix with {X.nnz} stored values is beyond CatBoost's int32 sparse indices")
    if X.indices.dtype != np.int32 or X.indptr.dtype != np.int32:
        X = sp.csr_matrix((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)), shape=X.shape)
    return X
