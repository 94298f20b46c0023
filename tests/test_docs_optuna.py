"""docs/optuna.md: the LightGBMTuner recipe for a gbobjectives loss runs as written and the
retrained booster reproduces the tuned one (the start included)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "optuna.md"


def test_lightgbm_tuner_recipe_runs():
    pytest.importorskip("lightgbm")
    pytest.importorskip("optuna")
    pytest.importorskip("optuna_integration")
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 1
    # one thread per trial: the suite shares 2 cores
    code = blocks[0].replace('"verbose": -1,', '"verbose": -1, "num_threads": 1,')
    ns: dict = {}
    exec(compile(code, DOC.name, "exec"), ns)  # noqa: S102
    tuned = ns["tuner"].get_best_booster()
    raw_tuned = tuned.predict(ns["X_valid"], raw_score=True, num_iteration=tuned.best_iteration) + ns["start"]
    raw = ns["booster"].predict(ns["X_valid"], raw_score=True)
    np.testing.assert_allclose(raw, raw_tuned, rtol=0, atol=1e-12)
    loss_value = float(np.mean(ns["loss"].loss(ns["y_valid"], raw)))
    assert loss_value == pytest.approx(ns["tuner"].best_score, rel=1e-9)
    assert ns["proba"].shape == (500,) and np.all((ns["proba"] > 0) & (ns["proba"] < 1))
