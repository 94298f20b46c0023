"""Focal and quantile objectives on Dask with XGBoost and LightGBM (gbobjectives issue 8).

Run:  python examples/dask_focal_quantile.py      (about 20-40 s on 2 cores)

Starts a LocalCluster of 2 worker processes, then

1. computes the best constant start scores on the distributed data (nothing is collected
   on the client: only sums / sketches / histograms travel);
2. trains an imbalanced classifier with the focal loss using ``xgboost.dask`` and
   ``lightgbm.DaskLGBMClassifier``;
3. trains a 90% quantile regressor with the pinball loss on both engines;
4. prints held-out metrics.
"""

from __future__ import annotations

import time
import warnings

import dask.array as da
import lightgbm as lgb
import numpy as np
import xgboost as xgb
from distributed import Client, LocalCluster
from xgboost import dask as dxgb

import gbobjectives as gbo
from gbobjectives import dask as gdask


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, an imbalanced binary label (~10% positives) and a heavy-tailed regression target."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    f = X[:, 0] + 0.5 * X[:, 1] * X[:, 2] - 0.7 * X[:, 3]
    y_bin = (rng.random(n) < 1 / (1 + np.exp(-(2 * f - 3.5)))).astype(np.float64)
    y_reg = f + rng.standard_t(3, size=n) * (1 + 0.5 * np.abs(X[:, 4]))  # heteroscedastic, heavy tails
    return X, y_bin, y_reg


def main() -> None:
    # lightgbm.dask warns about n_jobs even when it is not set (it uses the workers' threads)
    warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored")
    t0 = time.perf_counter()
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        X, y_bin, y_reg = make_data(40_000)
        n_tr = 30_000
        chunks = 5_000
        dX = da.from_array(X[:n_tr], chunks=(chunks, -1))
        dy_bin = da.from_array(y_bin[:n_tr], chunks=chunks)
        dy_reg = da.from_array(y_reg[:n_tr], chunks=chunks)
        X_te, yb_te, yr_te = X[n_tr:], y_bin[n_tr:], y_reg[n_tr:]

        focal = gbo.FocalLoss(gamma=2.0, alpha=0.25)
        q90 = gbo.QuantileLoss(quantile=0.9)

        # 1. start scores computed on the workers
        for loss, dy, y_local in [(focal, dy_bin, y_bin[:n_tr]), (q90, dy_reg, y_reg[:n_tr])]:
            print(
                f"{loss.name:>28}: init_score dask {gdask.init_score(loss, dy):+.6f}  "
                f"one machine {loss.init_score(y_local):+.6f}"
            )

        # 2. focal loss, both engines
        params = {"max_depth": 4, "eta": 0.1, "tree_method": "hist"}
        dtrain = dxgb.DaskDMatrix(client, dX, dy_bin)
        out = gdask.xgboost_train(client, focal, params, dtrain, 100, evals=[(dtrain, "train")])
        raw_xgb = out["booster"].predict(xgb.DMatrix(X_te), output_margin=True)
        print(
            f"xgboost.dask  focal: train {out['history']['train'][focal.name][-1]:.5f} (global mean)  "
            f"held-out {focal.loss(yb_te, raw_xgb).mean():.5f}"
        )

        clf = lgb.DaskLGBMClassifier(n_estimators=100, learning_rate=0.1, num_leaves=15, verbose=-1, client=client)
        gdask.lightgbm_fit(clf, focal, dX, dy_bin)
        proba = gdask.predict_proba(clf, focal, da.from_array(X_te, chunks=(chunks, -1))).compute()
        raw_lgb = clf.to_local().predict(X_te, raw_score=True)  # the start is folded into the booster
        print(
            f"DaskLGBM      focal: held-out {focal.loss(yb_te, raw_lgb).mean():.5f}  "
            f"mean p {proba[:, 1].mean():.4f} vs positive rate {yb_te.mean():.4f} "
            f"(focal probabilities are not calibrated)"
        )

        # 3. 90% quantile, both engines
        dtrain_r = dxgb.DaskDMatrix(client, dX, dy_reg)
        booster = gdask.xgboost_train(client, q90, params, dtrain_r, 100)["booster"]
        pred_xgb = booster.predict(xgb.DMatrix(X_te), output_margin=True)
        reg = lgb.DaskLGBMRegressor(n_estimators=100, learning_rate=0.1, num_leaves=15, verbose=-1, client=client)
        gdask.lightgbm_fit(reg, q90, dX, dy_reg)
        pred_lgb = gdask.predict_raw(reg, da.from_array(X_te, chunks=(chunks, -1))).compute()
        for name, pred in [("xgboost.dask", pred_xgb), ("DaskLGBM", pred_lgb)]:
            print(
                f"{name:<13} q90  : pinball {q90.loss(yr_te, pred).mean():.5f}  "
                f"coverage P(y <= pred) = {np.mean(yr_te <= pred):.3f} (target 0.9)"
            )
    print(f"done in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":  # the guard is required: worker processes re-import this file
    main()
