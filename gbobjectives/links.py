"""Link functions: how a raw score maps to a prediction.

A link is its own small object (as in scikit-learn's ``_loss/link.py``) instead of an
``if`` inside every loss. ``inverse`` maps raw scores to predictions.
"""

from __future__ import annotations

import numpy as np

from gbobjectives._numerics import sigmoid, softmax

__all__ = ["IdentityLink", "LogitLink", "SoftmaxLink"]


class IdentityLink:
    """Regression: the prediction is the raw score itself."""

    name = "identity"

    def inverse(self, raw_prediction: np.ndarray) -> np.ndarray:
        return np.asarray(raw_prediction, dtype=np.float64)


class LogitLink:
    """Binary classification: ``p = sigmoid(z)``.

    >>> LogitLink().inverse(np.array([0.0]))
    array([0.5])
    """

    name = "logit"

    def inverse(self, raw_prediction: np.ndarray) -> np.ndarray:
        return sigmoid(np.asarray(raw_prediction, dtype=np.float64))


class SoftmaxLink:
    """Multiclass: ``p = softmax(z)`` row-wise over (n, K) logits; rows sum to 1."""

    name = "softmax"

    def inverse(self, raw_prediction: np.ndarray) -> np.ndarray:
        z = np.asarray(raw_prediction, dtype=np.float64)
        if z.ndim != 2:
            raise ValueError(f"raw_prediction must be 2-D (n, K) for a softmax link, got shape {z.shape}")
        return softmax(z, axis=1)
