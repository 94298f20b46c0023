"""Regression losses on the residual r = z - y (identity link)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq

from gbobjectives._validation import check_scalar_param, describe_ids
from gbobjectives.losses._fast import Workspace
from gbobjectives.losses.base import RegressionLoss

__all__ = [
    "HuberLoss",
    "PseudoHuberLoss",
    "LogCoshLoss",
    "QuantileLoss",
    "AbsoluteErrorLoss",
    "RelativeErrorLoss",
    "ExpectileLoss",
    "weighted_quantile",
    "weighted_expectile",
]

_LOG2 = float(np.log(2.0))
_RTOL = 4 * np.finfo(float).eps


def _check_hessian(loss: RegressionLoss) -> None:
    if loss.hessian not in loss.hessian_options:  # type: ignore[attr-defined]
        raise ValueError(f"hessian must be one of {loss.hessian_options}, got {loss.hessian!r}")  # type: ignore[attr-defined]


def _tanh_ratio(x: np.ndarray, tanh_x: np.ndarray) -> np.ndarray:
    """``tanh(x)/x`` with its limit 1 at ``x = 0`` (``tanh`` is accurate near 0, so the quotient
    is too); ``x = +-inf`` gives 0."""
    return np.divide(tanh_x, x, out=np.ones_like(tanh_x), where=x != 0)


class _MMCurvature:
    """Mixin of the robust losses whose default ``"mm"`` curvature is the IRLS weight
    ``rho'(r)/r`` (at most 1): the engines get the pair times the power of two nearest to
    ``sum w / sum w h`` (:meth:`Loss._engine_factor`).

    Far from the target that curvature is small (``delta/|r|``: 0.02 per row at r = 1000,
    delta = 20), and the engines' own per-row safeguards then distort the Newton step -G/H:
    XGBoost's ``lambda = 1`` is added to H and ``min_child_weight = 1`` forbids leaves of fewer
    than 50 such rows (measured: 7 % worse held-out loss from XGBoost's start 0.5 on 4,000 rows).
    The factor brings the mean curvature to about 1 per unit weight, as for squared error, so
    those parameters keep their usual meaning; near the target it is 1. It is computed from the
    Hessians the engine path has just written (one sum), not from a second pass over the rows.
    """

    hessian: str

    def _engine_factor(self, stats, hess, w, reduce=None):
        if self.hessian != "mm":
            return 1.0
        sums = np.array([np.sum(hess, dtype=np.float64), float(hess.shape[0]) if w is None else np.sum(w)])
        if reduce is not None:
            sums = reduce(sums)
        return _power_of_two(float(sums[1] / sums[0])) if sums[0] > 0 else 1.0


def _power_of_two(x: float) -> float:
    """The power of two nearest to ``x > 0`` (in log scale). Engine factors are rounded so:
    multiplying by them is exact in floating point, so a weighted fit and a fit on duplicated
    rows still hand the engines bit-identical values (no new ties broken differently)."""
    return float(np.ldexp(1.0, int(np.round(np.log2(x)))))


def _weighted(grad: np.ndarray, hess: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if w is not None:
        grad = grad * w
        hess = hess * w
    return grad, hess


#: a bracket wider than _WIDE length scales is first narrowed to _NARROW length scales by
#: bisecting its float bit patterns (where G is flat, Brent's method gains one halving per step: a bracket
#: of 1e160 needs 530+ halvings, beyond scipy's 500 iterations, "Failed to converge")
_WIDE = 2.0**40
_NARROW = 2.0**20


def _float_key(x: float) -> int:
    """An integer ordering the doubles as the doubles themselves; adjacent doubles differ by 1."""
    b = int(np.array(x, dtype=np.float64).view(np.int64))
    return b if b >= 0 else -(b & 0x7FFF_FFFF_FFFF_FFFF)


def _key_float(k: int) -> float:
    """The inverse of :func:`_float_key`."""
    b = np.array(abs(k), dtype=np.int64).view(np.float64)
    return float(b) if k >= 0 else -float(b)


def _bisect_bits(G: Callable[[float], float], lo: float, hi: float, width: float) -> tuple[float, float, bool]:
    """Shrink [lo, hi] (G(lo) < 0 < G(hi), G non-decreasing) until hi - lo <= width or the
    ends are adjacent doubles, by bisecting the float bit patterns: halving the integer keys
    halves the exponent range first (a geometric mean's worth for a bracket of 1e160), so at
    most 64 steps reach adjacent doubles from any bracket. Returns (lo, hi, exact) where
    ``exact`` says that G(lo) == 0 was found (lo is then a root)."""
    klo, khi = _float_key(lo), _float_key(hi)
    while khi - klo > 1 and not (hi - lo <= width):
        mid = _key_float((klo + khi) // 2)
        g = G(mid)
        if g == 0:
            return mid, mid, True
        if g < 0:
            lo, klo = mid, _float_key(mid)
        else:
            hi, khi = mid, _float_key(mid)
    return lo, hi, False


def solve_increasing(G: Callable[[float], float], lo: float, hi: float, scale: float = 1.0) -> float:
    """A root of a non-decreasing G on [lo, hi], given G(lo) < 0 < G(hi).

    Brent's method (``scipy.optimize.brentq``, ``xtol=1e-300``, ``rtol=4 eps``) on the bracket,
    after narrowing a bracket wider than 2^40 ``scale`` (the loss's length scale) to 2^20
    ``scale`` by :func:`_bisect_bits`; brackets of ordinary data are solved as before, bit for
    bit. Should Brent still not converge, bisection of the bit patterns finishes the job at
    adjacent doubles (the better end is returned), so no bracket of finite doubles fails.
    """
    exact = False
    if not (hi - lo <= _WIDE * scale):  # (hi - lo may overflow to inf)
        lo, hi, exact = _bisect_bits(G, lo, hi, _NARROW * scale)
        if exact:
            return lo
    try:
        return float(brentq(G, lo, hi, xtol=1e-300, rtol=_RTOL, maxiter=500))
    except RuntimeError:  # pragma: no cover - not seen after the narrowing; kept as a guarantee
        lo, hi, exact = _bisect_bits(G, lo, hi, 0.0)
        return lo if exact or abs(G(lo)) <= abs(G(hi)) else hi


def _weight_shift(wmax: np.ndarray | float, g_max: float) -> np.ndarray:
    """The power-of-two exponent ``-e`` that brings ``wmax * g_max`` (about ``2^e``) to about 1,
    where ``|e| > 256`` and ``wmax > 0``; 0 elsewhere (ordinary weights stay as they are).

    Scaling weights by a power of two is exact and does not move the roots of ``sum w g``, while
    weights near 1e308 overflow such sums to inf (or NaN) and subnormal ones lose their digits.
    """
    wmax = np.asarray(wmax, dtype=np.float64)
    e = np.frexp(wmax)[1] + int(np.frexp(g_max)[1])  # wmax in [2^(e_w - 1), 2^e_w)
    return np.where((wmax > 0) & (np.abs(e) > 256), -e, 0)


def _bounded_weights(w: np.ndarray, g_max: float) -> np.ndarray:
    """``w`` scaled by a power of two so that max(w) * g_max is about 1 when it is beyond
    2^+-256 (:func:`_weight_shift`); ordinary weights are returned as they are."""
    k = int(_weight_shift(np.max(w), g_max))
    return w if k == 0 else np.ldexp(w, k)


def _root_of_increasing(G: Callable[[float], float], y: np.ndarray, scale: float = 1.0) -> float:
    """Root of sum s*g(c - y) = 0 for strictly increasing g, which lies in [min y, max y]
    (see :func:`solve_increasing`; ``scale`` is the loss's length scale)."""
    lo, hi = float(np.min(y)), float(np.max(y))
    if lo == hi:
        return lo
    g_lo, g_hi = G(lo), G(hi)
    if g_lo >= 0:
        return lo
    if g_hi <= 0:
        return hi
    return solve_increasing(G, lo, hi, scale)


def weighted_quantile(y: np.ndarray, w: np.ndarray, quantile: float, tie_break: str = "lower") -> float:
    r"""An exact minimiser of the weighted pinball loss :math:`\sum_i w_i \rho_\tau(y_i - c)`.

    Sort ``y`` ascending, :math:`y_{(1)} \le \dots \le y_{(n)}`, with cumulative weights
    :math:`C_k = w_{(1)} + \dots + w_{(k)}` and :math:`W = C_n`. On the gap
    :math:`(y_{(k)}, y_{(k+1)})` the loss has slope :math:`C_k - \tau W`, so with
    :math:`k = \min\{k : C_k \ge \tau W\}` and :math:`m = \min\{m : C_m > \tau W\}`
    every :math:`c \in [y_{(k)}, y_{(m)}]` is a minimiser, and only those (:math:`m = k`,
    a single point, unless :math:`C_k = \tau W` exactly).

    * ``tie_break="lower"``: :math:`y_{(k)}`, the smallest minimiser (an order statistic;
      :func:`gbobjectives.dask.init_score` selects the same one on distributed data).
    * ``tie_break="midpoint"``: :math:`(y_{(k)} + y_{(m)})/2`, the middle of the minimisers.
      With unit weights and ``quantile=0.5`` it is the textbook median (``np.median``).

    In floating point, :math:`C_k` (``np.cumsum``) is exact for integer weights (e.g. none) and
    :math:`\tau W` is rounded once (exact for a dyadic tau such as 0.5 with integer weights).
    When the exact :math:`\tau W` lies within that rounding of some :math:`C_k`, the neighbouring
    choice may be returned; it minimises the loss up to that rounding. numpy's interpolated
    percentiles (``np.quantile``'s default) are not minimisers in general.

    >>> weighted_quantile(np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4), 0.5)
    2.0
    >>> weighted_quantile(np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4), 0.5, tie_break="midpoint")
    2.5
    """
    if tie_break not in ("lower", "midpoint"):
        raise ValueError(f"tie_break must be 'lower' or 'midpoint', got {tie_break!r}")
    if len(y) > _SELECT_MIN and bool(np.all(w == 1.0)):
        return _unit_weight_quantile(y, quantile, tie_break)
    order = np.argsort(y, kind="stable")
    ys, cw = y[order], np.cumsum(w[order])
    target = quantile * cw[-1]
    last = len(ys) - 1  # the clip guards a target rounded up to W (quantile within 1 ulp of 1)
    k = min(int(np.searchsorted(cw, target, side="left")), last)
    if tie_break == "lower":
        return float(ys[k])
    m = min(int(np.searchsorted(cw, target, side="right")), last)
    return float(0.5 * ys[k] + 0.5 * ys[m])  # halves first: the sum of two huge values cannot overflow


#: below this many rows a full sort is as fast as selection
_SELECT_MIN = 1024


def _unit_weight_quantile(y: np.ndarray, quantile: float, tie_break: str) -> float:
    """:func:`weighted_quantile` for unit weights by selection (O(n), ``np.partition``) instead
    of a full sort: the same order statistics, hence the same value. With C_k = k exactly
    (integer cumulative weights) and ``target = quantile * n`` rounded as there, the 0-based
    indices are ``k = ceil(target) - 1`` (first C_k >= target) and ``m = floor(target)`` (first
    C_m > target), both clipped to [0, n - 1]. Leaf refit at 1M rows spent most of its time
    sorting (measured: 160 ms a round of argsort for LightGBM quantile refit)."""
    n = len(y)
    target = quantile * float(n)
    last = n - 1
    k = min(max(int(np.ceil(target)) - 1, 0), last)
    if tie_break == "lower":
        return float(np.partition(y, k)[k])
    m = min(int(np.floor(target)), last)
    part = np.partition(y, [k, m]) if m != k else np.partition(y, k)
    return float(0.5 * part[k] + 0.5 * part[m])


def _argsort_ties_in_order(a: np.ndarray) -> np.ndarray:
    """``np.argsort(a, kind="stable")``, by numpy's faster unstable sort when ``a`` has no ties
    (distinct values have only one sorted order)."""
    o = np.argsort(a)
    so = a[o]
    if so.size > 1 and np.any(so[1:] == so[:-1]):
        o = np.argsort(a, kind="stable")
    return o


def _stable_order(r: np.ndarray, group: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The permutation sorting rows by (group, r), ties in r kept in row order (a stable sort);
    ``counts`` is ``np.bincount(group, minlength=n_groups)``.

    Stability makes each group's summation order independent of the other groups. With few
    groups (tree leaves), rows are first grouped by a stable radix sort of the group ids
    (keeping row order) and each group's residuals sorted on their own: 48 ms instead of 122 ms
    for 1M rows in 64 groups (smaller sorts stay in cache); with many groups the per-group
    Python loop would dominate, so one global sort then a stable group sort.
    """
    n_groups = len(counts)
    key = group.astype(np.uint16) if n_groups <= 1 << 16 else group
    if n_groups > _PER_GROUP_SORT_MAX:
        o = _argsort_ties_in_order(r)
        return o[np.argsort(key[o], kind="stable")]
    by_group = np.argsort(key, kind="stable")
    rg = r[by_group]
    out = np.empty(r.shape[0], dtype=np.intp)
    s = 0
    for c in counts[counts > 0].tolist():
        out[s : s + c] = _argsort_ties_in_order(rg[s : s + c])
        out[s : s + c] += s
        s += c
    return by_group[out]


#: At most this many groups are sorted one by one in :func:`_stable_order`.
_PER_GROUP_SORT_MAX = 1024


def _huber_m_estimates(r: np.ndarray, w: np.ndarray, group: np.ndarray, n_groups: int, delta: float) -> np.ndarray:
    r"""Per group ``g``, a root of :math:`G_g(c) = \sum_{i \in g} w_i\,\mathrm{clip}(c - r_i, -\delta, \delta)`.

    ``G_g`` is continuous, piecewise linear and non-decreasing, from :math:`-\delta W_g` to
    :math:`\delta W_g`, with breakpoints :math:`r_i \mp \delta`; its roots are the minimisers of
    the weighted Huber loss. Exact method: find the bracketing pair of consecutive breakpoints
    ``lo`` (the largest with G <= 0) and ``hi`` (the smallest with G > 0), then solve the linear
    piece, ``c = lo - G(lo) (hi - lo) / (G(hi) - G(lo))`` (``lo`` itself when G(lo) = 0). When
    G vanishes on a whole interval (the weights clipped at +delta and -delta balance exactly,
    no residual within delta of it) every point of it is a root and rounding of G picks one.

    All groups are solved at once, without a Python loop over groups: one sort, then every
    bisection step evaluates G at one point per group with one pass over all rows (summed per
    group with ``np.add.reduceat`` over the sorted rows). A group's breakpoints form two sorted
    arrays, A1 = r_(.) - delta and A2 = r_(.) + delta (its residuals sorted). G being
    non-decreasing, ``G <= 0`` holds on a prefix of each, of lengths k1 and k2, and lo =
    max(A1[k1-1], A2[k2-1]), hi = min(A1[k1], A2[k2]). k1 is found by bisection (log2(largest
    group) passes). Then A2 points <= A1[k1-1] have G <= 0 and those >= A1[k1] have G > 0, so k2
    is bisected only between those two counts (found without G), usually a handful of points.
    G(A1[0]) = -delta W < 0 and G(A2[-1]) = delta W > 0 are taken for granted (k1 >= 1, k2 <=
    n-1). Each group's rows are summed in the same order (stable sort) whatever the other
    groups, so a group gives bit-identical results alone or with others.

    Overflow: G sums terms up to max(w) * delta; a group whose max(w) * delta is beyond 2^+-256
    (weights such as 1e308 overflowed G to inf and returned NaN) has its weights scaled by a
    power of two first, which is exact and does not move the roots. The linear piece is solved
    as ``lo + t (hi - lo)`` with ``t = -G(lo) / (G(hi) - G(lo))`` in [0, 1] where the plain
    formula would overflow (gaps between breakpoints beyond ~1e308 / |G|).

    NaN for a group with no rows or zero total weight (no best constant).
    """
    out = np.full(n_groups, np.nan)
    n = np.bincount(group, minlength=n_groups)
    W = np.bincount(group, weights=w, minlength=n_groups)
    solve = W > 0
    if not solve.any():
        return out
    order = _stable_order(r, group, n)
    rs, ws, gs = r[order], w[order], group[order]
    start = np.cumsum(n) - n
    a1, a2 = rs - delta, rs + delta

    # G runs ~2 log2(largest group) times: one reused row buffer (a fresh 8 MB temporary per
    # operation costs page faults), no multiply by unit weights (exact either way), and per-group
    # sums over the rows' contiguous sorted segments with np.add.reduceat (pairwise summation,
    # 20x faster than np.bincount's scattered adds; a segment's sum depends on its rows only)
    nonempty = np.flatnonzero(n > 0)
    seg_start = start[nonempty]
    ws = _rescaled_weights(ws, gs, nonempty, seg_start, n_groups, delta)
    unit_weights = bool(np.all(ws == 1.0))
    buf = np.empty_like(rs)

    def G(c: np.ndarray) -> np.ndarray:
        # c holds one evaluation point per group; every row reads its own group's point
        np.take(c, gs, out=buf)
        with np.errstate(over="ignore"):  # c - r beyond +-1.8e308 is +-inf, which clips to +-delta
            np.subtract(buf, rs, out=buf)
        np.clip(buf, -delta, delta, out=buf)
        if not unit_weights:
            np.multiply(buf, ws, out=buf)
        out = np.zeros(n_groups)
        out[nonempty] = np.add.reduceat(buf, seg_start)
        return out

    def prefix(
        a: np.ndarray, lo: np.ndarray, hi: np.ndarray, true_at: Callable[[np.ndarray], np.ndarray]
    ) -> np.ndarray:
        # per group, the end of the prefix of a (within the group's [lo, hi)) where true_at holds
        while True:
            active = lo < hi
            if not active.any():
                return lo
            mid = (lo + hi) // 2
            yes = true_at(a[np.where(active, start + mid, 0)])  # inactive groups: result unused
            lo = np.where(active & yes, mid + 1, lo)
            hi = np.where(active & ~yes, mid, hi)

    none, every = np.zeros(n_groups, dtype=np.intp), np.where(solve, n, 0)
    k1 = np.maximum(prefix(a1, none, every, lambda c: G(c) <= 0), 1)
    below = a1[np.where(solve, start + k1 - 1, 0)]  # A1[k1-1]
    above = np.where(k1 < n, a1[np.where(k1 < n, start + k1, 0)], np.inf)  # A1[k1]
    k2_min = prefix(a2, none, every, lambda c: c <= below)
    k2_max = prefix(a2, k2_min.copy(), every, lambda c: c < above)
    k2 = np.minimum(prefix(a2, k2_min, k2_max, lambda c: G(c) <= 0), n - 1)

    g = np.flatnonzero(solve)
    s, ng, k1, k2 = start[g], n[g], k1[g], k2[g]
    lo = np.maximum(a1[s + k1 - 1], np.where(k2 >= 1, a2[s + np.maximum(k2 - 1, 0)], -np.inf))
    hi = np.minimum(np.where(k1 < ng, a1[s + np.minimum(k1, ng - 1)], np.inf), a2[s + k2])
    c_lo, c_hi = np.zeros(n_groups), np.zeros(n_groups)
    c_lo[g], c_hi[g] = lo, hi
    g_lo, g_hi = G(c_lo)[g], G(c_hi)[g]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # where g_lo == 0 it is unused
        c = lo + (0.0 - g_lo) * (hi - lo) / (g_hi - g_lo)
        wide = ~np.isfinite(c) & (g_lo != 0)
        if wide.any():
            # the product overflowed: t in [0, 1] first, then a convex combination of lo and hi
            # (hi - lo itself may overflow), which stays in [lo, hi]
            t = (0.0 - g_lo[wide]) / (g_hi[wide] - g_lo[wide])
            c[wide] = (1.0 - t) * lo[wide] + t * hi[wide]
        out[g] = np.where(g_lo == 0, lo, c)
    return out


def _rescaled_weights(
    ws: np.ndarray, gs: np.ndarray, nonempty: np.ndarray, seg_start: np.ndarray, n_groups: int, delta: float
) -> np.ndarray:
    """The sorted weights, each group's scaled as :func:`_bounded_weights` scales one set: by a
    power of two where the group's max(w) * delta is beyond 2^+-256 (exact, the roots do not
    move; ordinary groups keep bit-identical results, unit weights stay unit weights)."""
    wmax = np.zeros(n_groups)
    wmax[nonempty] = np.maximum.reduceat(ws, seg_start)
    shift = _weight_shift(wmax, delta)
    if not shift.any():
        return ws
    # ldexp(w, k) = w 2^k without forming 2^k (which overflows for subnormal weights, k > 1023)
    return np.ldexp(ws, shift[gs])


def _huber_polish(y: np.ndarray, w: np.ndarray, delta: float, c: float) -> float:
    """``c`` when it is a root of ``G(c) = sum w clip(c - y, -delta, delta)`` up to rounding, else
    the better end (in total loss) of the adjacent doubles bracketing G's sign change.

    The piecewise-linear solve assumes the breakpoints ``y +- delta``, but where ``delta`` is
    below half an ulp of ``y`` (``|y|`` beyond ~2^52 delta) they round onto ``y`` itself and G
    jumps between two doubles: interpolating across the merged pieces returned 2.25e15 for
    ``HuberLoss(0.5)`` on ``[0, 4.5e15, 4.5e15]`` (the minimiser is ~4.5e15). Ordinary data
    pass the first check and keep ``c`` bit for bit.
    """
    wb = _bounded_weights(w, delta)

    def G(t: float) -> float:
        with np.errstate(over="ignore"):
            return float(np.dot(wb, np.clip(t - y, -delta, delta)))

    if not np.isfinite(c) or abs(G(c)) <= 1e-6 * delta * float(np.sum(wb)):
        return c
    lo, hi = float(np.min(y)), float(np.max(y))
    if G(lo) >= 0:
        return lo
    if G(hi) <= 0:
        return hi
    lo, hi, exact = _bisect_bits(G, lo, hi, 0.0)
    if exact:
        return lo
    loss = HuberLoss(delta)
    total = [float(np.dot(wb, loss._loss(y, np.full(y.shape, t)))) for t in (lo, hi)]
    return lo if total[0] <= total[1] else hi


class HuberLoss(_MMCurvature, RegressionLoss):
    r"""Huber loss with threshold ``delta`` on the residual ``r = z - y``.

    .. math:: \ell = r^2/2 \ \text{if}\ |r| \le \delta, \quad \delta(|r| - \delta/2)\ \text{else}

    gradient ``clip(r, -delta, delta)``; exact Hessian 1 inside, 0 outside.

    Hessians (``hessian=``):

    * ``"mm"`` (default): the majorize-minimize curvature ``min(1, delta/|r|)``, exact inside
      ``delta`` and ``delta/|r|`` outside. ``g d + h d^2/2`` with this ``h`` lies above the loss
      along any step ``d`` (``rho'(r)/r`` is non-increasing in ``|r|``), so a leaf's Newton step
      ``-G/H`` can only lower its loss, and it scales with the residual: from a start 1000 away
      one round moves a leaf by ~1000, not by ``delta``. These are the classical IRLS weights.
    * ``"constant"``: 1 everywhere (LightGBM's built-in huber): a leaf moves by at most
      ``delta`` per round, however far it is from its target.
    * ``"exact"``: 1 inside, 0 outside; a leaf of outliers has a zero Hessian sum, so it is
      never split off (``min_child_weight``) or its value -G/(H + lambda) explodes.

    ``init_score`` solves the piecewise-linear equation sum s*clip(c - y) = 0 exactly.

    Example
    -------
    >>> HuberLoss(delta=1.0).loss([0.0, 0.0], [0.5, 3.0]).tolist()
    [0.125, 2.5]
    """

    short_name = "huber"
    hessian_options = ("mm", "constant", "exact")

    def __init__(self, delta: float = 1.0, hessian: str = "mm") -> None:
        self.delta = delta
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        self._delta = check_scalar_param("delta", self.delta, low=0.0, low_inclusive=False)
        _check_hessian(self)

    def _length_scale(self) -> float:
        return self._delta

    def _kinks(self, y: np.ndarray) -> np.ndarray:
        return np.stack([y - self._delta, y + self._delta], axis=1)

    def _loss(self, y, z):
        a = np.abs(z - y)
        d = self._delta
        m = np.minimum(a, d)  # squaring min(a, d) cannot overflow
        return np.where(a <= d, 0.5 * m * m, d * (a - 0.5 * d))

    def _gradient_hessian(self, y, z, w):
        r = z - y
        grad = np.clip(r, -self._delta, self._delta)
        if self.hessian == "mm":
            # delta / max(|r|, delta): 1 inside, delta/|r| > 0 outside (|r| is finite)
            hess = self._delta / np.maximum(np.abs(r), self._delta)
        elif self.hessian == "exact":
            hess = (np.abs(r) <= self._delta).astype(np.float64)
        else:
            hess = np.ones_like(r)
        return _weighted(grad, hess, w)

    def leaf_value(self, residuals: np.ndarray, weights: np.ndarray) -> float:
        """Leaf-refit rule (:mod:`gbobjectives.refit`): the exact Huber M-estimate of a leaf's
        residuals ``r = y - score`` (its best constant, instead of one Newton step), the root of
        sum_i w_i clip(c - r_i, -delta, delta) = 0; NaN if the weights sum to zero."""
        r, w = np.asarray(residuals, dtype=np.float64), np.asarray(weights, dtype=np.float64)
        return float(_huber_m_estimates(r, w, np.zeros(r.shape[0], dtype=np.intp), 1, self._delta)[0])

    def leaf_values(self, residuals: np.ndarray, weights: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
        """:meth:`leaf_value` of every group at once (what :mod:`gbobjectives.refit` calls).

        ``groups[i]`` in ``[0, n_groups)`` is the leaf of row ``i``; returns an (n_groups,)
        array, NaN for a group without rows or of zero total weight. Bit-identical to
        :meth:`leaf_value` on each group's rows, vectorised across groups (one sort and
        ~2 log2(largest group) passes over the rows in all) instead of a Python loop.

        >>> r, leaf = np.array([0.0, 0.5, 10.0, 5.0]), np.array([0, 0, 0, 1])
        >>> HuberLoss(delta=1.0).leaf_values(r, np.ones(4), leaf, 3).tolist()  # leaf 2 has no rows
        [0.75, 5.0, nan]
        """
        return _huber_m_estimates(
            np.asarray(residuals, dtype=np.float64),
            np.asarray(weights, dtype=np.float64),
            np.asarray(groups, dtype=np.intp),
            int(n_groups),
            self._delta,
        )

    def _init_score(self, y, w):
        # the leaf rule's solver with a single group: one implementation, identical results
        c = float(_huber_m_estimates(y, w, np.zeros(y.shape[0], dtype=np.intp), 1, self._delta)[0])
        return _huber_polish(y, w, self._delta, c)


class PseudoHuberLoss(_MMCurvature, RegressionLoss):
    r"""Pseudo-Huber loss (XGBoost's ``reg:pseudohubererror``) with scale ``delta``.

    .. math:: \ell = \delta^2\left(\sqrt{1 + (r/\delta)^2} - 1\right) = \frac{r^2}{1 + \sqrt{1+s^2}},\ s = r/\delta

    gradient ``r / sqrt(1 + s^2)``, exact Hessian ``(1 + s^2)^(-3/2)`` (``hypot`` avoids
    overflow).

    Hessians (``hessian=``):

    * ``"mm"`` (default): the majorize-minimize curvature ``1/sqrt(1 + s^2)`` = gradient / r,
      which is >= the exact Hessian, so every leaf's Newton step is safe, and falls only like
      ``delta/|r|``, so steps scale with the residual. The exact Hessian (as XGBoost's
      built-in ``reg:pseudohubererror`` uses) vanishes like ``|r|^-3``: from a start far from
      the target its Newton steps overshoot by orders of magnitude.
    * ``"exact"``: ``(1 + s^2)^(-3/2)``; ``"constant"``: 1 everywhere.
    ``init_score`` is a bracketed Brent root of sum s*g(c - y) = 0 within [min y, max y]
    (a bracket wider than 2^40 delta first narrowed by bisection, weights rescaled by a power of
    two against overflow: exact for any finite targets and weights).

    Example
    -------
    >>> round(float(PseudoHuberLoss(delta=1.0).loss([0.0], [1.0])[0]), 6)
    0.414214
    """

    short_name = "pseudohuber"
    hessian_options = ("mm", "exact", "constant")

    def __init__(self, delta: float = 1.0, hessian: str = "mm") -> None:
        self.delta = delta
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        self._delta = check_scalar_param("delta", self.delta, low=0.0, low_inclusive=False)
        _check_hessian(self)

    def _length_scale(self) -> float:
        return self._delta

    def _loss(self, y, z):
        r = z - y
        s = r / self._delta
        hyp = np.hypot(1.0, s)
        # r^2/(1 + hyp) written as |r| * (delta |s| / (1 + hyp)) so r^2 never overflows
        return np.abs(r) * (self._delta * np.abs(s) / (1.0 + hyp))

    def _gradient_hessian(self, y, z, w):
        s = (z - y) / self._delta
        inv = 1.0 / np.hypot(1.0, s)
        grad = self._delta * s * inv
        if self.hessian == "mm":
            hess = inv
        elif self.hessian == "exact":
            hess = inv * inv * inv
        else:
            hess = np.ones_like(s)
        return _weighted(grad, hess, w)

    def _init_score(self, y, w):
        # root of G(c) = sum w (c - y) / sqrt(1 + ((c - y)/delta)^2), |each term| < delta
        d = self._delta
        w = _bounded_weights(w, d)
        if float(np.max(y)) - float(np.min(y)) < 1e300 * min(d, 1.0):

            def G(c: float) -> float:
                return float(np.dot(w, (c - y) / np.hypot(1.0, (c - y) / d)))

        else:
            # c - y or (c - y)/delta may overflow to +-inf, where r / hypot(1, r/delta) is inf/inf
            # or r/inf: the same g as delta s / hypot(1, s) = delta sign(s) / hypot(1, 1/s), which
            # is +-delta at s = +-inf and 0 at s = 0 (1/0 = inf)

            def G(c: float) -> float:
                with np.errstate(over="ignore", divide="ignore"):
                    s = (c - y) / d
                    return float(np.dot(w, d * np.sign(s) / np.hypot(1.0, 1.0 / s)))

        return _root_of_increasing(G, y, d)


class LogCoshLoss(_MMCurvature, RegressionLoss):
    r"""Log-cosh loss on the residual ``r = z - y``.

    .. math:: \ell = \log\cosh r

    computed as ``log1p(2 sinh^2(r/2))`` for |r| < 1 and ``|r| + log1p(e^{-2|r|}) - log 2``
    beyond; gradient ``tanh r``; exact Hessian ``4e/(1+e)^2`` with ``e = e^{-2|r|}`` (never
    ``1 - tanh^2``, which is 0 for |r| > 19).

    Hessians (``hessian=``):

    * ``"mm"`` (default): the majorize-minimize curvature ``tanh(r)/r`` (1 at r = 0), the
      secant slope of the gradient; it is >= the exact Hessian (``log cosh`` has
      ``rho'(r)/r`` non-increasing in ``|r|``), so Newton steps never overshoot, and it falls
      like ``1/|r|``, so a leaf far from its target moves by about its residual per round.
    * ``"constant"``: 1 (the Hessian's maximum): safe but a leaf moves by at most 1 per round.
    * ``"exact"``: vanishes far from the target, where Newton leaf values -G/(H + lambda)
      overshoot.

    ``init_score``: Brent root of sum s*tanh(c - y) = 0 (a bracket wider than 2^40 first
    narrowed by bisection: exact for any finite targets and weights).

    Example
    -------
    >>> round(float(LogCoshLoss().loss([0.0], [1.0])[0]), 6)
    0.433781
    """

    short_name = "logcosh"
    hessian_options = ("mm", "constant", "exact")

    def __init__(self, hessian: str = "mm") -> None:
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        _check_hessian(self)

    def _loss(self, y, z):
        a = np.abs(z - y)
        # each branch is evaluated only where it is accurate and cannot overflow
        small = np.log1p(2.0 * np.sinh(0.5 * np.minimum(a, 1.0)) ** 2)
        large = a + np.log1p(np.exp(-2.0 * a)) - _LOG2
        return np.where(a < 1.0, small, large)

    def _gradient_hessian(self, y, z, w):
        r = z - y
        grad = np.tanh(r)
        if self.hessian == "mm":
            hess = _tanh_ratio(r, grad)
        elif self.hessian == "exact":
            e = np.exp(-2.0 * np.abs(r))
            hess = 4.0 * e / ((1.0 + e) * (1.0 + e))
        else:
            hess = np.ones_like(r)
        return _weighted(grad, hess, w)

    def _init_score(self, y, w):
        w = _bounded_weights(w, 1.0)  # |tanh| <= 1

        def G(c: float) -> float:
            with np.errstate(over="ignore"):  # c - y = +-inf beyond 1.8e308: tanh is +-1, exact
                return float(np.dot(w, np.tanh(c - y)))

        return _root_of_increasing(G, y)


#: MM curvature of the quantile loss: smoothing width ``c`` (in units of the residual scale S)
#: and the floor of tanh(x)/x (see QuantileLoss). c = 0.2 trained best from the engines' default
#: start among 0.04 (XGBoost 3.4's value, with its smoothed gradient), 0.2, 0.5, 1, 2, 5
#: (benchmarks/every_api.py).
_MM_C = 0.2
_MM_FLOOR = 3e-4
#: S is floored here: with every residual 0 the Newton step is then ~2**-200 (nothing moves)
#: instead of 0/0.
_MM_MIN_SCALE = 2.0**-200


def _mm_scale(root_sum: float, weight_sum: float) -> float:
    """``S = (root_sum / weight_sum)^2``, floored at :data:`_MM_MIN_SCALE` (also when no row has weight)."""
    if not weight_sum > 0:
        return _MM_MIN_SCALE
    mean_root = root_sum / weight_sum
    return max(mean_root * mean_root, _MM_MIN_SCALE)


#: rows per block of the scale's sums: a reused float64 buffer that stays in cache
_STATS_BLOCK = 65536


def _root_residual_sums(y: np.ndarray, z: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """``[sum w sqrt|z - y|, sum w]`` in float64, by blocks of :data:`_STATS_BLOCK` rows (one
    small buffer instead of full-size temporaries; the same summation order on every path)."""
    n = z.shape[0]
    buf = np.empty(min(n, _STATS_BLOCK))
    total = 0.0
    for start in range(0, n, _STATS_BLOCK):
        sl = slice(start, min(start + _STATS_BLOCK, n))
        b = buf[: sl.stop - start]
        np.subtract(z[sl], y[sl], out=b)
        np.abs(b, out=b)
        np.sqrt(b, out=b)
        total += float(np.sum(b)) if w is None else float(np.dot(b, w[sl]))
    return np.array([total, float(n) if w is None else float(np.sum(w))])


def _quantile_mm(
    z: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    tau: float,
    scale: float,
    ws: Workspace,
    engine: bool,
    gain: float = 1.0,
    c: float = _MM_C,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact subgradient ``1[r >= 0] - tau`` and MM curvature ``max(tanh(x)/x, eps)/(2cS)``,
    ``x = |r|/(cS)``, weighted, in ``z``'s dtype; ``engine=True`` returns both times
    ``k = 2^round(log2 S)`` (the same Newton steps; engine curvature within a factor sqrt 2 of
    ``max(tanh(x)/x, eps)/(2c)``, in [7.5e-4, 2.5], whatever the scale of y, as XGBoost 3.4
    scales its own pair).

    The one implementation of the formula, for the public float64 path and the engines' float32
    or float64 path. float32 is safe here: ``r = z - y`` of two float32 values is correctly
    rounded, and every later term is positive. ``x`` is raised to the dtype's smallest normal
    number, where ``tanh(x)/x`` is exactly 1, so ``r = 0`` needs no branch.

    ``gain`` (a power of two, so exact) multiplies both results as well: 2 gives the absolute
    error ``|r| = 2 * pinball_0.5(r)`` (:class:`AbsoluteErrorLoss`). ``c`` is the smoothing
    width in units of S (``_MM_C`` for the quantile; see :class:`AbsoluteErrorLoss` for 1.0).
    """
    dt = z.dtype
    r = np.subtract(z, y, out=ws.like("r", z))
    ge = np.greater_equal(r, 0.0, out=ws.get("ge", z.shape, np.dtype(bool)))
    g = np.subtract(ge, dt.type(tau), out=ws.like("g", z))
    inv = 1.0 / (c * scale)
    x = np.abs(r, out=r)
    x *= dt.type(inv)
    np.maximum(x, ws.filled("tiny", x, float(np.finfo(dt).tiny)), out=x)
    ratio = np.tanh(x, out=ws.like("ratio", z))
    np.divide(ratio, x, out=ratio)
    np.maximum(ratio, ws.filled("floor", ratio, _MM_FLOOR), out=ratio)
    k = (_power_of_two(scale) if engine else 1.0) * gain
    h = np.multiply(ratio, dt.type(0.5 * inv * k), out=ratio)
    if k != 1.0:
        g *= dt.type(k)
    if w is not None:
        g = np.multiply(g, w, out=ws.result(0, g))
        h = np.multiply(h, w, out=ws.result(1, h))
    return g, h


class QuantileLoss(RegressionLoss):
    r"""Pinball (quantile) loss for the ``quantile`` tau in (0, 1).

    .. math:: \ell = (y - z)(\tau - \mathbb{1}[y < z])

    gradient ``1 - tau`` if ``z >= y`` else ``-tau`` (a subgradient at the kink); the exact
    Hessian is 0.

    Hessians (``hessian=``):

    * ``"mm"`` (default): automatically scaled majorize-minimize curvature (the scheme XGBoost
      3.4 adopted for its own quantile objective). Each call computes the residual scale
      ``S = (sum w sqrt|r| / sum w)^2`` of the rows it is given (for an engine: all training
      rows, every round; under ``xgboost.dask`` summed over all workers), floored at
      ``2**-200``, and

      .. math:: h = \frac{\max(\tanh(x)/x,\ \epsilon)}{2 c S}, \quad x = \frac{r}{c S},
                \ c = 0.2,\ \epsilon = 3\cdot 10^{-4}.

      For ``|r| >> cS`` this is ``1/(2|r|)``, the curvature of the quadratic that majorizes
      ``|r|/2`` at ``r`` (the pinball loss is ``|r|/2`` plus a linear term): a leaf's Newton
      step scales with its residuals, so training from any start (XGBoost's 0.5, LightGBM's 0)
      reaches the target in a few rounds. Near the kink the curvature is capped at
      ``1/(2cS)``. ``c`` was chosen by measurement (``benchmarks/every_api.py``; XGBoost uses
      0.04 with a smoothed gradient). The XGBoost/LightGBM adapters pass ``(k g, k h)`` with
      ``k`` the power of two nearest to ``S`` - the same Newton steps - so that the engines' ``lambda``
      and ``min_child_weight`` keep their usual per-row meaning whatever the scale of ``y``.
    * ``"constant"``: 1 everywhere; a leaf moves by at most tau or 1 - tau per round.
    * ``"exact"``: 0.

    ``init_score`` is the exact weighted tau-quantile: the smallest y_(k) whose cumulative
    weight reaches tau * W.

    Example
    -------
    >>> QuantileLoss(quantile=0.9).init_score([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    9.0
    """

    short_name = "quantile"
    hessian_options = ("mm", "constant", "exact")

    def __init__(self, quantile: float = 0.5, hessian: str = "mm") -> None:
        self.quantile = quantile
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        self._tau = check_scalar_param(
            "quantile", self.quantile, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
        )
        _check_hessian(self)

    def _kinks(self, y: np.ndarray) -> np.ndarray:
        return y[:, None]

    def _loss(self, y, z):
        r = y - z
        return np.maximum(self._tau * r, (self._tau - 1.0) * r)

    def _gradient_hessian(self, y, z, w):
        if self.hessian == "mm":
            scale = self._round_statistics(y, z, w)["scale"]
            return _quantile_mm(z, y, w, self._tau, scale, Workspace(), engine=False)
        grad = np.where(z >= y, 1.0 - self._tau, -self._tau)
        hess = np.zeros_like(grad) if self.hessian == "exact" else np.ones_like(grad)
        return _weighted(grad, hess, w)

    def _round_statistics(self, y, z, w, reduce=None):
        """``{"scale": S}`` for the MM curvature, from ``(sum w sqrt|r|, sum w)`` over the rows
        (``reduce`` sums those two numbers across workers under distributed training)."""
        if self.hessian != "mm":
            return None
        sums = _root_residual_sums(y, z, w)
        if reduce is not None:
            sums = reduce(sums)
        return {"scale": _mm_scale(float(sums[0]), float(sums[1]))}

    @property
    def hessian_uses_all_rows(self) -> bool:
        return self.hessian == "mm"

    def _prepare_labels(self, y, w, dtype):
        # the labels (and weights) also in the engine's precision, for the float32 kernel
        prep = super()._prepare_labels(y, w, dtype)
        prep["y_t"] = y.astype(dtype)
        prep["w_t"] = None if w is None else w.astype(dtype)
        return prep

    def _gradient_hessian_fast(self, z, prep, ws):
        if self.hessian != "mm":
            return super()._gradient_hessian_fast(z, prep, ws)
        scale = prep["scale"]
        engine = prep.get("engine_units", True)  # False from CatBoost (see engines/catboost.py)
        if z.dtype == np.float32 and not (1e-30 < scale < 1e30):
            # 1/(cS) or the engine factor would leave float32's range: this block in float64
            return _quantile_mm(z.astype(np.float64), prep["y"], prep["w"], self._tau, scale, ws, engine)
        if "y_t" not in prep or prep["y_t"].dtype != z.dtype:  # a caller without _prepare_labels
            return _quantile_mm(np.asarray(z, np.float64), prep["y"], prep["w"], self._tau, scale, ws, engine)
        return _quantile_mm(z, prep["y_t"], prep["w_t"], self._tau, scale, ws, engine)

    def _init_score(self, y, w):
        return weighted_quantile(y, w, self._tau)

    def leaf_value(self, residuals: np.ndarray, weights: np.ndarray) -> float:
        """Leaf-refit rule (:mod:`gbobjectives.refit`): a weighted tau-quantile of a leaf's
        residuals ``y - score`` that minimises its pinball loss exactly - the midpoint of the
        minimisers (:func:`weighted_quantile` with ``tie_break="midpoint"``).

        Why the midpoint: without weights both engines' built-in objectives set a leaf to an
        interpolated percentile (measured on one-split trees: XGBoost 3.2 at the 1-based order
        statistic position tau*(n+1), numpy's "weibull"; LightGBM 4.7 at tau*(n-1) + 1, numpy's
        default "linear"). At tau = 0.5 both are the textbook median, the midpoint of the two
        middle residuals of an even-sized leaf, as is this rule; the lowest minimiser
        (``init_score``'s rule) puts such a leaf half the middle gap lower. Over seeds 0, 1, 2 of
        ``benchmarks/refit.py`` the LightGBM tau = 0.5 ratio to the built-in was 1.029, 0.997,
        1.023 with the lowest minimiser and 1.000, 0.988, 1.004 with the midpoint. For
        tau != 0.5 the interpolated percentiles are not minimisers, so they are not copied; with
        fractional weights ties are rare and the rule is XGBoost's weighted one (the lowest)."""
        r, w = np.asarray(residuals, dtype=np.float64), np.asarray(weights, dtype=np.float64)
        return weighted_quantile(r, w, self._tau, tie_break="midpoint")


class AbsoluteErrorLoss(RegressionLoss):
    r"""Absolute error (L1, least absolute deviation) on the residual ``r = z - y``.

    .. math:: \ell = |y - z| = 2\,\rho_{0.5}(y - z)

    twice the pinball loss at tau = 0.5, so it shares :class:`QuantileLoss`'s mechanism: the
    exact subgradient ``+1`` if ``z >= y`` else ``-1`` (the quantile's convention at the kink),
    exact Hessian 0.

    Hessians (``hessian=``):

    * ``"mm"`` (default): the quantile's automatically scaled majorize-minimize curvature at
      tau = 0.5, times 2 (the same kernel, ``_quantile_mm``): with ``S = (sum w sqrt|r| /
      sum w)^2`` of all rows of the call (for an engine: all training rows, every round),

      .. math:: h = \frac{\max(\tanh(x)/x,\ \epsilon)}{c S}, \quad x = \frac{r}{c S},
                \ c = 1,\ \epsilon = 3\cdot 10^{-4},

      which is ``1/|r|`` (the curvature of the quadratic majorizing ``|r|`` at ``r``) for
      ``|r| >> cS`` (c = 1 here, 0.2 for the quantile: measured per loss, see ``_mm_c``): a
      leaf's Newton step scales with its residuals, so plain ``xgb.train`` /
      ``lgb.train`` train from the engine's own start (0.5 / 0) as well as
      ``reg:absoluteerror`` / LightGBM ``l1`` (``benchmarks/results/every_api.md``). The
      engines get the pair times the power of two nearest to S (the same Newton steps).
    * ``"constant"``: 1 everywhere; a leaf moves by at most 1 per round.
    * ``"exact"``: 0.

    ``init_score`` is the exact weighted median (the smallest ``y_(k)`` whose cumulative weight
    reaches W/2, as ``QuantileLoss(0.5)``); ``leaf_value`` (leaf refit) the midpoint median.

    Example
    -------
    >>> loss = AbsoluteErrorLoss()
    >>> loss.loss([1.0, 2.0], [3.0, 1.5]).tolist()
    [2.0, 0.5]
    >>> loss.init_score([1.0, 2.0, 10.0])
    2.0
    """

    short_name = "absolute_error"
    hessian_options = ("mm", "constant", "exact")
    #: the MM smoothing width c in units of S. 1.0 for the median, where the quantile's 0.2
    #: trained 3-10 % worse than ``reg:absoluteerror`` through plain ``xgb.train`` (3,000 rows,
    #: seeds 0-3, c in 0.05-2: c = 1 gave 0.93-0.98 of the built-in's held-out MAE on XGBoost,
    #: 0.98-1.00 of LightGBM ``l1``'s; benchmarks/every_api.py measures it at full size)
    _mm_c = 1.0
    #: the start score is this weighted quantile of the labels (``gbobjectives.dask`` selects it)
    _start_quantile = 0.5

    def __init__(self, hessian: str = "mm") -> None:
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        _check_hessian(self)

    def _kinks(self, y: np.ndarray) -> np.ndarray:
        return y[:, None]

    def _row_weights(self, y: np.ndarray, w: np.ndarray | None) -> np.ndarray | None:
        """The per-row weights of the absolute error (the sample weights here)."""
        return w

    def _loss(self, y, z):
        return np.abs(z - y)

    def _gradient_hessian(self, y, z, w):
        w = self._row_weights(y, w)
        if self.hessian == "mm":
            scale = _mm_scale(*_root_residual_sums(y, z, w).tolist())
            return _quantile_mm(z, y, w, 0.5, scale, Workspace(), engine=False, gain=2.0, c=self._mm_c)
        grad = np.where(z >= y, 1.0, -1.0)
        hess = np.zeros_like(grad) if self.hessian == "exact" else np.ones_like(grad)
        return _weighted(grad, hess, w)

    def _round_statistics(self, y, z, w, reduce=None):
        """``{"scale": S}`` from ``(sum w sqrt|r|, sum w)`` over the rows (summed across workers
        by ``reduce``), as :meth:`QuantileLoss._round_statistics`."""
        if self.hessian != "mm":
            return None
        sums = _root_residual_sums(y, z, self._row_weights(y, w))
        if reduce is not None:
            sums = reduce(sums)
        return {"scale": _mm_scale(float(sums[0]), float(sums[1]))}

    @property
    def hessian_uses_all_rows(self) -> bool:
        return self.hessian == "mm"

    def _prepare_labels(self, y, w, dtype):
        prep = super()._prepare_labels(y, w, dtype)
        w_rows = self._row_weights(y, w)
        prep["w_rows"] = w_rows
        prep["y_t"] = y.astype(dtype)
        with np.errstate(over="ignore"):
            w_t = None if w_rows is None else w_rows.astype(dtype)
        # row weights beyond the engine dtype's range (1/|y| for |y| < 3e-39 in float32): float64
        prep["w_t"] = w_t if w_t is None or bool(np.all(np.isfinite(w_t))) else False
        return prep

    def _engine_gain(self, prep: dict) -> float:
        """Power of two that the engine pair is multiplied by besides the scale's (2: |r| is
        twice the pinball loss)."""
        return 2.0

    def _gradient_hessian_fast(self, z, prep, ws):
        if self.hessian != "mm":
            return super()._gradient_hessian_fast(z, prep, ws)
        scale = prep["scale"]
        engine = prep.get("engine_units", True)  # False from CatBoost (see engines/catboost.py)
        gain = self._engine_gain(prep) if engine else 2.0
        w_t = prep.get("w_t")
        if (
            z.dtype != np.float32
            or not (1e-30 < scale < 1e30)  # 1/(cS) or the engine factor would leave float32's range
            or w_t is False
            or "y_t" not in prep
            or prep["y_t"].dtype != z.dtype
        ):
            z64 = np.asarray(z, np.float64)
            return _quantile_mm(z64, prep["y"], prep["w_rows"], 0.5, scale, ws, engine, gain, self._mm_c)
        return _quantile_mm(z, prep["y_t"], w_t, 0.5, scale, ws, engine, gain, self._mm_c)

    def _init_score(self, y, w):
        return weighted_quantile(y, w, 0.5)

    def leaf_value(self, residuals: np.ndarray, weights: np.ndarray) -> float:
        """Leaf-refit rule (:mod:`gbobjectives.refit`): the weighted median of a leaf's residuals
        ``y - score``, the midpoint of the minimisers (as :meth:`QuantileLoss.leaf_value` at
        tau = 0.5; the textbook median without weights, as both engines' built-in L1 objectives)."""
        r, w = np.asarray(residuals, dtype=np.float64), np.asarray(weights, dtype=np.float64)
        return weighted_quantile(r, w, 0.5, tie_break="midpoint")


#: the smallest |y| RelativeErrorLoss takes: 1/y^2 (its MM curvature's factor) is finite above it
_REL_MIN_LABEL = float(np.sqrt(1.0 / np.finfo(np.float64).max))


class RelativeErrorLoss(AbsoluteErrorLoss):
    r"""Relative error (MAPE as a training objective) on the residual ``r = z - y``.

    .. math:: \ell = \frac{|y - z|}{|y|} = |\rho|, \quad \rho = \frac{z - y}{|y|}

    the absolute error with per-row weights ``1/|y|`` (times the sample weights): subgradient
    ``sign(r)/|y|`` (``+1/|y|`` at ``r = 0``), exact Hessian 0. Labels must be non-zero: a
    ``y = 0`` (or a ``|y|`` below 1.5e-154, where ``1/y^2`` overflows) raises a ``ValueError``
    naming the rows.

    Hessians (``hessian=``):

    * ``"mm"`` (default): :class:`AbsoluteErrorLoss`'s MM curvature applied to the relative
      residual ``rho`` (the same kernel), by the chain rule ``h = h_abs(rho) / y^2``; the
      residual scale is that of the relative residuals, ``S = (sum w sqrt|rho| / sum w)^2``.
      Far from the target this is ``1/(|y| |r|)``, the majorizer's curvature of ``|r|/|y|``,
      so leaf steps scale with the residuals; the kink's cap ``c S |y|`` scales with each row's
      own label. (The absolute error's curvature with weights ``w/|y|`` would share one cap
      ``c S`` among all rows, and a single label near 0 - weight 1e4 - then shrinks S until
      every other row sits on the curvature floor: measured, plain ``lgb.train`` did not
      split at all.) The engines get the pair times one power of two for all rows: the
      quantile's ``2^round(log2 S)`` times the one nearest to ``G^2``, ``G`` the weighted
      geometric mean of ``|y|`` (the same Newton steps; typical rows' curvatures of about 1 in
      the units of XGBoost's ``min_child_weight`` / ``lambda``).
    * ``"constant"``: ``1/|y|``; ``"exact"``: 0.

    Its weighted mean is the MAPE of :class:`gbobjectives.metrics.MAPE` (which, as an
    evaluation metric, tolerates ``y = 0`` by dividing by ``max(|y|, eps)``).

    ``init_score`` is the exact weighted median of ``y`` under the weights ``w/|y|`` (the
    smallest ``y_(k)`` whose cumulative weight reaches half the total); it is pulled towards
    the small targets, as MAPE is: over-predicting a small target costs more than
    under-predicting a large one.

    Example
    -------
    >>> loss = RelativeErrorLoss()
    >>> loss.loss([100.0, -4.0], [110.0, -3.0]).tolist()
    [0.1, 0.25]
    >>> loss.init_score([1.0, 2.0, 4.0])  # weights 1, 1/2, 1/4: the median is 1
    1.0
    """

    short_name = "relative_error"
    #: ``gbobjectives.dask`` re-weights the labels by :meth:`_row_weights` before selecting
    _weights_from_labels = True

    def _check_labels(self, y_true, raw):
        y = super()._check_labels(y_true, raw)
        a = np.abs(y)
        bad = a < _REL_MIN_LABEL  # the curvature's 1/y^2 would overflow (y = 0 included)
        if bad.any():
            rows = np.flatnonzero(bad)
            raise ValueError(
                f"y_true must be non-zero for RelativeErrorLoss (|y - z| / |y|): y_true is "
                f"{'0' if np.all(y[rows] == 0) else '0 or too close to 0 (|y| < 1.5e-154: 1/y^2 overflows)'} in rows "
                f"{describe_ids(rows.tolist(), limit=5)}; drop those rows, or use AbsoluteErrorLoss"
            )
        return y

    def _row_weights(self, y: np.ndarray, w: np.ndarray | None) -> np.ndarray:
        """``w / |y|`` (``1/|y|`` without sample weights)."""
        a = np.abs(y)
        return 1.0 / a if w is None else w / a

    def _loss(self, y, z):
        return np.abs(z - y) / np.abs(y)

    def _relative(self, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """``rho = (z - y)/|y|``: the residual rounded once, then divided (its sign is exact)."""
        return (z - y) / np.abs(y)

    def _gradient_hessian(self, y, z, w):
        if self.hessian != "mm":
            return super()._gradient_hessian(y, z, w)
        rho = self._relative(y, z)
        scale = _mm_scale(*_root_residual_sums(np.zeros_like(rho), rho, w).tolist())
        g, h = _quantile_mm(rho, np.zeros_like(rho), w, 0.5, scale, Workspace(), False, 2.0, self._mm_c)
        inv = 1.0 / np.abs(y)
        return g * inv, (h * inv) * inv

    def _round_statistics(self, y, z, w, reduce=None):
        """``{"scale": S, "unit": m}``: S from ``(sum w sqrt|rho|, sum w)``, and ``m`` the power
        of two nearest to ``G^2``, ``G = exp(sum w log|y| / sum w)``, from sums that ``reduce``
        adds up across workers."""
        if self.hessian != "mm":
            return None
        rho = self._relative(y, z)
        sums = _root_residual_sums(np.zeros_like(rho), rho, w)
        log_y = np.log(np.abs(y))
        sums = np.append(sums, float(np.sum(log_y)) if w is None else float(np.dot(w, log_y)))
        if reduce is not None:
            sums = reduce(sums)
        unit = _power_of_two(float(np.exp(2.0 * sums[2] / sums[1]))) if sums[1] > 0 else 1.0
        return {"scale": _mm_scale(float(sums[0]), float(sums[1])), "unit": unit}

    def _prepare_labels(self, y, w, dtype):
        prep = super()._prepare_labels(y, w, dtype)
        prep["inv_y"] = 1.0 / np.abs(y)
        return prep

    def _gradient_hessian_fast(self, z, prep, ws):
        if self.hessian != "mm":
            return super()._gradient_hessian_fast(z, prep, ws)
        engine = prep.get("engine_units", True)  # False from CatBoost (see engines/catboost.py)
        gain = 2.0 * prep["unit"] if engine else 2.0
        y, inv = prep["y"], prep["inv_y"]
        # float64 throughout: rho and 1/y^2 have no float32-safe range for all labels
        z = np.asarray(z, np.float64)
        rho = np.subtract(z, y, out=ws.like("rho", z))
        rho *= inv
        outputs, ws.outputs = ws.outputs, None  # the kernel's results stay float64 scratch
        try:
            g, h = _quantile_mm(
                rho, ws.zeros("zeros", rho), prep["w"], 0.5, prep["scale"], ws, engine, gain, self._mm_c
            )
        finally:
            ws.outputs = outputs
        h *= inv
        # the final products go straight to the caller's (float32) destination: one rounding
        return np.multiply(g, inv, out=ws.result(0, g)), np.multiply(h, inv, out=ws.result(1, h))

    def _init_score(self, y, w):
        w_rows = _bounded_weights(self._row_weights(y, _bounded_weights(w, 1.0)), 1.0)
        return weighted_quantile(y, w_rows, 0.5)

    # no leaf rule: the refit sees residuals, not the labels the weights depend on
    leaf_value = None  # type: ignore[assignment]


def weighted_expectile(y: np.ndarray, w: np.ndarray, expectile: float) -> float:
    r"""The exact minimiser of :math:`\sum_i w_i |\tau - 1[y_i < c]| (y_i - c)^2` (tau = ``expectile``).

    It is the root of the continuous, increasing, piecewise-linear
    :math:`G(c) = (1-\tau)\sum_{y_i < c} w_i (c - y_i) - \tau \sum_{y_i > c} w_i (y_i - c)`.
    With ``y`` sorted and ``A_k`` the cumulative weights, ``G`` at the breakpoints is
    ``(1 - tau) L_k - tau R_k`` with ``L_{k+1} = L_k + A_k (y_{k+1} - y_k)`` and
    ``R_{k-1} = R_k + (W - A_{k-1}) (y_k - y_{k-1})``: sums of non-negative terms only, so both
    are accurate to a few roundings relative (no cancellation as in ``y_k A_k - sum w y``).
    The last breakpoint with ``G <= 0`` brackets the root and the linear piece is solved there:
    ``c = y_k - G_k / ((1 - tau) A_k + tau (W - A_k))``, clipped to the next breakpoint.
    At tau = 0.5 this is the weighted mean. Targets beyond 2^500 in magnitude are scaled by a
    power of two first (exact), weights beyond 2^+-256 too, so nothing overflows.

    >>> weighted_expectile(np.array([0.0, 1.0, 5.0]), np.ones(3), 0.5)
    2.0
    """
    n = y.shape[0]
    order = np.argsort(y, kind="stable")
    ys, ws = y[order], _bounded_weights(w[order], 1.0)
    top = float(max(abs(ys[0]), abs(ys[-1])))
    shift = 0
    if top > 2.0**500:
        shift = int(np.frexp(top)[1])
        ys = np.ldexp(ys, -shift)
    if n == 1 or ys[0] == ys[-1]:
        return float(y[order][0])
    A = np.cumsum(ws)
    W = A[-1]
    gaps = np.diff(ys)  # >= 0
    L = np.concatenate(([0.0], np.cumsum(A[:-1] * gaps)))
    R = np.concatenate((np.cumsum(((W - A[:-1]) * gaps)[::-1])[::-1], [0.0]))
    G = (1.0 - expectile) * L - expectile * R
    k = int(np.searchsorted(G, 0.0, side="right")) - 1  # last breakpoint with G <= 0 (G is sorted)
    k = min(max(k, 0), n - 1)
    if G[k] >= 0 or k == n - 1:
        c = float(ys[k])
    else:
        slope = (1.0 - expectile) * A[k] + expectile * (W - A[k])
        c = float(ys[k] + min(-G[k] / slope, gaps[k]))
    return float(np.ldexp(c, shift)) if shift else c


class ExpectileLoss(RegressionLoss):
    r"""Expectile (asymmetric squared) loss for the ``expectile`` tau in (0, 1).

    .. math:: \ell = |\tau - \mathbb{1}[y < z]|\,(y - z)^2

    Gradient ``2 a (z - y)`` and exact Hessian ``2 a``, with ``a = 1 - tau`` if ``z > y``
    else ``tau``: piecewise constant and positive, so the exact Hessian is the training default
    (there is no ``hessian`` option). Each Newton step solves the leaf's quadratic on the side
    of the kink it starts from, so leaves move by their (asymmetrically weighted) mean residual
    from any start, as squared error does; the Hessian jumps at ``r = 0`` (declared as a kink to
    the audit). At tau = 0.5 it is half the squared error.

    ``init_score`` is the exact weighted tau-expectile of the labels
    (:func:`weighted_expectile`: sort and scan, no iteration).

    Expectile or quantile? Both give asymmetric "high/low" predictions. The tau-quantile is a
    level that a share tau of the outcomes stays below (coverage is directly interpretable) and
    ignores how far beyond it the outcomes go; the expectile is a tail-weighted mean, so it
    reacts to the size of extreme outcomes (a risk measure: it is the only elicitable coherent
    one), and its smooth loss with a positive Hessian trains like squared error. Prefer the
    quantile for prediction intervals or heavy-tailed noise, the expectile when the magnitude
    of the tail matters.

    Example
    -------
    >>> loss = ExpectileLoss(expectile=0.9)
    >>> loss.loss([0.0, 0.0], [-1.0, 1.0]).tolist()  # under-prediction costs 0.9, over 0.1
    [0.9, 0.1]
    >>> round(loss.init_score([0.0, 1.0]), 6)  # 0.9 (1 - c) = 0.1 c
    0.9
    """

    short_name = "expectile"

    def __init__(self, expectile: float = 0.5) -> None:
        self.expectile = expectile
        self._validate_params()

    def _validate_params(self) -> None:
        self._tau = check_scalar_param(
            "expectile", self.expectile, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
        )

    def _kinks(self, y: np.ndarray) -> np.ndarray:
        return y[:, None]

    def _asymmetry(self, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        return np.where(z > y, 1.0 - self._tau, self._tau)

    def _loss(self, y, z):
        r = z - y
        with np.errstate(over="ignore"):  # |r| > 1.3e154: the loss is beyond 1.8e308, inf
            return self._asymmetry(y, z) * (r * r)

    def _gradient_hessian(self, y, z, w):
        a2 = 2.0 * self._asymmetry(y, z)
        return _weighted(a2 * (z - y), a2, w)

    def _init_score(self, y, w):
        return weighted_expectile(y, w, self._tau)
