"""PDF: the table of contents gets the page numbers LibreOffice laid the headings out on."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from voceunica.pipeline import render_dossier
from voceunica.docx.pdf import _entries, convert, with_toc_pages
from voceunica.validate import load_project

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def mini_docx(root: Path) -> bytes:
    data = render_dossier(load_project(root), "mini")["mini.it.docx"]
    assert isinstance(data, bytes)
    return data


def document(docx: bytes) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        return etree.fromstring(z.read("word/document.xml"))


def test_toc_entries_are_prefilled_without_page_numbers(mini: Path) -> None:
    doc = document(mini_docx(mini))
    entries = _entries(doc)
    assert [text for _, text in entries][:2] == ["Messaggi chiave", "Acciaio e CBAM"]
    instr = " ".join(t.text or "" for t in doc.iter(f"{W}instrText"))
    assert "TOC \\o" in instr and "PAGEREF" not in instr


def test_page_numbers_go_into_each_entry_as_pageref_fields(mini: Path) -> None:
    docx = mini_docx(mini)
    marks = [m for m, _ in _entries(document(docx))]
    doc = document(with_toc_pages(docx, {marks[0]: 3, marks[1]: 4}))
    links = {link.get(f"{W}anchor"): link for link in doc.iter(f"{W}hyperlink")}
    first = links[marks[0]]
    assert "PAGEREF " + marks[0] in "".join(t.text or "" for t in first.iter(f"{W}instrText"))
    assert "".join(t.text or "" for t in first.iter(f"{W}t")).endswith("3")
    assert first.find(f".//{W}tab") is not None
    untouched = links[marks[2]]
    assert untouched.find(f".//{W}instrText") is None


@pytest.mark.soffice
@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="needs LibreOffice (soffice) and poppler (pdftotext); .ci/run installs them")
def test_pdf_contents_page_shows_where_each_heading_landed(mini: Path, tmp_path: Path) -> None:
    pdfs, note = convert({"mini.it.docx": mini_docx(mini)})
    assert note is None
    pdf = tmp_path / "mini.it.pdf"
    pdf.write_bytes(pdfs["mini.it.pdf"])
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.split("\f")
    at = next(i for i, p in enumerate(pages) if "Indice" in p)
    contents = pages[at]
    numbers = dict(re.findall(r"^\s*(\S.*?)\s*\.{3,}\s*(\d+)\s*$", contents, re.M))
    assert set(numbers) >= {"Messaggi chiave", "Acciaio e CBAM", "Allegati"}
    for heading, page in numbers.items():
        assert int(page) - 1 > at, f"{heading!r} points at the contents page itself"
        assert heading in pages[int(page) - 1], f"{heading!r} is not on page {page}"


@pytest.mark.soffice
@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="needs LibreOffice (soffice) and poppler (pdftotext); .ci/run installs them")
def test_a_heading_mentioned_earlier_in_the_text_is_found_where_it_stands(mini: Path, tmp_path: Path) -> None:
    pos = mini / "positions" / "steel-mini.yaml"
    pos.write_text(pos.read_text(encoding="utf-8").replace(
        "Il periodo definitivo è iniziato il 1º gennaio 2026[^note].",
        "Il periodo definitivo è iniziato il 1º gennaio 2026[^note] (si vedano le Proposte di emendamento)."),
        encoding="utf-8")
    tpl = mini / "templates" / "dossier.md.j2"
    tpl.write_text(tpl.read_text(encoding="utf-8").replace(
        "## {{ labels.amendments }}", "<!-- vu:pagebreak -->\n\n## {{ labels.amendments }}"), encoding="utf-8")
    pdfs, _ = convert({"mini.it.docx": mini_docx(mini)})
    pdf = tmp_path / "mini.it.pdf"
    pdf.write_bytes(pdfs["mini.it.pdf"])
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    mention = next(i for i, p in enumerate(pages) if "si vedano le Proposte" in " ".join(p.split())) + 1
    contents = next(p for p in pages if "Indice" in p)
    [number] = re.findall(r"^\s*Proposte di emendamento\s*\.{3,}\s*(\d+)\s*$", contents, re.M)
    assert int(number) == mention + 1  # the heading, after the page break; not the page that mentions it
