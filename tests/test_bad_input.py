"""Issue 18, "Bad input": each case ends as a ValueError/TypeError naming the argument and what
was expected, or as a correct finite answer. Every test here failed on the code before the fix
(a MemoryError, a NaN, scipy's "Failed to converge", an engine's C++ error, a zero Hessian)."""

from __future__ import annotations

import contextlib
import math
import tracemalloc
import warnings

import numpy as np
import pytest

import gbobjectives as gbo
from gbobjectives.engines import _common
from gbobjectives.losses import example_losses


@contextlib.contextmanager
def _no_warnings():
    """RuntimeWarnings (overflow, 0 * inf) become errors: the answers must come out clean."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ------------------------------------------------------------------ 1. stray multiclass labels
def _labels_with_stray(value: float, n: int = 1000) -> np.ndarray:
    y = (np.arange(n) % 3).astype(np.float64)
    y[5] = value
    return y


@pytest.mark.parametrize("stray", [1e7, 1e300])
def test_multiclass_init_score_stray_label_is_a_clear_error_before_any_big_allocation(stray):
    """One stray label among 1,000 rows of classes 0-2 allocated 74.5 GiB (1e7: MemoryError) or
    failed with numpy's "Maximum allowed dimension exceeded" (1e300)."""
    y = _labels_with_stray(stray)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"y_true .*class indices.*largest label is 1e\+(07|300)"):
            gbo.MulticlassFocalLoss().init_score(y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20  # bytes: nothing of size K (or n x K) was allocated


def test_multiclass_labels_bounded_by_rows_but_fixed_k_still_checked():
    """K inferred from the labels must fit the rows; a K fixed by alpha is checked as before."""
    assert gbo.MulticlassFocalLoss().init_score([0, 1, 2, 2]).shape == (3,)
    with pytest.raises(ValueError, match=r"K would be 6, more classes than its 3 rows"):
        gbo.MulticlassFocalLoss().init_score([0, 1, 5])
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\)"):
        gbo.MulticlassFocalLoss(alpha=[1, 1, 1]).init_score(_labels_with_stray(1e7))
    # check_y alone (one data block) may hold fewer rows than classes, but never an absurd label
    assert gbo.MulticlassFocalLoss().check_y([0, 5]).tolist() == [0, 5]
    with pytest.raises(ValueError, match="y_true .*largest label is 1e\\+300"):
        gbo.MulticlassFocalLoss().check_y([0, 1e300])


def test_multiclass_stray_label_through_xgboost_train():
    xgb = pytest.importorskip("xgboost")
    X = np.random.default_rng(0).normal(size=(1000, 3))
    with pytest.raises(ValueError, match=r"MulticlassFocalLoss.*labels .*largest label is 1e\+07.*1000 rows"):
        gbo.xgboost.train(gbo.MulticlassFocalLoss(), {}, xgb.DMatrix(X, label=_labels_with_stray(1e7)), 2)
    with pytest.raises(ValueError, match=r"num_class=100000 but the data set has 1000 rows"):
        gbo.xgboost.train(
            gbo.MulticlassFocalLoss(), {"num_class": 100000}, xgb.DMatrix(X, label=_labels_with_stray(2)), 2
        )


# ------------------------------------------------------------------ 2. Huber with huge weights
def test_huber_init_score_huge_weights_is_finite_and_exact():
    """HuberLoss(1).init_score([0, 0], sample_weight=[1e308, 0.5]) returned NaN (answer 0)."""
    with _no_warnings():
        assert gbo.HuberLoss(1).init_score([0, 0], sample_weight=[1e308, 0.5]) == 0.0
        # weights scaled by a common power of two (huge or subnormal) give the same minimiser
        y = np.array([0.0, 10.0, 3.0])
        w = np.array([2.0, 1.0, 0.5])
        want = gbo.HuberLoss(1).init_score(y, w)
        assert gbo.HuberLoss(1).init_score(y, w * 2.0**1020) == want
        assert gbo.HuberLoss(1).init_score(y, w * 2.0**-1070) == want  # subnormal weights
        # residuals spanning the whole double range: c - y overflows to +-inf, which clips to +-delta
        assert gbo.HuberLoss(1).init_score([-1e308, 1e308, 1.0]) == 1.0
        leaf = gbo.HuberLoss(1).leaf_values(
            np.array([0.0, 0, 5, 5]), np.array([1e308, 0.5, 1, 1]), np.array([0, 0, 1, 1]), 2
        )
    assert leaf.tolist() == [0.0, 5.0]


# ------------------------------------------------------------------ 3. log-cosh / pseudo-Huber roots
ROOT_LOSSES = [gbo.LogCoshLoss(), gbo.PseudoHuberLoss(), gbo.PseudoHuberLoss(delta=0.01), gbo.PseudoHuberLoss(delta=20)]


@pytest.mark.parametrize("loss", ROOT_LOSSES, ids=repr)
@pytest.mark.parametrize(
    "y", [[0.0, 1.0, 1e200], [-1e160, 0.0, 2.0, 3.0], [0.0, 1.0, 2.0, 1e300], [-1.7e308, 0.0, 1.0, 1.7e308]]
)
def test_robust_init_score_converges_for_any_target_range(loss, y):
    """Target ranges >= 1e160 raised scipy's "Failed to converge after 500 iterations"."""
    y = np.array(y)
    with _no_warnings():
        c = loss.init_score(y)
    assert np.isfinite(c)
    # a root of G(c) = sum g(c - y): G changes sign across c (the answer is a minimiser)
    step = 1e-9 * max(1.0, abs(c))

    def g(r: float) -> float:
        # the derivative of one term, written out here for residuals of any size (the public
        # gradient of pseudo-Huber is NaN once (z - y)/delta overflows, |z - y| > 1.8e308 delta)
        if isinstance(loss, gbo.LogCoshLoss):
            return math.tanh(r)
        d = loss.delta
        return r / math.sqrt(1 + (r / d) ** 2) if abs(r) <= d else math.copysign(d, r) / math.sqrt(1 + (d / r) ** 2)

    def G(x: float) -> float:
        return math.fsum(g(float(x) - float(yi)) for yi in y)  # (x - yi beyond 1.8e308 is +-inf)

    assert G(c - step) <= 0 <= G(c + step)


def test_robust_init_score_keeps_ordinary_answers():
    """Ordinary data take the unchanged Brent path: the answer is the known root."""
    # symmetric data: the root is the centre exactly
    for loss in ROOT_LOSSES:
        assert loss.init_score([-3.0, -1.0, 1.0, 3.0]) == 0.0
    # weights near 1e308 (the sum overflowed) give the unweighted answer to rounding
    a = gbo.LogCoshLoss().init_score([0.0, 1.0, 5.0], [1e308, 1e308, 1e308])
    assert a == pytest.approx(gbo.LogCoshLoss().init_score([0.0, 1.0, 5.0]), rel=1e-14)


def test_lightgbm_train_huge_targets_is_a_clear_error():
    """LightGBM with targets near 1e300: LightGBM stores labels as float32 (clamped at 1e38)."""
    lgb = pytest.importorskip("lightgbm")
    X = np.random.default_rng(0).normal(size=(50, 3))
    y = X[:, 0].copy()
    y[0] = 1e300
    for loss in (gbo.LogCoshLoss(), gbo.HuberLoss()):
        with pytest.raises(ValueError, match=r"train_set's label has a value of 1e\+300.*float32"):
            gbo.lightgbm.train(loss, {"verbose": -1}, lgb.Dataset(X, label=y), 2)
    with pytest.raises(ValueError, match=r"^y has a value of 1e\+300.*LightGBM stores labels as float32"):
        gbo.BoostedRegressor(engine="lightgbm", n_estimators=2).fit(X, y)


# ------------------------------------------------------------------ 4. links, weights, estimators
@pytest.mark.parametrize("loss", [gbo.FocalLoss(), gbo.MulticlassFocalLoss(), gbo.HuberLoss()], ids=repr)
def test_inverse_link_rejects_nan(loss):
    z = np.array([[0.0, np.nan, 1.0]]) if loss.task == "multiclass" else np.array([0.0, np.nan])
    with pytest.raises(ValueError, match="raw_prediction contains 1 NaN"):
        loss.inverse_link(z)


def test_inverse_link_infinities():
    """logit: +-inf are the limits 0 / 1; identity: rejected; softmax: -inf is a masked class,
    one +inf a one-hot row, several (or no finite one) rejected."""
    with _no_warnings():
        np.testing.assert_array_equal(gbo.FocalLoss().inverse_link([-np.inf, np.inf]), [0.0, 1.0])
        p = gbo.MulticlassFocalLoss().inverse_link([[0.0, -np.inf, 0.0], [np.inf, 3.0, -np.inf]])
    np.testing.assert_array_equal(p, [[0.5, 0.0, 0.5], [1.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="raw_prediction contains 1 infinite"):
        gbo.HuberLoss().inverse_link([1.0, np.inf])
    for bad in ([[np.inf, np.inf, 0.0]], [[-np.inf, -np.inf, -np.inf]]):
        with pytest.raises(ValueError, match="raw_prediction has 1 row"):
            gbo.MulticlassFocalLoss().inverse_link(bad)


def test_class_balanced_weights_rejects_missing_labels():
    with pytest.raises(ValueError, match=r"y contains 2 missing label"):
        gbo.class_balanced_weights([0, np.nan, 1, np.nan])
    with pytest.raises(ValueError, match=r"y contains 1 missing label"):
        gbo.class_balanced_weights(np.array(["a", None, "b"], dtype=object))
    assert gbo.class_balanced_weights(["a", "b", "b"]).shape == (2,)


def test_regressor_names_y_for_text_targets():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match=r"^y must hold real-valued regression targets.*'a'"):
        gbo.BoostedRegressor(n_estimators=2).fit(X, ["a"] * 20)


def test_xgboost_estimator_values_beyond_float32():
    pytest.importorskip("xgboost")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 2)), rng.normal(size=30)
    Xb = X.copy()
    Xb[3, 1] = -1e300
    with pytest.raises(ValueError, match=r"^X has a value of -1e\+300, beyond \+-3.4e\+38: XGBoost stores features"):
        gbo.BoostedRegressor(n_estimators=2).fit(Xb, y)
    yb = y.copy()
    yb[0] = 1e39
    with pytest.raises(ValueError, match=r"^y has a value of 1e\+39.*XGBoost stores labels as float32"):
        gbo.BoostedRegressor(n_estimators=2).fit(X, yb)
    with pytest.raises(ValueError, match=r"^eval_set\[0\] X has a value"):
        gbo.BoostedRegressor(n_estimators=2).fit(X, y, eval_set=(Xb, y))
    # NaN (missing) and values up to float32's range are fine
    Xn = X.copy()
    Xn[0, 0] = np.nan
    Xn[1, 0] = 3e38
    gbo.BoostedRegressor(n_estimators=2).fit(Xn, y)


def test_lightgbm_train_on_one_row():
    """gbo.lightgbm.train on 1 row failed inside LightGBM ("Check failed: num_features() > 0")."""
    lgb = pytest.importorskip("lightgbm")
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = X[:, 0] * 2
    for n in (1, 30):  # (30 rows < 2 * min_data_in_leaf: every feature was pre-filtered too)
        bst = gbo.lightgbm.train(gbo.LogCoshLoss(), {"verbose": -1}, lgb.Dataset(X[:n], label=y[:n]), 3)
        assert np.all(np.isfinite(bst.predict(X, raw_score=True)))
    assert bst.predict(X[:1], raw_score=True)[0] != 0.0
    one = gbo.lightgbm.train(gbo.LogCoshLoss(), {"verbose": -1}, lgb.Dataset(X[:1], label=y[:1]), 3)
    np.testing.assert_allclose(one.predict(X[:5], raw_score=True), y[0])  # the start: the only label
    # a Dataset the user constructed with the pre-filter on: a clear error instead of LightGBM's
    built = lgb.Dataset(X[:1], label=y[:1], params={"verbose": -1}).construct()
    with pytest.raises(ValueError, match="feature_pre_filter"):
        gbo.lightgbm.train(gbo.LogCoshLoss(), {"verbose": -1}, built, 3)


# ------------------------------------------------------------------ 5. training-safe Hessians
SAFE_CLASSIFICATION = [
    loss for loss in example_losses() if loss.task != "regression" and getattr(loss, "hessian", "exact") != "exact"
]
HUGE_MARGINS = np.array([-1e300, -1e4, -800.0, -746.0, -100.0, -40.0, 40.0, 100.0, 746.0, 800.0, 1e4, 1e300])


def _grid(loss, zs):
    if loss.task == "multiclass":
        K = loss.n_classes or 3
        z = np.zeros((len(zs) * K, K))
        for k in range(K):
            z[k * len(zs) : (k + 1) * len(zs), k] = zs  # one logit far off, the others 0
        y = np.repeat(np.arange(K), len(zs))
        return np.concatenate([y, y]), np.concatenate([z, -z])
    return np.repeat([0.0, 1.0, 0.25], len(zs)), np.tile(zs, 3)


@pytest.mark.parametrize("loss", SAFE_CLASSIFICATION, ids=repr)
def test_training_safe_hessian_positive_at_any_margin(loss):
    """Default Hessians were 0 beyond |margin| ~ 745 beside a gradient of +-1."""
    y, z = _grid(loss, HUGE_MARGINS)
    w = np.linspace(0.5, 2.0, len(y))
    with _no_warnings():
        for sw in (None, w):
            g, h = loss.gradient_hessian(y, z, sw)
            assert np.all(np.isfinite(h)) and np.all(h[g != 0] > 0)


@pytest.mark.parametrize("loss", SAFE_CLASSIFICATION, ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_safe_hessian_positive_in_the_engines(loss, dtype):
    """The engines' fast path (float32 margins from XGBoost, float64 from LightGBM, float32
    results) keeps Hessians > 0 where the gradient is not 0; float32 p q underflows at |z| ~ 104."""
    y, z = _grid(loss, np.array([-1e4, -800.0, -120.0, -104.0, -90.0, 90.0, 104.0, 120.0, 800.0, 1e4]))
    for w in (None, np.linspace(0.5, 2.0, len(y))):
        g, h = _common.gradient_hessian(loss, z.astype(dtype), _Owner(), y, w, "test")
        assert np.all(np.isfinite(h)) and np.all(h[g != 0] > 0)


class _Owner:  # weak-referenceable stand-in for a DMatrix / Dataset
    pass


def test_exact_hessians_stay_exact_and_the_floor_is_documented():
    z = np.array([0.0, 40.0, 800.0])
    y = np.ones(3)
    _, h_exact = gbo.WeightedLogLoss(hessian="exact").gradient_hessian(y, z)
    _, h_safe = gbo.WeightedLogLoss().gradient_hessian(y, z)
    assert h_exact[2] == 0.0 and 0 < h_exact[1] < 1e-16  # the true sigma(z) sigma(-z)
    np.testing.assert_array_equal(h_safe, [0.25, 1e-16, 1e-16])  # max(p q, 1e-16)
    _, h_focal = gbo.FocalLoss(hessian="exact").gradient_hessian(y, -z)
    assert h_focal[2] == 0.0
    for cls in (gbo.WeightedLogLoss, gbo.FocalLoss, gbo.MulticlassFocalLoss):
        assert "1e-16" in cls.__doc__
