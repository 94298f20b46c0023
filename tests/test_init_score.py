"""init_score is the best constant raw score: checked against brute-force minimisation,
exact closed/piecewise forms, and property-based random data."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DEFAULT_LOSSES, loss_id, n_outputs, valid_labels
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize, minimize_scalar

import gbobjectives as gbo
from gbobjectives.losses.regression import weighted_quantile


def total_loss(loss, y, c, w):
    """Weighted total loss of the constant raw score c (scalar, or length-K for multiclass)."""
    n = len(y)
    several = loss.task == "multiclass" or n_outputs(loss)
    z = np.tile(np.asarray(c, dtype=float), (n, 1)) if several else np.full(n, float(c))
    return float(np.sum(loss.loss(y, z, w)))


def brute_force_quantiles(loss, y, w):
    """K-output losses (MultiQuantileLoss): the summed pinball loss is separable in the
    quantiles q_k, so each is minimised on its own (grid, then a bounded search), by value only."""
    K = n_outputs(loss)
    q = np.full(K, float(np.median(y)))

    def f(k, v):
        qq = q.copy()
        qq[k] = v
        # (the other quantiles stay put; "monotone" needs them non-decreasing: sort)
        return total_loss(loss, y, loss.raw_from_quantiles(np.sort(qq)), w)

    for k in range(K):
        grid = np.linspace(float(np.min(y)), float(np.max(y)), 2001)
        values = [f(k, v) for v in grid]
        i = int(np.argmin(values))
        a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        res = minimize_scalar(lambda v, k=k: f(k, v), bounds=(a, b), method="bounded", options={"xatol": 1e-12})
        q[k] = res.x if res.fun < values[i] else grid[i]
    return q, total_loss(loss, y, loss.raw_from_quantiles(np.sort(q)), w)


def brute_force(loss, y, w):
    """Minimise the total loss numerically, without using init_score."""
    if loss.task == "multiclass":
        K = loss.n_classes or int(np.max(y)) + 1
        best = minimize(lambda c: total_loss(loss, y, c, w), np.zeros(K), method="BFGS", options={"gtol": 1e-10})
        return best.x, best.fun
    lo, hi = (-30.0, 30.0) if loss.task == "binary" else (float(np.min(y)), float(np.max(y)))
    grid = np.linspace(lo, hi, 2001)
    values = [total_loss(loss, y, c, w) for c in grid]
    i = int(np.argmin(values))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = minimize_scalar(
        lambda c: total_loss(loss, y, c, w), bounds=(a, b), method="bounded", options={"xatol": 1e-12}
    )
    return (res.x, res.fun) if res.fun < values[i] else (grid[i], values[i])


def _data(loss, rng, n=120):
    if loss.task == "binary":
        y = (rng.uniform(size=n) < 0.15).astype(float)  # imbalanced
        y[:10] = rng.uniform(size=10)
        return y
    if loss.task == "multiclass":
        K = loss.n_classes or 3
        y = rng.choice(K, size=n, p=np.linspace(1, 3, K) / np.linspace(1, 3, K).sum())
        y[:K] = np.arange(K)
        return y
    s = loss._length_scale()
    y = rng.normal(3 * s, 2 * s, n)
    y[:8] += rng.standard_cauchy(8) * 20 * s  # outliers
    return y


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("loss", DEFAULT_LOSSES, ids=loss_id)
def test_init_score_beats_brute_force(loss, weighted):
    """No constant found by brute force has a lower weighted total loss than init_score."""
    rng = np.random.default_rng(11)
    y = _data(loss, rng)
    w = rng.exponential(size=len(y)) if weighted else None
    c = loss.init_score(y, w)
    K = (loss.n_classes or 3) if loss.task == "multiclass" else n_outputs(loss)
    assert np.shape(c) == (() if K is None else (K,))
    f_init = total_loss(loss, y, c, w)
    _, f_brute = brute_force_quantiles(loss, y, w) if n_outputs(loss) else brute_force(loss, y, w)
    assert f_init <= f_brute + 1e-12 * abs(f_brute)
    # and it is a local minimum at the scale of rounding, not just near one
    step = 1e-7 * max(1.0, float(np.max(np.abs(c))))
    for d in (-step, step):
        assert f_init <= total_loss(loss, y, np.asarray(c) + d, w) + 1e-13 * abs(f_init)


def test_init_score_independent_of_hessian_mode(loss_class):
    """The best constant does not depend on which Hessian is used for training."""
    base = loss_class()
    if "hessian" not in base.get_params():
        pytest.skip("no Hessian option")
    y = _data(base, np.random.default_rng(12))
    ref = base.init_score(y)
    for h in loss_class.hessian_options:
        np.testing.assert_array_equal(base.with_params(hessian=h).init_score(y), ref)


def test_weighted_logloss_closed_form():
    """c = log(sum s w+ y) - log(sum s w- (1 - y)), with soft labels and weights."""
    rng = np.random.default_rng(13)
    y = rng.uniform(size=50)
    s = rng.uniform(0.1, 2, 50)
    loss = gbo.WeightedLogLoss(pos_weight=3.0, neg_weight=0.5)
    expected = np.log(3.0 * np.sum(s * y)) - np.log(0.5 * np.sum(s * (1 - y)))
    assert loss.init_score(y, s) == pytest.approx(expected, rel=1e-14, abs=1e-14)


def test_integer_weights_equal_repeated_rows(default_loss):
    """A weight of k is the same as repeating the row k times."""
    rng = np.random.default_rng(14)
    y = _data(default_loss, rng, n=40)
    k = rng.integers(1, 4, len(y))
    a = default_loss.init_score(y, k.astype(float))
    b = default_loss.init_score(np.repeat(y, k))
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def _smallest_reaching(y, w, tau):
    """Definition: the smallest y_(k) whose cumulative weight reaches tau * W (O(n^2), obvious)."""
    for v in np.sort(np.unique(y)):
        if np.sum(w[y <= v]) >= tau * np.sum(w):
            return v
    raise AssertionError


@pytest.mark.parametrize("tau", [0.05, 0.1, 0.3, 0.5, 0.9, 0.99])
def test_quantile_init_is_exact_weighted_quantile(tau):
    """QuantileLoss.init_score is the exact weighted quantile (a data value), by definition."""
    rng = np.random.default_rng(15)
    for _ in range(20):
        n = int(rng.integers(1, 30))
        y = np.round(rng.normal(size=n), 1)  # ties included
        w = rng.choice([0.5, 1.0, 2.0, 3.0], n)
        c = gbo.QuantileLoss(quantile=tau).init_score(y, w)
        assert c == _smallest_reaching(y, w, tau)
        assert c == weighted_quantile(y, w, tau)


def test_quantile_init_beats_numpy_percentile():
    """numpy's interpolated percentile is not a minimiser of the pinball loss; init_score is."""
    y = np.array([1.0, 2.0, 3.0, 4.0])
    loss = gbo.QuantileLoss(quantile=0.3)
    c = loss.init_score(y)
    assert c == 2.0
    pct = np.percentile(y, 30)
    assert pct != c
    assert total_loss(loss, y, c, None) < total_loss(loss, y, pct, None)


def test_huber_init_exact_piecewise_solution():
    """Huber's optimal constant solves sum s*clip(c - y, -d, d) = 0 exactly."""
    # two points at 0 and one outlier at 10: 2c - 1 = 0 inside the quadratic zone
    assert gbo.HuberLoss(delta=1.0).init_score([0.0, 0.0, 10.0]) == 0.5
    # weights: 3c - 1 = 0 with weights (3, 1) on (0, 10)
    assert gbo.HuberLoss(delta=1.0).init_score([0.0, 10.0], [3.0, 1.0]) == pytest.approx(1 / 3, rel=1e-15)
    # large delta: the weighted mean
    y, w = np.array([1.0, 2.0, 7.0]), np.array([1.0, 2.0, 1.0])
    assert gbo.HuberLoss(delta=100.0).init_score(y, w) == pytest.approx(np.average(y, weights=w), rel=1e-15)
    # random data: the first-order condition holds to rounding
    rng = np.random.default_rng(16)
    y = rng.standard_cauchy(200)
    w = rng.uniform(0.1, 3, 200)
    for d in (0.1, 1.0, 5.0):
        c = gbo.HuberLoss(delta=d).init_score(y, w)
        assert abs(np.dot(w, np.clip(c - y, -d, d))) <= 1e-12 * d * w.sum()


def test_focal_init_first_order_condition():
    """Focal init_score is a root of F'(c): the weighted gradient at the constant sums to ~0."""
    rng = np.random.default_rng(17)
    y = (rng.uniform(size=500) < 0.03).astype(float)
    for gamma in (0.5, 2.0, 5.0):
        for alpha in (None, 0.25, 0.9):
            loss = gbo.FocalLoss(gamma=gamma, alpha=alpha)
            c = loss.init_score(y)
            g, _ = loss.gradient_hessian(y, np.full(len(y), c))
            assert abs(g.sum()) <= 1e-10 * np.abs(g).sum()


def test_multiclass_init_first_order_condition():
    """Multiclass init_score: the gradient summed over rows is ~0 in every class."""
    rng = np.random.default_rng(18)
    y = rng.choice(4, size=400, p=[0.7, 0.2, 0.08, 0.02])
    for gamma in (0.0, 0.5, 2.0):
        loss = gbo.MulticlassFocalLoss(gamma=gamma, alpha=[1.0, 2.0, 0.5, 3.0])
        c = loss.init_score(y)
        g, _ = loss.gradient_hessian(y, np.tile(c, (len(y), 1)))
        assert np.all(np.abs(g.sum(axis=0)) <= 1e-9 * np.abs(g).sum())


# ---------------------------------------------------------------------- property-based
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def loss_and_data(draw):
    """A random loss setting with random labels and positive weights."""
    loss = draw(st.sampled_from(DEFAULT_LOSSES))
    n = draw(st.integers(2, 25))
    weights = np.array(draw(st.lists(st.floats(0.05, 20.0), min_size=n, max_size=n)))
    if loss.task == "binary":
        y = np.array(draw(st.lists(st.sampled_from([0.0, 1.0, 0.5, 0.1]), min_size=n, max_size=n)))
        y[0], y[1] = 0.0, 1.0  # both classes present
    elif loss.task == "multiclass":
        K = loss.n_classes or 3
        y = np.array(draw(st.lists(st.integers(0, K - 1), min_size=n, max_size=n)) + list(range(K)))
        weights = np.concatenate([weights, np.ones(K)])
    else:
        y = valid_labels(loss, np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=n, max_size=n))))
    return loss, y, weights


@FAST
@given(loss_and_data())
def test_property_init_score_is_local_minimum(case):
    """For random data and weights, moving the constant either way never lowers the loss."""
    loss, y, w = case
    c = np.asarray(loss.init_score(y, w), dtype=float)
    f0 = total_loss(loss, y, c, w)
    scale = max(1.0, float(np.max(np.abs(c))))
    for step in (1e-3, 1e-6):
        if loss.task == "multiclass":
            dirs = np.eye(len(c))
        else:
            dirs = np.array([1.0])
        for d in dirs:
            for sgn in (-1, 1):
                assert f0 <= total_loss(loss, y, c + sgn * step * scale * d, w) + 1e-12 * abs(f0) + 1e-300


@FAST
@given(
    gamma=st.floats(0.0, 6.0),
    alpha=st.one_of(st.none(), st.floats(0.01, 0.99)),
    frac=st.floats(0.01, 0.99),
)
def test_property_focal_init_matches_scalar_minimiser(gamma, alpha, frac):
    """Random focal parameters and class balance: init_score agrees with minimize_scalar."""
    n = 200
    y = (np.arange(n) < max(1, int(frac * n))).astype(float)
    loss = gbo.FocalLoss(gamma=gamma, alpha=alpha)
    c = loss.init_score(y)
    res = minimize_scalar(lambda t: total_loss(loss, y, t, None), bracket=(c - 1, c + 1))
    assert total_loss(loss, y, c, None) <= res.fun * (1 + 1e-12)
