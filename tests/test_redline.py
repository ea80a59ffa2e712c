"""`voceunica redline`: a dossier as Word with real tracked changes between two git revisions.

Each test makes a scratch git repository from a fixture project, commits it, edits one sentence
of a position the way the review workflow does (bump the version, update the translation and mark
it, both regions sign off again, so the position stays agreed), commits again and runs the command
as a user would.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

import voceunica
from voceunica import gitrev
from voceunica.docx import redline as rl
from voceunica.fingerprint import agreed, translation_status
from voceunica.pipeline import check, render_dossier
from voceunica.validate import load_project
from voceunica.yamledit import mark_translated, record_signoff

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

W = rl.W
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
q = rl.q
WORDS = re.compile(r"\w+")

MINI_POS = "positions/steel-mini.yaml"
# one sentence of the section body, in both languages: two words added, one replaced
OLD_IT, NEW_IT = "Il periodo definitivo è iniziato il", "Il periodo definitivo del CBAM è cominciato il"
OLD_EN, NEW_EN = "The definitive period started on", "The definitive CBAM period began on"


# --- helpers --------------------------------------------------------------------------------------

def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@e",
                           "-c", "commit.gpgsign=false", *args],
                          check=True, capture_output=True, text=True)
    return done.stdout


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def replace_in(path: Path, *pairs: tuple[str, str]) -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in pairs:
        assert old in text, f"{old!r} not in {path}"
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")


def revise_position(root: Path, pid: str, version: tuple[str, str], *pairs: tuple[str, str]) -> None:
    """Edit a position as the review workflow does: new text, bumped version, translation marked,
    both regions signing off again — so it stays agreed and fully translated."""
    replace_in(root / "positions" / f"{pid}.yaml", (f'version: "{version[0]}"', f'version: "{version[1]}"'), *pairs)
    mark_translated(load_project(root), pid)
    for region in ("lombardia", "veneto"):
        record_signoff(load_project(root), pid, region, f"Reviewer {region}", dt.date(2026, 5, 4))
    project = check(root)
    assert project.errors == [], project.errors
    pos = project.positions[pid]
    assert pos.status == "agreed" and agreed(pos)
    assert all(s.state == "translated" for s in translation_status(pos))


# the subprocess runs the same voceunica the tests import, wherever it is installed from
SRC = str(Path(voceunica.__file__).resolve().parents[1])


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "VOCEUNICA_DEBUG")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [SRC, env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "voceunica", "-C", str(root), *args],
                          check=False, capture_output=True, text=True, env=env, timeout=300)


def base_commit(root: Path) -> None:
    """Put a project under git with everything in one first commit."""
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "base")


def redline_doc(root: Path, dossier: str, out: Path, *options: str) -> etree._Element:
    """`voceunica redline DOSSIER HEAD~1 HEAD` as a user runs it; its document.xml."""
    res = run_cli(root, "redline", dossier, "HEAD~1", "HEAD", "--out", str(out), *options)
    assert res.returncode == 0, res.stderr
    return part(out, "word/document.xml")


def part(docx: Path | bytes, name: str) -> etree._Element:
    data = docx.read_bytes() if isinstance(docx, Path) else docx
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return etree.fromstring(z.read(name))


def notes_of(docx: Path | bytes) -> rl.Footnotes:
    data = docx.read_bytes() if isinstance(docx, Path) else docx
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return rl.Footnotes(z.read("word/footnotes.xml") if "word/footnotes.xml" in z.namelist() else None)


def rendered(root: Path, rev: str, dossier: str, lang: str) -> bytes:
    data = render_dossier(gitrev.project_at(root, rev), dossier)[f"{dossier}.{lang}.docx"]
    assert isinstance(data, bytes)
    return data


def revisions(doc: etree._Element) -> list[etree._Element]:
    """w:ins / w:del marking content (not the paragraph-mark or table-row markers)."""
    return [el for el in rl.iter_revisions(doc) if el.getparent().tag not in (q("rPr"), q("trPr"))]


def changed_paragraphs(doc: etree._Element) -> list[etree._Element]:
    return [p for p in doc.iter(q("p")) if p.find(f".//{q('ins')}") is not None or p.find(f".//{q('del')}") is not None]


def words_in(elements: list[etree._Element], text_tag: str) -> list[str]:
    return [w for el in elements for t in el.iter(q(text_tag)) for w in WORDS.findall(t.text or "")]


def assert_accept_and_reject_give_both_revisions(redline: Path, old: bytes, new: bytes) -> None:
    doc, notes = part(redline, "word/document.xml"), notes_of(redline)
    new_texts = rl.paragraph_texts(part(new, "word/document.xml"), notes_of(new))
    old_texts = rl.paragraph_texts(part(old, "word/document.xml"), notes_of(old))
    assert new_texts != old_texts
    assert rl.paragraph_texts(rl.accept(doc), notes) == new_texts
    assert rl.paragraph_texts(rl.reject(doc), notes) == old_texts


@pytest.fixture
def history(mini: Path) -> Path:
    """`mini` in git: the base commit, then one sentence revised in Italian and English."""
    base_commit(mini)
    revise_position(mini, "steel-mini", ("1.0.0", "1.0.1"), (OLD_IT, NEW_IT), (OLD_EN, NEW_EN))
    commit_all(mini, "revise the context section")
    assert git(mini, "status", "--porcelain") == ""
    return mini


# --- the redline of a revised sentence ------------------------------------------------------------

def test_redline_tracks_a_revised_sentence_word_by_word(history: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.docx"
    res = run_cli(history, "redline", "mini", "HEAD~1", "HEAD", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert "tracked change(s) from HEAD~1 to HEAD" in res.stderr
    assert out.is_file()

    doc = part(out, "word/document.xml")
    ins, dels = doc.findall(f".//{q('ins')}"), doc.findall(f".//{q('del')}")
    assert ins and dels
    for el in ins + dels:  # every revision says who and when (the dossier's date, never the clock)
        assert el.get(q("author")) == "voceunica"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", el.get(q("date"), ""))
        assert el.get(q("date")) == "2026-03-10T00:00:00Z"
        assert el.get(q("id"), "").isdigit()
    ids = [el.get(q("id")) for el in ins + dels]
    assert len(ids) == len(set(ids))

    # deleted words are w:delText (Word would drop a w:t inside w:del), inserted ones w:t
    content_dels = [el for el in revisions(doc) if el.tag == q("del")]
    content_ins = [el for el in revisions(doc) if el.tag == q("ins")]
    assert words_in(content_dels, "delText") == ["iniziato"]
    assert all(el.find(f".//{q('t')}") is None for el in content_dels)
    assert all(el.find(f".//{q('delText')}") is None for el in content_ins)
    assert not [t for t in doc.iter(q("delText")) if not any(a.tag == q("del") for a in t.iterancestors())]

    # word level: only the changed words are marked; the rest of the paragraph is plain text
    changed = changed_paragraphs(doc)
    assert len(changed) == 1
    para = changed[0]
    marked = [el for el in para if el.tag in (q("ins"), q("del"))]
    assert sorted(words_in([el for el in marked if el.tag == q("ins")], "t")) == sorted(["del", "CBAM", "cominciato"])
    assert words_in([el for el in marked if el.tag == q("del")], "delText") == ["iniziato"]
    plain = words_in([el for el in para if el.tag == q("r")], "t")
    assert plain == ["Il", "periodo", "definitivo", "è", "il", "1º", "gennaio", "2026"]
    [accepted], [rejected] = rl.paragraph_texts(rl.accept(para)), rl.paragraph_texts(rl.reject(para))
    # both revisions set alike (typography.py: day and month joined by a no-break space)
    assert re.fullmatch(r"Il periodo definitivo del CBAM è cominciato il 1º\u00a0gennaio 2026\[\^\d+\]\.", accepted)
    assert re.fullmatch(r"Il periodo definitivo è iniziato il 1º\u00a0gennaio 2026\[\^\d+\]\.", rejected)

    # Accept all = the new revision, Reject all = the old, paragraph by paragraph
    assert_accept_and_reject_give_both_revisions(out, rendered(history, "HEAD~1", "mini", "it"),
                                                 rendered(history, "HEAD", "mini", "it"))

    # further edits by reviewers are tracked too
    settings = [el.tag for el in part(out, "word/settings.xml")]
    # CT_Settings is a sequence: after zoom, before defaultTabStop (else Word calls the file damaged)
    assert settings.index(q("zoom")) < settings.index(q("trackRevisions")) < settings.index(q("defaultTabStop"))


def test_redline_in_english_with_an_author(history: Path, tmp_path: Path) -> None:
    out = tmp_path / "review" / "r.en.docx"
    res = run_cli(history, "redline", "mini", "HEAD~1", "HEAD", "--lang", "en", "--author", "Ufficio di Bruxelles",
                  "--out", str(out))
    assert res.returncode == 0, res.stderr
    doc = part(out, "word/document.xml")
    assert revisions(doc)
    assert {el.get(q("author")) for el in rl.iter_revisions(doc)} == {"Ufficio di Bruxelles"}
    assert words_in([el for el in revisions(doc) if el.tag == q("del")], "delText") == ["started"]
    assert sorted(words_in([el for el in revisions(doc) if el.tag == q("ins")], "t")) == ["CBAM", "began"]
    assert not [t for t in doc.iter(q("t")) if "iniziato" in (t.text or "") or "cominciato" in (t.text or "")]
    assert_accept_and_reject_give_both_revisions(out, rendered(history, "HEAD~1", "mini", "en"),
                                                 rendered(history, "HEAD", "mini", "en"))
    assert part(out, "word/settings.xml").find(q("trackRevisions")) is not None


def test_unknown_dossier_is_a_problem_not_a_traceback(history: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.docx"
    res = run_cli(history, "redline", "nope", "HEAD~1", "HEAD", "--out", str(out))
    assert res.returncode == 1
    assert "no dossier 'nope'" in res.stderr
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr
    assert not out.exists()


def test_unknown_revision_is_refused_with_a_clear_message(history: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.docx"
    res = run_cli(history, "redline", "mini", "no-such-rev", "HEAD", "--out", str(out))
    assert res.returncode != 0
    assert "unknown git revision 'no-such-rev'" in res.stderr
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr
    assert not out.exists()
    res = run_cli(history, "redline", "mini", "HEAD~1", "HEAD~7", "--out", str(out))
    assert res.returncode != 0 and "unknown git revision 'HEAD~7'" in res.stderr
    assert not out.exists()


@pytest.mark.soffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_redline(history: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.docx"
    assert run_cli(history, "redline", "mini", "HEAD~1", "HEAD", "--out", str(out)).returncode == 0
    subprocess.run([str(shutil.which("soffice")), f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                    "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)],
                   capture_output=True, check=True, timeout=240)
    pdf = tmp_path / "r.pdf"
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True,
                                       text=True).stdout.split())
        assert "cominciato" in text  # the inserted word is laid out


# --- the real sample, end to end ------------------------------------------------------------------

def test_sample_dossier_redline_with_text_and_table_changes(sample: Path, tmp_path: Path) -> None:
    base_commit(sample)
    revise_position(sample, "steel-trade-energy", ("1.1.0", "1.1.1"),
                    ("Il distretto, con circa 5800 addetti", "Il distretto bresciano, con circa 5800 addetti"),
                    ("produce da forno elettrico ad arco a partire da rottame ferroso: un",
                     "produce da forno elettrico a partire da rottame: un"))
    replace_in(sample / "dossiers/annexes/exports-by-region.csv", ("2024,163.9,", "2024,164.2,"))
    commit_all(sample, "revise steel, update exports")

    out = tmp_path / "steel.docx"
    doc = redline_doc(sample, "steel-2026", out)
    dels = words_in([el for el in revisions(doc) if el.tag == q("del")], "delText")
    ins = words_in([el for el in revisions(doc) if el.tag == q("ins")], "t")
    assert {"ad", "arco", "ferroso"} <= set(dels) and "bresciano" in ins
    assert "163" in dels and "164" in ins  # the table cell 163,9 → 164,2
    for el in rl.iter_revisions(doc):
        assert el.get(q("author")) and el.get(q("date"))
    # nothing else is marked: the district sentence, the one table cell and the exports chart drawn
    # from that table are the only changed paragraphs
    assert len(changed_paragraphs(doc)) == 3
    assert_accept_and_reject_give_both_revisions(out, rendered(sample, "HEAD~1", "steel-2026", "it"),
                                                 rendered(sample, "HEAD", "steel-2026", "it"))


# --- run structure and known defects ------------------------------------------------------------------

def test_unchanged_text_of_a_merged_paragraph_stays_in_whole_runs(history: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.docx"
    assert run_cli(history, "redline", "mini", "HEAD~1", "HEAD", "--out", str(out)).returncode == 0
    para = changed_paragraphs(part(out, "word/document.xml"))[0]
    texts = ["".join(t.text or "" for t in r.iter(q("t"))) for r in para if r.tag == q("r")]
    assert "Il periodo definitivo " in texts


def test_a_chart_whose_data_changed_is_a_tracked_change(mini: Path, tmp_path: Path) -> None:
    base_commit(mini)
    replace_in(mini / "dossiers/annexes/exports.csv", ("2024,163.9,", "2024,164.2,"))
    commit_all(mini, "update exports")
    out = tmp_path / "r.docx"
    doc = redline_doc(mini, "mini", out)
    assert "163" in words_in([el for el in revisions(doc) if el.tag == q("del")], "delText")  # the table: tracked
    old_alt = [d.get("descr") for d in part(rendered(mini, "HEAD~1", "mini", "it"), "word/document.xml")
               .iter(f"{{{WP}}}docPr")]
    new_alt = [d.get("descr") for d in doc.iter(f"{{{WP}}}docPr")]
    assert old_alt != new_alt  # the chart did change (its alt text lists every value) …
    # … so its drawing should be inside a tracked insertion
    assert any(el.find(f".//{{{WP}}}docPr") is not None for el in doc.iter(q("ins")))
    # and the old chart inside a tracked deletion, its picture carried into this package
    deleted = [d for el in doc.iter(q("del")) for d in el.iter(f"{{{WP}}}docPr")]
    assert [d.get("descr") for d in deleted] == old_alt
    rels = {r.get("Id"): r.get("Target") for r in part(out, "word/_rels/document.xml.rels")}
    old_png = render_dossier(gitrev.project_at(mini, "HEAD~1"), "mini")["mini.exports.it.png"]
    del_blips = [b for el in doc.iter(q("del"))
                 for b in el.iter("{http://schemas.openxmlformats.org/drawingml/2006/main}blip")]
    assert del_blips
    with zipfile.ZipFile(out) as z:
        for b in del_blips:
            target = rels[b.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed")]
            assert z.read(f"word/{target}") == old_png


def test_a_changed_note_alone_is_a_tracked_change(mini: Path, tmp_path: Path) -> None:
    base_commit(mini)
    revise_position(mini, "steel-mini", ("1.0.0", "1.0.1"),
                    ("text: {it: Nota di prova., en: A test note.}",
                     "text: {it: Nota di prova rivista., en: A revised test note.}"))
    commit_all(mini, "revise a note")
    out = tmp_path / "r.docx"
    doc = redline_doc(mini, "mini", out)
    dels = [el for el in revisions(doc) if el.tag == q("del") and el.find(f".//{q('footnoteReference')}") is not None]
    inss = [el for el in revisions(doc) if el.tag == q("ins") and el.find(f".//{q('footnoteReference')}") is not None]
    assert dels and inss, "the old note's reference deleted, the new one inserted"
    assert_accept_and_reject_give_both_revisions(out, rendered(mini, "HEAD~1", "mini", "it"),
                                                 rendered(mini, "HEAD", "mini", "it"))
