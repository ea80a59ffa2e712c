"""Stage 5 (DOCX) — the Markdown we rendered, written as a Word document.

The public face of the writer: what a document needs besides its Markdown
(`DocxMeta`: cover, header and footer, properties), the two layouts
(`markdown_to_docx`: one language; `parallel_docx`: Italian and English side
by side) and the styles they use (`required_styles`).  python-docx and the
Markdown parser are imported only when a document is written, so `check`
stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from voceunica.docx.model import Author, DocxError, DocxMeta
from voceunica.docx.styles import LABELS, required_styles

__all__ = ["LABELS", "Author", "DocxError", "DocxMeta", "markdown_to_docx", "parallel_docx", "required_styles"]


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
