"""A public finite-difference audit of gradients and Hessians that neither misses bugs nor cries wolf.

Design (docs/math.md, "The audit's tolerance"):

* Step ``h = eps**(1/5) * scale`` (``scale`` is the loss's length scale: 1 or delta), not
  scaled by |z|, made exactly representable as ``h := (z + h) - z``; 5-point stencil.
* The gradient is checked by differentiating the loss; the Hessian by differentiating the
  analytic gradient (a second difference of the loss would drown in rounding).
* Tolerance ``|D - a| <= rtol*|a| + C*(N_round + N_input + T) + atol`` where
  ``N_round = eps * sum|w_i f_i| / (12h)`` is rounding in the differenced values,
  ``N_input = 1.5 eps |z| (|D| + 2h|D'|) / h`` the rounding of the inputs and
  ``T = |D(h) - D(2h)| / 15`` a Richardson estimate of truncation. The analytic value
  enters only through ``rtol``, so a wrong answer cannot loosen its own tolerance.
* Within a stencil's reach of a kink (Huber at |r| = delta, quantile at r = 0) only the
  subgradient is checked: it must lie between the one-sided quotients (true for the
  convex kinked losses shipped here); the Hessian is skipped there.
* Where the differenced values are not smooth although the loss declared no kink there
  (central differences at h, 2h, 4h whose errors do not shrink as h^2, so the Richardson
  estimates at two step sizes disagree), a failing comparison whose error is within that
  disagreement is reported as "not smooth here, not judged" (``AuditResult.not_judged``),
  not as a wrong derivative: e.g. the Hessian corner of the Fair loss at r = 0.
* A declared surrogate Hessian (h = 1, "upper", Gauss-Newton, clipped) is checked to be
  finite, >= 0, and > 0 wherever the gradient is non-zero; the exact Hessian of the same
  loss is audited against finite differences as well.

Example
-------
>>> import gbobjectives as gbo
>>> result = gbo.check_gradients(gbo.FocalLoss(gamma=2.0))
>>> result.passed
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gbobjectives.losses.base import Loss

__all__ = ["AuditResult", "check_gradients", "audit_points"]

_EPS = float(np.finfo(np.float64).eps)
_H_UNIT = _EPS**0.2
_STENCIL = (-4, -2, -1, 0, 1, 2, 4)
#: ratio of successive central-difference errors (s^2 law: 4) that still counts as smooth
_SMOOTH_RATIO = (3.0, 5.5)
#: differences smaller than this many roundings of the values say nothing about smoothness
_SMOOTH_NOISE = 1e3


@dataclass
class AuditResult:
    """Outcome of :func:`check_gradients` for one loss."""

    loss: Loss
    n_points: int
    #: the largest error / tolerance over all checks (<= 1 passes)
    worst_ratio: float
    #: the largest absolute error |numeric - analytic| over all checks
    worst_error: float
    n_failures: int
    #: description of the worst check: quantity, row values, analytic, numeric, tolerance
    worst: dict[str, Any] = field(default_factory=dict)
    #: human-readable problems found outside the finite-difference comparison
    problems: list[str] = field(default_factory=list)
    #: checks skipped because the loss is not smooth there and the loss did not declare it
    #: (``_kinks``): the finite differences cannot judge a derivative at a kink or corner
    not_judged: int = 0
    #: human-readable remarks that do not fail the audit (e.g. about ``not_judged``)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.n_failures == 0 and not self.problems

    def __repr__(self) -> str:
        status = "PASS" if self.passed else "FAIL"
        return (
            f"AuditResult({self.loss!r}: {status}, points={self.n_points}, "
            f"worst error/tolerance={self.worst_ratio:.3g}, failures={self.n_failures})"
        )


def audit_points(loss: Loss, seed: int = 0, n_random: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Labels and raw scores covering the centre, the extreme margins (|z| up to 700) and kinks."""
    own = getattr(loss, "_audit_points", None)
    if callable(own):  # a loss with its own layout of raw scores (MultiQuantileLoss: (n, K))
        return own(seed=seed, n_random=n_random)
    rng = np.random.default_rng(seed)
    extremes = np.array([30.0, 36.7, 37.0, 40.0, 50.0, 100.0, 300.0, 700.0])
    if loss.task == "binary":
        grid = np.concatenate([np.linspace(-25, 25, 101), extremes, -extremes, rng.normal(0, 8, n_random)])
        labels = (0.0, 1.0, 0.3, 0.85)
        y = np.repeat(labels, grid.size)
        z = np.tile(grid, len(labels))
        return y, z
    if loss.task == "multiclass":
        K = loss.n_classes or 3  # type: ignore[attr-defined]
        scales = np.array([0.1, 1.0, 4.0, 15.0, 40.0, 100.0, 700.0])
        z = rng.normal(size=(n_random * len(scales) // 2, K)) * np.repeat(scales, n_random // 2)[:, None]
        # logit differences up to 700, as for binary margins: beyond ~745 the true Hessian
        # itself is below the smallest double
        z = np.clip(z, -350.0, 350.0)
        y = rng.integers(0, K, size=z.shape[0])
        # crafted rows: true class far right, far wrong, and tied with the largest wrong class
        rows, ys = [], []
        for s in (5.0, 36.0, 100.0, 700.0):
            for c in range(K):
                for sign in (1.0, -1.0):
                    r = np.zeros(K)
                    r[c] = sign * s
                    rows.append(r)
                    ys.append(c)
                r = np.zeros(K)
                r[(c + 1) % K] = s
                r[c] = s
                rows.append(r)
                ys.append(c)
        z = np.vstack([z, np.array(rows)])
        y = np.concatenate([y, ys])
        return y.astype(np.float64), z
    # regression: residuals on the loss's own scale, at the extremes, and around kinks
    s = loss._length_scale()
    h = _H_UNIT * s
    r = np.concatenate([np.linspace(-6 * s, 6 * s, 121), extremes * s, -extremes * s, rng.normal(0, 3 * s, n_random)])
    y = rng.normal(0.0, 5.0 * s, size=r.size)
    z = y + r
    y_k = rng.normal(0.0, 5.0 * s, size=64)
    kinks = loss._kinks(y_k)
    if kinks is not None:
        offsets = np.array([0.0, 1e-3, 0.5, 1.0, 3.0, 3.9, 4.1, 6.0, 50.0]) * h
        offsets = np.concatenate([offsets, -offsets[1:]])
        kz = (kinks[:, :, None] + offsets[None, None, :]).reshape(len(y_k), -1)
        y = np.concatenate([y, np.repeat(y_k, kz.shape[1])])
        z = np.concatenate([z, kz.ravel()])
    return y, z


def _stencil(f: dict[int, np.ndarray], h: np.ndarray):
    """5-point derivative D, its own noise (rounding of the values, truncation), h*|D'|, and
    whether the values look non-smooth within the stencil's reach.

    ``f[k]`` holds the differenced values at z + k*h; the arrays may have a trailing axis.

    Smoothness is read from the central differences ``C(s) = (f(s) - f(-s)) / 2s`` at
    s = h, 2h, 4h: for a function with three continuous derivatives their errors grow as s^2,
    so the steps ``C(4h) - C(2h)`` and ``C(2h) - C(h)`` are in ratio 4. A corner of the
    differenced function's derivative (a jump in the Hessian's slope, say) makes the errors
    grow as s instead (ratio 2) and a kink breaks the pattern altogether. Where both steps
    stand well above rounding and their ratio is far from 4, the two Richardson estimates
    D(h) and D(2h) cannot be trusted to bound each other's error. Only the differenced
    values enter, never the analytic answer, so a wrong derivative cannot excuse itself.
    """
    D = (f[-2] - 8 * f[-1] + 8 * f[1] - f[2]) / (12 * h)
    D2 = (f[-4] - 8 * f[-2] + 8 * f[2] - f[4]) / (24 * h)
    n_round = _EPS * (np.abs(f[-2]) + 8 * np.abs(f[-1]) + 8 * np.abs(f[1]) + np.abs(f[2])) / (12 * h)
    d_next = (f[1] - 2 * f[0] + f[-1]) / (h * h)
    trunc = np.abs(D - D2) / 15.0

    c1, c2, c4 = ((f[k] - f[-k]) / (2 * k * h) for k in (1, 2, 4))
    step_near, step_far = c2 - c1, c4 - c2
    floor = _SMOOTH_NOISE * _EPS * (np.abs(f[-4]) + np.abs(f[-1]) + np.abs(f[1]) + np.abs(f[4])) / h
    significant = (np.abs(step_near) > floor) & (np.abs(step_far) > floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = step_far / step_near
    non_smooth = significant & ~((ratio >= _SMOOTH_RATIO[0]) & (ratio <= _SMOOTH_RATIO[1]))
    return D, n_round + trunc, np.abs(d_next), non_smooth, np.abs(D - D2)


def check_gradients(
    loss: Loss,
    y_true: Any = None,
    raw_prediction: Any = None,
    *,
    seed: int = 0,
    n_random: int = 200,
    rtol: float = 1e-9,
    noise_factor: float = 10.0,
    atol: float = 1e-300,
) -> AuditResult:
    """Audit ``loss.gradient_hessian`` against finite differences of ``loss.loss``.

    Parameters
    ----------
    loss : a gbobjectives loss (or a subclass of :class:`gbobjectives.Loss`).
    y_true, raw_prediction : optional points to check; by default :func:`audit_points`
        (centre, |z| up to 700, and both sides of every kink).
    rtol, noise_factor, atol : the tolerance ``rtol*|a| + noise_factor*noise + atol``.

    Returns
    -------
    AuditResult with ``passed``, the worst error/tolerance ratio and the worst case.
    """
    if y_true is None or raw_prediction is None:
        y, z = audit_points(loss, seed=seed, n_random=n_random)
    else:
        y, z, _ = loss._check_inputs(y_true, raw_prediction, None)
        y = y.astype(np.float64)
    z = np.asarray(z, dtype=np.float64)
    y_int = y.astype(np.intp) if loss.task == "multiclass" else y
    z2 = z if z.ndim == 2 else z[:, None]

    exact = loss if loss.hessian_is_exact else loss.with_params(hessian="exact")
    problems: list[str] = []
    state: dict[str, Any] = {"ratio": 0.0, "error": 0.0, "fail": 0, "worst": {}, "rough": {}}

    def record(kind: str, col: int, numeric, analytic, tol, mask) -> None:
        err = np.abs(numeric - analytic)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(mask, err / tol, 0.0)
        ratio = np.where(np.isfinite(ratio), ratio, np.where(mask, np.inf, 0.0))
        state["fail"] += int(np.count_nonzero(ratio > 1.0))
        state["error"] = max(state["error"], float(np.max(np.where(mask, err, 0.0), initial=0.0)))
        i = int(np.argmax(ratio)) if ratio.size else 0
        if ratio.size and ratio[i] >= state["ratio"]:
            state["ratio"] = float(ratio[i])
            state["worst"] = {
                "quantity": kind,
                "column": col,
                "y": float(y[i]),
                "raw": z2[i].tolist(),
                "analytic": float(analytic[i]),
                "numeric": float(numeric[i]),
                "tolerance": float(tol[i]),
            }

    def not_judged(kind: str, numeric, analytic, tol, rough, gap, declared_smooth) -> np.ndarray:
        """Rows that fail only because the differenced values are not smooth there (a kink or
        corner the loss did not declare in ``_kinks``): the error is within what the two
        disagreeing Richardson estimates leave open. They are counted, not judged."""
        err = np.abs(numeric - analytic)
        skip = declared_smooth & rough & (err > tol) & (err <= 2.0 * gap + tol)
        if np.any(skip):
            state["rough"][kind] = state["rough"].get(kind, 0) + int(np.count_nonzero(skip))
        return skip

    def as2(a: np.ndarray) -> np.ndarray:
        return a if a.ndim == 2 else a[:, None]

    grad, hess_default = (as2(a) for a in loss.gradient_hessian(y_int, z))
    _, hess_exact = (as2(a) for a in exact.gradient_hessian(y_int, z))
    n, K = z2.shape
    scale = loss._length_scale()
    kinks = loss._kinks(y) if loss.task == "regression" else None
    # kinks that move with the other columns (MultiQuantileLoss "monotone"): (n, m, K), NaN = none
    by_column = getattr(loss, "_kinks_by_column", None)
    kinks_by_column = by_column(y, z2) if callable(by_column) else None

    # pass 1: for every column, the stencil of the loss and of the whole gradient row
    steps = np.empty((n, K))
    d_loss, noise_loss, curv_loss, gap_loss = (np.empty((n, K)) for _ in range(4))
    jac, noise_jac, curv_jac, gap_jac = (np.empty((n, K, K)) for _ in range(4))  # [row, g_j, z_col]
    rough_loss = np.zeros((n, K), dtype=bool)
    rough_jac = np.zeros((n, K, K), dtype=bool)
    near_kink = np.zeros((n, K), dtype=bool)
    one_sided = {}
    for col in range(K):
        h = (z2[:, col] + _H_UNIT * scale) - z2[:, col]
        steps[:, col] = h
        losses, grads = {}, {}
        for k in _STENCIL:
            zk = z2.copy()
            zk[:, col] = z2[:, col] + k * h
            zk_in = zk if z.ndim == 2 else zk[:, 0]
            losses[k] = loss.loss(y_int, zk_in)
            grads[k] = as2(exact.gradient_hessian(y_int, zk_in)[0])
        d_loss[:, col], noise_loss[:, col], curv_loss[:, col], rough_loss[:, col], gap_loss[:, col] = _stencil(
            losses, h
        )
        jac[:, :, col], noise_jac[:, :, col], curv_jac[:, :, col], rough_jac[:, :, col], gap_jac[:, :, col] = _stencil(
            grads, h[:, None]
        )
        col_kinks = kinks if kinks_by_column is None else kinks_by_column[:, :, col]
        if col_kinks is not None:
            with np.errstate(invalid="ignore"):  # NaN: no kink (compares False)
                near_kink[:, col] = np.any(np.abs(col_kinks - z2[:, [col]]) <= 4.0 * h[:, None] * (1 + 1e-9), axis=1)
        one_sided[col] = (losses[-1], losses[0], losses[1], losses[-2], losses[2])

    # Rounding inside the computation of a value f behaves like rounding of every input:
    # about eps * sum_k |z_k| |df/dz_k|. For a single column this is docs/math.md's N_input;
    # for multiclass rows the other logits matter too (e.g. a = z_c - logsumexp).
    absz = np.abs(z2)
    input_loss = 1.5 * _EPS * np.sum(absz * np.abs(d_loss), axis=1)
    input_jac = 1.5 * _EPS * np.sum(absz[:, None, :] * np.abs(jac), axis=2)

    for col in range(K):
        h = steps[:, col]
        smooth = ~near_kink[:, col]
        noise = noise_loss[:, col] + (input_loss + 1.5 * _EPS * absz[:, col] * 2 * h * curv_loss[:, col]) / h
        tol = rtol * np.abs(grad[:, col]) + noise_factor * noise + atol
        judged = smooth & ~not_judged(
            "gradient", d_loss[:, col], grad[:, col], tol, rough_loss[:, col], gap_loss[:, col], smooth
        )
        record("gradient", col, d_loss[:, col], grad[:, col], tol, judged)

        noise_h = (
            noise_jac[:, col, col] + (input_jac[:, col] + 1.5 * _EPS * absz[:, col] * 2 * h * curv_jac[:, col, col]) / h
        )
        tol_h = rtol * np.abs(hess_exact[:, col]) + noise_factor * noise_h + atol
        rough, gap = rough_jac[:, col, col], gap_jac[:, col, col]
        judged = smooth & ~not_judged("hessian", jac[:, col, col], hess_exact[:, col], tol_h, rough, gap, smooth)
        record("hessian", col, jac[:, col, col], hess_exact[:, col], tol_h, judged)

        if not smooth.all():
            # convex kink: the subgradient lies between the one-sided difference quotients
            f_m, f_0, f_p, f_mm, f_pp = one_sided[col]
            left, right = (f_0 - f_m) / h, (f_p - f_0) / h
            lo, hi = np.minimum(left, right), np.maximum(left, right)
            slack = (
                noise_factor
                * (
                    2 * _EPS * (np.abs(f_0) + np.abs(f_p) + np.abs(f_m)) / h
                    + 1.5 * _EPS * absz[:, col] * (np.abs(lo) + np.abs(hi)) / h
                )
                + atol
            )
            if kinks_by_column is not None:
                # curved sides (a kink inside a smooth reparametrisation): a one-sided quotient
                # is off by O(h), estimated from the values alone as its change from h to 2h
                trunc = np.abs(left - (f_0 - f_mm) / (2 * h)) + np.abs(right - (f_pp - f_0) / (2 * h))
                slack = slack + noise_factor * trunc
            g = grad[:, col]
            # the error is the distance of g outside [lo, hi]
            record("subgradient", col, np.clip(g, lo, hi), g, slack, ~smooth)

    if not loss.hessian_is_exact:
        hd = hess_default
        if not np.all(np.isfinite(hd)):
            problems.append("default Hessian is not finite everywhere")
        elif np.any(hd < 0):
            problems.append("default Hessian is negative somewhere")
        elif np.any((hd <= 0) & (grad != 0)):
            problems.append("default Hessian is zero where the gradient is not")
    if not (np.all(np.isfinite(grad)) and np.all(np.isfinite(hess_exact))):
        problems.append("gradient or exact Hessian not finite")

    notes = [
        f"{count} {kind} check(s) not judged: the values are not smooth there (a kink or corner not declared in _kinks)"
        for kind, count in state["rough"].items()
    ]
    return AuditResult(
        loss=loss,
        n_points=int(z2.shape[0]),
        worst_ratio=state["ratio"],
        worst_error=state["error"],
        n_failures=state["fail"],
        worst=state["worst"],
        problems=problems,
        not_judged=sum(state["rough"].values()),
        notes=notes,
    )
