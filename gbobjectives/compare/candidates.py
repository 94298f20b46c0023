"""The rows of a comparison: built-in objectives and gbobjectives losses, from ``--losses`` names
(read from the loss registry)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gbobjectives.compare.settings import (
    _CB_BUILTIN,
    _LGB_BUILTIN,
    _RECIPES,
    _XGB_BUILTIN,
    DEFAULT_LOSSES,
    ENGINES,
    CompareError,
)
from gbobjectives.losses import Loss, MulticlassFocalLoss, WeightedLogLoss, registry
from gbobjectives.losses._solvers import robust_scale
from gbobjectives.losses.base import format_param


@dataclass(frozen=True)
class Candidate:
    """One row of the comparison: a gbobjectives loss, or a built-in objective (``loss=None``).

    ``builtin`` maps an engine to the objective parameters of the built-in row; an engine
    missing from it has no such objective (e.g. LightGBM has no pseudo-Huber) and is skipped.
    ``quantile`` is set for quantile rows (their pinball loss and coverage are reported);
    ``quantiles`` for interval rows, several quantiles from one model (``MultiQuantileLoss``
    and XGBoost's ``reg:quantileerror`` with a ``quantile_alpha`` list): their mean pinball loss
    and the coverage of [first, last quantile] are reported.
    """

    label: str
    loss: Loss | None = None
    builtin: dict[str, dict[str, Any]] | None = None
    quantile: float | None = None
    quantiles: tuple[float, ...] | None = None

    def objective_name(self, engine: str) -> str:
        """What the engine was told to optimise, for the CSV/JSON."""
        if self.loss is not None:
            return repr(self.loss)
        params = (self.builtin or {})[engine]
        if "loss_function" in params:  # CatBoost: the parameters are in the name
            return str(params["loss_function"])
        extra = ", ".join(f"{k}={format_param(v)}" for k, v in params.items() if k != "objective")
        return params["objective"] + (f" ({extra})" if extra else "")

    def runs_on(self, engine: str) -> bool:
        """False for a built-in row that the engine has no objective for, and for a K-output
        loss on CatBoost (its adapter trains one output for regression)."""
        if self.loss is not None:
            return engine != "catboost" or getattr(self.loss, "n_outputs", 1) == 1
        return engine in (self.builtin or {})


def _round_sig(x: float, digits: int = 3) -> float:
    return float(f"{x:.{digits}g}")


def _label(loss: Loss) -> str:
    """``focal``, ``focal(gamma=0.5)``: the short name plus parameters that differ from defaults.

    A swept parameter (the loss's ``sweep``, e.g. the quantile) is the point of the row: it is
    always shown, first and without its name (``quantile(0.9)``).
    """
    defaults = type(loss)().get_params()
    parts = []
    params = loss.get_params()
    for key in type(loss).sweep:
        parts.append(f"{float(params.pop(key)):g}")
    for key, value in params.items():
        if key in defaults and np.array_equal(np.asarray(defaults[key], dtype=object), np.asarray(value, dtype=object)):
            continue
        if value is None:
            continue
        parts.append(f"{key}={format_param(value, '.3g')}")
    return f"{loss.short_name}({','.join(parts)})" if parts else loss.short_name


def _parse_spec(spec: str) -> tuple[str, list[str]]:
    """``"focal:gamma=1:alpha=0.25"`` -> ``("focal", ["--gamma", "1", "--alpha", "0.25"])``."""
    name, *settings = [s.strip() for s in spec.split(":")]
    tokens: list[str] = []
    for setting in settings:
        key, eq, value = setting.partition("=")
        if not eq or not key:
            raise CompareError(f"loss {spec!r}: write parameters as name:key=value, e.g. focal:gamma=1")
        tokens += [f"--{key}", value]
    return name, tokens


def known_loss_names() -> list[str]:
    """The names ``--losses`` accepts (each may carry ``:param=value`` settings): the loss
    families of the registry (a user's registered loss too) and the recipes."""
    return sorted({*_RECIPES, *registry.loss_families()})


def _tasks_of(name: str) -> set[str]:
    return _RECIPES.get(name) or registry.loss_families()[name]


def _canonical(name: str) -> str:
    """The recipe or loss family ``name`` stands for (``"mfocal"`` -> ``"focal"``)."""
    key = registry.normalise_name(name)
    if key in _RECIPES:
        return key
    try:
        return registry.family_of(key)
    except ValueError:
        raise CompareError(f"unknown loss {name!r}; choose from {', '.join(known_loss_names())}") from None


def loss_applies(spec: str, task: str) -> bool:
    """Whether ``--losses`` entry ``spec`` makes sense for ``task`` (raises on unknown names)."""
    return task in _tasks_of(_canonical(_parse_spec(spec)[0]))


def balanced_class_weights(y: np.ndarray) -> np.ndarray:
    """Inverse-frequency class weights ``n / (K * n_c)`` of the "balanced" rows (labels only).

    scikit-learn's ``class_weight="balanced"``: every class carries the same total weight and
    the total stays ``n``, so the trees' ``min_child_weight`` / ``min_sum_hessian`` act as on the
    unweighted data. (Cui et al.'s ``class_balanced_weights(y, beta=0.999)`` is not used here: its
    effective number saturates at ``1 / (1 - beta)`` = 1000 rows, so beyond ~10k rows per class
    it gives [1, 1] and the row would repeat "logloss".)

    Example
    -------
    >>> balanced_class_weights(np.array([0.0, 0, 0, 1])).tolist()
    [0.6666666666666666, 2.0]
    """
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.asarray(y, dtype=np.int64)
    counts = np.bincount(labels)
    if np.any(counts == 0):
        raise CompareError(f"class {int(np.argmin(counts))} of the target has no rows")
    return compute_class_weight("balanced", classes=np.arange(counts.size), y=labels)


def _build_loss(name: str, tokens: list[str], task: str, y: np.ndarray) -> list[Loss]:
    """The losses of one ``--losses`` entry: the registry's class for ``name`` on ``task``, with
    its declared presets (a variant's parameters, the target's robust scale for ``scale_params``,
    one loss per value of the ``sweep``) unless the user gave those parameters."""
    from gbobjectives.plotting import parse_loss_args

    def build(cls: type[Loss], extra: Sequence[str] = ()) -> Loss:
        try:
            return parse_loss_args(cls, [*extra, *tokens])
        except ValueError as exc:
            raise CompareError(f"loss {name!r}: {exc}") from None

    if name == "balanced":
        if tokens:
            raise CompareError("loss 'balanced' takes no parameters (it is logloss with class-balanced weights)")
        w = balanced_class_weights(y)
        if task == "multiclass":
            return [MulticlassFocalLoss(gamma=0.0, alpha=[_round_sig(v) for v in w])]
        return [WeightedLogLoss(pos_weight=_round_sig(w[1]), neg_weight=_round_sig(w[0]))]
    cls, preset = registry.resolve(name, task)
    given = {t[2:].partition("=")[0].replace("-", "_") for t in tokens if t.startswith("--")}
    extra = [f"--{k}={v}" for k, v in preset.items() if k not in given]
    extra += [f"--{p}={_round_sig(robust_scale(y))}" for p in cls.scale_params if p not in given]
    sweeps = [(k, values) for k, values in cls.sweep.items() if k not in given]
    grid = itertools.product(*[[f"--{k}={v}" for v in values] for k, values in sweeps])
    losses = [build(cls, [*extra, *point]) for point in grid]
    try:  # the target must lie in the loss's label domain (e.g. no zeros for the relative error)
        losses[0].check_y(y)
    except ValueError as exc:
        raise CompareError(f"loss {name!r}: {exc}") from None
    return losses


def make_candidates(task: str, y: np.ndarray, losses: Iterable[str] | None = None) -> list[Candidate]:
    """The rows to train for ``task``: the built-in objective first, then each loss of ``losses``.

    Regression losses bring their built-in counterpart (Huber: LightGBM ``huber``, XGBoost's
    closest ``reg:pseudohubererror``; quantile: ``reg:quantileerror`` / ``quantile``) with the same
    ``delta`` / quantile, placed just before them. ``y`` is the encoded target, used for the
    data-driven defaults (Huber delta, class-balanced weights). Unknown names raise
    :class:`CompareError`; names that do not apply to ``task`` are skipped.
    """
    specs = list(DEFAULT_LOSSES[task] if losses is None else losses)
    rows = [
        Candidate(
            "builtin",
            builtin={
                "xgboost": {"objective": _XGB_BUILTIN[task]},
                "lightgbm": {"objective": _LGB_BUILTIN[task]},
                "catboost": {"loss_function": _CB_BUILTIN[task]},
            },
        )
    ]
    for spec in specs:
        raw_name, tokens = _parse_spec(spec)
        name = _canonical(raw_name)
        if name == "builtin" or task not in _tasks_of(name):
            continue
        for loss in _build_loss(name, tokens, task, y):
            label = "balanced" if name == "balanced" else _label(loss)
            spec = registry.spec_of(loss)
            if name in spec.variants and loss == type(loss)(**spec.variants[name]):
                label = name  # the plain variant, e.g. "logloss" on K classes
            # a quantile row (pinball loss and coverage reported, charted against the built-in
            # quantile objective) is one of a loss whose level is swept; the absolute error's
            # fixed median is a point row
            quantile = loss.quantile_level if type(loss).sweep else None
            # several quantiles from one model: an interval row, against the built-in's same quantiles
            levels = getattr(loss, "quantile_levels", None) if getattr(loss, "n_outputs", 1) > 1 else None
            quantiles = None if levels is None else tuple(levels)
            extra: list[Candidate] = []
            builtin = {e: p for e in ENGINES if (p := spec.builtin_objective(loss, e)) is not None}
            if builtin:
                blabel = (
                    spec.builtin_label(loss) if quantiles is None else f"{loss.short_name}({format_param(quantiles)})"
                )
                extra = [Candidate(f"builtin {blabel}", builtin=builtin, quantile=quantile, quantiles=quantiles)]
            for cand in [*extra, Candidate(label, loss=loss, quantile=quantile, quantiles=quantiles)]:
                if all(c.label != cand.label for c in rows):
                    rows.append(cand)
    return rows
