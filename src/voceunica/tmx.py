"""Translation memory: every aligned Italian/English text of the project as TMX 1.4b.

The offices' translators load it into Trados, memoQ or OmegaT so that earlier
wording is offered again.  Aligned means the pair can be trusted: a position's
field whose translation is current (made from today's source text, see
fingerprint.translation_status), and every text of the dossiers and annexes
(written in both languages at once).  One `<tu>` per field, its `tuid` the
file and field ('positions/steel.yaml#sections[0].body'); footnote references
as `<ph>` and bold, italic and links as `<bpt>`/`<ept>` pairs, so the tool
protects them as the XLIFF export does.
"""

from __future__ import annotations

from typing import Any

from voceunica import __version__
from voceunica.fingerprint import field_name, target_language, texts_by_field, translation_status
from voceunica.locales import LOCALES
from voceunica.model import LANGS, iter_texts
from voceunica.project import Project
from voceunica.xliff import INLINE

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def aligned_texts(project: Project) -> list[tuple[str, str, dict[str, str]]]:
    """(tuid, source language, {lang: text}) for every aligned pair, in a stable order."""
    out: list[tuple[str, str, dict[str, str]]] = []
    for pid, pos in sorted(project.positions.items()):
        current = {s.field for s in translation_status(pos) if s.state == "translated"}
        for loc, by_lang in texts_by_field(pos).items():
            name = field_name(loc)
            if name in current and target_language(pos) in by_lang:
                out.append((f"positions/{pid}.yaml#{name}", pos.source_language, by_lang))
    for kind, items in (("dossiers", project.dossiers), ("dossiers/annexes", {k: a.meta for k, a in
                                                                              project.annexes.items()})):
        for key, model in sorted(items.items()):
            pairs: dict[tuple[str | int, ...], dict[str, str]] = {}
            for loc, lang, text in iter_texts(model):
                pairs.setdefault(loc[:-1], {})[lang] = text
            for loc, by_lang in pairs.items():
                if all(by_lang.get(lang, "").strip() for lang in LANGS):
                    out.append((f"{kind}/{key}.yaml#{field_name(loc)}", "it", by_lang))
    return out


def export_tmx(project: Project) -> bytes:
    from lxml import etree

    root = etree.Element("tmx", version="1.4")
    etree.SubElement(root, "header", creationtool="voceunica", creationtoolversion=__version__,
                     datatype="plaintext", segtype="paragraph", adminlang="en-GB", srclang=LOCALES["it"],
                     attrib={"o-tmf": "voceunica"})
    body = etree.SubElement(root, "body")
    for tuid, source, by_lang in aligned_texts(project):
        tu = etree.SubElement(body, "tu", tuid=tuid, srclang=LOCALES[source])
        for lang in LANGS:
            tuv = etree.SubElement(tu, "tuv", attrib={XML_LANG: LOCALES[lang]})
            _seg(etree.SubElement(tuv, "seg"), by_lang[lang].strip("\n"))
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True,
                                 doctype='<!DOCTYPE tmx SYSTEM "tmx14.dtd">')
    return data


def _seg(el: Any, text: str, counter: list[int] | None = None) -> None:
    """Text with the Markdown a translator must keep as TMX inline codes (the codes hold the Markdown)."""
    from lxml import etree

    counter = counter if counter is not None else [0]
    pos = 0
    last: Any = None

    def add(s: str) -> None:
        nonlocal last
        if last is None:
            el.text = (el.text or "") + s
        else:
            last.tail = (last.tail or "") + s

    for m in INLINE.finditer(text):
        if m.group("esc") or m.group("code"):
            continue
        add(text[pos:m.start()])
        if m.group("ref"):
            last = etree.SubElement(el, "ph", type="x-footnote-ref")
            last.text = m.group(0)
        else:
            counter[0] += 1
            i = str(counter[0])
            if m.group("link"):
                opening, closing, inner, kind = "[", f"]({m.group('url')})", m.group("ltext"), "link"
            elif m.group("strong"):
                opening, closing, inner, kind = "**", "**", m.group("stext"), "bold"
            else:
                opening, closing, inner, kind = "*", "*", m.group("etext"), "italic"
            start = etree.SubElement(el, "bpt", i=i, type=kind)
            start.text = opening
            holder = etree.Element("x")  # the inner text and codes, moved in after the opening code
            _seg(holder, inner, counter)
            start.tail = holder.text or ""
            for child in list(holder):
                el.append(child)
            end = etree.SubElement(el, "ept", i=i)
            end.text = closing
            last = end
        pos = m.end()
    add(text[pos:])
