"""What a per-worker quantile scale costs against a global one on LightGBM's Dask (issue 13).

``lightgbm.dask`` trains data-parallel: each worker computes the gradient pairs of its own
rows, and only the histograms are summed over the network; LightGBM exposes no all-reduce to a
Python objective. So on LightGBM's Dask, :class:`~gbobjectives.QuantileLoss`'s MM curvature
scale S (a statistic of the current residuals) is computed per worker; through ``xgboost.dask``
it is all-reduced (global). This script reproduces data-parallel training on ONE machine:
a ``lightgbm.train`` objective that computes the pair of each simulated worker's rows on their
own (exactly what each worker's objective does; LightGBM then sums the histograms as the
distributed learner does), against the same objective on all rows at once (a global S), and
against the built-in ``quantile`` objective. Partitions: random (how dask usually chunks
shuffled data) and sorted by the target (the worst case: each worker holds one range of y).

Data as ``benchmarks/every_api.py`` (target ~1000, heavy tails), engine's default start (0).

Run:  python benchmarks/dask_scale.py [--workers 2 4] [--rounds 300] [--out benchmarks/results/dask_scale.md]
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import lightgbm as lgb
import numpy as np
from every_api import LGB, data

import gbobjectives as gbo


def per_worker_objective(loss, parts: list[np.ndarray]):
    """A LightGBM objective computing the pair of each worker's rows (index arrays) on its own."""

    def objective(preds: np.ndarray, ds: lgb.Dataset) -> tuple[np.ndarray, np.ndarray]:
        y = ds.get_label()
        g, h = np.empty(preds.size), np.empty(preds.size)
        for rows in parts:
            g[rows], h[rows] = loss.sklearn_objective(y[rows], preds[rows])
        return g, h

    return objective


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/dask_scale.md")
    args = ap.parse_args()
    loss = gbo.QuantileLoss(0.9)
    X, y, Xt, yt = data(args.seed)

    def pinball(params: dict) -> float:
        booster = lgb.train(params, lgb.Dataset(X, y), args.rounds)
        return float(np.mean(loss.loss(yt, booster.predict(Xt, raw_score=True))))

    builtin = pinball({**LGB, "objective": "quantile", "alpha": 0.9})
    rows = [
        ("built-in quantile", "-", builtin),
        ("global S (xgboost.dask, one machine)", "-", pinball({**LGB, "objective": loss.lightgbm_objective})),
    ]
    rng = np.random.default_rng(args.seed)
    for k in args.workers:
        for how, order in (("random", rng.permutation(y.size)), ("sorted by y", np.argsort(y, kind="stable"))):
            parts = np.array_split(order, k)
            rows.append(
                (f"per-worker S, {k} workers", how, pinball({**LGB, "objective": per_worker_objective(loss, parts)}))
            )
    lines = [
        "# Quantile MM scale per worker vs global (LightGBM data-parallel, issue 13)",
        "",
        f"`python benchmarks/dask_scale.py --rounds {args.rounds} --seed {args.seed}` "
        f"(QuantileLoss(0.9), {y.size} training / {yt.size} held-out rows, LightGBM {lgb.__version__}, "
        f"{platform.machine()}, engine's default start 0)",
        "",
        "| S computed | partition | held-out pinball | / built-in | / global S |",
        "|---|---|---:|---:|---:|",
    ]
    glob = rows[1][2]
    for name, how, v in rows:
        lines.append(f"| {name} | {how} | {v:.4f} | {v / builtin:.3f} | {v / glob:.3f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
