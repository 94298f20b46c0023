"""CatBoost: the adapters against CatBoost's own built-in objectives, with real training.

Every comparison uses the same explicit settings on both sides (learning rate, depth, seed,
start, leaf estimation): with a custom objective CatBoost changes its defaults (learning rate
0.03, no backtracking), which alone makes models differ. thread_count=1 and small data keep
the file fast on a shared 2-core machine.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import time

import numpy as np
import pytest

cb = pytest.importorskip("catboost")

from _engine_data import binary, multiclass, regression, weighted_mean_loss, weights  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

import gbobjectives as gbo  # noqa: E402

# identical explicit settings for the built-in and the custom objective
SAME = {
    "iterations": 60,
    "depth": 4,
    "learning_rate": 0.1,
    "random_seed": 0,
    "thread_count": 1,
    "verbose": False,
    "leaf_estimation_iterations": 1,
    "leaf_estimation_method": "Newton",
    "leaf_estimation_backtracking": "No",
    "allow_writing_files": False,  # no ./catboost_info from the built-in fits
}


def raw(model, X):
    return model.predict(X, prediction_type="RawFormulaVal")


# ------------------------------------------------------------------ the Done-when relations
@pytest.mark.parametrize("weighted", [False, True])
def test_weighted_logloss_reproduces_builtin_logloss(weighted):
    X, y = binary(n=3000)
    w = weights(len(y)) if weighted else None
    loss = gbo.WeightedLogLoss()
    # the built-in's start: boost_from_average (the weighted log-odds); ours: loss.init_score
    ref = cb.CatBoost({**SAME, "loss_function": "Logloss", "boost_from_average": True}).fit(cb.Pool(X, y, weight=w))
    ours = gbo.catboost.train(loss, SAME, cb.Pool(X, y, weight=w))
    r_ref, r_ours = raw(ref, X), raw(ours, X)
    ratio = weighted_mean_loss(loss, y, r_ours, w) / weighted_mean_loss(loss, y, r_ref, w)
    diff = float(np.max(np.abs(r_ours - r_ref)))
    print(f"CatBoost logloss weighted={weighted}: training-loss ratio {ratio:.10f}, max |raw diff| {diff:.2e}")
    assert abs(ratio - 1.0) <= 1e-3
    # the same model: weights applied exactly once, as CatBoost's built-in Logloss applies them
    # (CatBoost computes its start in float32: ~4e-8 apart)
    assert diff <= 1e-6
    assert ours.get_scale_and_bias()[1] == pytest.approx(ref.get_scale_and_bias()[1], abs=1e-6)


def test_weights_matter_and_are_applied_once():
    """Sanity of the weighted relation above: weights that were dropped or applied twice give
    a model far from the built-in weighted one (so the 1e-6 check can fail)."""
    X, y = binary(n=3000)
    w = weights(len(y))
    ref = raw(
        cb.CatBoost({**SAME, "loss_function": "Logloss", "boost_from_average": True}).fit(cb.Pool(X, y, weight=w)), X
    )
    unweighted = raw(gbo.catboost.train(gbo.WeightedLogLoss(), SAME, cb.Pool(X, y)), X)
    twice = raw(gbo.catboost.train(gbo.WeightedLogLoss(), SAME, cb.Pool(X, y, weight=w**2)), X)
    assert np.max(np.abs(unweighted - ref)) > 1e-2
    assert np.max(np.abs(twice - ref)) > 1e-2


def test_focal_loss_against_builtin_focal():
    X, y = binary(n=4000)
    Xtr, ytr, Xte, yte = X[:3000], y[:3000], X[3000:], y[3000:]
    loss = gbo.FocalLoss(gamma=2.0, alpha=0.25)  # CatBoost's focal_alpha has our alpha's convention
    ref = cb.CatBoost({**SAME, "loss_function": "Focal:focal_alpha=0.25;focal_gamma=2"}).fit(cb.Pool(Xtr, ytr))
    ours = gbo.catboost.train(loss, SAME, cb.Pool(Xtr, ytr))
    auc_ref, auc_ours = roc_auc_score(yte, raw(ref, Xte)), roc_auc_score(yte, raw(ours, Xte))
    l_ref, l_ours = loss.loss(yte, raw(ref, Xte)).mean(), loss.loss(yte, raw(ours, Xte)).mean()
    print(f"CatBoost focal held out: ROC AUC {auc_ours:.4f} vs {auc_ref:.4f}, focal loss ratio {l_ours / l_ref:.4f}")
    assert abs(auc_ours - auc_ref) <= 0.01
    assert l_ours <= 1.05 * l_ref


def test_quantile_loss_against_builtin_quantile():
    X, y = regression(n=4000)
    Xtr, ytr, Xte, yte = X[:3000], y[:3000], X[3000:], y[3000:]
    loss = gbo.QuantileLoss(quantile=0.9)
    keys = ("iterations", "depth", "learning_rate", "random_seed", "thread_count", "verbose", "allow_writing_files")
    common = {k: SAME[k] for k in keys}
    # the built-in sets each leaf to the residual quantile ("Exact", not open to a custom
    # objective); with a constant Hessian the same leaf is reached by iterating gradient steps
    ref = cb.CatBoost({**common, "loss_function": "Quantile:alpha=0.9"}).fit(cb.Pool(Xtr, ytr))
    ours = gbo.catboost.train(
        loss, {**common, "leaf_estimation_method": "Gradient", "leaf_estimation_iterations": 30}, cb.Pool(Xtr, ytr)
    )
    p_ref, p_ours = loss.loss(yte, raw(ref, Xte)).mean(), loss.loss(yte, raw(ours, Xte)).mean()
    print(f"CatBoost quantile(0.9) held out: pinball ratio {p_ours / p_ref:.4f}")
    assert p_ours <= 1.03 * p_ref


def test_multiclass_softmax_against_builtin_multiclass():
    # calc_ders_multi is called once per row (~0.15 ms each): 200 rows x 25 iterations take ~3 s
    X, y = multiclass(n=300)
    Xtr, ytr, Xte, yte = X[:200], y[:200], X[200:], y[200:]
    loss = gbo.MulticlassFocalLoss(gamma=0.0)
    s = {**SAME, "iterations": 25}
    ref = cb.CatBoost({**s, "loss_function": "MultiClass", "boost_from_average": False}).fit(cb.Pool(Xtr, ytr))
    t = time.perf_counter()
    ours = gbo.catboost.train(loss, s, cb.Pool(Xtr, ytr))
    seconds = time.perf_counter() - t
    ratio = loss.loss(yte, raw(ours, Xte)).mean() / loss.loss(yte, raw(ref, Xte)).mean()
    print(f"CatBoost softmax held out: logloss ratio {ratio:.4f}; custom fit {seconds:.2f} s (200 rows, 25 it)")
    assert ratio <= 1.03


# ------------------------------------------------------------------ start score, bias, Pools
@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_train_starts_from_init_score_and_predictions_include_it(kind, tmp_path):
    if kind == "binary":
        X, y = binary(n=600)
        loss = gbo.FocalLoss(gamma=2.0, alpha=0.25)
    elif kind == "multiclass":
        X, y = multiclass(n=150)
        loss = gbo.MulticlassFocalLoss(gamma=2.0, alpha=[1.0, 2.0, 0.5])
    else:
        X, y = regression(n=600)
        loss = gbo.HuberLoss(delta=2.0)
    # CatBoost stores labels and weights as float32: the start is the best constant for those
    y, w = y.astype(np.float32).astype(np.float64), weights(len(y)).astype(np.float32)
    start = loss.init_score(y, w)
    pool = cb.Pool(X, y, weight=w)
    model = gbo.catboost.train(loss, {**SAME, "iterations": 5}, pool)
    np.testing.assert_allclose(model.get_scale_and_bias()[1], start, rtol=1e-12)
    # the same model by hand: Pool(baseline=start), predictions + start
    n = len(y)
    base = np.tile(np.atleast_1d(start), (n, 1))
    params = {
        **SAME,
        "iterations": 5,
        "loss_function": gbo.catboost.Objective(loss),
        "eval_metric": gbo.catboost.Metric(loss),
    }
    if kind == "multiclass":
        params["classes_count"] = 3
    manual = cb.CatBoost(params).fit(cb.Pool(X, y, weight=w, baseline=base))
    manual_raw = raw(manual, X) + (base if kind == "multiclass" else base[:, 0])
    np.testing.assert_allclose(raw(model, X), manual_raw, rtol=1e-12, atol=1e-12)
    # the user's Pool keeps no baseline; the bias survives save_model / load_model
    assert np.size(pool.get_baseline()) == 0
    path = str(tmp_path / "m.cbm")
    model.save_model(path)
    loaded = cb.CatBoost()
    loaded.load_model(path)
    np.testing.assert_array_equal(raw(loaded, X), raw(model, X))


def test_early_stopping_uses_the_loss_metric_on_eval_set():
    X, y = binary(n=1500)
    loss = gbo.WeightedLogLoss()
    model = gbo.catboost.train(
        loss,
        {**SAME, "iterations": 300, "learning_rate": 0.5},
        cb.Pool(X[:1000], y[:1000]),
        eval_set=cb.Pool(X[1000:], y[1000:]),
        early_stopping_rounds=5,
    )
    assert model.tree_count_ < 300
    best = model.get_best_score()["validation"]
    # CatBoost names a custom metric by its class; its value is the weighted mean loss, start included
    assert best["Metric"] == pytest.approx(loss.loss(y[1000:], raw(model, X[1000:])).mean(), rel=1e-6)


def test_train_rejects_bad_arguments():
    X, y = binary(n=100)
    with pytest.raises(ValueError, match="loss_function"):
        gbo.catboost.train(gbo.FocalLoss(), {"loss_function": "Logloss"}, cb.Pool(X, y))
    with pytest.raises(TypeError, match="pool"):
        gbo.catboost.train(gbo.FocalLoss(), {}, (X, y))
    with pytest.raises(ValueError, match="binary"):
        gbo.catboost.train(gbo.FocalLoss(), {"iterations": 2}, cb.Pool(X, y * 3))


# ------------------------------------------------------------------ the adapters themselves
@pytest.mark.parametrize(
    "loss", [gbo.WeightedLogLoss(pos_weight=2.0), gbo.FocalLoss(gamma=2.0, alpha=0.25), gbo.QuantileLoss(0.3)], ids=repr
)
@pytest.mark.parametrize("weighted", [False, True])
def test_calc_ders_range_is_the_negated_weighted_gradient(loss, weighted):
    rng = np.random.default_rng(0)
    n = 500
    z = rng.normal(0, 3, n)
    y = (rng.random(n) < 0.4).astype(np.float32) if loss.task == "binary" else rng.normal(0, 2, n).astype(np.float32)
    w = rng.uniform(0.1, 3.0, n).astype(np.float32) if weighted else None
    obj = gbo.catboost.Objective(loss)
    for _ in range(2):  # the second call hits the label cache
        ders = obj.calc_ders_range(z, y, w)
        g, h = loss.gradient_hessian(y.astype(np.float64), z, None if w is None else w.astype(np.float64))
        assert ders.shape == (n, 2) and ders.dtype == np.float64
        np.testing.assert_allclose(ders[:, 0], -g, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(ders[:, 1], -h, rtol=1e-12, atol=1e-15)
    # the same memory with other labels: never the stale cache entry
    y2 = y.copy()
    y[:] = 1 - y2 if loss.task == "binary" else y2 + 5
    g, h = loss.gradient_hessian(y.astype(np.float64), z, None if w is None else w.astype(np.float64))
    np.testing.assert_allclose(obj.calc_ders_range(z, y, w)[:, 0], -g, rtol=1e-12, atol=1e-15)


def test_calc_ders_multi_is_the_negated_weighted_gradient():
    loss = gbo.MulticlassFocalLoss(gamma=2.0, alpha=[1.0, 2.0, 0.5])
    obj = gbo.catboost.Objective(loss)
    z = np.array([0.3, -1.2, 2.0])
    g, h = loss.gradient_hessian([1], z[None, :], [2.5])
    d1, d2 = obj.calc_ders_multi(z, 1.0, 2.5)
    np.testing.assert_allclose(d1, -g[0], rtol=1e-12)
    np.testing.assert_allclose(d2, np.diag(-h[0]), rtol=1e-12)
    with pytest.raises(ValueError, match="class indices"):
        obj.calc_ders_multi(z, 3.0, 1.0)
    with pytest.raises(ValueError, match="calc_ders_multi"):
        gbo.catboost.Objective(gbo.FocalLoss()).calc_ders_multi(z, 1.0, 1.0)


def test_adapters_reject_bad_input_naming_it():
    with pytest.raises(TypeError, match="loss must be a gbobjectives loss"):
        gbo.catboost.Objective("Logloss")
    with pytest.raises(TypeError, match="loss_or_metric"):
        gbo.catboost.Metric(42)
    obj = gbo.catboost.Objective(gbo.FocalLoss())
    y = np.array([0.0, 1.0], np.float32)
    with pytest.raises(ValueError, match="NaN or infinite"):
        obj.calc_ders_range(np.array([0.0, np.nan]), y, None)
    with pytest.raises(ValueError, match="binary labels"):
        obj.calc_ders_range(np.zeros(2), np.array([0.0, 2.0], np.float32), None)
    with pytest.raises(ValueError, match="non-negative"):
        obj.calc_ders_range(np.zeros(2), y, np.array([1.0, -1.0], np.float32))
    with pytest.raises(ValueError, match="classes_count"):
        gbo.catboost.Objective(gbo.MulticlassFocalLoss()).calc_ders_range(np.zeros(2), y, None)


def test_metric_values_and_direction():
    rng = np.random.default_rng(0)
    y = (rng.random(50) < 0.5).astype(np.float32)
    z = rng.normal(size=50)
    w = rng.uniform(0.5, 2, 50).astype(np.float32)
    for scorer in (gbo.FocalLoss(), gbo.LogLossHit()):
        m = gbo.catboost.Metric(scorer)
        err, tot = m.evaluate((z,), y, w)
        ref = gbo.metrics.LossMetric(scorer) if isinstance(scorer, gbo.Loss) else scorer
        assert m.get_final_error(err, tot) == pytest.approx(ref(y, z, w), rel=1e-12)
        assert m.is_max_optimal() is bool(getattr(scorer, "higher_is_better", False))
    zm = rng.normal(size=(50, 3))
    ym = rng.integers(0, 3, 50).astype(np.float32)
    m = gbo.catboost.Metric(gbo.MulticlassFocalLoss(gamma=0.0))
    err, tot = m.evaluate(tuple(zm.T), ym, None)
    assert err / tot == pytest.approx(gbo.MulticlassFocalLoss(gamma=0.0).loss(ym, zm).mean(), rel=1e-12)


def test_objects_pickle_and_compare():
    obj = gbo.catboost.Objective(gbo.FocalLoss(gamma=1.0))
    obj.calc_ders_range(np.zeros(3), np.array([0, 1, 1], np.float32), None)  # fill the caches
    met = gbo.catboost.Metric(gbo.HuberLoss(delta=2.0))
    obj2, met2 = pickle.loads(pickle.dumps(obj)), pickle.loads(pickle.dumps(met))
    assert obj2 == obj and met2 == met and obj2 != gbo.catboost.Objective(gbo.FocalLoss(gamma=2.0))
    np.testing.assert_array_equal(
        obj2.calc_ders_range(np.ones(3), np.array([0, 1, 1], np.float32), None),
        obj.calc_ders_range(np.ones(3), np.array([0, 1, 1], np.float32), None),
    )


def test_catboost_classifier_with_our_objects_and_no_jit_warning(recwarn):
    X, y = binary(n=400)
    loss = gbo.FocalLoss(gamma=2.0)
    clf = cb.CatBoostClassifier(
        loss_function=gbo.catboost.Objective(loss),
        eval_metric=gbo.catboost.Metric(loss),
        iterations=5,
        learning_rate=0.1,
        thread_count=1,
        verbose=False,
        allow_writing_files=False,
    )
    clf.fit(X, y)
    p = loss.inverse_link(clf.predict(X, prediction_type="RawFormulaVal"))
    assert p.shape == (400,) and np.all((p > 0) & (p < 1))
    # CatBoost would otherwise warn on every fit that it cannot numba-compile the methods
    assert not [w for w in recwarn if "numba" in str(w.message) or "optimiz" in str(w.message)]


def test_import_gbobjectives_does_not_import_catboost():
    code = "import sys, gbobjectives; gbobjectives.catboost.Objective; print('catboost' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("tau", [0.1, 0.9])
def test_expectile_loss_against_builtin_expectile(tau):
    """Issue 16: held-out expectile loss within 2 % of CatBoost's built-in ``Expectile``, with the
    same explicit settings (one Newton step per leaf, no backtracking). CatBoost's built-in starts
    at 0 (it allows no boost_from_average for Expectile); ours from the exact expectile. From the
    same start (a Pool baseline for the built-in) the two models are the same model."""
    X, y = regression(n=4000)
    Xtr, ytr, Xte, yte = X[:3000], y[:3000], X[3000:], y[3000:]
    loss = gbo.ExpectileLoss(expectile=tau)
    builtin = {**SAME, "loss_function": f"Expectile:alpha={tau}"}
    ref = cb.CatBoost(builtin).fit(cb.Pool(Xtr, ytr))
    ours = gbo.catboost.train(loss, SAME, cb.Pool(Xtr, ytr))
    l_ref, l_ours = loss.loss(yte, raw(ref, Xte)).mean(), loss.loss(yte, raw(ours, Xte)).mean()
    print(f"CatBoost expectile({tau}) held out: ours {l_ours:.4f}, built-in {l_ref:.4f}, ratio {l_ours / l_ref:.4f}")
    assert l_ours <= 1.02 * l_ref
    c = loss.init_score(ytr)
    same_start = cb.CatBoost(builtin).fit(cb.Pool(Xtr, ytr, baseline=np.full(len(ytr), c)))
    # measured 4e-7: CatBoost's float32 sums; a Hessian off by any constant factor (a, not 2a)
    # or a gradient of the wrong side's weight moves the raw scores by far more
    assert np.max(np.abs(raw(same_start, Xte) + c - raw(ours, Xte))) <= 1e-4


def test_expectile_same_start_relation_can_fail():
    """A wrong asymmetry (tau swapped) is caught by the 1e-4 relation above."""
    X, y = regression(n=2000)
    c = gbo.ExpectileLoss(0.9).init_score(y)
    ref = cb.CatBoost({**SAME, "loss_function": "Expectile:alpha=0.9"}).fit(cb.Pool(X, y, baseline=np.full(len(y), c)))
    wrong = gbo.catboost.train(gbo.ExpectileLoss(0.1), SAME, cb.Pool(X, y, baseline=np.full(len(y), c)))
    assert np.max(np.abs(raw(ref, X) + c - (raw(wrong, X) + c))) > 1e-2


def test_estimator_on_constant_features_or_sparse_arrays():
    """engine='catboost': constant features get one clear ValueError naming X (CatBoost's own
    quantizer error otherwise); scipy sparse arrays and int64-indexed CSR (both rejected by
    CatBoost itself) are converted and predict the same as the dense matrix."""
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="X: every feature is constant"):
        gbo.BoostedRegressor(engine="catboost", n_estimators=3).fit(np.ones((20, 2)), rng.normal(size=20))
    X = rng.normal(size=(60, 3)) * (rng.random((60, 3)) < 0.5)
    y = X[:, 0] + rng.normal(size=60)
    csr64 = sp.csr_matrix(X)
    csr64.indices, csr64.indptr = csr64.indices.astype(np.int64), csr64.indptr.astype(np.int64)
    dense = gbo.BoostedRegressor(engine="catboost", n_estimators=5, random_state=0).fit(X, y)
    for Xs in (sp.csr_array(X), csr64):
        model = gbo.BoostedRegressor(engine="catboost", n_estimators=5, random_state=0).fit(Xs, y)
        np.testing.assert_allclose(model.predict(Xs), dense.predict(X), rtol=1e-12)
