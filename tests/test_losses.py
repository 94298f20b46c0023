"""Numerical behaviour every loss must have: finiteness, positivity, dtypes, no warnings,
the focal/logloss and softmax identities, and sample weights."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import ALL_LOSSES, loss_id, make_data, n_outputs, valid_labels, widen
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import log_softmax, softmax

import gbobjectives as gbo

EXTREME = np.array([-1e4, -745.0, -700.0, -100.0, -37.0, -1.0, 0.0, 1.0, 37.0, 100.0, 700.0, 745.0, 1e4])


def _grid(loss, values):
    """Every label kind crossed with every raw-score value."""
    if loss.task == "binary":
        y = np.repeat([0.0, 1.0, 0.3], values.size)
        return y, np.tile(values, 3)
    if loss.task == "multiclass":
        K = loss.n_classes or 3
        a, b = np.meshgrid(values, values)
        z = np.zeros((a.size, K))
        z[:, 0], z[:, 1] = a.ravel(), b.ravel()
        y = np.repeat(np.arange(K), a.size)
        return y, np.tile(z, (K, 1))
    y = valid_labels(loss, np.array([-3.0, 0.0, 1e3]))
    return np.repeat(y, values.size), widen(loss, np.repeat(y, values.size) + np.tile(values * loss._length_scale(), 3))


def test_finite_up_to_1e4(any_loss):
    """Loss, gradient and default Hessian are finite for |z| up to 1e4 (float64)."""
    y, z = _grid(any_loss, EXTREME)
    g, h = any_loss.gradient_hessian(y, z)
    assert np.all(np.isfinite(any_loss.loss(y, z)))
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(h))


def test_default_hessian_positive_where_gradient_nonzero(any_loss):
    """The training-safe Hessian is > 0 wherever the gradient is non-zero, |z| <= 700.

    For multiclass, logit gaps stay <= 700 (entries in [-350, 350]) as for binary margins;
    beyond ~745 the true Hessian itself is below the smallest double.
    """
    class_default = type(any_loss)().get_params().get("hessian", "exact")
    if any_loss.hessian_is_exact and class_default != "exact":
        pytest.skip("a non-default exact Hessian may be negative or zero by design")
    values = np.concatenate([np.linspace(-700, 700, 141), [-36.7, 36.7, 1e-3]])
    if any_loss.task == "multiclass":
        values = np.linspace(-350, 350, 41)
    y, z = _grid(any_loss, values)
    g, h = any_loss.gradient_hessian(y, z)
    assert np.all(h >= 0)
    assert np.all(h[g != 0] > 0)


def test_exact_focal_hessian_below_upper_bound():
    """The default "upper" focal Hessian is >= the exact one, and equal where p_t = 1/2."""
    z = np.linspace(-50, 50, 1001)
    for gamma in (0.5, 2.0, 5.0):
        for y in (0.0, 1.0):
            yy = np.full_like(z, y)
            _, h_up = gbo.FocalLoss(gamma=gamma).gradient_hessian(yy, z)
            _, h_ex = gbo.FocalLoss(gamma=gamma, hessian="exact").gradient_hessian(yy, z)
            assert np.all(h_up >= h_ex - 8 * np.finfo(float).eps * np.abs(h_ex))
            assert np.any(h_ex < 0)  # the exact one really is negative somewhere


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_low_precision_inputs_match_float64(any_loss, dtype):
    """float32/float16 inputs are accepted and give the float64 result of the same values."""
    rng = np.random.default_rng(0)
    y, z = make_data(any_loss, rng, n=40, scale=5.0)
    z_low = z.astype(dtype)
    z_up = z_low.astype(np.float64)
    y_low = y.astype(dtype) if any_loss.task == "regression" else y
    y_up = np.asarray(y_low, dtype=np.float64) if any_loss.task == "regression" else y
    w_low = rng.uniform(0, 2, len(y)).astype(dtype)
    w_up = w_low.astype(np.float64)
    for a, b in zip(any_loss.gradient_hessian(y_low, z_low, w_low), any_loss.gradient_hessian(y_up, z_up, w_up)):
        assert a.dtype in (np.float32, np.float64)
        np.testing.assert_array_equal(a.astype(np.float64), b)
    np.testing.assert_array_equal(any_loss.loss(y_low, z_low, w_low), any_loss.loss(y_up, z_up, w_up))


@pytest.mark.parametrize("magnitude", [1.0, 1e4, 1e300])
def test_no_runtime_warnings(any_loss, magnitude):
    """No RuntimeWarning (overflow, 0*inf, log(0)) for any finite input up to 1e300."""
    values = np.array([-1.0, -0.5, 0.0, 0.5, 1.0]) * magnitude
    y, z = _grid(any_loss, values)
    if any_loss.task == "regression":
        y = np.clip(y, -magnitude, magnitude)
        z = np.clip(z, -magnitude, magnitude)
    w = np.linspace(0, 1, len(y))
    # the expectile loss (y - z)^2 of |r| > 1.3e154 is beyond float64's range (its derivatives are not)
    value_overflows = isinstance(any_loss, gbo.ExpectileLoss) and magnitude > 1e150
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = [] if value_overflows else [any_loss.loss(y, z, w)]
        values += any_loss.gradient_hessian(y, z, w)
        if not any_loss.hessian_is_exact:
            values += list(any_loss.with_params(hessian="exact").gradient_hessian(y, z))
        any_loss.inverse_link(z)
    for v in values:
        assert np.all(np.isfinite(v))


@pytest.mark.parametrize("hessian", gbo.FocalLoss.hessian_options)
def test_focal_exact_hessian_finite_at_largest_doubles(hessian):
    """Regression test: the exact focal Hessian was NaN for z <= -1e308/gamma (gamma*L overflowed)."""
    z = np.array([-np.finfo(float).max, -1e308, -1e300, 1e308, np.finfo(float).max])
    for y in (0.0, 1.0, 0.5):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            g, h = gbo.FocalLoss(gamma=5.0, hessian=hessian).gradient_hessian(np.full(z.size, y), z)
        assert np.all(np.isfinite(g)) and np.all(np.isfinite(h))


ALPHAS = [None, 0.0, 0.25, 0.5, 1.0]


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("hessian", gbo.FocalLoss.hessian_options)
def test_focal_gamma0_is_logloss_bit_for_bit(alpha, hessian):
    """FocalLoss(gamma=0) == WeightedLogLoss: value, gradient, Hessian, soft labels, weights."""
    rng = np.random.default_rng(1)
    z = np.concatenate([rng.normal(0, 10, 200), [-700, -40, 0, 40, 700]])
    y = np.concatenate([rng.integers(0, 2, 100), rng.uniform(0, 1, 105)])
    w = rng.uniform(0, 3, z.size)
    focal = gbo.FocalLoss(gamma=0, alpha=alpha, hessian=hessian)
    # every focal mode but "exact" is the floored (training-safe) logloss Hessian at gamma=0
    mode = "exact" if hessian == "exact" else "floored"
    logloss = (
        gbo.WeightedLogLoss(hessian=mode)
        if alpha is None
        else gbo.WeightedLogLoss(pos_weight=alpha, neg_weight=1 - alpha, hessian=mode)
    )
    for sw in (None, w):
        np.testing.assert_array_equal(focal.loss(y, z, sw), logloss.loss(y, z, sw))
        for a, b in zip(focal.gradient_hessian(y, z, sw), logloss.gradient_hessian(y, z, sw)):
            np.testing.assert_array_equal(a, b)
    if alpha in (0.0, 1.0):  # one class has zero weight: no finite optimal constant
        for loss in (focal, logloss):
            with pytest.raises(ValueError, match="init_score"):
                loss.init_score(y, w)
    else:
        assert focal.init_score(y, w) == logloss.init_score(y, w)


@pytest.mark.parametrize("any_loss", [x for x in ALL_LOSSES if x.task == "multiclass"], ids=loss_id)
def test_multiclass_rows_sum_to_zero(any_loss):
    """A softmax loss's gradient row sums to 0 (up to rounding), even at logit gaps of 700."""
    rng = np.random.default_rng(2)
    y, z = make_data(any_loss, rng, n=200, scale=50.0)
    z[:20] *= 7
    g, _ = any_loss.gradient_hessian(y, z, rng.uniform(0, 2, len(y)))
    assert np.all(np.abs(g.sum(axis=1)) <= 8 * np.finfo(float).eps * np.abs(g).max(axis=1))


@pytest.mark.parametrize("hessian", gbo.MulticlassFocalLoss.hessian_options)
def test_multiclass_gamma0_is_softmax_cross_entropy(hessian):
    """gamma=0: loss -log p_y, gradient p - onehot, Hessian diagonal p_j (1 - p_j)."""
    rng = np.random.default_rng(4)
    K = 4
    z = rng.normal(0, 4, (300, K))
    y = rng.integers(0, K, 300)
    p = softmax(z, axis=1)
    onehot = np.eye(K)[y]
    one_minus_p = np.einsum("nk,jk->nj", p, 1 - np.eye(K))  # sum of the other classes: no cancellation
    loss = gbo.MulticlassFocalLoss(gamma=0.0, hessian=hessian)
    g, h = loss.gradient_hessian(y, z)
    # atol: log_softmax's own z_y - logsumexp cancels (abs error ~ eps*|z|) when p_y ~ 1
    np.testing.assert_allclose(loss.loss(y, z), -log_softmax(z, axis=1)[np.arange(300), y], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(g, p - onehot, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h, p * one_minus_p, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(loss.inverse_link(z), p, rtol=1e-14)


def test_multiclass_alpha_weights_the_true_class():
    """alpha_c multiplies loss, gradient and Hessian of rows whose label is c."""
    rng = np.random.default_rng(5)
    z = rng.normal(0, 3, (50, 3))
    y = rng.integers(0, 3, 50)
    alpha = np.array([0.5, 1.0, 2.0])
    plain, weighted = gbo.MulticlassFocalLoss(gamma=2.0), gbo.MulticlassFocalLoss(gamma=2.0, alpha=alpha)
    np.testing.assert_allclose(weighted.loss(y, z), alpha[y] * plain.loss(y, z), rtol=1e-14)
    for a, b in zip(weighted.gradient_hessian(y, z), plain.gradient_hessian(y, z)):
        np.testing.assert_allclose(a, alpha[y][:, None] * b, rtol=1e-14)


def test_sample_weight_multiplies_everything(any_loss):
    """sample_weight multiplies the per-sample loss, gradient and Hessian; weight 0 gives 0."""
    rng = np.random.default_rng(6)
    y, z = make_data(any_loss, rng, n=50)
    w = rng.uniform(0, 5, 50)
    w[:5] = 0.0
    np.testing.assert_allclose(any_loss.loss(y, z, w), w * any_loss.loss(y, z), rtol=1e-14)
    g0, h0 = any_loss.gradient_hessian(y, z)
    g1, h1 = any_loss.gradient_hessian(y, z, w)
    ww = w if g0.ndim == 1 else w[:, None]
    np.testing.assert_allclose(g1, ww * g0, rtol=1e-14, atol=0)
    if any_loss.hessian_uses_all_rows:
        # the weights also enter the curvature's shared statistics: integer weights must act
        # exactly as duplicated rows (test_weights_act_as_duplicated_rows_in_shared_curvature)
        assert not np.allclose(h1, ww * h0, rtol=1e-6)
    else:
        np.testing.assert_allclose(h1, ww * h0, rtol=1e-14, atol=0)
    assert np.all(g1[:5] == 0) and np.all(h1[:5] == 0)
    # a column-vector weight is the same weight
    np.testing.assert_array_equal(any_loss.loss(y, z, w[:, None]), any_loss.loss(y, z, w))


def test_weights_act_as_duplicated_rows_in_shared_curvature(any_loss):
    """Integer weight k is k copies of the row, for every loss: also when the curvature uses
    statistics of all rows (QuantileLoss "mm": its residual scale is a weighted mean), and a
    weight-0 row is a dropped row."""
    rng = np.random.default_rng(7)
    y, z = make_data(any_loss, rng, n=40)
    w = rng.integers(0, 4, 40).astype(np.float64)
    w[0] = 3.0
    rep = np.repeat(np.arange(40), w.astype(int))
    g1, h1 = any_loss.gradient_hessian(y, z, w)
    g2, h2 = any_loss.gradient_hessian(y[rep], z[rep])
    first = np.searchsorted(rep, np.arange(40))  # the first copy of each kept row
    kept = w > 0
    ww = w[kept] if g1.ndim == 1 else w[kept][:, None]
    np.testing.assert_allclose(g1[kept], ww * g2[first[kept]], rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(h1[kept], ww * h2[first[kept]], rtol=1e-13, atol=1e-300)


def test_loss_is_nonnegative_and_zero_at_target(default_loss):
    """Every loss is >= 0; regression losses are 0 at r = 0 and grow with |r|."""
    rng = np.random.default_rng(7)
    y, z = make_data(default_loss, rng, n=100, scale=20.0)
    assert np.all(default_loss.loss(y, z) >= 0)
    if default_loss.task == "regression":
        K = n_outputs(default_loss)
        # (K outputs: every quantile at the target; for "monotone" raw scores, log-gaps at -inf)
        at = y if K is None else default_loss.raw_from_quantiles(np.repeat(y[:, None], K, axis=1))
        assert np.all(default_loss.loss(y, at) <= (0 if K is None or default_loss.noncrossing == "sort" else 1e-6))
        r = np.array([0.1, 1.0, 10.0, 100.0])
        y0 = valid_labels(default_loss, np.zeros(4))
        assert np.all(np.diff(default_loss.loss(y0, widen(default_loss, y0 + r))) > 0) or default_loss.get_params().get(
            "quantile"
        )


def test_inverse_link(default_loss):
    """sigmoid / softmax for classification (in [0, 1], rows sum to 1), identity for regression."""
    rng = np.random.default_rng(8)
    _, z = make_data(default_loss, rng, n=30, scale=100.0)
    p = default_loss.inverse_link(z)
    if n_outputs(default_loss) and default_loss.noncrossing == "sort":
        np.testing.assert_array_equal(p, np.sort(z, axis=1))  # quantiles that never cross
    elif n_outputs(default_loss):  # "monotone": q_1 = z_1, then softplus increments
        np.testing.assert_array_equal(p[:, 0], z[:, 0])
        np.testing.assert_allclose(np.diff(p, axis=1), np.logaddexp(0.0, z[:, 1:]), rtol=1e-12, atol=1e-9)
    elif default_loss.task == "regression":
        np.testing.assert_array_equal(p, z)
    else:
        assert np.all((p >= 0) & (p <= 1))
        if default_loss.task == "multiclass":
            np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)


def test_example_losses_cover_every_class_and_hessian_mode():
    """example_losses() (which parametrises this suite) spans every class and Hessian option."""
    seen = {(type(loss).__name__, getattr(loss, "hessian", "exact")) for loss in ALL_LOSSES}
    for name, cls in gbo.LOSSES.items():
        for h in cls.hessian_options:
            assert (name, h) in seen


# ---------------------------------------------------------------------- property-based
@st.composite
def random_loss(draw):
    """A shipped loss class with random valid parameters and Hessian mode."""
    cls = draw(st.sampled_from(sorted(gbo.LOSSES.values(), key=lambda c: c.__name__)))
    params = {}
    if "hessian" in cls().get_params():
        params["hessian"] = draw(st.sampled_from(cls.hessian_options))
    if cls in (gbo.FocalLoss, gbo.MulticlassFocalLoss):
        # gamma is 0 or >= 1e-3: the Gauss-Newton surrogate behaves like gamma*(1+gamma)*q for
        # confident rows, so a gamma of 1e-100 underflows it to 0 beside a gradient of ~q
        params["gamma"] = draw(st.one_of(st.just(0.0), st.floats(1e-3, 6.0)))
    if cls is gbo.FocalLoss:
        params["alpha"] = draw(st.one_of(st.none(), st.sampled_from([0.0, 1.0]), st.floats(1e-3, 1 - 1e-3)))
    if cls is gbo.MulticlassFocalLoss:
        weight = st.one_of(st.just(0.0), st.floats(1e-3, 5.0))
        params["alpha"] = draw(st.one_of(st.none(), st.lists(weight, min_size=2, max_size=5)))
    if cls is gbo.WeightedLogLoss:
        weight = st.one_of(st.just(0.0), st.floats(1e-3, 10.0))
        params["pos_weight"], params["neg_weight"] = draw(weight), draw(weight)
    if cls in (gbo.HuberLoss, gbo.PseudoHuberLoss):
        params["delta"] = draw(st.floats(1e-3, 1e3))
    if cls is gbo.QuantileLoss:
        params["quantile"] = draw(st.floats(0.001, 0.999))
    if cls is gbo.ExpectileLoss:
        params["expectile"] = draw(st.floats(0.001, 0.999))
    if cls is gbo.MultiQuantileLoss:
        taus = draw(st.lists(st.floats(0.001, 0.999), min_size=2, max_size=5, unique=True))
        params["quantiles"] = sorted(taus)
        params["noncrossing"] = draw(st.sampled_from(["sort", "monotone"]))
    return cls(**params)


@st.composite
def loss_with_points(draw):
    loss = draw(random_loss())
    n = draw(st.integers(1, 12))
    margin = st.floats(-700.0, 700.0)
    # weights (and class weights below) are 0 or at least 1e-3: a weight of 1e-200 only
    # pushes every product into the subnormal range, which says nothing about the loss
    w = np.array(draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 100.0)), min_size=n, max_size=n)))
    if loss.task == "binary":
        # soft labels act as class weights: keep them >= 1e-3 from 0 and 1 (see the weights)
        label = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(1e-3, 1 - 1e-3))
        y = np.array(draw(st.lists(label, min_size=n, max_size=n)))
        z = np.array(draw(st.lists(margin, min_size=n, max_size=n)))
    elif loss.task == "multiclass":
        K = loss.n_classes or draw(st.integers(2, 5))
        y = np.array(draw(st.lists(st.integers(0, K - 1), min_size=n, max_size=n)))
        z = np.array(draw(st.lists(st.lists(st.floats(-350.0, 350.0), min_size=K, max_size=K), min_size=n, max_size=n)))
    else:
        y = valid_labels(loss, np.array(draw(st.lists(st.floats(-1e4, 1e4), min_size=n, max_size=n))))
        r = np.array(draw(st.lists(margin, min_size=n, max_size=n))) * loss._length_scale()
        z = y + r
        if isinstance(loss, gbo.MultiQuantileLoss):  # (n, K) raw scores: K - 1 more columns
            K = loss.n_outputs
            rest = st.lists(st.floats(-40.0, 40.0), min_size=n * (K - 1), max_size=n * (K - 1))
            z = np.column_stack([z, np.array(draw(rest)).reshape(n, K - 1)])
    return loss, y, z, w


@settings(max_examples=80, deadline=None)
@given(loss_with_points())
def test_property_random_losses_and_points(case):
    """Random parameters, labels, margins (|z| <= 700) and weights: finite values, a safe
    default Hessian, weights that multiply, a non-negative loss, and a passing audit."""
    loss, y, z, w = case
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = loss.loss(y, z)
        g, h = loss.gradient_hessian(y, z)
        gw, hw = loss.gradient_hessian(y, z, w)
        result = gbo.check_gradients(loss, y, z)
    assert np.all(np.isfinite(value)) and np.all(value >= 0)
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(h))
    ww = w if g.ndim == 1 else w[:, None]
    np.testing.assert_allclose(gw, ww * g, rtol=1e-14, atol=1e-300)  # atol: subnormal products
    if not loss.hessian_uses_all_rows:  # else weights also enter the shared scale: see below
        np.testing.assert_allclose(hw, ww * h, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(loss.loss(y, z, w), w * value, rtol=1e-14, atol=1e-300)
    if not loss.hessian_is_exact:
        assert np.all(h >= 0)
    assert result.passed, (result, result.worst, result.problems)


def test_huber_init_score_where_breakpoints_round():
    """Residuals beyond 2^51 delta: r - delta rounds onto a neighbouring double, and the linear
    piece between the rounded breakpoints once gave 1.1e15 instead of 4.5e15 (found by the
    property test). The minimiser is within one double of r - 0.375 here."""
    y = np.array([4.50360016e15, 0.0, 0.0, 0.0])
    w = np.array([4.0, 1.0, 1.0, 1.0])
    loss = gbo.HuberLoss(delta=0.5)
    c = loss.init_score(y, w)
    assert abs(c - (y[0] - 0.375)) <= 1.0
    best = loss.loss(y, np.full(4, c), w).sum()
    for other in (c - 1e-3 * y[0], c + 1e-3 * y[0], y[0] / 4):
        assert best <= loss.loss(y, np.full(4, other), w).sum()
    # the leaf rule solves the same equation for many groups at once: same answer per group
    r = np.concatenate([y, y])
    ids, vals = gbo.refit.leaf_values(loss, np.repeat([0, 1], 4), r, np.concatenate([w, w]), 1.0)
    assert ids.tolist() == [0, 1] and vals.tolist() == [c, c]


def test_huber_init_score_where_breakpoints_round_onto_the_labels():
    """delta below half an ulp of y: y +- delta round onto y itself, and interpolating across the
    merged pieces once gave 2.25e15 for [0, 4.5e15, 4.5e15] (issue 16's hypothesis run; the
    minimiser is within one double of 4.5e15)."""
    y = np.array([0.0, 4.5e15, 4.5e15])
    loss = gbo.HuberLoss(delta=0.5)
    c = loss.init_score(y)
    assert abs(c - 4.5e15) <= 1.0
    best = loss.loss(y, np.full(3, c)).sum()
    for other in (c - 1e-3 * y[1], 2.25e15, 0.0):
        assert best <= loss.loss(y, np.full(3, other)).sum()


def test_logloss_with_hard_labels_takes_one_softplus_with_the_same_bits():
    """The numpy path of WeightedLogLoss with 0/1 labels (where nothing is compiled) evaluates one
    softplus of the sign-selected margin (half the cost of a metric call); one of the two terms
    of the general formula is then an exact 0, so the values are bit-identical to it, at any
    margin; soft labels keep both terms. The compiled kernel (``loss.loss``) computes the same
    softplus from libmvec's exp/log1p: within 4 float64 roundings of it, subnormals included."""
    from gbobjectives._numerics import softplus
    from gbobjectives.losses.classification import _logloss

    rng = np.random.default_rng(3)
    z = np.concatenate([rng.normal(size=5000) * 40, [1e308, -1e308, 745.0, -745.0, 740.0, -740.0, 0.0, -0.0]])
    for w_pos, w_neg in ((1.0, 1.0), (3.0, 0.25)):
        loss = gbo.WeightedLogLoss(pos_weight=w_pos, neg_weight=w_neg)
        for y in ((rng.random(z.size) < 0.3).astype(float), rng.random(z.size)):
            with np.errstate(over="ignore"):  # 3 * softplus(1e308) is inf in both (the true value overflows)
                two_terms = w_pos * y * softplus(-z) + w_neg * (1 - y) * softplus(z)
                np.testing.assert_array_equal(_logloss(y, z, w_pos, w_neg), two_terms)
                np.testing.assert_allclose(loss.loss(y, z), two_terms, rtol=4 * np.finfo(float).eps, atol=1e-322)
