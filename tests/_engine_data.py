"""Small shared data sets for the engine tests (fast: a few hundred rows, 2 threads)."""

from __future__ import annotations

import numpy as np
import pytest

N = 1500


def binary(seed: int = 0, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    logit = X[:, 0] - 0.5 * X[:, 1] + 0.3 * X[:, 2] ** 2 - 1.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.float64)
    return X, y


def multiclass(seed: int = 0, n: int = N, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = np.argmax(X[:, :k] + rng.normal(size=(n, k)), axis=1).astype(np.float64)
    return X, y


def regression(seed: int = 0, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = 3 * X[:, 0] + X[:, 1] ** 2 + rng.standard_t(2, size=n) + 10.0
    return X, y


def weights(n: int = N, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.2, 3.0, n)


def integer_data(seed: int = 2, n: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Few distinct feature values (binning is exact) and integer weights 1..3, for the
    "weighted fit == fit on duplicated rows" checks."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 12, size=(n, 3)).astype(np.float64)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X[:, 0] - 6) / 2))).astype(np.float64)
    w = rng.integers(1, 4, size=n).astype(np.float64)
    return X, y, w


def weighted_mean_loss(loss, y, raw, w=None) -> float:
    return float(np.average(loss.loss(y, raw), weights=w))


def xgb_history(value: float):
    """``pytest.approx`` for a custom metric read back from XGBoost's evaluation history.

    XGBoost formats a custom metric with ``"%f"`` (six decimals) and parses the history back from that
    text (``Booster.eval_set``), so a value carries up to 5e-7 absolute rounding on top of the float32
    predictions' relative error (about 1e-5 after a few rounds)."""
    return pytest.approx(value, rel=1e-5, abs=5e-7)
