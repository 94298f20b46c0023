"""Saving and loading the scikit-learn estimators without pickle: one JSON file per model.

``est.save(path)`` writes :func:`estimator_document`: the engine's own model text, the loss's
registry key and parameters, the classes and feature names, the library versions.
:func:`load_model` reads it back without executing anything from the file: the estimator and
loss classes come from registries (a user's loss once its module is imported:
:mod:`gbobjectives.losses.registry`), parameters go through the constructors' validation, and
the booster is parsed by the engine's own model loader.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.preprocessing import LabelEncoder

from gbobjectives.losses import Loss, registry

__all__ = ["estimator_document", "load_model"]

_FORMAT = "gbobjectives-estimator"
_FORMAT_VERSION = 1
#: the engines whose versions a file records (and whose packages the estimators import)
ENGINE_PACKAGES = ("lightgbm", "xgboost", "catboost")


_SAFE_LABEL_KINDS = "biufU"


def _json_value(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (list, tuple)):
        return [_json_value(v) for v in x]
    return x


def _versions() -> dict[str, str | None]:
    import sklearn

    from gbobjectives import __version__

    out: dict[str, str | None] = {
        "gbobjectives": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
    }
    for name in ENGINE_PACKAGES:
        try:
            out[name] = importlib.import_module(name).__version__
        except ImportError:
            out[name] = None
    return out


def estimator_document(est: Any) -> dict[str, Any]:
    """The JSON document ``est.save(path)`` writes (a fitted estimator)."""
    from gbobjectives.sklearn import _BACKENDS, BoostedClassifier

    params = est.get_params(deep=False)
    params.pop("loss")
    if not isinstance(params["random_state"], (int, type(None))):
        params["random_state"] = None  # a RandomState cannot be written portably; the model is fitted anyway
    loss = est.loss_
    doc: dict[str, Any] = {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "estimator": type(est).__name__,
        "params": {k: _json_value(v) for k, v in params.items()},
        # the user's loss (None = the default) and the fitted one
        "loss": None if est.loss is None else _loss_document(est.loss),
        "fitted_loss": _loss_document(loss),
        "engine_model": _BACKENDS[est.engine].dumps(est.booster_),
        "init_score": _json_value(est.init_score_),
        "best_iteration": est.best_iteration_,
        "n_estimators_used": est.n_estimators_,
        "n_features_in": int(est.n_features_in_),
        "feature_names_in": None if not hasattr(est, "feature_names_in_") else [str(f) for f in est.feature_names_in_],
        # pandas 'category' columns: the model then predicts from DataFrames only (optional key)
        "categorical_features": list(getattr(est, "_categorical", [])),
        "versions": _versions(),
    }
    if isinstance(est, BoostedClassifier):
        classes = est.classes_
        if classes.dtype.kind == "O" and all(isinstance(c, str) for c in classes):
            kind = "str_object"
        elif classes.dtype.kind in _SAFE_LABEL_KINDS:
            kind = classes.dtype.str
        else:
            raise TypeError(f"cannot save class labels of dtype {classes.dtype} portably; use str or numeric labels")
        doc["classes"] = {"dtype": kind, "values": classes.tolist()}
    try:
        json.dumps(doc["params"], allow_nan=True)
    except TypeError as exc:
        raise TypeError(f"engine_params must hold JSON values to be saved: {exc}") from None
    return doc


def _loss_document(loss: Loss) -> dict[str, Any]:
    key = registry.key_of(type(loss))
    if registry.class_from_key(key) is not type(loss):
        raise TypeError(
            f"{loss!r} is not a registered loss (its class needs a short_name, defined at module level); "
            f"it cannot be saved"
        )
    return {"class": key, "params": {k: _json_value(v) for k, v in loss.get_params().items()}}


def _loss_from_document(doc: Any) -> Loss:
    if (
        not isinstance(doc, Mapping)
        or not isinstance(doc.get("class"), str)
        or not isinstance(doc.get("params"), Mapping)
    ):
        raise ValueError(f"invalid loss entry {doc!r}: expected {{'class': name, 'params': {{...}}}}")
    # a registry lookup only: nothing named in the file is imported or executed
    cls = registry.class_from_key(doc["class"])
    if cls is None:
        raise ValueError(
            f"unknown loss class {doc['class']!r}; only registered losses load (import the module defining "
            f"a loss of your own first): {sorted(registry.key_of(c) for c in registry.registered_classes())}"
        )
    try:
        return cls(**dict(doc["params"]))  # the constructor validates every parameter
    except (TypeError, ValueError) as exc:
        raise ValueError(f"invalid parameters for {doc['class']}: {exc}") from None


def _safe_dtype(text: str) -> np.dtype | None:
    try:
        dtype = np.dtype(text)
    except (TypeError, ValueError):
        return None
    return dtype if dtype.kind in _SAFE_LABEL_KINDS else None


def _estimator_classes() -> dict[str, type]:
    # imported here: gbobjectives.sklearn imports this module for BoostedClassifier.save
    from gbobjectives.sklearn import BoostedClassifier, BoostedRegressor

    return {"BoostedClassifier": BoostedClassifier, "BoostedRegressor": BoostedRegressor}


def load_model(path: str | os.PathLike) -> Any:
    """Read an estimator written by ``est.save(path)``, with identical predictions.

    Safe on untrusted files in the sense that nothing is executed: the file is JSON, the
    estimator and loss classes come from registries (a user's loss once its module is imported),
    parameters go through the constructors, and the booster is parsed by the engine's own
    model loader.

    Example
    -------
    >>> # est.save("m.json"); est2 = gbobjectives.sklearn.load_model("m.json")
    """
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        raise ValueError(f"{os.fspath(path)!r} is not a gbobjectives estimator file")
    if doc.get("format_version") != _FORMAT_VERSION:
        raise ValueError(
            f"{os.fspath(path)!r} has format version {doc.get('format_version')!r}; this gbobjectives reads "
            f"version {_FORMAT_VERSION}"
        )
    from gbobjectives.sklearn import _BACKENDS, BoostedClassifier

    estimators = _estimator_classes()
    cls = estimators.get(doc.get("estimator"))  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"unknown estimator {doc.get('estimator')!r}; expected one of {sorted(estimators)}")
    params = doc.get("params")
    valid = set(cls().get_params(deep=False)) - {"loss"}
    if not isinstance(params, dict) or not set(params) <= valid:
        raise ValueError(f"invalid estimator parameters in the file: {params!r}")
    loss = None if doc.get("loss") is None else _loss_from_document(doc["loss"])
    est = cls(loss=loss, **params)
    est._check_params()
    fitted_loss = _loss_from_document(doc.get("fitted_loss"))
    est._check_loss_task(fitted_loss)

    est.booster_ = _BACKENDS[est.engine].loads(str(doc["engine_model"]))
    est.loss_ = fitted_loss
    init = doc["init_score"]
    est.init_score_ = np.asarray(init, dtype=np.float64) if isinstance(init, list) else float(init)
    est.best_iteration_ = None if doc.get("best_iteration") is None else int(doc["best_iteration"])
    est.n_estimators_ = int(doc["n_estimators_used"])
    est.n_features_in_ = int(doc["n_features_in"])
    if doc.get("feature_names_in") is not None:
        est.feature_names_in_ = np.asarray([str(f) for f in doc["feature_names_in"]], dtype=object)
    est.evals_result_ = {}
    categorical = doc.get("categorical_features") or []
    if not isinstance(categorical, list) or not all(isinstance(c, str) for c in categorical):
        raise ValueError(f"invalid categorical_features entry in the file: {categorical!r}")
    est._categorical = categorical
    if isinstance(est, BoostedClassifier):
        classes = doc.get("classes") or {}
        kind, values = classes.get("dtype"), classes.get("values")
        if not isinstance(values, list):
            raise ValueError("invalid classes entry in the file")
        if kind == "str_object":
            arr = np.asarray([str(v) for v in values], dtype=object)
        elif isinstance(kind, str) and _safe_dtype(kind) is not None:
            arr = np.asarray(values, dtype=_safe_dtype(kind))
        else:
            raise ValueError(f"invalid class label dtype {kind!r} in the file")
        est._label_encoder = LabelEncoder()
        est._label_encoder.classes_ = arr
        est.classes_ = arr
        est.n_classes_ = len(arr)
    return est
