"""Binary classification losses on a logit: weighted logloss and focal loss."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import brentq

from gbobjectives import _compiled as compiled
from gbobjectives._numerics import expit, softplus
from gbobjectives._validation import check_scalar_param
from gbobjectives.losses._focal_math import FOCAL_HESSIANS, HESSIAN_FLOOR, dphi_d2phi, focal_kernel_constants, phi
from gbobjectives.losses.base import BinaryLoss, plain_weights

__all__ = ["WeightedLogLoss", "FocalLoss", "class_balanced_weights"]


def _logloss(y: np.ndarray, z: np.ndarray, w_pos: float, w_neg: float) -> np.ndarray:
    """w+ y softplus(-z) + w- (1 - y) softplus(z). With 0/1 labels one of the two terms is an
    exact 0, so one softplus of the sign-selected margin gives the same bits at half the cost
    (``np.logaddexp`` is ~20 ms per 1M float64 rows here: most of a metric call)."""
    pos = y == 1.0
    if bool(np.all(pos | (y == 0.0))):
        return np.where(pos, w_pos, w_neg) * softplus(np.where(pos, -z, z))
    return w_pos * y * softplus(-z) + w_neg * (1 - y) * softplus(z)


def _logloss_gradient_hessian(
    y: np.ndarray, z: np.ndarray, w_pos: float, w_neg: float, w: np.ndarray | None, floor: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """grad = -w+ y sigma(-z) + w- (1-y) sigma(z); hess = (w+ y + w- (1-y)) max(sigma(z) sigma(-z), 1e-16)
    (the exact p q without the floor when ``floor=False``)."""
    # sigma(z)*sigma(-z), never p*(1-p), which is 0 for |z| > 37
    p = expit(z)
    q = expit(-z)
    grad = w_neg * (1 - y) * p - w_pos * y * q
    pq = p * q
    if floor:
        # p q underflows to 0 beyond |z| ~ 745 while the gradient is still +-1 (and below 1e-38
        # once stored as float32): XGBoost's own floor, applied before the weights
        pq = np.maximum(pq, HESSIAN_FLOOR)
    hess = (w_pos * y + w_neg * (1 - y)) * pq
    if w is not None:
        grad *= w
        hess *= w
    return grad, hess


def _hard_labels(y: np.ndarray) -> bool:
    """Whether every label is exactly 0 or 1 (else soft labels)."""
    return bool(np.all((y == 0) | (y == 1)))


def _prepare_binary(y: np.ndarray, w: np.ndarray | None, dtype: np.dtype, kernel: tuple | None) -> dict:
    """Hard 0/1 labels and a compiled kernel: the labels and weights in the engine's ``dtype``
    (converted once per data set), for :func:`_kernel_fast`."""
    prep: dict = {"y": y, "w": w}
    if kernel is not None and compiled.available() and _hard_labels(y):
        prep["yk"] = np.ascontiguousarray(y, dtype=dtype)
        prep["wk"] = None if w is None else np.ascontiguousarray(w, dtype=dtype)
        prep["_compiled"] = True  # one row range per thread, finiteness checked by the kernel
    return prep


def _kernel_fast(kernel: tuple, z: np.ndarray, prep: dict, ws: Any) -> tuple[np.ndarray, np.ndarray]:
    """The compiled kernel on one row range of the engine's scores (engines/_blocked.py), in
    their precision, written straight into the engine's destination (float32; float64 for
    CatBoost)."""
    grad, hess = ws.kernel_results(z)
    compiled.raise_if_nonfinite(compiled.binary(z, prep["yk"], prep["wk"], kernel, grad, hess, parallel=False))
    return grad, hess


def _kernel_values(constants: tuple, y: np.ndarray, z: np.ndarray) -> np.ndarray | None:
    """The per-row loss values ``a_t phi(t z)`` from the compiled kernel, or None where it does
    not apply (not built, soft labels)."""
    if not compiled.available():
        return None
    z = np.ascontiguousarray(z, dtype=np.float64)
    out = np.empty_like(z)
    status, _, _ = compiled.binary_value(z, np.ascontiguousarray(y, dtype=np.float64), None, constants, out)
    return None if status & compiled.SOFT_LABELS else out


def _kernel_mean(constants: tuple, y: np.ndarray, z: np.ndarray, w: np.ndarray | None) -> float | None:
    """The weighted mean loss (what the metrics report) from the compiled kernel, or None."""
    if not compiled.available():
        return None
    z = np.ascontiguousarray(z, dtype=np.float64)
    wk = None if w is None else np.ascontiguousarray(w, dtype=np.float64)
    status, total, weight = compiled.binary_value(z, np.ascontiguousarray(y, dtype=np.float64), wk, constants)
    if status & compiled.SOFT_LABELS:
        return None
    if not weight > 0:
        raise ValueError("sample weights sum to zero: a weighted mean is undefined")
    return total / weight


def _kernel_call(
    kernel: tuple, y: np.ndarray, z: np.ndarray, w: np.ndarray | None, out: tuple | None = None
) -> tuple[int, np.ndarray, np.ndarray]:
    """``(status, grad, hess)`` of the compiled kernel on float64 scores, into fresh arrays
    (or ``out``: C-contiguous float64 arrays of the scores' shape)."""
    z = np.ascontiguousarray(z, dtype=np.float64)
    grad, hess = out if out is not None else (np.empty_like(z), np.empty_like(z))
    w = None if w is None else np.ascontiguousarray(w, dtype=np.float64)
    status = compiled.binary(z, np.ascontiguousarray(y, dtype=np.float64), w, kernel, grad, hess)
    return status, grad, hess


def _kernel_public(kernel: tuple | None, y: np.ndarray, z: np.ndarray, w: np.ndarray | None):
    """The public float64 gradient and Hessian from the compiled kernel, or None where it does
    not apply (not built, soft labels: then the numpy formulas)."""
    if kernel is None or not compiled.available():
        return None
    status, grad, hess = _kernel_call(kernel, y, z, w)
    return None if status & compiled.SOFT_LABELS else (grad, hess)


class _KernelBinaryLoss(BinaryLoss):
    """A binary loss with a compiled kernel (``self._kernel``), which also checks the public
    method's plain numpy inputs (:meth:`_kernel_unchecked`)."""

    _kernel: tuple | None = None

    def _kernel_unchecked(self, y_true: Any, raw_prediction: Any, sample_weight: Any, out: Any = None) -> tuple | None:
        """The kernel as the checker: its status reports NaN/inf scores and labels other than 0
        and 1 (NaN included), and then this returns None and the full checks (their messages)
        and formulas (soft labels) run. Saves the separate passes of the checks. None also for
        anything unusual (lists, other shapes or dtypes): the full path handles it."""
        z, y = raw_prediction, y_true
        if self._kernel is None or not compiled.available():
            return None
        if not (isinstance(z, np.ndarray) and isinstance(y, np.ndarray) and z.dtype == np.float64 and z.ndim == 1):
            return None
        if y.shape != z.shape or y.dtype.kind not in "biuf":
            return None
        plain, w = plain_weights(sample_weight, z.shape[0])
        if not plain:
            return None
        status, grad, hess = _kernel_call(self._kernel, y, z, w, out)
        return None if status else (grad, hess)


def _solve_binary_intercept(dF: Any, c0: float) -> float:
    """Root of an increasing function with dF(-inf) < 0 < dF(+inf), bracketed from c0."""
    lo, hi, step = c0 - 1.0, c0 + 1.0, 1.0
    while dF(lo) > 0:
        step *= 2
        lo = c0 - step
    step = 1.0
    while dF(hi) < 0:
        step *= 2
        hi = c0 + step
    return float(brentq(dF, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500))


def _class_sums(y: np.ndarray, w: np.ndarray, w_pos: float, w_neg: float) -> tuple[float, float]:
    A = float(np.sum(w * y)) * w_pos
    B = float(np.sum(w * (1 - y))) * w_neg
    if A <= 0 or B <= 0:
        which = "positive" if A <= 0 else "negative"
        raise ValueError(
            f"y_true has no {which} weight (a single class, or a zero class weight): the loss "
            f"has no finite minimising init_score"
        )
    return A, B


class WeightedLogLoss(_KernelBinaryLoss):
    r"""Class-weighted binary logloss on the logit ``z``.

    .. math::
        \ell = w_+\,y\,\log(1+e^{-z}) + w_-\,(1-y)\,\log(1+e^{z})

    gradient ``-w+ y sigma(-z) + w- (1-y) sigma(z)``; exact Hessian
    ``(w+ y + w- (1-y)) sigma(z) sigma(-z)`` (``hessian="exact"``).

    The default ``hessian="floored"`` is ``(w+ y + w- (1-y)) max(sigma(z) sigma(-z), 1e-16)``,
    the floor XGBoost applies in its own ``binary:logistic``: the exact Hessian decays like
    e^-|z| and underflows to exactly 0 beyond |z| ~ 745 (in float32, what the engines store,
    below 1e-38 from |z| ~ 87) while the gradient is still +-1 there; a zero Hessian beside a
    non-zero gradient makes Newton leaf values -G/(H + lambda) infinite. With the floor the
    Hessian is > 0 wherever the gradient is not 0, at any finite margin; it equals the exact one
    wherever that is >= 1e-16 (|z| below ~36.8).
    ``init_score`` is the closed form ``log(sum s w+ y) - log(sum s w- (1-y))``.

    Parameters
    ----------
    pos_weight, neg_weight : float >= 0
        Weights of the positive and negative class (see :func:`class_balanced_weights`).
    hessian : ``"floored"`` (default) or ``"exact"``.

    Example
    -------
    >>> loss = WeightedLogLoss(pos_weight=3.0)
    >>> g, h = loss.gradient_hessian([1, 0], [0.0, 0.0])
    >>> g.tolist(), h.tolist()
    ([-1.5, 0.5], [0.75, 0.25])
    """

    short_name = "logloss"
    hessian_options = ("floored", "exact")
    example_params = ({}, {"pos_weight": 3.0, "neg_weight": 0.5})

    def __init__(self, pos_weight: float = 1.0, neg_weight: float = 1.0, hessian: str = "floored") -> None:
        self.pos_weight = pos_weight
        self.neg_weight = neg_weight
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        self._w_pos = check_scalar_param("pos_weight", self.pos_weight, low=0.0)
        self._w_neg = check_scalar_param("neg_weight", self.neg_weight, low=0.0)
        if self.hessian not in self.hessian_options:
            raise ValueError(f"hessian must be one of {self.hessian_options}, got {self.hessian!r}")
        # the compiled kernel's constants: logloss is the focal kernel at gamma = 0
        self._kernel = focal_kernel_constants(0.0, self.hessian, (self._w_pos, self._w_neg))
        self._values = (self._w_pos, self._w_neg, 0.0)

    def _loss(self, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        out = _kernel_values(self._values, y, z)
        return _logloss(y, z, self._w_pos, self._w_neg) if out is None else out

    def _weighted_mean_loss(self, y: np.ndarray, z: np.ndarray, w: np.ndarray | None) -> float | None:
        """The weighted mean loss in one compiled pass (None: the metric computes it itself)."""
        return _kernel_mean(self._values, y, z, w)

    _unchecked_path = True  # _kernel_unchecked computes what _gradient_hessian does

    def _gradient_hessian(self, y, z, w):
        out = _kernel_public(self._kernel, y, z, w)
        if out is not None:
            return out
        return _logloss_gradient_hessian(y, z, self._w_pos, self._w_neg, w, floor=self.hessian != "exact")

    def _prepare_labels(self, y, w, dtype):
        return _prepare_binary(y, w, dtype, self._kernel)

    def _gradient_hessian_fast(self, z, prep, ws):
        if "yk" in prep:
            return _kernel_fast(self._kernel, z, prep, ws)
        return super()._gradient_hessian_fast(z, prep, ws)

    def _init_score(self, y: np.ndarray, w: np.ndarray) -> float:
        A, B = _class_sums(y, w, self._w_pos, self._w_neg)
        return float(np.log(A) - np.log(B))


class FocalLoss(_KernelBinaryLoss):
    r"""Binary focal loss (Lin et al., 2017) on the logit ``z``.

    .. math::
        \ell = \alpha\,y\,\phi(z) + (1-\alpha)(1-y)\,\phi(-z),\qquad
        \phi(u) = \sigma(-u)^\gamma \log(1+e^{-u})

    ``alpha=None`` weights both classes by 1 (``alpha`` then is not 0.5: plain focal loss).
    Linear in ``y``, so soft labels are exact. ``gamma=0`` is exactly
    :class:`WeightedLogLoss` (value, gradient and Hessian, bit for bit).

    Hessian
    -------
    The exact Hessian (``hessian="exact"``) is negative for badly misclassified rows
    (p_t below about 0.058 at gamma=2); XGBoost then clips it to ~0 and leaf values
    explode. The default ``"upper"`` drops the single negative term of phi'':
    ``p q^g [(2g+1) q + g^2 p L]``. It is >= the exact Hessian everywhere, equals it at
    gamma=0 (logloss) and was the best or tied-best choice on imbalanced data with both
    engines in ``benchmarks/focal_hessian.py`` (results in ``benchmarks/results/``).
    Also available: ``"gauss_newton"``, ``"clipped"`` (max(exact, 1e-16)) and ``"exact"``.
    Every mode but ``"exact"`` is floored at 1e-16 before the class and sample weights
    multiply it (XGBoost's own floor): the surrogates decay like e^-|z| and underflow to 0
    beyond |z| ~ 745 (below 1e-38, float32's normal range, much earlier) while the gradient is
    still about -+1 for a misclassified row, so without a floor the Hessian would be 0 beside a
    non-zero gradient. At gamma=0 every mode but ``"exact"`` is ``WeightedLogLoss()``'s
    floored Hessian, ``"exact"`` is ``WeightedLogLoss(hessian="exact")``'s.

    ``init_score`` solves F'(c) = 0 exactly by bracketed Brent root finding (F' has one
    sign change).

    Example
    -------
    >>> loss = FocalLoss(gamma=2.0, alpha=0.25)
    >>> round(float(loss.loss([1], [0.0])[0]), 6)  # 0.25 * 0.5**2 * log 2
    0.043322
    """

    short_name = "focal"
    hessian_options = FOCAL_HESSIANS
    example_params = tuple({"gamma": g, "alpha": a} for g in (0.0, 0.5, 2.0, 5.0) for a in (None, 0.25))

    def __init__(self, gamma: float = 2.0, alpha: float | None = None, hessian: str = "upper") -> None:
        self.gamma = gamma
        self.alpha = alpha
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        self._gamma = check_scalar_param("gamma", self.gamma, low=0.0)
        if self.alpha is None:
            self._a_pos, self._a_neg = 1.0, 1.0
        else:
            a = check_scalar_param("alpha", self.alpha, low=0.0, high=1.0)
            self._a_pos, self._a_neg = a, 1.0 - a
        if self.hessian not in self.hessian_options:
            raise ValueError(f"hessian must be one of {self.hessian_options}, got {self.hessian!r}")
        # the compiled kernel's constants, None for the modes with cancelling terms
        self._kernel = focal_kernel_constants(self._gamma, self.hessian, (self._a_pos, self._a_neg))
        self._values = (self._a_pos, self._a_neg, self._gamma)

    def _loss(self, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        out = _kernel_values(self._values, y, z)
        if out is not None:
            return out
        if self._gamma == 0:
            return _logloss(y, z, self._a_pos, self._a_neg)
        if _hard_labels(y):
            pos = y == 1
            return np.where(pos, self._a_pos, self._a_neg) * phi(np.where(pos, z, -z), self._gamma)
        return self._a_pos * y * phi(z, self._gamma) + self._a_neg * (1 - y) * phi(-z, self._gamma)

    def _weighted_mean_loss(self, y: np.ndarray, z: np.ndarray, w: np.ndarray | None) -> float | None:
        """The weighted mean loss in one compiled pass (None: the metric computes it itself)."""
        return _kernel_mean(self._values, y, z, w)

    _unchecked_path = True  # _kernel_unchecked computes what _gradient_hessian does

    def _gradient_hessian(self, y, z, w):
        out = _kernel_public(self._kernel, y, z, w)
        if out is not None:
            return out
        if self._gamma == 0:
            return _logloss_gradient_hessian(y, z, self._a_pos, self._a_neg, w, floor=self.hessian != "exact")
        if _hard_labels(y):
            # one evaluation at u = t*z (t = +-1) instead of two terms
            pos = y == 1
            u = np.where(pos, z, -z)
            d1, d2 = dphi_d2phi(u, self._gamma, self.hessian)
            a_t = np.where(pos, self._a_pos, self._a_neg)
            grad = np.where(pos, a_t, -a_t) * d1
            hess = a_t * d2
        else:
            d1p, d2p = dphi_d2phi(z, self._gamma, self.hessian)
            d1n, d2n = dphi_d2phi(-z, self._gamma, self.hessian)
            grad = self._a_pos * y * d1p - self._a_neg * (1 - y) * d1n
            hess = self._a_pos * y * d2p + self._a_neg * (1 - y) * d2n
        if w is not None:
            grad *= w
            hess *= w
        return grad, hess

    def _prepare_labels(self, y, w, dtype):
        return _prepare_binary(y, w, dtype, self._kernel)

    def _gradient_hessian_fast(self, z, prep, ws):
        if "yk" in prep:
            return _kernel_fast(self._kernel, z, prep, ws)
        # soft labels, Hessians with cancelling terms, no compiled kernels: the float64 formulas
        return super()._gradient_hessian_fast(z, prep, ws)

    def _init_score(self, y: np.ndarray, w: np.ndarray) -> float:
        A, B = _class_sums(y, w, self._a_pos, self._a_neg)
        c0 = float(np.log(A) - np.log(B))
        if self._gamma == 0:
            return c0
        g = self._gamma

        def dF(c: float) -> float:
            d_pos, _ = dphi_d2phi(np.array([c]), g, "exact")
            d_neg, _ = dphi_d2phi(np.array([-c]), g, "exact")
            return float(A * d_pos[0] - B * d_neg[0])

        return _solve_binary_intercept(dF, c0)


def _missing_labels(labels: np.ndarray) -> int:
    """How many labels are NaN (float/complex arrays) or None/NaN (object arrays)."""
    if labels.dtype.kind in "fc":
        return int(np.count_nonzero(np.isnan(labels)))
    if labels.dtype.kind == "O":
        # x != x holds only for NaN (float, numpy or pandas missing values)
        return sum(1 for v in labels.tolist() if v is None or (isinstance(v, float) and v != v))
    return 0


def class_balanced_weights(y: Any, beta: float = 0.999) -> np.ndarray:
    r"""Class-balanced weights of Cui et al. (2019), one per class in sorted label order.

    .. math:: w_c \propto \frac{1-\beta}{1-\beta^{n_c}}

    computed as ``eps / -expm1(n_c * log1p(-eps))`` with ``eps = 1 - beta`` (exact at
    ``beta = 0``, where all weights are 1, and as ``beta -> 1``, where ``w_c -> 1/n_c``),
    then normalised to sum to the number of classes. For binary labels,
    ``w = class_balanced_weights(y)`` plugs in as ``WeightedLogLoss(neg_weight=w[0],
    pos_weight=w[1])`` or ``FocalLoss(alpha=w[1] / 2)``; for K classes as
    ``MulticlassFocalLoss(alpha=w)``.

    Example
    -------
    >>> class_balanced_weights([0, 0, 0, 1], beta=1.0).round(3).tolist()
    [0.5, 1.5]
    """
    b = check_scalar_param("beta", beta, low=0.0, high=1.0)
    labels = np.asarray(y)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"y must be a non-empty 1-D array of labels, got shape {labels.shape}")
    missing = _missing_labels(labels)
    if missing:
        # np.unique would count every NaN as a class of its own (NaN != NaN), or all of them as one
        raise ValueError(f"y contains {missing} missing label(s) (NaN or None): every label must be a class")
    _, counts = np.unique(labels, return_counts=True)
    n = counts.astype(np.float64)
    eps = 1.0 - b
    if eps == 0.0:
        w = 1.0 / n  # the limit beta -> 1
    else:
        with np.errstate(divide="ignore"):  # log1p(-1) = -inf is the exact beta = 0 case
            w = eps / -np.expm1(n * np.log1p(-eps))
    return w * (len(n) / np.sum(w))
