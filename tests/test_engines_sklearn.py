"""scikit-learn APIs of both engines: objective, weights, eval metrics, early stopping, pickling, clone."""

from __future__ import annotations

import inspect
import io

import joblib
import numpy as np
import pytest
from sklearn.base import clone

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

from _engine_data import binary, integer_data, multiclass, regression, weighted_mean_loss, xgb_history  # noqa: E402

import gbobjectives as gbo  # noqa: E402

XGB = {"n_estimators": 10, "max_depth": 3, "learning_rate": 0.3, "n_jobs": 1}
LGB = {"n_estimators": 10, "num_leaves": 8, "learning_rate": 0.3, "n_jobs": 1, "verbose": -1, "deterministic": True}


def _raw(model, X):
    if isinstance(model, xgb.XGBModel):
        return model.predict(X, output_margin=True)
    return model.predict(X, raw_score=True)


ESTIMATORS = {
    "XGBClassifier": lambda loss, **kw: xgb.XGBClassifier(objective=loss.sklearn_objective, **XGB, **kw),
    "XGBRegressor": lambda loss, **kw: xgb.XGBRegressor(objective=loss.sklearn_objective, **XGB, **kw),
    "LGBMClassifier": lambda loss, **kw: lgb.LGBMClassifier(objective=loss.sklearn_objective, **LGB, **kw),
    "LGBMRegressor": lambda loss, **kw: lgb.LGBMRegressor(objective=loss.sklearn_objective, **LGB, **kw),
}


def test_sklearn_objective_signature():
    # XGBoost passes sample_weight= by keyword; LightGBM counts 3 parameters -> passes weights
    params = list(inspect.signature(gbo.FocalLoss().sklearn_objective).parameters.values())
    assert [p.name for p in params] == ["y_true", "y_pred", "sample_weight"]
    assert params[2].default is None


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_weights_honoured_in_all_four_apis(name):
    X, y, w = integer_data()
    if name.endswith("Regressor"):
        # smooth targets and loss: Huber's clipped gradients on integer targets make exact
        # ties between split gains, which summation order (weights vs duplicates) breaks
        y = (y * 3 + X[:, 1]) / 5 + np.random.default_rng(0).normal(0.0, 0.3, len(y))
        # the exact Hessian: with the default MM curvature a near-tie between two split gains in
        # round 6-10 on these integer features is broken differently by float32 summation order
        # (LightGBM; so is the exact one's on other noise seeds, e.g. 3). Weights in the MM
        # curvature: tests/test_losses.py::test_weights_act_as_duplicated_rows_in_shared_curvature
        loss = gbo.PseudoHuberLoss(delta=2.0, hessian="exact")
    else:
        loss = gbo.FocalLoss(gamma=1.0)
    extra = (
        {"tree_method": "exact", "min_child_weight": 0.0}
        if name.startswith("XGB")
        else {"min_child_samples": 1, "min_child_weight": 0.0, "min_data_in_bin": 1}
    )
    weighted = ESTIMATORS[name](loss, **extra).fit(X, y, sample_weight=w)
    plain = ESTIMATORS[name](loss, **extra).fit(X, y)
    idx = np.repeat(np.arange(len(y)), w.astype(int))
    dup = ESTIMATORS[name](loss, **extra).fit(X[idx], y[idx])
    assert np.max(np.abs(_raw(weighted, X) - _raw(plain, X))) > 1e-2
    # weights == duplicated rows (up to the engines' different starting scores: compare
    # models with the same start, i.e. the two fits on which only the weighting differs)
    np.testing.assert_allclose(_raw(weighted, X), _raw(dup, X), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("engine", ["xgboost", "lightgbm"])
def test_multiclass_classifier_gets_n_by_k(engine):
    X, y = multiclass()
    loss = gbo.MulticlassFocalLoss(gamma=0.0)
    name = "XGBClassifier" if engine == "xgboost" else "LGBMClassifier"
    model = ESTIMATORS[name](loss).fit(X, y.astype(int))
    raw = _raw(model, X)
    assert raw.shape == (len(y), 3)
    # it learned: far better than the uniform model's log(3)
    assert weighted_mean_loss(loss, y, raw) < 0.9 * np.log(3)


def test_xgb_eval_metric_gets_raw_margins_and_early_stops():
    X, y = binary(n=600)
    Xv, yv = binary(seed=5, n=600)
    wv = np.random.default_rng(3).uniform(0.5, 2.0, len(yv))
    loss = gbo.FocalLoss(gamma=1.0)
    model = xgb.XGBClassifier(
        objective=loss.sklearn_objective,
        eval_metric=loss.xgboost_sklearn_metric,
        early_stopping_rounds=5,
        n_estimators=200,
        max_depth=6,
        learning_rate=0.8,
        n_jobs=1,
    )
    model.fit(X, y, eval_set=[(Xv, yv)], sample_weight_eval_set=[wv], verbose=False)
    hist = np.asarray(model.evals_result()["validation_0"][loss.name])
    assert len(hist) < 200 and model.best_iteration == int(np.argmin(hist))
    # the metric saw raw margins (+ weights): recompute from the model at the last round
    raw = model.get_booster().predict(xgb.DMatrix(Xv), output_margin=True)
    assert hist[-1] == xgb_history(weighted_mean_loss(loss, yv, raw, wv))


def test_lgbm_eval_metric_gets_raw_scores_and_early_stops():
    X, y = binary(n=600)
    Xv, yv = binary(seed=5, n=600)
    wv = np.random.default_rng(3).uniform(0.5, 2.0, len(yv))
    loss = gbo.FocalLoss(gamma=1.0)
    # metric="None": with a callable objective LGBMClassifier still adds its built-in
    # binary_logloss, computed on RAW scores as if they were probabilities (see the next test)
    model = lgb.LGBMClassifier(
        objective=loss.sklearn_objective,
        n_estimators=200,
        num_leaves=31,
        learning_rate=0.8,
        n_jobs=1,
        verbose=-1,
        min_child_samples=2,
        metric="None",
    )
    model.fit(
        X,
        y,
        eval_X=(Xv,),
        eval_y=(yv,),
        eval_sample_weight=[wv],
        eval_metric=loss.lightgbm_sklearn_metric,
        callbacks=[lgb.early_stopping(5, verbose=False)],
    )
    assert list(model.evals_result_["valid_0"]) == [loss.name]
    hist = np.asarray(model.evals_result_["valid_0"][loss.name])
    best = model.best_iteration_
    assert len(hist) < 200 and best == int(np.argmin(hist)) + 1
    raw = model.booster_.predict(Xv, raw_score=True, num_iteration=best)
    assert hist[best - 1] == pytest.approx(weighted_mean_loss(loss, yv, raw, wv), rel=1e-9)


def test_lgbm_classifier_adds_a_builtin_metric_on_raw_scores():
    # Engine behaviour we document (quickstart: pass metric="None"). If this starts failing,
    # LightGBM fixed it and the advice can go.
    X, y = binary(n=300)
    loss = gbo.FocalLoss(gamma=1.0)
    model = lgb.LGBMClassifier(objective=loss.sklearn_objective, n_estimators=2, verbose=-1, n_jobs=1)
    model.fit(X, y, eval_X=(X,), eval_y=(y,))
    value = model.evals_result_["valid_0"]["binary_logloss"][0]
    honest = weighted_mean_loss(gbo.WeightedLogLoss(), y, model.predict(X, raw_score=True, num_iteration=1))
    assert value > 2 * honest


def test_sklearn_metric_forms():
    loss = gbo.HuberLoss()
    xm, lm = loss.xgboost_sklearn_metric, loss.lightgbm_sklearn_metric
    assert xm.__name__ == loss.name
    y, z, w = np.array([0.0, 0.0]), np.array([0.5, 3.0]), np.array([1.0, 3.0])
    assert xm(y, z) == pytest.approx(1.3125) and xm(y, z, sample_weight=w) == pytest.approx((0.125 + 7.5) / 4)
    assert lm(y, z, w) == (loss.name, pytest.approx((0.125 + 7.5) / 4), False)
    assert len(inspect.signature(lm).parameters) == 3  # LightGBM then passes the weights


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_estimators_pickle_and_clone(name):
    X, y = regression(n=200) if name.endswith("Regressor") else binary(n=200)
    loss = gbo.PseudoHuberLoss(delta=2.0) if name.endswith("Regressor") else gbo.FocalLoss(gamma=2.0, alpha=0.25)
    model = ESTIMATORS[name](loss)
    twin = clone(model)
    assert twin.get_params()["objective"].__self__ == loss
    model.fit(X, y)
    buf = io.BytesIO()
    joblib.dump(model, buf)
    buf.seek(0)
    back = joblib.load(buf)
    np.testing.assert_allclose(_raw(back, X), _raw(model, X))
    np.testing.assert_allclose(_raw(clone(model).fit(X, y), X), _raw(model, X), rtol=1e-6)
    # eval-metric objects pickle and clone too
    for m in (loss.xgboost_sklearn_metric, loss.lightgbm_sklearn_metric, gbo.MAPE().xgboost_sklearn_metric):
        buf = io.BytesIO()
        joblib.dump(m, buf)
        buf.seek(0)
        assert joblib.load(buf).__name__ == m.__name__
    est = xgb.XGBRegressor(eval_metric=gbo.SMAPE().xgboost_sklearn_metric)
    assert clone(est).get_params()["eval_metric"].__name__ == "smape"


def test_sklearn_objective_rejects_bad_labels():
    X, yr = regression(n=100)
    with pytest.raises(ValueError, match="FocalLoss.*binary"):
        xgb.XGBRegressor(objective=gbo.FocalLoss().sklearn_objective, **XGB).fit(X, yr)
    with pytest.raises(ValueError, match="FocalLoss.*binary"):
        lgb.LGBMRegressor(objective=gbo.FocalLoss().sklearn_objective, **LGB).fit(X, yr)
