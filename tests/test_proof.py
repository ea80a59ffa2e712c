"""The build proves each Word file against its Markdown before anything is written.

These tests break the writer on purpose (a block type dropped, a footnote
emptied, a word added) and check that the build refuses, names the position's
own file and line, and writes nothing.  The Markdown side of the proof is
checked on the constructs it must not mistake for text (or for loss).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from voceunica import pipeline
from voceunica.docx import DocxError, ooxml, proof, writer
from voceunica.docx.package import rezip
from voceunica.errors import VoceunicaError
from conftest import POS



def _line_of(root: Path, rel: str, needle: str) -> int:
    text = (root / rel).read_text(encoding="utf-8")
    return text[: text.index(needle)].count("\n") + 1


def _build_refused(root: Path) -> list[str]:
    out = root / "out"
    with pytest.raises(VoceunicaError) as err:
        pipeline.build(root, out_dir=out, jobs=1)
    assert not out.exists() or not any(out.iterdir()), "a refused build wrote files"
    return [str(p) for p in err.value.problems]


def _add_quote(mini: Path) -> str:
    pos = mini / POS
    text = pos.read_text(encoding="utf-8")
    quoted = "        > Citazione che il writer perde.\n"
    anchor = "        Il periodo definitivo"
    text = text.replace(anchor, quoted + "\n" + anchor, 1).replace("status: agreed", "status: draft")
    pos.write_text(text, encoding="utf-8")
    return "Citazione che il writer perde"


def test_a_writer_that_drops_a_block_is_caught_at_the_position_line(mini: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    needle = _add_quote(mini)
    monkeypatch.setitem(writer.BLOCKS, "blockquote", lambda w, node, st: "")
    found = _build_refused(mini)
    line = _line_of(mini, POS, needle)
    assert any(p.startswith(f"{POS}:{line}:") and "the Word file lost text" in p for p in found), found


def test_a_writer_that_empties_footnotes_is_caught(mini: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ooxml.footnote

    def hollow(fid: int, paragraphs: list[tuple[str, str]], ref_style: str, lang: str) -> str:
        return real(fid, [(style, "") for style, _ in paragraphs], ref_style, lang)

    monkeypatch.setattr(ooxml, "footnote", hollow)
    found = _build_refused(mini)
    line = _line_of(mini, POS, "- key: cbam")  # the EU file whose note is written first
    assert any(p.startswith(f"{POS}:{line}:") and "the Word file lost text" in p for p in found), found


def test_a_writer_that_adds_words_is_caught(mini: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ooxml.run

    def chatty(text: str, style: str | None = None, lang: str | None = None, *, strike: bool = False) -> str:
        return real(text.replace("CBAM", "CBAM ECHO"), style, lang, strike=strike)

    monkeypatch.setattr(ooxml, "run", chatty)
    found = _build_refused(mini)
    assert any("the Word file has text the Markdown does not: 'ECHO'" in p for p in found), found


def test_a_faithful_build_passes_the_proof(mini: Path) -> None:
    result = pipeline.build(mini, out_dir=mini / "out", jobs=1)
    docx = [p for p in result.files if p.suffix == ".docx"]
    assert docx
    for path in docx:
        stem, lang = path.name[: -len(".docx")].rsplit(".", 1)
        langs = ["it", "en"] if lang == "it-en" else [lang]
        bodies = [pipeline_body(path.parent / f"{stem}.{x}.md") for x in langs]
        proof.prove(path.read_bytes(), bodies)  # raises on any difference


def pipeline_body(md: Path) -> str:
    from voceunica.render import split_front_matter

    return split_front_matter(md.read_text(encoding="utf-8"))[1]


@pytest.mark.parametrize(("markdown", "words"), [
    ("**Reg**ione e *CBAM*[^steel-cbam].", ["Regione", "e", "CBAM"]),
    ("[la proposta](https://eur-lex.europa.eu/x_(1)) e <https://ec.europa.eu/a_b>",
     ["la", "proposta", "e", "httpsec.europa.euab".replace(".", "")]),
    ("| Anno | Valore |\n| --- | ---: |\n| 2024 | 1\\|2 |", ["Anno", "Valore", "2024", "12"]),
    ("<!-- vu:caption -->\nTabella 1 – Export", ["Tabella", "1", "–", "Export"]),
    ("[^steel-cbam]: Regolamento (UE) 2023/956.", ["Regolamento", "UE", "2023956"]),
    ("Tom &amp; Jerry", ["Tom", "Jerry"]),
])
def test_markdown_words_leave_out_only_syntax(markdown: str, words: list[str]) -> None:
    assert sorted(proof.markdown_words(markdown).required.elements()) == sorted(w.encode() for w in words)


def test_list_numbers_may_be_word_numbering_or_text() -> None:
    w = proof.markdown_words("1. primo\n2. secondo\n\nNel\n2026. Poi")
    assert w.optional == {b"1": 1, b"2": 1, b"2026": 1}
    assert sorted(w.required.elements()) == [b"Nel", b"Poi", b"primo", b"secondo"]


def test_the_escaper_refuses_what_xml_cannot_hold() -> None:
    with pytest.raises(DocxError, match=r"U\+000C"):
        ooxml.run("page\fbreak")
    assert ooxml.esc('a < b & "c"') == "a &lt; b &amp; &quot;c&quot;"


def test_a_part_that_is_not_well_formed_is_refused_before_zipping() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document xmlns:w='urn:x'><w:body/></w:document>")
    with pytest.raises(DocxError, match="word/document.xml would not be well-formed XML"):
        rezip(buf.getvalue(), 0, {"word/document.xml": lambda xml: xml.replace(b"<w:body/>", b"<w:body>")})
