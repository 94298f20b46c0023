"""Checks of the estimators' inputs: numeric parameters, eval sets, pandas frames and their
category and text columns (used by ``gbobjectives/sklearn.py``)."""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = ["check_number", "as_eval_list", "is_dataframe", "categorical_columns", "text_column_error"]


def check_number(
    name: str,
    value: Any,
    *,
    low: float,
    low_inclusive: bool = True,
    high: float | None = None,
    integer: bool = False,
    allow_none: bool = False,
) -> None:
    if value is None and allow_none:
        return
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(float(value)):
        what = "an integer" if integer else "a finite number"
        raise ValueError(f"{name} must be {what}{' or None' if allow_none else ''}, got {value!r}")
    too_low = value < low if low_inclusive else value <= low
    if too_low or (high is not None and value > high):
        bound = f"{'>=' if low_inclusive else '>'} {low:g}" + (f" and <= {high:g}" if high is not None else "")
        raise ValueError(f"{name} must be {bound}, got {value!r}")


def as_eval_list(eval_set: Any) -> list[tuple[Any, Any]]:
    if eval_set is None:
        return []
    if isinstance(eval_set, tuple) and len(eval_set) == 2 and not isinstance(eval_set[0], tuple):
        return [eval_set]  # a single (X_val, y_val)
    out = list(eval_set)
    if not all(isinstance(e, (tuple, list)) and len(e) == 2 for e in out):
        raise ValueError("eval_set must be (X_val, y_val) or a list of such pairs")
    return [tuple(e) for e in out]  # type: ignore[misc]


def is_dataframe(X: Any) -> bool:
    # duck-typed, so that pandas stays optional: a pandas DataFrame (or a look-alike) has these
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


def is_category_dtype(dtype: Any) -> bool:
    """Whether a column dtype is pandas' ``category`` (duck-typed: pandas stays optional)."""
    return getattr(dtype, "name", "") == "category"


def category_positions(X: Any) -> list[int]:
    """Positions of the pandas ``category`` columns of ``X`` (empty for anything but a DataFrame)."""
    if not is_dataframe(X):
        return []
    return [i for i, dtype in enumerate(X.dtypes) if is_category_dtype(dtype)]


def categorical_columns(X: Any) -> list[str]:
    """Names of the pandas ``category`` columns of ``X`` (empty for anything but a DataFrame)."""
    if not is_dataframe(X):
        return []
    return [str(col) for col, dtype in X.dtypes.items() if is_category_dtype(dtype)]


def text_column_error(X: Any, owner: str, exc: Exception | None = None) -> ValueError | None:
    """A ValueError naming the first non-numeric, non-category column of DataFrame ``X``, or None."""
    import pandas as pd

    for col, dtype in X.dtypes.items():
        if is_category_dtype(dtype):
            continue
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            continue
        detail = f" ({str(exc).splitlines()[0]})" if exc is not None and str(exc) else ""
        return ValueError(
            f"X column {col!r} has dtype {dtype} and is not numeric{detail}; {owner} takes numeric, bool and "
            f"pandas 'category' columns (used natively by XGBoost, LightGBM and CatBoost): convert it with "
            f"X[{col!r}] = X[{col!r}].astype('category')"
        )
    return None
