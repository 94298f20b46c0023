"""Data sets for the comparison: the embedded defaults, CSV loading and target encoding."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gbobjectives._extras import pip_install_hint
from gbobjectives.compare.settings import _MAX_AUTO_CLASSES, _MAX_CLASSES, _MAX_ONE_HOT_LEVELS, CompareError


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
        raise CompareError(f"--data needs pandas: {pip_install_hint('all')}") from None
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
