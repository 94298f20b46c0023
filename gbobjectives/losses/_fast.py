"""Fast gradient/Hessian kernels used by the engine adapters (not by the public float64 path).

The engine adapters call ``Loss._gradient_hessian_fast(z, prep, ws)`` every boosting round,
with ``z`` in the precision the engine hands over (float32 from XGBoost, float64 from LightGBM),
``prep`` the per-data-set label preparation of ``Loss._prepare_labels`` (cached with the
validated labels: hard-label checks, class signs and alpha * sample_weight are computed once)
and ``ws`` a :class:`Workspace` of scratch buffers reused from round to round.

Rules (measured at 1M rows, see ``benchmarks/results/speed.md``):

* one ``exp(-|u|)`` gives ``p``, ``q`` and ``p*q`` (``scipy.special.expit`` and
  ``np.logaddexp`` are scalar C loops, 5-40x slower than numpy's SIMD ``exp``/``log1p``);
* ``q = sigma(-u)`` is still never formed as ``1 - p``, ``p*q`` never as ``p*(1-p)``;
* branches are taken arithmetically (``max(es, s*m)`` with m exactly 0 or 1): ``np.where`` and
  masked copies on a random mask are 20-50x slower than a streaming pass;
* scratch buffers are reused (``out=``): a fresh multi-megabyte array costs page faults that
  were measured at 1-6 ms per 4 MB on the benchmark machine;
* only expressions whose terms all have the same sign are evaluated in float32 (the losses
  route modes with cancellation - the "exact"/"clipped" focal Hessians, Gauss-Newton with
  gamma < 1, soft labels - to their float64 code), so a float32 result differs from the
  float64 one on the same inputs by a few float32 roundings (plus float32 underflow below
  ~1e-38, which the engines' float32 gradient storage loses anyway);
* no Python loop over rows.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Workspace", "exp_parts", "sigmoid_parts", "logloss_t", "focal_d1_d2_upper"]


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

    def result(self, which: int, a: np.ndarray) -> np.ndarray:
        """Where a kernel should write its final gradient (``which=0``) or Hessian (1), shaped
        like ``a``: the caller's destination itself when it has that shape (saves a copy pass;
        a float64 result is rounded to a float32 destination by the ufunc as it stores),
        else a scratch buffer."""
        if self.outputs is not None and self.outputs[which].shape == a.shape:
            return self.outputs[which]
        return self.like(("grad", "hess")[which], a)


def exp_parts(u: np.ndarray, ws: Workspace) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``e = exp(-|u|)`` in (0, 1] (no overflow at any margin), ``s = 1/(1+e) = max(p, q)``
    and ``es = e*s = min(p, q)``."""
    e = np.copysign(u, -1.0, out=ws.like("e", u))  # -|u| in one pass
    np.exp(e, out=e)
    s = np.add(e, 1.0, out=ws.like("s", u))
    np.divide(1.0, s, out=s)  # (np.reciprocal is not vectorised: 3x slower)
    return e, s, np.multiply(e, s, out=ws.like("es", u))


def sigmoid_parts(u: np.ndarray, ws: Workspace) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``p = sigma(u)``, ``q = sigma(-u)`` and ``e = exp(-|u|)``, in ``u``'s dtype, from one exp.

    With m = [u >= 0] (exactly 0 or 1): p = max(es, s*m), q = max(es, s - s*m).
    """
    e, s, es = exp_parts(u, ws)
    sm = np.greater_equal(u, 0, out=ws.like("p", u))
    np.multiply(sm, s, out=sm)
    np.subtract(s, sm, out=s)
    q = np.maximum(s, es, out=s)
    p = np.maximum(sm, es, out=sm)
    return p, q, e


def logloss_t(u: np.ndarray, ws: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """``q = sigma(-u)`` and ``p*q`` (= sigma(u) sigma(-u) = e s^2, never p(1-p)) from one exp."""
    e, s, es = exp_parts(u, ws)
    pq = np.multiply(es, s, out=e)
    q = np.less(u, 0, out=ws.like("p", u))
    np.multiply(q, s, out=q)
    np.maximum(q, es, out=q)
    return q, pq


def focal_d1_d2_upper(u: np.ndarray, gamma: float, hessian: str, ws: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """``-phi'(u) >= 0`` and the "upper" (or, for gamma >= 1, "gauss_newton") ``phi''(u)``.

    Every term is non-negative, so float32 evaluation has no cancellation.
    ``phi'(u) = -q^g (g p L + q)``; upper: ``p q^g [(2g+1) q + g^2 p L]``;
    Gauss-Newton: ``q^g [q^2 + 2g p q + g(g-1) p^2 L]``. Both results live in ``ws``.
    """
    p, q, e = sigmoid_parts(u, ws)
    # L = softplus(-u) = max(-u, 0) + log1p(exp(-|u|)) = log1p(e) - min(u, 0): two non-negative
    # terms (subtracting -y rounds exactly as adding y), one pass fewer than negate-max-add
    np.log1p(e, out=e)
    pL = np.minimum(u, 0.0, out=ws.like("pL", u))
    np.subtract(e, pL, out=pL)
    pL *= p  # p*L = -p log p <= 1/e: gamma*L alone could overflow
    qg = ws.like("qg", u)
    if gamma == 2.0:
        np.multiply(q, q, out=qg)
    else:
        np.power(q, u.dtype.type(gamma), out=qg)
    d1 = np.multiply(pL, gamma, out=e)  # -phi' = qg (g pL + q)
    d1 += q
    d1 *= qg
    d2 = ws.like("d2", u)
    if hessian == "upper":  # p qg [(2g+1) q + g^2 pL]
        np.multiply(pL, gamma * gamma, out=d2)
        np.multiply(q, 2.0 * gamma + 1.0, out=pL)
        d2 += pL
        d2 *= p
    else:  # gauss_newton, gamma >= 1: qg [q^2 + 2g p q + g(g-1) p^2 L]
        np.multiply(pL, gamma * (gamma - 1.0), out=d2)
        np.multiply(q, 2.0 * gamma, out=pL)
        d2 += pL
        d2 *= p
        np.multiply(q, q, out=pL)
        d2 += pL
    d2 *= qg
    return d1, d2
