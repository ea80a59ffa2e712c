"""The catalogue of EU files (eu-files/): what check knows from it, the state of play in every
dossier, and migrate-eu-files — tried as a user would, through the installed command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import POS, REPO, make_project

from voceunica.validate import load_project

STEEL_REC = "eu-files/steel-import-regime.yaml"
STEEL_POS = "positions/steel-trade-energy.yaml"
ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1795651200"}  # 2026-11-27: check's "today", pinned


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("voceunica")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=ENV, cwd=root,
                          timeout=600, check=False)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1) if needle in line)


def not_adopted(root: Path) -> None:
    """The steel import regime as it stood before its adoption: agreed, not adopted."""
    rec = root / STEEL_REC
    text = rec.read_text(encoding="utf-8")
    text = re.sub(r"  - stage: adoption\n(    .*\n)+?  - stage: application\n(    .*\n)+", "", text)
    text = re.sub(r"adopted:\n(  .*\n)+", "", text)
    rec.write_text(text, encoding="utf-8")


ADOPTION = """  - stage: adoption
    date: 2026-06-17
    source: "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32026R1384"
adopted:
  number: 2026/1384
  celex: 32026R1384
"""


def mark_adopted(root: Path) -> None:
    rec = root / STEEL_REC
    text = rec.read_text(encoding="utf-8")
    assert "adopted:" not in text
    rec.write_text(text.replace("actors:\n", ADOPTION + "actors:\n", 1), encoding="utf-8")


@pytest.fixture
def project(sample: Path) -> Path:
    assert (sample / "eu-files" / "steel-import-regime.yaml").is_file()
    return sample


# --- acceptance -------------------------------------------------------------------------------------------------

def test_an_adopted_act_called_a_proposal_is_a_warning_at_the_position_line_naming_the_act(project: Path) -> None:
    not_adopted(project)
    pos = project / STEEL_POS
    edit(pos, "status: agreed", "status: draft")  # an edit awaiting the regions' sign-off
    edit(pos, "        Le Regioni ne chiedono un'applicazione rigorosa:",
         "        La proposta COM(2025) 726 final[^steel-import-regime] va applicata con rigore.\n"
         "        Le Regioni ne chiedono un'applicazione rigorosa:")
    before = run(project, "check")
    assert "records it adopted" not in before.stdout + before.stderr
    mark_adopted(project)
    after = run(project, "check")
    line = line_of(pos, "La proposta COM(2025) 726 final")
    found = [x for x in after.stderr.splitlines() if x.startswith(f"{STEEL_POS}:{line}:")]
    assert found, after.stderr
    assert "warning:" in found[0] and "Regulation (EU) 2026/1384" in found[0] and "17 June 2026" in found[0]
    assert "cite the act" in found[0]  # says what to do
    assert after.returncode == 0  # a warning: the paper can still be built


def test_an_inline_entry_calling_the_act_a_proposal_is_flagged_at_its_kind(project: Path) -> None:
    pos = project / STEEL_POS
    edit(pos, "  - steel-import-regime\n", "  - key: steel-import-regime\n    kind: proposal\n"
         "    com: COM(2025) 726 final\n    title: {it: Regime delle importazioni, en: Import regime}\n")
    out = run(project, "check").stderr
    line = line_of(pos, "    kind: proposal")
    found = [x for x in out.splitlines() if x.startswith(f"{STEEL_POS}:{line}:")]
    assert found and "Regulation (EU) 2026/1384" in found[0] and "migrate-eu-files" in found[0], out


def _box(markdown: str) -> str:
    markdown = markdown.replace("\u00a0", " ")  # dates and numbers carry no-break spaces
    return markdown.split("# State of play" if "State of play" in markdown else "# Stato dell", 1)[1].split("\n# ")[0]


def test_the_state_of_play_box_shows_the_adoption_date_after_a_rebuild_in_both_languages(
        project: Path, tmp_path: Path) -> None:
    from docx import Document

    out = tmp_path / "build"
    not_adopted(project)
    first = run(project, "build", "steel-2026", "--out", str(out))
    assert first.returncode == 0, first.stdout + first.stderr
    it_box, en_box = _box((out / "steel-2026.it.md").read_text()), _box((out / "steel-2026.en.md").read_text())
    assert "2026/1384" not in it_box and "17 June 2026" not in en_box
    assert "| Fase | Accordo provvisorio, in attesa di adozione |" in it_box
    mark_adopted(project)
    second = run(project, "build", "steel-2026", "--out", str(out))  # the cache sees the catalogue change
    assert second.returncode == 0, second.stdout + second.stderr
    it_box, en_box = _box((out / "steel-2026.it.md").read_text()), _box((out / "steel-2026.en.md").read_text())
    assert "| Adottato come | Regolamento (UE) 2026/1384, [17 giugno 2026](" in it_box
    assert "| Adopted as | Regulation (EU) 2026/1384, [17 June 2026](" in en_box
    assert "| Stage | Adopted |" in en_box
    for lang, words in (("it", "Regolamento (UE) 2026/1384, 17 giugno 2026"),
                        ("en", "Regulation (EU) 2026/1384, 17 June 2026")):
        doc = Document(str(out / f"steel-2026.{lang}.docx"))
        cells = {" ".join(c.text.replace("\u00a0", " ").split())
                 for t in doc.tables for row in t.rows for c in row.cells}
        assert words in cells, (lang, sorted(cells)[:20])


# --- the other warnings ----------------------------------------------------------------------------------------

def _warnings(root: Path, epoch: str = "1795651200") -> list[str]:
    os.environ["SOURCE_DATE_EPOCH"] = epoch
    try:
        return [str(p) for p in load_project(root).problems]
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]


def test_amendments_to_a_file_past_its_provisional_agreement(project: Path) -> None:
    assert not [w for w in _warnings(project) if "co-legislators" in w]
    edit(project / "eu-files/cbam-downstream.yaml", "next_step:\n",
         '  - {stage: provisional-agreement, date: 2026-10-01, source: "https://eur-lex.europa.eu/"}\nnext_step:\n')
    found = [w for w in _warnings(project) if "co-legislators" in w]
    pos = project / STEEL_POS
    assert len(found) == 2, found  # both amendments
    assert found[1].startswith(f"{STEEL_POS}:{line_of(pos, '    commission:')}:")
    assert "provisional agreement on 1 October 2026" in found[0] and "remove the amendment" in found[0]


def test_a_stale_record_is_flagged_at_the_ask_citing_it(project: Path) -> None:
    assert not [w for w in _warnings(project) if "stale" in w and "eu-files" in w]
    found = [w for w in _warnings(project, epoch="1830297600") if "record is stale" in w]  # 2028-01-01
    pos = project / STEEL_POS
    ask = line_of(pos, "    eu_file: industrial-accelerator")
    assert any(w.startswith(f"{STEEL_POS}:{ask}:") and "committee vote, expected 28 February 2027" in w
               for w in found), found


def test_an_ask_to_the_commission_on_a_national_matter(project: Path) -> None:
    assert not [w for w in _warnings(project) if "cannot act" in w]
    pos = project / STEEL_POS
    edit(pos, "    audiences: [italian-government, arera]", "    audiences: [commission]")
    found = [w for w in _warnings(project) if "cannot act" in w]
    assert len(found) == 1 and found[0].startswith(f"{STEEL_POS}:"), found
    line = int(found[0].split(":")[1])
    assert pos.read_text(encoding="utf-8").split("\n")[line - 1] == "    audiences: [commission]"
    assert "asks[4] is addressed to the commission" in found[0]
    assert "Italian government" in found[0] and "Permanent Representation" in found[0]


# --- the catalogue itself --------------------------------------------------------------------------------------

def test_identifiers_are_validated_and_must_agree(project: Path) -> None:
    rec = project / STEEL_REC
    edit(rec, "  celex: 32026R1384", "  celex: 32026R1385")
    edit(rec, "eli: http://data.europa.eu/eli/reg/2026/1384/oj", "eli: http://data.europa.eu/eli/dir/2026/1384/oj")
    edit(rec, "procedure: 2025/0726(COD)", "procedure: 2025/726(COD)")
    errors = [str(p) for p in load_project(project).errors]
    assert any(e.startswith(f"{STEEL_REC}:{line_of(rec, 'procedure:')}:") and "procedure number" in e
               for e in errors), errors


def test_adopted_identifiers_cross_checked(project: Path) -> None:
    rec = project / STEEL_REC
    edit(rec, "  celex: 32026R1384", "  celex: 32026R1385")
    edit(rec, "eli: http://data.europa.eu/eli/reg/2026/1384/oj", "eli: http://data.europa.eu/eli/dir/2026/1384/oj")
    errors = [str(p) for p in load_project(project).errors]
    assert any(f":{line_of(rec, 'celex: 32026R1385')}:" in e and "expected 32026R1384" in e for e in errors), errors
    assert any(f":{line_of(rec, 'eli/dir/')}:" in e and "eli/reg/2026/1384" in e for e in errors), errors


@pytest.mark.parametrize("eli", ["reg", "reg_impl", "dir", "dec", "reg_del"])
def test_eli_types_accepted(eli: str) -> None:
    from voceunica.model import AdoptedAct

    AdoptedAct.model_validate({"number": "2024/1", "eli": f"http://data.europa.eu/eli/{eli}/2024/1/oj"})


def test_an_unknown_catalogue_key_is_an_error_with_a_hint(project: Path) -> None:
    pos = project / STEEL_POS
    edit(pos, "  - steel-import-regime\n", "  - steel-import-regim\n")
    errors = [str(p) for p in load_project(project).errors]
    assert any(e.startswith(f"{STEEL_POS}:{line_of(pos, '  - steel-import-regim')}:")
               and "did you mean 'steel-import-regime'" in e for e in errors), errors


def test_the_sample_catalogue_is_clean_and_says_what_is_unverified() -> None:
    problems = [str(p) for p in load_project(REPO).problems if "eu-files/" in str(p)]
    assert problems == []
    for rec in sorted((REPO / "eu-files").glob("*.yaml")):
        text = rec.read_text(encoding="utf-8")
        for name in re.findall(r"\{name: ([^,]+),", text) + re.findall(r"rapporteur: \{name: ([^,]+),", text):
            assert "fictitious: true" in text, f"{rec.name}: {name} is not marked fictitious"


# --- the state of play as of the dossier's date -----------------------------------------------------------------

def test_the_box_and_timeline_are_as_of_the_dossier_date(project: Path) -> None:
    from voceunica.resolve import resolve
    from voceunica.timeline import render_png

    edit(project / "eu-files/cbam-downstream.yaml", "next_step:\n",
         '  - {stage: provisional-agreement, date: 2027-01-15, source: "https://eur-lex.europa.eu/"}\nnext_step:\n')
    p = load_project(project)
    rd = resolve(p, "steel-2026", "en")
    box = next(b for b in rd.state_of_play if b.key == "cbam-downstream")
    assert box.stage == "Interinstitutional negotiations (trilogues)"  # January 2027 is after the paper
    assert rd.timeline is not None
    alt = rd.timeline.alt.replace("\u00a0", " ")
    assert "Date of this paper: 20 November 2026" in alt
    assert "15 January 2027" not in alt  # recorded after the paper's date: not yet happened for it
    assert "Provisional agreement, expected by 31 March 2027" in alt
    assert render_png(rd.timeline) == render_png(rd.timeline)  # same picture, same bytes


# --- migrate-eu-files -------------------------------------------------------------------------------------------

def test_migrate_rewrites_inline_entries_into_catalogue_references_keeping_comments(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    pos = root / POS
    text = pos.read_text(encoding="utf-8")
    assert "  - key: cbam\n" in text
    pos.write_text(text.replace("eu_files:", "eu_files:  # the acts cited\n  # CBAM itself", 1), encoding="utf-8")
    before_footnotes = _footnotes(root)
    done = run(root, "migrate-eu-files")
    assert done.returncode == 0, done.stderr
    after = pos.read_text(encoding="utf-8")
    assert "eu_files:  # the acts cited\n  # CBAM itself\n  - cbam\n" in after
    assert "eu_files[0].title" not in after
    record = root / "eu-files" / "cbam.yaml"
    assert "format: voceunica/eu-file@1" in record.read_text(encoding="utf-8")
    p = load_project(root)
    assert not [e for e in p.errors if "signoff" not in str(e) and "approval" not in str(e)], p.errors
    assert p.positions["steel-mini"].eu_files == ["cbam"]
    assert "2023/956" in _footnotes(root) and "2023/956" in before_footnotes
    again = run(root, "migrate-eu-files")
    assert "nothing to migrate" in again.stderr


def _footnotes(root: Path) -> str:
    from voceunica.resolve import resolve

    return " ".join(f.text for f in resolve(load_project(root), "mini", "en").footnotes)


def test_the_sample_positions_cite_the_catalogue() -> None:
    p = load_project(REPO)
    assert all(isinstance(e, str) for pos in p.positions.values() for e in pos.eu_files)
    from voceunica.gitrev import CONTENT

    assert "eu-files" in CONTENT  # the catalogue travels with the positions to every revision (diff, release)
