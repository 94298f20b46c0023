"""Eval-only metrics (MAPE, SMAPE, prior logloss, hit): values, weights, and all engine forms."""

from __future__ import annotations

import numpy as np
import pytest
from _engine_data import binary, multiclass, regression, weights, xgb_history

import gbobjectives as gbo


def test_values_on_known_inputs():
    assert gbo.MAPE()([100.0, 200.0], [110.0, 180.0]) == pytest.approx(0.1)
    assert gbo.MAPE()([100.0, 200.0], [110.0, 180.0], sample_weight=[3.0, 1.0]) == pytest.approx(0.1)
    assert gbo.MAPE()([1.0, 2.0], [2.0, 2.0], sample_weight=[1.0, 3.0]) == pytest.approx(0.25)
    assert gbo.SMAPE()([1.0, 0.0], [3.0, 0.0]) == pytest.approx(0.5)
    assert gbo.SMAPE()([0.0], [5.0]) == pytest.approx(2.0)
    assert np.isfinite(gbo.MAPE()([0.0], [1.0]))  # zero target: huge but finite, as sklearn


def test_mape_matches_sklearn():
    from sklearn.metrics import mean_absolute_percentage_error

    rng = np.random.default_rng(0)
    y, z, w = rng.uniform(1, 5, 50), rng.uniform(1, 5, 50), rng.uniform(0, 2, 50)
    assert gbo.MAPE()(y, z, w) == pytest.approx(mean_absolute_percentage_error(y, z, sample_weight=w))


def test_prior_logloss():
    z = np.random.default_rng(0).normal(size=4)  # ignored: it is the constant model's loss
    assert gbo.PriorLogLoss()([0, 1, 0, 1], z) == pytest.approx(np.log(2))
    p = 0.05
    y = np.r_[np.ones(5), np.zeros(95)]
    want = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    assert gbo.PriorLogLoss()(y, np.zeros(100)) == pytest.approx(want)
    assert want < np.log(2)
    # weighted base rate: weights 3 on positives make 2 pos / 2 neg look 75 % positive
    assert gbo.PriorLogLoss()([1, 0], [0.0, 0.0], [3.0, 1.0]) == pytest.approx(
        -(0.75 * np.log(0.75) + 0.25 * np.log(0.25))
    )
    # multiclass: the entropy of the class frequencies
    assert gbo.PriorLogLoss()([0, 1, 2], np.zeros((3, 3))) == pytest.approx(np.log(3))
    # it equals the logloss of a model predicting the base rate
    X, y = binary()
    base = np.log(y.mean() / (1 - y.mean()))
    assert gbo.PriorLogLoss()(y, np.zeros(len(y))) == pytest.approx(
        gbo.WeightedLogLoss().loss(y, np.full(len(y), base)).mean()
    )


def test_hit_is_geometric_mean_probability_of_the_true_class():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(40, 3))
    y = rng.integers(0, 3, 40)
    w = rng.uniform(0.1, 2, 40)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    p_true = p[np.arange(40), y]
    assert gbo.LogLossHit()(y, z, w) == pytest.approx(np.exp(np.sum(w * np.log(p_true)) / np.sum(w)))
    zb = rng.normal(size=40)
    yb = rng.integers(0, 2, 40)
    pb = np.where(yb == 1, 1 / (1 + np.exp(-zb)), 1 / (1 + np.exp(zb)))
    assert gbo.LogLossHit()(yb, zb) == pytest.approx(np.exp(np.mean(np.log(pb))))
    assert gbo.LogLossHit().higher_is_better and not gbo.MAPE().higher_is_better


def test_bad_labels():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        gbo.LogLossHit()([2.0], [0.0])
    with pytest.raises(ValueError, match="NaN"):
        gbo.MAPE()([1.0], [np.nan])


# ------------------------------------------------------------------ engine forms
def test_xgboost_custom_metric_on_raw_margins():
    xgb = pytest.importorskip("xgboost")
    X, y = regression()
    w = weights(len(y))
    d = xgb.DMatrix(X, label=y, weight=w)
    res: dict = {}
    loss = gbo.HuberLoss(delta=2.0)

    def both(predt, dm):
        return [gbo.MAPE().xgboost_metric(predt, dm), gbo.SMAPE().xgboost_metric(predt, dm)]

    bst = gbo.xgboost.train(
        loss,
        {"max_depth": 3, "nthread": 1},
        d,
        5,
        evals=[(d, "train")],
        custom_metric=both,
        evals_result=res,
        verbose_eval=False,
    )
    z = bst.predict(d, output_margin=True)
    assert res["train"]["mape"][-1] == xgb_history(gbo.MAPE()(y, z, w))
    assert res["train"]["smape"][-1] == xgb_history(gbo.SMAPE()(y, z, w))


def test_lightgbm_feval_on_raw_scores_multiclass():
    lgb = pytest.importorskip("lightgbm")
    X, y = multiclass()
    w = weights(len(y))
    ds = lgb.Dataset(X, label=y, weight=w)
    res: dict = {}
    loss = gbo.MulticlassFocalLoss(gamma=1.0)
    bst = gbo.lightgbm.train(
        loss,
        {"verbose": -1, "num_threads": 1, "num_leaves": 8},
        ds,
        5,
        valid_sets=[ds],
        feval=[gbo.LogLossHit().lightgbm_metric, gbo.PriorLogLoss().lightgbm_metric],
        callbacks=[lgb.record_evaluation(res)],
    )
    z = bst.predict(X, raw_score=True)
    hist = res["training"]
    assert list(hist) == [loss.name, "logloss_hit", "prior_logloss"]
    assert hist["logloss_hit"][-1] == pytest.approx(gbo.LogLossHit()(y, z, w), rel=1e-9)
    assert hist["prior_logloss"][0] == pytest.approx(gbo.PriorLogLoss()(y, z, w))
    # hit = exp(-logloss) of the same model
    assert hist["logloss_hit"][-1] == pytest.approx(
        np.exp(-gbo.MulticlassFocalLoss(gamma=0.0)._loss(y.astype(np.intp), z).dot(w) / w.sum())
    )
    assert gbo.LogLossHit().lightgbm_metric(z, ds)[2] is True


@pytest.mark.parametrize("metric", [gbo.MAPE(), gbo.SMAPE()])
def test_sklearn_eval_metric_forms(metric):
    xgb = pytest.importorskip("xgboost")
    lgb = pytest.importorskip("lightgbm")
    X, y = regression(n=400)
    loss = gbo.PseudoHuberLoss(delta=2.0)
    m = xgb.XGBRegressor(
        objective=loss.sklearn_objective,
        eval_metric=metric.xgboost_sklearn_metric,
        n_estimators=5,
        n_jobs=1,
        base_score=float(np.median(y)),
    ).fit(X, y, eval_set=[(X, y)], verbose=False)
    assert m.evals_result()["validation_0"][metric.name][-1] == xgb_history(metric(y, m.predict(X, output_margin=True)))
    m2 = lgb.LGBMRegressor(objective=loss.sklearn_objective, n_estimators=5, n_jobs=1, verbose=-1, metric="None")
    m2.fit(X, y, eval_X=(X,), eval_y=(y,), eval_metric=metric.lightgbm_sklearn_metric)
    # evaluated on the training data itself, LightGBM names the set "training"
    assert m2.evals_result_["training"][metric.name][-1] == pytest.approx(
        metric(y, m2.predict(X, raw_score=True)), rel=1e-7
    )
