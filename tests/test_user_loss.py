"""A user's own loss, written in the user's own module, gets everything with no edit to the package.

The module below is the README's "Adding a loss" example (the Fair loss) plus a tiny binary
loss for the classifier. The test writes it to a temporary folder, imports it, and runs the
audit, the plain engine adapters, both estimators on both engines, GridSearchCV over the loss's
parameter, save/load (after the import; loading without it runs nothing and fails cleanly) and
compare's Python API - all with real XGBoost and LightGBM training.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

import gbobjectives as gbo  # noqa: E402

MODULE = "gbo_user_losses_example"

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_fair_loss() -> str:
    """The first Python block of the README's "Adding a loss" section: the complete Fair loss."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Adding a loss") :]
    block = section[section.index("```python\n") + len("```python\n") :]
    return block[: block.index("```")]


PLAIN_LOG_LOSS = textwrap.dedent(
    '''

    class PlainLogLoss(gbo.BinaryLoss):
        """Logloss, written by hand in stable form: y log(1 + e^-z) + (1 - y) log(1 + e^z)."""

        short_name = "plainlog"

        def __init__(self) -> None:
            self._validate_params()

        def _validate_params(self) -> None:
            pass

        def _loss(self, y, z):
            return y * np.logaddexp(0.0, -z) + (1.0 - y) * np.logaddexp(0.0, z)

        def _gradient_hessian(self, y, z, w):
            p, q = expit(z), expit(-z)
            g, h = (1.0 - y) * p - y * q, p * q
            return (g, h) if w is None else (g * w, h * w)

        def _init_score(self, y, w):
            m = float(np.clip(np.dot(w, y) / np.sum(w), 1e-12, 1 - 1e-12))
            return float(np.log(m / (1.0 - m)))
    '''
)
SOURCE = readme_fair_loss() + "\nfrom scipy.special import expit\n" + PLAIN_LOG_LOSS


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    folder = tmp_path_factory.mktemp("user_losses")
    (folder / f"{MODULE}.py").write_text(SOURCE, encoding="utf-8")
    sys.path.insert(0, str(folder))
    try:
        module = importlib.import_module(MODULE)
        yield module, folder
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(MODULE, None)


def _data(seed: int = 0, n: int = 300):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = 3.0 * X[:, 0] + X[:, 1] ** 2 + rng.standard_t(2, size=n)
    return X, y


def test_audit_passes(user):
    module, _ = user
    for loss in (module.FairLoss(c=0.5), module.FairLoss(c=2.0), module.PlainLogLoss()):
        result = gbo.check_gradients(loss)
        assert result.passed, result


def test_user_loss_is_registered_but_not_shipped(user):
    module, _ = user
    assert gbo.losses.registry.find_loss_class("fair") is module.FairLoss
    assert "FairLoss" not in gbo.LOSSES


def test_plain_engine_adapters(user):
    module, _ = user
    X, y = _data()
    loss = module.FairLoss(c=2.0)
    d = xgb.DMatrix(X, label=y)
    params = {"max_depth": 3, "eta": 0.3, "nthread": 1, "base_score": float(loss.init_score(y))}
    a = xgb.train(params, d, 5, obj=loss.xgboost_objective, custom_metric=loss.xgboost_metric)
    b = xgb.train(params, d, 5, obj=gbo.xgboost.Objective(loss), custom_metric=gbo.xgboost.Metric(loss))
    za = a.predict(d, output_margin=True)
    np.testing.assert_array_equal(za, b.predict(d, output_margin=True))
    assert loss.xgboost_metric(za, d)[1] < np.mean(loss.loss(y, np.full_like(y, np.mean(y))))

    lgb_params = {"num_leaves": 8, "learning_rate": 0.3, "num_threads": 1, "verbose": -1}
    ds = lgb.Dataset(X, label=y)
    bst = lgb.train({**lgb_params, "objective": loss.lightgbm_objective}, ds, 5, feval=loss.lightgbm_metric)
    assert np.all(np.isfinite(bst.predict(X, raw_score=True)))
    start = gbo.lightgbm.train(loss, lgb_params, lgb.Dataset(X, label=y), 5)
    assert np.isfinite(start.predict(X, raw_score=True)).all()
    assert gbo.xgboost.train(loss, {"nthread": 1}, xgb.DMatrix(X, label=y), 3, verbose_eval=False).num_boosted_rounds()


@pytest.mark.parametrize("engine", ["xgboost", "lightgbm"])
def test_estimators_and_save_load(user, engine, tmp_path):
    module, folder = user
    X, y = _data()
    reg = gbo.BoostedRegressor(loss=module.FairLoss(c=2.0), engine=engine, n_estimators=10, n_jobs=1).fit(X, y)
    assert reg.init_score_ == pytest.approx(module.FairLoss(c=2.0).init_score(y))
    clf = gbo.BoostedClassifier(loss=module.PlainLogLoss(), engine=engine, n_estimators=10, n_jobs=1)
    clf.fit(X, (y > np.median(y)).astype(int))
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)

    path = tmp_path / f"fair_{engine}.json"
    reg.save(path)
    back = gbo.load_model(path)
    assert back.loss_ == reg.loss_
    np.testing.assert_array_equal(back.predict(X), reg.predict(X))
    cpath = tmp_path / f"plain_{engine}.json"
    clf.save(cpath)
    np.testing.assert_array_equal(gbo.load_model(cpath).predict_proba(X), clf.predict_proba(X))

    # without the user's module imported, loading fails cleanly and runs nothing from the file;
    # with it imported (and nothing else), it loads
    code = (
        "import sys, gbobjectives as gbo\n"
        "try:\n    gbo.load_model(sys.argv[1])\nexcept ValueError as e:\n    print('refused', e)\n"
        f"sys.path.insert(0, sys.argv[2]); import {MODULE}\n"
        "print('loaded', gbo.load_model(sys.argv[1]).loss_)\n"
        f"assert {MODULE!r} in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path), str(folder)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert f"refused unknown loss class '{MODULE}.FairLoss'" in out.stdout
    assert "loaded FairLoss(c=2.0)" in out.stdout


def test_grid_search_over_the_loss_parameter(user):
    from sklearn.model_selection import GridSearchCV

    module, _ = user
    X, y = _data()
    est = gbo.BoostedRegressor(loss=module.FairLoss(), engine="lightgbm", n_estimators=5, n_jobs=1)
    search = GridSearchCV(est, {"loss__c": [0.5, 2.0]}, cv=2).fit(X, y)
    assert search.best_params_["loss__c"] in (0.5, 2.0)
    assert search.best_estimator_.loss_ == module.FairLoss(c=search.best_params_["loss__c"])


def test_compare_python_api(user):
    from gbobjectives.compare import compare, format_table

    X, y = _data(n=400)
    result = compare(X, y, task="regression", losses=["fair", "fair:c=0.5"], rounds=5, name="t")
    labels = {row["loss"] for row in result.rows}
    assert {"builtin", "fair", "fair(c=0.5)"} <= labels
    assert {row["engine"] for row in result.rows} == {"xgboost", "lightgbm"}
    assert "fair(c=0.5)" in format_table(result)
