"""Engine-independent plumbing shared by the XGBoost, LightGBM and scikit-learn adapters.

Every adapter does the same four things, whatever the engine:

1. fetch labels and sample weights from the engine's data (engines do NOT apply sample
   weights for custom objectives, so we must);
2. validate them - once per data set, not every boosting round (:func:`labels_and_weights`);
3. validate the engine's raw scores every round (a NaN must never travel silently);
4. call the loss's private fast path (``_gradient_hessian_fast``, in cache-sized row blocks) or
   its float64 ``_loss`` for metrics.

Nothing here imports an engine library, so ``import gbobjectives`` works without either. The
dependency points one way: the engine adapters import the losses and metrics, never the reverse
(the losses reach their adapters through :mod:`gbobjectives._engine_hooks`).
"""

from __future__ import annotations

import functools
import sys
import threading
import weakref
from typing import Any

import numpy as np

from gbobjectives._validation import check_sample_weight, describe_ids, infer_n_classes
from gbobjectives.engines._blocked import NonFiniteInput, run_blocked
from gbobjectives.losses._fast import Workspace
from gbobjectives.losses.base import Loss
from gbobjectives.metrics import LossMetric, Metric

__all__ = [
    "as_metric",
    "labels_and_weights",
    "check_raw_scores",
    "gradient_hessian",
    "evaluate",
    "ObjectiveAdapter",
    "MetricAdapter",
]


def as_metric(obj: Any) -> Any:
    """A :class:`~gbobjectives.metrics.Metric` for ``obj``: a Loss becomes its weighted-mean-loss metric."""
    if isinstance(obj, Metric):
        return obj
    if isinstance(obj, Loss):
        return LossMetric(obj)
    raise TypeError(f"expected a gbobjectives Loss or Metric, got {type(obj).__name__}")


class WrapperBase:
    """Equality, hash and repr of an engine adapter around ONE gbobjectives object, held in the
    attribute named by ``_wrapped`` (``"loss"`` or ``"metric"``); ``module`` names the adapter's
    public module in the repr. Shared by the XGBoost, LightGBM and CatBoost adapter objects."""

    _wrapped: str = ""
    module: str = ""

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and getattr(self, self._wrapped) == getattr(other, self._wrapped)

    def __hash__(self) -> int:
        return hash((type(self).__name__, getattr(self, self._wrapped)))

    def __repr__(self) -> str:
        return f"{self.module}.{type(self).__name__}({getattr(self, self._wrapped)!r})"


class ObjectiveAdapter(WrapperBase):
    """Base of the picklable engine objectives that take any loss (``gbo.xgboost.Objective(loss)``).

    A subclass sets ``module`` (for the repr) and implements ``__call__`` with its engine's
    signature. Equal when the losses are equal; pickles as its loss.
    """

    _wrapped = "loss"

    def __init__(self, loss: Any) -> None:
        if not isinstance(loss, Loss):
            raise TypeError(f"loss must be a gbobjectives loss (e.g. gbo.FocalLoss()), got {loss!r}")
        self.loss = loss


class MetricAdapter(WrapperBase):
    """Base of the picklable engine metrics that take any loss (its weighted mean) or metric."""

    _wrapped = "metric"

    def __init__(self, loss_or_metric: Any) -> None:
        try:
            self.metric = as_metric(loss_or_metric)
        except TypeError:
            raise TypeError(
                f"loss_or_metric must be a gbobjectives loss or metric (e.g. gbo.FocalLoss(), gbo.MAPE()), "
                f"got {loss_or_metric!r}"
            ) from None
        self.__name__ = self.metric.name

    @property
    def higher_is_better(self) -> bool:
        """The metric's direction (early stopping): False for a loss."""
        return bool(self.metric.higher_is_better)


def _describe(obj: Any) -> str:
    task = getattr(obj, "task", "")
    return f"{obj!r} (a {task} {'loss' if hasattr(obj, 'gradient_hessian') else 'metric'})"


# ---------------------------------------------------------------------------------- label cache
# Validated labels/weights per data object (DMatrix, Dataset, or the label array itself for the
# scikit-learn APIs). A DMatrix/Dataset is not hashable in a useful way and an ndarray is not
# hashable at all, so the cache is keyed on id() and guarded by a weak reference: an entry dies
# with its object, and an id reused by a new object never hits (the weakref would be dead).
_CACHE: dict[int, tuple[weakref.ref, dict]] = {}


def _entries_for(owner: Any) -> dict | None:
    key = id(owner)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is owner:
        return hit[1]
    try:
        ref = weakref.ref(owner, functools.partial(_forget, _CACHE, key))
    except TypeError:  # not weak-referenceable: validate every time (always correct)
        return None
    entries: dict = {}
    _CACHE[key] = (ref, entries)
    return entries


def _forget(cache: dict, key: int, ref: weakref.ref) -> None:
    """Weak-reference callback: drop the dead owner's entry. The cache is bound as an argument
    (a module global may already be None when this runs at interpreter exit), and an entry
    that a newer owner with a reused id holds is left alone."""
    hit = cache.get(key)
    if hit is not None and hit[0] is ref:
        del cache[key]


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    # LightGBM hands back the same label object every round (identity: O(1)); XGBoost a fresh
    # copy from C++ (array_equal: one memcmp-speed pass, far cheaper than re-validating, and it
    # notices set_label()/set_weight() between two trainings on the same DMatrix).
    if a is b:
        return True
    if a is None or b is None:
        return False
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _label_key(scorer: Any, z: np.ndarray) -> tuple:
    # A LossMetric validates with its loss's checker: share the entry with the objective.
    checker = getattr(scorer, "_label_checker", None) or type(scorer)._check_labels
    return (checker, z.shape[1:])


def labels_and_weights(
    scorer: Any,
    owner: Any,
    raw_y: Any,
    raw_w: Any,
    z: np.ndarray,
    engine: str,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Validated float64 labels (intp for multiclass) and weights, cached per data object.

    ``scorer`` is a Loss or a Metric (anything with ``_check_labels(y, z)``). The cache key is
    the label-checking function and the number of columns K, so a binary loss and a regression
    metric evaluated on the same Dataset never share an entry, while a loss and its own metric do.
    Raises ``ValueError`` naming the loss and what it expected when the labels do not fit.
    """
    y, w, _ = _labels_entry(scorer, owner, raw_y, raw_w, z, engine)
    return y, w


def _labels_entry(
    scorer: Any, owner: Any, raw_y: Any, raw_w: Any, z: np.ndarray, engine: str
) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """:func:`labels_and_weights` plus the entry's dict of per-loss label preparations."""
    if raw_y is None or np.size(raw_y) == 0:
        raise ValueError(
            f"{_describe(scorer)} needs labels, but the {engine} data set has none (pass label=y when building it)"
        )
    y_arr = np.asarray(raw_y)
    w_arr = None if raw_w is None or np.size(raw_w) == 0 else np.asarray(raw_w)
    key = _label_key(scorer, z)
    entries = _entries_for(owner)
    if entries is not None:
        hit = entries.get(key)
        if hit is not None and _same(hit[0], y_arr) and _same(hit[1], w_arr):
            y, w = hit[2], hit[3]
            if y.shape[0] != z.shape[0]:
                raise ValueError(f"the {engine} data set has {y.shape[0]} labels but {z.shape[0]} raw scores")
            if (hit[0] is not y_arr or hit[1] is not w_arr) and _keepable(y_arr) and _keepable(w_arr):
                # equal, not identical: keep the caller's objects, so that a caller handing the
                # same ones back every round (gbobjectives.xgboost.train) is matched by identity
                entries[key] = (_detach(y_arr, owner), _detach(w_arr, owner), *hit[2:])
            return y, w, hit[4]
    try:
        y = scorer._check_labels(y_arr, z)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{_describe(scorer)} cannot take the labels of this {engine} data set: {exc}") from None
    try:
        w = check_sample_weight(w_arr, y.shape[0])
    except (ValueError, TypeError) as exc:
        raise ValueError(f"invalid sample weights in the {engine} data set: {exc}") from None
    prepared: dict = {}
    if entries is not None:
        # the entry must not hold its owner (the label array itself for the scikit-learn APIs),
        # or the weak reference would never die
        entries[key] = (_detach(y_arr, owner), _detach(w_arr, owner), _detach(y, owner), w, prepared)
    return y, w, prepared


def _keepable(a: Any) -> bool:
    """Whether the cache may hold ``a`` itself: not a read-only view of an engine's memory
    (``engines/xgboost.py`` hands those out), which could change under a kept reference."""
    return not (isinstance(a, np.ndarray) and not a.flags.writeable and not a.flags.owndata)


def _detach(a: Any, owner: Any) -> Any:
    """``a`` as the cache keeps it for later comparisons: a copy where holding ``a`` would hold
    its owner (the weak reference would never die) or ``a`` is a view of engine memory."""
    if a is owner or (isinstance(a, np.ndarray) and a.base is not None and a.base is owner) or not _keepable(a):
        return np.array(a, copy=True)
    return a


def check_raw_scores(scorer: Any, raw: Any, engine: str) -> np.ndarray:
    """The engine's raw scores as validated float64 (n,) or (n, K); NaN/inf raise, naming the loss."""
    try:
        return scorer._check_raw(raw)
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        if "NaN" in msg or "infinite" in msg:
            msg += (
                " - the model diverged (try a smaller learning_rate, or a larger min_child_weight / "
                "min_sum_hessian_in_leaf)"
            )
        raise ValueError(f"{_describe(scorer)} got unusable raw scores from {engine}: {msg}") from None


def _engine_raw_scores(scorer: Any, raw: Any, engine: str) -> tuple[np.ndarray, bool]:
    """Raw scores in the engine's own precision (float32 or float64), else validated float64,
    and whether their finiteness is still to be checked.

    Same checks and messages as :func:`check_raw_scores`, without a float64 copy of float32
    margins: the shape is checked on the first rows here; finiteness is left to the row blocks
    (``run_blocked(check_finite=True)``: cache-hot and on the kernels' threads, where a separate
    whole-array pass cost 0.1-0.3 ms a call at 1M rows); a block that finds a NaN or inf makes
    :func:`gradient_hessian` raise :func:`check_raw_scores`'s message.
    """
    if not (isinstance(raw, np.ndarray) and raw.dtype in _ENGINE_DTYPES and raw.ndim in (1, 2)):
        return check_raw_scores(scorer, raw, engine), False
    if raw.shape[0] == 0:
        return check_raw_scores(scorer, raw, engine), False  # raises with the full message
    first = check_raw_scores(scorer, raw[:1], engine)  # shape rules (K, n_classes): raises if wrong
    if raw.ndim == 2 and first.ndim == 1:  # an (n, 1) column for a loss on (n,) scores
        raw = raw[:, 0]
    return raw, True


_ENGINE_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def gradient_hessian(
    loss: Any, raw: Any, owner: Any, raw_y: Any, raw_w: Any, engine: str
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted gradient and Hessian, same shape as the raw scores ((n,) or (n, K)), float32.

    float32 because both engines store gradients as float32 (LightGBM casts anything else in
    Python, one more pass); never float16, which silently corrupts XGBoost training. 2-D for
    multiclass: LightGBM would accept a flat row-major array and silently train a wrong model.
    A (n, K) result is column-major (class-major in memory): the kernels work class-major, so
    this saves a transposing copy (~4 ms per array at 1M x 5), LightGBM's ``ravel(order="F")``
    takes it without a copy, and XGBoost reads it through its array interface at the same
    speed as a row-major one (measured).

    The arithmetic runs in the precision the engine hands over (float32 margins from XGBoost,
    float64 scores from LightGBM) through ``loss._gradient_hessian_fast``, on labels prepared
    once per data set (``loss._prepare_labels``, cached with the validated labels), in
    cache-sized row blocks on a few threads (``engines/_blocked.py``).
    """
    # XGBoost's float32 margins stay float32: the kernels' results differ from the public float64
    # ones by a few float32 roundings (tests/test_fast_path.py bounds it: 32 * 2**-24 relative,
    # times 1 + |margin| for multiclass), the precision both engines store gradients in anyway,
    # and float32 arithmetic is ~2x faster (benchmarks/speed.py)
    z, check_finite = _engine_raw_scores(loss, raw, engine)
    y, w, prepared = _labels_entry(loss, owner, raw_y, raw_w, z, engine)
    prep = _prepared_for(prepared, loss, z)
    if prep is None:
        prep = loss._prepare_labels(y, w, z.dtype)
        prepared.clear()  # one preparation per data set: the last loss trained on it
        prepared["entry"] = (loss, z.dtype, z.shape[1:], prep)
    state = prep.get("_state")
    if state is None:
        state = prep["_state"] = _BlockState()
    reduce = _allreduce_sum if engine == "XGBoost" else None
    try:
        stats = loss._round_statistics(y, z, w, reduce=reduce)
    except (ValueError, ArithmeticError):
        _raise_if_nonfinite_scores(loss, raw, z, engine, check_finite)
        raise
    if stats and not all(np.isfinite(np.asarray(v, dtype=np.float64)).all() for v in stats.values()):
        _raise_if_nonfinite_scores(loss, raw, z, engine, check_finite)
    if stats:
        # per-round statistics of all rows (scalars): every block reads the same values
        prep = {**prep, **stats}
    if not state.lock.acquire(blocking=False):  # the same data set in two threads at once
        state = _BlockState()
        state.lock.acquire()
    try:
        grad, hess = state.outputs(z.shape)
        try:
            run_blocked(loss._gradient_hessian_fast, z, prep, state.workspaces, grad, hess, check_finite=check_finite)
        except NonFiniteInput:
            check_raw_scores(loss, raw, engine)  # raises, naming the loss and what went wrong
            raise  # (unreachable: a block saw a NaN or inf)
        k = loss._engine_factor(stats, hess, w, reduce)
        if k != 1.0:  # a power of two: exact, two passes over the float32 outputs
            grad *= k
            hess *= k
        return grad, hess
    finally:
        state.lock.release()


def _raise_if_nonfinite_scores(loss: Any, raw: Any, z: np.ndarray, engine: str, unchecked: bool) -> None:
    """The adapters' message for NaN/inf scores, where statistics of all rows (e.g. the quantile's
    MM scale) came out non-finite before the row blocks could check the scores (they would fail
    with e.g. "cannot convert float infinity to integer" from a power of two); nothing otherwise."""
    if unchecked and not np.isfinite(z).all():
        check_raw_scores(loss, raw, engine)  # raises, naming the loss and what went wrong


def _prepared_for(prepared: dict, loss: Any, z: np.ndarray) -> dict | None:
    """The data set's label preparation for ``loss`` and these scores' dtype and columns, or None.

    The same loss object every round is recognised by identity (hashing a loss walks its
    parameters: ~17 us a call); an equal copy (e.g. after pickling) by ``==``."""
    entry = prepared.get("entry")
    if entry is None or entry[1] != z.dtype or entry[2] != z.shape[1:]:
        return None
    if entry[0] is loss:
        return entry[3]
    try:
        same = bool(entry[0] == loss)
    except Exception:  # a user's loss whose equality fails: prepare again (always correct)
        same = False
    if not same:
        return None
    prepared["entry"] = (loss, *entry[1:])  # recognised by identity from the next round on
    return entry[3]


def _allreduce_sum(sums: np.ndarray) -> np.ndarray:
    """``sums`` added up over the workers of a distributed XGBoost training (``xgboost.dask``,
    Spark, ...), unchanged otherwise: a loss's per-round statistics are then the same on every
    worker, as XGBoost's own quantile objective does (``collective::GlobalSum``)."""
    collective = sys.modules.get("xgboost.collective")
    if collective is not None and collective.is_distributed():
        return np.asarray(collective.allreduce(np.ascontiguousarray(sums, dtype=np.float64), collective.Op.SUM))
    return sums


class _BlockState:
    """Per data set: the threads' scratch workspaces and the last returned outputs."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.workspaces: list[Workspace] = []
        self._out: dict[str, np.ndarray] = {}

    def outputs(self, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        return self._buffer("grad", shape), self._buffer("hess", shape)

    def _buffer(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Last round's buffer when nobody holds it any more (the engines copy gradients at
        once); a fresh array otherwise, so a caller keeping a previous result never sees it
        change."""
        buf = self._out.get(name)
        # references: the dict, ``buf`` and getrefcount's argument
        if buf is None or buf.shape != shape or sys.getrefcount(buf) > 3:
            buf = self._out[name] = np.empty(shape, np.float32, order="F")
        return buf


def evaluate(scorer: Any, raw: Any, owner: Any, raw_y: Any, raw_w: Any, engine: str) -> float:
    """``scorer``'s value (e.g. the weighted mean loss) on the engine's raw scores."""
    metric = as_metric(scorer)
    z = check_raw_scores(metric, raw, engine)
    y, w = labels_and_weights(metric, owner, raw_y, raw_w, z, engine)
    return float(metric._score(y, z, w))


# ---------------------------------------------------------------------------------- start scores
def n_classes_for(loss: Any, k_param: Any, raw_y: Any) -> int:
    """K for a multiclass loss: fixed by the loss (``alpha``), else ``num_class``, else max label + 1."""
    k_loss = getattr(loss, "n_classes", None)
    if k_param is not None and k_loss is not None and int(k_param) != k_loss:
        raise ValueError(f"num_class={k_param} but {loss!r} was built for {k_loss} classes (length of alpha)")
    if k_loss is not None:
        return int(k_loss)
    if k_param is not None:
        return int(k_param)
    y = np.asarray(raw_y, dtype=np.float64)
    if y.size == 0 or not np.all(np.isfinite(y)):
        raise ValueError(f"{_describe(loss)} needs finite class indices as labels")
    try:  # K = largest label + 1, bounded by the rows (a stray 1e7 label is not 1e7 classes)
        return infer_n_classes(y.reshape(-1), n_rows=int(y.size), name="the labels")
    except ValueError as exc:
        raise ValueError(f"{_describe(loss)} cannot be trained on these labels: {exc}") from None


def n_outputs_of(loss: Any, k_param: Any = None, name: str = "num_target") -> int | None:
    """K for a regression loss with K > 1 outputs per row (``MultiQuantileLoss``: one per
    quantile), else None; ``k_param``, the engine's own setting (``num_target``/``num_class``),
    must then be None or K."""
    k = getattr(loss, "n_outputs", None)
    if loss.task == "multiclass" or k is None or int(k) < 2:
        return None
    if k_param is not None and int(k_param) != int(k):
        raise ValueError(f"{name}={k_param} but {loss!r} has {k} outputs (one per quantile)")
    return int(k)


def start_score(loss: Any, raw_y: Any, raw_w: Any, n_classes: int | None, engine: str) -> float | np.ndarray:
    """``loss.init_score`` of a data set's labels and weights, validating them first.

    Raises ``ValueError`` naming the loss and what it expected (regression targets for a
    focal loss, more classes than ``alpha`` has, missing labels) - before any tree is built.
    """
    if raw_y is None or np.size(raw_y) == 0:
        raise ValueError(f"{_describe(loss)} needs labels, but the {engine} data set has none (label=y)")
    try:
        y = loss.check_y(np.asarray(raw_y), n_classes) if loss.task == "multiclass" else loss.check_y(raw_y)
        w = check_sample_weight(None if raw_w is None or np.size(raw_w) == 0 else raw_w, y.shape[0])
        w = np.ones(y.shape[0]) if w is None else w
        if not np.sum(w) > 0:
            raise ValueError("sample weights sum to zero")
        if loss.task == "multiclass":
            if n_classes is not None and n_classes > y.shape[0]:
                # checked before np.bincount allocates n_classes counts
                raise ValueError(
                    f"num_class={n_classes} but the data set has {y.shape[0]} rows: every class needs "
                    f"a (weighted) sample for a finite start score"
                )
            present = np.bincount(y, weights=w, minlength=n_classes) > 0
            if not np.all(present):
                raise ValueError(
                    f"classes {describe_ids(np.flatnonzero(~present).tolist())} of {n_classes} have no "
                    f"(weighted) samples, so the best start score is -inf"
                )
        # the labels are validated: the private fast path, with K fixed above
        start = loss._init_score(y, w)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{_describe(loss)} cannot be trained on this {engine} data set: {exc}") from None
    return start if np.ndim(start) else float(start)


# ---------------------------------------------------------------------------------- engine ranges
#: the largest float32: XGBoost stores features, labels and weights as float32, and a larger
#: finite float64 becomes inf there ("Input data contains `inf`", "Label contains NaN, infinity
#: or a value too large", raised inside the engine)
FLOAT32_MAX = float(np.finfo(np.float32).max)
#: LightGBM stores labels as float32 and silently clamps them to +-1e38 (measured, LightGBM 4.7:
#: a label of 1e300 trains as 1e38, while the start score was computed from 1e300)
LIGHTGBM_LABEL_MAX = float(np.float32(1e38))


def _numeric_values(a: Any) -> np.ndarray | None:
    """The numeric values of an array, sparse matrix or DataFrame (numeric columns), flat; None
    when there is nothing numeric to look at (e.g. strings, left to the engine's own checks)."""
    if hasattr(a, "select_dtypes") and hasattr(a, "to_numpy"):  # a pandas DataFrame
        a = a.select_dtypes(include="number").to_numpy(dtype=np.float64, na_value=np.nan)
    elif hasattr(a, "tocsr") and hasattr(a, "data"):  # a scipy sparse matrix or array
        a = a.data
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError):
        return None
    if arr.dtype.kind not in "fiu" or arr.size == 0:
        return None
    return arr.reshape(-1)


def check_engine_range(name: str, values: Any, engine: str, limit: float, why: str) -> None:
    """Raise a ``ValueError`` naming ``name`` when a finite value of ``values`` is beyond
    +-``limit`` (NaN, the engines' missing value, passes; so does anything non-numeric).

    One pass each for the largest and the smallest value (``np.fmax/fmin.reduce`` skip NaN and
    copy nothing), before the engine converts the data and fails or changes it silently.
    """
    arr = _numeric_values(values)
    if arr is None or arr.dtype.kind in "iu":  # integers stay below 2^64, far inside both limits
        return
    with np.errstate(invalid="ignore"):
        hi = float(np.fmax.reduce(arr))
        lo = float(np.fmin.reduce(arr))
    worst = max(abs(hi) if hi == hi else 0.0, abs(lo) if lo == lo else 0.0)
    if worst > limit:
        raise ValueError(
            f"{name} has a value of {hi if abs(hi) >= abs(lo) else lo:g}, beyond +-{limit:.3g}: {engine} {why}; "
            f"rescale it (e.g. divide by a power of 10) before training"
        )


def check_xgboost_inputs(X: Any, y: Any, w: Any, prefix: str = "") -> None:
    """X, y and sample weights within float32's range, which XGBoost stores them in."""
    why = "stores {} as float32, whose largest value is 3.4e38 (a larger one becomes inf and fails inside XGBoost)"
    check_engine_range(f"{prefix}X", X, "XGBoost", FLOAT32_MAX, why.format("features"))
    check_engine_range(f"{prefix}y", y, "XGBoost", FLOAT32_MAX, why.format("labels"))
    if w is not None:
        check_engine_range(f"{prefix}sample_weight", w, "XGBoost", FLOAT32_MAX, why.format("weights"))


def check_lightgbm_labels(name: str, y: Any) -> None:
    """Labels within +-1e38: LightGBM stores them as float32 and clamps them there silently."""
    check_engine_range(
        name,
        y,
        "LightGBM",
        LIGHTGBM_LABEL_MAX,
        "stores labels as float32 and clamps them to +-1e38 without a warning, so it would train on other "
        "targets than the start score and the metrics use",
    )
