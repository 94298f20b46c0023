"""Leaf refit (gbobjectives.refit): leaf rules, leaf values, no stale scores, never worse than without.

Small models only (a few hundred rows, shallow trees, 2 threads); no timing assertions. The
leaf rules are checked against independent oracles: exact rational arithmetic (quantile),
``np.median``, the engines' own built-in objectives, and the scalar Huber solver the batched
one replaced (kept here as the reference).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
from _engine_data import xgb_history

import gbobjectives as gbo
from gbobjectives import _compiled_leaves
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
    """A QuantileLoss that records the raw scores the engine adapter hands it each round (what
    training used): the adapters call ``_round_statistics`` once per round with all rows."""

    seen: list[np.ndarray] = []

    def _round_statistics(self, y, z, w, reduce=None):
        _Recording.seen.append(np.array(z, dtype=np.float64))
        return super()._round_statistics(y, z, w, reduce)


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
    # leaf 2 holds {-1, 9} with equal weights: every c in [-1, 9] is a median, the rule takes 4
    ids, v = leaf_values(gbo.QuantileLoss(0.5), np.array([7, 2, 7, 2]), r, w, 0.5)
    assert ids.tolist() == [2, 7] and np.allclose(v, [0.5 * 4.0, 0.5 * 2.0])


def _lower_differs_from_midpoint(r: np.ndarray, w: np.ndarray, tau: float) -> bool:
    return weighted_quantile(r, w, tau) != weighted_quantile(r, w, tau, tie_break="midpoint")


@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("tau", [0.5, 0.9])
def test_xgboost_leaves_are_lr_times_weighted_quantile(tau: float, weighted: bool) -> None:
    X, y, w = _data()
    if not weighted:
        w = np.ones_like(y)  # even-sized leaves have two medians: the midpoint is checked
    d = xgb.DMatrix(X, label=y, weight=w if weighted else None)
    ties = 0
    b = gbo.xgboost.train(gbo.QuantileLoss(tau), _xgb_params(), d, 3, verbose_eval=False)
    for t in range(3):
        # score before tree t; before tree 0 it is the start, stored as base_score
        before = b[:t].predict(d, output_margin=True) if t else np.full(len(y), gbo.QuantileLoss(tau).init_score(y, w))
        leaf = b[t : t + 1].predict(d, pred_leaf=True).astype(int)
        table = _xgb_leaf_table(b, t)
        for L in np.unique(leaf):
            m = leaf == L
            expect = LR * weighted_quantile(y[m] - before[m], w[m], tau, tie_break="midpoint")
            assert table[L] == pytest.approx(expect, rel=1e-5, abs=1e-4)
            ties += _lower_differs_from_midpoint(y[m] - before[m], w[m], tau)
    assert weighted or tau != 0.5 or ties > 0  # unit weights, tau = 0.5: the rule was exercised


@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("tau", [0.5, 0.9])
def test_lightgbm_leaves_are_lr_times_weighted_quantile(tau: float, weighted: bool) -> None:
    X, y, w = _data()
    if not weighted:
        w = np.ones_like(y)
    start = gbo.QuantileLoss(tau).init_score(y, w)
    ds = lgb.Dataset(X, label=y, weight=w if weighted else None)
    b = gbo.lightgbm.train(gbo.QuantileLoss(tau), _lgb_params(), ds, 3)
    ties = 0
    for t in range(3):
        # the start is folded into tree 0's leaves after training
        before = b.predict(X, raw_score=True, num_iteration=t) if t else np.full(len(y), start)
        fold = start if t == 0 else 0.0
        leaf = b.predict(X, pred_leaf=True, start_iteration=t, num_iteration=1).ravel()
        for L in np.unique(leaf):
            m = leaf == L
            expect = LR * weighted_quantile(y[m] - before[m], w[m], tau, tie_break="midpoint")
            assert b.get_leaf_output(t, int(L)) - fold == pytest.approx(expect, rel=1e-9, abs=1e-9)
            ties += _lower_differs_from_midpoint(y[m] - before[m], w[m], tau)
    assert weighted or tau != 0.5 or ties > 0


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
    assert res["valid"][loss.name][-1] == xgb_history(float(np.mean(loss.loss(yv, final))))


def test_lightgbm_no_stale_scores() -> None:
    X, y, w = _data()
    Xv, yv, _ = _data(300, seed=1)
    ds = lgb.Dataset(X, label=y, weight=w)
    dv = lgb.Dataset(Xv, label=yv, reference=ds)
    _Recording.seen = []
    res: dict = {}
    loss = _Recording(0.9)
    b = gbo.lightgbm.train(
        loss,
        _lgb_params(),
        ds,
        6,
        valid_sets=[dv],
        valid_names=["valid"],
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
# the unit Hessian, whose trees the built-ins grow: the refit mechanism against no refit on the
# same structure (with the default MM curvature, MM alone vs refit is measured in benchmarks/refit.py)
@pytest.mark.parametrize(
    "loss",
    [
        gbo.QuantileLoss(0.9, hessian="constant"),
        gbo.QuantileLoss(0.5, hessian="constant"),
        gbo.HuberLoss(delta=5.0, hessian="constant"),
    ],
)
def test_refit_never_worse(engine: str, loss) -> None:
    X, y, _ = _data(1500, seed=3)
    Xv, yv, _ = _data(1500, seed=4)
    out = {}
    for refit in (False, True):
        if engine == "xgboost":
            b = gbo.xgboost.train(
                loss, _xgb_params(), xgb.DMatrix(X, label=y), 30, verbose_eval=False, refit_leaves=refit
            )
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


# ---------------------------------------------------------------------------- the quantile rule
def _exact_pinball(y: np.ndarray, w: np.ndarray, tau: float) -> tuple[Fraction, Fraction, Callable]:
    """[smallest, largest] minimiser of sum w * rho_tau(y - c) in exact rational arithmetic, and
    the loss itself (exact, on rationals).

    The loss is convex and piecewise linear with kinks at the data, so its minimisers form an
    interval whose ends are data points: scanning the data points finds both ends.
    """
    t = Fraction(tau)
    pts = [(Fraction(float(a)), Fraction(float(b))) for a, b in zip(y, w)]

    def loss(c: Fraction) -> Fraction:
        return sum((wi * max(t * (yi - c), (t - 1) * (yi - c)) for yi, wi in pts), Fraction(0))

    values = {yi: loss(yi) for yi, _ in pts}
    best = min(values.values())
    arg = [c for c, v in values.items() if v == best]
    return min(arg), max(arg), loss


@pytest.mark.parametrize("tau", [0.5, 0.25, 0.75, 0.125])
def test_weighted_quantile_rules_are_the_ends_and_middle_of_the_exact_minimisers(tau: float) -> None:
    # integer weights (zeros included), tied integer labels and a dyadic tau keep every sum and
    # tau * W exact in floating point, so the rational oracle must be matched exactly
    rng = np.random.default_rng(5)
    seen_interval = 0
    for _ in range(300):
        n = int(rng.integers(1, 13))
        y = rng.integers(-4, 5, n).astype(np.float64)
        w = rng.integers(0, 4, n).astype(np.float64)
        if w.sum() == 0:
            continue
        lo, hi, _ = _exact_pinball(y, w, tau)
        assert weighted_quantile(y, w, tau) == float(lo)
        assert weighted_quantile(y, w, tau, tie_break="midpoint") == float((lo + hi) / 2)
        assert gbo.QuantileLoss(tau).leaf_value(y, w) == float((lo + hi) / 2)
        assert gbo.QuantileLoss(tau).init_score(y, w) == float(lo)  # the start keeps the lowest one
        seen_interval += lo != hi
    assert seen_interval >= 5  # non-unique minimisers were exercised


@pytest.mark.parametrize("tau", [0.9, 0.1, 0.3])
def test_quantile_leaf_value_minimises_pinball_for_any_tau(tau: float) -> None:
    # tau * W is rounded here: when it is within rounding of a cumulative weight the neighbouring
    # order statistic may be chosen, which minimises up to that rounding (documented)
    rng = np.random.default_rng(6)
    for _ in range(200):
        n = int(rng.integers(1, 15))
        y = np.round(rng.normal(0, 3, n), 1)
        w = rng.integers(1, 4, n).astype(np.float64)
        c = gbo.QuantileLoss(tau).leaf_value(y, w)
        lo, _, loss = _exact_pinball(y, w, tau)
        excess = loss(Fraction(c)) - loss(lo)
        assert 0 <= excess <= 1e-14 * float(np.sum(w * (np.abs(y) + 1)))


def test_quantile_leaf_value_without_weights_is_the_median() -> None:
    rng = np.random.default_rng(7)
    for n in range(1, 30):
        r = rng.standard_t(2, n) * 20
        assert gbo.QuantileLoss(0.5).leaf_value(r, np.ones(n)) == np.median(r)


def test_weighted_quantile_rejects_an_unknown_tie_break() -> None:
    with pytest.raises(ValueError, match="tie_break"):
        weighted_quantile(np.ones(3), np.ones(3), 0.5, tie_break="upper")


def _float32_exact_data(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    # labels exactly representable in float32, the engines' label type: both sides see equal labels
    X, y, _ = _data(n, seed)
    return X, y.astype(np.float32).astype(np.float64)


def test_lightgbm_builtin_quantile_median_is_reproduced() -> None:
    """Without weights, LightGBM's own objective="quantile", alpha=0.5 (RenewTreeOutput, then
    shrinkage) and our refit give the same model from the same start, tree after tree."""
    X, y = _float32_exact_data()
    loss = gbo.QuantileLoss(0.5, hessian="constant")
    start = loss.init_score(y)
    params = {**_lgb_params(), "deterministic": True}
    ours = gbo.lightgbm.train(loss, params, lgb.Dataset(X, label=y), 4)
    builtin = lgb.train(
        {**params, "objective": "quantile", "alpha": 0.5}, lgb.Dataset(X, label=y, init_score=np.full(len(y), start)), 4
    )
    for t in range(4):
        same = ours.predict(X, pred_leaf=True, start_iteration=t, num_iteration=1)
        np.testing.assert_array_equal(same, builtin.predict(X, pred_leaf=True, start_iteration=t, num_iteration=1))
    # measured 4e-15: only the rounding of the two percentile formulas differs
    np.testing.assert_allclose(ours.predict(X, raw_score=True), builtin.predict(X, raw_score=True) + start, rtol=1e-12)


def test_xgboost_builtin_quantile_median_is_reproduced_for_a_tree() -> None:
    """XGBoost's reg:quantileerror, quantile_alpha=0.5 (adaptive tree) and our refit: the same
    first tree from the same start (later trees can differ through float32 scores)."""
    X, y = _float32_exact_data()
    loss = gbo.QuantileLoss(0.5, hessian="constant")
    d = xgb.DMatrix(X, label=y)
    ours = gbo.xgboost.train(loss, _xgb_params(), d, 1, verbose_eval=False)
    params = {
        **_xgb_params(),
        "objective": "reg:quantileerror",
        "quantile_alpha": 0.5,
        "base_score": loss.init_score(y),
    }
    builtin = xgb.train(params, d, 1)
    np.testing.assert_array_equal(ours.predict(d, pred_leaf=True), builtin.predict(d, pred_leaf=True))
    # leaves are float32 in XGBoost, computed in float32 by the built-in and in float64 by us
    np.testing.assert_allclose(_xgb_leaf_table(ours, 0), _xgb_leaf_table(builtin, 0), rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------- the Huber rule
def _reference_huber_root(y: np.ndarray, w: np.ndarray, d: float) -> float:
    """The scalar solver HuberLoss used before the batched one (kept as the reference): bisection
    over np.unique of the breakpoints y -+ d, then the bracketing linear piece solved exactly."""

    def G(c: float) -> float:
        return float(np.dot(w, np.clip(c - y, -d, d)))

    b = np.unique(np.concatenate([y - d, y + d]))
    lo, hi = 0, len(b) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if G(b[mid]) <= 0:
            lo = mid
        else:
            hi = mid
    g_lo, g_hi = G(b[lo]), G(b[hi])
    if g_lo == 0:
        return float(b[lo])
    return float(b[lo] + (0.0 - g_lo) * (b[hi] - b[lo]) / (g_hi - g_lo))


def _random_groups(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float]:
    n_groups = int(rng.integers(1, 30))
    n = int(rng.integers(1, 1500))
    groups = rng.integers(0, n_groups, n)
    r = np.round(rng.standard_t(2, n) * 20, int(rng.integers(0, 3)))  # rounded: many tied residuals
    w = rng.uniform(0.01, 5.0, n) * (rng.random(n) > 0.1)  # some zero weights, a few zero-weight groups
    delta = float(rng.choice([0.01, 1.0, 20.0, 500.0]))
    return r, w, groups, n_groups, delta


@pytest.mark.parametrize("newton_steps", [40, 1, 0], ids=["newton", "newton-then-sorting", "sorting"])
def test_huber_leaf_values_match_the_reference_scalar_solver(newton_steps, monkeypatch) -> None:
    # continuous weights: the root is unique (a flat zero stretch of G needs an exact balance of
    # weights), so both solvers must agree up to the summation order of G. The batched solver
    # takes Newton steps, then hands the groups still open to the sorting solver: both paths
    # (and their mix) are checked
    from gbobjectives.losses import _solvers

    monkeypatch.setattr(_solvers, "_HUBER_NEWTON_STEPS", newton_steps)
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(150):
        r, w, groups, n_groups, delta = _random_groups(rng)
        loss = gbo.HuberLoss(delta=delta)
        got = loss.leaf_values(r, w, groups, n_groups)
        for g in range(n_groups):
            m = groups == g
            if not np.sum(w[m]) > 0:
                assert np.isnan(got[g])  # no rows or zero weight: no best constant
                continue
            ref = _reference_huber_root(r[m], w[m], delta)
            scale = np.max(np.abs(r[m])) + delta
            assert abs(got[g] - ref) <= 1e-12 * scale, (g, got[g], ref)
            # bit-identical to the per-leaf rule: each group is summed in the same order
            assert loss.leaf_value(r[m], w[m]) == got[g]
            # and a root of G, checked directly: G changes sign around it
            eps = 1e-9 * scale
            G = [np.dot(w[m], np.clip(c - r[m], -delta, delta)) for c in (got[g] - eps, got[g] + eps)]
            assert G[0] <= 0 <= G[1]
            checked += 1
    assert checked > 500


def test_huber_flat_stretch_of_roots() -> None:
    # w = 1 at -5 and +5, delta 1: G = 0 on all of [-4, 4] and every point there is a best constant
    loss = gbo.HuberLoss(delta=1.0)
    c = loss.leaf_values(np.array([-5.0, 5.0, 0.0]), np.array([1.0, 1.0, 2.0]), np.array([0, 0, 1]), 2)
    assert -4.0 <= c[0] <= 4.0 and c[1] == 0.0
    assert c[0] == loss.leaf_value(np.array([-5.0, 5.0]), np.ones(2))


def test_refit_leaf_values_batched_and_per_leaf_paths_agree() -> None:
    class PerLeafHuber:
        """Declares only the per-leaf rule: refit.leaf_values loops over leaves."""

        task = "regression"

        def __init__(self, delta: float) -> None:
            self.inner = gbo.HuberLoss(delta=delta)

        def leaf_value(self, residuals: np.ndarray, weights: np.ndarray) -> float:
            return self.inner.leaf_value(residuals, weights)

    rng = np.random.default_rng(12)
    for _ in range(20):
        r, w, groups, n_groups, delta = _random_groups(rng)
        leaf = 2 * groups + 3  # sparse node ids, as XGBoost's pred_leaf gives
        ids_b, v_b = leaf_values(gbo.HuberLoss(delta=delta), leaf, r, w, 0.3)
        ids_l, v_l = leaf_values(PerLeafHuber(delta), leaf, r, w, 0.3)
        np.testing.assert_array_equal(ids_b, ids_l)
        np.testing.assert_array_equal(ids_b, np.unique(leaf))
        np.testing.assert_array_equal(v_b, v_l)  # NaN (zero-weight leaf) in the same places


@pytest.mark.parametrize("tie_break", ["lower", "midpoint"])
def test_unit_weight_selection_equals_the_sorting_rule(monkeypatch, tie_break: str) -> None:
    # unit weights above _SELECT_MIN rows take np.partition instead of a sort: the same order
    # statistics, so the same bits, for every tau (0, 1, dyadic, tiny) and with many ties
    from gbobjectives.losses import _solvers

    rng = np.random.default_rng(5)
    for trial in range(200):
        n = int(rng.integers(1025, 5000))
        y = rng.normal(size=n) if trial % 2 else rng.integers(0, 4, n).astype(float)
        for tau in (0.0, 1e-12, 0.1, 0.25, 1 / 3, 0.5, 0.9, 1 - 1e-16, 1.0, float(rng.random())):
            fast = weighted_quantile(y, np.ones(n), tau, tie_break)
            monkeypatch.setattr(_solvers, "_SELECT_MIN", 10**9)
            slow = weighted_quantile(y, np.ones(n), tau, tie_break)
            monkeypatch.undo()
            assert fast == slow, (n, tau)


def test_stable_order_per_group_and_global_sorts_agree(monkeypatch) -> None:
    # the two ways of sorting rows by (group, residual) - each group on its own (few groups) or one
    # global sort (many groups) - must give the same permutation, ties kept in row order
    from gbobjectives.losses import _solvers

    rng = np.random.default_rng(13)
    for _ in range(60):
        r, _, groups, n_groups, _ = _random_groups(rng)  # rounded residuals: many ties
        counts = np.bincount(groups, minlength=n_groups)
        per_group = _solvers._stable_order(r, groups, counts)
        monkeypatch.setattr(_solvers, "_PER_GROUP_SORT_MAX", 0)
        whole = _solvers._stable_order(r, groups, counts)
        monkeypatch.undo()
        np.testing.assert_array_equal(per_group, whole)
        expected = np.lexsort((np.arange(len(r)), r, groups))  # by group, then r, then row
        np.testing.assert_array_equal(per_group, expected)


# ---------------------------------------------------- leaves read off the change of the scores
def test_leaf_from_score_change_is_exact_or_declines() -> None:
    from gbobjectives.refit import leaf_from_score_change

    values, ids = np.array([0.25, -1.5, 3.0]), np.array([7, 9, 11])
    leaf = np.array([2, 0, 1, 1, 2])
    before = np.array([100.0, -3.0, 0.0, 7.5, 1e3])
    after = before + values[leaf]
    eps = 2.0**-53
    assert leaf_from_score_change(before, after, after, ids, values, eps).tolist() == ids[leaf].tolist()
    # float32 engine: rounded updates are still matched within the bound
    after32 = (before.astype(np.float32) + values[leaf].astype(np.float32)).astype(np.float64)
    b32 = before.astype(np.float32).astype(np.float64)
    assert leaf_from_score_change(b32, after32, after32, ids, values, 2.0**-24).tolist() == ids[leaf].tolist()
    # declines: two leaves within rounding of each other, a NaN, a change matching no leaf
    tied = np.array([0.25, 0.25 + 1e-14, 3.0])
    assert leaf_from_score_change(before, before + tied[leaf], before + tied[leaf], ids, tied, eps) is None
    bad = after.copy()
    bad[1] = np.nan
    assert leaf_from_score_change(before, bad, bad, ids, values, eps) is None
    off = after.copy()
    off[3] += 0.01
    assert leaf_from_score_change(before, off, off, ids, values, eps) is None


@pytest.mark.parametrize("engine", ["xgboost", "lightgbm"])
@pytest.mark.parametrize("loss", [gbo.QuantileLoss(0.8), gbo.HuberLoss(delta=5.0)], ids=str)
def test_refit_reads_leaves_off_scores_with_the_same_model(engine, loss, monkeypatch) -> None:
    """Leaf refit gives the bit-identical model whether each training row's leaf is read off
    the change of the engine's cached scores or found by traversing the tree, and the first
    way is taken every round (with validation data and weights, whose leaves are traversed)."""
    from gbobjectives.engines.lightgbm import LightGBMLeafRefit
    from gbobjectives.engines.xgboost import XGBoostLeafRefit

    X, y, w = _data(n=600)
    Xv, yv, wv = _data(n=200, seed=1)
    cls = XGBoostLeafRefit if engine == "xgboost" else LightGBMLeafRefit
    made: list = []
    init = cls.__init__

    def recording_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(cls, "__init__", recording_init)

    def fit() -> np.ndarray:
        if engine == "xgboost":
            dv = xgb.DMatrix(Xv, label=yv, weight=wv)
            b = gbo.xgboost.train(loss, _xgb_params(), xgb.DMatrix(X, label=y, weight=w), 8, evals=[(dv, "v")])
            return b.predict(xgb.DMatrix(Xv), output_margin=True)
        ds = lgb.Dataset(X, label=y, weight=w)
        dv = lgb.Dataset(Xv, label=yv, weight=wv, reference=ds)
        b = gbo.lightgbm.train(loss, _lgb_params(), ds, 8, valid_sets=[dv])
        return b.predict(Xv, raw_score=True)

    handed: dict[str, list] = {}
    buffer = cls._buffer

    def recording_buffer(self, name, *args, **kwargs):
        out = buffer(self, name, *args, **kwargs)
        handed.setdefault(name, []).append(out)  # held: a new array cannot reuse an old one's id
        return out

    monkeypatch.setattr(cls, "_buffer", recording_buffer)
    monkeypatch.setattr(cls, "_SCORES_MIN_ROWS", 0)
    by_scores = fit()
    assert made[-1].leaf_lookups == {"scores": 8, "traversal": 0}
    # the per-round arrays over the training rows are made once and kept (no fresh memory a round)
    compiled = {"leaf", "residual"}  # the compiled lookup's outputs; numpy's gather needs scratch
    assert set(handed) == {"scores", "engine scores"} | (compiled if _compiled_leaves.available() else {"gathered"})
    assert all(len(a) >= 8 and all(b is a[0] for b in a) for a in handed.values())
    monkeypatch.setattr(cls, "_SCORES_MIN_ROWS", 10**12)
    by_traversal = fit()
    assert made[-1].leaf_lookups == {"scores": 0, "traversal": 8}
    np.testing.assert_array_equal(by_scores, by_traversal)
