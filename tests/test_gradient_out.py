"""``gradient_hessian(..., gradient_out=, hessian_out=)``: results written into the caller's
arrays (as scikit-learn's loss module does), the same values as fresh ones, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ALL_LOSSES, loss_id, n_outputs, valid_labels, widen

import gbobjectives as gbo
from gbobjectives import _compiled


def _inputs(loss, n=50, seed=0):
    rng = np.random.default_rng(seed)
    if loss.task == "multiclass":
        K = loss.n_classes or 3
        return rng.integers(0, K, n), rng.normal(size=(n, K)) * 3, rng.random(n) * 2
    if loss.task == "binary":
        return (rng.random(n) < 0.4).astype(np.float64), rng.normal(size=n) * 3, rng.random(n) * 2
    y = valid_labels(loss, rng.normal(size=n) * 5)
    z = y + rng.normal(size=n) * 3
    return y, (widen(loss, z) if n_outputs(loss) else z), rng.random(n) * 2


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=loss_id)
@pytest.mark.parametrize("weighted", [False, True])
def test_outputs_receive_the_same_values(loss, weighted) -> None:
    y, z, w = _inputs(loss)
    w = w if weighted else None
    want_g, want_h = loss.gradient_hessian(y, z, w)
    g, h = np.full(want_g.shape, np.nan), np.full(want_h.shape, np.nan)
    got = loss.gradient_hessian(y, z, w, gradient_out=g, hessian_out=h)
    assert got[0] is g and got[1] is h
    np.testing.assert_array_equal(g, want_g)
    np.testing.assert_array_equal(h, want_h)
    # one of the two: the other is a fresh array with the same values
    only_h = np.full(want_h.shape, np.nan)
    g2, h2 = loss.gradient_hessian(y, z, w, hessian_out=only_h)
    assert h2 is only_h and g2 is not g
    np.testing.assert_array_equal(g2, want_g)
    np.testing.assert_array_equal(h2, want_h)


@pytest.mark.skipif(not _compiled.available(), reason="the compiled kernels are not built")
@pytest.mark.parametrize(
    "loss,y,z",
    [
        (gbo.WeightedLogLoss(), np.array([0.0, 1.0, 1.0]), np.array([0.3, -2.0, 40.0])),
        (gbo.FocalLoss(gamma=2.0), np.array([0.0, 1.0, 1.0]), np.array([0.3, -2.0, 40.0])),
        (gbo.MulticlassFocalLoss(gamma=2.0), np.array([0, 2, 1]), np.arange(9.0).reshape(3, 3)),
    ],
    ids=["logloss", "focal", "softmax"],
)
def test_the_kernel_path_writes_into_the_outputs(loss, y, z, monkeypatch) -> None:
    """Plain float64 inputs take the compiled kernel, which writes the caller's arrays itself:
    no fresh result is made and copied (the point of passing them)."""
    want = loss.gradient_hessian(y, z)
    g, h = np.empty_like(z), np.empty_like(z)

    def no_copy(*args, **kwargs):
        raise AssertionError("the results were copied, not written by the kernel")

    monkeypatch.setattr(np, "copyto", no_copy)
    loss.gradient_hessian(y, z, gradient_out=g, hessian_out=h)
    np.testing.assert_array_equal(g, want[0])
    np.testing.assert_array_equal(h, want[1])


def test_bad_outputs_are_clear_errors_naming_the_argument() -> None:
    loss, y, z = gbo.WeightedLogLoss(), np.array([0.0, 1.0, 1.0, 0.0]), np.zeros(4)
    ok = np.empty(4)
    bad = [
        np.empty(5),  # length
        np.empty(4, dtype=np.float32),  # dtype
        np.empty(8)[::2],  # strided
        np.broadcast_to(np.empty(1), (4,)),  # read-only
    ]
    for a in bad:
        with pytest.raises(ValueError, match="gradient_out must be a writeable C-contiguous float64"):
            loss.gradient_hessian(y, z, gradient_out=a, hessian_out=ok)
        with pytest.raises(ValueError, match="hessian_out must be"):
            loss.gradient_hessian(y, z, gradient_out=ok, hessian_out=a)
    with pytest.raises(TypeError, match="hessian_out must be a numpy array or None, got list"):
        loss.gradient_hessian(y, z, hessian_out=[0.0] * 4)
    # sharing memory with an input or with each other
    for a, b in ((z, ok), (ok, ok), (ok, y)):
        with pytest.raises(ValueError, match="must not share memory with the inputs or the other output"):
            loss.gradient_hessian(y, z, gradient_out=a, hessian_out=b)
    w = np.ones(4)
    with pytest.raises(ValueError, match="gradient_out must not share memory"):
        loss.gradient_hessian(y, z, w, gradient_out=w)


def test_binary_scores_as_one_column_fill_outputs_of_that_shape() -> None:
    loss, y = gbo.FocalLoss(gamma=1.0), np.array([0.0, 1.0, 1.0])
    z = np.array([[0.5], [-1.0], [3.0]])
    want_g, want_h = loss.gradient_hessian(y, z)
    g, h = np.empty((3, 1)), np.empty((3, 1))
    loss.gradient_hessian(y, z, gradient_out=g, hessian_out=h)
    np.testing.assert_array_equal(g.ravel(), want_g.ravel())
    np.testing.assert_array_equal(h.ravel(), want_h.ravel())
