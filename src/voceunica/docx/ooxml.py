"""Raw WordprocessingML the DOCX writer needs and python-docx has no API for.

Everything here builds XML *text* (fast, and byte-for-byte predictable):
runs tagged with their language, paragraphs with named styles only,
bookmarks, complex fields (TOC, PAGEREF), footnote references and the
footnotes part, inline pictures with alt text, tables with a repeated header
row.  Every value put into it — text (`esc`) and identifiers in attributes
(`attr`: style ids, bookmark names, relationship ids, language tags) — goes
through the one escaper, which refuses what XML cannot hold.  The namespace
table of the whole Word layer is here too.  The writers (`blocks`, `inlines`,
`tables`, `document`) decide what to build; this module knows how Word spells it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from xml.sax.saxutils import escape as _escape

from voceunica.docx.model import DocxError

# --- the namespace table: every OOXML namespace the Word layer reads or writes ----------
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WP_NS = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
PIC_NS = "http://schemas.openxmlformats.org/drawingml/2006/picture"
PKG_R_NS = "http://schemas.openxmlformats.org/package/2006/relationships"  # _rels/*.rels
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"  # [Content_Types].xml
CP_NS = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
EP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
XML_NS = "http://www.w3.org/XML/1998/namespace"  # xml:space
NSDECLS = f'xmlns:w="{W_NS}" xmlns:r="{R_NS}" xmlns:wp="{WP_NS}" xmlns:a="{A_NS}" xmlns:pic="{PIC_NS}"'

RT_FOOTNOTES = f"{R_NS}/footnotes"
RT_HYPERLINK = f"{R_NS}/hyperlink"
RT_IMAGE = f"{R_NS}/image"
CT_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"


def qn(tag: str, ns: str = W_NS) -> str:
    """A qualified name as lxml spells it: qn("p") is '{...wordprocessingml...}p'."""
    return f"{{{ns}}}{tag}"


EMU_PER_TWIP = 635


# What XML 1.0 cannot hold at all: no escaping makes these well-formed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def esc(text: str) -> str:
    """The one escaper for text and attribute values.  It refuses what XML cannot
    hold instead of writing a part Word would call corrupt (`check` refuses
    such characters in every input first; this is the last line)."""
    bad = _NOT_XML.search(text)
    if bad is not None:
        raise DocxError(f"character U+{ord(bad.group()):04X} cannot be written in a Word file")
    return _escape(text, {'"': "&quot;"})


@lru_cache(maxsize=4096)
def attr(value: str) -> str:
    """An identifier interpolated into an attribute (style id, bookmark name,
    relationship id): the same escaper, remembered, because the same few ids
    recur on every paragraph of a 10 000-row annex."""
    return esc(value)


def rpr(style: str | None, lang: str | None, strike: bool = False) -> str:
    inner = ((f'<w:rStyle w:val="{attr(style)}"/>' if style else "") + ("<w:strike/>" if strike else "")
             + (f'<w:lang w:val="{attr(lang)}"/>' if lang else ""))
    return f"<w:rPr>{inner}</w:rPr>" if inner else ""


def run(text: str, style: str | None = None, lang: str | None = None, *, strike: bool = False) -> str:
    return f'<w:r>{rpr(style, lang, strike)}<w:t xml:space="preserve">{esc(text)}</w:t></w:r>'


def run_xml(inner: str, style: str | None = None, lang: str | None = None) -> str:
    """A run around other content (w:tab, w:br, w:footnoteReference, w:drawing)."""
    return f"<w:r>{rpr(style, lang)}{inner}</w:r>"


def paragraph(style_id: str, content: str, *, num: tuple[int, int] | None = None, extra_ppr: str = "") -> str:
    """`num`: (numId, ilvl) to restart a numbered list; `extra_ppr` must follow
    CT_PPr order after numPr (e.g. a section break is never needed here)."""
    numpr = f'<w:numPr><w:ilvl w:val="{num[1]}"/><w:numId w:val="{num[0]}"/></w:numPr>' if num else ""
    return f'<w:p><w:pPr><w:pStyle w:val="{attr(style_id)}"/>{numpr}{extra_ppr}</w:pPr>{content}</w:p>'


def page_break() -> str:
    return '<w:p><w:r><w:br w:type="page"/></w:r></w:p>'


def bookmark(bid: int, name: str, content: str) -> str:
    return f'<w:bookmarkStart w:id="{bid}" w:name="{attr(name)}"/>{content}<w:bookmarkEnd w:id="{bid}"/>'


def hyperlink(content: str, *, rid: str | None = None, anchor: str | None = None) -> str:
    target = f'r:id="{attr(rid)}"' if rid else f'w:anchor="{esc(anchor or "")}"'
    return f'<w:hyperlink {target} w:history="1">{content}</w:hyperlink>'


# --- fields ---------------------------------------------------------------------------

def field_begin(instr: str, lang: str | None = None) -> str:
    return (f'<w:r>{rpr(None, lang)}<w:fldChar w:fldCharType="begin"/></w:r>'
            f'<w:r>{rpr(None, lang)}<w:instrText xml:space="preserve"> {esc(instr)} </w:instrText></w:r>'
            f'<w:r>{rpr(None, lang)}<w:fldChar w:fldCharType="separate"/></w:r>')


def field_end(lang: str | None = None) -> str:
    return f'<w:r>{rpr(None, lang)}<w:fldChar w:fldCharType="end"/></w:r>'


def field(instr: str, shown: str, lang: str | None = None, style: str | None = None) -> str:
    """A complete field with its current result, e.g. PAGE shown as '1'."""
    return field_begin(instr, lang) + run(shown, style, lang) + field_end(lang)


def toc(entries: list[tuple[int, str, str]], style_ids: dict[int, str], lang: str, *, levels: int = 2,
        by_outline_level: bool = True) -> str:
    """A real TOC field, pre-filled with (level, text, bookmark) entries so it is
    not empty before Word updates it.  The entries link to their headings but
    carry no page numbers: only a layout engine knows them, and a guessed number
    would be wrong in print.  Word fills them in on Update Field (F9); our PDF
    pass (`voceunica.docx.pdf`) fills them in from the laid-out pages."""
    # \u: any paragraph with an outline level, not only the built-in Heading styles; without it the
    # parallel text's English headings are in the navigation pane and the bookmarks, not in the contents
    instr = f'TOC \\o "1-{levels}" \\h \\z' + (" \\u" if by_outline_level else "")
    if not entries:
        return paragraph(style_ids[1], field_begin(instr, lang) + field_end(lang))
    out = []
    for i, (level, text, mark) in enumerate(entries):
        head = field_begin(instr, lang) if i == 0 else ""
        body = hyperlink(run(text, None, lang), anchor=mark)
        tail = field_end(lang) if i == len(entries) - 1 else ""
        out.append(paragraph(style_ids[level], head + body + tail))
    return "".join(out)


# --- footnotes ------------------------------------------------------------------------

def footnote_reference(fid: int, style_id: str, lang: str) -> str:
    return run_xml(f'<w:footnoteReference w:id="{fid}"/>', style_id, lang)


def footnote(fid: int, paragraphs: list[tuple[str, str]], ref_style: str, lang: str) -> str:
    """One footnote: [(paragraph style id, runs)]; the first paragraph starts with the mark."""
    out = []
    for i, (style, content) in enumerate(paragraphs):
        mark = (run_xml("<w:footnoteRef/>", ref_style, lang) + run("\u00a0", None, lang)) if i == 0 else ""
        out.append(paragraph(style, mark + content))
    return f'<w:footnote w:id="{fid}">{"".join(out)}</w:footnote>'


def footnotes_part(notes: list[str]) -> bytes:
    separators = ('<w:footnote w:type="separator" w:id="-1"><w:p><w:pPr><w:spacing w:after="0" w:line="240" '
                  'w:lineRule="auto"/></w:pPr><w:r><w:separator/></w:r></w:p></w:footnote>'
                  '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:pPr><w:spacing w:after="0" '
                  'w:line="240" w:lineRule="auto"/></w:pPr><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<w:footnotes {NSDECLS}>{separators}{"".join(notes)}</w:footnotes>').encode()


# --- pictures ---------------------------------------------------------------------------

def picture(rid: str, shape_id: int, name: str, alt: str, cx: int, cy: int) -> str:
    """An inline picture; `alt` goes to docPr/@descr, which Word shows as alt text."""
    return (
        f'<w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0"><wp:extent cx="{cx}" cy="{cy}"/>'
        f'<wp:effectExtent l="0" t="0" r="0" b="0"/>'
        f'<wp:docPr id="{shape_id}" name="{esc(name)}" descr="{esc(alt)}"/>'
        f'<wp:cNvGraphicFramePr><a:graphicFrameLocks noChangeAspect="1"/></wp:cNvGraphicFramePr>'
        f'<a:graphic><a:graphicData uri="{PIC_NS}"><pic:pic><pic:nvPicPr>'
        f'<pic:cNvPr id="{shape_id}" name="{esc(name)}" descr="{esc(alt)}"/><pic:cNvPicPr/></pic:nvPicPr>'
        f'<pic:blipFill><a:blip r:embed="{attr(rid)}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
        f'<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
        f'<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic>'
        f'</wp:inline></w:drawing>'
    )


# --- tables ------------------------------------------------------------------------------

def toc_page(mark: str, page: int, lang: str | None = None) -> str:
    """What goes after an entry's text once its page is known: tab, PAGEREF field."""
    return run_xml("<w:tab/>", None, lang) + field(f"PAGEREF {mark} \\h", str(page), lang)


def table(style_id: str, widths: list[int], rows: list[list[str]], *, header_rows: int = 1,
          cant_split: bool | frozenset[int] = False) -> str:
    """`rows`: each cell's inner XML (paragraphs).  The first `header_rows`
    rows repeat at the top of every page (w:tblHeader) and never split;
    with `cant_split` no row splits across pages either (w:cantSplit), or
    only the rows of those indexes."""
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    tblw = '<w:tblW w:w="5000" w:type="pct"/>'  # the full text width; the grid gives the proportions
    first = "1" if header_rows else "0"
    out = [f'<w:tbl><w:tblPr><w:tblStyle w:val="{attr(style_id)}"/>{tblw}<w:tblLayout w:type="fixed"/>'
           f'<w:tblLook w:val="04A0" w:firstRow="{first}" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" '
           f'w:noHBand="1" w:noVBand="1"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>']
    for i, cells in enumerate(rows):
        # cantSplit before tblHeader, in the order of the schema's CT_TrPrBase.
        whole = cant_split if isinstance(cant_split, bool) else i in cant_split
        trpr = ("<w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>" if i < header_rows
                else "<w:trPr><w:cantSplit/></w:trPr>" if whole else "")
        tcs = "".join(f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/></w:tcPr>{c}</w:tc>'
                      for w, c in zip(widths, cells, strict=True))
        out.append(f"<w:tr>{trpr}{tcs}</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)
