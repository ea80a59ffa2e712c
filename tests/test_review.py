"""Sign-offs pinned to content, version discipline against a git base, translation freshness."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from voceunica.errors import VoceunicaError
from voceunica.fingerprint import agreed, fingerprint, signoff_state, translation_status
from voceunica.pipeline import check
from voceunica.validate import load_project
from voceunica.yamledit import mark_translated, record_signoff
from conftest import POS

NEEDS_GIT = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def edit(root: Path, old: str, new: str) -> None:
    path = root / POS
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def messages(root: Path, base: str | None = None) -> list[str]:
    return [str(p) for p in check(root, base).problems]


def test_fixture_is_agreed_by_both_regions(mini: Path) -> None:
    pos = load_project(mini).positions["steel-mini"]
    assert signoff_state(pos, "lombardia") == signoff_state(pos, "veneto") == "current"
    assert agreed(pos)


def test_fingerprint_ignores_version_status_and_formatting_but_not_wording(mini: Path) -> None:
    before = fingerprint(load_project(mini).positions["steel-mini"])
    edit(mini, 'version: "1.0.0"', 'version: "1.0.1"')
    edit(mini, "title:\n  it: Acciaio e CBAM", "title:\n  it:   'Acciaio e CBAM'")
    assert fingerprint(load_project(mini).positions["steel-mini"]) == before
    edit(mini, "Steel and CBAM", "Steel and the CBAM")
    assert fingerprint(load_project(mini).positions["steel-mini"]) != before


def test_fingerprint_ignores_fields_left_at_their_default(mini: Path) -> None:
    """A field left at its default is not content: writing it out changes nothing, and so a field a later
    voceunica adds to the format does not make every sign-off stale; setting it does change the content."""
    pos = load_project(mini).positions["steel-mini"]
    before = fingerprint(pos)
    data = pos.model_dump(exclude_defaults=True)
    data["asks"][0].pop("eu_file", None)
    without = type(pos).model_validate(data)
    data["asks"][0]["eu_file"] = None  # the default, written out
    assert fingerprint(type(pos).model_validate(data)) == fingerprint(without)
    data["asks"][0]["eu_file"] = "cbam"
    assert fingerprint(type(pos).model_validate(data)) != fingerprint(without)
    assert fingerprint(pos) == before


def test_changed_text_makes_both_approvals_stale_and_the_translation_outdated(mini: Path) -> None:
    edit(mini, "Il periodo definitivo è iniziato", "Il periodo definitivo è cominciato")
    found = messages(mini)
    stale = [m for m in found if "is stale" in m]
    assert len(stale) == 2 and all("status is 'agreed'" in m for m in stale)
    assert any("sections[0].body.en: translation outdated" in m and "warning:" in m for m in found)
    pos = load_project(mini).positions["steel-mini"]
    assert [s.field for s in translation_status(pos) if s.state == "outdated"] == ["sections[0].body"]


def test_a_draft_with_stale_approvals_is_only_warned(mini: Path) -> None:
    edit(mini, "status: agreed", "status: draft")
    edit(mini, "Steel and CBAM", "Steel and the CBAM")
    project = check(mini)
    assert project.errors == []
    assert sum("is stale" in str(p) for p in project.problems) == 2


def test_signoff_edits_only_the_approval_lines(mini: Path) -> None:
    edit(mini, "Steel and CBAM", "Steel and the CBAM")
    before = (mini / POS).read_text(encoding="utf-8").splitlines()
    project = load_project(mini)
    _, fp = record_signoff(project, "steel-mini", "veneto", "Marco Bianchi", dt.date(2026, 4, 1))
    after = (mini / POS).read_text(encoding="utf-8").splitlines()
    assert len(before) == len(after)
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [
        ("    by: Paolo Test", "    by: Marco Bianchi"),
        ("    date: 2026-03-09", "    date: 2026-04-01"),
        (f"    fingerprint: {project.positions['steel-mini'].signoffs.veneto.fingerprint}",  # type: ignore[union-attr]
         f"    fingerprint: {fp}"),
    ]
    pos = load_project(mini).positions["steel-mini"]
    assert signoff_state(pos, "veneto") == "current" and signoff_state(pos, "lombardia") == "stale"


def test_signoff_adds_a_block_where_there_was_none(mini: Path) -> None:
    text = (mini / POS).read_text(encoding="utf-8")
    (mini / POS).write_text(text[: text.index("signoffs:")] + text[text.index("translated_from:"):], encoding="utf-8")
    before = (mini / POS).read_text(encoding="utf-8")
    record_signoff(load_project(mini), "steel-mini", "lombardia", "Anna", dt.date(2026, 4, 1))
    after = (mini / POS).read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n").rsplit("translated_from:", 1)[0]) or before in after
    assert "signoffs:\n  lombardia:\n    by: Anna\n" in after
    # comments survive
    assert after.startswith("# A minimal valid position for the tests.")


def test_signoff_refuses_unknown_region_and_position(mini: Path) -> None:
    project = load_project(mini)
    with pytest.raises(VoceunicaError, match="unknown region 'lazio'"):
        record_signoff(project, "steel-mini", "lazio", "X", dt.date(2026, 1, 1))
    with pytest.raises(VoceunicaError, match="no position 'steel'"):
        record_signoff(project, "steel", "veneto", "X", dt.date(2026, 1, 1))


def test_mark_translated_clears_outdated(mini: Path) -> None:
    edit(mini, "Il periodo definitivo è iniziato", "Il periodo definitivo è cominciato")
    _, changed = mark_translated(load_project(mini), "steel-mini")
    assert changed == ["sections[0].body"]
    assert all(s.state == "translated" for s in translation_status(load_project(mini).positions["steel-mini"]))


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.eu", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.eu", "HOME": str(root), "PATH": "/usr/bin:/bin"})


@pytest.fixture
def repo(mini: Path) -> Path:
    _git(mini, "init", "-q", "-b", "main")
    _git(mini, "add", "-A")
    _git(mini, "commit", "-qm", "base")
    return mini


@NEEDS_GIT
def test_check_base_requires_a_version_bump(repo: Path) -> None:
    edit(repo, "Il periodo definitivo è iniziato", "Il periodo definitivo è cominciato")
    _git(repo, "commit", "-qam", "edit")
    found = messages(repo, "HEAD~1")
    assert f"{POS}:4:10: position 'steel-mini' changed since HEAD~1 but its version is still 1.0.0: " \
           "bump it (suggested: 1.0.1)" in found
    # the full workflow: bump, update the English, mark it, both sign-offs
    edit(repo, 'version: "1.0.0"', 'version: "1.0.1"')
    edit(repo, "The definitive period started", "The definitive period began")
    mark_translated(load_project(repo), "steel-mini")
    for region in ("lombardia", "veneto"):
        record_signoff(load_project(repo), "steel-mini", region, "Someone", dt.date(2026, 5, 1))
    assert messages(repo, "HEAD~1") == []


@NEEDS_GIT
def test_check_base_refuses_a_version_that_went_down(repo: Path) -> None:
    edit(repo, 'version: "1.0.0"', 'version: "0.9.0"')
    assert f"{POS}:4:10: version went down from 1.0.0 (at HEAD) to 0.9.0" in messages(repo, "HEAD")


@NEEDS_GIT
def test_check_base_with_an_unknown_revision(repo: Path) -> None:
    with pytest.raises(VoceunicaError, match="unknown git revision 'nope'"):
        check(repo, "nope")
