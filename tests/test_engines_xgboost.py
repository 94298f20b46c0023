"""XGBoost native API: adapters, start scores and every trap of docs/engines.md, on real models."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

xgb = pytest.importorskip("xgboost")

from _engine_data import (  # noqa: E402
    binary,
    integer_data,
    multiclass,
    regression,
    weighted_mean_loss,
    weights,
    xgb_history,
)

import gbobjectives as gbo  # noqa: E402

PARAMS = {"max_depth": 3, "eta": 0.3, "nthread": 1, "tree_method": "hist"}
ROUNDS = 20


def _margin(bst, X):
    return bst.predict(xgb.DMatrix(X), output_margin=True)


# ------------------------------------------------------------------ equal to the built-in objective
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "case",
    ["logloss", "softmax", "pseudohuber"],
)
def test_custom_loss_matches_builtin_objective(case, weighted):
    if case == "logloss":
        X, y = binary()
        loss, builtin = gbo.WeightedLogLoss(), {"objective": "binary:logistic"}
    elif case == "softmax":
        X, y = multiclass()
        loss, builtin = gbo.MulticlassFocalLoss(gamma=0.0), {"objective": "multi:softprob", "num_class": 3}
    else:
        X, y = regression()
        loss = gbo.PseudoHuberLoss(delta=1.0, hessian="exact")  # the built-in's Hessian
        builtin = {"objective": "reg:pseudohubererror", "huber_slope": 1.0}
    w = weights(len(y)) if weighted else None
    d = xgb.DMatrix(X, label=y, weight=w)
    ours = weighted_mean_loss(loss, y, _margin(gbo.xgboost.train(loss, PARAMS, d, ROUNDS), X), w)
    ref = weighted_mean_loss(loss, y, _margin(xgb.train({**PARAMS, **builtin}, d, ROUNDS), X), w)
    ratio = ours / ref
    print(f"XGBoost {case} weighted={weighted}: custom/built-in training loss = {ratio:.6f}")
    assert ratio <= 1.01
    if case == "pseudohuber":
        # the built-in starts far from the targets (mean 10) where the pseudo-Huber Hessian is
        # tiny, so the ratio above is ~0.005; the fair check gives it our start as base_score
        start = loss.init_score(y, w)
        ref2 = weighted_mean_loss(
            loss, y, _margin(xgb.train({**PARAMS, **builtin, "base_score": start}, d, ROUNDS), X), w
        )
        print(f"XGBoost pseudohuber weighted={weighted}, built-in from the same start: {ours / ref2:.6f}")
        assert ours / ref2 <= 1.01
        assert ours / ref2 >= 0.99  # same gradient and exact Hessian: the same model


# ------------------------------------------------------------------ start scores, self-contained booster
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
    # refit_leaves=False: compared with the plain objective trained by hand (refit: tests/test_refit.py)
    bst = gbo.xgboost.train(loss, PARAMS, xgb.DMatrix(X, label=y, weight=w), 8, refit_leaves=False)
    got = _margin(bst, X)

    # the same model trained by hand from base_margin = start, predicted with the margin added
    n = len(y)
    margin = np.tile(start, (n, 1)) if np.ndim(start) else np.full(n, start)
    params = {**PARAMS, "base_score": 0.0, "disable_default_eval_metric": True}
    if kind == "multiclass":
        params["num_class"] = 3
    manual = xgb.train(params, xgb.DMatrix(X, label=y, weight=w, base_margin=margin), 8, obj=loss.xgboost_objective)
    want = manual.predict(xgb.DMatrix(X, base_margin=margin), output_margin=True)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)

    # zero trees: the prediction is exactly the start (float32 precision)
    bst0 = gbo.xgboost.train(loss, PARAMS, xgb.DMatrix(X, label=y, weight=w), 0)
    np.testing.assert_allclose(_margin(bst0, X[:3]), np.broadcast_to(start, _margin(bst0, X[:3]).shape), rtol=1e-6)

    # the start survives JSON / UBJSON save-load and pickling
    for suffix in ("json", "ubj"):
        path = tmp_path / f"model.{suffix}"
        bst.save_model(path)
        np.testing.assert_array_equal(_margin(xgb.Booster(model_file=path), X), got)
    np.testing.assert_array_equal(_margin(pickle.loads(pickle.dumps(bst)), X), got)


def test_multiclass_uses_num_class_and_never_a_flat_layout():
    X, y = multiclass()
    loss = gbo.MulticlassFocalLoss(gamma=1.0)
    d = xgb.DMatrix(X, label=y)
    grad, hess = loss.xgboost_objective(np.zeros((len(y), 3), dtype=np.float32), d)
    assert grad.shape == hess.shape == (len(y), 3)
    assert grad.dtype == hess.dtype == np.float32  # what XGBoost stores; never float16
    assert grad.flags.f_contiguous  # class-major in memory: XGBoost reads it as fast (see _common)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a flat (n*K,) gradient makes XGBoost warn every round
        bst = gbo.xgboost.train(loss, PARAMS, d, 3)
    assert bst.predict(d, output_margin=True).shape == (len(y), 3)
    config = json.loads(bst.save_config())
    assert config["learner"]["learner_model_param"]["num_class"] == "3"


# ------------------------------------------------------------------ weights
def test_weights_are_applied_and_equal_duplicated_rows():
    X, y, w = integer_data()
    loss = gbo.FocalLoss(gamma=1.0)
    p = {**PARAMS, "tree_method": "exact", "min_child_weight": 0.0}
    weighted = _margin(gbo.xgboost.train(loss, p, xgb.DMatrix(X, label=y, weight=w), 10), X)
    plain = _margin(gbo.xgboost.train(loss, p, xgb.DMatrix(X, label=y), 10), X)
    idx = np.repeat(np.arange(len(y)), w.astype(int))
    dup = _margin(gbo.xgboost.train(loss, p, xgb.DMatrix(X[idx], label=y[idx]), 10), X)
    assert np.max(np.abs(weighted - plain)) > 1e-2  # the weights changed the model
    np.testing.assert_allclose(weighted, dup, rtol=1e-4, atol=1e-4)


def test_objective_multiplies_by_the_dmatrix_weights():
    X, y = binary(n=50)
    w = weights(50)
    loss = gbo.FocalLoss()
    z = np.linspace(-2, 2, 50).astype(np.float32)
    g, h = loss.xgboost_objective(z, xgb.DMatrix(X, label=y, weight=w))
    g0, h0 = loss.gradient_hessian(y, z)
    # float32 kernels and output (what XGBoost stores): a few float32 roundings, as bounded in
    # tests/test_fast_path.py; a missing or wrong weight is off by far more
    np.testing.assert_allclose(g, g0 * w, rtol=33 * 2.0**-24)
    np.testing.assert_allclose(h, h0 * w, rtol=33 * 2.0**-24)


# ------------------------------------------------------------------ metrics
def test_metric_gets_raw_margins_and_is_the_weighted_mean_loss():
    X, y = binary()
    w = weights(len(y))
    loss = gbo.FocalLoss(gamma=2.0)
    d = xgb.DMatrix(X, label=y, weight=w)
    res: dict = {}
    bst = gbo.xgboost.train(loss, PARAMS, d, 5, evals=[(d, "train")], evals_result=res, verbose_eval=False)
    assert list(res["train"]) == [loss.name]  # XGBoost's own (rmse on logits) is disabled
    want = weighted_mean_loss(loss, y, bst.predict(d, output_margin=True), w)
    assert res["train"][loss.name][-1] == xgb_history(want)
    # the adapter alone, on raw margins
    name, value = loss.xgboost_metric(bst.predict(d, output_margin=True), d)
    assert name == loss.name and value == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("metric_kind", ["loss", "hit"])
def test_early_stopping_picks_the_right_direction(metric_kind):
    X, y = binary(n=600)
    Xv, yv = binary(seed=5, n=600)
    loss = gbo.FocalLoss(gamma=1.0)
    dtr, dva = xgb.DMatrix(X, label=y), xgb.DMatrix(Xv, label=yv)
    res: dict = {}
    kwargs = {} if metric_kind == "loss" else {"custom_metric": gbo.LogLossHit().xgboost_metric}
    bst = gbo.xgboost.train(
        loss,
        {**PARAMS, "max_depth": 6, "eta": 0.8},
        dtr,
        200,
        evals=[(dva, "valid")],
        early_stopping_rounds=5,
        evals_result=res,
        verbose_eval=False,
        **kwargs,
    )
    hist = np.asarray(next(iter(res["valid"].values())))
    best = int(np.argmax(hist)) if metric_kind == "hit" else int(np.argmin(hist))
    assert bst.best_iteration == best
    assert len(hist) < 200  # it really stopped (the model overfits fast at eta 0.8)


def test_xgboost_name_based_direction_guess_is_right_for_every_shipped_name():
    # XGBoost guesses maximize from the metric name when maximize=None (callback.py)
    prefixes = ("auc", "aucpr", "pre", "pre@", "map", "ndcg")
    from gbobjectives.losses import example_losses

    names = [m.name for m in example_losses()] + [gbo.MAPE().name, gbo.SMAPE().name, gbo.PriorLogLoss().name]
    for name in names:
        guessed_max = name != "mape" and any(name.startswith(p) for p in prefixes)
        assert not guessed_max, name


# ------------------------------------------------------------------ bad input, before any tree
class _CountRounds(xgb.callback.TrainingCallback):
    def __init__(self):
        self.rounds = 0

    def after_iteration(self, model, epoch, evals_log):
        self.rounds += 1
        return False


def test_focal_loss_rejects_regression_targets_before_any_tree():
    X, yr = regression(n=100)
    d = xgb.DMatrix(X, label=yr)
    with pytest.raises(ValueError, match=r"FocalLoss.*binary"):
        gbo.xgboost.train(gbo.FocalLoss(), PARAMS, d, 3)
    counter = _CountRounds()
    with pytest.raises(ValueError, match=r"FocalLoss.*labels"):
        xgb.train(PARAMS, d, 3, obj=gbo.FocalLoss().xgboost_objective, callbacks=[counter])
    assert counter.rounds == 0


def test_more_classes_than_alpha_is_rejected():
    X, y = multiclass(k=4, n=200)
    loss = gbo.MulticlassFocalLoss(alpha=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"MulticlassFocalLoss.*\[0, 3\)"):
        gbo.xgboost.train(loss, PARAMS, xgb.DMatrix(X, label=y), 3)
    with pytest.raises(ValueError, match="built for 3 classes"):
        gbo.xgboost.train(loss, {**PARAMS, "num_class": 4}, xgb.DMatrix(X, label=y), 3)


def test_missing_labels_and_objective_conflict():
    X, _ = binary(n=50)
    with pytest.raises(ValueError, match="WeightedLogLoss.*needs labels"):
        gbo.xgboost.train(gbo.WeightedLogLoss(), PARAMS, xgb.DMatrix(X), 3)
    with pytest.raises(ValueError, match="needs labels"):
        gbo.WeightedLogLoss().xgboost_objective(np.zeros(50, np.float32), xgb.DMatrix(X))
    with pytest.raises(ValueError, match="objective"):
        gbo.xgboost.train(gbo.WeightedLogLoss(), {"objective": "binary:logistic"}, xgb.DMatrix(X, label=np.ones(50)))


def test_nan_raw_scores_raise():
    X, y = binary(n=20)
    z = np.zeros(20, np.float32)
    z[3] = np.nan
    with pytest.raises(ValueError, match="FocalLoss.*NaN"):
        gbo.FocalLoss().xgboost_objective(z, xgb.DMatrix(X, label=y))


def test_label_cache_notices_set_label():
    X, y = binary(n=300)
    loss = gbo.WeightedLogLoss()
    d = xgb.DMatrix(X, label=y)
    gbo.xgboost.train(loss, PARAMS, d, 3)
    y2 = 1.0 - y
    d.set_label(y2)
    again = _margin(gbo.xgboost.train(loss, PARAMS, d, 3), X)
    fresh = _margin(gbo.xgboost.train(loss, PARAMS, xgb.DMatrix(X, label=y2), 3), X)
    np.testing.assert_array_equal(again, fresh)


def test_plain_adapters_notice_set_label_and_set_weight_in_place():
    """The adapters read labels/weights as views of the DMatrix's memory (engines/xgboost.py);
    a same-size set_label/set_weight may rewrite that memory in place: the next call must see
    the new values, exactly as on a fresh DMatrix."""
    X, y = binary(n=300)
    loss = gbo.FocalLoss(gamma=2.0)
    z = np.linspace(-2, 2, 300).astype(np.float32)
    d = xgb.DMatrix(X, label=y, weight=np.ones(300))
    loss.xgboost_objective(z, d), loss.xgboost_metric(z, d)  # cache the first labels and weights
    y2, w2 = 1.0 - y, np.linspace(0.5, 2.0, 300)
    d.set_label(y2)
    d.set_weight(w2)
    fresh = xgb.DMatrix(X, label=y2, weight=w2)
    for got, want in zip(loss.xgboost_objective(z, d), loss.xgboost_objective(z, fresh)):
        np.testing.assert_array_equal(got, want)
    assert loss.xgboost_metric(z, d) == loss.xgboost_metric(z, fresh)
    # the views handed out are read-only: nothing of ours writes into XGBoost's memory
    from gbobjectives.engines.xgboost import _labels_weights

    yv, wv = _labels_weights(d)
    np.testing.assert_array_equal(yv, y2)
    np.testing.assert_allclose(wv, w2, rtol=1e-7)
    assert not yv.flags.writeable and not wv.flags.writeable


def test_booster_and_adapters_pickle():
    import joblib

    loss = gbo.MulticlassFocalLoss(gamma=2.0, alpha=[1.0, 2.0, 3.0])
    for obj in (loss.xgboost_objective, loss.xgboost_metric, gbo.MAPE().xgboost_metric):
        back = pickle.loads(pickle.dumps(obj))
        assert back.__self__ == obj.__self__
    import io

    buf = io.BytesIO()
    joblib.dump(loss.xgboost_objective, buf)


def test_import_without_engines():
    code = (
        "import sys; sys.modules['xgboost'] = None; sys.modules['lightgbm'] = None\n"
        "import gbobjectives as gbo\n"
        "print(gbo.FocalLoss().loss([1], [0.0])[0], gbo.MAPE()([1.0], [1.1]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip()


def test_adapter_objects_equal_the_bound_methods():
    """``gbo.xgboost.Objective(loss)`` / ``Metric(loss)`` train the same model as the bound methods and pickle."""
    X, y = binary()
    loss = gbo.FocalLoss(gamma=2.0, alpha=0.25)
    d = xgb.DMatrix(X, label=y)
    obj, met = gbo.xgboost.Objective(loss), gbo.xgboost.Metric(loss)
    assert pickle.loads(pickle.dumps(obj)) == obj and pickle.loads(pickle.dumps(met)) == met
    a = xgb.train(PARAMS, d, 3, obj=obj, custom_metric=met, evals=[(d, "t")], verbose_eval=False)
    b = xgb.train(PARAMS, d, 3, obj=loss.xgboost_objective, custom_metric=loss.xgboost_metric, verbose_eval=False)
    np.testing.assert_array_equal(_margin(a, X), _margin(b, X))
    assert met(_margin(a, X), d) == loss.xgboost_metric(_margin(a, X), d)
    assert met.higher_is_better is False and gbo.xgboost.Metric(gbo.LogLossHit()).higher_is_better is True
    with pytest.raises(TypeError, match="gbobjectives loss"):
        gbo.xgboost.Objective("focal")
