"""Shared fixtures: every shipped loss setting, and valid random data for any loss."""

from __future__ import annotations

import os

# Both engines loaded in one process with busy-waiting OpenMP pools slowed the suite ~10x on
# 2 cores (measured); passive waiting must be set before either engine is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pytest

from gbobjectives.losses import LOSSES, example_losses

ALL_LOSSES = example_losses()


def loss_id(loss) -> str:
    return repr(loss).replace(" ", "")


def default_mode_losses():
    """One entry per distinct (class, parameters) with the default Hessian mode.

    Quantities that do not depend on the Hessian mode (loss value, gradient, init_score)
    need not be repeated for every mode.
    """
    seen, out = set(), []
    for loss in ALL_LOSSES:
        params = {k: v for k, v in loss.get_params().items() if k != "hessian"}
        key = (type(loss).__name__, repr(params))
        if key not in seen:
            seen.add(key)
            out.append(type(loss)(**params))
    return out


DEFAULT_LOSSES = default_mode_losses()


def valid_labels(loss, y: np.ndarray) -> np.ndarray:
    """``y`` inside the loss's label domain: a loss that rejects labels at or near 0
    (``RelativeErrorLoss``, |y - z| / |y|, needs |y| >= 1.5e-154) gets 0.5 for labels below
    1e-150 in magnitude; every other loss takes ``y`` as it is."""
    if loss.task != "regression":
        return y
    try:
        loss.check_y(np.array([0.0, 1e-150]))
    except ValueError:
        return np.where(np.abs(y) < 1e-150, 0.5, y)
    return y


def n_outputs(loss) -> int | None:
    """K for a regression loss with K > 1 outputs per row (MultiQuantileLoss), else None."""
    k = getattr(loss, "n_outputs", None)
    return k if loss.task == "regression" and k is not None and k > 1 else None


def widen(loss, z: np.ndarray) -> np.ndarray:
    """Raw scores for ``loss``: (n,) ones as they are, or spread over the K outputs of a
    K-output loss (quantile k = z + k - (K-1)/2: near the same residual, kinks apart; for
    ``noncrossing="monotone"`` the raw scores of those quantiles)."""
    K = n_outputs(loss)
    if K is None:
        return z
    return loss.raw_from_quantiles(z[:, None] + (np.arange(K) - (K - 1) / 2.0))


def make_data(loss, rng: np.random.Generator, n: int = 64, scale: float = 3.0, soft: bool = True):
    """Valid (y_true, raw_prediction) for ``loss``; raw scores of spread ``scale``."""
    if loss.task == "binary":
        y = rng.integers(0, 2, n).astype(np.float64)
        if soft:
            y[: n // 4] = rng.uniform(0, 1, n // 4)
        return y, rng.normal(0, scale, n)
    if loss.task == "multiclass":
        K = loss.n_classes or 3
        y = rng.integers(0, K, n)
        y[:K] = np.arange(K)  # every class present
        return y, rng.normal(0, scale, (n, K))
    s = loss._length_scale()
    y = rng.normal(0, 5 * s, n)
    if n_outputs(loss):
        return y, y[:, None] + rng.normal(0, scale * s, (n, n_outputs(loss)))
    return y, y + rng.normal(0, scale * s, y.shape)


@pytest.fixture(params=ALL_LOSSES, ids=loss_id)
def any_loss(request):
    """Every shipped loss in every parameter setting and Hessian mode."""
    return request.param


@pytest.fixture(params=DEFAULT_LOSSES, ids=loss_id)
def default_loss(request):
    """Every shipped loss setting, with its default Hessian."""
    return request.param


@pytest.fixture(params=sorted(LOSSES), ids=str)
def loss_class(request):
    return LOSSES[request.param]
