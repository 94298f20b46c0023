"""Where users work: pandas ``category`` columns, feature importances, ``booster_`` with SHAP and
the engines' plotting helpers. Every test trains real (small) models on both engines.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("xgboost")
pytest.importorskip("lightgbm")
pd = pytest.importorskip("pandas")

from sklearn.feature_selection import SelectFromModel  # noqa: E402

import gbobjectives as gbo  # noqa: E402
from gbobjectives import BoostedClassifier, BoostedRegressor  # noqa: E402

ENGINES = ["xgboost", "lightgbm"]
#: LightGBM's default min_data_in_leaf (20) would hide the small categories of these tiny sets
SMALL_LEAVES = {"xgboost": {}, "lightgbm": {"min_child_samples": 5}}
EFFECT = {"red": 2.0, "green": -1.5, "blue": 0.0, "grey": 0.7}


def category_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "colour": pd.Categorical(rng.choice(list(EFFECT), n), categories=list(EFFECT)),
            "flag": rng.integers(0, 2, n).astype(bool),
        }
    )


def signal(frame: pd.DataFrame) -> np.ndarray:
    # the category carries most of the signal: a model that ignored or mis-coded it would fail
    return 0.5 * frame["x"].to_numpy() + frame["colour"].map(EFFECT).astype(float).to_numpy()


def uses_categories_natively(est) -> bool:
    if est.engine == "xgboost":
        return list(est.booster_.feature_types or []) == ["float", "c", "i"]
    return est.booster_.pandas_categorical == [list(EFFECT)]


# ------------------------------------------------------------------------------ categorical columns
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("engine_params", [None, {"enable_categorical": True}], ids=["plain", "enable_categorical"])
def test_classifier_trains_on_pandas_category_columns(engine, engine_params):
    train, new = category_frame(600, 0), category_frame(300, 1)
    y = np.where(signal(train) + 0.3 * np.random.default_rng(2).normal(size=600) > 0.3, "yes", "no")
    clf = BoostedClassifier(
        engine=engine, n_estimators=40, n_jobs=1, random_state=0, engine_params=engine_params, **SMALL_LEAVES[engine]
    ).fit(train, y)
    assert uses_categories_natively(clf)
    assert clf.n_features_in_ == 3 and clf.feature_names_in_.tolist() == ["x", "colour", "flag"]
    # new rows, the same categories declared in another order (and one category absent):
    # both engines match categories by value, not by code
    shuffled = new.assign(
        colour=new["colour"].cat.remove_unused_categories().cat.reorder_categories(["grey", "blue", "red", "green"])
    )
    shuffled = shuffled[shuffled["colour"] != "grey"].copy()
    shuffled["colour"] = shuffled["colour"].cat.remove_unused_categories()
    same = new[new["colour"] != "grey"]
    np.testing.assert_array_equal(clf.decision_function(shuffled), clf.decision_function(same))
    y_new = np.where(signal(same) > 0.3, "yes", "no")
    assert clf.score(shuffled, y_new) > 0.9
    proba = clf.predict_proba(new)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("engine", ENGINES)
def test_regressor_on_category_columns_with_early_stopping_and_save(engine, tmp_path):
    train, new = category_frame(500, 3), category_frame(200, 4)
    y = 10 * signal(train) + np.random.default_rng(5).normal(size=500)
    reg = BoostedRegressor(
        engine=engine, n_estimators=200, early_stopping_rounds=10, n_jobs=1, random_state=0, **SMALL_LEAVES[engine]
    ).fit(train, y)  # the validation split keeps the DataFrame (and its categories)
    assert uses_categories_natively(reg)
    assert reg.best_iteration_ is not None
    assert reg.score(new, 10 * signal(new)) > 0.9
    reg.save(tmp_path / "m.json")
    loaded = gbo.load_model(tmp_path / "m.json")
    np.testing.assert_array_equal(loaded.predict(new), reg.predict(new))


@pytest.mark.parametrize("engine", ENGINES)
def test_category_model_predicts_from_dataframes_only(engine):
    train = category_frame(200, 6)
    clf = BoostedClassifier(engine=engine, n_estimators=5, n_jobs=1, **SMALL_LEAVES[engine]).fit(
        train, signal(train) > 0
    )
    with pytest.raises(ValueError, match=r"X must be a pandas DataFrame.*\['colour'\]"):
        clf.predict(train.to_numpy())
    with pytest.raises(ValueError, match=r"X column 'colour'.*astype\('category'\)"):
        clf.predict(train.assign(colour=train["colour"].astype(str)))
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(train[["colour", "x", "flag"]])


@pytest.mark.parametrize("engine", ENGINES)
def test_text_column_error_names_the_column(engine):
    train = category_frame(100, 7)
    with pytest.raises(ValueError, match=r"X column 'colour' .*not numeric.*astype\('category'\)"):
        BoostedRegressor(engine=engine, n_estimators=2).fit(train.assign(colour=train["colour"].astype(str)), train.x)


# ------------------------------------------------------------------------------ importances, names
def importance_data(n: int = 400, seed: int = 8) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["noise_a", "signal", "weak", "noise_b"])
    return X, 5 * X["signal"].to_numpy() + X["weak"].to_numpy() + 0.1 * rng.normal(size=n)


@pytest.mark.parametrize("engine", ENGINES)
def test_feature_importances_are_normalised_total_gain(engine):
    X, y = importance_data()
    reg = BoostedRegressor(engine=engine, n_estimators=20, n_jobs=1, random_state=0).fit(X, y)
    imp = reg.feature_importances_
    assert imp.shape == (4,) and np.all(imp >= 0)
    assert imp.sum() == pytest.approx(1.0)
    assert np.argmax(imp) == 1 and imp[1] > imp[2] > max(imp[0], imp[3])
    # the documented definition, from the engine's own booster
    if engine == "xgboost":
        gain = reg.booster_.get_score(importance_type="total_gain")
        expected = np.array([gain.get(f"f{i}", 0.0) for i in range(4)])
    else:
        expected = reg.booster_.feature_importance(importance_type="gain")
    np.testing.assert_allclose(imp, expected / expected.sum(), rtol=1e-12)
    # DataFrame input: scikit-learn's names and count
    assert reg.n_features_in_ == 4 and reg.feature_names_in_.tolist() == list(X.columns)


@pytest.mark.parametrize("engine", ENGINES)
def test_feature_importances_multiclass_and_select_from_model(engine):
    X, y = importance_data(seed=9)
    classes = np.digitize(y, [-2.0, 2.0])
    clf = BoostedClassifier(engine=engine, n_estimators=10, n_jobs=1, random_state=0).fit(X.to_numpy(), classes)
    assert not hasattr(clf, "feature_names_in_")  # an array has no names
    assert clf.feature_importances_.shape == (4,) and np.argmax(clf.feature_importances_) == 1
    selector = SelectFromModel(BoostedRegressor(engine=engine, n_estimators=10, n_jobs=1), threshold="mean")
    assert selector.fit(X, y).get_support().tolist() == [False, True, False, False]


def test_feature_importances_need_a_fitted_estimator():
    assert not hasattr(BoostedClassifier(), "feature_importances_")


# ------------------------------------------------------------------------------ booster_: SHAP, plots
def shap_cases(engine: str):
    rng = np.random.default_rng(10)
    X = rng.normal(size=(300, 4))
    y_bin = (X[:, 0] + X[:, 1] * X[:, 2] + 0.3 * rng.normal(size=300) > 0.8).astype(int)
    y_multi = np.argmax(X[:, :3] + rng.normal(size=(300, 3)), axis=1)
    y_reg = 10 + 3 * X[:, 0] + rng.normal(size=300)
    fast = {"engine": engine, "n_estimators": 15, "n_jobs": 1, "random_state": 0}
    return X, [
        (BoostedClassifier(loss=gbo.FocalLoss(gamma=2.0, alpha=0.3), **fast), y_bin),
        (BoostedClassifier(**fast), y_multi),
        (BoostedRegressor(**fast), y_reg),
        (BoostedRegressor(loss=gbo.PseudoHuberLoss(delta=2.0), **fast), y_reg),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_shap_tree_explainer_on_booster_adds_up_to_the_raw_score(engine):
    shap = pytest.importorskip("shap")
    X, cases = shap_cases(engine)
    for est, y in cases:
        est.fit(X, y)
        explainer = shap.TreeExplainer(est.booster_)
        values = np.asarray(explainer.shap_values(X))
        expected = np.asarray(explainer.expected_value)
        raw = est.decision_function(X) if hasattr(est, "decision_function") else est.predict(X)
        assert values.shape == (*X.shape, *raw.shape[1:])
        # the start (init_score_) is in the expected value: nothing to add by hand. XGBoost keeps
        # leaf values and margins in float32 (measured error <= 4e-6 at |raw| ~ 10)
        tol = {"xgboost": 2e-6 * (1 + np.abs(raw)), "lightgbm": 1e-10 * (1 + np.abs(raw))}[engine]
        assert np.all(np.abs(values.sum(axis=1) + expected - raw) <= tol), (est, np.abs(values.sum(axis=1) - raw))


@pytest.mark.parametrize("engine", ENGINES)
def test_shap_on_a_category_model(engine):
    """Categorical models explain too; XGBoost needs the DMatrix with enable_categorical (docs)."""
    shap = pytest.importorskip("shap")
    import xgboost as xgb

    train = category_frame(400, 11)
    clf = BoostedClassifier(engine=engine, n_estimators=15, n_jobs=1, **SMALL_LEAVES[engine])
    clf.fit(train, signal(train) > 0.3)
    explainer = shap.TreeExplainer(clf.booster_)
    data = xgb.DMatrix(train, enable_categorical=True) if engine == "xgboost" else train
    values = explainer.shap_values(data)
    raw = clf.decision_function(train)
    tol = {"xgboost": 2e-6, "lightgbm": 1e-10}[engine] * (1 + np.abs(raw))
    assert np.all(np.abs(values.sum(axis=1) + explainer.expected_value - raw) <= tol)
    assert np.argmax(np.abs(values).mean(axis=0)) == 1  # the category carries most of the signal


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_plot_importance_takes_booster(engine):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = importance_data()
    reg = BoostedRegressor(engine=engine, n_estimators=5, n_jobs=1).fit(X, y)
    module = __import__(engine)
    ax = module.plot_importance(reg.booster_)
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert labels & {"signal", "f1", "Column_1"}, labels
    plt.close("all")


# ------------------------------------------------------------------------------ engine="catboost"
# (issue 18 audit: with engine="catboost" a category column failed inside CatBoost, "column 'colour'
# has dtype 'category' but is not in cat_features list", and feature_importances_ raised
# AttributeError: the CatBoost back-end had no importances)
def test_catboost_estimators_train_on_category_columns(tmp_path):
    catboost = pytest.importorskip("catboost")
    train, new = category_frame(600, 0), category_frame(300, 1)
    train.loc[[3, 50], "colour"] = np.nan  # missing: a category of its own for CatBoost
    y = np.where(
        signal(train.fillna({"colour": "blue"})) + 0.3 * np.random.default_rng(2).normal(size=600) > 0.3, "yes", "no"
    )
    for engine_params in (None, {"enable_categorical": True}):
        clf = BoostedClassifier(
            engine="catboost", n_estimators=60, n_jobs=1, random_state=0, engine_params=engine_params
        ).fit(train, y)
        assert isinstance(clf.booster_, catboost.CatBoost)
        assert clf.booster_.get_cat_feature_indices() == [1]  # split on natively, not as codes
        assert clf.feature_names_in_.tolist() == ["x", "colour", "flag"]
    # the same categories declared in another order: matched by value, not by code
    shuffled = new.assign(colour=new["colour"].cat.reorder_categories(["grey", "blue", "red", "green"]))
    np.testing.assert_array_equal(clf.decision_function(shuffled), clf.decision_function(new))
    assert clf.score(new, np.where(signal(new) > 0.3, "yes", "no")) > 0.9
    assert np.all(np.isfinite(clf.decision_function(train)))  # missing categories predict too

    reg = BoostedRegressor(engine="catboost", n_estimators=300, early_stopping_rounds=10, n_jobs=1, random_state=0).fit(
        train, 10 * signal(train.fillna({"colour": "blue"}))
    )
    assert reg.best_iteration_ is not None and reg.score(new, 10 * signal(new)) > 0.9
    reg.save(tmp_path / "m.json")
    np.testing.assert_array_equal(gbo.load_model(tmp_path / "m.json").predict(new), reg.predict(new))


def test_catboost_feature_importances():
    pytest.importorskip("catboost")
    X, y = importance_data()
    reg = BoostedRegressor(engine="catboost", n_estimators=30, n_jobs=1, random_state=0).fit(X, y)
    imp = reg.feature_importances_
    assert imp.shape == (4,) and np.all(imp >= 0) and imp.sum() == pytest.approx(1.0)
    assert np.argmax(imp) == 1 and imp[1] > imp[2] > max(imp[0], imp[3])
    # the documented definition: CatBoost's PredictionValuesChange, normalised
    expected = reg.booster_.get_feature_importance(type="PredictionValuesChange")
    np.testing.assert_allclose(imp, expected / expected.sum(), rtol=1e-12)
    # over the rounds used to predict
    short = BoostedRegressor(engine="catboost", n_estimators=30, n_jobs=1, random_state=0).fit(X, y)
    short.n_estimators_ = 5
    first5 = reg.booster_.copy()
    first5.shrink(ntree_end=5)
    expected5 = first5.get_feature_importance(type="PredictionValuesChange")
    np.testing.assert_allclose(short.feature_importances_, expected5 / expected5.sum(), rtol=1e-12)
    classes = np.digitize(y, [-2.0, 2.0])
    clf = BoostedClassifier(engine="catboost", n_estimators=10, n_jobs=1, random_state=0).fit(X, classes)
    assert clf.feature_importances_.shape == (4,) and np.argmax(clf.feature_importances_) == 1
