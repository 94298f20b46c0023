r"""Evaluation metrics on raw scores, with the same engine adapters as the losses.

A metric maps ``(y_true, raw_prediction, sample_weight)`` to one number, always on RAW scores
(margins/logits; the identity for regression), because that is what XGBoost and LightGBM hand
a custom metric when the objective is custom. Every metric is weight-aware (weighted mean
over rows) and has the adapters

* ``m.xgboost_metric`` - ``xgboost.train(..., custom_metric=m.xgboost_metric)`` -> (name, value);
* ``m.lightgbm_metric`` - ``lightgbm.train(..., feval=m.lightgbm_metric)`` ->
  (name, value, higher_better);
* ``m.xgboost_sklearn_metric`` - ``XGBClassifier(eval_metric=...)`` -> float (has ``__name__``);
* ``m.lightgbm_sklearn_metric`` - ``LGBMClassifier().fit(..., eval_metric=...)`` ->
  (name, value, higher_better).

Shipped metrics: :class:`MAPE`, :class:`SMAPE` (regression), :class:`PriorLogLoss` and
:class:`LogLossHit` (binary on (n,) logits or multiclass on (n, K) logits),
:class:`QuantilePinball` and :class:`IntervalCoverage` (the quantiles of a
``MultiQuantileLoss`` model, (n, K) raw scores), and :class:`LossMetric`, the weighted mean of
any loss (what ``loss.xgboost_metric`` reports).

Example
-------
>>> import numpy as np
>>> from gbobjectives.metrics import MAPE, LogLossHit
>>> MAPE()([100.0, 200.0], [110.0, 180.0])
0.1
>>> round(LogLossHit()([1, 0], [0.0, 0.0]), 6)  # p(true class) = 0.5 for both rows
0.5
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.special import xlogy

from gbobjectives._engine_hooks import MetricAdapters
from gbobjectives._numerics import logsumexp, softplus
from gbobjectives._validation import (
    check_binary_labels,
    check_float_array,
    check_multiclass_labels,
    check_sample_weight,
)

__all__ = ["Metric", "LossMetric", "MAPE", "SMAPE", "PriorLogLoss", "LogLossHit", "QuantilePinball", "IntervalCoverage"]


def _weighted_mean(values: np.ndarray, w: np.ndarray | None) -> float:
    if w is None:
        return float(np.mean(values))
    total = float(np.sum(w))
    if not total > 0:
        raise ValueError("sample weights sum to zero: a weighted mean is undefined")
    return float(np.dot(values, w) / total)


class Metric(MetricAdapters):
    """Base class of evaluation metrics on raw scores (see the module docstring).

    A subclass sets ``short_name``, ``task`` ("regression" or "classification"),
    ``higher_is_better`` and implements ``_score(y, z, w)`` on validated float64 arrays.
    The engine adapters come from :class:`~gbobjectives._engine_hooks.MetricAdapters`.
    """

    short_name: ClassVar[str] = ""
    task: ClassVar[str] = ""
    #: direction for early stopping; False means lower is better
    higher_is_better: ClassVar[bool] = False

    # ------------------------------------------------------------------ identity
    @property
    def name(self) -> str:
        """Metric name reported to the engines (and used by their early stopping)."""
        return self.short_name

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters (none for the shipped metrics), as scikit-learn's ``get_params``."""
        return {}

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_params() == other.get_params()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.get_params().items()))))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ checking inputs
    def _check_raw(self, raw_prediction: Any) -> np.ndarray:
        z = check_float_array("raw_prediction", raw_prediction, ndim=(1, 2))
        if self.task == "regression" or (z.ndim == 2 and z.shape[1] == 1):
            if z.ndim == 2:
                if z.shape[1] != 1:
                    raise ValueError(f"raw_prediction must be 1-D for a regression metric, got shape {z.shape}")
                z = z[:, 0]
        return z

    def _check_labels(self, y_true: Any, z: np.ndarray) -> np.ndarray:
        if self.task == "regression":
            y = check_float_array("y_true", y_true, ndim=(1, 2))
            if y.ndim == 2 and y.shape[1] == 1:
                y = y[:, 0]
            if y.ndim != 1 or y.shape[0] != z.shape[0]:
                raise ValueError(f"y_true has shape {y.shape} but raw_prediction has {z.shape[0]} rows")
            return y
        # classification: (n,) logits -> binary labels, (n, K) logits -> class indices
        if z.ndim == 1:
            return check_binary_labels(y_true, z.shape[0])
        return check_multiclass_labels(y_true, z.shape[0], z.shape[1])

    def __call__(self, y_true: Any, raw_prediction: Any, sample_weight: Any = None) -> float:
        """The metric's value on raw scores, weighted by ``sample_weight``."""
        z = self._check_raw(raw_prediction)
        y = self._check_labels(y_true, z)
        w = check_sample_weight(sample_weight, z.shape[0])
        return float(self._score(y, z, w))

    def _score(self, y: np.ndarray, z: np.ndarray, w: np.ndarray | None) -> float:  # pragma: no cover
        raise NotImplementedError


class LossMetric(Metric):
    """The weighted mean of a loss, ``sum_i w_i l(y_i, z_i) / sum_i w_i``, named ``loss.name``.

    This is what ``loss.xgboost_metric`` / ``loss.lightgbm_metric`` report; lower is better.

    >>> from gbobjectives import WeightedLogLoss
    >>> round(LossMetric(WeightedLogLoss())([1, 0], [0.0, 0.0]), 6)
    0.693147
    """

    higher_is_better = False

    def __init__(self, loss: Any) -> None:
        self.loss = loss

    @property
    def task(self) -> str:  # type: ignore[override]
        return self.loss.task

    @property
    def name(self) -> str:
        return self.loss.name

    @property
    def _label_checker(self) -> Any:
        # shares the label cache entry with the loss's own objective on the same data set
        return type(self.loss)._check_labels

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"loss": self.loss}

    def _check_raw(self, raw_prediction: Any) -> np.ndarray:
        return self.loss._check_raw(raw_prediction)

    def _check_labels(self, y_true: Any, z: np.ndarray) -> np.ndarray:
        return self.loss._check_labels(y_true, z)

    def _score(self, y, z, w):
        # a loss may compute its weighted mean in one pass (the compiled binary kernels)
        fast = getattr(self.loss, "_weighted_mean_loss", None)
        value = fast(y, z, w) if fast is not None else None
        return _weighted_mean(self.loss._loss(y, z), w) if value is None else value


class MAPE(Metric):
    r"""Mean absolute percentage error, as a fraction (0.1 = 10 %), lower is better.

    .. math:: \mathrm{MAPE} = \frac{\sum_i w_i\,|z_i - y_i| / \max(|y_i|, \epsilon)}{\sum_i w_i}

    with ``epsilon`` the float64 machine epsilon, as scikit-learn's
    ``mean_absolute_percentage_error`` (a zero target gives a huge but finite term).
    Named ``"mape"``: XGBoost's early stopping special-cases exactly that name as
    lower-is-better (any other name starting with "map" would be maximised).

    >>> MAPE()([1.0, 2.0], [1.5, 2.0])
    0.25
    """

    short_name = "mape"
    task = "regression"

    def _score(self, y, z, w):
        return _weighted_mean(np.abs(z - y) / np.maximum(np.abs(y), np.finfo(np.float64).eps), w)


class SMAPE(Metric):
    r"""Symmetric mean absolute percentage error in [0, 2], lower is better.

    .. math:: \mathrm{SMAPE} = \frac{\sum_i w_i\, 2|z_i - y_i| / (|y_i| + |z_i|)}{\sum_i w_i}

    with the term defined as 0 when ``y_i = z_i = 0`` (a perfect prediction).

    >>> SMAPE()([1.0, 0.0], [3.0, 0.0])
    0.5
    """

    short_name = "smape"
    task = "regression"

    def _score(self, y, z, w):
        num = 2.0 * np.abs(z - y)
        den = np.abs(y) + np.abs(z)
        terms = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
        return _weighted_mean(terms, w)


class PriorLogLoss(Metric):
    r"""Logloss of the constant model that predicts the weighted base rate (ignores the scores).

    Binary, with base rate :math:`\bar p = \sum w_i y_i / \sum w_i`:
    :math:`-[\bar p\log\bar p + (1-\bar p)\log(1-\bar p)]`, i.e. 0.693 at 50/50 and lower
    when imbalanced (0.199 at 5 % positives). Multiclass ((n, K) scores): the entropy
    :math:`-\sum_c \pi_c\log\pi_c` of the weighted class frequencies. Logged next to a logloss,
    it shows how much the model beats "predict the prior"; as it does not depend on the
    model, never early-stop on it.

    >>> round(PriorLogLoss()([0, 1], [5.0, -3.0]), 6)
    0.693147
    """

    short_name = "prior_logloss"
    task = "classification"

    def _score(self, y, z, w):
        ww = np.ones(y.shape[0]) if w is None else w
        total = float(np.sum(ww))
        if not total > 0:
            raise ValueError("sample weights sum to zero: the base rate is undefined")
        if z.ndim == 1:
            p = float(np.dot(ww, y)) / total
            prior = np.array([p, 1.0 - p])
        else:
            prior = np.bincount(y, weights=ww, minlength=z.shape[1]) / total
        return float(-np.sum(xlogy(prior, prior)))


class LogLossHit(Metric):
    r"""The "hit": ``exp(-logloss)``, the weighted geometric mean probability of the true class.

    .. math:: \mathrm{hit} = \exp\Big(-\frac{\sum_i w_i\,(-\log p_i(y_i))}{\sum_i w_i}\Big)

    with ``p = sigmoid(z)`` for (n,) logits (soft labels: the cross-entropy) and
    ``softmax(z)`` for (n, K). In (0, 1]; 1/K for an uninformed model; HIGHER is better
    (LightGBM learns the direction from the adapter; with ``xgboost.train`` pass
    ``maximize=True``, which :func:`gbobjectives.xgboost.train` does for you).

    >>> round(LogLossHit()([0, 1], [[0.0, 0.0], [0.0, 0.0]]), 6)
    0.5
    """

    short_name = "logloss_hit"
    task = "classification"
    higher_is_better = True

    def _score(self, y, z, w):
        if z.ndim == 1:
            nll = y * softplus(-z) + (1.0 - y) * softplus(z)
        else:
            nll = logsumexp(z, axis=1) - z[np.arange(z.shape[0]), y]
        return float(np.exp(-_weighted_mean(nll, w)))


class _QuantileMetric(Metric):
    """Base of the metrics on the predicted quantiles of a K-output quantile loss
    (:class:`~gbobjectives.MultiQuantileLoss`): raw scores (n, K) become quantiles through the
    loss's link (sorted rows, or the monotone parametrisation); labels as the loss takes them."""

    task = "regression"

    def __init__(self, loss: Any) -> None:
        if not hasattr(loss, "quantile_levels") or not hasattr(loss, "n_outputs"):
            raise TypeError(f"loss must be a MultiQuantileLoss (a loss with several quantiles), got {loss!r}")
        self.loss = loss

    @property
    def _label_checker(self) -> Any:
        # shares the label cache entry with the loss's own objective on the same data set
        return type(self.loss)._check_labels

    def _check_raw(self, raw_prediction: Any) -> np.ndarray:
        return self.loss._check_raw(raw_prediction)

    def _check_labels(self, y_true: Any, z: np.ndarray) -> np.ndarray:
        return self.loss._check_labels(y_true, z)

    def _column(self, index: Any, name: str) -> int:
        k = self.loss.n_outputs
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -k <= int(index) < k:
            raise ValueError(f"{name} must be an integer index of one of the {k} quantiles, got {index!r}")
        return int(index) % k


class QuantilePinball(_QuantileMetric):
    r"""The weighted mean pinball loss of ONE predicted quantile of a multi-quantile model.

    .. math:: \frac{\sum_i w_i\,\rho_{\tau_k}(y_i - q_{ik})}{\sum_i w_i}

    with ``q = loss.inverse_link(raw)`` (sorted rows for ``noncrossing="sort"``); lower is
    better. Named ``pinball(tau)``. ``loss.quantile_metrics()`` gives one per quantile.

    >>> from gbobjectives import MultiQuantileLoss
    >>> m = QuantilePinball(MultiQuantileLoss([0.1, 0.9]), index=1)
    >>> m.name, round(m([0.0, 0.0], [[1.0, -1.0], [0.0, 2.0]]), 6)  # q rows: [-1, 1], [0, 2]
    ('pinball(0.9)', 0.15)
    """

    short_name = "pinball"

    def __init__(self, loss: Any, index: int = 0) -> None:
        super().__init__(loss)
        self.index = index
        self._k = self._column(index, "index")

    @property
    def name(self) -> str:
        return f"pinball({self.loss.quantile_levels[self._k]:g})"

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"loss": self.loss, "index": self.index}

    def _score(self, y, z, w):
        tau = self.loss.quantile_levels[self._k]
        r = y - self.loss.inverse_link(z)[:, self._k]
        return _weighted_mean(np.maximum(tau * r, (tau - 1.0) * r), w)


class IntervalCoverage(_QuantileMetric):
    r"""The weighted fraction of labels inside the predicted interval ``[q_lower, q_upper]``
    of a multi-quantile model (default: the lowest and the highest quantile).

    .. math:: \frac{\sum_i w_i\,\mathbb{1}[q_{i,\mathrm{lower}} \le y_i \le q_{i,\mathrm{upper}}]}{\sum_i w_i}

    Calibrated quantiles give about ``tau_upper - tau_lower``. A diagnostic, neither higher nor
    lower is better: never early-stop on it. Named ``coverage(tau_lower,tau_upper)``.

    >>> from gbobjectives import MultiQuantileLoss
    >>> m = IntervalCoverage(MultiQuantileLoss([0.1, 0.5, 0.9]))
    >>> m.name, m([0.0, 5.0], [[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]])
    ('coverage(0.1,0.9)', 0.5)
    """

    short_name = "coverage"

    def __init__(self, loss: Any, lower: int = 0, upper: int = -1) -> None:
        super().__init__(loss)
        self.lower, self.upper = lower, upper
        self._lo, self._hi = self._column(lower, "lower"), self._column(upper, "upper")
        if self._lo > self._hi:
            raise ValueError(f"lower={lower!r} must not come after upper={upper!r} among the quantiles")

    @property
    def name(self) -> str:
        taus = self.loss.quantile_levels
        return f"coverage({taus[self._lo]:g},{taus[self._hi]:g})"

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"loss": self.loss, "lower": self.lower, "upper": self.upper}

    def _score(self, y, z, w):
        q = self.loss.inverse_link(z)
        inside = (q[:, self._lo] <= y) & (y <= q[:, self._hi])
        return _weighted_mean(inside.astype(np.float64), w)
