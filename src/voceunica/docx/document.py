"""Document assembly: cover, contents, body, header and footer, properties — one language or two side by side.

`single` writes one language; `parallel` sets Italian and English in two
columns, aligned section by section.  The body is written as text by the
writer and spliced into the package python-docx saves; `package.rezip` makes
the file byte-reproducible and checks every part well-formed.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING
from collections.abc import Callable, Mapping

from docx.oxml import parse_xml

from voceunica.docx import ooxml
from voceunica.docx.blocks import list_items
from voceunica.docx.model import DocxError
from voceunica.docx.package import epoch_of, save, utf8_chunks
from voceunica.docx.styles import TEXT_WIDTH_TWIPS
from voceunica.docx.syntax import DIRECTIVE
from voceunica.docx.tree import Node as SyntaxTreeNode
from voceunica.docx.writer import LANG_TAGS, Lang, State, Writer

if TYPE_CHECKING:
    from docx.section import _BaseHeaderFooter

    from voceunica.docx.model import DocxMeta


def make_lang(w: Writer, code: str, width: int, *, outline: bool = True, grid: bool = False) -> Lang:
    prefix = "Heading" if outline else "Parallel Heading"
    return Lang(code, LANG_TAGS[code], {n: w.sid(f"{prefix} {n}") for n in (1, 2, 3)}, width, in_outline=outline,
                in_grid=grid)


def single(markdown: str, meta: DocxMeta, reference: Path | bytes, images: Mapping[str, bytes]) -> bytes:
    w = Writer(reference, images)
    lang = make_lang(w, meta.lang, TEXT_WIDTH_TWIPS)
    blocks, notes = w.parse(markdown, meta.tables)
    w.headings(blocks, lang)
    st = State(lang, notes)
    body = _keep_together(w, w.blocks(blocks, st), tables=True)
    cover = brief_head(w, [meta], lang) if meta.layout == "brief" else \
        _cover(w, [meta], lang, contents_next=body.startswith("\x00TOC\x00"))
    body = body.replace("\x00TOC\x00", _toc(w, lang, ooxml.run(meta.labels["contents"], None, lang.tag)))
    return finish(w, cover + body, meta, [meta])


def parallel(md_it: str, meta_it: DocxMeta, md_en: str, meta_en: DocxMeta, reference: Path | bytes,
             images: Mapping[str, bytes]) -> bytes:
    """Italian and English side by side, section by section, as EU parallel texts are.

    The text is aligned in a two-column grid, a row per paragraph and per list
    item; charts, wide tables and amendments leave the grid and run at full
    width, the Italian one and then the English one, where they stand in the text.
    A note is one footnote, in both languages, with one number in both columns."""
    w = Writer(reference, images)
    col = TEXT_WIDTH_TWIPS // 2
    cell_width = col - 2 * 113
    it = make_lang(w, "it", cell_width, grid=True)
    en = make_lang(w, "en", cell_width, outline=False, grid=True)
    full = {"it": make_lang(w, "it", TEXT_WIDTH_TWIPS), "en": make_lang(w, "en", TEXT_WIDTH_TWIPS, outline=False)}
    blocks_it, notes_it = w.parse(md_it, meta_it.tables)
    blocks_en, notes_en = w.parse(md_en, meta_en.tables)
    seg_it, seg_en = _segments(blocks_it), _segments(blocks_en)
    if len(seg_it) != len(seg_en) or any(a[0] != b[0] for a, b in zip(seg_it, seg_en, strict=True)):
        raise DocxError(f"the Italian and English texts are not built alike ({len(seg_it)} and {len(seg_en)} "
                        "sections): they cannot be set side by side")
    w.headings(blocks_it, it)
    w.headings(blocks_en, en)
    st_it, st_en = State(it, notes_it), State(en, notes_en)
    st_it.together = st_en.together = (st_it, st_en)
    head_it = w.blocks(seg_it[0][1], st_it)
    head_en = w.blocks(seg_en[0][1], st_en)
    toc_here = "\x00TOC\x00" in head_it
    grid = _Grid(w, [col, TEXT_WIDTH_TWIPS - col])
    # Each column is headed by the name of its language, in that language (the 'language' label).
    grid.row(ooxml.paragraph(w.sid("Parallel Language"), ooxml.run(meta_it.labels["language"], None, it.tag)),
             ooxml.paragraph(w.sid("Parallel Language"), ooxml.run(meta_en.labels["language"], None, en.tag)))
    pre_it, pre_en = head_it.replace("\x00TOC\x00", ""), head_en.replace("\x00TOC\x00", "")
    if pre_it or pre_en:
        grid.row(pre_it, pre_en)
    for (_, a), (_, b) in zip(seg_it[1:], seg_en[1:], strict=True):
        units_a, units_b = _units(a), _units(b)
        if [_shape(u) for u in units_a] != [_shape(u) for u in units_b]:
            grid.row(w.blocks(a, st_it), w.blocks(b, st_en))  # built differently: align the section as a whole
            continue
        for kind, ua, ub in _runs(units_a, units_b):
            if kind == "wide":
                grid.full(_full_width(w, ua, st_it, full["it"]) + _full_width(w, ub, st_en, full["en"]))
            elif kind == "exhibit":  # a table with its caption and source line, in one row
                xa, xb = (w.blocks([n for u in ua for n in u], st_it), w.blocks([n for u in ub for n in u], st_en))
                grid.row(xa, xb, keep=max(xa.count("<w:tr>"), xb.count("<w:tr>")) <= KEEP_ROWS)
            else:
                for xa, xb in _rows(w, ua, ub, st_it, st_en):
                    grid.row(xa, xb)
    cover = (brief_head(w, [meta_it, meta_en], it) if meta_it.layout == "brief"
             else _cover(w, [meta_it, meta_en], it, contents_next=toc_here))
    contents = _joined([(meta_it.labels["contents"], it.tag), (meta_en.labels["contents"], en.tag)])
    toc = _toc(w, it, contents, by_outline_level=False) if toc_here else ""
    return finish(w, cover + toc + grid.xml() + ooxml.paragraph(w.sid("Body Text"), ""), meta_it,
                   [meta_it, meta_en])


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


class _Grid:
    """The parallel text's body: rows of the two-column grid, broken by what runs at full width."""

    def __init__(self, w: Writer, widths: list[int]) -> None:
        self.w, self.widths = w, widths
        self.rows: list[list[str]] = []
        self.keep: set[int] = set()  # rows that must not break across pages
        self.out: list[str] = []
        self.tables = 0

    def row(self, it: str, en: str, *, keep: bool = False) -> None:
        if keep:
            self.keep.add(len(self.rows))
        self.rows.append([_cell(it), _cell(en)])

    def full(self, xml: str) -> None:
        self._flush()
        self._put(xml)

    def xml(self) -> str:
        self._flush()
        return "".join(self.out)

    def _flush(self) -> None:
        if not self.rows:
            return
        # The first grid's first row names the languages.  It does not repeat on every page:
        # LibreOffice (7.4) will not break a row that holds a footnote under a repeated
        # header row, and left pages of the parallel text half empty.
        table = ooxml.table(self.w.sid("Parallel Table"), self.widths, self.rows, header_rows=0,
                            cant_split=frozenset(self.keep))
        if self.tables == 0:
            table = table.replace('w:firstRow="0"', 'w:firstRow="1"', 1)
        self.tables += 1
        self.rows, self.keep = [], set()
        self._put(table)

    def _put(self, xml: str) -> None:
        # Two tables with nothing between them are one table to Word: a paragraph keeps them apart.
        if self.out and self.out[-1].endswith("</w:tbl>") and xml.startswith("<w:tbl>"):
            self.out.append(ooxml.paragraph(self.w.sid("Body Text"), ""))
        self.out.append(xml)


def _full_width(w: Writer, units: list[list[SyntaxTreeNode]], st: State, lang: Lang) -> str:
    """Units written across the page, outside the grid: the text's own language, the page's
    width; a chart at CHART_SCALE of it, so that both languages' charts and tables share pages."""
    in_grid, st.lang = st.lang, lang
    try:
        xml = w.blocks([n for u in units for n in u], st)
    finally:
        st.lang = in_grid
    xml = _EXTENT.sub(lambda m: f'{m[1]}cx="{int(int(m[2]) * CHART_SCALE)}" cy="{int(int(m[3]) * CHART_SCALE)}"', xml)
    return _keep_together(w, xml)


def _keep_together(w: Writer, xml: str, *, tables: bool = False) -> str:
    """A source line followed by a chart keeps with it, a chart with the caption after it, and the
    paragraph that introduces a table or chart (an annex's description) with its caption:
    a chart never stands on a page without the source of its figures or its caption.  (Done
    here, not in the styles: a chart with nothing of its own after it would keep with whatever
    follows — the other language's chart, the next section — and leave its page two thirds empty.)"""
    for first, then in (("Source", "Figure"), ("Figure", "Caption"), ("Body Text", "Caption")):
        this, after = re.escape(ooxml.attr(w.sid(first))), re.escape(ooxml.attr(w.sid(then)))
        pattern = re.compile(f'(<w:p><w:pPr><w:pStyle w:val="{this}"/>)'
                             f'(?=(?:(?!</w:p>).)*</w:p><w:p><w:pPr><w:pStyle w:val="{after}"/>)', re.S)
        xml = pattern.sub(r"\1<w:keepNext/>", xml)
    # A short table keeps whole, and with the source line under it when it has one: every paragraph of
    # its rows keeps with the next (Word and LibreOffice both read it so; the last row's only when a source
    # follows), so no box breaks after a row or two and no source line opens a page alone.  Not in the
    # parallel text's grid, which keeps a short table in one unbreakable row of its own.
    if not tables:
        return xml
    source = f'<w:p><w:pPr><w:pStyle w:val="{ooxml.attr(w.sid("Source"))}"/>'

    # Found with str.find, not one regular expression over the table: a tempered repetition across a
    # 10 000-row annex kept a backtracking entry per character (490 MB for a 130 KB Word file).
    out, done, at = [], 0, xml.find("<w:tbl>")
    while at >= 0:
        end, inner = xml.find("</w:tbl>", at), xml.find("<w:tbl>", at + 7)
        if end < 0:
            break
        if 0 <= inner < end:  # a table holding a table: its inner ones are looked at on their own
            at = inner
            continue
        end += len("</w:tbl>")
        if xml.count("<w:tr>", at, end) <= KEEP_ROWS:
            table = xml[at:end]
            last = len(table) if xml.startswith(source, end) else table.rindex("<w:tr>")
            out += [xml[done:at], _PSTYLE.sub(r"\1<w:keepNext/>", table[:last]), table[last:]]
            done = end
        at = xml.find("<w:tbl>", end)
    return "".join(out) + xml[done:]


_PSTYLE = re.compile(r'(<w:p><w:pPr><w:pStyle w:val="[^"]*"/>)(?!<w:keepNext)')


# A chart 0.8 of the page's width is 12.8 cm: its 9-point labels print at 7 points (a parallel
# text's column, 47 %, gave 4); at full width the two languages' charts left pages half empty.
CHART_SCALE = 0.8
_EXTENT = re.compile(r'(<(?:wp:extent|a:ext) )cx="(\d+)" cy="(\d+)"')


def _directive(unit: list[SyntaxTreeNode]) -> str | None:
    node = unit[0]
    m = DIRECTIVE.match(node.content.strip()) if node.type == "html_block" else None
    return m.group(1) if m else None


# A table wider than this many columns is set across the page, not in a column.
WIDE_COLUMNS = 3


def _wide(unit: list[SyntaxTreeNode]) -> bool:
    """A chart, a table of more than three columns, a long annex or an amendment."""
    for i, node in enumerate(unit):
        if node.type == "table_stream":
            return True
        if node.type == "table":
            amendment = i > 0 and unit[i - 1].type == "html_block" and "vu:amendments" in unit[i - 1].content
            annex = node.meta.get("annex")  # an annex table written from its rows: no cells to count
            head = annex.columns if annex is not None else \
                node.children[0].children[0].children if node.children and node.children[0].children else []
            if amendment or len(head) > WIDE_COLUMNS:
                return True
        if node.type == "paragraph" and node.children and len(node.children[0].children) == 1 \
                and node.children[0].children[0].type == "image":
            return True
    return False


def _runs(units_a: list[list[SyntaxTreeNode]], units_b: list[list[SyntaxTreeNode]]
          ) -> list[tuple[str, list[list[SyntaxTreeNode]], list[list[SyntaxTreeNode]]]]:
    """The units in runs: ("wide", ...) what goes across the page — a wide unit with the
    headings and caption before it, the source line and a figure's caption after it, an
    amendment's justification, a chart's data table; ("exhibit", ...) a narrow table with
    its headings, caption and source line, one row of the grid; ("grid", ...) a unit a row."""
    out: list[tuple[str, list[list[SyntaxTreeNode]], list[list[SyntaxTreeNode]]]] = []
    units_a, units_b = _headings_apart(units_a, units_b)
    n, i = len(units_a), 0
    while i < n:
        start = i
        if _directive(units_a[i]) == "caption" and i + 1 < n and _wide(units_a[i + 1]):
            i += 1
        if not _wide(units_a[i]):
            end = i + 1
            if _directive(units_a[i]) == "caption" and end < n and _is_table(units_a[end]):
                end += 1  # a table in a column: one row with its caption and source line
                end += 1 if end < n and _directive(units_a[end]) == "source" else 0
                if out and out[-1][0] == "grid" and all(x.type == "heading" for x in out[-1][1][0]):
                    out.pop()  # and the headings over it: in the grid they would not keep with it
                    start -= 1
                out.append(("exhibit", units_a[start:end], units_b[start:end]))
            else:
                out.append(("grid", units_a[start:end], units_b[start:end]))
            i = end
            continue
        if _is_figure(units_a[i]) and out and out[-1][0] == "exhibit":
            start -= len(out.pop()[1])  # a chart takes along the table of its figures, caption and source
        if out and out[-1][0] == "grid" and all(n.type == "heading" for n in out[-1][1][0]):
            out.pop()  # and the headings just before it: in the grid they would not keep with it
            start -= 1
        end = i + 1
        while end < n and _goes_along(units_a, end):
            end += 1
        out.append(("wide", units_a[start:end], units_b[start:end]))
        i = end
    return out


def _headings_apart(units_a: list[list[SyntaxTreeNode]], units_b: list[list[SyntaxTreeNode]]
                    ) -> tuple[list[list[SyntaxTreeNode]], list[list[SyntaxTreeNode]]]:
    """A section's headings apart from what follows them when that goes across the page (an
    annex's table, the first amendment): they go across the page with it (`_runs`)."""
    out_a, out_b = [], []
    for ua, ub in zip(units_a, units_b, strict=True):
        k = next((j for j, node in enumerate(ua) if not (node.type == "heading" and node.tag in ("h1", "h2"))),
                 len(ua))
        if 0 < k < len(ua) and (_wide(ua[k:]) or _directive(ua[k:]) == "caption"):
            out_a += [ua[:k], ua[k:]]
            out_b += [ub[:k], ub[k:]]
        else:
            out_a.append(ua)
            out_b.append(ub)
    return out_a, out_b


def _goes_along(units: list[list[SyntaxTreeNode]], i: int) -> bool:
    """Whether unit `i` goes across the page with the wide unit before it."""
    after = _directive(units[i])
    if _wide(units[i]) or after == "source":
        return True
    if after == "caption":  # a figure's caption, below it; or the caption of the next wide table
        return _is_figure(units[i - 1]) or i + 1 < len(units) and _wide(units[i + 1])
    # an amendment's justification, below it
    return _is_amendment(units[i - 1]) and [x.type for x in units[i]] == ["paragraph"]


def _is_table(unit: list[SyntaxTreeNode]) -> bool:
    return [n.type for n in unit] in (["table"], ["table_stream"])


# A table in a column of at most this many rows never breaks across pages (with its caption and source).
KEEP_ROWS = 16


def _is_figure(unit: list[SyntaxTreeNode]) -> bool:
    return _wide(unit) and not any(n.type in ("table", "table_stream") for n in unit)


def _is_amendment(unit: list[SyntaxTreeNode]) -> bool:
    return any(n.type == "html_block" and "vu:amendments" in n.content for n in unit)


def _rows(w: Writer, units_a: list[list[SyntaxTreeNode]], units_b: list[list[SyntaxTreeNode]], st_it: State,
          st_en: State) -> list[tuple[str, str]]:
    """Grid rows: a unit each; a list an item each, when both languages' lists have as many."""
    rows = []
    for ua, ub in zip(units_a, units_b, strict=True):
        la, lb = ua[-1], ub[-1]
        if la.type in ("bullet_list", "ordered_list") and la.type == lb.type and len(la.children) == len(lb.children):
            pa, pb = w.blocks(ua[:-1], st_it), w.blocks(ub[:-1], st_en)
            items = list(zip(list_items(w, la, st_it), list_items(w, lb, st_en), strict=True))
            items[0] = (pa + items[0][0], pb + items[0][1])
            rows.extend(items)
        else:
            rows.append((w.blocks(ua, st_it), w.blocks(ub, st_en)))
    return rows


def _cell(content: str) -> str:
    """A table cell must end with a paragraph."""
    if not content:
        return "<w:p/>"
    return content if content.endswith("</w:p>") else content + "<w:p/>"


def _toc(w: Writer, lang: Lang, heading: str, *, by_outline_level: bool = True) -> str:
    """`heading`: the runs of the contents' heading; `by_outline_level` False: the
    contents take the Heading styles only (the parallel text's English headings
    have outline levels too, for the navigation pane and the PDF's bookmarks)."""
    levels = {n: w.sid(f"TOC {n}") for n in (1, 2, 3)}
    return (ooxml.paragraph(w.sid("TOC Heading"), heading)
            + ooxml.toc(w.toc, levels, lang.tag, levels=w.toc_levels, by_outline_level=by_outline_level)
            + ooxml.page_break())


def _cover(w: Writer, metas: list[DocxMeta], lang: Lang, *, contents_next: bool = False) -> str:
    """Authors, title, the EU files addressed, date, version, status, contact.  The contents,
    when they follow, start their page themselves (TOC Heading's page break before): a page
    break after a cover that fills its page would leave the next page empty."""
    m = metas[0]
    tagged = [(x, LANG_TAGS[x.lang]) for x in metas]  # each meta with its language tag
    out = [_logos(w, m, lang)] if any(a.logo is not None for a in m.authors) else []
    out.append(ooxml.paragraph(w.sid("Cover Doctype"), _joined([(x.doctype, t) for x, t in tagged])))
    out.extend(_titles(w, tagged))

    def label(key: str) -> str:
        return _joined([(x.labels[key], t) for x, t in tagged])

    def plain(text: str, tag: str = lang.tag) -> str:
        return ooxml.run(text, None, tag)

    # (label runs, [value runs, one paragraph each]); every text tagged with its own language
    rows: list[tuple[str, list[str]]] = []
    # Each EU file once, in the first language: its identifiers read the same in both, and the
    # parallel text's cover must fit one page (the English wording is in the English notes).
    rows.append((label("eu_files"), [plain(line, tagged[0][1]) for line in m.eu_files]))
    # Compact, so the cover fits its page: version and status on one line, each office once
    # (both languages' names on its line), the contact on one line.
    dot = plain(" \u00b7 ")
    rows.append((label("date"), [_joined([(x.date_text, t) for x, t in tagged])]))
    rows.append((label("version") + dot + label("status"),
                 [plain(m.version) + dot + _joined([(x.status_text, t) for x, t in tagged])]))
    authors = []
    for i, a in enumerate(m.authors):
        authors.append(_joined([(x.authors[i].line, t) for x, t in tagged]))
        if a.transparency_register:
            authors.append(label("transparency_register") + plain(f": {a.transparency_register}"))
    rows.append((label("authors"), authors))
    rows.append((label("contact"), [plain(", ".join(m.contact_lines))]))
    label_w = 2000
    cells = []
    for name, values in rows:
        if not values:
            continue
        cells.append([ooxml.paragraph(w.sid("Cover Label"), name),
                      "".join(ooxml.paragraph(w.sid("Cover Text"), v) for v in values)])
    out.append(ooxml.table(w.sid("Cover Table"), [label_w, TEXT_WIDTH_TWIPS - label_w], cells, header_rows=0))
    if not contents_next:
        out.append(ooxml.page_break())
    return "".join(out)


def _logos(w: Writer, m: DocxMeta, lang: Lang) -> str:
    """The regions' logos side by side, 1.76 cm high."""
    runs: list[str] = []
    for a in m.authors:
        if a.logo is None:
            continue
        rid, img = w.part.get_or_add_image(io.BytesIO(a.logo_data) if a.logo_data is not None else str(a.logo))
        cy = 1000 * ooxml.EMU_PER_TWIP
        cx = int(cy * img.px_width / img.px_height)
        w.shapes += 1
        if runs:
            runs.append(ooxml.run("\u2003\u2003", None, lang.tag))
        runs.append(ooxml.run_xml(ooxml.picture(rid, w.shapes, a.logo.name, f"Logo: {a.name}", cx, cy), None, lang.tag))
    return ooxml.paragraph(w.sid("Cover Logos"), "".join(runs))


def brief_head(w: Writer, metas: list[DocxMeta], lang: Lang) -> str:
    """A position paper's first lines, as Brussels reads them: the logos and the
    authoring offices, the dateline, the document type and title, then whom it
    addresses and on what file, version and status, contact.  No cover page and no
    contents: the key messages follow on page 1."""
    m = metas[0]
    tagged = [(x, LANG_TAGS[x.lang]) for x in metas]  # each meta with its language tag
    out = [_logos(w, m, lang)] if any(a.logo is not None for a in m.authors) else []

    def joined(pick: Callable[[DocxMeta], str]) -> str:
        return _joined([(pick(x), t) for x, t in tagged])

    offices = ooxml.run(" \u00b7 ", None, lang.tag).join(
        _joined([(x.authors[i].line, t) for x, t in tagged]) for i in range(len(m.authors)))
    out.append(ooxml.paragraph(w.sid("Cover Text"), offices))
    out.append(ooxml.paragraph(w.sid("Cover Text"), joined(lambda x: x.dateline)))
    out.append(ooxml.paragraph(w.sid("Cover Doctype"), joined(lambda x: x.doctype)))
    out.extend(_titles(w, tagged))

    def label(key: str) -> str:
        return joined(lambda x: x.labels[key])

    rows: list[tuple[str, list[str]]] = [
        (label("audience"), [joined(lambda x: x.audience)]),
        (label("eu_files"), [ooxml.run(line, None, tagged[0][1]) for line in m.eu_files]),  # once: see _cover
        (label("version") + ooxml.run(" \u00b7 ", None, lang.tag) + label("status"),
         [ooxml.run(m.version, None, lang.tag) + ooxml.run(" \u00b7 ", None, lang.tag)
          + joined(lambda x: x.status_text)]),
        (label("contact"), [ooxml.run(", ".join(m.contact_lines), None, lang.tag)]),
    ]
    label_w = 2000
    cells = [[ooxml.paragraph(w.sid("Cover Label"), name),
              "".join(ooxml.paragraph(w.sid("Cover Text"), v) for v in values)] for name, values in rows if values]
    out.append(ooxml.table(w.sid("Cover Table"), [label_w, TEXT_WIDTH_TWIPS - label_w], cells, header_rows=0))
    return "".join(out)


def _titles(w: Writer, tagged: list[tuple[DocxMeta, str]]) -> list[str]:
    """Each language's title, then each language's subtitle where it has one."""
    return ([ooxml.paragraph(w.sid("Title"), ooxml.run(x.title, None, t)) for x, t in tagged]
            + [ooxml.paragraph(w.sid("Subtitle"), ooxml.run(x.subtitle, None, t)) for x, t in tagged if x.subtitle])


def _joined(items: list[tuple[str, str]]) -> str:
    seen: list[tuple[str, str]] = []
    for text, tag in items:
        if text not in [s for s, _ in seen]:
            seen.append((text, tag))
    return ooxml.run(" / ", None, seen[0][1]).join(ooxml.run(t, None, tag) for t, tag in seen)


def _header_footer(w: Writer, metas: list[DocxMeta]) -> None:
    m = metas[0]
    tag = LANG_TAGS[m.lang]
    section = w.doc.sections[0]
    section.different_first_page_header_footer = True
    tagged = [(x, LANG_TAGS[x.lang]) for x in metas]  # each meta with its language tag
    # 'BOZZA' / 'DRAFT', or 'BOZZA / DRAFT' over the parallel text
    draft = ooxml.paragraph(w.sid("Draft Marking"), _joined([(x.labels["draft_marking"], t) for x, t in tagged])) \
        if m.draft else ""
    short = _joined([(x.short_title, t) for x, t in tagged])
    version = _joined([(x.labels["version"], t) for x, t in tagged]) + ooxml.run(f" {m.version}", None, tag)
    head = ooxml.paragraph(w.sid("Header"), short + ooxml.run_xml("<w:tab/>", None, tag) + version)
    page = (ooxml.run(f"{m.labels['page']} ", None, tag) + ooxml.field("PAGE", "1", tag)
            + ooxml.run(f" {m.labels['of']} ", None, tag) + ooxml.field("NUMPAGES", "1", tag))
    foot = ooxml.paragraph(w.sid("Footer"), page)
    _fill(section.header, draft + head)
    _fill(section.footer, foot)
    _fill(section.first_page_header, draft or ooxml.paragraph(w.sid("Header"), ""))
    # A cover has no page number; a brief's first page is a page of the text and has one.
    _fill(section.first_page_footer, foot if m.layout == "brief" else ooxml.paragraph(w.sid("Footer"), ""))


def _fill(story: _BaseHeaderFooter, xml: str) -> None:
    story.is_linked_to_previous = False
    el = story._element
    for child in list(el):
        el.remove(child)
    for child in parse_xml(f"<w:hdr {ooxml.NSDECLS}>{xml}</w:hdr>"):
        el.append(child)


_BODY_MARK = "@@voceunica-body@@"


def finish(w: Writer, body_xml: str, meta: DocxMeta, metas: list[DocxMeta]) -> bytes:
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
    return save(w.doc, epoch_of(meta.created), {"word/document.xml": lambda xml: _splice_body(xml, body_xml)})


def _splice_body(xml: bytes, body_xml: str) -> list[bytes]:
    at = xml.index(_BODY_MARK.encode())
    start = xml.rindex(b"<w:p", 0, at)
    end = xml.index(b"</w:p>", at) + len(b"</w:p>")
    root_end = xml.index(b">", xml.index(b"<w:document"))
    root = xml[:root_end]
    decls = "".join(f" {d}" for d in ooxml.NSDECLS.split() if d.split("=")[0].encode() + b"=" not in root)
    return [root + decls.encode() + xml[root_end:start], *utf8_chunks(body_xml), xml[end:]]  # streamed into the zip


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


def _properties(w: Writer, meta: DocxMeta, metas: list[DocxMeta]) -> None:
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

