"""LightGBM native API: adapters, the folded start score and every trap of docs/engines.md."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

lgb = pytest.importorskip("lightgbm")

from _engine_data import (  # noqa: E402
    binary,
    integer_data,
    multiclass,
    regression,
    weighted_mean_loss,
    weights,
)

import gbobjectives as gbo  # noqa: E402

PARAMS = {"num_leaves": 8, "learning_rate": 0.3, "num_threads": 1, "verbose": -1, "deterministic": True}
ROUNDS = 20


# ------------------------------------------------------------------ equal to the built-in objective
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case", ["logloss", "softmax", "huber"])
def test_custom_loss_matches_builtin_objective(case, weighted):
    if case == "logloss":
        X, y = binary()
        loss, builtin = gbo.WeightedLogLoss(), {"objective": "binary"}
    elif case == "softmax":
        X, y = multiclass()
        loss, builtin = gbo.MulticlassFocalLoss(gamma=0.0), {"objective": "multiclass", "num_class": 3}
    else:
        X, y = regression()
        loss, builtin = gbo.HuberLoss(delta=1.0), {"objective": "huber", "alpha": 1.0}
    w = weights(len(y)) if weighted else None
    ours = gbo.lightgbm.train(loss, PARAMS, lgb.Dataset(X, label=y, weight=w), ROUNDS)
    ref = lgb.train({**PARAMS, **builtin}, lgb.Dataset(X, label=y, weight=w), ROUNDS)
    ratio = weighted_mean_loss(loss, y, ours.predict(X, raw_score=True), w) / weighted_mean_loss(
        loss, y, ref.predict(X, raw_score=True), w
    )
    print(f"LightGBM {case} weighted={weighted}: custom/built-in training loss = {ratio:.6f}")
    assert ratio <= 1.01


# ------------------------------------------------------------------ the start is folded into the trees
@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_booster_is_self_contained(kind, tmp_path):
    if kind == "binary":
        X, y = binary()
        loss = gbo.FocalLoss(gamma=2.0, alpha=0.25)
    elif kind == "multiclass":
        X, y = multiclass()
        loss = gbo.MulticlassFocalLoss(gamma=2.0, alpha=[1.0, 2.0, 0.5])
    else:
        X, y = regression()
        loss = gbo.HuberLoss(delta=2.0)
    w = weights(len(y))
    start = loss.init_score(y, w)
    ds = lgb.Dataset(X, label=y, weight=w, free_raw_data=False)
    # refit_leaves=False: compared with the plain objective trained by hand (refit: tests/test_refit.py)
    bst = gbo.lightgbm.train(loss, PARAMS, ds, 8, refit_leaves=False)
    got = bst.predict(X, raw_score=True)

    # the same model by hand: Dataset(init_score=start), then add the start to the predictions
    n = len(y)
    init = np.tile(start, (n, 1)) if np.ndim(start) else np.full(n, start)
    params = {**PARAMS, "objective": loss.lightgbm_objective, "metric": "None"}
    if kind == "multiclass":
        params["num_class"] = 3
    manual = lgb.train(params, lgb.Dataset(X, label=y, weight=w, init_score=init), 8)
    np.testing.assert_allclose(got, manual.predict(X, raw_score=True) + init, rtol=1e-10, atol=1e-10)
    assert bst.num_trees() == manual.num_trees()  # folded, not an extra tree

    # the Dataset is left as it was: no init_score
    assert ds.get_init_score() is None

    # the start survives model_to_string, save/load and pickling
    np.testing.assert_allclose(lgb.Booster(model_str=bst.model_to_string()).predict(X, raw_score=True), got)
    path = tmp_path / "model.txt"
    bst.save_model(path)
    np.testing.assert_allclose(lgb.Booster(model_file=path).predict(X, raw_score=True), got)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(bst)).predict(X, raw_score=True), got)


def test_valid_sets_see_the_start_and_training_metric_matches_predictions():
    X, y = binary()
    Xv, yv = binary(seed=3)
    w = weights(len(y))
    loss = gbo.FocalLoss(gamma=2.0)
    dtr = lgb.Dataset(X, label=y, weight=w)
    dva = lgb.Dataset(Xv, label=yv, reference=dtr)
    res: dict = {}
    bst = gbo.lightgbm.train(
        loss,
        PARAMS,
        dtr,
        6,
        valid_sets=[dtr, dva],
        valid_names=["train", "valid"],
        callbacks=[lgb.record_evaluation(res)],
    )
    assert list(res["valid"]) == [loss.name]  # default metric = the loss's; nothing built-in
    assert res["train"][loss.name][-1] == pytest.approx(
        weighted_mean_loss(loss, y, bst.predict(X, raw_score=True), w), rel=1e-9
    )
    assert res["valid"][loss.name][-1] == pytest.approx(
        weighted_mean_loss(loss, yv, bst.predict(Xv, raw_score=True)), rel=1e-9
    )
    assert dva.get_init_score() is None and dtr.get_init_score() is None
    # the datasets can be reused: a second training gives the same model
    bst2 = gbo.lightgbm.train(loss, PARAMS, dtr, 6, valid_sets=[dva])
    np.testing.assert_allclose(bst2.predict(X, raw_score=True), bst.predict(X, raw_score=True))


def test_user_init_score_is_respected_and_not_folded():
    X, y = binary(n=400)
    loss = gbo.WeightedLogLoss()
    init = np.full(len(y), 0.7)
    bst = gbo.lightgbm.train(loss, PARAMS, lgb.Dataset(X, label=y, init_score=init), 5)
    manual = lgb.train(
        {**PARAMS, "objective": loss.lightgbm_objective, "metric": "None"},
        lgb.Dataset(X, label=y, init_score=init),
        5,
    )
    np.testing.assert_allclose(bst.predict(X, raw_score=True), manual.predict(X, raw_score=True))


# ------------------------------------------------------------------ multiclass layout
def test_multiclass_is_never_row_major_flat():
    X, y = multiclass()
    loss = gbo.MulticlassFocalLoss(gamma=2.0)
    ds = lgb.Dataset(X, label=y).construct()
    z = np.random.default_rng(0).normal(size=(len(y), 3))
    grad, hess = loss.lightgbm_objective(z, ds)
    assert grad.shape == hess.shape == (len(y), 3)
    # float32 and column-major: what LightGBM's ravel(order="F") and float32 cast take for free
    assert grad.dtype == hess.dtype == np.float32 and grad.flags.f_contiguous and hess.flags.f_contiguous
    g0, h0 = loss.gradient_hessian(y, z)
    np.testing.assert_allclose(grad, g0, rtol=2.0**-24 + 2.0**-49)  # one rounding to float32
    np.testing.assert_allclose(hess, h0, rtol=2.0**-24 + 2.0**-49)
    # and the engine agrees: the custom softmax trains as well as the built-in (a row-major
    # flat layout would train a wrong model, far worse than this)
    bst = gbo.lightgbm.train(gbo.MulticlassFocalLoss(gamma=0.0), PARAMS, lgb.Dataset(X, label=y), 10)
    acc = np.mean(np.argmax(bst.predict(X, raw_score=True), axis=1) == y)
    assert acc > 0.6


# ------------------------------------------------------------------ weights
def test_weights_are_applied_and_equal_duplicated_rows():
    X, y, w = integer_data()
    loss = gbo.FocalLoss(gamma=1.0)
    p = {**PARAMS, "min_data_in_leaf": 1, "min_sum_hessian_in_leaf": 0.0, "min_data_in_bin": 1}
    weighted = gbo.lightgbm.train(loss, p, lgb.Dataset(X, label=y, weight=w), 10).predict(X, raw_score=True)
    plain = gbo.lightgbm.train(loss, p, lgb.Dataset(X, label=y), 10).predict(X, raw_score=True)
    idx = np.repeat(np.arange(len(y)), w.astype(int))
    dup = gbo.lightgbm.train(loss, p, lgb.Dataset(X[idx], label=y[idx]), 10).predict(X, raw_score=True)
    assert np.max(np.abs(weighted - plain)) > 1e-2
    np.testing.assert_allclose(weighted, dup, rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------ metrics and early stopping
def test_feval_gets_raw_scores_and_returns_lower_is_better():
    X, y = regression(n=300)
    loss = gbo.QuantileLoss(quantile=0.9)
    ds = lgb.Dataset(X, label=y).construct()
    z = np.random.default_rng(1).normal(size=len(y)) + 10
    name, value, higher = loss.lightgbm_metric(z, ds)
    assert (name, higher) == (loss.name, False)
    assert value == pytest.approx(weighted_mean_loss(loss, y, z))


@pytest.mark.parametrize("metric_kind", ["loss", "hit"])
def test_early_stopping_picks_the_right_direction(metric_kind):
    X, y = binary(n=600)
    Xv, yv = binary(seed=5, n=600)
    loss = gbo.FocalLoss(gamma=1.0)
    dtr = lgb.Dataset(X, label=y)
    dva = lgb.Dataset(Xv, label=yv, reference=dtr)
    res: dict = {}
    feval = None if metric_kind == "loss" else gbo.LogLossHit().lightgbm_metric
    bst = gbo.lightgbm.train(
        loss,
        {**PARAMS, "num_leaves": 31, "learning_rate": 0.8, "min_data_in_leaf": 2},
        dtr,
        200,
        valid_sets=[dva],
        feval=feval,
        callbacks=[lgb.early_stopping(5, first_metric_only=False, verbose=False), lgb.record_evaluation(res)],
    )
    name = loss.name if metric_kind == "loss" else "logloss_hit"
    hist = np.asarray(res["valid_0"][name])
    assert len(hist) < 200
    if metric_kind == "loss":
        assert bst.best_iteration == int(np.argmin(hist)) + 1
    else:
        # two metrics: LightGBM stops at the first that stops improving; each in its direction
        best_hit = int(np.argmax(hist[: bst.best_iteration + 5])) + 1
        best_loss = int(np.argmin(np.asarray(res["valid_0"][loss.name])[: bst.best_iteration + 5])) + 1
        assert bst.best_iteration in (best_hit, best_loss)


# ------------------------------------------------------------------ bad input, before any tree
def test_bad_labels_fail_before_any_tree():
    X, yr = regression(n=100)
    with pytest.raises(ValueError, match=r"FocalLoss.*binary"):
        gbo.lightgbm.train(gbo.FocalLoss(), PARAMS, lgb.Dataset(X, label=yr), 3)
    rounds = []
    with pytest.raises(ValueError, match=r"FocalLoss.*labels"):
        lgb.train(
            {**PARAMS, "objective": gbo.FocalLoss().lightgbm_objective},
            lgb.Dataset(X, label=yr),
            3,
            callbacks=[lambda env: rounds.append(env.iteration)],
        )
    assert rounds == []
    Xm, ym = multiclass(k=4, n=200)
    with pytest.raises(ValueError, match=r"MulticlassFocalLoss.*\[0, 3\)"):
        gbo.lightgbm.train(gbo.MulticlassFocalLoss(alpha=[1, 1, 1]), PARAMS, lgb.Dataset(Xm, label=ym), 3)
    with pytest.raises(ValueError, match="needs labels"):
        gbo.lightgbm.train(gbo.HuberLoss(), PARAMS, lgb.Dataset(X), 3)
    with pytest.raises(ValueError, match="objective"):
        gbo.lightgbm.train(gbo.HuberLoss(), {"objective": "huber"}, lgb.Dataset(X, label=yr), 3)


@pytest.mark.parametrize("alias", ["learning_rate", "eta", "shrinkage_rate"])
@pytest.mark.parametrize("value", [0.0, -0.1, float("nan")])
def test_a_non_positive_learning_rate_is_a_clear_error(alias, value):
    # LightGBM 4.7 itself crashes the whole process on learning_rate=0
    X, y = binary(n=50)
    with pytest.raises(ValueError, match=rf"params\['{alias}'\] must be a finite number in \(0, inf\)"):
        gbo.lightgbm.train(gbo.FocalLoss(), {**PARAMS, alias: value}, lgb.Dataset(X, label=y), 3)


def test_nan_raw_scores_raise():
    X, y = binary(n=20)
    z = np.zeros(20)
    z[0] = np.inf
    with pytest.raises(ValueError, match="WeightedLogLoss.*infinite"):
        gbo.WeightedLogLoss().lightgbm_objective(z, lgb.Dataset(X, label=y).construct())


def test_adapters_pickle_with_their_loss():
    import io

    import joblib

    loss = gbo.HuberLoss(delta=0.5)
    for obj in (loss.lightgbm_objective, loss.lightgbm_metric, gbo.SMAPE().lightgbm_metric):
        buf = io.BytesIO()
        joblib.dump(obj, buf)
        buf.seek(0)
        assert joblib.load(buf).__self__ == obj.__self__


def test_adapter_objects_equal_the_bound_methods():
    """``gbo.lightgbm.Objective(loss)`` / ``Metric(loss)`` train the same model as the bound methods and pickle."""
    X, y = regression()
    loss = gbo.HuberLoss(delta=2.0)
    obj, met = gbo.lightgbm.Objective(loss), gbo.lightgbm.Metric(loss)
    assert pickle.loads(pickle.dumps(obj)) == obj and pickle.loads(pickle.dumps(met)) == met
    runs = []
    for o, m in ((obj, met), (loss.lightgbm_objective, loss.lightgbm_metric)):
        ds = lgb.Dataset(X, label=y)
        runs.append(lgb.train({**PARAMS, "objective": o, "metric": "None"}, ds, 3, valid_sets=[ds], feval=m))
    np.testing.assert_array_equal(runs[0].predict(X, raw_score=True), runs[1].predict(X, raw_score=True))
    ds = lgb.Dataset(X, label=y).construct()
    z = runs[0].predict(X, raw_score=True)
    assert met(z, ds) == loss.lightgbm_metric(z, ds)
