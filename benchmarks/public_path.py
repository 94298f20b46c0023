"""Per call: the public float64 ``loss.gradient_hessian`` against the engine path (issue 14).

Issue 14 asks the public float64 method to stay within 3x of what one XGBoost objective call
costs (float32 scores, reused outputs) at 1M rows. Both are timed here in one process, the
calls of the two paths alternating, median of ``--calls`` calls each:

* public: ``loss.gradient_hessian(y, z)`` on float64 numpy arrays (binary: float 0/1 labels;
  multiclass K = 5: int labels), returning two fresh float64 arrays;
* engine: ``loss.xgboost_objective(z32, dmatrix)``, the adapter XGBoost calls every round;
  then each path again in a run of calls of its own ("alone"), and, alone too:
* public into outputs: ``loss.gradient_hessian(y, z, gradient_out=g, hessian_out=h)`` with the
  same two arrays every call (what a caller in a loop can do, as with scikit-learn's losses);
* new memory: ``np.negative(z)`` twice, two fresh float64 arrays of the outputs' size with the
  cheapest arithmetic: what returning two new arrays costs any numpy function on this machine.

Fresh outputs: the first calls of a process pay the page faults of two new 8 MB arrays (the
kernel writing them is then 2-4x slower); glibc's malloc soon serves such sizes from its heap
(its mmap threshold grows with the first free of a large block, up to 32 MB), so the steady
state that the median reports is the cost a user's loop sees. Both thread settings are run
(``GBOBJECTIVES_NUM_THREADS`` = 1 and 2), each in its own process.

Run:  python benchmarks/public_path.py [--rows 1000000] [--calls 25] [--out benchmarks/results/public_path.md]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CASES = [
    ("WeightedLogLoss", "gbo.WeightedLogLoss()", 1),
    ("FocalLoss(gamma=2)", "gbo.FocalLoss(gamma=2.0)", 1),
    ("MulticlassFocalLoss(K=5)", "gbo.MulticlassFocalLoss(gamma=2.0)", 5),
]


def _median_ms(f, args: tuple, calls: int) -> float:
    """Median milliseconds of ``calls`` calls ``f(*args)`` in a row."""
    ts = []
    for _ in range(calls):
        t = time.perf_counter()
        f(*args)
        ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2] * 1e3


def _into_outputs(loss, y, z, g, h) -> None:
    loss.gradient_hessian(y, z, gradient_out=g, hessian_out=h)


def _new_memory(z) -> tuple:
    import numpy as np

    return np.negative(z), np.negative(z)


def _child(rows: int, calls: int) -> dict:
    import numpy as np
    import xgboost as xgb

    import gbobjectives as gbo  # noqa: F401 (used by eval)

    rng = np.random.default_rng(0)
    out = {"config": gbo.show_config(print_config=False)}
    for name, expr, k in CASES:
        loss = eval(expr)
        if k == 1:
            z, y = rng.normal(0, 3, rows), (rng.random(rows) < 0.3).astype(np.float64)
        else:
            z, y = rng.normal(0, 3, (rows, k)), rng.integers(0, k, rows)
        dtrain = xgb.DMatrix(np.zeros((rows, 1), np.float32), label=y.astype(np.float32))
        z32 = z.astype(np.float32)
        objective = loss.xgboost_objective
        times = {"public": [], "engine": []}
        for _ in range(calls):
            t = time.perf_counter()
            loss.gradient_hessian(y, z)
            times["public"].append(time.perf_counter() - t)
            t = time.perf_counter()
            objective(z32, dtrain)
            times["engine"].append(time.perf_counter() - t)
        med = {key: float(np.median(v)) * 1e3 for key, v in times.items()}
        # and each path on its own, one run of calls after the other (the engine path then
        # keeps its buffers warm in the caches, as in training, where nothing runs in between)
        g, h = np.empty_like(z), np.empty_like(z)
        alone = {
            "engine": _median_ms(objective, (z32, dtrain), calls),
            "public": _median_ms(loss.gradient_hessian, (y, z), calls),
            "public into outputs": _median_ms(_into_outputs, (loss, y, z, g, h), calls),
            "new memory": _median_ms(_new_memory, (z,), calls),
        }
        out[name] = {
            **med,
            "first public call ms": times["public"][0] * 1e3,
            "ratio": med["public"] / med["engine"],
            "alone": alone,
            "ratio alone": alone["public"] / alone["engine"],
            "ratio into outputs": alone["public into outputs"] / alone["engine"],
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--calls", type=int, default=25)
    ap.add_argument("--out", default="benchmarks/results/public_path.md")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(_child(a.rows, a.calls)))
        return
    sys.path.insert(0, str(Path(__file__).parent))
    from speed import _meta

    a.rounds, a.repeats = "-", a.calls
    meta = _meta(a)
    results = {}
    for threads in ("1", "2"):
        env = {**os.environ, "GBOBJECTIVES_NUM_THREADS": threads}
        cmd = [sys.executable, __file__, "--child", "--rows", str(a.rows), "--calls", str(a.calls)]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        results[threads] = json.loads(p.stdout.strip().splitlines()[-1])
    lines = [
        "# Public float64 gradient_hessian against the engine path, per call (issue 14)\n",
        f"`python benchmarks/public_path.py --rows {a.rows} --calls {a.calls}`; goal: public <= 3x engine.\n",
        "```",
        json.dumps({**meta, "kernels": results["1"]["config"].get("kernels")}, indent=1),
        "```\n",
        "Alternating: the two calls take turns; alone: each path's calls in a run of their own;"
        " into outputs: the public call writing the same two arrays every call (alone); new memory:"
        " two fresh float64 arrays of the outputs' size from `np.negative(z)` (alone).\n",
        "| loss | threads | public ms | engine path ms | ratio | public alone ms | engine alone ms | ratio alone |"
        " public into outputs ms | ratio into outputs | new memory ms | first public call ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for threads, res in results.items():
        for name, _, _ in CASES:
            r = res[name]
            lines.append(
                f"| {name} | {threads} | {r['public']:.2f} | {r['engine']:.2f} | **{r['ratio']:.2f}** |"
                f" {r['alone']['public']:.2f} | {r['alone']['engine']:.2f} | **{r['ratio alone']:.2f}** |"
                f" {r['alone']['public into outputs']:.2f} | **{r['ratio into outputs']:.2f}** |"
                f" {r['alone']['new memory']:.2f} | {r['first public call ms']:.1f} |"
            )
    text = "\n".join(lines) + "\n"
    Path(a.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
