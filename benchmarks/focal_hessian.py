"""Which Hessian should FocalLoss use by default? Measure the candidates in real training.

Candidates (see gbobjectives/losses/_focal_math.py): "exact" (negative for badly
misclassified rows), "clipped" (max(exact, 1e-16), what XGBoost does to a negative
Hessian), "upper" (the exact Hessian without its only negative term) and "gauss_newton".

Data: imbalanced binary problems (5% and 1% positives, label noise) from
``sklearn.datasets.make_classification``, 3 seeds. Both engines train 200 rounds from the
loss's own ``init_score`` with the same tree settings; we report held-out focal loss,
logloss of the probabilities, ROC AUC and PR AUC, averaged over seeds.

Run:  python benchmarks/focal_hessian.py  [--rounds 200] [--out benchmarks/results/focal_hessian.md]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import sklearn
import xgboost as xgb
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split

import gbobjectives as gbo

CANDIDATES = ("exact", "clipped", "upper", "gauss_newton")


def _data(seed: int, pos_rate: float):
    X, y = make_classification(
        n_samples=30_000,
        n_features=20,
        n_informative=8,
        weights=[1 - pos_rate],
        flip_y=0.02,
        class_sep=0.8,
        random_state=seed,
    )
    return train_test_split(X.astype(np.float32), y.astype(np.float64), test_size=0.33, random_state=seed, stratify=y)


def _train_xgb(loss, X, y, rounds, seed):
    start = loss.init_score(y)
    d = xgb.DMatrix(X, label=y, base_margin=np.full(len(y), start))

    def obj(predt, dtrain):
        return loss.gradient_hessian(dtrain.get_label(), predt)

    params = {"tree_method": "hist", "max_depth": 6, "eta": 0.1, "nthread": 2, "seed": seed}
    booster = xgb.train(params, d, num_boost_round=rounds, obj=obj)
    return lambda Xt: booster.predict(xgb.DMatrix(Xt, base_margin=np.full(len(Xt), start)), output_margin=True)


def _train_lgb(loss, X, y, rounds, seed):
    start = loss.init_score(y)
    ds = lgb.Dataset(X, label=y, init_score=np.full(len(y), start))

    def obj(preds, data):
        return loss.gradient_hessian(data.get_label(), preds)

    params = {"objective": obj, "num_leaves": 31, "learning_rate": 0.1, "num_threads": 2, "seed": seed, "verbose": -1}
    booster = lgb.train(params, ds, num_boost_round=rounds)
    return lambda Xt: booster.predict(Xt, raw_score=True) + start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "focal_hessian.md"))
    args = ap.parse_args()

    logloss = gbo.WeightedLogLoss()
    rows = []
    for pos_rate in (0.05, 0.01):
        for gamma, alpha in ((1.0, None), (2.0, None), (2.0, 0.25)):
            for engine, trainer in (("xgboost", _train_xgb), ("lightgbm", _train_lgb)):
                for hess in CANDIDATES:
                    loss = gbo.FocalLoss(gamma=gamma, alpha=alpha, hessian=hess)
                    m = []
                    t0 = time.perf_counter()
                    for seed in range(args.seeds):
                        Xtr, Xte, ytr, yte = _data(seed, pos_rate)
                        with np.errstate(all="ignore"):  # a diverging candidate must not stop the run
                            z = trainer(loss, Xtr, ytr, args.rounds, seed)(Xte)
                        if not np.all(np.isfinite(z)):
                            m.append((np.inf, np.inf, np.nan, np.nan))
                            continue
                        m.append(
                            (
                                float(np.mean(loss.loss(yte, z))),
                                float(np.mean(logloss.loss(yte, z))),  # stable, on raw scores
                                roc_auc_score(yte, z),
                                average_precision_score(yte, z),
                            )
                        )
                    m = np.array(m)
                    rows.append(
                        (pos_rate, gamma, alpha, engine, hess, *m.mean(axis=0), (time.perf_counter() - t0) / args.seeds)
                    )
                    print(rows[-1], flush=True)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Focal-loss default Hessian: measured candidates",
        "",
        f"Command: `python benchmarks/focal_hessian.py --rounds {args.rounds} --seeds {args.seeds}`",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, xgboost {xgb.__version__}, "
        f"lightgbm {lgb.__version__}, gbobjectives {gbo.__version__}",
        "Data: make_classification, 30k rows (20k train / 10k held-out), 20 features, label noise 2%,"
        " mean over seeds. Trees: XGBoost hist depth 6, LightGBM 31 leaves, eta 0.1, from init_score.",
        "",
        "| pos rate | gamma | alpha | engine | hessian | focal loss | logloss | ROC AUC | PR AUC | s/fit |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r[0]:.2f} | {r[1]:g} | {r[2]} | {r[3]} | {r[4]} | {r[5]:.5f} | {r[6]:.5f} | {r[7]:.4f} | "
            f"{r[8]:.4f} | {r[9]:.2f} |"
        )
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
