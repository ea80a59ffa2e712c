"""Tables: GFM tables as Word tables, long annexes parsed a slice at a time, column widths.

A header row repeats on every page; right-aligned columns (`---:`) get the
number styles; amendments (after `<!-- vu:amendments -->`) are two equal
columns, annexes are sized by their content so no number breaks across lines.
Amendment tables follow the European Parliament's conventions: `**...**` in a
body cell (new or changed wording in the Amendment column, deleted wording in
the Commission's) is bold italic, and no row splits across pages.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from voceunica.docx import annex, ooxml
from voceunica.docx.inlines import Format
from voceunica.docx.syntax import parser
from voceunica.docx.tree import Node as SyntaxTreeNode
from voceunica.docx.tree import build as build_tree

if TYPE_CHECKING:
    from voceunica.docx.writer import State, Writer


def table(w: Writer, node: SyntaxTreeNode, st: State) -> str:
    if "annex" in node.meta:  # an annex's table, written from its rows
        return annex.table(w, node.meta["annex"], st)
    amendments = st.pending == "amendments"
    st.pending = None
    rows = _table_cells(node)
    ncols = max(len(cells) for _, cells in rows)
    # Amendments: two equal columns, as the Parliament sets them; annexes: by content.
    widths = [st.lang.width // ncols] * ncols if amendments else \
        _widths_of(_column_texts(rows, ncols), st.lang.width)
    headers = sum(1 for head, _ in rows if head)
    return ooxml.table(w.sid("Amendment Table" if amendments else "Annex Table"), widths,
                       row_xml(w, rows, _right(node), st, amendment=amendments), header_rows=headers,
                       cant_split=rows_that_fit(rows, widths, st.lang.height) if amendments else False)


# A 9-point line of table text with its leading, and a row's cell margins and paragraph spacing.
_LINE_TWIPS = 230
_ROW_PAD = 120
_BR = re.compile(r"<br\s*/?>", re.I)


def rows_that_fit(rows: list[tuple[bool, list[SyntaxTreeNode]]], widths: list[int], height: int) -> frozenset[int]:
    """The rows that fit on a page below the repeated header rows, by a generous estimate of
    their lines: those are kept whole (w:cantSplit).  A longer row must break: Word clips a row
    that may not break and is taller than the page."""
    heights = []
    for _, cells in rows:
        lines = 1
        for cell, width in zip(cells, widths, strict=False):
            per_line = max(1, (width - _CELL_PAD) // _CHAR_TWIPS)
            text = cell.children[0].content if cell.children else ""
            lines = max(lines, sum(max(1, -(-len(piece) // per_line)) for piece in _BR.split(text)))
        heights.append(lines * _LINE_TWIPS + _ROW_PAD)
    header = sum(h for (head, _), h in zip(rows, heights, strict=True) if head)
    return frozenset(i for i, h in enumerate(heights) if header + h <= height)


def _table_cells(node: SyntaxTreeNode) -> list[tuple[bool, list[SyntaxTreeNode]]]:
    """(is a header row, its cells) for every row of a table node."""
    return [(section.type == "thead", tr.children) for section in node.children for tr in section.children]


def _right(table: SyntaxTreeNode) -> list[bool]:
    """Which columns are right-aligned (`---:`), read from the header row."""
    first = table.children[0].children[0].children
    return [str(c.attrs.get("style", "")).endswith("right") for c in first]


def row_xml(w: Writer, rows: list[tuple[bool, list[SyntaxTreeNode]]], right: list[bool],
             st: State, *, amendment: bool = False) -> list[list[str]]:
    """Each row's cells as paragraphs; in an amendment table's body, strong text is bold italic."""
    styles = {(h, r): w.sid(("Table Heading" if h else "Table Text" if not r else "Table Number")
                            + (" Number" if h and r else "")) for h in (True, False) for r in (True, False)}
    out = []
    for head, cells in rows:
        fmt = Format(amendment=amendment and not head)
        out.append([ooxml.paragraph(styles[head, right[i]], w.inlines(cell.children[0], st, fmt) if cell.children
                                    else "") for i, cell in enumerate(cells)])
    return out


# --- long tables, parsed a slice at a time ----------------------------------------------
# A GFM table row depends only on its own line and the header, so a table of
# 10 000 rows parses the same in slices of a few hundred: markdown-it's tokens
# for the whole table would hold some 55 MB at once.

STREAM_SLICE = 400
STREAM_MARK = re.compile(r"^<!--\s*vu-internal:table-stream ([0-9a-f]+)\s*-->$")
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]^][^\]]*\]:", re.M)
_DELIM_ROW = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


def _stream_mark(key: str) -> str:
    return f"<!-- vu-internal:table-stream {key} -->"


def set_aside_long_tables(markdown: str) -> tuple[str, dict[str, list[str]]]:
    """Replace each top-level table longer than a slice (and free of footnote
    references, which need the whole document) by a mark and blank lines, so
    the line numbers of what follows stay true."""
    lines = markdown.split("\n")
    if len(lines) < STREAM_SLICE or REFERENCE_DEF.search(markdown):
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


def table_stream(w: Writer, node: SyntaxTreeNode, st: State) -> str:
    if "annex" in node.meta:  # an annex's table, written from its rows
        return annex.table(w, node.meta["annex"], st)
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
        for column, texts in zip(columns, _column_texts(parsed, len(columns)), strict=True):
            column.extend(texts)
        xml_rows.extend(row_xml(w, parsed, _right(table), st))
    return ooxml.table(w.sid("Annex Table"), _widths_of(columns, st.lang.width), xml_rows, header_rows=headers)


def _column_texts(rows: list[tuple[bool, list[SyntaxTreeNode]]], ncols: int) -> list[list[str]]:
    return [[_shown(cells[i]) for _, cells in rows if i < len(cells)] for i in range(ncols)]


def _shown(cell: SyntaxTreeNode) -> str:
    """A cell's text as printed, to size its column: a link's target is no word of it (a URL
    of 100 characters squeezed the other columns of the state of play to 'Fascicol|o'), and a
    line break (<br>) separates words."""
    if not cell.children:
        return ""
    return "".join(n.content if n.type in ("text", "code_inline") else " " for n in cell.children[0].walk()
                   if n.type in ("text", "code_inline", "softbreak", "hardbreak", "html_inline"))


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
    widths = [f + int(spare * wt / sum(weights)) for f, wt in zip(floors, weights, strict=True)]
    widths[-1] += total - sum(widths)
    return widths
