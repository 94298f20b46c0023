"""Robust and quantile losses through every plain engine API, from the engine's own start (issue 13).

A user passes ``loss.xgboost_objective`` / ``loss.lightgbm_objective`` / ``loss.sklearn_objective``
straight to ``xgb.train``, ``xgb.cv``, ``XGBRegressor``, ``lgb.train``, ``lgb.cv`` or
``LGBMRegressor``, without ``base_score`` / ``init_score``: XGBoost then starts every row at 0.5,
LightGBM at 0, far from a target around 1000. We report the held-out loss (pinball for the
quantile, the loss itself otherwise) of

* the engine's built-in objective where one exists (quantile: ``reg:quantileerror`` /
  ``quantile``; absolute error: ``reg:absoluteerror`` / ``l1``; Huber: LightGBM ``huber``),
  trained the same way;
* ``before``: the Hessian that was the default before majorize-minimize curvature
  (``constant`` for Huber, log-cosh and quantile; ``exact`` for pseudo-Huber);
* ``after``: today's default (``mm``);
* our helpers ``gbo.xgboost.train`` / ``gbo.lightgbm.train`` (start from ``loss.init_score``;
  the quantile also re-fits its leaves), the reference of the issue for the robust losses.

``xgb.cv`` / ``lgb.cv`` (3 folds) report the mean test-fold loss of our metric after the last
round; the built-in's cv row is computed with the same metric.

Data: y = 1000 + 5 f(X) + t(df=2) (1 + |x_5|/2), X ~ N(0, I_10); 20,000 training and 20,000
held-out rows. 300 rounds, learning rate 0.1, XGBoost max_depth 6 (hist), LightGBM 63 leaves,
one thread.

Run:  python benchmarks/every_api.py [--rounds 300] [--seed 0] [--out benchmarks/results/every_api.md]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import sklearn
import xgboost as xgb

import gbobjectives as gbo

N = 20_000
LR = 0.1
XGB = {"max_depth": 6, "eta": LR, "nthread": 1, "tree_method": "hist", "seed": 0}
LGB = {"num_leaves": 63, "learning_rate": LR, "num_threads": 1, "verbose": -1, "seed": 0, "deterministic": True}
LOSSES = [
    (
        gbo.QuantileLoss(0.9),
        "constant",
        {"objective": "reg:quantileerror", "quantile_alpha": 0.9},
        {"objective": "quantile", "alpha": 0.9},
    ),
    (gbo.HuberLoss(20.0), "constant", None, {"objective": "huber", "alpha": 20.0}),
    (gbo.PseudoHuberLoss(20.0), "exact", None, None),
    (gbo.LogCoshLoss(), "constant", None, None),
    (gbo.AbsoluteErrorLoss(), "constant", {"objective": "reg:absoluteerror"}, {"objective": "l1"}),
]
APIS = ["xgb.train", "xgb.cv", "XGBRegressor", "lgb.train", "lgb.cv", "LGBMRegressor"]


def data(seed: int, n: int = N, n_features: int = 10) -> tuple[np.ndarray, ...]:
    """``n`` training and ``n`` held-out rows: y = 1000 + 5 f(X) + t(2) (1 + |x_5|/2)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2 * n, n_features))
    f = 3 * X[:, 0] + X[:, 1] ** 2 + 2 * np.sin(2 * X[:, 2]) + X[:, 3] * X[:, 4]
    y = 1000 + 5 * f + rng.standard_t(2, size=2 * n) * (1 + 0.5 * np.abs(X[:, 5]))
    return X[:n], y[:n], X[n:], y[n:]


def run_api(
    api: str, loss: Any, builtin: dict | None, d: tuple, rounds: int, xgb_params: dict = XGB, lgb_params: dict = LGB
) -> float:
    """Held-out mean loss (cv: mean test-fold loss of 3 folds) of ``loss`` as the objective from
    the engine's own start, or of the built-in objective ``builtin`` scored with ``loss``.
    ``tests/test_every_api.py`` calls this with smaller trees."""
    X, y, Xv, yv = d
    heldout = lambda raw: float(np.mean(loss.loss(yv, raw)))  # noqa: E731
    if api == "xgb.train":
        if builtin:
            b = xgb.train({**xgb_params, **builtin}, xgb.DMatrix(X, label=y), rounds)
            return heldout(b.predict(xgb.DMatrix(Xv)))
        b = xgb.train(xgb_params, xgb.DMatrix(X, label=y), rounds, obj=loss.xgboost_objective)
        return heldout(b.predict(xgb.DMatrix(Xv), output_margin=True))
    if api == "xgb.cv":
        res = xgb.cv(
            {**xgb_params, **(builtin or {}), "disable_default_eval_metric": True},
            xgb.DMatrix(X, label=y),
            rounds,
            nfold=3,
            seed=0,
            obj=None if builtin else loss.xgboost_objective,
            # with a built-in objective XGBoost hands the metric predictions (identity link here)
            custom_metric=_xgb_pred_metric(loss) if builtin else loss.xgboost_metric,
        )
        return float(res[f"test-{loss.name}-mean"].iloc[-1])
    if api == "XGBRegressor":
        kw = {
            "n_estimators": rounds,
            "max_depth": xgb_params["max_depth"],
            "learning_rate": xgb_params["eta"],
            "n_jobs": 1,
            "random_state": 0,
        }
        m = xgb.XGBRegressor(**kw, **(builtin or {"objective": loss.sklearn_objective})).fit(X, y)
        return heldout(m.predict(Xv))
    if api == "lgb.train":
        p = {**lgb_params, **(builtin or {"objective": loss.lightgbm_objective})}
        return heldout(lgb.train(p, lgb.Dataset(X, label=y), rounds).predict(Xv))
    if api == "lgb.cv":
        p = {**lgb_params, "metric": "None", **(builtin or {"objective": loss.lightgbm_objective})}
        res = lgb.cv(p, lgb.Dataset(X, label=y), rounds, nfold=3, seed=0, stratified=False, feval=loss.lightgbm_metric)
        return float(res[f"valid {loss.name}-mean"][-1])
    if api == "LGBMRegressor":
        kw = {
            "n_estimators": rounds,
            "num_leaves": lgb_params["num_leaves"],
            "learning_rate": lgb_params["learning_rate"],
            "n_jobs": 1,
            "random_state": 0,
            "verbose": -1,
            **(builtin or {"objective": loss.sklearn_objective}),
        }
        return heldout(lgb.LGBMRegressor(**kw).fit(X, y).predict(Xv))
    raise ValueError(f"unknown api {api!r}; expected one of {APIS}")


def _xgb_pred_metric(loss: Any) -> Any:
    def metric(predt: np.ndarray, d: Any) -> tuple[str, float]:
        return loss.name, float(np.mean(loss.loss(d.get_label(), predt)))

    return metric


def run_helper(engine: str, loss: Any, d: tuple, rounds: int, xgb_params: dict = XGB, lgb_params: dict = LGB) -> float:
    """Held-out mean loss through ``gbo.xgboost.train`` (``engine="xgb"``) or ``gbo.lightgbm.train``."""
    X, y, Xv, yv = d
    if engine == "xgb":
        b = gbo.xgboost.train(loss, xgb_params, xgb.DMatrix(X, label=y), rounds, verbose_eval=False)
        raw = b.predict(xgb.DMatrix(Xv), output_margin=True)
    else:
        b = gbo.lightgbm.train(loss, lgb_params, lgb.Dataset(X, label=y), rounds)
        raw = b.predict(Xv, raw_score=True)  # the helper folds the start into the booster
    return float(np.mean(loss.loss(yv, raw)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/every_api.md")
    args = ap.parse_args()
    d = data(args.seed)
    t0 = time.time()
    lines = [
        "# Every plain API, from the engine's own start (issue 13)",
        "",
        f"Generated by `benchmarks/every_api.py --rounds {args.rounds} --seed {args.seed}` "
        f"({time.strftime('%Y-%m-%d')}).",
        "",
        f"- machine: {_cpu()}, Python {platform.python_version()}",
        f"- xgboost {xgb.__version__}, lightgbm {lgb.__version__}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}; 1 thread",
        f"- data: y = 1000 + 5 f(X) + t(2) (1 + |x5|/2); {N} train / {N} held-out rows; {args.rounds} rounds, "
        f"learning rate {LR}, XGBoost depth 6, LightGBM 63 leaves",
        "- held-out mean loss (cv: mean test-fold loss of 3 folds); no `base_score`/`init_score` "
        "(XGBoost starts at 0.5, LightGBM at 0); ratio = after / reference",
        "- reference: the built-in objective where one exists (quantile, absolute error), else our helper on "
        "the same engine",
        "",
        "| loss | API | built-in | before | after (mm) | helper | after / reference |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for loss, old_hessian, xgb_builtin, lgb_builtin in LOSSES:
        before_loss = loss.with_params(hessian=old_hessian)
        helpers = {e: run_helper(e, loss, d, args.rounds) for e in ("xgb", "lgb")}
        for api in APIS:
            engine = "xgb" if api.lower().startswith("xgb") else "lgb"
            builtin_params = xgb_builtin if engine == "xgb" else lgb_builtin
            builtin = run_api(api, loss, builtin_params, d, args.rounds) if builtin_params else float("nan")
            before = run_api(api, before_loss, None, d, args.rounds)
            after = run_api(api, loss, None, d, args.rounds)
            has_builtin = builtin_params and loss.short_name in ("quantile", "absolute_error")
            ref = builtin if has_builtin else helpers[engine]
            if api.endswith(".cv"):
                # the helpers have no cv (their loss is on the held-out rows): the built-in's cv only
                ref = builtin if builtin_params else float("nan")
            cells = [repr(loss), api, _f(builtin), _f(before), _f(after), _f(helpers[engine]), _r(after, ref)]
            row = "| " + " | ".join(cells) + " |"
            print(row, flush=True)
            lines.append(row)
    lines += ["", f"Total time {time.time() - t0:.0f} s."]
    Path(args.out).write_text("\n".join(lines) + "\n")


def _f(v: float) -> str:
    return "-" if not np.isfinite(v) else f"{v:.4g}"


def _r(a: float, b: float) -> str:
    return "-" if not (np.isfinite(a) and np.isfinite(b)) else f"{a / b:.3f}"


def _cpu() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text()
        model = next(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name"))
        flags = next(line for line in info.splitlines() if line.startswith("flags"))
        simd = "AVX-512" if "avx512f" in flags else ("AVX2" if "avx2" in flags else "no AVX2")
        return f"{model} ({simd}), {len([1 for line in info.splitlines() if line.startswith('processor')])} cores"
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
