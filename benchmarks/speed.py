# ruff: noqa: B023  (the closures are called inside the loop iteration that defines them)
"""Training time with gbobjectives objectives / with the engines' built-in objectives (issue 7).

Setting (issue 7): 1,000,000 rows x 20 float32 features, 50 rounds, histogram trees (XGBoost
depth 6, LightGBM 63 leaves), learning rate 0.1, 2 threads for the engine AND for our objective
(``GBOBJECTIVES_NUM_THREADS=2``).

Each engine runs in its own subprocess (their OpenMP pools slow each other down when both are
loaded in one process); OMP_WAIT_POLICY=PASSIVE is set too. Within a subprocess the built-in and
the custom runs of one case are INTERLEAVED (built-in, ours, [ours without leaf refit], built-in,
...), after one untimed warm-up round of each, and the ratio of medians over ``--repeats`` is
reported. Huber and quantile are timed with leaf refit (the default, what makes them as accurate
as the built-ins, issue 5) and without.

The machine's speed drifts between whole trainings (by up to 30% on the 2-core VM), so the
losses without leaf refit are also timed in LOCKSTEP: a built-in and a custom booster advance
alternately one round at a time, every round timed on its own, and the ratio of the two sums is
taken per repeat (median reported). Each round of ours is what ``gbo.xgboost.train`` /
``gbo.lightgbm.train`` run: the same start score and objective callable.

Also measured, in a third subprocess: the time per call of the objective adapters the engines
call (``loss.xgboost_objective`` on float32 margins and a DMatrix, ``loss.lightgbm_objective`` on
float64 scores and a Dataset, i.e. label fetching and validation included) at 1M rows, on 1 and 2
threads, and their peak extra memory (tracemalloc; first call, which allocates the reusable
buffers, and a steady-state call).

Run:  python benchmarks/speed.py [--rows 1000000] [--rounds 50] [--repeats 5] [--out benchmarks/results/speed.md]
      [--only xgboost|lightgbm|percall ...] [--case "QuantileLoss(0.9)" ...]
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

THREADS = 2

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
        "HuberLoss(delta=1)",
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


#: the trees of the issue-7 setting, the same for built-in and custom runs
XGB_BASE = {"tree_method": "hist", "max_depth": 6, "eta": 0.1, "nthread": THREADS, "max_bin": 256}
LGB_BASE = {"num_leaves": 63, "learning_rate": 0.1, "num_threads": THREADS, "verbose": -1, "max_bin": 255}


def _engine_data(engine, X, y):
    if engine == "xgboost":
        import xgboost as xgb

        return xgb.DMatrix(X, label=y, nthread=THREADS)
    import lightgbm as lgb

    # free_raw_data=False: leaf refit reads the raw features to place rows in leaves
    return lgb.Dataset(X, label=y, params={"max_bin": 255, "verbose": -1}, free_raw_data=False).construct()


def _child(engine, rows, rounds, repeats):
    import numpy as np

    import gbobjectives as gbo  # noqa: F401 (used by eval)

    out = []
    for name, expr, xgb_p, lgb_p, task in CASES:
        loss = eval(expr)
        X, y = _data(task, rows)
        d = _engine_data(engine, X, y)
        k = {"num_class": 5} if task == "multiclass" else {}
        if engine == "xgboost":
            import xgboost as xgb

            base = XGB_BASE

            def builtin(n=rounds):
                xgb.train({**base, **xgb_p}, d, n)

            def custom(n=rounds, refit=None):
                gbo.xgboost.train(loss, {**base, **k}, d, n, refit_leaves=refit)
        else:
            import lightgbm as lgb

            base = LGB_BASE

            def builtin(n=rounds):
                lgb.train({**base, **lgb_p}, d, n)

            def custom(n=rounds, refit=None):
                gbo.lightgbm.train(loss, {**base, **k}, d, n, refit_leaves=refit)

        runs = {"builtin": builtin, "ours": custom}
        if getattr(loss, "leaf_value", None) is not None:
            runs["ours, no refit"] = lambda n=rounds: custom(n, refit=False)
        for f in runs.values():  # warm-up: imports, kernel buffers, first-call costs
            f(2)
        times = {key: [] for key in runs}
        for rep in range(repeats):
            # alternate the order (b, c, ... then ..., c, b): a slow drift of the machine's speed
            # then weighs on both sides alike
            for key, f in list(runs.items())[:: 1 if rep % 2 == 0 else -1]:
                t = time.perf_counter()
                f()
                times[key].append(time.perf_counter() - t)
        med = {key: float(np.median(v)) for key, v in times.items()}
        row = {
            "engine": engine,
            "loss": name,
            "builtin": lgb_p["objective"] if engine == "lightgbm" else xgb_p["objective"],
            "times_s": times,
            "median_s": med,
            "ratios": {key: med[key] / med["builtin"] for key in runs if key != "builtin"},
        }
        if getattr(loss, "leaf_value", None) is None:  # (leaf refit runs inside train's callbacks)
            lock = [_lockstep(engine, loss, X, y, d, xgb_p, lgb_p, k, rounds) for _ in range(repeats)]
            row["lockstep_s"] = lock
            row["lockstep_ratio"] = float(np.median([o / b for b, o in lock]))
        out.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return out


def _lockstep(engine, loss, X, y, d, xgb_p, lgb_p, k, rounds):
    """(built-in s, ours s) for ``rounds`` rounds of two boosters advanced ALTERNATELY, one round
    each, every round timed on its own: both objectives see the same state of the machine,
    whose speed drifts by 10-30% between whole trainings on the benchmark VM."""
    base, builtin_p = (XGB_BASE, xgb_p) if engine == "xgboost" else (LGB_BASE, lgb_p)
    builtin = builtin_step(engine, d, {**base, **builtin_p})
    return alternate(builtin, ours_step(engine, loss, X, y, d, k), rounds)


def builtin_step(engine, d, params):
    """``step(i)``: boosting round i of a new booster with a built-in objective."""
    if engine == "xgboost":
        import xgboost as xgb

        b = xgb.train(params, d, 0)
        return lambda i: b.update(d, i)
    import lightgbm as lgb

    b = lgb.Booster(params, train_set=d)
    return lambda i: b.update()


def ours_step(engine, loss, X, y, d, k):
    """``step(i)``: what ``gbo.xgboost.train`` / ``gbo.lightgbm.train`` run in round i (the same
    start score, the same objective callable), on a new booster."""
    import numpy as np

    import gbobjectives as gbo

    if engine == "xgboost":
        from gbobjectives.engines.xgboost import _TrainingObjective  # what gbo.xgboost.train passes

        b = gbo.xgboost.train(loss, {**XGB_BASE, **k}, d, 0, verbose_eval=False)
        obj = _TrainingObjective(loss, d)
        return lambda i: b.update(d, i, fobj=obj)
    import lightgbm as lgb

    init = np.broadcast_to(loss.init_score(y), (len(y), k["num_class"]) if k else (len(y),))
    d_ours = lgb.Dataset(X, label=y, init_score=np.array(init), params={"max_bin": 255, "verbose": -1})
    return custom_step(engine, d_ours, {**LGB_BASE, **k}, loss.lightgbm_objective)


def custom_step(engine, d, params, obj):
    """``step(i)``: boosting round i of a new booster trained with the objective callable ``obj``."""
    if engine == "xgboost":
        import xgboost as xgb

        b = xgb.train(params, d, 0)
        return lambda i: b.update(d, i, fobj=obj)
    import lightgbm as lgb

    b = lgb.Booster({**params, "objective": "none", "metric": "None"}, train_set=d)
    return lambda i: b.update(fobj=obj)


def alternate(step_a, step_b, rounds):
    """(seconds in ``step_a``, seconds in ``step_b``) over ``rounds`` calls of each, alternating
    a, b, b, a, a, b, ... (``step(i)`` runs boosting round i), each call timed on its own."""
    ta = tb = 0.0
    for i in range(rounds):
        for step in (step_a, step_b) if i % 2 == 0 else (step_b, step_a):
            t = time.perf_counter()
            step(i)
            dt = time.perf_counter() - t
            if step is step_a:
                ta += dt
            else:
                tb += dt
    return ta, tb


def _per_call(rows):
    import tracemalloc

    import numpy as np

    import gbobjectives as gbo  # noqa: F401

    res = []
    for name, expr, _, _, task in CASES:
        loss = eval(expr)
        X, y = _data(task, rows)
        k = 5 if task == "multiclass" else None
        z = np.random.default_rng(1).normal(size=(rows, k) if k else rows)
        row = {"loss": name}
        for engine, obj, zin in (
            ("xgboost", loss.xgboost_objective, z.astype(np.float32)),
            ("lightgbm", loss.lightgbm_objective, z),
        ):
            d = _engine_data(engine, X[:, :1], y)
            for threads in (1, THREADS):
                os.environ["GBOBJECTIVES_NUM_THREADS"] = str(threads)
                obj(zin, d)
                ts = []
                for _ in range(15):
                    t = time.perf_counter()
                    obj(zin, d)
                    ts.append(time.perf_counter() - t)
                row[f"{engine}_ms_{threads}t"] = 1e3 * float(np.median(ts))
            os.environ["GBOBJECTIVES_NUM_THREADS"] = str(THREADS)
            d = _engine_data(engine, X[:, :1], y)  # a fresh data set: its first call allocates
            tracemalloc.start()
            obj(zin, d)  # allocates the reusable buffers (kept: they count in later baselines)
            row[f"{engine}_first_peak_MB"] = tracemalloc.get_traced_memory()[1] / 2**20
            for _ in range(2):  # the second call is the steady state
                base = tracemalloc.get_traced_memory()[0]
                tracemalloc.reset_peak()
                obj(zin, d)
                extra = tracemalloc.get_traced_memory()[1] - base
            row[f"{engine}_steady_peak_MB"] = extra / 2**20
            tracemalloc.stop()
        res.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return res


def _meta(a):
    import lightgbm
    import numpy
    import xgboost

    import gbobjectives

    try:
        cpu = next(
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "xgboost": xgboost.__version__,
        "lightgbm": lightgbm.__version__,
        "gbobjectives": gbobjectives.__version__,
        "rows": a.rows,
        "rounds": a.rounds,
        "repeats": a.repeats,
        "threads (engine and objective)": THREADS,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default="benchmarks/results/speed.md")
    ap.add_argument("--only", choices=["percall", "xgboost", "lightgbm"], action="append", help="run only these parts")
    ap.add_argument("--case", action="append", choices=[c[0] for c in CASES], help="run only these losses")
    ap.add_argument("--child", choices=["xgboost", "lightgbm", "percall"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.case:
        CASES[:] = [c for c in CASES if c[0] in a.case]
    if a.child:
        res = _per_call(a.rows) if a.child == "percall" else _child(a.child, a.rows, a.rounds, a.repeats)
        print(json.dumps(res))
        return
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "GBOBJECTIVES_NUM_THREADS": str(THREADS)}
    meta = _meta(a)
    meta["load_avg_before"] = os.getloadavg()
    results = {}
    t0 = time.time()
    for child in a.only or ("percall", "xgboost", "lightgbm"):
        cmd = [sys.executable, __file__, "--child", child]
        cmd += ["--rows", str(a.rows), "--rounds", str(a.rounds), "--repeats", str(a.repeats)]
        cmd += [arg for c in a.case or () for arg in ("--case", c)]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"the {child} benchmark failed (exit {p.returncode}):\n{p.stderr[-4000:]}")
        results[child] = json.loads(p.stdout.strip().splitlines()[-1])
    meta["load_avg_after"] = os.getloadavg()
    meta["wall_minutes"] = round((time.time() - t0) / 60, 1)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"meta": meta, **results}, indent=1) + "\n")
    out.write_text(_report(a, meta, results))
    print(out.read_text())


def _report(a, meta, results):
    lines = [
        "# Training time: our objectives / the built-in objectives (issue 7)\n",
        f"`python benchmarks/speed.py --rows {a.rows} --rounds {a.rounds} --repeats {a.repeats}`"
        " (raw numbers: `speed.json`)\n",
        "```",
        json.dumps(meta, indent=1),
        "```\n",
        "Ratio = median training time with our objective / median with the built-in objective, whole"
        " `train` calls interleaved in one process. Lockstep ratio = median over repeats of (our time /"
        " built-in time) when a built-in and a custom booster advance alternately one round at a time,"
        " each round timed alone (both see the same state of a machine whose speed drifts between"
        " whole trainings; losses with leaf refit are not measured so). Goals: WeightedLogLoss <= 1.05,"
        " FocalLoss(gamma=2) and MulticlassFocalLoss <= 1.10 (vs binary / softmax built-ins).\n",
    ]
    for eng in ("xgboost", "lightgbm"):
        if eng not in results:
            continue
        lines += [
            f"## {eng}\n",
            "| loss | built-in | built-in s | ours s | ratio | lockstep ratio | ours without leaf refit s | ratio |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results[eng]:
            m, q = r["median_s"], r["ratios"]
            norefit = f"{m['ours, no refit']:.2f} | {q['ours, no refit']:.3f}" if "ours, no refit" in m else "- | -"
            lock = f"**{r['lockstep_ratio']:.3f}**" if "lockstep_ratio" in r else "-"
            lines.append(
                f"| {r['loss']} | {r['builtin']} | {m['builtin']:.2f} | {m['ours']:.2f} | **{q['ours']:.3f}** | "
                f"{lock} | {norefit} |"
            )
        lines.append("")
    if "percall" in results:
        lines += [
            f"## One objective call at {a.rows:,} rows (adapter, labels fetched and validated)\n",
            "| loss | XGBoost ms (1 thread / 2) | LightGBM ms (1 thread / 2) |"
            " peak extra MB, first call (XGBoost / LightGBM) | peak extra MB, later calls |",
            "|---|---:|---:|---:|---:|",
        ]
        for r in results["percall"]:
            lines.append(
                f"| {r['loss']} | {r['xgboost_ms_1t']:.1f} / {r['xgboost_ms_2t']:.1f} | "
                f"{r['lightgbm_ms_1t']:.1f} / {r['lightgbm_ms_2t']:.1f} | "
                f"{r['xgboost_first_peak_MB']:.0f} / {r['lightgbm_first_peak_MB']:.0f} | "
                f"{r['xgboost_steady_peak_MB']:.1f} / {r['lightgbm_steady_peak_MB']:.1f} |"
            )
        lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
