"""The library against high-precision (mpmath) references at extreme points.

Finite differences cannot see a tail Hessian of 1e-300 computed as 0 (``p*(1-p)``,
``1 - tanh^2``); these tests can. The committed table is produced by
``make_reference_table.py``; the on-the-fly test draws fresh random points.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from _mpmath_oracle import as_list, close, reference
from mpmath import mpf

import gbobjectives as gbo
from gbobjectives.losses import LOSSES

TABLE = json.loads((Path(__file__).parent / "data" / "reference_values.json").read_text())["entries"]
RTOL = 1e-12


def _groups():
    groups = defaultdict(list)
    for e in TABLE:
        groups[(e["loss"], json.dumps(e["params"], sort_keys=True))].append(e)
    return groups


GROUPS = _groups()


def _exact(loss):
    return loss if loss.hessian_is_exact else loss.with_params(hessian="exact")


def _library_values(loss, y, z):
    """loss value, gradient and exact Hessian of one sample, as flat float lists."""
    yy = np.array([y])
    zz = np.array([z], dtype=np.float64)
    value = loss.loss(yy, zz)[0]
    grad, _ = loss.gradient_hessian(yy, zz)
    _, hess = _exact(loss).gradient_hessian(yy, zz)
    return [float(value)], grad[0].ravel().tolist(), hess[0].ravel().tolist()


def _mismatches(loss, entries, rtol=RTOL):
    """Entries where the library differs from the reference by more than rtol."""
    bad = []
    for e in entries:
        y = int(e["y"]) if loss.task == "multiclass" else e["y"]
        got = _library_values(loss, y, e["z"])
        want = (
            [mpf(e["value"])],
            [mpf(s) for s in as_list(e["gradient"])],
            [mpf(s) for s in as_list(e["hessian_exact"])],
        )
        for what, g, w in zip(("value", "gradient", "hessian"), got, want):
            for gi, wi in zip(g, w):
                if not close(gi, wi, rtol):
                    bad.append((what, e["y"], e["z"], gi, str(wi)))
    return bad


def test_table_covers_every_loss_class():
    """A new loss in LOSSES must get reference values (regenerate the table)."""
    assert {e["loss"] for e in TABLE} == set(LOSSES)


def test_table_has_tail_hessians():
    """The table really probes the tails: Hessians between 1e-305 and 1e-290 are present."""
    tiny = [float(mpf(h)) for e in TABLE for h in as_list(e["hessian_exact"])]
    assert sum(1e-305 < abs(h) < 1e-290 for h in tiny) >= 20


@pytest.mark.parametrize("key", sorted(GROUPS), ids=lambda k: f"{k[0]}{k[1]}")
def test_library_matches_reference_table(key):
    """Value, gradient and exact Hessian agree with the 400-digit table to rtol 1e-12."""
    name, params = key
    loss = LOSSES[name](**json.loads(params))
    bad = _mismatches(loss, GROUPS[key])
    assert not bad, f"{len(bad)} mismatches, e.g. {bad[:3]}"


class CancellingLogCosh(gbo.LogCoshLoss):
    """A broken log-cosh: Hessian 1 - tanh^2 (0 for |r| > 19)."""

    def _gradient_hessian(self, y, z, w):
        t = np.tanh(z - y)
        return t, 1.0 - t * t


class ProductLogLoss(gbo.WeightedLogLoss):
    """A broken logloss: Hessian p*(1-p) (0 for |z| > 37)."""

    def _gradient_hessian(self, y, z, w):
        g, _ = super()._gradient_hessian(y, z, w)
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -700, 700)))
        return g, p * (1 - p)


@pytest.mark.parametrize(
    "broken, name", [(CancellingLogCosh(hessian="exact"), "LogCoshLoss"), (ProductLogLoss(), "WeightedLogLoss")]
)
def test_reference_table_catches_cancelled_tail_hessians(broken, name):
    """The comparison can fail: cancelled tail Hessians are flagged (the audit may miss them)."""
    entries = [e for e in TABLE if e["loss"] == name and e["params"] == {}]
    bad = _mismatches(broken, entries)
    assert any(b[0] == "hessian" for b in bad)


def _random_points(loss, rng, n):
    """Random points with |z| <= 700 (residuals up to 700 length scales for regression)."""
    if loss.task == "binary":
        z = rng.uniform(-700, 700, n)
        z[: n // 2] = rng.normal(0, 15, n // 2)
        return rng.choice([0.0, 1.0, 0.25], n), z
    if loss.task == "multiclass":
        z = rng.uniform(-350, 350, (n, 3))
        z[: n // 2] = rng.normal(0, 10, (n // 2, 3))
        return rng.integers(0, 3, n), z
    s = loss._length_scale()
    y = np.round(rng.normal(0, 5, n), 3)
    r = rng.uniform(-700, 700, n) * s
    r[: n // 2] = rng.normal(0, 3 * s, n // 2)
    z = y + r
    # keep only points whose residual z - y is exact in float64; otherwise the input
    # rounding of r (not the loss) would dominate the error at large |r|
    exact = np.array([mpf(zi) - mpf(yi) == mpf(zi - yi) for yi, zi in zip(y, z)])
    return y[exact], z[exact]


ON_THE_FLY = [
    gbo.WeightedLogLoss(pos_weight=2.0, neg_weight=0.7),
    gbo.FocalLoss(gamma=0.5, alpha=0.25),
    gbo.FocalLoss(gamma=3.0),
    gbo.MulticlassFocalLoss(gamma=1.5, alpha=[1.0, 0.5, 2.0]),
    gbo.HuberLoss(delta=2.0),
    gbo.PseudoHuberLoss(delta=0.5),
    gbo.LogCoshLoss(),
    gbo.QuantileLoss(quantile=0.3),
    gbo.AbsoluteErrorLoss(),
    gbo.RelativeErrorLoss(),
    gbo.ExpectileLoss(expectile=0.7),
]


@pytest.mark.parametrize("loss", ON_THE_FLY, ids=repr)
def test_library_matches_mpmath_at_random_points(loss):
    """Fresh random points (|z| <= 700): value, gradient, exact Hessian to rtol 1e-12."""
    rng = np.random.default_rng(12345)
    y, z = _random_points(loss, rng, 12)
    name, params = type(loss).__name__, loss.get_params()
    params = {k: v for k, v in params.items() if k != "hessian"}
    bad = []
    for yi, zi in zip(y, z):
        got = _library_values(loss, yi, zi)
        want = reference(name, params, yi, zi)
        for what, g, w in zip(("value", "gradient", "hessian"), got, want):
            for gi, wi in zip(g, as_list(w)):
                if not close(gi, wi, RTOL):
                    bad.append((what, yi, zi, gi, str(wi)))
    assert not bad, f"{len(bad)} mismatches, e.g. {bad[:3]}"
