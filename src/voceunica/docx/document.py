"""Document assembly: cover, contents, body, header and footer, properties — one language or two side by side.

`single` writes one language; `parallel` sets Italian and English in two
columns, aligned section by section.  The body is written as text by the
writer and spliced into the package python-docx saves; `package.rezip` makes
the file byte-reproducible and checks every part well-formed.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING
from collections.abc import Callable, Mapping

from docx.oxml import parse_xml

from voceunica.docx import ooxml
from voceunica.docx.model import DocxError
from voceunica.docx.package import epoch_of, rezip
from voceunica.docx.styles import TEXT_WIDTH_TWIPS
from voceunica.docx.tree import Node as SyntaxTreeNode
from voceunica.docx.writer import LANG_TAGS, Lang, State, Writer

if TYPE_CHECKING:
    from docx.section import _BaseHeaderFooter

    from voceunica.docx.model import DocxMeta


def _make_lang(w: Writer, code: str, width: int, *, outline: bool = True, grid: bool = False) -> Lang:
    prefix = "Heading" if outline else "Parallel Heading"
    return Lang(code, LANG_TAGS[code], {n: w.sid(f"{prefix} {n}") for n in (1, 2, 3)}, width, in_outline=outline,
                in_grid=grid)


def single(markdown: str, meta: DocxMeta, reference: Path | bytes, images: Mapping[str, bytes]) -> bytes:
    w = Writer(reference, images)
    lang = _make_lang(w, meta.lang, TEXT_WIDTH_TWIPS)
    blocks, notes = w.parse(markdown)
    w.headings(blocks, lang)
    st = State(lang, notes)
    cover = _brief_head(w, [meta], lang) if meta.layout == "brief" else _cover(w, [meta], lang)
    body = w.blocks(blocks, st)
    body = body.replace("\x00TOC\x00", _toc(w, lang, ooxml.run(meta.labels["contents"], None, lang.tag)))
    return _finish(w, cover + body, meta, [meta])


def parallel(md_it: str, meta_it: DocxMeta, md_en: str, meta_en: DocxMeta, reference: Path | bytes,
             images: Mapping[str, bytes]) -> bytes:
    """Italian and English side by side, section by section, as EU parallel texts are."""
    w = Writer(reference, images)
    col = TEXT_WIDTH_TWIPS // 2
    cell_width = col - 2 * 113
    it = _make_lang(w, "it", cell_width, grid=True)
    en = _make_lang(w, "en", cell_width, outline=False, grid=True)
    blocks_it, notes_it = w.parse(md_it)
    blocks_en, notes_en = w.parse(md_en)
    seg_it, seg_en = _segments(blocks_it), _segments(blocks_en)
    if len(seg_it) != len(seg_en) or any(a[0] != b[0] for a, b in zip(seg_it, seg_en, strict=True)):
        raise DocxError(f"the Italian and English texts are not built alike ({len(seg_it)} and {len(seg_en)} "
                        "sections): they cannot be set side by side")
    w.headings(blocks_it, it)
    w.headings(blocks_en, en)
    st_it, st_en = State(it, notes_it), State(en, notes_en)
    head_it = w.blocks(seg_it[0][1], st_it)
    head_en = w.blocks(seg_en[0][1], st_en)
    toc_here = "\x00TOC\x00" in head_it
    # Each column is headed by the name of its language, in that language (the 'language' label).
    rows = [[ooxml.paragraph(w.sid("Parallel Language"), ooxml.run(meta_it.labels["language"], None, it.tag)),
             ooxml.paragraph(w.sid("Parallel Language"), ooxml.run(meta_en.labels["language"], None, en.tag))]]
    pre_it, pre_en = head_it.replace("\x00TOC\x00", ""), head_en.replace("\x00TOC\x00", "")
    if pre_it or pre_en:
        rows.append([_cell(pre_it), _cell(pre_en)])
    for (_, a), (_, b) in zip(seg_it[1:], seg_en[1:], strict=True):
        units_a, units_b = _units(a), _units(b)
        if [_shape(u) for u in units_a] != [_shape(u) for u in units_b]:
            units_a, units_b = [a], [b]  # built differently: align the section as a whole
        for ua, ub in zip(units_a, units_b, strict=True):
            rows.append([_cell(w.blocks(ua, st_it)), _cell(w.blocks(ub, st_en))])
    grid = ooxml.table(w.sid("Parallel Table"), [col, TEXT_WIDTH_TWIPS - col], rows, header_rows=1)
    cover = (_brief_head(w, [meta_it, meta_en], it) if meta_it.layout == "brief" else _cover(w, [meta_it, meta_en], it))
    contents = _joined([(meta_it.labels["contents"], it.tag), (meta_en.labels["contents"], en.tag)])
    toc = _toc(w, it, contents) if toc_here else ""
    return _finish(w, cover + toc + grid + ooxml.paragraph(w.sid("Body Text"), ""), meta_it, [meta_it, meta_en])


def _segments(blocks: list[SyntaxTreeNode]) -> list[tuple[str, list[SyntaxTreeNode]]]:
    """Split at every heading of level 1 or 2: (heading level signature, blocks)."""
    segs: list[tuple[str, list[SyntaxTreeNode]]] = [("", [])]
    for node in blocks:
        if node.type == "heading" and node.tag in ("h1", "h2"):
            segs.append((node.tag, []))
        segs[-1][1].append(node)
    return segs


def _units(blocks: list[SyntaxTreeNode]) -> list[list[SyntaxTreeNode]]:
    """Blocks grouped into what must stay together in one row: a directive with
    the block it applies to, a heading with the block after it."""
    units: list[list[SyntaxTreeNode]] = []
    carry: list[SyntaxTreeNode] = []
    for node in blocks:
        carry.append(node)
        if node.type in ("html_block", "heading"):
            continue
        units.append(carry)
        carry = []
    if carry:
        units.append(carry)
    return units


def _shape(unit: list[SyntaxTreeNode]) -> tuple[str, ...]:
    return tuple(n.type if n.type != "heading" else n.tag for n in unit)


def _cell(content: str) -> str:
    """A table cell must end with a paragraph."""
    if not content:
        return "<w:p/>"
    return content if content.endswith("</w:p>") else content + "<w:p/>"


def _toc(w: Writer, lang: Lang, heading: str) -> str:
    """`heading`: the runs of the contents' heading."""
    levels = {n: w.sid(f"TOC {n}") for n in (1, 2, 3)}
    return (ooxml.paragraph(w.sid("TOC Heading"), heading)
            + ooxml.toc(w.toc, levels, lang.tag, levels=w.toc_levels) + ooxml.page_break())


def _cover(w: Writer, metas: list[DocxMeta], lang: Lang) -> str:
    """Authors, title, the EU files addressed, date, version, status, contact."""
    m = metas[0]
    tagged = [(x, LANG_TAGS[x.lang]) for x in metas]  # each meta with its language tag
    out = [_logos(w, m, lang)] if any(a.logo is not None for a in m.authors) else []
    out.append(ooxml.paragraph(w.sid("Cover Doctype"), _joined([(x.doctype, t) for x, t in tagged])))
    out.extend(_titles(w, tagged))

    def label(key: str) -> str:
        return _joined([(x.labels[key], t) for x, t in tagged])

    def plain(text: str, tag: str = lang.tag) -> str:
        return ooxml.run(text, None, tag)

    # (label runs, [value runs, one paragraph each]); every text tagged with its own language
    rows: list[tuple[str, list[str]]] = []
    rows.append((label("eu_files"), [plain(line, t) for x, t in tagged for line in x.eu_files]))
    rows.append((label("date"), [_joined([(x.date_text, t) for x, t in tagged])]))
    rows.append((label("version"), [plain(m.version)]))
    rows.append((label("status"), [_joined([(x.status_text, t) for x, t in tagged])]))
    authors = []
    for i, a in enumerate(m.authors):
        for x, t in tagged:
            au = x.authors[i]
            authors.append(plain(au.line, t))
        if a.transparency_register:
            authors.append(label("transparency_register") + plain(f": {a.transparency_register}"))
    rows.append((label("authors"), authors))
    rows.append((label("contact"), [plain(line) for line in m.contact_lines]))
    label_w = 2400
    cells = []
    for name, values in rows:
        if not values:
            continue
        cells.append([ooxml.paragraph(w.sid("Cover Label"), name),
                      "".join(ooxml.paragraph(w.sid("Cover Text"), v) for v in values)])
    out.append(ooxml.table(w.sid("Cover Table"), [label_w, TEXT_WIDTH_TWIPS - label_w], cells, header_rows=0))
    out.append(ooxml.page_break())
    return "".join(out)


def _logos(w: Writer, m: DocxMeta, lang: Lang) -> str:
    """The regions' logos side by side, 1.76 cm high."""
    runs: list[str] = []
    for a in m.authors:
        if a.logo is None:
            continue
        rid, img = w.part.get_or_add_image(io.BytesIO(a.logo_data) if a.logo_data is not None else str(a.logo))
        cy = 1000 * ooxml.EMU_PER_TWIP
        cx = int(cy * img.px_width / img.px_height)
        w.shapes += 1
        if runs:
            runs.append(ooxml.run("\u2003\u2003", None, lang.tag))
        runs.append(ooxml.run_xml(ooxml.picture(rid, w.shapes, a.logo.name, f"Logo: {a.name}", cx, cy), None, lang.tag))
    return ooxml.paragraph(w.sid("Cover Logos"), "".join(runs))


def _brief_head(w: Writer, metas: list[DocxMeta], lang: Lang) -> str:
    """A position paper's first lines, as Brussels reads them: the logos and the
    authoring offices, the dateline, the document type and title, then whom it
    addresses and on what file, version and status, contact.  No cover page and no
    contents: the key messages follow on page 1."""
    m = metas[0]
    tagged = [(x, LANG_TAGS[x.lang]) for x in metas]  # each meta with its language tag
    out = [_logos(w, m, lang)] if any(a.logo is not None for a in m.authors) else []

    def joined(pick: Callable[[DocxMeta], str]) -> str:
        return _joined([(pick(x), t) for x, t in tagged])

    offices = ooxml.run(" \u00b7 ", None, lang.tag).join(
        _joined([(x.authors[i].line, t) for x, t in tagged]) for i in range(len(m.authors)))
    out.append(ooxml.paragraph(w.sid("Cover Text"), offices))
    out.append(ooxml.paragraph(w.sid("Cover Text"), joined(lambda x: x.dateline)))
    out.append(ooxml.paragraph(w.sid("Cover Doctype"), joined(lambda x: x.doctype)))
    out.extend(_titles(w, tagged))

    def label(key: str) -> str:
        return joined(lambda x: x.labels[key])

    rows: list[tuple[str, list[str]]] = [
        (label("audience"), [joined(lambda x: x.audience)]),
        (label("eu_files"), [ooxml.run(line, None, t) for x, t in tagged for line in x.eu_files]),
        (label("version") + ooxml.run(" \u00b7 ", None, lang.tag) + label("status"),
         [ooxml.run(m.version, None, lang.tag) + ooxml.run(" \u00b7 ", None, lang.tag)
          + joined(lambda x: x.status_text)]),
        (label("contact"), [ooxml.run(", ".join(m.contact_lines), None, lang.tag)]),
    ]
    label_w = 2000
    cells = [[ooxml.paragraph(w.sid("Cover Label"), name),
              "".join(ooxml.paragraph(w.sid("Cover Text"), v) for v in values)] for name, values in rows if values]
    out.append(ooxml.table(w.sid("Cover Table"), [label_w, TEXT_WIDTH_TWIPS - label_w], cells, header_rows=0))
    return "".join(out)


def _titles(w: Writer, tagged: list[tuple[DocxMeta, str]]) -> list[str]:
    """Each language's title, then each language's subtitle where it has one."""
    return ([ooxml.paragraph(w.sid("Title"), ooxml.run(x.title, None, t)) for x, t in tagged]
            + [ooxml.paragraph(w.sid("Subtitle"), ooxml.run(x.subtitle, None, t)) for x, t in tagged if x.subtitle])


def _joined(items: list[tuple[str, str]]) -> str:
    seen: list[tuple[str, str]] = []
    for text, tag in items:
        if text not in [s for s, _ in seen]:
            seen.append((text, tag))
    return ooxml.run(" / ", None, seen[0][1]).join(ooxml.run(t, None, tag) for t, tag in seen)


def _header_footer(w: Writer, metas: list[DocxMeta]) -> None:
    m = metas[0]
    tag = LANG_TAGS[m.lang]
    section = w.doc.sections[0]
    section.different_first_page_header_footer = True
    tagged = [(x, LANG_TAGS[x.lang]) for x in metas]  # each meta with its language tag
    # 'BOZZA' / 'DRAFT', or 'BOZZA / DRAFT' over the parallel text
    draft = ooxml.paragraph(w.sid("Draft Marking"), _joined([(x.labels["draft_marking"], t) for x, t in tagged])) \
        if m.draft else ""
    short = _joined([(x.short_title, t) for x, t in tagged])
    version = _joined([(x.labels["version"], t) for x, t in tagged]) + ooxml.run(f" {m.version}", None, tag)
    head = ooxml.paragraph(w.sid("Header"), short + ooxml.run_xml("<w:tab/>", None, tag) + version)
    page = (ooxml.run(f"{m.labels['page']} ", None, tag) + ooxml.field("PAGE", "1", tag)
            + ooxml.run(f" {m.labels['of']} ", None, tag) + ooxml.field("NUMPAGES", "1", tag))
    foot = ooxml.paragraph(w.sid("Footer"), page)
    _fill(section.header, draft + head)
    _fill(section.footer, foot)
    _fill(section.first_page_header, draft or ooxml.paragraph(w.sid("Header"), ""))
    # A cover has no page number; a brief's first page is a page of the text and has one.
    _fill(section.first_page_footer, foot if m.layout == "brief" else ooxml.paragraph(w.sid("Footer"), ""))


def _fill(story: _BaseHeaderFooter, xml: str) -> None:
    story.is_linked_to_previous = False
    el = story._element
    for child in list(el):
        el.remove(child)
    for child in parse_xml(f"<w:hdr {ooxml.NSDECLS}>{xml}</w:hdr>"):
        el.append(child)


_BODY_MARK = "@@voceunica-body@@"


def _finish(w: Writer, body_xml: str, meta: DocxMeta, metas: list[DocxMeta]) -> bytes:
    # The body is written as text and never parsed into python-docx: a marker
    # paragraph stands in for it and is replaced in the saved document.xml.  An
    # annex of 10 000 rows is some 300 000 elements; parsing and re-serialising
    # them cost more time and memory than everything else together.
    body = w.doc.element.body
    for child in list(body):
        if child is not body.sectPr:
            body.remove(child)
    body.insert(0, parse_xml(f"<w:p {ooxml.NSDECLS}><w:r><w:t>{_BODY_MARK}</w:t></w:r></w:p>"))
    _header_footer(w, metas)
    w.notes_part._blob = ooxml.footnotes_part(w.footnotes)
    _language(w, LANG_TAGS[meta.lang])
    _properties(w, meta, metas)
    buf = io.BytesIO()
    w.doc.save(buf)
    return rezip(buf.getvalue(), epoch_of(meta.created), {"word/document.xml": lambda xml: _splice_body(xml, body_xml)})


def _splice_body(xml: bytes, body_xml: str) -> bytes:
    at = xml.index(_BODY_MARK.encode())
    start = xml.rindex(b"<w:p", 0, at)
    end = xml.index(b"</w:p>", at) + len(b"</w:p>")
    root_end = xml.index(b">", xml.index(b"<w:document"))
    root = xml[:root_end]
    decls = "".join(f" {d}" for d in ooxml.NSDECLS.split() if d.split("=")[0].encode() + b"=" not in root)
    return root + decls.encode() + xml[root_end:start] + body_xml.encode("utf-8") + xml[end:]


def _language(w: Writer, tag: str) -> None:
    """The document's default language, for text Word adds later (spell-checking)."""
    ns = f"{{{ooxml.W_NS}}}"
    for lang in w.doc.styles.element.iter(f"{ns}lang"):
        if lang.getparent() is not None and lang.getparent().getparent() is not None \
                and lang.getparent().getparent().tag == f"{ns}rPrDefault":
            lang.set(f"{ns}val", tag)
    settings = w.doc.settings.element
    tfl = settings.find(f"{ns}themeFontLang")
    if tfl is not None:
        tfl.set(f"{ns}val", tag)


def _properties(w: Writer, meta: DocxMeta, metas: list[DocxMeta]) -> None:
    from voceunica import __version__

    cp = w.doc.core_properties
    cp.title = " / ".join(dict.fromkeys(x.title for x in metas))
    cp.subject = " / ".join(dict.fromkeys(x.doctype for x in metas))
    cp.author = "; ".join(a.name for a in meta.authors)
    cp.last_modified_by = "voceunica"
    cp.keywords = ", ".join(dict.fromkeys(meta.keywords))
    cp.language = LANG_TAGS[meta.lang]
    cp.category = meta.doctype
    cp.comments = f"{meta.labels['version']} {meta.version} – voceunica {__version__}"
    cp.content_status = meta.status_text
    cp.identifier = meta.identifier
    cp.version = meta.version
    cp.revision = 1
    cp.created = meta.created
    cp.modified = meta.created

