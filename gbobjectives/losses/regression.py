"""Regression losses on the residual r = z - y (identity link): Huber, pseudo-Huber, log-cosh
and the helpers they share with the quantile family (``losses/quantile.py``) and the expectile
(``losses/expectile.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gbobjectives._validation import check_scalar_param
from gbobjectives.losses._fast import regression_kernel, with_kernel_labels
from gbobjectives.losses._solvers import (  # noqa: F401 - weighted_quantile, robust_scale, weighted_expectile: public here too
    _bounded_weights,
    _huber_m_estimates,
    _root_of_increasing,
    robust_scale,
    solve_increasing,
    weighted_expectile,
    weighted_quantile,
)
from gbobjectives.losses.base import RegressionLoss
from gbobjectives.losses.registry import Param, Template

__all__ = [
    "HuberLoss",
    "PseudoHuberLoss",
    "LogCoshLoss",
    "weighted_quantile",
    "weighted_expectile",
    "robust_scale",
]

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
        "catboost": {"loss_function": Template("Huber:delta={delta!r}")},
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

    #: the compiled regression kernel's Hessian modes (``_kernels.c``, kind 0)
    _KERNEL_MODES = {"mm": 0, "constant": 1, "exact": 2}

    def _prepare_labels(self, y, w, dtype):
        return with_kernel_labels(super()._prepare_labels(y, w, dtype), dtype)

    def _gradient_hessian_fast(self, z, prep, ws):
        # one compiled pass of _gradient_hessian's formulas (in float64 for float64 scores, so
        # the same values; in float32 for XGBoost's float32 scores)
        d = self._delta
        out = regression_kernel(z, prep, ws, (d, 0.0, 0.0, 0, self._KERNEL_MODES[self.hessian]))
        if out is not None:
            return out
        # else the float64 formulas on a block, without temporaries: the residual in a kept
        # float64 buffer, each result rounded once as it is stored into the engine's float32
        # destination (rounding is monotone, so clipping before or after it agrees)
        y, w = prep["y"], prep["w"]
        r = ws.get("r", z.shape, np.dtype(np.float64))
        np.subtract(z, y, out=r)
        hess = ws.result(1, r)
        if self.hessian == "constant":
            hess[...] = 1.0 if w is None else w
        else:
            a = ws.like("a", r)
            np.abs(r, out=a)
            if self.hessian == "mm":  # delta / max(|r|, delta)
                np.maximum(a, ws.filled("delta", a, d), out=a)
                np.divide(d, a, out=a)
            else:  # exact: 1 inside, 0 outside
                np.less_equal(a, d, out=a, casting="unsafe")
            np.multiply(a, w, out=hess) if w is not None else np.copyto(hess, a)
        grad = ws.result(0, r)
        np.clip(r, -d, d, out=r)
        np.multiply(r, w, out=grad) if w is not None else np.copyto(grad, r)
        return grad, hess

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
    builtin_objectives = {"catboost": {"loss_function": "LogCosh"}}
    builtin_label = "logcosh"

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


#: moved to their own modules; old import paths (and pickles) still find them
_MOVED = {"QuantileLoss": "quantile", "AbsoluteErrorLoss": "quantile", "RelativeErrorLoss": "quantile"}
_MOVED["ExpectileLoss"] = "expectile"


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(f"gbobjectives.losses.{_MOVED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
