"""The threads that gbobjectives' own kernels run on (never the engines' OpenMP threads).

numpy's loops and the compiled kernels (called through ctypes) release the GIL, so contiguous
row ranges of one gradient evaluation run in parallel on a small pool of Python threads. The
pool is shared by the engine adapters (``engines/_blocked.py``) and the public float64 methods.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextvars import ContextVar
from typing import Any

__all__ = ["MAX_THREADS", "num_threads", "limit_to_engine_threads", "executor", "run_parts", "run_ranges"]

#: Most threads used, whatever the core count: the passes are memory-bound beyond a few cores.
MAX_THREADS = 8

_ENV = "GBOBJECTIVES_NUM_THREADS"

#: the engine's own thread count while one of gbobjectives' train helpers runs (None: unknown)
_ENGINE_THREADS: ContextVar[int | None] = ContextVar("gbobjectives_engine_threads", default=None)

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def num_threads() -> int:
    """Threads for one gradient evaluation: ``$GBOBJECTIVES_NUM_THREADS`` if set (one explicit
    setting), else the number of cores this process may run on, at most :data:`MAX_THREADS` and
    at most the engine's own ``nthread`` / ``num_threads`` while a train helper that knows it runs
    (:func:`limit_to_engine_threads`): the engine waits for the gradients meanwhile, so its threads' cores
    are the ones free, and never more."""
    env = os.environ.get(_ENV, "").strip()
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"{_ENV} must be a positive integer, got {env!r}") from None
        if n < 1:
            raise ValueError(f"{_ENV} must be a positive integer, got {env!r}")
        return n
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    n = max(1, min(cores, MAX_THREADS))
    limit = _ENGINE_THREADS.get()
    return n if limit is None else max(1, min(n, limit))


@contextlib.contextmanager
def limit_to_engine_threads(value: object) -> Iterator[None]:
    """While the block runs, :func:`num_threads` uses at most ``value`` threads when it is a
    positive integer (an engine's ``nthread``); 0, -1 or None (the engines' "all cores") leave it."""
    limit = int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 1 else None
    token = _ENGINE_THREADS.set(limit)
    try:
        yield
    finally:
        _ENGINE_THREADS.reset(token)


def executor(n: int) -> ThreadPoolExecutor:
    """The shared pool, grown to at least ``n`` workers."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < n:
            old = _pool
            _pool, _pool_size = ThreadPoolExecutor(max_workers=n, thread_name_prefix="gbobjectives"), n
            if old is not None:
                old.shutdown(wait=False)
        return _pool


def _forget_pool_after_fork() -> None:
    # a forked child inherits the executor object but not its threads: start afresh there
    global _pool, _pool_size, _pool_lock
    _pool, _pool_size, _pool_lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def run_parts(work: Callable[[int], Any], parts: int) -> list[Any]:
    """``[work(0), ..., work(parts - 1)]``, the parts on the shared pool's threads.

    The calling thread takes part 0 itself (one thread fewer to wake: a wake-up costs tens of
    microseconds on a VM). Every part has finished when this returns, even after an exception,
    which is then re-raised."""
    if parts <= 1:
        return [work(0)]
    futures = [executor(parts - 1).submit(work, i) for i in range(1, parts)]
    try:
        first = work(0)
    finally:
        wait(futures)  # all of them, even after a failure: none may still write when we return
    return [first, *(f.result() for f in futures)]


def run_ranges(work: Callable[[int, int], int], n: int, min_rows: int) -> int:
    """``work(lo, hi)`` over contiguous row ranges covering ``0..n``, at least ``min_rows`` rows
    each, one per thread (at most :func:`num_threads`); returns the bitwise OR of the results."""
    threads = max(1, min(num_threads(), n // max(min_rows, 1)))
    bounds = [n * i // threads for i in range(threads + 1)]
    status = 0
    for part in run_parts(lambda i: work(bounds[i], bounds[i + 1]), threads):
        status |= part
    return status
