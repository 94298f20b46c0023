"""The compiled kernels (gbobjectives/_kernels.c): active here, accurate, and the numpy path agrees.

The kernels compute the classification losses' gradients and training-safe Hessians for the
public float64 methods and the engines. The reference-value tests check gradients and exact
Hessians; here the training-safe surrogates ("upper", "gauss_newton", the floored logloss
Hessian) are checked against the same formulas evaluated in mpmath, at margins up to +-700.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig

import mpmath
import numpy as np
import pytest
from mpmath import mp, mpf

import gbobjectives as gbo
from gbobjectives import _compiled

FLOOR = mpf("1e-16")
RTOL = 1e-12


def _c_compiler() -> str | None:
    """The C compiler setuptools would build the kernels with, if this machine has it."""
    return shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0])


#: where the machine has no C compiler at all the package runs on its numpy path by design; the
#: tests that demand the compiled path then skip (saying so) instead of failing
_DISABLED = os.environ.get(_compiled.ENV, "0").strip() not in ("", "0")
needs_kernels = pytest.mark.skipif(
    not _compiled.available() and (_c_compiler() is None or _DISABLED),
    reason="no C compiler on this machine, or GBOBJECTIVES_PURE_PYTHON set: the numpy path (show_config says why)",
)


@needs_kernels
def test_compiled_kernels_are_active():
    # CI (and the README's install) builds them: a silent fallback would be a 4-8x slowdown
    config = gbo.show_config(print_config=False)
    assert config["kernels"] == "compiled", config
    libc, version = platform.libc_ver()
    if platform.machine() == "x86_64" and sys.platform == "linux" and libc == "glibc":
        if tuple(int(v) for v in version.split(".")[:2]) >= (2, 35):
            assert "libmvec" in config["vector_math"], config


# ---------------------------------------------------------------------------------- mpmath
def _parts(u):
    p = 1 / (1 + mpmath.exp(-u))
    q = 1 / (1 + mpmath.exp(u))
    L = mpmath.log1p(mpmath.exp(-u))  # (log(1 + tiny) would round to 0 at 60 digits)
    return p, q, L


def _d1_d2(u, g, mode):
    """-phi'(u) and the training-safe phi''(u) (before the floor), from docs/math.md."""
    p, q, L = _parts(u)
    qg = q**g
    d1 = qg * (g * p * L + q)
    if g == 0:
        return d1, p * q
    if mode == "upper":
        return d1, p * qg * ((2 * g + 1) * q + g * g * p * L)
    return d1, qg * (q * q + 2 * g * p * q + g * (g - 1) * p * p * L)  # gauss_newton


def _close(got: float, want) -> bool:
    return abs(mpf(got) - want) <= RTOL * abs(want) + mpf("1e-300")


BINARY = [
    gbo.WeightedLogLoss(pos_weight=2.0, neg_weight=0.7),
    gbo.WeightedLogLoss(hessian="exact"),
    gbo.FocalLoss(gamma=2.0, alpha=0.25),
    gbo.FocalLoss(gamma=0.5),
    gbo.FocalLoss(gamma=1.0),
    gbo.FocalLoss(gamma=3.0, hessian="gauss_newton"),
]


@pytest.mark.parametrize("loss", BINARY, ids=repr)
def test_binary_surrogate_hessians_match_mpmath(loss):
    mp.dps = 60
    rng = np.random.default_rng(3)
    z = np.concatenate([rng.normal(0, 4, 40), rng.uniform(-700, 700, 40), [0.0, 36.0, -36.0, 80.0, -80.0]])
    y = (rng.random(z.size) < 0.5).astype(np.float64)
    w = rng.uniform(0.2, 3.0, z.size)
    grad, hess = loss.gradient_hessian(y, z, w)
    params = loss.get_params()
    g = mpf(params.get("gamma", 0.0))
    if "alpha" in params:
        a_pos, a_neg = (mpf(1), mpf(1)) if params["alpha"] is None else (mpf(params["alpha"]), 1 - mpf(params["alpha"]))
    else:
        a_pos, a_neg = mpf(params["pos_weight"]), mpf(params["neg_weight"])
    mode = loss.hessian
    bad = []
    for zi, yi, wi, gi, hi in zip(z, y, w, grad, hess):
        t = 1 if yi == 1 else -1
        s = (a_pos if yi == 1 else a_neg) * mpf(wi)
        d1, d2 = _d1_d2(t * mpf(zi), g, mode)
        want_h = s * (d2 if mode == "exact" else max(d2, FLOOR))
        if not (_close(gi, -t * s * d1) and _close(hi, want_h)):
            bad.append((zi, yi, gi, float(-t * s * d1), hi, float(want_h)))
    assert not bad, f"{len(bad)} mismatches, e.g. {bad[:3]}"


@pytest.mark.parametrize(
    "loss",
    [gbo.MulticlassFocalLoss(gamma=2.0, alpha=[1.0, 0.5, 2.0]), gbo.MulticlassFocalLoss(gamma=0.0)],
    ids=repr,
)
def test_softmax_surrogate_hessians_match_mpmath(loss):
    mp.dps = 60
    rng = np.random.default_rng(4)
    z = np.concatenate([rng.normal(0, 4, (30, 3)), rng.uniform(-300, 300, (30, 3)), [[5.0, 5.0, 5.0], [0, 9, 9]]])
    y = rng.integers(0, 3, z.shape[0])
    w = rng.uniform(0.2, 3.0, z.shape[0])
    grad, hess = loss.gradient_hessian(y, z, w)
    params = loss.get_params()
    g = mpf(params["gamma"])
    alpha = params["alpha"] or [1, 1, 1]
    bad = []
    for i in range(z.shape[0]):
        c = int(y[i])
        zs = [mpf(v) for v in z[i]]
        others = [zs[k] for k in range(3) if k != c]
        lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in others))
        d1, d2 = _d1_d2(zs[c] - lse, g, loss.hessian)
        d2 = max(d2, FLOOR)
        s = mpf(alpha[c]) * mpf(w[i])
        for k in range(3):
            if k == c:
                want_g, want_h = -s * d1, s * d2
            else:
                rho = mpmath.exp(zs[k] - lse) / mpmath.fsum(mpmath.exp(v - lse) for v in others)
                want_g = s * d1 * rho
                want_h = s * max(rho * (d2 * rho + d1 * (1 - rho)), FLOOR)
            if not (_close(grad[i, k], want_g) and _close(hess[i, k], want_h)):
                bad.append((i, k, grad[i, k], float(want_g), hess[i, k], float(want_h)))
    assert not bad, f"{len(bad)} mismatches, e.g. {bad[:3]}"


# ---------------------------------------------------------------------------------- threads
@pytest.mark.parametrize("loss", [gbo.FocalLoss(gamma=2.0, alpha=0.25), gbo.MulticlassFocalLoss(gamma=2.0)], ids=repr)
def test_row_ranges_on_threads_change_no_bit(loss, monkeypatch):
    rng = np.random.default_rng(5)
    n = 3 * _compiled.MIN_ROWS_PER_THREAD + 17
    if loss.task == "multiclass":
        z, y = rng.normal(0, 3, (n, 4)), rng.integers(0, 4, n)
    else:
        z, y = rng.normal(0, 3, n), (rng.random(n) < 0.3).astype(float)
    results = []
    for threads in ("1", "3"):
        monkeypatch.setenv("GBOBJECTIVES_NUM_THREADS", threads)
        results.append(loss.gradient_hessian(y, z))
    for a, b in zip(*results):
        assert a.tobytes() == b.tobytes()


# ---------------------------------------------------------------------------------- regression rows
@pytest.mark.parametrize(
    "loss",
    [gbo.HuberLoss(delta=2.0), gbo.HuberLoss(hessian="constant"), gbo.HuberLoss(hessian="exact"),
     gbo.QuantileLoss(0.9, hessian="constant"), gbo.QuantileLoss(0.3, hessian="exact")],
    ids=repr,
)  # fmt: skip
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@needs_kernels
def test_regression_rows_take_the_compiled_kernel(loss, dtype, monkeypatch) -> None:
    """The engine path of Huber (every Hessian) and the quantile's constant/exact Hessians runs
    the compiled regression kernel (one pass; its values are checked against the public float64
    formulas in test_fast_path.py), on every row range, for both engine precisions."""
    from gbobjectives.engines import _common

    calls = []
    kernel = _compiled.regression

    def counting(z, *args, **kwargs):
        calls.append(z.shape[0])
        return kernel(z, *args, **kwargs)

    monkeypatch.setattr(_compiled, "regression", counting)
    monkeypatch.setenv("GBOBJECTIVES_NUM_THREADS", "3")
    rng = np.random.default_rng(7)
    n = 3 * _compiled.MIN_ROWS_PER_THREAD + 5
    y = rng.normal(size=n).astype(np.float32).astype(np.float64)  # labels as both engines store them
    z = (y + rng.standard_t(3, n)).astype(dtype)

    class Owner:  # weak-referenceable stand-in for a data set
        pass

    g, h = _common.gradient_hessian(loss, z, Owner(), y, None, "test")
    assert sum(calls) == n and len(calls) == 3  # one call per row range, every row
    want_g, want_h = loss.gradient_hessian(y, z.astype(np.float64))
    k = float(np.sum(h, dtype=np.float64) / np.sum(want_h)) if loss.hessian == "mm" else 1.0
    np.testing.assert_allclose(g, want_g * k, rtol=4 * 2.0**-24, atol=0)
    np.testing.assert_allclose(h, want_h * k, rtol=4 * 2.0**-24, atol=0)


@pytest.mark.parametrize(
    "loss",
    [gbo.HuberLoss(delta=2.0), gbo.HuberLoss(delta=2.0, hessian="exact"), gbo.QuantileLoss(0.9, hessian="constant")],
    ids=repr,
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_regression_kernel_at_the_kinks(loss, dtype) -> None:
    """Residuals exactly at the kinks (r = 0, r = +-delta), where ``<=`` and ``<`` differ: the
    kernel takes the public formulas' side (z >= y is the upper branch of the quantile's
    gradient, |r| <= delta inside Huber's exact Hessian)."""
    from gbobjectives.engines import _common

    y = np.array([0.0, 1.0, 2.5, -3.0, 7.0, 4.0])
    z = (y + np.array([0.0, 2.0, -2.0, 4.0, -1.0, 0.0])).astype(dtype)

    class Owner:
        pass

    g, h = _common.gradient_hessian(loss, z, Owner(), y, None, "test")
    want_g, want_h = loss.gradient_hessian(y, z.astype(np.float64))
    k = float(np.sum(h, dtype=np.float64) / np.sum(want_h)) if loss.hessian == "mm" else 1.0
    np.testing.assert_array_equal(g, (want_g * k).astype(np.float32))
    np.testing.assert_array_equal(h, (want_h * k).astype(np.float32))


# ---------------------------------------------------------------------------------- the numpy path
_FALLBACK = r"""
import json, sys
import numpy as np
import gbobjectives as gbo
import xgboost as xgb
rng = np.random.default_rng(6)
zb = np.concatenate([rng.normal(0, 4, 300), [-700.0, 700.0]])
yb = (rng.random(zb.size) < 0.4).astype(float)
zm, ym = rng.normal(0, 4, (300, 3)), rng.integers(0, 3, 300)
out = {"config": gbo.show_config(print_config=False)}
for name, loss, y, z in [
    ("logloss", gbo.WeightedLogLoss(pos_weight=2.0), yb, zb),
    ("focal", gbo.FocalLoss(gamma=2.0, alpha=0.25), yb, zb),
    ("focal_gn", gbo.FocalLoss(gamma=3.0, hessian="gauss_newton"), yb, zb),
    ("mfocal", gbo.MulticlassFocalLoss(gamma=2.0), ym, zm),
]:
    g, h = loss.gradient_hessian(y, z)
    wr = rng.uniform(0.2, 3.0, len(y))
    metric = [gbo.LossMetric(loss)(y, z), gbo.LossMetric(loss)(y, z, wr)]
    out[name] = [g.ravel().tolist(), h.ravel().tolist(), loss.loss(y, z).ravel().tolist(), metric]
X = rng.normal(size=(400, 3))
yx = (X[:, 0] + rng.normal(size=400) > 0).astype(float)
bst = gbo.xgboost.train(gbo.FocalLoss(), {"max_depth": 2, "nthread": 1}, xgb.DMatrix(X, label=yx), 5)
out["xgb"] = bst.predict(xgb.DMatrix(X), output_margin=True).tolist()
json.dump(out, sys.stdout)
"""


def _run_fallback(pure: bool) -> dict:
    env = {**os.environ, "GBOBJECTIVES_PURE_PYTHON": "1" if pure else "0"}
    done = subprocess.run(
        [sys.executable, "-c", _FALLBACK], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout)


@needs_kernels
def test_numpy_path_gives_the_same_values():
    """Where nothing was compiled (here forced by GBOBJECTIVES_PURE_PYTHON=1) the package works
    on its numpy formulas and agrees with the kernels to rounding; show_config says so."""
    pytest.importorskip("xgboost")
    pure, fast = _run_fallback(True), _run_fallback(False)
    assert pure["config"]["kernels"] == "numpy" and "GBOBJECTIVES_PURE_PYTHON" in pure["config"]["reason"]
    assert fast["config"]["kernels"] == "compiled"
    for name in ("logloss", "focal", "focal_gn", "mfocal"):
        # gradient, Hessian, per-row values, the metric (weighted mean loss) without and with weights
        for what, a, b in zip(("gradient", "hessian", "values", "metric"), pure[name], fast[name]):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=0, err_msg=f"{name} {what}")
    # the engine path: float32 kernels against float64 numpy formulas, 5 rounds
    np.testing.assert_allclose(pure["xgb"], fast["xgb"], rtol=1e-5, atol=1e-6)


@needs_kernels
def test_cli_config_prints_the_active_path(capsys):
    from gbobjectives.cli import main

    assert main(["config"]) == 0
    out = capsys.readouterr().out
    lines = dict(line.split(None, 1) for line in out.strip().splitlines())
    assert lines["kernels"].strip() == "compiled"
    assert int(lines["threads"]) == gbo.show_config(print_config=False)["threads"] >= 1
    assert "xgboost" in lines["packages"]


# ---------------------------------------------------------------------------------- engine threads
@pytest.mark.parametrize("engine", ["xgboost", "lightgbm"])
@pytest.mark.parametrize("engine_threads", [1, 2])
def test_train_helpers_use_at_most_the_engines_threads(engine, engine_threads, monkeypatch):
    """Without GBOBJECTIVES_NUM_THREADS, the objective's row ranges use at most the engine's
    nthread / num_threads while gbo.xgboost.train / gbo.lightgbm.train run, and the limit ends
    with the training."""
    from gbobjectives import _threads
    from gbobjectives.engines import _blocked

    monkeypatch.delenv("GBOBJECTIVES_NUM_THREADS", raising=False)
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda _pid: set(range(4)), raising=False)
    seen: list[int] = []

    def spy() -> int:
        seen.append(_threads.num_threads())
        return seen[-1]

    monkeypatch.setattr(_blocked, "num_threads", spy)
    rng = np.random.default_rng(7)
    X = rng.normal(size=(4 * _compiled.MIN_ROWS_PER_THREAD, 3))
    y = (X[:, 0] + rng.normal(size=X.shape[0]) > 0).astype(float)
    loss = gbo.FocalLoss()
    if engine == "xgboost":
        xgb = pytest.importorskip("xgboost")
        params = {"max_depth": 2, "nthread": engine_threads}
        gbo.xgboost.train(loss, params, xgb.DMatrix(X, label=y, nthread=engine_threads), 2)
    else:
        lgb = pytest.importorskip("lightgbm")
        params = {"num_leaves": 4, "num_threads": engine_threads, "verbose": -1}
        gbo.lightgbm.train(loss, params, lgb.Dataset(X, label=y), 2)
    assert seen and set(seen) == {engine_threads}
    assert _threads.num_threads() == 4  # outside the training: the usable cores again
    monkeypatch.setenv("GBOBJECTIVES_NUM_THREADS", "3")  # one explicit setting wins
    with _threads.limit_to_engine_threads(1):
        assert _threads.num_threads() == 3


@needs_kernels
def test_a_stale_or_broken_build_falls_back_with_a_reason(monkeypatch):
    # a library without one of the expected functions (a build of another version) must not break
    # `import gbobjectives`: the loader reports it and the numpy path is used
    monkeypatch.setitem(_compiled._ARGS, "no_such_kernel", [])
    lib, reason = _compiled._load()
    assert lib is None and "cannot be used" in reason and "no_such_kernel" in reason


# ---------------------------------------------------------------------------------- public path
_PUBLIC_LOSSES = [
    gbo.WeightedLogLoss(pos_weight=2.0),
    gbo.FocalLoss(gamma=2.0, alpha=0.25),
    gbo.MulticlassFocalLoss(gamma=2.0),
]


def _public_inputs(loss, rng, n=5000):
    if loss.task == "multiclass":
        return rng.integers(0, 4, n), rng.normal(0, 4, (n, 4))
    return rng.integers(0, 2, n), rng.normal(0, 4, n)


@needs_kernels
@pytest.mark.parametrize("loss", _PUBLIC_LOSSES, ids=repr)
def test_unchecked_public_path_equals_the_checked_one(loss, monkeypatch):
    # plain numpy inputs go to the kernel without the separate checks; the result must be the
    # same bits as through the checks, with and without weights, for int, bool and float labels
    rng = np.random.default_rng(8)
    y, z = _public_inputs(loss, rng)
    w = rng.uniform(0, 3, y.size)
    label_forms = [y, y.astype(np.int32)] + ([y.astype(bool), y.astype(float)] if loss.task == "binary" else [])
    fast = [loss.gradient_hessian(yy, z, ww) for yy in label_forms for ww in (None, w)]
    calls = []
    original = type(loss)._gradient_hessian

    def checked_only(self, *args):
        calls.append(1)
        return original(self, *args)

    monkeypatch.setattr(type(loss), "_gradient_hessian", checked_only)
    monkeypatch.setattr(type(loss), "_kernel_unchecked", lambda self, *a: None)
    slow = [loss.gradient_hessian(yy, z, ww) for yy in label_forms for ww in (None, w)]
    assert len(calls) == len(slow)  # the second round really took the checked path
    for (g1, h1), (g2, h2) in zip(fast, slow):
        assert g1.tobytes() == g2.tobytes() and h1.tobytes() == h2.tobytes()


@needs_kernels
@pytest.mark.parametrize("loss", _PUBLIC_LOSSES, ids=repr)
def test_unchecked_public_path_still_rejects_bad_input(loss):
    rng = np.random.default_rng(9)
    y, z = _public_inputs(loss, rng)
    bad_z = z.copy()
    bad_z[-1] = np.nan  # (a whole row for multiclass)
    with pytest.raises(ValueError, match="raw_prediction contains"):
        loss.gradient_hessian(y, bad_z)
    bad_y = y.copy()
    bad_y[3] = 7 if loss.task == "multiclass" else 2
    with pytest.raises(ValueError, match="y_true"):
        loss.gradient_hessian(bad_y, z)
    bad_w = rng.uniform(0, 1, y.size)
    for value in (-1.0, np.nan, np.inf):
        bad_w[0] = value
        with pytest.raises(ValueError, match="sample_weight"):
            loss.gradient_hessian(y, z, bad_w)
    if loss.task == "binary":  # soft labels take the numpy formulas: linear in y
        soft = np.full(y.size, 0.25)
        g, _ = loss.gradient_hessian(soft, z)
        g0, _ = loss.gradient_hessian(np.zeros(y.size), z)
        g1, _ = loss.gradient_hessian(np.ones(y.size), z)
        np.testing.assert_allclose(g, 0.75 * g0 + 0.25 * g1, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("loss", _PUBLIC_LOSSES, ids=repr)
def test_a_subclass_that_changes_the_formulas_or_checks_is_used(loss):
    # the kernel path goes around _gradient_hessian and the checks: a user's subclass overriding
    # either must still see its own code run by the public method
    rng = np.random.default_rng(10)
    y, z = _public_inputs(loss, rng, 300)

    class Doubled(type(loss)):
        def _gradient_hessian(self, y, z, w):
            g, h = super()._gradient_hessian(y, z, w)
            return 2 * g, h

    class Strict(type(loss)):
        def _check_raw(self, raw_prediction):
            raise ValueError("strict: no raw scores today")

    params = loss.get_params() if hasattr(loss, "get_params") else {}
    g, _ = loss.gradient_hessian(y, z)
    g2, _ = Doubled(**params).gradient_hessian(y, z)
    np.testing.assert_array_equal(g2, 2 * g)
    with pytest.raises(ValueError, match="strict"):
        Strict(**params).gradient_hessian(y, z)
