"""The base of the estimators' engine back-ends, and the helpers they share.

Each engine module defines its ``EstimatorBackend`` subclass next to its ``train``; the
scikit-learn estimators (``gbobjectives/sklearn.py``) only pick one by name.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

from sklearn.utils import check_random_state

from gbobjectives.losses import LOSSES, Loss

__all__ = ["EstimatorBackend", "engine_seed", "engine_threads"]


def engine_seed(random_state: Any) -> int:
    """The engines' plain int seed from a scikit-learn ``random_state`` (None / RandomState / int)."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state) % (2**31 - 1)
    return int(check_random_state(random_state).randint(2**31 - 1))


def engine_threads(n_jobs: Any) -> int | None:
    """Threads for the engine from scikit-learn's ``n_jobs`` (None: the engine's default)."""
    if n_jobs is None:
        return None  # the engine's default (all cores)
    from joblib import effective_n_jobs

    return int(effective_n_jobs(int(n_jobs)))


class EstimatorBackend:
    """What :class:`~gbobjectives.BoostedClassifier` / ``BoostedRegressor`` need from an engine:
    parameters, training, raw prediction, importances, (de)serialisation.

    One subclass per engine, in that engine's module (``engines/xgboost.py``...); the
    estimators in ``gbobjectives/sklearn.py`` hold one instance per engine name.
    """

    name: ClassVar[str] = ""
    #: canonical engine parameter -> every alias a user might put in ``engine_params``
    aliases: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: engine_params keys that would replace the loss as the objective
    objective_keys: ClassVar[tuple[str, ...]] = ("objective",)

    def build_params(self, est: Any, loss: Loss) -> dict[str, Any]:
        ours = {k: v for k, v in self.translate(est, loss).items() if v is not None}
        user = dict(est.engine_params or {})
        for key in self.objective_keys:
            if key in user:
                raise ValueError(
                    f"engine_params[{key!r}]={user[key]!r}: the estimator's loss is the objective; "
                    f"pass loss=... instead (one of {sorted(LOSSES)})"
                )
        for canonical, names in self.aliases.items():
            # a user-given alias wins over our value, and the engine never sees both
            if any(n in user for n in (canonical, *names)):
                ours.pop(canonical, None)
        return {**ours, **user}

    def translate(self, est: Any, loss: Loss) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def importances(self, booster: Any, n_rounds: int, n_features: int) -> Any:  # pragma: no cover
        """Per-feature importance (shape ``(n_features,)``) over the first ``n_rounds`` rounds,
        unnormalised; ``feature_importances_`` divides by the total."""
        raise NotImplementedError
