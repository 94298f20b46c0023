"""Input validation with messages that name the argument and what was expected.

Parameters are checked once, at construction; data are checked at call time. Every check
raises ``ValueError`` or ``TypeError`` - a NaN never travels silently into a model.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = [
    "check_scalar_param",
    "check_float_array",
    "check_sample_weight",
    "check_binary_labels",
    "check_multiclass_labels",
    "infer_n_classes",
    "describe_ids",
    "MAX_CLASS_INDEX",
]

#: the largest class index accepted anywhere: both engines hold num_class in a 32-bit int, and a
#: label beyond it (1e300, a stray 1e7 ...) must be reported before it is converted to an intp
#: or used as an array length (a 1e7-class (n, K) table of 1,000 rows is 74.5 GiB)
MAX_CLASS_INDEX = 2**31 - 2

# float16/float32 inputs are accepted but computed in float64: float16 cannot even hold
# softplus(-z) for z < -11 and float32 loses the tiny tail Hessians.
_COMPUTE_DTYPE = np.float64


def check_scalar_param(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Validate a real scalar parameter and return it as a float.

    Example
    -------
    >>> check_scalar_param("gamma", 2, low=0.0)
    2.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    x = float(value)
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    left = "[" if low_inclusive and low is not None else "("
    right = "]" if high_inclusive and high is not None else ")"
    interval = f"{left}{lo}, {hi}{right}"
    bad = math.isnan(x)
    if low is not None:
        bad = bad or (x < low if low_inclusive else x <= low)
    if high is not None:
        bad = bad or (x > high if high_inclusive else x >= high)
    if bad or (math.isinf(x) and (low is None or high is None)):
        raise ValueError(f"{name} must be a finite number in {interval}, got {value!r}")
    return x


def check_float_array(name: str, x: Any, *, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Convert to a float64 array and reject NaN/inf with a message naming ``name``."""
    try:
        arr = np.asarray(x, dtype=_COMPUTE_DTYPE)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers: {exc}") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got an array of shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")
    return arr


def check_sample_weight(sample_weight: Any, n: int) -> np.ndarray | None:
    """Validate ``sample_weight``: None, or a finite non-negative 1-D array of length ``n``."""
    if sample_weight is None:
        return None
    w = check_float_array("sample_weight", sample_weight)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"sample_weight must have shape ({n},) to match y_true, got shape {w.shape}")
    if np.any(w < 0):
        raise ValueError("sample_weight must be non-negative")
    return w


def check_binary_labels(y_true: Any, n: int) -> np.ndarray:
    """Binary labels: finite, 1-D, length ``n``, in [0, 1] (soft labels allowed)."""
    y = check_float_array("y_true", y_true)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y_true must be 1-D, got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"y_true has {y.shape[0]} rows but raw_prediction has {n}")
    if y.size and (y.min() < 0 or y.max() > 1):
        raise ValueError(
            f"y_true must be binary labels in [0, 1] (0/1 or soft labels), got values in [{y.min():g}, {y.max():g}]"
        )
    return y


def describe_ids(ids: Any, limit: int = 10) -> str:
    """``[3, 4, 5]``, or the first ``limit`` of many ids and how many there are in all."""
    ids = list(ids)
    if len(ids) <= limit:
        return str(ids)
    return f"[{', '.join(str(i) for i in ids[:limit])}, ...] ({len(ids)} in all)"


def infer_n_classes(y: np.ndarray, n_rows: int | None = None, name: str = "y_true") -> int:
    """K = largest class index + 1 (at least 2) of validated finite float labels ``y``.

    Raises ``ValueError`` naming ``name`` - before anything of size K is allocated - when a
    label is negative or not an integer, when the largest one is beyond
    :data:`MAX_CLASS_INDEX`, or, with ``n_rows`` given, when K exceeds the number of rows: K
    classes need at least K rows to all be present, which a finite best start score needs, so
    a larger index is a stray label (a user with 1,000 rows of classes 0-2 and one 1e7 means
    three classes and a data error, not ten million classes).
    """
    if y.size == 0:
        return 2
    lo, hi = float(np.min(y)), float(np.max(y))
    if lo < 0 or np.any(y != np.floor(y)):
        raise ValueError(
            f"{name} must hold integer class indices 0, 1, ..., K-1 for a multiclass loss, got values in "
            f"[{lo:g}, {hi:g}]" + ("" if lo < 0 else " that are not all integers")
        )
    if hi > MAX_CLASS_INDEX:
        raise ValueError(
            f"{name} must hold class indices 0, 1, ..., K-1 for a multiclass loss; its largest label is {hi:g}, "
            f"beyond any usable number of classes ({MAX_CLASS_INDEX + 1}): a stray value? Re-encode the labels "
            f"(e.g. sklearn.preprocessing.LabelEncoder)"
        )
    k = max(int(hi) + 1, 2)
    if n_rows is not None and k > max(n_rows, 2):
        raise ValueError(
            f"{name} must hold class indices 0, 1, ..., K-1 with every class present; its largest label is "
            f"{hi:g}, so K would be {k}, more classes than its {n_rows} rows can hold (most would have no "
            f"sample and no finite start score): a stray label? Re-encode the labels (e.g. "
            f"sklearn.preprocessing.LabelEncoder), or give the number of classes (num_class, or alpha)"
        )
    return k


def check_multiclass_labels(y_true: Any, n: int, n_classes: int) -> np.ndarray:
    """Multiclass labels: integers in [0, n_classes), returned as an intp array."""
    y = check_float_array("y_true", y_true)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y_true must be 1-D class indices, got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"y_true has {y.shape[0]} rows but raw_prediction has {n}")
    if y.size:
        if np.any(y != np.round(y)):
            raise ValueError("y_true must hold integer class indices for a multiclass loss")
        if y.min() < 0 or y.max() >= n_classes:
            raise ValueError(
                f"y_true must hold class indices in [0, {n_classes}), got values in [{y.min():g}, {y.max():g}]"
            )
    return y.astype(np.intp)
