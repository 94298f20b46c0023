"""Every design note the code or the docs cite is a file in this repository.

Comments and docstrings used to cite MATH.md, API.md and ENGINES.md, which lived outside the
repository; the notes are now docs/conventions.md, docs/math.md and docs/engines.md. This test
finds every ``*.md`` a source file or document names and checks that it exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(
    [
        *ROOT.glob("gbobjectives/**/*.py"),
        *ROOT.glob("tests/*.py"),
        *ROOT.glob("benchmarks/*.py"),
        *ROOT.glob("examples/*.py"),
        *(p for p in ROOT.glob("*.md") if p.name != "CHANGELOG.md"),  # history names removed files
        *ROOT.glob("docs/*.md"),
        *ROOT.glob("benchmarks/results/*.md"),
    ]
)
#: a path ending in .md: optional folders, then a file name (not part of a URL)
REFERENCE = re.compile(r"(?<![\w/.:-])((?:[\w.-]+/)*[\w.-]+\.md)\b")
#: design notes that used to live outside the repository
OUTSIDE = ("MATH.md", "API.md", "ENGINES.md", "STYLE.md")


def _references(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return [m.group(1) for m in REFERENCE.finditer(text) if "://" not in text[max(0, m.start() - 80) : m.start()]]


@pytest.mark.parametrize(
    "path", [p for p in SOURCES if p.name != Path(__file__).name], ids=lambda p: str(p.relative_to(ROOT))
)
def test_cited_documents_exist(path):
    missing = []
    for ref in _references(path):
        if ref.startswith("shared/") or ref in OUTSIDE:
            missing.append(ref)
            continue
        candidates = [ROOT / ref, path.parent / ref, ROOT / "docs" / ref, path.parent / "results" / ref]
        if not any(c.is_file() for c in candidates):
            missing.append(ref)
    assert not missing, f"{path.relative_to(ROOT)} cites {sorted(set(missing))}, not in the repository"


def test_design_notes_are_there():
    for name in ("conventions.md", "math.md", "engines.md", "layout.md"):
        assert (ROOT / "docs" / name).is_file()
