"""Redline: a dossier as a Word file with real tracked changes between two revisions.

Both revisions are rendered by the normal pipeline (with today's templates,
so the redline shows changes of content, not of layout); the two
document.xml bodies are then aligned block by block and, inside changed
paragraphs, word by word.  What was removed goes into `w:del` (text as
`w:delText`), what was added into `w:ins`, each with author and date, so in
Word or LibreOffice "Accept all" gives exactly the new text and "Reject
all" exactly the old.  `accept()` / `reject()` apply the same operations to
the XML, for tests and for a self-check before anything is written.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from difflib import SequenceMatcher
from collections.abc import Iterator

from lxml import etree

from voceunica.docx.model import DocxError
from voceunica.docx.ooxml import A_NS, CT_NS, PIC_NS, PKG_R_NS, R_NS, RT_IMAGE, WP_NS, XML_NS
from voceunica.docx.ooxml import W_NS as W  # noqa: F401  (rl.W, as the tests read it)
from voceunica.docx.ooxml import qn as q
from voceunica.docx.package import read_parts, stamp_of, write_parts


WORD = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)
SKIP_IN_P = {q("pPr")}
MARKS = {q("bookmarkStart"), q("bookmarkEnd"), q("proofErr"), q("permStart"), q("permEnd")}


class Tracker:
    """Makes w:ins / w:del elements with unique ids, one author and one date."""

    def __init__(self, author: str, date: dt.datetime, start_id: int = 90000) -> None:
        self.author = author
        self.date = date.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.next_id = start_id

    def mark(self, kind: str) -> etree._Element:
        el = etree.Element(q(kind))
        el.set(q("id"), str(self.next_id))
        el.set(q("author"), self.author)
        el.set(q("date"), self.date)
        self.next_id += 1
        return el


class Token:
    """One comparable piece of a paragraph: a word, a space, or an atomic element."""

    __slots__ = ("key", "text", "rpr", "elem", "kind")

    def __init__(self, key: str, text: str | None, rpr: etree._Element | None, elem: etree._Element | None,
                 kind: str) -> None:
        self.key, self.text, self.rpr, self.elem, self.kind = key, text, rpr, elem, kind


class Footnotes:
    """Texts of a footnotes part by id, so references compare by what they say."""

    def __init__(self, xml: bytes | None) -> None:
        self.root = etree.fromstring(xml) if xml else None
        self.by_id: dict[str, etree._Element] = {}
        if self.root is not None:
            for fn in self.root.findall(q("footnote")):
                self.by_id[fn.get(q("id"), "")] = fn

    def text(self, fid: str) -> str:
        fn = self.by_id.get(fid)
        return "".join(fn.itertext()) if fn is not None else f"#{fid}"


def _style(rpr: etree._Element | None) -> str:
    if rpr is None:
        return ""
    s = rpr.find(q("rStyle"))
    flags = [c.tag.split("}")[1] for c in rpr if c.tag in (q("b"), q("i"), q("vertAlign"))]
    return (s.get(q("val")) if s is not None else "") + "+".join(flags)


def tokens(p: etree._Element, notes: Footnotes) -> list[Token]:
    out: list[Token] = []
    for child in p:
        if child.tag in SKIP_IN_P or child.tag in MARKS:
            continue
        if child.tag == q("r"):
            rpr = child.find(q("rPr"))
            for el in child:
                if el.tag == q("rPr"):
                    continue
                if el.tag == q("t"):
                    for m in WORD.finditer(el.text or ""):
                        out.append(Token(f"t:{_style(rpr)}:{m.group()}", m.group(), rpr, None, "text"))
                elif el.tag == q("footnoteReference"):
                    fid = el.get(q("id"), "")
                    out.append(Token(f"fn:{notes.text(fid)}", None, rpr, el, "footnote"))
                else:
                    out.append(Token(f"e:{etree.tostring(el, method='c14n').decode()}", None, rpr, el, "elem"))
        else:  # hyperlinks, simple fields, smart tags: compared and carried whole
            out.append(Token(f"b:{etree.tostring(child, method='c14n').decode()}", None, None, child, "block"))
    return out


def _run(rpr: etree._Element | None, inner: etree._Element) -> etree._Element:
    r = etree.Element(q("r"))
    if rpr is not None:
        r.append(copy.deepcopy(rpr))
    r.append(inner)
    return r


def _text_el(text: str, deleted: bool) -> etree._Element:
    el = etree.Element(q("delText" if deleted else "t"))
    el.text = text
    el.set(q("space", XML_NS), "preserve")
    return el


A_BLIP = q("blip", A_NS)
WP_DOCPR = q("docPr", WP_NS)
PIC_CNVPR = q("cNvPr", PIC_NS)


class Images:
    """Pictures of the old revision that a deletion still shows: each is copied
    into the new package under a relationship of its own, so "Reject all"
    brings the old chart back and nothing points into the other file."""

    def __init__(self, old_parts: dict[str, bytes], new_parts: dict[str, bytes]) -> None:
        self.old_parts, self.new_parts = old_parts, new_parts
        self.old_rels = {r.get("Id"): r.get("Target") for r in
                         etree.fromstring(old_parts["word/_rels/document.xml.rels"])} \
            if "word/_rels/document.xml.rels" in old_parts else {}
        self.rels = etree.fromstring(new_parts["word/_rels/document.xml.rels"])
        self.adopted: dict[str, str] = {}
        self.shape = 95000

    def adopt(self, drawing: etree._Element) -> bool:
        """Point `drawing` (from the old document) at a copy of its picture; False if it cannot be."""
        for blip in drawing.iter(A_BLIP):
            old_rid = blip.get(q("embed", R_NS), "")
            if old_rid not in self.adopted:
                target = self.old_rels.get(old_rid)
                if not target or (data := self.old_parts.get(f"word/{target}")) is None:
                    return False
                n = len(self.adopted) + 1
                name = f"media/redline-old-{n}{target[target.rfind('.'):] if '.' in target else ''}"
                self.new_parts[f"word/{name}"] = data
                rid = f"rIdRedline{n}"
                etree.SubElement(self.rels, q("Relationship", PKG_R_NS), Id=rid, Type=RT_IMAGE, Target=name)
                self.adopted[old_rid] = rid
            blip.set(q("embed", R_NS), self.adopted[old_rid])
        for el in list(drawing.iter(WP_DOCPR)) + list(drawing.iter(PIC_CNVPR)):
            self.shape += 1
            el.set("id", str(self.shape))
        return True

    def save(self) -> None:
        self.new_parts["word/_rels/document.xml.rels"] = etree.tostring(self.rels, xml_declaration=True,
                                                                       encoding="UTF-8", standalone=True)


class Merger:
    def __init__(self, tracker: Tracker, old_notes: Footnotes, new_notes: Footnotes,
                 images: Images | None = None) -> None:
        self.t = tracker
        self.old_notes = old_notes
        self.new_notes = new_notes
        self.images = images
        self.next_note = 80000

    # --- whole blocks -----------------------------------------------------------
    def mark_block(self, block: etree._Element, kind: str) -> etree._Element:
        """A copy of `block` with everything in it inserted (kind='ins') or deleted ('del')."""
        el = copy.deepcopy(block)
        for p in list(el.iter(q("p"))):
            self._mark_paragraph(p, kind)
        for tr in el.iter(q("tr")):
            trpr = tr.find(q("trPr"))
            if trpr is None:
                trpr = etree.Element(q("trPr"))
                tr.insert(1 if tr.find(q("tblPrEx")) is not None else 0, trpr)
            trpr.append(self.t.mark(kind))
        return el

    def _mark_paragraph(self, p: etree._Element, kind: str) -> None:
        deleted = kind == "del"
        for child in list(p):
            if child.tag in SKIP_IN_P:
                continue
            if child.tag in MARKS:
                if deleted:
                    p.remove(child)
                continue
            if child.tag == q("r"):
                self._retag_run(child, deleted)
                wrapper = self.t.mark(kind)
                p.replace(child, wrapper)
                wrapper.append(child)
            elif deleted:  # a deleted hyperlink or field: keep its runs, deleted, without the link
                idx = p.index(child)
                p.remove(child)
                for r in child.iter(q("r")):
                    self._retag_run(r, True)
                    wrapper = self.t.mark("del")
                    wrapper.append(copy.deepcopy(r))
                    p.insert(idx, wrapper)
                    idx += 1
            else:  # an inserted hyperlink: the runs inside it are the insertion
                for r in list(child.findall(q("r"))):
                    wrapper = self.t.mark("ins")
                    child.replace(r, wrapper)
                    wrapper.append(r)
        ppr = p.find(q("pPr"))
        if ppr is None:
            ppr = etree.Element(q("pPr"))
            p.insert(0, ppr)
        rpr = ppr.find(q("rPr"))
        if rpr is None:
            rpr = etree.SubElement(ppr, q("rPr"))
        rpr.insert(0, self.t.mark(kind))

    def _retag_run(self, r: etree._Element, deleted: bool) -> None:
        for el in list(r):
            if deleted and el.tag == q("t"):
                el.tag = q("delText")
            elif deleted and el.tag == q("instrText"):
                el.tag = q("delInstrText")
            elif deleted and el.tag == q("drawing"):
                if self.images is None or not self.images.adopt(el):
                    r.remove(el)  # its picture cannot be carried over: the deletion shows no image
            elif deleted and el.tag == q("footnoteReference"):
                el.set(q("id"), self._adopt_note(el.get(q("id"), "")))

    def _adopt_note(self, old_id: str) -> str:
        """Copy a footnote of the old revision into the new footnotes part."""
        old = self.old_notes.by_id.get(old_id)
        if old is None or self.new_notes.root is None:
            return old_id
        self.next_note += 1
        fn = copy.deepcopy(old)
        fn.set(q("id"), str(self.next_note))
        self.new_notes.root.append(fn)
        self.new_notes.by_id[str(self.next_note)] = fn
        return str(self.next_note)

    # --- changed paragraphs -----------------------------------------------------
    def merge_paragraph(self, old: etree._Element, new: etree._Element) -> etree._Element:
        a, b = tokens(old, self.old_notes), tokens(new, self.new_notes)
        out = etree.Element(q("p"))
        ppr = new.find(q("pPr"))
        if ppr is not None:
            out.append(copy.deepcopy(ppr))
        for child in new:  # bookmarks (TOC targets) stay at the start
            if child.tag == q("bookmarkStart"):
                out.append(copy.deepcopy(child))
        sm = SequenceMatcher(None, [t.key for t in a], [t.key for t in b], autojunk=False)
        for op, i1, i2, j1, j2 in sm.get_opcodes():
            if op == "equal":
                self._emit(out, b[j1:j2], None)
            else:
                if i2 > i1:
                    self._emit(out, a[i1:i2], "del")
                if j2 > j1:
                    self._emit(out, b[j1:j2], "ins")
        for child in new:
            if child.tag == q("bookmarkEnd"):
                out.append(copy.deepcopy(child))
        return out

    def _emit(self, out: etree._Element, toks: list[Token], kind: str | None) -> None:
        deleted = kind == "del"
        target = out
        if kind is not None:
            target = self.t.mark(kind)
        for tok in toks:
            if tok.kind == "text":
                assert tok.text is not None
                last = target[-1] if len(target) else None
                if (last is not None and last.tag == q("r") and _same_rpr(last.find(q("rPr")), tok.rpr)
                        and last[-1].tag == (q("delText") if deleted else q("t"))):
                    last[-1].text = (last[-1].text or "") + tok.text
                else:
                    target.append(_run(tok.rpr, _text_el(tok.text, deleted)))
            elif tok.kind in ("footnote", "elem"):
                assert tok.elem is not None
                r = _run(tok.rpr, copy.deepcopy(tok.elem))
                if deleted:
                    self._retag_run(r, True)
                target.append(r)
            else:  # a whole hyperlink or field
                assert tok.elem is not None
                if kind is None:
                    target.append(copy.deepcopy(tok.elem))
                else:
                    holder = etree.Element(q("p"))
                    holder.append(copy.deepcopy(tok.elem))
                    self._mark_paragraph(holder, kind)
                    for child in holder:
                        if child.tag != q("pPr"):
                            out.append(child)
                    continue
        if kind is not None and len(target):
            out.append(target)

    # --- bodies -------------------------------------------------------------------
    def merge_blocks(self, old: list[etree._Element], new: list[etree._Element]) -> list[etree._Element]:
        sm = SequenceMatcher(None, [_block_key(b, self.old_notes) for b in old],
                             [_block_key(b, self.new_notes) for b in new], autojunk=False)
        out: list[etree._Element] = []
        for op, i1, i2, j1, j2 in sm.get_opcodes():
            if op == "equal":
                out.extend(copy.deepcopy(b) for b in new[j1:j2])
                continue
            olds, news = old[i1:i2], new[j1:j2]
            for k in range(max(len(olds), len(news))):
                o = olds[k] if k < len(olds) else None
                n = news[k] if k < len(news) else None
                if o is not None and n is not None and o.tag == n.tag == q("p") and _style_of(o) == _style_of(n):
                    out.append(self.merge_paragraph(o, n))
                elif o is not None and n is not None and o.tag == n.tag == q("tbl") and _same_shape(o, n):
                    out.append(self.merge_table(o, n))
                else:
                    if o is not None:
                        out.append(self.mark_block(o, "del"))
                    if n is not None:
                        out.append(self.mark_block(n, "ins"))
        return out

    def merge_table(self, old: etree._Element, new: etree._Element) -> etree._Element:
        out = copy.deepcopy(new)
        for otr, ntr in zip(old.findall(q("tr")), out.findall(q("tr")), strict=True):
            for otc, ntc in zip(otr.findall(q("tc")), ntr.findall(q("tc")), strict=True):
                ops = [c for c in otc if c.tag != q("tcPr")]
                nps = [c for c in ntc if c.tag != q("tcPr")]
                if [_block_key(b, self.old_notes) for b in ops] == [_block_key(b, self.new_notes) for b in nps]:
                    continue
                merged = self.merge_blocks(ops, nps)
                for c in nps:
                    ntc.remove(c)
                for c in merged:
                    ntc.append(c)
        return out


def _same_rpr(a: etree._Element | None, b: etree._Element | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return _structure(a) == _structure(b)


def _structure(el: etree._Element) -> tuple[object, ...]:
    """An element by qualified names and values only: a copied w:rPr serialises with
    other namespace declarations than its original, yet formats the same."""
    return (el.tag, tuple(sorted(el.attrib.items())), tuple(_structure(c) for c in el))


def _style_of(p: etree._Element) -> str:
    s = p.find(f"{q('pPr')}/{q('pStyle')}")
    return s.get(q("val"), "") if s is not None else ""


def _p_signature(p: etree._Element, notes: Footnotes | None = None) -> str:
    # A picture has no text; its alt text (which lists a chart's values) tells one from another.
    pictures = "\0".join(d.get("descr", "") for d in p.iter(WP_DOCPR))
    # A footnote's text is part of the paragraph that cites it: a changed source changes the paragraph.
    cited = "\0".join(notes.text(r.get(q("id"), "")) for r in p.iter(q("footnoteReference"))) if notes else ""
    return _style_of(p) + "\0" + "".join(p.itertext()) + "\0" + pictures + "\0" + cited


def _block_key(b: etree._Element, notes: Footnotes | None = None) -> str:
    if b.tag == q("p"):
        return "p\0" + _p_signature(b, notes)
    return str(b.tag) + "\0" + "\x1f".join(_p_signature(p, notes) for p in b.iter(q("p")))


def _same_shape(a: etree._Element, b: etree._Element) -> bool:
    ra, rb = a.findall(q("tr")), b.findall(q("tr"))
    return len(ra) == len(rb) and all(len(x.findall(q("tc"))) == len(y.findall(q("tc")))
                                      for x, y in zip(ra, rb, strict=True))


def _body_blocks(doc: etree._Element) -> tuple[etree._Element, list[etree._Element], etree._Element | None]:
    body = doc.find(q("body"))
    assert body is not None
    sect = body.find(q("sectPr"))
    return body, [c for c in body if c.tag != q("sectPr")], sect


def verified_redline(old_docx: bytes, new_docx: bytes, *, author: str, date: dt.datetime,
                     label: str = "") -> tuple[bytes, int]:
    """The redline and its number of changes, proven before anyone writes it, as
    mdformat re-reads what it wrote: accepting every change must give exactly the
    new text and rejecting every change exactly the old one.  `label` names the
    two revisions in the message when the proof fails."""
    merged = redline_docx(old_docx, new_docx, author=author, date=date)
    doc, notes = _body(merged)
    old_doc, old_notes = _body(old_docx)
    new_doc, new_notes = _body(new_docx)
    if (paragraph_texts(accept(doc), notes) != paragraph_texts(new_doc, new_notes)
            or paragraph_texts(reject(doc), notes) != paragraph_texts(old_doc, old_notes)):
        which = f" ({label})" if label else ""
        raise DocxError(f"internal error: the redline{which} would not reproduce both revisions; nothing was written")
    return merged, count_changes(doc)


def _body(docx: bytes) -> tuple[etree._Element, Footnotes]:
    parts = read_parts(docx, ("word/document.xml", "word/footnotes.xml"))
    return etree.fromstring(parts["word/document.xml"]), Footnotes(parts.get("word/footnotes.xml"))


def count_changes(doc: etree._Element) -> int:
    """Insertions and deletions of content (not the marks on paragraph ends and table rows)."""
    return sum(1 for el in iter_revisions(doc) if el.getparent() is not None
               and el.getparent().tag not in (q("rPr"), q("trPr")))


def redline_docx(old_docx: bytes, new_docx: bytes, *, author: str, date: dt.datetime) -> bytes:
    """The new DOCX with the changes from the old one tracked."""
    old_parts = read_parts(old_docx)
    old_doc = etree.fromstring(old_parts["word/document.xml"])
    old_fn = old_parts.get("word/footnotes.xml")
    parts = read_parts(new_docx)
    new_doc = etree.fromstring(parts["word/document.xml"])
    new_notes = Footnotes(parts.get("word/footnotes.xml"))
    images = Images(old_parts, parts)
    merger = Merger(Tracker(author, date), Footnotes(old_fn), new_notes, images)
    _, old_blocks, _ = _body_blocks(old_doc)
    body, new_blocks, sect = _body_blocks(new_doc)
    merged = merger.merge_blocks(old_blocks, new_blocks)
    for c in list(body):
        body.remove(c)
    for c in merged:
        body.append(c)
    if sect is not None:
        body.append(sect)
    parts["word/document.xml"] = etree.tostring(new_doc, xml_declaration=True, encoding="UTF-8", standalone=True)
    if new_notes.root is not None:
        parts["word/footnotes.xml"] = etree.tostring(new_notes.root, xml_declaration=True, encoding="UTF-8",
                                                     standalone=True)
    if "word/settings.xml" in parts:  # further edits by reviewers are tracked too
        settings = etree.fromstring(parts["word/settings.xml"])
        if settings.find(q("trackRevisions")) is None:
            # CT_Settings is a sequence: trackRevisions goes after these, or Word reports the file damaged
            before = {q(n) for n in _SETTINGS_BEFORE_TRACK_REVISIONS}
            at = max((i + 1 for i, el in enumerate(settings) if el.tag in before), default=0)
            settings.insert(at, etree.Element(q("trackRevisions")))
        parts["word/settings.xml"] = etree.tostring(settings, xml_declaration=True, encoding="UTF-8",
                                                    standalone=True)
    images.save()
    _declare_extensions(parts, [n for n in parts if n.startswith("word/media/redline-old-")])
    # Through the one package writer: every part checked well-formed, stamped as the new revision's package.
    return write_parts(parts, stamp_of(new_docx))


_SETTINGS_BEFORE_TRACK_REVISIONS = (
    "writeProtection", "view", "zoom", "removePersonalInformation", "removeDateAndTime",
    "doNotDisplayPageBoundaries", "displayBackgroundShape", "printPostScriptOverText",
    "printFractionalCharacterWidth", "printFormsData", "embedTrueTypeFonts", "embedSystemFonts",
    "saveSubsetFonts", "saveFormsData", "mirrorMargins", "alignBordersAndEdges", "bordersDoNotSurroundHeader",
    "bordersDoNotSurroundFooter", "gutterAtTop", "hideSpellingErrors", "hideGrammaticalErrors",
    "activeWritingStyle", "proofState", "formsDesign", "attachedTemplate", "linkStyles",
    "stylePaneFormatFilter", "stylePaneSortMethod", "documentType", "mailMerge", "revisionView",
)


def _declare_extensions(parts: dict[str, bytes], names: list[str]) -> None:
    """Give each file extension in `names` a content type, if the package has none."""
    ct = etree.fromstring(parts["[Content_Types].xml"])
    have = {d.get("Extension", "").lower() for d in ct.iter(q("Default", CT_NS))}
    types = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "gif": "image/gif"}
    for ext in sorted({n.rsplit(".", 1)[-1].lower() for n in names if "." in n} - have):
        ct.insert(0, etree.Element(q("Default", CT_NS), Extension=ext, ContentType=types.get(ext, "image/png")))
    parts["[Content_Types].xml"] = etree.tostring(ct, xml_declaration=True, encoding="UTF-8", standalone=True)


# --- applying the changes, as Word's Accept all / Reject all do ----------------------

def _apply(doc: etree._Element, keep: str) -> etree._Element:
    drop = "del" if keep == "ins" else "ins"
    doc = copy.deepcopy(doc)
    for tr in list(doc.iter(q("tr"))):
        trpr = tr.find(q("trPr"))
        if trpr is not None and trpr.find(q(drop)) is not None:
            tr.getparent().remove(tr)
    for p in list(doc.iter(q("p"))):
        mark = p.find(f"{q('pPr')}/{q('rPr')}/{q(drop)}")
        if mark is not None:  # this paragraph exists only in the other revision
            p.getparent().remove(p)
    for el in list(doc.iter(q(drop))):
        el.getparent().remove(el)
    for el in list(doc.iter(q(keep))):
        parent = el.getparent()
        if parent is None:
            continue
        if parent.tag in (q("rPr"), q("trPr")):
            parent.remove(el)
            continue
        idx = parent.index(el)
        for child in list(el):
            parent.insert(idx, child)
            idx += 1
        parent.remove(el)
    if keep == "del":
        for el in doc.iter(q("delText")):
            el.tag = q("t")
        for el in doc.iter(q("delInstrText")):
            el.tag = q("instrText")
    return doc


def accept(doc: etree._Element) -> etree._Element:
    return _apply(doc, "ins")


def reject(doc: etree._Element) -> etree._Element:
    return _apply(doc, "del")


def paragraph_texts(doc: etree._Element, notes: Footnotes | None = None) -> list[str]:
    """Every paragraph's text, footnote references shown by their footnote's text."""
    out = []
    for p in doc.iter(q("p")):
        parts = []
        for el in p.iter(q("t"), q("footnoteReference")):
            if el.tag == q("t"):
                parts.append(el.text or "")
            else:
                parts.append(f"[^{notes.text(el.get(q('id'), '')) if notes else el.get(q('id'))}]")
        out.append("".join(parts))
    return out


def iter_revisions(doc: etree._Element) -> Iterator[etree._Element]:
    yield from doc.iter(q("ins"), q("del"))
