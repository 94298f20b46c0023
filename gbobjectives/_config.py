"""``gbobjectives.show_config()``: which kernels compute the losses, on how many threads."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

from gbobjectives import _compiled
from gbobjectives._threads import num_threads

__all__ = ["show_config"]

_PACKAGES = ("numpy", "scipy", "scikit-learn", "xgboost", "lightgbm", "catboost")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def show_config(print_config: bool = True) -> dict[str, Any]:
    """Print (and return) which path computes the classification losses and how many threads
    gbobjectives' own kernels use.

    ``kernels`` is ``"compiled"`` (the fused C kernels built at install time, with the vector-math
    variant chosen for this CPU) or ``"numpy"`` (no C compiler at install time, or
    ``GBOBJECTIVES_PURE_PYTHON=1``: same values up to rounding, slower), with the reason. The
    threads are gbobjectives' own (``GBOBJECTIVES_NUM_THREADS``, default: the usable cores, at
    most 8), used only while the engine waits for a gradient; the engines' own ``nthread`` /
    ``num_threads`` are separate. Engine versions are read without importing the engines.

    Example
    -------
    >>> import gbobjectives as gbo
    >>> sorted(gbo.show_config(print_config=False))[:3]
    ['cpu', 'kernels', 'packages']
    """
    config: dict[str, Any] = {
        **_compiled.info(),
        "threads": num_threads(),
        "cpu": f"{platform.machine()} {_cpu_model()}".strip(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in _PACKAGES},
    }
    if print_config:
        width = max(len(k) for k in config)
        for key, value in config.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items())
            print(f"{key:<{width}}  {value}")
    return config


def _cpu_model() -> str:
    """The CPU's model name where the OS tells it cheaply (Linux), else ''."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
