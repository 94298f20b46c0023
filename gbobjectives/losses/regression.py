"""Regression losses on the residual r = z - y (identity link)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq

from gbobjectives._validation import check_scalar_param
from gbobjectives.losses.base import RegressionLoss

__all__ = ["HuberLoss", "PseudoHuberLoss", "LogCoshLoss", "QuantileLoss", "weighted_quantile"]

_LOG2 = float(np.log(2.0))
_RTOL = 4 * np.finfo(float).eps


def _check_hessian(loss: RegressionLoss) -> None:
    if loss.hessian not in loss.hessian_options:  # type: ignore[attr-defined]
        raise ValueError(f"hessian must be one of {loss.hessian_options}, got {loss.hessian!r}")  # type: ignore[attr-defined]


def _weighted(grad: np.ndarray, hess: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if w is not None:
        grad = grad * w
        hess = hess * w
    return grad, hess


def _root_of_increasing(G: Callable[[float], float], y: np.ndarray) -> float:
    """Root of sum s*g(c - y) = 0 for strictly increasing g, which lies in [min y, max y]."""
    lo, hi = float(np.min(y)), float(np.max(y))
    if lo == hi:
        return lo
    g_lo, g_hi = G(lo), G(hi)
    if g_lo >= 0:
        return lo
    if g_hi <= 0:
        return hi
    return float(brentq(G, lo, hi, xtol=1e-300, rtol=_RTOL, maxiter=500))


def weighted_quantile(y: np.ndarray, w: np.ndarray, quantile: float) -> float:
    """The smallest y_(k) whose cumulative weight reaches ``quantile * sum(w)``.

    This is an exact minimiser of the weighted pinball loss; numpy's interpolated
    percentile is not.

    >>> weighted_quantile(np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4), 0.5)
    2.0
    """
    order = np.argsort(y, kind="stable")
    ys, cw = y[order], np.cumsum(w[order])
    k = int(np.searchsorted(cw, quantile * cw[-1], side="left"))
    return float(ys[min(k, len(ys) - 1)])


class HuberLoss(RegressionLoss):
    r"""Huber loss with threshold ``delta`` on the residual ``r = z - y``.

    .. math:: \ell = r^2/2 \ \text{if}\ |r| \le \delta, \quad \delta(|r| - \delta/2)\ \text{else}

    gradient ``clip(r, -delta, delta)``; exact Hessian 1 inside, 0 outside. The default
    ``hessian="constant"`` is 1 everywhere (as LightGBM's built-in huber): with the exact
    one, a leaf holding only outliers has a zero Hessian sum, so it is either never split
    off (``min_child_weight``) or its value -G/(H + lambda) explodes.
    ``init_score`` solves the piecewise-linear equation sum s*clip(c - y) = 0 exactly.

    Example
    -------
    >>> HuberLoss(delta=1.0).loss([0.0, 0.0], [0.5, 3.0]).tolist()
    [0.125, 2.5]
    """

    short_name = "huber"
    hessian_options = ("constant", "exact")

    def __init__(self, delta: float = 1.0, hessian: str = "constant") -> None:
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
        if self.hessian == "exact":
            hess = (np.abs(r) <= self._delta).astype(np.float64)
        else:
            hess = np.ones_like(r)
        return _weighted(grad, hess, w)

    def leaf_value(self, residuals: np.ndarray, weights: np.ndarray) -> float:
        """Leaf-refit rule (:mod:`gbobjectives.refit`): the exact Huber M-estimate of a leaf's
        residuals ``y - score``, i.e. the best constant, instead of one Newton step."""
        return self._init_score(np.asarray(residuals, dtype=np.float64), np.asarray(weights, dtype=np.float64))

    def _init_score(self, y, w):
        d = self._delta

        def G(c: float) -> float:
            return float(np.dot(w, np.clip(c - y, -d, d)))

        # G is piecewise linear and non-decreasing with breakpoints y +- delta: find the
        # bracketing pair of breakpoints by bisection, then solve the linear piece exactly.
        b = np.unique(np.concatenate([y - d, y + d]))
        lo, hi = 0, len(b) - 1  # G(b[0]) = -d*W < 0 < G(b[-1]) = d*W
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if G(b[mid]) <= 0:
                lo = mid
            else:
                hi = mid
        g_lo, g_hi = G(b[lo]), G(b[hi])
        if g_lo == 0:
            return float(b[lo])
        return float(b[lo] + (0.0 - g_lo) * (b[hi] - b[lo]) / (g_hi - g_lo))


class PseudoHuberLoss(RegressionLoss):
    r"""Pseudo-Huber loss (XGBoost's ``reg:pseudohubererror``) with scale ``delta``.

    .. math:: \ell = \delta^2\left(\sqrt{1 + (r/\delta)^2} - 1\right) = \frac{r^2}{1 + \sqrt{1+s^2}},\ s = r/\delta

    gradient ``r / sqrt(1 + s^2)``, Hessian ``(1 + s^2)^(-3/2)`` (``hypot`` avoids overflow).
    The default Hessian is the exact one, which is strictly positive and matches the
    built-in objective; it vanishes far from the target, so training starts from the
    optimal constant. ``hessian="constant"`` (1 everywhere) is the alternative.
    ``init_score`` is a bracketed Brent root of sum s*g(c - y) = 0 within [min y, max y].

    Example
    -------
    >>> round(float(PseudoHuberLoss(delta=1.0).loss([0.0], [1.0])[0]), 6)
    0.414214
    """

    short_name = "pseudohuber"
    hessian_options = ("exact", "constant")

    def __init__(self, delta: float = 1.0, hessian: str = "exact") -> None:
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
        hess = inv * inv * inv if self.hessian == "exact" else np.ones_like(s)
        return _weighted(grad, hess, w)

    def _init_score(self, y, w):
        d = self._delta
        return _root_of_increasing(lambda c: float(np.dot(w, (c - y) / np.hypot(1.0, (c - y) / d))), y)


class LogCoshLoss(RegressionLoss):
    r"""Log-cosh loss on the residual ``r = z - y``.

    .. math:: \ell = \log\cosh r

    computed as ``log1p(2 sinh^2(r/2))`` for |r| < 1 and ``|r| + log1p(e^{-2|r|}) - log 2``
    beyond; gradient ``tanh r``; exact Hessian ``4e/(1+e)^2`` with ``e = e^{-2|r|}`` (never
    ``1 - tanh^2``, which is 0 for |r| > 19). The exact Hessian vanishes far from the
    target, where Newton leaf values -G/(H + lambda) overshoot; the default
    ``hessian="constant"`` (1, the Hessian's maximum, so steps are never longer than
    Newton's) is training-safe. ``init_score``: Brent root of sum s*tanh(c - y) = 0.

    Example
    -------
    >>> round(float(LogCoshLoss().loss([0.0], [1.0])[0]), 6)
    0.433781
    """

    short_name = "logcosh"
    hessian_options = ("constant", "exact")

    def __init__(self, hessian: str = "constant") -> None:
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
        if self.hessian == "exact":
            e = np.exp(-2.0 * np.abs(r))
            hess = 4.0 * e / ((1.0 + e) * (1.0 + e))
        else:
            hess = np.ones_like(r)
        return _weighted(grad, hess, w)

    def _init_score(self, y, w):
        return _root_of_increasing(lambda c: float(np.dot(w, np.tanh(c - y))), y)


class QuantileLoss(RegressionLoss):
    r"""Pinball (quantile) loss for the ``quantile`` tau in (0, 1).

    .. math:: \ell = (y - z)(\tau - \mathbb{1}[y < z])

    gradient ``1 - tau`` if ``z >= y`` else ``-tau`` (a subgradient at the kink). The exact
    Hessian is 0; the default ``hessian="constant"`` is 1 (a leaf then moves by at most
    tau or 1 - tau per round; see the leaf-refresh helpers for parity with the built-in
    quantile objectives). ``init_score`` is the exact weighted tau-quantile: the smallest
    y_(k) whose cumulative weight reaches tau * W.

    Example
    -------
    >>> QuantileLoss(quantile=0.9).init_score([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    9.0
    """

    short_name = "quantile"
    hessian_options = ("constant", "exact")

    def __init__(self, quantile: float = 0.5, hessian: str = "constant") -> None:
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
        grad = np.where(z >= y, 1.0 - self._tau, -self._tau)
        hess = np.zeros_like(grad) if self.hessian == "exact" else np.ones_like(grad)
        return _weighted(grad, hess, w)

    def _init_score(self, y, w):
        return weighted_quantile(y, w, self._tau)

    def leaf_value(self, residuals: np.ndarray, weights: np.ndarray) -> float:
        """Leaf-refit rule (:mod:`gbobjectives.refit`): the exact weighted tau-quantile of a
        leaf's residuals ``y - score``, as the engines' built-in quantile objectives do."""
        r, w = np.asarray(residuals, dtype=np.float64), np.asarray(weights, dtype=np.float64)
        return weighted_quantile(r, w, self._tau)
