"""The compiled leaf refit kernels (gbobjectives/_leaf_kernels.c) against the numpy code they replace.

Each kernel has a numpy twin that stays as the reference and the fallback: the leaves read off
score changes (``refit.leaf_from_score_change``), the batched Huber M-estimates
(``_solvers._huber_m_estimates``) and the per-leaf quantiles (``_solvers.quantiles_by_group``).
The two paths must give the same leaves, the same quantiles (the same order statistics) and Huber
roots equal up to the order of summation; a group's result must not depend on the threads.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_compiled import needs_kernels

import gbobjectives as gbo
from gbobjectives import _compiled_leaves, refit
from gbobjectives.losses import _solvers

pytestmark = needs_kernels


@pytest.fixture
def numpy_path(monkeypatch):
    """Within the test, switch the leaf kernels off (the numpy path) by calling the returned function."""

    def switch_off() -> None:
        monkeypatch.setattr(_compiled_leaves, "available", lambda: False)

    return switch_off


def _groups(rng: np.random.Generator, n: int, n_groups: int, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    g = rng.integers(0, n_groups, n)
    r = rng.standard_t(2, n) * 20
    return (np.round(r) if ties else r), g


# --------------------------------------------------------------------------- leaves from score changes
@pytest.mark.parametrize("eps", [2.0**-53, 2.0**-24], ids=["float64 engine", "float32 engine"])
def test_leaves_from_score_changes_equal_the_numpy_search(eps, numpy_path) -> None:
    rng = np.random.default_rng(1)
    cases = []
    for trial in range(40):
        nv = int(rng.choice([1, 2, 3, 7, 63, 64, 255]))
        values = rng.normal(size=nv) * 10.0 ** rng.integers(-3, 3)
        ids = rng.choice(10 * nv + 5, nv, replace=False)
        n = int(rng.integers(1, 3000))
        leaf = rng.integers(0, nv, n)
        before = rng.normal(size=n) * 100
        engine_after = before + values[leaf]
        if eps == 2.0**-24:
            engine_after = engine_after.astype(np.float32).astype(np.float64)
            before = before.astype(np.float32).astype(np.float64)
        if trial % 5 == 1:
            engine_after[rng.integers(n)] += 0.37  # a change that matches no leaf: declined
        if trial % 5 == 2:
            engine_after[rng.integers(n)] = np.nan
        if trial % 5 == 3 and nv > 1:
            values[1] = values[0] * (1 + 1e-15)  # two leaves within rounding of each other: declined
        offset = rng.normal(size=n) * (trial % 2)
        after = engine_after + offset
        before = before + offset  # the offset was in the score before the tree too
        cases.append((before, after, engine_after, ids, values, offset))
    compiled = [refit.leaf_from_score_change(b, a, e, i, v, eps) for b, a, e, i, v, _ in cases]
    fused = [refit._leaves_from_change(b, e, o, i, v, eps) for b, a, e, i, v, o in cases]
    fused = [None if f is None else f[0] for f in fused]
    numpy_path()
    reference = [refit.leaf_from_score_change(b, a, e, i, v, eps) for b, a, e, i, v, _ in cases]
    declined = 0
    for c, f, ref in zip(compiled, fused, reference):
        if ref is None:
            declined += 1
            assert c is None and f is None
        else:
            assert c.tolist() == ref.tolist() and f.tolist() == ref.tolist()
    assert 10 <= declined <= 30  # both outcomes are exercised


def test_leaf_kernel_counts_and_statistics() -> None:
    values = np.array([-1.0, 0.5, 2.0])
    ids = np.array([4, 9, 12], dtype=np.int64)
    before = np.array([0.0, 10.0, -3.0, 1.0, 0.0])
    pos = np.array([2, 0, 0, 1, 2])
    engine_after = before + values[pos]
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    leaf, counts, err, scale, resid = _compiled_leaves.leaf_by_change(before, engine_after, None, values, ids, y)
    assert leaf.tolist() == ids[pos].tolist()
    assert counts.tolist() == [2, 1, 2]
    assert err == 0.0 and scale == 10.0
    assert resid.tolist() == (y - before).tolist()
    assert _compiled_leaves.leaf_by_change(before, engine_after, None, values, ids)[4] is None
    engine_after[3] = np.nan
    assert np.isnan(_compiled_leaves.leaf_by_change(before, engine_after, None, values, ids)[2])


# --------------------------------------------------------------------------- grouping
@pytest.mark.parametrize(
    "rows", [3, 5001, 3 * _compiled_leaves._MIN_ROWS + 17], ids=["three rows", "one range", "three ranges"]
)
def test_grouping_is_a_stable_counting_sort(rows, monkeypatch) -> None:
    """Rows grouped in row order within each group (several ranges on threads), weighted or not."""
    monkeypatch.setenv("GBOBJECTIVES_NUM_THREADS", "3")  # ranges of >= _MIN_ROWS rows on 3 threads
    rng = np.random.default_rng(2)
    r, g = _groups(rng, rows, 37, ties=True)
    w = rng.uniform(0.1, 2.0, r.size)
    start, rs, ws = _compiled_leaves.group_rows(r, w, g.astype(np.int64), 40)
    order = np.argsort(g, kind="stable")
    np.testing.assert_array_equal(rs, r[order])
    np.testing.assert_array_equal(ws, w[order])
    start1, rs1, ws1 = _compiled_leaves.group_rows(r, None, g.astype(np.int64), 40)  # unit weights
    np.testing.assert_array_equal(rs1, r[order])
    assert ws1 is None and np.array_equal(start1, start)
    np.testing.assert_array_equal(np.diff(start), np.bincount(g, minlength=40))
    bad = g.astype(np.int64)
    bad[-1] = 40
    with pytest.raises(ValueError, match=r"group ids must lie in \[0, 40\)"):
        _compiled_leaves.group_rows(r, None, bad, 40)


# --------------------------------------------------------------------------- Huber M-estimates
@pytest.mark.parametrize("weighted", [False, True], ids=["unit weights", "weights"])
def test_huber_kernel_equals_the_numpy_solver(weighted, numpy_path) -> None:
    rng = np.random.default_rng(3)
    cases = []
    for _ in range(60):
        n_groups = int(rng.integers(1, 40))
        r, g = _groups(rng, int(rng.integers(1, 4000)), n_groups, ties=bool(rng.integers(2)))
        w = rng.uniform(0.01, 5.0, r.size) * (rng.random(r.size) > 0.1) if weighted else np.ones(r.size)
        cases.append((r, w, g, n_groups, float(rng.choice([0.01, 1.0, 20.0, 500.0]))))
    compiled = [_solvers._huber_m_estimates(*c) for c in cases]
    numpy_path()
    for (r, w, g, n_groups, delta), got in zip(cases, compiled):
        ref = _solvers._huber_m_estimates(r, w, g, n_groups, delta)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
        scale = np.max(np.abs(r)) + delta
        for j in np.flatnonzero(~np.isnan(ref)):
            if abs(got[j] - ref[j]) <= 1e-12 * scale:  # the same root up to the summation order
                continue
            # else G vanishes on a whole stretch (tied residuals balance exactly) and both lie on it
            m = g == j
            for c in np.linspace(min(got[j], ref[j]), max(got[j], ref[j]), 5):
                assert abs(np.dot(w[m], np.clip(c - r[m], -delta, delta))) <= 1e-9 * delta * np.sum(w[m])


def test_huber_kernel_leaves_extreme_groups_to_the_sorting_solver() -> None:
    # weights near 1e308 (max(w) delta beyond 2^256) and residuals beyond 2^51 delta are not
    # solved in C: the sorting solver finishes them, with its rescaling and its rounding checks
    r = np.array([0.0, 1.0, 5.0, 2.0**60, -3.0, 2.0**60 + 2.0**10])
    w = np.array([1e308, 1e308, 1e308, 1.0, 1.0, 1.0])
    g = np.array([0, 0, 0, 1, 1, 1], dtype=np.int64)
    start, rs, ws = _compiled_leaves.group_rows(r, w, g, 2)
    _, state = _compiled_leaves.huber_groups(start, rs, ws, 1.0, 40)
    assert state.tolist() == [1, 1]
    got = gbo.HuberLoss(1.0).leaf_values(r, w, g, 2)
    assert got[0] == 1.0  # the weighted median-like root of three equal weights: the middle residual
    assert np.isfinite(got[1])


def test_huber_kernel_results_do_not_depend_on_threads(monkeypatch) -> None:
    rng = np.random.default_rng(4)
    r, g = _groups(rng, 400_000, 63, ties=False)
    w = np.ones(r.size)
    results = []
    for threads in ("1", "3"):
        monkeypatch.setenv("GBOBJECTIVES_NUM_THREADS", threads)
        results.append(_solvers._huber_m_estimates(r, w, g, 63, 1.0).tobytes())
    assert results[0] == results[1]
    # and a group alone gives the same bits as among the others
    alone = _solvers._huber_m_estimates(r[g == 5], w[g == 5], np.zeros(int(np.sum(g == 5)), np.int64), 1, 1.0)
    assert alone[0] == np.frombuffer(results[0])[5]


# --------------------------------------------------------------------------- quantiles by selection
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
def test_quantile_selection_equals_the_sorting_rule(ties, numpy_path) -> None:
    rng = np.random.default_rng(6)
    cases = []
    for _ in range(40):
        n_groups = int(rng.integers(1, 30))
        r, g = _groups(rng, int(rng.integers(1, 5000)), n_groups, ties)
        if ties:
            r = np.round(r / 20)  # few distinct values: long runs of equal residuals
        for tau in (0.0, 1e-12, 0.1, 0.25, 1 / 3, 0.5, 0.9, 1 - 1e-16, 1.0, float(rng.random())):
            cases.append((r, g, n_groups, tau))
    compiled = [_solvers.quantiles_by_group(r, np.ones(r.size), g, k, tau) for r, g, k, tau in cases]
    numpy_path()
    for (r, g, k, tau), got in zip(cases, compiled):
        ref = np.array([_solvers.weighted_quantile(r[g == j], np.ones(int(np.sum(g == j))), tau, "midpoint")
                        if np.any(g == j) else np.nan for j in range(k)])  # fmt: skip
        np.testing.assert_array_equal(got, ref)  # the same order statistics: the same bits
        np.testing.assert_array_equal(_solvers.quantiles_by_group(r, np.ones(r.size), g, k, tau), ref)


def test_quantile_selection_is_linear_on_adversarial_orders() -> None:
    # sorted, reversed, all equal and organ-pipe inputs: the selection must stay O(n) (a quadratic
    # quickselect would take minutes on these 2M rows)
    n = 500_000
    for r in (np.arange(n, dtype=float), np.arange(n, 0, -1, dtype=float), np.zeros(n),
              np.concatenate([np.arange(n // 2), np.arange(n // 2, 0, -1)]).astype(float)):  # fmt: skip
        got = _solvers.quantiles_by_group(r, np.ones(n), np.zeros(n, dtype=np.int64), 1, 0.9)
        assert got[0] == _solvers.weighted_quantile(r, np.ones(n), 0.9, "midpoint")


def test_weighted_quantiles_take_the_numpy_path() -> None:
    r = np.array([1.0, 2.0, 3.0, 10.0, 20.0])
    w = np.array([1.0, 1.0, 5.0, 1.0, 0.0])
    g = np.array([0, 0, 0, 1, 1])
    got = _solvers.quantiles_by_group(r, w, g, 3, 0.5)
    assert got[0] == 3.0 and got[1] == 10.0 and np.isnan(got[2])


@pytest.mark.parametrize(
    "values",
    [
        np.array([-1e300, -1.0, 0.0, 2.0, 1e300]),  # a span beyond the doubles: no buckets, searches
        np.linspace(-1.0, 1.0, 4000) ** 3,  # many leaves, crowded near 0: several midpoints a bucket
        np.array([3.0]),  # one leaf: no midpoints
    ],
    ids=["huge span", "4000 leaves", "one leaf"],
)
def test_leaf_kernel_finds_every_leaf_whatever_the_values(values) -> None:
    rng = np.random.default_rng(7)
    ids = np.arange(values.size, dtype=np.int64) * 3 + 1
    pos = rng.integers(0, values.size, 20_000)
    before = np.zeros(pos.size)
    leaf, counts, err, _, _ = _compiled_leaves.leaf_by_change(before, values[pos], None, values, ids)
    assert leaf.tolist() == ids[pos].tolist()
    assert counts.tolist() == np.bincount(pos, minlength=values.size).tolist()
    assert err == 0.0


def test_add_gathered_equals_numpy_and_skips_ids_beyond_the_table() -> None:
    """offset += delta[leaf] in one compiled pass: the same as numpy's gather and add, rows whose
    leaf id has no entry in delta unchanged, the same on one thread or several ranges."""
    rng = np.random.default_rng(3)
    n = 3 * _compiled_leaves._MIN_ROWS + 17  # several row ranges
    leaf = rng.integers(0, 40, n).astype(np.int64)
    delta = rng.normal(size=31)  # ids 31..39 are beyond the table
    offset = rng.normal(size=n)
    want = offset.copy()
    inside = leaf < delta.size
    want[inside] += delta[leaf[inside]]
    got = offset.copy()
    _compiled_leaves.add_gathered(got, leaf, delta)
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(got[~inside], offset[~inside]) and (~inside).any()
