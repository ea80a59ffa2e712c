"""Block writers: Markdown block node type -> function writing its WordprocessingML.

Each function takes the writer, the node and the state of the text being
written (its language, its footnotes, a directive waiting for its block) and
returns XML text built through `ooxml`.  A node type missing from `BLOCKS`
is refused with its line: nothing is ever silently dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from collections.abc import Callable

from voceunica.docx import ooxml
from voceunica.docx.model import DocxError
from voceunica.docx.syntax import COMMENT, DIRECTIVE, line_of
from voceunica.docx.tables import table, table_stream
from voceunica.docx.tree import Node as SyntaxTreeNode

if TYPE_CHECKING:
    from voceunica.docx.writer import State, Writer


NO_KEEP_NEXT = '<w:keepNext w:val="0"/>'  # right after pStyle: headings have no numPr


def _heading(w: Writer, node: SyntaxTreeNode, st: State) -> str:
    level = int(node.tag[1])
    style = st.lang.headings.get(level)
    if style is None:
        raise DocxError(f"heading level {level} is deeper than the 3 levels a dossier has", line_of(node))
    content = w.inline(node.children[0], st)
    mark = node.meta.get("bookmark")
    if mark:
        content = ooxml.bookmark(mark[0], mark[1], content)
    st.pending = None
    # In a table cell "keep with next" means nothing to Word, but LibreOffice keeps the whole
    # parallel grid off a page whose first row starts with such a heading: a brief's page 1 was
    # left 45 % empty.  The heading styles keep it everywhere else.
    return ooxml.paragraph(style, content, extra_ppr=NO_KEEP_NEXT if st.lang.in_grid else "")


def paragraph(w: Writer, node: SyntaxTreeNode, st: State, style: str = "Body Text",
               num: tuple[int, int] | None = None) -> str:
    inline = node.children[0]
    if st.pending in ("caption", "source"):
        style = "Caption" if st.pending == "caption" else "Source"
        st.pending = None
    elif st.pending == "amendments":
        raise DocxError("directive vu:amendments must be followed by a table", line_of(node))
    if style == "Body Text" and len(inline.children) == 1 and inline.children[0].type == "image":
        style = "Figure"
    return ooxml.paragraph(w.sid(style), w.inline(inline, st), num=num)


def _list(w: Writer, node: SyntaxTreeNode, st: State, depth: int = 1) -> str:
    return "".join(list_items(w, node, st, depth))


def list_items(w: Writer, node: SyntaxTreeNode, st: State, depth: int = 1) -> list[str]:
    """Each item of a list, written apart (one numbering for them all): the
    parallel text sets a list item by item, one row each, so the two languages'
    items face each other and a long list can run on to the next page."""
    ordered = node.type == "ordered_list"
    base = "List Number" if ordered else "List Bullet"
    style = base if depth == 1 else f"{base} 2"
    num = None
    if ordered and depth == 1:
        num_id = w.restart_numbering()
        num = (num_id, 0) if num_id is not None else None
    items = []
    for item in node.children:
        first = True
        out = []
        for child in item.children:
            if child.type == "paragraph":
                out.append(paragraph(w, child, st, style if first else "List Continue", num if first else None))
                first = False
            elif child.type in ("bullet_list", "ordered_list"):
                out.append(_list(w, child, st, min(depth + 1, 2)))
            else:
                out.append(BLOCKS[child.type](w, child, st))
        items.append("".join(out))
    return items


def _quote(w: Writer, node: SyntaxTreeNode, st: State) -> str:
    """Paragraphs in the Quote style; anything else a quote holds (a list) as itself."""
    out = []
    for child in node.children:
        if child.type == "paragraph":
            out.append(paragraph(w, child, st, "Quote"))
        else:
            out.append(BLOCKS[child.type](w, child, st) if child.type in BLOCKS else _unknown(child))
    return "".join(out)


def _unknown(node: SyntaxTreeNode) -> str:
    raise DocxError(f"Markdown '{node.type}' has no Word equivalent", line_of(node))


def _html(w: Writer, node: SyntaxTreeNode, st: State) -> str:
    text = node.content.strip()
    m = DIRECTIVE.match(text)
    if m is None:
        if COMMENT.match(text) and not text.startswith("<!-- vu:") and not text.startswith("<!--vu:"):
            return ""  # a plain comment: invisible on GitHub, invisible in Word
        raise DocxError(f"HTML {text[:40]!r} has no Word equivalent (directives are <!-- vu:NAME -->)", line_of(node))
    name = m.group(1)
    if name == "pagebreak":
        return ooxml.page_break()
    if name == "toc":
        return "\x00TOC\x00"  # placed by the document assembler, which knows every heading
    if name in ("caption", "source", "amendments"):
        st.pending = name
        return ""
    raise DocxError(f"unknown directive vu:{name} (known: toc, caption, source, amendments, pagebreak)",
                    line_of(node))


def _rule(w: Writer, node: SyntaxTreeNode, st: State) -> str:
    return ooxml.paragraph(w.sid("Rule"), "")


def _code(w: Writer, node: SyntaxTreeNode, st: State) -> str:
    return "".join(ooxml.paragraph(w.sid("Source Code"), ooxml.run(line, None, st.lang.tag))
                   for line in node.content.rstrip("\n").split("\n"))


BLOCKS: dict[str, Callable[[Writer, SyntaxTreeNode, State], str]] = {
    "heading": _heading,
    "paragraph": paragraph,
    "bullet_list": _list,
    "ordered_list": _list,
    "blockquote": _quote,
    "table": table,
    "html_block": _html,
    "hr": _rule,
    "fence": _code,
    "code_block": _code,
    "table_stream": table_stream,
}
