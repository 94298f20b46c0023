"""Bad input fails loudly: parameters at construction, data at call time, with a
ValueError that names the argument (and the allowed range)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_data

import gbobjectives as gbo

BAD_PARAMS = [
    (gbo.FocalLoss, {"gamma": -0.1}, r"gamma.*\[0, inf\)"),
    (gbo.FocalLoss, {"gamma": float("nan")}, r"gamma.*\[0, inf\)"),
    (gbo.FocalLoss, {"gamma": float("inf")}, r"gamma.*\[0, inf\)"),
    (gbo.FocalLoss, {"alpha": -0.1}, r"alpha.*\[0, 1\]"),
    (gbo.FocalLoss, {"alpha": 1.5}, r"alpha.*\[0, 1\]"),
    (gbo.FocalLoss, {"alpha": float("nan")}, r"alpha.*\[0, 1\]"),
    (gbo.FocalLoss, {"hessian": "newton"}, r"hessian.*one of"),
    (gbo.MulticlassFocalLoss, {"gamma": -1.0}, r"gamma.*\[0, inf\)"),
    (gbo.MulticlassFocalLoss, {"alpha": [1.0, -0.5, 1.0]}, r"alpha.*non-negative"),
    (gbo.MulticlassFocalLoss, {"alpha": [1.0, float("nan")]}, r"alpha.*finite"),
    (gbo.MulticlassFocalLoss, {"alpha": [1.0]}, r"alpha.*K >= 2"),
    (gbo.MulticlassFocalLoss, {"alpha": [[1.0, 2.0]]}, r"alpha.*1-D"),
    (gbo.MulticlassFocalLoss, {"alpha": 0.25}, r"alpha.*1-D"),
    (gbo.MulticlassFocalLoss, {"hessian": "upper_bound"}, r"hessian.*one of"),
    (gbo.WeightedLogLoss, {"pos_weight": -1.0}, r"pos_weight.*\[0, inf\)"),
    (gbo.WeightedLogLoss, {"neg_weight": -1e-9}, r"neg_weight.*\[0, inf\)"),
    (gbo.WeightedLogLoss, {"pos_weight": float("inf")}, r"pos_weight"),
    (gbo.HuberLoss, {"delta": 0.0}, r"delta.*\(0, inf\)"),
    (gbo.HuberLoss, {"delta": -2.0}, r"delta.*\(0, inf\)"),
    (gbo.HuberLoss, {"hessian": "gauss_newton"}, r"hessian.*one of"),
    (gbo.PseudoHuberLoss, {"delta": 0.0}, r"delta.*\(0, inf\)"),
    (gbo.PseudoHuberLoss, {"delta": float("nan")}, r"delta"),
    (gbo.LogCoshLoss, {"hessian": "exactly"}, r"hessian.*one of"),
    (gbo.QuantileLoss, {"quantile": 0.0}, r"quantile.*\(0, 1\)"),
    (gbo.QuantileLoss, {"quantile": 1.0}, r"quantile.*\(0, 1\)"),
    (gbo.QuantileLoss, {"quantile": 1.5}, r"quantile.*\(0, 1\)"),
    (gbo.QuantileLoss, {"quantile": -0.1}, r"quantile.*\(0, 1\)"),
]


@pytest.mark.parametrize("cls, params, match", BAD_PARAMS, ids=lambda x: repr(x)[:40])
def test_invalid_parameter_fails_at_construction(cls, params, match):
    """Out-of-range parameters raise ValueError naming the parameter and its allowed range."""
    with pytest.raises(ValueError, match=match):
        cls(**params)


@pytest.mark.parametrize("cls, params, match", BAD_PARAMS, ids=lambda x: repr(x)[:40])
def test_set_params_revalidates_and_leaves_object_unchanged(cls, params, match):
    """set_params with a bad value raises and leaves parameters and behaviour as they were."""
    loss = cls()
    before = loss.get_params()
    rng = np.random.default_rng(0)
    y, z = make_data(loss, rng, n=20)
    g_before = loss.gradient_hessian(y, z)
    key = next(iter(params))
    other = {k: v for k, v in before.items() if k != key and k != "hessian"}
    with pytest.raises(ValueError, match=match):
        loss.set_params(**params, **other)  # also with a valid parameter in the same call
    assert loss.get_params() == before
    for a, b in zip(loss.gradient_hessian(y, z), g_before):
        np.testing.assert_array_equal(a, b)
    assert loss == cls()


def test_set_params_rejects_unknown_name():
    """An unknown parameter name is a ValueError listing the valid ones."""
    with pytest.raises(ValueError, match="Invalid parameter 'gama'.*gamma"):
        gbo.FocalLoss().set_params(gama=1.0)


@pytest.mark.parametrize("value", ["2", None, [1.0], True])
def test_non_numeric_gamma_is_rejected(value):
    """A parameter of the wrong type is rejected (TypeError), never coerced silently."""
    with pytest.raises((TypeError, ValueError), match="gamma"):
        gbo.FocalLoss(gamma=value)


@pytest.mark.parametrize("beta", [-0.1, 1.1, float("nan")])
def test_class_balanced_weights_rejects_bad_beta(beta):
    """beta must lie in [0, 1]."""
    with pytest.raises(ValueError, match=r"beta.*\[0, 1\]"):
        gbo.class_balanced_weights([0, 1, 1], beta=beta)


# ---------------------------------------------------------------------- data at call time
def _calls(loss, y, z, w=None):
    """Every public entry point that takes data."""
    return [
        lambda: loss.loss(y, z, w),
        lambda: loss.gradient_hessian(y, z, w),
    ]


def _assert_all_raise(loss, y, z, match, w=None):
    for call in _calls(loss, y, z, w):
        with pytest.raises(ValueError, match=match):
            call()


@pytest.mark.parametrize("bad", [-0.1, 1.5, 2.0])
@pytest.mark.parametrize("loss", [gbo.FocalLoss(), gbo.WeightedLogLoss()], ids=repr)
def test_binary_labels_outside_unit_interval(loss, bad):
    """Binary labels must lie in [0, 1]."""
    _assert_all_raise(loss, [0.0, bad], [0.1, 0.2], r"y_true.*\[0, 1\]")
    with pytest.raises(ValueError, match="y_true"):
        loss.init_score([0.0, bad, 1.0])


@pytest.mark.parametrize("y, match", [([0, 1.5, 2], "integer"), ([0, 3, 1], r"\[0, 3\)"), ([0, -1, 1], r"\[0, 3\)")])
def test_multiclass_labels(y, match):
    """Multiclass labels must be integer class indices in [0, K)."""
    loss = gbo.MulticlassFocalLoss()
    _assert_all_raise(loss, y, np.zeros((3, 3)), f"y_true.*{match}")


def test_multiclass_init_score_labels():
    """init_score also rejects non-integer labels, and labels >= K when alpha fixes K."""
    with pytest.raises(ValueError, match="y_true.*integer"):
        gbo.MulticlassFocalLoss().init_score([0, 1.5, 2])
    with pytest.raises(ValueError, match=r"y_true.*\[0, 3\)"):
        gbo.MulticlassFocalLoss(alpha=[1, 1, 1]).init_score([0, 1, 3])
    with pytest.raises(ValueError, match="zero total weight"):
        gbo.MulticlassFocalLoss(alpha=[1, 1, 1]).init_score([0, 1, 1])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_inf_labels_and_scores(default_loss, bad):
    """NaN/inf in y_true, raw_prediction or sample_weight is a ValueError naming the argument."""
    rng = np.random.default_rng(1)
    y, z = make_data(default_loss, rng, n=6)
    y_bad = y.astype(float).copy()
    y_bad[2] = bad
    _assert_all_raise(default_loss, y_bad, z, "y_true")
    z_bad = z.copy()
    z_bad.flat[3] = bad
    _assert_all_raise(default_loss, y, z_bad, "raw_prediction")
    w_bad = np.ones(6)
    w_bad[1] = bad
    _assert_all_raise(default_loss, y, z, "sample_weight", w=w_bad)
    with pytest.raises(ValueError, match="y_true"):
        default_loss.init_score(y_bad)


def test_length_mismatch(default_loss):
    """y_true and raw_prediction must have the same number of rows."""
    rng = np.random.default_rng(2)
    y, z = make_data(default_loss, rng, n=6)
    _assert_all_raise(default_loss, y[:5], z, "y_true has 5 rows")


@pytest.mark.parametrize("kind", ["negative", "short", "2d"])
def test_bad_sample_weight(default_loss, kind):
    """sample_weight must be non-negative with shape (n,)."""
    rng = np.random.default_rng(3)
    y, z = make_data(default_loss, rng, n=6)
    w = {"negative": np.array([1, 1, -1, 1, 1, 1.0]), "short": np.ones(5), "2d": np.ones((6, 2))}[kind]
    _assert_all_raise(default_loss, y, z, "sample_weight", w=w)
    with pytest.raises(ValueError, match="sample_weight"):
        default_loss.init_score(y, w)


def test_zero_total_weight_init_score(default_loss):
    """init_score with all-zero weights or no rows has no answer: ValueError."""
    rng = np.random.default_rng(4)
    y, _ = make_data(default_loss, rng, n=6)
    with pytest.raises(ValueError, match="sample_weight"):
        default_loss.init_score(y, np.zeros(6))
    with pytest.raises(ValueError):
        default_loss.init_score(np.array([]))


def test_single_class_binary_init_score():
    """A single class has no finite best logit: ValueError, not +-inf."""
    for loss in (gbo.FocalLoss(), gbo.WeightedLogLoss()):
        with pytest.raises(ValueError, match="init_score"):
            loss.init_score([1.0, 1.0, 1.0])


def test_multiclass_needs_2d_scores():
    """A 1-D raw score for a multiclass loss is a ValueError naming raw_prediction."""
    loss = gbo.MulticlassFocalLoss()
    _assert_all_raise(loss, [0, 1, 2], [0.1, 0.2, 0.3], "raw_prediction must be 2-D")
    _assert_all_raise(loss, [0, 0, 0], np.zeros((3, 1)), "K >= 2")


def test_binary_and_regression_reject_matrix_scores():
    """A (n, K>1) raw score for a binary or regression loss is a ValueError."""
    for loss in (gbo.FocalLoss(), gbo.HuberLoss()):
        _assert_all_raise(loss, [0.0, 1.0], np.zeros((2, 3)), "raw_prediction must be 1-D")
        # (n, 1) is accepted as a column
        np.testing.assert_array_equal(loss.loss([0.0, 1.0], np.zeros((2, 1))), loss.loss([0.0, 1.0], np.zeros(2)))


def test_alpha_length_must_match_k():
    """MulticlassFocalLoss(alpha of length K) rejects raw scores with another number of columns."""
    loss = gbo.MulticlassFocalLoss(alpha=[1.0, 2.0, 3.0])
    _assert_all_raise(loss, [0, 1], np.zeros((2, 4)), "3 classes.*alpha.*4 columns")
    _assert_all_raise(loss, [0, 1], np.zeros((2, 2)), "3 classes.*alpha.*2 columns")


def test_non_numeric_data():
    """Strings where numbers are expected are rejected with the argument's name."""
    with pytest.raises((TypeError, ValueError), match="raw_prediction"):
        gbo.HuberLoss().loss([1.0, 2.0], ["a", "b"])
