"""Issue 16: MultiQuantileLoss, several quantiles from one model (raw scores (n, K)).

The generic suites (audit, fast path, reference table, init scores, bad input, properties,
pickling) run over it through ``example_losses()``; this file checks what is particular to it:
parameter checks, exact start scores against brute force (ties and weights), predictions that
never cross (and that sorting never hurts), the metrics, the monotone parametrisation's chain
rule, and training through both engines, the estimator, save/load and Dask - against XGBoost's
built-in multi-quantile model (the issue's "done when", at test size).
"""

from __future__ import annotations

import numpy as np
import pytest

import gbobjectives as gbo
from gbobjectives.engines import _common
from gbobjectives.losses.regression import weighted_quantile

TAUS = [0.1, 0.5, 0.9]
MQ = gbo.MultiQuantileLoss(TAUS)
MONO = gbo.MultiQuantileLoss(TAUS, noncrossing="monotone")


def _pinball(tau, y, q):
    r = y - q
    return float(np.mean(np.maximum(tau * r, (tau - 1.0) * r)))


def _crossing_rows(q: np.ndarray) -> int:
    return int(np.count_nonzero(np.any(np.diff(q, axis=1) < 0, axis=1)))


# ------------------------------------------------------------------------------ parameters
@pytest.mark.parametrize(
    "quantiles,error",
    [
        ([], ValueError),
        ([0.5], ValueError),  # one quantile: QuantileLoss
        ([0.5, 0.5], ValueError),
        ([0.9, 0.1], ValueError),
        ([0.0, 0.5], ValueError),
        ([0.5, 1.0], ValueError),
        ([-0.1], ValueError),
        ([0.1, float("nan")], ValueError),
        ([[0.1, 0.5]], ValueError),
        (0.5, TypeError),
        ("0.5", TypeError),
        ([0.1, "a"], TypeError),
        ([True, 0.5], TypeError),
        (None, TypeError),
    ],
)
def test_bad_quantiles_name_the_argument(quantiles, error):
    with pytest.raises(error, match="quantiles"):
        gbo.MultiQuantileLoss(quantiles)


def test_bad_settings_and_shapes_name_the_argument():
    with pytest.raises(ValueError, match="noncrossing"):
        gbo.MultiQuantileLoss(TAUS, noncrossing="isotonic")
    with pytest.raises(ValueError, match="hessian"):
        gbo.MultiQuantileLoss(TAUS, hessian="upper")
    y = np.arange(4.0)
    with pytest.raises(ValueError, match="raw_prediction"):
        MQ.loss(y, np.zeros(4))  # (n,) for three quantiles
    with pytest.raises(ValueError, match="raw_prediction"):
        MQ.gradient_hessian(y, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="y_true"):
        MQ.loss(np.zeros((4, 3)), np.zeros((4, 3)))  # one label per row, not one per quantile
    with pytest.raises(ValueError, match="y_true"):
        MQ.init_score(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="y_true"):
        MQ.loss(np.arange(3.0), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="set_params|quantiles"):
        MQ.with_params(quantiles=[0.5, 0.2])
    loss = gbo.MultiQuantileLoss(TAUS)
    with pytest.raises(ValueError, match="quantiles"):
        loss.set_params(quantiles=[0.2, 0.2])
    assert loss == MQ  # unchanged after the failed set_params


def test_parameters_names_and_registry():
    assert MQ.n_outputs == 3 and MQ.quantile_levels == (0.1, 0.5, 0.9)
    assert MQ.name == "multi_quantile(quantiles=[0.1,0.5,0.9],noncrossing=sort)"
    assert gbo.losses.find_loss_class("multiquantile") is gbo.MultiQuantileLoss
    assert gbo.losses.registry.spec_of(MQ).init_score_method == "weighted_quantile"
    assert gbo.MultiQuantileLoss(np.array([0.2, 0.7])) == gbo.MultiQuantileLoss((0.2, 0.7))


# ------------------------------------------------------------------------------ the mathematics
def test_one_quantile_is_the_quantile_loss_not_this():
    with pytest.raises(ValueError, match="QuantileLoss"):
        gbo.MultiQuantileLoss([0.3])


def test_sort_columns_are_independent_quantile_losses_with_their_own_scale():
    """ "sort": column k is QuantileLoss(tau_k) on its own, MM scale S_k included."""
    rng = np.random.default_rng(1)
    y = rng.normal(size=200)
    z = y[:, None] + rng.normal(size=(200, 3)) * np.array([0.1, 3.0, 30.0])
    w = rng.uniform(0.1, 3, size=200)
    g, h = MQ.gradient_hessian(y, z, w)
    total = np.zeros(200)
    for k, tau in enumerate(TAUS):
        r = z[:, k] - y
        np.testing.assert_array_equal(g[:, k], w * ((r >= 0) - tau))
        # h = max(tanh(x)/x, 3e-4) / (2 c S_k), x = |r| / (c S_k), c = 0.5, S_k of column k only
        S = (np.sum(w * np.sqrt(np.abs(r))) / np.sum(w)) ** 2
        x = np.abs(r) / (0.5 * S)
        np.testing.assert_allclose(h[:, k], w * np.maximum(np.tanh(x) / x, 3e-4) / (2 * 0.5 * S), rtol=1e-13)
        total += gbo.QuantileLoss(tau).loss(y, z[:, k], w)
    np.testing.assert_allclose(MQ.loss(y, z, w), total, rtol=1e-15)


def test_sorting_a_row_never_increases_its_pinball_loss():
    """The rearrangement argument of the class docstring, on random crossing rows."""
    rng = np.random.default_rng(2)
    taus = np.array([0.05, 0.2, 0.5, 0.8, 0.95])
    loss = gbo.MultiQuantileLoss(taus)
    y = rng.normal(size=5000)
    z = rng.normal(size=(5000, 5)) * 2
    raw_total = loss.loss(y, z)
    sorted_total = loss.loss(y, np.sort(z, axis=1))
    assert np.all(sorted_total <= raw_total + 1e-12)
    assert np.mean(sorted_total < raw_total - 1e-9) > 0.5  # most random rows cross and gain


def test_monotone_predictions_and_chain_rule():
    rng = np.random.default_rng(3)
    y = rng.normal(size=100)
    z = rng.normal(size=(100, 3)) * 3
    q = MONO.inverse_link(z)
    assert _crossing_rows(q) == 0
    np.testing.assert_array_equal(q[:, 0], z[:, 0])
    # differences of a cumulative sum: a few roundings of the largest |q|
    np.testing.assert_allclose(
        np.diff(q, axis=1), np.logaddexp(0.0, z[:, 1:]), rtol=0, atol=8 * np.spacing(np.abs(q).max())
    )
    # the gradient by the chain rule: suffix sums of the pinball subgradients times sigmoid(z_j)
    g, _ = MONO.with_params(hessian="constant").gradient_hessian(y, z)
    gq = (q >= y[:, None]) - np.array(TAUS)
    suffix = np.cumsum(gq[:, ::-1], axis=1)[:, ::-1]
    # (sums of +-tau terms of size <= 1: a few roundings of 1, absolutely)
    np.testing.assert_allclose(g[:, 0], suffix[:, 0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(g[:, 1:], suffix[:, 1:] / (1 + np.exp(-z[:, 1:])), rtol=1e-15, atol=1e-15)


def test_monotone_raw_scores_round_trip_and_ties():
    q = np.array([[-1.0, 0.5, 0.5, 7.0], [2.0, 2.0, 2.0, 2.0]])
    loss = gbo.MultiQuantileLoss([0.1, 0.2, 0.5, 0.9], noncrossing="monotone")
    np.testing.assert_allclose(loss.inverse_link(loss.raw_from_quantiles(q)), q, rtol=1e-15, atol=0)
    assert loss.inverse_link(loss.raw_from_quantiles(q))[1].tolist() == [2.0] * 4  # ties kept exactly
    with pytest.raises(ValueError, match="non-decreasing"):
        loss.raw_from_quantiles([1.0, 0.0, 2.0, 3.0])


@pytest.mark.parametrize("loss", [MQ, MONO], ids=["sort", "monotone"])
def test_init_score_is_the_exact_weighted_quantiles_against_brute_force(loss):
    """Every candidate constant (each label, and midpoints) is no better than the start, per
    quantile, with ties and integer/real weights; "monotone" returns the raw scores of them."""
    rng = np.random.default_rng(4)
    y = np.round(rng.standard_t(2, size=301), 1)  # ties
    for w in (None, rng.integers(0, 4, size=301).astype(float), rng.exponential(size=301)):
        ww = np.ones(301) if w is None else w
        start = loss.init_score(y, w)
        q = loss.inverse_link(start[None, :])[0]
        cands = np.unique(np.concatenate([y, (y[1:] + y[:-1]) / 2]))
        for k, tau in enumerate(TAUS):
            if loss.noncrossing == "sort":
                assert start[k] == weighted_quantile(y, ww, tau)
            else:  # through softplus and back: a few roundings of the largest quantile
                assert abs(q[k] - weighted_quantile(y, ww, tau)) <= 4 * np.spacing(np.max(np.abs(q)))
            r = y[None, :] - cands[:, None]
            totals = np.sum(ww * np.maximum(tau * r, (tau - 1) * r), axis=1)
            r0 = y - q[k]
            mine = float(np.sum(ww * np.maximum(tau * r0, (tau - 1) * r0)))
            assert mine <= totals.min() * (1 + 1e-14)


def test_metrics_per_quantile_and_coverage_by_hand():
    y = np.array([0.0, 1.0, 2.0, 10.0])
    raw = np.array([[1.0, 0.5, 2.0], [0.0, 1.0, 2.0], [3.0, 2.0, 1.0], [0.0, 1.0, 2.0]])  # row 0 and 2 cross
    q = np.sort(raw, axis=1)
    w = np.array([1.0, 2.0, 0.0, 1.0])
    per = MQ.pinball_per_quantile(y, raw, w)
    for k, tau in enumerate(TAUS):
        r = y - q[:, k]
        expected = np.sum(w * np.maximum(tau * r, (tau - 1) * r)) / np.sum(w)
        assert per[k] == pytest.approx(expected, rel=1e-15)
        m = gbo.QuantilePinball(MQ, k)
        assert m.name == f"pinball({tau:g})" and m(y, raw, w) == pytest.approx(expected, rel=1e-15)
    # y <= q_k (weights 1, 2, 0, 1): row 0 for every k, row 1 for k = 1, 2, never row 3
    np.testing.assert_allclose(MQ.coverage(y, raw, w), [1 / 4, 3 / 4, 3 / 4])
    inside = (q[:, 0] <= y) & (y <= q[:, 2])  # rows 0, 1 (row 2 has weight 0, row 3 is above)
    assert gbo.IntervalCoverage(MQ)(y, raw, w) == pytest.approx(np.sum(w * inside) / np.sum(w))
    assert gbo.IntervalCoverage(MQ)([0.0, 2.0], [[0.0, 1.0, 2.0]] * 2) == 1.0  # both ends inside
    assert gbo.IntervalCoverage(MQ, 1, 2).name == "coverage(0.5,0.9)"
    assert [m.name for m in MQ.quantile_metrics()] == [
        "pinball(0.1)",
        "pinball(0.5)",
        "pinball(0.9)",
        "coverage(0.1,0.9)",
    ]
    with pytest.raises(ValueError, match="index"):
        gbo.QuantilePinball(MQ, 3)
    with pytest.raises(ValueError, match="lower"):
        gbo.IntervalCoverage(MQ, lower=2, upper=0)
    with pytest.raises(TypeError, match="MultiQuantileLoss"):
        gbo.QuantilePinball(gbo.QuantileLoss(0.5))


def test_engine_pair_is_one_power_of_two_times_the_public_pair():
    """One factor for all columns (the same Newton steps in every column): the power of two
    nearest the geometric mean of the per-quantile scales."""
    rng = np.random.default_rng(5)
    y = rng.normal(size=500) * 1000
    z = y[:, None] + rng.normal(size=(500, 3)) * np.array([100.0, 1000.0, 10000.0])
    g, h = MQ.gradient_hessian(y, z)

    class Owner:
        pass

    ge, he = _common.gradient_hessian(MQ, z, Owner(), y, None, "test")
    assert ge.shape == (500, 3) and ge.dtype == np.float32
    scales = MQ._round_statistics(y, z, None)["scales"]
    k = 2.0 ** np.round(np.log2(np.exp(np.mean(np.log(scales)))))
    np.testing.assert_allclose(ge, (k * g).astype(np.float32), rtol=2**-23)
    np.testing.assert_allclose(he, (k * h).astype(np.float32), rtol=2**-23)
    assert len(set(np.round(np.log2(scales)).tolist())) == 3  # the three scales differ: one factor anyway


# ------------------------------------------------------------------------------ engines
ROUNDS = 150
XGB_PARAMS = {"max_depth": 4, "eta": 0.1, "nthread": 2}
LGB_PARAMS = {"num_leaves": 15, "learning_rate": 0.1, "verbose": -1, "num_threads": 2}


def _data(seed: int, n: int):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = 2 * X[:, 0] + X[:, 1] ** 2 + (1 + np.abs(X[:, 2])) * rng.standard_t(4, size=n)
    return X, y


@pytest.fixture(scope="module")
def split():
    X, y = _data(0, 4000)
    return X[:2000], y[:2000], X[2000:], y[2000:]


def _scores(q, y):
    """Held-out pinball loss per quantile and the coverage of [q_0.1, q_0.9]."""
    pinball = np.array([_pinball(t, y, q[:, k]) for k, t in enumerate(TAUS)])
    return pinball, float(np.mean((q[:, 0] <= y) & (y <= q[:, 2])))


@pytest.fixture(scope="module")
def builtin(split):
    """XGBoost's own multi-quantile model at the same settings."""
    xgb = pytest.importorskip("xgboost")
    X, y, Xt, yt = split
    params = {"objective": "reg:quantileerror", "quantile_alpha": TAUS, **XGB_PARAMS}
    bst = xgb.train(params, xgb.DMatrix(X, label=y), ROUNDS)
    return _scores(np.sort(bst.predict(xgb.DMatrix(Xt)), axis=1), yt)


@pytest.fixture(scope="module")
def builtin_lightgbm(split):
    """LightGBM has no multi-quantile objective: its built-in quantile, one model per tau."""
    lgb = pytest.importorskip("lightgbm")
    X, y, Xt, yt = split
    models = [
        lgb.train({"objective": "quantile", "alpha": t, **LGB_PARAMS}, lgb.Dataset(X, label=y), ROUNDS) for t in TAUS
    ]
    return _scores(np.sort(np.column_stack([m.predict(Xt) for m in models]), axis=1), yt)


def test_xgboost_matches_the_builtin_multi_quantile_model(split, builtin):
    """Zero crossing rows; held-out pinball per quantile <= 1.03x the built-in's, coverage of
    [q_0.1, q_0.9] within 0.03 of it, at equal rounds (benchmarks/multiquantile.py at size)."""
    xgb = pytest.importorskip("xgboost")
    X, y, Xt, yt = split
    bst = gbo.xgboost.train(MQ, XGB_PARAMS, xgb.DMatrix(X, label=y), ROUNDS, verbose_eval=False)
    raw = bst.predict(xgb.DMatrix(Xt), output_margin=True)
    assert raw.shape == (2000, 3)
    q = MQ.inverse_link(raw)
    assert _crossing_rows(q) == 0
    pinball, coverage = _scores(q, yt)
    assert np.all(pinball <= 1.03 * builtin[0]), pinball / builtin[0]
    assert abs(coverage - builtin[1]) <= 0.03, (coverage, builtin[1])
    # the start is stored as a length-K base_score, one tree per quantile and round
    import json

    cfg = json.loads(bst.save_config())["learner"]["learner_model_param"]
    assert cfg["num_target"] == "3" and bst.num_boosted_rounds() == ROUNDS
    start = [float(v) for v in cfg["base_score"].strip("[]").split(",")]
    np.testing.assert_allclose(start, MQ.init_score(y), rtol=2**-23)


def test_lightgbm_k_outputs_per_round_with_real_labels(split, builtin_lightgbm):
    """num_class=K with this custom objective takes real-valued, negative labels (no class-id
    check, measured); K trees per round; the start is folded into the first trees (the
    booster's raw scores include it). Compared with LightGBM's quantile, one model per tau."""
    lgb = pytest.importorskip("lightgbm")
    X, y, Xt, yt = split
    bst = gbo.lightgbm.train(MQ, LGB_PARAMS, lgb.Dataset(X, label=y - 20.0), ROUNDS)
    assert bst.num_trees() == ROUNDS * 3
    q = MQ.inverse_link(bst.predict(Xt, raw_score=True) + 20.0)
    assert _crossing_rows(q) == 0
    pinball, coverage = _scores(q, yt)
    assert np.all(pinball <= 1.03 * builtin_lightgbm[0]), pinball / builtin_lightgbm[0]
    assert abs(coverage - builtin_lightgbm[1]) <= 0.03, (coverage, builtin_lightgbm[1])


def test_engine_settings_must_agree_with_the_quantiles(split):
    xgb = pytest.importorskip("xgboost")
    lgb = pytest.importorskip("lightgbm")
    X, y, _, _ = split
    with pytest.raises(ValueError, match="num_target=2"):
        gbo.xgboost.train(MQ, {"num_target": 2}, xgb.DMatrix(X[:50], label=y[:50]), 1)
    with pytest.raises(ValueError, match="num_class=4"):
        gbo.lightgbm.train(MQ, {"num_class": 4, "verbose": -1}, lgb.Dataset(X[:50], label=y[:50]), 1)


@pytest.mark.parametrize("engine", ["xgboost", "lightgbm"])
def test_estimator_predicts_n_by_k_and_saves(engine, split, tmp_path):
    X, y, Xt, yt = split
    est = gbo.BoostedRegressor(loss=MONO if engine == "lightgbm" else MQ, engine=engine, n_estimators=15, n_jobs=2)
    est.fit(X[:800], y[:800], eval_set=(Xt[:300], yt[:300]))
    pred = est.predict(Xt)
    assert pred.shape == (2000, 3) and _crossing_rows(pred) == 0
    assert est.init_score_.shape == (3,)
    assert est.score(Xt, yt) == pytest.approx(-np.sum(est.loss_.pinball_per_quantile(yt, est._raw_predict(Xt))))
    path = tmp_path / "mq.json"
    est.save(path)
    again = gbo.load_model(path)
    assert again.loss_ == est.loss_
    np.testing.assert_array_equal(again.predict(Xt), pred)


def test_dask_start_scores_are_the_exact_quantiles():
    da = pytest.importorskip("dask.array")
    from gbobjectives import dask as gdask

    rng = np.random.default_rng(6)
    y = np.round(rng.standard_t(1.5, size=3001), 1)
    w = rng.integers(0, 4, size=y.size).astype(np.float64)
    for loss in (MQ, MONO):
        got = gdask.init_score(loss, da.from_array(y, chunks=500), da.from_array(w, chunks=500), sketch_size=8)
        np.testing.assert_array_equal(got, loss.init_score(y, w))


def test_plot_sums_over_the_quantiles_and_cli_arguments():
    pytest.importorskip("matplotlib")
    from gbobjectives.plotting import parse_loss_args, plot_loss

    fig = plot_loss(MQ)
    (line,) = [c for c in fig.axes[1].lines if c.get_gid() == "gradient 0"]
    x, g = line.get_data()
    # every quantile at y + r: sum_k (1[r >= 0] - tau_k) = 3 - 1.5 or -1.5
    np.testing.assert_array_equal(g, np.where(x >= 0, 1.5, -1.5))
    parsed = parse_loss_args(gbo.MultiQuantileLoss, ["--quantiles", "0.2,0.8", "--noncrossing", "monotone"])
    assert parsed == gbo.MultiQuantileLoss([0.2, 0.8], noncrossing="monotone")
    with pytest.raises(ValueError, match="quantiles"):
        parse_loss_args(gbo.MultiQuantileLoss, ["--quantiles", "0.8,0.2"])


# ------------------------------------------------------------------------------ leaf refit
def test_refit_is_the_default_for_sort_only(split):
    xgb = pytest.importorskip("xgboost")
    from gbobjectives.refit import supports_refit

    assert supports_refit(MQ) and not supports_refit(MONO)
    X, y, _, _ = split
    with pytest.raises(ValueError, match="leaf rule"):
        gbo.xgboost.train(MONO, {}, xgb.DMatrix(X[:100], label=y[:100]), 1, refit_leaves=True)


@pytest.mark.parametrize("engine", ["xgboost", "lightgbm"])
def test_refit_sets_each_output_leaf_to_its_exact_quantile(engine, split):
    """One round, learning rate 1, stumps: every leaf of output k's tree is the weighted
    tau_k-quantile (midpoint of the minimisers) of the residuals y - start_k of its rows."""
    X, y, _, _ = split
    X, y = X[:400], y[:400]
    w = np.random.default_rng(8).integers(1, 4, size=400).astype(np.float64)
    start = MQ.init_score(y, w)
    if engine == "xgboost":
        xgb = pytest.importorskip("xgboost")
        d = xgb.DMatrix(X, label=y, weight=w)
        bst = gbo.xgboost.train(MQ, {"max_depth": 1, "eta": 1.0, "nthread": 1}, d, 1, verbose_eval=False)
        raw = bst.predict(d, output_margin=True).astype(np.float64)
        leaf = bst.predict(d, pred_leaf=True).reshape(400, 3)
        tol = 4 * 2.0**-24 * np.abs(raw).max()  # float32 leaves and margins
    else:
        lgb = pytest.importorskip("lightgbm")
        params = {"num_leaves": 2, "learning_rate": 1.0, "verbose": -1, "num_threads": 1, "min_data_in_leaf": 20}
        bst = gbo.lightgbm.train(MQ, params, lgb.Dataset(X, label=y, weight=w), 1)
        raw = bst.predict(X, raw_score=True)
        leaf = bst.predict(X, pred_leaf=True).reshape(400, 3)
        tol = 1e-12 * np.abs(raw).max()
    for k, tau in enumerate(TAUS):
        for node in np.unique(leaf[:, k]):
            rows = leaf[:, k] == node
            expected = start[k] + weighted_quantile(y[rows] - start[k], w[rows], tau, tie_break="midpoint")
            np.testing.assert_allclose(raw[rows, k], expected, rtol=0, atol=tol)


@pytest.mark.parametrize("engine", ["xgboost", "lightgbm"])
def test_refit_metrics_see_the_refit_scores(engine, split):
    """The (n, K) offsets: the last evaluation on a validation set equals the loss of the
    final (refit, saved) model's raw scores on it."""
    X, y, Xt, yt = split
    X, y, Xt, yt = X[:600], y[:600], Xt[:300], yt[:300]
    if engine == "xgboost":
        xgb = pytest.importorskip("xgboost")
        dv, hist = xgb.DMatrix(Xt, label=yt), {}
        bst = gbo.xgboost.train(MQ, XGB_PARAMS, xgb.DMatrix(X, label=y), 20, evals=[(dv, "v")], evals_result=hist)
        raw = bst.predict(xgb.DMatrix(Xt), output_margin=True)
        last = hist["v"][MQ.name][-1]
        atol = 5e-7 + 1e-5 * abs(last)  # XGBoost prints the metric with six decimals; float32 margins
    else:
        lgb = pytest.importorskip("lightgbm")
        hist = {}
        bst = gbo.lightgbm.train(
            MQ,
            LGB_PARAMS,
            lgb.Dataset(X, label=y),
            20,
            valid_sets=[lgb.Dataset(Xt, label=yt)],
            callbacks=[lgb.record_evaluation(hist)],
        )
        raw = bst.predict(Xt, raw_score=True)
        last = hist["valid_0"][MQ.name][-1]
        atol = 1e-7 * abs(last)  # as tests/test_refit.py for the single-output refit
    assert np.mean(MQ.loss(yt, raw)) == pytest.approx(last, abs=atol)


def test_catboost_says_it_trains_one_output(split):
    X, y, _, _ = split
    pytest.importorskip("catboost")
    with pytest.raises(ValueError, match="3 outputs per row"):
        gbo.BoostedRegressor(loss=MQ, engine="catboost", n_estimators=2).fit(X[:100], y[:100])


def test_compare_interval_rows(split):
    """compare: a multi-quantile row and XGBoost's multi-quantile model with the same
    quantiles (none on LightGBM or CatBoost), scored by the mean pinball over the quantiles and
    the coverage of [first, last]; the chart pairs them in an interval panel."""
    from gbobjectives.compare.candidates import make_candidates
    from gbobjectives.compare.chart import _chart_rows
    from gbobjectives.compare.training import _score, compare

    X, y, _, _ = split
    cands = make_candidates("regression", y, ["multi_quantile:quantiles=0.05,0.5,0.95"])
    builtin, ours = cands[1], cands[2]
    assert builtin.label == "builtin multi_quantile([0.05,0.5,0.95])" and builtin.quantiles == (0.05, 0.5, 0.95)
    assert builtin.builtin == {"xgboost": {"objective": "reg:quantileerror", "quantile_alpha": [0.05, 0.5, 0.95]}}
    assert [builtin.runs_on(e) for e in ("xgboost", "lightgbm", "catboost")] == [True, False, False]
    assert [ours.runs_on(e) for e in ("xgboost", "lightgbm", "catboost")] == [True, True, False]
    # scores by hand: the built-in's raw rows are sorted, ours go through the loss's link
    yy = np.array([0.0, 1.5, 5.0])
    raw = np.array([[1.0, -1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 1.0, 2.0]])
    q = np.sort(raw, axis=1)
    taus = np.array([0.05, 0.5, 0.95])
    r = yy[:, None] - q
    for cand in (builtin, ours):
        got = _score("regression", yy, raw, cand, 1.0)
        assert got["pinball"] == pytest.approx(np.mean(np.maximum(taus * r, (taus - 1) * r)), rel=1e-15)
        assert got["coverage"] == pytest.approx(2 / 3)  # rows 0 and 1 inside [q_0.05, q_0.95], not 2
        assert got["interval_aim"] == pytest.approx(0.9) and np.isnan(got["rmse"])
    res = compare(X[:600], y[:600], losses=["multi_quantile"], engines=["xgboost"], rounds=10)
    pairs = _chart_rows(res, quantile=False, interval=True)
    assert [(row["loss"], ref["loss"]) for row, ref in pairs] == [
        ("builtin multi_quantile([0.1,0.5,0.9])", "builtin multi_quantile([0.1,0.5,0.9])"),
        ("multi_quantile", "builtin multi_quantile([0.1,0.5,0.9])"),
    ]
    assert all(0 < row["pinball"] < 5 and 0 <= row["coverage"] <= 1 for row, _ in pairs)
