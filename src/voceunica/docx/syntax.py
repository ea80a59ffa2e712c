"""The Markdown side of the Word writer: the parser, and what the writers ask of its tree.

The rendered Markdown is parsed with markdown-it-py in voceunica's dialect
(CommonMark + GFM tables + footnotes, as GitHub reads it) into the light
tree of `tree.py`; here are the few questions every writer asks of it —
its source line, its plain text, its footnote definitions — and the
patterns of the HTML we accept (directives, comments, `<br>`).
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from voceunica.docx.tree import Node as SyntaxTreeNode

DIRECTIVE = re.compile(r"^<!--\s*vu:([a-z-]+)\s*-->\s*$")
COMMENT = re.compile(r"^<!--.*-->\s*$", re.S)
BR = re.compile(r"^<br\s*/?>$", re.I)


def parser() -> MarkdownIt:
    from voceunica.textrules import parser as dialect

    return dialect(max_nesting=20)


def split_notes(tree: SyntaxTreeNode) -> tuple[list[SyntaxTreeNode], dict[str, SyntaxTreeNode]]:
    notes = {str(fn.meta.get("label", fn.meta.get("id"))): fn
             for node in tree.children if node.type == "footnote_block" for fn in node.children}
    return [n for n in tree.children if n.type != "footnote_block"], notes


def line_of(node: SyntaxTreeNode) -> int | None:
    n: SyntaxTreeNode | None = node
    while n is not None:
        if n.map:
            return n.map[0] + 1
        n = n.parent
    return None


def plain_text(node: SyntaxTreeNode) -> str:
    """The text of a node, formatting dropped (TOC entries, alt text)."""
    parts = []
    for n in node.walk():
        if n.type in ("text", "code_inline"):
            parts.append(n.content)
        elif n.type == "softbreak":
            parts.append(" ")
    return "".join(parts).strip()
