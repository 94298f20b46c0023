"""Regression losses on the residual r = z - y (identity link)."""

from __future__ import annotations

import numpy as np

from gbobjectives._validation import check_scalar_param
from gbobjectives.losses._fast import Workspace
from gbobjectives.losses._solvers import (  # noqa: F401 - weighted_quantile, robust_scale: public here too
    _bounded_weights,
    _huber_m_estimates,
    _root_of_increasing,
    robust_scale,
    solve_increasing,
    weighted_quantile,
)
from gbobjectives.losses.base import RegressionLoss
from gbobjectives.losses.registry import Param

__all__ = ["HuberLoss", "PseudoHuberLoss", "LogCoshLoss", "QuantileLoss", "weighted_quantile", "robust_scale"]

_LOG2 = float(np.log(2.0))


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
    # XGBoost has no Huber objective: its pseudo-Huber is the closest built-in
    builtin_objectives = {
        "xgboost": {"objective": "reg:pseudohubererror", "huber_slope": Param("delta")},
        "lightgbm": {"objective": "huber", "alpha": Param("delta")},
    }
    builtin_label = "huber(delta={delta:g})"
    scale_params = ("delta",)
    example_params = tuple({"delta": d} for d in (0.5, 1.0, 20.0))

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
        :meth:`leaf_value` on each group's rows, vectorised across groups (a few Newton steps
        over all rows at once, see ``_huber_m_estimates``) instead of a Python loop.

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
        return float(_huber_m_estimates(y, w, np.zeros(y.shape[0], dtype=np.intp), 1, self._delta)[0])


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
    aliases = ("pseudo-huber",)
    hessian_options = ("mm", "exact", "constant")
    builtin_objectives = HuberLoss.builtin_objectives
    builtin_label = HuberLoss.builtin_label
    scale_params = ("delta",)
    example_params = tuple({"delta": d} for d in (0.5, 1.0, 20.0))

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
    aliases = ("log-cosh",)
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
    z: np.ndarray, y: np.ndarray, w: np.ndarray | None, tau: float, scale: float, ws: Workspace, engine: bool
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
    """
    dt = z.dtype
    r = np.subtract(z, y, out=ws.like("r", z))
    ge = np.greater_equal(r, 0.0, out=ws.get("ge", z.shape, np.dtype(bool)))
    g = np.subtract(ge, dt.type(tau), out=ws.like("g", z))
    inv = 1.0 / (_MM_C * scale)
    x = np.abs(r, out=r)
    x *= dt.type(inv)
    np.maximum(x, ws.filled("tiny", x, float(np.finfo(dt).tiny)), out=x)
    ratio = np.tanh(x, out=ws.like("ratio", z))
    np.divide(ratio, x, out=ratio)
    np.maximum(ratio, ws.filled("floor", ratio, _MM_FLOOR), out=ratio)
    k = _power_of_two(scale) if engine else 1.0
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
    init_score_method = "weighted_quantile"
    builtin_objectives = {
        "xgboost": {"objective": "reg:quantileerror", "quantile_alpha": Param("quantile")},
        "lightgbm": {"objective": "quantile", "alpha": Param("quantile")},
    }
    builtin_label = "quantile({quantile:g})"
    sweep = {"quantile": (0.5, 0.9)}
    example_params = tuple({"quantile": q} for q in (0.1, 0.5, 0.9))

    def __init__(self, quantile: float = 0.5, hessian: str = "mm") -> None:
        self.quantile = quantile
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        self._tau = check_scalar_param(
            "quantile", self.quantile, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
        )
        _check_hessian(self)

    @property
    def quantile_level(self) -> float:
        """tau: ``init_score`` is the weighted tau-quantile of the labels."""
        return self._tau

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
