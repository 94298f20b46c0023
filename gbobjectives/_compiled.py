"""The compiled loss kernels (``gbobjectives/_kernels.c``), or None where they are not built.

``pip install`` compiles ``_kernels.c`` into the extension ``gbobjectives._kernels`` when a C
compiler is available (``setup.py``: the extension is optional). It is used through ctypes,
which releases the GIL during each call, so the row ranges of one evaluation run on several
threads (``_threads.run_ranges``). Without it (or with ``GBOBJECTIVES_PURE_PYTHON=1``) every
loss uses its numpy formulas: the same values up to rounding, slower.
:func:`gbobjectives.show_config` tells which path is active.

Status bits returned by the kernels: :data:`NONFINITE` (a raw score was NaN or infinite) and
:data:`SOFT_LABELS` (a label was neither 0 nor 1: the caller uses its soft-label formulas).
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
from typing import Any

import numpy as np

from gbobjectives._threads import run_ranges

__all__ = [
    "ENV",
    "NONFINITE",
    "SOFT_LABELS",
    "MIN_ROWS_PER_THREAD",
    "NonFiniteScores",
    "address",
    "available",
    "info",
    "writes",
    "binary",
    "binary_function",
    "leaf_function",
    "raise_if_nonfinite",
    "binary_value",
    "softmax",
    "regression",
]

#: set to 1 to use the numpy formulas even where the compiled kernels are built
ENV = "GBOBJECTIVES_PURE_PYTHON"
NONFINITE = 1
SOFT_LABELS = 2
#: rows per thread at least: a kernel call on 32k rows takes ~50-150 us, a thread wake-up tens
MIN_ROWS_PER_THREAD = 32768


class NonFiniteScores(ValueError):
    """A kernel found a NaN or an infinite raw score (the engine adapters then raise their
    message naming the loss)."""


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_P, _I64, _D = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double
# (score dtype, output dtype) -> suffix of the C function
_SUFFIX = {(_F32, _F32): "f32", (_F64, _F32): "f64f32", (_F64, _F64): "f64"}
_ARGS = {
    "binary": [_I64, _P, _P, _P, *[_D] * 7, _P, _P],
    "softmax": [_I64, _I64, _P, _I64, _I64, _P, _P, *[_D] * 5, _P, _P, _I64, _I64],
    "binary_value": [_I64, _P, _P, _P, *[_D] * 3, _P, _P],
    "regression": [_I64, _P, _P, _P, *[_D] * 3, _I64, _I64, _P, _P],
}
#: the leaf refit kernels (``_leaf_kernels.c``, float64 only): name -> (argument types, result type);
#: their wrappers are in ``gbobjectives/_compiled_leaves.py``
_LEAF_ARGS: dict[str, tuple[list[Any], Any]] = {
    "gbo_leaf_by_change": ([_I64, _P, _P, _P, _I64, _P, _P, _P, _P, _P, _P, _P, _P], None),
    "gbo_count_groups": ([_I64, _P, _I64, _P], ctypes.c_int),
    "gbo_scatter_groups": ([_I64, _P, _P, _P, _P, _P, _P], None),
    "gbo_huber_groups": ([_I64, _I64, _P, _P, _P, _D, _I64, _P, _P], None),
    "gbo_select_groups": ([_I64, _I64, _P, _P, _D, _P], None),
    "gbo_add_gathered": ([_I64, _P, _P, _P, _I64], None),
}


def address(a: np.ndarray) -> int:
    """The data pointer of an array (replaced by the compiled module's own, ~25x faster, when it loads)."""
    return a.__array_interface__["data"][0]


def _load() -> tuple[Any, str]:
    if os.environ.get(ENV, "").strip() not in ("", "0"):
        return None, f"disabled by {ENV}={os.environ[ENV]}"
    spec = importlib.util.find_spec("gbobjectives._kernels")
    if spec is None or not spec.origin:
        return None, (
            "not built: no compiled gbobjectives._kernels next to this package (installed where no C "
            "compiler was found, or imported from a source checkout that `pip install -e .` has not built)"
        )
    try:
        lib = ctypes.CDLL(spec.origin)
        funcs = {}
        for kind, argtypes in _ARGS.items():
            for types, sfx in _SUFFIX.items():
                f = getattr(lib, f"gbo_{kind}_{sfx}")
                f.argtypes, f.restype = argtypes, ctypes.c_int
                funcs[(kind, *types)] = f
        for name, (argtypes, restype) in _LEAF_ARGS.items():
            f = getattr(lib, name)
            f.argtypes, f.restype = argtypes, restype
            funcs[name] = f
        lib.gbo_build_flags.restype = ctypes.c_int
        # the same library as a module: its address() reads a data pointer in ~0.06 us (the
        # buffer protocol) where ndarray.__array_interface__ takes ~1.6 us
        fast_address = importlib.import_module("gbobjectives._kernels").address
    except (OSError, AttributeError, ImportError) as exc:
        # e.g. a glibc older than the one it was built against, or a stale build of another version
        return None, f"built but cannot be used ({type(exc).__name__}: {exc})"
    global address
    address = fast_address
    return (lib, funcs), spec.origin


_LIB, _WHERE = _load()


def available() -> bool:
    """Whether the compiled kernels are active."""
    return _LIB is not None


def info() -> dict[str, Any]:
    """Which path computes the classification losses, for :func:`gbobjectives.show_config`."""
    if _LIB is None:
        return {"kernels": "numpy", "reason": _WHERE}
    flags = _LIB[0].gbo_build_flags()
    return {
        "kernels": "compiled",
        "library": _WHERE,
        "vector_math": f"glibc libmvec, {_clone()} variant (chosen at run time)" if flags & 1 else "scalar libm",
    }


def _clone() -> str:
    """Which of the kernels' instruction-set variants (target_clones in ``_kernels.c``) this CPU
    runs, from numpy's CPU feature detection (GCC's resolver picks by the same CPUID bits)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:  # numpy < 2
        try:
            from numpy.core._multiarray_umath import __cpu_features__ as feats
        except ImportError:
            return "best"
    if feats.get("AVX512F"):
        return "AVX-512"
    if feats.get("AVX2") and feats.get("FMA3"):
        return "AVX2"
    return "SSE2"


def writes(score_dtype: np.dtype, out: np.ndarray) -> bool:
    """Whether a kernel on scores of ``score_dtype`` can write its results into ``out`` (1-D
    contiguous for the binary kernels; (n, K) with any whole-element strides for softmax)."""
    if (score_dtype, out.dtype) not in _SUFFIX:
        return False
    if out.ndim == 1:
        return out.flags.c_contiguous
    return out.ndim == 2 and all(s % out.itemsize == 0 for s in out.strides)


def _ptr(a: np.ndarray | None, dtype: np.dtype) -> int:
    if a is None:
        return 0
    if a.dtype != dtype or not a.flags.c_contiguous:  # a programming error, never user input
        raise TypeError(f"compiled kernel argument must be C-contiguous {dtype}, got {a.dtype}")
    return address(a)


def _function(kind: str, score_dtype: np.dtype, out_dtype: np.dtype) -> Any:
    return _LIB[1][(kind, np.dtype(score_dtype), np.dtype(out_dtype))]  # type: ignore[index]


def leaf_function(name: str) -> Any:
    """The ctypes function ``name`` of the leaf refit kernels (see ``_LEAF_ARGS``); only while
    :func:`available`."""
    return _LIB[1][name]  # type: ignore[index]


def binary_function(score_dtype: np.dtype, out_dtype: np.dtype) -> Any:
    """The raw ctypes function of the binary kernel for these dtypes, for a caller that keeps its
    own pointers (CatBoost's many small calls): ``f(n, z, y, w or None, *constants, grad, hess)``
    with addresses from :func:`address`; returns the status bits."""
    return _function("binary", score_dtype, out_dtype)


def raise_if_nonfinite(status: int) -> None:
    """:class:`NonFiniteScores` when a kernel's status says a raw score was NaN or infinite."""
    if status & NONFINITE:
        raise NonFiniteScores("the raw scores hold NaN or infinite values")


def binary(
    z: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    constants: tuple[float, ...],
    grad: np.ndarray,
    hess: np.ndarray,
    parallel: bool = True,
) -> int:
    """``grad, hess = kernel(z, y, w)`` for a binary loss with hard labels.

    ``constants = (a_pos, a_neg, floor, gamma, c0, c1, c2)`` (class weights, Hessian floor, focal
    gamma with 0 for logloss, and the focal Hessian's coefficients; see ``_kernels.c``); ``y``
    and ``w`` in ``z``'s dtype, ``grad``/``hess`` float32 or (for float64 ``z``) float64, all 1-D
    and contiguous. Returns the OR of the status bits (:data:`NONFINITE`, :data:`SOFT_LABELS`).
    ``parallel=False`` runs on the calling thread alone (the engine adapters' row ranges are
    threaded already)."""
    return _rows("binary", z, y, w, constants, grad, hess, parallel)


def regression(
    z: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    constants: tuple[float, float, float, int, int],
    grad: np.ndarray,
    hess: np.ndarray,
    parallel: bool = True,
) -> int:
    """``grad, hess = kernel(z, y, w)`` for Huber or quantile rows (``_kernels.c``,
    ``gbo_regression_*``): ``constants = (p, g_ge, g_lt, kind, mode)``, arrays as for
    :func:`binary`. Returns :data:`NONFINITE` when a raw score is NaN or infinite."""
    return _rows("regression", z, y, w, constants, grad, hess, parallel)


def _rows(
    kind: str,
    z: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    constants: tuple,
    grad: np.ndarray,
    hess: np.ndarray,
    parallel: bool,
) -> int:
    """A row-wise kernel (binary, regression) over 1-D contiguous arrays, on row ranges on the
    kernel threads unless ``parallel=False``; the OR of the ranges' status bits."""
    zt, ot = z.dtype, grad.dtype
    f = _function(kind, zt, ot)
    n = z.shape[0]
    pz, py, pw = _ptr(z, zt), _ptr(y, zt), _ptr(w, zt)
    pg, ph = _ptr(grad, ot), _ptr(hess, ot)
    if hess.dtype != ot or grad.shape[0] != n or hess.shape[0] != n or y.shape[0] != n:
        raise ValueError("compiled kernel arguments of different lengths or dtypes")
    if not parallel:
        return f(n, pz, py, pw or None, *constants, pg, ph)
    si, so = zt.itemsize, ot.itemsize

    def work(lo: int, hi: int) -> int:
        return f(
            hi - lo, pz + lo * si, py + lo * si, pw + lo * si if pw else None, *constants, pg + lo * so, ph + lo * so
        )

    return run_ranges(work, n, MIN_ROWS_PER_THREAD)


def binary_value(
    z: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    constants: tuple[float, float, float],
    values: np.ndarray | None = None,
) -> tuple[int, float, float]:
    """Per-row loss values ``s phi(t z)`` of a binary loss (into ``values`` when given) and
    their sum and the sum of the weights, accumulated in float64 in row order.

    ``constants = (a_pos, a_neg, gamma)`` (gamma = 0: logloss); ``z``, ``y``, ``w`` as in
    :func:`binary`; ``values`` float32 or float64 like :func:`binary`'s outputs. Returns
    ``(status, total, weight)``; one thread (a metric call is short)."""
    zt = z.dtype
    ot = values.dtype if values is not None else zt
    f = _function("binary_value", zt, ot)
    n = z.shape[0]
    if y.shape[0] != n or (values is not None and values.shape[0] != n):
        raise ValueError("compiled kernel arguments of different lengths")
    sums = np.zeros(2)
    status = f(n, _ptr(z, zt), _ptr(y, zt), _ptr(w, zt) or None, *constants, _ptr(values, ot) or None, _ptr(sums, _F64))
    return status, float(sums[0]), float(sums[1])


def _strides(a: np.ndarray) -> tuple[int, int]:
    s0, s1 = a.strides
    return s0 // a.itemsize, s1 // a.itemsize


def softmax(
    z: np.ndarray,
    y: np.ndarray,
    scale: np.ndarray | None,
    constants: tuple[float, ...],
    grad: np.ndarray,
    hess: np.ndarray,
    parallel: bool = True,
) -> int:
    """``grad, hess = kernel(z, y)`` for a softmax focal loss (or cross-entropy at gamma = 0).

    ``z``, ``grad`` and ``hess`` are (n, K) with any element strides (row- or class-major);
    ``y`` the int64 class indices, ``scale`` the per-row weights in ``z``'s dtype or None,
    ``constants = (floor, gamma, c0, c1, c2)``. Returns :data:`NONFINITE` or 0."""
    zt, ot = z.dtype, grad.dtype
    f = _function("softmax", zt, ot)
    n, K = z.shape
    if grad.shape != z.shape or hess.shape != z.shape or hess.dtype != ot or hess.strides != grad.strides:
        raise ValueError("compiled kernel outputs of different shapes, dtypes or layouts")
    for a in (z, grad):
        if a.strides[0] % a.itemsize or a.strides[1] % a.itemsize:
            raise TypeError("compiled kernel arrays must have whole-element strides")
    if y.dtype != np.int64 or not y.flags.c_contiguous or (scale is not None and scale.dtype != zt):
        raise TypeError("compiled kernel labels must be contiguous int64, the scale in the scores' dtype")
    zrs, zcs = _strides(z)
    ors, ocs = _strides(grad)
    pz, py, ps = address(z), _ptr(y, y.dtype), _ptr(scale, zt)
    pg, ph = address(grad), address(hess)
    si, so = zt.itemsize, ot.itemsize

    def work(lo: int, hi: int) -> int:
        status = f(
            hi - lo,
            K,
            pz + lo * zrs * si,
            zrs,
            zcs,
            py + lo * 8,
            ps + lo * si if ps else None,
            *constants,
            pg + lo * ors * so,
            ph + lo * ors * so,
            ors,
            ocs,
        )
        if status < 0:
            raise MemoryError("the softmax kernel could not allocate its scratch tile")
        return status

    return run_ranges(work, n, max(1, MIN_ROWS_PER_THREAD // max(K, 1))) if parallel else work(0, n)
