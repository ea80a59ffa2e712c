"""The semantic diff: what reviewers of a pull request read instead of YAML and CSV text."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from voceunica.diff import (
    CellChange, FieldChange, ProjectDiff, changelog, diff_projects, to_json, to_markdown, to_terminal,
    word_diff,
)
from voceunica.gitrev import project_at
from voceunica.project import Project
from voceunica.validate import load_project
from conftest import POS, CSV

NEEDS_GIT = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def revise(root: Path) -> None:
    """The edits of a typical pull request."""
    edit(root, POS, "started on 1 January 2026", "started on 2 January 2026")
    edit(root, POS, "iniziato il 1º gennaio", "iniziato il 2º gennaio")
    edit(root, POS, 'version: "1.0.0"', 'version: "1.1.0"')
    edit(root, POS, "status: agreed", "status: draft")
    edit(root, CSV, "2024,163.9,80.1", "2024,163.9,80.2")
    new_id = root / "positions" / "steel-extra.yaml"
    new_id.write_text((root / POS).read_text(encoding="utf-8").replace("id: steel-mini", "id: steel-extra"),
                      encoding="utf-8")


def content_errors(project: Project) -> list[str]:
    """Problems in what the diff compares (the templates are not its business)."""
    return [str(p) for p in project.errors if not p.path.startswith("templates/")]


@pytest.fixture
def revised(mini: Path, tmp_path: Path) -> tuple[Path, Path]:
    after = tmp_path / "after"
    shutil.copytree(mini, after)
    revise(after)
    return mini, after


@pytest.fixture
def diff(revised: tuple[Path, Path]) -> ProjectDiff:
    before, after = (load_project(p) for p in revised)
    assert content_errors(before) == content_errors(after) == []
    return diff_projects(before, after)


# --- the structure ---------------------------------------------------------------------

def test_identical_projects_have_no_diff(mini: Path) -> None:
    d = diff_projects(load_project(mini), load_project(mini))
    assert d.empty
    assert to_markdown(d) == "No changes to positions, dossiers or annexes.\n"
    assert to_terminal(d, color=False) == "No changes to positions, dossiers or annexes.\n"


def test_a_word_change_is_one_deleted_and_one_inserted_word() -> None:
    assert word_diff("started on 1 January 2026", "started on 2 January 2026") == [
        ("equal", "started on "), ("delete", "1"), ("insert", "2"), ("equal", " January 2026"),
    ]


def test_punctuation_is_a_token_of_its_own() -> None:
    assert word_diff("CBAM[^cbam].", "CBAM[^cbam];") == [("equal", "CBAM[^cbam]"), ("delete", "."),
                                                          ("insert", ";")]


def test_changed_position_lists_version_status_and_the_changed_texts(diff: ProjectDiff) -> None:
    [added, changed] = diff.positions
    assert (added.id, added.change, added.new_version, added.fields) == ("steel-extra", "added", "1.1.0", [])
    assert (changed.id, changed.change) == ("steel-mini", "changed")
    assert (changed.old_version, changed.new_version) == ("1.0.0", "1.1.0")
    assert (changed.old_status, changed.new_status) == ("agreed", "draft")
    assert [(f.field, f.lang) for f in changed.fields] == [("sections[0].body", "it"), ("sections[0].body", "en")]
    en = changed.fields[1]
    assert en.old == "The definitive period started on 1 January 2026[^note].\n"
    assert en.words == [("equal", "The definitive period started on "), ("delete", "1"), ("insert", "2"),
                        ("equal", " January 2026[^note].\n")]
    assert ("delete", "1º") in changed.fields[0].words and ("insert", "2º") in changed.fields[0].words


def test_changed_annex_cell_is_keyed_by_the_first_column(diff: ProjectDiff) -> None:
    [annex] = diff.annexes
    assert (annex.id, annex.change, annex.fields) == ("exports", "changed", [])
    assert annex.cells == [CellChange("2024", "veneto", "80.1", "80.2")]
    assert diff.dossiers == []


def test_rows_added_and_removed_and_annex_metadata_as_fields(mini: Path, tmp_path: Path) -> None:
    after = tmp_path / "after"
    shutil.copytree(mini, after)
    edit(after, CSV, "2023,163.1,81.9\n", "")
    (after / CSV).write_text((after / CSV).read_text() + "2025,170.0,82.5\n")
    edit(after, "dossiers/annexes/exports.yaml", "reference_year: 2024", "reference_year: 2025")
    [annex] = diff_projects(load_project(mini), load_project(after)).annexes
    assert annex.fields == [FieldChange("reference_year", None, "2024", "2025")]
    assert annex.cells == [CellChange("2025", None, None, "2025; 170.0; 82.5"),
                           CellChange("2023", None, "2023; 163.1; 81.9", None)]


def test_a_section_inserted_in_the_middle_is_aligned_by_heading(mini: Path, tmp_path: Path) -> None:
    after = tmp_path / "after"
    shutil.copytree(mini, after)
    edit(after, POS, "sections:\n", "sections:\n  - heading: {it: Premessa, en: Preamble}\n"
                                    "    body: {it: Testo., en: Text.}\n")
    [pos] = diff_projects(load_project(mini), load_project(after)).positions
    assert {f.field for f in pos.fields} == {"sections[0].heading", "sections[0].body"}
    assert all(f.old is None for f in pos.fields)


def test_signoffs_and_lists_are_compared_as_values(mini: Path, tmp_path: Path) -> None:
    after = tmp_path / "after"
    shutil.copytree(mini, after)
    edit(after, POS, "  lombardia:\n    by: Anna Test\n    date: 2026-03-09\n"
                     "    fingerprint: sha256:3ff056bd6a4a25b4\n", "")
    edit(after, "dossiers/mini.yaml", "layouts: [single]", "layouts: [single, parallel]")
    d = diff_projects(load_project(mini), load_project(after))
    assert d.positions[0].fields == [
        FieldChange("signoffs.lombardia", None, "by Anna Test, 2026-03-09, sha256:3ff056bd6a4a25b4", None)]
    assert d.dossiers[0].fields == [FieldChange("layouts", None, "single", "single, parallel")]
    assert "- `signoffs.lombardia`: removed (by Anna Test, 2026-03-09, sha256:3ff056bd6a4a25b4)" \
        in to_markdown(d)
    assert "  layouts: [-single-] → {+single, parallel+}" in to_terminal(d, color=False)


# --- the renderings -----------------------------------------------------------------

def test_json_is_sorted_and_round_trips(diff: ProjectDiff) -> None:
    text = to_json(diff)
    data = json.loads(text)
    assert list(data) == sorted(data) == ["annexes", "dossiers", "format", "positions"]
    assert data["format"] == "voceunica/diff@1"
    assert [(p["id"], p["change"]) for p in data["positions"]] == [("steel-extra", "added"),
                                                                     ("steel-mini", "changed")]
    en = data["positions"][1]["fields"][1]
    assert en["field"] == "sections[0].body" and en["lang"] == "en"
    assert ["delete", "1"] in en["words"] and ["insert", "2"] in en["words"]
    assert data["annexes"][0]["cells"] == [{"row": "2024", "column": "veneto", "old": "80.1", "new": "80.2"}]
    assert to_json(diff) == text


def test_markdown_marks_words_in_each_language_block(diff: ProjectDiff) -> None:
    md = to_markdown(diff)
    assert md.startswith("## Content changes\n")
    assert "### Position `steel-extra` — added\n\n- `version`: 1.1.0\n- `status`: draft" in md
    assert "### Position `steel-mini` — changed\n\n- `version`: ~~1.0.0~~ → **1.1.0**\n" in md
    it_block = md.split("`sections[0].body` (it):")[1].split("`sections[0].body` (en):")[0]
    en_block = md.split("`sections[0].body` (en):")[1].split("###")[0]
    assert "> Il periodo definitivo è iniziato il ~~1º~~**2º** gennaio 2026\\[^note\\]." in it_block
    assert "> The definitive period started on ~~1~~**2** January 2026\\[^note\\]." in en_block
    assert "| Row | Column | Old | New |\n| --- | --- | --- | --- |\n| 2024 | veneto | 80.1 | 80.2 |" in md


def test_markdown_escapes_specials_and_keeps_line_structure() -> None:
    from voceunica.diff.present import _md_quote

    words = word_diff("Keep *this* | that\n- item\n", "Keep *these* | that\n- item\n")
    assert _md_quote(words) == "> Keep \\*~~this~~**these**\\* \\| that\\\n> \\- item"


def test_terminal_without_colour_reads_like_git_word_diff(diff: ProjectDiff) -> None:
    text = to_terminal(diff, color=False)
    assert "\x1b" not in text
    assert "position steel-mini: changed\n  version: [-1.0.0-] → {+1.1.0+}\n  status: [-agreed-] → {+draft+}\n" \
        in text
    assert "  sections[0].body (en): The definitive period started on [-1-]{+2+} January 2026[^note].\n" \
        in text
    assert "  row 2024, veneto: [-80.1-] → {+80.2+}\n" in text


def test_terminal_with_colour_paints_deleted_red_and_inserted_green(diff: ProjectDiff) -> None:
    text = to_terminal(diff, color=True)
    assert "started on \x1b[31m1\x1b[0m\x1b[32m2\x1b[0m January" in text
    assert "[-" not in text and "{+" not in text


def words(root: Path, lang: str) -> dict[str, str]:
    """The project's labels in one language: every word release notes print."""
    return {key: text[lang] for key, text in load_project(root).labels.items()}


def test_changelog_in_english_and_italian(diff: ProjectDiff, mini: Path) -> None:
    assert changelog(diff, words(mini, "en")) == (
        "- Added position `steel-extra` (version 1.1.0)\n"
        "- Position `steel-mini`: 1.0.0 → 1.1.0, status agreed → draft; changed: `sections[0].body`\n"
        "- Annex `exports`: data: 1 cell changed\n"
    )
    assert changelog(diff, words(mini, "it")) == (
        "- Aggiunta la posizione `steel-extra` (versione 1.1.0)\n"
        "- Posizione `steel-mini`: 1.0.0 → 1.1.0, stato concordato → bozza; modificati: `sections[0].body`\n"
        "- Allegato `exports`: dati: 1 cella modificata\n"
    )
    assert changelog(ProjectDiff(), words(mini, "it")) == "Nessuna modifica.\n"


def test_changelog_counts_cells_and_rows_in_the_singular_and_plural(mini: Path) -> None:
    from voceunica.diff import ItemDiff

    cells = [CellChange("2024", "veneto", "1", "2"), CellChange("2023", "veneto", "1", "2"),
             CellChange("2025", None, None, "2025; 1"), CellChange("2020", None, "2020; 1", None),
             CellChange("2019", None, "2019; 1", None)]
    d = ProjectDiff(annexes=[ItemDiff("annex", "exports", "changed", "1.0.0", "1.0.0", cells=cells)])
    assert changelog(d, words(mini, "it")) == \
        "- Allegato `exports`: dati: 2 celle modificate, 1 riga aggiunta, 2 righe rimosse\n"
    assert changelog(d, words(mini, "en")) == "- Annex `exports`: data: 2 cells changed, 1 row added, 2 rows removed\n"


def test_release_notes_say_what_they_are_compared_with(diff: ProjectDiff, mini: Path) -> None:
    from voceunica.diff import release_notes

    assert release_notes(diff, words(mini, "it"), "1.1.0", "v1.0.0").startswith(
        "# Registro delle modifiche – 1.1.0\n\n*rispetto a v1.0.0*\n\n- Aggiunta la posizione")
    assert release_notes(ProjectDiff(), words(mini, "en"), "1.0.0", None) == \
        "# Changelog – 1.0.0\n\n*first release*\n\nNo changes.\n"


def test_every_word_of_the_release_notes_is_a_label_in_both_languages(mini: Path) -> None:
    from voceunica.diff.changelog import LABELS

    labels = load_project(mini).labels
    assert [k for k in LABELS if k not in labels] == []


# --- against git ---------------------------------------------------------------------

def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=Test", "-c", "user.email=test@example.eu",
                    *args], check=True, capture_output=True)


@NEEDS_GIT
def test_diff_of_the_last_commit(mini: Path) -> None:
    git(mini, "init", "-q")
    git(mini, "add", ".")
    git(mini, "commit", "-q", "-m", "first")
    revise(mini)
    git(mini, "add", ".")
    git(mini, "commit", "-q", "-m", "second")
    d = diff_projects(project_at(mini, "HEAD~1"), load_project(mini))
    assert [(i.kind, i.id, i.change) for i in d.items()] == [("position", "steel-extra", "added"),
                                                             ("position", "steel-mini", "changed"),
                                                             ("annex", "exports", "changed")]
    assert "~~1~~**2**" in to_markdown(d)
