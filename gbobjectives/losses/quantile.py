"""The quantile family on the residual r = z - y: pinball (quantile), absolute and relative error.

All three are piecewise linear, so their exact Hessian is 0: they train through majorize-minimize
(MM) curvature scaled by the residual (see QuantileLoss and docs/math.md), share its kernel
``_quantile_mm`` and its per-round residual scale, and re-fit leaves to weighted quantiles.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gbobjectives._validation import check_scalar_param, describe_ids
from gbobjectives.losses._fast import Workspace, regression_kernel, with_kernel_labels
from gbobjectives.losses._solvers import _bounded_weights, quantiles_by_group, weighted_quantile
from gbobjectives.losses.base import RegressionLoss
from gbobjectives.losses.registry import Param, Template
from gbobjectives.losses.regression import _check_hessian, _power_of_two, _weighted

__all__ = ["QuantileLoss", "AbsoluteErrorLoss", "RelativeErrorLoss"]


#: MM curvature of the quantile loss: smoothing width ``c`` (in units of the residual scale S)
#: and the floor of tanh(x)/x (see QuantileLoss). c = 0.2 trained best from the engines' default
#: start among 0.04 (XGBoost 3.4's value, with its smoothed gradient), 0.2, 0.5, 1, 2, 5
#: (benchmarks/every_api.py).
_MM_C = 0.2
_MM_FLOOR = 3e-4
#: S is floored here: with every residual 0 the Newton step is then ~2**-200 (nothing moves)
#: instead of 0/0.
_MM_MIN_SCALE = 2.0**-200


def _with_labels_in(dtype: np.dtype, prep: dict) -> dict:
    """``prep`` plus its labels (and weights) in the engine's precision (``y_t``, ``w_t``), for
    the float32 MM kernel."""
    y, w = prep["y"], prep["w"]
    prep["y_t"] = y.astype(dtype)
    prep["w_t"] = None if w is None else w.astype(dtype)
    return prep


def _mm_scale(root_sum: float, weight_sum: float) -> float:
    """``S = (root_sum / weight_sum)^2``, floored at :data:`_MM_MIN_SCALE` (also when no row has weight)."""
    if not weight_sum > 0:
        return _MM_MIN_SCALE
    mean_root = root_sum / weight_sum
    return max(mean_root * mean_root, _MM_MIN_SCALE)


#: rows per block of the scale's sums: a reused float64 buffer that stays in cache
_STATS_BLOCK = 65536


def _root_residual_sums(y: np.ndarray, z: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """``[sum w sqrt|z - y|, sum w]`` in float64, by blocks of :data:`_STATS_BLOCK` rows (one
    small buffer instead of full-size temporaries; the same summation order on every path)."""
    n = z.shape[0]
    buf = np.empty(min(n, _STATS_BLOCK))
    total = 0.0
    for start in range(0, n, _STATS_BLOCK):
        sl = slice(start, min(start + _STATS_BLOCK, n))
        b = buf[: sl.stop - start]
        np.subtract(z[sl], y[sl], out=b)
        np.abs(b, out=b)
        np.sqrt(b, out=b)
        total += float(np.sum(b)) if w is None else float(np.dot(b, w[sl]))
    return np.array([total, float(n) if w is None else float(np.sum(w))])


def _quantile_mm(
    z: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    tau: float,
    scale: float,
    ws: Workspace,
    engine: bool,
    gain: float = 1.0,
    c: float = _MM_C,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact subgradient ``1[r >= 0] - tau`` and MM curvature ``max(tanh(x)/x, eps)/(2cS)``,
    ``x = |r|/(cS)``, weighted, in ``z``'s dtype; ``engine=True`` returns both times
    ``k = 2^round(log2 S)`` (the same Newton steps; engine curvature within a factor sqrt 2 of
    ``max(tanh(x)/x, eps)/(2c)``, in [7.5e-4, 2.5], whatever the scale of y, as XGBoost 3.4
    scales its own pair).

    The one implementation of the formula, for the public float64 path and the engines' float32
    or float64 path. float32 is safe here: ``r = z - y`` of two float32 values is correctly
    rounded, and every later term is positive. ``x`` is raised to the dtype's smallest normal
    number, where ``tanh(x)/x`` is exactly 1, so ``r = 0`` needs no branch.

    ``gain`` (a power of two, so exact) multiplies both results as well: 2 gives the absolute
    error ``|r| = 2 * pinball_0.5(r)`` (:class:`AbsoluteErrorLoss`). ``c`` is the smoothing
    width in units of S (``_MM_C`` for the quantile; see :class:`AbsoluteErrorLoss` for 1.0).
    """
    dt = z.dtype
    r = np.subtract(z, y, out=ws.like("r", z))
    ge = np.greater_equal(r, 0.0, out=ws.get("ge", z.shape, np.dtype(bool)))
    g = np.subtract(ge, dt.type(tau), out=ws.like("g", z))
    inv = 1.0 / (c * scale)
    x = np.abs(r, out=r)
    x *= dt.type(inv)
    np.maximum(x, ws.filled("tiny", x, float(np.finfo(dt).tiny)), out=x)
    ratio = np.tanh(x, out=ws.like("ratio", z))
    np.divide(ratio, x, out=ratio)
    np.maximum(ratio, ws.filled("floor", ratio, _MM_FLOOR), out=ratio)
    k = (_power_of_two(scale) if engine else 1.0) * gain
    h = np.multiply(ratio, dt.type(0.5 * inv * k), out=ratio)
    if k != 1.0:
        g *= dt.type(k)
    if w is not None:
        g = np.multiply(g, w, out=ws.result(0, g))
        h = np.multiply(h, w, out=ws.result(1, h))
    return g, h


def _mm_scale_statistics(hessian: str, y: np.ndarray, z: np.ndarray, w: np.ndarray | None, reduce: Any) -> dict | None:
    """``{"scale": S}`` of the quantile-type MM curvature (``hessian="mm"``, else None), from
    ``(sum w sqrt|r|, sum w)`` over the rows, summed across workers by ``reduce`` when given."""
    if hessian != "mm":
        return None
    sums = _root_residual_sums(y, z, w)
    if reduce is not None:
        sums = reduce(sums)
    return {"scale": _mm_scale(float(sums[0]), float(sums[1]))}


class _QuantileLeaves:
    """The leaf-refit rule of the quantile family (:mod:`gbobjectives.refit`), at the class's
    ``_leaf_quantile`` (tau for :class:`QuantileLoss`, 0.5 for :class:`AbsoluteErrorLoss`)."""

    _leaf_quantile: float

    def leaf_value(self, residuals: np.ndarray, weights: np.ndarray) -> float:
        """Leaf-refit rule: a weighted tau-quantile of a leaf's
        residuals ``y - score`` that minimises its pinball loss exactly - the midpoint of the
        minimisers (:func:`weighted_quantile` with ``tie_break="midpoint"``).

        Why the midpoint: without weights both engines' built-in objectives set a leaf to an
        interpolated percentile (measured on one-split trees: XGBoost 3.2 at the 1-based order
        statistic position tau*(n+1), numpy's "weibull"; LightGBM 4.7 at tau*(n-1) + 1, numpy's
        default "linear"). At tau = 0.5 both are the textbook median, the midpoint of the two
        middle residuals of an even-sized leaf, as is this rule; the lowest minimiser
        (``init_score``'s rule) puts such a leaf half the middle gap lower. Over seeds 0, 1, 2 of
        ``benchmarks/refit.py`` the LightGBM tau = 0.5 ratio to the built-in was 1.029, 0.997,
        1.023 with the lowest minimiser and 1.000, 0.988, 1.004 with the midpoint. For
        tau != 0.5 the interpolated percentiles are not minimisers, so they are not copied; with
        fractional weights ties are rare and the rule is XGBoost's weighted one (the lowest)."""
        r, w = np.asarray(residuals, dtype=np.float64), np.asarray(weights, dtype=np.float64)
        return weighted_quantile(r, w, self._leaf_quantile, tie_break="midpoint")

    def leaf_values(self, residuals: np.ndarray, weights: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
        """:meth:`leaf_value` of every leaf at once (``groups``: each row's leaf in [0, n_groups);
        NaN for a leaf without weight): :func:`~gbobjectives.losses._solvers.quantiles_by_group`."""
        return quantiles_by_group(residuals, weights, groups, n_groups, self._leaf_quantile)


class QuantileLoss(_QuantileLeaves, RegressionLoss):
    r"""Pinball (quantile) loss for the ``quantile`` tau in (0, 1).

    .. math:: \ell = (y - z)(\tau - \mathbb{1}[y < z])

    gradient ``1 - tau`` if ``z >= y`` else ``-tau`` (a subgradient at the kink); the exact
    Hessian is 0.

    Hessians (``hessian=``):

    * ``"mm"`` (default): automatically scaled majorize-minimize curvature (the scheme XGBoost
      3.4 adopted for its own quantile objective). Each call computes the residual scale
      ``S = (sum w sqrt|r| / sum w)^2`` of the rows it is given (for an engine: all training
      rows, every round; under ``xgboost.dask`` summed over all workers), floored at
      ``2**-200``, and

      .. math:: h = \frac{\max(\tanh(x)/x,\ \epsilon)}{2 c S}, \quad x = \frac{r}{c S},
                \ c = 0.2,\ \epsilon = 3\cdot 10^{-4}.

      For ``|r| >> cS`` this is ``1/(2|r|)``, the curvature of the quadratic that majorizes
      ``|r|/2`` at ``r`` (the pinball loss is ``|r|/2`` plus a linear term): a leaf's Newton
      step scales with its residuals, so training from any start (XGBoost's 0.5, LightGBM's 0)
      reaches the target in a few rounds. Near the kink the curvature is capped at
      ``1/(2cS)``. ``c`` was chosen by measurement (``benchmarks/every_api.py``; XGBoost uses
      0.04 with a smoothed gradient). The XGBoost/LightGBM adapters pass ``(k g, k h)`` with
      ``k`` the power of two nearest to ``S`` - the same Newton steps - so that the engines' ``lambda``
      and ``min_child_weight`` keep their usual per-row meaning whatever the scale of ``y``.
    * ``"constant"``: 1 everywhere; a leaf moves by at most tau or 1 - tau per round.
    * ``"exact"``: 0.

    ``init_score`` is the exact weighted tau-quantile: the smallest y_(k) whose cumulative
    weight reaches tau * W.

    Example
    -------
    >>> QuantileLoss(quantile=0.9).init_score([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    9.0
    """

    short_name = "quantile"
    hessian_options = ("mm", "constant", "exact")
    init_score_method = "weighted_quantile"
    builtin_objectives = {
        "xgboost": {"objective": "reg:quantileerror", "quantile_alpha": Param("quantile")},
        "lightgbm": {"objective": "quantile", "alpha": Param("quantile")},
        "catboost": {"loss_function": Template("Quantile:alpha={quantile!r}")},
    }
    builtin_label = "quantile({quantile:g})"
    sweep = {"quantile": (0.5, 0.9)}
    example_params = tuple({"quantile": q} for q in (0.1, 0.5, 0.9))

    def __init__(self, quantile: float = 0.5, hessian: str = "mm") -> None:
        self.quantile = quantile
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        self._tau = check_scalar_param(
            "quantile", self.quantile, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
        )
        _check_hessian(self)

    @property
    def quantile_level(self) -> float:
        """tau: ``init_score`` is the weighted tau-quantile of the labels."""
        return self._tau

    def _kinks(self, y: np.ndarray) -> np.ndarray:
        return y[:, None]

    def _loss(self, y, z):
        r = y - z
        return np.maximum(self._tau * r, (self._tau - 1.0) * r)

    def _gradient_hessian(self, y, z, w):
        if self.hessian == "mm":
            scale = self._round_statistics(y, z, w)["scale"]
            return _quantile_mm(z, y, w, self._tau, scale, Workspace(), engine=False)
        grad = np.where(z >= y, 1.0 - self._tau, -self._tau)
        hess = np.zeros_like(grad) if self.hessian == "exact" else np.ones_like(grad)
        return _weighted(grad, hess, w)

    def _round_statistics(self, y, z, w, reduce=None):
        """``{"scale": S}`` for the MM curvature, from ``(sum w sqrt|r|, sum w)`` over the rows
        (``reduce`` sums those two numbers across workers under distributed training)."""
        return _mm_scale_statistics(self.hessian, y, z, w, reduce)

    @property
    def hessian_uses_all_rows(self) -> bool:
        return self.hessian == "mm"

    def _prepare_labels(self, y, w, dtype):
        prep = _with_labels_in(dtype, super()._prepare_labels(y, w, dtype))
        # the constant and exact Hessians: one compiled pass (the MM curvature runs on blocks)
        return prep if self.hessian == "mm" else with_kernel_labels(prep, dtype)

    def _gradient_hessian_fast(self, z, prep, ws):
        if self.hessian != "mm":
            mode = 1 if self.hessian == "constant" else 2
            out = regression_kernel(z, prep, ws, (0.0, 1.0 - self._tau, -self._tau, 1, mode))
            return out if out is not None else self._unit_or_zero_fast(z, prep, ws)
        scale = prep["scale"]
        engine = prep.get("engine_units", True)  # False from CatBoost (see engines/catboost.py)
        if z.dtype == np.float32 and not (1e-30 < scale < 1e30):
            # 1/(cS) or the engine factor would leave float32's range: this block in float64
            return _quantile_mm(z.astype(np.float64), prep["y"], prep["w"], self._tau, scale, ws, engine)
        if "y_t" not in prep or prep["y_t"].dtype != z.dtype:  # a caller without _prepare_labels
            return _quantile_mm(np.asarray(z, np.float64), prep["y"], prep["w"], self._tau, scale, ws, engine)
        return _quantile_mm(z, prep["y_t"], prep["w_t"], self._tau, scale, ws, engine)

    def _init_score(self, y, w):
        return weighted_quantile(y, w, self._tau)

    def _unit_or_zero_fast(self, z, prep, ws):
        """_gradient_hessian's constant and exact Hessians on a block, without temporaries:
        ``[z >= y] - tau`` is exactly ``1 - tau`` or ``-tau`` as the float64 constants are, and
        each result is rounded once as it is stored into the engine's float32 destination."""
        y, w = prep["y"], prep["w"]
        g = ws.get("g", z.shape, np.dtype(np.float64))
        np.greater_equal(z, y, out=g, casting="unsafe")
        np.subtract(g, self._tau, out=g)
        grad, hess = ws.result(0, g), ws.result(1, g)
        np.multiply(g, w, out=grad) if w is not None else np.copyto(grad, g)
        if self.hessian == "exact":
            hess[...] = 0.0
        else:
            hess[...] = 1.0 if w is None else w
        return grad, hess

    @property
    def _leaf_quantile(self) -> float:
        return self._tau


class AbsoluteErrorLoss(_QuantileLeaves, RegressionLoss):
    r"""Absolute error (L1, least absolute deviation) on the residual ``r = z - y``.

    .. math:: \ell = |y - z| = 2\,\rho_{0.5}(y - z)

    twice the pinball loss at tau = 0.5, so it shares :class:`QuantileLoss`'s mechanism: the
    exact subgradient ``+1`` if ``z >= y`` else ``-1`` (the quantile's convention at the kink),
    exact Hessian 0.

    Hessians (``hessian=``):

    * ``"mm"`` (default): the quantile's automatically scaled majorize-minimize curvature at
      tau = 0.5, times 2 (the same kernel, ``_quantile_mm``): with ``S = (sum w sqrt|r| /
      sum w)^2`` of all rows of the call (for an engine: all training rows, every round),

      .. math:: h = \frac{\max(\tanh(x)/x,\ \epsilon)}{c S}, \quad x = \frac{r}{c S},
                \ c = 1,\ \epsilon = 3\cdot 10^{-4},

      which is ``1/|r|`` (the curvature of the quadratic majorizing ``|r|`` at ``r``) for
      ``|r| >> cS`` (c = 1 here, 0.2 for the quantile: measured per loss, see ``_mm_c``): a
      leaf's Newton step scales with its residuals, so plain ``xgb.train`` /
      ``lgb.train`` train from the engine's own start (0.5 / 0) as well as
      ``reg:absoluteerror`` / LightGBM ``l1`` (``benchmarks/results/every_api.md``). The
      engines get the pair times the power of two nearest to S (the same Newton steps).
    * ``"constant"``: 1 everywhere; a leaf moves by at most 1 per round.
    * ``"exact"``: 0.

    ``init_score`` is the exact weighted median (the smallest ``y_(k)`` whose cumulative weight
    reaches W/2, as ``QuantileLoss(0.5)``); ``leaf_value`` (leaf refit) the midpoint median.

    Example
    -------
    >>> loss = AbsoluteErrorLoss()
    >>> loss.loss([1.0, 2.0], [3.0, 1.5]).tolist()
    [2.0, 0.5]
    >>> loss.init_score([1.0, 2.0, 10.0])
    2.0
    """

    short_name = "absolute_error"
    aliases = ("mae", "l1")
    hessian_options = ("mm", "constant", "exact")
    init_score_method = "weighted_quantile"  # the median (:attr:`quantile_level`)
    builtin_objectives = {
        "xgboost": {"objective": "reg:absoluteerror"},
        "lightgbm": {"objective": "l1"},
        "catboost": {"loss_function": "MAE"},
    }
    builtin_label = "absolute_error"
    #: the MM smoothing width c in units of S. 1.0 for the median, where the quantile's 0.2
    #: trained 3-10 % worse than ``reg:absoluteerror`` through plain ``xgb.train`` (3,000 rows,
    #: seeds 0-3, c in 0.05-2: c = 1 gave 0.93-0.98 of the built-in's held-out MAE on XGBoost,
    #: 0.98-1.00 of LightGBM ``l1``'s; benchmarks/every_api.py measures it at full size)
    _mm_c = 1.0

    def __init__(self, hessian: str = "mm") -> None:
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        _check_hessian(self)

    @property
    def quantile_level(self) -> float:
        """0.5: ``init_score`` is the weighted median of the labels (under
        :meth:`_quantile_weights`)."""
        return 0.5

    def _kinks(self, y: np.ndarray) -> np.ndarray:
        return y[:, None]

    def _row_weights(self, y: np.ndarray, w: np.ndarray | None) -> np.ndarray | None:
        """The per-row weights of the absolute error (the sample weights here)."""
        return w

    def _loss(self, y, z):
        return np.abs(z - y)

    def _gradient_hessian(self, y, z, w):
        w = self._row_weights(y, w)
        if self.hessian == "mm":
            scale = _mm_scale(*_root_residual_sums(y, z, w).tolist())
            return _quantile_mm(z, y, w, 0.5, scale, Workspace(), engine=False, gain=2.0, c=self._mm_c)
        grad = np.where(z >= y, 1.0, -1.0)
        hess = np.zeros_like(grad) if self.hessian == "exact" else np.ones_like(grad)
        return _weighted(grad, hess, w)

    def _round_statistics(self, y, z, w, reduce=None):
        """``{"scale": S}`` from ``(sum w sqrt|r|, sum w)`` over the rows (summed across workers
        by ``reduce``), as :meth:`QuantileLoss._round_statistics`."""
        return _mm_scale_statistics(self.hessian, y, z, self._row_weights(y, w), reduce)

    @property
    def hessian_uses_all_rows(self) -> bool:
        return self.hessian == "mm"

    def _prepare_labels(self, y, w, dtype):
        prep = super()._prepare_labels(y, w, dtype)
        w_rows = self._row_weights(y, w)
        prep["w_rows"] = w_rows
        prep["y_t"] = y.astype(dtype)
        with np.errstate(over="ignore"):
            w_t = None if w_rows is None else w_rows.astype(dtype)
        # row weights beyond the engine dtype's range (1/|y| for |y| < 3e-39 in float32): float64
        prep["w_t"] = w_t if w_t is None or bool(np.all(np.isfinite(w_t))) else False
        return prep

    def _engine_gain(self, prep: dict) -> float:
        """Power of two that the engine pair is multiplied by besides the scale's (2: |r| is
        twice the pinball loss)."""
        return 2.0

    def _gradient_hessian_fast(self, z, prep, ws):
        if self.hessian != "mm":
            return super()._gradient_hessian_fast(z, prep, ws)
        scale = prep["scale"]
        engine = prep.get("engine_units", True)  # False from CatBoost (see engines/catboost.py)
        gain = self._engine_gain(prep) if engine else 2.0
        w_t = prep.get("w_t")
        if (
            z.dtype != np.float32
            or not (1e-30 < scale < 1e30)  # 1/(cS) or the engine factor would leave float32's range
            or w_t is False
            or "y_t" not in prep
            or prep["y_t"].dtype != z.dtype
        ):
            z64 = np.asarray(z, np.float64)
            return _quantile_mm(z64, prep["y"], prep["w_rows"], 0.5, scale, ws, engine, gain, self._mm_c)
        return _quantile_mm(z, prep["y_t"], w_t, 0.5, scale, ws, engine, gain, self._mm_c)

    def _init_score(self, y, w):
        return weighted_quantile(y, w, 0.5)

    _leaf_quantile = 0.5  # the weighted median, as both engines' built-in L1 objectives


#: the smallest |y| RelativeErrorLoss takes: 1/y^2 (its MM curvature's factor) is finite above it
_REL_MIN_LABEL = float(np.sqrt(1.0 / np.finfo(np.float64).max))


class RelativeErrorLoss(AbsoluteErrorLoss):
    r"""Relative error (MAPE as a training objective) on the residual ``r = z - y``.

    .. math:: \ell = \frac{|y - z|}{|y|} = |\rho|, \quad \rho = \frac{z - y}{|y|}

    the absolute error with per-row weights ``1/|y|`` (times the sample weights): subgradient
    ``sign(r)/|y|`` (``+1/|y|`` at ``r = 0``), exact Hessian 0. Labels must be non-zero: a
    ``y = 0`` (or a ``|y|`` below 1.5e-154, where ``1/y^2`` overflows) raises a ``ValueError``
    naming the rows.

    Hessians (``hessian=``):

    * ``"mm"`` (default): :class:`AbsoluteErrorLoss`'s MM curvature applied to the relative
      residual ``rho`` (the same kernel), by the chain rule ``h = h_abs(rho) / y^2``; the
      residual scale is that of the relative residuals, ``S = (sum w sqrt|rho| / sum w)^2``.
      Far from the target this is ``1/(|y| |r|)``, the majorizer's curvature of ``|r|/|y|``,
      so leaf steps scale with the residuals; the kink's cap ``c S |y|`` scales with each row's
      own label. (The absolute error's curvature with weights ``w/|y|`` would share one cap
      ``c S`` among all rows, and a single label near 0 - weight 1e4 - then shrinks S until
      every other row sits on the curvature floor: measured, plain ``lgb.train`` did not
      split at all.) The engines get the pair times one power of two for all rows: the
      quantile's ``2^round(log2 S)`` times the one nearest to ``G^2``, ``G`` the weighted
      geometric mean of ``|y|`` (the same Newton steps; typical rows' curvatures of about 1 in
      the units of XGBoost's ``min_child_weight`` / ``lambda``).
    * ``"constant"``: ``1/|y|``; ``"exact"``: 0.

    Its weighted mean is the MAPE of :class:`gbobjectives.metrics.MAPE` (which, as an
    evaluation metric, tolerates ``y = 0`` by dividing by ``max(|y|, eps)``).

    ``init_score`` is the exact weighted median of ``y`` under the weights ``w/|y|`` (the
    smallest ``y_(k)`` whose cumulative weight reaches half the total); it is pulled towards
    the small targets, as MAPE is: over-predicting a small target costs more than
    under-predicting a large one.

    Example
    -------
    >>> loss = RelativeErrorLoss()
    >>> loss.loss([100.0, -4.0], [110.0, -3.0]).tolist()
    [0.1, 0.25]
    >>> loss.init_score([1.0, 2.0, 4.0])  # weights 1, 1/2, 1/4: the median is 1
    1.0
    """

    short_name = "relative_error"
    aliases = ("mape",)
    # XGBoost has no MAPE objective
    builtin_objectives = {"lightgbm": {"objective": "mape"}, "catboost": {"loss_function": "MAPE"}}
    builtin_label = "mape"

    def _check_labels(self, y_true, raw):
        y = super()._check_labels(y_true, raw)
        a = np.abs(y)
        bad = a < _REL_MIN_LABEL  # the curvature's 1/y^2 would overflow (y = 0 included)
        if bad.any():
            rows = np.flatnonzero(bad)
            raise ValueError(
                f"y_true must be non-zero for RelativeErrorLoss (|y - z| / |y| needs a target without "
                f"zeros): y_true is "
                f"{'0' if np.all(y[rows] == 0) else '0 or too close to 0 (|y| < 1.5e-154: 1/y^2 overflows)'} in rows "
                f"{describe_ids(rows.tolist(), limit=5)}; drop those rows, or use AbsoluteErrorLoss"
            )
        return y

    def _row_weights(self, y: np.ndarray, w: np.ndarray | None) -> np.ndarray:
        """``w / |y|`` (``1/|y|`` without sample weights)."""
        a = np.abs(y)
        return 1.0 / a if w is None else w / a

    def _quantile_weights(self, y: np.ndarray, w: np.ndarray | None) -> np.ndarray:
        """``init_score`` is the weighted median under ``w / |y|`` (``gbobjectives.dask``
        computes these weights on the workers)."""
        return self._row_weights(y, w)

    def _loss(self, y, z):
        return np.abs(z - y) / np.abs(y)

    def _relative(self, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """``rho = (z - y)/|y|``: the residual rounded once, then divided (its sign is exact)."""
        return (z - y) / np.abs(y)

    def _gradient_hessian(self, y, z, w):
        if self.hessian != "mm":
            return super()._gradient_hessian(y, z, w)
        rho = self._relative(y, z)
        scale = _mm_scale(*_root_residual_sums(np.zeros_like(rho), rho, w).tolist())
        g, h = _quantile_mm(rho, np.zeros_like(rho), w, 0.5, scale, Workspace(), False, 2.0, self._mm_c)
        inv = 1.0 / np.abs(y)
        return g * inv, (h * inv) * inv

    def _round_statistics(self, y, z, w, reduce=None):
        """``{"scale": S, "unit": m}``: S from ``(sum w sqrt|rho|, sum w)``, and ``m`` the power
        of two nearest to ``G^2``, ``G = exp(sum w log|y| / sum w)``, from sums that ``reduce``
        adds up across workers."""
        if self.hessian != "mm":
            return None
        rho = self._relative(y, z)
        sums = _root_residual_sums(np.zeros_like(rho), rho, w)
        log_y = np.log(np.abs(y))
        sums = np.append(sums, float(np.sum(log_y)) if w is None else float(np.dot(w, log_y)))
        if reduce is not None:
            sums = reduce(sums)
        unit = _power_of_two(float(np.exp(2.0 * sums[2] / sums[1]))) if sums[1] > 0 else 1.0
        return {"scale": _mm_scale(float(sums[0]), float(sums[1])), "unit": unit}

    def _prepare_labels(self, y, w, dtype):
        prep = super()._prepare_labels(y, w, dtype)
        prep["inv_y"] = 1.0 / np.abs(y)
        return prep

    def _gradient_hessian_fast(self, z, prep, ws):
        if self.hessian != "mm":
            return super()._gradient_hessian_fast(z, prep, ws)
        engine = prep.get("engine_units", True)  # False from CatBoost (see engines/catboost.py)
        gain = 2.0 * prep["unit"] if engine else 2.0
        y, inv = prep["y"], prep["inv_y"]
        # float64 throughout: rho and 1/y^2 have no float32-safe range for all labels
        z = np.asarray(z, np.float64)
        rho = np.subtract(z, y, out=ws.like("rho", z))
        rho *= inv
        outputs, ws.outputs = ws.outputs, None  # the kernel's results stay float64 scratch
        try:
            g, h = _quantile_mm(
                rho, ws.zeros("zeros", rho), prep["w"], 0.5, prep["scale"], ws, engine, gain, self._mm_c
            )
        finally:
            ws.outputs = outputs
        h *= inv
        # the final products go straight to the caller's (float32) destination: one rounding
        return np.multiply(g, inv, out=ws.result(0, g)), np.multiply(h, inv, out=ws.result(1, h))

    def _init_score(self, y, w):
        w_rows = _bounded_weights(self._row_weights(y, _bounded_weights(w, 1.0)), 1.0)
        return weighted_quantile(y, w_rows, 0.5)

    # no leaf rule: the refit sees residuals, not the labels the weights depend on
    leaf_value = None  # type: ignore[assignment]
    leaf_values = None  # type: ignore[assignment]
