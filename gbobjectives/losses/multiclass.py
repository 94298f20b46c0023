"""Multiclass softmax focal loss."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import brentq

from gbobjectives import _compiled as compiled
from gbobjectives._numerics import expit, log_sigmoid, softplus
from gbobjectives._validation import check_scalar_param, describe_ids
from gbobjectives.losses._focal_math import FOCAL_HESSIANS, HESSIAN_FLOOR, dphi_d2phi, focal_kernel_constants, phi
from gbobjectives.losses.base import MulticlassLoss, plain_weights

__all__ = ["MulticlassFocalLoss"]

_RTOL = 4 * np.finfo(float).eps


def _true_class_margin(y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """a = z_c - logsumexp_{k != c} z_k, rho_j = p_j / (1 - p_c) and 1 - rho_j, without cancellation.

    p_c = sigmoid(a) exactly; for the largest wrong class 1 - rho_j is the sum of the
    other rho's (computing it as 1 - rho_j would cancel to 0).
    """
    n = z.shape[0]
    rows = np.arange(n)
    z_true = z[rows, y]
    zm = z.copy()
    zm[rows, y] = -np.inf
    jmax = np.argmax(zm, axis=1)
    m = zm[rows, jmax]
    e = np.exp(zm - m[:, None])  # 0 at the true class, 1 at jmax
    s = np.sum(e, axis=1)
    a = z_true - (m + np.log(s))
    rho = e / s[:, None]
    one_minus_rho = (s[:, None] - e) / s[:, None]
    e[rows, jmax] = 0.0
    one_minus_rho[rows, jmax] = np.sum(e, axis=1) / s
    return a, rho, one_minus_rho


class MulticlassFocalLoss(MulticlassLoss):
    r"""Softmax focal loss over K classes on (n, K) logits.

    .. math:: \ell = \alpha_y\,(1-p_y)^\gamma\,(-\log p_y),\qquad p = \mathrm{softmax}(z)

    computed as ``alpha_c * phi(a)`` with ``a = z_c - logsumexp_{k != c} z_k`` so that
    ``p_c = sigmoid(a)`` has no cancellation. Gradients: ``alpha_c phi'(a)`` for the true
    class and ``-alpha_c rho_j phi'(a)`` for the others (a row sums to 0). The Hessian is
    the diagonal (engines take only the diagonal): ``H_cc = alpha_c phi''(a)`` and
    ``H_jj = alpha_c [phi''(a) rho_j^2 - phi'(a) rho_j (1 - rho_j)]``.

    At ``gamma=0`` this is softmax cross-entropy (``grad = p - onehot``,
    ``H_jj = p_j (1 - p_j)``). The default Hessian is ``"upper"``, chosen for the same
    reason as in :class:`FocalLoss` (phi'' replaced by its non-negative upper bound, which
    makes every H_jj >= 0); ``"exact"`` is the true diagonal. Every mode but ``"exact"`` is
    floored, ``max(H_jj, 1e-16)`` before the class and sample weights multiply it, as XGBoost
    floors its own softmax Hessian: for a confidently wrong row (logit gaps beyond ~745) both
    H_cc = alpha_c phi''(a) and the largest wrong class's H_jj underflow to 0 while their
    gradients are -+alpha_c, so the floor keeps the Hessian > 0 wherever the gradient is not 0.

    Parameters
    ----------
    gamma : float >= 0
    alpha : None or a length-K sequence of non-negative class weights (fixes K).
    hessian : one of ``"upper"`` (default), ``"gauss_newton"``, ``"clipped"``, ``"exact"``.

    Example
    -------
    >>> loss = MulticlassFocalLoss(gamma=0.0)
    >>> g, h = loss.gradient_hessian([0], [[0.0, 0.0, 0.0]])
    >>> g.round(4).tolist()
    [[-0.6667, 0.3333, 0.3333]]
    """

    short_name = "mfocal"
    #: the multiclass member of the "focal" family; on K classes "logloss" is this loss at gamma = 0
    family = "focal"
    variants = {"logloss": {"gamma": 0.0}}
    hessian_options = FOCAL_HESSIANS
    example_params = tuple({"gamma": g, "alpha": a} for g in (0.0, 0.5, 2.0) for a in (None, [0.5, 1.0, 2.0]))

    def __init__(self, gamma: float = 2.0, alpha: Any = None, hessian: str = "upper") -> None:
        self.gamma = gamma
        self.alpha = alpha
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        self._gamma = check_scalar_param("gamma", self.gamma, low=0.0)
        if self.alpha is None:
            self._alpha = None
            self.n_classes = None
        else:
            if isinstance(self.alpha, (str, bytes)) or np.ndim(self.alpha) != 1:
                raise ValueError(f"alpha must be None or a 1-D sequence of K >= 2 class weights, got {self.alpha!r}")
            try:
                a = np.asarray(self.alpha, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(f"alpha must hold real numbers, got {self.alpha!r}") from None
            if a.size < 2:
                raise ValueError(f"alpha must have length K >= 2, got length {a.size}")
            if not np.all(np.isfinite(a)) or np.any(a < 0):
                raise ValueError(f"alpha must hold finite non-negative class weights, got {self.alpha!r}")
            self._alpha = a
            self.n_classes = int(a.size)
        if self.hessian not in self.hessian_options:
            raise ValueError(f"hessian must be one of {self.hessian_options}, got {self.hessian!r}")
        # the compiled kernel's constants; None for the modes with cancelling terms, and for
        # "clipped" cross-entropy, which clips the exact p q (the kernel floors it first)
        clipped_ce = self._gamma == 0 and self.hessian == "clipped"
        self._kernel = None if clipped_ce else focal_kernel_constants(self._gamma, self.hessian)

    def _class_weight(self, y: np.ndarray) -> np.ndarray | float:
        return 1.0 if self._alpha is None else self._alpha[y]

    def _row_scale(self, y: np.ndarray, w: np.ndarray | None) -> np.ndarray | float:
        """Each row's weight: its class weight times its sample weight (1.0 when both are absent)."""
        scale = self._class_weight(y)
        return scale if w is None else scale * w

    def _loss(self, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        a, _, _ = _true_class_margin(y, z)
        return self._class_weight(y) * phi(a, self._gamma)

    def _softmax_call(
        self, y: np.ndarray, z: np.ndarray, w: np.ndarray | None, out: tuple | None = None
    ) -> tuple[int, np.ndarray, np.ndarray]:
        """``(status, grad, hess)`` of the compiled softmax kernel, into fresh float64 arrays
        (or ``out``: C-contiguous float64 arrays of the scores' shape)."""
        yk = np.ascontiguousarray(y, dtype=np.int64)
        scale = self._row_scale(yk, w)
        scale = None if np.ndim(scale) == 0 else np.ascontiguousarray(scale, dtype=np.float64)
        grad, hess = out if out is not None else (np.empty(z.shape), np.empty(z.shape))
        return compiled.softmax(z, yk, scale, self._kernel, grad, hess), grad, hess

    def _kernel_unchecked(self, y: Any, z: Any, w: Any, out: Any = None) -> tuple[np.ndarray, np.ndarray] | None:
        """The public gradient and Hessian straight from the compiled kernel for plain numpy
        inputs (float64 (n, K) scores, integer labels, float weights or None), checking only
        what the kernel cannot: the labels' range (they index the classes) and the weights; the
        kernel reports NaN/inf scores, and then (or for anything unusual: lists, float labels,
        other shapes) this returns None and the full checks and messages run."""
        if self._kernel is None or not compiled.available():
            return None
        if not (isinstance(z, np.ndarray) and isinstance(y, np.ndarray) and z.dtype == np.float64 and z.ndim == 2):
            return None
        n, K = z.shape
        if K < 2 or (self.n_classes is not None and K != self.n_classes) or y.shape != (n,) or y.dtype.kind not in "iu":
            return None
        if n and not (y.min() >= 0 and y.max() < K):
            return None
        plain, w = plain_weights(w, n)
        if not plain:
            return None
        status, grad, hess = self._softmax_call(y, z, w, out)
        return None if status else (grad, hess)

    _unchecked_path = True  # _kernel_unchecked computes what _gradient_hessian does

    def _gradient_hessian(self, y, z, w):
        if self._kernel is not None and compiled.available():
            _, grad, hess = self._softmax_call(y, z, w)  # (the scores are checked: status 0)
            return grad, hess
        rows = np.arange(z.shape[0])
        a, rho, one_minus_rho = _true_class_margin(y, z)
        d1, d2 = dphi_d2phi(a, self._gamma, self.hessian)
        scale = np.broadcast_to(np.asarray(self._row_scale(y, w), dtype=np.float64), a.shape)
        sd1 = (scale * d1)[:, None]
        grad = -sd1 * rho
        hess = (scale * d2)[:, None] * rho * rho - sd1 * rho * one_minus_rho
        grad[rows, y] = scale * d1
        hess[rows, y] = scale * d2
        if self.hessian != "exact":
            # max(h s, f s) = max(h, f) s exactly (rounding is monotone): the floor before the weights
            np.maximum(hess, (HESSIAN_FLOOR * scale)[:, None], out=hess)
        return grad, hess

    # ------------------------------------------------------------------ engine fast path
    def _prepare_labels(self, y, w, dtype):
        """Class indices as int64 and the row scale (class weight times sample weight) in the
        engine's dtype, for the compiled kernel (converted once per data set)."""
        if self._kernel is None or not compiled.available():
            return {"y": y, "w": w}
        scale = self._row_scale(y, w)
        return {
            "y": y,
            "w": w,
            "yk": np.ascontiguousarray(y, dtype=np.int64),
            "scale": None if np.ndim(scale) == 0 else np.ascontiguousarray(scale, dtype=dtype),
            "_compiled": True,  # one row range per thread, finiteness checked by the kernel
        }

    def _gradient_hessian_fast(self, z, prep, ws):
        """The compiled kernel on one row range (engines/_blocked.py), in the scores' precision,
        written straight into the engine's (class-major) destination."""
        if "yk" not in prep:
            return super()._gradient_hessian_fast(z, prep, ws)  # cancelling terms, or not built: float64
        grad, hess = ws.kernel_results(z)
        compiled.raise_if_nonfinite(compiled.softmax(z, prep["yk"], prep["scale"], self._kernel, grad, hess, False))
        return grad, hess

    # ------------------------------------------------------------------ init score
    def _init_score(self, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        K = self.n_classes if self.n_classes is not None else max(int(y.max()) + 1, 2)
        W = np.bincount(y, weights=w, minlength=K).astype(np.float64)
        if self._alpha is not None:
            W = W * self._alpha
        if np.any(W <= 0):
            missing = describe_ids(np.flatnonzero(W <= 0).tolist())
            raise ValueError(
                f"classes {missing} have zero total weight in y_true: the multiclass loss has no "
                f"finite minimising init_score (its score would be -inf)"
            )
        if self._gamma == 0:
            return np.log(W) - np.log(np.sum(W))
        return _focal_simplex_optimum(W, self._gamma)


def _focal_simplex_optimum(W: np.ndarray, gamma: float) -> np.ndarray:
    """log p* minimising sum_c W_c f(p_c) over the simplex, f(p) = (1-p)^g (-log p).

    f is convex and decreasing, so the KKT conditions are W_c (-f'(p_c)) = lambda for all
    c. In logit coordinates a_c = logit(p_c),
        h_c(a) = log W_c + (g-1) log q + log(g p L + q) - log p = log lambda
    is strictly decreasing in a: solve it per class (inner bisection), then find
    log lambda such that the p_c sum to 1 (outer bisection).
    """

    def h(a: float, logW: float) -> float:
        p, q = expit(a), expit(-a)
        L = softplus(-a)
        return logW + (gamma - 1) * -softplus(a) + np.log(gamma * p * L + q) + softplus(-a)

    def a_of(ell: float, logW: float) -> float:
        f = lambda a: h(a, logW) - ell  # noqa: E731
        lo, hi, step = -1.0, 1.0, 1.0
        while f(lo) < 0:
            step *= 2
            lo = -step
        step = 1.0
        while f(hi) > 0:
            step *= 2
            hi = step
        return brentq(f, lo, hi, xtol=1e-300, rtol=_RTOL, maxiter=500)

    logW = np.log(W)

    def excess(ell: float) -> float:
        return float(sum(expit(a_of(ell, lw)) for lw in logW) - 1.0)

    ell0 = float(np.log(np.sum(W)))
    lo, hi, step = ell0 - 1.0, ell0 + 1.0, 1.0
    while excess(lo) < 0:
        step *= 2
        lo = ell0 - step
    step = 1.0
    while excess(hi) > 0:
        step *= 2
        hi = ell0 + step
    ell = brentq(excess, lo, hi, xtol=1e-300, rtol=_RTOL, maxiter=500)
    return np.array([float(log_sigmoid(np.float64(a_of(ell, lw)))) for lw in logW])
