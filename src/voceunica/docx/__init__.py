"""Stage 5 (DOCX) — the Markdown we rendered, written as a Word document.

The public face of the writer: what a document needs besides its Markdown
(`DocxMeta`: cover, header and footer, properties), the two layouts
(`markdown_to_docx`: one language; `parallel_docx`: Italian and English side
by side) and the styles they use (`required_styles`).  python-docx and the
Markdown parser are imported only when a document is written, so `check`
stays fast.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from voceunica.docx.styles import LABELS, required_styles

__all__ = ["LABELS", "Author", "DocxError", "DocxMeta", "markdown_to_docx", "parallel_docx", "required_styles"]


class DocxError(Exception):
    """The Markdown cannot be written as Word without losing something; `line`
    is the line of the rendered Markdown body, when known."""

    def __init__(self, message: str, line: int | None = None, *, index: int = 0, word: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.index = index  # which Markdown text: 0 (single, or Italian in a parallel text), 1 (English)
        self.word = word  # the word that was lost, when a read-back found the loss
        self.places: list[tuple[int, int, str]] = []  # (Markdown index, line, word) of each loss found


@dataclass(frozen=True)
class Author:
    name: str  # "Regione Lombardia"
    line: str  # as the cover shows it: "Delegazione di Regione Lombardia a Bruxelles"
    transparency_register: str | None = None
    logo: Path | None = None
    logo_data: bytes | None = field(default=None, repr=False)  # the logo as read from the project


@dataclass(frozen=True)
class DocxMeta:
    lang: str  # it | en
    title: str
    subtitle: str
    short_title: str  # running header
    doctype: str
    date_text: str
    version: str
    status_text: str
    draft: bool  # BOZZA / DRAFT on every page
    authors: tuple[Author, ...]
    contact_lines: tuple[str, ...]
    eu_files: tuple[str, ...]  # plain text, one per EU file addressed
    labels: dict[str, str] = field(hash=False)
    created: dt.datetime  # document properties; never the wall clock
    keywords: tuple[str, ...] = ()
    identifier: str = ""


def markdown_to_docx(markdown: str, meta: DocxMeta, *, reference: Path | bytes,
                     images: Mapping[str, bytes] | None = None) -> bytes:
    """One language: cover, contents, body, footnotes; returns the .docx bytes.
    `images`: the pictures the Markdown links (`![alt](name.png)`), by name."""
    from voceunica.docx import writer

    return writer.single(markdown, meta, reference, images or {})


def parallel_docx(md_it: str, meta_it: DocxMeta, md_en: str, meta_en: DocxMeta, *, reference: Path | bytes,
                  images: Mapping[str, bytes] | None = None) -> bytes:
    """Italian | English in two columns, aligned section by section."""
    from voceunica.docx import writer

    return writer.parallel(md_it, meta_it, md_en, meta_en, reference, images or {})
