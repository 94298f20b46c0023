"""Scratch buffers for the engine adapters' per-round path.

The engine adapters call ``Loss._gradient_hessian_fast(z, prep, ws)`` every boosting round,
with ``z`` in the precision the engine hands over (float32 from XGBoost, float64 from LightGBM),
``prep`` the per-data-set label preparation of ``Loss._prepare_labels`` (cached with the
validated labels) and ``ws`` a :class:`Workspace` of scratch buffers reused from round to round
(a fresh multi-megabyte array costs page faults, measured at 1-6 ms per 4 MB here).

The classification losses run their compiled kernels there (``gbobjectives/_kernels.c``: one
fused pass per row range, written straight into the engine's buffer, ``ws.result``); the
regression losses their numpy formulas in cache-sized blocks (``engines/_blocked.py``).
"""

from __future__ import annotations

import numpy as np

from gbobjectives import _compiled as compiled

__all__ = ["Workspace", "regression_kernel", "with_kernel_labels"]


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

    def kernel_results(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where a compiled kernel on the scores ``z`` writes (gradient, Hessian): the caller's
        destinations (:meth:`result`) when the kernel can write them, else scratch buffers in
        the destination's precision (float64 only for float64 scores into float64)."""
        grad, hess = self.result(0, z), self.result(1, z)
        if compiled.writes(z.dtype, grad) and compiled.writes(z.dtype, hess):
            return grad, hess
        out = np.dtype(np.float64 if z.dtype == np.float64 and grad.dtype == np.float64 else np.float32)
        return self.get("kgrad", z.shape, out), self.get("khess", z.shape, out)


def with_kernel_labels(prep: dict, dtype: np.dtype) -> dict:
    """``prep`` plus its labels and weights in the engine's ``dtype`` (``yk``, ``wk``) for a
    compiled row kernel, marked ``_compiled`` (the adapters then cut one row range per thread and
    leave the finiteness check to the kernel); unchanged where the kernels are not built."""
    if compiled.available():
        prep["yk"] = np.ascontiguousarray(prep["y"], dtype=dtype)
        prep["wk"] = None if prep["w"] is None else np.ascontiguousarray(prep["w"], dtype=dtype)
        prep["_compiled"] = True
    return prep


def regression_kernel(
    z: np.ndarray, prep: dict, ws: Workspace, constants: tuple
) -> tuple[np.ndarray, np.ndarray] | None:
    """The compiled regression kernel (``gbo_regression_*``, ``constants = (p, g_ge, g_lt, kind,
    mode)``) on one row range, written into the engine's destination where it can; None where
    ``prep`` holds no labels for these scores (the caller's numpy formulas then run, after a
    finiteness check if the adapters skipped theirs)."""
    yk = prep.get("yk")
    if yk is None or yk.dtype != z.dtype or z.ndim != 1 or not z.flags.c_contiguous:
        if prep.get("_compiled") and not np.isfinite(z).all():
            raise compiled.NonFiniteScores("the raw scores hold NaN or infinite values")
        return None
    grad, hess = ws.kernel_results(z)
    compiled.raise_if_nonfinite(compiled.regression(z, yk, prep["wk"], constants, grad, hess, parallel=False))
    return grad, hess
