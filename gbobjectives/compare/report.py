"""Output of a comparison: the text table, and CSV/JSON files (with the chart) in a folder."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gbobjectives.compare.chart import plot_results
from gbobjectives.compare.settings import ENGINES, CompareError
from gbobjectives.compare.training import DatasetResult

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
        if any("interval_aim" in r for r in result.rows):
            lines.append(
                "   multi-quantile rows: pinball = mean over the quantiles; cover = share of y in [first, last "
                "quantile] (aim: their difference)"
            )
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
