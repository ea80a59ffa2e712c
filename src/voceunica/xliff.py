"""Translation exchange with CAT tools: XLIFF 1.2 out, translations back in.

EU translators work in Trados Studio, memoQ or OmegaT, which exchange XLIFF.
`export_xliff` writes one `<file>` per position, one `<trans-unit>` per
translated field (`sections[0].body`), the source text and the current
translation with its state: `translated`, `needs-review-translation` (the
source changed since it was translated) or `needs-translation`.  Footnote
references (`[^cbam]`) travel as `<ph>` placeholders, so a CAT tool protects
them.  Each unit carries the hash of the source it shows.

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
VU_NS = "urn:voceunica:xliff"  # our extension attributes (XLIFF 1.2 allows other namespaces)
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
    root = etree.Element(_x("xliff"), nsmap={None: XLIFF_NS, "vu": VU_NS}, version="1.2")
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
            unit = etree.SubElement(body, _x("trans-unit"), id=name, resname=name,
                                    attrib={f"{{{VU_NS}}}source-hash": text_hash(by_lang.get(source, ""))})
            _fill(etree.SubElement(unit, _x("source"), attrib={"{http://www.w3.org/XML/1998/namespace}space":
                                                                "preserve"}), by_lang.get(source, ""))
            state = states.get(name, "missing")
            tgt = etree.SubElement(unit, _x("target"), state=STATES[state],
                                   attrib={"{http://www.w3.org/XML/1998/namespace}space": "preserve"})
            if state != "missing":
                _fill(tgt, by_lang.get(target, ""))
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


def _fill(el: Any, text: str) -> None:
    """Text with each footnote reference as a protected placeholder."""
    from lxml import etree

    pos = 0
    last = None
    for n, m in enumerate(FOOTNOTE_REF.finditer(text), start=1):
        chunk = text[pos:m.start()]
        if last is None:
            el.text = (el.text or "") + chunk
        else:
            last.tail = (last.tail or "") + chunk
        last = etree.SubElement(el, _x("ph"), id=str(n), ctype="x-footnote-ref")
        last.text = m.group(0)
        pos = m.end()
    rest = text[pos:]
    if last is None:
        el.text = (el.text or "") + rest
    else:
        last.tail = (last.tail or "") + rest


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
            if tgt is None or tgt.get("state", "translated") not in DONE:
                continue  # not (yet) confirmed by the translator: leave the position as it is
            if name not in texts:
                out.append(problem(shown, unit.sourceline or 1, 1, f"{original}: no translated field {name!r}"))
                continue
            src = unit.find(_x("source"))
            sent = "".join(src.itertext()) if src is not None else ""
            if text_hash(sent) != text_hash(texts[name].get(source, "")):
                out.append(problem(shown, unit.sourceline or 1, 1,
                                   f"{original} {name}: the source text changed since this file was exported; "
                                   "export again and carry the translation over"))
                continue
            new = "".join(tgt.itertext())
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
