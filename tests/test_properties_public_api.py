"""Property-based tests (hypothesis) of the public API of every loss in ``example_losses()``:
``loss``, ``gradient_hessian``, ``init_score`` and ``inverse_link`` on random data in the
engines' range - margins up to +-1e4, float32-representable targets and weights.

Properties:
* finite inputs give finite outputs, without RuntimeWarnings;
* a training-safe Hessian (every mode but "exact", and each loss's default) is > 0 wherever
  the gradient is not 0;
* a NaN anywhere in the input is a ValueError naming the argument (not a NaN answer, not a crash);
* ``init_score`` minimises the total loss: no nearby constant does better (beyond rounding).

Deterministic (``derandomize=True``: the same examples every run) and fast (a few dozen
examples per property, no deadline).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from conftest import n_outputs, valid_labels  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from gbobjectives.losses import example_losses  # noqa: E402

LOSSES = example_losses()
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None)

MARGIN = st.floats(-10000.0, 10000.0, width=32)
# float32-representable targets (what both engines store), of any size
TARGET = st.one_of(st.floats(-1024.0, 1024.0, width=32), st.floats(allow_nan=False, allow_infinity=False, width=32))
WEIGHT = st.one_of(st.just(1.0), st.floats(2.0**-10, 1024.0, width=32))


def _training_safe(loss) -> bool:
    """Every mode but "exact" promises h > 0 where g != 0; so does the class's own default."""
    mode = getattr(loss, "hessian", "exact")
    default = type(loss)().get_params().get("hessian", "exact")
    return mode != "exact" or mode == default


@st.composite
def cases(draw, n_min: int = 1):
    """(loss, y, z, w) valid for the loss: every class present for classification."""
    loss = draw(st.sampled_from(LOSSES))
    n = draw(st.integers(n_min, 8))
    if loss.task == "binary":
        hard = st.sampled_from([0.0, 1.0])
        label = st.one_of(hard, st.floats(0.0, 1.0)) if draw(st.booleans()) else hard
        y = np.array([0.0, 1.0] + draw(st.lists(label, min_size=n, max_size=n)))
        z = np.array(draw(st.lists(MARGIN, min_size=len(y), max_size=len(y))), dtype=np.float64)
    elif loss.task == "multiclass":
        K = loss.n_classes or draw(st.integers(2, 4))
        y = np.concatenate([np.arange(K), draw(st.lists(st.integers(0, K - 1), min_size=n, max_size=n))])
        rows = st.lists(MARGIN, min_size=K, max_size=K)
        z = np.array(draw(st.lists(rows, min_size=len(y), max_size=len(y))), dtype=np.float64)
    else:
        y = valid_labels(loss, np.array(draw(st.lists(TARGET, min_size=n, max_size=n)), dtype=np.float64))
        z = np.array(draw(st.lists(MARGIN, min_size=n, max_size=n)), dtype=np.float64)
        if n_outputs(loss):  # (n, K) raw scores: K margins per row
            rows = st.lists(MARGIN, min_size=n_outputs(loss), max_size=n_outputs(loss))
            z = np.array(draw(st.lists(rows, min_size=n, max_size=n)), dtype=np.float64)
    w = np.array(draw(st.lists(WEIGHT, min_size=len(y), max_size=len(y))), dtype=np.float64)
    return loss, y, z, w


@SETTINGS
@given(cases())
def test_finite_outputs_and_safe_hessians(case):
    loss, y, z, w = case
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for sw in (None, w):
            value = loss.loss(y, z, sw)
            g, h = loss.gradient_hessian(y, z, sw)
            assert np.all(np.isfinite(value)) and np.all(value >= 0)
            assert np.all(np.isfinite(g)) and np.all(np.isfinite(h))
            if _training_safe(loss):
                assert np.all(h[g != 0] > 0), (loss, z[g != 0], g[g != 0], h[g != 0])
        p = loss.inverse_link(z)
    assert np.all(np.isfinite(p))
    if loss.task != "regression":
        assert np.all((p >= 0) & (p <= 1))
    if loss.task == "multiclass":
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)


@SETTINGS
@given(cases(), st.data())
def test_nan_input_is_a_clear_value_error(case, data):
    loss, y, z, w = case
    i = data.draw(st.integers(0, len(y) - 1))
    zn = z.copy()
    zn[i] = np.nan  # (a whole row for multiclass)
    yn = y.astype(np.float64)
    yn[i] = np.nan
    wn = w.copy()
    wn[i] = np.nan
    with pytest.raises(ValueError, match="raw_prediction"):
        loss.loss(y, zn)
    with pytest.raises(ValueError, match="raw_prediction"):
        loss.gradient_hessian(y, zn)
    with pytest.raises(ValueError, match="raw_prediction"):
        loss.inverse_link(zn)
    with pytest.raises(ValueError, match="y_true"):
        loss.gradient_hessian(yn, z)
    with pytest.raises(ValueError, match="y_true"):
        loss.init_score(yn)
    with pytest.raises(ValueError, match="sample_weight"):
        loss.gradient_hessian(y, z, wn)
    with pytest.raises(ValueError, match="sample_weight"):
        loss.init_score(y, wn)


def _total(loss, y, w, c) -> float:
    n = len(y)
    z = np.tile(c, (n, 1)) if np.ndim(c) else np.full(n, float(c))
    return float(np.sum(loss.loss(y, z, w)))


@SETTINGS
@given(cases(), st.booleans())
def test_init_score_minimises_the_total_loss(case, weighted):
    loss, y, _, w = case
    sw = w if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = loss.init_score(y, sw)
        assert np.all(np.isfinite(c))
        best = _total(loss, y, sw, c)
    # nearby constants, in the loss's own length scale and relative to the size of c
    scale = loss._length_scale()
    span = np.max(np.abs(y)) if loss.task == "regression" else 1.0
    steps = [scale * s for s in (1e-3, 0.1, 1.0)] + [1e-6 * span, 1e-3 * span]
    eps = np.finfo(float).eps

    def no_better(other: float) -> bool:
        # the total is a sum of len(y) non-negative terms, each good to a few roundings
        return best <= other + 16 * (len(y) + 4) * eps * max(best, other)

    for d in steps:
        if np.ndim(c):
            K = len(c)
            for k in range(K):
                e = np.zeros(K)
                e[k] = d
                for cc in (c + e, c - e):
                    assert no_better(_total(loss, y, sw, cc)), (loss, c, cc)
        else:
            for cc in (c + d, c - d):
                assert no_better(_total(loss, y, sw, cc)), (loss, c, cc)
