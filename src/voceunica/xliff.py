"""Translation exchange with CAT tools: XLIFF 1.2 out, translations back in.

EU translators work in Trados Studio, memoQ or OmegaT, which exchange XLIFF.
`export_xliff` writes one `<file>` per position, one `<trans-unit>` per
translated field (`sections[0].body`), the source text and the current
translation with its state: `translated` and `approved="yes"` (current),
`needs-review-translation` (the source changed since it was translated) or
`needs-translation`.  What a translator must not break travels as protected
inline elements: a footnote reference `[^cbam]` as `<ph id="fn-cbam">` (the id
is the note's key, so a translation that swaps two notes keeps each where the
translator put it), `**bold**` and `*italic*` as `<g ctype="bold|italic">`,
a link as `<g ctype="link" vu:href="…">`.  The Markdown is rebuilt from them
exactly.  The file is valid against the OASIS XLIFF 1.2 transitional schema;
voceunica's own attributes (`vu:version`, `vu:source-hash`, `vu:href`) are
declared in `voceunica-xliff.xsd`, shipped with the package.

XLIFF 1.2 rather than 2.0: Trados, memoQ and OmegaT all read and write 1.2,
OmegaT and several older Trados setups do not take 2.0, and 1.2 has what we
need (`<g>`, `<ph>`, `approved`, states).

`import_xliff` writes the targets back into the position files (round-trip
YAML: comments and layout kept) and records them as translated from that
source — refusing, with the XLIFF line, a unit whose source has changed in
the meantime: that translation was made from a text that no longer exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from voceunica import textrules
from voceunica.errors import Problem, VoceunicaError, problem
from voceunica.fingerprint import field_name, target_language, text_hash, texts_by_field, translation_status
from voceunica.locales import LOCALES
from voceunica.project import Project
from voceunica.textrules import FOOTNOTE_REF

XLIFF_NS = "urn:oasis:names:tc:xliff:document:1.2"
VU_NS = "urn:voceunica:xliff"  # our extension attributes, declared in voceunica-xliff.xsd
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
EXTENSION_XSD = "voceunica-xliff.xsd"
STATES = {"translated": "translated", "outdated": "needs-review-translation", "missing": "needs-translation"}
DONE = {"translated", "final", "signed-off"}  # target states a CAT tool sets when a translator confirms


def _x(tag: str) -> str:
    return f"{{{XLIFF_NS}}}{tag}"


def export_xliff(project: Project, ids: list[str] | None = None) -> bytes:
    from lxml import etree

    chosen = ids or sorted(project.positions)
    unknown = [i for i in chosen if i not in project.positions]
    if unknown:
        raise VoceunicaError([problem("positions/", 1, 1, f"no position '{i}' (or it has errors: run check)")
                              for i in unknown])
    root = etree.Element(_x("xliff"), nsmap={None: XLIFF_NS, "vu": VU_NS, "xsi": XSI_NS}, version="1.2",
                         attrib={f"{{{XSI_NS}}}schemaLocation": f"{XLIFF_NS} xliff-core-1.2-transitional.xsd "
                                                                 f"{VU_NS} {EXTENSION_XSD}"})
    for pid in chosen:
        pos = project.positions[pid]
        source, target = pos.source_language, target_language(pos)
        texts = texts_by_field(pos)
        states = {s.field: s.state for s in translation_status(pos)}
        f = etree.SubElement(root, _x("file"), original=f"positions/{pid}.yaml", datatype="x-markdown",
                             attrib={"source-language": LOCALES[source], "target-language": LOCALES[target],
                                     f"{{{VU_NS}}}version": pos.version})
        body = etree.SubElement(f, _x("body"))
        for loc, by_lang in texts.items():
            name = field_name(loc)
            state = states.get(name, "missing")
            unit = etree.SubElement(body, _x("trans-unit"), id=name, resname=name,
                                    attrib={f"{{{VU_NS}}}source-hash": text_hash(by_lang.get(source, ""))})
            if state == "translated":
                unit.set("approved", "yes")  # confirmed: a CAT tool shows it translated, not fuzzy
            _fill(etree.SubElement(unit, _x("source"), attrib={XML_SPACE: "preserve"}), by_lang.get(source, ""))
            tgt = etree.SubElement(unit, _x("target"), state=STATES[state], attrib={XML_SPACE: "preserve"})
            if state != "missing":
                _fill(tgt, by_lang.get(target, ""))
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


# The Markdown a translator must not break, found left to right: an escaped character and a code
# span stay text (nothing inside is markup); a footnote reference; a link; **bold**; *italic*.  Bold and
# italic do not cross a blank line (a paragraph break ends them in Markdown too).
INLINE = re.compile(r"""
    (?P<esc>\\.)
  | (?P<code>(?P<ticks>`+)[^`].*?(?P=ticks))
  | (?P<ref>\[\^(?P<key>[^\]\s]+)\](?!:))
  | (?P<link>\[(?P<ltext>[^\[\]\n]+)\]\((?P<url>[^()\s]+)\))
  | (?P<strong>\*\*(?=\S)(?P<stext>(?:(?!\n[ \t]*\n).)+?)(?<=\S)\*\*)
  | (?P<em>(?<![*\w])\*(?=[^\s*])(?P<etext>(?:(?!\n[ \t]*\n)[^*])+?)(?<=[^\s*])\*(?![*\w]))
""", re.X | re.S)
_DELIM = {"bold": ("**", "**"), "italic": ("*", "*")}


def _append_text(el: Any, last: Any, text: str) -> None:
    if last is None:
        el.text = (el.text or "") + text
    else:
        last.tail = (last.tail or "") + text


def _fill(el: Any, text: str, counters: dict[str, int] | None = None) -> None:
    """Markdown as XLIFF content: protected inline elements for what a translator must keep."""
    from lxml import etree

    counters = counters if counters is not None else {}
    pos = 0
    last = None
    for m in INLINE.finditer(text):
        if m.group("esc") or m.group("code"):
            continue
        _append_text(el, last, text[pos:m.start()])
        if m.group("ref"):
            key = m.group("key")
            seen = counters[f"fn-{key}"] = counters.get(f"fn-{key}", 0) + 1
            ph_id = f"fn-{key}" + (f"-{seen}" if seen > 1 else "")  # a note cited twice in one text
            last = etree.SubElement(el, _x("ph"), id=ph_id, ctype="x-footnote-ref")
            last.text = m.group(0)
        else:
            kind, inner, prefix = (("link", m.group("ltext"), "l") if m.group("link") else
                                   ("bold", m.group("stext"), "b") if m.group("strong") else
                                   ("italic", m.group("etext"), "i"))
            counters[prefix] = counters.get(prefix, 0) + 1
            last = etree.SubElement(el, _x("g"), id=f"{prefix}{counters[prefix]}", ctype=kind)
            if kind == "link":
                last.set(f"{{{VU_NS}}}href", m.group("url"))
            _fill(last, inner, counters)
        pos = m.end()
    _append_text(el, last, text[pos:])


class _Unreadable(Exception):
    def __init__(self, el: Any, message: str) -> None:
        super().__init__(message)
        self.line = el.sourceline or 1


def _markdown(el: Any, placeholders: dict[str, str], links: dict[str, str]) -> str:
    """The Markdown of an XLIFF <source>/<target>: the inverse of `_fill`.  A footnote placeholder is
    rebuilt from its id (the note's key), whatever text a CAT tool left inside it."""
    out = [el.text or ""]
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else ""
        local = tag.rsplit("}", 1)[-1]
        if not tag.startswith(f"{{{XLIFF_NS}}}"):
            raise _Unreadable(child, f"unexpected element <{local or 'comment'}> in the text")
        if local in ("ph", "x"):
            raw = placeholders.get(child.get("id", ""))
            if raw is None:
                raise _Unreadable(child, f"unknown placeholder id {child.get('id')!r} (the source has "
                                         f"{', '.join(sorted(placeholders)) or 'none'})")
            out.append(raw)
        elif local == "g":
            kind = child.get("ctype", "")
            inner = _markdown(child, placeholders, links)
            if kind == "link":
                href = child.get(f"{{{VU_NS}}}href") or links.get(child.get("id", ""))
                if not href:
                    raise _Unreadable(child, "a link without its target (vu:href)")
                out.append(f"[{inner}]({href})")
            elif kind in _DELIM:
                opening, closing = _DELIM[kind]
                out.append(f"{opening}{inner}{closing}")
            else:
                raise _Unreadable(child, f"unknown formatting ctype={kind!r} (expected bold, italic or link)")
        elif local == "mrk":  # a CAT tool's annotation (a term, a comment): its text counts
            out.append(_markdown(child, placeholders, links))
        else:
            raise _Unreadable(child, f"unexpected element <{local}> in the text")
        out.append(child.tail or "")
    return "".join(out)


def _source_codes(src: Any) -> tuple[dict[str, str], dict[str, str]]:
    """The placeholders (id -> Markdown) and link targets (id -> URL) of a <source>."""
    placeholders = {ph.get("id", ""): "".join(ph.itertext()) for ph in src.iter(_x("ph"), _x("x"))}
    links = {g.get("id", ""): g.get(f"{{{VU_NS}}}href", "") for g in src.iter(_x("g")) if g.get("ctype") == "link"}
    return placeholders, links


def _confirmed(unit: Any, tgt: Any) -> bool:
    """A translator's confirmation: a target in a done state (no state: translated), not unapproved.
    A state asking for review wins over an `approved="yes"` a tool left from the export."""
    return unit.get("approved") != "no" and tgt.get("state", "translated") in DONE


@dataclass
class Imported:
    position: str
    fields: list[str]


def import_xliff(project: Project, data: bytes, shown: str) -> list[Imported]:
    """Write every translated unit back into its position.  Problems stop the
    import before any file is touched; the files change together or not at all."""
    from lxml import etree

    from voceunica.yamledit import set_many_translations

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line, col = exc.position
        raise VoceunicaError(problem(shown, line, col + 1, f"not well-formed XML: {exc.msg}")) from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise VoceunicaError(problem(shown, 1, 1, "XLIFF files with a DTD (<!DOCTYPE ...>) are not accepted"))
    if root.tag != _x("xliff") or root.get("version") != "1.2":
        raise VoceunicaError(problem(shown, root.sourceline or 1, 1, "not an XLIFF 1.2 file"))
    out: list[Problem] = []
    plan: dict[str, dict[str, tuple[str, str]]] = {}  # pid -> field -> (target text, source hash)
    for f in root.iter(_x("file")):
        original = f.get("original", "")
        m = re.fullmatch(r"positions/([a-z0-9-]+)\.ya?ml", original)
        pos = project.positions.get(m.group(1)) if m else None
        if pos is None:
            out.append(problem(shown, f.sourceline or 1, 1, f"no position for original={original!r}"))
            continue
        source, target = pos.source_language, target_language(pos)
        if (f.get("target-language") or "").lower() != LOCALES[target].lower():
            out.append(problem(shown, f.sourceline or 1, 1, f"{original}: target-language should be "
                                                            f"{LOCALES[target]}, not {f.get('target-language')!r}"))
            continue
        texts = {field_name(loc): by_lang for loc, by_lang in texts_by_field(pos).items()}
        seen: set[str] = set()
        for unit in f.iter(_x("trans-unit")):
            name = unit.get("id", "")
            if name in seen:
                out.append(problem(shown, unit.sourceline or 1, 1, f"{original}: unit {name!r} appears twice"))
                continue
            seen.add(name)
            tgt = unit.find(_x("target"))
            if tgt is None or not _confirmed(unit, tgt):
                continue  # not (yet) confirmed by the translator: leave the position as it is
            if name not in texts:
                out.append(problem(shown, unit.sourceline or 1, 1, f"{original}: no translated field {name!r}"))
                continue
            src = unit.find(_x("source"))
            try:
                codes = _source_codes(src) if src is not None else ({}, {})
                sent = _markdown(src, *codes) if src is not None else ""
                new = _markdown(tgt, *codes)
            except _Unreadable as exc:
                out.append(problem(shown, exc.line, 1, f"{original} {name}: {exc}"))
                continue
            if text_hash(sent) != text_hash(texts[name].get(source, "")):
                out.append(problem(shown, unit.sourceline or 1, 1,
                                   f"{original} {name}: the source text changed since this file was exported; "
                                   "export again and carry the translation over"))
                continue
            if not new.strip():
                out.append(problem(shown, tgt.sourceline or 1, 1, f"{original} {name}: empty translation"))
                continue
            sent_refs = sorted(FOOTNOTE_REF.findall(sent))
            if sorted(FOOTNOTE_REF.findall(new)) != sent_refs:
                out.append(problem(shown, tgt.sourceline or 1, 1,
                                   f"{original} {name}: the translation must keep the footnote references "
                                   f"{', '.join(f'[^{r}]' for r in sent_refs) or '(none)'}"))
                continue
            # The translation is a text like any other: check's rules, at the XLIFF line.
            refused = [m for _, m, warning in (*textrules.char_findings(new), *textrules.link_findings(new),
                                               *textrules.markdown_findings(new)) if not warning]
            if refused:
                out.extend(problem(shown, tgt.sourceline or 1, 1, f"{original} {name}: {m}") for m in refused)
                continue
            plan.setdefault(pos.id, {})[name] = (new, text_hash(sent))
    if out:
        raise VoceunicaError(out)
    # all positions or none: a kill or a full disk half-way must not leave some translated and others not
    changed = set_many_translations(project, plan)
    return [Imported(pid, fields) for pid, fields in sorted(changed.items())]
