"""A light syntax tree over markdown-it-py's token stream.

markdown-it-py's own `SyntaxTreeNode` is general and slow to build: for an
annex of 10 000 rows it took longer than writing the Word table.  This tree
has only what the writer reads — the node type (`bullet_list` for
`bullet_list_open`), tag, content, attributes, meta, source lines, parent
and children — in one pass with a stack.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any
from collections.abc import Iterator

from markdown_it.token import Token


class Node:
    __slots__ = ("type", "tag", "content", "attrs", "meta", "map", "parent", "children")

    def __init__(self, token: Token | None, parent: Node | None) -> None:
        if token is None:
            self.type, self.tag, self.content = "root", "", ""
            self.attrs: dict[str, Any] = {}
            self.meta: dict[str, Any] = {}
            self.map: list[int] | None = None
        else:
            self.type = token.type[:-5] if token.nesting == 1 else token.type
            self.tag, self.content = token.tag, token.content
            # Most tokens carry empty dicts; one shared empty mapping saves two
            # dicts per cell of a large table.  Headings get a meta of their own
            # (the writer notes their bookmark there).
            self.attrs = token.attrs or _EMPTY
            self.meta = token.meta or ({} if self.type == "heading" else _EMPTY)
            self.map = token.map
        self.parent = parent
        self.children: list[Node] = []

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


# Shared by every node without attrs or meta, read-only so that none can grow them for all: typed as the
# dict markdown-it gives, since readers only read it.
_EMPTY: dict[str, Any] = MappingProxyType({})  # type: ignore[assignment]


def build(tokens: list[Token]) -> Node:
    """The tree of `tokens`; the list is emptied as it is read, so the tokens of
    a large document are freed while its tree grows rather than after."""
    root = Node(None, None)
    _fill(root, tokens)
    return root


def _fill(root: Node, tokens: list[Token]) -> None:
    stack = [root]
    tokens.reverse()
    while tokens:
        tok = tokens.pop()
        if tok.nesting == -1:
            stack.pop()
            continue
        node = Node(tok, stack[-1])
        stack[-1].children.append(node)
        if tok.nesting == 1:
            stack.append(node)
        elif tok.children:
            _fill(node, tok.children)
