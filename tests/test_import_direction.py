"""The loss core imports no engine: the dependency points from the engines to the losses only.

The core is ``gbobjectives/losses/``, ``links.py``, ``_numerics.py``, ``_validation.py``,
``_engine_hooks.py`` and ``metrics.py``. None of them may import an engine adapter
(``gbobjectives.engines``, ``gbobjectives.xgboost``, ...) or an engine library, not even inside
a function: the imports are read from the source with ``ast``, so a lazy import is caught too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gbobjectives"
CORE = sorted(
    [
        *(PACKAGE / "losses").glob("*.py"),
        PACKAGE / "links.py",
        PACKAGE / "_numerics.py",
        PACKAGE / "_validation.py",
        PACKAGE / "_engine_hooks.py",
        PACKAGE / "metrics.py",
    ]
)
#: modules the core must not import (prefixes: "xgboost" also forbids "xgboost.dask")
FORBIDDEN = (
    "xgboost",
    "lightgbm",
    "catboost",
    "dask",
    "distributed",
    "matplotlib",
    "pandas",
    "gbobjectives.engines",
    "gbobjectives.xgboost",
    "gbobjectives.lightgbm",
    "gbobjectives.catboost",
    "gbobjectives.sklearn",
    "gbobjectives.persistence",
    "gbobjectives.estimators",
    "gbobjectives.dask",
    "gbobjectives.refit",
    "gbobjectives.compare",
    "gbobjectives.plotting",
    "gbobjectives.cli",
    "gbobjectives.checks",
)
#: modules an ``import gbobjectives`` must leave unloaded
HEAVY = ("xgboost", "lightgbm", "catboost", "dask", "distributed", "matplotlib")


def imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports, wherever the import statement sits (module, function, class)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = path.relative_to(PACKAGE.parent).with_suffix("").parts[: -node.level]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.append(module)
            # ``from gbobjectives import xgboost`` imports the submodule
            names += [f"{module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            names += [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return names


def test_core_files_exist():
    assert len(CORE) >= 10 and all(p.is_file() for p in CORE)


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_imports_no_engine(path):
    bad = [m for m in imported_modules(path) if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert not bad, f"{path.relative_to(PACKAGE.parent)} imports {bad}: the core must not depend on the engines"


def test_import_gbobjectives_loads_no_engine_library():
    code = (
        "import sys, gbobjectives as gbo\n"
        "loss = gbo.FocalLoss()\n"
        "callable(loss.xgboost_objective) and callable(gbo.xgboost.Objective(loss))\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import gbobjectives loaded {out.stdout.strip()}"


def test_adapters_are_registered_by_the_engine_modules():
    from gbobjectives import _engine_hooks

    expected = {
        "xgboost_objective",
        "xgboost_metric",
        "lightgbm_objective",
        "lightgbm_metric",
        "sklearn_objective",
        "xgboost_sklearn_metric",
        "lightgbm_sklearn_metric",
    }
    assert expected <= set(_engine_hooks._ADAPTERS)
