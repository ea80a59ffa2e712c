"""Markdown tree → Word document, the way pandoc does it, with what pandoc lacks.

The Markdown the render stage wrote is parsed again with markdown-it-py
(CommonMark + GFM tables + footnotes, as GitHub reads it) into a syntax tree;
a dispatch table maps each node type to a function producing WordprocessingML
(through `ooxml`).  Only named styles from the reference document are applied.
An unknown node or HTML is an error (`DocxError`, with its line): nothing is
ever silently dropped.

python-docx does the package work — opening the reference document, images,
relationships, headers and footers, core properties, saving; `package`
makes the result byte-reproducible.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from markdown_it import MarkdownIt

from voceunica.docx import ooxml
from voceunica.docx.model import DocxError
from voceunica.docx.tree import Node as SyntaxTreeNode
from voceunica.docx.tree import build as build_tree
from voceunica.docx.package import rezip
from voceunica.docx.styles import TEXT_WIDTH_TWIPS, required_styles

if TYPE_CHECKING:
    from voceunica.docx.model import DocxMeta

LANG_TAGS = {"it": "it-IT", "en": "en-GB"}
_DIRECTIVE = re.compile(r"^<!--\s*vu:([a-z-]+)\s*-->\s*$")
_COMMENT = re.compile(r"^<!--.*-->\s*$", re.S)
_BR = re.compile(r"^<br\s*/?>$", re.I)


def parser() -> MarkdownIt:
    from voceunica.textrules import parser as dialect

    return dialect(max_nesting=20)  # type: ignore[no-any-return]


@dataclass
class Lang:
    """What differs between the two columns of a parallel text."""

    code: str  # it | en
    tag: str  # it-IT
    headings: dict[int, str]  # Markdown heading level -> style id
    width: int  # text width available, twips
    in_outline: bool = True  # headings go to the table of contents


@dataclass
class _State:
    lang: Lang
    notes: dict[str, SyntaxTreeNode]  # footnote label -> definition
    pending: str | None = None  # directive waiting for the next block


class Writer:
    """One Word document being written from one or two Markdown texts."""

    def __init__(self, reference: Path | bytes, images: Mapping[str, bytes]) -> None:
        name = reference.name if isinstance(reference, Path) else "reference.docx"
        try:
            self.doc = Document(io.BytesIO(reference) if isinstance(reference, bytes) else str(reference))
        except Exception as exc:  # python-docx raises several kinds for a bad package
            raise DocxError(f"cannot open the reference document {name}: {exc}") from None
        self.images = images
        self.part = self.doc.part
        self.styles = self._style_ids()
        missing = [n for n in required_styles() if n.lower() not in self.styles]
        if missing:
            raise DocxError(f"{name} lacks the style(s) {', '.join(missing)}")
        self.footnotes: list[str] = []
        self.first_refs: dict[tuple[str, str], tuple[int, str]] = {}  # (language, label) -> (number, bookmark)
        self.notes_part = self._footnotes_part()
        self.bookmarks = 0
        self.shapes = 1000
        self.toc: list[tuple[int, str, str]] = []
        self.toc_levels = 2
        self._list_abstract = self._abstract_of("List Number")

    # --- set-up ------------------------------------------------------------------
    def _style_ids(self) -> dict[str, str]:
        ids: dict[str, str] = {}
        root = self.doc.styles.element
        for st in root.iterchildren(f"{{{ooxml.W_NS}}}style"):
            name = st.find(f"{{{ooxml.W_NS}}}name")
            if name is not None:
                ids[name.get(f"{{{ooxml.W_NS}}}val", "").lower()] = st.get(f"{{{ooxml.W_NS}}}styleId", "")
        return ids

    def sid(self, name: str) -> str:
        return self.styles[name.lower()]

    def _footnotes_part(self) -> Part:
        for rel in self.part.rels.values():
            if rel.reltype == RT.FOOTNOTES and not rel.is_external:
                return rel.target_part
        part = Part(PackURI("/word/footnotes.xml"), ooxml.CT_FOOTNOTES, ooxml.footnotes_part([]), self.part.package)
        self.part.relate_to(part, RT.FOOTNOTES)
        return part

    def _abstract_of(self, style: str) -> str | None:
        """The abstract numbering behind a list style, so each list can restart at 1."""
        st = self.doc.styles.element.find(f'{{{ooxml.W_NS}}}style[@{{{ooxml.W_NS}}}styleId="{self.sid(style)}"]')
        num_id = st.find(f".//{{{ooxml.W_NS}}}numId") if st is not None else None
        if num_id is None:
            return None
        try:
            numbering = self.part.numbering_part.element
        except (KeyError, NotImplementedError):
            return None
        for num in numbering.iterchildren(f"{{{ooxml.W_NS}}}num"):
            if num.get(f"{{{ooxml.W_NS}}}numId") == num_id.get(f"{{{ooxml.W_NS}}}val"):
                absn = num.find(f"{{{ooxml.W_NS}}}abstractNumId")
                return absn.get(f"{{{ooxml.W_NS}}}val") if absn is not None else None
        return None

    def restart_numbering(self) -> int | None:
        if self._list_abstract is None:
            return None
        numbering = self.part.numbering_part.element
        num = numbering.add_num(int(self._list_abstract))
        num.add_lvlOverride(0).add_startOverride(1)
        return int(num.numId)

    # --- Markdown → blocks ---------------------------------------------------------
    def parse(self, markdown: str) -> tuple[list[SyntaxTreeNode], dict[str, SyntaxTreeNode]]:
        """Top-level blocks and footnote definitions by label.  Long tables are
        set aside and come back as `table_stream` blocks (see below); if a mark
        ended up inside a fence or a comment, that was no table: read it all as written."""
        aside, streamed = _set_aside_long_tables(markdown)
        blocks, notes = _split(build_tree(parser().parse(aside)))
        for node in blocks:
            m = _STREAM_MARK.match(node.content.strip()) if node.type == "html_block" else None
            if m and m.group(1) in streamed:
                node.type, node.content, node.meta = "table_stream", "", {"lines": streamed.pop(m.group(1))}
        return _split(build_tree(parser().parse(markdown))) if streamed else (blocks, notes)

    def headings(self, blocks: list[SyntaxTreeNode], lang: Lang) -> None:
        """Give every heading a bookmark and, when in the outline, a TOC entry."""
        for node in blocks:
            if node.type == "heading":
                self.bookmarks += 1
                name = f"_Toc{100000 + self.bookmarks}"
                node.meta["bookmark"] = (self.bookmarks, name)
                level = int(node.tag[1])
                if lang.in_outline and level <= self.toc_levels:
                    self.toc.append((level, _plain(node), name))

    def blocks(self, nodes: list[SyntaxTreeNode], st: _State) -> str:
        out = []
        for node in nodes:
            fn = BLOCKS.get(node.type)
            if fn is None:
                raise DocxError(f"Markdown '{node.type}' has no Word equivalent", _line(node))
            out.append(fn(self, node, st))
        if st.pending and st.pending != "toc":
            raise DocxError(f"directive vu:{st.pending} is not followed by what it applies to")
        return "".join(out)

    # --- inline -----------------------------------------------------------------------
    def inline(self, node: SyntaxTreeNode, st: _State, *, part: Part | None = None, style: str | None = None,
               strong: bool = False, em: bool = False, strike: bool = False) -> str:
        out = []
        lang = st.lang.tag
        for child in node.children:
            t = child.type
            if t == "text":
                out.append(ooxml.run(child.content, style or _char_style(self, strong, em), lang, strike=strike))
            elif t == "softbreak":
                out.append(ooxml.run(" ", style or _char_style(self, strong, em), lang, strike=strike))
            elif t == "hardbreak":
                out.append(ooxml.run_xml("<w:br/>", None, lang))
            elif t == "strong":
                out.append(self.inline(child, st, part=part, style=style, strong=True, em=em, strike=strike))
            elif t == "em":
                out.append(self.inline(child, st, part=part, style=style, strong=strong, em=True, strike=strike))
            elif t == "s":  # ~~struck~~: Word's own strikethrough, as pandoc writes it
                out.append(self.inline(child, st, part=part, style=style, strong=strong, em=em, strike=True))
            elif t == "code_inline":
                out.append(ooxml.run(child.content, self.sid("Verbatim Char"), lang))
            elif t == "link":
                href = str(child.attrs.get("href", ""))
                inner = self.inline(child, st, part=part, style=self.sid("Hyperlink"))
                if href.startswith("#"):
                    out.append(ooxml.hyperlink(inner, anchor=href[1:]))
                else:
                    rid = (part or self.part).relate_to(href, RT.HYPERLINK, is_external=True)
                    out.append(ooxml.hyperlink(inner, rid=rid))
            elif t == "image":
                out.append(self.image(child, st))
            elif t == "footnote_ref":
                out.append(self.footnote_ref(child, st))
            elif t == "html_inline":
                if _BR.match(child.content.strip()):
                    out.append(ooxml.run_xml("<w:br/>", None, lang))
                elif _COMMENT.match(child.content):
                    continue  # an inline comment is invisible on GitHub too
                else:
                    raise DocxError(f"inline HTML {child.content!r} has no Word equivalent", _line(node))
            elif t == "footnote_anchor":
                continue  # the back-link GitHub shows after a note; Word has its own
            else:
                raise DocxError(f"inline Markdown '{t}' has no Word equivalent", _line(node))
        return "".join(out)

    def footnote_ref(self, node: SyntaxTreeNode, st: _State) -> str:
        """The first reference to a note makes the Word footnote; a later one
        repeats its number through a NOTEREF field, as an author in Word would,
        instead of printing the same note twice."""
        label = str(node.meta.get("label", ""))
        definition = st.notes.get(label)
        if definition is None:
            raise DocxError(f"footnote [^{label}] has no definition", _line(node))
        ref_style = self.sid("Footnote Reference")
        first = self.first_refs.get((st.lang.code, label))
        if first is not None:
            fid, mark = first
            return ooxml.field(f"NOTEREF {mark} \\f \\h", str(fid), st.lang.tag, ref_style)
        fid = len(self.footnotes) + 1
        # A note is paragraphs in the Footnote Text style; a list inside one keeps
        # its items' text, one paragraph each (Word notes have no list styles of their own).
        paras = [(self.sid("Footnote Text"), self.inline(p.children[0], st, part=self.notes_part))
                 for p in definition.walk() if p.type == "paragraph"]
        if not paras:
            raise DocxError(f"footnote [^{label}] is empty", _line(node))
        self.footnotes.append(ooxml.footnote(fid, paras, ref_style, st.lang.tag))
        self.bookmarks += 1
        mark = f"_RefNote{fid}"
        self.first_refs[(st.lang.code, label)] = (fid, mark)
        return ooxml.bookmark(self.bookmarks, mark, ooxml.footnote_reference(fid, ref_style, st.lang.tag))

    def image(self, node: SyntaxTreeNode, st: _State) -> str:
        src = str(node.attrs.get("src", ""))
        alt = _plain(node)
        if not alt:
            raise DocxError(f"image {src} has no alt text", _line(node))
        data = self.images.get(src)
        if data is None:
            raise DocxError(f"image {src} not found beside the document", _line(node))
        rid, img = self.part.get_or_add_image(io.BytesIO(data))
        dpi = img.horz_dpi or 96
        cx = min(int(img.px_width / dpi * 914400), st.lang.width * ooxml.EMU_PER_TWIP)
        cy = int(cx * img.px_height / img.px_width)
        self.shapes += 1
        return ooxml.run_xml(ooxml.picture(rid, self.shapes, src, alt, cx, cy), None, st.lang.tag)



def _split(tree: SyntaxTreeNode) -> tuple[list[SyntaxTreeNode], dict[str, SyntaxTreeNode]]:
    notes = {str(fn.meta.get("label", fn.meta.get("id"))): fn
             for node in tree.children if node.type == "footnote_block" for fn in node.children}
    return [n for n in tree.children if n.type != "footnote_block"], notes


def _line(node: SyntaxTreeNode) -> int | None:
    n: SyntaxTreeNode | None = node
    while n is not None:
        if n.map:
            return n.map[0] + 1
        n = n.parent
    return None


def _plain(node: SyntaxTreeNode) -> str:
    """The text of a node, formatting dropped (TOC entries, alt text)."""
    parts = []
    for n in node.walk():
        if n.type in ("text", "code_inline"):
            parts.append(n.content)
        elif n.type == "softbreak":
            parts.append(" ")
    return "".join(parts).strip()


def _char_style(w: Writer, strong: bool, em: bool) -> str | None:
    if strong and em:
        return w.sid("Strong Emphasis")
    if strong:
        return w.sid("Strong")
    if em:
        return w.sid("Emphasis")
    return None


# --- block writers: node type -> function ---------------------------------------------

def _heading(w: Writer, node: SyntaxTreeNode, st: _State) -> str:
    level = int(node.tag[1])
    style = st.lang.headings.get(level)
    if style is None:
        raise DocxError(f"heading level {level} is deeper than the 3 levels a dossier has", _line(node))
    content = w.inline(node.children[0], st)
    mark = node.meta.get("bookmark")
    if mark:
        content = ooxml.bookmark(mark[0], mark[1], content)
    st.pending = None
    return ooxml.paragraph(style, content)


def _paragraph(w: Writer, node: SyntaxTreeNode, st: _State, style: str = "Body Text",
               num: tuple[int, int] | None = None) -> str:
    inline = node.children[0]
    if st.pending in ("caption", "source"):
        style = "Caption" if st.pending == "caption" else "Source"
        st.pending = None
    elif st.pending == "amendments":
        raise DocxError("directive vu:amendments must be followed by a table", _line(node))
    if style == "Body Text" and len(inline.children) == 1 and inline.children[0].type == "image":
        style = "Figure"
    return ooxml.paragraph(w.sid(style), w.inline(inline, st), num=num)


def _list(w: Writer, node: SyntaxTreeNode, st: _State, depth: int = 1) -> str:
    ordered = node.type == "ordered_list"
    base = "List Number" if ordered else "List Bullet"
    style = base if depth == 1 else f"{base} 2"
    num = None
    if ordered and depth == 1:
        num_id = w.restart_numbering()
        num = (num_id, 0) if num_id is not None else None
    out = []
    for item in node.children:
        first = True
        for child in item.children:
            if child.type == "paragraph":
                out.append(_paragraph(w, child, st, style if first else "List Continue", num if first else None))
                first = False
            elif child.type in ("bullet_list", "ordered_list"):
                out.append(_list(w, child, st, min(depth + 1, 2)))
            else:
                out.append(BLOCKS[child.type](w, child, st))
    return "".join(out)


def _quote(w: Writer, node: SyntaxTreeNode, st: _State) -> str:
    """Paragraphs in the Quote style; anything else a quote holds (a list) as itself."""
    out = []
    for child in node.children:
        if child.type == "paragraph":
            out.append(_paragraph(w, child, st, "Quote"))
        else:
            out.append(BLOCKS[child.type](w, child, st) if child.type in BLOCKS else _unknown(child))
    return "".join(out)


def _unknown(node: SyntaxTreeNode) -> str:
    raise DocxError(f"Markdown '{node.type}' has no Word equivalent", _line(node))


def _table(w: Writer, node: SyntaxTreeNode, st: _State) -> str:
    amendments = st.pending == "amendments"
    st.pending = None
    rows = _table_cells(node)
    ncols = max(len(cells) for _, cells in rows)
    # Amendments: two equal columns, as the Parliament sets them; annexes: by content.
    widths = [st.lang.width // ncols] * ncols if amendments else \
        _widths_of(_column_texts(rows, ncols), st.lang.width)
    headers = sum(1 for head, _ in rows if head)
    return ooxml.table(w.sid("Amendment Table" if amendments else "Annex Table"), widths,
                       _row_xml(w, rows, _right(node), st), header_rows=headers)


def _table_cells(node: SyntaxTreeNode) -> list[tuple[bool, list[SyntaxTreeNode]]]:
    """(is a header row, its cells) for every row of a table node."""
    return [(section.type == "thead", tr.children) for section in node.children for tr in section.children]


def _right(table: SyntaxTreeNode) -> list[bool]:
    """Which columns are right-aligned (`---:`), read from the header row."""
    first = table.children[0].children[0].children
    return [str(c.attrs.get("style", "")).endswith("right") for c in first]


def _row_xml(w: Writer, rows: list[tuple[bool, list[SyntaxTreeNode]]], right: list[bool],
             st: _State) -> list[list[str]]:
    styles = {(h, r): w.sid(("Table Heading" if h else "Table Text" if not r else "Table Number")
                            + (" Number" if h and r else "")) for h in (True, False) for r in (True, False)}
    out = []
    for head, cells in rows:
        out.append([ooxml.paragraph(styles[head, right[i]], w.inline(cell.children[0], st) if cell.children else "")
                    for i, cell in enumerate(cells)])
    return out


# --- long tables, parsed a slice at a time ----------------------------------------------
# A GFM table row depends only on its own line and the header, so a table of
# 10 000 rows parses the same in slices of a few hundred: markdown-it's tokens
# for the whole table would hold some 55 MB at once.

STREAM_SLICE = 400
_STREAM_MARK = re.compile(r"^<!--\s*vu-internal:table-stream ([0-9a-f]+)\s*-->$")
_REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]^][^\]]*\]:", re.M)
_DELIM_ROW = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


def _stream_mark(key: str) -> str:
    return f"<!-- vu-internal:table-stream {key} -->"


def _set_aside_long_tables(markdown: str) -> tuple[str, dict[str, list[str]]]:
    """Replace each top-level table longer than a slice (and free of footnote
    references, which need the whole document) by a mark and blank lines, so
    the line numbers of what follows stay true."""
    lines = markdown.split("\n")
    if len(lines) < STREAM_SLICE or _REFERENCE_DEF.search(markdown):
        return markdown, {}  # short, or with reference links a slice could not resolve
    out: list[str] = []
    streamed: dict[str, list[str]] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if (line.startswith("|") and i + 1 < len(lines) and _DELIM_ROW.match(lines[i + 1])
                and (i == 0 or not lines[i - 1].strip())):
            j = i + 2
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            block = lines[i:j]
            ends = j == len(lines) or not lines[j].strip()  # else the next line would be a row too
            if ends and j - i - 2 > STREAM_SLICE and not any("[^" in b for b in block):
                key = f"{len(streamed):x}"
                streamed[key] = block
                out.append(_stream_mark(key))
                out.extend([""] * (j - i - 1))
                i = j
                continue
        out.append(line)
        i += 1
    return "\n".join(out), streamed


def _table_stream(w: Writer, node: SyntaxTreeNode, st: _State) -> str:
    lines: list[str] = node.meta["lines"]
    head, rows = lines[:2], lines[2:]
    st.pending = None
    xml_rows: list[list[str]] = []
    columns: list[list[str]] = []
    headers = 0
    for start in range(0, len(rows), STREAM_SLICE):
        tree = build_tree(parser().parse("\n".join(head + rows[start:start + STREAM_SLICE])))
        table = tree.children[0] if tree.children else None
        if table is None or table.type != "table":  # header and delimiter disagree: not a table after all
            return w.blocks(build_tree(parser().parse("\n".join(lines))).children, st)
        parsed = _table_cells(table)
        if start == 0:
            headers = sum(1 for h, _ in parsed if h)
            columns = [[] for _ in range(max(len(c) for _, c in parsed))]
        else:
            parsed = [(h, c) for h, c in parsed if not h]
        for column, texts in zip(columns, _column_texts(parsed, len(columns))):
            column.extend(texts)
        xml_rows.extend(_row_xml(w, parsed, _right(table), st))
    return ooxml.table(w.sid("Annex Table"), _widths_of(columns, st.lang.width), xml_rows, header_rows=headers)


def _column_texts(rows: list[tuple[bool, list[SyntaxTreeNode]]], ncols: int) -> list[list[str]]:
    return [[cells[i].children[0].content if cells[i].children else "" for _, cells in rows if i < len(cells)]
            for i in range(ncols)]


# One character of the 9 pt table text is about 100 twips (a digit is 0.556 em);
# headings are bold.  A cell has 85 twips of margin on each side.
_CHAR_TWIPS = 115
_CELL_PAD = 2 * 85 + 60
_BREAKS = re.compile(r"[ \t\n]+")  # where a line may break: not at the no-break space inside "22 900"


def _widths_of(columns: list[list[str]], total: int) -> list[int]:
    """Column widths: first each column's longest unbreakable word, so that no
    number or word is ever split across lines (a '2023' set as '202' over '3' in
    a narrow parallel column); then the room left, by the typical length of
    each column, so labels get room and number columns stay narrow."""
    weights, floors = [], []
    for texts in columns:
        longest_word = max((len(word) for t in texts for word in _BREAKS.split(t)), default=1)
        typical = sorted(len(t) for t in texts)[len(texts) // 2] if texts else 1
        weights.append(max(longest_word, min(typical, 40), 4))
        floors.append(longest_word * _CHAR_TWIPS + _CELL_PAD)
    if sum(floors) >= total:  # too many columns for the page: share it by the floors
        floors, spare = [int(f * total / sum(floors)) for f in floors], 0
    else:
        spare = total - sum(floors)
    widths = [f + int(spare * wt / sum(weights)) for f, wt in zip(floors, weights)]
    widths[-1] += total - sum(widths)
    return widths


def _html(w: Writer, node: SyntaxTreeNode, st: _State) -> str:
    text = node.content.strip()
    m = _DIRECTIVE.match(text)
    if m is None:
        if _COMMENT.match(text) and not text.startswith("<!-- vu:") and not text.startswith("<!--vu:"):
            return ""  # a plain comment: invisible on GitHub, invisible in Word
        raise DocxError(f"HTML {text[:40]!r} has no Word equivalent (directives are <!-- vu:NAME -->)", _line(node))
    name = m.group(1)
    if name == "pagebreak":
        return ooxml.page_break()
    if name == "toc":
        return "\x00TOC\x00"  # placed by the document assembler, which knows every heading
    if name in ("caption", "source", "amendments"):
        st.pending = name
        return ""
    raise DocxError(f"unknown directive vu:{name} (known: toc, caption, source, amendments, pagebreak)",
                    _line(node))


def _rule(w: Writer, node: SyntaxTreeNode, st: _State) -> str:
    return ooxml.paragraph(w.sid("Rule"), "")


def _code(w: Writer, node: SyntaxTreeNode, st: _State) -> str:
    return "".join(ooxml.paragraph(w.sid("Source Code"), ooxml.run(line, None, st.lang.tag))
                   for line in node.content.rstrip("\n").split("\n"))


BLOCKS: dict[str, Callable[[Writer, SyntaxTreeNode, _State], str]] = {
    "heading": _heading,
    "paragraph": _paragraph,
    "bullet_list": _list,
    "ordered_list": _list,
    "blockquote": _quote,
    "table": _table,
    "html_block": _html,
    "hr": _rule,
    "fence": _code,
    "code_block": _code,
    "table_stream": _table_stream,
}


# --- whole documents -----------------------------------------------------------------------

def _make_lang(w: Writer, code: str, width: int, *, outline: bool = True) -> Lang:
    prefix = "Heading" if outline else "Parallel Heading"
    return Lang(code, LANG_TAGS[code], {n: w.sid(f"{prefix} {n}") for n in (1, 2, 3)}, width, in_outline=outline)


def single(markdown: str, meta: "DocxMeta", reference: Path, images: Mapping[str, bytes]) -> bytes:
    w = Writer(reference, images)
    lang = _make_lang(w, meta.lang, TEXT_WIDTH_TWIPS)
    blocks, notes = w.parse(markdown)
    w.headings(blocks, lang)
    st = _State(lang, notes)
    cover = _cover(w, [meta], lang)
    body = w.blocks(blocks, st)
    body = body.replace("\x00TOC\x00", _toc(w, lang, ooxml.run(meta.labels["contents"], None, lang.tag)))
    return _finish(w, cover + body, meta, [meta])


def parallel(md_it: str, meta_it: "DocxMeta", md_en: str, meta_en: "DocxMeta", reference: Path,
             images: Mapping[str, bytes]) -> bytes:
    """Italian and English side by side, section by section, as EU parallel texts are."""
    w = Writer(reference, images)
    col = TEXT_WIDTH_TWIPS // 2
    cell_width = col - 2 * 113
    it = _make_lang(w, "it", cell_width)
    en = _make_lang(w, "en", cell_width, outline=False)
    blocks_it, notes_it = w.parse(md_it)
    blocks_en, notes_en = w.parse(md_en)
    seg_it, seg_en = _segments(blocks_it), _segments(blocks_en)
    if len(seg_it) != len(seg_en) or any(a[0] != b[0] for a, b in zip(seg_it, seg_en)):
        raise DocxError(f"the Italian and English texts are not built alike ({len(seg_it)} and {len(seg_en)} "
                        "sections): they cannot be set side by side")
    w.headings(blocks_it, it)
    w.headings(blocks_en, en)
    st_it, st_en = _State(it, notes_it), _State(en, notes_en)
    head_it = w.blocks(seg_it[0][1], st_it)
    head_en = w.blocks(seg_en[0][1], st_en)
    toc_here = "\x00TOC\x00" in head_it
    rows = [[ooxml.paragraph(w.sid("Parallel Language"), ooxml.run("Italiano", None, it.tag)),
             ooxml.paragraph(w.sid("Parallel Language"), ooxml.run("English", None, en.tag))]]
    pre_it, pre_en = head_it.replace("\x00TOC\x00", ""), head_en.replace("\x00TOC\x00", "")
    if pre_it or pre_en:
        rows.append([_cell(pre_it), _cell(pre_en)])
    for (_, a), (_, b) in zip(seg_it[1:], seg_en[1:]):
        units_a, units_b = _units(a), _units(b)
        if [_shape(u) for u in units_a] != [_shape(u) for u in units_b]:
            units_a, units_b = [a], [b]  # built differently: align the section as a whole
        for ua, ub in zip(units_a, units_b):
            rows.append([_cell(w.blocks(ua, st_it)), _cell(w.blocks(ub, st_en))])
    grid = ooxml.table(w.sid("Parallel Table"), [col, TEXT_WIDTH_TWIPS - col], rows, header_rows=1)
    cover = _cover(w, [meta_it, meta_en], it)
    contents = _joined([(meta_it.labels["contents"], it.tag), (meta_en.labels["contents"], en.tag)])
    toc = _toc(w, it, contents) if toc_here else ""
    return _finish(w, cover + toc + grid + ooxml.paragraph(w.sid("Body Text"), ""), meta_it, [meta_it, meta_en])


def _segments(blocks: list[SyntaxTreeNode]) -> list[tuple[str, list[SyntaxTreeNode]]]:
    """Split at every heading of level 1 or 2: (heading level signature, blocks)."""
    segs: list[tuple[str, list[SyntaxTreeNode]]] = [("", [])]
    for node in blocks:
        if node.type == "heading" and node.tag in ("h1", "h2"):
            segs.append((node.tag, []))
        segs[-1][1].append(node)
    return segs


def _units(blocks: list[SyntaxTreeNode]) -> list[list[SyntaxTreeNode]]:
    """Blocks grouped into what must stay together in one row: a directive with
    the block it applies to, a heading with the block after it."""
    units: list[list[SyntaxTreeNode]] = []
    carry: list[SyntaxTreeNode] = []
    for node in blocks:
        carry.append(node)
        if node.type in ("html_block", "heading"):
            continue
        units.append(carry)
        carry = []
    if carry:
        units.append(carry)
    return units


def _shape(unit: list[SyntaxTreeNode]) -> tuple[str, ...]:
    return tuple(n.type if n.type != "heading" else n.tag for n in unit)


def _cell(content: str) -> str:
    """A table cell must end with a paragraph."""
    if not content:
        return "<w:p/>"
    return content if content.endswith("</w:p>") else content + "<w:p/>"


def _toc(w: Writer, lang: Lang, heading: str) -> str:
    """`heading`: the runs of the contents' heading."""
    levels = {n: w.sid(f"TOC {n}") for n in (1, 2, 3)}
    return (ooxml.paragraph(w.sid("TOC Heading"), heading)
            + ooxml.toc(w.toc, levels, lang.tag, levels=w.toc_levels) + ooxml.page_break())


def _cover(w: Writer, metas: list["DocxMeta"], lang: Lang) -> str:
    """Authors, title, the EU files addressed, date, version, status, contact."""
    m = metas[0]
    tags = [LANG_TAGS[x.lang] for x in metas]
    out = []
    logos = [a.logo for a in m.authors if a.logo is not None]
    logo_data = [a.logo_data for a in m.authors if a.logo is not None]
    if logos:
        runs = []
        for i, logo in enumerate(logos):
            rid, img = w.part.get_or_add_image(io.BytesIO(logo_data[i]) if logo_data[i] is not None else str(logo))
            cy = 1000 * ooxml.EMU_PER_TWIP  # 1.76 cm high
            cx = int(cy * img.px_width / img.px_height)
            w.shapes += 1
            name = m.authors[i].name if i < len(m.authors) else "logo"
            if i:
                runs.append(ooxml.run("\u2003\u2003", None, lang.tag))
            runs.append(ooxml.run_xml(ooxml.picture(rid, w.shapes, logo.name, f"Logo: {name}", cx, cy), None,
                                      lang.tag))
        out.append(ooxml.paragraph(w.sid("Cover Logos"), "".join(runs)))
    out.append(ooxml.paragraph(w.sid("Cover Doctype"), _joined([(x.doctype, t) for x, t in zip(metas, tags)])))
    for x, t in zip(metas, tags):
        out.append(ooxml.paragraph(w.sid("Title"), ooxml.run(x.title, None, t)))
    for x, t in zip(metas, tags):
        if x.subtitle:
            out.append(ooxml.paragraph(w.sid("Subtitle"), ooxml.run(x.subtitle, None, t)))

    def label(key: str) -> str:
        return _joined([(x.labels[key], t) for x, t in zip(metas, tags)])

    def plain(text: str, tag: str = lang.tag) -> str:
        return ooxml.run(text, None, tag)

    # (label runs, [value runs, one paragraph each]); every text tagged with its own language
    rows: list[tuple[str, list[str]]] = []
    rows.append((label("eu_files"), [plain(line, t) for x, t in zip(metas, tags) for line in x.eu_files]))
    rows.append((label("date"), [_joined([(x.date_text, t) for x, t in zip(metas, tags)])]))
    rows.append((label("version"), [plain(m.version)]))
    rows.append((label("status"), [_joined([(x.status_text, t) for x, t in zip(metas, tags)])]))
    authors = []
    for i, a in enumerate(m.authors):
        for x, t in zip(metas, tags):
            au = x.authors[i]
            authors.append(plain(au.line, t))
        if a.transparency_register:
            authors.append(label("transparency_register") + plain(f": {a.transparency_register}"))
    rows.append((label("authors"), authors))
    rows.append((label("contact"), [plain(line) for line in m.contact_lines]))
    label_w = 2400
    cells = []
    for name, values in rows:
        if not values:
            continue
        cells.append([ooxml.paragraph(w.sid("Cover Label"), name),
                      "".join(ooxml.paragraph(w.sid("Cover Text"), v) for v in values)])
    out.append(ooxml.table(w.sid("Cover Table"), [label_w, TEXT_WIDTH_TWIPS - label_w], cells, header_rows=0))
    out.append(ooxml.page_break())
    return "".join(out)


def _joined(items: list[tuple[str, str]]) -> str:
    seen: list[tuple[str, str]] = []
    for text, tag in items:
        if text not in [s for s, _ in seen]:
            seen.append((text, tag))
    return ooxml.run(" / ", None, seen[0][1]).join(ooxml.run(t, None, tag) for t, tag in seen)


def _header_footer(w: Writer, metas: list["DocxMeta"]) -> None:
    m = metas[0]
    tag = LANG_TAGS[m.lang]
    section = w.doc.sections[0]
    section.different_first_page_header_footer = True
    draft = ooxml.paragraph(w.sid("Draft Marking"), ooxml.run(m.labels["draft_marking"], None, tag)) if m.draft \
        else ""
    tags = [LANG_TAGS[x.lang] for x in metas]
    short = _joined([(x.short_title, t) for x, t in zip(metas, tags)])
    version = _joined([(x.labels["version"], t) for x, t in zip(metas, tags)]) + ooxml.run(f" {m.version}", None, tag)
    head = ooxml.paragraph(w.sid("Header"), short + ooxml.run_xml("<w:tab/>", None, tag) + version)
    page = (ooxml.run(f"{m.labels['page']} ", None, tag) + ooxml.field("PAGE", "1", tag)
            + ooxml.run(f" {m.labels['of']} ", None, tag) + ooxml.field("NUMPAGES", "1", tag))
    foot = ooxml.paragraph(w.sid("Footer"), page)
    _fill(section.header, draft + head)
    _fill(section.footer, foot)
    _fill(section.first_page_header, draft or ooxml.paragraph(w.sid("Header"), ""))
    _fill(section.first_page_footer, ooxml.paragraph(w.sid("Footer"), ""))


def _fill(story: object, xml: str) -> None:
    story.is_linked_to_previous = False  # type: ignore[attr-defined]
    el = story._element  # type: ignore[attr-defined]
    for child in list(el):
        el.remove(child)
    for child in parse_xml(f"<w:hdr {ooxml.NSDECLS}>{xml}</w:hdr>"):
        el.append(child)


_BODY_MARK = "@@voceunica-body@@"


def _finish(w: Writer, body_xml: str, meta: "DocxMeta", metas: list["DocxMeta"]) -> bytes:
    # The body is written as text and never parsed into python-docx: a marker
    # paragraph stands in for it and is replaced in the saved document.xml.  An
    # annex of 10 000 rows is some 300 000 elements; parsing and re-serialising
    # them cost more time and memory than everything else together.
    body = w.doc.element.body
    for child in list(body):
        if child is not body.sectPr:
            body.remove(child)
    body.insert(0, parse_xml(f"<w:p {ooxml.NSDECLS}><w:r><w:t>{_BODY_MARK}</w:t></w:r></w:p>"))
    _header_footer(w, metas)
    w.notes_part._blob = ooxml.footnotes_part(w.footnotes)
    _language(w, LANG_TAGS[meta.lang])
    _properties(w, meta, metas)
    buf = io.BytesIO()
    w.doc.save(buf)
    epoch = int(meta.created.replace(tzinfo=dt.timezone.utc).timestamp())
    return rezip(buf.getvalue(), epoch, {"word/document.xml": lambda xml: _splice_body(xml, body_xml)})


def _splice_body(xml: bytes, body_xml: str) -> bytes:
    at = xml.index(_BODY_MARK.encode())
    start = xml.rindex(b"<w:p", 0, at)
    end = xml.index(b"</w:p>", at) + len(b"</w:p>")
    root_end = xml.index(b">", xml.index(b"<w:document"))
    root = xml[:root_end]
    decls = "".join(f" {d}" for d in ooxml.NSDECLS.split() if d.split("=")[0].encode() + b"=" not in root)
    return root + decls.encode() + xml[root_end:start] + body_xml.encode("utf-8") + xml[end:]


def _language(w: Writer, tag: str) -> None:
    """The document's default language, for text Word adds later (spell-checking)."""
    ns = f"{{{ooxml.W_NS}}}"
    for lang in w.doc.styles.element.iter(f"{ns}lang"):
        if lang.getparent() is not None and lang.getparent().getparent() is not None \
                and lang.getparent().getparent().tag == f"{ns}rPrDefault":
            lang.set(f"{ns}val", tag)
    settings = w.doc.settings.element
    tfl = settings.find(f"{ns}themeFontLang")
    if tfl is not None:
        tfl.set(f"{ns}val", tag)


def _properties(w: Writer, meta: "DocxMeta", metas: list["DocxMeta"]) -> None:
    from voceunica import __version__

    cp = w.doc.core_properties
    cp.title = " / ".join(dict.fromkeys(x.title for x in metas))
    cp.subject = " / ".join(dict.fromkeys(x.doctype for x in metas))
    cp.author = "; ".join(a.name for a in meta.authors)
    cp.last_modified_by = "voceunica"
    cp.keywords = ", ".join(dict.fromkeys(meta.keywords))
    cp.language = LANG_TAGS[meta.lang]
    cp.category = meta.doctype
    cp.comments = f"{meta.labels['version']} {meta.version} – voceunica {__version__}"
    cp.content_status = meta.status_text
    cp.identifier = meta.identifier
    cp.version = meta.version
    cp.revision = 1
    cp.created = meta.created
    cp.modified = meta.created
