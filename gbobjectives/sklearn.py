"""scikit-learn estimators: :class:`BoostedClassifier` and :class:`BoostedRegressor`.

Both train a real XGBoost or LightGBM booster with a gbobjectives loss as the objective,
through :func:`gbobjectives.xgboost.train` / :func:`gbobjectives.lightgbm.train`, so the
booster starts from ``loss.init_score`` (the best constant) and its raw predictions include
that start. Probabilities come from the loss's own link (sigmoid / softmax), never from the
engine's scikit-learn wrapper, which returns raw scores or the wrong link for custom
objectives (see docs/engines.md).

Persistence without pickle: :meth:`BoostedClassifier.save` writes one JSON file holding the
engine's own model text, the loss's class name and parameters, the classes and feature
names; :func:`load_model` reads it back without executing anything from the file (the loss
class is looked up in the loss registry - a shipped loss by its class name, a user's loss by
``module.QualName`` once the user has imported that module - and its parameters go through
the constructor's validation).

Example
-------
>>> import numpy as np
>>> from gbobjectives import BoostedClassifier, FocalLoss
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 3)); y = np.where(X[:, 0] + 0.3 * rng.normal(size=200) > 0, "yes", "no")
>>> clf = BoostedClassifier(loss=FocalLoss(gamma=1.0), n_estimators=20, n_jobs=1).fit(X, y)
>>> clf.classes_.tolist()
['no', 'yes']
>>> clf.predict_proba(X[:2]).sum(axis=1).round(6).tolist()
[1.0, 1.0]
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from gbobjectives._estimator_inputs import (
    as_eval_list,
    categorical_columns,
    check_number,
    is_dataframe,
    text_column_error,
)
from gbobjectives._extras import pip_install_hint
from gbobjectives.engines._backend import EstimatorBackend, engine_seed, engine_threads
from gbobjectives.engines.catboost import CatBoostBackend
from gbobjectives.engines.lightgbm import LightGBMBackend
from gbobjectives.engines.xgboost import XGBoostBackend
from gbobjectives.losses import LOSSES, HuberLoss, Loss, MulticlassFocalLoss, WeightedLogLoss
from gbobjectives.losses._solvers import robust_scale
from gbobjectives.persistence import estimator_document, load_model
from gbobjectives.refit import supports_refit

__all__ = ["BoostedClassifier", "BoostedRegressor", "load_model", "ENGINE_PACKAGES"]

#: supported engines -> (module to import, pip extra that installs it)
ENGINE_PACKAGES: dict[str, tuple[str, str]] = {
    "lightgbm": ("lightgbm", "lightgbm"),
    "xgboost": ("xgboost", "xgboost"),
    "catboost": ("catboost", "catboost"),
}


def _import_engine(engine: Any) -> Any:
    """The engine's module; ValueError for an unknown name, ImportError naming the pip extra."""
    if not isinstance(engine, str) or engine not in ENGINE_PACKAGES:
        raise ValueError(f"engine={engine!r} is not supported; available engines: {sorted(ENGINE_PACKAGES)}")
    module, extra = ENGINE_PACKAGES[engine]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"engine={engine!r} needs the {module} package, which cannot be imported ({exc}); "
            f"install it with: {pip_install_hint(extra)}"
        ) from None


#: the engine back-ends, each defined next to its engine (gbobjectives/engines/*.py)
_BACKENDS: dict[str, EstimatorBackend] = {
    "xgboost": XGBoostBackend(),
    "lightgbm": LightGBMBackend(),
    "catboost": CatBoostBackend(),
}


# ------------------------------------------------------------------------------------ estimators
class _BoostedBase(BaseEstimator):
    """Parameters, fitting and persistence shared by both estimators (see their docstrings)."""

    #: the loss tasks this estimator accepts
    _tasks: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        loss: Loss | None = None,
        engine: str = "xgboost",
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        max_depth: int | None = None,
        num_leaves: int | None = None,
        subsample: float | None = None,
        colsample_bytree: float | None = None,
        min_child_weight: float | None = None,
        min_child_samples: int | None = None,
        reg_lambda: float | None = None,
        reg_alpha: float | None = None,
        early_stopping_rounds: int | None = None,
        validation_fraction: float | None = 0.1,
        n_jobs: int | None = None,
        random_state: int | np.random.RandomState | None = None,
        engine_params: dict[str, Any] | None = None,
    ) -> None:
        self.loss = loss
        self.engine = engine
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.num_leaves = num_leaves
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.reg_alpha = reg_alpha
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.engine_params = engine_params

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # both engines route NaN to a learned default branch
        tags.input_tags.sparse = True  # CSR goes to the engines as is
        return tags

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        # validated at fit, not in __init__/set_params, as scikit-learn requires
        _import_engine(self.engine)
        check_number("n_estimators", self.n_estimators, low=1, integer=True)
        # LightGBM aborts the process (a C++ fatal error) on learning_rate <= 0
        check_number("learning_rate", self.learning_rate, low=0.0, low_inclusive=False)
        check_number("max_depth", self.max_depth, low=1, integer=True, allow_none=True)
        check_number("num_leaves", self.num_leaves, low=2, integer=True, allow_none=True)
        check_number("subsample", self.subsample, low=0.0, low_inclusive=False, high=1.0, allow_none=True)
        check_number("colsample_bytree", self.colsample_bytree, low=0.0, low_inclusive=False, high=1.0, allow_none=True)
        check_number("min_child_weight", self.min_child_weight, low=0.0, allow_none=True)
        check_number("min_child_samples", self.min_child_samples, low=0, integer=True, allow_none=True)
        check_number("reg_lambda", self.reg_lambda, low=0.0, allow_none=True)
        check_number("reg_alpha", self.reg_alpha, low=0.0, allow_none=True)
        check_number("early_stopping_rounds", self.early_stopping_rounds, low=1, integer=True, allow_none=True)
        check_number(
            "validation_fraction",
            self.validation_fraction,
            low=0.0,
            low_inclusive=False,
            high=1.0,
            allow_none=True,
        )
        if self.validation_fraction is not None and self.validation_fraction >= 1.0:
            raise ValueError(f"validation_fraction must be < 1, got {self.validation_fraction!r}")
        if self.engine_params is not None and not isinstance(self.engine_params, Mapping):
            raise ValueError(f"engine_params must be a dict or None, got {type(self.engine_params).__name__}")
        if self.loss is not None and not isinstance(self.loss, Loss):
            raise TypeError(
                f"loss must be a gbobjectives loss instance (e.g. {sorted(LOSSES)[0]}()) or None, got {self.loss!r}"
            )

    def _check_loss_task(self, loss: Loss) -> None:
        if loss.task not in self._tasks:
            expected = "a classification loss (binary or multiclass)" if is_classifier(self) else "a regression loss"
            raise ValueError(
                f"{type(self).__name__} needs {expected}; got {loss!r}, a {loss.task} loss. "
                f"Use {'BoostedRegressor' if is_classifier(self) else 'BoostedClassifier'} for it."
            )

    def _validate_X(self, X: Any, reset: bool) -> Any:
        if getattr(self, "_categorical", None):
            return self._validate_frame(X, reset=reset)
        return self._validate_numeric(X, reset=reset)

    def _validate_numeric(self, X: Any, y: Any = "no_validation", **kwargs: Any) -> Any:
        """scikit-learn's ``validate_data`` for numeric X (array, DataFrame or CSR; NaN allowed),
        with an error naming a DataFrame's text column instead of sklearn's "could not convert
        string to float: 'g'", which names neither the column nor the fix."""
        try:
            return validate_data(
                self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], ensure_all_finite="allow-nan", **kwargs
            )
        except ValueError as exc:
            better = text_column_error(X, type(self).__name__, exc) if is_dataframe(X) else None
            if better is None:
                raise
            raise better from None

    def _validate_frame(self, X: Any, reset: bool) -> Any:
        """A DataFrame with pandas ``category`` columns, kept as a DataFrame for the engines.

        The engines split on categories natively (XGBoost with ``enable_categorical=True`` on the
        DMatrix and the hist tree method; LightGBM reads the category dtype; CatBoost gets them as
        ``cat_features``, as text, a missing entry a category of its own) and store the
        categories in the booster, so new data is matched to the training categories by value.
        """
        name = type(self).__name__
        if not is_dataframe(X):
            raise ValueError(
                f"X must be a pandas DataFrame: this {name} was fitted on one with the categorical columns "
                f"{self._categorical!r}, which an array cannot carry"
            )
        # names, their order and the number of columns; the values go to the engine untouched
        X = validate_data(self, X, reset=reset, skip_check_array=True)
        if X.shape[0] < 1:
            raise ValueError(f"X has 0 rows; {name} needs at least 1")
        problem = text_column_error(X, name)
        if problem is not None:
            raise problem
        if not reset:
            lost = [c for c in self._categorical if c not in categorical_columns(X)]
            if lost:
                raise ValueError(
                    f"X columns {lost!r} were pandas 'category' columns at fit and are not now; convert them "
                    f"with .astype('category') (the categories are matched by value)"
                )
        return X

    # ------------------------------------------------------------------ fitting
    def _encode_y(self, y: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def _fit(self, X: Any, y: Any, sample_weight: Any, eval_set: Any, eval_sample_weight: Any) -> Any:
        self._check_params()
        categorical = categorical_columns(X)
        if categorical:
            # y alone first (this also clears feature names of an earlier fit), then the frame as is
            y = validate_data(self, y=y, y_numeric=not is_classifier(self))
            self._categorical = categorical
            X = self._validate_frame(X, reset=True)
            check_consistent_length(X, y)
        else:
            self._categorical = []
            X, y = self._validate_numeric(X, y, y_numeric=not is_classifier(self))
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        y_enc = self._encode_y(y)  # classifier: classes_ and codes; regressor: float64
        loss = self._resolve_loss(y_enc, sample_weight)
        self._check_loss_task(loss)

        evals = []
        eval_list = as_eval_list(eval_set)
        eval_weights = list(eval_sample_weight) if eval_sample_weight is not None else [None] * len(eval_list)
        if len(eval_weights) != len(eval_list):
            raise ValueError(f"eval_sample_weight has {len(eval_weights)} entries but eval_set has {len(eval_list)}")
        for (Xv, yv), wv in zip(eval_list, eval_weights):
            Xv = self._validate_X(Xv, reset=False)
            yv = self._encode_y_eval(np.asarray(yv))
            if wv is not None:
                wv = _check_sample_weight(wv, Xv, dtype=np.float64, ensure_non_negative=True)
            evals.append((Xv, yv, wv))
        X_train, y_train, w_train = X, y_enc, sample_weight
        if self.early_stopping_rounds is not None and not evals:
            if self.validation_fraction is None:
                raise ValueError(
                    "early_stopping_rounds needs fit(..., eval_set=(X_val, y_val)) or a validation_fraction"
                )
            X_train, y_train, w_train, evals = self._split_validation(X, y_enc, sample_weight)

        # the start score, computed (and the labels validated) before any tree is built
        try:
            init = loss.init_score(y_train, w_train)
        except ValueError as exc:
            raise ValueError(f"{type(self).__name__} cannot train {loss!r} on this data: {exc}") from None

        backend = _BACKENDS[self.engine]
        params = backend.build_params(self, loss)  # (CatBoost's leaf estimation depends on the loss)
        booster, best, history = backend.train(
            self, loss, params, X_train, y_train, w_train, evals, int(self.n_estimators), self.early_stopping_rounds
        )
        self.loss_ = loss
        self.booster_ = booster
        self.init_score_ = init if np.ndim(init) else float(init)
        self.best_iteration_ = best
        self.n_estimators_ = int(self.n_estimators) if best is None else best + 1
        self.evals_result_ = history
        return self

    def _encode_y_eval(self, y: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def _resolve_loss(self, y: np.ndarray, w: np.ndarray | None) -> Loss:  # pragma: no cover - overridden
        raise NotImplementedError

    def _split_validation(self, X: Any, y: np.ndarray, w: np.ndarray | None) -> tuple:
        idx = np.arange(X.shape[0])
        stratify = y if is_classifier(self) else None
        try:
            tr, va = train_test_split(
                idx, test_size=self.validation_fraction, random_state=engine_seed(self.random_state), stratify=stratify
            )
        except ValueError:  # a class too rare to stratify: a plain random split
            tr, va = train_test_split(
                idx, test_size=self.validation_fraction, random_state=engine_seed(self.random_state)
            )
        w_tr = None if w is None else w[tr]
        w_va = None if w is None else w[va]
        rows = X.iloc if is_dataframe(X) else X  # a DataFrame (categorical columns) stays one
        return rows[tr], y[tr], w_tr, [(rows[va], y[va], w_va)]

    # ------------------------------------------------------------------ predicting
    def _raw_predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "booster_")
        X = self._validate_X(X, reset=False)
        return _BACKENDS[self.engine].predict_raw(self.booster_, X, self.n_estimators_, engine_threads(self.n_jobs))

    @property
    def feature_importances_(self) -> np.ndarray:
        """Total gain of each feature's splits, normalised to sum to 1 (shape ``(n_features_in_,)``).

        Summed over the rounds used to predict (``n_estimators_``) and, for multiclass, over the
        K trees of each round. This is XGBoost's ``importance_type="total_gain"`` and LightGBM's
        ``importance_type="gain"``, so both engines report the same quantity (XGBClassifier's
        default is the *average* gain per split, LGBMClassifier's the split count). All zeros
        if no tree has a split. CatBoost reports no split gain: with ``engine="catboost"`` it is
        CatBoost's default importance, ``PredictionValuesChange``, normalised the same way. Other
        kinds: ``booster_.get_score(importance_type=...)`` (XGBoost),
        ``booster_.feature_importance(importance_type="split")`` (LightGBM),
        ``booster_.get_feature_importance(type=...)`` (CatBoost).

        Example
        -------
        >>> import numpy as np
        >>> from gbobjectives import BoostedRegressor
        >>> X = np.random.default_rng(0).normal(size=(200, 3)); y = 5 * X[:, 1]
        >>> reg = BoostedRegressor(n_estimators=10, n_jobs=1).fit(X, y)
        >>> int(np.argmax(reg.feature_importances_)), float(reg.feature_importances_.sum())
        (1, 1.0)
        """
        check_is_fitted(self, "booster_")
        gain = _BACKENDS[self.engine].importances(self.booster_, int(self.n_estimators_), int(self.n_features_in_))
        total = float(gain.sum())
        return gain / total if total > 0 else gain

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted estimator to ``path`` as portable JSON (no pickle).

        The file holds the engine's own model text (XGBoost JSON / LightGBM model string), the
        loss's class name and parameters, the estimator's parameters, ``classes_``, feature
        names, ``init_score_`` and library versions. Read it with :meth:`load` or
        :func:`gbobjectives.sklearn.load_model`.

        Example
        -------
        >>> # clf.save("model.json"); BoostedClassifier.load("model.json").predict(X)
        """
        check_is_fitted(self, "booster_")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(estimator_document(self), fh)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Any:
        """Read an estimator written by :meth:`save`; it must be of this class.

        Nothing in the file is executed: the loss class comes from the loss registry
        (:mod:`gbobjectives.losses.registry`) and its parameters go through its constructor.
        """
        est = load_model(path)
        if not isinstance(est, cls):
            raise TypeError(f"{os.fspath(path)!r} holds a {type(est).__name__}, not a {cls.__name__}")
        return est


class BoostedClassifier(ClassifierMixin, _BoostedBase):
    """Gradient-boosted classifier trained on a gbobjectives loss (XGBoost or LightGBM).

    Parameters
    ----------
    loss : a binary or multiclass gbobjectives loss, or None (default)
        None means plain logloss: ``WeightedLogLoss()`` for two classes and
        ``MulticlassFocalLoss(gamma=0)`` (softmax cross-entropy) for more. The fitted loss
        is ``loss_``; ``loss`` itself is never modified.
    engine : {"xgboost", "lightgbm", "catboost"}, default "xgboost"
        XGBoost is the default: its leaf constraint is a Hessian sum (so sample weights act
        like duplicated rows), it fits tiny data sets, and it stores the start score natively.
        CatBoost (optional extra) grows symmetric trees of ``max_depth`` (default 6); it calls a
        custom multiclass loss once per row, so multiclass fits are slow there.
    n_estimators : int, default 100
        Boosting rounds (an upper bound with early stopping).
    learning_rate : float > 0, default 0.1
    max_depth, num_leaves : int or None
        Tree size; None is the engine's default (XGBoost depth 6; LightGBM 31 leaves, no
        depth limit). ``num_leaves`` is XGBoost's ``max_leaves``.
    subsample, colsample_bytree : float in (0, 1] or None
        Row sampling per round and column sampling per tree (LightGBM bagging / feature fraction).
    min_child_weight : float or None
        Minimum Hessian sum in a leaf (LightGBM ``min_sum_hessian_in_leaf``).
    min_child_samples : int or None
        LightGBM only: minimum number of rows in a leaf (default 20 there).
    reg_lambda, reg_alpha : float or None
        L2 / L1 penalty on leaf values.
    early_stopping_rounds : int or None
        Stop when the loss's own metric (its weighted mean) on the last ``eval_set`` has not
        improved for this many rounds; without an ``eval_set``, a stratified
        ``validation_fraction`` of the training data is held out.
    validation_fraction : float in (0, 1) or None, default 0.1
        Used only with early stopping and no ``eval_set``.
    n_jobs : int or None
        Engine threads; None is the engine's default (all cores), negative values count back
        from the number of cores as in scikit-learn.
    random_state : int, RandomState or None
        Seed of the engine (row/column sampling) and of the validation split.
    engine_params : dict or None
        Extra engine parameters; they override the ones above (aliases included, e.g.
        ``{"eta": 0.3}`` replaces ``learning_rate`` for XGBoost). ``objective`` is not
        allowed: the loss is the objective.

    Attributes
    ----------
    classes_, n_classes_, n_features_in_, feature_names_in_ (pandas input only),
    loss_ (the loss used), booster_ (the engine's own ``xgboost.Booster`` / ``lightgbm.Booster``;
    its raw predictions include the start, so ``shap.TreeExplainer(est.booster_)`` and
    ``lightgbm.plot_importance(est.booster_)`` work on it), feature_importances_ (total split
    gain per feature, normalised to sum to 1), init_score_ (float, or (K,) for multiclass),
    best_iteration_ (0-based, or None without early stopping), n_estimators_ (rounds used to
    predict), evals_result_.

    pandas ``category`` columns are passed to the engine as a DataFrame and split on natively
    (XGBoost: ``enable_categorical=True`` on the DMatrix, hist trees; LightGBM: the category
    dtype; CatBoost: ``cat_features``, the categories as text); such a model then predicts from
    DataFrames with the same columns, matching categories by value.
    ``engine_params={"enable_categorical": ...}`` is accepted and goes to XGBoost's DMatrix
    (default True; the other engines ignore it).

    Example
    -------
    >>> import numpy as np
    >>> from gbobjectives import BoostedClassifier
    >>> X = np.random.default_rng(0).normal(size=(300, 4)); y = (X[:, 0] > 0).astype(int)
    >>> clf = BoostedClassifier(n_estimators=20, n_jobs=1, random_state=0).fit(X, y)
    >>> float(clf.score(X, y)) > 0.9
    True
    """

    _tasks = ("binary", "multiclass")

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        eval_set: Any = None,
        eval_sample_weight: Sequence[Any] | None = None,
    ) -> BoostedClassifier:
        """Fit on ``X`` (array, DataFrame - ``category`` columns native - or CSR; NaN = missing) and labels of any type.

        ``eval_set`` is ``(X_val, y_val)`` or a list of such pairs; the loss's metric on each
        is recorded in ``evals_result_`` and the last one drives early stopping.
        """
        return self._fit(X, y, sample_weight, eval_set, eval_sample_weight)

    def _encode_y(self, y: np.ndarray) -> np.ndarray:
        check_classification_targets(y)
        self._label_encoder = LabelEncoder().fit(y)
        self.classes_ = self._label_encoder.classes_
        self.n_classes_ = len(self.classes_)
        if self.n_classes_ < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in y; "
                f"y has one class only: {self.classes_.tolist()!r}"
            )
        return self._label_encoder.transform(y).astype(np.float64)

    def _encode_y_eval(self, y: np.ndarray) -> np.ndarray:
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(f"eval_set has labels not seen in y: {unknown.tolist()!r}")
        return self._label_encoder.transform(np.ravel(y)).astype(np.float64)

    def _resolve_loss(self, y: np.ndarray, w: np.ndarray | None) -> Loss:
        k = self.n_classes_
        if self.loss is None:
            return WeightedLogLoss() if k == 2 else MulticlassFocalLoss(gamma=0.0)
        loss = type(self.loss)(**self.loss.get_params())  # a private copy: `loss` stays untouched
        self._check_loss_task(loss)
        if loss.task == "binary" and k > 2:
            raise ValueError(
                f"{loss!r} is a binary loss but y has {k} classes {self.classes_.tolist()!r}; "
                f"use MulticlassFocalLoss (or loss=None for softmax cross-entropy)"
            )
        n_loss = getattr(loss, "n_classes", None)
        if loss.task == "multiclass" and n_loss is not None and n_loss != k:
            raise ValueError(
                f"{loss!r} was built for {n_loss} classes (alpha has length {n_loss}) but y has {k} classes "
                f"{self.classes_.tolist()!r}; give one alpha per class, in the order of classes_"
            )
        return loss

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw scores including the start ``init_score_``: (n,) logits, or (n, K) for a multiclass loss."""
        return self._raw_predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities from the loss's link, shape (n, n_classes_), rows summing to 1."""
        check_is_fitted(self, "booster_")
        raw = self.decision_function(X)
        p = np.asarray(self.loss_.inverse_link(raw), dtype=np.float64)
        if p.ndim == 1:
            return np.column_stack([1.0 - p, p])
        return p

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class, in the label type of ``y`` (``classes_``)."""
        raw = self.decision_function(X)
        # argmax of the raw scores is the argmax of the probabilities (monotone link)
        codes = (raw > 0).astype(np.intp) if raw.ndim == 1 else np.argmax(raw, axis=1)
        return self.classes_[codes]


class BoostedRegressor(RegressorMixin, _BoostedBase):
    """Gradient-boosted regressor trained on a gbobjectives regression loss (XGBoost or LightGBM).

    Parameters are those of :class:`BoostedClassifier`, except ``loss``:

    loss : a regression gbobjectives loss, or None (default)
        None means ``HuberLoss(delta=1.345 * s)`` with ``s`` the robust scale of y
        (1.4826 x the weighted median absolute deviation; the weighted standard deviation if
        that is 0, and 1 if y is constant). 1.345 is Huber's classic tuning constant (95 %
        efficiency under Gaussian noise): the fit is least squares for ordinary residuals
        and resists gross outliers in y, whatever the units of y. (A fixed ``HuberLoss()``
        with delta 1 would be least absolute deviation for targets in the thousands and crawl.)
        The fitted loss, with its delta, is ``loss_``.
    refit_leaves : bool or None, default None
        After each tree is grown, re-set every leaf to ``learning_rate`` times the loss's best
        constant for the residuals in it (:mod:`gbobjectives.refit`), as the engines' built-in
        quantile objectives do: an exact weighted quantile for ``QuantileLoss``, the Huber
        M-estimate for ``HuberLoss``. None means on for losses that declare such a rule
        (``QuantileLoss``, ``HuberLoss``, so the default loss too) and off for the others; True
        with a loss without one raises at fit. False gives plain gradient/Hessian leaves.

    Attributes: ``n_features_in_``, ``feature_names_in_``, ``loss_``, ``booster_`` (the engine's
    own Booster, start included: see :class:`BoostedClassifier`), ``feature_importances_``,
    ``init_score_``, ``best_iteration_``, ``n_estimators_``, ``evals_result_``. pandas
    ``category`` columns are used natively, as in :class:`BoostedClassifier`.

    Example
    -------
    >>> import numpy as np
    >>> from gbobjectives import BoostedRegressor, QuantileLoss
    >>> X = np.random.default_rng(0).normal(size=(300, 3)); y = 100 * X[:, 0] + 5
    >>> reg = BoostedRegressor(n_estimators=50, n_jobs=1).fit(X, y)
    >>> float(reg.score(X, y)) > 0.9
    True
    >>> q90 = BoostedRegressor(loss=QuantileLoss(quantile=0.9), n_estimators=5, n_jobs=1).fit(X, y)
    """

    _tasks = ("regression",)

    # scikit-learn reads the parameters from this signature (get_params, clone, set_params)
    def __init__(
        self,
        loss: Loss | None = None,
        engine: str = "xgboost",
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        max_depth: int | None = None,
        num_leaves: int | None = None,
        subsample: float | None = None,
        colsample_bytree: float | None = None,
        min_child_weight: float | None = None,
        min_child_samples: int | None = None,
        reg_lambda: float | None = None,
        reg_alpha: float | None = None,
        early_stopping_rounds: int | None = None,
        validation_fraction: float | None = 0.1,
        n_jobs: int | None = None,
        random_state: int | np.random.RandomState | None = None,
        engine_params: dict[str, Any] | None = None,
        refit_leaves: bool | None = None,
    ) -> None:
        super().__init__(
            loss=loss,
            engine=engine,
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            max_depth=max_depth,
            num_leaves=num_leaves,
            subsample=subsample,
            colsample_bytree=colsample_bytree,
            min_child_weight=min_child_weight,
            min_child_samples=min_child_samples,
            reg_lambda=reg_lambda,
            reg_alpha=reg_alpha,
            early_stopping_rounds=early_stopping_rounds,
            validation_fraction=validation_fraction,
            n_jobs=n_jobs,
            random_state=random_state,
            engine_params=engine_params,
        )
        self.refit_leaves = refit_leaves

    def _check_params(self) -> None:
        super()._check_params()
        if self.refit_leaves is not None and not isinstance(self.refit_leaves, (bool, np.bool_)):
            raise ValueError(f"refit_leaves must be True, False or None, got {self.refit_leaves!r}")

    def _check_loss_task(self, loss: Loss) -> None:
        super()._check_loss_task(loss)
        # fail before any tree is built, with the estimator's parameter name
        if self.refit_leaves and not supports_refit(loss):
            raise ValueError(
                f"refit_leaves=True needs a loss with a leaf rule (QuantileLoss, HuberLoss); {loss!r} "
                "has none: use refit_leaves=None or False"
            )

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        eval_set: Any = None,
        eval_sample_weight: Sequence[Any] | None = None,
    ) -> BoostedRegressor:
        """Fit on ``X`` (array, DataFrame - ``category`` columns native - or CSR; NaN = missing) and finite real ``y``.

        ``eval_set`` is ``(X_val, y_val)`` or a list of such pairs (see :class:`BoostedClassifier`).
        """
        _check_regression_targets(y)
        return self._fit(X, y, sample_weight, eval_set, eval_sample_weight)

    def _encode_y(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=np.float64)

    def _encode_y_eval(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(np.ravel(y), dtype=np.float64)

    def _resolve_loss(self, y: np.ndarray, w: np.ndarray | None) -> Loss:
        if self.loss is not None:
            loss = type(self.loss)(**self.loss.get_params())
            self._check_loss_task(loss)
            return loss
        ww = np.ones(y.shape[0]) if w is None else w
        if not np.sum(ww) > 0:
            return HuberLoss()  # init_score will report the zero weights
        # the package's one robust scale, with the lower weighted median as always here
        return HuberLoss(delta=1.345 * robust_scale(y, ww, tie_break="lower"))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R^2 of ``predict(X)`` (scikit-learn's regressor score); for a loss with several
        outputs (:class:`~gbobjectives.MultiQuantileLoss`) minus the weighted mean summed pinball
        loss of the predicted quantiles - higher is better, as model selection expects."""
        check_is_fitted(self, "booster_")
        if getattr(self.loss_, "n_outputs", 1) > 1:
            return -float(np.sum(self.loss_.pinball_per_quantile(y, self._raw_predict(X), sample_weight)))
        return float(super().score(X, y, sample_weight))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values: the loss's inverse link of the raw score, shape (n,) - the raw
        score itself - or (n, K) for a K-output loss: ``MultiQuantileLoss`` gives its K
        quantiles, never crossing."""
        check_is_fitted(self, "booster_")
        # regression losses have the identity link, so this is the raw score including init_score_
        # (a regressor has no decision_function in scikit-learn's conventions)
        return np.asarray(self.loss_.inverse_link(self._raw_predict(X)), dtype=np.float64)


def _check_regression_targets(y: Any) -> None:
    """``y`` of a regressor must convert to real numbers: say so, naming ``y`` (scikit-learn's
    own check only says "could not convert string to float: 'a'")."""
    if y is None:
        return  # scikit-learn's own message ("requires y to be passed, but the target y is None")
    arr = np.asarray(y)
    if arr.dtype.kind not in "OUS":  # numbers (complex ones included) are scikit-learn's to check
        return
    try:
        arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"y must hold real-valued regression targets for BoostedRegressor ({exc}); for class labels "
            f"use BoostedClassifier"
        ) from None
