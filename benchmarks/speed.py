# ruff: noqa: B023  (the closures are called inside the loop iteration that defines them)
"""Training time with gbobjectives objectives / with the engines' built-in objectives (issue 7).

Each engine runs in its own subprocess (their OpenMP pools busy-wait and slow each other down
~10x when both are loaded in one process with 2 threads); OMP_WAIT_POLICY=PASSIVE is set too.
Within a subprocess the built-in and the custom runs are INTERLEAVED (b, c, b, c, ...) and the
median of ``--repeats`` is reported. Also: time per call of the public ``gradient_hessian`` and
of the adapter path the engines call, and the adapter's peak extra memory (tracemalloc).

Run:  python benchmarks/speed.py [--rows 1000000] [--rounds 50] [--repeats 3] [--out benchmarks/results/speed.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

CASES = [  # name, loss expression, xgb built-in params, lgb built-in params, task
    ("WeightedLogLoss", "gbo.WeightedLogLoss()", {"objective": "binary:logistic"}, {"objective": "binary"}, "binary"),
    (
        "FocalLoss(gamma=2)",
        "gbo.FocalLoss(gamma=2.0)",
        {"objective": "binary:logistic"},
        {"objective": "binary"},
        "binary",
    ),
    (
        "MulticlassFocalLoss(K=5)",
        "gbo.MulticlassFocalLoss(gamma=2.0)",
        {"objective": "multi:softprob", "num_class": 5},
        {"objective": "multiclass", "num_class": 5},
        "multiclass",
    ),
    (
        "HuberLoss",
        "gbo.HuberLoss(delta=1.0)",
        {"objective": "reg:pseudohubererror", "huber_slope": 1.0},
        {"objective": "huber", "alpha": 1.0},
        "regression",
    ),
    (
        "QuantileLoss(0.9)",
        "gbo.QuantileLoss(quantile=0.9)",
        {"objective": "reg:quantileerror", "quantile_alpha": 0.9},
        {"objective": "quantile", "alpha": 0.9},
        "regression",
    ),
]


def _data(task, rows, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 20)).astype(np.float32)
    s = X[:, :5] @ rng.normal(size=5)
    if task == "binary":
        y = (s + rng.logistic(size=rows) > 1.0).astype(np.float32)
    elif task == "multiclass":
        y = np.digitize(s + rng.normal(size=rows), np.quantile(s, [0.2, 0.4, 0.6, 0.8])).astype(np.float32)
    else:
        y = (s + rng.standard_t(3, size=rows)).astype(np.float32)
    return X, y


def _child(engine, rows, rounds, repeats):
    import numpy as np

    import gbobjectives as gbo  # noqa: F401 (used by eval)

    out = []
    for name, expr, xgb_p, lgb_p, task in CASES:
        loss = eval(expr)
        X, y = _data(task, rows)
        if engine == "xgboost":
            import xgboost as xgb

            d = xgb.DMatrix(X, label=y, nthread=2)
            base = {"tree_method": "hist", "max_depth": 6, "eta": 0.1, "nthread": 2, "max_bin": 256}

            def builtin():
                xgb.train({**base, **xgb_p}, d, rounds)

            def custom():
                gbo.xgboost.train(loss, {**base, **({"num_class": 5} if task == "multiclass" else {})}, d, rounds)
        else:
            import lightgbm as lgb

            ds = lgb.Dataset(X, label=y, params={"max_bin": 255, "verbose": -1}).construct()
            base = {"num_leaves": 63, "learning_rate": 0.1, "num_threads": 2, "verbose": -1, "max_bin": 255}

            def builtin():
                lgb.train({**base, **lgb_p}, ds, rounds)

            def custom():
                gbo.lightgbm.train(loss, {**base, **({"num_class": 5} if task == "multiclass" else {})}, ds, rounds)

        tb, tc = [], []
        for _ in range(repeats):
            for f, acc in ((builtin, tb), (custom, tc)):
                t = time.perf_counter()
                f()
                acc.append(time.perf_counter() - t)
        mb, mc = float(np.median(tb)), float(np.median(tc))
        out.append(
            {
                "engine": engine,
                "loss": name,
                "builtin": lgb_p["objective"] if engine == "lightgbm" else xgb_p["objective"],
                "t_builtin_s": tb,
                "t_custom_s": tc,
                "ratio": mc / mb,
            }
        )
        print(json.dumps(out[-1]), file=sys.stderr, flush=True)
    return out


def _per_call(rows):
    import tracemalloc

    import numpy as np

    import gbobjectives as gbo  # noqa: F401
    from gbobjectives.engines import _common

    class Owner:
        pass

    res = []
    for name, expr, _, _, task in CASES:
        loss = eval(expr)
        y = _data(task, rows)[1]
        k = 5 if task == "multiclass" else None
        z32 = np.random.default_rng(1).normal(size=(rows, k) if k else rows).astype(np.float32)
        z64 = z32.astype(np.float64)
        row = {"loss": name}
        for label, f in (
            ("public_f64_ms", lambda: loss.gradient_hessian(y, z64)),
            (
                "adapter_xgb_f32_ms",
                (lambda o: lambda: _common.gradient_hessian(loss, z32, o, y, None, "XGBoost"))(Owner()),
            ),
            (
                "adapter_lgb_f64_ms",
                (lambda o: lambda: _common.gradient_hessian(loss, z64, o, y, None, "LightGBM"))(Owner()),
            ),
        ):
            f()
            ts = []
            for _ in range(7):
                t = time.process_time()
                f()
                ts.append(time.process_time() - t)
            row[label] = 1e3 * float(np.median(ts))
            tracemalloc.start()
            f()
            row[label.replace("_ms", "_peak_MB")] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        res.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default="benchmarks/results/speed.md")
    ap.add_argument("--child", choices=["xgboost", "lightgbm", "percall"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        res = _per_call(a.rows) if a.child == "percall" else _child(a.child, a.rows, a.rounds, a.repeats)
        print(json.dumps(res))
        return
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    results = {}
    for child in ("percall", "xgboost", "lightgbm"):
        cmd = [
            sys.executable,
            __file__,
            "--child",
            child,
            "--rows",
            str(a.rows),
            "--rounds",
            str(a.rounds),
            "--repeats",
            str(a.repeats),
        ]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        results[child] = json.loads(p.stdout.strip().splitlines()[-1])
    import lightgbm
    import numpy
    import xgboost

    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    meta = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "xgboost": xgboost.__version__,
        "lightgbm": lightgbm.__version__,
        "rows": a.rows,
        "rounds": a.rounds,
        "repeats": a.repeats,
        "load_avg": os.getloadavg(),
    }
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"meta": meta, **results}, indent=1))
    lines = [
        "# Training-time ratios (issue 7)\n",
        f"`python benchmarks/speed.py --rows {a.rows} --rounds {a.rounds} --repeats {a.repeats}`\n",
        "```",
        json.dumps(meta, indent=1),
        "```\n",
        "| engine | loss | built-in | median built-in s | median custom s | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for eng in ("xgboost", "lightgbm"):
        for r in results[eng]:
            lines.append(
                f"| {eng} | {r['loss']} | {r['builtin']} | {numpy.median(r['t_builtin_s']):.2f} | "
                f"{numpy.median(r['t_custom_s']):.2f} | {r['ratio']:.3f} |"
            )
    lines += [
        "",
        "| loss | public f64 ms | adapter XGBoost (f32) ms | adapter LightGBM (f64) ms | adapter peak MB (xgb/lgb) |",
        "|---|---|---|---|---|",
    ]
    for r in results["percall"]:
        lines.append(
            f"| {r['loss']} | {r['public_f64_ms']:.1f} | {r['adapter_xgb_f32_ms']:.1f} | "
            f"{r['adapter_lgb_f64_ms']:.1f} | {r['adapter_xgb_f32_peak_MB']:.0f}/{r['adapter_lgb_f64_peak_MB']:.0f} |"
        )
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
