"""Stable numerical primitives shared by every loss.

Every loss in gbobjectives is built from these few functions so that the stability
rules of docs/math.md ("Stable forms") live in one place:

* ``softplus(x) = log(1 + e^x)`` via ``logaddexp`` - never ``log(1 + exp(x))``;
* ``sigmoid(x)`` via ``scipy.special.expit`` and the complement ``sigmoid(-x)``
  computed directly - never as ``1 - sigmoid(x)``, which is 0 for ``x > 37``;
* ``logsumexp`` with the maximum factored out.

All functions are vectorised numpy ufunc compositions without Python loops.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

__all__ = ["expit", "sigmoid", "softplus", "log_sigmoid", "logsumexp", "softmax"]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + e^-x)``, finite and exact in both tails.

    Example
    -------
    >>> float(sigmoid(np.array(-800.0)))
    0.0
    """
    return expit(x)


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + e^x)`` without overflow; equals ``x`` for large ``x``.

    Example
    -------
    >>> float(softplus(np.array(1000.0)))
    1000.0
    """
    return np.logaddexp(0.0, x)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log(sigmoid(x)) = -softplus(-x)``, exact for very negative ``x``."""
    return -np.logaddexp(0.0, -x)


def logsumexp(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log(sum(exp(z), axis))`` with the row maximum factored out.

    Rows whose entries are all ``-inf`` give ``-inf`` without a RuntimeWarning.
    """
    m = np.max(z, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    s = np.sum(np.exp(z - m), axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right answer for empty rows
        out = np.log(s) + m
    return np.squeeze(out, axis=axis)


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Row-wise softmax ``exp(z - logsumexp(z))``; rows sum to 1 exactly up to rounding."""
    m = np.max(z, axis=axis, keepdims=True)
    e = np.exp(z - m)
    return e / np.sum(e, axis=axis, keepdims=True)
