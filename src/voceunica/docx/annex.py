"""Annex tables straight from their rows: no Markdown round trip for data voceunica wrote itself.

An annex's table is in the Markdown (reviewers read it there, and the
read-back proof compares the Word file's words with it), but parsing back
10 000 rows that were just written from structured rows cost more than a
third of a build.  The writer is given each annex's resolved rows too
(`AnnexTable`); where the Markdown holds, line for line, exactly the table
the template writes from those rows — header, delimiter, every row, each
cell through the one cell escaper (`mdescape.md_cell`) — the Word table is
written from the rows.

Only where that is sure to give the same XML as parsing: every cell is plain
text (nothing markdown-it would read as syntax: no backslash, emphasis,
code, link, HTML, entity or pipe), so its parse is one text node with
exactly that text.  Anything else — a template that writes the table
differently, a cell with Markdown in it, a table inside a fence — is parsed
as written, as before.  Both paths give identical XML (tests/test_speed_paths.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from voceunica.docx import ooxml
from voceunica.docx.model import AnnexTable
from voceunica.mdescape import md_cell

if TYPE_CHECKING:
    from voceunica.docx.writer import State, Writer


# What markdown-it could read as anything but text in a table cell: escapes, code, emphasis,
# strikethrough, links, images and footnote references, autolinks and HTML, entities, a pipe;
# NUL (the parser's normalisation replaces it) and line breaks.
# markdown-it strips every kind of white space off a cell: a no-break space at either end would go.
_NOT_PLAIN = re.compile(r"[\\`*_~\[\]<>&!|\x00\r\n]|^\s|\s$")
_NOT_PLAIN_LINE = re.compile(r"[\\`*_~\[\]<>&!\x00\r\n]|\| [^\S ]|[^\S ] \|")  # the same in a row's line
MARK = re.compile(r"^<!--\s*vu-internal:annex-table ([0-9]+)\s*-->$")


def _line(cells: Sequence[str]) -> str:
    """A row as the dossier template writes it: `| a | b |`."""
    return "| " + " | ".join(cells) + " |"


def _delimiter(align: Sequence[str]) -> str:
    return "|" + "".join(" ---: |" if a == "right" else " --- |" for a in align)


class _Match:
    """One annex table found in the Markdown: its rows, and each column's cell texts (for the widths)."""

    __slots__ = ("columns", "long", "table")

    def __init__(self, table: AnnexTable, columns: list[list[str]]) -> None:
        self.table, self.columns = table, columns
        self.long = False  # parsing would have streamed it (tables.set_aside_long_tables)


def _plain_cells(cells: Sequence[str]) -> list[str] | None:
    out = [md_cell(c) for c in cells]
    return None if any(_NOT_PLAIN.search(c) for c in out) else out


def _matches(lines: list[str], at: int, table: AnnexTable) -> _Match | None:
    """The annex table starting at line `at`, if the Markdown holds exactly it there."""
    ncols = len(table.headers)
    head = _plain_cells(table.headers)
    if head is None or ncols == 0 or len(table.align) != ncols or lines[at] != _line(head):
        return None
    end = at + 2 + len(table.rows)
    if end > len(lines) or lines[at + 1] != _delimiter(table.align) or (end < len(lines) and lines[end].strip()):
        return None
    columns: list[list[str]] = [[h] for h in head]
    for k, row in enumerate(table.rows, start=at + 2):
        line = lines[k]
        if len(row) != ncols:
            return None
        # The line as the cells are, with no pipe in them: then each cell is its own md_cell
        # (the template wrote md_cell's), and the escaper need not run again on every cell.
        cells: Sequence[str] = row
        if line != _line(row) or line.count("|") != ncols + 1 or _NOT_PLAIN_LINE.search(line):
            plain = _plain_cells(row)
            if plain is None or line != _line(plain):
                return None
            cells = plain
        for column, text in zip(columns, cells, strict=True):
            column.append(text)
    return _Match(table, columns)


def set_aside(markdown: str, tables: Sequence[AnnexTable]) -> tuple[str, dict[str, _Match]]:
    """Replace each annex table the Markdown holds exactly by a mark and blank lines (so the
    line numbers of what follows stay true); the marks' tables by key."""
    from voceunica.docx.tables import REFERENCE_DEF, STREAM_SLICE

    if not tables:
        return markdown, {}
    lines = markdown.split("\n")
    streams = len(lines) >= STREAM_SLICE and not REFERENCE_DEF.search(markdown)
    by_header: dict[str, list[AnnexTable]] = {}
    for t in tables:
        head = _plain_cells(t.headers)
        if head is not None:
            by_header.setdefault(_line(head), []).append(t)
    found: dict[str, _Match] = {}
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        candidates = by_header.get(line) if (i == 0 or not lines[i - 1].strip()) else None
        match = next((m for m in (_matches(lines, i, t) for t in candidates or ()) if m is not None), None)
        if match is None:
            out.append(line)
            i += 1
            continue
        key = str(len(found))
        found[key] = match
        match.long = streams and len(match.table.rows) > STREAM_SLICE
        out.append(f"<!-- vu-internal:annex-table {key} -->")
        n = 2 + len(match.table.rows)
        out.extend([""] * (n - 1))
        i += n
    return ("\n".join(out), found) if found else (markdown, {})


def table(w: Writer, match: _Match, st: State) -> str:
    """The Word table of an annex, as `tables.table` writes it from the parsed Markdown."""
    from voceunica.docx.tables import _widths_of

    if st.pending == "amendments":  # a directive before it makes it an amendment table: as the Markdown says
        from voceunica.docx.syntax import parser
        from voceunica.docx.tree import build as build_tree

        lines = [_line(c) for c in zip(*match.columns, strict=True)]
        lines.insert(1, _delimiter(match.table.align))
        return w.blocks(build_tree(parser().parse("\n".join(lines))).children, st)
    st.pending = None
    t = match.table
    right = [a == "right" for a in t.align]
    styles = {(h, r): w.sid(("Table Heading" if h else "Table Text" if not r else "Table Number")
                            + (" Number" if h and r else "")) for h in (True, False) for r in (True, False)}
    tag = st.lang.tag
    paragraph, run = ooxml.paragraph, ooxml.run
    rows: list[list[str]] = []
    nrows = len(t.rows) + 1
    for k in range(nrows):
        head = k == 0
        rows.append([paragraph(styles[head, right[i]], run(column[k], None, tag) if column[k] else "")
                     for i, column in enumerate(match.columns)])
    return ooxml.table(w.sid("Annex Table"), _widths_of(match.columns, st.lang.width), rows, header_rows=1)
