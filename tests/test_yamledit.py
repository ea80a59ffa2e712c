"""Round-trip YAML edits keep the file's own style: only the lines that must change do.

The same position is written in three valid styles (the fixture's 2 spaces with indented
sequences; 4 spaces, flush sequences, double quotes and flow approvals; 2 spaces, flush
sequences, single quotes, comments and CRLF line ends) and `signoff`, `i18n mark` and the
XLIFF import's writer are run on each: the file's diff is exactly the changed lines.
"""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path

import pytest
import yaml

from voceunica.fingerprint import translation_marks
from voceunica.validate import load_project
from voceunica.yamledit import detect_style, mark_translated, record_signoff, set_translations
from conftest import POS

FOUR_FLOW = """\
# 4 spaces, sequences flush with their key, double quotes, approvals as flow mappings
format: "voceunica/position@1"
id: steel-mini
version: "1.0.0"
sector: steel
status: draft
title:
    it: "Acciaio e CBAM"
    en: "Steel and CBAM"   # agreed wording
summary:
    it: Le Regioni chiedono un CBAM efficace[^cbam].
    en: The Regions ask for an effective CBAM[^cbam].
asks:
-   text: {it: "Estendere il CBAM ai prodotti a valle.", en: "Extend CBAM to downstream goods."}
    eu_file: cbam
sections:
-   heading: { it: Contesto, en: Context }
    body:
        it: |
            Il periodo definitivo è iniziato il 1º gennaio 2026[^note].
        en: |
            The definitive period started on 1 January 2026[^note].
eu_files:
-   key: cbam
    kind: regulation
    number: "2023/956"
    celex: "32023R0956"
    eli: "http://data.europa.eu/eli/reg/2023/956/oj"
    title: {it: "Meccanismo di adeguamento del carbonio alle frontiere", en: "Carbon Border Adjustment Mechanism"}
notes:
-   key: note
    text: {it: "Nota di prova.", en: "A test note."}
signoffs:
    veneto: {by: "Paolo Test", date: 2026-03-09, fingerprint: "sha256:0000000000000000"}
translated_from:
    title: "446718636724"
"""

FLUSH_CRLF = """\
format: 'voceunica/position@1'
id: steel-mini
version: '1.0.0'
sector: steel
status: draft

# Titles
title:
  it: 'Acciaio e CBAM'
  en: 'Steel and CBAM'
summary:
  it: 'Le Regioni chiedono un CBAM efficace[^cbam].'
  en: 'The Regions ask for an effective CBAM[^cbam].'
asks:
- text:
    it: Estendere il CBAM ai prodotti a valle.
    en: Extend CBAM to downstream goods.
  eu_file: cbam
sections:
- heading:
    it: Contesto
    en: Context
  body:
    it: >-
      Il periodo definitivo è iniziato
      il 1º gennaio 2026[^note].
    en: 'The definitive period started on 1 January 2026[^note].'
eu_files:
- key: cbam
  kind: regulation
  number: 2023/956
  celex: 32023R0956
  eli: http://data.europa.eu/eli/reg/2023/956/oj
  title:
    it: Meccanismo di adeguamento del carbonio alle frontiere
    en: Carbon Border Adjustment Mechanism
notes:
- key: note
  text:
    it: Nota di prova.
    en: A test note.
# end of the position
""".replace("\n", "\r\n")

STYLES = {"fixture": None, "four-flow": FOUR_FLOW, "flush-crlf": FLUSH_CRLF}


@pytest.fixture(params=sorted(STYLES))
def styled(request: pytest.FixtureRequest, mini: Path) -> Path:
    text = STYLES[request.param]
    if text is not None:
        (mini / POS).write_bytes(text.encode("utf-8"))
    else:  # the fixture as it is, a draft so that its own approvals need not be current
        (mini / POS).write_bytes((mini / POS).read_bytes().replace(b"status: agreed", b"status: draft"))
    assert "steel-mini" in load_project(mini).positions, load_project(mini).errors
    return mini


def changes(before: bytes, after: bytes) -> tuple[list[str], list[str]]:
    """(old lines removed, new lines added), line ends included."""
    a, b = before.decode().splitlines(keepends=True), after.decode().splitlines(keepends=True)
    removed, added = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += a[i1:i2]
            added += b[j1:j2]
    return removed, added


def test_the_three_styles_are_detected() -> None:
    fixture = (Path(__file__).parent / "fixtures/mini" / POS).read_text(encoding="utf-8")
    assert (s := detect_style(fixture)).indent == 2 and not s.flow_records and s.newline == "\n"
    assert (s := detect_style(FOUR_FLOW)).indent == 4 and s.quote == '"' and s.flow_records
    assert (s := detect_style(FLUSH_CRLF)).indent == 2 and s.quote == "'" and s.newline == "\r\n"


def test_signoff_changes_only_the_approval_lines(styled: Path) -> None:
    before = (styled / POS).read_bytes()
    _, fp = record_signoff(load_project(styled), "steel-mini", "lombardia", "Maria Rossi", dt.date(2026, 11, 2))
    after = (styled / POS).read_bytes()
    removed, added = changes(before, after)
    nl = "\r\n" if b"\r\n" in before else "\n"
    if before.startswith(b"# A minimal"):  # block approvals: the value lines that differ, in place
        new = [f"    by: Maria Rossi{nl}", f"    date: 2026-11-02{nl}", f"    fingerprint: {fp}{nl}"]
        assert [line.split(":")[0].strip() for line in removed] == ["by", "date", "fingerprint"][:len(removed)]
        assert added == new[:len(removed)] and len(removed) >= 2
    elif b"{by:" in before:  # flow approvals: one new line, before veneto's (regions' order), 4 spaces
        assert removed == []
        assert added == [f'    lombardia: {{by: Maria Rossi, date: 2026-11-02, fingerprint: {fp}}}{nl}']
        assert after.decode().index("lombardia:") < after.decode().index("veneto:")
    else:  # no approvals yet: a new block at the end, in the file's indentation and line ends
        assert removed == []
        assert added == [f"signoffs:{nl}", f"  lombardia:{nl}", f"    by: Maria Rossi{nl}",
                         f"    date: 2026-11-02{nl}", f"    fingerprint: {fp}{nl}"]
        assert after.startswith(before)
    pos = load_project(styled).positions["steel-mini"]
    assert pos.signoffs.lombardia is not None and pos.signoffs.lombardia.by == "Maria Rossi"


def test_signoff_twice_changes_nothing_the_second_time(styled: Path) -> None:
    record_signoff(load_project(styled), "steel-mini", "veneto", "Paolo Test", dt.date(2026, 3, 9))
    once = (styled / POS).read_bytes()
    record_signoff(load_project(styled), "steel-mini", "veneto", "Paolo Test", dt.date(2026, 3, 9))
    assert (styled / POS).read_bytes() == once


def test_mark_changes_only_the_recorded_hashes(styled: Path) -> None:
    before = (styled / POS).read_bytes()
    project = load_project(styled)
    marks = translation_marks(project.positions["steel-mini"])
    old = project.positions["steel-mini"].translated_from
    mark_translated(project, "steel-mini", ["title", "summary"])
    removed, added = changes(before, (styled / POS).read_bytes())
    assert all("translated_from" in line or line.lstrip().startswith(("title:", "summary:")) for line in removed)
    assert {line.strip().split(":")[0] for line in added} <= {"translated_from", "title", "summary"}
    assert len(added) == sum(old.get(f) != marks[f] for f in ("title", "summary")) + ("translated_from" not in
                                                                                        before.decode())
    data = yaml.safe_load((styled / POS).read_bytes())
    assert data["translated_from"]["title"] == marks["title"] and data["translated_from"]["summary"] == marks["summary"]


def test_import_writes_only_the_translated_values_and_their_hashes(styled: Path) -> None:
    before = (styled / POS).read_bytes()
    project = load_project(styled)
    marks = translation_marks(project.positions["steel-mini"])
    set_translations(project, "steel-mini", {
        "title": ("Steel and the CBAM", marks["title"]),
        "sections[0].body": ("The definitive period began on 1 January 2026[^note].\n\nIt is here.",
                             marks["sections[0].body"]),
    })
    after = (styled / POS).read_bytes()
    removed, added = changes(before, after)
    text = after.decode()
    # the old title and body lines go, nothing else but the hashes
    assert [r for r in removed if "Steel and CBAM" in r or "definitive period" in r] == [
        r for r in removed if "translated_from" not in r and not r.lstrip().startswith(("title:", "sections[0]"))]
    assert all("Steel and the CBAM" in a or "began" in a or "It is here" in a or a.strip() in ("", "en: |")
               or a.lstrip().startswith(("title:", "sections[0].body:", "translated_from:")) for a in added)
    quote = {"fixture": "", "four-flow": '"', "flush-crlf": "'"}[
        "four-flow" if '"Steel and CBAM"' in before.decode() else "flush-crlf" if "\r\n" in text else "fixture"]
    assert f"en: {quote}Steel and the CBAM{quote}" in text  # the old value's quoting kept
    data = yaml.safe_load(after)
    assert data["sections"][0]["body"]["en"] == "The definitive period began on 1 January 2026[^note].\n\nIt is here.\n"
    assert data["title"]["en"] == "Steel and the CBAM"
    assert "sections[0].body" in data["translated_from"]
    # the Italian texts and everything else read as before
    old = yaml.safe_load(before)
    for key in ("asks", "eu_files", "notes", "summary", "signoffs"):
        assert data.get(key) == old.get(key)


def test_edits_are_atomic_and_leave_no_temporary_files(styled: Path) -> None:
    record_signoff(load_project(styled), "steel-mini", "veneto", "Paolo Test", dt.date(2026, 3, 10))
    assert sorted(p.name for p in (styled / "positions").iterdir()) == ["steel-mini.yaml"]


@pytest.mark.parametrize("dump", [
    {"indent": 2, "default_flow_style": False},
    {"indent": 4, "default_flow_style": False},
    {"indent": 4, "default_flow_style": None},  # leaf mappings in flow style: {by: …, date: …}
    {"indent": 3, "default_flow_style": None, "Dumper": "quoting"},  # every string double-quoted, keys too
], ids=["2-block", "4-block", "4-flow-leaves", "3-all-quoted"])
def test_signoff_in_files_written_by_another_tool(mini: Path, dump: dict[str, object]) -> None:
    data = yaml.safe_load((mini / POS).read_text(encoding="utf-8"))
    data["status"] = "draft"
    class Quoting(yaml.SafeDumper):
        pass

    Quoting.add_representer(str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style='"'))
    options = {**dump, "Dumper": Quoting if dump.get("Dumper") else yaml.SafeDumper}
    text = yaml.dump(data, sort_keys=False, allow_unicode=True, width=4096, **options)  # type: ignore[call-overload]
    (mini / POS).write_text(text, encoding="utf-8")
    node = yaml.compose(text)
    signoffs = next(v for k, v in node.value if k.value == "signoffs")
    lombardia = next(v for k, v in signoffs.value if k.value == "lombardia")
    region_lines = set(range(lombardia.start_mark.line, lombardia.end_mark.line + 1))
    record_signoff(load_project(mini), "steel-mini", "lombardia", "Maria Rossi", dt.date(2026, 11, 2))
    after = (mini / POS).read_text(encoding="utf-8")
    old, new = text.splitlines(), after.splitlines()
    assert len(old) == len(new)  # in place
    changed = {i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b}
    assert changed and changed <= region_lines, (changed, region_lines)
    again = yaml.safe_load(after)
    assert again["signoffs"]["lombardia"]["by"] == "Maria Rossi"
    assert {k: v for k, v in again.items() if k != "signoffs"} == {k: v for k, v in data.items() if k != "signoffs"}


@pytest.mark.parametrize(("text", "edit", "expected"), [
    # the last recorded hash goes: an empty mapping, the comments kept
    ("a: 1\ntranslated_from:  # hashes\n  title: '123456789012'\n# end\nz: 2\n",
     ("delete", ("translated_from", "title")), "a: 1\ntranslated_from: {}  # hashes\n# end\nz: 2\n"),
    # into an empty flow mapping: it stays on its line, its comment too
    ("a: 1\ntranslated_from: {}  # none yet\n", ("set", ("translated_from", "title"), "123456789012"),
     "a: 1\ntranslated_from: {title: '123456789012'}  # none yet\n"),
    # a field given as null becomes a block of the file's indentation
    ("a:\n    b: 1\nsignoffs:\nz: 2\n", ("set", ("signoffs", "veneto"), {"by": "X Y", "date": dt.date(2026, 1, 2)}),
     "a:\n    b: 1\nsignoffs:\n    veneto:\n        by: X Y\n        date: 2026-01-02\nz: 2\n"),
    # a one-line text that becomes two paragraphs: a literal block, its comment kept in the header
    ("t:\n  en: plain value # c\n  it: x\n", ("set", ("t", "en"), "two\n\nparas\n"),
     "t:\n  en: | # c\n    two\n\n    paras\n  it: x\n"),
    # no final line break: the new entry starts on a line of its own
    ("a: 1", ("set", ("translated_from", "title"), "0123"), "a: 1\ntranslated_from:\n  title: '0123'\n"),
    # text that plain YAML would read otherwise is quoted in the file's quote
    ('a: "x"\nt: {en: old}\n', ("set", ("t", "en"), "yes: no, #1"), 'a: "x"\nt: {en: "yes: no, #1"}\n'),
])
def test_editor_edge_cases(text: str, edit: tuple[object, ...], expected: str) -> None:
    from voceunica.yamledit import _Editor

    editor = _Editor(text)
    getattr(editor, str(edit[0]))(*edit[1:])
    assert editor.result() == expected
