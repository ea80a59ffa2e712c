"""PDF of the Word dossiers through LibreOffice, with a table of contents that has page numbers.

A DOCX carries its table of contents pre-filled with the headings but no page
numbers: only a layout engine knows them (Word fills them on Update Field).
LibreOffice prints the TOC as it finds it, so a plain conversion would give
a contents page without numbers.  Here each document is converted once, the
page of every heading is read from that PDF (poppler's pdftohtml), the
numbers are written into the TOC entries as PAGEREF fields, and the document
is converted again.  The DOCX files themselves are left as built.
"""

from __future__ import annotations

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


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(docx_files: dict[str, bytes]) -> tuple[dict[str, bytes], str | None]:
    """{name.docx: bytes} → {name.pdf: bytes}; without LibreOffice, ({}, why)."""
    office = soffice()
    if office is None:
        return {}, "LibreOffice (soffice) is not installed: PDFs were not made; the rest of the release was"
    with tempfile.TemporaryDirectory(prefix="voceunica-pdf-") as tmp:
        work = Path(tmp)
        first = _run(office, work, "pass1", docx_files)
        if shutil.which("pdftohtml") is None:
            return first, "poppler (pdftohtml) is not installed: the PDFs' tables of contents have no page numbers"
        numbered = {}
        for name, data in docx_files.items():
            pages = toc_pages(data, work / "pass1-pdf" / (Path(name).stem + ".pdf"))
            numbered[name] = with_toc_pages(data, pages) if pages else data
        changed = {n: d for n, d in numbered.items() if d is not docx_files[n]}
        second = _run(office, work, "pass2", changed) if changed else {}
        return {**first, **second}, None


def _run(office: str, work: Path, label: str, files: dict[str, bytes]) -> dict[str, bytes]:
    src = work / label
    src.mkdir()
    for name, data in files.items():
        (src / name).write_bytes(data)
    out = work / f"{label}-pdf"
    cmd = [office, f"-env:UserInstallation=file://{work}/profile", "--headless", "--convert-to", "pdf",
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


def _layout(pdf: Path) -> list[tuple[list[str], list[str]]] | None:
    """Per page: every line, and the lines set in a larger type than the body
    text (only those can be headings), each column in reading order.  From one
    run of poppler's `pdftohtml -xml`, which gives each line's font size."""
    done = subprocess.run(["pdftohtml", "-xml", "-i", "-q", "-stdout", str(pdf)], capture_output=True, timeout=120,
                          check=False)
    try:
        root = etree.fromstring(done.stdout, etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return None
    if root is None:
        return None
    sizes = {spec.get("id", ""): float(spec.get("size", "0")) for spec in root.iter("fontspec")}
    weight: dict[float, int] = {}  # type size -> characters set in it
    for t in root.iter("text"):
        size = sizes.get(t.get("font", ""), 0.0)
        weight[size] = weight.get(size, 0) + len("".join(t.itertext()))
    if not weight:
        return None
    body = max(weight, key=lambda k: weight[k])
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
