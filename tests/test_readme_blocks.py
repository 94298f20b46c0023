"""Every ```python block of README.md and docs/ runs on its own.

A reader copies one block into a fresh interpreter: each block is written to a file and run as a
script by ``sys.executable`` in an empty directory, with nothing but its own imports (issue 18:
blocks that leaned on names from earlier blocks failed with NameError, the Dask blocks lacked
``import xgboost.dask`` and the ``__main__`` guard that worker processes need). A block whose
imports name an optional package that is not installed is skipped, naming the package. A block
repeated in docs/ (the README copies most of them) runs once, under its README id.
docs/optuna.md is left to tests/test_docs_optuna.py, which runs its one block and checks the result.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "optuna.md")]
TIMEOUT_S = 180  # per block; the slowest (a LocalCluster with two worker processes) takes ~10 s


def python_blocks(path: Path) -> list[tuple[str, str]]:
    """(id, code) of each ```python block, the id naming the file, the block's number and the
    nearest heading above it (a ``# comment`` inside a block is not a heading)."""
    out, section, fence, code = [], "top", None, []
    for line in path.read_text().splitlines(keepends=True):
        if fence is None:
            if line.startswith("```"):
                fence, code = line[3:].strip(), []
            elif re.match(r"#{1,6} ", line):
                section = re.sub(r"[^A-Za-z0-9_.]+", "-", line.lstrip("#")).strip("-")[:50]
        elif line.startswith("```"):
            if fence == "python":
                out.append((f"{path.name}:{len(out) + 1}:{section}", "".join(code)))
            fence = None
        else:
            code.append(line)
    return out


def required_modules(code: str) -> set[str]:
    """Top-level modules the block imports, and the engines it names as ``engine="..."``."""
    names = set(re.findall(r"""engine=["'](xgboost|lightgbm|catboost)["']""", code))
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_required_modules():
    code = 'import xgboost.dask\nfrom distributed import Client\nm = gbo.BoostedClassifier(engine="lightgbm")\n'
    assert required_modules(code) == {"xgboost", "distributed", "lightgbm"}


def _collect():
    seen, params = set(), []
    for path in DOCS:
        for block_id, code in python_blocks(path):
            if code in seen:  # a block repeated in docs/ runs once
                continue
            seen.add(code)
            params.append(pytest.param(code, id=block_id))
    return params


BLOCKS = _collect()


def test_blocks_found():
    assert len(python_blocks(ROOT / "README.md")) >= 11
    assert len(python_blocks(ROOT / "docs" / "dask.md")) == 2
    assert len(BLOCKS) == len({p.values[0] for p in BLOCKS})


@pytest.mark.parametrize("code", BLOCKS)
def test_block_runs_alone(code, tmp_path):
    for module in sorted(required_modules(code)):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"needs {module}, an optional extra that is not installed")
    script = tmp_path / "block.py"
    script.write_text(code)
    env = dict(os.environ, MPLBACKEND="Agg", OMP_WAIT_POLICY="PASSIVE")
    try:
        proc = subprocess.run(
            [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"block ran over {TIMEOUT_S} s:\n{code}\n--- stderr\n{exc.stderr}")
    assert proc.returncode == 0, f"block failed alone:\n{code}\n--- stderr\n{proc.stderr[-4000:]}"
