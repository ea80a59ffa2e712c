"""The Word writer's state and dispatch: one document being written from one or two Markdown texts.

The Markdown the render stage wrote is parsed again (`syntax`), each block
node goes to its function in `blocks.BLOCKS` (tables in `tables`), each
inline node to its own (`inlines.INLINE`), producing WordprocessingML through
`ooxml`.  Only named styles from the reference document are applied.  An
unknown node or HTML is an error (`DocxError`, with its line): nothing is
ever silently dropped.  `document` assembles the whole file around the body.

python-docx does the package work here — opening the reference document,
images, relationships, numbering; `package` makes the result byte-reproducible.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping, Sequence

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part

from voceunica.docx import annex, ooxml
from voceunica.docx.blocks import BLOCKS
from voceunica.docx.inlines import INLINE, Format
from voceunica.docx.model import AnnexTable, DocxError
from voceunica.docx.styles import TEXT_HEIGHT_TWIPS, required_styles
from voceunica.docx.syntax import line_of, parser, plain_text, split_notes
from voceunica.locales import LOCALES
from voceunica.docx.tables import STREAM_MARK, set_aside_long_tables
from voceunica.docx.tree import Node as SyntaxTreeNode
from voceunica.docx.tree import build as build_tree

__all__ = ["BLOCKS", "INLINE", "Lang", "State", "Writer"]

LANG_TAGS = LOCALES  # one locale table (voceunica.locales)


@dataclass
class Lang:
    """What differs between the two columns of a parallel text."""

    code: str  # it | en
    tag: str  # it-IT
    headings: dict[int, str]  # Markdown heading level -> style id
    width: int  # text width available, twips
    in_outline: bool = True  # headings go to the table of contents
    in_grid: bool = False  # written inside the parallel text's table cells
    height: int = TEXT_HEIGHT_TWIPS  # text height of the page, twips (a landscape page has less)


@dataclass
class State:
    lang: Lang
    notes: dict[str, SyntaxTreeNode]  # footnote label -> definition
    pending: str | None = None  # directive waiting for the next block
    # The parallel text: the texts (column order) whose definitions of a note make its one footnote
    together: tuple[State, ...] = field(default=(), repr=False, compare=False)


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
        self.first_refs: dict[tuple[str, str], tuple[int, str]] = {}  # (languages, label) -> (number, bookmark)
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
                found: Part = rel.target_part  # python-docx leaves it unannotated
                return found
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
    def parse(self, markdown: str, tables: Sequence[AnnexTable] = ()
              ) -> tuple[list[SyntaxTreeNode], dict[str, SyntaxTreeNode]]:
        """Top-level blocks and footnote definitions by label.  The annex tables
        the Markdown holds exactly as `tables` are set aside and written from
        their rows (`annex`); other long tables are set aside and come back as
        `table_stream` blocks (see `tables`).  If a mark ended up inside a fence
        or a comment, that was no table: read it all as written."""
        direct, annexes = annex.set_aside(markdown, tables)
        aside, streamed = set_aside_long_tables(direct)
        blocks, notes = split_notes(build_tree(parser().parse(aside)))
        for node in blocks:
            if node.type != "html_block":
                continue
            m = STREAM_MARK.match(node.content.strip())
            if m and m.group(1) in streamed:
                node.type, node.content, node.meta = "table_stream", "", {"lines": streamed.pop(m.group(1))}
            m = annex.MARK.match(node.content.strip())
            if m and m.group(1) in annexes:  # the node type parsing would give it (the parallel text compares them)
                found = annexes.pop(m.group(1))
                kind = "table_stream" if found.long else "table"
                node.type, node.content, node.meta = kind, "", {"annex": found}
        if streamed or annexes:
            return split_notes(build_tree(parser().parse(markdown)))
        return blocks, notes

    def headings(self, blocks: list[SyntaxTreeNode], lang: Lang) -> None:
        """Give every heading a bookmark and, when in the outline, a TOC entry."""
        for node in blocks:
            if node.type == "heading":
                self.bookmarks += 1
                name = f"_Toc{100000 + self.bookmarks}"
                node.meta["bookmark"] = (self.bookmarks, name)
                level = int(node.tag[1])
                if lang.in_outline and level <= self.toc_levels:
                    self.toc.append((level, plain_text(node), name))

    def blocks(self, nodes: list[SyntaxTreeNode], st: State) -> str:
        out = []
        for node in nodes:
            fn = BLOCKS.get(node.type)
            if fn is None:
                raise DocxError(f"Markdown '{node.type}' has no Word equivalent", line_of(node))
            out.append(fn(self, node, st))
        if st.pending and st.pending != "toc":
            raise DocxError(f"directive vu:{st.pending} is not followed by what it applies to")
        return "".join(out)

    # --- inline -----------------------------------------------------------------------
    def inline(self, node: SyntaxTreeNode, st: State, *, part: Part | None = None, style: str | None = None,
               strong: bool = False, em: bool = False, strike: bool = False) -> str:
        """The runs of an inline node's children; `part` is where links are related
        (the footnotes part inside a note), `style` a character style for all of them."""
        return self.inlines(node, st, Format(part, style, strong, em, strike))

    def inlines(self, node: SyntaxTreeNode, st: State, fmt: Format) -> str:
        out = []
        for child in node.children:
            fn = INLINE.get(child.type)
            if fn is None:
                raise DocxError(f"inline Markdown '{child.type}' has no Word equivalent", line_of(node))
            out.append(fn(self, child, st, fmt))
        return "".join(out)
