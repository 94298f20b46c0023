"""Losses behave as small value objects: parameters, clone, repr, equality, pickling;
and class_balanced_weights."""

from __future__ import annotations

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
from conftest import make_data
from sklearn.base import clone

import gbobjectives as gbo


def _same_behaviour(a, b, loss_for_data):
    rng = np.random.default_rng(0)
    y, z = make_data(loss_for_data, rng, n=30)
    np.testing.assert_array_equal(a.loss(y, z), b.loss(y, z))
    for u, v in zip(a.gradient_hessian(y, z), b.gradient_hessian(y, z)):
        np.testing.assert_array_equal(u, v)


def test_get_params_are_constructor_arguments(any_loss):
    """get_params returns exactly the constructor arguments, and rebuilding gives an equal loss."""
    params = any_loss.get_params()
    rebuilt = type(any_loss)(**params)
    assert rebuilt == any_loss and hash(rebuilt) == hash(any_loss)
    assert any_loss.get_params(deep=False) == params


def test_set_params_returns_self_and_applies():
    """set_params returns the loss itself and the new value takes effect."""
    loss = gbo.FocalLoss(gamma=2.0)
    assert loss.set_params(gamma=0.0, alpha=0.25) is loss
    assert loss.get_params()["gamma"] == 0.0
    _same_behaviour(loss, gbo.WeightedLogLoss(pos_weight=0.25, neg_weight=0.75), loss)
    assert loss.with_params(gamma=1.0) == gbo.FocalLoss(gamma=1.0, alpha=0.25)
    assert loss.get_params()["gamma"] == 0.0  # with_params does not modify the original


def test_sklearn_clone(any_loss):
    """sklearn.base.clone gives an equal, independent loss (what GridSearchCV relies on)."""
    c = clone(any_loss)
    assert c == any_loss and c is not any_loss
    _same_behaviour(c, any_loss, any_loss)


def test_repr_round_trips(any_loss):
    """repr shows every parameter and evaluates back to an equal loss."""
    text = repr(any_loss)
    assert text.startswith(type(any_loss).__name__ + "(")
    for k in any_loss.get_params():
        assert f"{k}=" in text
    assert eval(text, {**vars(gbo)}) == any_loss


def test_equality_and_hash():
    """Equal parameters -> equal and same hash (int vs float, list vs array); else unequal."""
    assert gbo.FocalLoss(gamma=2) == gbo.FocalLoss(gamma=2.0)
    assert hash(gbo.FocalLoss(gamma=2)) == hash(gbo.FocalLoss(gamma=2.0))
    a = gbo.MulticlassFocalLoss(alpha=[1, 2, 3])
    b = gbo.MulticlassFocalLoss(alpha=np.array([1.0, 2.0, 3.0]))
    assert a == b and hash(a) == hash(b)
    assert gbo.FocalLoss(gamma=2) != gbo.FocalLoss(gamma=2, hessian="exact")
    assert gbo.FocalLoss(gamma=0) != gbo.WeightedLogLoss()  # same maths, different class
    assert gbo.HuberLoss(delta=1.0) != gbo.PseudoHuberLoss(delta=1.0)
    assert gbo.HuberLoss() != "HuberLoss()"
    assert len({gbo.QuantileLoss(0.1), gbo.QuantileLoss(0.1), gbo.QuantileLoss(0.9)}) == 2


def test_pickle_and_joblib_round_trip(any_loss):
    """pickle and joblib round trips give an equal loss with identical outputs."""
    for restored in (pickle.loads(pickle.dumps(any_loss)), _joblib_round_trip(any_loss)):
        assert restored == any_loss and type(restored) is type(any_loss)
        _same_behaviour(restored, any_loss, any_loss)


def _joblib_round_trip(obj):
    buf = io.BytesIO()
    joblib.dump(obj, buf)
    buf.seek(0)
    return joblib.load(buf)


def test_engine_adapters_pickle_with_their_loss():
    """Bound adapter methods pickle together with their loss (no lambdas)."""
    loss = gbo.FocalLoss(gamma=1.5, alpha=0.3)
    for name in ("xgboost_objective", "xgboost_metric", "lightgbm_objective", "lightgbm_metric", "sklearn_objective"):
        restored = pickle.loads(pickle.dumps(getattr(loss, name)))
        assert restored.__self__ == loss and restored.__name__ == name


def test_name_and_exactness_flags():
    """name is short and shows non-default parameters; hessian_is_exact follows the mode."""
    assert gbo.FocalLoss(gamma=2, alpha=0.25).name == "focal(gamma=2,alpha=0.25)"
    assert gbo.MulticlassFocalLoss(alpha=[1, 2]).name.startswith("mfocal(")
    assert not gbo.WeightedLogLoss().hessian_is_exact and gbo.WeightedLogLoss(hessian="exact").hessian_is_exact
    assert not gbo.HuberLoss().hessian_is_exact and gbo.HuberLoss(hessian="exact").hessian_is_exact


def test_name_follows_the_parameters_after_it_was_read():
    # the name is kept once computed (the metric adapters report it every round)
    loss = gbo.FocalLoss(gamma=2.0)
    assert loss.name == "focal(gamma=2)"
    loss.set_params(gamma=3.0)
    assert loss.name == "focal(gamma=3)"
    loss.alpha = 0.25  # a parameter set directly (as scikit-learn's clone does through __init__)
    assert loss.name == "focal(gamma=3,alpha=0.25)"
    assert gbo.LossMetric(loss).name == "focal(gamma=3,alpha=0.25)"


# ---------------------------------------------------------------------- class-balanced weights
def test_class_balanced_weights_sum_to_k():
    """Weights sum to the number of classes and rarer classes weigh more."""
    y = np.repeat([0, 1, 2], [1000, 100, 10])
    for beta in (0.0, 0.5, 0.9, 0.999, 0.9999, 1.0):
        w = gbo.class_balanced_weights(y, beta=beta)
        assert w.shape == (3,)
        assert w.sum() == pytest.approx(3.0, rel=1e-14)
        assert w[0] <= w[1] <= w[2]
        if beta >= 0.9:
            assert w[0] < w[1] < w[2]


def test_class_balanced_weights_limits():
    """beta = 0 gives all ones; beta -> 1 tends to 1/n_c (normalised), smoothly."""
    y = np.repeat(["a", "b", "c"], [500, 50, 5])
    np.testing.assert_array_equal(gbo.class_balanced_weights(y, beta=0.0), np.ones(3))
    inv = 1 / np.array([500, 50, 5])
    inv = inv * 3 / inv.sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w1 = gbo.class_balanced_weights(y, beta=1.0)
        w_near = gbo.class_balanced_weights(y, beta=1 - 1e-12)
    np.testing.assert_allclose(w1, inv, rtol=1e-14)
    np.testing.assert_allclose(w_near, inv, rtol=1e-8)


def test_class_balanced_weights_match_definition():
    """w_c proportional to (1 - beta) / (1 - beta^n_c), at moderate beta where the naive form is fine."""
    y = np.repeat([0, 1, 2, 3], [40, 7, 300, 1])
    for beta in (0.3, 0.9, 0.99):
        n = np.array([40, 7, 300, 1])
        naive = (1 - beta) / (1 - beta**n)
        np.testing.assert_allclose(gbo.class_balanced_weights(y, beta), naive * 4 / naive.sum(), rtol=1e-12)


def test_class_balanced_weights_plug_into_losses():
    """The weights plug into WeightedLogLoss and MulticlassFocalLoss(alpha=...)."""
    y = np.array([0, 0, 0, 1])
    w = gbo.class_balanced_weights(y, beta=1.0)
    loss = gbo.WeightedLogLoss(neg_weight=w[0], pos_weight=w[1])
    # 3 negatives at weight 1/2 and 1 positive at weight 3/2, each contributing log 2 at z = 0
    assert loss.loss(y.astype(float), np.zeros(4)).sum() == pytest.approx(3 * np.log(2), rel=1e-14)
    gbo.MulticlassFocalLoss(alpha=gbo.class_balanced_weights([0, 1, 2, 2])).loss([0, 2], np.zeros((2, 3)))


def test_class_balanced_weights_bad_labels():
    """Empty or 2-D labels are rejected."""
    with pytest.raises(ValueError, match="1-D"):
        gbo.class_balanced_weights([])
    with pytest.raises(ValueError, match="1-D"):
        gbo.class_balanced_weights(np.zeros((3, 2)))


def test_losses_moved_between_modules_still_load_from_their_old_paths():
    # QuantileLoss & co. moved from losses/regression.py to losses/quantile.py, ExpectileLoss to
    # losses/expectile.py: imports and pickles that name the old module still find them
    import pickle

    from gbobjectives.losses import regression

    for loss in (gbo.QuantileLoss(0.3), gbo.AbsoluteErrorLoss(), gbo.RelativeErrorLoss(), gbo.ExpectileLoss(0.7)):
        name = type(loss).__name__
        assert getattr(regression, name) is type(loss)
        old = pickle.dumps(loss, protocol=0).replace(type(loss).__module__.encode(), b"gbobjectives.losses.regression")
        assert b"gbobjectives.losses.regression" in old
        assert pickle.loads(old) == loss
    with pytest.raises(AttributeError):
        regression.NoSuchLoss  # noqa: B018
