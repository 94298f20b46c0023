"""The base class every loss derives from; it states the conventions once.

Conventions
-----------
* ``y_true``: shape (n,). Binary losses take labels in [0, 1] (soft labels allowed),
  multiclass losses integer class indices in [0, K), regression losses any finite real.
* ``raw_prediction``: the raw score ``z`` (margin), shape (n,) or (n, K) for multiclass.
  float16/float32/float64 are accepted; computations run in float64.
* ``sample_weight``: None or shape (n,), finite and non-negative. It multiplies the
  per-sample loss, the gradient and the Hessian.
* ``prediction = link.inverse(raw_prediction)``: probabilities for classification,
  the raw score itself for regression.
* ``hessian``: ``"exact"`` is the true second derivative (it may be negative or zero);
  every loss also has a documented training-safe default that is finite and > 0.

A subclass implements only the mathematics: ``_loss``, ``_gradient_hessian`` and
``_init_score`` on validated float64 arrays, plus ``_validate_params``. Validation,
sample weights, parameters, equality, pickling and the engine adapters come from here,
so a new loss gets XGBoost, LightGBM, scikit-learn and the derivative audit for free.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np

from gbobjectives._engine_hooks import ObjectiveAdapters
from gbobjectives._validation import (
    check_binary_labels,
    check_float_array,
    check_multiclass_labels,
    check_sample_weight,
    infer_n_classes,
)
from gbobjectives.links import IdentityLink, LogitLink, SoftmaxLink
from gbobjectives.losses import registry

__all__ = ["Loss", "BinaryLoss", "MulticlassLoss", "RegressionLoss", "format_param"]


def format_param(value: Any, array_format: str = "g") -> str:
    """Compact text of a parameter value for names: ``2.0`` -> ``2``, ``[1, 2]`` -> ``[1,2]``."""
    if value is not None and np.ndim(value) > 0:
        return "[" + ",".join(format(float(x), array_format) for x in np.ravel(value)) + "]"
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return f"{float(value):g}"
    return str(value)


class Loss(ObjectiveAdapters):
    """Base class of all gbobjectives losses (see the module docstring for conventions).

    The engine adapters (``loss.xgboost_objective``, ``loss.lightgbm_metric``, ...) come from
    :class:`~gbobjectives._engine_hooks.ObjectiveAdapters`: bound methods that call the adapter
    the engine module registered, so this module imports no engine.
    """

    #: "binary", "multiclass" or "regression"
    task: ClassVar[str] = ""
    #: short name used in metric names, e.g. "focal"; setting it registers the class
    #: (:mod:`gbobjectives.losses.registry`), so the CLI, compare, save/load... know it by name
    short_name: ClassVar[str] = ""
    #: more names the class answers to (its class name, with and without "Loss", always does)
    aliases: ClassVar[tuple[str, ...]] = ()
    #: the name shared with a twin of another task (default: ``short_name``); "focal" names
    #: FocalLoss on a binary task and MulticlassFocalLoss on a multiclass one
    family: ClassVar[str] = ""
    #: named presets on this task: ``{"logloss": {"gamma": 0.0}}``
    variants: ClassVar[dict[str, dict[str, Any]]] = {}
    #: allowed values of the ``hessian`` parameter (losses without one use ("exact",))
    hessian_options: ClassVar[tuple[str, ...]] = ("exact",)
    #: how ``init_score`` finds the best constant: "class_sums" (classification default),
    #: "gradient_root" (regression default) or "weighted_quantile" (at :attr:`quantile_level`);
    #: Dask computes the start score distributed by the same method
    init_score_method: ClassVar[str] = ""
    #: the engines' built-in counterparts, ``{engine: {param: value or registry.Param(name)}}``
    builtin_objectives: ClassVar[dict[str, dict[str, Any]]] = {}
    #: label of that counterpart in ``compare``, formatted with the loss's parameters
    builtin_label: ClassVar[str] = ""
    #: parameter settings the audit and the test suite try (each in every Hessian mode)
    example_params: ClassVar[tuple[dict[str, Any], ...]] = ()
    #: ``compare``: values trained when the user names none, e.g. ``{"quantile": (0.5, 0.9)}``
    sweep: ClassVar[dict[str, tuple[Any, ...]]] = {}
    #: ``compare``: length-scale parameters set to the target's robust scale unless given
    scale_params: ClassVar[tuple[str, ...]] = ()
    link: ClassVar[Any] = IdentityLink()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        registry.register(cls)

    # ------------------------------------------------------------------ parameters
    @classmethod
    def _param_names(cls) -> list[str]:
        # read once per class: inspect.signature costs ~40 us, and equality/hashing (the engine
        # adapters' per-round cache lookups) go through get_params
        names = cls.__dict__.get("_param_names_cache")
        if names is None:
            sig = inspect.signature(cls.__init__)
            names = tuple(p.name for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD)
            cls._param_names_cache = names
        return list(names)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters, as scikit-learn's ``get_params`` (``deep`` is accepted for API parity)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Loss:
        """Set parameters and re-validate them; on invalid input the loss is left unchanged.

        This is what lets ``GridSearchCV(..., {"clf__loss__gamma": [0, 1, 2]})`` work.
        """
        valid = self._param_names()
        for key in params:
            if key not in valid:
                raise ValueError(f"Invalid parameter {key!r} for {type(self).__name__}; valid parameters are {valid}")
        old = dict(self.__dict__)
        try:
            for key, value in params.items():
                setattr(self, key, value)
            self._validate_params()
        except Exception:
            self.__dict__.clear()
            self.__dict__.update(old)
            raise
        return self

    def with_params(self, **params: Any) -> Loss:
        """A new loss of the same class with some parameters replaced."""
        return type(self)(**{**self.get_params(), **params})

    def _validate_params(self) -> None:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def _key(self) -> tuple:
        """Hashable normalised parameters used for equality and hashing."""
        items = []
        for name, value in self.get_params().items():
            if value is not None and np.ndim(value) > 0:
                value = tuple(float(v) for v in np.ravel(value))
            elif isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                value = float(value)
            items.append((name, value))
        return (type(self).__name__, tuple(items))

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def __setattr__(self, key: str, value: Any) -> None:
        # a public attribute is a parameter: the cached name (below) no longer holds
        if not key.startswith("_"):
            self.__dict__.pop("_name_cache", None)
        object.__setattr__(self, key, value)

    @property
    def name(self) -> str:
        """Short name with parameters, used for metric names, e.g. ``focal(gamma=2,alpha=0.25)``.

        Kept once computed (the metric adapters report it every round), until a parameter is set."""
        cached = self.__dict__.get("_name_cache")
        if cached is None:
            cached = self.__dict__["_name_cache"] = self._format_name()
        return cached

    def _format_name(self) -> str:
        parts = []
        for k, v in self.get_params().items():
            if k == "hessian" or v is None:
                continue
            parts.append(f"{k}={format_param(v)}")
        return f"{self.short_name}({','.join(parts)})" if parts else self.short_name

    @property
    def hessian_uses_all_rows(self) -> bool:
        """True when each row's Hessian depends on statistics of all the rows passed together
        (:meth:`_round_statistics`, e.g. the residual scale of ``QuantileLoss(hessian="mm")``):
        then sample weights enter through those statistics too, as duplicated rows would."""
        return False

    @property
    def quantile_level(self) -> float | None:
        """The quantile the loss estimates (its ``init_score`` is that weighted quantile), or None."""
        return None

    def _quantile_weights(self, y: np.ndarray, w: np.ndarray | None) -> np.ndarray | None:
        """The row weights under which ``init_score`` is the weighted :attr:`quantile_level`-quantile
        of the labels (``init_score_method = "weighted_quantile"``): the sample weights, unless the
        loss weights its rows by their labels (``RelativeErrorLoss``: ``w/|y|``). A loss that
        overrides this gets those weights computed on the workers by ``gbobjectives.dask``."""
        return w

    @property
    def hessian_is_exact(self) -> bool:
        """True when ``gradient_hessian`` returns the true second derivative."""
        return getattr(self, "hessian", "exact") == "exact"

    # ------------------------------------------------------------------ checking inputs
    def _check_raw(self, raw_prediction: Any) -> np.ndarray:
        z = check_float_array("raw_prediction", raw_prediction, ndim=(1, 2))
        if z.ndim == 2:
            if z.shape[1] != 1:
                raise ValueError(
                    f"raw_prediction must be 1-D for {type(self).__name__} (a {self.task} loss), got shape {z.shape}"
                )
            z = z[:, 0]
        return z

    def _check_labels(self, y_true: Any, raw: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _check_inputs(
        self, y_true: Any, raw_prediction: Any, sample_weight: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        z = self._check_raw(raw_prediction)
        y = self._check_labels(y_true, z)
        w = check_sample_weight(sample_weight, z.shape[0])
        return y, z, w

    def check_y(self, y_true: Any, n_classes: int | None = None) -> np.ndarray:
        """Validate labels alone (no raw scores), e.g. once per data set in an engine adapter."""
        y = np.asarray(y_true)
        n = y.shape[0] if y.ndim else 1
        k = n_classes if n_classes is not None else getattr(self, "n_classes", None) or 1
        # a read-only zero-stride stand-in for the raw scores: the checks read only its shape,
        # and an (n, K) table of real zeros would be 74.5 GiB for K = 1e7 and n = 1,000
        dummy = np.broadcast_to(np.float64(0.0), (n, k) if self.task == "multiclass" else (n,))
        return self._check_labels(y_true, dummy)

    # ------------------------------------------------------------------ public math
    def loss(self, y_true: Any, raw_prediction: Any, sample_weight: Any = None) -> np.ndarray:
        """Per-sample (weighted) loss, shape (n,)."""
        y, z, w = self._check_inputs(y_true, raw_prediction, sample_weight)
        out = self._loss(y, z)
        return out if w is None else out * w

    def gradient_hessian(
        self,
        y_true: Any,
        raw_prediction: Any,
        sample_weight: Any = None,
        gradient_out: np.ndarray | None = None,
        hessian_out: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian (diagonal for multiclass) w.r.t. the raw score, same shape as it.

        The gradient is exact (a subgradient at kinks); the Hessian is exact when
        ``hessian="exact"`` and the loss's documented training-safe choice otherwise.

        ``gradient_out`` / ``hessian_out`` (as in scikit-learn's loss module): C-contiguous
        writeable float64 arrays of the raw score's shape, sharing no memory with the inputs or
        each other, to store the results in (they are returned); else fresh arrays. A caller in
        a loop saves the cost of new memory: at 1M rows the page faults of two fresh 8 MB
        arrays take longer than the compiled kernel itself (``benchmarks/public_path.py``).

        >>> import numpy as np
        >>> from gbobjectives import WeightedLogLoss
        >>> g, h = np.empty(2), np.empty(2)
        >>> out = WeightedLogLoss().gradient_hessian(np.array([0.0, 1.0]), np.zeros(2), gradient_out=g, hessian_out=h)
        >>> out[0] is g, g.tolist(), h.tolist()
        (True, [0.5, -0.5], [0.25, 0.25])
        """
        out = None
        if gradient_out is not None or hessian_out is not None:
            out = _checked_outputs(gradient_out, hessian_out, raw_prediction, (y_true, sample_weight))
        if _unchecked_path_applies(type(self)):
            found = self._kernel_unchecked(y_true, raw_prediction, sample_weight, out)
            if found is not None:
                return found
        y, z, w = self._check_inputs(y_true, raw_prediction, sample_weight)
        grad, hess = self._gradient_hessian(y, z, w)
        if out is None:
            return grad, hess
        # (binary scores given as (n, 1) give (n,) results: the same values in the caller's shape)
        np.copyto(out[0], np.reshape(grad, out[0].shape))
        np.copyto(out[1], np.reshape(hess, out[1].shape))
        return out

    #: set to True in the body of a class whose ``_kernel_unchecked`` computes what its
    #: ``_gradient_hessian`` computes, checking through the compiled kernel (see
    #: :func:`_unchecked_path_applies`)
    _unchecked_path = False

    def _kernel_unchecked(
        self, y_true: Any, raw_prediction: Any, sample_weight: Any, out: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple | None:
        """The public gradient and Hessian straight from a compiled kernel for plain numpy
        inputs (written into ``out`` when given: checked float64 arrays of the scores' shape),
        or None (then the checks and ``_gradient_hessian`` run): none by default."""
        return None

    def init_score(self, y_true: Any, sample_weight: Any = None) -> float | np.ndarray:
        """The constant raw score minimising the weighted total loss (the best intercept)."""
        y = self.check_y(y_true)
        w = check_sample_weight(sample_weight, y.shape[0])
        if y.shape[0] == 0:
            raise ValueError("y_true is empty; init_score needs at least one sample")
        if w is None:
            w = np.ones(y.shape[0])
        if not np.any(w > 0):  # (not np.sum(w) > 0: the sum of weights near 1e308 overflows)
            raise ValueError("sample_weight sums to zero; init_score is undefined")
        return self._init_score(y, w)

    def inverse_link(self, raw_prediction: Any) -> np.ndarray:
        """Predictions from raw scores: probabilities for classification, identity for regression."""
        return self.link.inverse(raw_prediction)

    # subclasses implement these on validated float64 arrays
    def _loss(self, y: np.ndarray, z: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _gradient_hessian(
        self, y: np.ndarray, z: np.ndarray, w: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def _init_score(self, y: np.ndarray, w: np.ndarray) -> float | np.ndarray:  # pragma: no cover
        raise NotImplementedError

    # ------------------------------------------------------------------ engine fast path
    # The engine adapters (engines/_common.py) call these instead of ``_gradient_hessian``:
    # ``_prepare_labels`` once per data set (its result is cached with the validated labels),
    # ``_gradient_hessian_fast`` every round on the engine's raw scores in the engine's own
    # precision (float32 from XGBoost, float64 from LightGBM). A loss without a fast kernel
    # falls back to the public float64 mathematics, so the default is always correct.
    def _prepare_labels(self, y: np.ndarray, w: np.ndarray | None, dtype: np.dtype) -> dict:
        """Per-data-set precomputation for :meth:`_gradient_hessian_fast` (labels already valid)."""
        return {"y": y, "w": w}

    def _round_statistics(self, y: np.ndarray, z: np.ndarray, w: np.ndarray | None, reduce: Any = None) -> dict | None:
        """Statistics of ALL rows that the Hessian of every row depends on (e.g. the residual
        scale of :class:`~gbobjectives.QuantileLoss`'s MM curvature), or None (the default).

        The engine adapters call it once per round before the row blocks of
        :meth:`_gradient_hessian_fast` and add its entries (scalars) to ``prep``. ``reduce``,
        when given, sums an array of per-row sums across workers (``xgboost.dask``), so that
        every worker uses the same numbers; a loss must compute its statistics from sums.
        """
        return None

    def _engine_factor(self, stats: dict | None, hess: np.ndarray, w: np.ndarray | None, reduce: Any = None) -> float:
        """A positive power of two the engine adapters multiply this round's (gradient, Hessian)
        by after the row blocks (1.0 by default: the pair as it is).

        One factor for all rows leaves every Newton step -G/H unchanged; it only moves the
        Hessians into the units the engines' per-row safeguards (XGBoost's ``lambda`` and
        ``min_child_weight``) expect. A power of two multiplies exactly, so rounding is
        unchanged. ``stats`` is this round's :meth:`_round_statistics`, ``hess`` the weighted
        Hessians just computed (float32, all rows), ``reduce`` as there.
        """
        return 1.0

    def _gradient_hessian_fast(self, z: np.ndarray, prep: dict, ws: Any) -> tuple[np.ndarray, np.ndarray]:
        """Weighted gradient and Hessian for the engines; equals ``_gradient_hessian`` up to
        float32 rounding when ``z`` is float32. The results may live in the scratch
        :class:`~gbobjectives.losses._fast.Workspace` ``ws`` (see ``losses/_fast.py``)."""
        return self._gradient_hessian(prep["y"], np.asarray(z, dtype=np.float64), prep["w"])

    # ------------------------------------------------------------------ derivative-audit hints
    #: typical length scale of the raw score; the finite-difference step is eps**(1/5) times it
    def _length_scale(self) -> float:
        return 1.0

    def _kinks(self, y: np.ndarray) -> np.ndarray | None:
        """Raw scores where the loss is not twice differentiable, shape (n, m), or None."""
        return None


_CHECKED_METHODS = ("_gradient_hessian", "_check_inputs", "_check_raw", "_check_labels")
_UNCHECKED: dict[type, bool] = {}


def _unchecked_path_applies(cls: type) -> bool:
    """Whether the public ``gradient_hessian`` of ``cls`` may take its ``_kernel_unchecked``
    path: the class in its MRO that defines ``_gradient_hessian`` declares ``_unchecked_path``
    in its own body, and no subclass overrides the formulas or the checks after it (a user's
    subclass that changes them must see them used). Cached per class."""
    ok = _UNCHECKED.get(cls)
    if ok is None:
        owner = next((c for c in cls.__mro__ if "_gradient_hessian" in c.__dict__), None)
        ok = (
            owner is not None
            and owner.__dict__.get("_unchecked_path", False)
            and all(getattr(cls, n) is getattr(owner, n) for n in _CHECKED_METHODS)
        )
        _UNCHECKED[cls] = bool(ok)
    return _UNCHECKED[cls]


def _checked_outputs(
    gradient_out: Any, hessian_out: Any, raw_prediction: Any, inputs: tuple
) -> tuple[np.ndarray, np.ndarray]:
    """``(gradient_out, hessian_out)`` of :meth:`Loss.gradient_hessian` after checking each
    given one (a fresh array for one not given); a clear error names the argument otherwise."""
    shape = np.shape(raw_prediction)
    outs = []
    for name, a in (("gradient_out", gradient_out), ("hessian_out", hessian_out)):
        if a is None:
            outs.append(np.empty(shape))
            continue
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name} must be a numpy array or None, got {type(a).__name__}")
        if a.dtype != np.float64 or a.shape != shape or not a.flags.c_contiguous or not a.flags.writeable:
            raise ValueError(
                f"{name} must be a writeable C-contiguous float64 array of the raw scores' shape {shape}; "
                f"got dtype {a.dtype}, shape {a.shape}, C-contiguous {a.flags.c_contiguous}, "
                f"writeable {a.flags.writeable}"
            )
        for other in (raw_prediction, *inputs, *outs):
            # (the kernels read each input row once, but the numpy formulas read inputs after
            # writing temporaries: an output overlapping an input would change the results)
            if isinstance(other, np.ndarray) and np.may_share_memory(a, other):
                raise ValueError(f"{name} must not share memory with the inputs or the other output")
        outs.append(a)
    return outs[0], outs[1]


def plain_weights(sample_weight: Any, n: int) -> tuple[bool, np.ndarray | None]:
    """For an unchecked kernel path: ``(True, weights as contiguous float64 or None)`` when
    ``sample_weight`` is None or a plain (n,) numpy array of finite non-negative numbers, else
    ``(False, None)`` (the full checks then run and name what is wrong)."""
    if sample_weight is None:
        return True, None
    w = sample_weight
    if not (isinstance(w, np.ndarray) and w.shape == (n,) and w.dtype.kind in "biuf"):
        return False, None
    w = np.ascontiguousarray(w, dtype=np.float64)
    if n and not (w.min() >= 0 and w.max() < np.inf):  # negative, NaN or inf
        return False, None
    return True, w


class BinaryLoss(Loss):
    """A loss on a logit ``z`` with labels in [0, 1]; ``inverse_link`` is the sigmoid."""

    task = "binary"
    link = LogitLink()

    def _check_labels(self, y_true: Any, raw: np.ndarray) -> np.ndarray:
        return check_binary_labels(y_true, raw.shape[0])


class MulticlassLoss(Loss):
    """A loss on (n, K) logits with integer labels in [0, K); ``inverse_link`` is the softmax."""

    task = "multiclass"
    link = SoftmaxLink()
    #: K when the loss fixes it (e.g. through a length-K ``alpha``), else None
    n_classes: int | None = None

    def _check_raw(self, raw_prediction: Any) -> np.ndarray:
        z = check_float_array("raw_prediction", raw_prediction, ndim=(1, 2))
        if z.ndim != 2:
            raise ValueError(
                f"raw_prediction must be 2-D (n, K) for {type(self).__name__}, a multiclass loss; "
                f"got a 1-D array of shape {z.shape}"
            )
        if z.shape[1] < 2:
            raise ValueError(f"raw_prediction must have K >= 2 columns, got shape {z.shape}")
        if self.n_classes is not None and z.shape[1] != self.n_classes:
            raise ValueError(
                f"{type(self).__name__} was built for {self.n_classes} classes (alpha has length "
                f"{self.n_classes}) but raw_prediction has {z.shape[1]} columns"
            )
        return z

    def _check_labels(self, y_true: Any, raw: np.ndarray) -> np.ndarray:
        return check_multiclass_labels(y_true, raw.shape[0], raw.shape[1])

    def check_y(self, y_true: Any, n_classes: int | None = None) -> np.ndarray:
        y = np.asarray(y_true)
        if n_classes is None:
            n_classes = self.n_classes
        if n_classes is None:
            # K is not fixed: infer it from the labels (integers, and not absurdly large)
            n_classes = infer_n_classes(check_float_array("y_true", y_true))
        return super().check_y(y, n_classes)

    def init_score(self, y_true: Any, sample_weight: Any = None) -> float | np.ndarray:
        """The constant raw scores (K,) minimising the weighted total loss.

        With K not fixed by the loss it is the largest label + 1, which must not exceed the
        number of rows (every class needs a sample): a stray label such as 1e7 among 1,000 rows
        raises a ``ValueError`` naming ``y_true`` instead of allocating K-sized tables.
        """
        if self.n_classes is None:
            y = check_float_array("y_true", y_true)
            infer_n_classes(y, n_rows=int(y.shape[0]) if y.ndim else 1)
        return super().init_score(y_true, sample_weight)


class RegressionLoss(Loss):
    """A loss on the residual ``r = z - y`` with the identity link."""

    task = "regression"
    link = IdentityLink()

    def _check_labels(self, y_true: Any, raw: np.ndarray) -> np.ndarray:
        y = check_float_array("y_true", y_true, ndim=(1, 2))
        if y.ndim == 2:
            if y.shape[1] != 1:
                raise ValueError(f"y_true must be 1-D, got shape {y.shape}")
            y = y[:, 0]
        if y.shape[0] != raw.shape[0]:
            raise ValueError(f"y_true has {y.shape[0]} rows but raw_prediction has {raw.shape[0]}")
        return y
