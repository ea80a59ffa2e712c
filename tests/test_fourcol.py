"""voceunica fourcol: the negotiators' four-column table of a file in trilogue (issue 14, item 4)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn

from voceunica.docx.proof import prove

CLI = Path(sys.executable).with_name("voceunica")
# As of 27 November 2026: CBAM downstream in trilogue (Council position June, committee vote July 2026).
EPOCH = {"SOURCE_DATE_EPOCH": "1795780800"}


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **EPOCH}
    return subprocess.run([str(CLI), *args], cwd=root, capture_output=True, text=True, env=env, check=False)


def edit_position(root: Path, old: str, new: str) -> None:
    """An edit of the agreed steel position, which goes back to draft until both regions sign again."""
    pos = root / "positions" / "steel-trade-energy.yaml"
    text = pos.read_text(encoding="utf-8")
    assert old in text and "status: agreed" in text
    pos.write_text(text.replace(old, new).replace("status: agreed", "status: draft", 1), encoding="utf-8")


def table_of(path: Path) -> docx.table.Table:
    tables = docx.Document(str(path)).tables
    return tables[-1]  # the brief's head is a table too; the four columns come last


def test_cbam_downstream_gives_a_landscape_four_column_table(sample: Path, tmp_path: Path) -> None:
    res = run(sample, "fourcol", "cbam-downstream", "--out", str(tmp_path / "cbam.docx"))
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    for lang, head in (("it", "Proposta della Commissione"), ("en", "Commission proposal")):
        path = tmp_path / f"cbam.{lang}.docx"
        document = docx.Document(str(path))
        section = document.sections[0]
        assert section.orientation == WD_ORIENT.LANDSCAPE
        assert section.page_width > section.page_height
        table = table_of(path)
        assert len(table.columns) == 4
        assert table.rows[0].cells[0].text == head
        # header row repeated on every page; each amended provision one row
        trs = table._tbl.findall(qn("w:tr"))
        assert trs[0].find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None
        amendments = 2  # positions/steel-trade-energy.yaml amends two provisions of the file
        assert len(trs) == 1 + amendments
        for tr in trs[1:]:  # each row fits a landscape page: kept whole
            assert tr.find(f"{qn('w:trPr')}/{qn('w:cantSplit')}") is not None
        style = table._tbl.tblPr.find(qn("w:tblStyle")).get(qn("w:val"))
        assert style == "AmendmentTable"  # a real style of reference.docx
    en = table_of(tmp_path / "cbam.en.docx")
    review, exclusion = ([c.text.replace("\u00a0", " ") for c in en.rows[i].cells] for i in (1, 2))
    assert review[0].startswith("1. Article 1 – new provision")
    assert "(new provision)" in review[0]
    assert "By 31 December 2030 the Commission shall review" in review[1]  # from the catalogue
    assert "No corresponding provision" in review[2]
    assert "By 31 December 2029" in review[3] and "Justification:" in review[3]
    assert "by means of implementing acts" in exclusion[2]
    assert "regional authorities" in exclusion[3]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_it_landscape(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "cbam.en.docx"
    assert run(sample, "fourcol", "cbam-downstream", "--lang", "en", "--out", str(out)).returncode == 0
    assert not (tmp_path / "cbam.en.it.docx").exists()  # --lang: exactly the file named
    done = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                           "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)],
                          capture_output=True, timeout=300, check=False)
    pdf = tmp_path / "cbam.en.pdf"
    assert pdf.is_file(), done.stderr
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())  # type: ignore[union-attr]
        assert width > height


def test_a_provision_the_catalogue_lacks_is_said_in_words(sample: Path, tmp_path: Path) -> None:
    cat = sample / "eu-files" / "cbam-downstream.yaml"
    text = cat.read_text(encoding="utf-8")
    cat.write_text(text.replace("  - id: exclusion-power\n", "  - id: exclusion-power-renamed\n")
                   .replace("    council:\n      it: (Esempio illustrativo.) Nessuna disposizione corrispondente.\n"
                            "      en: (Illustrative example.) No corresponding provision.\n", ""),
                   encoding="utf-8")
    res = run(sample, "fourcol", "cbam-downstream", "--lang", "en", "--out", str(tmp_path / "f.docx"))
    assert res.returncode == 0, res.stderr
    # still matched by its label: exclusion-power-renamed has the amendment's provision label
    rows = table_of(tmp_path / "f.docx").rows
    assert "the Council’s text is not recorded in the catalogue" in rows[1].cells[2].text
    assert re.search(r"eu-files/cbam-downstream\.yaml:\d+:\d+: warning: provisions\[0\] \(review-downstream-list\) "
                     r"records no council text", res.stderr)
    # a label that no longer matches: the row stays, both co-legislators' cells say so
    cat.write_text(cat.read_text(encoding="utf-8").replace("en: Article 1 – Commission power", "en: Article 2 – power"),
                   encoding="utf-8")
    res = run(sample, "fourcol", "cbam-downstream", "--lang", "en", "--out", str(tmp_path / "f.docx"))
    assert res.returncode == 0, res.stderr
    rows = table_of(tmp_path / "f.docx").rows
    assert len(rows) == 3
    assert "the Parliament’s text is not recorded" in rows[2].cells[1].text
    assert re.search(r"positions/steel-trade-energy\.yaml:\d+:\d+: warning: amendments\[1\]: no provision of "
                     r"eu-files/cbam-downstream\.yaml matches it", res.stderr)


def test_a_file_not_in_trilogue_is_refused_at_its_record(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.docx"
    res = run(sample, "fourcol", "steel-import-regime", "--out", str(out))
    assert res.returncode == 1
    assert re.search(r"^eu-files/steel-import-regime\.yaml:\d+:\d+: fourcol: steel-import-regime is not in "
                     r"trilogue on 2026-11-2\d \(its last step is application on 2026-07-01\)", res.stderr, re.M)
    assert not list(tmp_path.glob("f*.docx"))


def test_a_file_nobody_amends_and_an_unknown_key_are_refused(sample: Path, tmp_path: Path) -> None:
    edit_position(sample, "  - eu_file: cbam-downstream\n    provision:", "  - eu_file: cbam\n    provision:")
    cat = sample / "eu-files" / "cbam-downstream.yaml"
    res = run(sample, "fourcol", "cbam-downstream", "--out", str(tmp_path / "f.docx"))
    assert res.returncode == 1
    assert "eu-files/cbam-downstream.yaml:3:1: fourcol: no position amends cbam-downstream" in res.stderr
    assert cat.read_text(encoding="utf-8").splitlines()[2].startswith("key:")
    res = run(sample, "fourcol", "cbam-dowstream", "--out", str(tmp_path / "f.docx"))
    assert res.returncode == 1
    assert "voceunica: fourcol: no EU file 'cbam-dowstream' in the catalogue" in res.stderr
    assert "did you mean 'cbam-downstream'?" in res.stderr
    assert run(sample, "fourcol", "cbam-downstream", "--lang", "fr").returncode == 2


def test_two_amendments_of_one_provision_are_refused(sample: Path, tmp_path: Path) -> None:
    cat = sample / "eu-files" / "cbam-downstream.yaml"
    text = cat.read_text(encoding="utf-8")
    # the second provision takes the first one's label: both amendments now amend one provision
    exclusion = ("      it: Articolo 1 – potere della Commissione di escludere specifiche merci a valle\n"
                 "      en: Article 1 – Commission power to exclude specific downstream goods\n")
    other = "      it: Articolo 1 – altra\n      en: Article 1 – other\n"
    cat.write_text(text.replace(exclusion, other), encoding="utf-8")
    edit_position(sample, exclusion,
                  "      it: Articolo 1 – nuova disposizione (riesame dell'elenco delle merci a valle)\n"
                  "      en: Article 1 – new provision (review of the list of downstream goods)\n")
    res = run(sample, "fourcol", "cbam-downstream", "--out", str(tmp_path / "f.docx"))
    assert res.returncode == 1, res.stderr
    assert re.search(r"positions/steel-trade-energy\.yaml:\d+:\d+: amendments\[1\] amends provision "
                     r"'review-downstream-list' of cbam-downstream, as steel-trade-energy amendments\[0\] does",
                     res.stderr)


def test_the_markdown_is_proven_against_the_docx(sample: Path) -> None:
    """The same read-back proof as every dossier: every word of the Markdown is in the file."""
    from voceunica import eufiles
    from voceunica.docx.landscape import landscape
    from voceunica.fourcol import TEMPLATE, gather, resolve_fourcol
    from voceunica.pipeline import check, docx_meta
    from voceunica.render import render_template
    from voceunica.resolve import resolve

    project = check(sample)
    day = eufiles.as_of().replace(year=2026, month=11, day=27)
    rec, items, _ = gather(project, "cbam-downstream", day)
    t = resolve_fourcol(project, rec, items, "it", day)
    body = render_template(project.template_dirs(), TEMPLATE, t=t, labels=t.labels)
    data = landscape(body, docx_meta(project, resolve(project, "steel-2026", "it")), project.asset("reference.docx"))
    prove(data, [body])
    with pytest.raises(Exception, match="lost text"):
        prove(data, [body + "\nparola-in-più\n"])
