"""Training and scoring: every candidate on every engine and fold, on held-out rows."""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gbobjectives.compare.candidates import Candidate, _round_sig, make_candidates, robust_scale
from gbobjectives.compare.data import Dataset, encode_target
from gbobjectives.compare.settings import (
    _AUTO_THREADS_ROWS,
    _LIGHTGBM_MIN_TRAIN_ROWS,
    DEFAULT_ENGINES,
    ENGINES,
    CompareError,
)
from gbobjectives.engines._common import FLOAT32_MAX, LIGHTGBM_LABEL_MAX
from gbobjectives.links import LogitLink, SoftmaxLink
from gbobjectives.losses import HuberLoss, QuantileLoss
from gbobjectives.metrics import LogLossHit, PriorLogLoss


def _check_float32_range(data: Dataset, engines: Sequence[str]) -> None:
    """One-line :class:`CompareError` for a feature or target the engines cannot store.

    The engines keep features (XGBoost, CatBoost) and labels (all three) as float32; a value
    beyond that range became XGBoost's multi-line C++ error, or, with a target near 1e300, a
    silent run whose every metric was inf.
    """
    if {"xgboost", "catboost"} & set(engines) and data.X.size:
        big = np.fmax.reduce(np.abs(data.X), axis=0)  # NaN (missing) skipped, no warning for an all-NaN column
        with np.errstate(invalid="ignore"):
            over = np.flatnonzero(big > FLOAT32_MAX)
        if over.size:
            j = int(over[0])
            col = data.feature_names[j] if j < len(data.feature_names) else f"x{j}"
            i = int(np.flatnonzero(np.abs(data.X[:, j]) > FLOAT32_MAX)[0])
            raise CompareError(
                f"{data.name}: feature {col!r} has a value of {data.X[i, j]:g} (row {i + 1} of the rows used), beyond "
                f"+-3.4e+38: XGBoost and CatBoost store features as float32; rescale the column (e.g. divide by a "
                f"power of 10) or leave it to --engines lightgbm"
            )
    if data.task == "regression" and data.y.size:
        limit = LIGHTGBM_LABEL_MAX if "lightgbm" in engines else FLOAT32_MAX
        i = int(np.argmax(np.abs(data.y)))
        if abs(data.y[i]) > limit:
            raise CompareError(
                f"{data.name}: the target has a value of {data.y[i]:g} (row {i + 1} of the rows used), beyond "
                f"+-{limit:.3g}: the engines store labels as float32 (LightGBM clamps them to +-1e38 without a "
                f"warning); rescale the target (e.g. divide by a power of 10)"
            )


def _engine_params(engine: str, task: str, n_classes: int | None, seed: int, threads: int) -> dict[str, Any]:
    # Same capacity on both engines: depth-4 trees (LightGBM: at most 15 leaves) and learning rate 0.1
    if engine == "xgboost":
        params: dict[str, Any] = {
            "max_depth": 4,
            "eta": 0.1,
            "tree_method": "hist",
            "nthread": threads,
            "seed": seed,
            "verbosity": 0,
        }
    elif engine == "catboost":
        # symmetric depth-4 trees; one Newton step per leaf without backtracking for the built-in and
        # our objectives alike (CatBoost would otherwise switch to 10 backtracking steps for a custom one)
        params = {
            "depth": 4,
            "learning_rate": 0.1,
            "thread_count": threads,
            "random_seed": seed,
            "verbose": False,
            "allow_writing_files": False,
            "leaf_estimation_iterations": 1,
            "leaf_estimation_backtracking": "No",
        }
        return params  # (CatBoost takes the classes from the labels)
    else:
        params = {
            "num_leaves": 15,
            "max_depth": 4,
            "learning_rate": 0.1,
            "num_threads": threads,
            "seed": seed,
            "verbose": -1,
            "deterministic": True,
            "force_col_wise": True,
        }
    if task == "multiclass":
        params["num_class"] = n_classes
    return params


def _fit_raw(
    engine: str,
    cand: Candidate,
    task: str,
    n_classes: int | None,
    X_tr: np.ndarray,
    y_tr: np.ndarray,
    X_te: np.ndarray,
    rounds: int,
    seed: int,
    threads: int,
) -> tuple[np.ndarray, float]:
    """Train one row on one split: (raw held-out scores, training seconds)."""
    params = _engine_params(engine, task, n_classes, seed, threads)
    if engine == "xgboost":
        import xgboost as xgb

        dtrain, dtest = xgb.DMatrix(X_tr, label=y_tr, nthread=threads), xgb.DMatrix(X_te, nthread=threads)
        start = time.perf_counter()
        if cand.loss is None:
            booster = xgb.train({**params, **cand.builtin["xgboost"]}, dtrain, rounds)  # type: ignore[index]
        else:
            from gbobjectives.xgboost import train

            booster = train(cand.loss, params, dtrain, rounds, verbose_eval=False)
        seconds = time.perf_counter() - start
        # margins for every row type: the built-in link is applied below, like ours
        raw = booster.predict(dtest, output_margin=True)
    elif engine == "catboost":
        import catboost

        pool = catboost.Pool(X_tr, label=y_tr)
        start = time.perf_counter()
        if cand.loss is None:
            booster = catboost.CatBoost({**params, "iterations": rounds, **cand.builtin["catboost"]})  # type: ignore[index]
            booster.fit(pool)
        else:
            from gbobjectives.catboost import train

            booster = train(cand.loss, {**params, "iterations": rounds}, pool)
        seconds = time.perf_counter() - start
        raw = booster.predict(X_te, prediction_type="RawFormulaVal")
    else:
        import lightgbm as lgb

        # feature_pre_filter=False: on small data LightGBM would otherwise drop every feature that
        # cannot split under min_data_in_leaf and abort in C++ ("num_features() > 0"); a feature
        # that cannot split is never used either way, so the trees are the same
        dtrain = lgb.Dataset(X_tr, label=y_tr, params={"verbose": -1, "feature_pre_filter": False})
        start = time.perf_counter()
        if cand.loss is None:
            booster = lgb.train({**params, **cand.builtin["lightgbm"]}, dtrain, rounds)  # type: ignore[index]
        else:
            from gbobjectives.lightgbm import train

            booster = train(cand.loss, params, dtrain, rounds)
        seconds = time.perf_counter() - start
        raw = booster.predict(X_te, raw_score=True)
    return np.asarray(raw, dtype=np.float64), seconds


def _score(task: str, y: np.ndarray, raw: np.ndarray, cand: Candidate, delta: float) -> dict[str, float]:
    """Held-out metrics of one row from raw scores (NaN where a metric is undefined)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    nan = float("nan")
    if task == "regression" and cand.quantiles is not None:
        # an interval row: the quantiles (ours through the loss's link, the built-in's sorted)
        taus = np.asarray(cand.quantiles)
        q = cand.loss.inverse_link(raw) if cand.loss is not None else np.sort(raw.reshape(len(y), -1), axis=1)
        rq = y[:, None] - q
        return {
            "rmse": nan,
            "mae": nan,
            "huber": nan,
            "pinball": float(np.mean(np.maximum(taus * rq, (taus - 1.0) * rq))),  # over rows and quantiles
            "coverage": float(np.mean((q[:, 0] <= y) & (y <= q[:, -1]))),
            "interval_aim": float(taus[-1] - taus[0]),
        }
    if task == "regression":
        r = raw - y
        out = {
            "rmse": float(np.sqrt(np.mean(r**2))),
            "mae": float(np.mean(np.abs(r))),
            "huber": float(np.mean(HuberLoss(delta=delta).loss(y, raw))),
            "pinball": nan,
            "coverage": nan,
        }
        if cand.quantile is not None:
            out["pinball"] = float(np.mean(QuantileLoss(quantile=cand.quantile).loss(y, raw)))
            out["coverage"] = float(np.mean(y <= raw))
        return out
    labels = y.astype(int) if task == "multiclass" else y
    hit = LogLossHit()(labels, raw)
    out = {
        "logloss": -math.log(hit) if hit > 0 else float("inf"),
        "prior_logloss": PriorLogLoss()(labels, raw),
        "hit": hit,
        "roc_auc": nan,
        "pr_auc": nan,
    }
    link = SoftmaxLink() if task == "multiclass" else LogitLink()  # the link of every classification row
    proba = link.inverse(raw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a class absent from a small test fold: NaN, not a warning storm
        try:
            if task == "multiclass":
                k = raw.shape[1]
                onehot = np.eye(k)[labels]
                out["roc_auc"] = float(roc_auc_score(labels, proba, multi_class="ovr", labels=list(range(k))))
                out["pr_auc"] = float(average_precision_score(onehot, proba, average="macro"))
            else:
                out["roc_auc"] = float(roc_auc_score(labels, proba))
                out["pr_auc"] = float(average_precision_score(labels, proba))
        except ValueError:
            pass
    predicted = proba.argmax(axis=1) if task == "multiclass" else (proba > 0.5).astype(float)
    out["accuracy"] = float(np.mean(predicted == labels))
    return out


def _splits(data: Dataset, folds: int, test_size: float, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    n = data.y.shape[0]
    classify = data.task != "regression"
    if classify:
        counts = np.bincount(data.y.astype(int), minlength=len(data.classes))
        need = max(2, folds)
        if counts.min() < need:
            rare = data.classes[int(counts.argmin())]
            raise CompareError(
                f"class {rare!r} of the target has only {counts.min()} rows; every class needs at least {need} "
                f"so that it appears in every training {'fold' if folds > 1 else 'and test set'}"
            )
    if folds > 1:
        if folds > n:
            raise CompareError(f"--folds {folds} exceeds the {n} rows")
        splitter = (StratifiedKFold if classify else KFold)(n_splits=folds, shuffle=True, random_state=seed)
        return list(splitter.split(data.X, data.y))
    n_test = math.ceil(test_size * n)
    if n_test < 2 or n - n_test < 2 or (classify and min(n_test, n - n_test) < len(data.classes)):
        raise CompareError(f"--test-size {test_size:g} leaves too few rows on one side of the split ({n} rows)")
    idx = np.arange(n)
    train_idx, test_idx = train_test_split(
        idx, test_size=test_size, random_state=seed, stratify=data.y if classify else None
    )
    return [(train_idx, test_idx)]


@dataclass
class DatasetResult:
    """Everything :func:`compare` measured on one data set.

    ``rows`` has one dict per (loss, engine): ``loss``, ``engine``, ``objective``, the metrics
    averaged over folds, ``train_seconds`` (mean per fold) and ``folds`` (per-fold values).
    """

    dataset: Dataset
    settings: dict[str, Any]
    rows: list[dict[str, Any]]

    @property
    def metric_names(self) -> list[str]:
        """The metric columns of this task, in table order."""
        if self.dataset.task == "regression":
            return ["rmse", "mae", "huber", "pinball", "coverage"]
        return ["logloss", "prior_logloss", "hit", "roc_auc", "pr_auc", "accuracy"]


def _auto_threads(n_rows: int) -> int:
    if n_rows < _AUTO_THREADS_ROWS:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def compare(
    X: Any,
    y: Any,
    *,
    task: str = "auto",
    losses: Iterable[str] | None = None,
    engines: Sequence[str] = DEFAULT_ENGINES,
    rounds: int = 100,
    folds: int = 1,
    test_size: float = 0.25,
    seed: int = 0,
    threads: int = 0,
    name: str = "data",
    progress: Callable[[str], None] | None = None,
) -> DatasetResult:
    """Train the built-in objective and ``losses`` on both engines; score them on held-out rows.

    ``X`` is a numeric (n, d) array, ``y`` the raw target (or pass a :class:`Dataset` as ``X``
    with ``y=None``). ``losses`` are names of :func:`known_loss_names` with optional
    ``:param=value`` settings (``"focal:gamma=1"``); None means :data:`DEFAULT_LOSSES`.
    ``folds=1`` is one split holding out ``test_size``; ``folds=K`` is K-fold cross-validation.
    ``threads=0`` picks 1 thread below 50 000 rows. ``progress`` is called after each model.
    """
    if isinstance(X, Dataset):
        data = X
    else:
        X = np.asarray(X, dtype=np.float64)
        y_enc, task_found, classes = encode_target("y", y, task)
        data = Dataset(name, X, y_enc, task_found, [f"x{i}" for i in range(X.shape[1])], classes)
    for engine in engines:
        if engine not in ENGINES:
            raise CompareError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    if rounds < 1:
        raise CompareError(f"--rounds must be at least 1, got {rounds}")
    if folds < 1:
        raise CompareError(f"--folds must be at least 1, got {folds}")
    if not 0 < test_size < 1:
        raise CompareError(f"--test-size must be between 0 and 1, got {test_size:g}")
    _check_float32_range(data, engines)
    threads = threads or _auto_threads(data.X.shape[0])
    candidates = make_candidates(data.task, data.y, losses)
    splits = _splits(data, folds, test_size, seed)
    n_train = min(len(train_idx) for train_idx, _ in splits)
    if "lightgbm" in engines and n_train < _LIGHTGBM_MIN_TRAIN_ROWS:
        # below this LightGBM can grow no tree at all, and aborts in C++ on a custom objective
        part = "fold" if folds > 1 else "split"
        raise CompareError(
            f"{data.name}: {data.X.shape[0]} rows leave {n_train} rows to train on per {part}; LightGBM needs at "
            f"least {_LIGHTGBM_MIN_TRAIN_ROWS} (min_data_in_leaf = 20 on each side of a split): use more rows, a "
            f"smaller --test-size or --engines xgboost"
        )
    delta = _round_sig(robust_scale(data.y)) if data.task == "regression" else float("nan")
    for cand in candidates:  # the Huber column uses the same delta as the Huber rows
        if isinstance(cand.loss, HuberLoss):
            delta = float(cand.loss.get_params()["delta"])
            break
    rows = []
    for cand in candidates:
        for engine in engines:
            if not cand.runs_on(engine):
                continue
            per_fold: list[dict[str, float]] = []
            for train_idx, test_idx in splits:
                try:
                    raw, seconds = _fit_raw(
                        engine,
                        cand,
                        data.task,
                        data.n_classes,
                        data.X[train_idx],
                        data.y[train_idx],
                        data.X[test_idx],
                        rounds,
                        seed,
                        threads,
                    )
                except Exception as exc:
                    # a ValueError (e.g. a loss rejecting the labels: the user's data, not a bug) or the
                    # engines' own errors about the data: one line, exit 2. XGBoostError is a ValueError
                    # whose message goes on with a C++ stack trace: only its first line is kept.
                    if not isinstance(exc, ValueError) and type(exc).__name__ not in ("LightGBMError", "XGBoostError"):
                        raise
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    raise CompareError(f"training {cand.label} on {engine} failed: {first}") from None
                scores = _score(data.task, data.y[test_idx], raw, cand, delta)
                scores["train_seconds"] = seconds
                per_fold.append(scores)
                if progress is not None:
                    progress(f"{data.name} {engine} {cand.label}")
            mean = {k: float(np.mean([f[k] for f in per_fold])) for k in per_fold[0]}
            rows.append(
                {
                    "dataset": data.name,
                    "task": data.task,
                    "loss": cand.label,
                    "engine": engine,
                    "objective": cand.objective_name(engine),
                    **mean,
                    **({"quantiles": list(cand.quantiles)} if cand.quantiles is not None else {}),
                    "folds": per_fold,
                }
            )
    settings = {
        "rounds": rounds,
        "folds": folds,
        "test_size": test_size if folds == 1 else None,
        "seed": seed,
        "threads": threads,
        "engines": list(engines),
        "huber_delta": delta if data.task == "regression" else None,
        "n_test": int(sum(len(t) for _, t in splits)) if folds > 1 else int(len(splits[0][1])),
    }
    return DatasetResult(data, settings, rows)


def n_models(data: Dataset, losses: Iterable[str] | None, engines: Sequence[str], folds: int) -> int:
    """How many trainings :func:`compare` will run (for a progress bar)."""
    cands = make_candidates(data.task, data.y, losses)
    return sum(c.runs_on(e) for c in cands for e in engines) * max(1, folds)
