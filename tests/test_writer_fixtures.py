"""The Word writer, one construct at a time, in markdown-it-py's fixture format.

Each file in tests/fixtures/docx/ holds cases of four lines of dots:

    a title
    .
    the Markdown (a dossier body, as the render stage writes it)
    .
    the Word body it becomes, one line per paragraph: `Style name | runs`
    .

Runs are shown as text; a run in a character style as `<Style>text</Style>`,
struck text as `<s>…</s>`, a link as `<link TARGET>…</link>`, a footnote
reference as `[^n]`, a field as `{INSTRUCTION: result}`, a line break as
`<br>`, a tab as `<tab>`, a picture as `<image: alt text>`; a paragraph with
list numbering shows `#numId.level` after its style; a page break is
`(page break)`; a table is `table STYLE` and a line per row (`header:` or
`row:`, cells separated by `||`); footnotes follow the body as
`note N: Style | runs`.  A refusal is one line `!error: message (line N)`.
The cover is left out: the body starts after the cover's table (and its page break).

Adding a construct to the writer means adding a case here.  To see what a
new case produces, leave its expected part empty and read the failure.
"""

from __future__ import annotations

import datetime as dt
import re
import struct
import zlib
from pathlib import Path

import pytest
from lxml import etree

from voceunica.docx import Author, DocxError, DocxMeta, LABELS, markdown_to_docx, ooxml
from voceunica.docx.package import read_parts

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "docx"
W = f"{{{ooxml.W_NS}}}"
R = f"{{{ooxml.R_NS}}}"


# --- reading the fixture files (markdown-it-py's format) -----------------------------------------

def read_fixture_file(path: Path) -> list[tuple[int, str, str, str]]:
    """(line of the title, title, Markdown, expected) of every case; a line holding
    only '.' ends the title, the input and the expected output in turn."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    cases: list[tuple[int, str, str, str]] = []
    section, last, title, start, markdown = 0, 0, "", 0, ""
    for i, line in enumerate(lines):
        if line.rstrip("\n") != ".":
            continue
        if section == 0:
            start, title = i, lines[i - 1].strip()
        elif section == 1:
            markdown = "".join(lines[last + 1:i])
        else:
            cases.append((start, title, markdown, "".join(lines[last + 1:i])))
        section, last = (section + 1) % 3, i
    assert section == 0, f"{path.name}: the last case is not closed by '.'"
    return cases


CASES = [pytest.param(md, expected, id=f"{path.stem}.md:{line}: {title}")
         for path in sorted(FIXTURES.glob("*.md")) for line, title, md, expected in read_fixture_file(path)]


# --- writing a snippet ---------------------------------------------------------------------------

def _png(width: int = 4, height: int = 3) -> bytes:
    """A tiny grey PNG, made here so the fixtures need no binary file."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


META = DocxMeta(
    lang="it", title="Prova", subtitle="", short_title="Prova", doctype="Nota", date_text="1 gennaio 2026",
    version="1.0.0", status_text="Bozza", draft=False, authors=(Author("Regione", "Delegazione"),),
    contact_lines=(), eu_files=(), labels={key: key for key in LABELS}, created=dt.datetime(2026, 1, 1),
)
IMAGES = {"chart.png": _png()}


def write(markdown: str) -> str:
    """The Markdown written as Word and read back as fixture lines, or the refusal."""
    try:
        data = markdown_to_docx(markdown, META, reference=REPO / "templates" / "reference.docx", images=IMAGES)
    except DocxError as exc:
        return f"!error: {exc}" + (f" (line {exc.line})" if exc.line else "") + "\n"
    return "".join(line + "\n" for line in reduce_docx(data))


# --- the reducer: a DOCX body as `Style | runs` lines ----------------------------------------------

def reduce_docx(data: bytes) -> list[str]:
    parts = read_parts(data)
    names = _style_names(parts["word/styles.xml"])
    rels = _rels(parts.get("word/_rels/document.xml.rels"))
    body = etree.fromstring(parts["word/document.xml"]).find(f"{W}body")
    assert body is not None
    blocks = [el for el in body if el.tag != f"{W}sectPr"]
    # The cover ends with its table, and the page break after it unless the contents follow
    # (their heading starts a page of its own).
    first = next(i for i, el in enumerate(blocks) if el.tag == f"{W}tbl") + 1
    first += 1 if first < len(blocks) and _is_page_break(blocks[first]) else 0
    out = [line for el in blocks[first:] for line in _block(el, names, rels)]
    if "word/footnotes.xml" in parts:
        note_rels = _rels(parts.get("word/_rels/footnotes.xml.rels"))
        for fn in etree.fromstring(parts["word/footnotes.xml"]).iter(f"{W}footnote"):
            if int(fn.get(f"{W}id", "0")) > 0:
                for p in fn.iter(f"{W}p"):
                    out.append(f"note {fn.get(f'{W}id')}: " + _paragraph(p, names, note_rels).replace(
                        "<Footnote Reference>[^]</Footnote Reference>\u00a0", "", 1))
    return out


def _style_names(styles_xml: bytes) -> dict[str, str]:
    root = etree.fromstring(styles_xml)
    return {st.get(f"{W}styleId", ""): (st.find(f"{W}name").get(f"{W}val", "") if st.find(f"{W}name") is not None
                                        else "") for st in root.iter(f"{W}style")}


def _rels(xml: bytes | None) -> dict[str, str]:
    if xml is None:
        return {}
    return {r.get("Id", ""): r.get("Target", "") for r in etree.fromstring(xml)}


def _is_page_break(el: etree._Element) -> bool:
    return el.tag == f"{W}p" and el.find(f"{W}pPr") is None and el.find(f"{W}r/{W}br[@{W}type='page']") is not None


def _block(el: etree._Element, names: dict[str, str], rels: dict[str, str]) -> list[str]:
    if el.tag == f"{W}tbl":
        style = el.find(f"{W}tblPr/{W}tblStyle")
        lines = [f"table {names.get(style.get(f'{W}val', ''), '?') if style is not None else '(no style)'}"]
        for tr in el.iter(f"{W}tr"):
            kind = "header" if tr.find(f"{W}trPr/{W}tblHeader") is not None else "row"
            cells = [" / ".join(_paragraph(p, names, rels) for p in tc.iter(f"{W}p")) for tc in tr.iter(f"{W}tc")]
            lines.append(f"  {kind}: " + " || ".join(cells))
        return lines
    if _is_page_break(el):
        return ["(page break)"]
    return [_paragraph(el, names, rels)]


def _paragraph(p: etree._Element, names: dict[str, str], rels: dict[str, str]) -> str:
    style = p.find(f"{W}pPr/{W}pStyle")
    name = names.get(style.get(f"{W}val", ""), "?") if style is not None else "(no style)"
    num = p.find(f"{W}pPr/{W}numPr")
    if num is not None:
        num_id, level = num.find(f"{W}numId"), num.find(f"{W}ilvl")
        shown_id = num_id.get(f"{W}val") if num_id is not None else "?"
        name += f" #{shown_id}.{level.get(f'{W}val') if level is not None else 0}"
    return f"{name} | {_runs(p, names, rels)}".rstrip()


def _runs(parent: etree._Element, names: dict[str, str], rels: dict[str, str]) -> str:
    """Runs as text, adjacent runs of the same look merged; fields, links, notes as marks."""
    out: list[str] = []
    open_look: tuple[str, bool] | None = None  # the look of the text run being continued

    def close() -> None:
        nonlocal open_look
        if open_look is not None:
            out.append(_closing(open_look))
            open_look = None

    for el in parent:
        if el.tag == f"{W}hyperlink":
            close()
            target = f"#{el.get(f'{W}anchor')}" if el.get(f"{W}anchor") else rels.get(el.get(f"{R}id", ""), "?")
            out.append(f"<link {target}>{_runs(el, names, rels)}</link>")
        elif el.tag == f"{W}r":
            rstyle = el.find(f"{W}rPr/{W}rStyle")
            look = (names.get(rstyle.get(f"{W}val", ""), "?") if rstyle is not None else "",
                    el.find(f"{W}rPr/{W}strike") is not None)
            for item in el:
                if item.tag == f"{W}t":
                    if not item.text:
                        continue  # markdown-it leaves empty text tokens beside '***'; Word shows nothing
                    if look != open_look:
                        close()
                        out.append(_opening(look))
                        open_look = look
                    out.append(item.text or "")
                    continue
                if item.tag == f"{W}rPr":
                    continue
                close()
                out.append(_mark(item))
    close()
    return "".join(out)


def _mark(item: etree._Element) -> str:
    tag = etree.QName(item).localname
    if tag == "br":
        return "<page>" if item.get(f"{W}type") == "page" else "<br>"
    if tag == "tab":
        return "<tab>"
    if tag == "footnoteReference":
        return f"[^{item.get(f'{W}id')}]"
    if tag == "footnoteRef":
        return "<Footnote Reference>[^]</Footnote Reference>"
    if tag == "fldChar":
        return {"begin": "{", "separate": ": ", "end": "}"}[item.get(f"{W}fldCharType", "")]
    if tag == "instrText":
        return (item.text or "").strip()
    if tag == "drawing":
        doc_pr = item.find(f".//{{{ooxml.WP_NS}}}docPr")
        return f"<image: {doc_pr.get('descr') if doc_pr is not None else '?'}>"
    return f"<{tag}>"


def _opening(look: tuple[str, bool]) -> str:
    style, strike = look
    return (f"<{style}>" if style else "") + ("<s>" if strike else "")


def _closing(look: tuple[str, bool]) -> str:
    style, strike = look
    return ("</s>" if strike else "") + (f"</{style}>" if style else "")


# --- the tests -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("markdown", "expected"), CASES)
def test_writer_fixture(markdown: str, expected: str) -> None:
    assert write(markdown) == expected


def test_every_block_and_inline_type_has_a_case() -> None:
    """A node type the writer knows but no fixture names in brackets in its title
    ('emphasis [em]') is a construct without a test."""
    from voceunica.docx.writer import BLOCKS, INLINE

    named = {t for path in FIXTURES.glob("*.md") for _, title, _, _ in read_fixture_file(path)
             for t in re.findall(r"\[([a-z_]+)\]", title)}
    # table_stream: a table longer than 400 rows, too long for a fixture (test_docx's long-table tests)
    assert sorted((set(BLOCKS) | set(INLINE)) - {"table_stream"} - named) == []


@pytest.mark.parametrize("value", ["Heading\x011", "note\x0b", "rId\ufffe"])
def test_identifiers_in_attributes_go_through_the_escaper(value: str) -> None:
    """Style ids, bookmark names and relationship ids are escaped like text: a control
    character in one cannot make an ill-formed part."""
    for build in (lambda: ooxml.paragraph(value, ""), lambda: ooxml.bookmark(1, value, ""),
                  lambda: ooxml.hyperlink("", rid=value), lambda: ooxml.run("x", value)):
        with pytest.raises(DocxError, match="cannot be written in a Word file"):
            build()
    assert re.search('w:val="a&amp;b&quot;c"', ooxml.paragraph('a&b"c', ""))
