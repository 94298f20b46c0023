"""``gbobjectives compare``: built-in objectives vs gbobjectives losses, on both engines.

For each data set the engines' own objective (``binary:logistic`` / ``binary``,
``multi:softprob`` / ``multiclass``, ``reg:squarederror`` / ``regression`` and, where a
gbobjectives loss has one, its built-in counterpart: Huber, quantile) and the chosen
gbobjectives losses are trained with the same trees, learning rate and rounds on XGBoost and
LightGBM, then scored on held-out rows (a single split or K-fold cross-validation):

* classification: logloss next to the prior-only logloss (what "predict the base rate"
  scores), the hit ``exp(-logloss)`` (the geometric-mean probability of the true class),
  ROC AUC, PR AUC (average precision) and accuracy;
* regression: RMSE, MAE, Huber loss and, for quantile rows, the pinball loss at the row's
  quantile and the coverage ``mean(y <= prediction)`` (which should be close to the quantile);
* both: the wall time of the training call.

Our losses are trained with :func:`gbobjectives.xgboost.train` / :func:`gbobjectives.lightgbm.train`
(start from ``loss.init_score``), the built-in objectives with ``xgboost.train`` /
``lightgbm.train``; every model is scored on its raw margins, through the same link.

The Python entry points are :func:`compare` (one data set), :func:`default_datasets`,
:func:`load_csv`, :func:`format_table`, :func:`write_results` and :func:`plot_results`;
:func:`run` is what the command line calls. Engines, pandas and matplotlib are imported
only when needed.

Example
-------
>>> from sklearn.datasets import load_breast_cancer
>>> X, y = load_breast_cancer(return_X_y=True)
>>> result = compare(X, y, name="cancer", losses=["focal"], rounds=5)  # doctest: +SKIP
>>> print(format_table(result))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gbobjectives.losses import (
    AbsoluteErrorLoss,
    ExpectileLoss,
    FocalLoss,
    Loss,
    MulticlassFocalLoss,
    QuantileLoss,
    RelativeErrorLoss,
    WeightedLogLoss,
)
from gbobjectives.losses import HuberLoss as _HuberLoss
from gbobjectives.losses.base import format_param
from gbobjectives.metrics import LogLossHit, PriorLogLoss

if TYPE_CHECKING:  # annotations only: matplotlib is optional
    import argparse

    from matplotlib.figure import Figure

__all__ = [
    "CompareError",
    "Dataset",
    "Candidate",
    "DatasetResult",
    "ENGINES",
    "TASKS",
    "DEFAULT_LOSSES",
    "compare",
    "default_datasets",
    "load_csv",
    "make_candidates",
    "format_table",
    "write_results",
    "plot_results",
    "run",
]

ENGINES = ("xgboost", "lightgbm")
TASKS = ("binary", "multiclass", "regression")
#: gbobjectives losses trained when ``--losses`` is not given; "quantile" means tau = 0.5 and 0.9
DEFAULT_LOSSES: dict[str, tuple[str, ...]] = {
    "binary": ("logloss", "balanced", "focal"),
    "multiclass": ("logloss", "balanced", "focal"),
    "regression": ("huber", "pseudohuber", "logcosh", "quantile"),
}
_DEFAULT_QUANTILES = (0.5, 0.9)
#: auto-detection treats an integer target with at most this many values as multiclass
_MAX_AUTO_CLASSES = 10
#: more classes than this is almost surely a mistake (an id column as the target)
_MAX_CLASSES = 100
#: object columns with at most this many distinct values are one-hot encoded, others rejected
_MAX_ONE_HOT_LEVELS = 50
#: rows at which ``--threads 0`` (auto) starts using more than one thread: below it, thread
#: start-up costs more than it saves and timings become noisy on a busy machine
_AUTO_THREADS_ROWS = 50_000
#: LightGBM's default min_data_in_leaf (20) on both sides of a split
_LIGHTGBM_MIN_TRAIN_ROWS = 40

_XGB_BUILTIN = {"binary": "binary:logistic", "multiclass": "multi:softprob", "regression": "reg:squarederror"}
_LGB_BUILTIN = {"binary": "binary", "multiclass": "multiclass", "regression": "regression"}


class CompareError(ValueError):
    """A problem with the user's input (data, target, options): one line, exit status 2."""


# ---------------------------------------------------------------------------- data
@dataclass
class Dataset:
    """A data set ready to train on: numeric features, an encoded target and its task.

    ``y`` holds 0/1 (binary), class indices 0..K-1 (multiclass) or floats (regression);
    ``classes`` are the original labels in that order (classification only).
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    task: str
    feature_names: list[str] = field(default_factory=list)
    classes: list[Any] = field(default_factory=list)
    description: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def n_classes(self) -> int | None:
        """K for classification, None for regression."""
        return None if self.task == "regression" else len(self.classes)

    def summary(self) -> str:
        """One line: size, task and class balance / target spread."""
        n, d = self.X.shape
        text = f"{self.task}, {n} rows x {d} features"
        if self.task == "binary":
            text += f", {100 * float(np.mean(self.y)):.1f}% positive ({self.classes[1]!s})"
        elif self.task == "multiclass":
            counts = np.bincount(self.y.astype(int), minlength=len(self.classes))
            text += f", {len(self.classes)} classes ({counts.min()}-{counts.max()} rows each)"
        else:
            text += f", target mean {np.mean(self.y):.4g}, sd {np.std(self.y):.4g}"
        return text


def default_datasets(seed: int = 0) -> list[Dataset]:
    """The embedded data sets ``gbobjectives compare`` uses without ``--data``.

    All ship with scikit-learn (nothing is downloaded): breast cancer (balanced-ish binary),
    a 5 %-positive ``make_classification`` problem with label noise (where the choice of
    classification loss matters most), the 10 digits (multiclass) and diabetes (regression).
    """
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, make_classification

    out = []
    bc = load_breast_cancer()
    # sklearn codes malignant as 0; the positive class of a screening problem is the disease
    y_bc = (bc.target == 0).astype(np.float64)
    out.append(
        Dataset(
            "breast_cancer",
            bc.data,
            y_bc,
            "binary",
            list(bc.feature_names),
            ["benign", "malignant"],
            "scikit-learn load_breast_cancer, positive = malignant",
        )
    )
    X_imb, y_imb = make_classification(
        n_samples=4000,
        n_features=20,
        n_informative=6,
        n_redundant=4,
        weights=[0.95],
        flip_y=0.02,
        class_sep=0.8,
        random_state=seed,
    )
    out.append(
        Dataset(
            "imbalanced",
            X_imb,
            y_imb.astype(np.float64),
            "binary",
            [f"x{i}" for i in range(20)],
            [0, 1],
            "make_classification, 5% positives, 2% flipped labels",
        )
    )
    dg = load_digits()
    out.append(
        Dataset(
            "digits",
            dg.data,
            dg.target.astype(np.float64),
            "multiclass",
            list(dg.feature_names),
            list(range(10)),
            "scikit-learn load_digits, 8x8 images",
        )
    )
    db = load_diabetes()
    out.append(
        Dataset(
            "diabetes",
            db.data,
            db.target.astype(np.float64),
            "regression",
            list(db.feature_names),
            [],
            "scikit-learn load_diabetes, disease progression after one year",
        )
    )
    return out


def _detect_task(values: Any, numeric: bool) -> str:
    distinct = np.unique(values)
    if not numeric:
        return "binary" if distinct.size == 2 else "multiclass"
    if distinct.size == 2:
        return "binary"
    integral = bool(np.all(np.isfinite(distinct)) and np.all(distinct == np.round(distinct)))
    if integral and 2 < distinct.size <= _MAX_AUTO_CLASSES:
        return "multiclass"
    return "regression"


def _missing(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        return np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in values], dtype=bool)
    return np.zeros(values.shape, dtype=bool)


def encode_target(name: str, values: Any, task: str, *, numeric: bool | None = None) -> tuple[np.ndarray, str, list]:
    """``(y, task, classes)`` for a raw target column; ``task="auto"`` picks one.

    Raises :class:`CompareError` with one line when the target does not fit the task.
    """
    values = np.asarray(values)
    if numeric is None:
        numeric = values.dtype.kind in "biuf"
    distinct = np.unique(values[~_missing(values)]) if values.size else values
    if distinct.size < 2:
        # every model would predict the constant and score 0 (or NaN) on every metric
        value = distinct[0] if distinct.size else None
        value = value.item() if hasattr(value, "item") else value  # 3.0, not np.float64(3.0)
        only = f" (every row is {value!r})" if distinct.size else ""
        raise CompareError(f"target {name!r} is constant{only}: there is nothing to predict")
    if task == "auto":
        task = _detect_task(values, numeric)
    if task == "regression":
        if not numeric or values.dtype.kind == "b":
            raise CompareError(f"target {name!r} is not numeric; regression needs a numeric target (try --task auto)")
        y = values.astype(np.float64)
        if not np.all(np.isfinite(y)):
            raise CompareError(f"target {name!r} holds infinite values")
        return y, task, []
    classes, y = np.unique(values, return_inverse=True)
    k = classes.size
    if task == "binary" and k != 2:
        hint = " (a regression target? try --task regression)" if numeric and k > _MAX_AUTO_CLASSES else ""
        raise CompareError(f"target {name!r} has {k} distinct values; --task binary needs exactly 2{hint}")
    if task == "multiclass" and not 2 <= k <= _MAX_CLASSES:
        raise CompareError(
            f"target {name!r} has {k} distinct values; --task multiclass needs 2 to {_MAX_CLASSES} classes"
        )
    return y.astype(np.float64), task, [c.item() if hasattr(c, "item") else c for c in classes]


def _reject_stray_text(path: Path, col: str, series: Any) -> None:
    """CompareError naming the row of the text cell(s) in an otherwise numeric column.

    pandas reads a numeric column with one typo ("n/a ", "1,5", "?") as text; one-hot encoding
    it would turn every number into its own indicator column. A column counts as numeric with
    stray cells when at least 90 % of its non-missing cells are numbers and at most
    max(3, 1 %) are not.
    """
    import pandas as pd

    present = series.notna()
    numbers = pd.to_numeric(series.where(present), errors="coerce")
    stray = present & numbers.isna()
    n_present, n_stray = int(present.sum()), int(stray.sum())
    if n_stray == 0 or n_present - n_stray < 0.9 * n_present or n_stray > max(3, 0.01 * n_present):
        return
    first = stray.to_numpy().nonzero()[0][0]
    row = int(series.index[first])  # read_csv's 0-based data row; the header is line 1 of the file
    cell = str(series.iloc[first])
    more = f" and {n_stray - 1} more" if n_stray > 1 else ""
    raise CompareError(
        f"{path}: column {col!r} holds numbers except {cell!r} in data row {row + 1} (line {row + 2} of the "
        f"file){more}; fix that cell, leave it empty (missing) or drop the column"
    )


def load_csv(path: str | os.PathLike, target: str, task: str = "auto") -> Dataset:
    """Read a CSV into a :class:`Dataset`; every problem is a one-line :class:`CompareError`.

    Non-numeric feature columns with at most 50 distinct values are one-hot encoded (missing
    values get no indicator); wider ones are rejected, as a text or id column would be. Missing
    numeric features stay NaN (both engines route them natively); rows with a missing target
    are dropped with a note.
    """
    try:
        import pandas as pd
    except ImportError:
        raise CompareError("--data needs pandas: pip install 'gbobjectives[all]'") from None
    path = Path(path)
    if not path.exists():
        raise CompareError(f"{path}: no such file")
    if path.is_dir():
        raise CompareError(f"{path}: is a directory, not a CSV file")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise CompareError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CompareError(f"{path}: not a readable CSV file ({first})") from None
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise CompareError(f"{path}: no data rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    if target not in frame.columns:
        raise CompareError(f"{path}: no column {target!r}; columns are: {', '.join(frame.columns)}")
    notes = []
    missing_target = frame[target].isna().to_numpy()
    if missing_target.all():
        raise CompareError(f"{path}: target column {target!r} is empty")
    if missing_target.any():
        notes.append(f"dropped {int(missing_target.sum())} rows with a missing target")
        frame = frame.loc[~missing_target]
    column = frame[target]
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    y, task, classes = encode_target(target, column.to_numpy(), task, numeric=numeric)
    features = frame.drop(columns=[target])
    if features.shape[1] == 0:
        raise CompareError(f"{path}: no feature columns besides the target {target!r}")
    encoded = []
    for col in features.columns:
        series = features[col]
        if pd.api.types.is_bool_dtype(series):
            encoded.append(series.astype(np.float64).to_frame(col))
        elif pd.api.types.is_numeric_dtype(series):
            encoded.append(series.astype(np.float64).to_frame(col))
        else:
            _reject_stray_text(path, col, series)
            levels = series.nunique(dropna=True)
            if levels > _MAX_ONE_HOT_LEVELS:
                raise CompareError(
                    f"{path}: column {col!r} is not numeric and has {levels} distinct values "
                    f"(one-hot encoding is limited to {_MAX_ONE_HOT_LEVELS}); encode or drop it"
                )
            encoded.append(pd.get_dummies(series.astype("string"), prefix=col, dtype=np.float64))
            notes.append(f"one-hot encoded {col!r} ({levels} levels)")
    X = pd.concat(encoded, axis=1)
    if np.isinf(X.to_numpy()).any():
        raise CompareError(f"{path}: features hold infinite values")
    return Dataset(
        path.stem,
        X.to_numpy(np.float64),
        y,
        task,
        [str(c) for c in X.columns],
        classes,
        f"{path}, target {target!r}",
        notes,
    )


# ---------------------------------------------------------------------------- candidates
@dataclass(frozen=True)
class Candidate:
    """One row of the comparison: a gbobjectives loss, or a built-in objective (``loss=None``).

    ``builtin`` maps an engine to the objective parameters of the built-in row; an engine
    missing from it has no such objective (e.g. LightGBM has no pseudo-Huber) and is skipped.
    ``quantile`` is set for quantile rows (their pinball loss and coverage are reported).
    """

    label: str
    loss: Loss | None = None
    builtin: dict[str, dict[str, Any]] | None = None
    quantile: float | None = None

    def objective_name(self, engine: str) -> str:
        """What the engine was told to optimise, for the CSV/JSON."""
        if self.loss is not None:
            return repr(self.loss)
        params = (self.builtin or {})[engine]
        extra = ", ".join(f"{k}={v:g}" for k, v in params.items() if k != "objective")
        return params["objective"] + (f" ({extra})" if extra else "")

    def runs_on(self, engine: str) -> bool:
        """False for a built-in row that the engine has no objective for."""
        return self.loss is not None or engine in (self.builtin or {})


def robust_scale(y: np.ndarray) -> float:
    """1.4826 x the median absolute deviation of ``y`` (the sd for normal data), or its sd if 0.

    The default Huber / pseudo-Huber ``delta``: residuals beyond about one target sd count
    linearly, so a few outliers cannot dominate while typical rows keep the squared loss.
    """
    mad = 1.4826 * float(np.median(np.abs(y - np.median(y))))
    return mad if mad > 0 else float(np.std(y)) or 1.0


def _round_sig(x: float, digits: int = 3) -> float:
    return float(f"{x:.{digits}g}")


def _label(loss: Loss) -> str:
    """``focal``, ``focal(gamma=0.5)``: the short name plus parameters that differ from defaults."""
    defaults = type(loss)().get_params()
    parts = []
    params = loss.get_params()
    if isinstance(loss, QuantileLoss):  # the quantile is the point of the row: always show it
        parts.append(f"{float(params.pop('quantile')):g}")
    if isinstance(loss, ExpectileLoss):  # likewise the expectile
        parts.append(f"{float(params.pop('expectile')):g}")
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


#: what ``--losses`` names mean; the binary names map to their multiclass twins on K classes
_ALIASES = {
    "mfocal": "focal",
    "multiclassfocal": "focal",
    "multiclassfocalloss": "focal",
    "focalloss": "focal",
    "weightedlogloss": "logloss",
    "huberloss": "huber",
    "pseudohuberloss": "pseudohuber",
    "logcoshloss": "logcosh",
    "quantileloss": "quantile",
    "log-cosh": "logcosh",
    "pseudo-huber": "pseudohuber",
    "absoluteerrorloss": "absoluteerror",
    "mae": "absoluteerror",
    "l1": "absoluteerror",
    "relativeerrorloss": "relativeerror",
    "mape": "relativeerror",
    "expectileloss": "expectile",
}
_TASK_OF_NAME = {
    "builtin": set(TASKS),
    "logloss": {"binary", "multiclass"},
    "balanced": {"binary", "multiclass"},
    "focal": {"binary", "multiclass"},
    "huber": {"regression"},
    "pseudohuber": {"regression"},
    "logcosh": {"regression"},
    "quantile": {"regression"},
    "absoluteerror": {"regression"},
    "relativeerror": {"regression"},
    "expectile": {"regression"},
}


def known_loss_names() -> list[str]:
    """The names ``--losses`` accepts (each may carry ``:param=value`` settings)."""
    return sorted(_TASK_OF_NAME)


def _canonical(name: str) -> str:
    key = name.lower().replace("_", "")
    key = _ALIASES.get(key, key)
    if key not in _TASK_OF_NAME:
        raise CompareError(f"unknown loss {name!r}; choose from {', '.join(known_loss_names())}")
    return key


def loss_applies(spec: str, task: str) -> bool:
    """Whether ``--losses`` entry ``spec`` makes sense for ``task`` (raises on unknown names)."""
    return task in _TASK_OF_NAME[_canonical(_parse_spec(spec)[0])]


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
    from gbobjectives.plotting import parse_loss_args

    def build(cls: type[Loss], extra: Sequence[str] = ()) -> Loss:
        try:
            return parse_loss_args(cls, [*extra, *tokens])
        except ValueError as exc:
            raise CompareError(f"loss {name!r}: {exc}") from None

    multiclass = task == "multiclass"
    if name == "logloss":
        if multiclass:
            # softmax cross-entropy is the multiclass focal loss at gamma = 0 (exactly)
            return [build(MulticlassFocalLoss, ["--gamma", "0"])]
        return [build(WeightedLogLoss)]
    if name == "balanced":
        if tokens:
            raise CompareError("loss 'balanced' takes no parameters (it is logloss with class-balanced weights)")
        w = balanced_class_weights(y)
        if multiclass:
            return [MulticlassFocalLoss(gamma=0.0, alpha=[_round_sig(v) for v in w])]
        return [WeightedLogLoss(pos_weight=_round_sig(w[1]), neg_weight=_round_sig(w[0]))]
    if name == "focal":
        return [build(MulticlassFocalLoss if multiclass else FocalLoss)]
    from gbobjectives.losses import LogCoshLoss, PseudoHuberLoss

    if name in ("huber", "pseudohuber"):
        cls = _HuberLoss if name == "huber" else PseudoHuberLoss
        given = any(t == "--delta" for t in tokens)
        return [build(cls, [] if given else ["--delta", f"{_round_sig(robust_scale(y))}"])]
    if name == "logcosh":
        return [build(LogCoshLoss)]
    if name == "quantile":
        if any(t == "--quantile" for t in tokens):
            return [build(QuantileLoss)]
        return [build(QuantileLoss, ["--quantile", str(q)]) for q in _DEFAULT_QUANTILES]
    if name == "absoluteerror":
        return [build(AbsoluteErrorLoss)]
    if name == "relativeerror":
        zeros = np.flatnonzero(np.asarray(y) == 0)
        if zeros.size:
            raise CompareError(
                f"loss 'relativeerror' (|y - z| / |y|) needs a target without zeros; it is 0 in "
                f"{zeros.size} rows (first: {zeros[:5].tolist()})"
            )
        return [build(RelativeErrorLoss)]
    if name == "expectile":
        if any(t == "--expectile" for t in tokens):
            return [build(ExpectileLoss)]
        return [build(ExpectileLoss, ["--expectile", str(q)]) for q in _DEFAULT_QUANTILES]
    raise AssertionError(name)  # pragma: no cover - _canonical admits only the names above


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
            builtin={"xgboost": {"objective": _XGB_BUILTIN[task]}, "lightgbm": {"objective": _LGB_BUILTIN[task]}},
        )
    ]
    for spec in specs:
        raw_name, tokens = _parse_spec(spec)
        name = _canonical(raw_name)
        if name == "builtin" or task not in _TASK_OF_NAME[name]:
            continue
        for loss in _build_loss(name, tokens, task, y):
            label = "balanced" if name == "balanced" else _label(loss)
            if name == "logloss" and task == "multiclass":
                label = "logloss" if loss.get_params()["gamma"] == 0 and loss.get_params()["alpha"] is None else label
            extra: list[Candidate] = []
            if name in ("huber", "pseudohuber"):
                d = float(loss.get_params()["delta"])
                extra = [
                    Candidate(
                        f"builtin huber(delta={d:g})",
                        builtin={
                            "xgboost": {"objective": "reg:pseudohubererror", "huber_slope": d},
                            "lightgbm": {"objective": "huber", "alpha": d},
                        },
                    )
                ]
            if isinstance(loss, AbsoluteErrorLoss) and not isinstance(loss, RelativeErrorLoss):
                extra = [
                    Candidate(
                        "builtin absolute_error",
                        builtin={"xgboost": {"objective": "reg:absoluteerror"}, "lightgbm": {"objective": "l1"}},
                    )
                ]
            if isinstance(loss, RelativeErrorLoss):  # XGBoost has no MAPE objective
                extra = [Candidate("builtin mape", builtin={"lightgbm": {"objective": "mape"}})]
            if isinstance(loss, QuantileLoss):
                q = float(loss.get_params()["quantile"])
                extra = [
                    Candidate(
                        f"builtin quantile({q:g})",
                        quantile=q,
                        builtin={
                            "xgboost": {"objective": "reg:quantileerror", "quantile_alpha": q},
                            "lightgbm": {"objective": "quantile", "alpha": q},
                        },
                    )
                ]
            for cand in [*extra, Candidate(label, loss=loss, quantile=extra[0].quantile if extra else None)]:
                if all(c.label != cand.label for c in rows):
                    rows.append(cand)
    return rows


# ---------------------------------------------------------------------------- training
def _engine_params(engine: str, task: str, n_classes: int | None, seed: int, threads: int) -> dict[str, Any]:
    # Same capacity on both engines: depth-4 trees (LightGBM: at most 15 leaves) and learning rate 0.1
    if engine == "xgboost":
        params: dict[str, Any] = {
            "max_depth": 4,
            "eta": 0.1,
            "tree_method": "hist",
            "nthread": threads,
            "seed": seed,
            "verbosity": 0,
        }
    else:
        params = {
            "num_leaves": 15,
            "max_depth": 4,
            "learning_rate": 0.1,
            "num_threads": threads,
            "seed": seed,
            "verbose": -1,
            "deterministic": True,
            "force_col_wise": True,
        }
    if task == "multiclass":
        params["num_class"] = n_classes
    return params


def _fit_raw(
    engine: str,
    cand: Candidate,
    task: str,
    n_classes: int | None,
    X_tr: np.ndarray,
    y_tr: np.ndarray,
    X_te: np.ndarray,
    rounds: int,
    seed: int,
    threads: int,
) -> tuple[np.ndarray, float]:
    """Train one row on one split: (raw held-out scores, training seconds)."""
    params = _engine_params(engine, task, n_classes, seed, threads)
    if engine == "xgboost":
        import xgboost as xgb

        dtrain, dtest = xgb.DMatrix(X_tr, label=y_tr, nthread=threads), xgb.DMatrix(X_te, nthread=threads)
        start = time.perf_counter()
        if cand.loss is None:
            booster = xgb.train({**params, **cand.builtin["xgboost"]}, dtrain, rounds)  # type: ignore[index]
        else:
            from gbobjectives.xgboost import train

            booster = train(cand.loss, params, dtrain, rounds, verbose_eval=False)
        seconds = time.perf_counter() - start
        # margins for every row type: the built-in link is applied below, like ours
        raw = booster.predict(dtest, output_margin=True)
    else:
        import lightgbm as lgb

        # feature_pre_filter=False: on small data LightGBM would otherwise drop every feature that
        # cannot split under min_data_in_leaf and abort in C++ ("num_features() > 0"); a feature
        # that cannot split is never used either way, so the trees are the same
        dtrain = lgb.Dataset(X_tr, label=y_tr, params={"verbose": -1, "feature_pre_filter": False})
        start = time.perf_counter()
        if cand.loss is None:
            booster = lgb.train({**params, **cand.builtin["lightgbm"]}, dtrain, rounds)  # type: ignore[index]
        else:
            from gbobjectives.lightgbm import train

            booster = train(cand.loss, params, dtrain, rounds)
        seconds = time.perf_counter() - start
        raw = booster.predict(X_te, raw_score=True)
    return np.asarray(raw, dtype=np.float64), seconds


def _score(task: str, y: np.ndarray, raw: np.ndarray, cand: Candidate, delta: float) -> dict[str, float]:
    """Held-out metrics of one row from raw scores (NaN where a metric is undefined)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    nan = float("nan")
    if task == "regression":
        r = raw - y
        out = {
            "rmse": float(np.sqrt(np.mean(r**2))),
            "mae": float(np.mean(np.abs(r))),
            "huber": float(np.mean(_HuberLoss(delta=delta).loss(y, raw))),
            "pinball": nan,
            "coverage": nan,
        }
        if cand.quantile is not None:
            out["pinball"] = float(np.mean(QuantileLoss(quantile=cand.quantile).loss(y, raw)))
            out["coverage"] = float(np.mean(y <= raw))
        return out
    labels = y.astype(int) if task == "multiclass" else y
    hit = LogLossHit()(labels, raw)
    out = {
        "logloss": -math.log(hit) if hit > 0 else float("inf"),
        "prior_logloss": PriorLogLoss()(labels, raw),
        "hit": hit,
        "roc_auc": nan,
        "pr_auc": nan,
    }
    link = MulticlassFocalLoss() if task == "multiclass" else WeightedLogLoss()
    proba = link.inverse_link(raw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a class absent from a small test fold: NaN, not a warning storm
        try:
            if task == "multiclass":
                k = raw.shape[1]
                onehot = np.eye(k)[labels]
                out["roc_auc"] = float(roc_auc_score(labels, proba, multi_class="ovr", labels=list(range(k))))
                out["pr_auc"] = float(average_precision_score(onehot, proba, average="macro"))
            else:
                out["roc_auc"] = float(roc_auc_score(labels, proba))
                out["pr_auc"] = float(average_precision_score(labels, proba))
        except ValueError:
            pass
    predicted = proba.argmax(axis=1) if task == "multiclass" else (proba > 0.5).astype(float)
    out["accuracy"] = float(np.mean(predicted == labels))
    return out


def _splits(data: Dataset, folds: int, test_size: float, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    n = data.y.shape[0]
    classify = data.task != "regression"
    if classify:
        counts = np.bincount(data.y.astype(int), minlength=len(data.classes))
        need = max(2, folds)
        if counts.min() < need:
            rare = data.classes[int(counts.argmin())]
            raise CompareError(
                f"class {rare!r} of the target has only {counts.min()} rows; every class needs at least {need} "
                f"so that it appears in every training {'fold' if folds > 1 else 'and test set'}"
            )
    if folds > 1:
        if folds > n:
            raise CompareError(f"--folds {folds} exceeds the {n} rows")
        splitter = (StratifiedKFold if classify else KFold)(n_splits=folds, shuffle=True, random_state=seed)
        return list(splitter.split(data.X, data.y))
    n_test = math.ceil(test_size * n)
    if n_test < 2 or n - n_test < 2 or (classify and min(n_test, n - n_test) < len(data.classes)):
        raise CompareError(f"--test-size {test_size:g} leaves too few rows on one side of the split ({n} rows)")
    idx = np.arange(n)
    train_idx, test_idx = train_test_split(
        idx, test_size=test_size, random_state=seed, stratify=data.y if classify else None
    )
    return [(train_idx, test_idx)]


@dataclass
class DatasetResult:
    """Everything :func:`compare` measured on one data set.

    ``rows`` has one dict per (loss, engine): ``loss``, ``engine``, ``objective``, the metrics
    averaged over folds, ``train_seconds`` (mean per fold) and ``folds`` (per-fold values).
    """

    dataset: Dataset
    settings: dict[str, Any]
    rows: list[dict[str, Any]]

    @property
    def metric_names(self) -> list[str]:
        """The metric columns of this task, in table order."""
        if self.dataset.task == "regression":
            return ["rmse", "mae", "huber", "pinball", "coverage"]
        return ["logloss", "prior_logloss", "hit", "roc_auc", "pr_auc", "accuracy"]


def _auto_threads(n_rows: int) -> int:
    if n_rows < _AUTO_THREADS_ROWS:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def compare(
    X: Any,
    y: Any,
    *,
    task: str = "auto",
    losses: Iterable[str] | None = None,
    engines: Sequence[str] = ENGINES,
    rounds: int = 100,
    folds: int = 1,
    test_size: float = 0.25,
    seed: int = 0,
    threads: int = 0,
    name: str = "data",
    progress: Callable[[str], None] | None = None,
) -> DatasetResult:
    """Train the built-in objective and ``losses`` on both engines; score them on held-out rows.

    ``X`` is a numeric (n, d) array, ``y`` the raw target (or pass a :class:`Dataset` as ``X``
    with ``y=None``). ``losses`` are names of :func:`known_loss_names` with optional
    ``:param=value`` settings (``"focal:gamma=1"``); None means :data:`DEFAULT_LOSSES`.
    ``folds=1`` is one split holding out ``test_size``; ``folds=K`` is K-fold cross-validation.
    ``threads=0`` picks 1 thread below 50 000 rows. ``progress`` is called after each model.
    """
    if isinstance(X, Dataset):
        data = X
    else:
        X = np.asarray(X, dtype=np.float64)
        y_enc, task_found, classes = encode_target("y", y, task)
        data = Dataset(name, X, y_enc, task_found, [f"x{i}" for i in range(X.shape[1])], classes)
    for engine in engines:
        if engine not in ENGINES:
            raise CompareError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    if rounds < 1:
        raise CompareError(f"--rounds must be at least 1, got {rounds}")
    if folds < 1:
        raise CompareError(f"--folds must be at least 1, got {folds}")
    if not 0 < test_size < 1:
        raise CompareError(f"--test-size must be between 0 and 1, got {test_size:g}")
    threads = threads or _auto_threads(data.X.shape[0])
    candidates = make_candidates(data.task, data.y, losses)
    splits = _splits(data, folds, test_size, seed)
    n_train = min(len(train_idx) for train_idx, _ in splits)
    if "lightgbm" in engines and n_train < _LIGHTGBM_MIN_TRAIN_ROWS:
        # below this LightGBM can grow no tree at all, and aborts in C++ on a custom objective
        part = "fold" if folds > 1 else "split"
        raise CompareError(
            f"{data.name}: {data.X.shape[0]} rows leave {n_train} rows to train on per {part}; LightGBM needs at "
            f"least {_LIGHTGBM_MIN_TRAIN_ROWS} (min_data_in_leaf = 20 on each side of a split): use more rows, a "
            f"smaller --test-size or --engines xgboost"
        )
    delta = _round_sig(robust_scale(data.y)) if data.task == "regression" else float("nan")
    for cand in candidates:  # the Huber column uses the same delta as the Huber rows
        if isinstance(cand.loss, _HuberLoss):
            delta = float(cand.loss.get_params()["delta"])
            break
    rows = []
    for cand in candidates:
        for engine in engines:
            if not cand.runs_on(engine):
                continue
            per_fold: list[dict[str, float]] = []
            for train_idx, test_idx in splits:
                try:
                    raw, seconds = _fit_raw(
                        engine,
                        cand,
                        data.task,
                        data.n_classes,
                        data.X[train_idx],
                        data.y[train_idx],
                        data.X[test_idx],
                        rounds,
                        seed,
                        threads,
                    )
                except ValueError as exc:  # e.g. a loss rejecting the labels: the user's data, not a bug
                    raise CompareError(f"training {cand.label} on {engine} failed: {exc}") from None
                except Exception as exc:
                    # the engines' own errors (LightGBMError, XGBoostError) about the data: one line, exit 2
                    if type(exc).__name__ not in ("LightGBMError", "XGBoostError"):
                        raise
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    raise CompareError(f"training {cand.label} on {engine} failed: {first}") from None
                scores = _score(data.task, data.y[test_idx], raw, cand, delta)
                scores["train_seconds"] = seconds
                per_fold.append(scores)
                if progress is not None:
                    progress(f"{data.name} {engine} {cand.label}")
            mean = {k: float(np.mean([f[k] for f in per_fold])) for k in per_fold[0]}
            rows.append(
                {
                    "dataset": data.name,
                    "task": data.task,
                    "loss": cand.label,
                    "engine": engine,
                    "objective": cand.objective_name(engine),
                    **mean,
                    "folds": per_fold,
                }
            )
    settings = {
        "rounds": rounds,
        "folds": folds,
        "test_size": test_size if folds == 1 else None,
        "seed": seed,
        "threads": threads,
        "engines": list(engines),
        "huber_delta": delta if data.task == "regression" else None,
        "n_test": int(sum(len(t) for _, t in splits)) if folds > 1 else int(len(splits[0][1])),
    }
    return DatasetResult(data, settings, rows)


def n_models(data: Dataset, losses: Iterable[str] | None, engines: Sequence[str], folds: int) -> int:
    """How many trainings :func:`compare` will run (for a progress bar)."""
    cands = make_candidates(data.task, data.y, losses)
    return sum(c.runs_on(e) for c in cands for e in engines) * max(1, folds)


# ---------------------------------------------------------------------------- output
_HEADERS = {
    "logloss": "logloss",
    "prior_logloss": "prior",
    "hit": "hit",
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "accuracy": "accuracy",
    "rmse": "RMSE",
    "mae": "MAE",
    "huber": "Huber",
    "pinball": "pinball",
    "coverage": "cover",
    "train_seconds": "train s",
}


def _fmt(value: float, key: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if key == "train_seconds":
        return f"{value:.2f}"
    if key in ("rmse", "mae", "huber", "pinball") and abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"


def format_table(result: DatasetResult) -> str:
    """The plain-text table ``gbobjectives compare`` prints for one data set.

    A header line says what was held out; rows follow :func:`make_candidates`' order with the
    engines next to each other, so a loss reads against its built-in counterpart directly.
    """
    data, s = result.dataset, result.settings
    split = f"{s['folds']}-fold CV" if s["folds"] > 1 else f"held-out {100 * s['test_size']:g}% ({s['n_test']} rows)"
    lines = [
        f"== {data.name}: {data.summary()}",
        f"   {split}, {s['rounds']} rounds, {s['threads']} thread(s)"
        + (f", Huber delta {s['huber_delta']:g}" if data.task == "regression" else ""),
    ]
    lines += [f"   note: {note}" for note in data.notes]
    keys = [*result.metric_names, "train_seconds"]
    header = ["loss", "engine", *(_HEADERS[k] for k in keys)]
    body = [[r["loss"], r["engine"], *(_fmt(r[k], k) for k in keys)] for r in result.rows]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:  # noqa: E306 - tiny local formatter
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    lines += [line(header), line(["-" * w for w in widths])]
    lines += [line(cells) for cells in body]
    if data.task != "regression":
        lines.append("   prior: logloss of predicting the base rate; hit = exp(-logloss), higher is better")
    else:
        lines.append("   pinball, cover: quantile rows only; cover = share of y <= prediction (aim: the quantile)")
    return "\n".join(line.rstrip() for line in lines)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; null reads as "not applicable"
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value


def write_results(results: Sequence[DatasetResult], output: str | os.PathLike) -> dict[str, Path]:
    """Write ``compare.csv`` (one row per data set, loss and engine), ``compare.json`` (with
    per-fold values and settings) and ``compare.png`` (if matplotlib is installed) into ``output``.

    Returns the paths written, by kind.
    """
    import csv

    from gbobjectives import __version__

    out = Path(output)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CompareError(f"cannot create output folder {out}: {exc.strerror or exc}") from None
    paths = {"csv": out / "compare.csv", "json": out / "compare.json"}
    columns = ["dataset", "task", "loss", "engine", "objective"]
    for result in results:
        for key in [*result.metric_names, "train_seconds"]:
            if key not in columns:
                columns.append(key)
    with open(paths["csv"], "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for result in results:
            for row in result.rows:
                writer.writerow({k: ("" if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()})
    versions = {"gbobjectives": __version__, "python": sys.version.split()[0]}
    for module in ENGINES:
        try:
            versions[module] = __import__(module).__version__
        except ImportError:  # pragma: no cover - compare needs both engines unless --engines says otherwise
            pass
    doc = {
        "versions": versions,
        "datasets": [
            {
                "name": r.dataset.name,
                "task": r.dataset.task,
                "description": r.dataset.description,
                "summary": r.dataset.summary(),
                "n_rows": int(r.dataset.X.shape[0]),
                "n_features": int(r.dataset.X.shape[1]),
                "classes": [str(c) for c in r.dataset.classes],
                "notes": r.dataset.notes,
                "settings": r.settings,
                "results": r.rows,
            }
            for r in results
        ],
    }
    with open(paths["json"], "w") as fh:
        json.dump(_json_safe(doc), fh, indent=1)
    try:
        fig = plot_results(results)
    except ImportError:
        return paths
    paths["png"] = out / "compare.png"
    fig.savefig(paths["png"], dpi=110)
    return paths


#: the columns of the chart: (row key, header, higher is better); time is text only
_CHART_COLUMNS = {
    "classification": [
        ("logloss", "logloss", False),
        ("roc_auc", "ROC AUC", True),
        ("pr_auc", "PR AUC", True),
        ("accuracy", "accuracy", True),
    ],
    "regression": [("rmse", "RMSE", False), ("mae", "MAE", False), ("huber", "Huber", False)],
    "quantile": [("pinball", "pinball", False), ("coverage", "coverage", None)],
}
#: a relative difference of this size (10 %) gets the full colour; smaller ones fade toward white
_CHART_FULL_SCALE = 0.10


def _chart_rows(res: DatasetResult, quantile: bool) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(row, its reference row) pairs for one panel; the reference is the built-in objective on the
    same engine: "builtin" for point rows, "builtin quantile(tau)" for the quantile rows of tau."""
    refs = {}
    for row in res.rows:
        if row["loss"] == "builtin" or row["loss"].startswith("builtin quantile("):
            refs[row["loss"], row["engine"]] = row
    out = []
    for row in res.rows:
        is_quantile = not math.isnan(row.get("pinball", float("nan")))
        if is_quantile != quantile:
            continue
        if quantile:
            tau = row["loss"].split("(")[-1].rstrip(")")
            ref = refs.get((f"builtin quantile({tau})", row["engine"]))
        else:
            ref = refs.get(("builtin", row["engine"]))
        out.append((row, ref if ref is not None else row))
    return out


def _fmt_abs(value: float) -> str:
    if not math.isfinite(value):
        return "-"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.4g}" if abs(value) < 1000 else f"{value:.0f}"


def _draw_panel(ax: Any, res: DatasetResult, quantile: bool, cmap: Any, title: str) -> None:
    """One table-like panel: a cell per (row, metric); the built-in rows print absolute values,
    the others their difference from the built-in on the same engine, coloured on a fixed scale."""
    from matplotlib.colors import to_rgba

    kind = "quantile" if quantile else ("regression" if res.dataset.task == "regression" else "classification")
    columns = _CHART_COLUMNS[kind]
    pairs = _chart_rows(res, quantile)
    n_rows, n_cols = len(pairs), len(columns) + 1
    colours = np.ones((n_rows, n_cols, 4))
    for i, (row, ref) in enumerate(pairs):
        is_ref = row is ref
        for j, (key, _, higher) in enumerate([*columns, ("train_seconds", "", None)]):
            value = float(row[key])
            if key == "coverage":
                tau = float(row["loss"].split("(")[-1].rstrip(")"))
                text = f"{value:.3f} (aim {tau:g})"
            elif key == "train_seconds":
                base = float(ref[key])
                text = f"{value:.2f} s" if is_ref or not base > 0 else f"x{value / base:.2f}"
            elif is_ref:
                text = _fmt_abs(value)
            else:
                base = float(ref[key])
                rel = (value - base) / abs(base) if base != 0 and math.isfinite(base) else float("nan")
                if math.isfinite(rel):
                    # two decimals below 1 %: small differences are shown, not rounded to "same"
                    text = "0 %" if rel == 0 else f"{100 * rel:+.{1 if abs(rel) >= 0.01 else 2}f} %"
                    better = rel if higher else -rel
                    colours[i, j] = cmap(0.5 + 0.5 * float(np.clip(better / _CHART_FULL_SCALE, -1, 1)))
                else:
                    text = "-"
            if is_ref and higher is not None:
                colours[i, j] = to_rgba("0.9")
            colour_sum = colours[i, j, :3].sum()
            ax.text(j, i, text, ha="center", va="center", fontsize=7.5, color="black" if colour_sum > 1.2 else "white")
    ax.imshow(colours, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(n_cols), [h for _, h, _ in columns] + ["train time"], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(n_rows), [f"{row['loss']}  {row['engine']}" for row, _ in pairs], fontsize=8)
    ax.set_xticks(np.arange(-0.5, n_cols), minor=True)
    ax.set_yticks(np.arange(-0.5, n_rows), minor=True)
    ax.grid(which="minor", color="white", lw=1.5)
    ax.tick_params(which="both", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, fontsize=9, loc="left")


def plot_results(results: Sequence[DatasetResult]) -> Figure:
    """Every held-out metric of every row, relative to the engine's built-in objective.

    One table-like panel per data set: a row per (loss, engine), a column per metric (logloss,
    ROC AUC, PR AUC, accuracy; RMSE, MAE, Huber for regression) and the training time. The
    built-in objective's rows (grey) print its absolute values, the scale; every other cell
    prints the relative difference from the built-in objective on the same engine and is
    coloured on one fixed scale for all metrics (green better, red worse, full colour at 10 %),
    so a 0.1 % AUC difference looks as small as it is and a 50 % worse logloss does not hide.
    Quantile rows get their own panel, compared with the built-in quantile objective at the same
    quantile: pinball loss, and the coverage ``mean(y <= prediction)`` next to its aim. Training
    time is the ratio to the built-in's. Needs matplotlib (``pip install 'gbobjectives[plot]'``).
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import LinearSegmentedColormap, Normalize
    from matplotlib.figure import Figure

    # white at "no difference", so only real differences draw the eye
    cmap = LinearSegmentedColormap.from_list("worse_better", ["#b2182b", "#f7f7f7", "#1b7837"])
    heights = []
    for res in results:
        n_point = len(_chart_rows(res, quantile=False))
        n_quant = len(_chart_rows(res, quantile=True))
        heights.append(0.24 * n_point + 0.8)
        if n_quant:
            heights.append(0.24 * n_quant + 0.8)
    fig = Figure(figsize=(10, sum(heights) + 1.6), layout="constrained")
    grid = fig.add_gridspec(len(heights), 1, height_ratios=heights)
    panel = 0
    for res in results:
        data = res.dataset
        s = res.settings
        held = f"{s['folds']}-fold CV" if s["folds"] > 1 else f"{s['n_test']} rows held out"
        head = f"{data.name} ({data.task}, n={data.X.shape[0]}, {held})"
        _draw_panel(fig.add_subplot(grid[panel]), res, False, cmap, f"{head}: vs 'builtin' on the same engine")
        panel += 1
        if _chart_rows(res, quantile=True):
            _draw_panel(
                fig.add_subplot(grid[panel]),
                res,
                True,
                cmap,
                f"{data.name}: quantile rows vs the built-in quantile objective at the same quantile",
            )
            panel += 1
    bar = fig.colorbar(
        ScalarMappable(Normalize(-100 * _CHART_FULL_SCALE, 100 * _CHART_FULL_SCALE), cmap),
        ax=fig.axes,
        orientation="horizontal",
        location="bottom",
        shrink=0.5,
        aspect=40,
        pad=0.01,
    )
    full = 100 * _CHART_FULL_SCALE
    bar.set_ticks([-full, -full / 2, 0, full / 2, full])
    bar.set_ticklabels([f"{full:g} % worse", f"{full / 2:g} %", "same", f"{full / 2:g} %", f"{full:g} % better"])
    bar.set_label(
        "cells: difference from the built-in objective on the same engine, in % of its value; colour by "
        f"better/worse for that metric, full beyond {full:g} %\ngrey rows: the built-in objective's absolute values "
        "(the scale); train time: ratio to the built-in's",
        fontsize=8,
    )
    bar.ax.tick_params(labelsize=7.5)
    first = results[0].settings
    fig.suptitle(
        f"Built-in objectives vs gbobjectives losses on XGBoost and LightGBM ({first['rounds']} rounds)",
        fontsize=11,
        fontweight="bold",
    )
    return fig


# ---------------------------------------------------------------------------- command line
class _Progress:
    """A one-line stderr progress bar, drawn only on a terminal (never into logs or pipes)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = max(total, 1), 0, enabled
        self.start = time.perf_counter()

    def __call__(self, label: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        width = 24
        filled = int(width * self.done / self.total)
        elapsed = time.perf_counter() - self.start
        text = f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {elapsed:5.1f}s  {label}"
        sys.stderr.write(text[:100].ljust(100))
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()


def _split_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise CompareError("empty list")
    return items


def run(args: argparse.Namespace) -> int:
    """The ``gbobjectives compare`` command: returns the exit status (2 on bad input)."""
    try:
        return _run(args)
    except CompareError as exc:
        print(f"gbobjectives compare: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    engines = _split_list(args.engines) or list(ENGINES)
    for engine in engines:
        if engine not in ENGINES:
            raise CompareError(f"unknown engine {engine!r} in --engines; choose from {', '.join(ENGINES)}")
    losses = _split_list(args.losses)
    if args.data is None:
        if args.target is not None:
            raise CompareError("--target needs --data FILE.csv")
        datasets = default_datasets(args.seed)
        if args.task != "auto":
            datasets = [d for d in datasets if d.task == args.task]
    else:
        if args.target is None:
            raise CompareError("--data needs --target COLUMN (the column to predict)")
        datasets = [load_csv(args.data, args.target, args.task)]
    if losses is not None:
        for spec in losses:  # validate every name up front, before any training
            if not any(loss_applies(spec, d.task) for d in datasets):
                tasks = "/".join(sorted({d.task for d in datasets}))
                raise CompareError(f"loss {spec!r} does not apply to a {tasks} task")
            for d in datasets:
                if loss_applies(spec, d.task):
                    make_candidates(d.task, d.y, [spec])
    for engine in engines:  # after the data checks: bad input is reported without waiting for the engines
        try:
            __import__(engine)
        except ImportError:
            raise CompareError(f"{engine} is not installed: pip install 'gbobjectives[{engine}]'") from None
    total = sum(n_models(d, losses, engines, args.folds) for d in datasets)
    progress = _Progress(total, enabled=not args.quiet and sys.stderr.isatty())
    results = []
    started = time.perf_counter()
    try:
        for data in datasets:
            results.append(
                compare(
                    data,
                    None,
                    losses=losses,
                    engines=engines,
                    rounds=args.rounds,
                    folds=args.folds,
                    test_size=args.test_size,
                    seed=args.seed,
                    threads=args.threads,
                    progress=progress,
                )
            )
    finally:
        progress.close()
    elapsed = time.perf_counter() - started
    for result in results:
        print(format_table(result))
        print()
    paths = write_results(results, args.output)
    print(f"{total} models trained in {elapsed:.1f}s; wrote " + ", ".join(str(p) for p in paths.values()))
    return 0
