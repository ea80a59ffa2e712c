"""PDF: the table of contents gets the page numbers LibreOffice laid the headings out on."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import make_project
from lxml import etree

from voceunica.pipeline import render_dossier
from voceunica.docx.pdf import _entries, convert, for_tagged_pdf, with_toc_pages
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


# --- Tagged PDF (issue 12): structure for screen readers, language and title, bookmarks, PDF/A-2b ---

TOOLS = ("soffice", "pdfinfo", "pdftohtml")
needs_tools = pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                                 reason="needs LibreOffice (soffice) and poppler (pdfinfo, pdftohtml); "
                                        ".ci/run installs them")


@pytest.fixture(scope="module")
def tagged(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Path]:
    """The mini dossier's Italian DOCX and its PDF, converted once for the tests below."""
    docx = mini_docx(make_project(tmp_path_factory.mktemp("tagged")))
    pdfs, note = convert({"mini.it.docx": docx})
    assert note is None
    pdf = tmp_path_factory.mktemp("tagged-pdf") / "mini.it.pdf"
    pdf.write_bytes(pdfs["mini.it.pdf"])
    return docx, pdf


def pdfinfo(*args: str) -> str:
    return subprocess.run(["pdfinfo", *args], capture_output=True, text=True, check=True).stdout


def core(docx: bytes, field: str) -> str:
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        found = etree.fromstring(z.read("docProps/core.xml")).find(f"{{http://purl.org/dc/elements/1.1/}}{field}")
    assert found is not None and found.text
    return found.text


def pdf_string(raw: bytes) -> str:
    """A PDF string as LibreOffice writes it: <FEFF…> hex UTF-16, or (literal)."""
    if raw.startswith(b"<"):
        return bytes.fromhex(raw[1:-1].decode("ascii")).decode("utf-16")
    return raw[1:-1].decode("latin-1")


def struct_elements(pdf: Path, kind: str) -> list[bytes]:
    """The uncompressed StructElem objects of type `kind` (LibreOffice writes the
    structure tree outside object streams)."""
    return [obj for obj in pdf.read_bytes().split(b"endobj")
            if b"/Type/StructElem" in obj and re.search(rb"/S/" + kind.encode() + rb"\s", obj)]


@pytest.mark.soffice
@needs_tools
def test_pdf_is_tagged_pdf_ua_and_pdf_a(tagged: tuple[bytes, Path]) -> None:
    _, pdf = tagged
    info = pdfinfo(str(pdf))
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
    meta = pdfinfo("-meta", str(pdf))
    assert "<pdfuaid:part>1</pdfuaid:part>" in meta
    assert "<pdfaid:part>2</pdfaid:part>" in meta and "<pdfaid:conformance>B</pdfaid:conformance>" in meta
    structure = pdfinfo("-struct", str(pdf))
    kinds = {line.split()[0].rstrip(":") for line in structure.splitlines() if line.strip()[:1].isupper()}
    assert {"Document", "H1", "H2", "Table", "TR", "TH", "TD", "Figure"} <= kinds


@pytest.mark.soffice
@needs_tools
def test_pdf_carries_the_documents_title_and_language(tagged: tuple[bytes, Path]) -> None:
    docx, pdf = tagged
    title, language = core(docx, "title"), core(docx, "language")
    assert re.search(rf"^Title:\s+{re.escape(title)}$", pdfinfo(str(pdf)), re.M)
    assert f'<rdf:li xml:lang="x-default">{title}</rdf:li>' in pdfinfo("-meta", str(pdf))
    # pdfinfo prints no /Lang: the catalog's, read from the file (LibreOffice writes it uncompressed)
    [catalog] = [obj for obj in pdf.read_bytes().split(b"endobj") if b"/Type/Catalog" in obj]
    lang = re.search(rb"/Lang(\([^)]*\)|<[0-9A-Fa-f]*>)", catalog)
    assert lang is not None and pdf_string(lang.group(1)) == language == "it-IT"
    assert b"/DisplayDocTitle true" in catalog  # viewers show the title, not the file name


@pytest.mark.soffice
@needs_tools
def test_the_chart_is_a_figure_with_its_alt_text(tagged: tuple[bytes, Path]) -> None:
    docx, pdf = tagged
    [descr] = {p.get("descr") for p in document(docx).iter("{*}docPr")}
    assert descr and descr.startswith("Grafico a barre: Esportazioni")
    # poppler 22's -struct prints no /Alt: the Figure elements' own, read from the file
    alts = [pdf_string(m.group(1)) for obj in struct_elements(pdf, "Figure")
            if (m := re.search(rb"/Alt(\([^)]*\)|<[0-9A-Fa-f]*>)", obj))]
    assert descr in alts
    # and a reader resolving the role map sees a Figure: the "Figure" paragraph style is not mapped onto it
    assert b"/Figure/P" not in pdf.read_bytes()
    assert re.search(r"^\s+Figure:$", pdfinfo("-struct", str(pdf)), re.M)


@pytest.mark.soffice
@needs_tools
def test_every_heading_of_the_contents_is_a_bookmark(tagged: tuple[bytes, Path]) -> None:
    docx, pdf = tagged
    xml = subprocess.run(["pdftohtml", "-xml", "-i", "-q", "-stdout", str(pdf)], capture_output=True,
                         check=True).stdout
    outline = [" ".join("".join(item.itertext()).split())
               for item in etree.fromstring(xml, etree.XMLParser(recover=True)).iter("item")]
    headings = [text for _, text in _entries(document(docx))]  # levels 1-2; the outline has level 3 too
    assert headings and [text for text in outline if text in headings] == headings
    assert "Emendamento 1 – Regolamento (UE) 2023/956, Articolo 2" in outline


def test_a_style_named_like_a_structure_type_is_renamed_for_the_pdf(mini: Path) -> None:
    docx = mini_docx(mini)
    with zipfile.ZipFile(io.BytesIO(for_tagged_pdf(docx))) as z:
        styles = etree.fromstring(z.read("word/styles.xml"))
    names = {s.get(f"{W}styleId"): s.find(f"{W}name").get(f"{W}val") for s in styles.iter(f"{W}style")}
    assert names["Figure"] == "Figure Style" and names["Quote"] == "Quote Style"  # ids, so references, unchanged
    assert names["Heading1"] == "heading 1" and names["Caption"] == "caption"
    assert for_tagged_pdf(for_tagged_pdf(docx)) == for_tagged_pdf(docx)


# --- The parallel text on the page (issue 12): every page but the last at least two thirds full ---

RENDER = ("soffice", "pdftoppm", "pdftotext", "pdftohtml")
needs_render = pytest.mark.skipif(any(shutil.which(t) is None for t in RENDER),
                                  reason="needs LibreOffice (soffice) and poppler (pdftoppm, pdftotext, pdftohtml) "
                                         "to lay the pages out and look at them; .ci/run installs them")
JOINT = "joint-agenda-2026"
A4_MARGIN = 1418 / 1440  # inches: the reference document's 2.5 cm top and bottom margins
DPI = 30  # enough to tell a line of 10.5-point text from white


@pytest.fixture(scope="module")
def parallel_pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Path]:
    """The joint agenda's parallel DOCX and its PDF, converted once for the tests below."""
    root = Path(__file__).resolve().parents[1]
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SOURCE_DATE_EPOCH", raising=False)
        docx = render_dossier(load_project(root), JOINT)[f"{JOINT}.it-en.docx"]
    assert isinstance(docx, bytes)
    pdfs, note = convert({f"{JOINT}.it-en.docx": docx})
    assert note is None
    pdf = tmp_path_factory.mktemp("parallel") / f"{JOINT}.it-en.pdf"
    pdf.write_bytes(pdfs[f"{JOINT}.it-en.pdf"])
    return docx, pdf


def page_fill(png: Path) -> float:
    """How full a page's text area (inside the top and bottom margins, so without the running
    header and footer) is: 1 less its largest blank band, the one after the last line included.
    A band between the text and the footnotes counts as empty too: a page whose text stops
    half-way is half empty, notes at its foot or not."""
    from PIL import Image

    with Image.open(png) as im:
        gray = im.convert("L")
        width, height = gray.size
        top, bottom = round(A4_MARGIN * DPI), height - round(A4_MARGIN * DPI)
        band = gray.crop((0, top, width, bottom))
        # a row is inked when its darkest pixel is darker than light grey
        inked = [band.crop((0, y, width, y + 1)).getextrema()[0] < 200 for y in range(bottom - top)]
    gap = run = 0
    for ink in inked:
        run = 0 if ink else run + 1
        gap = max(gap, run)
    return 1 - gap / len(inked)


@pytest.mark.soffice
@needs_render
def test_every_page_of_the_parallel_text_is_two_thirds_full(parallel_pdf: tuple[bytes, Path]) -> None:
    _, pdf = parallel_pdf
    subprocess.run(["pdftoppm", "-gray", "-png", "-r", str(DPI), str(pdf), str(pdf.with_suffix(""))], check=True)
    pngs = sorted(pdf.parent.glob(f"{pdf.stem}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    assert len(pngs) >= 10
    # The cover and the contents end with a page break: the text starts on a page of its own,
    # headed by the languages of its columns.
    body = next(i for i, page in enumerate(pages) if re.search(r"^\s*ITALIANO\s+ENGLISH\s*$", page, re.M | re.I))
    assert "Indice / Contents" in pages[1]  # the cover fits its page (it listed the EU files twice, and spilled)
    fills = [page_fill(png) for png in pngs]
    short = [(i + 1, round(f, 2)) for i, f in enumerate(fills) if f < 2 / 3 and body <= i < len(fills) - 1]
    assert not short, f"pages less than two thirds full (page, fill): {short}; all: {[round(f, 2) for f in fills]}"


@pytest.mark.soffice
@needs_render
def test_the_parallel_texts_english_headings_are_bookmarks(parallel_pdf: tuple[bytes, Path]) -> None:
    docx, pdf = parallel_pdf
    xml = subprocess.run(["pdftohtml", "-xml", "-i", "-q", "-stdout", str(pdf)], capture_output=True,
                         check=True).stdout
    outline = [" ".join("".join(item.itertext()).split())
               for item in etree.fromstring(xml, etree.XMLParser(recover=True)).iter("item")]
    english = [" ".join("".join(t.text or "" for t in p.iter(f"{W}t")).split()) for p in document(docx).iter(f"{W}p")
               if (s := p.find(f"{W}pPr/{W}pStyle")) is not None and s.get(f"{W}val", "").startswith("ParallelHeading")]
    assert "Introduction" in english and "Key messages" in english
    assert [t for t in outline if t in english] == english
    # and the Italian ones too, each once: the contents list each section once, in Italian
    assert outline.count("Introduzione") == 1
