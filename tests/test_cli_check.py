"""`gbobjectives check`: the audit from the command line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

import gbobjectives as gbo
import gbobjectives.losses
from gbobjectives.cli import main


def _command() -> list[str]:
    """The installed console script if present, else the module."""
    script = Path(sys.executable).with_name("gbobjectives")
    if script.exists():
        return [str(script)]
    found = shutil.which("gbobjectives")
    return [found] if found else [sys.executable, "-m", "gbobjectives.cli"]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*_command(), *args], capture_output=True, text=True, timeout=120)


def test_check_passes_and_prints_table():
    """`gbobjectives check` exits 0 and prints one row per example loss, all passing."""
    proc = _run("check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "worst err/tol" in out
    n = len(gbo.losses.example_losses())
    assert f"{n} passed, 0 failed" in out
    for name in gbo.LOSSES:
        assert name in out
    assert "FAIL" not in out


def test_check_filters_by_loss():
    """`--loss FocalLoss` audits only FocalLoss settings."""
    proc = _run("check", "--loss", "FocalLoss", "--seed", "3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.endswith("pass") or "FAIL" in line]
    n_focal = sum(type(x).__name__ == "FocalLoss" for x in gbo.losses.example_losses())
    assert len(rows) == n_focal
    assert all(r.startswith("FocalLoss ") for r in rows)
    assert "MulticlassFocalLoss" not in proc.stdout and "HuberLoss" not in proc.stdout


def test_check_unknown_loss_exits_2():
    """A filter that matches nothing is a usage error (exit 2), not a silent pass."""
    proc = _run("check", "--loss", "NoSuchLoss")
    assert proc.returncode == 2
    assert "no loss matches" in proc.stderr


def test_check_exits_1_when_a_loss_fails(monkeypatch, capsys):
    """The exit status really depends on the audit: a broken loss makes `check` exit 1."""

    class Broken(gbo.WeightedLogLoss):
        def _gradient_hessian(self, y, z, w):
            g, h = super()._gradient_hessian(y, z, w)
            return g * 1.01, h

    monkeypatch.setattr(gbobjectives.losses, "example_losses", lambda: [gbo.HuberLoss(), Broken()])
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "1 passed, 1 failed" in out


def test_no_command_prints_help(capsys):
    """Without a subcommand the CLI prints help and exits 2."""
    assert main([]) == 2
    assert "check" in capsys.readouterr().out


def test_numpy_not_mutated_by_check():
    """Sanity: the audit does not modify the caller's arrays."""
    y = np.array([0.0, 1.0, 1.0])
    z = np.array([-3.0, 0.5, 700.0])
    y0, z0 = y.copy(), z.copy()
    gbo.check_gradients(gbo.FocalLoss(), y, z)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(z, z0)
