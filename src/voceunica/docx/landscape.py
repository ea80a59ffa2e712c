"""A landscape document: the negotiators' four-column table, written by the dossiers' writer.

The page of the reference document turned on its side (its margins kept), the
brief's head (`document.brief_head`: offices, dateline, document type, title, the
block of audience, EU file, version and contact), then the Markdown body through
the same block and table writers as every dossier: an amendment table (after
`<!-- vu:amendments -->`) of as many equal columns as it has, its header row
repeated on every page, each row kept whole unless it is longer than a page
(`tables.rows_that_fit`, which reads the page's height from the `Lang`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from docx.enum.section import WD_ORIENT

from voceunica.docx.document import brief_head, finish, make_lang
from voceunica.docx.model import DocxMeta
from voceunica.docx.ooxml import EMU_PER_TWIP
from voceunica.docx.writer import State, Writer


def landscape(markdown: str, meta: DocxMeta, reference: Path | bytes) -> bytes:
    """One language, on landscape pages; returns the .docx bytes."""
    w = Writer(reference, {})
    section = w.doc.sections[0]
    width, height = section.page_width, section.page_height
    if width is not None and height is not None and width < height:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = height, width
    text_width = _twips(section.page_width) - _twips(section.left_margin) - _twips(section.right_margin)
    text_height = _twips(section.page_height) - _twips(section.top_margin) - _twips(section.bottom_margin)
    lang = replace(make_lang(w, meta.lang, text_width), height=text_height)
    blocks, notes = w.parse(markdown)
    w.headings(blocks, lang)
    head = brief_head(w, [replace(meta, layout="brief")], lang)
    body = w.blocks(blocks, State(lang, notes))
    return finish(w, head + body, replace(meta, layout="brief"), [replace(meta, layout="brief")])


def _twips(length: int | None) -> int:
    return int(length or 0) // EMU_PER_TWIP
