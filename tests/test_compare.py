"""``gbobjectives compare``: the command line end to end (subprocesses) and the Python API.

Every CLI test runs ``python -m gbobjectives.cli compare`` with a handful of rounds so the
suite stays fast; the error cases check the contract users rely on: exit status 2, exactly
one line on stderr, never a traceback.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("xgboost")
pytest.importorskip("lightgbm")
pd = pytest.importorskip("pandas")

from gbobjectives.compare import (  # noqa: E402 - after the skips
    CompareError,
    compare,
    encode_target,
    format_table,
    make_candidates,
)


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gbobjectives.cli", "compare", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def csv_dir(tmp_path_factory) -> Path:
    """Small CSVs: a mixed-type table with binary, multiclass and regression targets, and broken files."""
    d = tmp_path_factory.mktemp("csv")
    rng = np.random.default_rng(0)
    n = 240
    df = pd.DataFrame(
        {"a": rng.normal(size=n), "b": rng.normal(size=n), "colour": rng.choice(["red", "green", "blue"], n)}
    )
    df["churn"] = np.where(df.a + rng.normal(size=n) > 0.8, "yes", "no")
    df["price"] = 3 * df.a + rng.normal(size=n)
    df["grade"] = rng.integers(0, 3, n)
    df.to_csv(d / "table.csv", index=False)
    df.assign(user=[f"u{i}" for i in range(n)]).to_csv(d / "with_id.csv", index=False)
    (d / "empty.csv").write_text("")
    # issue 18: tiny tables, one stray text cell in a numeric column, a constant target
    df.head(6).to_csv(d / "rows6.csv", index=False)
    df.head(20).to_csv(d / "rows20.csv", index=False)
    big = pd.DataFrame({"size": rng.normal(size=2000).round(4), "z": rng.normal(size=2000)})
    big["y"] = (big["size"] > 0).astype(int)
    big["size"] = big["size"].astype(object)
    big.loc[16, "size"] = "n/a?"
    big.to_csv(d / "stray.csv", index=False)
    df.assign(same=7.5).to_csv(d / "constant.csv", index=False)
    (d / "broken.csv").write_bytes(b'a,b\n"unterminated,1\n2,3,4\n')
    # values the engines cannot store as float32 (XGBoost's multi-line C++ error; a silent inf run)
    df.assign(a=df.a.where(df.index != 9, 1e39)).to_csv(d / "huge_feature.csv", index=False)
    df.assign(price=df.price.where(df.index != 9, 1e300)).to_csv(d / "huge_target.csv", index=False)
    return d


# ---------------------------------------------------------------------------- CLI, success
def test_default_data_writes_table_csv_json_png(tmp_path):
    out = tmp_path / "out"
    proc = run_cli("--rounds", "3", "--output", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    text = proc.stdout
    for name in ("breast_cancer", "imbalanced", "digits", "diabetes"):
        assert f"== {name}:" in text
    for column in (
        "logloss",
        "prior",
        "hit",
        "ROC AUC",
        "PR AUC",
        "accuracy",
        "RMSE",
        "MAE",
        "Huber",
        "pinball",
        "train s",
    ):
        assert column in text
    for row in (
        "builtin",
        "focal",
        "logloss",
        "balanced",
        "huber(delta=",
        "logcosh",
        "builtin quantile(0.9)",
        "quantile(0.9)",
    ):
        assert row in text
    assert "xgboost" in text and "lightgbm" in text
    rows = list(csv.DictReader(open(out / "compare.csv")))
    assert {r["engine"] for r in rows} == {"xgboost", "lightgbm"}
    assert {r["dataset"] for r in rows} == {"breast_cancer", "imbalanced", "digits", "diabetes"}
    doc = json.loads((out / "compare.json").read_text())
    assert [d["name"] for d in doc["datasets"]] == ["breast_cancer", "imbalanced", "digits", "diabetes"]
    first = doc["datasets"][0]["results"][0]
    assert first["loss"] == "builtin" and 0 < first["hit"] <= 1 and first["logloss"] < first["prior_logloss"]
    assert (out / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_csv_binary_with_folds_and_loss_parameters(tmp_path, csv_dir):
    out = tmp_path / "o"
    proc = run_cli(
        "--data",
        str(csv_dir / "table.csv"),
        "--target",
        "churn",
        "--losses",
        "focal:gamma=1,logloss",
        "--folds",
        "2",
        "--rounds",
        "3",
        "--output",
        str(out),
        "--quiet",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "binary" in proc.stdout and "2-fold CV" in proc.stdout and "positive (yes)" in proc.stdout
    assert "focal(gamma=1)" in proc.stdout and "one-hot encoded 'colour'" in proc.stdout
    doc = json.loads((out / "compare.json").read_text())
    rows = doc["datasets"][0]["results"]
    assert {r["loss"] for r in rows} == {"builtin", "focal(gamma=1)", "logloss"}
    assert all(len(r["folds"]) == 2 for r in rows)
    assert (out / "compare.csv").exists() and (out / "compare.png").exists()


def test_csv_regression_one_engine(tmp_path, csv_dir):
    proc = run_cli(
        "--data",
        str(csv_dir / "table.csv"),
        "--target",
        "price",
        "--engines",
        "lightgbm",
        "--losses",
        "quantile:quantile=0.8,huber",
        "--rounds",
        "3",
        "--output",
        str(tmp_path / "o"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "regression" in proc.stdout
    assert "builtin quantile(0.8)" in proc.stdout and "quantile(0.8)" in proc.stdout
    assert "xgboost" not in proc.stdout


def test_csv_auto_multiclass(tmp_path, csv_dir):
    proc = run_cli(
        "--data",
        str(csv_dir / "table.csv"),
        "--target",
        "grade",
        "--rounds",
        "2",
        "--output",
        str(tmp_path / "o"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "multiclass" in proc.stdout and "3 classes" in proc.stdout and "mfocal" in proc.stdout


# ---------------------------------------------------------------------------- CLI, errors
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "missing.csv", "--target", "y"], "no such file"),
        (["--data", "{d}/empty.csv", "--target", "y"], "empty"),
        (["--data", "{d}/broken.csv", "--target", "a"], "not a readable CSV"),
        (["--data", "{d}/with_id.csv", "--target", "churn"], "column 'user' is not numeric"),
        (["--data", "{d}/table.csv", "--target", "nope"], "columns are: a, b, colour, churn, price, grade"),
        (["--data", "{d}/table.csv", "--target", "price", "--task", "binary"], "needs exactly 2"),
        (["--data", "{d}/table.csv", "--target", "colour", "--task", "regression"], "not numeric"),
        (["--data", "{d}/table.csv"], "--target"),
        (["--data", "{d}/table.csv", "--target", "churn", "--losses", "huber"], "does not apply"),
        (["--data", "{d}/table.csv", "--target", "churn", "--losses", "nope"], "unknown loss"),
        (["--data", "{d}/table.csv", "--target", "churn", "--engines", "sklearn"], "unknown engine"),
        (["--rounds", "0"], "--rounds"),
        (["--data", "{d}/rows6.csv", "--target", "price"], "LightGBM needs at least 40"),
        (["--data", "{d}/rows20.csv", "--target", "price"], "20 rows leave 15 rows to train on"),
        (["--data", "{d}/stray.csv", "--target", "y"], "column 'size' holds numbers except 'n/a?' in data row 17"),
        (["--data", "{d}/constant.csv", "--target", "same"], "target 'same' is constant (every row is 7.5)"),
        (["--data", "{d}/huge_feature.csv", "--target", "price"], "feature 'a' has a value of 1e+39 (row 10"),
        (["--data", "{d}/huge_target.csv", "--target", "price"], "target has a value of 1e+300 (row 10"),
    ],
    ids=[
        "missing-file",
        "empty",
        "broken",
        "wide-text-column",
        "missing-target",
        "regression-as-binary",
        "text-as-regression",
        "no-target",
        "wrong-task-loss",
        "unknown-loss",
        "unknown-engine",
        "zero-rounds",
        "6-rows",
        "20-rows",
        "stray-text-cell",
        "constant-target",
        "feature-beyond-float32",
        "target-beyond-float32",
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, csv_dir, args, message):
    args = [a.replace("{d}", str(csv_dir)) for a in args]
    proc = run_cli(*args, "--output", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("gbobjectives compare: error: ") and message in lines[0]


def test_missing_engine_gives_both_install_commands(tmp_path, csv_dir, monkeypatch, capsys):
    from gbobjectives.cli import main

    monkeypatch.setitem(sys.modules, "lightgbm", None)  # makes `import lightgbm` raise ImportError
    status = main(["compare", "--data", str(csv_dir / "table.csv"), "--target", "churn", "--engines", "lightgbm",
                   "--output", str(tmp_path / "o"), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1, err
    assert 'lightgbm is not installed: pip install "gbobjectives[lightgbm]"' in err
    assert 'pip install ".[lightgbm]"' in err


# ---------------------------------------------------------------------------- Python API
def test_custom_logloss_reproduces_builtin_objective():
    """With a correct gradient, Hessian and start, our logloss trains the built-in model."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    result = compare(X, y, losses=["logloss"], rounds=20)
    by = {(r["loss"], r["engine"]): r for r in result.rows}
    for engine in ("xgboost", "lightgbm"):
        assert by["logloss", engine]["logloss"] == pytest.approx(by["builtin", engine]["logloss"], rel=1e-3)
        assert by["logloss", engine]["roc_auc"] == pytest.approx(by["builtin", engine]["roc_auc"], abs=2e-3)
    assert "builtin" in format_table(result)


def test_catboost_is_opt_in_with_its_builtins_as_reference_rows():
    """--engines catboost trains every row on CatBoost, the reference rows with CatBoost's own
    objectives (parameters in the name); the default engines stay XGBoost and LightGBM."""
    pytest.importorskip("catboost")
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    result = compare(X, y, losses=["quantile", "expectile", "mae"], engines=["catboost"], rounds=15)
    by = {r["loss"]: r for r in result.rows}
    assert {r["engine"] for r in result.rows} == {"catboost"}
    assert by["builtin"]["objective"] == "RMSE"
    assert by["builtin quantile(0.9)"]["objective"] == "Quantile:alpha=0.9"
    assert by["builtin expectile(0.9)"]["objective"] == "Expectile:alpha=0.9"
    assert by["builtin absolute_error"]["objective"] == "MAE"
    # our rows trained on CatBoost too, and beat the constant start
    spread = float(np.mean(np.abs(y - np.median(y))))
    for label in ("quantile(0.5)", "absolute_error"):
        assert by[label]["objective"].startswith(("QuantileLoss", "AbsoluteErrorLoss"))
        assert by[label]["mae"] < spread
    default = compare(X[:200], y[:200], losses=["logcosh"], rounds=3)
    assert {r["engine"] for r in default.rows} == {"xgboost", "lightgbm"}
    assert "builtin logcosh" not in {r["loss"] for r in default.rows}  # CatBoost's LogCosh only


def test_candidates_pair_regression_losses_with_builtins():
    y = np.random.default_rng(0).normal(10, 2, 200)
    labels = [c.label for c in make_candidates("regression", y, ["huber:delta=2", "quantile"])]
    assert labels == [
        "builtin",
        "builtin huber(delta=2)",
        "huber(delta=2)",
        "builtin quantile(0.5)",
        "quantile(0.5)",
        "builtin quantile(0.9)",
        "quantile(0.9)",
    ]
    assert [c.label for c in make_candidates("binary", (y > 10).astype(float), ["huber", "focal"])] == [
        "builtin",
        "focal",
    ]


@pytest.mark.parametrize(
    ("values", "task", "expected"),
    [
        ([0, 1, 1, 0], "auto", "binary"),
        (["a", "b", "c", "a"], "auto", "multiclass"),
        ([0, 1, 2, 3, 4, 2], "auto", "multiclass"),
        ([0.5, 1.2, 3.3, 0.1], "auto", "regression"),
    ],
)
def test_task_detection(values, task, expected):
    assert encode_target("t", np.array(values), task)[1] == expected


def test_target_that_does_not_fit_the_task():
    with pytest.raises(CompareError, match="needs exactly 2"):
        encode_target("t", np.arange(20.0), "binary")


def test_engine_errors_are_one_line(monkeypatch):
    """XGBoostError is a ValueError whose message goes on with a C++ stack trace: only its first
    line reaches the user (it was printed whole)."""
    from gbobjectives.compare import training

    def fail(*args, **kwargs):
        raise ValueError("[06:22:20] data.cc:1196: Check failed: valid\nStack trace:\n  [bt] (0) libxgboost.so")

    monkeypatch.setattr(training, "_fit_raw", fail)
    rng = np.random.default_rng(0)
    with pytest.raises(CompareError) as info:
        compare(rng.normal(size=(100, 2)), rng.normal(size=100), losses=["huber"], engines=["xgboost"])
    assert str(info.value) == "training builtin on xgboost failed: [06:22:20] data.cc:1196: Check failed: valid"


def test_float32_limits_follow_the_engines(tmp_path, csv_dir):
    """A feature beyond float32 is XGBoost's and CatBoost's problem only: LightGBM alone trains."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 2))
    X[3, 1] = -1e39
    y = X[:, 0] + rng.normal(size=200)
    with pytest.raises(CompareError, match=r"feature 'x1' has a value of -1e\+39 \(row 4"):
        compare(X, y, losses=["huber"], engines=["xgboost"])
    result = compare(X, y, losses=["huber"], engines=["lightgbm"], rounds=2)
    assert len(result.rows) == 3
    # a target between LightGBM's clamp (1e38) and float32's maximum: fine without LightGBM
    y2 = y.copy()
    y2[0] = 2e38
    with pytest.raises(CompareError, match=r"beyond \+-1e\+38"):
        compare(X[:, :1], y2, losses=["huber"], engines=["lightgbm"], rounds=2)
    compare(X[:, :1], y2, losses=["huber"], engines=["xgboost"], rounds=2)


def test_tiny_table_still_runs_on_xgboost_alone(tmp_path, csv_dir):
    """The LightGBM row limit is LightGBM's: XGBoost trains on the 20-row table."""
    proc = run_cli(
        "--data", str(csv_dir / "rows20.csv"), "--target", "price", "--engines", "xgboost", "--rounds", "2",
        "--losses", "huber", "--output", str(tmp_path / "o"), cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_balanced_weights_balance_large_data():
    """ "balanced" must not collapse to "logloss" on large data (Cui et al. with beta = 0.999 gave
    [1, 1] beyond ~10k rows per class): inverse-frequency weights, total weight unchanged."""
    y = np.r_[np.zeros(60_000), np.ones(20_000)]
    cands = {c.label: c for c in make_candidates("binary", y, ["balanced"])}
    params = cands["balanced"].loss.get_params()
    assert params["neg_weight"] == pytest.approx(80_000 / (2 * 60_000), rel=1e-2)
    assert params["pos_weight"] == pytest.approx(80_000 / (2 * 20_000), rel=1e-2)
    y3 = np.repeat([0.0, 1.0, 2.0], [30_000, 15_000, 5_000])
    alpha = make_candidates("multiclass", y3, ["balanced"])[1].loss.get_params()["alpha"]
    np.testing.assert_allclose(alpha, [50_000 / (3 * 30_000), 50_000 / (3 * 15_000), 50_000 / (3 * 5_000)], rtol=1e-2)
    assert float(np.dot(alpha, [30_000, 15_000, 5_000])) == pytest.approx(50_000, rel=1e-2)


def test_balanced_row_differs_from_logloss_when_trained():
    """On an imbalanced set the balanced row trains a different model (higher positive-class scores)."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 4))
    y = (X[:, 0] + rng.normal(size=3000) > 2.0).astype(float)  # about 8 % positives
    result = compare(X, y, losses=["logloss", "balanced"], engines=["xgboost"], rounds=10)
    by = {r["loss"]: r for r in result.rows}
    assert by["balanced"]["logloss"] > by["logloss"]["logloss"] + 0.01  # pushed toward the rare class
    assert by["logloss"]["logloss"] == pytest.approx(by["builtin"]["logloss"], rel=1e-3)


# ---------------------------------------------------------------------------- chart
def _row(loss: str, engine: str, **metrics: float) -> dict:
    nan = float("nan")
    return {
        "loss": loss,
        "engine": engine,
        "train_seconds": 0.1,
        "pinball": nan,
        "coverage": nan,
        **metrics,
        "folds": [],
    }


def _panel_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_chart_shows_every_metric_relative_to_the_builtin():
    """Every metric gets a column; a row 50 % worse in logloss reads "+50.0 %" whatever its AUCs;
    the built-in's absolute values (the scale) are printed."""
    pytest.importorskip("matplotlib")
    from gbobjectives.compare import Dataset, DatasetResult, plot_results

    data = Dataset("toy", np.zeros((40, 2)), np.r_[np.zeros(20), np.ones(20)], "binary", ["a", "b"], [0, 1])
    settings = {"rounds": 5, "folds": 1, "test_size": 0.25, "n_test": 10}
    rows = []
    for engine in ("xgboost", "lightgbm"):
        rows.append(_row("builtin", engine, logloss=0.2, roc_auc=0.99, pr_auc=0.98, accuracy=0.95))
        rows.append(_row("focal", engine, logloss=0.3, roc_auc=0.991, pr_auc=0.98, accuracy=0.95))
    fig = plot_results([DatasetResult(data, settings, rows)])
    panels = [ax for ax in fig.axes if ax.texts]
    assert len(panels) == 1
    ax = panels[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["logloss", "ROC AUC", "PR AUC", "accuracy", "train time"]
    texts = _panel_texts(ax)
    assert "0.2000" in texts and "0.9900" in texts  # the built-in's values: the scale
    assert texts.count("+50.0 %") == 2 and texts.count("+0.10 %") == 2  # logloss, ROC AUC, per engine


def test_chart_puts_quantile_rows_on_their_own_panel():
    pytest.importorskip("matplotlib")
    from gbobjectives.compare import Dataset, DatasetResult, plot_results

    data = Dataset("toyreg", np.zeros((40, 2)), np.arange(40.0), "regression", ["a", "b"])
    settings = {"rounds": 5, "folds": 1, "test_size": 0.25, "n_test": 10}
    rows = [
        _row("builtin", "xgboost", rmse=10.0, mae=8.0, huber=50.0),
        _row("huber(delta=3)", "xgboost", rmse=11.0, mae=8.0, huber=50.0),
        _row("builtin quantile(0.9)", "xgboost", rmse=20.0, mae=16.0, huber=90.0, pinball=4.0, coverage=0.88),
        _row("quantile(0.9)", "xgboost", rmse=19.0, mae=15.0, huber=80.0, pinball=3.0, coverage=0.9),
    ]
    fig = plot_results([DatasetResult(data, settings, rows)])
    point, quant = [ax for ax in fig.axes if ax.texts]
    assert [t.get_text() for t in point.get_xticklabels()] == ["RMSE", "MAE", "Huber", "train time"]
    assert not any("quantile" in t.get_text() for t in point.get_yticklabels())
    assert [t.get_text() for t in quant.get_xticklabels()] == ["pinball", "coverage", "train time"]
    assert all("quantile" in t.get_text() for t in quant.get_yticklabels())
    assert "+10.0 %" in _panel_texts(point)  # RMSE 11 vs 10
    texts = _panel_texts(quant)
    assert "-25.0 %" in texts and "4.0000" in texts  # pinball vs the built-in quantile at 0.9
    assert "0.900 (aim 0.9)" in texts
