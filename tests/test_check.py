"""`check`: one test per class of problem, each asserting the reported file, line and message."""

from __future__ import annotations

from pathlib import Path

import pytest

from voceunica.validate import load_project
from conftest import POS, DOS, ANNEX, CSV


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems(root: Path) -> list[str]:
    return [str(p) for p in load_project(root).problems]


def line_of(root: Path, rel: str, needle: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)




def test_fixture_is_clean(mini: Path) -> None:
    assert problems(mini) == []


def test_yaml_syntax_error(mini: Path) -> None:
    edit(mini, POS, "sector: steel", "sector: [steel")
    [p] = problems(mini)
    assert p.startswith(f"{POS}:")
    assert "YAML syntax error" in p


def test_duplicate_key(mini: Path) -> None:
    edit(mini, POS, "status: agreed\n", "status: agreed\nstatus: draft\n")
    line = line_of(mini, POS, "status: draft")
    assert problems(mini) == [
        f"{POS}:{line}:1: duplicate field 'status' (first given at line {line - 1}); YAML would keep only the last"
    ]


def test_misspelt_field_with_suggestion(mini: Path) -> None:
    edit(mini, POS, "summary:", "sumary:")
    line = line_of(mini, POS, "sumary:")
    assert f"{POS}:{line}:1: unknown field 'sumary' (did you mean 'summary'?)" in problems(mini)
    # the field it replaced is now missing, reported at the top level
    assert any("missing required field 'summary'" in p for p in problems(mini))


def test_wrong_type_suggests_quoting(mini: Path) -> None:
    edit(mini, POS, 'version: "1.0.0"', "version: 1.10")
    line = line_of(mini, POS, "version: 1.10")
    assert problems(mini) == [f"{POS}:{line}:10: version: expected text, got a number (1.1); quote it: '1.10'"]


def test_missing_english_text(mini: Path) -> None:
    edit(mini, POS, "  en: Steel and CBAM\n", "")
    line = line_of(mini, POS, "title:")
    assert problems(mini) == [f"{POS}:{line}:1: title: missing English text ('en:')"]


def test_missing_text_inside_a_list(mini: Path) -> None:
    edit(mini, POS, "      it: Estendere il CBAM ai prodotti a valle.\n", "")
    line = line_of(mini, POS, "  - text:")
    assert problems(mini) == [f"{POS}:{line}:5: asks[0].text: missing Italian text ('it:')"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("celex: 32023R0956", "celex: 3202R0956", "malformed CELEX number '3202R0956'"),
        ("number: 2023/956", "number: 2023-956\n    com: COM(2025) 125", "malformed act number '2023-956'"),
        ("number: 2023/956", "number: 2023/956\n    com: COM 2025/125", "malformed Commission document number"),
        ("number: 2023/956", "number: 2023/956\n    procedure: 2025/419(COD)", "malformed procedure number"),
    ],
)
def test_malformed_identifiers(mini: Path, old: str, new: str, message: str) -> None:
    edit(mini, POS, old, new)
    found = problems(mini)
    assert len(found) == 1 and found[0].startswith(f"{POS}:") and message in found[0], found


def test_malformed_transparency_register_id(mini: Path) -> None:
    edit(mini, DOS, "  - region: veneto\n", "  - region: veneto\n    transparency_register: 1234-56\n")
    line = line_of(mini, DOS, "transparency_register")
    assert problems(mini) == [
        f"{DOS}:{line}:28: authors[1].transparency_register: malformed Transparency Register ID '1234-56' "
        "(expected e.g. '93038071152-83')"
    ]


def test_dossier_names_missing_position_and_annex(mini: Path) -> None:
    edit(mini, DOS, "positions: [steel-mini]", "positions: [steel-mini, steel-maxi]")
    edit(mini, DOS, "annexes: [exports]", "annexes: [export]")
    pos_line = line_of(mini, DOS, "positions:")
    annex_line = line_of(mini, DOS, "annexes:")
    assert problems(mini) == [
        f"{DOS}:{pos_line}:25: positions[1]: no position 'steel-maxi' (did you mean 'steel-mini'?)",
        f"{DOS}:{annex_line}:11: annexes[0]: no annex 'export' (did you mean 'exports'?)",
    ]


def test_csv_row_with_wrong_field_count(mini: Path) -> None:
    edit(mini, CSV, "2024,163.9,80.1", "2024,163.9")
    assert problems(mini) == [f"{CSV}:3:1: row has 2 fields, the header has 3"]


def test_csv_value_of_wrong_type(mini: Path) -> None:
    edit(mini, CSV, "2024,163.9,80.1", "2024,163.9,80,1")
    edit(mini, CSV, "2023,163.1,81.9", "2023,1.63,1,81.9")
    assert problems(mini) == [
        f"{CSV}:2:1: row has 4 fields, the header has 3",
        f"{CSV}:3:1: row has 4 fields, the header has 3",
    ]
    edit(mini, CSV, "2024,163.9,80,1", "2024,163.9,n/a")
    assert f"{CSV}:3:12: column 'veneto': expected a number with '.' as decimal point, got 'n/a'" in problems(mini)


def test_csv_header_not_matching_metadata(mini: Path) -> None:
    edit(mini, CSV, "year,lombardia,veneto", "year,lombardy,veneto")
    assert problems(mini) == [
        f"{CSV}:1:1: CSV header does not match the columns of {ANNEX}: not in the metadata: lombardy; "
        "missing: lombardia"
    ]


def test_newer_format_is_refused_clearly(mini: Path) -> None:
    edit(mini, POS, "format: voceunica/position@1", "format: voceunica/position@2")
    assert problems(mini) == [
        f"{POS}:2:9: this file is in format 'voceunica/position@2', newer than this voceunica reads "
        "('voceunica/position@1'): upgrade voceunica"
    ]


def test_undefined_footnote_is_reported_on_its_own_line(mini: Path) -> None:
    edit(mini, POS, "started on 1 January 2026[^note].", "started on 1 January 2026[^nota].")
    line = line_of(mini, POS, "[^nota]")
    assert f"{POS}:{line}:1: sections[0].body.en: footnote [^nota] is not defined in 'eu_files' or 'notes' " \
           "(did you mean 'note'?)" in problems(mini)


def test_every_problem_is_collected_not_just_the_first(mini: Path) -> None:
    edit(mini, POS, "sector: steel", "sector: steal")
    edit(mini, DOS, "version: \"1.0.0\"", "version: \"1.0\"")
    edit(mini, CSV, "2024,163.9,80.1", "2024,x,80.1")
    found = problems(mini)
    assert [p.split(":")[0] for p in found] == [CSV, DOS, POS]
    assert "'steal' is not allowed" in found[2]


BODY_EN = "        The definitive period started on 1 January 2026[^note].\n"


@pytest.mark.parametrize(("extra", "needle", "message"), [
    ("        <!-- da rivedere\n\n        More text.\n", "<!-- da rivedere",
     "comment '<!--' is never closed with '-->': everything after it would disappear"),
    ("        <!-- vu:pagebreak -->\n", "<!-- vu:pagebreak",
     "layout directives (<!-- vu:... -->) belong in templates, not in texts"),
    ("        ![chart](chart.png)\n", "![chart]",
     "images are not supported in position texts; figures come from annexes (chart:)"),
    ("        Subtitle\n        ---\n", "        ---",
     "a line of '-' right under text makes that text a heading; leave a blank line before it (a rule) "
     "or remove it"),
    ("        # Title\n", "# Title", "headings inside a section are not allowed; add a section instead"),
    ("        a <!-- b -- c --> d\n", "a <!-- b", "comment '<!-- b -- c -->' is not allowed in a text: readers "
     "disagree on where a comment ends, and the text it hides reaches no one"),
    ("        <div>x</div>\n", "<div>", "HTML '<div>x</div>' is not allowed in a text; use Markdown"),
    ("        Text with <span>inline</span> HTML.\n", "<span>",
     "HTML '<span>' is not allowed in a text; use Markdown"),
    ("        ```\n        code that never ends\n", "```",
     "code fence '```' is never closed: everything after it would be shown as code"),
    ("        ![chart][c]\n\n        [c]: https://example.eu/c.png\n", "![chart][c]",
     "images are not supported in position texts; figures come from annexes (chart:)"),
    ("        See [the act][a].\n\n        [a]: https://eur-lex.europa.eu/\n", "[a]: https",
     "link reference definitions ('[name]: target') are not allowed in a text: write the link inline, "
     "[text](https://...)"),
    ("        [^x]: a note nobody cites\n", "[^x]:", "a footnote definition ('[^key]: ...') cannot stand in a "
     "text: put the note in 'notes:' (or 'eu_files:') and cite it with [^key]"),
    ("".join("        " + "  " * i + f"- level {i}\n" for i in range(12)), "- level 6",
     "lists and quotes are nested more than 6 levels deep; a reader loses track (and a Markdown reader drops "
     "what is nested too deep)"),
    ("        " + ">" * 25 + " deep\n", ">>>>>", "lists and quotes are nested more than 6 levels deep; a reader "
     "loses track (and a Markdown reader drops what is nested too deep)"),
    ("        [x](ms-msdt:/id%20PCWDiagnostic)\n", "ms-msdt", "link target 'ms-msdt:/id%20PCWDiagnostic' is not "
     "allowed: links must start with https://, http://, mailto: or # (anything else can run code when the "
     "document is opened)"),
    ("        [x](search-ms:query=a)\n", "search-ms", "link target 'search-ms:query=a' is not allowed: links "
     "must start with https://, http://, mailto: or # (anything else can run code when the document is opened)"),
    ("        [x](javascript:alert(1))\n", "javascript", "link target 'javascript:alert(1' is not allowed: links "
     "must start with https://, http://, mailto: or # (anything else can run code when the document is opened)"),
    ("        <file:///etc/passwd>\n", "<file:///", "link target 'file:///etc/passwd' is not allowed: links must "
     "start with https://, http://, mailto: or # (anything else can run code when the document is opened)"),
])
def test_markdown_that_would_not_survive_the_layout_is_refused(mini: Path, extra: str, needle: str,
                                                               message: str) -> None:
    edit(mini, POS, BODY_EN, BODY_EN + "\n" + extra)
    line = line_of(mini, POS, needle)
    found = problems(mini)
    assert any(p.startswith(f"{POS}:{line}:") and p.endswith(f"sections[0].body.en: {message}") for p in found), found


def test_a_rule_after_a_blank_line_or_a_list_is_fine(mini: Path) -> None:
    edit(mini, POS, BODY_EN, BODY_EN + "\n        ---\n\n        - one\n        ---\n")
    assert problems(mini) == []


def test_a_note_cannot_cite_another_note(mini: Path) -> None:
    edit(mini, POS, "text: {it: Nota di prova., en: A test note.}", "text: {it: Nota di prova., en: 'See[^cbam].'}")
    line = line_of(mini, POS, "See[^cbam]")
    assert any(p.startswith(f"{POS}:{line}:") and "a note cannot cite another note ([^cbam])" in p
               for p in problems(mini))


@pytest.mark.parametrize("value", ['"163.1\n2"', "١٦٣", "1" * 5000, "1e3", "+1"])
def test_a_number_cell_that_is_not_a_plain_number_is_reported_not_crashed_on(mini: Path, value: str) -> None:
    edit(mini, CSV, "2024,163.9,80.1", f"2024,{value},80.1")
    found = problems(mini)
    assert len(found) == 1 and found[0].startswith(f"{CSV}:3:6: column 'lombardia': expected a number"), found


def test_a_bad_cell_is_reported_at_its_column_as_written(mini: Path) -> None:
    edit(mini, CSV, "2024,163.9,80.1", "2024 , 163.9,x")
    assert problems(mini) == [f"{CSV}:3:14: column 'veneto': expected a number with '.' as decimal point, got 'x'"]


def test_check_reports_a_style_the_reference_lacks_and_a_word_label_missing(mini: Path) -> None:
    import io
    import zipfile

    ref = mini / "templates" / "reference.docx"
    buf = io.BytesIO()
    with zipfile.ZipFile(ref) as src, zipfile.ZipFile(buf, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/styles.xml":
                data = data.replace(b'w:val="Annex Table"', b'w:val="Some Other Table"')
            dst.writestr(item, data)
    ref.write_bytes(buf.getvalue())
    labels = mini / "templates" / "labels.yaml"
    text = labels.read_text(encoding="utf-8")
    kept = [line for line in text.splitlines(keepends=True)
            if not line.lstrip().startswith(("contents:", "changelog.title:", "region.veneto:"))]
    labels.write_text("".join(kept), encoding="utf-8")
    from voceunica.pipeline import check

    found = [str(p) for p in check(mini).problems]  # checked where Word files are composed, not in validate
    assert "templates/reference.docx:1:1: style 'Annex Table' is missing; the DOCX writer needs it" in found, found
    for key, who in (("contents", "the Word files print it"), ("changelog.title", "release notes print it"),
                     ("region.veneto", "the templates print it")):
        assert any(p.startswith("templates/labels.yaml:") and p.endswith(f"missing label '{key}' ({who})")
                   for p in found), (key, found)


@pytest.mark.parametrize(("old", "new", "needle", "message"), [
    ("{it: Testo attuale., en: Current text.}", "{it: (sintesi) Testo attuale., en: Current text.}", "(sintesi)",
     "amendments[0].commission.it: the Commission's text is marked '(sintesi)': an amendment quotes the proposal "
     "verbatim (copy its wording from EUR-Lex)"),
    ("{it: Testo attuale., en: Current text.}", "{it: Testo attuale., en: \" (Summary) Current text.\"}",
     "(Summary)", "amendments[0].commission.en: the Commission's text is marked '(Summary)': an amendment quotes "
     "the proposal verbatim (copy its wording from EUR-Lex)"),
    ("{it: Testo attuale., en: Current text.}", "{it: \"-\", en: \"-\"}", "commission:",
     "amendments[0].commission.it: a new provision has no Commission text: leave 'commission' out and its cell "
     "stays empty"),
])
def test_commission_text_not_quoted_verbatim_is_a_warning(mini: Path, old: str, new: str, needle: str,
                                                          message: str) -> None:
    edit(mini, POS, old, new)
    line = line_of(mini, POS, needle)
    project = load_project(mini)
    assert project.errors == []  # a warning: the build goes on
    found = [str(p) for p in project.problems if message in str(p)]
    assert len(found) == 1 and found[0].startswith(f"{POS}:{line}:") and ": warning: " in found[0], found


def test_new_provision_has_no_commission_text(mini: Path) -> None:
    edit(mini, POS, "    commission: {it: Testo attuale., en: Current text.}\n", "")
    assert [p for p in load_project(mini).problems if "commission" in str(p)] == []
