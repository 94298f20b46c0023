"""High-precision oracle: every loss written from its definition (README, "The losses"), in mpmath.

Nothing here is taken from the library: the losses are the plain formulas of the API
table (softmax, sigmoid, log, cosh, ...) evaluated with hundreds of digits, and the
gradient and exact Hessian come from ``mpmath.diff`` (central differences at a working
precision of thousands of bits, so both truncation and rounding are far below 1e-300 of
the loss value). That makes it an independent check even of tail Hessians around 1e-300,
which no finite difference in float64 can see.

Used by ``make_reference_table.py`` (the committed JSON table) and by the on-the-fly tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import mpmath
from mpmath import mp, mpf

#: digits for every evaluation: the loss may be ~1e5 while the Hessian we must resolve is
#: ~1e-320, so ~330 digits of cancellation have to be absorbed by the differencing
DPS = 400


def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def _focal_phi(u, gamma):
    """phi(u) = sigma(-u)^gamma * log(1 + e^-u), straight from the API table."""
    return _sigmoid(-u) ** gamma * mpmath.log(1 + mpmath.exp(-u))


def binary_loss_fn(name: str, params: dict, y: float) -> Callable:
    """Per-sample loss as a function of the logit z (mpf -> mpf)."""
    y = mpf(y)
    if name == "WeightedLogLoss":
        wp, wn = mpf(params.get("pos_weight", 1.0)), mpf(params.get("neg_weight", 1.0))
        return lambda z: wp * y * mpmath.log(1 + mpmath.exp(-z)) + wn * (1 - y) * mpmath.log(1 + mpmath.exp(z))
    if name == "FocalLoss":
        g = mpf(params.get("gamma", 2.0))
        alpha = params.get("alpha")
        a_pos, a_neg = (mpf(1), mpf(1)) if alpha is None else (mpf(alpha), 1 - mpf(alpha))
        return lambda z: a_pos * y * _focal_phi(z, g) + a_neg * (1 - y) * _focal_phi(-z, g)
    raise KeyError(name)


def multiclass_loss_fn(name: str, params: dict, y: int) -> Callable:
    """Per-sample loss as a function of the logit vector (sequence of mpf -> mpf)."""
    assert name == "MulticlassFocalLoss"
    g = mpf(params.get("gamma", 2.0))
    alpha = params.get("alpha")
    a_y = mpf(1) if alpha is None else mpf(alpha[y])

    def f(zs):
        p_y = mpmath.exp(zs[y]) / mpmath.fsum(mpmath.exp(zk) for zk in zs)
        return a_y * (1 - p_y) ** g * -mpmath.log(p_y)

    return f


def regression_loss_fn(name: str, params: dict, y: float) -> Callable:
    """Per-sample loss as a function of the raw score z, with r = z - y."""
    y = mpf(y)
    if name == "HuberLoss":
        d = mpf(params.get("delta", 1.0))

        def f(z):
            r = z - y
            return r * r / 2 if abs(r) <= d else d * (abs(r) - d / 2)

        return f
    if name == "PseudoHuberLoss":
        d = mpf(params.get("delta", 1.0))
        return lambda z: d * d * (mpmath.sqrt(1 + ((z - y) / d) ** 2) - 1)
    if name == "LogCoshLoss":
        return lambda z: mpmath.log(mpmath.cosh(z - y))
    if name == "QuantileLoss":
        tau = mpf(params.get("quantile", 0.5))
        return lambda z: (y - z) * (tau - (1 if y < z else 0))
    if name == "AbsoluteErrorLoss":
        return lambda z: abs(y - z)
    if name == "RelativeErrorLoss":
        return lambda z: abs(y - z) / abs(y)
    if name == "ExpectileLoss":
        tau = mpf(params.get("expectile", 0.5))
        return lambda z: abs(tau - (1 if y < z else 0)) * (y - z) ** 2
    raise KeyError(name)


def multi_output_loss_fn(name: str, params: dict, y: float) -> Callable:
    """Per-sample loss of a K-output regression loss as a function of the raw-score vector:
    MultiQuantileLoss, sum_k rho_tau_k(y - q_k) with q = z ("sort") or
    q_1 = z_1, q_k = q_{k-1} + log(1 + e^z_k) ("monotone")."""
    assert name == "MultiQuantileLoss"
    y = mpf(y)
    taus = [mpf(t) for t in params.get("quantiles", (0.1, 0.5, 0.9))]
    monotone = params.get("noncrossing", "sort") == "monotone"

    def f(zs):
        q, qs = None, []
        for k, zk in enumerate(zs):
            q = zk if k == 0 or not monotone else q + mpmath.log(1 + mpmath.exp(zk))
            qs.append(zk if not monotone else q)
        return mpmath.fsum((y - qk) * (t - (1 if y < qk else 0)) for t, qk in zip(taus, qs))

    return f


TASKS = {
    "WeightedLogLoss": "binary",
    "FocalLoss": "binary",
    "MulticlassFocalLoss": "multiclass",
    "HuberLoss": "regression",
    "PseudoHuberLoss": "regression",
    "LogCoshLoss": "regression",
    "QuantileLoss": "regression",
    "AbsoluteErrorLoss": "regression",
    "RelativeErrorLoss": "regression",
    "ExpectileLoss": "regression",
    "MultiQuantileLoss": "multioutput",
}


def reference(name: str, params: dict, y, z) -> tuple:
    """(loss, gradient, exact Hessian diagonal) as mpf (lists of mpf for multiclass and
    multi-output rows).

    ``y`` and ``z`` are the float64 inputs; they are converted exactly (no rounding).
    """
    task = TASKS[name]
    with mp.workdps(DPS):
        if task in ("multiclass", "multioutput"):
            f = (
                multiclass_loss_fn(name, params, int(y))
                if task == "multiclass"
                else multi_output_loss_fn(name, params, y)
            )
            zs = [mpf(float(v)) for v in z]
            value = f(zs)
            grad, hess = [], []
            for j in range(len(zs)):

                def along(t, j=j):
                    return f([t if k == j else zs[k] for k in range(len(zs))])

                grad.append(mpmath.diff(along, zs[j], 1))
                hess.append(mpmath.diff(along, zs[j], 2))
            return +value, [+g for g in grad], [+h for h in hess]
        make = binary_loss_fn if task == "binary" else regression_loss_fn
        f = make(name, params, float(y))
        z0 = mpf(float(z))
        return +f(z0), +mpmath.diff(f, z0, 1), +mpmath.diff(f, z0, 2)


def to_str(x) -> str:
    """A decimal string with 20 significant digits (keeps values below the float64 range)."""
    with mp.workdps(DPS):
        return mpmath.nstr(x, 20, min_fixed=1, max_fixed=0) if x != 0 else "0"


def close(actual: float, expected: mpf, rtol: float = 1e-12) -> bool:
    """|actual - expected| <= rtol*|expected|, with a tiny absolute slack only where the
    expected value is below the smallest normal double (it underflows in float64)."""
    tiny = 2.2250738585072014e-308
    with mp.workdps(60):
        e = mpf(expected)
        atol = mpf("1e-318") if abs(e) < tiny else 0
        return abs(mpf(actual) - e) <= rtol * abs(e) + atol


def as_list(x) -> Sequence:
    return x if isinstance(x, (list, tuple)) else [x]
