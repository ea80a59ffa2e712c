"""How full each page of a laid-out PDF is: a one-page brief proves it fits, or says by how much it does not.

The text area is the DOCX's page less its top and bottom margins (the running
header and footer stand outside it); a page's fill is how far down that area its
last line of text reaches, from poppler's `pdftohtml -xml` (every line's position).
Without poppler the pages are only counted.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path


_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


@dataclass(frozen=True)
class Pages:
    count: int
    fills: list[float] | None  # per page, 0 to 1 of the text area; None without poppler
    area_pt: float  # the text area's height, points


def measure(docx: bytes, pdf: bytes) -> Pages:
    from docx import Document

    section = Document(io.BytesIO(docx)).sections[0]
    height = int(section.page_height or 0)
    top, bottom = int(section.top_margin or 0) / height, 1 - int(section.bottom_margin or 0) / height
    area_pt = height * (bottom - top) / 12700  # EMU per point
    fills = _fills(pdf, top, bottom) if shutil.which("pdftohtml") else None
    count = len(fills) if fills is not None else len(_PAGE.findall(pdf))
    return Pages(count, fills, area_pt)


def _fills(pdf: bytes, top: float, bottom: float) -> list[float] | None:
    from voceunica.docx.pdf import PopplerText

    with tempfile.TemporaryDirectory(prefix="voceunica-pages-") as tmp:
        path = Path(tmp) / "in.pdf"
        path.write_bytes(pdf)
        text = PopplerText.read(path)
    if text is None or text.body is None:
        return None
    # Footnotes stand at the foot of every page that has one, in a smaller type: a page is as
    # full as its last line in the body text's size or larger.
    fills = []
    for page in text.root.iter("page"):
        h = float(page.get("height", "0")) or 1.0
        start, end = top * h, bottom * h
        last = start
        for t in page.iter("text"):
            y, dy = float(t.get("top", "0")), float(t.get("height", "0"))
            if start <= y < end and text.size(t) >= text.body - 0.5 and "".join(t.itertext()).strip():
                last = max(last, min(y + dy, end))
        fills.append((last - start) / (end - start))
    return fills
