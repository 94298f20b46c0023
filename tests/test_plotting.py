"""Tests of ``gbobjectives.plotting.plot_loss`` and the ``gbobjectives plot`` command.

The plotted data are compared with loss/gradient/Hessian values written out here from
the formulas in docs/math.md (plain ``math``), not with the package's own functions, so a
plot that silently draws the wrong quantity (or the wrong label, or the wrong axis)
fails.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

from gbobjectives import FocalLoss, HuberLoss, MulticlassFocalLoss, PseudoHuberLoss, QuantileLoss  # noqa: E402
from gbobjectives.cli import main  # noqa: E402
from gbobjectives.plotting import find_loss_class, parse_loss_args, plot_loss  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- independent formulas
def _sigmoid(u: float) -> float:
    return 1.0 / (1.0 + math.exp(-u))


def _phi(u: float, g: float) -> float:
    return _sigmoid(-u) ** g * math.log1p(math.exp(-u))


def _dphi(u: float, g: float) -> float:
    p, q, L = _sigmoid(u), _sigmoid(-u), math.log1p(math.exp(-u))
    return -(q**g) * (g * p * L + q)


def _d2phi(u: float, g: float) -> float:
    p, q, L = _sigmoid(u), _sigmoid(-u), math.log1p(math.exp(-u))
    return p * q**g * ((2 * g + 1) * q + g * L * (g * p - q))


# ---------------------------------------------------------------- helpers
def _line(ax, label: str):
    matches = [ln for ln in ax.get_lines() if ln.get_label() == label]
    assert len(matches) == 1, f"no unique line {label!r} in {[ln.get_label() for ln in ax.get_lines()]}"
    return np.asarray(matches[0].get_xdata()), np.asarray(matches[0].get_ydata())


def _data_lines(ax):
    """The plotted curves (plot_loss gives them a gid; the zero line and kink markers have none)."""
    return [ln for ln in ax.get_lines() if ln.get_gid()]


def _at(x: np.ndarray, y: np.ndarray, points) -> list[tuple[float, float]]:
    """(x, y) at the grid points nearest to ``points``."""
    return [(float(x[i]), float(y[i])) for i in (int(np.argmin(np.abs(x - p))) for p in points)]


def _legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


# ---------------------------------------------------------------- plot_loss
def test_focal_plot_data_match_independent_formulas() -> None:
    g, a = 2.0, 0.25
    fig = plot_loss(FocalLoss(gamma=g, alpha=a))
    assert isinstance(fig, Figure)
    ax_loss, ax_grad, ax_hess = fig.axes
    assert len(fig.axes) == 3
    assert ax_loss.get_xlim() == (-8.0, 8.0)
    assert "FocalLoss(gamma=2.0, alpha=0.25" in fig.get_suptitle()

    pts = (-6.0, -1.0, 0.0, 2.5, 7.0)
    for z, v in _at(*_line(ax_loss, "y=1"), pts):
        assert v == pytest.approx(a * _phi(z, g), rel=1e-12)
    for z, v in _at(*_line(ax_loss, "y=0"), pts):
        assert v == pytest.approx((1 - a) * _phi(-z, g), rel=1e-12)
    for z, v in _at(*_line(ax_grad, "y=1"), pts):
        assert v == pytest.approx(a * _dphi(z, g), rel=1e-10, abs=1e-14)
    for z, v in _at(*_line(ax_grad, "y=0"), pts):
        assert v == pytest.approx(-(1 - a) * _dphi(-z, g), rel=1e-10, abs=1e-14)
    for z, v in _at(*_line(ax_hess, "y=1: exact"), pts):
        assert v == pytest.approx(a * _d2phi(z, g), rel=1e-9, abs=1e-14)

    # the default ("upper") Hessian is on the same panel, dashed, >= the exact one
    zx, h_exact = _line(ax_hess, "y=1: exact")
    _, h_upper = _line(ax_hess, "y=1: 'upper' (default)")
    assert np.all(h_upper > 0) and np.all(h_upper >= h_exact - 1e-15)
    assert len(_data_lines(ax_hess)) == 4
    # the exact Hessian is negative for badly misclassified rows: that region is marked
    assert h_exact.min() < 0
    assert "exact Hessian < 0" in _legend_texts(ax_hess)
    assert ax_hess.patches, "no shaded region"


def test_regression_plot_is_against_the_residual() -> None:
    delta, y = 1.5, 2.0
    fig = plot_loss(HuberLoss(delta=delta), y=y)
    ax_loss, ax_grad, ax_hess = fig.axes
    assert ax_loss.get_xlim() == (-4 * delta, 4 * delta)  # default range scales with delta
    (loss_line,) = _data_lines(ax_loss)
    r_all = np.asarray(loss_line.get_xdata())
    for r, v in _at(r_all, np.asarray(loss_line.get_ydata()), (-5.0, -0.7, 0.3, 4.0)):
        expected = r * r / 2 if abs(r) <= delta else delta * (abs(r) - delta / 2)
        assert v == pytest.approx(expected, rel=1e-12)
    (grad_line,) = _data_lines(ax_grad)
    for r, v in _at(r_all, np.asarray(grad_line.get_ydata()), (-5.0, -0.7, 0.3, 4.0)):
        assert v == pytest.approx(max(-delta, min(delta, r)), rel=1e-12)
    _, h_exact = _line(ax_hess, "exact")
    r_mm, h_mm = _line(ax_hess, "'mm' (default)")
    assert set(np.unique(h_exact)) == {0.0, 1.0}
    # the majorize-minimize curvature: 1 inside delta, delta/|r| outside
    np.testing.assert_allclose(h_mm, np.minimum(1.0, delta / np.abs(np.asarray(r_mm))), rtol=1e-12)
    assert "exact Hessian = 0" in _legend_texts(ax_hess)
    assert "kink" in _legend_texts(ax_hess)


def test_quantile_exact_hessian_is_zero_everywhere() -> None:
    fig = plot_loss(QuantileLoss(quantile=0.9), z_range=(-2, 3))
    ax_loss, ax_grad, ax_hess = fig.axes
    assert ax_loss.get_xlim() == (-2.0, 3.0)
    (grad_line,) = _data_lines(ax_grad)
    r, gvals = np.asarray(grad_line.get_xdata()), np.asarray(grad_line.get_ydata())
    assert np.allclose(gvals[r < 0], -0.9) and np.allclose(gvals[r > 0], 0.1)
    assert "exact Hessian = 0 everywhere" in _legend_texts(ax_hess)


def test_multiclass_plot_moves_the_true_class_logit() -> None:
    g = 2.0
    fig = plot_loss(MulticlassFocalLoss(gamma=g))
    ax_loss, ax_grad, _ = fig.axes
    assert "K=3" in fig.get_suptitle()
    (loss_line,) = _data_lines(ax_loss)
    (grad_line,) = _data_lines(ax_grad)
    x = np.asarray(loss_line.get_xdata())
    for z, v in _at(x, np.asarray(loss_line.get_ydata()), (-5.0, 0.0, 3.0)):
        # other two logits at 0: p_c = sigmoid(z - log 2)
        assert v == pytest.approx(_phi(z - math.log(2.0), g), rel=1e-12)
    for z, v in _at(x, np.asarray(grad_line.get_ydata()), (-5.0, 0.0, 3.0)):
        assert v == pytest.approx(_dphi(z - math.log(2.0), g), rel=1e-10)


class _ExactDefaultPseudoHuber(PseudoHuberLoss):
    """A loss whose default Hessian is the exact one (no shipped regression loss has that
    default since the majorize-minimize curvature became the default)."""

    hessian_options = ("exact", "mm", "constant")

    def __init__(self, delta: float = 1.0, hessian: str = "exact") -> None:
        super().__init__(delta=delta, hessian=hessian)


def test_default_exact_hessian_is_one_curve_and_said_so() -> None:
    fig = plot_loss(_ExactDefaultPseudoHuber(delta=1.0))
    ax_hess = fig.axes[2]
    assert len(_data_lines(ax_hess)) == 1
    assert "default is the exact" in ax_hess.get_title()


def test_draws_into_given_axes_and_checks_arguments() -> None:
    fig = Figure()
    axes = fig.subplots(1, 3)
    assert plot_loss(FocalLoss(), y=1, ax=axes) is fig
    assert [len(_data_lines(a)) for a in axes] == [1, 1, 2]
    with pytest.raises(ValueError, match="three Axes"):
        plot_loss(FocalLoss(), ax=axes[:2])
    with pytest.raises(ValueError, match="z_range"):
        plot_loss(FocalLoss(), z_range=(3, 1))
    with pytest.raises(ValueError, match="class index"):
        plot_loss(MulticlassFocalLoss(), y=5)


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    with pytest.raises(ImportError) as info:
        plot_loss(FocalLoss())
    assert 'pip install "gbobjectives[plot]"' in str(info.value) and 'pip install ".[plot]"' in str(info.value)


# ---------------------------------------------------------------- CLI helpers
@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("FocalLoss", FocalLoss),
        ("focal", FocalLoss),
        ("HUBER", HuberLoss),
        ("quantile", QuantileLoss),
        ("mfocal", MulticlassFocalLoss),
        ("pseudo-huber", PseudoHuberLoss),
        ("logloss", find_loss_class("WeightedLogLoss")),
        ("logcosh", find_loss_class("LogCoshLoss")),
    ],
)
def test_find_loss_class(name: str, cls: type) -> None:
    assert find_loss_class(name) is cls


def test_parse_loss_args() -> None:
    assert parse_loss_args(FocalLoss, ["--gamma", "2", "--alpha=0.25", "--hessian", "exact"]) == FocalLoss(
        gamma=2.0, alpha=0.25, hessian="exact"
    )
    assert parse_loss_args(MulticlassFocalLoss, ["--alpha", "1,2,0.5"]).alpha == [1.0, 2.0, 0.5]
    assert parse_loss_args(find_loss_class("logloss"), ["--pos-weight", "3"]).pos_weight == 3.0
    with pytest.raises(ValueError, match="valid parameters"):
        parse_loss_args(FocalLoss, ["--gamm", "2"])
    with pytest.raises(ValueError, match="expected a number"):
        parse_loss_args(FocalLoss, ["--gamma", "abc"])
    with pytest.raises(ValueError, match="needs a value"):
        parse_loss_args(FocalLoss, ["--gamma"])


# ---------------------------------------------------------------- the command
def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gbobjectives.cli", "plot", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_writes_a_png(tmp_path: Path) -> None:
    out = tmp_path / "focal.png"
    proc = _run_cli("FocalLoss", "--gamma", "2", "--alpha", "0.25", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    data = out.read_bytes()
    assert len(data) > 1000 and data[:8] == PNG_MAGIC


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuchloss"], "available: WeightedLogLoss (logloss), FocalLoss (focal)"),  # definition order
        (["focal", "--gamm", "2"], "valid parameters"),
        (["focal", "--gamma", "-1"], "gamma"),
    ],
)
def test_cli_errors_are_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "x.png"
    proc = _run_cli(*args, "-o", str(out))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert not out.exists()


def test_cli_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "h.svg"
    assert main(["plot", "huber", "--delta", "1.5", "--z-range=-3,3", "-o", str(out)]) == 0
    assert out.read_bytes().lstrip().startswith(b"<?xml")
    assert main(["plot", "huber", "--delta", "1.5"]) == 2  # no output file
    assert main(["plot", "mfocal", "--alpha", "1,x", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("gbobjectives plot: error:") for line in err)
