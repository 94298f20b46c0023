"""Expectile against CatBoost's built-in ``Expectile``; relative error against LightGBM ``mape`` (issue 16).

Expectile (tau = 0.1, 0.5, 0.9): CatBoost's built-in ``Expectile:alpha=tau`` and
``gbo.catboost.train(ExpectileLoss(tau))`` with the same explicit settings (learning rate 0.1,
depth 6, 300 iterations, one Newton step per leaf, no backtracking, seed 0, 1 thread). The
built-in starts at 0 (CatBoost allows no boost_from_average for Expectile), ours at the exact
expectile; a third row gives the built-in that start through a Pool baseline. Also ours through
``gbo.xgboost.train`` / ``gbo.lightgbm.train`` (same learning rate, depth 6 / 63 leaves).

Relative error: held-out MAPE of ``RelativeErrorLoss`` through plain ``lgb.train`` /
``xgb.train`` (engine's own start) against LightGBM's built-in ``mape`` objective (XGBoost has
none) and against training on the absolute error.

Data: expectile - y = 1000 + 5 f(X) + N(0, 1) (1 + |x5|) * 3 (skewed by |x5|: the expectiles
differ from the mean); relative - y = 100 exp(0.4 f(X) + 0.3 N(0, 1)) (spans orders of
magnitude). 20,000 training and 20,000 held-out rows, X ~ N(0, I_10).

Run:  python benchmarks/expectile_relative.py [--seed 0] [--out benchmarks/results/expectile_relative.md]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import catboost as cb
import lightgbm as lgb
import numpy as np
import xgboost as xgb
from every_api import _cpu  # the CPU model and its SIMD level, as every benchmark records it

import gbobjectives as gbo

N = 20_000
ROUNDS = 300
CB = {
    "iterations": ROUNDS,
    "depth": 6,
    "learning_rate": 0.1,
    "random_seed": 0,
    "thread_count": 1,
    "verbose": False,
    "leaf_estimation_iterations": 1,
    "leaf_estimation_method": "Newton",
    "leaf_estimation_backtracking": "No",
    "allow_writing_files": False,
}
XGB = {"max_depth": 6, "eta": 0.1, "nthread": 1, "tree_method": "hist", "seed": 0}
LGB = {"num_leaves": 63, "learning_rate": 0.1, "num_threads": 1, "verbose": -1, "seed": 0, "deterministic": True}


def _f(X: np.ndarray) -> np.ndarray:
    return 3 * X[:, 0] + X[:, 1] ** 2 + 2 * np.sin(2 * X[:, 2]) + X[:, 3] * X[:, 4]


def expectile_data(seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2 * N, 10))
    noise = rng.normal(size=2 * N) * (1 + np.abs(X[:, 5])) * 3
    noise = np.where(noise > 0, 2 * noise, noise)  # asymmetric: upper expectiles sit further out
    y = 1000 + 5 * _f(X) + noise
    return X[:N], y[:N], X[N:], y[N:]


def relative_data(seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2 * N, 10))
    y = 100 * np.exp(0.4 * _f(X) + 0.3 * rng.normal(size=2 * N))
    return X[:N], y[:N], X[N:], y[N:]


def _raw(model: cb.CatBoost, X: np.ndarray) -> np.ndarray:
    return model.predict(X, prediction_type="RawFormulaVal")


def expectile_rows(seed: int) -> list[str]:
    X, y, Xv, yv = expectile_data(seed)
    rows = []
    for tau in (0.1, 0.5, 0.9):
        loss = gbo.ExpectileLoss(tau)
        held = lambda raw, loss=loss: float(np.mean(loss.loss(yv, raw)))  # noqa: E731
        builtin = {**CB, "loss_function": f"Expectile:alpha={tau}"}
        t = time.perf_counter()
        ref = held(_raw(cb.CatBoost(builtin).fit(cb.Pool(X, y)), Xv))
        t_ref = time.perf_counter() - t
        c = loss.init_score(y)
        ref_start = held(_raw(cb.CatBoost(builtin).fit(cb.Pool(X, y, baseline=np.full(N, c))), Xv) + c)
        t = time.perf_counter()
        ours = held(_raw(gbo.catboost.train(loss, CB, cb.Pool(X, y)), Xv))
        t_ours = time.perf_counter() - t
        b = gbo.xgboost.train(loss, XGB, xgb.DMatrix(X, label=y), ROUNDS, verbose_eval=False)
        ours_xgb = held(b.predict(xgb.DMatrix(Xv), output_margin=True))
        ours_lgb = held(gbo.lightgbm.train(loss, LGB, lgb.Dataset(X, label=y), ROUNDS).predict(Xv, raw_score=True))
        cells = [
            f"{tau:g}",
            f"{ref:.4f}",
            f"{ref_start:.4f}",
            f"{ours:.4f}",
            f"{ours / ref:.4f}",
            f"{ours / ref_start:.5f}",
            f"{ours_xgb:.4f}",
            f"{ours_lgb:.4f}",
            f"{t_ours / t_ref:.1f}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    return rows


def relative_rows(seed: int) -> list[str]:
    X, y, Xv, yv = relative_data(seed)
    mape = gbo.MAPE()
    rel, l1 = gbo.RelativeErrorLoss(), gbo.AbsoluteErrorLoss()
    builtin = mape(yv, lgb.train({**LGB, "objective": "mape"}, lgb.Dataset(X, y), ROUNDS).predict(Xv))
    out = {}
    for name, loss in (("relative", rel), ("absolute", l1)):
        out["lgb", name] = mape(
            yv, lgb.train({**LGB, "objective": loss.lightgbm_objective}, lgb.Dataset(X, y), ROUNDS).predict(Xv)
        )
        b = xgb.train(XGB, xgb.DMatrix(X, label=y), ROUNDS, obj=loss.xgboost_objective)
        out["xgb", name] = mape(yv, b.predict(xgb.DMatrix(Xv), output_margin=True))
    rows = []
    for eng in ("lgb", "xgb"):
        b_cell = f"{builtin:.4f}" if eng == "lgb" else "-"
        ratio = f"{out[eng, 'relative'] / builtin:.3f}" if eng == "lgb" else "-"
        api = "lgb.train" if eng == "lgb" else "xgb.train"
        rows.append(f"| {api} | {b_cell} | {out[eng, 'relative']:.4f} | {out[eng, 'absolute']:.4f} | {ratio} |")
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/expectile_relative.md")
    args = ap.parse_args()
    t0 = time.time()
    lines = [
        "# Expectile vs CatBoost's built-in, relative error vs LightGBM mape (issue 16)",
        "",
        f"Generated by `benchmarks/expectile_relative.py --seed {args.seed}` ({time.strftime('%Y-%m-%d')}).",
        "",
        f"- machine: {_cpu()}, Python {platform.python_version()}",
        f"- catboost {cb.__version__}, xgboost {xgb.__version__}, lightgbm {lgb.__version__}, "
        f"numpy {np.__version__}; 1 thread",
        f"- {N} train / {N} held-out rows, {ROUNDS} rounds, learning rate 0.1; CatBoost depth 6, one Newton "
        "step per leaf, no backtracking; XGBoost depth 6, LightGBM 63 leaves",
        "",
        "## Expectile: held-out expectile loss",
        "",
        "Built-in: CatBoost `Expectile:alpha=tau` from its start 0; built-in, same start: from our "
        "start (the exact expectile) through a Pool baseline; ours: `gbo.catboost.train(ExpectileLoss(tau))`. "
        "time = ours / built-in (CatBoost).",
        "",
        "| tau | built-in | built-in, same start | ours (CatBoost) | ours / built-in | ours / same start "
        "| ours (XGBoost helper) | ours (LightGBM helper) | time |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *expectile_rows(args.seed),
        "",
        "## Relative error: held-out MAPE, plain APIs from the engine's own start",
        "",
        "LightGBM's `mape` objective weighs rows by 1/max(1, |y|); XGBoost has no MAPE objective.",
        "",
        "| API | built-in mape | RelativeErrorLoss | AbsoluteErrorLoss | relative / built-in |",
        "|---|---:|---:|---:|---:|",
        *relative_rows(args.seed),
        "",
        f"Total time {time.time() - t0:.0f} s.",
    ]
    Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
