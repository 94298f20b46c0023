"""Leaf refit (GitHub issue 5): our losses vs the engines' built-in objectives.

Heavy-tailed data: y = 50 f(X) + 20 t(df=2), 20k training and 20k held-out rows. Both
engines train the same number of rounds with the same learning rate and tree size for ours
and the built-in objective; ours start from ``loss.init_score`` through the package's
``train`` helpers, with and without ``refit_leaves``. We report the held-out loss of the
loss being trained (pinball for quantile, Huber for Huber, ...), the ratio to the built-in,
the wall time per round and the part of it spent in the refit (``LeafRefit.sync``).
Also re-examines the default Hessians of Huber, pseudo-Huber and log-cosh (issue 5 brief).

Run:  OMP_WAIT_POLICY=PASSIVE python benchmarks/refit.py [--rounds 200] [--out benchmarks/results/refit.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # other engineers share the cores

import lightgbm as lgb  # noqa: E402
import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402

import gbobjectives as gbo  # noqa: E402
from gbobjectives import refit as refit_mod  # noqa: E402

N = 20_000
LR = 0.1
XGB_TREE = {"max_depth": 6, "tree_method": "hist", "nthread": 2, "seed": 0}
LGB_TREE = {"num_leaves": 31, "num_threads": 2, "verbose": -1, "seed": 0, "deterministic": True}

_REFIT_TIME = [0.0]
_orig_sync = refit_mod.LeafRefit.sync


def _timed_sync(self: refit_mod.LeafRefit) -> None:
    t = time.perf_counter()
    _orig_sync(self)
    _REFIT_TIME[0] += time.perf_counter() - t


refit_mod.LeafRefit.sync = _timed_sync  # type: ignore[method-assign]


def data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2 * N, 10))
    f = 3 * X[:, 0] + X[:, 1] ** 2 + 2 * np.sin(2 * X[:, 2]) + X[:, 3] * X[:, 4]
    y = 50 * f + 20 * rng.standard_t(2, size=2 * N) + 100
    return X[:N], y[:N], X[N:], y[N:]


def ours_xgb(loss, X, y, Xv, rounds, refit):
    t = time.perf_counter()
    b = gbo.xgboost.train(loss, {**XGB_TREE, "eta": LR}, xgb.DMatrix(X, label=y), rounds,
                          verbose_eval=False, refit_leaves=refit)
    return b.predict(xgb.DMatrix(Xv), output_margin=True), time.perf_counter() - t


def ours_lgb(loss, X, y, Xv, rounds, refit):
    t = time.perf_counter()
    b = gbo.lightgbm.train(loss, {**LGB_TREE, "learning_rate": LR}, lgb.Dataset(X, label=y), rounds,
                           refit_leaves=refit)
    return b.predict(Xv, raw_score=True), time.perf_counter() - t


def builtin_xgb(params, X, y, Xv, rounds):
    t = time.perf_counter()
    b = xgb.train({**XGB_TREE, "eta": LR, **params}, xgb.DMatrix(X, label=y), rounds)
    return b.predict(xgb.DMatrix(Xv)), time.perf_counter() - t


def builtin_lgb(params, X, y, Xv, rounds):
    t = time.perf_counter()
    b = lgb.train({**LGB_TREE, "learning_rate": LR, **params}, lgb.Dataset(X, label=y), rounds)
    return b.predict(Xv), time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/refit.md")
    args = ap.parse_args()
    R = args.rounds
    X, y, Xv, yv = data(args.seed)
    delta = 20.0  # Huber threshold ~ the noise scale, so both branches matter

    # (section, label, engine, eval loss, runner)
    cases = []
    for tau in (0.5, 0.9):
        q = gbo.QuantileLoss(tau)
        sec = f"QuantileLoss(quantile={tau})"
        bi_x = {"objective": "reg:quantileerror", "quantile_alpha": tau}
        bi_l = {"objective": "quantile", "alpha": tau}
        for eng, run, bi in (
            ("XGBoost", ours_xgb, lambda p=bi_x: builtin_xgb(p, X, y, Xv, R)),
            ("LightGBM", ours_lgb, lambda p=bi_l: builtin_lgb(p, X, y, Xv, R)),
        ):
            cases.append((sec, "built-in", eng, q, bi))
            cases.append((sec, "ours, no refit", eng, q, lambda run=run, q=q: run(q, X, y, Xv, R, False)))
            cases.append((sec, "ours, refit", eng, q, lambda run=run, q=q: run(q, X, y, Xv, R, True)))
    hub = gbo.HuberLoss(delta=delta)
    sec = f"HuberLoss(delta={delta:g})"
    cases.append((sec, "built-in reg:pseudohubererror (no Huber in XGBoost)", "XGBoost", hub,
                  lambda: builtin_xgb({"objective": "reg:pseudohubererror", "huber_slope": delta}, X, y, Xv, R)))
    cases.append((sec, "built-in huber", "LightGBM", hub,
                  lambda: builtin_lgb({"objective": "huber", "alpha": delta}, X, y, Xv, R)))
    for eng, run in (("XGBoost", ours_xgb), ("LightGBM", ours_lgb)):
        for hess in ("constant", "exact"):
            h = gbo.HuberLoss(delta=delta, hessian=hess)
            for refit in (False, True):
                cases.append((sec, f"ours, hessian={hess}, {'refit' if refit else 'no refit'}", eng, hub,
                              lambda run=run, h=h, refit=refit: run(h, X, y, Xv, R, refit)))
    ph = gbo.PseudoHuberLoss(delta=delta)
    sec = f"PseudoHuberLoss(delta={delta:g}) (no leaf rule)"
    cases.append((sec, "built-in reg:pseudohubererror", "XGBoost", ph,
                  lambda: builtin_xgb({"objective": "reg:pseudohubererror", "huber_slope": delta}, X, y, Xv, R)))
    for eng, run in (("XGBoost", ours_xgb), ("LightGBM", ours_lgb)):
        for hess in ("exact", "constant"):
            loss = gbo.PseudoHuberLoss(delta=delta, hessian=hess)
            cases.append((sec, f"ours, hessian={hess}", eng, ph,
                          lambda run=run, loss=loss: run(loss, X, y, Xv, R, False)))
    lc = gbo.LogCoshLoss()
    sec = "LogCoshLoss() (no leaf rule, no built-in)"
    for eng, run in (("XGBoost", ours_xgb), ("LightGBM", ours_lgb)):
        for hess in ("constant", "exact"):
            cases.append((sec, f"ours, hessian={hess}", eng, lc,
                          lambda run=run, hess=hess: run(gbo.LogCoshLoss(hessian=hess), X, y, Xv, R, False)))

    rows = []
    ref: dict[tuple[str, str], float] = {}
    for sec, label, eng, ev, runner in cases:
        _REFIT_TIME[0] = 0.0
        pred, dt = runner()
        val = float(np.mean(ev.loss(yv, pred)))
        if label.startswith("built-in"):
            ref[(sec, eng)] = val
        base = ref.get((sec, eng))
        ratio = f"{val / base:.3f}" if base else "-"
        rows.append((sec, eng, label, val, ratio, 1e3 * dt / R, 1e3 * _REFIT_TIME[0] / R))
        print(f"{sec:40s} {eng:8s} {label:55s} {val:10.4f} {ratio:>6s} {1e3 * dt / R:7.2f} ms/round "
              f"(refit {1e3 * _REFIT_TIME[0] / R:5.2f})", flush=True)

    lines = [
        "# Leaf refit vs built-in objectives (issue 5)",
        "",
        f"Generated by `benchmarks/refit.py --rounds {R} --seed {args.seed}`.",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores (shared with other jobs: times are indicative), "
        f"Python {platform.python_version()}",
        f"- xgboost {xgb.__version__}, lightgbm {lgb.__version__}, numpy {np.__version__}, nthread 2",
        f"- data: y = 50 f(X) + 20 t(df=2) + 100, X ~ N(0, I_10); {N} train / {N} held-out rows",
        f"- {R} rounds, learning rate {LR}; XGBoost max_depth 6 (hist), LightGBM num_leaves 31; "
        "otherwise defaults, the same for ours and the built-in",
        "- ours: `gbo.xgboost.train` / `gbo.lightgbm.train` (start = `loss.init_score`); "
        "ratio = held-out loss / built-in's (< 1 is better)",
        "- refit ms/round: time inside `LeafRefit.sync` (leaf indices, leaf rule, offsets; XGBoost "
        "includes the final JSON write of all leaves, spread over the rounds)",
        "",
    ]
    cur = None
    for sec, eng, label, val, ratio, ms, rms in rows:
        if sec != cur:
            cur = sec
            lines += ["", f"## {sec}", "", "| engine | model | held-out loss | ratio | ms/round | refit ms/round |",
                      "|---|---|---:|---:|---:|---:|"]
        lines.append(f"| {eng} | {label} | {val:.4f} | {ratio} | {ms:.1f} | {rms:.1f} |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
