"""Several quantiles from one model: :class:`MultiQuantileLoss` (K outputs, raw scores (n, K))."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gbobjectives._numerics import sigmoid, softplus
from gbobjectives._validation import check_float_array
from gbobjectives.links import CumulativeSoftplusLink, SortedRowsLink
from gbobjectives.losses._fast import Workspace
from gbobjectives.losses._focal_math import HESSIAN_FLOOR
from gbobjectives.losses._solvers import weighted_quantile
from gbobjectives.losses.base import RegressionLoss
from gbobjectives.losses.quantile import _mm_scale, _quantile_mm, _root_residual_sums, _with_labels_in
from gbobjectives.losses.registry import Param
from gbobjectives.losses.regression import _check_hessian, _power_of_two

__all__ = ["MultiQuantileLoss", "check_quantiles"]

#: ways to keep the K predicted quantiles from crossing (see MultiQuantileLoss)
NONCROSSING = ("sort", "monotone")


def check_quantiles(quantiles: Any, name: str = "quantiles", min_size: int = 1) -> np.ndarray:
    """``quantiles`` as a read-only float64 array: a 1-D sequence of at least ``min_size`` real
    numbers, each in (0, 1), strictly increasing. ``TypeError``/``ValueError`` name ``name``
    otherwise.

    >>> check_quantiles([0.1, 0.5, 0.9]).tolist()
    [0.1, 0.5, 0.9]
    """
    if isinstance(quantiles, (str, bytes)) or not isinstance(quantiles, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of numbers in (0, 1), e.g. [0.1, 0.5, 0.9]; got {quantiles!r}")
    if any(isinstance(q, (bool, np.bool_)) for q in np.ravel(np.asarray(quantiles, dtype=object))):
        raise TypeError(f"{name} must hold real numbers, got {quantiles!r}")
    try:
        taus = np.array(quantiles, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must hold real numbers, got {quantiles!r}") from None
    if taus.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {taus.shape}")
    if taus.size < min_size:
        what = "is empty" if taus.size == 0 else f"has {taus.size} entry"
        raise ValueError(
            f"{name} {what}: give at least {min_size} quantiles in (0, 1)"
            + (" (for one quantile use QuantileLoss(quantile=tau))" if min_size > 1 else "")
        )
    bad = ~((taus > 0.0) & (taus < 1.0))  # (NaN is bad too)
    if bad.any():
        raise ValueError(f"{name} must lie in the open interval (0, 1); got {taus[bad].tolist()!r}")
    if taus.size > 1 and not np.all(np.diff(taus) > 0):
        raise ValueError(f"{name} must be strictly increasing, got {taus.tolist()!r}")
    taus.flags.writeable = False
    return taus


#: the raw score of a zero gap between two quantiles ("monotone"): softplus(-800) == 0.0
_TIE = -800.0


def _softplus_inverse(d: np.ndarray) -> np.ndarray:
    """``log(expm1(d))`` for ``d > 0``, without overflow (``d + log1p(-exp(-d))``)."""
    return d + np.log(-np.expm1(-d))


class MultiQuantileLoss(RegressionLoss):
    r"""K >= 2 quantiles ``tau_1 < ... < tau_K`` from ONE model: raw scores of shape (n, K).

    .. math:: \ell(y, z) = \sum_{k=1}^K \rho_{\tau_k}(y - q_k(z)),
              \quad \rho_\tau(u) = u\,(\tau - \mathbb{1}[u < 0])

    Predicted quantiles never cross; ``noncrossing=`` says how:

    * ``"sort"`` (default): ``q_k = z_k``, each column trained on its own pinball loss (convex,
      exact subgradients ``1[z_k >= y] - tau_k``), and ``inverse_link`` sorts each row. Sorting
      never increases the summed pinball loss of a row: for ``q_i > q_j`` with
      ``tau_i < tau_j``, swapping the two lowers it by ``(q_i - q_j)(tau_j - tau_i) > 0`` (the
      ``|u|/2`` parts are unchanged). Training, the loss and the metrics see the raw columns.
    * ``"monotone"``: ``q_1 = z_1``, ``q_k = q_{k-1} + softplus(z_k)``, non-decreasing by
      construction (:class:`~gbobjectives.links.CumulativeSoftplusLink`); the chain rule gives
      ``g_1 = sum_k g^q_k`` and ``g_j = sigmoid(z_j) sum_{k >= j} g^q_k``.

    ``benchmarks/results/multiquantile.md`` measures both against XGBoost's built-in
    multi-quantile model (20k rows, 5 quantiles, 100 and 300 rounds): ``"sort"`` with the leaf
    refit 0.985-1.006x its held-out pinball loss per quantile, coverage within 0.004, zero
    crossing rows (the built-in, unsorted: 3-8 % of rows cross); ``"monotone"`` 1.19-1.78x.

    Hessians (``hessian=``), per quantile ``k``:

    * ``"mm"`` (default): :class:`~gbobjectives.QuantileLoss`'s majorize-minimize curvature,
      its residual scale ``S_k = (sum w sqrt|q_k - y| / sum w)^2`` computed per quantile from all
      rows of the call (for an engine: all training rows, every round),
      :math:`h_k = \max(\tanh(x)/x, \epsilon)/(2 c S_k)`, :math:`x = |q_k - y|/(c S_k)`,
      c = 0.5 (QuantileLoss: 0.2; measured, see ``_mm_c``), epsilon = 3e-4. ``"monotone"``: the
      diagonal of ``J^T diag(h) J`` (``h_1 = sum_k h_k``, ``h_j = sigmoid(z_j)^2 sum_{k >= j}
      h_k``, floored at 1e-16). The engines get the pair
      times the power of two nearest to the geometric mean of the ``S_k`` (the same Newton
      steps; Hessians in the units of ``lambda`` / ``min_child_weight`` whatever the scale of y).
    * ``"constant"``: 1 per quantile (through the same chain rule for ``"monotone"``).
    * ``"exact"``: 0 for ``"sort"``; ``sigmoid'(z_j) sum_{k >= j} g^q_k`` (any sign) for
      ``"monotone"``.

    ``init_score`` is the (K,) vector of exact weighted tau_k-quantiles of y (each the smallest
    ``y_(i)`` whose cumulative weight reaches tau_k W: non-decreasing in k). ``"monotone"``
    returns the raw scores of those quantiles; a zero gap between two of them (ties in y) gets
    the raw score -800, whose softplus is exactly 0.0 in float64: the start is exact, but
    that gap stays frozen in training (its gradient ``sigmoid(-800)`` times the pinball terms
    is 0) - one reason ``"sort"`` is the default.

    Engines: ``gbobjectives.xgboost.train`` trains one tree per output and round
    (``num_target=K``, a length-K ``base_score``), ``gbobjectives.lightgbm.train`` K trees per
    round (``num_class=K`` with this custom objective; LightGBM does not check the labels
    against it), ``BoostedRegressor(loss=MultiQuantileLoss(...)).predict`` returns (n, K).
    With ``"sort"`` they refit each output's leaves by default (:mod:`gbobjectives.refit`,
    :meth:`output_leaf_rules`): tree k's leaves become the learning rate times the exact
    weighted tau_k-quantile of their residuals, as XGBoost's built-in does; the trees' splits
    then come from the unit Hessian. Without the refit (plain ``xgb.train`` / ``lgb.train``, or
    ``refit_leaves=False``) the MM curvature alone trains the leaves: 1.03-1.08x the built-in's
    pinball loss in the tails at 100-300 rounds in the same benchmark.

    Example
    -------
    >>> loss = MultiQuantileLoss(quantiles=[0.1, 0.5, 0.9])
    >>> loss.init_score([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]).tolist()
    [1.0, 5.0, 9.0]
    >>> loss.inverse_link([[3.0, 1.0, 2.0]]).tolist()  # sorted: quantiles never cross
    [[1.0, 2.0, 3.0]]
    >>> loss.loss([2.0], [[1.0, 2.0, 3.0]]).round(6).tolist()  # 0.1*1 + 0 + 0.1*1
    [0.2]
    """

    short_name = "multi_quantile"
    aliases = ("multiquantile", "quantiles")
    hessian_options = ("mm", "constant", "exact")
    init_score_method = "weighted_quantile"  # at each of quantile_levels
    #: XGBoost's multi-quantile objective (LightGBM has none; CatBoost's MultiQuantile is not
    #: used: gbobjectives' CatBoost adapter trains one output for regression)
    builtin_objectives = {"xgboost": {"objective": "reg:quantileerror", "quantile_alpha": Param("quantiles")}}
    example_params = (
        {"quantiles": [0.1, 0.5, 0.9]},
        {"quantiles": [0.05, 0.25, 0.5, 0.75, 0.95], "noncrossing": "monotone"},
    )

    #: the MM smoothing width c in units of S_k. 0.5 here, 0.2 for QuantileLoss (measured there
    #: from the engines' default start; here training starts at the exact quantiles). XGBoost,
    #: depth 4, eta 0.1, held-out pinball / the built-in's (max over tau = 0.1, 0.5, 0.9; seeds
    #: 0, 1): 20k rows, 100 rounds: c = 0.2 1.025-1.031, 0.5 1.015-1.016, 1.0 1.005-1.009;
    #: 300 rounds: 0.996, 0.998, 1.001-1.003. 2k rows, 60 rounds: 1.036-1.048, 1.025-1.028,
    #: 1.005-1.016; 300 rounds: 1.000-1.005, 1.013-1.035, 1.051-1.057 (larger c: faster early,
    #: overfits sooner). benchmarks/multiquantile.py measures the chosen value at full size.
    _mm_c = 0.5

    def __init__(self, quantiles: Sequence[float] = (0.1, 0.5, 0.9), hessian: str = "mm", noncrossing: str = "sort"):
        self.quantiles = quantiles
        self.hessian = hessian
        self.noncrossing = noncrossing
        self._validate_params()

    def _validate_params(self) -> None:
        # K >= 2: one quantile is QuantileLoss (the engines hand a single output over as (n,))
        self._taus = check_quantiles(self.quantiles, min_size=2)
        _check_hessian(self)
        if self.noncrossing not in NONCROSSING:
            raise ValueError(f"noncrossing must be one of {NONCROSSING}, got {self.noncrossing!r}")

    # ------------------------------------------------------------------ shape and names
    @property
    def n_outputs(self) -> int:
        """K, the number of quantiles: raw scores and predictions are (n, K)."""
        return int(self._taus.size)

    @property
    def quantile_levels(self) -> tuple[float, ...]:
        """The quantiles tau_1 < ... < tau_K; ``init_score`` is the weighted quantile at each."""
        return tuple(float(t) for t in self._taus)

    @property
    def link(self) -> Any:  # type: ignore[override]
        return SortedRowsLink() if self.noncrossing == "sort" else CumulativeSoftplusLink()

    @property
    def hessian_uses_all_rows(self) -> bool:
        return self.hessian == "mm"

    def _check_raw(self, raw_prediction: Any) -> np.ndarray:
        z = check_float_array("raw_prediction", raw_prediction, ndim=(1, 2))
        K = self.n_outputs
        if z.ndim != 2 or z.shape[1] != K:
            raise ValueError(
                f"raw_prediction must be 2-D (n, {K}) for {type(self).__name__} with {K} quantiles, got shape {z.shape}"
            )
        return z

    # ------------------------------------------------------------------ the quantiles q(z)
    def _q(self, z: np.ndarray) -> np.ndarray:
        """The quantiles from the raw scores (float64, (n, K))."""
        if self.noncrossing == "sort":
            return z
        return self.link.inverse(z)

    def raw_from_quantiles(self, q: Any) -> np.ndarray:
        """Raw scores whose quantiles are ``q`` ((K,) or (n, K), non-decreasing along the last
        axis): ``q`` itself for ``"sort"``, ``[q_1, softplus^-1(q_k - q_{k-1})]`` for
        ``"monotone"``, a zero gap -800 (softplus(-800) == 0.0; see the class docstring)."""
        q = np.asarray(q, dtype=np.float64)
        if self.noncrossing == "sort" or q.shape[-1] == 1:
            return q.copy()
        gaps = np.diff(q, axis=-1)
        if np.any(gaps < 0):
            raise ValueError("q must be non-decreasing along its last axis")
        # a tie: softplus(-800) is exactly 0 in float64 (exp(-800) underflows), so the tie is kept
        with np.errstate(divide="ignore"):
            log_gaps = np.where(gaps > 0, _softplus_inverse(np.where(gaps > 0, gaps, 1.0)), _TIE)
        return np.concatenate([q[..., :1], log_gaps], axis=-1)

    # ------------------------------------------------------------------ mathematics
    def _loss(self, y, z):
        r = y[:, None] - self._q(z)
        return np.sum(np.maximum(self._taus * r, (self._taus - 1.0) * r), axis=1)

    def _scales(self, y: np.ndarray, q: np.ndarray, w: np.ndarray | None, reduce: Any = None) -> tuple[float, ...]:
        """Per quantile, ``S_k`` from ``(sum w sqrt|q_k - y|, sum w)`` (summed across workers by
        ``reduce``)."""
        sums = np.concatenate([_root_residual_sums(y, np.ascontiguousarray(q[:, k]), w) for k in range(q.shape[1])])
        if reduce is not None:
            sums = reduce(sums)
        return tuple(_mm_scale(float(sums[2 * k]), float(sums[2 * k + 1])) for k in range(q.shape[1]))

    def _round_statistics(self, y, z, w, reduce=None):
        """``{"scales": (S_1, ..., S_K)}`` for the MM curvature (``hessian="mm"``), else None."""
        if self.hessian != "mm":
            return None
        q = self._q(np.asarray(z, dtype=np.float64) if self.noncrossing == "monotone" else z)
        return {"scales": self._scales(y, q, w, reduce)}

    def _per_quantile(
        self,
        q: np.ndarray,
        y: np.ndarray,
        w: np.ndarray | None,
        scales: Any,
        gain: float = 1.0,
        ws: Workspace | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Weighted pinball subgradients and Hessians per quantile column, in ``q``'s dtype,
        times ``gain`` (a power of two: exact)."""
        n, K = q.shape
        g = np.empty((n, K), q.dtype)
        h = np.empty((n, K), q.dtype)
        if self.hessian == "mm":
            ws = Workspace() if ws is None else ws
            for k in range(K):
                gk, hk = _quantile_mm(q[:, k], y, w, float(self._taus[k]), scales[k], ws, False, gain, self._mm_c)
                g[:, k], h[:, k] = gk, hk
            return g, h
        np.subtract(q >= y[:, None], self._taus.astype(q.dtype), out=g)
        h[...] = 0.0 if self.hessian == "exact" else 1.0
        if gain != 1.0:
            g *= gain
            h *= gain
        if w is not None:
            g *= w[:, None]
            h *= w[:, None]
        return g, h

    def _monotone(
        self, y: np.ndarray, z: np.ndarray, w: np.ndarray | None, scales: Any, gain: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """The chain rule through ``q = cumsum([z_1, softplus(z_2..K)])`` (float64)."""
        q = self._q(z)
        gq, hq = self._per_quantile(q, y, w, scales, gain)
        # suffix sums: column j collects the quantiles k >= j that z_j moves
        g_suf = np.cumsum(gq[:, ::-1], axis=1)[:, ::-1]
        s = np.ones_like(z)
        s[:, 1:] = sigmoid(z[:, 1:])
        grad = g_suf * s
        if self.hessian == "exact":
            hess = np.zeros_like(z)
            hess[:, 1:] = sigmoid(z[:, 1:]) * sigmoid(-z[:, 1:]) * g_suf[:, 1:]
            return grad, hess
        h_suf = np.cumsum(hq[:, ::-1], axis=1)[:, ::-1]
        hess = np.maximum(h_suf * (s * s), HESSIAN_FLOOR * (gain if w is None else gain * w[:, None]))
        return grad, hess

    def _gradient_hessian(self, y, z, w):
        scales = None
        if self.hessian == "mm":
            scales = self._round_statistics(y, z, w)["scales"]
        if self.noncrossing == "monotone":
            return self._monotone(y, z, w, scales, 1.0)
        return self._per_quantile(z, y, w, scales)

    # ------------------------------------------------------------------ engine fast path
    def _prepare_labels(self, y, w, dtype):
        return _with_labels_in(dtype, super()._prepare_labels(y, w, dtype))

    def _gradient_hessian_fast(self, z, prep, ws):
        scales = prep.get("scales")
        gain = 1.0
        if scales is not None and prep.get("engine_units", True):  # (False from CatBoost)
            gain = self._engine_gain(scales)
        if self.noncrossing == "monotone":
            return self._monotone(prep["y"], np.asarray(z, np.float64), prep["w"], scales, gain)
        in_range = scales is None or all(1e-30 < s < 1e30 for s in scales)
        if z.dtype == np.float32 and in_range and "y_t" in prep and prep["y_t"].dtype == z.dtype:
            return self._per_quantile(z, prep["y_t"], prep["w_t"], scales, gain, ws)
        # 1/(cS) or the engine factor would leave float32's range: float64
        return self._per_quantile(np.asarray(z, np.float64), prep["y"], prep["w"], scales, gain, ws)

    @staticmethod
    def _engine_gain(scales: Sequence[float]) -> float:
        """The power of two nearest to the geometric mean of the ``S_k``: the engines get the
        pair times it (one factor for every column and row: the same Newton steps, Hessians in
        the units of XGBoost's ``lambda`` / ``min_child_weight``, as for QuantileLoss)."""
        return _power_of_two(float(np.exp(np.mean(np.log(np.asarray(scales, dtype=np.float64))))))

    # ------------------------------------------------------------------ start and evaluation
    def _init_score(self, y, w):
        q = np.array([weighted_quantile(y, w, float(t)) for t in self._taus])
        return self.raw_from_quantiles(q)

    def pinball_per_quantile(self, y_true: Any, raw_prediction: Any, sample_weight: Any = None) -> np.ndarray:
        """The weighted mean pinball loss of each predicted quantile (after ``inverse_link``),
        shape (K,)."""
        y, z, w = self._check_inputs(y_true, raw_prediction, sample_weight)
        r = y[:, None] - self.inverse_link(z)
        per = np.maximum(self._taus * r, (self._taus - 1.0) * r)
        return np.average(per, axis=0, weights=w)

    def coverage(self, y_true: Any, raw_prediction: Any, sample_weight: Any = None) -> np.ndarray:
        """The weighted fraction of rows with ``y <= q_k`` for each predicted quantile (after
        ``inverse_link``), shape (K,): calibrated quantiles give about ``tau_k``."""
        y, z, w = self._check_inputs(y_true, raw_prediction, sample_weight)
        below = (y[:, None] <= self.inverse_link(z)).astype(np.float64)
        return np.average(below, axis=0, weights=w)

    def output_leaf_rules(self) -> list[Any] | None:
        """Leaf refit (:mod:`gbobjectives.refit`): the rule of output k's trees, the exact
        weighted tau_k-quantile of a leaf's residuals (``QuantileLoss(tau_k).leaf_value``), as
        XGBoost's built-in multi-quantile objective refits its leaves. ``"sort"`` only: the raw
        scores of ``"monotone"`` are log-gaps, not quantiles (None: no refit)."""
        if self.noncrossing != "sort":
            return None
        from gbobjectives.losses.quantile import QuantileLoss

        return [QuantileLoss(float(t)) for t in self._taus]

    def quantile_metrics(self) -> list[Any]:
        """One :class:`~gbobjectives.metrics.QuantilePinball` per quantile and the
        :class:`~gbobjectives.metrics.IntervalCoverage` of the outermost two, e.g. for
        ``feval=[m.lightgbm_metric for m in loss.quantile_metrics()]``."""
        from gbobjectives.metrics import IntervalCoverage, QuantilePinball  # (metrics imports no loss)

        return [QuantilePinball(self, k) for k in range(self.n_outputs)] + [IntervalCoverage(self)]

    # ------------------------------------------------------------------ derivative audit
    def _kinks(self, y: np.ndarray) -> np.ndarray | None:
        # "sort": every column has its kink at z_k = y; "monotone": the kinks of column j lie
        # where some q_k(z) = y, which depends on the other columns (not declared)
        return y[:, None] if self.noncrossing == "sort" else None

    def _kinks_by_column(self, y: np.ndarray, z: np.ndarray) -> np.ndarray | None:
        """``"monotone"``: for each column j, the values of ``z_j`` (the other columns fixed) at
        which some ``q_k(z) = y`` (k >= j), shape (n, K, K) as [row, k, j], NaN where there is
        none (``q_k`` moves with ``z_j`` only for k >= j, and by at most ``softplus(z_j)`` down).
        ``"sort"``: None (its kinks, ``z_k = y``, are :meth:`_kinks`)."""
        if self.noncrossing == "sort":
            return None
        q = self._q(np.asarray(z, dtype=np.float64))
        n, K = q.shape
        out = np.full((n, K, K), np.nan)
        out[:, :, 0] = y[:, None] - (q - z[:, :1])  # q_k - z_1 does not depend on z_1
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for j in range(1, K):
                need = y[:, None] - (q[:, j:] - softplus(z[:, [j]]))  # softplus(z_j) that puts q_k at y
                out[:, j:, j] = np.where(need > 0, _softplus_inverse(np.where(need > 0, need, 1.0)), np.nan)
        return out

    def _audit_points(self, seed: int = 0, n_random: int = 200) -> tuple[np.ndarray, np.ndarray]:
        """Labels (n,) and raw scores (n, K) for :func:`gbobjectives.check_gradients`: residuals
        from -700 to 700, kinks of every column (``"sort"``), log-gaps from -40 to 40
        (``"monotone"``)."""
        rng = np.random.default_rng(seed)
        K = self.n_outputs
        extremes = np.array([30.0, 36.7, 37.0, 40.0, 50.0, 100.0, 300.0, 700.0])
        r = np.concatenate([np.linspace(-6, 6, 121), extremes, -extremes, rng.normal(0, 3, n_random)])
        y = rng.normal(0.0, 5.0, size=r.size)
        z = y[:, None] + r[:, None] + rng.normal(0.0, 2.0, size=(r.size, K))
        if self.noncrossing == "monotone":
            z[:, 1:] = rng.choice(np.concatenate([np.linspace(-40, 40, 41), [-300.0, 300.0]]), size=(r.size, K - 1))
            # rows with some q_k exactly at y, and a hair either side
            n_k = 64
            zk = np.column_stack([rng.normal(0.0, 5.0, n_k), rng.uniform(-3.0, 3.0, (n_k, K - 1))])
            k = rng.integers(0, K, n_k)
            yk = self._q(zk)[np.arange(n_k), k]
            yk = yk + np.array([0.0, 1e-9, -1e-9, 1e-3, -1e-3, 0.5, -0.5, 0.0])[np.arange(n_k) % 8]
            return np.concatenate([y, yk]), np.vstack([z, zk])
        h = float(np.finfo(np.float64).eps) ** 0.2
        y_k = rng.normal(0.0, 5.0, size=64)
        offsets = np.array([0.0, 1e-3, 0.5, 1.0, 3.0, 3.9, 4.1, 6.0, 50.0]) * h
        offsets = np.concatenate([offsets, -offsets[1:]])
        kz = y_k[:, None, None] + offsets[None, :, None] + np.zeros((1, 1, K))
        kz = kz.reshape(-1, K)
        # the other columns away from their own kinks in half of the rows
        kz[::2, 1:] += rng.choice([-1.0, 1.0], size=(kz[::2].shape[0], K - 1))
        y = np.concatenate([y, np.repeat(y_k, offsets.size)])
        return y, np.vstack([z, kz])
