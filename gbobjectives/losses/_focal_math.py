"""The scalar focal function phi(u) = q^gamma * log(1 + e^-u) and its derivatives.

Shared by the binary and the multiclass focal loss (the multiclass loss is phi of the
true-class "margin" a = z_c - logsumexp_{k != c} z_k). Notation of docs/math.md:

    p = sigmoid(u),  q = sigmoid(-u)  (computed directly, never 1 - p),
    L = softplus(-u) = -log p,

    phi(u)   = q^g * L
    phi'(u)  = -q^g * (g*p*L + q)
    phi''(u) = p * q^g * [(2g + 1)*q + g*L*(g*p - q)]          (exact; negative for p << 1)

Training-safe surrogates for phi'' (all finite, >= 0, and equal to p*q at g = 0):

    "upper":        p * q^g * [(2g + 1)*q + g^2*p*L]   drops the only negative term,
                    so it is >= phi'' everywhere (conservative Newton steps).
    "gauss_newton": q^g * [q^2 + 2g*p*q + g(g-1)*p^2*L]  (the probability-space Gauss-Newton
                    term of docs/math.md; p*q at g = 0 so that focal(0) is logloss).
    "clipped":      max(phi'', 1e-16), XGBoost's own floor for negative Hessians.

Every training-safe mode (all but "exact") is floored at HESSIAN_FLOOR = 1e-16, the floor
XGBoost applies inside its own logloss/softmax objectives: p*q and the surrogates above decay
like e^-|u| and underflow to exactly 0 beyond |u| ~ 745 while the gradient is still +-1 there
(and below 1e-38 they are 0 once an engine stores them as float32). A zero Hessian beside a
non-zero gradient gives an infinite Newton step (-G/H with lambda = 0) or a leaf that can never
be split off; the floor keeps h > 0 wherever the gradient is non-zero, at any finite margin,
and changes nothing where h >= 1e-16 (|u| below ~37 for logloss).

Stability: q**g is computed as a power of q (never exp(-g*softplus(u))), (1-p)**(g-1)
is never formed, and there is no log(p + eps) or clipping of p.
"""

from __future__ import annotations

import numpy as np

from gbobjectives._numerics import expit, softplus

FOCAL_HESSIANS = ("upper", "gauss_newton", "clipped", "exact")
#: the floor of every training-safe Hessian: XGBoost's own floor inside its logloss/softmax
#: objectives (max(p (1 - p), 1e-16)); exactly representable in float32 to 2e-9 relative and a
#: normal float32 (> 1.2e-38), so it survives the engines' float32 gradient storage
HESSIAN_FLOOR = 1e-16
_CLIP_FLOOR = HESSIAN_FLOOR


def focal_parts(u: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return p, q, L and q**gamma at u."""
    p = expit(u)
    q = expit(-u)
    L = softplus(-u)
    qg = q**gamma if gamma != 0 else np.ones_like(q)
    return p, q, L, qg


def phi(u: np.ndarray, gamma: float) -> np.ndarray:
    """phi(u) = q^gamma * softplus(-u)."""
    L = softplus(-u)
    if gamma == 0:
        return L
    return expit(-u) ** gamma * L


def dphi_d2phi(u: np.ndarray, gamma: float, hessian: str) -> tuple[np.ndarray, np.ndarray]:
    """phi'(u) and the requested version of phi''(u); every mode but "exact" is floored at
    :data:`HESSIAN_FLOOR` (``max(h, 1e-16)``)."""
    p, q, L, qg = focal_parts(u, gamma)
    d1 = -qg * (gamma * p * L + q)
    if hessian == "exact" or hessian == "clipped":
        # p*L = -p log p <= 1/e is formed first: gamma*L alone overflows for u < -1e308/gamma
        # (and 0 * inf would then give a NaN Hessian where the true one is 0)
        d2 = qg * ((2 * gamma + 1) * p * q + gamma * (p * L) * (gamma * p - q))
        if hessian == "clipped":
            d2 = np.maximum(d2, _CLIP_FLOOR)
    elif hessian == "upper":
        d2 = p * qg * ((2 * gamma + 1) * q + gamma * gamma * p * L)
        d2 = np.maximum(d2, HESSIAN_FLOOR)  # it underflows to 0 beyond |u| ~ 745: see the module doc
    elif hessian == "gauss_newton":
        if gamma == 0:
            d2 = p * q
        else:
            d2 = qg * (q * q + 2 * gamma * p * q + gamma * (gamma - 1) * p * p * L)
        d2 = np.maximum(d2, HESSIAN_FLOOR)
    else:  # pragma: no cover - validated at construction
        raise ValueError(f"unknown hessian {hessian!r}")
    return d1, d2


def focal_kernel_constants(gamma: float, hessian: str, prefix: tuple[float, ...] = ()) -> tuple[float, ...] | None:
    """``prefix + (floor, gamma, c0, c1, c2)`` for the compiled kernels (``gbobjectives/_kernels.c``),
    which write the training-safe Hessians as ``q^g (c0 q^2 + c1 gp q + c2 gp gpL)`` with
    ``gp = g p`` and ``gpL = g p L`` (every term >= 0): "upper" ``p q^g [(2g+1) q + g^2 p L]`` is
    (0, (2g+1)/g, 1), "gauss_newton" ``q^g [q^2 + 2g p q + g(g-1) p^2 L]`` (g >= 1) is
    (1, 2, (g-1)/g). At gamma = 0 the kernels compute logloss (floored p q, or the exact p q
    for ``hessian="exact"``). None for the modes with cancelling terms ("exact"/"clipped" with
    gamma > 0, Gauss-Newton with gamma < 1), which keep the float64 formulas above.

    Example
    -------
    >>> focal_kernel_constants(2.0, "upper")
    (1e-16, 2.0, 0.0, 2.5, 1.0)
    """
    g = float(gamma)
    if g == 0:  # logloss: every mode but "exact" is the floored logloss Hessian
        return (*prefix, 0.0 if hessian == "exact" else HESSIAN_FLOOR, 0.0, 0.0, 0.0, 0.0)
    if hessian == "upper":
        return (*prefix, HESSIAN_FLOOR, g, 0.0, (2 * g + 1) / g, 1.0)
    if hessian == "gauss_newton" and g >= 1:
        return (*prefix, HESSIAN_FLOOR, g, 1.0, 2.0, (g - 1) / g)
    return None
