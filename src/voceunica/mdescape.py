"""Markdown escaping: plain text → Markdown that shows exactly that text.

The one home of every escape voceunica writes, for its two readers:

- `md_escape` (the templates' `md` filter) puts a value into a dossier, read
  by our own CommonMark parser (markdown-it-py) and by GitHub; the value
  becomes one line.
- `gfm_escape` and `escape_list_marker` put text into a pull-request comment
  (`voceunica diff --format md`), read by GitHub only: lines are kept, and
  `!`, `&` and `$` are escaped too (GitHub reads `$...$` as maths, `&name;`
  as a character).

Only ASCII punctuation is ever backslash-escaped: CommonMark allows nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")
# White space a line break may replace; no-break spaces (typography.py) are kept.
_BREAKABLE_SPACE = re.compile(r"[^\S\u00a0\u2007\u202f]+")
_GFM_SPECIAL = re.compile(r"([\\`*_~\[\]<>#|!&$])")
# '- x', '+ x', '1. x' or '1) x' at the start of a line would become a list item.
_LIST_MARKER = re.compile(r"^(\s*)(?:([-+])(?=\s|$)|(\d+)([.)])(?=\s|$))")


def md_escape(text: str) -> str:
    """Plain text → one line of Markdown that shows exactly that text."""
    out = _SPECIAL.sub(r"\\\1", _one_line(text))
    # a line starting with "1." or "-" would become a list
    return re.sub(r"^(\d+)([.)])", r"\1\\\2", re.sub(r"^([+-])(\s)", r"\\\1\2", out))


def md_cell(text: str) -> str:
    """Markdown (inline) → one table cell: paragraphs joined by <br>, pipes escaped."""
    paragraphs = [_one_line(p) for p in re.split(r"\n\s*\n", text.strip())]
    return "<br><br>".join(p.replace("|", "\\|") for p in paragraphs if p)


def md_cells(cells: Iterable[str]) -> str:
    """A table row's cells, each through `md_cell`, between pipes: one filter call per row in the
    templates (a 10 000-row annex made 30 000 sandboxed calls through map and join)."""
    return " | ".join(md_cell(c) for c in cells)


def oneline(text: str) -> str:
    return _one_line(text)


def _one_line(text: str) -> str:
    """Runs of white space as one space, none at either end; a no-break space stays."""
    return _BREAKABLE_SPACE.sub(" ", text).strip(" ")


def gfm_escape(text: str) -> str:
    """Backslash-escape what GitHub would read as Markdown; line breaks stay."""
    return _GFM_SPECIAL.sub(r"\\\1", text)


def escape_list_marker(line: str) -> str:
    """A line that would start a list item, with its marker escaped ('1\\. x', '\\- x')."""
    return _LIST_MARKER.sub(_escaped_marker, line)


def _escaped_marker(m: re.Match[str]) -> str:
    return m.group(1) + ("\\" + m.group(2) if m.group(2) else m.group(3) + "\\" + m.group(4))
