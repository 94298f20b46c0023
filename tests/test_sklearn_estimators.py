"""BoostedClassifier / BoostedRegressor, training real models on both engines.

Small data, few trees, one thread (except the GridSearchCV n_jobs=2 test): the whole file
runs in well under a minute on two cores.
"""

from __future__ import annotations

import json
import pickle
import re
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest

pytest.importorskip("xgboost")
pytest.importorskip("lightgbm")

from sklearn.base import clone  # noqa: E402
from sklearn.metrics import get_scorer  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import gbobjectives as gbo  # noqa: E402
from gbobjectives import BoostedClassifier, BoostedRegressor, FocalLoss, HuberLoss, MulticlassFocalLoss  # noqa: E402
from gbobjectives import sklearn as gbo_sklearn  # noqa: E402

ENGINES = ["xgboost", "lightgbm"]
try:  # CatBoost is an optional extra: its cases run where it is installed (CI installs .[test])
    import catboost  # noqa: F401

    WITH_CATBOOST = [*ENGINES, "catboost"]
except ImportError:
    WITH_CATBOOST = ENGINES
FAST = {"n_estimators": 15, "n_jobs": 1, "random_state": 0}


def binary_data(n: int = 240, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.5 * rng.normal(size=n) > 0.3).astype(int)
    return X, y


def multiclass_data(n: int = 240, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = np.digitize(X[:, 0] + 0.3 * rng.normal(size=n), [-0.5, 0.5])
    return X, y


def regression_data(n: int = 240, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = 50.0 * X[:, 0] + 10.0 * X[:, 1] ** 2 + 1000.0 + rng.normal(size=n)
    return X, y


# ------------------------------------------------------------------------------ basics
@pytest.mark.parametrize("engine", WITH_CATBOOST)
def test_classifier_with_default_arguments(engine):
    X, y = binary_data()
    clf = BoostedClassifier(engine=engine, n_jobs=1).fit(X, y)  # otherwise defaults
    assert clf.loss is None and clf.loss_ == gbo.WeightedLogLoss()
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.decision_function(X).shape == (len(y),)
    assert clf.score(X, y) > 0.9
    assert clf.n_features_in_ == 4 and clf.best_iteration_ is None and clf.n_estimators_ == 100


def test_no_argument_constructors_fit():
    X, y = binary_data()
    assert BoostedClassifier().fit(X, y).score(X, y) > 0.9
    Xr, yr = regression_data()
    assert BoostedRegressor().fit(Xr, yr).score(Xr, yr) > 0.9


@pytest.mark.parametrize("engine", ENGINES)
def test_multiclass_default_loss_is_softmax_cross_entropy(engine):
    X, y = multiclass_data()
    clf = BoostedClassifier(engine=engine, **FAST).fit(X, y)
    assert clf.loss_ == MulticlassFocalLoss(gamma=0.0)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.decision_function(X).shape == (len(y), 3)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(proba, axis=1)])
    assert clf.score(X, y) > 0.8


@pytest.mark.parametrize("engine", ENGINES)
def test_string_labels_and_pandas_feature_names(engine):
    pd = pytest.importorskip("pandas")
    X, y = multiclass_data()
    labels = np.array(["low", "mid", "high"])[y]
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = BoostedClassifier(engine=engine, loss=MulticlassFocalLoss(gamma=1.0), **FAST).fit(df, labels)
    assert clf.classes_.tolist() == ["high", "low", "mid"]
    assert clf.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    assert set(clf.predict(df)) <= {"low", "mid", "high"}
    assert (clf.predict(df) == labels).mean() > 0.8


@pytest.mark.parametrize("engine", ENGINES)
def test_regressor_default_loss_is_scale_aware_huber(engine):
    X, y = regression_data()
    reg = BoostedRegressor(engine=engine, n_estimators=60, n_jobs=1).fit(X, y)
    assert isinstance(reg.loss_, HuberLoss) and reg.loss is None
    assert 30 < reg.loss_.delta < 100  # 1.345 x the robust scale of y (about 50 here), not 1
    assert reg.score(X, y) > 0.95
    assert not hasattr(reg, "decision_function")  # scikit-learn's convention for regressors


@pytest.mark.parametrize("engine", WITH_CATBOOST)
def test_missing_values_are_handled(engine):
    X, y = binary_data()
    X = X.copy()
    X[::7, 0] = np.nan
    clf = BoostedClassifier(engine=engine, **FAST).fit(X, y)
    assert np.all(np.isfinite(clf.predict_proba(X)))


# ------------------------------------------------------------------------------ start score
@pytest.mark.parametrize("engine", WITH_CATBOOST)
@pytest.mark.parametrize(
    "kind, loss",
    [
        ("binary", FocalLoss(gamma=2.0, alpha=0.25)),
        ("binary", None),
        ("multiclass", MulticlassFocalLoss(gamma=1.0, alpha=[1.0, 2.0, 0.5])),
        ("regression", gbo.QuantileLoss(quantile=0.8)),
        ("regression", gbo.PseudoHuberLoss(delta=5.0)),
    ],
)
def test_predictions_start_from_init_score(engine, kind, loss):
    data = {"binary": binary_data, "multiclass": multiclass_data, "regression": regression_data}[kind]
    X, y = data()
    cls = BoostedRegressor if kind == "regression" else BoostedClassifier
    # learning_rate must be > 0 (LightGBM aborts on 0): a vanishing one leaves only the start
    # (CatBoost rejects learning rates below 1e-6 as zero: its one tree may then move a raw
    # score by up to 1e-6 x 30 gradient steps, so the start is also checked in the model's bias)
    lr = 1e-6 if engine == "catboost" else 1e-12
    est = cls(engine=engine, loss=loss, n_estimators=1, learning_rate=lr, n_jobs=1).fit(X, y)
    expected = est.loss_.init_score(y)
    np.testing.assert_allclose(est.init_score_, expected)
    raw = est.decision_function(X) if kind != "regression" else est.predict(X)
    tol = 1e-4 if engine == "catboost" else 1e-6
    np.testing.assert_allclose(raw, np.broadcast_to(expected, raw.shape), rtol=1e-6, atol=tol)
    if engine == "catboost":
        np.testing.assert_allclose(est.booster_.get_scale_and_bias()[1], expected, rtol=1e-12)


# ------------------------------------------------------------------------------ sklearn tools
@pytest.mark.parametrize("engine", ENGINES)
def test_pipeline_gridsearch_over_loss_parameters_n_jobs_2(engine):
    X, y = binary_data()
    pipe = Pipeline([("scale", StandardScaler()), ("clf", BoostedClassifier(loss=FocalLoss(), engine=engine, **FAST))])
    search = GridSearchCV(pipe, {"clf__loss__gamma": [0, 1, 2]}, cv=2, scoring="roc_auc", n_jobs=2)
    search.fit(X, y)
    assert search.best_params_["clf__loss__gamma"] in (0, 1, 2)
    assert search.best_score_ > 0.85
    assert search.best_estimator_.named_steps["clf"].loss_.gamma == search.best_params_["clf__loss__gamma"]
    # the grid's own loss object was never modified by the fits
    assert pipe.named_steps["clf"].loss == FocalLoss()


@pytest.mark.parametrize("engine", WITH_CATBOOST)
def test_sklearn_scorers_accuracy_and_roc_auc(engine):
    X, y = binary_data()
    clf = BoostedClassifier(loss=FocalLoss(gamma=1.0), engine=engine, **FAST)
    auc = cross_val_score(clf, X, y, cv=2, scoring="roc_auc")
    acc = cross_val_score(clf, X, y, cv=2, scoring="accuracy")
    assert np.all(auc > 0.85) and np.all(acc > 0.75)
    fitted = clone(clf).fit(X, y)
    assert get_scorer("roc_auc")(fitted, X, y) > 0.9
    assert get_scorer("neg_log_loss")(fitted, X, y) < 0


def test_clone_keeps_loss_parameters():
    clf = BoostedClassifier(loss=FocalLoss(gamma=1.5, alpha=0.3), engine="lightgbm", engine_params={"max_bin": 63})
    c = clone(clf)
    assert c.loss == clf.loss and c.loss is not clf.loss and c.engine_params == {"max_bin": 63}
    assert clf.get_params()["loss__gamma"] == 1.5
    c.set_params(loss__gamma=0.0)
    assert c.loss.gamma == 0.0 and clf.loss.gamma == 1.5


# ------------------------------------------------------------------------------ sample weights
@pytest.mark.parametrize("engine", ENGINES)
def test_sample_weights_change_the_fit_and_act_like_duplication(engine):
    rng = np.random.default_rng(3)
    # few distinct feature values, so the engines' histogram bins are the same with or without repeats
    X = rng.integers(0, 8, size=(120, 3)).astype(float)
    y = (X[:, 0] + X[:, 1] + rng.normal(size=120) > 7).astype(int)
    w = rng.integers(1, 4, size=120).astype(float)
    # LightGBM's count-based leaf limits (min_data_in_leaf, min_data_in_bin) count rows, not weight
    extra = {"min_child_samples": 1, "engine_params": {"min_data_in_bin": 1}} if engine == "lightgbm" else {}
    est = BoostedClassifier(engine=engine, n_estimators=10, n_jobs=1, random_state=0, **extra)
    weighted = clone(est).fit(X, y, sample_weight=w).decision_function(X)
    unweighted = clone(est).fit(X, y).decision_function(X)
    rep = np.repeat(np.arange(120), w.astype(int))
    duplicated = clone(est).fit(X[rep], y[rep]).decision_function(X)
    assert np.max(np.abs(weighted - unweighted)) > 1e-3
    np.testing.assert_allclose(weighted, duplicated, atol=1e-5)


# ------------------------------------------------------------------------------ early stopping
@pytest.mark.parametrize("engine", WITH_CATBOOST)
def test_early_stopping_on_eval_set_uses_the_loss_metric(engine):
    X, y = binary_data(n=400, seed=5)
    flip = np.random.default_rng(0).random(len(y)) < 0.25  # label noise so that it overfits
    y = np.where(flip, 1 - y, y)
    clf = BoostedClassifier(
        engine=engine,
        loss=FocalLoss(gamma=1.0),
        n_estimators=300,
        learning_rate=0.3,
        early_stopping_rounds=5,
        n_jobs=1,
        random_state=0,
    )
    clf.fit(X[:300], y[:300], eval_set=(X[300:], y[300:]))
    assert clf.best_iteration_ is not None and clf.best_iteration_ < 200
    assert clf.n_estimators_ == clf.best_iteration_ + 1
    history = clf.evals_result_["valid_0"][clf.loss_.name]
    assert int(np.argmin(history)) == clf.best_iteration_


@pytest.mark.parametrize("engine", WITH_CATBOOST)
def test_early_stopping_with_validation_fraction(engine):
    X, y = regression_data(n=300)
    reg = BoostedRegressor(
        engine=engine,
        n_estimators=400,
        learning_rate=0.5,
        early_stopping_rounds=3,
        validation_fraction=0.2,
        n_jobs=1,
        random_state=0,
    ).fit(X, y)
    assert reg.best_iteration_ is not None and reg.best_iteration_ < 399
    assert reg.score(X, y) > 0.9


# ------------------------------------------------------------------------------ persistence
@pytest.mark.parametrize("engine", WITH_CATBOOST)
@pytest.mark.parametrize("kind", ["binary", "multiclass_strings", "regression", "early_stopped"])
def test_save_load_round_trip_identical_predictions(tmp_path, engine, kind):
    pd = pytest.importorskip("pandas")
    if kind == "regression":
        X, y = regression_data()
        est = BoostedRegressor(engine=engine, loss=gbo.QuantileLoss(quantile=0.7), **FAST)
    elif kind == "multiclass_strings":
        X, y = multiclass_data()
        y = np.array(["cat", "dog", "eel"])[y]
        est = BoostedClassifier(engine=engine, loss=MulticlassFocalLoss(alpha=[1.0, 2.0, 1.0]), **FAST)
    else:
        X, y = binary_data()
        est = BoostedClassifier(engine=engine, loss=FocalLoss(gamma=1.0, alpha=0.4), **FAST)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    if kind == "early_stopped":
        est.set_params(n_estimators=200, learning_rate=0.5, early_stopping_rounds=2)
    est.fit(df, y)
    path = tmp_path / "model.json"
    est.save(path)
    for loaded in (gbo_sklearn.load_model(path), type(est).load(path)):
        assert type(loaded) is type(est)
        assert loaded.get_params() == est.get_params()
        assert loaded.loss_ == est.loss_ and loaded.best_iteration_ == est.best_iteration_
        np.testing.assert_array_equal(loaded.feature_names_in_, est.feature_names_in_)
        np.testing.assert_array_equal(loaded.predict(df), est.predict(df))
        if kind != "regression":
            np.testing.assert_array_equal(loaded.classes_, est.classes_)
            np.testing.assert_array_equal(loaded.predict_proba(df), est.predict_proba(df))
            np.testing.assert_array_equal(loaded.decision_function(df), est.decision_function(df))
    doc = json.loads(path.read_text())
    assert doc["versions"]["gbobjectives"] == gbo.__version__ and doc["engine_model"]


def test_load_checks_the_class(tmp_path):
    X, y = binary_data()
    BoostedClassifier(**FAST).fit(X, y).save(tmp_path / "m.json")
    with pytest.raises(TypeError, match="BoostedClassifier, not a BoostedRegressor"):
        BoostedRegressor.load(tmp_path / "m.json")


@pytest.mark.parametrize(
    "tamper, message",
    [
        (lambda d: d["fitted_loss"].update({"class": "subprocess.Popen"}), "unknown loss class 'subprocess.Popen'"),
        (lambda d: d.update({"loss": {"class": "__import__", "params": {"name": "os"}}}), "unknown loss class"),
        (lambda d: d["fitted_loss"]["params"].update({"gamma": -1.0}), "invalid parameters for FocalLoss"),
        (lambda d: d["fitted_loss"]["params"].update({"command": "rm -rf /"}), "invalid parameters for FocalLoss"),
        (lambda d: d.update({"estimator": "os.system"}), "unknown estimator"),
        (lambda d: d["classes"].update({"dtype": "O"}), "invalid class label dtype"),
        (lambda d: d.update({"format": "pickle"}), "not a gbobjectives estimator file"),
    ],
)
def test_tampered_files_are_rejected(tmp_path, tamper, message):
    X, y = binary_data()
    path = tmp_path / "m.json"
    BoostedClassifier(loss=FocalLoss(), **FAST).fit(X, y).save(path)
    doc = json.loads(path.read_text())
    tamper(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=re.escape(message)):
        gbo_sklearn.load_model(path)


@pytest.mark.parametrize("engine", ENGINES)
def test_pickle_and_joblib(tmp_path, engine):
    X, y = multiclass_data()
    clf = BoostedClassifier(engine=engine, loss=MulticlassFocalLoss(gamma=2.0), **FAST).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    joblib.dump(clf, tmp_path / "clf.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "clf.joblib").predict_proba(X), clf.predict_proba(X))


# ------------------------------------------------------------------------------ bad input
@pytest.fixture
def no_training(monkeypatch):
    """Make any engine training fail loudly: the errors below must come before it."""

    def boom(*args, **kwargs):
        raise AssertionError("training started before the input was rejected")

    for backend in gbo_sklearn._BACKENDS.values():
        monkeypatch.setattr(backend, "train", boom)


@pytest.mark.parametrize("engine", ENGINES)
def test_bad_losses_are_rejected_before_training(engine, no_training):
    Xb, yb = binary_data()
    Xm, ym = multiclass_data()
    Xr, yr = regression_data()
    with pytest.raises(ValueError, match=r"BoostedClassifier needs a classification loss.*HuberLoss.*regression"):
        BoostedClassifier(loss=HuberLoss(), engine=engine).fit(Xb, yb)
    with pytest.raises(ValueError, match=r"BoostedRegressor needs a regression loss.*FocalLoss.*binary"):
        BoostedRegressor(loss=FocalLoss(), engine=engine).fit(Xr, yr)
    with pytest.raises(ValueError, match=r"FocalLoss.*is a binary loss but y has 3 classes"):
        BoostedClassifier(loss=FocalLoss(), engine=engine).fit(Xm, ym)
    with pytest.raises(ValueError, match=r"built for 2 classes .* but y has 3 classes"):
        BoostedClassifier(loss=MulticlassFocalLoss(alpha=[1.0, 2.0]), engine=engine).fit(Xm, ym)
    with pytest.raises(ValueError, match=r"at least 2 classes.*one class only"):
        BoostedClassifier(engine=engine).fit(Xb, np.zeros(len(yb)))
    with pytest.raises(TypeError, match="gbobjectives loss instance"):
        BoostedClassifier(loss="focal", engine=engine).fit(Xb, yb)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        BoostedClassifier(learning_rate=0.0, engine=engine).fit(Xb, yb)
    with pytest.raises(ValueError, match="the estimator's loss is the objective"):
        BoostedClassifier(engine=engine, engine_params={"objective": "binary:logistic"}).fit(Xb, yb)


def test_unknown_engine_lists_the_available_ones(no_training):
    X, y = binary_data()
    with pytest.raises(ValueError, match=r"engine='gbm' is not supported; available engines: \['catboost', 'lightgbm'"):
        BoostedClassifier(engine="gbm").fit(X, y)


@pytest.mark.parametrize("engine", ENGINES)
def test_missing_engine_names_the_pip_extra(monkeypatch, engine, no_training):
    monkeypatch.setitem(sys.modules, engine, None)  # makes `import <engine>` raise ImportError
    X, y = regression_data()
    with pytest.raises(ImportError) as info:
        BoostedRegressor(engine=engine).fit(X, y)
    # both ways to install (issue 18): by name once published, and from a clone
    assert f'pip install "gbobjectives[{engine}]"' in str(info.value)
    assert f'pip install ".[{engine}]"' in str(info.value)


def test_xgboost_rejects_min_child_samples():
    X, y = binary_data()
    with pytest.raises(ValueError, match="min_child_samples is a LightGBM parameter"):
        BoostedClassifier(engine="xgboost", min_child_samples=5).fit(X, y)


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_params_override(engine):
    X, y = regression_data()
    base = BoostedRegressor(engine=engine, **FAST).fit(X, y).predict(X)
    stumps = BoostedRegressor(engine=engine, engine_params={"max_depth": 1}, **FAST).fit(X, y).predict(X)
    alias = {"eta": 0.1} if engine == "xgboost" else {"shrinkage_rate": 0.1}  # an alias replaces learning_rate
    same = BoostedRegressor(engine=engine, learning_rate=0.9, engine_params=alias, **FAST).fit(X, y).predict(X)
    assert np.max(np.abs(base - stumps)) > 1e-3
    np.testing.assert_allclose(same, base)


# ------------------------------------------------------------------------------ docs
def test_quickstart_sklearn_doc_runs():
    text = (Path(__file__).resolve().parents[1] / "docs" / "quickstart_sklearn.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    namespace: dict = {}
    exec(compile("\n".join(blocks), "quickstart_sklearn.md", "exec"), namespace)  # noqa: S102
