"""Leaf refit (GitHub issue 5): our losses vs the engines' built-in objectives, over several seeds.

Heavy-tailed data: y = 50 f(X) + 20 t(df=2), 20k training and 20k held-out rows, one data set
per seed. Both engines train the same number of rounds with the same learning rate and tree
size for ours and the built-in objective; ours start from ``loss.init_score`` through the
package's ``train`` helpers, with and without ``refit_leaves``, and through
``BoostedRegressor`` (refit on by default). We report the held-out loss of the loss being
trained (pinball for quantile, Huber for Huber, ...), its ratio to the built-in's per seed
with the mean and the worst (largest) ratio, the wall time per round and the part of it spent
in the refit (``LeafRefit.sync``), both the median over seeds.
Also re-examines the default Hessians of Huber, pseudo-Huber and log-cosh (issue 5 brief).

The seed changes the data; the engines' own seeds stay 0. The ratio of two boosted models on
one data set moves by a few percent with the seed alone (the trees differ after the first
rounds), which is why the goal (ratio <= 1.02) is checked on every seed.

Run:  OMP_WAIT_POLICY=PASSIVE python benchmarks/refit.py [--rounds 200] [--seed 0 1 2] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # other engineers share the cores

import lightgbm as lgb  # noqa: E402
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import xgboost as xgb  # noqa: E402

import gbobjectives as gbo  # noqa: E402
from gbobjectives import refit as refit_mod  # noqa: E402

N = 20_000
LR = 0.1
DELTA = 20.0  # Huber threshold ~ the noise scale, so both branches matter
XGB_TREE = {"max_depth": 6, "tree_method": "hist", "nthread": 2, "seed": 0}
LGB_TREE = {"num_leaves": 31, "num_threads": 2, "verbose": -1, "seed": 0, "deterministic": True}
BUILTIN = "built-in"

_REFIT_TIME = [0.0]
_orig_sync = refit_mod.LeafRefit.sync


def _timed_sync(self: refit_mod.LeafRefit) -> None:
    t = time.perf_counter()
    _orig_sync(self)
    _REFIT_TIME[0] += time.perf_counter() - t


refit_mod.LeafRefit.sync = _timed_sync  # type: ignore[method-assign]

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Runner = Callable[[Data, int], tuple[np.ndarray, float]]  # (data, rounds) -> (held-out raw scores, seconds)


def data(seed: int) -> Data:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2 * N, 10))
    f = 3 * X[:, 0] + X[:, 1] ** 2 + 2 * np.sin(2 * X[:, 2]) + X[:, 3] * X[:, 4]
    y = 50 * f + 20 * rng.standard_t(2, size=2 * N) + 100
    return X[:N], y[:N], X[N:], y[N:]


def ours_xgb(loss: Any, refit: bool) -> Runner:
    def run(d: Data, rounds: int) -> tuple[np.ndarray, float]:
        X, y, Xv, _ = d
        t = time.perf_counter()
        dtrain = xgb.DMatrix(X, label=y)
        b = gbo.xgboost.train(loss, {**XGB_TREE, "eta": LR}, dtrain, rounds, verbose_eval=False, refit_leaves=refit)
        return b.predict(xgb.DMatrix(Xv), output_margin=True), time.perf_counter() - t

    return run


def ours_lgb(loss: Any, refit: bool) -> Runner:
    def run(d: Data, rounds: int) -> tuple[np.ndarray, float]:
        X, y, Xv, _ = d
        t = time.perf_counter()
        params = {**LGB_TREE, "learning_rate": LR}
        b = gbo.lightgbm.train(loss, params, lgb.Dataset(X, label=y), rounds, refit_leaves=refit)
        return b.predict(Xv, raw_score=True), time.perf_counter() - t

    return run


def ours_sklearn(loss: Any, engine: str) -> Runner:
    """BoostedRegressor with the same trees; refit_leaves left at its default (None: on)."""

    def run(d: Data, rounds: int) -> tuple[np.ndarray, float]:
        X, y, Xv, _ = d
        size = {"max_depth": 6} if engine == "xgboost" else {"num_leaves": 31}
        extra = {"deterministic": True} if engine == "lightgbm" else None
        reg = gbo.BoostedRegressor(
            loss=loss,
            engine=engine,
            n_estimators=rounds,
            learning_rate=LR,
            n_jobs=2,
            random_state=0,
            engine_params=extra,
            **size,
        )
        t = time.perf_counter()
        reg.fit(X, y)
        return reg.predict(Xv), time.perf_counter() - t

    return run


def builtin_xgb(params: dict[str, Any]) -> Runner:
    def run(d: Data, rounds: int) -> tuple[np.ndarray, float]:
        X, y, Xv, _ = d
        t = time.perf_counter()
        b = xgb.train({**XGB_TREE, "eta": LR, **params}, xgb.DMatrix(X, label=y), rounds)
        return b.predict(xgb.DMatrix(Xv)), time.perf_counter() - t

    return run


def builtin_lgb(params: dict[str, Any]) -> Runner:
    def run(d: Data, rounds: int) -> tuple[np.ndarray, float]:
        X, y, Xv, _ = d
        t = time.perf_counter()
        b = lgb.train({**LGB_TREE, "learning_rate": LR, **params}, lgb.Dataset(X, label=y), rounds)
        return b.predict(Xv), time.perf_counter() - t

    return run


def cases() -> list[tuple[str, str, str, Any, Runner]]:
    """(section, label, engine, loss evaluated on held-out data, runner); a section's built-in first."""
    out: list[tuple[str, str, str, Any, Runner]] = []
    for tau in (0.5, 0.9):
        q = gbo.QuantileLoss(tau)
        sec = f"QuantileLoss(quantile={tau})"
        for eng, ours, bi in (
            ("XGBoost", ours_xgb, builtin_xgb({"objective": "reg:quantileerror", "quantile_alpha": tau})),
            ("LightGBM", ours_lgb, builtin_lgb({"objective": "quantile", "alpha": tau})),
        ):
            out.append((sec, BUILTIN, eng, q, bi))
            out.append((sec, "ours, no refit", eng, q, ours(q, False)))
            out.append((sec, "ours, refit", eng, q, ours(q, True)))
            out.append((sec, "ours, BoostedRegressor (refit by default)", eng, q, ours_sklearn(q, eng.lower())))
    hub = gbo.HuberLoss(delta=DELTA)
    sec = f"HuberLoss(delta={DELTA:g})"
    pseudo = {"objective": "reg:pseudohubererror", "huber_slope": DELTA}
    out.append((sec, f"{BUILTIN} reg:pseudohubererror (no Huber in XGBoost)", "XGBoost", hub, builtin_xgb(pseudo)))
    out.append((sec, f"{BUILTIN} huber", "LightGBM", hub, builtin_lgb({"objective": "huber", "alpha": DELTA})))
    for eng, ours in (("XGBoost", ours_xgb), ("LightGBM", ours_lgb)):
        for hess in ("mm", "constant", "exact"):
            h = gbo.HuberLoss(delta=DELTA, hessian=hess)
            for refit in (False, True):
                out.append((sec, f"ours, hessian={hess}, {'refit' if refit else 'no refit'}", eng, hub, ours(h, refit)))
        out.append(
            (
                sec,
                "ours, BoostedRegressor (default hessian and refit)",
                eng,
                hub,
                ours_sklearn(hub, eng.lower()),
            )
        )
    ph = gbo.PseudoHuberLoss(delta=DELTA)
    sec = f"PseudoHuberLoss(delta={DELTA:g}) (no leaf rule)"
    out.append((sec, f"{BUILTIN} reg:pseudohubererror", "XGBoost", ph, builtin_xgb(pseudo)))
    for eng, ours in (("XGBoost", ours_xgb), ("LightGBM", ours_lgb)):
        for hess in ("mm", "exact", "constant"):
            out.append(
                (sec, f"ours, hessian={hess}", eng, ph, ours(gbo.PseudoHuberLoss(delta=DELTA, hessian=hess), False))
            )
    lc = gbo.LogCoshLoss()
    sec = "LogCoshLoss() (no leaf rule, no built-in)"
    for eng, ours in (("XGBoost", ours_xgb), ("LightGBM", ours_lgb)):
        for hess in ("mm", "constant", "exact"):
            out.append((sec, f"ours, hessian={hess}", eng, lc, ours(gbo.LogCoshLoss(hessian=hess), False)))
    return out


def _fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--seed", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", default="benchmarks/results/refit.md")
    args = ap.parse_args()
    R, seeds = args.rounds, list(args.seed)
    all_cases = cases()

    # (section, engine, label) -> per seed: (held-out loss, ratio or None, ms/round, refit ms/round)
    res: dict[tuple[str, str, str], list[tuple[float, float | None, float, float]]] = {}
    for seed in seeds:
        d = data(seed)
        ref: dict[tuple[str, str], float] = {}
        for sec, label, eng, ev, runner in all_cases:
            _REFIT_TIME[0] = 0.0
            pred, dt = runner(d, R)
            val = float(np.mean(ev.loss(d[3], pred)))
            if label.startswith(BUILTIN):
                ref[(sec, eng)] = val
            base = ref.get((sec, eng))
            ratio = val / base if base else None
            res.setdefault((sec, eng, label), []).append((val, ratio, 1e3 * dt / R, 1e3 * _REFIT_TIME[0] / R))
            print(
                f"seed {seed} {sec:40s} {eng:8s} {label:60s} {val:10.4f} {_fmt_ratio(ratio):>6s} "
                f"{1e3 * dt / R:7.2f} ms/round (refit {1e3 * _REFIT_TIME[0] / R:5.2f})",
                flush=True,
            )

    seed_cols = " | ".join(f"seed {s}" for s in seeds)
    seed_rule = "|".join("---:" for _ in seeds)

    def ratios(key: tuple[str, str, str]) -> list[float | None]:
        return [r for _, r, _, _ in res[key]]

    def summary(rs: list[float | None]) -> tuple[str, str]:
        if any(r is None for r in rs):
            return "-", "-"
        vals = [r for r in rs if r is not None]
        return f"{statistics.fmean(vals):.3f}", f"{max(vals):.3f}"

    lines = [
        "# Leaf refit vs built-in objectives (issue 5)",
        "",
        f"Generated by `benchmarks/refit.py --rounds {R} --seed {' '.join(map(str, seeds))}`.",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, shared with other jobs (run under `nice`): "
        f"times are indicative; Python {platform.python_version()}",
        f"- xgboost {xgb.__version__}, lightgbm {lgb.__version__}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, nthread 2, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}",
        f"- data: y = 50 f(X) + 20 t(df=2) + 100, X ~ N(0, I_10); {N} train / {N} held-out rows, drawn per seed "
        "(the engines' seeds stay 0)",
        f"- {R} rounds, learning rate {LR}; XGBoost max_depth 6 (hist), LightGBM num_leaves 31 (deterministic); "
        "otherwise defaults, the same for ours and the built-in",
        "- ours: `gbo.xgboost.train` / `gbo.lightgbm.train` (start = `loss.init_score`), or `BoostedRegressor` "
        "with the same trees; ratio = held-out loss / built-in's (< 1 is better); mean and worst (largest) over seeds",
        "- ms/round and refit ms/round (time inside `LeafRefit.sync`: leaf indices, leaf rule, offsets; XGBoost "
        "includes the final JSON write of all leaves, spread over the rounds): median over seeds",
        "- XGBoost has no Huber objective: its Huber reference is `reg:pseudohubererror` with the same delta",
        "",
        "## Issue 5 goal: ours with refit within 2 % of the built-in (ratio <= 1.02)",
        "",
        f"| loss | engine | path | {seed_cols} | mean | worst |",
        f"|---|---|---|{seed_rule}|---:|---:|",
    ]
    goal_rows = [
        (sec, eng, label)
        for sec, label, eng, _, _ in all_cases
        if (label == "ours, refit" or label.startswith("ours, hessian=mm, refit") or "BoostedRegressor" in label)
        and not sec.startswith(("PseudoHuber", "LogCosh"))
    ]
    for sec, eng, label in goal_rows:
        rs = ratios((sec, eng, label))
        path = "BoostedRegressor" if "BoostedRegressor" in label else "train helper"
        mean, worst = summary(rs)
        lines.append(f"| {sec} | {eng} | {path} | {' | '.join(_fmt_ratio(r) for r in rs)} | {mean} | {worst} |")

    cur = None
    for sec, label, eng, _, _ in all_cases:
        if sec != cur:
            cur = sec
            lines += [
                "",
                f"## {sec}",
                "",
                f"| engine | model | ratio {seed_cols} | mean ratio | worst ratio | mean held-out loss | ms/round "
                "| refit ms/round |",
                f"|---|---|{seed_rule}|---:|---:|---:|---:|---:|",
            ]
        runs = res[(sec, eng, label)]
        rs = ratios((sec, eng, label))
        mean, worst = summary(rs)
        loss_mean = statistics.fmean(v for v, _, _, _ in runs)
        ms = statistics.median(m for _, _, m, _ in runs)
        rms = statistics.median(m for _, _, _, m in runs)
        lines.append(
            f"| {eng} | {label} | {' | '.join(_fmt_ratio(r) for r in rs)} | {mean} | {worst} | {loss_mean:.4f} "
            f"| {ms:.1f} | {rms:.1f} |"
        )
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
