"""One registry of loss classes, filled when each class is defined.

Every subclass of :class:`~gbobjectives.losses.base.Loss` that sets a ``short_name`` is
registered by ``Loss.__init_subclass__`` - the shipped losses and a user's own loss in the
user's own module alike. What the rest of the package needs to know about a loss is declared
on the class and read from here:

* its names: ``short_name``, ``aliases``, the class name (with and without ``Loss``), and the
  ``family`` it shares with its twin of another task (``MulticlassFocalLoss`` is the multiclass
  member of the ``"focal"`` family), plus named ``variants`` (``"logloss"`` is
  ``MulticlassFocalLoss(gamma=0)`` on a multiclass task);
* its ``task``, its ``hessian_options`` and its capabilities: ``init_score_method`` (how the
  best constant is found; Dask computes it distributed in the same way) and whether it has a
  leaf rule (``leaf_value``, used by the leaf refit);
* its built-in counterparts per engine (``builtin_objectives``, used by ``compare``);
* settings for the audit and the tests (``example_params``) and for ``compare``
  (``sweep``: values trained when the user names none; ``scale_params``: parameters set to the
  target's robust scale unless given).

The CLI, ``compare``, ``check``, ``plot``, save/load and Dask read this registry; none keeps its
own list of loss names. A subclass that inherits its ``short_name`` (e.g. a test's deliberately
broken ``FocalLoss``) is registered under its own key for save/load but claims no name.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: base.py imports this module
    from gbobjectives.losses.base import Loss

__all__ = [
    "LossSpec",
    "Param",
    "register",
    "spec_of",
    "find_loss_class",
    "loss_families",
    "family_classes",
    "registered_classes",
    "class_from_key",
    "key_of",
    "shipped_losses",
    "example_losses",
    "normalise_name",
]

#: how a loss's best constant (``init_score``) is found; Dask mirrors each method distributed
INIT_SCORE_METHODS = (
    "class_sums",  # classification: the optimum depends on the labels only through weighted class sums
    "gradient_root",  # regression: the root of sum w g(c - y), an increasing function of c
    # an order statistic of the labels at ``loss.quantile_level`` under ``loss._quantile_weights``
    "weighted_quantile",
)


@dataclass(frozen=True)
class Param:
    """In a ``builtin_objectives`` declaration: the value of the loss's parameter ``name``."""

    name: str


@dataclass(frozen=True)
class Template:
    """In a ``builtin_objectives`` declaration: a string filled with the loss's parameters, e.g.
    ``Template("Quantile:alpha={quantile:g}")`` for CatBoost's parameters-in-the-name objectives."""

    text: str


@dataclass(frozen=True)
class LossSpec:
    """What the registry knows about one loss class (read from the class's declarations)."""

    cls: type
    #: registry key: the class name for a shipped loss, ``module.QualName`` for any other
    key: str
    short_name: str
    task: str
    family: str
    #: every name the class answers to, normalised (empty for a subclass inheriting its names)
    names: frozenset[str]
    #: named presets: name -> constructor parameters (e.g. "logloss" -> {"gamma": 0.0})
    variants: Mapping[str, Mapping[str, Any]]
    hessian_options: tuple[str, ...]
    init_score_method: str
    has_leaf_rule: bool
    shipped: bool

    def builtin_objective(self, loss: Loss, engine: str) -> dict[str, Any] | None:
        """The engine's built-in objective matching ``loss`` (its parameters filled in), or None."""
        declared = getattr(self.cls, "builtin_objectives", {}).get(engine)
        if declared is None:
            return None
        params = loss.get_params()

        def fill(v: Any) -> Any:
            if isinstance(v, Param):
                value = params[v.name]
                if isinstance(value, numbers.Real):
                    return float(value)
                return [float(x) for x in value]  # a sequence (MultiQuantileLoss's quantiles)
            # numbers as Python floats: "{quantile!r}" then reads 0.9, also for a numpy scalar
            numeric = {
                k: float(x) if isinstance(x, numbers.Real) and not isinstance(x, bool) else x for k, x in params.items()
            }
            return v.text.format(**numeric) if isinstance(v, Template) else v

        return {k: fill(v) for k, v in declared.items()}

    def builtin_label(self, loss: Loss) -> str | None:
        """The compare label of the built-in counterpart, e.g. ``huber(delta=1.5)``, or None."""
        template = getattr(self.cls, "builtin_label", "")
        return template.format(**loss.get_params()) if template else None


_SPECS: dict[str, LossSpec] = {}


def normalise_name(name: str) -> str:
    """Lower case without ``_``, ``-`` and spaces: ``"Log-Cosh"`` -> ``"logcosh"``."""
    return name.lower().replace("_", "").replace("-", "").replace(" ", "")


def key_of(cls: type) -> str:
    """The registry key of ``cls``: its name when shipped, else ``module.QualName``."""
    if cls.__module__.startswith("gbobjectives."):
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"


def register(cls: type[Loss]) -> None:
    """Record ``cls`` (called by ``Loss.__init_subclass__``); a class without ``short_name`` is a base."""
    if not getattr(cls, "short_name", ""):
        return
    own = "short_name" in cls.__dict__
    key = key_of(cls)
    names: set[str] = set()
    variants: dict[str, dict[str, Any]] = {}
    family = normalise_name(getattr(cls, "family", "") or cls.short_name)
    if own:
        names = {normalise_name(n) for n in (cls.short_name, cls.__name__, *getattr(cls, "aliases", ()))}
        names.add(normalise_name(cls.__name__).removesuffix("loss") or normalise_name(cls.__name__))
        names.add(family)
        variants = {normalise_name(k): dict(v) for k, v in getattr(cls, "variants", {}).items()}
    method = getattr(cls, "init_score_method", "") or ("gradient_root" if cls.task == "regression" else "class_sums")
    if method not in INIT_SCORE_METHODS:
        raise ValueError(f"{cls.__name__}.init_score_method must be one of {INIT_SCORE_METHODS}, got {method!r}")
    spec = LossSpec(
        cls=cls,
        key=key,
        short_name=cls.short_name,
        task=cls.task,
        family=family,
        names=frozenset(names),
        variants=variants,
        hessian_options=tuple(cls.hessian_options),
        init_score_method=method,
        has_leaf_rule=callable(getattr(cls, "leaf_value", None)),
        shipped=cls.__module__.startswith("gbobjectives."),
    )
    for other in _SPECS.values():  # a name may mean one class per task
        if other.key != key and other.task == spec.task and (clash := spec.names & other.names):
            raise ValueError(
                f"{cls.__name__}: the name(s) {sorted(clash)} already belong to {other.key} ({other.task}); "
                f"choose another short_name / aliases"
            )
    _SPECS[key] = spec


def spec_of(loss_or_class: Any) -> LossSpec:
    """The :class:`LossSpec` of a loss or loss class (registered when its class was defined)."""
    cls = loss_or_class if isinstance(loss_or_class, type) else type(loss_or_class)
    spec = _SPECS.get(key_of(cls))
    if spec is None or spec.cls is not cls:
        raise KeyError(f"{cls.__name__} is not a registered loss (it needs a short_name)")
    return spec


def registered_classes(shipped: bool | None = None, named: bool = False) -> list[type[Loss]]:
    """Every registered class in definition order (``shipped=True``: the package's own only;
    ``named=True``: only classes that set their own ``short_name``, not their subclasses)."""
    return [s.cls for s in _SPECS.values() if (shipped is None or s.shipped == shipped) and (s.names or not named)]


def class_from_key(key: str) -> type[Loss] | None:
    """The class registered under ``key`` (see :func:`key_of`), or None. Imports nothing."""
    spec = _SPECS.get(key)
    return None if spec is None else spec.cls


def _named(name: str) -> list[LossSpec]:
    wanted = normalise_name(name)
    return [s for s in _SPECS.values() if wanted in s.names or wanted in s.variants]


def find_loss_class(name: str, task: str | None = None) -> type[Loss]:
    """The loss class called ``name`` (class name, short name or alias, case-insensitive).

    With ``task``, the family member for that task (``"focal"`` on ``"multiclass"`` is
    :class:`~gbobjectives.MulticlassFocalLoss`). Without it, the class whose own short name or
    class name it is is preferred. Raises ``ValueError`` listing the known names otherwise.
    """
    return _resolve(name, task)[0].cls


def _families(wanted: str, hits: list[LossSpec]) -> set[str]:
    # a name of a class stands for the class's family; a variant's name is a family of its own
    return {wanted if wanted in s.variants else s.family for s in hits}


def _resolve(name: str, task: str | None) -> tuple[LossSpec, dict[str, Any]]:
    wanted = normalise_name(name)
    hits = _named(name)
    if hits and task is None:
        own = [s for s in hits if wanted in (normalise_name(s.short_name), normalise_name(s.cls.__name__))]
        spec = (own or hits)[0]
        return spec, dict(spec.variants.get(wanted, {}))
    families = _families(wanted, hits)
    for s in _SPECS.values():
        if s.task != task or not s.names:
            continue
        for fam in families:
            if fam in s.variants:
                return s, dict(s.variants[fam])
            if fam == s.family:
                return s, {}
    known = ", ".join(sorted({s.short_name for s in _SPECS.values() if s.names}))
    where = f" for a {task} task" if task else ""
    raise ValueError(f"unknown loss {name!r}{where}; available: {known}")


def resolve(name: str, task: str) -> tuple[type[Loss], dict[str, Any]]:
    """The class ``name`` means on ``task`` and the preset parameters of a variant (else ``{}``)."""
    spec, preset = _resolve(name, task)
    return spec.cls, preset


def loss_families() -> dict[str, set[str]]:
    """Family name -> the tasks it has a member for (``{"focal": {"binary", "multiclass"}, ...}``)."""
    out: dict[str, set[str]] = {}
    for s in _SPECS.values():
        if s.names:
            out.setdefault(s.family, set()).add(s.task)
            for v in s.variants:
                out.setdefault(v, set()).add(s.task)
    return out


def family_of(name: str) -> str:
    """The family a name belongs to (``"mfocal"`` -> ``"focal"``); ``ValueError`` if unknown."""
    hits = _named(name)
    if not hits:
        _resolve(name, None)  # raises with the list of names
    return sorted(_families(normalise_name(name), hits))[0]


def family_classes(family: str) -> list[type[Loss]]:
    """The classes of a family, one per task."""
    return [s.cls for s in _SPECS.values() if s.names and s.family == family]


class _ShippedLosses(Mapping):
    """A live, read-only view ``class name -> class`` of the package's own losses."""

    def __getitem__(self, name: str) -> type[Loss]:
        spec = _SPECS.get(name)
        if spec is None or not spec.shipped:
            raise KeyError(name)
        return spec.cls

    def __iter__(self) -> Iterator[str]:
        return (s.key for s in _SPECS.values() if s.shipped)

    def __len__(self) -> int:
        return sum(s.shipped for s in _SPECS.values())

    def __repr__(self) -> str:
        return f"LOSSES({', '.join(self)})"


def shipped_losses() -> Mapping[str, type[Loss]]:
    """``class name -> class`` of every shipped loss, read from the registry."""
    return _ShippedLosses()


def example_losses(classes: list[type[Loss]] | None = None) -> list[Loss]:
    """A spread of parameter settings of each class (default: every shipped loss) in every
    Hessian mode: each class's ``example_params`` times its ``hessian_options``.

    Used by ``gbobjectives check`` and by the parametrised test suite, so a new loss declaring
    ``example_params`` is audited and tested everywhere.
    """
    out: list[Loss] = []
    for cls in registered_classes(shipped=True) if classes is None else classes:
        settings = list(getattr(cls, "example_params", ())) or [{}]
        has_hessian = "hessian" in cls._param_names()
        modes = cls.hessian_options if has_hessian else (None,)
        for mode, params in itertools.product(modes, settings):
            out.append(cls(**params, **({} if mode is None else {"hessian": mode})))
    return out
