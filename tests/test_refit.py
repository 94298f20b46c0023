"""Leaf refit (gbobjectives.refit): leaf values, no stale scores, never worse than without.

Small models only (a few hundred rows, shallow trees, 2 threads); no timing assertions.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import gbobjectives as gbo
from gbobjectives.losses.regression import weighted_quantile
from gbobjectives.refit import leaf_values, supports_refit

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

LR = 0.3


def _data(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = 20 * X[:, 0] + 5 * X[:, 1] ** 2 + 10 * rng.standard_t(2, size=n)
    w = rng.uniform(0.2, 3.0, size=n)
    return X, y, w


class _Recording(gbo.QuantileLoss):
    """A QuantileLoss that records the raw scores its gradient sees (what training used)."""

    seen: list[np.ndarray] = []

    def _gradient_hessian(self, y, z, w):
        _Recording.seen.append(np.array(z, dtype=np.float64))
        return super()._gradient_hessian(y, z, w)


def _xgb_params() -> dict:
    return {"max_depth": 3, "eta": LR, "nthread": 2, "tree_method": "hist", "seed": 0}


def _lgb_params() -> dict:
    return {"num_leaves": 8, "learning_rate": LR, "num_threads": 2, "verbose": -1, "min_data_in_leaf": 10}


def _xgb_leaf_table(booster, t: int) -> np.ndarray:
    tree = json.loads(booster[t : t + 1].save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"][0]
    return np.asarray(tree["split_conditions"], dtype=np.float64)


def test_supports_refit_and_leaf_rules() -> None:
    assert supports_refit(gbo.QuantileLoss(0.9)) and supports_refit(gbo.HuberLoss())
    assert not supports_refit(gbo.PseudoHuberLoss()) and not supports_refit(gbo.LogCoshLoss())
    r, w = np.array([5.0, -1.0, 2.0, 9.0]), np.array([1.0, 1.0, 3.0, 1.0])
    assert gbo.QuantileLoss(0.5).leaf_value(r, w) == weighted_quantile(r, w, 0.5) == 2.0
    # Huber: the leaf value is the best constant (checked against a fine grid)
    h = gbo.HuberLoss(delta=1.5)
    c = h.leaf_value(r, w)
    grid = np.linspace(-2, 10, 24001)
    best = grid[np.argmin([np.dot(w, h.loss(r, np.full(4, g))) for g in grid])]
    assert abs(c - best) < 1e-3
    ids, v = leaf_values(gbo.QuantileLoss(0.5), np.array([7, 2, 7, 2]), r, w, 0.5)
    assert ids.tolist() == [2, 7] and np.allclose(v, [0.5 * -1.0, 0.5 * 2.0])


@pytest.mark.parametrize("tau", [0.5, 0.9])
def test_xgboost_leaves_are_lr_times_weighted_quantile(tau: float) -> None:
    X, y, w = _data()
    d = xgb.DMatrix(X, label=y, weight=w)
    b = gbo.xgboost.train(gbo.QuantileLoss(tau), _xgb_params(), d, 3, verbose_eval=False)
    for t in range(3):
        # score before tree t; before tree 0 it is the start, stored as base_score
        before = b[:t].predict(d, output_margin=True) if t else np.full(len(y), gbo.QuantileLoss(tau).init_score(y, w))
        leaf = b[t : t + 1].predict(d, pred_leaf=True).astype(int)
        table = _xgb_leaf_table(b, t)
        for L in np.unique(leaf):
            m = leaf == L
            expect = LR * weighted_quantile(y[m] - before[m], w[m], tau)
            assert table[L] == pytest.approx(expect, rel=1e-5, abs=1e-4)


@pytest.mark.parametrize("tau", [0.5, 0.9])
def test_lightgbm_leaves_are_lr_times_weighted_quantile(tau: float) -> None:
    X, y, w = _data()
    start = gbo.QuantileLoss(tau).init_score(y, w)
    b = gbo.lightgbm.train(gbo.QuantileLoss(tau), _lgb_params(), lgb.Dataset(X, label=y, weight=w), 3)
    for t in range(3):
        # the start is folded into tree 0's leaves after training
        before = b.predict(X, raw_score=True, num_iteration=t) if t else np.full(len(y), start)
        fold = start if t == 0 else 0.0
        leaf = b.predict(X, pred_leaf=True, start_iteration=t, num_iteration=1).ravel()
        for L in np.unique(leaf):
            m = leaf == L
            expect = LR * weighted_quantile(y[m] - before[m], w[m], tau)
            assert b.get_leaf_output(t, int(L)) - fold == pytest.approx(expect, rel=1e-9, abs=1e-9)


def test_xgboost_no_stale_scores() -> None:
    X, y, w = _data()
    Xv, yv, _ = _data(300, seed=1)
    d, dv = xgb.DMatrix(X, label=y, weight=w), xgb.DMatrix(Xv, label=yv)
    _Recording.seen = []
    res: dict = {}
    loss = _Recording(0.9)
    b = gbo.xgboost.train(loss, _xgb_params(), d, 6, evals=[(dv, "valid")], evals_result=res, verbose_eval=False)
    assert len(_Recording.seen) == 6
    for k in range(1, 6):  # the objective of round k saw start + k refit trees
        np.testing.assert_allclose(_Recording.seen[k], b[:k].predict(d, output_margin=True), rtol=1e-5, atol=1e-3)
    final = b.predict(dv, output_margin=True)
    assert res["valid"][loss.name][-1] == pytest.approx(float(np.mean(loss.loss(yv, final))), rel=1e-5)


def test_lightgbm_no_stale_scores() -> None:
    X, y, w = _data()
    Xv, yv, _ = _data(300, seed=1)
    ds = lgb.Dataset(X, label=y, weight=w)
    dv = lgb.Dataset(Xv, label=yv, reference=ds)
    _Recording.seen = []
    res: dict = {}
    loss = _Recording(0.9)
    b = gbo.lightgbm.train(
        loss, _lgb_params(), ds, 6, valid_sets=[dv], valid_names=["valid"],
        callbacks=[lgb.record_evaluation(res)],
    )
    assert len(_Recording.seen) == 6
    for k in range(1, 6):
        expect = b.predict(X, raw_score=True, num_iteration=k)
        np.testing.assert_allclose(_Recording.seen[k], expect, rtol=1e-12, atol=1e-9)
    final = b.predict(Xv, raw_score=True)
    metric = next(iter(res["valid"]))
    assert res["valid"][metric][-1] == pytest.approx(float(np.mean(loss.loss(yv, final))), rel=1e-7)


@pytest.mark.parametrize("engine", ["xgboost", "lightgbm"])
@pytest.mark.parametrize("loss", [gbo.QuantileLoss(0.9), gbo.QuantileLoss(0.5), gbo.HuberLoss(delta=5.0)])
def test_refit_never_worse(engine: str, loss) -> None:
    X, y, _ = _data(1500, seed=3)
    Xv, yv, _ = _data(1500, seed=4)
    out = {}
    for refit in (False, True):
        if engine == "xgboost":
            b = gbo.xgboost.train(loss, _xgb_params(), xgb.DMatrix(X, label=y), 30, verbose_eval=False,
                                  refit_leaves=refit)
            p = b.predict(xgb.DMatrix(Xv), output_margin=True)
        else:
            b = gbo.lightgbm.train(loss, _lgb_params(), lgb.Dataset(X, label=y), 30, refit_leaves=refit)
            p = b.predict(Xv, raw_score=True)
        out[refit] = float(np.mean(loss.loss(yv, p)))
    assert out[True] <= out[False]


def test_default_is_off_without_leaf_rule_and_lightgbm_needs_raw_data() -> None:
    X, y, _ = _data()
    # PseudoHuberLoss declares no leaf rule: refit_leaves defaults to off (and would raise)
    gbo.lightgbm.train(gbo.PseudoHuberLoss(), _lgb_params(), lgb.Dataset(X, label=y), 2)
    with pytest.raises(ValueError, match="leaf rule"):
        gbo.xgboost.train(gbo.PseudoHuberLoss(), _xgb_params(), xgb.DMatrix(X, label=y), 2, refit_leaves=True)
    ds = lgb.Dataset(X, label=y, params={"verbose": -1}).construct()  # raw data freed
    with pytest.raises(ValueError, match="raw features"):
        gbo.lightgbm.train(gbo.QuantileLoss(), _lgb_params(), ds, 2)
