"""How to install an optional extra, for error messages."""

from __future__ import annotations


def pip_install_hint(extra: str) -> str:
    """Both ways to install ``extra``: by name from PyPI, or from a clone of the repository.

    >>> pip_install_hint("xgboost")
    'pip install "gbobjectives[xgboost]" (from PyPI, once published) or pip install ".[xgboost]" (in a clone)'
    """
    return f'pip install "gbobjectives[{extra}]" (from PyPI, once published) or pip install ".[{extra}]" (in a clone)'
