"""Stage 5 (DOCX) — the Markdown we rendered, written as a Word document.

The public face of the Word layer, the only part of voceunica that knows
OOXML: what a document needs besides its Markdown (`DocxMeta`: cover, header
and footer, properties), the two layouts (`markdown_to_docx`: one language;
`parallel_docx`: Italian and English side by side), the styles they use
(`required_styles`), the redline between two revisions (`verified_redline`),
PDFs through LibreOffice (`to_pdf`) and the one zip writer (`deterministic_zip`).
python-docx, lxml and the Markdown parser are imported only when a document
is written, so `check` stays fast.

Inside: model (data types, DocxError) · ooxml (namespaces, escaping, raw XML) ·
package (every zip) · writer (state, dispatch) · blocks, inlines, tables ·
document (assembly) · proof (read-back) · redline · pdf · styles, reference.
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Mapping

import datetime as dt

from voceunica.docx.model import AnnexTable, Author, DocxError, DocxMeta
from voceunica.docx.package import deterministic_zip
from voceunica.docx.styles import LABELS, required_styles

__all__ = ["LABELS", "AnnexTable", "Author", "DocxError", "DocxMeta", "deterministic_zip", "markdown_to_docx",
           "parallel_docx", "required_styles", "to_pdf", "verified_redline"]


def markdown_to_docx(markdown: str, meta: DocxMeta, *, reference: Path | bytes,
                     images: Mapping[str, bytes] | None = None) -> bytes:
    """One language: cover, contents, body, footnotes; returns the .docx bytes.
    `images`: the pictures the Markdown links (`![alt](name.png)`), by name."""
    from voceunica.docx import document

    return document.single(markdown, meta, reference, images or {})


def parallel_docx(md_it: str, meta_it: DocxMeta, md_en: str, meta_en: DocxMeta, *, reference: Path | bytes,
                  images: Mapping[str, bytes] | None = None) -> bytes:
    """Italian | English in two columns, aligned section by section."""
    from voceunica.docx import document

    return document.parallel(md_it, meta_it, md_en, meta_en, reference, images or {})


def verified_redline(old_docx: bytes, new_docx: bytes, *, author: str, date: dt.datetime,
                     label: str = "") -> tuple[bytes, int]:
    """The new DOCX with the changes from the old one tracked, and their number;
    proven both ways (accept all = new, reject all = old) or `DocxError`."""
    from voceunica.docx import redline

    return redline.verified_redline(old_docx, new_docx, author=author, date=date, label=label)


def to_pdf(docx_files: dict[str, bytes]) -> tuple[dict[str, bytes], str | None]:
    """{name.docx: bytes} → {name.pdf: bytes} through LibreOffice; without it, ({}, why)."""
    from voceunica.docx import pdf

    return pdf.convert(docx_files)
