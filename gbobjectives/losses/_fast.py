"""Fast gradient/Hessian kernels used by the engine adapters (not by the public float64 path).

The engine adapters call ``Loss._gradient_hessian_fast(z, prep, ws)`` every boosting round,
with ``z`` in the precision the engine hands over (float32 from XGBoost, float64 from LightGBM),
``prep`` the per-data-set label preparation of ``Loss._prepare_labels`` (cached with the
validated labels: hard-label checks, class signs and alpha * sample_weight are computed once)
and ``ws`` a :class:`Workspace` of scratch buffers reused from round to round.

Rules (measured at 1M rows, see ``benchmarks/results/speed.md``):

* one ``E = exp(u)`` gives ``q = 1/(1+E)``, ``exp(-u) = 1/E``, ``p = 1/(1 + 1/E)`` and
  ``p*q``; at the extremes E overflows to inf or underflows to 0 and every derived value is
  the exact limit (``scipy.special.expit`` and ``np.logaddexp`` are scalar C loops, 5-40x
  slower than numpy's SIMD ``exp``/``log1p``);
* ``q = sigma(-u)`` is still never formed as ``1 - p``, ``p*q`` never as ``p*(1-p)``;
* only SIMD passes: ``np.copysign``, ``np.sign``, ``np.heaviside``, comparisons into a float
  buffer and ``np.maximum``/``np.minimum``/``np.fmax`` against a Python scalar take numpy's
  scalar loops (3-40x slower per element than a multiply: 37 us vs 5 us per 64k float32 for
  copysign); ``np.where`` and masked copies on a random mask are 20-50x slower still;
* scratch buffers are reused (``out=``): a fresh multi-megabyte array costs page faults that
  were measured at 1-6 ms per 4 MB on the benchmark machine;
* only expressions whose terms all have the same sign are evaluated in float32 (the losses
  route modes with cancellation - the "exact"/"clipped" focal Hessians, Gauss-Newton with
  gamma < 1, soft labels - to their float64 code), so a float32 result differs from the
  float64 one on the same inputs by a few float32 roundings (plus float32 underflow below
  ~1e-38, which the engines' float32 gradient storage loses anyway);
* no Python loop over rows;
* training-safe Hessians are floored at ``HESSIAN_FLOOR`` (1e-16, XGBoost's own floor; see
  ``_focal_math.py``) by ``np.maximum`` against a kept array of the floor (:meth:`Workspace.filled`:
  SIMD, one pass) before the weights multiply them, as the float64 formulas do. In float32,
  p q underflows already beyond |u| ~ 87-103; the floor keeps the Hessian > 0 wherever the
  gradient is not 0, at any margin.
"""

from __future__ import annotations

import numpy as np

from gbobjectives.losses._focal_math import HESSIAN_FLOOR

__all__ = ["Workspace", "logloss_t", "focal_d1_d2_upper", "floor_hessian"]


class Workspace:
    """Named scratch buffers, reused from call to call.

    A buffer keeps its largest size: a request for fewer elements of the same dtype gets a
    view of it (the last, shorter block of a row range must not reallocate every round).
    One workspace serves one thread at a time.
    """

    def __init__(self) -> None:
        self._bufs: dict[str, np.ndarray] = {}
        #: the caller's destination views for this block's ("grad", "hess"), or None
        self.outputs: tuple[np.ndarray, np.ndarray] | None = None

    def get(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        size = 1
        for d in shape:
            size *= d
        buf = self._bufs.get(name)
        if buf is None or buf.size < size or buf.dtype != dtype:
            buf = self._bufs[name] = np.empty(size, dtype)
        return buf[:size].reshape(shape)

    def like(self, name: str, a: np.ndarray) -> np.ndarray:
        return self.get(name, a.shape, a.dtype)

    def arange(self, n: int) -> np.ndarray:
        """0, 1, ..., n-1 as intp, computed once and kept (the same for every block)."""
        r = self._bufs.get("_arange")
        if r is None or r.size < n:
            r = self._bufs["_arange"] = np.arange(n, dtype=np.intp)
        return r[:n]

    def zeros(self, name: str, a: np.ndarray) -> np.ndarray:
        """Zeros shaped like ``a``, filled once and kept (callers must not write into them)."""
        z = self._bufs.get(name)
        if z is None or z.size < a.size or z.dtype != a.dtype:
            z = self._bufs[name] = np.zeros(a.size, a.dtype)
        return z[: a.size].reshape(a.shape)

    def filled(self, name: str, a: np.ndarray, value: float) -> np.ndarray:
        """``value`` everywhere, shaped like ``a``, filled once and kept (read-only for callers).

        An array operand keeps ``np.maximum`` on numpy's SIMD loop; a Python scalar operand
        takes a 4x slower scalar loop (measured: 35 vs 9 us per 64k float32)."""
        key = f"{name}={value!r}"
        f = self._bufs.get(key)
        if f is None or f.size < a.size or f.dtype != a.dtype:
            f = self._bufs[key] = np.full(a.size, value, a.dtype)
        return f[: a.size].reshape(a.shape)

    def result(self, which: int, a: np.ndarray) -> np.ndarray:
        """Where a kernel should write its final gradient (``which=0``) or Hessian (1), shaped
        like ``a``: the caller's destination itself when it has that shape (saves a copy pass;
        a float64 result is rounded to a float32 destination by the ufunc as it stores),
        else a scratch buffer."""
        if self.outputs is not None and self.outputs[which].shape == a.shape:
            return self.outputs[which]
        return self.like(("grad", "hess")[which], a)


def _sigmoid_pair(u: np.ndarray, ws: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """``E = exp(u)`` and ``q = sigma(-u) = 1/(1 + E)``.

    ``E`` overflows to inf for large u (u > 88.7 in float32) and underflows to 0 for very
    negative u: q is then exactly 0 or 1, the correctly rounded limits; no NaN can arise.
    """
    E = np.exp(u, out=ws.like("E", u))
    q = np.add(E, 1.0, out=ws.like("q", u))
    np.divide(1.0, q, out=q)  # (np.reciprocal is not vectorised: 3x slower)
    return E, q


def floor_hessian(h: np.ndarray, ws: Workspace) -> np.ndarray:
    """``h = max(h, HESSIAN_FLOOR)`` in place, one SIMD pass (the training-safe floor)."""
    return np.maximum(h, ws.filled("floor", h, HESSIAN_FLOOR), out=h)


def logloss_t(
    u: np.ndarray, ws: Workspace, pq_out: np.ndarray | None = None, floor: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``q = sigma(-u)`` and ``p*q = sigma(u) sigma(-u)`` from one exp, in ``u``'s dtype.

    ``p q = q / (1 + exp(-u))`` with ``exp(-u) = 1/E``: every term is positive, so there is no
    cancellation (p(1-p) would be 0 beyond |u| ~ 17 in float32). At E = inf: q = 0, p q = 0/1;
    at E = 0: 1/E = inf, p q = 1/inf = 0 - the limits, never NaN. 7 passes (8 with
    ``floor=True``, which returns ``max(p q, HESSIAN_FLOOR)``, the training-safe Hessian);
    ``p*q`` is written into ``pq_out`` when given.
    """
    with np.errstate(over="ignore", divide="ignore"):
        E, q = _sigmoid_pair(u, ws)
        np.divide(1.0, E, out=E)
        E += 1.0  # 1 + exp(-u) = 1/p
        pq = np.divide(q, E, out=E if pq_out is None else pq_out)
    return q, (floor_hessian(pq, ws) if floor else pq)


def focal_d1_d2_upper(
    u: np.ndarray, gamma: float, hessian: str, ws: Workspace, d2_out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``-phi'(u) >= 0`` and the "upper" (or, for gamma >= 1, "gauss_newton") ``phi''(u)``, gamma > 0.

    Every term is non-negative, so float32 evaluation has no cancellation. With
    q = sigma(-u) = 1/(1 + E), E = exp(u) (the only exp), r = 1/E = exp(-u),
    gp = gamma p = gamma/(1 + r) and L = -log p = log1p(r) (gamma is folded into p, which
    saves two passes):

    * ``-phi'(u) = q^g (g p L + q) = qg (gpL + q)``;
    * upper: ``p q^g [(2g+1) q + g^2 p L] = gp qg [(2g+1)/g q + gpL]``;
    * Gauss-Newton: ``q^g [q^2 + 2g p q + g(g-1) p^2 L] = qg [q (q + 2 gp) + (g-1)/g gp gpL]``.

    ``phi''`` is floored at ``HESSIAN_FLOOR`` (both modes are training-safe ones). ``-phi'``
    lives in ``ws``, ``phi''`` too unless ``d2_out`` is given.
    """
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        E, q = _sigmoid_pair(u, ws)
        r = np.divide(1.0, E, out=E)  # exp(-u): inf where E underflowed to 0
        gpL = np.log1p(r, out=ws.like("gpL", u))  # L = softplus(-u), accurate for tiny r
        gp = np.add(r, 1.0, out=r)
        np.divide(gamma, gp, out=gp)
        gpL *= gp  # g p L = -g p log p <= g/e: g*L alone could overflow
        # where r = inf (u < -88.7 in float32), p = 0 and L = inf: 0*inf is NaN, and the exact
        # value, the limit of -p log p as p -> 0, is 0 (fmax returns the non-NaN operand)
        np.fmax(gpL, ws.zeros("zeros", u), out=gpL)
    qg = ws.like("qg", u)
    if gamma == 2.0:
        np.multiply(q, q, out=qg)
    else:
        np.power(q, u.dtype.type(gamma), out=qg)
    d1 = np.add(gpL, q, out=ws.like("d1", u))
    d1 *= qg
    d2 = ws.like("d2", u)
    if hessian == "upper":
        np.multiply(q, (2.0 * gamma + 1.0) / gamma, out=d2)
        d2 += gpL
        d2 *= gp
    else:  # gauss_newton, gamma >= 1
        np.multiply(gp, gpL, out=gpL)
        gpL *= (gamma - 1.0) / gamma
        np.multiply(gp, 2.0, out=d2)
        d2 += q
        d2 *= q
        d2 += gpL
    return d1, floor_hessian(np.multiply(d2, qg, out=d2 if d2_out is None else d2_out), ws)
