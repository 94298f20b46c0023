"""Execute every notebook in ``examples/`` (they are documentation that must keep working).

The notebooks are committed without outputs; this runs them top to bottom in a fresh
``python3`` kernel (the one ipykernel registers for the running interpreter) and fails on
the first cell that raises.
"""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


def _kernel_available() -> str | None:
    """None if a python3 kernel can be started, else the reason it cannot."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        KernelSpecManager().get_kernel_spec("python3")
    except ImportError as exc:
        return f"jupyter_client/ipykernel not installed ({exc})"
    except NoSuchKernel:
        return "no 'python3' Jupyter kernel found (pip install ipykernel)"
    return None


def test_examples_exist():
    assert len(NOTEBOOKS) >= 4, f"expected the example notebooks in {EXAMPLES}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path):
    reason = _kernel_available()
    if reason:
        pytest.skip(reason)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # committed notebooks carry no outputs (they would go stale)
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: strip outputs"
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}
    )
    client.execute()  # raises CellExecutionError with the failing cell's traceback
