"""The expectile (asymmetric squared) loss on the residual r = z - y."""

from __future__ import annotations

import numpy as np

from gbobjectives._validation import check_scalar_param
from gbobjectives.losses._solvers import weighted_expectile
from gbobjectives.losses.base import RegressionLoss
from gbobjectives.losses.registry import Template
from gbobjectives.losses.regression import _weighted

__all__ = ["ExpectileLoss"]


class ExpectileLoss(RegressionLoss):
    r"""Expectile (asymmetric squared) loss for the ``expectile`` tau in (0, 1).

    .. math:: \ell = |\tau - \mathbb{1}[y < z]|\,(y - z)^2

    Gradient ``2 a (z - y)`` and exact Hessian ``2 a``, with ``a = 1 - tau`` if ``z > y``
    else ``tau``: piecewise constant and positive, so the exact Hessian is the training default
    (there is no ``hessian`` option). Each Newton step solves the leaf's quadratic on the side
    of the kink it starts from, so leaves move by their (asymmetrically weighted) mean residual
    from any start, as squared error does; the Hessian jumps at ``r = 0`` (declared as a kink to
    the audit). At tau = 0.5 it is half the squared error.

    ``init_score`` is the exact weighted tau-expectile of the labels
    (:func:`weighted_expectile`: sort and scan, no iteration).

    Expectile or quantile? Both give asymmetric "high/low" predictions. The tau-quantile is a
    level that a share tau of the outcomes stays below (coverage is directly interpretable) and
    ignores how far beyond it the outcomes go; the expectile is a tail-weighted mean, so it
    reacts to the size of extreme outcomes (a risk measure: it is the only elicitable coherent
    one), and its smooth loss with a positive Hessian trains like squared error. Prefer the
    quantile for prediction intervals or heavy-tailed noise, the expectile when the magnitude
    of the tail matters.

    Example
    -------
    >>> loss = ExpectileLoss(expectile=0.9)
    >>> loss.loss([0.0, 0.0], [-1.0, 1.0]).tolist()  # under-prediction costs 0.9, over 0.1
    [0.9, 0.1]
    >>> round(loss.init_score([0.0, 1.0]), 6)  # 0.9 (1 - c) = 0.1 c
    0.9
    """

    short_name = "expectile"
    # compare trains these expectiles when the user names none
    sweep = {"expectile": (0.5, 0.9)}
    example_params = tuple({"expectile": e} for e in (0.1, 0.5, 0.9))
    builtin_objectives = {"catboost": {"loss_function": Template("Expectile:alpha={expectile!r}")}}
    builtin_label = "expectile({expectile:g})"

    def __init__(self, expectile: float = 0.5) -> None:
        self.expectile = expectile
        self._validate_params()

    def _validate_params(self) -> None:
        self._tau = check_scalar_param(
            "expectile", self.expectile, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
        )

    def _kinks(self, y: np.ndarray) -> np.ndarray:
        return y[:, None]

    def _asymmetry(self, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        return np.where(z > y, 1.0 - self._tau, self._tau)

    def _loss(self, y, z):
        r = z - y
        with np.errstate(over="ignore"):  # |r| > 1.3e154: the loss is beyond 1.8e308, inf
            return self._asymmetry(y, z) * (r * r)

    def _gradient_hessian(self, y, z, w):
        a2 = 2.0 * self._asymmetry(y, z)
        return _weighted(a2 * (z - y), a2, w)

    def _init_score(self, y, w):
        return weighted_expectile(y, w, self._tau)
