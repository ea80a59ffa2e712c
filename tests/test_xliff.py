"""XLIFF 1.2 for translators: export the texts with their state, import confirmed translations back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from voceunica.errors import VoceunicaError
from voceunica.fingerprint import translation_status
from voceunica.validate import load_project
from voceunica.xliff import VU_NS, XLIFF_NS, export_xliff, import_xliff
from conftest import POS

X = f"{{{XLIFF_NS}}}"


def units(data: bytes) -> dict[str, etree._Element]:
    return {u.get("id"): u for u in etree.fromstring(data).iter(f"{X}trans-unit")}


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def set_target(data: bytes, unit_id: str, text: str, state: str = "translated") -> bytes:
    root = etree.fromstring(data)
    unit = next(u for u in root.iter(f"{X}trans-unit") if u.get("id") == unit_id)
    target = unit.find(f"{X}target")
    for child in list(target):
        target.remove(child)
    target.text = text
    target.set("state", state)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_export_has_a_unit_per_translated_field_with_its_state(mini: Path) -> None:
    data = export_xliff(load_project(mini))
    root = etree.fromstring(data)
    [f] = root.findall(f"{X}file")
    assert (f.get("original"), f.get("source-language"), f.get("target-language")) == \
        ("positions/steel-mini.yaml", "it-IT", "en-GB")
    got = units(data)
    assert list(got) == [s.field for s in translation_status(load_project(mini).positions["steel-mini"])]
    title = got["title"]
    assert title.findtext(f"{X}source") == "Acciaio e CBAM" and title.findtext(f"{X}target") == "Steel and CBAM"
    assert {u.find(f"{X}target").get("state") for u in got.values()} == {"translated"}
    assert export_xliff(load_project(mini)) == data  # same project, same bytes


def test_footnote_references_travel_as_protected_placeholders(mini: Path) -> None:
    summary = units(export_xliff(load_project(mini)))["summary"]
    [ph] = summary.find(f"{X}source").findall(f"{X}ph")
    assert ph.text == "[^cbam]" and ph.get("ctype") == "x-footnote-ref"
    assert ph.get("id") == "fn-cbam"  # the note's key, not its order
    assert "".join(summary.find(f"{X}source").itertext()) == "Le Regioni chiedono un CBAM efficace[^cbam]."


def test_a_changed_source_is_exported_for_review(mini: Path) -> None:
    edit(mini, POS, "it: Acciaio e CBAM", "it: Acciaio, CBAM ed energia")
    target = units(export_xliff(load_project(mini)))["title"].find(f"{X}target")
    assert target.get("state") == "needs-review-translation" and target.text == "Steel and CBAM"


def test_import_writes_the_translation_and_marks_it_current(mini: Path) -> None:
    before = (mini / POS).read_text(encoding="utf-8")
    data = set_target(export_xliff(load_project(mini)), "sections[0].body",
                      "The definitive period began on 1 January 2026[^note].\n")
    done = import_xliff(load_project(mini), data, "t.xlf")
    assert [(d.position, d.fields) for d in done] == [("steel-mini", ["sections[0].body"])]
    after = (mini / POS).read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert changed == [("        The definitive period started on 1 January 2026[^note].",
                        "        The definitive period began on 1 January 2026[^note].")]
    assert {s.state for s in translation_status(load_project(mini).positions["steel-mini"])} == {"translated"}


def test_import_of_a_reviewed_translation_refreshes_its_mark(mini: Path) -> None:
    edit(mini, POS, "it: Acciaio e CBAM", "it: Acciaio, CBAM ed energia")
    data = set_target(export_xliff(load_project(mini)), "title", "Steel, CBAM and energy")
    import_xliff(load_project(mini), data, "t.xlf")
    states = {s.field: s.state for s in translation_status(load_project(mini).positions["steel-mini"])}
    assert states["title"] == "translated"
    assert "en: Steel, CBAM and energy" in (mini / POS).read_text(encoding="utf-8")


def test_unconfirmed_units_are_left_alone(mini: Path) -> None:
    before = (mini / POS).read_text(encoding="utf-8")
    data = set_target(export_xliff(load_project(mini)), "title", "Draft title", state="needs-review-translation")
    assert import_xliff(load_project(mini), data, "t.xlf") == []
    assert (mini / POS).read_text(encoding="utf-8") == before


def test_a_translation_of_an_older_source_is_refused_with_its_line(mini: Path) -> None:
    data = set_target(export_xliff(load_project(mini)), "title", "Steel and the CBAM")
    edit(mini, POS, "it: Acciaio e CBAM", "it: Acciaio, CBAM ed energia")
    before = (mini / POS).read_text(encoding="utf-8")
    with pytest.raises(VoceunicaError) as err:
        import_xliff(load_project(mini), data, "t.xlf")
    [p] = err.value.problems
    line = next(i for i, text in enumerate(data.decode().splitlines(), start=1) if 'id="title"' in text)
    assert (p.path, p.line) == ("t.xlf", line)
    assert "source text changed since this file was exported" in p.message
    assert (mini / POS).read_text(encoding="utf-8") == before  # nothing written


def test_a_lost_footnote_reference_is_refused(mini: Path) -> None:
    data = set_target(export_xliff(load_project(mini)), "summary", "The Regions ask for an effective CBAM.")
    with pytest.raises(VoceunicaError, match=r"must keep the footnote references \[\^cbam\]"):
        import_xliff(load_project(mini), data, "t.xlf")


def test_cli_round_trip_and_malformed_file(mini: Path, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "voceunica", "-C", str(mini), *args], capture_output=True,
                              text=True, timeout=120)

    xlf = tmp_path / "steel.xlf"
    done = run("i18n", "export", "--out", str(xlf))
    assert done.returncode == 0, done.stderr
    assert "11 units from 1 position(s)" in done.stderr
    xlf.write_bytes(set_target(xlf.read_bytes(), "title", "Steel and the CBAM"))
    done = run("i18n", "import", str(xlf))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "steel-mini: title"
    bad = tmp_path / "bad.xlf"
    bad.write_text('<?xml version="1.0"?>\n<xliff version="1.2">\n<file>\n</xliff>\n', encoding="utf-8")
    done = run("i18n", "import", str(bad))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{bad}:4:") and "not well-formed XML" in done.stderr


def test_a_new_paragraph_break_is_a_change(mini: Path) -> None:
    data = set_target(export_xliff(load_project(mini)), "sections[0].body",
                      "The definitive period started on 1 January 2026[^note].\n\nA second paragraph.\n")
    import_xliff(load_project(mini), data, "t.xlf")
    body = load_project(mini).positions["steel-mini"].sections[0].body.en
    assert body == "The definitive period started on 1 January 2026[^note].\n\nA second paragraph.\n"


def test_the_same_text_with_other_line_ends_changes_nothing(mini: Path) -> None:
    before = (mini / POS).read_text(encoding="utf-8")
    data = set_target(export_xliff(load_project(mini)), "sections[0].body",
                      "The definitive period started on 1 January 2026[^note].  \r\n")
    assert import_xliff(load_project(mini), data, "t.xlf") == []
    assert (mini / POS).read_text(encoding="utf-8") == before


def test_a_unit_given_twice_is_refused(mini: Path) -> None:
    root = etree.fromstring(set_target(export_xliff(load_project(mini)), "title", "Steel and the CBAM"))
    body = root.find(f"{X}file/{X}body")
    body.append(etree.fromstring(etree.tostring(body[0])))
    with pytest.raises(VoceunicaError, match="unit 'title' appears twice"):
        import_xliff(load_project(mini), etree.tostring(root), "t.xlf")


# --- what CAT tools check -----------------------------------------------------------------

SCHEMAS = Path(__file__).parent / "fixtures" / "xliff"


def xliff_schema(*, extensions_strict: bool = False) -> etree.XMLSchema:
    """The OASIS XLIFF 1.2 transitional schema (its xml.xsd import pointed at the local copy).

    extensions_strict: the same schema with every extension attribute processed strictly, and
    voceunica's shipped extension schema imported, so each vu: attribute must be declared there."""
    import voceunica

    text = (SCHEMAS / "xliff-core-1.2-transitional.xsd").read_text(encoding="utf-8")
    text = text.replace('schemaLocation="http://www.w3.org/2001/xml.xsd"',
                        f'schemaLocation="{(SCHEMAS / "xml.xsd").as_uri()}"')
    if extensions_strict:
        ours = Path(voceunica.__file__).parent / "voceunica-xliff.xsd"
        text = text.replace('processContents="skip"', 'processContents="strict"')
        text = text.replace("<!-- Attributes Lists -->", f'<xsd:import namespace="urn:voceunica:xliff" '
                                                         f'schemaLocation="{ours.as_uri()}"/>\n', 1)
    return etree.XMLSchema(etree.fromstring(text.encode("utf-8"), base_url=(SCHEMAS / "x.xsd").as_uri()))


def test_export_is_valid_against_the_oasis_schema_and_the_shipped_extension_schema(mini: Path) -> None:
    edit(mini, POS, "it: Acciaio e CBAM", "it: Acciaio, **CBAM** e [energia](https://energy.ec.europa.eu/)")
    data = export_xliff(load_project(mini))
    doc = etree.fromstring(data)
    for strict in (False, True):
        schema = xliff_schema(extensions_strict=strict)
        assert schema.validate(doc), schema.error_log
    # the strict variant does check our attributes: an undeclared one fails
    doc.set(f"{{{VU_NS}}}unknown", "x")
    assert not xliff_schema(extensions_strict=True).validate(doc)


def test_translate_toolkit_reads_confirmed_units_as_translated_not_fuzzy(mini: Path, tmp_path: Path) -> None:
    xliff = pytest.importorskip("translate.storage.xliff")
    edit(mini, POS, "it: Acciaio e CBAM", "it: Acciaio, CBAM ed energia")  # the title's translation outdated
    store = xliff.xlifffile(export_xliff(load_project(mini)))
    by_id = {u.getid().rsplit("\x04", 1)[-1]: u for u in store.getunits()}  # translate-toolkit: file\x04id
    assert len(by_id) == 11
    title = by_id["title"]
    assert title.isfuzzy() and not title.isapproved()
    confirmed = [u for u in by_id.values() if u is not title]
    assert all(u.isapproved() and u.istranslated() and not u.isfuzzy() for u in confirmed)


def test_a_translation_that_swaps_two_notes_keeps_each_where_the_translator_put_it(mini: Path) -> None:
    edit(mini, POS, "il 1º gennaio 2026[^note].", "il 1º gennaio 2026[^note], per il CBAM[^cbam].")
    data = export_xliff(load_project(mini))
    root = etree.fromstring(data)
    unit = next(u for u in root.iter(f"{X}trans-unit") if u.get("id") == "sections[0].body")
    assert [ph.get("id") for ph in unit.find(f"{X}source").iter(f"{X}ph")] == ["fn-note", "fn-cbam"]
    target = unit.find(f"{X}target")
    for child in list(target):
        target.remove(child)
    target.text = "For CBAM"
    first = etree.SubElement(target, f"{X}ph", id="fn-cbam", ctype="x-footnote-ref")
    first.text = "[^note]"  # a tool's copy of the wrong text inside: the id decides
    first.tail = ", the definitive period started on 1 January 2026"
    second = etree.SubElement(target, f"{X}ph", id="fn-note")
    second.tail = ".\n"
    target.set("state", "translated")
    import_xliff(load_project(mini), etree.tostring(root), "t.xlf")
    body = load_project(mini).positions["steel-mini"].sections[0].body.en
    assert body == "For CBAM[^cbam], the definitive period started on 1 January 2026[^note].\n"


def test_bold_italic_and_links_travel_as_protected_elements_and_come_back_as_markdown(mini: Path) -> None:
    edit(mini, POS, "it: Testo **nuovo**.", "it: 'Testo **nuovo** e *corsivo*, vedi [EUR-Lex](https://eur-lex.europa.eu/).'")
    data = export_xliff(load_project(mini))
    unit = units(data)["amendments[0].amendment"]
    source = unit.find(f"{X}source")
    assert [(g.get("ctype"), g.text) for g in source.iter(f"{X}g")] == [
        ("bold", "nuovo"), ("italic", "corsivo"), ("link", "EUR-Lex")]
    assert "**" not in "".join(source.itertext())
    assert source.find(f"{X}g[@ctype='link']").get(f"{{{VU_NS}}}href") == "https://eur-lex.europa.eu/"
    target = unit.find(f"{X}target")
    for child in list(target):
        target.remove(child)
    target.text = ""
    for ctype, words, tail in (("bold", "New", " text in "), ("italic", "italics", ", see "), ("link", "EUR-Lex", ".")):
        g = etree.SubElement(target, f"{X}g", id={"bold": "b1", "italic": "i1", "link": "l1"}[ctype], ctype=ctype)
        g.text, g.tail = words, tail
    target.set("state", "translated")
    import_xliff(load_project(mini), etree.tostring(unit.getroottree()), "t.xlf")
    amendment = load_project(mini).positions["steel-mini"].amendments[0].amendment.en
    assert amendment == "**New** text in *italics*, see [EUR-Lex](https://eur-lex.europa.eu/)."


def test_an_unknown_placeholder_is_refused_at_its_line(mini: Path) -> None:
    root = etree.fromstring(export_xliff(load_project(mini)))
    unit = next(u for u in root.iter(f"{X}trans-unit") if u.get("id") == "summary")
    ph = unit.find(f"{X}target/{X}ph")
    ph.set("id", "fn-other")
    data = etree.tostring(root, pretty_print=True)
    with pytest.raises(VoceunicaError, match="unknown placeholder id 'fn-other'") as info:
        import_xliff(load_project(mini), data, "t.xlf")
    assert info.value.problems[0].line == data[:data.index(b'id="fn-other"')].count(b"\n") + 1


def test_confirmed_units_are_approved_and_a_re_export_is_unchanged(mini: Path) -> None:
    data = export_xliff(load_project(mini))
    assert all(u.get("approved") == "yes" and u.find(f"{X}target").get("state") == "translated"
               for u in units(data).values())
    assert import_xliff(load_project(mini), data, "t.xlf") == []
    assert export_xliff(load_project(mini)) == data
