"""Dask helpers: distributed start scores, and XGBoost / LightGBM training that starts from them.

The losses' engine adapters (``loss.xgboost_objective``, ``loss.sklearn_objective``, ...) work
unchanged with ``xgboost.dask`` and ``lightgbm.dask``: they are bound methods of module-level
classes, so they pickle with their loss, and every worker imports ``gbobjectives`` itself. What
the engines do NOT do on Dask is start from the best constant (XGBoost starts at 0.5, LightGBM at
0 with a custom objective). This module computes ``loss.init_score`` on distributed data without
collecting it on one machine, and feeds it to the engines:

* :func:`init_score` - the start score from dask arrays / series (map-reduce passes only);
* :func:`xgboost_train` - ``xgboost.dask.train`` with ``base_score`` set to that start;
* :func:`xgboost_metric` - a custom metric whose value is the GLOBAL weighted mean (XGBoost's
  custom metrics are otherwise computed on each worker's rows only);
* :func:`lightgbm_fit` - ``DaskLGBMClassifier/Regressor.fit`` with ``init_score=`` built from the
  start, folded into the booster afterwards so that ``predict`` includes it;
* :func:`predict_raw` / :func:`predict_proba` - raw scores / real probabilities from a Dask
  estimator trained with a custom objective (whose ``predict_proba`` returns raw scores).

``import gbobjectives`` does not import this module, and this module imports ``dask`` only inside
its functions.

How each start score is computed (``W`` = total weight, every sum is a dask reduction):

========================  ======================================================================
binary (logloss, focal)    weighted class sums ``S1 = sum w*y`` and ``S0 = sum w*(1-y)``, then
                           ``loss.init_score([1, 0], sample_weight=[S1, S0])``: the optimum
                           depends on nothing else, so this is the loss's own exact math.
multiclass focal           per-class weight sums ``W_c``, then
                           ``loss.init_score(range(K), sample_weight=W)`` (exact, same reason).
regression losses          by the ``init_score_method`` each loss class declares
                           (``gbobjectives/losses/registry.py``):
"gradient_root"            Brent's method on ``G(c) = sum w * g(c - y)`` over ``[min y, max y]``
(Huber, pseudo-Huber,      (``g`` is the loss's own gradient); every evaluation of ``G`` is one
log-cosh, expectile, ...)  map-reduce over the persisted data. Same tolerances as the
                           single-machine solver: agrees with it to ~1e-15 relative.
"weighted_quantile"        the exact weighted quantile at ``loss.quantile_level`` by distributed
(quantile, absolute and    selection: sketch candidates from every block, count the weight below
relative error, ...)       each candidate, keep the bracket that holds the quantile, repeat until
                           the bracket has at most ``gather_limit`` rows, which are then
                           gathered and finished exactly. See :func:`init_score`. A loss whose
                           rows are weighted by their labels (``loss._quantile_weights``, e.g.
                           the relative error's ``w/|y|``) has those weights computed on the
                           workers first.
========================  ======================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gbobjectives._validation import check_sample_weight
from gbobjectives.losses.base import Loss
from gbobjectives.losses.registry import spec_of

__all__ = [
    "init_score",
    "xgboost_train",
    "xgboost_metric",
    "DistributedXGBoostMetric",
    "lightgbm_fit",
    "predict_raw",
    "predict_proba",
]

# A block is a pair (labels, weights or None) of numpy arrays living on a worker.
_Block = tuple[np.ndarray, "np.ndarray | None"]


# ------------------------------------------------------------------------------------- blocks
def _is_dask_collection(obj: Any) -> bool:
    try:
        from dask.base import is_dask_collection
    except ImportError:  # dask not installed: nothing can be a dask collection
        return False
    return bool(is_dask_collection(obj))


def _pair(y: Any, w: Any) -> _Block:
    """Runs on a worker: a block's labels and weights as numpy (a one-column frame becomes 1-D)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if w is not None:
        w = np.asarray(w, dtype=np.float64)
        if w.ndim == 2 and w.shape[1] == 1:
            w = w[:, 0]
    return y, w


def _pair_from_xgb_part(part: dict) -> _Block:
    """Runs on a worker: labels/weights of one partition of an ``xgboost.dask.DaskDMatrix``."""
    if part.get("label") is None:
        raise ValueError("the DaskDMatrix has no labels (pass label= when building it)")
    return _pair(part["label"], part.get("weight"))


def _blocks(y: Any, sample_weight: Any) -> list[Any]:
    """One ``dask.delayed`` block (labels, weights) per partition, partitions aligned.

    Arrays: ``sample_weight`` is rechunked to the label chunks (cheap, row-aligned). DataFrame
    collections are zipped partition by partition (as the Dask estimators themselves require).
    Mixed array / frame inputs go through ``to_dask_array(lengths=True)`` (one cheap pass).
    """
    import dask
    import dask.array as da

    def as_array(obj: Any) -> Any:
        return obj if isinstance(obj, da.Array) else obj.to_dask_array(lengths=True)

    if sample_weight is not None and not _is_dask_collection(sample_weight):
        raise TypeError(f"sample_weight must be a dask collection like y (or None), got {type(sample_weight).__name__}")
    pair = dask.delayed(_pair, pure=True)
    y_is_array, w_is_array = isinstance(y, da.Array), isinstance(sample_weight, da.Array)
    if sample_weight is None:
        y_parts = y.to_delayed().ravel() if y_is_array else y.to_delayed()
        return [pair(b, None) for b in y_parts]
    if not y_is_array and not w_is_array:
        if y.npartitions != sample_weight.npartitions:
            raise ValueError(
                f"y has {y.npartitions} partitions but sample_weight {sample_weight.npartitions}; "
                f"repartition them alike"
            )
        return [pair(a, b) for a, b in zip(y.to_delayed(), sample_weight.to_delayed())]
    ya, wa = as_array(y), as_array(sample_weight)
    if ya.ndim == 2:
        ya = ya.rechunk({1: -1})  # one block per row range, whatever the column chunking
    if wa.shape[0] != ya.shape[0] and not (np.isnan(wa.shape[0]) or np.isnan(ya.shape[0])):
        raise ValueError(f"y has {ya.shape[0]} rows but sample_weight has {wa.shape[0]}")
    wa = wa.rechunk((ya.chunks[0],) + tuple((s,) for s in wa.shape[1:]))
    return [pair(a, b) for a, b in zip(ya.to_delayed().ravel(), wa.to_delayed().ravel())]


class _Runner:
    """Runs one function per block and brings back only the (small) per-block results."""

    def __init__(self, blocks: list[Any], client: Any = None, persist: bool = True) -> None:
        import dask

        self.client = client
        if persist:
            # several passes read the blocks: keep them in worker memory instead of recomputing
            # the upstream graph (e.g. re-reading parquet) on every pass
            blocks = list(client.persist(blocks)) if client is not None else list(dask.persist(*blocks))
        self.blocks = blocks

    def map(self, func: Any, *args: Any) -> list[Any]:
        import dask

        tasks = [dask.delayed(func, pure=True)(b, *args) for b in self.blocks]
        if self.client is not None:
            return list(self.client.gather(self.client.compute(tasks)))
        return list(dask.compute(*tasks))


# ------------------------------------------------------------------------------- block functions
# Module-level functions (not closures): they are pickled to the workers.
def _block_stats(block: _Block, loss: Any, n_classes: int | None) -> dict[str, Any]:
    """Validates a block with the loss's own checks and returns its sufficient statistics."""
    y_raw, w_raw = block
    y = loss.check_y(y_raw, n_classes) if loss.task == "multiclass" else loss.check_y(y_raw)
    w = check_sample_weight(w_raw, y.shape[0])
    if w is None:
        w = np.ones(y.shape[0])
    out: dict[str, Any] = {"n": int(y.shape[0]), "W": float(np.sum(w))}
    if loss.task == "binary":
        out["S1"] = float(np.sum(w * y))
        out["S0"] = float(np.sum(w * (1 - y)))
    elif loss.task == "multiclass":
        out["Wc"] = np.bincount(y, weights=w).astype(np.float64)
    else:
        out["min"] = float(np.min(y)) if y.size else np.inf
        out["max"] = float(np.max(y)) if y.size else -np.inf
    return out


def _block_gradient_sum(block: _Block, loss: Any, c: float) -> float:
    """sum_i w_i g(c - y_i): the derivative of the total loss at the constant score c."""
    y = loss.check_y(block[0])
    if y.size == 0:
        return 0.0
    w = check_sample_weight(block[1], y.shape[0])
    grad, _ = loss._gradient_hessian(y, np.full(y.shape[0], c), w)
    return float(np.sum(grad))


def _block_row_weights(block: _Block, loss: Any) -> _Block:
    """The block's labels with the loss's quantile weights (``RelativeErrorLoss``: ``w/|y|``)."""
    y = loss.check_y(block[0])
    return y, loss._quantile_weights(y, check_sample_weight(block[1], y.shape[0]))


def _block_weight_sum(block: _Block) -> float:
    return float(block[0].shape[0]) if block[1] is None else float(np.sum(block[1]))


def _reweighted_runner(run: _Runner, loss: Any, client: Any, persist: bool) -> _Runner:
    import dask

    blocks = [dask.delayed(_block_row_weights, pure=True)(b, loss) for b in run.blocks]
    return _Runner(blocks, client=client, persist=persist)


def _in_bracket(y: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (y > lo) & (y <= hi)


def _block_sketch(block: _Block, lo: float, hi: float, size: int) -> np.ndarray:
    """Up to ``size`` evenly spaced order statistics of the block's labels in (lo, hi]."""
    y = np.asarray(block[0], dtype=np.float64).reshape(-1)
    v = np.sort(y[_in_bracket(y, lo, hi)])
    if v.size <= size:
        return v
    # every gap between consecutive picks holds at most ~v.size/size of this block's rows
    return v[np.linspace(0, v.size - 1, size).round().astype(np.intp)]


def _block_histogram(block: _Block, lo: float, hi: float, cands: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weight and row count of the labels in (lo, hi] per bin (cands[j-1], cands[j]]; bin m is > cands[-1]."""
    y = np.asarray(block[0], dtype=np.float64).reshape(-1)
    w = np.ones(y.shape[0]) if block[1] is None else np.asarray(block[1], dtype=np.float64).reshape(-1)
    keep = _in_bracket(y, lo, hi)
    idx = np.searchsorted(cands, y[keep], side="left")
    m = cands.size + 1
    return np.bincount(idx, weights=w[keep], minlength=m), np.bincount(idx, minlength=m)


def _block_gather(block: _Block, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """The block's labels in (lo, hi] and their weights (only a few rows: the final bracket)."""
    y = np.asarray(block[0], dtype=np.float64).reshape(-1)
    w = np.ones(y.shape[0]) if block[1] is None else np.asarray(block[1], dtype=np.float64).reshape(-1)
    keep = _in_bracket(y, lo, hi)
    return y[keep], w[keep]


# ------------------------------------------------------------------------------------ init score
def _combine_stats(stats: list[dict[str, Any]], loss: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"n": sum(s["n"] for s in stats), "W": float(np.sum([s["W"] for s in stats]))}
    if loss.task == "binary":
        out["S1"] = float(np.sum([s["S1"] for s in stats]))
        out["S0"] = float(np.sum([s["S0"] for s in stats]))
    elif loss.task == "multiclass":
        k = max(s["Wc"].size for s in stats)
        out["Wc"] = np.sum([np.pad(s["Wc"], (0, k - s["Wc"].size)) for s in stats], axis=0)
    else:
        out["min"] = min(s["min"] for s in stats)
        out["max"] = max(s["max"] for s in stats)
    return out


def _root_find(run: _Runner, loss: Any, lo: float, hi: float) -> float:
    """Root of the increasing G(c) = sum w g(c - y) in [lo, hi]: the single-machine solver, distributed."""
    from gbobjectives.losses._solvers import solve_increasing

    def G(c: float) -> float:
        return float(np.sum(run.map(_block_gradient_sum, loss, float(c))))

    if lo == hi:
        return lo
    if G(lo) >= 0:
        return lo
    if G(hi) <= 0:
        return hi
    # the single-machine solver (Brent's method; a bracket wider than 2^40 length scales, e.g.
    # targets spanning 1e160, first narrowed by bisection so that Brent converges)
    return solve_increasing(G, lo, hi, float(loss._length_scale()))


def _weighted_quantile(run: _Runner, tau: float, W: float, sketch_size: int, gather_limit: int) -> float:
    """The smallest label v with sum_{y <= v} w >= tau * W, by distributed selection (see init_score)."""
    target = tau * W
    lo, hi = -np.inf, np.inf  # invariant: F(lo) < target <= F(hi); rows in (lo, hi] are "open"
    w_below = 0.0  # F(lo): weight of the rows <= lo
    n_open = None
    while n_open is None or n_open > gather_limit:
        sketches = [s for s in run.map(_block_sketch, lo, hi, sketch_size) if s.size]
        cands = np.unique(np.concatenate(sketches)) if sketches else np.empty(0)
        max_cands = 64 * sketch_size  # bounds the bytes shipped to every block
        if cands.size > max_cands:
            cands = cands[np.linspace(0, cands.size - 1, max_cands).round().astype(np.intp)]
        hists = run.map(_block_histogram, lo, hi, cands)
        wbin = np.sum([h[0] for h in hists], axis=0)
        nbin = np.sum([h[1] for h in hists], axis=0)
        F = w_below + np.cumsum(wbin[:-1])  # F(cands[j])
        j = int(np.searchsorted(F, target, side="left"))  # first candidate reaching the target
        new_n = int(nbin[j])
        if j < cands.size:
            hi = float(cands[j])
        if j > 0:
            lo = float(cands[j - 1])
            w_below = float(F[j - 1])
        if n_open is not None and new_n >= n_open:
            break  # cannot shrink further (all open rows tie): gather what is left
        n_open = new_n
    ys, ws = zip(*run.map(_block_gather, lo, hi))
    y = np.concatenate(ys)
    w = np.concatenate(ws)
    if y.size == 0:  # only possible through rounding of float weights at a near-tie
        return hi
    order = np.argsort(y, kind="stable")
    cw = w_below + np.cumsum(w[order])
    k = int(np.searchsorted(cw, target, side="left"))
    return float(y[order][min(k, y.size - 1)])


def init_score(
    loss: Any,
    y: Any,
    sample_weight: Any = None,
    *,
    client: Any = None,
    persist: bool = True,
    sketch_size: int = 256,
    gather_limit: int = 100_000,
) -> float | np.ndarray:
    r"""``loss.init_score(y, sample_weight)`` on distributed data, without collecting ``y`` on one machine.

    Only per-block statistics travel to the client (sums, a few candidates and histograms).
    ``y`` and ``sample_weight`` are dask arrays, Series or one-column DataFrames with aligned
    partitions; plain numpy/pandas input falls back to ``loss.init_score``. Labels and weights
    are validated on the workers by the loss's own checks (the same errors as on one machine).

    Accuracy against the single-machine ``loss.init_score``:

    * logloss / focal / multiclass focal: the loss's own closed form or root finder applied to
      the weighted class sums (``\sum w y`` and ``\sum w (1-y)``, or ``W_c``), which is all the
      optimum depends on - identical up to the summation order of the sums (bit-identical
      with integer weights, ~1e-16 relative otherwise);
    * Huber / pseudo-Huber / log-cosh: Brent's method on ``G(c) = \sum w g(c - y)`` in
      ``[min y, max y]``, one map-reduce per evaluation (typically 8-40), same tolerances as on
      one machine: measured agreement 1-2 ulp, <= 3e-16 relative (tests require 1e-10);
    * quantile: the weighted tau-quantile (the smallest ``y_(k)`` whose cumulative weight
      reaches ``tau * W``) by distributed selection. Each round, every block sends
      ``sketch_size`` evenly spaced order statistics of its labels inside the current bracket;
      one counting pass sums the weight of the rows below each candidate; the bracket becomes
      the pair of consecutive candidates around ``tau * W``. Each round divides the rows left
      in the bracket by about ``sketch_size``, so ``n = 1e8`` needs 3 rounds (6 passes) with the
      defaults; when at most ``gather_limit`` rows are left they are gathered and finished
      exactly. The result is therefore an order statistic of the data, not an interpolation:
      measured error 0 (bit-identical) in every test case, ties and weights included. Its only
      error source is rounding of float-weight sums when ``tau * W`` lies within ~n*eps*W of a
      cumulative weight; then it may return the neighbouring order statistic, as the
      single-machine ``np.cumsum`` may (either one minimises the pinball loss up to that
      rounding). A multi-quantile loss gets one such selection per quantile (its
      ``quantile_levels``), returned as its (K,) start (``loss.raw_from_quantiles``).

    Parameters
    ----------
    loss : a gbobjectives loss
    y, sample_weight : dask collections (``sample_weight`` may be None)
    client : a ``distributed.Client``; default: dask's current scheduler
    persist : keep the label/weight blocks in worker memory during the passes (recommended:
        root finding and the quantile make several passes)
    sketch_size, gather_limit : quantile only, see above.

    Example
    -------
    >>> import dask.array as da, gbobjectives as gbo
    >>> from gbobjectives.dask import init_score
    >>> y = da.from_array([0.0, 1.0, 2.0, 10.0], chunks=2)
    >>> init_score(gbo.QuantileLoss(quantile=0.5), y)
    1.0
    >>> init_score(gbo.WeightedLogLoss(), da.from_array([1.0, 0.0, 0.0, 0.0], chunks=2))  # log(1/3)
    -1.0986122886681098
    """
    if not _is_dask_collection(y):
        return loss.init_score(np.asarray(y), None if sample_weight is None else np.asarray(sample_weight))
    return _init_score_from_blocks(loss, _blocks(y, sample_weight), client, persist, sketch_size, gather_limit)


def _init_score_from_blocks(
    loss: Any, blocks: list[Any], client: Any, persist: bool = True, sketch_size: int = 256, gather_limit: int = 100_000
) -> float | np.ndarray:
    # only the regression losses make more than one pass, so only they gain from persisting
    run = _Runner(blocks, client=client, persist=persist and loss.task == "regression")
    k_fixed = getattr(loss, "n_classes", None) if loss.task == "multiclass" else None
    s = _combine_stats(run.map(_block_stats, loss, k_fixed), loss)
    if s["n"] == 0:
        raise ValueError("y_true is empty; init_score needs at least one sample")
    if not s["W"] > 0:
        raise ValueError("sample_weight sums to zero; init_score is undefined")
    if loss.task == "binary":
        # exact: the optimum depends on the labels only through the two class sums
        return loss.init_score(np.array([1.0, 0.0]), np.array([s["S1"], s["S0"]]))
    if loss.task == "multiclass":
        W = s["Wc"]
        if W.size < 2:
            W = np.pad(W, (0, 2 - W.size))  # K >= 2, as loss.check_y infers it on one machine
        return loss.init_score(np.arange(W.size), W)
    # the loss declares how its best constant is found (gbobjectives/losses/registry.py)
    if spec_of(loss).init_score_method == "weighted_quantile":
        W = s["W"]
        if type(loss)._quantile_weights is not Loss._quantile_weights:
            # rows weighted by their labels (RelativeErrorLoss: w/|y|): selected from blocks
            # holding those weights (computed on the workers, kept there)
            run = _reweighted_runner(run, loss, client, persist)
            W = float(np.sum(run.map(_block_weight_sum)))
        levels = getattr(loss, "quantile_levels", None)
        if levels is not None:  # several quantiles in one model (MultiQuantileLoss): one selection each
            q = [_weighted_quantile(run, float(t), W, int(sketch_size), int(gather_limit)) for t in levels]
            return loss.raw_from_quantiles(np.array(q))
        return _weighted_quantile(run, float(loss.quantile_level), W, int(sketch_size), int(gather_limit))
    return _root_find(run, loss, s["min"], s["max"])


# ------------------------------------------------------------------------------------ XGBoost
class DistributedXGBoostMetric:
    """``custom_metric=`` for ``xgboost.dask.train``: the GLOBAL weighted mean loss.

    XGBoost calls a custom metric on every worker with that worker's rows only and does not
    combine the values (each worker's history differs; the returned history is one worker's).
    This metric all-reduces ``(sum w * loss, sum w)`` through ``xgboost.collective`` when
    training is distributed, so every worker - and the history - reports the metric of the
    whole data set; on one machine it equals ``loss.xgboost_metric``.

    Example
    -------
    >>> import gbobjectives as gbo
    >>> m = DistributedXGBoostMetric(gbo.HuberLoss())
    >>> m.__name__
    'huber(delta=1)'
    """

    def __init__(self, loss: Any) -> None:
        self.loss = loss
        self.__name__ = loss.name

    def __call__(self, predt: np.ndarray, dmatrix: Any) -> tuple[str, float]:
        from xgboost import collective

        y = dmatrix.get_label()
        w = dmatrix.get_weight()
        w = None if w.size == 0 else w
        if y.size:
            total = float(np.sum(self.loss.loss(y, predt, w)))
            weight = float(y.size if w is None else np.sum(w))
        else:  # a worker may hold no rows of an evaluation set; it must still join the allreduce
            total, weight = 0.0, 0.0
        if collective.is_distributed():
            total, weight = collective.allreduce(np.array([total, weight]), collective.Op.SUM).tolist()
        return self.loss.name, (total / weight if weight > 0 else float("nan"))

    def __repr__(self) -> str:
        return f"DistributedXGBoostMetric({self.loss!r})"


def xgboost_metric(loss: Any) -> DistributedXGBoostMetric:
    """The global weighted mean loss as an ``xgboost.dask.train`` custom metric (see the class)."""
    return DistributedXGBoostMetric(loss)


def _dmatrix_blocks(dtrain: Any) -> list[Any]:
    """One delayed (labels, weights) block per partition of a DaskDMatrix, read where it lives.

    ``worker_map`` (worker -> futures of ``{"data", "label", "weight", ...}`` partitions) is how
    ``xgboost.dask`` itself ships partitions to training; we read labels from the same futures.
    """
    import dask

    worker_map = getattr(dtrain, "worker_map", None)
    if not worker_map:
        raise TypeError(
            "could not read the partitions of this DaskDMatrix (xgboost internals changed?); pass "
            "y= and sample_weight= to gbobjectives.dask.xgboost_train"
        )
    parts = [f for futures in worker_map.values() for f in futures]
    return [dask.delayed(_pair_from_xgb_part, pure=True)(f) for f in parts]


def _has_base_margin(part: dict) -> bool:
    return part.get("base_margin") is not None


def xgboost_train(
    client: Any,
    loss: Any,
    params: dict[str, Any],
    dtrain: Any,
    num_boost_round: int = 10,
    *,
    y: Any = None,
    sample_weight: Any = None,
    evals: Sequence[tuple[Any, str]] | None = None,
    custom_metric: Any = None,
    early_stopping_rounds: int | None = None,
    verbose_eval: bool | int = False,
    xgb_model: Any = None,
    callbacks: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """``xgboost.dask.train`` with ``loss`` as the objective, starting from the distributed init score.

    As :func:`gbobjectives.xgboost.train` does on one machine: ``base_score`` is set to
    :func:`init_score` of the training labels (a length-K list - XGBoost's vector intercept -
    for a multiclass loss, whose ``num_class`` is set too), so the returned booster's
    ``predict(..., output_margin=True)`` includes it. The labels and weights are read from
    the DaskDMatrix's partitions on the workers; pass ``y`` / ``sample_weight`` (the dask
    collections the DaskDMatrix was built from) to skip that. The default metric is
    :func:`xgboost_metric` (the global weighted mean loss, lower is better).

    Returns ``{"booster": Booster, "history": {...}}`` like ``xgboost.dask.train``.

    Example
    -------
    >>> # out = gbobjectives.dask.xgboost_train(client, FocalLoss(), {"max_depth": 3},
    >>> #                                       xgboost.dask.DaskDMatrix(client, X, y), 50)
    >>> # p = FocalLoss().inverse_link(out["booster"].predict(xgboost.DMatrix(X_local), output_margin=True))
    """
    from xgboost import dask as dxgb

    params = dict(params)
    if "objective" in params:
        raise ValueError(f"params['objective']={params['objective']!r}: the loss {loss!r} is the objective; remove it")
    if xgb_model is None and "base_score" not in params:
        has_margin = False
        if y is None:
            blocks = _dmatrix_blocks(dtrain)
            has_margin = any(
                client.gather(
                    [client.submit(_has_base_margin, f, pure=False) for fs in dtrain.worker_map.values() for f in fs]
                )
            )
            start = None if has_margin else _init_score_from_blocks(loss, blocks, client)
        else:
            start = init_score(loss, y, sample_weight, client=client)
        if has_margin:
            params["base_score"] = 0.0  # the DaskDMatrix's margins are the start
        elif np.ndim(start) == 0:
            params["base_score"] = float(start)  # type: ignore[arg-type]
        else:
            params["base_score"] = [float(v) for v in np.ravel(start)]
            params["num_class"] = len(params["base_score"])
    if loss.task == "multiclass" and "num_class" not in params:
        raise ValueError("a multiclass loss needs params['num_class'] when base_score or xgb_model is given")
    if "eval_metric" not in params:
        params["disable_default_eval_metric"] = True  # XGBoost's default would see raw margins
    return dxgb.train(
        client,
        params,
        dtrain,
        num_boost_round,
        evals=list(evals) if evals else None,
        obj=loss.xgboost_objective,
        custom_metric=custom_metric if custom_metric is not None else xgboost_metric(loss),
        early_stopping_rounds=early_stopping_rounds,
        verbose_eval=verbose_eval,
        xgb_model=xgb_model,
        callbacks=list(callbacks) if callbacks else None,
    )


# ------------------------------------------------------------------------------------ LightGBM
def _constant_block(block: np.ndarray, start: np.ndarray) -> np.ndarray:
    n = block.shape[0]
    return np.array(np.broadcast_to(start, (n,) + start.shape), dtype=np.float64)


def _constant_series(part: Any, start: float) -> Any:
    import pandas as pd

    return pd.Series(np.full(len(part), start, dtype=np.float64), index=part.index)


def _constant_frame(part: Any, start: np.ndarray) -> Any:
    import pandas as pd

    return pd.DataFrame(np.tile(start, (len(part), 1)), index=part.index, columns=list(range(start.size)))


def constant_like(y: Any, start: float | np.ndarray) -> Any:
    """A dask collection partitioned like ``y`` holding ``start`` on every row ((n,) or (n, K)).

    This is the ``init_score=`` that ``DaskLGBM*.fit`` expects: same partitions as ``y``.
    """
    import dask.array as da

    s = np.asarray(start, dtype=np.float64)
    if isinstance(y, da.Array):
        rows = y.chunks[0]
        if s.ndim == 0:
            return y.reshape(-1).rechunk((rows,)).map_blocks(_constant_block, s, dtype=np.float64)
        col = y.reshape(-1, 1).rechunk((rows, 1))
        return col.map_blocks(_constant_block, s, dtype=np.float64, chunks=(rows, (s.size,)))
    if s.ndim == 0:
        return y.map_partitions(_constant_series, float(s), meta=(None, "f8"))
    import pandas as pd

    meta = pd.DataFrame({i: pd.Series(dtype="f8") for i in range(s.size)})
    return y.map_partitions(_constant_frame, s, meta=meta)


def lightgbm_fit(model: Any, loss: Any, X: Any, y: Any, sample_weight: Any = None, **fit_kwargs: Any) -> Any:
    """Fit a ``DaskLGBMClassifier`` / ``DaskLGBMRegressor`` from the loss's distributed init score.

    LightGBM starts from 0 with a custom objective. This computes :func:`init_score` on the
    workers, passes it as ``init_score=`` (a dask collection partitioned like ``y``), and then
    folds it into the first trees' leaves (:func:`gbobjectives.lightgbm.fold_start_into_booster`)
    so that the fitted model's raw predictions include it - LightGBM's ``predict`` would
    otherwise drop it. ``model.objective`` is set to ``loss.sklearn_objective`` if it is unset.
    Returns ``model``. Use :func:`predict_proba` for probabilities (the classifier's own
    ``predict_proba`` returns raw scores with a custom objective).

    Example
    -------
    >>> # model = lightgbm_fit(lightgbm.DaskLGBMClassifier(n_estimators=50), FocalLoss(), X, y)
    >>> # p = predict_proba(model, FocalLoss(), X)    # dask array (n, 2)
    """
    from gbobjectives.engines.lightgbm import fold_start_into_booster

    if model.get_params().get("objective") is None:
        model.set_params(objective=loss.sklearn_objective)
    client = getattr(model, "client", None)
    start = init_score(loss, y, sample_weight, client=client)
    if "init_score" in fit_kwargs:
        raise ValueError("lightgbm_fit computes init_score itself; call model.fit to pass your own")
    model.fit(X, y, sample_weight=sample_weight, init_score=constant_like(y, start), **fit_kwargs)
    fold_start_into_booster(model.booster_, start)
    return model


# ------------------------------------------------------------------------------------ prediction
def _is_xgboost(model: Any) -> bool:
    return type(model).__module__.startswith("xgboost")


def predict_raw(model: Any, X: Any) -> Any:
    """Raw scores of a fitted Dask estimator of either engine (a dask collection)."""
    if _is_xgboost(model):
        return model.predict(X, output_margin=True)
    return model.predict(X, raw_score=True)


def _proba_block(raw: np.ndarray, loss: Any) -> np.ndarray:
    p = loss.inverse_link(raw)
    if loss.task == "binary":
        p = p.reshape(-1)
        return np.stack([1.0 - p, p], axis=1)
    return p


def predict_proba(model: Any, loss: Any, X: Any) -> Any:
    """Class probabilities (n, K) - (n, 2) for binary - from the raw scores and ``loss.inverse_link``.

    With a custom objective, ``DaskLGBMClassifier.predict_proba`` returns raw scores, and
    ``DaskXGBClassifier.predict_proba`` applies sigmoid/softmax whatever the loss's link;
    this applies the loss's own link. Rows sum to 1.
    """
    import dask.array as da

    raw = predict_raw(model, X)
    if not isinstance(raw, da.Array):
        raw = raw.to_dask_array(lengths=True)
    k = 2 if loss.task == "binary" else raw.shape[1]
    if raw.ndim == 2:
        raw = raw.rechunk({1: -1})
        if loss.task == "binary":
            raw = raw[:, 0]
    rows = raw.chunks[0]
    new_axis = None if raw.ndim == 2 else 1  # binary: (n,) raw scores become (n, 2) probabilities
    return raw.map_blocks(_proba_block, loss, dtype=np.float64, chunks=(rows, (k,)), new_axis=new_axis)
