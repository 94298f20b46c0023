"""Cache-sized row blocks, on a few threads, for the engine fast path.

``Loss._gradient_hessian_fast`` is a chain of ~8-25 element-wise numpy passes. On a whole
1M-row array every pass streams its operands through main memory; cut into blocks of
:data:`BLOCK_ELEMENTS` elements, each block's temporaries stay in the core's caches (measured on
the 2-core benchmark machine, 1M-row logloss from float32 margins: 16.6 ms whole-array, 7.4 ms
in 64k blocks, 3.6 ms in 64k blocks of float32 arithmetic, 1.7-2.3 ms with the one-exp kernels).
numpy releases the GIL inside its loops, so contiguous ranges of blocks also run on
:func:`num_threads` threads (the engine is idle while the objective runs). But every numpy call
re-takes the GIL, and when the other thread holds it the caller sleeps and must be woken (tens of
microseconds on a VM): small blocks mean many calls, and with 64k-element blocks two threads were
SLOWER than one. Blocks of 256k elements (1 MiB of float32: the temporaries sit in L2/L3), with
the calling thread taking the first range itself (one wake-up fewer), make two threads 1.2-1.7x
faster than one (per-call table of ``benchmarks/results/speed.md``).

Rows are independent, so a block's gradient is the whole array's gradient for those rows:
blocking and threading change no value (tests/test_fast_path.py checks bit-identity).

Contract with the kernels: every ndarray in a loss's label preparation ``prep`` is indexed by
row along its LAST axis ((n,) per-row values, (K, n) class-major tables), and keys starting with
``_`` are the adapter's own; :func:`rows_view` slices the former and drops the latter.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gbobjectives._compiled import MIN_ROWS_PER_THREAD, NonFiniteScores
from gbobjectives._threads import num_threads, run_parts
from gbobjectives.losses._fast import Workspace

__all__ = ["BLOCK_ELEMENTS", "NonFiniteInput", "num_threads", "rows_view", "run_blocked"]

#: Elements (rows x columns) per block. Measured at 1M rows on 2 threads (logloss / focal /
#: 5-class softmax focal, ms per call): 64k 3.2/5.3/41, 128k 2.5/4.1/29, 256k 2.3/3.6/23,
#: one thread at 256k: 2.2/4.0/26 (one interleaved run); 512k in a separate run 2.0/4.2/23.
BLOCK_ELEMENTS = 262144


def rows_view(prep: dict, sl: slice) -> dict:
    """The rows ``sl`` of a label preparation (views, no copies; see the module contract)."""
    return {
        k: (v[..., sl] if isinstance(v, np.ndarray) and v.ndim else v) for k, v in prep.items() if not k.startswith("_")
    }


#: a block of the input held a NaN or an infinity (``run_blocked(check_finite=True)``, or a
#: compiled kernel's own check)
NonFiniteInput = NonFiniteScores


Kernel = Callable[[np.ndarray, dict, Workspace], tuple[np.ndarray, np.ndarray]]


def run_blocked(
    kernel: Kernel,
    z: np.ndarray,
    prep: dict,
    workspaces: list[Workspace],
    grad_out: np.ndarray,
    hess_out: np.ndarray,
    *,
    check_finite: bool = False,
) -> None:
    """``grad_out[i], hess_out[i] = kernel(z[i], prep[i])`` over blocks of rows, on threads.

    ``workspaces`` holds one :class:`Workspace` per thread (grown here as needed); the caller
    owns them and must not share the list between concurrent calls. A kernel's exception is
    re-raised here. With ``check_finite``, each block of ``z`` is first checked for NaN and
    infinities (while it is in cache) and :class:`NonFiniteInput` is raised if one is found.
    A preparation marked ``_compiled`` (a compiled kernel, which checks finiteness itself) is
    cut into one range per thread instead of cache-sized blocks.
    """
    n = z.shape[0]
    cols = int(np.prod(z.shape[1:], dtype=np.int64)) if z.ndim > 1 else 1
    if prep.get("_compiled"):
        # a compiled kernel makes one pass with no temporaries: one range per thread, and it
        # checks the scores' finiteness itself
        threads = max(1, min(num_threads(), n * cols // MIN_ROWS_PER_THREAD))
        block, n_blocks, check_finite = -(-n // threads), threads, False
    else:
        block = max(1, BLOCK_ELEMENTS // max(cols, 1))
        n_blocks = -(-n // block)
        threads = max(1, min(num_threads(), n_blocks))
    while len(workspaces) < threads:
        workspaces.append(Workspace())

    def work(i: int) -> None:
        # thread i takes a contiguous run of whole blocks
        lo = (n_blocks * i // threads) * block
        hi = min(n, (n_blocks * (i + 1) // threads) * block)
        ws = workspaces[i]
        for start in range(lo, hi, block):
            sl = slice(start, min(start + block, hi))
            zb = z[sl]
            if check_finite and not np.isfinite(zb, out=ws.get("_finite", zb.shape, np.dtype(bool))).all():
                raise NonFiniteInput("the input holds NaN or infinite values")
            dest = ws.outputs = (grad_out[sl], hess_out[sl])
            try:
                g, h = kernel(zb, rows_view(prep, sl), ws)
            finally:
                ws.outputs = None
            # a kernel may have written its results into the destination already
            if g is not dest[0]:
                dest[0][...] = g
            if h is not dest[1]:
                dest[1][...] = h

    run_parts(work, threads)  # the calling thread takes range 0 itself
