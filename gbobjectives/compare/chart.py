"""The comparison chart (matplotlib, imported only here): one panel per data set."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gbobjectives.compare.training import DatasetResult

if TYPE_CHECKING:  # annotations only: matplotlib is optional
    from matplotlib.figure import Figure


_CHART_COLUMNS = {
    "classification": [
        ("logloss", "logloss", False),
        ("roc_auc", "ROC AUC", True),
        ("pr_auc", "PR AUC", True),
        ("accuracy", "accuracy", True),
    ],
    "regression": [("rmse", "RMSE", False), ("mae", "MAE", False), ("huber", "Huber", False)],
    "quantile": [("pinball", "pinball", False), ("coverage", "coverage", None)],
    "interval": [("pinball", "mean pinball", False), ("coverage", "coverage", None)],
}
#: a relative difference of this size (10 %) gets the full colour; smaller ones fade toward white
_CHART_FULL_SCALE = 0.10


def _chart_rows(
    res: DatasetResult, quantile: bool, interval: bool = False
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(row, its reference row) pairs for one panel; the reference is the built-in objective on the
    same engine: "builtin" for point rows, "builtin quantile(tau)" for the quantile rows of tau,
    the built-in multi-quantile row with the same quantiles for interval rows (``interval``)."""
    refs = {}
    for row in res.rows:
        if row["loss"] == "builtin" or row["loss"].startswith("builtin quantile("):
            refs[row["loss"], row["engine"]] = row
        elif row["loss"].startswith("builtin ") and "interval_aim" in row:
            refs[tuple(row["quantiles"]), row["engine"]] = row
    out = []
    for row in res.rows:
        if ("interval_aim" in row) != interval:
            continue
        if interval:
            ref = refs.get((tuple(row["quantiles"]), row["engine"]))
            out.append((row, ref if ref is not None else row))
            continue
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


def _draw_panel(ax: Any, res: DatasetResult, quantile: bool, cmap: Any, title: str, interval: bool = False) -> None:
    """One table-like panel: a cell per (row, metric); the built-in rows print absolute values,
    the others their difference from the built-in on the same engine, coloured on a fixed scale."""
    from matplotlib.colors import to_rgba

    kind = "quantile" if quantile else ("regression" if res.dataset.task == "regression" else "classification")
    kind = "interval" if interval else kind
    columns = _CHART_COLUMNS[kind]
    pairs = _chart_rows(res, quantile, interval)
    n_rows, n_cols = len(pairs), len(columns) + 1
    colours = np.ones((n_rows, n_cols, 4))
    for i, (row, ref) in enumerate(pairs):
        is_ref = row is ref
        for j, (key, _, higher) in enumerate([*columns, ("train_seconds", "", None)]):
            value = float(row[key])
            if key == "coverage":
                aim = row["interval_aim"] if interval else float(row["loss"].split("(")[-1].rstrip(")"))
                text = f"{value:.3f} (aim {aim:g})"
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
    quantile: pinball loss, and the coverage ``mean(y <= prediction)`` next to its aim. Interval
    rows (``multi_quantile``: several quantiles from one model) get theirs, against XGBoost's
    multi-quantile model with the same quantiles: the mean pinball loss over the quantiles and the
    coverage of [first, last quantile] next to its aim. Training
    time is the ratio to the built-in's. Needs matplotlib (the ``plot`` extra).
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
        n_interval = len(_chart_rows(res, quantile=False, interval=True))
        heights.append(0.24 * n_point + 0.8)
        if n_quant:
            heights.append(0.24 * n_quant + 0.8)
        if n_interval:
            heights.append(0.24 * n_interval + 0.8)
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
        if _chart_rows(res, quantile=False, interval=True):
            _draw_panel(
                fig.add_subplot(grid[panel]),
                res,
                False,
                cmap,
                f"{data.name}: intervals (several quantiles from one model) vs the built-in multi-quantile model",
                interval=True,
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
