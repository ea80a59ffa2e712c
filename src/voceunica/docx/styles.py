"""The Word styles the DOCX writer uses, and their default look.

The writer applies *named* styles only (no direct formatting), so an office
restyles a dossier by editing `templates/reference.docx` in Word.  This
module is the single list of those names — `check` verifies that the
reference document defines each one — and holds the XML that
`python -m voceunica.docx.reference` writes into a fresh reference document.

Kept free of python-docx and lxml so `voceunica check` imports it cheaply.
"""

from __future__ import annotations

import re

# Text width of an A4 page with 2.5 cm margins, in twentieths of a point.
TEXT_WIDTH_TWIPS = 9071
# … and its text height (A4's 16 838 less the top and bottom margins).
TEXT_HEIGHT_TWIPS = 14002

PARAGRAPH = [
    "Normal", "Body Text", "Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3",
    "Parallel Heading 1", "Parallel Heading 2", "Parallel Heading 3",
    "List Bullet", "List Bullet 2", "List Number", "List Number 2", "List Continue", "Quote",
    "Caption", "Source", "Figure", "Rule", "Source Code", "Footnote Text", "Header", "Footer",
    "TOC Heading", "TOC 1", "TOC 2", "TOC 3",
    "Cover Doctype", "Cover Label", "Cover Text", "Cover Logos", "Draft Marking",
    "Table Text", "Table Number", "Table Heading", "Table Heading Number", "Parallel Language",
]
CHARACTER = ["Strong", "Emphasis", "Strong Emphasis", "Verbatim Char", "Hyperlink", "Footnote Reference"]
TABLE = ["Annex Table", "Amendment Table", "Parallel Table", "Cover Table"]


# The labels (templates/labels.yaml) the writer prints itself: cover, contents, header, footer.
LABELS = ("contents", "page", "of", "version", "date", "status", "contact", "eu_files", "authors",
          "transparency_register", "draft_marking", "language",
          "audience")


def style_id(name: str) -> str:
    """Word's convention: the name without spaces ('Heading 1' → 'Heading1')."""
    return name.replace(" ", "")


def required_styles() -> list[str]:
    return PARAGRAPH + CHARACTER + TABLE


# --- the default look ---------------------------------------------------------------
# Colours: a dark institutional blue for structure, greys for apparatus.
BLUE = "1F3864"
GREY = "595959"
LIGHT = "BFBFBF"
RED = "C00000"
FONT = "Arial"  # LibreOffice substitutes the metric-compatible Liberation Sans
MONO = "Courier New"

_P = {
    # name: (basedOn, next, pPr, rPr, extra)   pPr / rPr are inner XML
    "Normal": (None, None, "", "", "<w:qFormat/>"),
    "Body Text": ("Normal", None, '<w:spacing w:before="0" w:after="140"/>', "", "<w:qFormat/>"),
    "Title": ("Normal", "Subtitle", '<w:spacing w:before="240" w:after="200" w:line="240" w:lineRule="auto"/>',
              f'<w:b/><w:color w:val="{BLUE}"/><w:sz w:val="48"/>', "<w:qFormat/>"),
    "Subtitle": ("Normal", "Body Text", '<w:spacing w:before="0" w:after="240"/>',
                 f'<w:color w:val="{GREY}"/><w:sz w:val="30"/>', "<w:qFormat/>"),
    "Heading 1": ("Normal", "Body Text",
                  f'<w:keepNext/><w:keepLines/><w:pBdr><w:bottom w:val="single" w:sz="6" w:space="2" '
                  f'w:color="{BLUE}"/></w:pBdr><w:spacing w:before="360" w:after="160"/><w:outlineLvl w:val="0"/>',
                  f'<w:b/><w:color w:val="{BLUE}"/><w:sz w:val="30"/>', "<w:uiPriority w:val=\"9\"/><w:qFormat/>"),
    "Heading 2": ("Normal", "Body Text",
                  '<w:keepNext/><w:keepLines/><w:spacing w:before="280" w:after="100"/><w:outlineLvl w:val="1"/>',
                  f'<w:b/><w:color w:val="{BLUE}"/><w:sz w:val="25"/>', "<w:uiPriority w:val=\"9\"/><w:qFormat/>"),
    "Heading 3": ("Normal", "Body Text",
                  '<w:keepNext/><w:keepLines/><w:spacing w:before="220" w:after="80"/><w:outlineLvl w:val="2"/>',
                  f'<w:b/><w:color w:val="{GREY}"/><w:sz w:val="22"/>', "<w:uiPriority w:val=\"9\"/><w:qFormat/>"),
    # The English column of a parallel text: a heading with its outline level, so it is in
    # Word's navigation pane and the PDF's bookmarks; a style of its own, not a Heading, so
    # the contents (a TOC field on the Heading styles, without \u) list each section once.
    "Parallel Heading 1": ("Heading 1", "Body Text", "", "", ""),
    "Parallel Heading 2": ("Heading 2", "Body Text", "", "", ""),
    "Parallel Heading 3": ("Heading 3", "Body Text", "", "", ""),
    "List Bullet": ("Body Text", None, '<w:numPr><w:numId w:val="1"/></w:numPr><w:spacing w:after="80"/>'
                    '<w:ind w:left="360" w:hanging="360"/>', "", ""),
    "List Bullet 2": ("Body Text", None, '<w:numPr><w:ilvl w:val="1"/><w:numId w:val="1"/></w:numPr>'
                      '<w:spacing w:after="60"/><w:ind w:left="720" w:hanging="360"/>', "", ""),
    "List Number": ("Body Text", None, '<w:numPr><w:numId w:val="2"/></w:numPr><w:spacing w:after="80"/>'
                    '<w:ind w:left="360" w:hanging="360"/>', "", ""),
    "List Number 2": ("Body Text", None, '<w:numPr><w:ilvl w:val="1"/><w:numId w:val="2"/></w:numPr>'
                      '<w:spacing w:after="60"/><w:ind w:left="720" w:hanging="360"/>', "", ""),
    "List Continue": ("Body Text", None, '<w:spacing w:after="80"/><w:ind w:left="360"/>', "", ""),
    "Quote": ("Body Text", None, f'<w:pBdr><w:left w:val="single" w:sz="18" w:space="8" w:color="{RED}"/></w:pBdr>'
              '<w:ind w:left="227" w:right="227"/>', "", "<w:qFormat/>"),
    "Caption": ("Normal", None, '<w:keepNext/><w:spacing w:before="200" w:after="80"/>',
                f'<w:b/><w:color w:val="{BLUE}"/><w:sz w:val="18"/>', "<w:qFormat/>"),
    "Source": ("Normal", "Body Text", '<w:spacing w:before="60" w:after="240"/>',
               f'<w:i/><w:color w:val="{GREY}"/><w:sz w:val="16"/>', ""),
    # keeps with the caption after it where it has one (document._keep_together), not with anything
    "Figure": ("Normal", None, '<w:spacing w:before="120" w:after="0"/><w:jc w:val="center"/>', "", ""),
    "Rule": ("Normal", None, f'<w:pBdr><w:bottom w:val="single" w:sz="4" w:space="1" w:color="{LIGHT}"/></w:pBdr>'
             '<w:spacing w:after="200"/>', "", ""),
    "Source Code": ("Normal", None, '<w:spacing w:after="0" w:line="240" w:lineRule="auto"/>'
                    '<w:ind w:left="284"/>', f'<w:rFonts w:ascii="{MONO}" w:hAnsi="{MONO}"/><w:sz w:val="18"/>', ""),
    "Footnote Text": ("Normal", None, '<w:spacing w:after="40" w:line="240" w:lineRule="auto"/>'
                      '<w:ind w:left="170" w:hanging="170"/>', '<w:sz w:val="16"/>', ""),
    "Header": ("Normal", None, f'<w:tabs><w:tab w:val="right" w:pos="{TEXT_WIDTH_TWIPS}"/></w:tabs>'
               '<w:spacing w:after="0"/>', f'<w:color w:val="{GREY}"/><w:sz w:val="16"/>', ""),
    "Footer": ("Normal", None, '<w:spacing w:after="0"/><w:jc w:val="center"/>',
               f'<w:color w:val="{GREY}"/><w:sz w:val="16"/>', ""),
    "TOC Heading": ("Normal", "TOC 1", '<w:keepNext/><w:pageBreakBefore/><w:spacing w:before="0" w:after="240"/>',
                    f'<w:b/><w:color w:val="{BLUE}"/><w:sz w:val="30"/>', ""),
    "TOC 1": ("Normal", None, f'<w:tabs><w:tab w:val="right" w:leader="dot" w:pos="{TEXT_WIDTH_TWIPS}"/></w:tabs>'
              '<w:spacing w:before="120" w:after="40"/>', "<w:b/>", ""),
    "TOC 2": ("Normal", None, f'<w:tabs><w:tab w:val="right" w:leader="dot" w:pos="{TEXT_WIDTH_TWIPS}"/></w:tabs>'
              '<w:spacing w:after="40"/><w:ind w:left="284"/>', "", ""),
    "TOC 3": ("Normal", None, f'<w:tabs><w:tab w:val="right" w:leader="dot" w:pos="{TEXT_WIDTH_TWIPS}"/></w:tabs>'
              '<w:spacing w:after="20"/><w:ind w:left="567"/>', '<w:sz w:val="18"/>', ""),
    "Cover Doctype": ("Normal", "Title", '<w:spacing w:before="480" w:after="120"/>',
                      f'<w:caps/><w:color w:val="{GREY}"/><w:spacing w:val="20"/><w:sz w:val="24"/>', ""),
    "Cover Label": ("Normal", None, '<w:spacing w:before="40" w:after="40"/>',
                    f'<w:b/><w:caps/><w:color w:val="{GREY}"/><w:sz w:val="16"/>', ""),
    "Cover Text": ("Normal", None, '<w:spacing w:before="40" w:after="40"/>', '<w:sz w:val="20"/>', ""),
    "Cover Logos": ("Normal", None, '<w:spacing w:after="0"/>', "", ""),
    "Draft Marking": ("Normal", None, '<w:spacing w:before="0" w:after="60"/><w:jc w:val="center"/>',
                      f'<w:b/><w:color w:val="{RED}"/><w:spacing w:val="40"/><w:sz w:val="20"/>', ""),
    "Table Text": ("Normal", None, '<w:spacing w:before="20" w:after="20" w:line="240" w:lineRule="auto"/>',
                   '<w:sz w:val="18"/>', ""),
    "Table Number": ("Table Text", None, '<w:jc w:val="right"/>', "", ""),
    "Table Heading": ("Table Text", None, '<w:keepNext/>', "<w:b/>", ""),
    "Table Heading Number": ("Table Heading", None, '<w:jc w:val="right"/>', "", ""),
    "Parallel Language": ("Table Heading", None, "", f'<w:caps/><w:color w:val="{GREY}"/>', ""),
}

_C = {
    "Strong": "<w:b/>",
    "Emphasis": "<w:i/>",
    "Strong Emphasis": "<w:b/><w:i/>",
    "Verbatim Char": f'<w:rFonts w:ascii="{MONO}" w:hAnsi="{MONO}"/><w:sz w:val="19"/>',
    "Hyperlink": '<w:color w:val="0563C1"/><w:u w:val="single"/>',
    "Footnote Reference": '<w:vertAlign w:val="superscript"/>',
}

_MARGINS = '<w:tblCellMar><w:top w:w="45" w:type="dxa"/><w:left w:w="85" w:type="dxa"/>' \
           '<w:bottom w:w="45" w:type="dxa"/><w:right w:w="85" w:type="dxa"/></w:tblCellMar>'

_T = {
    "Annex Table": (
        f'<w:tblBorders><w:top w:val="single" w:sz="8" w:space="0" w:color="{BLUE}"/>'
        f'<w:bottom w:val="single" w:sz="8" w:space="0" w:color="{BLUE}"/>'
        f'<w:insideH w:val="single" w:sz="4" w:space="0" w:color="{LIGHT}"/></w:tblBorders>{_MARGINS}',
        f'<w:tblStylePr w:type="firstRow"><w:rPr><w:b/></w:rPr><w:tcPr><w:tcBorders>'
        f'<w:bottom w:val="single" w:sz="8" w:space="0" w:color="{BLUE}"/></w:tcBorders>'
        f'<w:shd w:val="clear" w:color="auto" w:fill="DEE6F0"/></w:tcPr></w:tblStylePr>',
    ),
    "Amendment Table": (
        f'<w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="{GREY}"/>'
        f'<w:left w:val="single" w:sz="4" w:space="0" w:color="{GREY}"/>'
        f'<w:bottom w:val="single" w:sz="4" w:space="0" w:color="{GREY}"/>'
        f'<w:right w:val="single" w:sz="4" w:space="0" w:color="{GREY}"/>'
        f'<w:insideH w:val="single" w:sz="4" w:space="0" w:color="{GREY}"/>'
        f'<w:insideV w:val="single" w:sz="4" w:space="0" w:color="{GREY}"/></w:tblBorders>{_MARGINS}',
        '<w:tblStylePr w:type="firstRow"><w:rPr><w:b/></w:rPr><w:tcPr>'
        '<w:shd w:val="clear" w:color="auto" w:fill="EDEDED"/></w:tcPr></w:tblStylePr>',
    ),
    "Parallel Table": (
        f'<w:tblBorders><w:insideV w:val="single" w:sz="4" w:space="0" w:color="{LIGHT}"/></w:tblBorders>'
        '<w:tblCellMar><w:left w:w="113" w:type="dxa"/><w:right w:w="113" w:type="dxa"/></w:tblCellMar>',
        f'<w:tblStylePr w:type="firstRow"><w:tcPr><w:tcBorders><w:bottom w:val="single" w:sz="6" w:space="0" '
        f'w:color="{BLUE}"/></w:tcBorders></w:tcPr></w:tblStylePr>',
    ),
    "Cover Table": (f'<w:tblBorders><w:insideH w:val="single" w:sz="4" w:space="0" w:color="{LIGHT}"/>'
                    f'</w:tblBorders>{_MARGINS}', ""),
}


def styles_xml(lang: str = "it-IT") -> str:
    """word/styles.xml of a fresh reference document."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f'<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="{FONT}" w:eastAsia="{FONT}" w:hAnsi="{FONT}" '
        f'w:cs="{FONT}"/><w:sz w:val="21"/><w:szCs w:val="21"/><w:lang w:val="{lang}" w:eastAsia="en-US" '
        'w:bidi="ar-SA"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:widowControl/>'
        '<w:spacing w:after="120" w:line="264" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>'
    ]
    for name, (based, nxt, ppr, rpr, extra) in _P.items():
        default = ' w:default="1"' if name == "Normal" else ""
        parts.append(
            f'<w:style w:type="paragraph"{default} w:styleId="{style_id(name)}"><w:name w:val="{_lower(name)}"/>'
            + (f'<w:basedOn w:val="{style_id(based)}"/>' if based else "")
            + (f'<w:next w:val="{style_id(nxt)}"/>' if nxt else "")
            + extra + (f"<w:pPr>{ppr}</w:pPr>" if ppr else "") + (f"<w:rPr>{rpr}</w:rPr>" if rpr else "")
            + "</w:style>")
    parts.append('<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont">'
                 '<w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/></w:style>')
    for name, rpr in _C.items():
        parts.append(f'<w:style w:type="character" w:styleId="{style_id(name)}"><w:name w:val="{_lower(name)}"/>'
                     f'<w:basedOn w:val="DefaultParagraphFont"/><w:qFormat/><w:rPr>{rpr}</w:rPr></w:style>')
    parts.append('<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/>'
                 '<w:semiHidden/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/>'
                 '<w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/>'
                 '</w:tblCellMar></w:tblPr></w:style>')
    for name, (tblpr, extra) in _T.items():
        parts.append(f'<w:style w:type="table" w:styleId="{style_id(name)}"><w:name w:val="{name}"/>'
                     f'<w:basedOn w:val="TableNormal"/><w:pPr><w:spacing w:after="0"/></w:pPr>'
                     f'<w:tblPr>{tblpr}</w:tblPr>{extra}</w:style>')
    parts.append('<w:style w:type="numbering" w:default="1" w:styleId="NoList"><w:name w:val="No List"/>'
                 '<w:semiHidden/></w:style>')
    parts.append("</w:styles>")
    return "".join(parts)


_LOWER = {"Caption", "Header", "Footer", "Heading 1", "Heading 2", "Heading 3", "TOC 1", "TOC 2", "TOC 3",
          "Footnote Text", "Footnote Reference"}


def _lower(name: str) -> str:
    """Word stores some built-in style names in lower case ('heading 1', 'toc 1')
    and shows them localised; the writer matches names case-insensitively."""
    return name.lower() if name in _LOWER else name


def numbering_xml() -> str:
    """Bullets (numId 1) and decimal numbers (numId 2), two levels each."""
    def level(ilvl: int, fmt: str, text: str, font: str | None) -> str:
        rpr = f'<w:rPr><w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:hint="default"/></w:rPr>' if font else ""
        left = 360 * (ilvl + 1)
        return (f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/><w:lvlText w:val="{text}"/>'
                f'<w:lvlJc w:val="left"/><w:pPr><w:ind w:left="{left}" w:hanging="360"/></w:pPr>{rpr}</w:lvl>')

    bullets = "".join(level(i, "bullet", ch, font) for i, (ch, font) in
                      enumerate([("\u2022", "Arial"), ("\u2013", "Arial")]))
    numbers = "".join(level(i, fmt, f"%{i + 1}{sep}", None) for i, (fmt, sep) in
                      enumerate([("decimal", "."), ("lowerLetter", ")")]))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<w:numbering xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f'<w:abstractNum w:abstractNumId="1"><w:multiLevelType w:val="hybridMultilevel"/>{bullets}</w:abstractNum>'
            f'<w:abstractNum w:abstractNumId="2"><w:multiLevelType w:val="hybridMultilevel"/>{numbers}</w:abstractNum>'
            '<w:num w:numId="1"><w:abstractNumId w:val="1"/></w:num>'
            '<w:num w:numId="2"><w:abstractNumId w:val="2"/></w:num>'
            '</w:numbering>')


_STYLE_NAME = re.compile(rb'<w:name w:val="([^"]+)"')
MAX_STYLES_BYTES = 20_000_000  # a styles part larger than this is a zip bomb, not styles


def missing_styles(reference: bytes) -> list[str] | None:
    """The styles the writer needs that a reference document lacks (names as
    `required_styles` spells them); None when it is not a Word document at all.
    Read from the zip (package.read_part), not with python-docx, so `check` stays fast."""
    from voceunica.docx.package import read_part

    styles = read_part(reference, "word/styles.xml", limit=MAX_STYLES_BYTES)
    if styles is None:
        return None
    present = {m.decode("utf-8", "replace").lower() for m in _STYLE_NAME.findall(styles)}
    return [name for name in required_styles() if name.lower() not in present]

