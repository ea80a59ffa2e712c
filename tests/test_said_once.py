"""Each thing said once (issue 12, Deliver 3): a dossier combining positions prints each
ask once, cites an EU act (or a note) cited by several positions through one footnote,
and numbers its amendments across the dossier; a draft is marked in its own language."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from conftest import REPO, make_draft, make_project
from voceunica.pipeline import render_dossier, source_of
from voceunica.project import Project
from voceunica.render import split_front_matter
from voceunica.resolve import ResolvedDossier, resolve
from voceunica.validate import load_project

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}
JOINT = "joint-agenda-2026"
STEEL_ACTION_PLAN = "52025DC0125"  # CELEX of an act three of the joint agenda's positions cite
_REF = re.compile(r"\[\^[^\]\s]+\]")


def _w(name: str) -> str:
    return f"{{{W}}}{name}"


def _text(el: etree._Element) -> str:
    """The text, without note numbers (a later citation's NOTEREF shows its note's number)."""
    return "".join(t.text or "" for t in el.iter(_w("t"))
                   if t.getparent().find("w:rPr/w:rStyle[@w:val='FootnoteReference']", NS) is None)


def _plain(markdown: str) -> str:
    """Words only: footnote references, emphasis marks and line breaks aside."""
    return " ".join(_REF.sub("", markdown).replace("**", "").replace("*", "").split())


def _parts(data: bytes) -> dict[str, etree._Element]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: etree.fromstring(z.read(n)) for n in z.namelist() if n.endswith(".xml")}


def _body_words(doc: etree._Element) -> str:
    return " ".join(" ".join(_text(p) for p in doc.iter(_w("p"))).split())


@pytest.fixture(scope="module")
def no_epoch() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SOURCE_DATE_EPOCH", raising=False)
        yield


@pytest.fixture(scope="module")
def sample() -> Project:
    project = load_project(REPO)  # read only
    assert project.errors == []
    return project


@pytest.fixture(scope="module")
def joint(sample: Project, no_epoch: None) -> dict[str, bytes | str]:
    return render_dossier(sample, JOINT)


@pytest.fixture(scope="module")
def resolved(sample: Project) -> dict[str, ResolvedDossier]:
    return {lang: resolve(sample, JOINT, lang) for lang in ("it", "en")}


def _md(files: dict[str, bytes | str], lang: str) -> str:
    md = files[f"{JOINT}.{lang}.md"]
    assert isinstance(md, str)
    return split_front_matter(md)[1]


def _docx(files: dict[str, bytes | str], name: str) -> dict[str, etree._Element]:
    data = files[name]
    assert isinstance(data, bytes)
    return _parts(data)


@pytest.mark.parametrize("lang", ["it", "en"])
def test_each_ask_is_printed_once(joint: dict[str, bytes | str], resolved: dict[str, ResolvedDossier],
                                  lang: str) -> None:
    asks = [a for p in resolved[lang].positions for a in p.asks]
    assert len(asks) > 10
    md = _plain(_md(joint, lang))
    words = _body_words(_docx(joint, f"{JOINT}.{lang}.docx")["word/document.xml"])
    parallel = _body_words(_docx(joint, f"{JOINT}.it-en.docx")["word/document.xml"])
    for ask in asks:
        plain = _plain(ask)
        assert md.count(plain) == 1, plain
        head = plain[:60]  # the DOCX sets typography of its own; the opening words are plain
        assert words.count(head) == 1, head
        assert parallel.count(head) == 1, head


@pytest.mark.parametrize("lang", ["it", "en"])
def test_an_act_cited_by_several_positions_is_one_footnote(joint: dict[str, bytes | str], lang: str) -> None:
    md = _md(joint, lang)
    labels = {m.group(1) for m in re.finditer(r"^\[\^([^\]]+)\]:.*" + STEEL_ACTION_PLAN, md, re.M)}
    assert len(labels) == 1  # one definition, under the first position that cites the act
    (label,) = labels
    citations = md.count(f"[^{label}]") - 1  # the definition aside
    assert citations >= 3  # by three positions

    parts = _docx(joint, f"{JOINT}.{lang}.docx")
    notes = [n for n in parts["word/footnotes.xml"].iter(_w("footnote"))
             if STEEL_ACTION_PLAN in _text(n)]
    assert len(notes) == 1
    fid = notes[0].get(_w("id"))
    doc = parts["word/document.xml"]
    refs = [r for r in doc.iter(_w("footnoteReference")) if r.get(_w("id")) == fid]
    assert len(refs) == 1  # the first citation makes the footnote ...
    mark = refs[0].getparent().getprevious()
    assert mark is not None and mark.tag == _w("bookmarkStart")
    name = mark.get(_w("name"))
    fields = [t.text or "" for t in doc.iter(_w("instrText")) if re.search(rf"NOTEREF {name}\b", t.text or "")]
    assert len(fields) == citations - 1  # ... the later ones repeat its number
    # no footnote of the document says the same thing twice
    texts = [_text(n) for n in parts["word/footnotes.xml"].iter(_w("footnote")) if int(n.get(_w("id"), "0")) > 0]
    assert len(texts) == len(set(texts))


def test_a_shared_footnote_is_traced_to_the_first_position_citing_it(
        sample: Project, joint: dict[str, bytes | str]) -> None:
    md = joint[f"{JOINT}.en.md"]
    assert isinstance(md, str)
    lines = md.split("\n")
    (at,) = [i for i, line in enumerate(lines, start=1) if line.startswith("[^") and STEEL_ACTION_PLAN in line]
    assert lines[at - 1].startswith("[^joint-representation-")
    found = source_of(sample, JOINT, "en", md, "lost", at)
    assert found.path.endswith("positions/joint-representation.yaml"), found
    assert "eu_files[" in found.message and "(steel-action-plan)" in found.message


def test_amendments_are_numbered_across_the_dossier(joint: dict[str, bytes | str],
                                                    resolved: dict[str, ResolvedDossier]) -> None:
    for lang, rd in resolved.items():
        numbers = [a.number for p in rd.positions for a in p.amendments]
        assert len([p for p in rd.positions if p.amendments]) >= 2  # amendments from two positions
        assert numbers == list(range(1, len(numbers) + 1)), lang
        word = rd.labels["amendment"]
        headings = re.findall(rf"^### {word} (\d+) ", _md(joint, lang), re.M)
        assert headings == [str(n) for n in numbers], lang


def test_a_draft_is_marked_in_its_own_language(tmp_path: Path, no_epoch: None) -> None:
    root = make_project(tmp_path)
    make_draft(root)
    dossier = root / "dossiers" / "mini.yaml"
    src = dossier.read_text(encoding="utf-8")
    assert "layouts: [single]" in src
    dossier.write_text(src.replace("layouts: [single]", "layouts: [single, parallel]"), encoding="utf-8")
    project = load_project(root)
    assert project.errors == []
    files = render_dossier(project, "mini")
    for name, want in (("mini.it.docx", "BOZZA"), ("mini.en.docx", "DRAFT"), ("mini.it-en.docx", "BOZZA / DRAFT")):
        data = files[name]
        assert isinstance(data, bytes)
        parts = _parts(data)
        marks = [_text(p) for n, x in parts.items() if n.startswith("word/header")
                 for p in x.iter(_w("p")) if p.find("w:pPr/w:pStyle[@w:val='DraftMarking']", NS) is not None]
        assert marks and set(marks) == {want}, (name, marks)
        if name == "mini.en.docx":
            assert not any("BOZZA" in _text(x) for x in parts.values())
    for lang, mark in (("it", "BOZZA"), ("en", "DRAFT")):
        md = files[f"mini.{lang}.md"]
        assert isinstance(md, str)
        assert f"> **{mark}** – " in md
        assert "`steel-mini`" not in md  # the status line under the title: version and status, no id
        assert re.search(r"^\*(Versione|Version) \S+ · (Stato|Status): \S+\*$", md, re.M), lang
