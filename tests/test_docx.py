"""DOCX writer: the Word files are read back — with python-docx, with zipfile and
lxml for the raw parts, with pandoc as an independent reader and, once, with
LibreOffice — and checked against the Markdown they were written from."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import docx
import pytest
from lxml import etree
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

from voceunica.docx import DocxError, markdown_to_docx, parallel_docx
from voceunica.pipeline import docx_meta, render_dossier
from voceunica.render import split_front_matter
from voceunica.resolve import resolve
from conftest import make_draft
from voceunica.project import Project
from voceunica.validate import load_project

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_R = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
NS = {
    "w": W,
    "r": R,
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "pic": "http://schemas.openxmlformats.org/drawingml/2006/picture",
    "rel": PKG_R,
    "ct": CT,
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
}
RT_FOOTNOTES = f"{R}/footnotes"
CT_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
TAGS = {"it": "it-IT", "en": "en-GB"}
SAMPLE_IDS = ("steel-2026", "microelectronics-2026", "joint-agenda-2026")
# the two position papers are briefs (no cover, no contents); the joint agenda is a dossier
COVERED = ("joint-agenda-2026",)
BRIEF = ("steel-2026", "microelectronics-2026")


def w(name: str) -> str:
    return f"{{{W}}}{name}"


# --- reading a package back ------------------------------------------------------------

class Package:
    """A .docx read back: its parts, parsed on demand."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            self.infos = z.infolist()
            self.raw = {i.filename: z.read(i.filename) for i in self.infos}
        self._xml: dict[str, etree._Element] = {}

    def xml(self, name: str) -> etree._Element:
        if name not in self._xml:
            self._xml[name] = etree.fromstring(self.raw[name])
        return self._xml[name]

    @property
    def doc(self) -> etree._Element:
        return self.xml("word/document.xml")

    @property
    def body(self) -> etree._Element:
        return self.doc.find("w:body", NS)

    def rels(self, part: str) -> dict[str, etree._Element]:
        folder, name = part.rsplit("/", 1)
        if f"{folder}/_rels/{name}.rels" not in self.raw:
            return {}
        rels = self.xml(f"{folder}/_rels/{name}.rels")
        return {r.get("Id"): r for r in rels.findall("rel:Relationship", NS)}

    def target(self, part: str, rid: str) -> str:
        """The part name a relationship of `part` points to."""
        folder = part.rsplit("/", 1)[0]
        return f"{folder}/{self.rels(part)[rid].get('Target')}"

    def style_ids(self, kind: str | None = None) -> set[str]:
        styles = self.xml("word/styles.xml").findall("w:style", NS)
        return {s.get(w("styleId")) for s in styles if kind is None or s.get(w("type")) == kind}


def text(el: etree._Element) -> str:
    return "".join(t.text or "" for t in el.iter(w("t")))


def pstyle(p: etree._Element) -> str | None:
    st = p.find("w:pPr/w:pStyle", NS)
    return st.get(w("val")) if st is not None else None


def paragraphs(root: etree._Element, *styles: str) -> list[etree._Element]:
    return [p for p in root.iter(w("p")) if not styles or pstyle(p) in styles]


def tables(root: etree._Element, style: str) -> list[etree._Element]:
    return [t for t in root.iter(w("tbl")) if t.find("w:tblPr/w:tblStyle", NS).get(w("val")) == style]


def rows(tbl: etree._Element) -> list[etree._Element]:
    return tbl.findall("w:tr", NS)  # direct rows only, not those of nested tables


def cells(tr: etree._Element) -> list[etree._Element]:
    return tr.findall("w:tc", NS)


def lang_of(r: etree._Element) -> str | None:
    lang = r.find("w:rPr/w:lang", NS)
    return lang.get(w("val")) if lang is not None else None


def runs_with_content(root: etree._Element) -> Iterator[etree._Element]:
    """Runs that hold something a reader sees or a field code — not a bare page
    break or the footnote separator lines."""
    bare = {w("rPr"), w("br"), w("separator"), w("continuationSeparator")}
    for r in root.iter(w("r")):
        if any(child.tag not in bare for child in r):
            yield r


# --- reading the Markdown ------------------------------------------------------------------

def md_parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table").use(footnote_plugin)


def md_body(files: dict[str, bytes | str], name: str) -> str:
    md = files[name]
    assert isinstance(md, str)
    return split_front_matter(md)[1]


def md_headings(body: str, max_level: int = 3) -> list[tuple[int, str]]:
    toks = md_parser().parse(body)
    out = []
    for i, t in enumerate(toks):
        if t.type == "heading_open" and int(t.tag[1]) <= max_level:
            inline = toks[i + 1]
            plain = "".join(c.content for c in inline.children or [] if c.type in ("text", "code_inline"))
            out.append((int(t.tag[1]), plain.strip()))
    return out


def md_footnote_refs(body: str) -> int:
    return sum(1 for t in md_parser().parse(body) if t.type == "inline"
               for c in t.children or [] if c.type == "footnote_ref")


def md_footnote_labels(body: str) -> int:
    """Distinct notes: Word gets one footnote per label, later references repeat its number."""
    return len({c.meta["label"] for t in md_parser().parse(body) if t.type == "inline"
                for c in t.children or [] if c.type == "footnote_ref"})


def noterefs(root: etree._Element) -> list[str]:
    """Bookmarks named by NOTEREF fields, in order."""
    return [m.group(1) for t in root.iter(w("instrText")) if (m := re.search(r"NOTEREF (\S+)", t.text or ""))]


def docx_headings(root: etree._Element, prefix: str = "Heading") -> list[tuple[int, str]]:
    out = []
    for p in root.iter(w("p")):
        m = re.fullmatch(rf"{prefix}([1-9])", pstyle(p) or "")
        if m:
            out.append((int(m.group(1)), text(p)))
    return out


# --- fixtures ----------------------------------------------------------------------------------

def _copy_mini(dest: Path) -> Path:
    shutil.copytree(FIXTURES / "mini", dest)
    shutil.copytree(REPO / "templates", dest / "templates")
    return dest


@pytest.fixture(scope="module")
def no_epoch() -> Iterator[None]:
    """Outputs are stamped with SOURCE_DATE_EPOCH when it is set (a CI may set
    it); these tests check the default, the dossier's own date."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SOURCE_DATE_EPOCH", raising=False)
        yield


@pytest.fixture(scope="module")
def sample_project() -> Project:
    project = load_project(REPO)  # read only: nothing here writes to the project
    assert project.errors == []
    return project


@pytest.fixture(scope="module")
def sample_files(sample_project: Project, no_epoch: None) -> dict[str, dict[str, bytes | str]]:
    return {d: render_dossier(sample_project, d) for d in SAMPLE_IDS}


@pytest.fixture(scope="module")
def mini_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = load_project(_copy_mini(tmp_path_factory.mktemp("docx") / "mini"))
    assert project.errors == []
    return project


@pytest.fixture(scope="module")
def mini_files(mini_project: Project, no_epoch: None) -> dict[str, bytes | str]:
    return render_dossier(mini_project, "mini")


def pkg(files: dict[str, bytes | str], name: str) -> Package:
    data = files[name]
    assert isinstance(data, bytes)
    return Package(data)


def all_single(sample_files: dict[str, dict[str, bytes | str]]) -> Iterator[tuple[str, str, Package]]:
    for d in SAMPLE_IDS:
        for lang in ("it", "en"):
            yield d, lang, pkg(sample_files[d], f"{d}.{lang}.docx")


# --- 1. styles ----------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["it", "en", "it-en"])
def test_every_style_used_is_defined_in_the_styles_part(sample_files: Any, layout: str) -> None:
    for d in SAMPLE_IDS:
        p = pkg(sample_files[d], f"{d}.{layout}.docx")
        para, char, table = p.style_ids("paragraph"), p.style_ids("character"), p.style_ids("table")
        stories = ["word/document.xml", "word/footnotes.xml"] + [n for n in p.raw if re.fullmatch(
            r"word/(header|footer)\d+\.xml", n)]
        for part in stories:
            root = p.xml(part)
            used_p = {e.get(w("val")) for e in root.iter(w("pStyle"))}
            used_r = {e.get(w("val")) for e in root.iter(w("rStyle"))}
            used_t = {e.get(w("val")) for e in root.iter(w("tblStyle"))}
            assert used_p <= para, (d, part, used_p - para)
            assert used_r <= char, (d, part, used_r - char)
            assert used_t <= table, (d, part, used_t - table)
        # the writer really uses the styles, not just Normal
        used = {e.get(w("val")) for e in p.doc.iter(w("pStyle"))}
        assert {"Title", "Heading1", "Heading2", "BodyText", "Caption", "Source"} <= used
        assert ("TOC1" in used) == (d in COVERED), d


def test_no_direct_formatting_only_named_styles_and_language(sample_files: Any) -> None:
    for d in SAMPLE_IDS:
        for layout in ("it", "en", "it-en"):
            p = pkg(sample_files[d], f"{d}.{layout}.docx")
            for part in ("word/document.xml", "word/footnotes.xml"):
                for rpr in p.xml(part).iter(w("rPr")):
                    if rpr.getparent().tag != w("r"):
                        continue
                    assert {c.tag for c in rpr} <= {w("rStyle"), w("lang")}, (d, layout, part,
                                                                              etree.tostring(rpr))
                # no direct paragraph formatting either: style, list number, nothing else — but for
                # headings in the parallel grid, whose "keep with next" is switched off (LibreOffice kept
                # the whole grid off page 1 for it; in a table cell Word ignores it anyway)
                for ppr in p.xml(part).iter(w("pPr")):
                    if ppr.getparent().getparent().get(w("type")) in ("separator", "continuationSeparator"):
                        continue  # Word's own separator lines
                    allowed = {w("pStyle"), w("numPr")}
                    style = ppr.find(w("pStyle"))
                    name = (style.get(w("val")) or "") if style is not None else ""
                    keep = ppr.find(w("keepNext"))
                    if keep is not None and layout == "it-en" and re.fullmatch(r"(Parallel)?Heading\d", name):
                        assert keep.get(w("val")) == "0", etree.tostring(ppr)
                        allowed.add(w("keepNext"))
                    elif keep is not None and name in ("Source", "Figure", "BodyText"):
                        # a source line keeps with its chart, a chart with its caption, an introduction too
                        following = ppr.getparent().getnext()
                        assert following.find("w:pPr/w:pStyle", NS).get(w("val")) == \
                            {"Source": "Figure", "Figure": "Caption", "BodyText": "Caption"}[name]
                        assert keep.get(w("val")) is None
                        allowed.add(w("keepNext"))
                    elif keep is not None and name.startswith("Table") and keep.get(w("val")) is None:
                        # a short table keeps whole, its last row with the source line under it
                        tr = next(a for a in ppr.iterancestors() if a.tag == w("tr"))
                        tbl = tr.getparent()
                        assert len(tbl.findall(w("tr"))) <= 16
                        assert tr.getnext() is not None or \
                            tbl.getnext().find("w:pPr/w:pStyle", NS).get(w("val")) == "Source"
                        allowed.add(w("keepNext"))
                    assert {c.tag for c in ppr} <= allowed, etree.tostring(ppr)


def test_bold_italic_and_code_are_character_styles(mini_files: Any, sample_files: Any) -> None:
    def styled(root: etree._Element, style: str) -> list[str]:
        return [text(r) for r in root.iter(w("r")) if r.find(f"w:rPr/w:rStyle[@w:val='{style}']", NS) is not None]

    p = pkg(mini_files, "mini.it.docx")
    assert "nuovo" in styled(p.doc, "StrongEmphasis")  # "Testo **nuovo**." in the amendment: bold italic
    assert "Motivazione." in styled(p.doc, "Strong")
    joint = pkg(sample_files["joint-agenda-2026"], "joint-agenda-2026.it.docx")
    assert "packaging" in styled(joint.doc, "Emphasis")  # il *packaging* avanzato
    assert "sbs_r_nuts2021" in styled(joint.xml("word/footnotes.xml"), "VerbatimChar")  # `sbs_r_nuts2021`, in a note
    # Markdown punctuation never reaches Word
    assert "**" not in text(p.doc) and "`" not in text(joint.doc)


def test_headings_use_heading_styles_in_markdown_order(sample_files: Any) -> None:
    for d, lang, p in all_single(sample_files):
        expected = md_headings(md_body(sample_files[d], f"{d}.{lang}.md"))
        assert expected and docx_headings(p.doc) == expected, (d, lang)


def test_cover_has_a_title_paragraph_with_the_dossier_title(sample_files: Any, sample_project: Project) -> None:
    for d, lang, p in all_single(sample_files):
        expected = resolve(sample_project, d, lang).title
        titles = [text(x) for x in paragraphs(p.body, "Title")]
        assert titles == [expected], (d, lang)
        # the title is on the cover: before the contents and the first heading
        first = paragraphs(p.body)
        kinds = [pstyle(x) for x in first]
        if d in COVERED:
            assert kinds.index("Title") < kinds.index("TOCHeading") < kinds.index("Heading1")
        else:
            assert "TOCHeading" not in kinds and kinds.index("Title") < kinds.index("Heading1")


# --- 2. document properties -------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["it", "en"])
def test_core_properties_come_from_the_dossier_not_the_clock(sample_files: Any, sample_project: Project,
                                                              lang: str) -> None:
    for d in SAMPLE_IDS:
        dossier = sample_project.dossiers[d]
        p = pkg(sample_files[d], f"{d}.{lang}.docx")
        core = docx.Document(io.BytesIO(p.data)).core_properties
        rd = resolve(sample_project, d, lang)
        assert core.title == rd.title
        assert core.language == TAGS[lang]
        day = dt.datetime(dossier.date.year, dossier.date.month, dossier.date.day)
        day = day.replace(tzinfo=dt.UTC)
        assert core.created == day and core.modified == day
        assert core.author == "; ".join(name for name, _, _ in rd.authors)
        assert ("Lombardia" if lang == "it" else "Lombardy") in core.author and "Veneto" in core.author
        assert core.version == dossier.version
        # the raw XML says the same, in W3CDTF
        raw = p.xml("docProps/core.xml")
        assert raw.findtext("dcterms:created", namespaces=NS) == f"{dossier.date.isoformat()}T00:00:00Z"
        assert raw.findtext("dc:language", namespaces=NS) == TAGS[lang]


def test_parallel_properties_name_both_titles(sample_files: Any, sample_project: Project) -> None:
    p = pkg(sample_files["steel-2026"], "steel-2026.it-en.docx")
    core = docx.Document(io.BytesIO(p.data)).core_properties
    it, en = (resolve(sample_project, "steel-2026", x).title for x in ("it", "en"))
    assert core.title == f"{it} / {en}"


def test_source_date_epoch_overrides_the_dossier_date(mini_project: Project, monkeypatch: pytest.MonkeyPatch
                                                     ) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1772150400")  # 2026-02-27T00:00:00Z
    p = pkg(render_dossier(mini_project, "mini"), "mini.it.docx")
    assert p.xml("docProps/core.xml").findtext("dcterms:modified", namespaces=NS) == "2026-02-27T00:00:00Z"
    assert {i.date_time for i in p.infos} == {(2026, 2, 27, 0, 0, 0)}


def test_an_epoch_overrides_the_dossier_date(mini_project: Project, no_epoch: None) -> None:
    epoch = 1767225600  # 2026-01-01T00:00:00Z
    p = pkg(render_dossier(mini_project, "mini", epoch), "mini.en.docx")
    assert docx.Document(io.BytesIO(p.data)).core_properties.created == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert {i.date_time for i in p.infos} == {(2026, 1, 1, 0, 0, 0)}


# --- 3. footnotes ---------------------------------------------------------------------------------

def test_footnotes_part_is_related_and_typed(sample_files: Any) -> None:
    for d in SAMPLE_IDS:
        for layout in ("it", "en", "it-en"):
            p = pkg(sample_files[d], f"{d}.{layout}.docx")
            rels = [r for r in p.rels("word/document.xml").values() if r.get("Type") == RT_FOOTNOTES]
            assert len(rels) == 1 and rels[0].get("Target") == "footnotes.xml"
            assert "word/footnotes.xml" in p.raw
            overrides = {o.get("PartName"): o.get("ContentType")
                         for o in p.xml("[Content_Types].xml").findall("ct:Override", NS)}
            assert overrides["/word/footnotes.xml"] == CT_FOOTNOTES
            # the separators settings.xml refers to exist
            notes = p.xml("word/footnotes.xml")
            types = {n.get(w("id")): n.get(w("type")) for n in notes.findall("w:footnote", NS)}
            assert types["-1"] == "separator" and types["0"] == "continuationSeparator"


def test_every_footnote_reference_has_a_non_empty_note(sample_files: Any) -> None:
    for d, lang, p in all_single(sample_files):
        refs = [r.get(w("id")) for r in p.doc.iter(w("footnoteReference"))]
        notes = {n.get(w("id")): n for n in p.xml("word/footnotes.xml").findall("w:footnote", NS)
                 if n.get(w("type")) is None}
        assert len(refs) == len(set(refs)), "a footnote id is used twice"
        assert set(refs) == set(notes), (d, lang)
        for fid in refs:
            note = notes[fid]
            assert text(note).strip("\u00a0 "), (d, lang, fid)
            assert note.find(".//w:footnoteRef", NS) is not None
            assert {pstyle(x) for x in note.iter(w("p"))} == {"FootnoteText"}
        # one Word footnote per note; every further reference is a NOTEREF field to its bookmark
        body = md_body(sample_files[d], f"{d}.{lang}.md")
        assert len(refs) == md_footnote_labels(body) > 0, (d, lang)
        assert len(refs) + len(noterefs(p.doc)) == md_footnote_refs(body), (d, lang)
        marks = {b.get(w("name")) for b in p.doc.iter(w("bookmarkStart"))}
        assert set(noterefs(p.doc)) <= marks, (d, lang)


def test_a_repeated_note_shows_the_number_of_its_first_reference(mini_files: Any) -> None:
    p = pkg(mini_files, "mini.it.docx")
    [mark] = noterefs(p.doc)
    start = next(b for b in p.doc.iter(w("bookmarkStart")) if b.get(w("name")) == mark)
    ref = start.getnext().find(".//w:footnoteReference", NS)
    assert ref is not None, "the bookmark must hold the first reference"
    refs = [r.get(w("id")) for r in p.doc.iter(w("footnoteReference"))]
    instr = next(t for t in p.doc.iter(w("instrText")) if "NOTEREF" in (t.text or ""))
    shown = instr.getparent().getnext().getnext()  # begin, instr, separate, result
    assert "\\f" in instr.text and text(shown) == str(refs.index(ref.get(w("id"))) + 1)
    assert shown.find("w:rPr/w:rStyle", NS).get(w("val")) == "FootnoteReference"


def test_footnote_texts_follow_the_references_in_order(mini_files: Any) -> None:
    p = pkg(mini_files, "mini.it.docx")
    notes = {n.get(w("id")): text(n) for n in p.xml("word/footnotes.xml").findall("w:footnote", NS)}
    order = [notes[r.get(w("id"))] for r in p.doc.iter(w("footnoteReference"))]
    assert len(order) == 2  # the CBAM note (cited twice: key message, summary) once, then the other
    assert "32023R0956" in order[0]
    assert order[1].strip("\u00a0 ") == "Nota di prova."


def test_footnote_links_resolve_to_eur_lex(sample_files: Any) -> None:
    p = pkg(sample_files["steel-2026"], "steel-2026.en.docx")
    notes = p.xml("word/footnotes.xml")
    links = notes.findall(".//w:hyperlink", NS)
    assert links
    rels = p.rels("word/footnotes.xml")
    targets = set()
    for link in links:
        rel = rels[link.get(f"{{{R}}}id")]
        assert rel.get("TargetMode") == "External"
        targets.add(rel.get("Target"))
        assert rel.get("Target").endswith(text(link)), "the link text is the CELEX number it points to"
    assert "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32023R0956" in targets


# --- 4. table of contents ------------------------------------------------------------------------

def _toc_span(body: etree._Element) -> tuple[list[etree._Element], int, int]:
    """Every element of the body in document order, and where the TOC field begins and ends."""
    order = list(body.iter())
    begin = end = None
    depth = 0
    for i, el in enumerate(order):
        if el.tag == w("instrText") and (el.text or "").strip().startswith("TOC \\o"):
            # the begin fldChar is in the run before
            begin = max(j for j in range(i) if order[j].tag == w("fldChar")
                        and order[j].get(w("fldCharType")) == "begin")
            depth = 0
            for k in range(begin, len(order)):
                kind = order[k].get(w("fldCharType")) if order[k].tag == w("fldChar") else None
                depth += {"begin": 1, "end": -1}.get(kind or "", 0)
                if kind == "end" and depth == 0:
                    end = k
                    break
            break
    assert begin is not None and end is not None, "no complete TOC field"
    return order, begin, end


@pytest.mark.parametrize("layout", ["it", "en", "it-en"])
def test_toc_field_is_prefilled_with_linked_headings(sample_files: Any, layout: str) -> None:
    for d in COVERED:
        p = pkg(sample_files[d], f"{d}.{layout}.docx")
        order, begin, end = _toc_span(p.body)
        instr = next(el.text for el in order if el.tag == w("instrText") and "TOC" in el.text)
        assert '\\o "1-2"' in instr and "\\h" in instr
        entries = paragraphs(p.body, "TOC1", "TOC2", "TOC3")
        assert entries
        index = {id(el): i for i, el in enumerate(order)}
        links = [index[id(h)] for e in entries for h in e.iter(w("hyperlink"))]
        assert len(links) == len(entries)
        # begin … separate … (the entries) … end, around all of them: the field's current result
        assert begin < min(links) and max(links) < end
        separate = [i for i in range(begin, min(links)) if order[i].tag == w("fldChar")
                    and order[i].get(w("fldCharType")) == "separate"]
        assert len(separate) == 1
        assert len(entries) > 1 and index[id(entries[0])] < begin < index[id(entries[1])]
        assert index[id(entries[-1])] < end
        assert all(begin < index[id(x)] < end for x in order if x.tag == w("hyperlink")
                   and x.get(w("anchor"), "").startswith("_Toc"))
        outline = [(lvl, t) for lvl, t in docx_headings(p.doc) if lvl <= 2]
        assert [(int(pstyle(e)[-1]), text(e)) for e in entries] == outline, (d, layout)
        # each entry links to the bookmark around its heading
        marks = {b.get(w("name")): b for b in p.body.iter(w("bookmarkStart"))}
        for e in entries:
            (link,) = e.findall("w:hyperlink", NS)
            anchor = link.get(w("anchor"))
            assert anchor in marks, (d, anchor)
            heading = marks[anchor].getparent()
            assert pstyle(heading) in ("Heading1", "Heading2") and text(heading) == text(e)


def test_toc_matches_the_markdown_outline(sample_files: Any) -> None:
    for d, lang, p in all_single(sample_files):
        if d in BRIEF:
            continue  # a brief has no contents (test_a_brief_opens_with_the_key_messages_on_page_1)
        entries = [text(e) for e in paragraphs(p.body, "TOC1", "TOC2")]
        expected = [t for lvl, t in md_headings(md_body(sample_files[d], f"{d}.{lang}.md"), 2)]
        assert entries == expected


def test_bookmarks_are_unique_and_closed(sample_files: Any) -> None:
    for d in SAMPLE_IDS:
        for layout in ("it", "en", "it-en"):
            body = pkg(sample_files[d], f"{d}.{layout}.docx").body
            starts = [(b.get(w("id")), b.get(w("name"))) for b in body.iter(w("bookmarkStart"))]
            ends = [b.get(w("id")) for b in body.iter(w("bookmarkEnd"))]
            assert len({i for i, _ in starts}) == len(starts) == len({n for _, n in starts})
            assert sorted(ends) == sorted(i for i, _ in starts)


# --- 5. header and footer ----------------------------------------------------------------------

def _header_footer(p: Package, kind: str, which: str) -> etree._Element:
    ref = p.body.find(f"w:sectPr/w:{kind}Reference[@w:type='{which}']", NS)
    assert ref is not None, f"no {which} {kind}"
    return p.xml(p.target("word/document.xml", ref.get(f"{{{R}}}id")))


def _fields(root: etree._Element) -> list[str]:
    instr = [(el.text or "").split()[0] for el in root.iter(w("instrText")) if (el.text or "").strip()]
    simple = [el.get(w("instr")).split()[0] for el in root.iter(w("fldSimple"))]
    return instr + simple


@pytest.mark.parametrize("lang", ["it", "en"])
def test_running_header_and_page_footer(sample_files: Any, sample_project: Project, lang: str) -> None:
    for d in SAMPLE_IDS:
        p = pkg(sample_files[d], f"{d}.{lang}.docx")
        rd = resolve(sample_project, d, lang)
        head = text(_header_footer(p, "header", "default"))
        assert rd.short_title in head and rd.version in head
        assert head.endswith(f"{rd.labels['version']} {rd.version}")
        foot = _header_footer(p, "footer", "default")
        assert _fields(foot) == ["PAGE", "NUMPAGES"]
        assert text(foot).startswith(rd.labels["page"])
        # the cover has its own, empty, header and footer; a brief's first page is numbered
        assert p.body.find("w:sectPr/w:titlePg", NS) is not None
        assert text(_header_footer(p, "header", "first")) == ""
        assert _fields(_header_footer(p, "footer", "first")) == ([] if d in COVERED else ["PAGE", "NUMPAGES"])


def test_parallel_header_names_both_short_titles(sample_files: Any, sample_project: Project) -> None:
    p = pkg(sample_files["steel-2026"], "steel-2026.it-en.docx")
    it, en = (resolve(sample_project, "steel-2026", x).short_title for x in ("it", "en"))
    assert text(_header_footer(p, "header", "default")).startswith(f"{it} / {en}")


# --- 6. language ------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["it", "en"])
def test_every_run_is_tagged_with_the_document_language(sample_files: Any, lang: str) -> None:
    for d in SAMPLE_IDS:
        p = pkg(sample_files[d], f"{d}.{lang}.docx")
        for part in ("word/document.xml", "word/footnotes.xml"):
            assert {lang_of(r) for r in runs_with_content(p.xml(part))} == {TAGS[lang]}, (d, part)
        for part in [n for n in p.raw if re.fullmatch(r"word/(header|footer)\d+\.xml", n)]:
            assert {lang_of(r) for r in runs_with_content(p.xml(part))} <= {TAGS[lang]}, (d, part)
        # and the default, for text typed in Word later, is the same language
        default = p.xml("word/styles.xml").find("w:docDefaults/w:rPrDefault/w:rPr/w:lang", NS)
        assert default.get(w("val")) == TAGS[lang]
        assert p.xml("word/settings.xml").find("w:themeFontLang", NS).get(w("val")) == TAGS[lang]


def test_runs_without_a_language_hold_only_a_page_break(sample_files: Any) -> None:
    """What `runs_with_content` leaves out really is empty of text."""
    for _d, _lang, p in all_single(sample_files):
        for r in p.doc.iter(w("r")):
            if lang_of(r) is None:
                assert [c.tag for c in r if c.tag != w("rPr")] == [w("br")]
                assert r.find("w:br", NS).get(w("type")) == "page"


def test_parallel_columns_are_tagged_italian_and_english(sample_files: Any) -> None:
    for d in SAMPLE_IDS:
        p = pkg(sample_files[d], f"{d}.it-en.docx")
        grids = tables(p.body, "ParallelTable")
        notes = {n.get(w("id")): n for n in p.xml("word/footnotes.xml").findall("w:footnote", NS)}
        for grid in grids:
            for tr in rows(grid):
                left, right = cells(tr)
                for cell, tag in ((left, "it-IT"), (right, "en-GB")):
                    assert {lang_of(r) for r in runs_with_content(cell)} <= {tag}, (d, tag)
                    # a note cited in a column is one note in both languages, each tagged as its own
                    for ref in cell.iter(w("footnoteReference")):
                        assert {lang_of(r) for r in runs_with_content(notes[ref.get(w("id"))])} == {"it-IT", "en-GB"}
        assert sum(1 for grid in grids for _ in runs_with_content(grid)) > 100
        refs = [r.get(w("id")) for r in p.doc.iter(w("footnoteReference"))]
        assert len(refs) == len(set(refs)) == len(notes) - 2  # both separators besides
        it, en = (md_footnote_labels(md_body(sample_files[d], f"{d}.{x}.md")) for x in ("it", "en"))
        assert len(refs) == it == en  # one footnote per note, not one per language


def test_parallel_note_has_one_number_in_both_columns(sample_files: Any) -> None:
    """Issue 12: the same note had two numbers (IT 1-5, EN 6-10).  Each note is one footnote,
    numbered once (Word numbers footnotes in the order of their references); every later
    citation, in either column, repeats that number through a NOTEREF field."""
    p = pkg(sample_files["joint-agenda-2026"], "joint-agenda-2026.it-en.docx")
    number = {r.get(w("id")): i for i, r in enumerate(p.doc.iter(w("footnoteReference")), start=1)}
    marks = {}  # bookmark name -> the number of the footnote reference it holds
    for start in p.doc.iter(w("bookmarkStart")):
        ref = start.getnext()
        if ref is not None and ref.find("w:footnoteReference", NS) is not None:
            marks[start.get(w("name"))] = number[ref.find("w:footnoteReference", NS).get(w("id"))]
    shown_by_column: dict[str, Counter[int]] = {"it-IT": Counter(), "en-GB": Counter()}
    for grid in tables(p.body, "ParallelTable"):
        for tr in rows(grid):
            for cell in cells(tr):
                for r in cell.iter(w("r")):
                    fref = r.find("w:footnoteReference", NS)
                    if fref is not None:
                        shown_by_column[lang_of(r)][number[fref.get(w("id"))]] += 1
                for instr in cell.iter(w("instrText")):
                    m = re.fullmatch(r"\s*NOTEREF (\S+) .*", instr.text or "")
                    if m:
                        # the field's shown result is the number of the footnote it points at
                        result = instr.getparent().getnext().getnext()
                        assert text(result) == str(marks[m.group(1)])
                        shown_by_column[lang_of(result)][marks[m.group(1)]] += 1
    footnotes = [n for n in p.xml("word/footnotes.xml").findall("w:footnote", NS) if n.get(w("type")) is None]
    assert len(number) == len(footnotes) == len(marks) > 10
    # each note's number is shown in both columns, and no number stands for two notes
    assert set(shown_by_column["it-IT"]) == set(shown_by_column["en-GB"]) == set(range(1, len(footnotes) + 1))
    for note in footnotes:  # the Italian wording first, then the English
        langs = [lang_of(r) for r in runs_with_content(note) if text(r).strip()]
        assert langs[0] == "it-IT" and langs[-1] == "en-GB", langs


# --- 7. images ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["it", "en"])
def test_every_picture_has_alt_text_in_the_document_language(sample_files: Any, lang: str) -> None:
    for d, doc_lang, p in all_single(sample_files):
        if doc_lang != lang:
            continue
        md = md_body(sample_files[d], f"{d}.{lang}.md")
        alts = re.findall(r"!\[([^\]]*)\]\(", md)
        pics = list(p.doc.iter(f"{{{NS['wp']}}}docPr"))
        assert [x.get("descr") for x in pics] == alts and alts, d
        ids = [x.get("id") for x in pics]
        assert len(set(ids)) == len(ids), "shape ids must be unique"
        for x in pics:
            assert x.get("descr").startswith(("Grafico a barre", "Grafico a linee", "Iter dei fascicoli UE")
                                             if lang == "it" else
                                             ("Bar chart", "Line chart", "Procedure timeline")), x.get("descr")


def test_the_chart_in_each_language_is_the_one_embedded(mini_files: Any) -> None:
    for lang in ("it", "en"):
        p = pkg(mini_files, f"mini.{lang}.docx")
        (blip,) = p.doc.iter(f"{{{NS['a']}}}blip")
        part = p.target("word/document.xml", blip.get(f"{{{R}}}embed"))
        assert p.raw[part] == mini_files[f"mini.exports.{lang}.png"]
        (pic,) = p.doc.iter(f"{{{NS['wp']}}}docPr")
        assert pic.get("descr").startswith("Grafico a barre" if lang == "it" else "Bar chart")
        # the picture fits the text width (A4, 2.5 cm margins = 9071 twips)
        extent = next(p.doc.iter(f"{{{NS['wp']}}}extent"))
        assert 0 < int(extent.get("cx")) <= 9071 * 635 and int(extent.get("cy")) > 0


def test_parallel_charts_and_wide_tables_run_across_the_page(sample_files: Any) -> None:
    """Issue 12: charts at 47 % width with 4-point labels.  In the parallel text a chart, a table
    of more than three columns and an amendment leave the grid: the Italian one, then the English
    one, across the page, where they stand in the text."""
    p = pkg(sample_files["joint-agenda-2026"], "joint-agenda-2026.it-en.docx")
    for grid in tables(p.body, "ParallelTable"):
        assert not list(grid.iter(f"{{{NS['wp']}}}docPr"))
        for table in grid.iter(w("tbl")):
            if table is not grid:
                assert len(table.findall("w:tblGrid/w:gridCol", NS)) <= 3
                assert table.find("w:tblPr/w:tblStyle", NS).get(w("val")) != "AmendmentTable"
    pics = [x.get("descr") for x in p.body.findall("w:p//wp:docPr", NS)]  # across the page: not in a table
    assert pics and pics == [x.get("descr") for x in p.doc.iter(f"{{{NS['wp']}}}docPr")]
    md_alts = [re.findall(r"!\[([^\]]*)\]\(", md_body(sample_files["joint-agenda-2026"], f"joint-agenda-2026.{x}.md"))
               for x in ("it", "en")]
    # each Italian chart, then its English twin
    assert pics == [alt for pair in zip(*md_alts, strict=True) for alt in pair]
    ids = [x.get("id") for x in p.doc.iter(f"{{{NS['wp']}}}docPr")]
    assert len(set(ids)) == len(ids)
    column = (9071 // 2 - 2 * 113) * 635
    for inline in p.body.iter(f"{{{NS['wp']}}}inline"):
        extent = inline.find("wp:extent", NS)
        cx, cy = int(extent.get("cx")), int(extent.get("cy"))
        blip = inline.find(".//a:blip", NS)
        width, height = _png_size(p.raw[p.target("word/document.xml", blip.get(f"{{{R}}}embed"))])
        assert 1.5 * column < cx <= 9071 * 635  # 0.8 of the page's width: 7-point labels
        assert abs(cy / cx - height / width) < 0.01
    wide = [t for t in p.body.findall("w:tbl", NS) if t.find("w:tblPr/w:tblStyle", NS).get(w("val")) != "ParallelTable"
            and t.find("w:tblPr/w:tblStyle", NS).get(w("val")) != "CoverTable"]
    styles = [t.find("w:tblPr/w:tblStyle", NS).get(w("val")) for t in wide]
    assert styles.count("AmendmentTable") == 6 and styles.count("AnnexTable") == 2  # 3 amendments, 1 annex; 2 languages
    for t in wide:  # the Italian table, then the English one: each in its language
        assert len({lang_of(r) for r in runs_with_content(t)}) == 1


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_every_relationship_id_resolves(sample_files: Any) -> None:
    """r:id and r:embed in every story point to a relationship of that same part
    (a footnote's link must be related from footnotes.xml, not from document.xml)."""
    attrs = (f"{{{R}}}id", f"{{{R}}}embed")
    for d in SAMPLE_IDS:
        for layout in ("it", "en", "it-en"):
            p = pkg(sample_files[d], f"{d}.{layout}.docx")
            for part in [n for n in p.raw if re.fullmatch(r"word/[a-z]+\d*\.xml", n)]:
                used = {el.get(a) for el in p.xml(part).iter() for a in attrs if el.get(a)}
                if not used:
                    continue
                rels = p.rels(part)
                assert used <= set(rels), (d, layout, part, used - set(rels))
                for rid in used:
                    if rels[rid].get("TargetMode") != "External":
                        assert p.target(part, rid) in p.raw, (d, part, rid)


# --- 8. tables -------------------------------------------------------------------------------------

NUMBER = re.compile(r"[\d\s\u00a0.,%]+|n\.d\.|n/a")


def test_annex_tables_repeat_their_header_and_right_align_numbers(sample_files: Any) -> None:
    for d, lang, p in all_single(sample_files):
        # an annex table follows its numbered caption (the state-of-play boxes share the style, not the caption)
        annexes = [t for t in tables(p.body, "AnnexTable")
                   if (prev := t.getprevious()) is not None and pstyle(prev) == "Caption"]
        assert len(annexes) == len(sample_files[d][f"{d}.{lang}.md"].split("<!-- vu:source -->")) - 1
        for tbl in annexes:
            head, *body = rows(tbl)
            assert head.find("w:trPr/w:tblHeader", NS) is not None
            assert all(r.find("w:trPr/w:tblHeader", NS) is None for r in body)
            assert {pstyle(x) for c in cells(head) for x in c.iter(w("p"))} <= {"TableHeading",
                                                                               "TableHeadingNumber"}
            for tr in body:
                for tc in cells(tr):
                    (para,) = tc.findall("w:p", NS)
                    if NUMBER.fullmatch(text(para)):
                        assert pstyle(para) == "TableNumber", (d, lang, text(para))
            # column widths fill the text width
            grid = [int(g.get(w("w"))) for g in tbl.iter(w("gridCol"))]
            assert sum(grid) == 9071 and len(grid) == len(cells(head))


def test_text_columns_stay_left_aligned(sample_files: Any) -> None:
    p = pkg(sample_files["joint-agenda-2026"], "joint-agenda-2026.it.docx")
    firms = next(t for t in tables(p.body, "AnnexTable") if "Imprese con dipendenti" in text(rows(t)[0]))
    head, *body = rows(firms)
    assert [pstyle(c.find("w:p", NS)) for c in cells(head)] == ["TableHeading", "TableHeadingNumber",
                                                                 "TableHeadingNumber"]
    assert [pstyle(c.find("w:p", NS)) for c in cells(body[0])] == ["TableText", "TableNumber", "TableNumber"]
    # the figure's no-break space reaches the cell (the number never breaks inside)
    assert [text(c) for c in cells(body[0])] == ["Lombardia", "2023", "284\u00a0196"]


@pytest.mark.parametrize("lang,labels", [("it", ["Testo della Commissione", "Emendamento"]),
                                         ("en", ["Text proposed by the Commission", "Amendment"])])
def test_amendment_tables(sample_files: Any, mini_files: Any, lang: str, labels: list[str]) -> None:
    found = 0
    for files, d in [(mini_files, "mini")] + [(sample_files[x], x) for x in SAMPLE_IDS]:
        p = pkg(files, f"{d}.{lang}.docx")
        amendments = tables(p.body, "AmendmentTable")
        assert len(amendments) == files[f"{d}.{lang}.md"].count("<!-- vu:amendments -->")
        for tbl in amendments:
            found += 1
            grid = [int(g.get(w("w"))) for g in tbl.iter(w("gridCol"))]
            assert len(grid) == 2 and grid[0] == grid[1] and sum(grid) >= 9070
            head, *body = rows(tbl)
            assert [text(c) for c in cells(head)] == labels
            assert head.find("w:trPr/w:tblHeader", NS) is not None
            assert len(body) == 1 and text(cells(body[0])[1])  # the Commission's cell is empty for a new provision
            # no row splits across pages: cantSplit on every row, before tblHeader (CT_TrPrBase order)
            for tr in rows(tbl):
                assert [c.tag for c in tr.find("w:trPr", NS)][:1] == [w("cantSplit")]
    assert found >= 4


def test_amendments_follow_the_parliaments_conventions(sample_files: Any, mini_files: Any) -> None:
    """New wording bold italic, a new provision's Commission cell empty (not "-")."""
    def look(run: etree._Element) -> str:
        style = run.find("w:rPr/w:rStyle", NS)
        return style.get(w("val")) if style is not None else ""

    new_provisions = 0
    for files, d in [(mini_files, "mini")] + [(sample_files[x], x) for x in SAMPLE_IDS]:
        for lang in ("it", "en"):
            for tbl in tables(pkg(files, f"{d}.{lang}.docx").body, "AmendmentTable"):
                commission, amendment = cells(rows(tbl)[1])
                styles = {look(r) for r in amendment.iter(w("r")) if text(r).strip()}
                assert "StrongEmphasis" in styles and "Strong" not in styles, (d, lang, styles)
                if not text(commission):
                    new_provisions += 1
                    assert commission.findall("w:p", NS) and not list(commission.iter(w("r")))
                assert text(commission) != "-"
    assert new_provisions >= 4  # steel-2026 and microelectronics-2026 each hold one, in both languages


# --- 9. draft marking --------------------------------------------------------------------------

def _xml_parts(p: Package) -> dict[str, str]:
    return {n: b.decode("utf-8") for n, b in p.raw.items() if n.endswith((".xml", ".rels"))}


def test_draft_is_marked_on_every_page_and_agreed_is_not(tmp_path: Path, mini_files: Any, no_epoch: None) -> None:
    root = _copy_mini(tmp_path / "mini")
    make_draft(root)
    project = load_project(root)
    assert project.errors == []
    draft = render_dossier(project, "mini")
    for lang in ("it", "en"):
        p = pkg(draft, f"mini.{lang}.docx")
        for which in ("default", "first"):  # the cover too
            head = _header_footer(p, "header", which)
            marks = paragraphs(head, "DraftMarking")
            assert [text(x) for x in marks] == [{"it": "BOZZA", "en": "DRAFT"}[lang]], (lang, which)
        assert "DraftMarking" in p.style_ids("paragraph")
        agreed = pkg(mini_files, f"mini.{lang}.docx")
        for name, xml in _xml_parts(agreed).items():
            assert "bozza" not in xml.lower(), name
            assert "DraftMarking" not in xml or name == "word/styles.xml", name


# --- 10. numbered lists ----------------------------------------------------------------------------

def _list_groups(paras: Iterable[etree._Element]) -> list[list[etree._Element]]:
    """Consecutive List Number paragraphs (continuations and nested items between them allowed)."""
    groups: list[list[etree._Element]] = []
    prev_was_list = False
    for p in paras:
        st = pstyle(p)
        if st == "ListNumber":
            if not prev_was_list:
                groups.append([])
            groups[-1].append(p)
            prev_was_list = True
        elif st not in ("ListContinue", "ListNumber2", "ListBullet2"):
            prev_was_list = False
    return groups


# Several numbered lists, each under a heading (which keeps the parallel text's cells apart).  (The
# sample's dossiers print one numbered list each, the key messages, since the joint agenda prints
# each ask once.)
_LISTS_MD = "".join(f"# Sezione {i}\n\n1. primo\n2. secondo\n\n## A\n\n1. terzo\n\n- punto\n\n"
                    "## B\n\n1. quarto\n2. quinto\n\n" for i in range(1, 3))


@pytest.mark.parametrize("layout", ["single", "parallel"])
def test_each_numbered_list_restarts_at_one(mini_project: Project, meta_it: Any, layout: str) -> None:
    reference = mini_project.reference_docx
    if layout == "single":
        p = Package(markdown_to_docx(_LISTS_MD, meta_it, reference=reference))
    else:
        meta_en = docx_meta(mini_project, resolve(mini_project, "mini", "en"))
        p = Package(parallel_docx(_LISTS_MD, meta_it, _LISTS_MD, meta_en, reference=reference))
    if layout == "single":
        groups = _list_groups(p.body.iter(w("p")))
    else:  # the parallel text sets a list an item a row: each column's paragraphs, in order
        groups = [g for i in (0, 1) for g in _list_groups(
            x for grid in tables(p.body, "ParallelTable") for tr in rows(grid) for x in cells(tr)[i].iter(w("p")))]
    columns = 2 if layout == "parallel" else 1
    expected = columns * sum(1 for t in md_parser().parse(_LISTS_MD) if t.type == "ordered_list_open")
    assert len(groups) == expected >= 6
    numbering = p.xml("word/numbering.xml")
    nums = {n.get(w("numId")): n for n in numbering.findall("w:num", NS)}
    style = p.xml("word/styles.xml").find("w:style[@w:styleId='ListNumber']", NS)
    style_num = nums[style.find(".//w:numId", NS).get(w("val"))]
    abstract = style_num.find("w:abstractNumId", NS).get(w("val"))
    seen = set()
    for group in groups:
        ids = {x.find("w:pPr/w:numPr/w:numId", NS).get(w("val")) for x in group}
        assert len(ids) == 1, "every item of a list carries the list's numbering"
        (num_id,) = ids
        assert num_id not in seen
        seen.add(num_id)
        num = nums[num_id]
        assert num.find("w:abstractNumId", NS).get(w("val")) == abstract
        start = num.find("w:lvlOverride[@w:ilvl='0']/w:startOverride", NS)
        assert start is not None and start.get(w("val")) == "1"
        assert all(x.find("w:pPr/w:numPr/w:ilvl", NS).get(w("val")) == "0" for x in group)


# --- 11. reproducibility ---------------------------------------------------------------------------

def test_same_sources_give_the_same_bytes(mini_project: Project, mini_files: Any, no_epoch: None) -> None:
    again = render_dossier(mini_project, "mini")
    for name in ("mini.it.docx", "mini.en.docx"):
        assert again[name] == mini_files[name], name


def test_parallel_output_is_reproducible(sample_project: Project, sample_files: Any, no_epoch: None) -> None:
    again = render_dossier(sample_project, "steel-2026")
    assert again["steel-2026.it-en.docx"] == sample_files["steel-2026"]["steel-2026.it-en.docx"]


def test_zip_entries_are_stamped_with_the_dossier_date_content_types_first(sample_files: Any,
                                                                           sample_project: Project) -> None:
    for d in SAMPLE_IDS:
        date = sample_project.dossiers[d].date
        for layout in ("it", "en", "it-en"):
            p = pkg(sample_files[d], f"{d}.{layout}.docx")
            names = [i.filename for i in p.infos]
            assert names[0] == "[Content_Types].xml"
            assert names[1:] == sorted(names[1:])
            assert len(names) == len(set(names))
            assert {i.date_time for i in p.infos} == {(date.year, date.month, date.day, 0, 0, 0)}
            assert dt.date(*p.infos[0].date_time[:3]) != dt.date.today()
            with zipfile.ZipFile(io.BytesIO(p.data)) as z:
                assert z.testzip() is None


def test_python_docx_opens_every_output(sample_files: Any) -> None:
    for d in SAMPLE_IDS:
        for layout in ("it", "en", "it-en"):
            document = docx.Document(io.BytesIO(pkg(sample_files[d], f"{d}.{layout}.docx").data))
            assert document.paragraphs and document.tables
            assert document.sections[0].different_first_page_header_footer


# --- 12. parallel layout ---------------------------------------------------------------------------

def test_parallel_table_aligns_sections_side_by_side(sample_files: Any) -> None:
    for d in SAMPLE_IDS:
        files = sample_files[d]
        p = pkg(files, f"{d}.it-en.docx")
        grids = tables(p.body, "ParallelTable")
        head, *body = [tr for grid in grids for tr in rows(grid)]
        assert [text(c) for c in cells(head)] == ["Italiano", "English"]
        # the languages head the text, and no row repeats on every page: LibreOffice will not break
        # a row holding a footnote under a repeated header, and left pages half empty
        assert grids[0].find("w:tblPr/w:tblLook", NS).get(w("firstRow")) == "1"
        assert all(r.find("w:trPr/w:tblHeader", NS) is None for r in [head, *body])
        h_it = [h for h in md_headings(md_body(files, f"{d}.it.md")) if h[0] <= 2]
        h_en = [h for h in md_headings(md_body(files, f"{d}.en.md")) if h[0] <= 2]
        assert len(body) >= len(h_it)
        # the rows that open with a heading: Italian on the left, its English twin on the right
        pairs = []
        for tr in body:
            left, right = cells(tr)
            first_l, first_r = left.find("w:p", NS), right.find("w:p", NS)
            if pstyle(first_l) in ("Heading1", "Heading2"):
                assert pstyle(first_r) == "Parallel" + pstyle(first_l)
                pairs.append(((int(pstyle(first_l)[-1]), text(first_l)), (int(pstyle(first_r)[-1]),
                                                                           text(first_r))))
        # the headings of what runs across the page (an annex's table, the amendments) stand over it:
        # the Italian ones with the Italian, the English with the English, in the order of the text
        across = [(pstyle(x), (int(pstyle(x)[-1]), text(x))) for x in p.body.findall("w:p", NS)
                  if re.fullmatch(r"(Parallel)?Heading[12]", pstyle(x) or "")]
        assert len(pairs) > 3
        assert Counter([a for a, _ in pairs] + [h for st, h in across if not st.startswith("Parallel")]) \
            == Counter(h_it)
        assert Counter([b for _, b in pairs] + [h for st, h in across if st.startswith("Parallel")]) == Counter(h_en)
        # every cell ends with a paragraph, as Word requires
        for tr in [head, *body]:
            for tc in cells(tr):
                assert tc[-1].tag == w("p")


def test_parallel_english_headings_are_headings_but_not_in_the_contents(sample_files: Any) -> None:
    """The English headings have outline levels (Word's navigation pane, the PDF's bookmarks) in
    styles of their own, which the contents (TOC \\o without \\u: Heading styles only) leave out."""
    for d in COVERED:
        files = sample_files[d]
        p = pkg(files, f"{d}.it-en.docx")
        grids = tables(p.body, "ParallelTable")
        for tr in [tr for grid in grids for tr in rows(grid)][1:]:
            left, right = cells(tr)
            assert {s for s in map(pstyle, right.iter(w("p"))) if re.match(r"(Parallel)?Heading", s or "")} <= {
                "ParallelHeading1", "ParallelHeading2", "ParallelHeading3"}
            assert not any(pstyle(x) and pstyle(x).startswith("Parallel") for x in left.iter(w("p")))
        en = md_headings(md_body(files, f"{d}.en.md"))
        assert docx_headings(p.doc, "ParallelHeading") == en
        toc = [text(e) for e in paragraphs(p.body, "TOC1", "TOC2")]
        assert toc == [t for lvl, t in md_headings(md_body(files, f"{d}.it.md"), 2)]
        assert not set(toc) & {t for _, t in en} - {t for _, t in md_headings(md_body(files, f"{d}.it.md"))}
        instr = " ".join(t.text or "" for t in p.body.iter(w("instrText")) if "TOC" in (t.text or ""))
        assert "\\o" in instr and "\\u" not in instr
        # the TOC precedes the parallel table
        order = list(p.body)
        assert order.index(paragraphs(p.body, "TOC1")[0]) < order.index(grids[0])
    styles = pkg(sample_files["steel-2026"], "steel-2026.it-en.docx").xml("word/styles.xml")
    for n in (1, 2, 3):
        st = styles.find(f"w:style[@w:styleId='ParallelHeading{n}']", NS)
        assert st.find("w:pPr/w:outlineLvl", NS) is None  # Heading n's own level, inherited
        assert st.find("w:basedOn", NS).get(w("val")) == f"Heading{n}"
        based = styles.find(f"w:style[@w:styleId='Heading{n}']", NS)
        assert based.find("w:pPr/w:outlineLvl", NS).get(w("val")) == str(n - 1)


@pytest.mark.parametrize("layout", ["it", "en", "it-en"])
def test_the_cover_lists_each_eu_file_once(sample_files: Any, sample_project: Project, layout: str) -> None:
    """Issue 12: the parallel cover listed the EU files in Italian and again in English and spilled
    onto page 2.  Each file once, in the cover's first language (identifiers read the same in both)."""
    p = pkg(sample_files["joint-agenda-2026"], f"joint-agenda-2026.{layout}.docx")
    (cover,) = tables(p.body, "CoverTable")
    [files] = [cells(tr)[1] for tr in rows(cover) if "UE" in text(cells(tr)[0]) or "EU" in text(cells(tr)[0])]
    lines = resolve(sample_project, "joint-agenda-2026", layout[:2]).addresses
    assert len(lines) > 3 and len(files.findall("w:p", NS)) == len(lines)
    assert {lang_of(r) for r in files.iter(w("r"))} == {TAGS[layout[:2]]}


def test_parallel_cover_has_both_titles(sample_files: Any, sample_project: Project) -> None:
    p = pkg(sample_files["microelectronics-2026"], "microelectronics-2026.it-en.docx")
    titles = paragraphs(p.body, "Title")
    expected = [(resolve(sample_project, "microelectronics-2026", x).title, TAGS[x]) for x in ("it", "en")]
    assert [(text(t), {lang_of(r) for r in t.iter(w("r"))}.pop()) for t in titles] == expected


# --- 13. pandoc, an independent reader -------------------------------------------------------

def _stringify(inlines: list[dict[str, Any]]) -> str:
    out = []
    for el in inlines:
        t, c = el["t"], el.get("c")
        if t == "Str":
            out.append(c)
        elif t in ("Space", "SoftBreak", "LineBreak"):
            out.append(" ")
        elif t in ("Emph", "Strong", "Underline", "SmallCaps", "Strikeout", "Superscript", "Subscript"):
            out.append(_stringify(c))
        elif t in ("Span", "Link", "Quoted"):
            out.append(_stringify(c[1]))  # [attr, inlines] / [attr, inlines, target] / [kind, inlines]
        elif t == "Code":
            out.append(c[1])
        # Note, Image: not part of the heading text
    return "".join(out)


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "t" in node:
            yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


@pytest.fixture(scope="module")
def pandoc_json(sample_files: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    exe = shutil.which("pandoc")
    if exe is None:
        pytest.skip("pandoc is not installed")
    out = {}
    folder = tmp_path_factory.mktemp("pandoc")
    for d in ("steel-2026", "joint-agenda-2026"):
        path = folder / f"{d}.it.docx"
        path.write_bytes(pkg(sample_files[d], f"{d}.it.docx").data)
        res = subprocess.run([exe, "-f", "docx", "-t", "json", str(path)], capture_output=True, check=True)
        out[d] = json.loads(res.stdout)
    return out


@pytest.mark.pandoc
@pytest.mark.parametrize("d", ["steel-2026", "joint-agenda-2026"])
def test_pandoc_reads_the_same_headings(pandoc_json: Any, sample_files: Any, d: str) -> None:
    doc = pandoc_json[d]
    headers = [(b["c"][0], _stringify(b["c"][2])) for b in doc["blocks"] if b["t"] == "Header"]
    expected = md_headings(md_body(sample_files[d], f"{d}.it.md"))
    title = pkg(sample_files[d], f"{d}.it.docx").xml("docProps/core.xml").findtext("dc:title", namespaces=NS)
    assert [h for h in headers if h[1] != title] == expected


@pytest.mark.pandoc
@pytest.mark.parametrize("d", ["steel-2026", "joint-agenda-2026"])
def test_pandoc_finds_the_notes_and_tables(pandoc_json: Any, sample_files: Any, sample_project: Project,
                                           d: str) -> None:
    doc = pandoc_json[d]
    body = md_body(sample_files[d], f"{d}.it.md")
    notes = [n for n in _walk(doc["blocks"]) if n["t"] == "Note"]
    assert len(notes) == md_footnote_labels(body)
    assert any("32023R0956" in json.dumps(n, ensure_ascii=False) for n in notes)
    table_blocks = [b for b in _walk(doc["blocks"]) if b["t"] == "Table"]
    dossier = sample_project.dossiers[d]
    assert len(table_blocks) >= len(dossier.annexes) + body.count("<!-- vu:amendments -->")
    # the cover title comes through as text (as metadata or as a paragraph)
    paras = [_stringify(b["c"]) for b in doc["blocks"] if b["t"] == "Para"]
    title = resolve(sample_project, d, "it").title
    assert title in paras or _stringify(doc["meta"].get("title", {}).get("c", [])) == title


# --- 14. LibreOffice ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pdfs(sample_files: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    exe = shutil.which("soffice")
    if exe is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    folder = tmp_path_factory.mktemp("soffice")
    names = ["joint-agenda-2026.it.docx", "steel-2026.it-en.docx", "steel-2026.en.docx"]
    for name in names:
        (folder / name).write_bytes(pkg(sample_files[name.split(".")[0]], name).data)
    subprocess.run([exe, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(folder)] + [str(folder / n) for n in names],
                   capture_output=True, check=True, timeout=240)
    return {n: folder / n.replace(".docx", ".pdf") for n in names}


def _pdftotext(pdf: Path) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (poppler) is not installed")
    res = subprocess.run([exe, "-layout", str(pdf), "-"], capture_output=True, check=True)
    return res.stdout.decode("utf-8")


@pytest.mark.soffice
@pytest.mark.parametrize("name", ["joint-agenda-2026.it.docx", "steel-2026.it-en.docx"])
def test_libreoffice_lays_the_document_out(pdfs: dict[str, Path], name: str, sample_project: Project) -> None:
    pdf = pdfs[name]
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
    raw = _pdftotext(pdf)
    flat = " ".join(raw.split())
    dossier = name.split(".", maxsplit=1)[0]
    title = resolve(sample_project, dossier, "it").title
    assert title in flat
    assert "32023R0956" in flat  # a footnote: CELEX of the CBAM regulation
    assert "Tabella 1" in flat
    pages = raw.split("\f")[:-1]
    assert len(pages) >= 3
    if name.endswith("it-en.docx"):
        assert "Table 1" in flat and "ITALIANO" in flat.upper() and "ENGLISH" in flat.upper()
        return
    # the dossier layout: a cover without running header or page number, then the contents
    assert "Indice" in flat
    assert "Pagina" not in pages[0]
    assert f"Pagina 2 di {len(pages)}" in " ".join(pages[1].split())
    assert resolve(sample_project, dossier, "it").short_title in pages[1]


@pytest.mark.soffice
def test_a_brief_opens_with_dateline_title_and_first_key_message(pdfs: dict[str, Path],
                                                                 sample_project: Project) -> None:
    """Issue 12's acceptance: steel-2026.en (a brief) holds on page 1 the dateline, the title and the first
    key message, and runs to at most 5 pages."""
    raw = _pdftotext(pdfs["steel-2026.en.docx"])
    pages = raw.split("\f")[:-1]
    first = " ".join(pages[0].split())
    rd = resolve(sample_project, "steel-2026", "en")
    assert "Brussels, 20 November 2026" in first
    assert " ".join(rd.title.split()) in first
    first_words = " ".join(re.sub(r"[*_\[\]]", "", rd.positions[0].asks[0]).split()[:6])
    assert first_words in first, first_words
    assert 2 <= len(pages) <= 5, len(pages)
    assert "Contents" not in raw


# --- 15. what the writer refuses -------------------------------------------------------------------

@pytest.fixture(scope="module")
def meta_it(mini_project: Project) -> Any:
    return docx_meta(mini_project, resolve(mini_project, "mini", "it"))


@pytest.mark.parametrize("markdown,line,message", [
    ("# Titolo\n\nUn paragrafo.\n\n<div>x</div>\n", 5, "HTML"),
    ("# Titolo\n\nTesto.\n\n\n<!-- vu:nope -->\n\nAltro.\n", 6, "vu:nope"),
    ("# Titolo\n\nTesto con <span>HTML</span> in riga.\n", 3, "inline HTML"),
    ("# Titolo\n\n#### Troppo profondo\n", 3, "deeper"),
    ("# Titolo\n\n<!-- vu:amendments -->\nNon una tabella.\n", 4, "amendments"),
    ("Testo\n\n![](grafico.png)\n", 3, "alt text"),
    ("Testo\n\n![Grafico](manca.png)\n", 3, "not found"),
])
def test_markdown_word_cannot_hold_is_an_error_with_its_line(mini_project: Project, meta_it: Any,
                                                              markdown: str, line: int, message: str) -> None:
    with pytest.raises(DocxError) as info:
        markdown_to_docx(markdown, meta_it, reference=mini_project.reference_docx)
    assert info.value.line == line
    assert message in str(info.value)


def test_parallel_texts_built_differently_are_refused(mini_project: Project, meta_it: Any) -> None:
    meta_en = docx_meta(mini_project, resolve(mini_project, "mini", "en"))
    with pytest.raises(DocxError, match="not built alike"):
        parallel_docx("# Uno\n\nTesto.\n\n# Due\n\nAltro.\n", meta_it, "# One\n\nText and more text.\n",
                      meta_en, reference=mini_project.reference_docx)
    with pytest.raises(DocxError, match="not built alike"):  # same count, different levels
        parallel_docx("# Uno\n\n## Due\n", meta_it, "# One\n\n# Two\n", meta_en,
                      reference=mini_project.reference_docx)


def test_plain_comments_and_known_directives_pass(mini_project: Project, meta_it: Any, mini_files: Any) -> None:
    images = {"c.png": mini_files["mini.exports.it.png"]}
    md = ('<!-- a note to the editor -->\n\n# A & B < C\n\nTesto <br> "citato" & <!-- nascosto --> fine.\n\n'
          '<!-- vu:pagebreak -->\n\n![Alt "tra virgolette" & 5 < 6](c.png)\n')
    p = Package(markdown_to_docx(md, meta_it, reference=mini_project.reference_docx,
                                 images=images))  # type: ignore[arg-type]
    assert docx_headings(p.doc) == [(1, "A & B < C")]
    body_text = [text(x) for x in paragraphs(p.body, "BodyText")]
    assert body_text == ['Testo  "citato" &  fine.']
    assert sum(1 for b in p.body.iter(w("br")) if b.get(w("type")) == "page") >= 2  # cover + directive
    (pic,) = p.doc.iter(f"{{{NS['wp']}}}docPr")
    assert pic.get("descr") == 'Alt "tra virgolette" & 5 < 6'
    assert pstyle(pic.getparent().getparent().getparent().getparent()) == "Figure"


def test_a_reference_document_without_a_needed_style_is_refused(mini_project: Project, meta_it: Any,
                                                               tmp_path: Path) -> None:
    ref = Package(mini_project.reference_docx.read_bytes())
    styles = ref.raw["word/styles.xml"].replace(b'w:val="Amendment Table"', b'w:val="Renamed Table"')
    assert styles != ref.raw["word/styles.xml"]
    broken = tmp_path / "reference.docx"
    with zipfile.ZipFile(broken, "w") as z:
        for name, data in ref.raw.items():
            z.writestr(name, styles if name == "word/styles.xml" else data)
    with pytest.raises(DocxError, match="Amendment Table"):
        markdown_to_docx("Testo.\n", meta_it, reference=broken)


def test_long_tables_parsed_in_slices_give_the_same_document(mini: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Annex tables longer than a slice are parsed a slice at a time (memory);
    the Word file must not change by a byte."""
    from voceunica.docx import tables

    project = load_project(mini)
    whole = render_dossier(project, "mini")["mini.it.docx"]
    monkeypatch.setattr(tables, "STREAM_SLICE", 1)
    body = split_front_matter(render_dossier(project, "mini")["mini.it.md"])[1]  # type: ignore[arg-type]
    assert tables.set_aside_long_tables(body)[1], "the annex table should have been set aside"
    assert render_dossier(project, "mini")["mini.it.docx"] == whole


def _sample_meta() -> tuple[Any, Path]:
    project = load_project(REPO)
    return docx_meta(project, resolve(project, "steel-2026", "it")), project.reference_docx


TABLE = "| a | b |\n| --- | ---: |\n" + "".join(f"| r{i} | {i} |\n" for i in range(12))


@pytest.mark.parametrize("markdown", [
    "# T\n\n" + TABLE + "Fonte: ISTAT.\n",  # a line right under a table is one more row
    "# T\n\n```\n\n" + TABLE + "```\n",  # a table inside a code fence is code
    "# T\n\n<!-- note\n\n" + TABLE + "-->\n\nAfter.\n",  # ... and inside a comment, nothing
    "# T\n\n| a | b |\n| --- |\n" + "".join(f"| r{i} | {i} |\n" for i in range(12)),  # not a table
    "# T\n\n" + TABLE + "\n[x]: https://example.eu\n",  # reference links need the whole text
])
def test_long_table_slicing_never_changes_what_is_written(markdown: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from voceunica.docx import tables

    meta, reference = _sample_meta()
    whole = markdown_to_docx(markdown, meta, reference=reference)
    monkeypatch.setattr(tables, "STREAM_SLICE", 2)
    assert markdown_to_docx(markdown, meta, reference=reference) == whole


def test_a_list_in_a_quote_and_a_list_in_a_note_keep_their_text() -> None:
    meta, reference = _sample_meta()
    data = markdown_to_docx("# T\n\n> intro\n>\n> - alpha\n> - beta\n\nText[^n].\n\n[^n]: - gamma - delta\n",
                            meta, reference=reference)
    d = docx.Document(io.BytesIO(data))
    body = [(p.style.name, p.text) for p in d.paragraphs]
    assert ("Quote", "intro") in body and ("List Bullet", "alpha") in body and ("List Bullet", "beta") in body
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "gamma - delta" in z.read("word/footnotes.xml").decode("utf-8")


@pytest.mark.parametrize("layout", ["it", "it-en"])
def test_no_number_or_word_in_an_annex_table_is_split_across_lines(sample_files: dict[str, dict[str, bytes | str]],
                                                                     layout: str) -> None:
    """Each column is at least as wide as its longest unbreakable word at the table's
    9 pt (about 100 twips a character, 170 twips of cell margins): in the narrow
    columns of the parallel text a year once came out as '202' over '3'."""
    for d in SAMPLE_IDS:
        name = f"{d}.{layout}.docx"
        if name not in sample_files[d]:
            continue
        body = pkg(sample_files[d], name).body
        annex = tables(body, "AnnexTable")
        assert annex, name
        for tbl in annex:
            grid = [int(g.get(w("w"))) for g in tbl.iter(w("gridCol"))]
            for tr in rows(tbl):
                for i, tc in enumerate(cells(tr)):
                    longest = max((len(word) for word in re.split(r"[ \t\n]+", text(tc))), default=0)
                    assert longest * 100 + 170 <= grid[i], (name, text(tc), grid)


@pytest.mark.parametrize("layout", ["it", "en", "it-en"])
def test_a_brief_opens_with_the_key_messages_on_page_1(sample_files: Any, sample_project: Project,
                                                      layout: str) -> None:
    """A position paper on one or two positions: the offices, the dateline, the title and
    the key messages before any page break; no cover page, no contents field."""
    for d in BRIEF:
        p = pkg(sample_files[d], f"{d}.{layout}.docx")
        body = list(p.body)
        breaks = [i for i, el in enumerate(body) if el.find(".//w:br[@w:type='page']", NS) is not None]
        heads = [i for i, el in enumerate(body) if pstyle(el) == "Heading1"]
        first_heading = min(heads) if heads else body.index(tables(p.body, "ParallelTable")[0])
        assert not breaks or min(breaks) > first_heading, (d, layout)
        assert not any(el.iter(w("instrText")) and "TOC" in "".join(t.text or "" for t in el.iter(w("instrText")))
                       for el in body), (d, layout)
        langs = ["it", "en"] if layout == "it-en" else [layout]
        head = " ".join(text(el) for el in body[:first_heading])
        for lang in langs:
            rd = resolve(sample_project, d, lang)
            assert rd.layout == "brief"
            assert rd.dateline in head, (rd.dateline, head)
            assert rd.title in head and rd.audience in head
