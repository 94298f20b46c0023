"""Training time at small sizes, with a validation set and our metric every round (issue 14).

Setting of the issue: 20,000 training rows x 20 float32 features, a 4,000-row validation set
evaluated every round, 300 rounds, XGBoost depth 4 (hist) / LightGBM 15 leaves, learning rate
0.1, ONE thread for the engine and for our objective (``GBOBJECTIVES_NUM_THREADS=1``). At this
size a round of the engine takes ~1 ms, so what decides the ratio is the per-call cost of the
objective and the metric (label fetching, validation, dispatch), not the arithmetic.

Compared, whole trainings, interleaved (built-in, plain, helper, built-in, ...; the order
reversed every other repeat), ratio of medians over ``--repeats``:

* built-in: ``binary:logistic`` / ``binary`` with the engine's own logloss metric;
* plain: ``xgb.train(obj=loss.xgboost_objective, custom_metric=loss.xgboost_metric)`` /
  ``lgb.train({"objective": loss.lightgbm_objective}, feval=loss.lightgbm_metric)``;
* helper: ``gbo.xgboost.train`` / ``gbo.lightgbm.train`` (start score, our metric on the
  validation set);
* floor: the same plain API with the cheapest Python objective and metric one can write (logloss
  in numpy on labels captured once, no checks, no weights): what the engine's custom-objective
  path (predictions handed to Python, gradients handed back, the metric's prediction) costs by
  itself, whatever the objective.

Also measured in LOCKSTEP (robust against the VM's drift between whole trainings, which reached
1.7x for XGBoost's built-in here): a built-in, a plain-API and a floor booster advance one round
(plus its validation metric) each, alternately, every round timed on its own; the ratio of the sums,
median over ``--repeats``.

Also printed: microseconds per call of the objective and the metric adapters at these sizes,
with the compiled kernels and (in a subprocess with ``GBOBJECTIVES_PURE_PYTHON=1``) on the numpy
path that a machine without a C compiler gets.

Run:  python benchmarks/speed_small.py [--rows 20000] [--rounds 300] [--repeats 5]
      [--out benchmarks/results/speed_small.md]
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

os.environ.setdefault("GBOBJECTIVES_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import lightgbm as lgb  # noqa: E402
import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402
from every_api import _cpu  # noqa: E402

import gbobjectives as gbo  # noqa: E402

LOSSES = {"WeightedLogLoss": gbo.WeightedLogLoss(), "FocalLoss(gamma=2)": gbo.FocalLoss(gamma=2.0)}
XGB = {"tree_method": "hist", "max_depth": 4, "eta": 0.1, "nthread": 1}
LGB = {"num_leaves": 15, "learning_rate": 0.1, "num_threads": 1, "verbose": -1}


def data(rows: int, valid: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows + valid, 20)).astype(np.float32)
    y = (X[:, :5] @ rng.normal(size=5) + rng.logistic(size=rows + valid) > 1.0).astype(np.float32)
    return X[:rows], y[:rows], X[rows:], y[rows:]


def _floor_objective(y: np.ndarray):
    """The cheapest logloss objective and metric (labels captured once, no checks)."""
    y = y.astype(np.float32)

    def obj(predt, _data):
        p = 1.0 / (1.0 + np.exp(-predt))
        return p - y, p * (1.0 - p)

    return obj


def _floor_metric(yv: np.ndarray, lightgbm: bool):
    yv = yv.astype(np.float32)

    def metric(predt, _data):
        value = float(np.mean(np.logaddexp(0.0, np.where(yv == 1, -predt, predt))))
        return ("floor", value, False) if lightgbm else ("floor", value)

    return metric


def runs(loss, X, y, Xv, yv, rounds: int) -> dict[str, dict]:
    """{engine: {variant: () -> None}}: one whole training each."""
    dx, dxv = xgb.DMatrix(X, label=y, nthread=1), xgb.DMatrix(Xv, label=yv, nthread=1)
    evals = [(dxv, "valid")]
    dl = lgb.Dataset(X, label=y, params={"verbose": -1}).construct()
    dlv = lgb.Dataset(Xv, label=yv, reference=dl, params={"verbose": -1}).construct()
    return {
        "xgboost": {
            "built-in": lambda: xgb.train(
                {**XGB, "objective": "binary:logistic", "eval_metric": "logloss"},
                dx,
                rounds,
                evals=evals,
                verbose_eval=False,
            ),
            "plain": lambda: xgb.train(
                {**XGB, "disable_default_eval_metric": True},
                dx,
                rounds,
                evals=evals,
                obj=loss.xgboost_objective,
                custom_metric=loss.xgboost_metric,
                verbose_eval=False,
            ),
            "helper": lambda: gbo.xgboost.train(loss, XGB, dx, rounds, evals=evals, verbose_eval=False),
            "floor": lambda: xgb.train(
                {**XGB, "disable_default_eval_metric": True},
                dx,
                rounds,
                evals=evals,
                obj=_floor_objective(y),
                custom_metric=_floor_metric(yv, False),
                verbose_eval=False,
            ),
        },
        "lightgbm": {
            "built-in": lambda: lgb.train(
                {**LGB, "objective": "binary", "metric": "binary_logloss"}, dl, rounds, valid_sets=[dlv]
            ),
            "plain": lambda: lgb.train(
                {**LGB, "objective": loss.lightgbm_objective, "metric": "None"},
                dl,
                rounds,
                valid_sets=[dlv],
                feval=loss.lightgbm_metric,
            ),
            "helper": lambda: gbo.lightgbm.train(loss, LGB, dl, rounds, valid_sets=[dlv]),
            "floor": lambda: lgb.train(
                {**LGB, "objective": _floor_objective(y), "metric": "None"},
                dl,
                rounds,
                valid_sets=[dlv],
                feval=_floor_metric(yv, True),
            ),
        },
    }


def lockstep_steps(loss, X, y, Xv, yv) -> dict[str, dict]:
    """{engine: {variant: step(i)}}: round i and its validation metric on a new booster each."""
    dx, dxv = xgb.DMatrix(X, label=y, nthread=1), xgb.DMatrix(Xv, label=yv, nthread=1)
    dl = lgb.Dataset(X, label=y, params={"verbose": -1}).construct()
    dlv = lgb.Dataset(Xv, label=yv, reference=dl, params={"verbose": -1}).construct()

    def xgb_step(params, obj=None, metric=None):
        b = xgb.train(params, dx, 0)
        return lambda i: (b.update(dx, i, fobj=obj), b.eval_set([(dxv, "valid")], i, feval=metric))

    def lgb_step(params, obj=None, metric=None):
        b = lgb.Booster(params, train_set=dl)
        b.add_valid(dlv, "valid")
        return lambda i: (b.update(fobj=obj), b.eval_valid(feval=metric))

    plain_x, plain_l = {**XGB, "disable_default_eval_metric": True}, {**LGB, "objective": "none", "metric": "None"}
    return {
        "xgboost": {
            "built-in": xgb_step({**XGB, "objective": "binary:logistic", "eval_metric": "logloss"}),
            "plain": xgb_step(plain_x, loss.xgboost_objective, loss.xgboost_metric),
            "floor": xgb_step(plain_x, _floor_objective(y), _floor_metric(yv, False)),
        },
        "lightgbm": {
            "built-in": lgb_step({**LGB, "objective": "binary", "metric": "binary_logloss"}),
            "plain": lgb_step(plain_l, loss.lightgbm_objective, loss.lightgbm_metric),
            "floor": lgb_step(plain_l, _floor_objective(y), _floor_metric(yv, True)),
        },
    }


def lockstep(steps: dict, rounds: int) -> dict[str, float]:
    """Seconds per variant over ``rounds`` rounds, the variants' order rotated every round."""
    names = list(steps)
    total = dict.fromkeys(names, 0.0)
    for i in range(rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            t = time.perf_counter()
            steps[name](i)
            total[name] += time.perf_counter() - t
    return total


def per_call_us(loss, X, y, Xv, yv) -> dict[str, float]:
    """Median microseconds of one adapter call on the training / validation data."""
    dx, dxv = xgb.DMatrix(X, label=y), xgb.DMatrix(Xv, label=yv)
    dl = lgb.Dataset(X, label=y, params={"verbose": -1}).construct()
    dlv = lgb.Dataset(Xv, label=yv, reference=dl, params={"verbose": -1}).construct()
    z, zv = np.zeros(len(y), np.float32), np.zeros(len(yv), np.float32)
    calls = {
        "xgboost objective": lambda: loss.xgboost_objective(z, dx),
        "xgboost metric (valid)": lambda: loss.xgboost_metric(zv, dxv),
        "lightgbm objective": lambda: loss.lightgbm_objective(z.astype(np.float64), dl),
        "lightgbm metric (valid)": lambda: loss.lightgbm_metric(zv.astype(np.float64), dlv),
    }
    out = {}
    for name, f in calls.items():
        f()
        ts = []
        for _ in range(200):
            t = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t)
        out[name] = 1e6 * float(np.median(ts))
    return out


def per_call_numpy_path(rows: int, valid: int) -> dict[str, dict[str, float]]:
    """:func:`per_call_us` in a subprocess on the numpy path (``GBOBJECTIVES_PURE_PYTHON=1``)."""
    env = {**os.environ, "GBOBJECTIVES_PURE_PYTHON": "1"}
    cmd = [sys.executable, __file__, "--per-call-json", "--rows", str(rows), "--valid", str(valid)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd=os.path.dirname(__file__))
    return json.loads(done.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--valid", type=int, default=4_000)
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default="benchmarks/results/speed_small.md")
    ap.add_argument("--per-call-json", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    X, y, Xv, yv = data(a.rows, a.valid)
    if a.per_call_json:
        print(json.dumps({name: per_call_us(loss, X, y, Xv, yv) for name, loss in LOSSES.items()}))
        return
    config = gbo.show_config(print_config=False)
    load0 = os.getloadavg()
    lines = [
        "# Training time at 20k rows with a validation set and our metric every round (issue 14)",
        "",
        f"`python benchmarks/speed_small.py --rows {a.rows} --rounds {a.rounds} --repeats {a.repeats}`",
        "",
        f"- machine: {_cpu()}; load average before {tuple(round(v, 2) for v in load0)}",
        f"- python {platform.python_version()}, numpy {np.__version__}, xgboost {xgb.__version__}, "
        f"lightgbm {lgb.__version__}, gbobjectives {gbo.__version__}",
        f"- loss kernels: {config['kernels']} ({config.get('vector_math', config.get('reason'))})",
        f"- {a.rows} training / {a.valid} validation rows x 20 float32 features, {a.rounds} rounds, 1 thread "
        "(engine and objective), XGBoost depth 4 (hist), LightGBM 15 leaves; whole trainings interleaved, "
        "medians",
        "",
        "| loss | engine | built-in s | plain s | plain ratio | helper s | helper ratio | floor s | floor ratio "
        "| plain / floor |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lock_lines = [
        "",
        f"Lockstep, median over {a.repeats} repeats of the time ratios (plain API with our metric; floor):",
        "",
        "| loss | engine | plain / built-in | floor / built-in | plain / floor |",
        "|---|---|---:|---:|---:|",
    ]
    for name, loss in LOSSES.items():
        for engine in ("xgboost", "lightgbm"):
            ratios = []
            for _ in range(a.repeats):
                t = lockstep(lockstep_steps(loss, X, y, Xv, yv)[engine], a.rounds)
                ratios.append((t["plain"] / t["built-in"], t["floor"] / t["built-in"], t["plain"] / t["floor"]))
            med = np.median(np.array(ratios), axis=0)
            lock_lines.append(f"| {name} | {engine} | **{med[0]:.2f}** | {med[1]:.2f} | {med[2]:.2f} |")
            print(lock_lines[-1], flush=True)
    calls = []
    for name, loss in LOSSES.items():
        for engine, variants in runs(loss, X, y, Xv, yv, a.rounds).items():
            for f in variants.values():
                f()  # warm-up
            times: dict[str, list[float]] = {k: [] for k in variants}
            for rep in range(a.repeats):
                for key, f in list(variants.items())[:: 1 if rep % 2 == 0 else -1]:
                    t = time.perf_counter()
                    f()
                    times[key].append(time.perf_counter() - t)
            med = {k: float(np.median(v)) for k, v in times.items()}
            b = med["built-in"]
            lines.append(
                f"| {name} | {engine} | {b:.3f} | {med['plain']:.3f} | **{med['plain'] / b:.2f}** | "
                f"{med['helper']:.3f} | **{med['helper'] / b:.2f}** | {med['floor']:.3f} | {med['floor'] / b:.2f} | "
                f"{med['plain'] / med['floor']:.2f} |"
            )
            print(lines[-1], flush=True)
        calls.append((name, per_call_us(loss, X, y, Xv, yv)))
    lines += lock_lines
    lines += [
        "",
        "Microseconds per adapter call (median of 200):",
        "",
        "| loss | " + " | ".join(calls[0][1]) + " |",
        "|---|" + "---:|" * len(calls[0][1]),
    ]
    for name, c in calls:
        lines.append(f"| {name} | " + " | ".join(f"{v:.0f}" for v in c.values()) + " |")
    numpy_path = per_call_numpy_path(a.rows, a.valid)
    lines += ["", "The same calls on the numpy path (no compiled kernels: `GBOBJECTIVES_PURE_PYTHON=1`):", ""]
    lines += ["| loss | " + " | ".join(calls[0][1]) + " |", "|---|" + "---:|" * len(calls[0][1])]
    for name, c in numpy_path.items():
        lines.append(f"| {name} | " + " | ".join(f"{v:.0f}" for v in c.values()) + " |")
    lines += ["", f"load average after {tuple(round(v, 2) for v in os.getloadavg())}"]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
