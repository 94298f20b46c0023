"""Write the example notebooks in this folder from the cell sources below (outputs stripped).

Run ``python examples/make_notebooks.py`` after editing a notebook's cells here; the test
suite (``tests/test_notebooks.py``) executes every ``examples/*.ipynb``. Keeping the source
in one script keeps the notebooks small, reviewable in diffs, and free of stale outputs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

# Each notebook: list of ("md" | "code", source). Sources are dedented by hand (no textwrap
# magic) so what you read here is exactly what the notebook shows.
NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}

NOTEBOOKS["01_imbalanced_focal_loss.ipynb"] = [
    (
        "md",
        """# Imbalanced classification with focal loss, on XGBoost and LightGBM

A 3 %-positive problem with some label noise. We train the engines' built-in logistic objective,
gbobjectives' `WeightedLogLoss` (plain logloss, as a custom objective) and `FocalLoss` on **both**
engines with the same trees, and compare them on held-out rows:

* **PR AUC** (average precision): the ranking metric that matters when positives are rare;
* **logloss** next to the prior-only logloss (what predicting the base rate scores), and
  calibration: focal loss is *meant* to down-weight easy examples, which also pulls its
  probabilities toward 0.5.

`gbo.xgboost.train` / `gbo.lightgbm.train` start the booster from the loss's best constant
(`loss.init_score`) and return a self-contained booster: raw predictions include that start.""",
    ),
    (
        "code",
        """import time

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split

import gbobjectives as gbo

X, y = make_classification(n_samples=4000, n_features=20, n_informative=6, n_redundant=4,
                           weights=[0.97], flip_y=0.01, class_sep=0.8, random_state=1)
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
print(f"{len(y_tr)} training rows, {y_tr.mean():.1%} positive; {len(y_te)} test rows")""",
    ),
    (
        "code",
        """ROUNDS = 100
XGB = {"max_depth": 4, "eta": 0.1, "nthread": 1, "seed": 0, "verbosity": 0}
LGB = {"num_leaves": 15, "max_depth": 4, "learning_rate": 0.1, "num_threads": 1, "seed": 0, "verbose": -1}

def fit_raw(engine, loss):
    \"\"\"Train on the training rows; return held-out raw scores (logits) and seconds.\"\"\"
    start = time.perf_counter()
    if engine == "xgboost":
        dtrain = xgb.DMatrix(X_tr, label=y_tr)
        if loss is None:  # the built-in objective
            booster = xgb.train({**XGB, "objective": "binary:logistic"}, dtrain, ROUNDS)
        else:
            booster = gbo.xgboost.train(loss, XGB, dtrain, ROUNDS, verbose_eval=False)
        raw = booster.predict(xgb.DMatrix(X_te), output_margin=True)
    else:
        dtrain = lgb.Dataset(X_tr, label=y_tr)
        if loss is None:
            booster = lgb.train({**LGB, "objective": "binary"}, dtrain, ROUNDS)
        else:
            booster = gbo.lightgbm.train(loss, LGB, dtrain, ROUNDS)
        raw = booster.predict(X_te, raw_score=True)
    return np.asarray(raw, dtype=float), time.perf_counter() - start

candidates = {
    "builtin": None,
    "logloss": gbo.WeightedLogLoss(),
    "focal γ=1": gbo.FocalLoss(gamma=1.0),
    "focal γ=2": gbo.FocalLoss(gamma=2.0),
    "focal γ=2, α=0.75": gbo.FocalLoss(gamma=2.0, alpha=0.75),
}
prior = gbo.PriorLogLoss()(y_te, np.zeros(len(y_te)))
hit = gbo.LogLossHit()
rows, probas = [], {}
for name, loss in candidates.items():
    for engine in ("xgboost", "lightgbm"):
        raw, seconds = fit_raw(engine, loss)
        p = gbo.FocalLoss().inverse_link(raw)  # sigmoid, the link of every binary loss
        probas[name, engine] = p
        rows.append({"loss": name, "engine": engine,
                     "PR AUC": average_precision_score(y_te, p), "ROC AUC": roc_auc_score(y_te, p),
                     "logloss": -np.log(hit(y_te, raw)), "prior logloss": prior,
                     "mean p": p.mean(), "train s": seconds})
table = pd.DataFrame(rows).set_index(["loss", "engine"])
table.round(4)""",
    ),
    (
        "md",
        """**Reading the table.** On the ranking metrics (PR AUC, ROC AUC) focal loss is in the same range as
logloss here; which one wins depends on the data set and the seed, so measure on yours
(`gbobjectives compare --data your.csv --target y` does exactly this). The custom `logloss` row
reproduces the built-in objective, which is what a correct gradient, Hessian and starting score
must do.

**Calibration note.** Focal loss has a higher held-out logloss and its mean predicted probability
drifts from the base rate: with γ > 0 the loss stops pushing confident predictions further, so
probabilities are squeezed toward 0.5. If you need probabilities (not just a ranking), recalibrate
on held-out data (isotonic or Platt scaling); the ranking, and so PR AUC, is unchanged by any
monotone recalibration.""",
    ),
    (
        "code",
        """import matplotlib.pyplot as plt
from sklearn.calibration import calibration_curve

fig, ax = plt.subplots(figsize=(5.5, 4.5))
for name in ("logloss", "focal γ=2"):
    for engine, ls in (("xgboost", "-"), ("lightgbm", "--")):
        frac, mean_p = calibration_curve(y_te, probas[name, engine], n_bins=8, strategy="quantile")
        ax.plot(mean_p, frac, ls, marker="o", label=f"{name} ({engine})")
ax.plot([0, 1], [0, 1], color="0.6", lw=1, label="perfect calibration")
ax.set(xscale="log", yscale="log", xlabel="mean predicted probability", ylabel="observed positive rate",
       title="Reliability on held-out rows")
ax.legend(fontsize=8)
plt.show()
print("observed positive rate:", y_te.mean().round(4))
print(table["mean p"].round(4).to_string())""",
    ),
]

NOTEBOOKS["02_quantile_prediction_intervals.ipynb"] = [
    (
        "md",
        """# Prediction intervals with `QuantileLoss` (τ = 0.1 and 0.9)

Two boosters, one per quantile, give an 80 % prediction interval. We check what matters for an
interval: **coverage** on held-out rows (should be close to 80 %), its width, and the pinball loss,
on data whose noise grows with x (so a constant-width interval would be wrong).

The engines' built-in quantile objectives are trained alongside, as the reference.""",
    ),
    (
        "code",
        """import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb

import gbobjectives as gbo

rng = np.random.default_rng(0)
n = 3000
x = rng.uniform(0, 10, n)
X = np.column_stack([x, rng.normal(size=n)])  # one useful feature, one noise feature
y = 3 * np.sin(x) + rng.normal(scale=0.3 + 0.25 * x)  # heteroscedastic noise
train, test = np.arange(n) < 2000, np.arange(n) >= 2000

ROUNDS = 200
XGB = {"max_depth": 3, "eta": 0.1, "nthread": 1, "seed": 0, "verbosity": 0}
LGB = {"num_leaves": 8, "learning_rate": 0.1, "num_threads": 1, "seed": 0, "verbose": -1}

def predict_quantile(engine, q, builtin=False):
    if engine == "xgboost":
        d = xgb.DMatrix(X[train], label=y[train])
        if builtin:
            b = xgb.train({**XGB, "objective": "reg:quantileerror", "quantile_alpha": q}, d, ROUNDS)
        else:
            b = gbo.xgboost.train(gbo.QuantileLoss(quantile=q), XGB, d, ROUNDS, verbose_eval=False)
        return b.predict(xgb.DMatrix(X[test]), output_margin=True)
    d = lgb.Dataset(X[train], label=y[train])
    if builtin:
        b = lgb.train({**LGB, "objective": "quantile", "alpha": q}, d, ROUNDS)
    else:
        b = gbo.lightgbm.train(gbo.QuantileLoss(quantile=q), LGB, d, ROUNDS)
    return b.predict(X[test], raw_score=True)

rows, bands = [], {}
for engine in ("xgboost", "lightgbm"):
    for builtin in (False, True):
        lo, hi = predict_quantile(engine, 0.1, builtin), predict_quantile(engine, 0.9, builtin)
        yt = y[test]
        bands[engine, builtin] = (lo, hi)
        rows.append({
            "engine": engine, "objective": "built-in" if builtin else "gbo.QuantileLoss",
            "coverage [q10, q90]": np.mean((yt >= lo) & (yt <= hi)),
            "below q10": np.mean(yt < lo), "below q90": np.mean(yt <= hi),
            "mean width": np.mean(hi - lo),
            "pinball q10": gbo.QuantileLoss(quantile=0.1).loss(yt, lo).mean(),
            "pinball q90": gbo.QuantileLoss(quantile=0.9).loss(yt, hi).mean(),
        })
pd.DataFrame(rows).set_index(["engine", "objective"]).round(3)""",
    ),
    (
        "md",
        """A calibrated 80 % interval covers about 0.80 of the held-out rows, with about 10 % on each side.

**Why the custom loss keeps up with the built-ins.** The pinball loss has no curvature, so a custom
objective must use a surrogate Hessian (h = 1); a leaf then moves by at most
`learning_rate · max(τ, 1−τ)` per round whatever the scale of y. The built-in objectives re-set every
leaf to the τ-quantile of its residuals after the tree is grown, and `gbo.lightgbm.train` /
`gbo.xgboost.train` do the same for losses with a leaf rule (`refit_leaves`, on by default for
`QuantileLoss`). Switch it off to see what a plain gradient + Hessian quantile objective — the
version found in blog posts — gets at the same 200 rounds:""",
    ),
    (
        "code",
        """def lgb_quantile(q, refit_leaves):
    d = lgb.Dataset(X[train], label=y[train])
    booster = gbo.lightgbm.train(gbo.QuantileLoss(quantile=q), LGB, d, ROUNDS, refit_leaves=refit_leaves)
    return booster.predict(X[test], raw_score=True)

yt = y[test]
for refit in (True, False):
    lo, hi = lgb_quantile(0.1, refit), lgb_quantile(0.9, refit)
    coverage = np.mean((yt >= lo) & (yt <= hi))
    pinball = gbo.QuantileLoss(quantile=0.1).loss(yt, lo).mean()
    print(f"LightGBM, gbo.QuantileLoss, refit_leaves={refit!s:5}: coverage {coverage:.3f}, "
          f"mean width {np.mean(hi - lo):.2f}, pinball q10 {pinball:.3f}")""",
    ),
    (
        "md",
        """The interval widens with x, as the noise does: each quantile model learned the shape of the
noise, not just the mean.""",
    ),
    (
        "code",
        """import matplotlib.pyplot as plt

order = np.argsort(x[test])
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for ax, engine in zip(axes, ("xgboost", "lightgbm")):
    lo, hi = bands[engine, False]
    ax.scatter(x[test], y[test], s=4, color="0.6", label="held-out rows")
    ax.fill_between(x[test][order], lo[order], hi[order], alpha=0.3, step="mid",
                    label="gbo.QuantileLoss 0.1-0.9")
    ax.set(title=f"{engine}: 80 % prediction interval", xlabel="x")
    ax.legend(loc="upper left", fontsize=8)
axes[0].set_ylabel("y")
plt.show()""",
    ),
]

NOTEBOOKS["03_robust_regression_outliers.ipynb"] = [
    (
        "md",
        """# Robust regression: Huber and log-cosh when the training targets have outliers

5 % of the *training* targets are corrupted by gross errors (think data-entry mistakes); the test
set is clean. Squared error chases the outliers; `HuberLoss` (quadratic up to δ, linear beyond) and
`LogCoshLoss` (≈ r²/2 near 0, ≈ |r| far away) limit their pull. Same trees and rounds on both
engines; the built-in squared error and the engines' own robust objectives are the baselines
(LightGBM `huber`; XGBoost has pseudo-Huber, `reg:pseudohubererror`).""",
    ),
    (
        "code",
        """import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.datasets import make_friedman1

import gbobjectives as gbo

X, y_raw = make_friedman1(n_samples=3000, noise=0.5, random_state=0)
y = (y_raw - y_raw.mean()) / y_raw.std()  # unit scale: log-cosh has no scale parameter, delta=1 means "1 sd"
noise_floor = 0.5 / y_raw.std()  # RMSE of the true function on this scale
n_train = 2000
X_tr, y_tr, X_te, y_te = X[:n_train], y[:n_train].copy(), X[n_train:], y[n_train:]
rng = np.random.default_rng(0)
bad = rng.choice(n_train, size=n_train // 20, replace=False)
y_tr[bad] += rng.choice([-1, 1], size=bad.size) * rng.uniform(10, 30, size=bad.size)
print(f"{bad.size} of {n_train} training targets corrupted; target sd is now {y_tr.std():.2f} (was 1)")""",
    ),
    (
        "code",
        """ROUNDS = 200
DELTA = 1.0
XGB = {"max_depth": 4, "eta": 0.1, "nthread": 1, "seed": 0, "verbosity": 0}
LGB = {"num_leaves": 15, "max_depth": 4, "learning_rate": 0.1, "num_threads": 1, "seed": 0, "verbose": -1}

builtin = {  # name -> (xgboost params, lightgbm params)
    "built-in squared error": ({"objective": "reg:squarederror"}, {"objective": "regression"}),
    "built-in huber / pseudo-huber": ({"objective": "reg:pseudohubererror", "huber_slope": DELTA},
                                      {"objective": "huber", "alpha": DELTA}),
}
ours = {
    "gbo.HuberLoss(delta=1)": gbo.HuberLoss(delta=DELTA),
    "gbo.PseudoHuberLoss(delta=1)": gbo.PseudoHuberLoss(delta=DELTA),
    "gbo.LogCoshLoss()": gbo.LogCoshLoss(),
}

def fit_predict(engine, spec):
    if engine == "xgboost":
        d = xgb.DMatrix(X_tr, label=y_tr)
        if isinstance(spec, gbo.Loss):
            b = gbo.xgboost.train(spec, XGB, d, ROUNDS, verbose_eval=False)
        else:
            b = xgb.train({**XGB, **spec[0]}, d, ROUNDS)
        return b.predict(xgb.DMatrix(X_te), output_margin=True)
    d = lgb.Dataset(X_tr, label=y_tr)
    if isinstance(spec, gbo.Loss):
        b = gbo.lightgbm.train(spec, LGB, d, ROUNDS)
    else:
        b = lgb.train({**LGB, **spec[1]}, d, ROUNDS)
    return b.predict(X_te, raw_score=True)

rows = []
for name, spec in {**builtin, **ours}.items():
    for engine in ("xgboost", "lightgbm"):
        pred = fit_predict(engine, spec)
        r = pred - y_te
        rows.append({"objective": name, "engine": engine,
                     "test RMSE": np.sqrt(np.mean(r**2)), "test MAE": np.mean(np.abs(r))})
results = pd.DataFrame(rows).pivot(index="objective", columns="engine", values=["test RMSE", "test MAE"])
results.round(3)""",
    ),
    (
        "md",
        """The robust losses recover most of the accuracy that squared error loses to the outliers (the
dashed line is the noise floor, the RMSE of the true function). Two details make the custom robust
losses train well:

* **The start.** Each booster starts from the loss's own best constant (`loss.init_score`: for
  Huber the exact minimiser, a robust "mean"), not from the outlier-pulled mean.
* **The Hessian.** Huber's exact second derivative is 0 beyond δ and log-cosh's vanishes for large
  residuals, so Newton leaf values `-G/H` blow up or leaves stop splitting. The default Hessians
  (`hessian="constant"`, documented on each class) keep every leaf step bounded.""",
    ),
    (
        "code",
        """import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 3.5))
results["test RMSE"].plot.barh(ax=ax, color={"xgboost": "#1f77b4", "lightgbm": "#2ca02c"})
ax.set(xlabel="held-out RMSE (clean test targets), lower is better", ylabel="")
ax.axvline(noise_floor, color="0.5", ls="--", lw=1, label="noise floor")
ax.legend(fontsize=8)
plt.show()""",
    ),
]

NOTEBOOKS["04_sklearn_pipeline_gridsearch.ipynb"] = [
    (
        "md",
        """# A scikit-learn `Pipeline` + `GridSearchCV` over loss parameters

`gbo.BoostedClassifier` is a regular scikit-learn estimator: the loss is a parameter object with
`get_params`/`set_params`, so `GridSearchCV` can tune `loss__gamma` and `loss__alpha` like any other
hyper-parameter, and the engine is a parameter too. `predict_proba` returns real probabilities
(through the loss's link), unlike LightGBM's scikit-learn wrapper with a custom objective, which
returns raw scores. The fitted pipeline pickles (no lambdas anywhere).""",
    ),
    (
        "code",
        """import pickle

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

import gbobjectives as gbo

# an imbalanced table with one categorical column, as a DataFrame
X_num, y = make_classification(n_samples=2400, n_features=8, n_informative=4, weights=[0.92],
                               flip_y=0.01, random_state=3)
X = pd.DataFrame(X_num, columns=[f"f{i}" for i in range(8)])
X["region"] = np.random.default_rng(0).choice(["north", "south", "east", "west"], size=len(X))
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)

pipe = Pipeline([
    ("prep", ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore"), ["region"])],
                               remainder="passthrough")),
    ("clf", gbo.BoostedClassifier(loss=gbo.FocalLoss(), n_estimators=60, learning_rate=0.1, max_depth=3,
                                  n_jobs=1, random_state=0)),
])
grid = {
    "clf__loss__gamma": [0.0, 1.0, 2.0],  # gamma = 0 is plain logloss
    "clf__loss__alpha": [None, 0.75],
    "clf__engine": ["xgboost", "lightgbm"],
}
search = GridSearchCV(pipe, grid, scoring="average_precision",
                      cv=StratifiedKFold(3, shuffle=True, random_state=0), n_jobs=1)
search.fit(X_tr, y_tr)
print("best:", search.best_params_, f"CV PR AUC {search.best_score_:.4f}")""",
    ),
    (
        "code",
        """cv = pd.DataFrame(search.cv_results_)
cols = ["param_clf__engine", "param_clf__loss__gamma", "param_clf__loss__alpha", "mean_test_score",
        "std_test_score", "mean_fit_time"]
cv[cols].sort_values("mean_test_score", ascending=False).round(4).reset_index(drop=True)""",
    ),
    (
        "code",
        """best = search.best_estimator_
proba = best.predict_proba(X_te)
assert np.allclose(proba.sum(axis=1), 1) and ((proba >= 0) & (proba <= 1)).all()  # real probabilities
print(f"held-out PR AUC of the best pipeline: {average_precision_score(y_te, proba[:, 1]):.4f}")
print("fitted loss:", best.named_steps["clf"].loss_)

restored = pickle.loads(pickle.dumps(best))  # the whole pipeline, loss included, pickles
assert np.allclose(restored.predict_proba(X_te), proba)
print("pickle round trip: identical probabilities")""",
    ),
]


def build(name: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """A notebook with a python3 kernelspec and no outputs."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{Path(name).stem[:2]}-{i:02d}"  # stable ids: regenerating gives no diff
    return nb


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        nbformat.write(build(name, cells), HERE / name)
        print(f"wrote examples/{name}")


if __name__ == "__main__":
    main()
