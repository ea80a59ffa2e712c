"""The shared glossary: its file, check's warnings at the translation's line, TBX and TMX exports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from voceunica.glossary import GLOSSARY_FILE, load_glossary, to_tbx
from voceunica.pipeline import check
from voceunica.schema import all_schemas
from voceunica.tmx import export_tmx
from voceunica.validate import load_project
from conftest import POS, REPO

GLOSSARY = """\
format: voceunica/glossary@1
terms:
  - it: meccanismo di adeguamento del carbonio alle frontiere
    en: Carbon Border Adjustment Mechanism
    also: {it: [CBAM], en: [CBAM]}
    forbidden: {en: [carbon border tax]}
    iate: "1234567"  # test data, not the real entry
    note: Not a tax.
  - it: periodo definitivo
    en: definitive period
"""
TBX = "{urn:iso:std:iso:30042:ed-2}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture
def project(mini: Path) -> Path:
    (mini / GLOSSARY_FILE).write_text(GLOSSARY, encoding="utf-8")
    return mini


def edit(root: Path, old: str, new: str) -> None:
    text = (root / POS).read_text(encoding="utf-8")
    assert old in text
    (root / POS).write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(root: Path, needle: str) -> int:
    lines = (root / POS).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def warnings(root: Path) -> list[str]:
    return [str(p) for p in check(root).problems if "glossary.yaml:" in p.message]


def test_the_sample_glossary_is_valid_and_the_samples_follow_it() -> None:
    found, problems = load_glossary(REPO)
    assert found is not None and problems == []
    cbam = next(t for t in found.glossary.terms if "CBAM" in t.also.en)
    assert cbam.it == "meccanismo di adeguamento del carbonio alle frontiere"
    assert cbam.en == "Carbon Border Adjustment Mechanism"


def test_an_agreed_translation_draws_no_warning(project: Path) -> None:
    assert warnings(project) == []


def test_a_forbidden_variant_is_warned_at_its_line(project: Path) -> None:
    edit(project, "en: The Regions ask for an effective CBAM[^cbam].",
         "en: The Regions ask for an effective carbon border tax[^cbam].")
    line = line_of(project, "effective carbon border tax")
    assert warnings(project) == [
        f"{POS}:{line}:7: warning: 'carbon border tax' is not the agreed English term: use "
        "'Carbon Border Adjustment Mechanism' (glossary.yaml:3)"]


def test_a_forbidden_variant_inside_a_block_text_is_warned_at_its_own_line(project: Path) -> None:
    edit(project, "        The definitive period started on 1 January 2026[^note].\n",
         "        The definitive period started on 1 January 2026[^note].\n        A Carbon Border Tax applies.\n")
    assert [w.split(": warning")[0] for w in warnings(project)] == [
        f"{POS}:{line_of(project, 'A Carbon Border Tax applies')}:1"]


def test_a_translation_without_the_agreed_term_is_warned_at_the_translation(project: Path) -> None:
    edit(project, "        The definitive period started on 1 January 2026[^note].",
         "        The final period started on 1 January 2026[^note].")
    assert warnings(project) == [
        f"{POS}:{line_of(project, 'The final period started')}:1: warning: the Italian text says "
        "'periodo definitivo': the agreed English is 'definitive period' (glossary.yaml:9)"]
    assert all(not p.is_error for p in check(project).problems if "glossary.yaml:" in p.message)  # warnings


def test_glossary_errors_are_located(project: Path) -> None:
    (project / GLOSSARY_FILE).write_text(GLOSSARY.replace("    note: Not a tax.", "    notes: Not a tax."),
                                         encoding="utf-8")
    found = [str(p) for p in check(project).errors]
    assert any(p.startswith("glossary.yaml:8:5:") and "notes" in p for p in found), found
    (project / GLOSSARY_FILE).write_text(GLOSSARY.replace("@1", "@2"), encoding="utf-8")
    assert any(str(p).startswith("glossary.yaml:1:") and "newer" in str(p) for p in check(project).errors)


def test_schema_covers_the_glossary() -> None:
    schema = all_schemas()["glossary.schema.json"]
    assert '"forbidden"' in schema and '"iate"' in schema
    assert (REPO / "schemas" / "glossary.schema.json").read_text(encoding="utf-8") == schema


def test_tbx_export(project: Path) -> None:
    found, _ = load_glossary(project)
    assert found is not None
    root = etree.fromstring(to_tbx(found))
    assert root.tag == f"{TBX}tbx" and root.get("type") == "TBX-Basic" and root.get("style") == "dca"
    entries = root.findall(f".//{TBX}conceptEntry")
    assert len(entries) == 2
    cbam = entries[0]
    assert cbam.find(f"{TBX}xref").get("target") == "https://iate.europa.eu/entry/result/1234567"
    en = next(s for s in cbam.findall(f"{TBX}langSec") if s.get(XML_LANG) == "en")
    assert [(t.findtext(f"{TBX}term"), t.findtext(f"{TBX}termNote")) for t in en.findall(f"{TBX}termSec")] == [
        ("Carbon Border Adjustment Mechanism", "preferredTerm-admn-sts"), ("CBAM", "admittedTerm-admn-sts"),
        ("carbon border tax", "deprecatedTerm-admn-sts")]


def test_tmx_has_every_aligned_text_and_no_outdated_one(project: Path) -> None:
    edit(project, "it: Acciaio e CBAM", "it: Acciaio, CBAM ed energia")  # the title's translation outdated
    data = export_tmx(load_project(project))
    dtd = etree.DTD(str(Path(__file__).parent / "fixtures" / "tmx" / "tmx14.dtd"))
    doc = etree.fromstring(data)
    assert dtd.validate(doc), dtd.error_log
    tuids = [tu.get("tuid") for tu in doc.iter("tu")]
    assert "positions/steel-mini.yaml#title" not in tuids
    assert "positions/steel-mini.yaml#summary" in tuids and "dossiers/mini.yaml#title" in tuids
    tmx = pytest.importorskip("translate.storage.tmx")
    store = tmx.tmxfile(data, "it-IT", "en-GB")
    summary = next(u for u in store.units if "effective" in u.target)
    assert summary.source.startswith("Le Regioni chiedono un CBAM efficace")


def test_cli_writes_tbx_and_tmx_relative_to_the_current_folder(project: Path, tmp_path: Path) -> None:
    exe = str(Path(sys.executable).parent / "voceunica")  # the console script, as a user runs it
    here = tmp_path / "here"
    here.mkdir()
    done = subprocess.run([exe, "-C", str(project), "glossary", "--tbx", "terms.tbx"], cwd=here,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (here / "terms.tbx").is_file() and not (project / "terms.tbx").exists()
    done = subprocess.run([exe, "-C", str(project), "i18n", "tmx", "memory.tmx"], cwd=here,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "aligned texts" in done.stderr and (here / "memory.tmx").is_file()
