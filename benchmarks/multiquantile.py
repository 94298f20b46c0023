"""MultiQuantileLoss against XGBoost's built-in multi-quantile model (issue 16).

One model with K = 5 outputs (tau = 0.05, 0.25, 0.5, 0.75, 0.95), trained three ways with the
same explicit settings (depth 6, eta 0.1, hist, 1 thread, seed 0) and evaluated at equal
rounds (100 and 300; the 100-round values come from the first 100 rounds of the same model):

* XGBoost 3.2's ``objective="reg:quantileerror", quantile_alpha=[...]`` (its own start, leaf
  values refit to quantiles of the residuals, predictions NOT sorted: crossing rows are counted,
  and its pinball is reported both raw and row-sorted);
* ``gbo.xgboost.train(MultiQuantileLoss(taus))``: ``noncrossing="sort"`` (the default; raw
  columns trained independently, each predicted row sorted), with its default leaf refit (each
  output's leaves re-set to the exact weighted tau_k-quantile of their residuals, as the
  built-in does) and without it (``refit_leaves=False``: the per-quantile MM curvature alone,
  what plain ``xgb.train(obj=loss.xgboost_objective)`` trains with);
* ``gbo.xgboost.train(MultiQuantileLoss(taus, noncrossing="monotone"))``: q_1 = z_1,
  q_k = q_{k-1} + softplus(z_k), the chain rule in the derivatives (MM curvature, no refit).

And on LightGBM (63 leaves, same learning rate): ``gbo.lightgbm.train`` (K trees per round,
``num_class=K``) against LightGBM's built-in ``quantile``, one model per tau (it has no
multi-quantile objective), sorted.

Data: y = f(X) + (1 + |x_5|) * (t_4 noise + 0.5 * (Exp(1) - 1)) (heteroscedastic and skewed,
so the quantiles are not a shifted median), X ~ N(0, I_10); 20,000 training and 20,000
held-out rows; seeds 0 and 1. Reported per quantile: held-out pinball loss and its ratio to the
built-in's (sorted), the share of labels below each predicted quantile, the coverage of
[q_0.05, q_0.95] (nominal 0.90) and [q_0.25, q_0.75] (0.50), and crossing rows.

Run:  python benchmarks/multiquantile.py [--out benchmarks/results/multiquantile.md]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from every_api import _cpu  # the CPU model and its SIMD level, as every benchmark records it

import gbobjectives as gbo

N = 20_000
TAUS = [0.05, 0.25, 0.5, 0.75, 0.95]
ROUNDS = (100, 300)
SEEDS = (0, 1)
XGB = {"max_depth": 6, "eta": 0.1, "nthread": 1, "tree_method": "hist", "seed": 0}
#: (noncrossing, leaf refit): the default ("sort", refit on), the same without refit (the
#: per-quantile MM curvature alone, as plain xgb.train / lgb.train get it), and "monotone" (no
#: refit: its raw scores are log-gaps, not quantiles)
VARIANTS = (("sort", True), ("sort", False), ("monotone", False))
LGB = {"num_leaves": 63, "learning_rate": 0.1, "num_threads": 1, "verbose": -1, "seed": 0, "deterministic": True}


def data(seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2 * N, 10))
    f = 3 * X[:, 0] + X[:, 1] ** 2 + 2 * np.sin(2 * X[:, 2]) + X[:, 3] * X[:, 4]
    noise = rng.standard_t(4, size=2 * N) + 0.5 * (rng.exponential(size=2 * N) - 1.0)
    y = f + (1.0 + np.abs(X[:, 5])) * noise
    return X[:N], y[:N], X[N:], y[N:]


def evaluate(q: np.ndarray, y: np.ndarray) -> dict:
    """Held-out pinball per quantile, the share below each quantile, two coverages."""
    taus = np.array(TAUS)
    r = y[:, None] - q
    return {
        "pinball": np.mean(np.maximum(taus * r, (taus - 1.0) * r), axis=0),
        "below": np.mean(y[:, None] <= q, axis=0),
        "cov90": float(np.mean((q[:, 0] <= y) & (y <= q[:, -1]))),
        "cov50": float(np.mean((q[:, 1] <= y) & (y <= q[:, -2]))),
        "crossing": int(np.count_nonzero(np.any(np.diff(q, axis=1) < 0, axis=1))),
    }


def run_seed(seed: int) -> dict:
    X, y, Xt, yt = data(seed)
    dtrain, dtest = xgb.DMatrix(X, label=y), xgb.DMatrix(Xt)
    out: dict = {}
    t0 = time.perf_counter()
    builtin = xgb.train({**XGB, "objective": "reg:quantileerror", "quantile_alpha": TAUS}, dtrain, max(ROUNDS))
    t_builtin = time.perf_counter() - t0
    for R in ROUNDS:
        raw = builtin.predict(dtest, iteration_range=(0, R))
        out[("xgb builtin (raw, unsorted)", R)] = evaluate(raw, yt)
        out[("xgb builtin, rows sorted", R)] = evaluate(np.sort(raw, axis=1), yt)
    out["time xgb builtin"] = t_builtin
    for mode, refit in VARIANTS:
        loss = gbo.MultiQuantileLoss(TAUS, noncrossing=mode)
        name = f"{mode}, {'refit' if refit else 'MM only'}"
        t0 = time.perf_counter()
        bst = gbo.xgboost.train(loss, XGB, dtrain, max(ROUNDS), verbose_eval=False, refit_leaves=refit)
        out[f"time xgb {name}"] = time.perf_counter() - t0
        for R in ROUNDS:
            raw = bst.predict(dtest, output_margin=True, iteration_range=(0, R))
            out[(f"xgb gbo {name}", R)] = evaluate(loss.inverse_link(raw), yt)
            if refit:
                out[(f"xgb gbo {name}, raw columns (unsorted)", R)] = evaluate(raw, yt)
    # LightGBM: its quantile objective, one model per tau, against K outputs per round
    t0 = time.perf_counter()
    params = [{**LGB, "objective": "quantile", "alpha": t} for t in TAUS]
    models = [lgb.train(p, lgb.Dataset(X, label=y), max(ROUNDS)) for p in params]
    out["time lgb builtin"] = time.perf_counter() - t0
    for R in ROUNDS:
        q = np.column_stack([m.predict(Xt, num_iteration=R) for m in models])
        out[("lgb builtin x5 (raw, unsorted)", R)] = evaluate(q, yt)
        out[("lgb builtin x5, rows sorted", R)] = evaluate(np.sort(q, axis=1), yt)
    for mode, refit in VARIANTS:
        loss = gbo.MultiQuantileLoss(TAUS, noncrossing=mode)
        name = f"{mode}, {'refit' if refit else 'MM only'}"
        t0 = time.perf_counter()
        bst = gbo.lightgbm.train(loss, LGB, lgb.Dataset(X, label=y), max(ROUNDS), refit_leaves=refit)
        out[f"time lgb {name}"] = time.perf_counter() - t0
        for R in ROUNDS:
            raw = bst.predict(Xt, raw_score=True, num_iteration=R)
            out[(f"lgb gbo {name}", R)] = evaluate(loss.inverse_link(raw), yt)
    return out


def table(results: dict[int, dict]) -> list[str]:
    lines = []
    refs = {"xgb": "xgb builtin, rows sorted", "lgb": "lgb builtin x5, rows sorted"}
    for R in ROUNDS:
        lines += [
            f"### {R} rounds",
            "",
            "| seed | model | pinball / built-in (sorted), per tau "
            + " ".join(f"{t:g}" for t in TAUS)
            + " | max ratio | share y <= q_k | coverage 90 % | coverage 50 % | crossing rows |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for seed, res in results.items():
            for key in [k for k in res if isinstance(k, tuple) and k[1] == R]:
                name = key[0]
                ref = res[(refs[name[:3]], R)]["pinball"]
                ev = res[key]
                ratio = ev["pinball"] / ref
                lines.append(
                    f"| {seed} | {name} | "
                    + " ".join(f"{x:.4f}" for x in ratio)
                    + f" | {ratio.max():.4f} | "
                    + " ".join(f"{b:.3f}" for b in ev["below"])
                    + f" | {ev['cov90']:.4f} | {ev['cov50']:.4f} | {ev['crossing']} |"
                )
        lines.append("")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "multiquantile.md")
    args = parser.parse_args()
    results = {seed: run_seed(seed) for seed in SEEDS}
    lines = [
        "# MultiQuantileLoss vs XGBoost's built-in multi-quantile model",
        "",
        f"`python benchmarks/multiquantile.py`, one process. CPU: {_cpu()}; Python {platform.python_version()}, "
        f"numpy {np.__version__}, XGBoost {xgb.__version__}, LightGBM {lgb.__version__}, gbobjectives "
        f"{gbo.__version__}. {N:,} training / {N:,} held-out rows, tau = {TAUS}; XGBoost {XGB}; LightGBM {LGB}.",
        "",
        "Ratios: held-out pinball loss of each quantile divided by the built-in's (XGBoost rows: "
        "`reg:quantileerror` with its rows sorted; LightGBM rows: five `quantile` models, rows sorted). "
        "`share y <= q_k` should be near tau_k; coverage 90 % / 50 % is the share of labels in "
        "[q_0.05, q_0.95] / [q_0.25, q_0.75].",
        "",
    ]
    lines += table(results)
    lines += [f"Training time (s, {max(ROUNDS)} rounds, 1 thread):", ""]
    for seed, res in results.items():
        times = "; ".join(f"{k[5:]} {v:.1f}" for k, v in res.items() if isinstance(k, str))
        lines.append(f"* seed {seed}: {times}")
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
