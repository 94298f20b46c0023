"""BoostedRegressor(refit_leaves=...): parameter plumbing and its effect, on both engines.

Real (tiny) models, one thread. The effect is read off a one-split, one-round model with
learning rate 1: with the refit each side's prediction is that side's median of y (an
independent oracle, ``np.median``); without it, a Newton step of size <= 1 from the start.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("xgboost")
pytest.importorskip("lightgbm")

from sklearn.base import clone  # noqa: E402

import gbobjectives as gbo  # noqa: E402
from gbobjectives import BoostedClassifier, BoostedRegressor, QuantileLoss  # noqa: E402

ENGINES = ["xgboost", "lightgbm"]


def _two_sides(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # one informative binary feature: the single split separates the two sides exactly
    rng = np.random.default_rng(seed)
    side = (np.arange(n) % 2).astype(bool)
    X = np.column_stack([side.astype(float), rng.normal(size=n)])
    y = np.where(side, 100.0, -50.0) + 10.0 * rng.standard_t(2, n)
    return X, y, side


def _one_split(engine: str, **kw) -> BoostedRegressor:
    size = {"max_depth": 1} if engine == "xgboost" else {"num_leaves": 2}
    return BoostedRegressor(
        loss=QuantileLoss(0.5), engine=engine, n_estimators=1, learning_rate=1.0, n_jobs=1, random_state=0, **size, **kw
    )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("refit", [None, True])
def test_refit_sets_each_leaf_to_its_median(engine: str, refit: bool | None) -> None:
    X, y, side = _two_sides()
    pred = _one_split(engine, refit_leaves=refit).fit(X, y).predict(X)
    for s in (True, False):
        # start + 1.0 * median(y - start) = median(y); XGBoost stores leaves in float32
        np.testing.assert_allclose(pred[side == s], np.median(y[side == s]), rtol=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_refit_off_gives_gradient_leaves(engine: str) -> None:
    X, y, side = _two_sides()
    reg = _one_split(engine, refit_leaves=False).set_params(loss=QuantileLoss(0.5, hessian="constant")).fit(X, y)
    pred = reg.predict(X)
    # with h = 1 a leaf moves at most max(tau, 1 - tau) = 0.5 (times learning rate 1) from the start
    assert np.all(np.abs(pred - reg.init_score_) <= 0.5 + 1e-6)
    assert np.all(np.abs(pred[side] - np.median(y[side])) > 10)


@pytest.mark.parametrize("engine", ENGINES)
def test_refit_with_a_loss_without_leaf_rule(engine: str) -> None:
    X, y, _ = _two_sides()
    with pytest.raises(ValueError, match="refit_leaves=True"):
        _one_split(engine, refit_leaves=True).set_params(loss=gbo.PseudoHuberLoss()).fit(X, y)
    # None: off for such a loss, training works
    _one_split(engine).set_params(loss=gbo.PseudoHuberLoss()).fit(X, y)


@pytest.mark.parametrize("bad", ["yes", 1, 0.0])
def test_refit_leaves_is_validated_at_fit(bad) -> None:
    X, y, _ = _two_sides()
    reg = BoostedRegressor(refit_leaves=bad, n_estimators=1, n_jobs=1)  # no validation in __init__
    assert reg.get_params()["refit_leaves"] == bad
    with pytest.raises(ValueError, match="refit_leaves must be True, False or None"):
        reg.fit(X, y)


def test_refit_leaves_is_a_parameter_of_the_regressor_only() -> None:
    reg = BoostedRegressor()
    assert reg.get_params()["refit_leaves"] is None
    assert reg.set_params(refit_leaves=False).refit_leaves is False
    assert clone(reg).get_params()["refit_leaves"] is False
    assert set(reg.get_params()) - set(BoostedClassifier().get_params()) == {"refit_leaves"}


@pytest.mark.parametrize("engine", ENGINES)
def test_default_huber_refits_and_save_load_keeps_the_choice(tmp_path, engine: str) -> None:
    X, y, _ = _two_sides(seed=1)
    kw = {"engine": engine, "n_estimators": 5, "n_jobs": 1, "random_state": 0}
    on = BoostedRegressor(**kw).fit(X, y)  # default loss: a data-scaled HuberLoss, refit on
    off = BoostedRegressor(refit_leaves=False, **kw).fit(X, y)
    assert np.max(np.abs(on.predict(X) - off.predict(X))) > 1e-3
    np.testing.assert_array_equal(on.predict(X), BoostedRegressor(refit_leaves=True, **kw).fit(X, y).predict(X))
    off.save(tmp_path / "m.json")
    back = BoostedRegressor.load(tmp_path / "m.json")
    assert back.refit_leaves is False
    np.testing.assert_array_equal(back.predict(X), off.predict(X))
