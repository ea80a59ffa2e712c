"""PDF of the Word dossiers through LibreOffice, with a table of contents that has page numbers.

A DOCX carries its table of contents pre-filled with the headings but no page
numbers: only a layout engine knows them (Word fills them on Update Field).
LibreOffice prints the TOC as it finds it, so a plain conversion would give
a contents page without numbers.  Here each document is converted once, the
page of every heading is read from that PDF (poppler's pdftohtml), the
numbers are written into the TOC entries as PAGEREF fields, and the document
is converted again.  The DOCX files themselves are left as built.

The PDFs are tagged for screen readers (PDF/UA: structure tree with headings,
tables with header cells, figures with the image's alt text; the document's
language and title in the catalog and the XMP metadata) and PDF/A-2b for
archiving, with the headings as bookmarks: LibreOffice's export filter options
(`EXPORT`, JSON, which LibreOffice reads from 7.4 on).  A paragraph style named
like a standard structure type ("Figure") would be role-mapped onto P and hide
the figure from a screen reader, so the copy LibreOffice converts renames it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from lxml import etree

from voceunica.docx.ooxml import NSDECLS, W_NS, toc_page
from voceunica.docx.package import read_parts, rezip
from voceunica.errors import VoceunicaError, problem

_W = f"{{{W_NS}}}"

# writer_pdf_Export's filter data.  Quality is the JPEG quality a plain conversion
# uses: given any filter data, LibreOffice would otherwise use a lower one.
_OPTIONS: dict[str, tuple[str, str]] = {
    "UseTaggedPDF": ("boolean", "true"),
    "PDFUACompliance": ("boolean", "true"),
    "SelectPdfVersion": ("long", "2"),  # PDF/A-2b
    "ExportBookmarks": ("boolean", "true"),
    "Quality": ("long", "90"),
}
EXPORT = "pdf:writer_pdf_Export:" + json.dumps({k: {"type": t, "value": v} for k, (t, v) in _OPTIONS.items()},
                                               separators=(",", ":"))

# PDF 1.7's standard structure types (ISO 32000-1, 14.8.4): a style of one of these
# names becomes a RoleMap entry onto P, which then also applies to the real element.
_STANDARD_TYPES = frozenset([
    "Document", "Part", "Art", "Sect", "Div", "BlockQuote", "Caption", "TOC", "TOCI", "Index", "NonStruct", "Private",
    "P", "H", "H1", "H2", "H3", "H4", "H5", "H6", "L", "LI", "Lbl", "LBody", "Table", "TR", "TH", "TD", "THead",
    "TBody", "TFoot", "Span", "Quote", "Note", "Reference", "BibEntry", "Code", "Link", "Annot", "Ruby", "RB", "RT",
    "RP", "Warichu", "WT", "WP", "Figure", "Formula", "Form"])


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(docx_files: dict[str, bytes]) -> tuple[dict[str, bytes], str | None]:
    """{name.docx: bytes} → {name.pdf: bytes}; without LibreOffice, ({}, why)."""
    office = soffice()
    if office is None:
        return {}, "LibreOffice (soffice) is not installed: PDFs were not made; the rest of the release was"
    with tempfile.TemporaryDirectory(prefix="voceunica-pdf-") as tmp:
        work = Path(tmp)
        prepared = {name: for_tagged_pdf(data) for name, data in docx_files.items()}
        first = _run(office, work, "pass1", prepared)
        untagged = sorted(n for n, pdf in first.items() if b"/StructTreeRoot" not in pdf)
        note = (f"LibreOffice did not tag {', '.join(untagged)} (its export options need LibreOffice 7.4 or later): "
                "they are not accessible to screen readers" if untagged else None)
        if shutil.which("pdftohtml") is None:
            return first, "; ".join(filter(None, [
                note, "poppler (pdftohtml) is not installed: the PDFs' tables of contents have no page numbers"]))
        numbered = {}
        for name, data in prepared.items():
            pages = toc_pages(data, work / "pass1-pdf" / (Path(name).stem + ".pdf"))
            numbered[name] = with_toc_pages(data, pages) if pages else data
        changed = {n: d for n, d in numbered.items() if d is not prepared[n]}
        second = _run(office, work, "pass2", changed) if changed else {}
        return {**first, **second}, note


def _run(office: str, work: Path, label: str, files: dict[str, bytes]) -> dict[str, bytes]:
    src = work / label
    src.mkdir()
    for name, data in files.items():
        (src / name).write_bytes(data)
    out = work / f"{label}-pdf"
    cmd = [office, f"-env:UserInstallation=file://{work}/profile", "--headless", "--convert-to", EXPORT,
           "--outdir", str(out), *sorted(str(src / n) for n in files)]
    done = subprocess.run(cmd, capture_output=True, timeout=900, check=False)
    result = {}
    for name in files:
        pdf = out / (Path(name).stem + ".pdf")
        if not pdf.is_file():
            raise VoceunicaError(problem(name, 1, 1, "LibreOffice could not convert it to PDF: "
                                         + done.stderr.decode("utf-8", "replace").strip()[-200:]))
        result[pdf.name] = pdf.read_bytes()
    return result


def for_tagged_pdf(docx: bytes) -> bytes:
    """The DOCX with every style whose name is a standard structure type renamed
    ("Figure" → "Figure Style"); the same bytes when none is."""
    part = read_parts(docx, ("word/styles.xml",)).get("word/styles.xml")
    names = etree.fromstring(part).iter(f"{_W}name") if part is not None else iter(())
    if not any(name.get(f"{_W}val") in _STANDARD_TYPES for name in names):
        return docx

    def renamed(xml: bytes) -> bytes:
        root = etree.fromstring(xml)
        for name in root.iter(f"{_W}name"):
            if name.get(f"{_W}val") in _STANDARD_TYPES:
                name.set(f"{_W}val", name.get(f"{_W}val", "") + " Style")
        data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        return data

    return rezip(docx, None, {"word/styles.xml": renamed})


def _entries(doc: etree._Element) -> list[tuple[str, str]]:
    """(bookmark, text) of every pre-filled TOC entry, in order."""
    out = []
    for p in doc.iter(f"{_W}p"):
        style = p.find(f"{_W}pPr/{_W}pStyle")
        if style is None or not style.get(f"{_W}val", "").upper().startswith("TOC") \
                or style.get(f"{_W}val", "").lower() == "tocheading":
            continue
        for link in p.iter(f"{_W}hyperlink"):
            anchor = link.get(f"{_W}anchor")
            if anchor:
                out.append((anchor, "".join(t.text or "" for t in link.iter(f"{_W}t"))))
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip().lower()


def toc_pages(docx: bytes, pdf: Path) -> dict[str, int]:
    """Page of each TOC entry's heading, read from the laid-out PDF."""
    doc = etree.fromstring(read_parts(docx, ("word/document.xml",))["word/document.xml"])
    entries = _entries(doc)
    layout = _layout(pdf) if entries else None
    if not layout:
        return {}
    # The contents page lists every entry; the body starts after the page that lists the last one.
    last = _norm(entries[-1][1])
    start = next((i + 1 for i, (lines, _) in enumerate(layout) if last in " ".join(lines)), 0)
    headings = [heads for _, heads in layout]
    found: dict[str, int] = {}
    at = start
    for mark, title in entries:
        page = _heading_page(headings, at, _norm(title))
        if page is not None:
            found[mark] = page + 1
            at = page
    return found


class PopplerText:
    """A laid-out PDF's lines as poppler's `pdftohtml -xml` gives them: each line's page, position and
    font, each font's size, and the body text's size (the one most characters are set in)."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.sizes = {spec.get("id", ""): float(spec.get("size", "0")) for spec in root.iter("fontspec")}
        weight: dict[float, int] = {}  # type size -> characters set in it
        for t in root.iter("text"):
            size = self.size(t)
            weight[size] = weight.get(size, 0) + len("".join(t.itertext()))
        self.body = max(weight, key=lambda k: weight[k]) if weight else None

    def size(self, line: etree._Element) -> float:
        return self.sizes.get(line.get("font", ""), 0.0)

    @classmethod
    def read(cls, pdf: Path) -> PopplerText | None:
        """None when poppler's output cannot be read or holds no text."""
        done = subprocess.run(["pdftohtml", "-xml", "-i", "-q", "-stdout", str(pdf)], capture_output=True,
                              timeout=120, check=False)
        try:
            root = etree.fromstring(done.stdout, etree.XMLParser(recover=True, resolve_entities=False,
                                                                 no_network=True))
        except etree.XMLSyntaxError:
            return None
        text = cls(root) if root is not None else None
        return text if text is not None and text.body is not None else None


def _layout(pdf: Path) -> list[tuple[list[str], list[str]]] | None:
    """Per page: every line, and the lines set in a larger type than the body
    text (only those can be headings), each column in reading order."""
    text = PopplerText.read(pdf)
    if text is None or text.body is None:
        return None
    root, sizes, body = text.root, text.sizes, text.body
    pages = []
    for page in root.iter("page"):
        lines: list[str] = []
        columns: dict[int, list[tuple[int, str]]] = {}
        for t in page.iter("text"):
            line = _norm("".join(t.itertext()))
            lines.append(line)
            if sizes.get(t.get("font", ""), 0.0) > body + 0.5:
                left = int(t.get("left", "0")) // 40  # one bucket per column start
                columns.setdefault(left, []).append((int(t.get("top", "0")), line))
        pages.append((lines, [line for col in sorted(columns) for _, line in sorted(columns[col])]))
    return pages


def _heading_page(pages: list[list[str]], start: int, heading: str) -> int | None:
    """The first page from `start` where `heading` is one to three consecutive
    heading lines; failing that, where a heading line starts with its first words
    (in a parallel text the other column's heading lines can come between)."""
    if not heading:
        return None
    for i in range(start, len(pages)):
        lines = pages[i]
        for n in (1, 2, 3):
            if any(" ".join(lines[k:k + n]) == heading for k in range(len(lines) - n + 1)):
                return i
    words = heading.split()[:4]
    prefix = " ".join(words)
    for i in range(start, len(pages)):
        if any(line.startswith(prefix) for line in pages[i]):
            return i
    return None


def with_toc_pages(docx: bytes, pages: dict[str, int]) -> bytes:
    """The DOCX with each TOC entry followed by a tab and its page number (a PAGEREF field)."""

    def numbered(xml: bytes) -> bytes:
        doc = etree.fromstring(xml)
        for link in doc.iter(f"{_W}hyperlink"):
            mark = link.get(f"{_W}anchor")
            if mark in pages:
                lang = link.find(f".//{_W}lang")
                tag = lang.get(f"{_W}val") if lang is not None else None
                for el in etree.fromstring(f"<w:x {NSDECLS}>{toc_page(mark, pages[mark], tag)}</w:x>"):
                    link.append(el)
        data: bytes = etree.tostring(doc, xml_declaration=True, encoding="UTF-8", standalone=True)
        return data

    return rezip(docx, None, {"word/document.xml": numbered})
