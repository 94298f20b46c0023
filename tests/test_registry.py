"""The loss registry: every class states its names and capabilities once, and everything reads them."""

from __future__ import annotations

import pytest

import gbobjectives as gbo
from gbobjectives.losses import registry


def test_shipped_losses_are_registered_and_exported():
    names = set(gbo.LOSSES)
    assert {"FocalLoss", "MulticlassFocalLoss", "WeightedLogLoss", "HuberLoss", "QuantileLoss"} <= names
    for name, cls in gbo.LOSSES.items():
        assert getattr(gbo, name) is cls and name in gbo.__all__
        spec = registry.spec_of(cls)
        assert spec.shipped and spec.task == cls.task and spec.key == name
        assert set(spec.hessian_options) == set(cls.hessian_options)
    assert {type(loss) for loss in gbo.losses.example_losses()} == set(gbo.LOSSES.values())


@pytest.mark.parametrize(
    "name, task, expected, preset",
    [
        ("focal", "binary", gbo.FocalLoss, {}),
        ("focal", "multiclass", gbo.MulticlassFocalLoss, {}),
        ("mfocal", "binary", gbo.FocalLoss, {}),
        ("logloss", "binary", gbo.WeightedLogLoss, {}),
        ("logloss", "multiclass", gbo.MulticlassFocalLoss, {"gamma": 0.0}),
        ("Log-Cosh", "regression", gbo.LogCoshLoss, {}),
        ("pseudo_huber", "regression", gbo.PseudoHuberLoss, {}),
        ("QuantileLoss", "regression", gbo.QuantileLoss, {}),
    ],
)
def test_names_resolve_per_task(name, task, expected, preset):
    assert registry.resolve(name, task) == (expected, preset)


def test_find_loss_class_prefers_the_own_name_and_lists_the_rest():
    assert registry.find_loss_class("mfocal") is gbo.MulticlassFocalLoss
    assert registry.find_loss_class("focal") is gbo.FocalLoss
    with pytest.raises(ValueError, match="available: .*focal"):
        registry.find_loss_class("nosuchloss")
    with pytest.raises(ValueError, match="for a regression task"):
        registry.resolve("focal", "regression")


def test_capabilities_are_declared():
    assert registry.spec_of(gbo.QuantileLoss).init_score_method == "weighted_quantile"
    assert registry.spec_of(gbo.HuberLoss).init_score_method == "gradient_root"
    assert registry.spec_of(gbo.FocalLoss).init_score_method == "class_sums"
    assert registry.spec_of(gbo.HuberLoss).has_leaf_rule and not registry.spec_of(gbo.LogCoshLoss).has_leaf_rule
    spec = registry.spec_of(gbo.QuantileLoss)
    q = gbo.QuantileLoss(quantile=0.9)
    assert spec.builtin_objective(q, "lightgbm") == {"objective": "quantile", "alpha": 0.9}
    assert spec.builtin_label(q) == "quantile(0.9)"
    assert registry.spec_of(gbo.LogCoshLoss).builtin_objective(gbo.LogCoshLoss(), "xgboost") is None


def test_a_subclass_inheriting_its_name_claims_none():
    class Tweaked(gbo.FocalLoss):
        pass

    spec = registry.spec_of(Tweaked)
    assert not spec.shipped and spec.names == frozenset() and spec.key.endswith("Tweaked")
    assert registry.find_loss_class("focal") is gbo.FocalLoss
    assert "Tweaked" not in gbo.LOSSES


def test_a_name_clash_is_refused():
    with pytest.raises(ValueError, match="already belong to HuberLoss"):

        class MyHuber(gbo.losses.RegressionLoss):  # noqa: F841 - defining it is the test
            short_name = "huber"


def test_compare_and_cli_read_the_registry():
    from gbobjectives import cli, compare

    assert set(compare.known_loss_names()) == {"builtin", "balanced", *registry.loss_families()}
    assert set(cli._loss_family_names()) == set(registry.loss_families())
