"""Plots of a loss, its gradient and its Hessian against the raw score.

The point of these pictures is to *see* why a loss behaves as it does in boosting:
where the exact Hessian turns negative (focal loss) or vanishes (Huber, quantile), and
what the training-safe default Hessian does there instead.

matplotlib is an optional dependency (the ``plot`` extra); it is
imported only inside :func:`plot_loss`, so ``import gbobjectives`` never needs it.

The module also holds the small helpers the ``gbobjectives plot`` command uses to turn
``LOSS --name value ...`` into a loss object (:func:`find_loss_class`,
:func:`parse_loss_args`); other subcommands may reuse them.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gbobjectives._extras import pip_install_hint
from gbobjectives.losses import registry
from gbobjectives.losses.base import Loss

if TYPE_CHECKING:  # only for annotations: matplotlib stays an optional dependency
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_loss", "find_loss_class", "parse_loss_args"]

#: points on the horizontal axis; dense enough that kinks and sign changes look sharp
_N_POINTS = 1201
#: multiclass plots use this many classes unless the loss fixes K through ``alpha``
_DEFAULT_K = 3
#: colours of the negative / zero exact-Hessian regions
_NEG_COLOUR = "tab:red"
_ZERO_COLOUR = "0.6"


def _import_matplotlib() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib is installed in the test env
        raise ImportError(f"plot_loss needs matplotlib, an optional dependency: {pip_install_hint('plot')}") from exc
    return Figure


def _default_hessian(cls: type[Loss]) -> str:
    """The constructor default of ``hessian`` (``"exact"`` for losses without the option)."""
    param = inspect.signature(cls.__init__).parameters.get("hessian")
    if param is None or param.default is inspect.Parameter.empty:
        return "exact"
    return str(param.default)


def _comparison_hessian(loss: Loss) -> str | None:
    """The non-exact Hessian to draw next to the exact one, or None if there is none.

    That is the loss's own setting when it is not exact (what training uses); for a loss
    configured with ``hessian="exact"`` it is the class default, so the picture still shows
    what the safe choice would do.
    """
    own = getattr(loss, "hessian", "exact")
    if own != "exact":
        return str(own)
    default = _default_hessian(type(loss))
    return None if default == "exact" else default


def _default_range(loss: Loss) -> tuple[float, float]:
    if loss.task in ("binary", "multiclass"):
        return (-8.0, 8.0)
    # regression: the interesting region scales with delta (Huber, pseudo-Huber)
    delta = getattr(loss, "delta", None)
    half = 4.0 * float(delta) if delta is not None else 4.0
    return (-half, half)


def _labels(loss: Loss, y: Any) -> list[float]:
    if y is None:
        if loss.task == "binary":
            return [1.0, 0.0]  # both classes: the focal picture is about their asymmetry
        try:
            loss.check_y([0.0])
        except ValueError:  # y = 0 outside the loss's domain (RelativeErrorLoss: |y - z| / |y|)
            return [1.0]
        return [0.0]
    values = np.atleast_1d(np.asarray(y, dtype=np.float64))
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"y must be a label or a 1-D sequence of labels, got {y!r}")
    return [float(v) for v in values]


def _curves(
    loss: Loss, label: float, x: np.ndarray, mode: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Loss, gradient, exact Hessian and the ``mode`` Hessian along the horizontal axis ``x``."""
    n = x.shape[0]
    exact_loss = loss if loss.hessian_is_exact else loss.with_params(hessian="exact")
    other_loss = None if mode is None else loss.with_params(hessian=mode)
    if loss.task == "multiclass":
        k = getattr(loss, "n_classes", None) or _DEFAULT_K
        c = int(label)
        if c != label or not 0 <= c < k:
            raise ValueError(f"y must be a class index in [0, {k}) for this multiclass plot, got {label!r}")
        z = np.zeros((n, k))
        z[:, c] = x  # the true-class logit moves, the other logits stay at 0
        yv: np.ndarray = np.full(n, c)
        col: Any = (slice(None), c)  # plot the true-class component of grad/Hessian
    elif getattr(loss, "n_outputs", 1) > 1:
        # several quantiles (MultiQuantileLoss): every quantile at y + r; the gradient and the
        # Hessians summed over the K outputs (the derivatives along r)
        yv = np.full(n, label)
        K = int(loss.n_outputs)  # type: ignore[attr-defined]
        z = loss.raw_from_quantiles(np.repeat((x + label)[:, None], K, axis=1))  # type: ignore[attr-defined]
        value = loss.loss(yv, z)
        grad, h_exact = exact_loss.gradient_hessian(yv, z)
        h_other = None if other_loss is None else other_loss.gradient_hessian(yv, z)[1].sum(axis=1)
        return value, grad.sum(axis=1), h_exact.sum(axis=1), h_other
    else:
        yv = np.full(n, label)
        # regression losses are plotted against the residual r = z - y
        z = x + label if loss.task == "regression" else x
        col = slice(None)
    value = loss.loss(yv, z)
    grad, h_exact = exact_loss.gradient_hessian(yv, z)
    h_other = None if other_loss is None else other_loss.gradient_hessian(yv, z)[1][col]
    return value, grad[col], h_exact[col], h_other


def _runs(x: np.ndarray, mask: np.ndarray) -> list[tuple[float, float]]:
    """Intervals of ``x`` where ``mask`` holds, edges half-way between grid points."""
    if not mask.any():
        return []
    edges = np.concatenate(([x[0]], (x[1:] + x[:-1]) / 2, [x[-1]]))
    padded = np.concatenate(([False], mask, [False]))
    starts = np.flatnonzero(~padded[:-1] & padded[1:])
    stops = np.flatnonzero(padded[:-1] & ~padded[1:])
    return [(float(edges[a]), float(edges[b])) for a, b in zip(starts, stops)]


def _setup_text(loss: Loss, labels: list[float]) -> str:
    if loss.task == "binary":
        ys = " and ".join(f"y={v:g}" for v in labels)
        return f"binary: against the logit z, for labels {ys}"
    if loss.task == "multiclass":
        k = getattr(loss, "n_classes", None) or _DEFAULT_K
        cs = ", ".join(f"{int(v)}" for v in labels)
        return (
            f"multiclass, K={k}: the true-class logit z_c varies, the other logits are fixed at 0 "
            f"(true class c={cs}; gradient and Hessian of the z_c component)"
        )
    ys = ", ".join(f"{v:g}" for v in labels)
    k = getattr(loss, "n_outputs", 1)
    if k > 1:
        return (
            f"regression, {k} quantiles: all at y + r, against the residual r (y={ys}); loss, gradient "
            f"and Hessian summed over the quantiles"
        )
    return f"regression: against the residual r = z \u2212 y (y={ys})"


def plot_loss(
    loss: Loss,
    y: float | Sequence[float] | None = None,
    z_range: tuple[float, float] | None = None,
    *,
    ax: Sequence[Axes] | None = None,
) -> Figure:
    """Plot a loss, its gradient and its Hessian (exact and default) against the raw score.

    Three panels share the horizontal axis:

    1. the per-sample loss;
    2. the (exact) gradient with respect to the raw score;
    3. the exact Hessian (solid) and the loss's training Hessian (dashed): its own
       ``hessian`` setting, or the class default when the loss is set to ``"exact"``.
       When the default Hessian *is* the exact one a single curve is drawn and the
       panel title says so.

    Regions where the exact Hessian is negative (focal loss, badly misclassified rows)
    are shaded red, regions where it is exactly zero (Huber outside ``delta``, quantile)
    grey, in every panel; kinks of the loss are marked with dotted vertical lines.

    What the horizontal axis is depends on the task:

    * binary: the logit ``z``; by default one curve for ``y=1`` and one for ``y=0``;
    * multiclass: the true-class logit ``z_c`` with the other logits at 0, K=3 (or
      ``len(alpha)``); ``y`` is the true class (default 0); the gradient and Hessian
      panels show the ``z_c`` component;
    * regression: the residual ``r = z - y`` (``y`` defaults to 0; these losses depend on
      ``r`` only); with several quantiles (``MultiQuantileLoss``) all of them sit at ``y + r``
      and the panels show the sum over the quantiles.

    Parameters
    ----------
    loss : a gbobjectives loss, e.g. ``FocalLoss(gamma=2)``.
    y : a label or a sequence of labels, one set of curves each (see above).
    z_range : (low, high) of the horizontal axis. Default: (-8, 8) for classification,
        +-4*delta for Huber/pseudo-Huber, +-4 for other regression losses.
    ax : three matplotlib Axes to draw into (e.g. from ``plt.subplots(1, 3)``, which
        also makes ``plt.show()`` work). By default a new
        :class:`matplotlib.figure.Figure` is created without pyplot, so no display or
        GUI backend is needed and nothing is left in pyplot's figure list; save it with
        ``fig.savefig(...)`` (Agg renders PNGs) or let Jupyter display it.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ImportError
        If matplotlib is missing (the message says how to install the ``plot`` extra).

    Example
    -------
    >>> from gbobjectives import FocalLoss
    >>> from gbobjectives.plotting import plot_loss
    >>> fig = plot_loss(FocalLoss(gamma=2.0, alpha=0.25))
    >>> len(fig.axes)
    3
    >>> fig.savefig("focal.png")  # doctest: +SKIP
    """
    figure_cls = _import_matplotlib()
    if not isinstance(loss, Loss):
        raise TypeError(f"loss must be a gbobjectives loss, got {type(loss).__name__}")
    lo, hi = _default_range(loss) if z_range is None else (float(z_range[0]), float(z_range[1]))
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"z_range must be two finite numbers with low < high, got {z_range!r}")
    labels = _labels(loss, y)

    if ax is None:
        fig = figure_cls(figsize=(15, 4.9), layout="constrained")
        axes = list(fig.subplots(1, 3))
    else:
        axes = list(ax)
        if len(axes) != 3:
            raise ValueError(f"ax must be three Axes (loss, gradient, Hessian), got {len(axes)}")
        fig = axes[0].figure
    ax_loss, ax_grad, ax_hess = axes

    x = np.linspace(lo, hi, _N_POINTS)
    mode = _comparison_hessian(loss)
    mode_label = None
    if mode is not None:
        is_default = mode == _default_hessian(type(loss))
        unused = getattr(loss, "hessian", "exact") == "exact"
        mode_label = f"{mode!r}" + (" (default)" if is_default else "") + (", not used" if unused else "")
    multi = len(labels) > 1
    xname = {"binary": "logit z", "multiclass": "true-class logit z_c"}.get(loss.task, "residual r = z \u2212 y")
    label_name = "class" if loss.task == "multiclass" else "y"

    shaded: set[str] = set()  # one legend entry per kind of region
    regions: dict[tuple[str, float, float], list[tuple[str, str]]] = {}  # -> (label text, colour)
    for i, label in enumerate(labels):
        colour = f"C{i}"
        value, grad, h_exact, h_other = _curves(loss, label, x, mode)
        prefix = f"{label_name}={label:g}" if multi or loss.task == "binary" else ""
        # a single curve needs no legend entry in the loss and gradient panels; the gid
        # names every curve, so code (and the tests) can find the plotted data
        ax_loss.plot(x, value, color=colour, lw=2, label=prefix or None, zorder=3, gid=f"loss {label:g}")
        ax_grad.plot(x, grad, color=colour, lw=2, label=prefix or None, zorder=3, gid=f"gradient {label:g}")
        exact_label = "exact" if mode is not None else "exact (= default)"
        ax_hess.plot(
            x,
            h_exact,
            color=colour,
            lw=2,
            zorder=3,
            gid=f"hessian exact {label:g}",
            label=f"{prefix}: {exact_label}" if prefix else exact_label,
        )
        if h_other is not None:
            ax_hess.plot(
                x,
                h_other,
                color=colour,
                lw=2,
                ls="--",
                zorder=3,
                gid=f"hessian {mode} {label:g}",
                label=f"{prefix}: {mode_label}" if prefix else mode_label,
            )
        for kind, mask in (("< 0", h_exact < 0), ("= 0", h_exact == 0)):
            for a, b in _runs(x, mask):
                regions.setdefault((kind, a, b), []).append((f"{label:g}", colour))

    # shade where the exact Hessian is useless for Newton steps, in every panel; a region
    # shared by several labels (e.g. multiclass, where alpha does not move it) is drawn once
    for (kind, a, b), owners in regions.items():
        colour_region = _NEG_COLOUR if kind == "< 0" else _ZERO_COLOUR
        name = f"exact Hessian {kind}" + (" everywhere" if (a, b) == (lo, hi) else "")
        for k, axis in enumerate(axes):
            legend = name if k == 2 and name not in shaded else None
            if legend:
                shaded.add(name)
            axis.axvspan(a, b, color=colour_region, alpha=0.13, lw=0, label=legend, zorder=0)
        # with several labels the regions differ per label: say whose region it is
        if multi and b - a > 0.12 * (hi - lo):
            who = f"{label_name}=" + ", ".join(v for v, _ in owners)
            ax_hess.text(
                (a + b) / 2,
                0.4,
                f"{who}:\nexact {kind}",
                transform=ax_hess.get_xaxis_transform(),
                ha="center",
                va="center",
                fontsize=9,
                color=owners[0][1] if len(owners) == 1 else "0.2",
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": colour_region, "alpha": 0.85},
            )

    # kinks (Huber at |r| = delta, quantile at r = 0): the Hessian is undefined there
    kinks_fn = getattr(loss, "_kinks", None)
    kinks = kinks_fn(np.asarray(labels, dtype=np.float64)) if loss.task == "regression" and kinks_fn else None
    if kinks is not None:
        rs = sorted({float(r) for r in np.ravel(kinks - np.asarray(labels)[:, None]) if lo <= r <= hi})
        for k, axis in enumerate(axes):
            for j, r in enumerate(rs):
                axis.axvline(r, color="0.3", ls=":", lw=1.2, label="kink" if (k == 2 and j == 0) else None)

    if mode is None:
        hess_title = "Hessian (the default is the exact one)"
    else:
        hess_title = f"Hessian: exact vs {mode_label}"
    for axis, title in zip(axes, ("loss", "gradient", hess_title)):
        axis.set_title(title, fontsize=12)
        axis.set_xlabel(xname, fontsize=11)
        axis.set_xlim(lo, hi)
        axis.grid(True, alpha=0.35)
        axis.tick_params(labelsize=10)
    for axis in (ax_grad, ax_hess):
        axis.axhline(0.0, color="0.2", lw=0.8, zorder=2)
    for axis in axes:
        handles, names = axis.get_legend_handles_labels()
        if handles:
            if axis is ax_hess and len(handles) > 2:
                # headroom above the curves, so the (long) legend does not hide them
                bottom, top = axis.get_ylim()
                axis.set_ylim(bottom, top + (top - bottom) * 0.075 * len(handles))
            # curves first, then the shaded regions and kinks, whatever order they were drawn in
            order = sorted(range(len(names)), key=lambda i: names[i].startswith("exact Hessian") or names[i] == "kink")
            axis.legend([handles[i] for i in order], [names[i] for i in order], fontsize=9, framealpha=0.9)
    if ax is None:
        fig.suptitle(f"{loss!r}\n{_setup_text(loss, labels)}", fontsize=12)
    return fig


# ---------------------------------------------------------------------- command-line helpers
def find_loss_class(name: str) -> type[Loss]:
    """The loss class called ``name``: class name, short name or alias, case-insensitive.

    ``"FocalLoss"``, ``"focal"``, ``"huber"``, ``"mfocal"``, ``"log-cosh"`` all work, and so
    does the name of a user's loss once its module is imported (the loss registry).
    Raises ValueError listing the available losses otherwise.
    """
    try:
        return registry.find_loss_class(name)
    except ValueError:
        classes = registry.registered_classes(named=True)  # definition order: new losses come last
        available = ", ".join(f"{cls.__name__} ({cls.short_name})" for cls in classes)
        raise ValueError(f"unknown loss {name!r}; available: {available}") from None


def _convert(cls: type[Loss], name: str, text: str) -> Any:
    """A command-line string as the value of constructor parameter ``name``."""
    default = inspect.signature(cls.__init__).parameters[name].default
    if name == "hessian" or isinstance(default, str):  # e.g. MultiQuantileLoss's noncrossing
        return text
    if text.lower() == "none":
        return None
    # multiclass alpha is one weight per class ("0.5,1,2"), as is any sequence parameter
    # (MultiQuantileLoss's quantiles: "0.1,0.5,0.9")
    listed = (name == "alpha" and cls.task == "multiclass") or isinstance(default, (tuple, list))
    parts = [p for p in text.split(",") if p.strip()] if listed else [text]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"invalid value {text!r} for --{name}: expected a number") from None
    return values if len(parts) > 1 or listed else values[0]


def parse_loss_args(cls: type[Loss], tokens: Sequence[str]) -> Loss:
    """Build ``cls`` from ``["--name", "value", ...]`` (also ``--name=value``).

    Names are the constructor's parameters (``-`` may stand for ``_``); values are
    floats, except ``hessian`` and other string parameters (strings), multiclass ``alpha``
    and sequence parameters such as ``quantiles`` (comma-separated floats) and ``none``
    (None). Every problem is raised as a one-line ValueError.
    """
    valid = cls._param_names()
    params: dict[str, Any] = {}
    i = 0
    tokens = list(tokens)
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--") or len(token) == 2:
            raise ValueError(f"expected --name value, got {token!r}")
        key, eq, value = token[2:].partition("=")
        if not eq:
            if i + 1 >= len(tokens):
                raise ValueError(f"--{key} needs a value")
            value = tokens[i + 1]
            i += 1
        i += 1
        name = key.replace("-", "_")
        if name not in valid:
            raise ValueError(
                f"invalid parameter --{key} for {cls.__name__}; valid parameters: "
                + (", ".join(f"--{v}" for v in valid) or "none")
            )
        params[name] = _convert(cls, name, value)
    try:
        return cls(**params)
    except TypeError as exc:  # e.g. non-numeric alpha entries: still one clear line
        raise ValueError(str(exc)) from None
