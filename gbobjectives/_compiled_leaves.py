"""The compiled leaf refit kernels (``gbobjectives/_leaf_kernels.c``): thin wrappers, or unavailable.

They do, over every training row in one or a few passes each, what the leaf refit
(:mod:`gbobjectives.refit`) and the batched leaf solvers (:mod:`gbobjectives.losses._solvers`)
otherwise do in numpy: read each row's leaf off the change of its score, group the rows by leaf
(a stable counting sort) and solve every leaf's best constant (Huber M-estimate by safeguarded
Newton; unit-weight quantile by selection). The numpy code stays as the reference and the
fallback; callers ask :func:`available` first. One leaf refit round at 1M rows took ~200 ms of
numpy passes (sorts, gathers, searches; the engines' own round takes 50-110 ms there).

Threads: rows are split into contiguous ranges (:func:`gbobjectives._threads.run_ranges`);
groups into runs of whole groups of about equal row counts, each group solved by one thread, so
results do not depend on the thread count.
"""

from __future__ import annotations

import numpy as np

from gbobjectives import _compiled
from gbobjectives._threads import num_threads, run_parts, run_ranges

__all__ = ["available", "leaf_by_change", "group_rows", "huber_groups", "select_groups", "add_gathered"]

_F64, _I64 = np.dtype(np.float64), np.dtype(np.int64)
#: rows per thread at least (a pass over 32k rows takes ~30-100 us, a thread wake-up tens)
_MIN_ROWS = 65536


def available() -> bool:
    """Whether the compiled leaf kernels are active (with the loss kernels: one library)."""
    return _compiled.available()


def leaf_by_change(
    before: np.ndarray,
    engine_after: np.ndarray,
    offset: np.ndarray | None,
    values: np.ndarray,
    ids: np.ndarray,
    y: np.ndarray | None = None,
    out: tuple[np.ndarray, np.ndarray | None] | None = None,
) -> tuple[np.ndarray, np.ndarray, float, float, np.ndarray | None]:
    """Each row's leaf read off the change ``engine_after + offset - before`` of its score.

    ``values``: the leaves' values sorted ascending, ``ids`` their ids in that order (int64).
    Returns ``(leaf ids (n,) int64, rows per position of values, max |change - its leaf's value|
    (NaN if any is NaN), max(|engine_after|, |before|, |after|), residuals)`` for the caller's
    rounding bound (:func:`gbobjectives.refit.leaf_from_score_change`); with the labels ``y``
    the residuals ``y - before`` come from the same pass (else None). ``out``: ``(leaf ids, residuals
    or None)`` arrays to write them into (int64 / float64, n rows, contiguous) instead of fresh ones:
    a caller in a loop saves the page faults of 16 MB of new memory per 1M rows."""
    f = _compiled.leaf_function("gbo_leaf_by_change")
    n, nv = before.shape[0], values.shape[0]
    if engine_after.shape[0] != n or any(a is not None and a.shape[0] != n for a in (offset, y)) or ids.shape[0] != nv:
        raise ValueError("compiled leaf kernel arguments of different lengths")
    leaf, resid = out if out is not None else (np.empty(n, dtype=np.int64), None)
    if y is not None and resid is None:
        resid = np.empty(n)
    if leaf.shape != (n,) or (y is not None and resid.shape != (n,)):
        raise ValueError("compiled leaf kernel outputs of another length than the rows")
    mids = np.ascontiguousarray(0.5 * (values[1:] + values[:-1]))
    ptr = _compiled._ptr
    pb, pa, po, py = (ptr(a, _F64) for a in (before, engine_after, offset, y))
    pres = ptr(resid, _F64) if y is not None else None
    pv, pm, pi, pl = ptr(values, _F64), ptr(mids, _F64) if nv > 1 else None, ptr(ids, _I64), ptr(leaf, _I64)
    parts: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def work(lo: int, hi: int) -> int:
        counts, stats = np.zeros(nv, dtype=np.int64), np.zeros(2)
        parts[lo] = counts, stats
        f(hi - lo, pb + 8 * lo, pa + 8 * lo, po + 8 * lo if po else None, nv, pv, pm, pi, pl + 8 * lo,
          _compiled.address(counts), _compiled.address(stats), py + 8 * lo if py else None,
          pres + 8 * lo if pres else None)  # fmt: skip
        return 0

    run_ranges(work, n, _MIN_ROWS)
    counts = sum(c for c, _ in parts.values())
    err = np.array([s[0] for _, s in parts.values()])
    scale = max(s[1] for _, s in parts.values())
    return leaf, counts, float(np.nan if np.isnan(err).any() else err.max()), scale, resid if y is not None else None


def group_rows(
    r: np.ndarray, w: np.ndarray | None, group: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A stable counting sort of the rows by ``group`` (int64 in [0, n_groups)): ``(start
    (n_groups + 1,), r grouped, w grouped or None)``; group g's rows are ``start[g]:start[g+1]``,
    in row order. Row ranges are counted and scattered on several threads (each range writes
    its rows after those of the earlier ranges, so the order is the same for any thread count)."""
    count, scatter = _compiled.leaf_function("gbo_count_groups"), _compiled.leaf_function("gbo_scatter_groups")
    n = r.shape[0]
    if group.shape[0] != n or (w is not None and w.shape[0] != n):
        raise ValueError("compiled leaf kernel arguments of different lengths")
    threads = max(1, min(num_threads(), n // _MIN_ROWS))
    bounds = [n * i // threads for i in range(threads + 1)]
    counts = np.zeros((threads, n_groups), dtype=np.int64)
    pg, pr, pw = _compiled._ptr(group, _I64), _compiled._ptr(r, _F64), _compiled._ptr(w, _F64)

    def count_part(i: int) -> int:
        lo, hi = bounds[i], bounds[i + 1]
        return count(hi - lo, pg + 8 * lo, n_groups, _compiled.address(counts[i]))

    if any(status != 0 for status in run_parts(count_part, threads)):
        raise ValueError(f"group ids must lie in [0, {n_groups})")
    total = counts.sum(axis=0)
    start = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(total, out=start[1:])
    nexts = start[:-1] + np.cumsum(counts, axis=0) - counts  # each range's first slot per group
    rs = np.empty(n)
    ws = None if w is None else np.empty(n)
    prs, pws = _compiled.address(rs), None if ws is None else _compiled.address(ws)

    def scatter_part(i: int) -> None:
        lo, hi = bounds[i], bounds[i + 1]
        scatter(hi - lo, pg + 8 * lo, pr + 8 * lo, pw + 8 * lo if pw else None, _compiled.address(nexts[i]), prs, pws)

    run_parts(scatter_part, threads)
    return start, rs, ws


def _group_parts(start: np.ndarray) -> list[tuple[int, int]]:
    """Runs of whole groups with about equal row counts, one per thread."""
    n_groups, n = start.shape[0] - 1, int(start[-1])
    threads = max(1, min(num_threads(), n // _MIN_ROWS, n_groups))
    cuts = np.searchsorted(start, [n * i // threads for i in range(threads + 1)])
    cuts[0], cuts[-1] = 0, n_groups
    return [(int(cuts[i]), int(cuts[i + 1])) for i in range(threads) if cuts[i + 1] > cuts[i]]


def huber_groups(
    start: np.ndarray, rs: np.ndarray, ws: np.ndarray | None, delta: float, max_steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per group of :func:`group_rows`' output, the weighted Huber M-estimate: ``(values, state)``
    with state 0 solved, 1 open (extreme weights or residuals, or more than ``max_steps`` Newton
    steps: the caller's sorting solver finishes it; value unset), 2 no rows or zero weight (NaN)."""
    f = _compiled.leaf_function("gbo_huber_groups")
    n_groups = start.shape[0] - 1
    out, state = np.empty(n_groups), np.empty(n_groups, dtype=np.int8)
    ps, pr, pw = _compiled._ptr(start, _I64), _compiled._ptr(rs, _F64), _compiled._ptr(ws, _F64)
    po, pst = _compiled.address(out), _compiled.address(state)
    parts = _group_parts(start)
    if parts:
        run_parts(lambda i: f(*parts[i], ps, pr, pw, float(delta), int(max_steps), po, pst), len(parts))
    return out, state


def select_groups(start: np.ndarray, rs: np.ndarray, tau: float) -> np.ndarray:
    """Per group of :func:`group_rows`' output (unit weights), the midpoint of the minimisers of
    the tau-pinball loss (``rs`` is reordered within each group); NaN for an empty group."""
    f = _compiled.leaf_function("gbo_select_groups")
    out = np.empty(start.shape[0] - 1)
    ps, pr, po = _compiled._ptr(start, _I64), _compiled._ptr(rs, _F64), _compiled.address(out)
    parts = _group_parts(start)
    if parts:
        run_parts(lambda i: f(*parts[i], ps, pr, float(tau), po), len(parts))
    return out


def add_gathered(offset: np.ndarray, leaf: np.ndarray, delta: np.ndarray) -> None:
    """``offset += delta[leaf]`` in place over contiguous float64 ``offset`` and int64 ``leaf``,
    rows whose leaf id is outside ``[0, delta.size)`` unchanged; one pass on the kernel threads."""
    f = _compiled.leaf_function("gbo_add_gathered")
    n = offset.shape[0]
    if leaf.shape != (n,) or offset.ndim != 1:
        raise ValueError("compiled leaf kernel arguments of different lengths")
    delta = np.ascontiguousarray(delta, dtype=np.float64)
    po, pl, pd, nd = _compiled._ptr(offset, _F64), _compiled._ptr(leaf, _I64), _compiled._ptr(delta, _F64), delta.size

    def work(lo: int, hi: int) -> int:
        f(hi - lo, po + 8 * lo, pl + 8 * lo, pd, nd)
        return 0

    run_ranges(work, n, _MIN_ROWS)
