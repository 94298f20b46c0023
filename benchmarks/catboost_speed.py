"""Training time of a gbobjectives objective against CatBoost's built-in one (same settings).

Binary: ``WeightedLogLoss`` through ``gbo.catboost.Objective`` against CatBoost's ``Logloss``
at 100k rows x 10 features, identical explicit settings (learning rate, depth, seed, one
Newton leaf step without backtracking, start 0 on both sides, CatBoost's Logloss as the
eval metric for both so that only the objective differs). Runs alternate built-in / ours and
the medians are reported. Multiclass: ``MulticlassFocalLoss(gamma=0)`` against ``MultiClass``
on a small set, because CatBoost calls a custom multiclass objective once per row.

Usage::

    python benchmarks/catboost_speed.py [--rows 100000] [--iterations 100] [--repeats 3] [--threads 1]

Writes nothing; paste the printed table into ``benchmarks/results/catboost.md``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import catboost as cb
import numpy as np

import gbobjectives as gbo


def machine() -> str:
    model, flags = "?", set()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name") and model == "?":
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    simd = ", ".join(f for f in ("avx2", "avx512f") if f in flags) or "no avx2/avx512f"
    import os

    return f"{model} ({simd}); {os.cpu_count()} logical CPUs; load average {os.getloadavg()}"


def fit_seconds(params: dict, pool: cb.Pool) -> float:
    t = time.perf_counter()
    cb.CatBoost(params).fit(pool)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--multiclass-rows", type=int, default=1000)
    ap.add_argument("--multiclass-iterations", type=int, default=20)
    args = ap.parse_args()

    print(f"machine: {machine()}")
    versions = f"catboost {cb.__version__}, numpy {np.__version__}, gbobjectives {gbo.__version__}"
    print(f"python {platform.python_version()}, {versions}")
    rng = np.random.default_rng(0)
    n = args.rows
    X = rng.normal(size=(n, 10)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] ** 2 + rng.normal(size=n) > 1.0).astype(np.float64)
    pool = cb.Pool(X, y, baseline=np.zeros(n))  # start 0 on both sides
    same = {
        "iterations": args.iterations,
        "depth": 6,
        "learning_rate": 0.1,
        "random_seed": 0,
        "thread_count": args.threads,
        "verbose": False,
        "allow_writing_files": False,
        "leaf_estimation_iterations": 1,
        "leaf_estimation_method": "Newton",
        "leaf_estimation_backtracking": "No",
        "eval_metric": "Logloss",
    }
    loss = gbo.WeightedLogLoss()
    builtin, ours, ours_metric = [], [], []
    for _ in range(args.repeats):
        builtin.append(fit_seconds({**same, "loss_function": "Logloss"}, pool))
        ours.append(fit_seconds({**same, "loss_function": gbo.catboost.Objective(loss)}, pool))
        ours_metric.append(
            fit_seconds(
                {**same, "loss_function": gbo.catboost.Objective(loss), "eval_metric": gbo.catboost.Metric(loss)}, pool
            )
        )
    b, o, om = (statistics.median(v) for v in (builtin, ours, ours_metric))

    def runs(v: list[float]) -> str:
        return " ".join(f"{x:.2f}" for x in v)

    print(
        f"\nbinary, {n} rows x 10 features, {args.iterations} iterations, depth 6, {args.threads} thread(s), "
        f"{args.repeats} alternating runs (medians; all runs in seconds)"
    )
    print(f"  built-in Logloss:                          {b:6.2f} s  [{runs(builtin)}]")
    print(f"  Objective(WeightedLogLoss):                {o:6.2f} s  [{runs(ours)}]  ratio {o / b:.2f}")
    print(f"  Objective + Metric(WeightedLogLoss):       {om:6.2f} s  [{runs(ours_metric)}]  ratio {om / b:.2f}")

    # per-call cost of the objective on CatBoost's chunks
    calls = []

    class Counting(gbo.catboost.Objective):
        def calc_ders_range(self, approxes, targets, weights):
            t = time.perf_counter()
            out = super().calc_ders_range(approxes, targets, weights)
            calls.append((len(approxes), time.perf_counter() - t))
            return out

    cb.CatBoost({**same, "loss_function": Counting(loss)}).fit(pool)
    sizes = [c[0] for c in calls]
    per_call = statistics.median(c[1] for c in calls) * 1e6
    total = sum(c[1] for c in calls)
    print(
        f"  objective calls: {len(calls)} (chunks of {min(sizes)}-{max(sizes)} rows), median {per_call:.0f} us "
        f"per call, {total:.2f} s in all"
    )

    # multiclass: once per row
    m = args.multiclass_rows
    Xm = rng.normal(size=(m, 10))
    ym = np.argmax(Xm[:, :3] + rng.normal(size=(m, 3)), axis=1).astype(np.float64)
    mpool = cb.Pool(Xm, ym, baseline=np.zeros((m, 3)))
    msame = {**same, "iterations": args.multiclass_iterations, "eval_metric": "MultiClass"}
    tb = fit_seconds({**msame, "loss_function": "MultiClass"}, mpool)
    to = fit_seconds(
        {**msame, "loss_function": gbo.catboost.Objective(gbo.MulticlassFocalLoss(gamma=0.0)), "classes_count": 3},
        mpool,
    )
    print(
        f"\nmulticlass (3 classes), {m} rows, {args.multiclass_iterations} iterations: built-in MultiClass "
        f"{tb:.2f} s, Objective(MulticlassFocalLoss(gamma=0)) {to:.2f} s, ratio {to / tb:.0f}; "
        f"{to / (m * args.multiclass_iterations) * 1e6:.0f} us per row and iteration"
    )


if __name__ == "__main__":
    main()
