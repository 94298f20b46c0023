"""Leaf refit: after each tree is grown, re-set every leaf to the loss's best constant.

Why
---
With the training-safe Hessian ``h = 1``, a quantile/absolute-error leaf moves by at most
``tau`` or ``1 - tau`` (times the learning rate) per round, whatever the scale of ``y``: on
heavy-tailed data a plain custom quantile objective ends up 2x-20x worse in pinball loss than
the engines' built-in objectives. The built-ins (XGBoost's adaptive trees for
``reg:quantileerror`` / ``reg:absoluteerror``, LightGBM's ``RenewTreeOutput`` for ``quantile``
/ ``l1``) keep the tree *structure* grown from gradients but replace each leaf value by the
weighted tau-quantile of the residuals ``y - score`` of the rows in it, times the learning
rate. This module does the same for any loss that declares a leaf rule
``loss.leaf_value(residuals, weights) -> float`` (the best constant for those residuals:
:class:`~gbobjectives.QuantileLoss` -> exact weighted tau-quantile, the midpoint of the
minimisers: at tau = 0.5 without weights the textbook median, as both built-ins use;
:class:`~gbobjectives.HuberLoss` -> exact Huber M-estimate), and optionally a batched
``loss.leaf_values(residuals, weights, groups, n_groups)`` solving all leaves at once.
The residual is taken against the score *before* the tree and the learning rate applied
after the refit, in that order, as in LightGBM's ``GBDT::TrainOneIter`` (``RenewTreeOutput``
then ``Shrinkage``) and XGBoost's adaptive trees.

Mechanism (measured on XGBoost 3.2 / LightGBM 4.7; see ``benchmarks/results/refit.md``)
---------------------------------------------------------------------------------------
Neither engine recomputes its cached training/validation scores after a leaf is changed
from Python, so the next round's objective would see stale scores. We therefore keep, for
every data set involved, an *offset* vector ``sum over refit trees of (new - old leaf value
of the row's leaf)`` and add it to the raw scores the engine hands to the objective and to
the metrics. What the objective sees is then exactly ``start + sum of refit trees``.

* LightGBM: ``Booster.set_leaf_output`` right after the tree is grown (cheap); leaf indices
  from ``predict(raw_data, pred_leaf=True, start_iteration=t, num_iteration=1)``, which needs
  the raw feature matrix (kept from the Dataset before LightGBM frees it).
* XGBoost: there is no leaf setter. Editing the model JSON and reloading it every round costs
  O(number of trees) per round (~150 ms at 200 trees x 20k rows), and the ``refresh``
  updater can only re-process *all* trees in order. So the new leaf values are recorded per
  round (leaf indices from ``booster[t:t+1].predict(dtrain, pred_leaf=True)``, old values
  from the one-tree slice's JSON) and written into the model with a single JSON edit in
  ``after_training``; until then the offsets keep training exact.

Which leaf each training row fell in is read off the change of the engine's cached training
scores (the new tree's leaf value was just added to each): :func:`leaf_from_score_change`,
exact or declined (then the tree is traversed as above; validation rows always are).

Entry points: the ``refit_leaves=`` option of :func:`gbobjectives.xgboost.train` and
:func:`gbobjectives.lightgbm.train` (default: on for losses with a leaf rule). This module is the
engine-free core (:class:`LeafRefit`); each engine's subclass lives next to its engine
(``gbobjectives.engines.xgboost.XGBoostLeafRefit``, ``gbobjectives.engines.lightgbm.LightGBMLeafRefit``),
so the dependency points from the engines to this module only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gbobjectives import _compiled_leaves
from gbobjectives.losses._solvers import values_by_group

__all__ = [
    "supports_refit",
    "structure_loss",
    "refit_leaf_values",
    "leaf_values",
    "leaf_from_score_change",
    "learning_rate_of",
    "LeafRefit",
]


def supports_refit(loss: Any) -> bool:
    """True when ``loss`` is a regression loss that declares ``leaf_value(residuals, weights)``,
    or one leaf rule per output (``loss.output_leaf_rules()``, e.g. the per-quantile rules of
    ``MultiQuantileLoss(noncrossing="sort")``)."""
    if getattr(loss, "task", None) != "regression":
        return False
    return callable(getattr(loss, "leaf_value", None)) or _output_rules(loss) is not None


def _output_rules(loss: Any) -> list[Any] | None:
    """The per-output leaf rules of a K-output loss (objects with ``leaf_value``), or None."""
    rules = getattr(loss, "output_leaf_rules", None)
    return rules() if callable(rules) else None


def structure_loss(loss: Any) -> Any:
    """The loss whose (gradient, Hessian) grow the trees' structure under leaf refit: ``loss``
    itself, except that the default majorize-minimize curvature (``hessian="mm"``) is replaced
    by the unit Hessian (``"constant"``), as the built-ins' refitting objectives grow their trees.

    Why: the refit sets every leaf to the loss's best constant, so the curvature only shapes the
    splits, and the MM curvature (large near the target, ~1/|r| away from it) favours splits
    that isolate a few rows near the current prediction. Measured on scikit-learn's diabetes
    data (331 training rows, 100 rounds, BoostedRegressor, 0.9-quantile held-out pinball):
    XGBoost 16.57 with MM trees vs 12.73 with unit-Hessian trees (13.58 MM without refit),
    LightGBM 13.74 vs 12.97; on 20k rows both within 0.5 % of the built-ins
    (``benchmarks/refit.py``). Without refit (the plain engine APIs) MM stays the right choice.
    """
    if getattr(loss, "hessian", None) == "mm" and "constant" in getattr(loss, "hessian_options", ()):
        return loss.with_params(hessian="constant")
    return loss


def refit_leaf_values(
    loss: Any,
    leaf: np.ndarray,
    residual: np.ndarray,
    weight: np.ndarray,
    learning_rate: float,
    counts: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Leaf ids present in ``leaf`` and their refit values ``learning_rate * loss.leaf_value(...)``.

    ``residual`` is ``y - score before the tree``. A leaf whose rows all have zero weight has
    no best constant: its value is NaN, meaning "keep the engine's value". A loss may also
    declare ``leaf_values(residuals, weights, groups, n_groups)``, all leaves at once (as
    :class:`~gbobjectives.HuberLoss` does, vectorised); it must equal ``leaf_value`` on each
    group's rows (NaN for zero total weight). Its groups are the leaf ids themselves, so some
    groups in ``range(n_groups)`` have no rows (node ids that are no leaf of this tree): their
    values are dropped, whatever they are. Otherwise ``leaf_value`` is called per leaf.
    ``counts``: ``np.bincount(leaf)`` when the caller has it already (trailing zeros allowed).

    Example
    -------
    >>> from gbobjectives import QuantileLoss
    >>> ids, v = refit_leaf_values(QuantileLoss(0.5), np.array([3, 1, 3]), np.array([1.0, 5.0, 2.0]), np.ones(3), 0.5)
    >>> ids.tolist(), v.tolist()  # leaf 3: the median of {1, 2} is 1.5
    ([1, 3], [2.5, 0.75])
    """
    leaf = np.asarray(leaf, dtype=np.intp)
    counts = np.bincount(leaf) if counts is None else counts
    present = counts > 0
    ids = np.flatnonzero(present)
    batched = getattr(loss, "leaf_values", None)
    if callable(batched):
        # leaf ids are small node/leaf indices: the ids themselves serve as groups (ids that
        # are no leaf have no rows: NaN, dropped), saving a pass that would renumber them
        vals = np.asarray(batched(residual, weight, leaf, counts.size), dtype=np.float64)[ids]
    else:  # one leaf at a time, each on its rows in row order
        vals = values_by_group(loss.leaf_value, residual, weight, leaf, counts.size)[ids]
    return ids, learning_rate * vals


def leaf_from_score_change(
    before: np.ndarray, after: np.ndarray, engine_after: np.ndarray, ids: np.ndarray, values: np.ndarray, eps: float
) -> np.ndarray | None:
    """Each row's leaf of the newest tree, read off the change of its score, or None if unsure.

    The engine adds the new tree's leaf value to every training row's cached score, so
    ``after - before`` is, up to rounding, the value of the row's leaf; a search among the
    tree's (at most a few hundred) sorted leaf values names the leaf in one pass, where
    traversing the tree for 1M rows costs 40 ms (XGBoost) to 165 ms (LightGBM, which reads the
    raw features row by row). The answer is used only if it is unambiguous and exact: every
    row's change lies within the rounding bound ``tol`` of its leaf's value, and any two leaf
    values are more than ``2 tol`` apart. ``tol = 4 (eps + 2^-52) * max|score|`` bounds the
    engine's rounding of its own update (``eps``: 2^-24 for XGBoost's float32 cache, 2^-53 for
    LightGBM's float64 one) and ours of ``before``/``after`` (float64, offsets included);
    ``engine_after`` is the engine's own new score (without our offsets), for that bound.

    ``before``/``after``: float64 (n,); ``ids``/``values``: the leaves' ids and values as the
    engine added them. A NaN anywhere, ties or a change that matches no leaf give None (the
    caller then traverses the tree).

    Example
    -------
    >>> leaf_from_score_change(np.zeros(3), np.array([0.5, -1.0, 0.5]), np.array([0.5, -1.0, 0.5]),
    ...                        np.array([3, 4]), np.array([0.5, -1.0]), 2.0**-53).tolist()
    [3, 4, 3]
    """
    if values.size == 0 or before.shape != after.shape:
        return None
    if _compiled_leaves.available() and before.ndim == 1:
        return _leaf_from_score_change_compiled(before, after, engine_after, ids, values, eps)
    scale = max(float(np.max(np.abs(engine_after))), float(np.max(np.abs(before))), float(np.max(np.abs(after))))
    tol = 4.0 * (eps + 2.0**-52) * scale
    order = np.argsort(values)
    sv, sid = values[order], np.asarray(ids)[order]
    if sv.size > 1 and not float(np.min(np.diff(sv))) > 2.0 * tol:  # ties (or NaN): ambiguous
        return None
    change = after - before
    pos = np.searchsorted(0.5 * (sv[1:] + sv[:-1]), change) if sv.size > 1 else np.zeros(change.size, np.intp)
    err = float(np.max(np.abs(change - sv[pos])))
    if not err <= tol:  # written so that a NaN fails too
        return None
    return sid[pos]


def _leaf_from_score_change_compiled(
    before: np.ndarray, after: np.ndarray, engine_after: np.ndarray, ids: np.ndarray, values: np.ndarray, eps: float
) -> np.ndarray | None:
    """:func:`leaf_from_score_change` by the compiled kernel: the same decisions and leaves."""
    found = _leaves_from_change(before, after, None, ids, values, eps, float(np.max(np.abs(engine_after))))
    return None if found is None else found[0]


def _leaves_from_change(
    before: np.ndarray,
    engine_after: np.ndarray,
    offset: np.ndarray | None,
    ids: np.ndarray,
    values: np.ndarray,
    eps: float,
    other_scale: float = 0.0,
    y: np.ndarray | None = None,
    out: tuple[np.ndarray, np.ndarray | None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """:func:`leaf_from_score_change` with ``after = engine_after + offset`` formed row by row
    inside the compiled kernel (search, error and scale in one pass: ~7 ms at 1M rows where the
    numpy passes took ~75 ms); ``other_scale`` joins the maximum of the rounding bound. Returns
    ``(leaf ids, rows per leaf id (np.bincount of the leaf ids, up to trailing zeros), the
    residuals y - before when ``y`` is given, else None)``, or None (declined). ``out``: buffers
    for the leaf ids and residuals (:func:`gbobjectives._compiled_leaves.leaf_by_change`)."""
    order = np.argsort(values)
    sv = np.ascontiguousarray(values[order], dtype=np.float64)
    sid = np.ascontiguousarray(np.asarray(ids)[order], dtype=np.int64)
    f64 = [None if a is None else np.ascontiguousarray(a, dtype=np.float64) for a in (before, engine_after, offset, y)]
    leaf, counts, err, scale, resid = _compiled_leaves.leaf_by_change(*f64[:3], sv, sid, f64[3], out=out)
    tol = 4.0 * (eps + 2.0**-52) * max(scale, other_scale)
    if sv.size > 1 and not float(np.min(np.diff(sv))) > 2.0 * tol:  # ties (or NaN): ambiguous
        return None
    if not err <= tol:  # written so that a NaN fails too
        return None
    by_id = np.zeros(int(sid.max()) + 1, dtype=np.int64)
    by_id[sid] = counts
    return leaf, by_id, resid


#: the former name of :func:`refit_leaf_values` (a loss's own batched rule is ``loss.leaf_values``)
leaf_values = refit_leaf_values


def _add_leaf_deltas(
    offset: np.ndarray, leaf: np.ndarray, delta: np.ndarray, scratch: np.ndarray | None = None
) -> None:
    """``offset += delta[leaf]`` in place, rows whose leaf id is beyond ``delta`` unchanged (a
    leaf without training rows keeps its value: delta 0; ids beyond the table too). ``offset``
    may be a strided view (a column of K outputs). ``scratch``: a float64 array of ``leaf``'s
    shape for the gathered deltas (else a fresh one)."""
    if (
        _compiled_leaves.available()
        and offset.ndim == 1
        and offset.dtype == np.float64
        and offset.flags.c_contiguous
        and leaf.dtype == np.int64
        and leaf.flags.c_contiguous
    ):
        _compiled_leaves.add_gathered(offset, leaf, delta)  # one pass on the kernel threads
        return
    if leaf.size and int(leaf.max()) < delta.size:  # the usual case: one gather, one add (no masks)
        # mode="clip" (ids are in range here): with mode="raise" numpy buffers ``out`` anyway
        offset += np.take(delta, leaf, out=scratch, mode="clip")
        return
    inside = leaf < delta.size
    offset[inside] += delta[leaf[inside]]


def learning_rate_of(params: dict[str, Any], aliases: Sequence[str], default: float) -> float:
    """The learning rate in ``params`` under the first of the engine's ``aliases`` present, else ``default``."""
    for a in aliases:
        if a in params:
            return float(params[a])
    return default


class LeafRefit:
    """Engine-independent core: offsets, lazy refit of each new tree, wrapped objective/metrics.

    Subclasses implement ``_n_trees``, ``_leaf_index(data, t)``, ``_old_values(t, ids)`` and
    ``_set_values(t, ids, values)``. The refit of tree ``t`` is *lazy*: it runs at the first of
    (the next objective call, a metric call, the after-iteration callback, the end of
    training) - the engines evaluate metrics before they run after-iteration callbacks, so
    the metrics must be able to trigger it.
    """

    engine = ""

    def __init__(self, loss: Any, learning_rate: float, y: Any, w: Any, train_data: Any) -> None:
        if not supports_refit(loss):
            raise ValueError(f"{loss!r} declares no leaf rule (leaf_value); leaf refit is not available")
        self.loss = loss
        self.structure_loss = structure_loss(loss)
        self.learning_rate = float(learning_rate)
        self._y = np.asarray(y, dtype=np.float64).ravel()
        self._w = np.ones_like(self._y) if w is None or np.size(w) == 0 else np.asarray(w, dtype=np.float64).ravel()
        self._train = train_data
        # K outputs per row (MultiQuantileLoss): K trees per round, tree k refit by rule k, and
        # (n, K) offsets; one output otherwise
        self._rules = _output_rules(loss)
        self._k = 1 if self._rules is None else len(self._rules)
        # id(data) -> (data, offset); the data object is held so that its id stays unique
        self._offsets: dict[int, tuple[Any, np.ndarray]] = {id(train_data): (train_data, self._zeros(self._y.size))}
        self.booster: Any = None
        self.n_refit: int | None = None  # trees [0, n_refit) are final (init model trees count as final)
        self._z_prev: np.ndarray | None = None
        self.leaf_lookups = {"scores": 0, "traversal": 0}
        # per-round arrays over the training rows, kept between rounds: fresh ones cost their
        # page faults every round (~1000 faults, ~10 ms of system time a round at 1M rows)
        self._buffers: dict[str, np.ndarray] = {}
        self._given_scores: np.ndarray | None = None  # see objective()

    def __deepcopy__(self, memo: dict) -> LeafRefit:
        # lightgbm.train deep-copies params, objective included: a copy would track offsets
        # for copies of the Datasets, never the ones training uses. The refit state is shared.
        return self

    def _buffer(self, name: str, shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
        """The kept array ``name`` (contents undefined), made anew if its shape or dtype changed.
        Each name has one use within a round; nothing holds one across rounds."""
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._buffers[name] = np.empty(shape, dtype=dtype)
        return buf

    def _zeros(self, n_rows: int) -> np.ndarray:
        return np.zeros(n_rows) if self._rules is None else np.zeros((n_rows, self._k))

    # ------------------------------------------------------------------ registration
    def add_eval(self, data: Any, n_rows: int) -> None:
        """Track the offsets of a validation data set (its metrics then see refit scores)."""
        if id(data) not in self._offsets:
            self._offsets[id(data)] = (data, self._zeros(n_rows))

    def offset(self, data: Any) -> np.ndarray:
        """Correction to add to the engine's cached raw scores of ``data``."""
        hit = self._offsets.get(id(data))
        if hit is None or hit[0] is not data:
            raise ValueError(
                f"leaf refit: this {self.engine} data set was not registered for evaluation; scores "
                "computed by the engine would be stale (pass it in evals/valid_sets of the train helper)"
            )
        return hit[1]

    def _attach(self, booster: Any) -> None:
        if self.booster is None:
            self.booster = booster
            self.n_refit = self._n_rounds()  # trees of an init model are not ours to change

    def _n_rounds(self) -> int:
        """Rounds in the booster (one tree each, or K with K outputs)."""
        return self._n_trees()

    # ------------------------------------------------------------------ the refit
    def sync(self) -> None:
        """Refit the newest tree if it has not been refit yet (idempotent)."""
        if self.booster is None or self.n_refit is None:
            return
        if self._rules is not None:
            self._sync_outputs()
            return
        n = self._n_trees()
        if n == self.n_refit:
            return
        if n != self.n_refit + 1 or self._z_prev is None:
            # The residuals of a tree are y - (score before it); we only know that score for
            # the tree grown right after the last objective call.
            raise RuntimeError(
                f"leaf refit lost track of the model: {n - self.n_refit} unrefit trees "
                "(one tree per round, grown from the wrapped objective, is required)"
            )
        t = self.n_refit
        leaf, counts, residual = self._train_leaf(t)
        if residual is None:
            residual = self._y - self._z_prev
        ids, new = refit_leaf_values(self.loss, leaf, residual, self._w, self.learning_rate, counts=counts)
        old = self._old_values(t, ids)
        new = np.where(np.isnan(new), old, new)
        new = self._set_values(t, ids, new)  # returns the values as the engine stores them
        delta = np.zeros(int(ids.max()) + 1 if ids.size else 1)
        delta[ids] = new - old
        for data, off in self._offsets.values():
            li = leaf if data is self._train else self._leaf_index(data, t)
            # (the compiled pass needs no scratch; numpy's gather does)
            numpy_scratch = data is self._train and not _compiled_leaves.available()
            _add_leaf_deltas(off, li, delta, self._buffer("gathered", off.shape) if numpy_scratch else None)
        self.n_refit = t + 1

    def _sync_outputs(self) -> None:
        """:meth:`sync` for K outputs: round ``t`` holds one tree per output; tree ``k`` is refit
        with rule ``k`` on the residuals ``y - z_k`` of the score before the round (the leaves
        are found by traversal, (n, K) per data set)."""
        n = self._n_rounds()
        if n == self.n_refit:
            return
        if n != self.n_refit + 1 or self._z_prev is None:
            raise RuntimeError(
                f"leaf refit lost track of the model: {n - self.n_refit} unrefit rounds "
                "(one round of K trees, grown from the wrapped objective, is required)"
            )
        t = self.n_refit
        leaves = {key: self._leaf_index(data, t).reshape(-1, self._k) for key, (data, _) in self._offsets.items()}
        for k, rule in enumerate(self._rules):
            ids, new = refit_leaf_values(
                rule, leaves[id(self._train)][:, k], self._y - self._z_prev[:, k], self._w, self.learning_rate
            )
            old = self._old_values(t, ids, k)
            new = np.where(np.isnan(new), old, new)
            new = self._set_values(t, ids, new, k)
            delta = np.zeros(int(ids.max()) + 1 if ids.size else 1)
            delta[ids] = new - old
            for key, (_, off) in self._offsets.items():
                _add_leaf_deltas(off[:, k], leaves[key][:, k], delta)
        self.leaf_lookups["traversal"] += 1
        self.n_refit = t + 1

    def _train_leaf(self, t: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Leaf of every training row in tree ``t``: from the change of the engine's cached
        scores where the engine can say so cheaply (:func:`leaf_from_score_change`), else by
        traversing the tree. ``leaf_lookups`` counts which way each tree went. Returns ``(leaf
        ids, rows per leaf id or None, residuals y - score before the tree or None)``: the
        compiled lookup counts the rows and forms the residuals in its one pass."""
        found = None
        if self._y.size >= self._SCORES_MIN_ROWS and self._z_prev is not None:
            engine_after = self._given_or_read_train_scores()
            if engine_after is not None and engine_after.shape == self._z_prev.shape:
                ids, values = self._leaf_table(t)
                if _compiled_leaves.available() and values.size > 0:
                    off = self.offset(self._train)
                    n = self._y.size
                    out = self._buffer("leaf", (n,), np.int64), self._buffer("residual", (n,))
                    found = _leaves_from_change(
                        self._z_prev, engine_after, off, ids, values, self._score_eps, y=self._y, out=out
                    )
                else:
                    after = engine_after + self.offset(self._train)
                    leaf = leaf_from_score_change(self._z_prev, after, engine_after, ids, values, self._score_eps)
                    found = None if leaf is None else (leaf, None, None)
        self.leaf_lookups["scores" if found is not None else "traversal"] += 1
        return found if found is not None else (self._leaf_index(self._train, t), None, None)

    def _given_or_read_train_scores(self) -> np.ndarray | None:
        """The engine's cached training scores now: the ones it just handed the objective (the
        refit then runs inside that call), else read from the engine (a copy out of it)."""
        given = self._given_scores
        if given is None:
            return self._train_scores_now()
        given = np.asarray(given)
        out = self._buffer("engine scores", given.shape)
        out[...] = given  # (XGBoost's float32 scores into float64)
        return out

    def objective(self, preds: np.ndarray, data: Any) -> tuple[np.ndarray, np.ndarray]:
        """The loss's objective on the engine's scores plus the refit offsets. ``preds`` are the
        engine's cached training scores, after the newest tree: the refit of that tree, if still
        due, reads its leaves off them instead of asking the engine for a copy."""
        self._given_scores = preds if data is self._train else None
        try:
            self.sync()  # the last tree's refit is done: the previous scores' buffer is free
        finally:
            self._given_scores = None
        off = self.offset(data)
        preds = np.asarray(preds)
        shape = np.broadcast_shapes(preds.shape, off.shape)
        z = np.add(preds, off, out=self._buffer("scores", shape), dtype=np.float64)
        self._z_prev = z
        return self._engine_objective(z, data)

    def wrap_metric(self, fn: Callable) -> Callable:
        """A metric ``fn(preds, data)`` that sees refit scores (the engine's cached ones are stale)."""

        def metric(preds: np.ndarray, data: Any) -> Any:
            self.sync()
            return fn(np.asarray(preds, dtype=np.float64) + self.offset(data), data)

        metric.__name__ = getattr(fn, "__name__", "metric")
        return metric

    # ------------------------------------------------------------------ engine specifics
    def _engine_objective(self, z: np.ndarray, data: Any) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def _n_trees(self) -> int:  # pragma: no cover
        raise NotImplementedError

    def _leaf_index(self, data: Any, t: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    #: training rows from which leaves are read off score changes (below: traversal is as cheap)
    _SCORES_MIN_ROWS = 0
    #: relative rounding of the engine's cached scores
    _score_eps = 2.0**-53

    def _train_scores_now(self) -> np.ndarray | None:
        """The engine's cached raw scores of the training rows now (float64), or None."""
        return None

    def _leaf_table(self, t: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        """(leaf ids, leaf values as the engine added them to the cached scores) of tree ``t``."""
        raise NotImplementedError

    def _old_values(self, t: int, ids: np.ndarray, k: int = 0) -> np.ndarray:  # pragma: no cover
        """Values of leaves ``ids`` of round ``t``'s tree (output ``k`` with K outputs)."""
        raise NotImplementedError

    def _set_values(self, t: int, ids: np.ndarray, values: np.ndarray, k: int = 0) -> np.ndarray:  # pragma: no cover
        """Set them (output ``k``'s tree); returns the values as the engine stores them."""
        raise NotImplementedError
