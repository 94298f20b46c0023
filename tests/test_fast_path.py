"""The engine fast path (``Loss._gradient_hessian_fast`` through the adapters) against the
public float64 ``gradient_hessian`` for every loss in ``example_losses()``.

Tolerances:
* float64 engine input (LightGBM): the fast kernels are re-arranged float64 formulas without
  cancellation, so agreement is a few float64 roundings, except that a rounding of a margin
  difference (multiclass: z_c - m - log s) is amplified by exp(.) up to |z| times:
  rtol = 16 * 2**-53 * (1 + max|z| of the row).
* the adapters return float32 (what both engines store), so each bound also has the final
  rounding to float32: relative 2**-24, or 2**-150 absolute among float32 subnormals.
* float32 engine input (XGBoost): the reference is evaluated at the SAME float32 margins cast
  to float64, so only float32 arithmetic differs. Each result is a product/sum of <= ~15
  same-signed float32 roundings (rtol 2**-24 each) plus, for multiclass, the float32 rounding
  of margin differences z_j - m, which perturbs exp(.) by up to |z| * 2**-24 relative. Hence
  rtol = 32 * 2**-24 * (1 + max|z| of the row), and atol 1e-37 for results below float32's
  normal range (1.2e-38), which both engines store as float32 anyway.
No wall-clock time is asserted.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import n_outputs, valid_labels, widen

from gbobjectives.engines import _common
from gbobjectives.losses import example_losses

EPS32 = 2.0**-24
EPS64 = 2.0**-53


class _Owner:  # weak-referenceable stand-in for a DMatrix / Dataset
    pass


def _data(loss, n, scale, rng, soft=False, weighted=False):
    if loss.task == "multiclass":
        K = loss.n_classes or 3
        y = rng.integers(0, K, n).astype(np.float64)
        z = rng.normal(size=(n, K)) * scale
    elif loss.task == "binary":
        y = rng.random(n) if soft else (rng.random(n) < 0.3).astype(np.float64)
        z = rng.normal(size=n) * scale
    else:
        y = rng.normal(size=n) * scale
        K = n_outputs(loss)  # K-output regression (MultiQuantileLoss): (n, K) raw scores
        z = y + rng.normal(size=n) * scale if K is None else y[:, None] + rng.normal(size=(n, K)) * scale
    w = rng.random(n) * 3 if weighted else None
    return y, z, w


def _cases():
    for loss in example_losses():
        for scale in (1.0, 30.0, 700.0, 1e4):
            for soft in (False, True) if loss.task == "binary" else (False,):
                yield pytest.param(loss, scale, soft, id=f"{loss!r}-{scale:g}-{'soft' if soft else 'hard'}")


def _compare(loss, y, z, w, dtype):
    zin = z.astype(dtype)
    y = y.astype(np.float32).astype(np.float64)  # engines store labels as float32
    ref_g, ref_h = loss.gradient_hessian(y, zin.astype(np.float64), w)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning at any margin
        g, h = _common.gradient_hessian(loss, zin, _Owner(), y.astype(np.float32), w, "test")
        owner = _Owner()  # and the cached second round on one data set
        _common.gradient_hessian(loss, zin, owner, y, w, "test")
        g2, h2 = _common.gradient_hessian(loss, zin, owner, y, w, "test")
    assert g.dtype == h.dtype == np.float32 and g.shape == h.shape == ref_g.shape
    # the MM losses hand the engines k times their public pair, k one power of two for all rows
    # (the same Newton steps -G/H in the units of the engines' lambda / min_child_weight)
    size = float(np.sum(np.abs(ref_g)) + np.sum(np.abs(ref_h)))
    ratio = float(np.sum(np.abs(g), dtype=np.float64) + np.sum(np.abs(h), dtype=np.float64)) / size if size else 1.0
    k = float(2.0 ** np.round(np.log2(ratio)))
    assert abs(ratio / k - 1) < 1e-5, ratio
    if getattr(loss, "hessian", None) != "mm":
        assert k == 1.0
    elif not loss.hessian_uses_all_rows:  # Huber, pseudo-Huber, log-cosh: about 1 per unit weight
        weight_sum = len(y) if w is None else float(np.sum(w))
        assert 2**-0.5 <= float(np.sum(h, dtype=np.float64)) / weight_sum <= 2**0.5
    ref_g, ref_h = ref_g * k, ref_h * k
    assert g.flags.f_contiguous and h.flags.f_contiguous  # class-major (n, K): see _common
    for fast, ref in ((g, ref_g), (h, ref_h), (g2, ref_g), (h2, ref_h)):
        assert np.all(np.isfinite(fast))
        zmax = np.abs(zin).max(axis=1)[:, None] if zin.ndim == 2 else np.abs(zin)
        # plus the final rounding to the float32 the engines store: half a float32 ulp
        # (relative 2**-24; absolute 2**-150 among float32's subnormals)
        if dtype == np.float64:
            rtol, atol = 16 * EPS64 * (1 + zmax) + EPS32, 2.0**-149
        else:
            rtol, atol = 32 * EPS32 * (1 + zmax) + EPS32, 1e-37
        err = np.abs(fast - ref)
        bad = err > rtol * np.abs(ref) + atol
        assert not bad.any(), (loss, dtype, fast[bad][:5], ref[bad][:5])


@pytest.mark.parametrize("loss,scale,soft", list(_cases()))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_path_matches_public(loss, scale, soft, dtype):
    rng = np.random.default_rng(0)
    y, z, w = _data(loss, 400, scale, rng, soft=soft)
    _compare(loss, y, z, None, dtype)
    _compare(loss, y, z, rng.random(len(y)) * 3, dtype)


@pytest.mark.parametrize("threads", ["1", "3"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_path_extreme_margins(monkeypatch, dtype, threads):
    # on 3 threads the rows are cut into 2-row blocks: overflow/underflow inside the kernels'
    # own threads must stay silent and exact too (np.errstate is per thread)
    from gbobjectives.engines import _blocked

    monkeypatch.setenv("GBOBJECTIVES_NUM_THREADS", threads)
    if threads != "1":
        monkeypatch.setattr(_blocked, "BLOCK_ELEMENTS", 2)
    zs = np.array([-1e4, -700.0, -104.0, -89.0, -37.0, -1.0, 0.0, 1.0, 37.0, 89.0, 104.0, 700.0, 1e4])
    for loss in example_losses():
        if loss.task == "multiclass":
            K = loss.n_classes or 3
            z = np.stack([np.roll(np.resize(zs, K), i) for i in range(len(zs))])
            y = np.arange(len(zs)) % K
        elif loss.task == "binary":
            z, y = np.concatenate([zs, zs]), np.repeat([0.0, 1.0], len(zs))
        else:
            z, y = np.concatenate([zs, zs]), valid_labels(loss, np.concatenate([np.zeros(len(zs)), zs[::-1]]))
            z = widen(loss, z)
        _compare(loss, y.astype(np.float64), z, None, dtype)


def test_returned_buffers_are_not_overwritten_while_held():
    from gbobjectives import FocalLoss

    loss, owner = FocalLoss(), _Owner()
    y = np.array([0.0, 1.0, 1.0, 0.0])
    g1, h1 = _common.gradient_hessian(loss, np.zeros(4, np.float32), owner, y, None, "test")
    keep = g1.copy()
    _common.gradient_hessian(loss, np.full(4, 3.0, np.float32), owner, y, None, "test")
    np.testing.assert_array_equal(g1, keep)


def _run(loss, zin, y, w):
    return _common.gradient_hessian(loss, zin, _Owner(), y, w, "test")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", ["1", "3"])
def test_blocks_and_threads_change_no_value(monkeypatch, dtype, threads):
    # rows are independent: any cut into blocks, on any number of threads, gives the same bits
    # as one whole-array block (uneven last blocks and ranges included: 1000 rows, 7-row blocks)
    from gbobjectives.engines import _blocked

    rng = np.random.default_rng(3)
    for loss in example_losses():
        y, z, _ = _data(loss, 1000, 5.0, rng)
        w = rng.random(len(y)) * 3
        zin = z.astype(dtype)
        monkeypatch.setattr(_blocked, "BLOCK_ELEMENTS", 10**9)
        monkeypatch.setenv("GBOBJECTIVES_NUM_THREADS", "1")
        whole = [a.copy() for a in _run(loss, zin, y, w)]
        monkeypatch.setattr(_blocked, "BLOCK_ELEMENTS", 7 * (z.shape[1] if z.ndim == 2 else 1))
        monkeypatch.setenv("GBOBJECTIVES_NUM_THREADS", threads)
        for a, b in zip(_run(loss, zin, y, w), whole):
            np.testing.assert_array_equal(a, b, err_msg=repr(loss))


@pytest.mark.parametrize("failing", [0, 50])
def test_a_failing_block_raises_after_every_thread_stopped(monkeypatch, failing):
    # 100 rows in 10-row blocks on 2 threads: the caller runs rows 0-49 itself, a helper 50-99.
    # Whichever fails, the error reaches the caller only once the other thread has finished.
    import threading
    import time

    from gbobjectives.engines import _blocked

    monkeypatch.setattr(_blocked, "BLOCK_ELEMENTS", 10)
    monkeypatch.setenv("GBOBJECTIVES_NUM_THREADS", "2")
    active, lock = [0], threading.Lock()

    def kernel(z, prep, ws):
        with lock:
            active[0] += 1
        try:
            if prep["y"][0] == failing:  # the first block of one of the threads
                raise ArithmeticError(f"block {failing // 10}")
            time.sleep(0.01)  # the other thread is still busy when this one fails
            return z, z
        finally:
            with lock:
                active[0] -= 1

    y = np.arange(100.0)
    g, h = np.empty(100), np.empty(100)
    with pytest.raises(ArithmeticError, match=f"block {failing // 10}"):
        _blocked.run_blocked(kernel, y, {"y": y, "_private": object()}, [], g, h)
    assert active[0] == 0  # no thread may still write into g, h once the caller has the error
    other = slice(50, 100) if failing == 0 else slice(0, 50)
    np.testing.assert_array_equal(g[other], y[other])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 500, 999])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_non_finite_score_in_any_block_raises_the_adapters_message(monkeypatch, bad, where, dtype):
    # finiteness is checked block by block on the kernels' threads: a NaN/inf in the first,
    # a middle or the last block (of another thread) must raise the same clear ValueError
    from gbobjectives import FocalLoss, HuberLoss, MulticlassFocalLoss, QuantileLoss
    from gbobjectives.engines import _blocked

    rng = np.random.default_rng(0)
    monkeypatch.setenv("GBOBJECTIVES_NUM_THREADS", "3")
    y_reg = rng.normal(size=1000)
    for loss, z, y in (
        (FocalLoss(), rng.normal(size=1000), (rng.random(1000) < 0.5).astype(np.float64)),
        (MulticlassFocalLoss(), rng.normal(size=(1000, 3)), rng.integers(0, 3, 1000).astype(np.float64)),
        (HuberLoss(), y_reg + rng.normal(size=1000), y_reg),  # the compiled regression kernel
        (QuantileLoss(0.9, hessian="constant"), y_reg + rng.normal(size=1000), y_reg),  # (also)
        (QuantileLoss(0.9), y_reg + rng.normal(size=1000), y_reg),  # numpy blocks (MM)
    ):
        monkeypatch.setattr(_blocked, "BLOCK_ELEMENTS", 7 * (z.shape[1] if z.ndim == 2 else 1))
        zin = z.astype(dtype)
        owner = _Owner()
        _common.gradient_hessian(loss, zin, owner, y, None, "test")  # a finite round first (cached labels)
        zin[(where,) + (() if z.ndim == 1 else (z.shape[1] - 1,))] = bad
        msg = "NaN" if np.isnan(bad) else "infinite"
        with pytest.raises(ValueError, match=f"{type(loss).__name__}.*{msg}.*diverged"):
            _common.gradient_hessian(loss, zin, owner, y, None, "test")


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_bad_thread_count_in_the_environment_is_a_clear_error(monkeypatch, value):
    from gbobjectives.engines import _blocked

    monkeypatch.setenv("GBOBJECTIVES_NUM_THREADS", value)
    with pytest.raises(ValueError, match="GBOBJECTIVES_NUM_THREADS must be a positive integer"):
        _blocked.num_threads()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_quantile_mm_at_a_perfect_fit_is_finite(dtype):
    # every residual 0: the scale S takes its floor 2**-200, where 1/(cS) and the engine factor
    # are far outside float32's range; the engine pair must still be finite and k x the public one
    from gbobjectives import QuantileLoss

    y = np.linspace(-3.0, 5.0, 64)
    for tau in (0.1, 0.9):
        _compare(QuantileLoss(tau), y, y.copy(), None, dtype)
        _compare(QuantileLoss(tau), y, y.copy(), np.linspace(0.5, 2.0, 64), dtype)
