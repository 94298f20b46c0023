"""Link functions: how a raw score maps to a prediction.

A link is its own small object (as in scikit-learn's ``_loss/link.py``) instead of an
``if`` inside every loss. ``inverse`` maps raw scores to predictions.

Non-finite raw scores: NaN always raises a ``ValueError`` naming ``raw_prediction`` (a NaN
score means a diverged or corrupted model; passing it on as a NaN probability hides that).
Infinities are accepted only where the prediction has a well-defined limit: the logit link
maps -inf / +inf to probabilities exactly 0 / 1, and the softmax link gives a class with a
-inf logit probability 0 (a masked class) and a row with one +inf logit probability 1 for that
class. An infinite regression prediction, a softmax row with no finite logit or more than one
+inf logit (no limit: inf - inf) raise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gbobjectives._numerics import sigmoid, softmax, softplus

__all__ = ["IdentityLink", "LogitLink", "SoftmaxLink", "SortedRowsLink", "CumulativeSoftplusLink"]


def _raw(raw_prediction: Any) -> np.ndarray:
    """``raw_prediction`` as float64; NaN raises a ValueError naming it."""
    try:
        z = np.asarray(raw_prediction, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"raw_prediction must be an array of real numbers: {exc}") from None
    nan = np.isnan(z)
    if nan.any():
        raise ValueError(
            f"raw_prediction contains {int(np.count_nonzero(nan))} NaN value(s): a raw score must be a number "
            f"(a NaN usually means a diverged model or missing values upstream)"
        )
    return z


class IdentityLink:
    """Regression: the prediction is the raw score itself (finite; NaN and +-inf raise).

    >>> IdentityLink().inverse(np.array([1.5]))
    array([1.5])
    """

    name = "identity"

    def inverse(self, raw_prediction: np.ndarray) -> np.ndarray:
        z = _raw(raw_prediction)
        if not np.all(np.isfinite(z)):
            bad = int(np.count_nonzero(~np.isfinite(z)))
            raise ValueError(f"raw_prediction contains {bad} infinite value(s): a regression prediction must be finite")
        return z


class LogitLink:
    """Binary classification: ``p = sigmoid(z)``; z = -inf / +inf give exactly 0 / 1, NaN raises.

    >>> LogitLink().inverse(np.array([0.0, -np.inf, np.inf]))
    array([0.5, 0. , 1. ])
    """

    name = "logit"

    def inverse(self, raw_prediction: np.ndarray) -> np.ndarray:
        return sigmoid(_raw(raw_prediction))


class SoftmaxLink:
    """Multiclass: ``p = softmax(z)`` row-wise over (n, K) logits; rows sum to 1.

    A -inf logit gives its class probability 0; a row with exactly one +inf logit gives that
    class probability 1 (the limit). NaN, a row without any finite or +inf logit and a row with
    several +inf logits raise a ``ValueError`` naming ``raw_prediction``.

    >>> SoftmaxLink().inverse(np.array([[0.0, -np.inf], [np.inf, 5.0]]))
    array([[1., 0.],
           [1., 0.]])
    """

    name = "softmax"

    def inverse(self, raw_prediction: np.ndarray) -> np.ndarray:
        z = _raw(raw_prediction)
        if z.ndim != 2:
            raise ValueError(f"raw_prediction must be 2-D (n, K) for a softmax link, got shape {z.shape}")
        if np.all(np.isfinite(z)):
            return softmax(z, axis=1)
        n_pos = np.count_nonzero(z == np.inf, axis=1)
        no_limit = (n_pos > 1) | np.all(z == -np.inf, axis=1)
        if no_limit.any():
            rows = np.flatnonzero(no_limit)
            raise ValueError(
                f"raw_prediction has {rows.size} row(s) (first: row {int(rows[0])}) with several +inf logits "
                f"or none that is not -inf: their softmax has no limit"
            )
        # rows with one +inf: a one-hot row (the limit); -inf entries elsewhere: exp(-inf) = 0
        finite_rows = softmax(np.where(n_pos[:, None] > 0, 0.0, z), axis=1)
        return np.where(n_pos[:, None] > 0, (z == np.inf).astype(np.float64), finite_rows)


def _finite_rows(raw_prediction: Any) -> np.ndarray:
    """(n, K) finite float64 raw scores (a 1-D array is one column); NaN/inf raise."""
    z = IdentityLink().inverse(raw_prediction)
    if z.ndim == 1:
        z = z[:, None]
    if z.ndim != 2:
        raise ValueError(f"raw_prediction must be 2-D (n, K), got shape {z.shape}")
    return z


class SortedRowsLink:
    """Several quantiles from one model (:class:`~gbobjectives.MultiQuantileLoss`): the predicted
    quantiles are each row of raw scores sorted ascending, so they never cross.

    >>> SortedRowsLink().inverse(np.array([[1.0, 3.0, 2.0]]))
    array([[1., 2., 3.]])
    """

    name = "sorted_rows"

    def inverse(self, raw_prediction: np.ndarray) -> np.ndarray:
        return np.sort(_finite_rows(raw_prediction), axis=1)


class CumulativeSoftplusLink:
    """Monotone quantile parametrisation: ``q_1 = z_1``, ``q_k = q_{k-1} + softplus(z_k)``, so
    ``q_1 <= q_2 <= ... <= q_K`` by construction (non-decreasing columns).

    >>> CumulativeSoftplusLink().inverse(np.array([[1.0, 0.0]])).round(6)
    array([[1.      , 1.693147]])
    """

    name = "cumulative_softplus"

    def inverse(self, raw_prediction: np.ndarray) -> np.ndarray:
        z = _finite_rows(raw_prediction)
        inc = np.concatenate([z[:, :1], softplus(z[:, 1:])], axis=1)
        return np.cumsum(inc, axis=1)
