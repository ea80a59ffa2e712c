"""The shared glossary: the agreed Italian and English for the terms the offices use.

`glossary.yaml` at the project's top lists term pairs (with their IATE entry
where one exists, other accepted forms, forbidden variants and a note).
`check` warns, at the line of the translation, when a text's source contains a
glossary term and its translation uses none of the agreed forms, and at the
exact line of any forbidden variant in either language.  `voceunica glossary
--tbx F` exports the glossary as TBX (TBX-Basic, TBX v3) for CAT tools.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from voceunica import __version__
from voceunica.errors import Problem, VoceunicaError, general, problem
from voceunica.fingerprint import target_language, texts_by_field
from voceunica.load import SourceMap, read_yaml
from voceunica.model import LANG_NAMES, LANGS, Model, NonEmpty, _pattern
from voceunica.project import Project
from voceunica.validate import FORMATS, validate_model

GLOSSARY_FILE = "glossary.yaml"
GLOSSARY_FORMAT = "voceunica/glossary@1"


class Forms(Model):
    """Term forms per language."""

    it: list[NonEmpty] = []
    en: list[NonEmpty] = []


class Term(Model):
    """One concept: its agreed term in each language."""

    it: NonEmpty
    en: NonEmpty
    # other forms that count as the agreed term (an abbreviation, a plural): 'CBAM', 'SMEs'
    also: Forms = Forms()
    # variants a translation must not use: 'carbon border tax'
    forbidden: Forms = Forms()
    # the IATE entry (https://iate.europa.eu/entry/result/<id>), only where it is certain
    iate: Annotated[str, _pattern(r"[1-9]\d{2,8}", "IATE id", "3546219")] | None = None
    note: str | None = None

    def forms(self, lang: str) -> list[str]:
        return [getattr(self, lang), *getattr(self.also, lang)]


class Glossary(Model):
    format: Literal["voceunica/glossary@1"]
    terms: list[Term] = []


FORMATS[Glossary] = GLOSSARY_FORMAT  # validate_model checks the format line by this table


@dataclass
class LoadedGlossary:
    glossary: Glossary
    source: SourceMap

    def line(self, index: int) -> int:
        return self.source.at(("terms", index))[0]

    @cached_property
    def patterns(self) -> dict[tuple[int, str, str], re.Pattern[str]]:
        """(term index, 'agreed'|'forbidden', lang) → one pattern for all those forms."""
        out = {}
        for i, term in enumerate(self.glossary.terms):
            for lang in LANGS:
                out[(i, "agreed", lang)] = _words(term.forms(lang))
                if getattr(term.forbidden, lang):
                    out[(i, "forbidden", lang)] = _words(getattr(term.forbidden, lang))
        return out


def _words(forms: list[str]) -> re.Pattern[str]:
    """Whole words, any case, any run of spaces or line breaks between words; longest form first."""
    alts = [r"\s+".join(re.escape(w) for w in f.split()) for f in sorted(forms, key=len, reverse=True)]
    return re.compile(r"(?<!\w)(?:" + "|".join(alts) + r")(?!\w)", re.IGNORECASE)


def load_glossary(root: Path) -> tuple[LoadedGlossary | None, list[Problem]]:
    """The project's glossary, or None when it has none (or it has errors: they are returned)."""
    path = root / GLOSSARY_FILE
    if not path.exists() and not path.is_symlink():
        return None, []
    loaded, problems = read_yaml(path, GLOSSARY_FILE, root=root)
    if loaded is None:
        return None, problems
    glossary = validate_model(Glossary, loaded, problems)
    if glossary is None:
        return None, problems
    return LoadedGlossary(glossary, loaded.source), problems


def require_glossary(root: Path) -> LoadedGlossary:
    found, problems = load_glossary(root)
    errors = [p for p in problems if p.is_error]
    if errors:
        raise VoceunicaError(errors)
    if found is None:
        raise VoceunicaError(general(f"no {GLOSSARY_FILE} in the project"))
    return found


def glossary_problems(project: Project) -> list[Problem]:
    """The glossary's own problems, then every translation that departs from it (warnings)."""
    found, out = load_glossary(project.root)
    if found is None:
        return out
    for pid, pos in sorted(project.positions.items()):
        source_map = project.sources.get(f"position:{pid}")
        if source_map is None:
            continue
        src, tgt = pos.source_language, target_language(pos)
        for loc, by_lang in texts_by_field(pos).items():
            out.extend(_text_findings(found, source_map, loc, by_lang, src, tgt))
    return out


def _text_findings(g: LoadedGlossary, where: SourceMap, loc: tuple[str | int, ...], by_lang: dict[str, str],
                   src: str, tgt: str) -> Iterator[Problem]:
    source, target = by_lang.get(src, ""), by_lang.get(tgt, "")
    for i, term in enumerate(g.glossary.terms):
        ref = f"({GLOSSARY_FILE}:{g.line(i)})"
        flagged = False
        for lang in (src, tgt):
            bad = g.patterns.get((i, "forbidden", lang))
            text = by_lang.get(lang, "")
            for m in bad.finditer(text) if bad is not None else ():
                flagged = flagged or lang == tgt
                line, col = where.text_line((*loc, lang), text.count("\n", 0, m.start()))
                yield problem(where.path, line, col,
                              f"'{m.group(0)}' is not the agreed {LANG_NAMES[lang]} term: use "
                              f"'{getattr(term, lang)}' {ref}", warning=True)
        if flagged or not target.strip() or not g.patterns[(i, "agreed", src)].search(source):
            continue
        if not g.patterns[(i, "agreed", tgt)].search(target):
            used = g.patterns[(i, "agreed", src)].search(source)
            assert used is not None
            line, col = where.text_line((*loc, tgt), 0)
            forms = " or ".join(f"'{f}'" for f in term.forms(tgt))
            yield problem(where.path, line, col,
                          f"the {LANG_NAMES[src]} text says '{used.group(0)}': the agreed {LANG_NAMES[tgt]} "
                          f"is {forms} {ref}", warning=True)


# --- TBX -------------------------------------------------------------------------------

TBX_NS = "urn:iso:std:iso:30042:ed-2"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def to_tbx(g: LoadedGlossary) -> bytes:
    """The glossary as TBX-Basic in TBX v3's DCA style (ISO 30042:2019): one conceptEntry per term, the
    agreed term preferred, the other accepted forms admitted, the forbidden variants deprecated."""
    from lxml import etree

    root = etree.Element(f"{{{TBX_NS}}}tbx", nsmap={None: TBX_NS}, type="TBX-Basic", style="dca",
                         attrib={XML_LANG: "it"})
    header = etree.SubElement(root, f"{{{TBX_NS}}}tbxHeader")
    desc = etree.SubElement(etree.SubElement(header, f"{{{TBX_NS}}}fileDesc"), f"{{{TBX_NS}}}sourceDesc")
    etree.SubElement(desc, f"{{{TBX_NS}}}p").text = f"{GLOSSARY_FILE}, exported by voceunica {__version__}"
    body = etree.SubElement(etree.SubElement(root, f"{{{TBX_NS}}}text"), f"{{{TBX_NS}}}body")
    for i, term in enumerate(g.glossary.terms, start=1):
        entry = etree.SubElement(body, f"{{{TBX_NS}}}conceptEntry", id=f"c{i}")
        if term.iate:
            xref = etree.SubElement(entry, f"{{{TBX_NS}}}xref", type="externalCrossReference",
                                    target=f"https://iate.europa.eu/entry/result/{term.iate}")
            xref.text = f"IATE {term.iate}"
        if term.note:
            etree.SubElement(entry, f"{{{TBX_NS}}}note").text = term.note
        for lang in LANGS:
            sec = etree.SubElement(entry, f"{{{TBX_NS}}}langSec", attrib={XML_LANG: lang})
            statuses = [(getattr(term, lang), "preferredTerm-admn-sts"),
                        *((f, "admittedTerm-admn-sts") for f in getattr(term.also, lang)),
                        *((f, "deprecatedTerm-admn-sts") for f in getattr(term.forbidden, lang))]
            for text, status in statuses:
                term_sec = etree.SubElement(sec, f"{{{TBX_NS}}}termSec")
                etree.SubElement(term_sec, f"{{{TBX_NS}}}term").text = text
                etree.SubElement(term_sec, f"{{{TBX_NS}}}termNote", type="administrativeStatus").text = status
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data
