"""Every python code block of docs/quickstart_engines.md runs, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "quickstart_engines.md"


def test_quickstart_code_blocks_run(capsys):
    pytest.importorskip("xgboost")
    pytest.importorskip("lightgbm")
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 5
    namespace: dict = {}
    for i, block in enumerate(blocks):
        # keep the examples fast and quiet on 2 cores: one thread per engine
        code = block.replace('"verbose": -1}', '"verbose": -1, "num_threads": 1}')
        code = code.replace("verbose=-1,", "verbose=-1, n_jobs=1,")
        code = code.replace('{"max_depth": 3', '{"nthread": 1, "max_depth": 3')
        code = code.replace("n_estimators=300, max_depth=3,", "n_estimators=300, max_depth=3, n_jobs=1,")
        exec(compile(code, f"{DOC.name}[block {i}]", "exec"), namespace)  # noqa: S102
    assert namespace["proba"].shape == (200,)
