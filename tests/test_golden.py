"""Golden Markdown: the sample dossiers render to exactly the committed files.

After an intended change, regenerate with `VOCEUNICA_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`
and review the diff of tests/golden/ like any other change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voceunica.model import LANGS
from voceunica.render import render_markdown
from voceunica.resolve import resolve
from voceunica.validate import load_project

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("VOCEUNICA_UPDATE_GOLDEN") == "1"

PROJECT = load_project(REPO)
CASES = [(d, lang) for d in sorted(PROJECT.dossiers) for lang in LANGS]


def test_sample_project_validates() -> None:
    assert [str(p) for p in PROJECT.errors] == []
    assert len(PROJECT.dossiers) >= 3 and len(PROJECT.positions) >= 4 and len(PROJECT.annexes) >= 2


@pytest.mark.parametrize(("dossier", "lang"), CASES, ids=[f"{d}.{lang}" for d, lang in CASES])
def test_markdown_matches_golden(dossier: str, lang: str) -> None:
    d = PROJECT.dossiers[dossier]
    text = render_markdown(resolve(PROJECT, dossier, lang), PROJECT.template_dirs(), d.template)
    golden = GOLDEN / f"{dossier}.{lang}.md"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"no golden file {golden.name}: run with VOCEUNICA_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")


def test_every_golden_file_belongs_to_a_dossier() -> None:
    expected = {f"{d}.{lang}.md" for d, lang in CASES}
    assert {p.name for p in GOLDEN.glob("*.md")} == expected
