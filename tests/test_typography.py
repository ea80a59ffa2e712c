"""Typography per language (typography.py): quotes, apostrophes, no-break spaces, grouping."""

from __future__ import annotations

import re

import pytest

from voceunica import fmt, typography
from voceunica.typography import markdown, plain

NB = "\u00a0"


def shown(text: str) -> str:
    """No-break spaces made visible, for readable assertions."""
    return text.replace(NB, "~")


# --- quotation marks and apostrophes ---------------------------------------------------------

@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("it", "l'Unione e l'acciaio", "l’Unione e l’acciaio"),
        ("it", 'le "regioni europee di eccellenza"', "le «regioni europee di eccellenza»"),
        ("it", 'il "piano "REPowerEU" rivisto"', "il «piano “REPowerEU” rivisto»"),
        ("it", '«la "tutela" dei dati»', "«la “tutela” dei dati»"),  # typed « » count as level 1
        ("it", "un po' di tempo", "un po’ di tempo"),
        ("en", "Italy's exports and the Regions' figures", "Italy’s exports and the Regions’ figures"),
        ("en", 'the "European regions of excellence"', "the ‘European regions of excellence’"),
        ("en", "\"He said 'no' twice\"", "‘He said “no” twice’"),
        ("en", "('more than 13 000')", f"(‘more than 13{NB}000’)"),
        ("en", "in the '90s", "in the ’90s"),
        ("en", '**"bold"** and "*emphasis*"', "**‘bold’** and ‘*emphasis*’"),
        ("en", "don't", "don’t"),
    ],
)
def test_quotes_per_language(lang: str, text: str, expected: str) -> None:
    assert markdown(text, lang) == expected
    assert plain(text, lang) == expected


def test_a_quotation_closes_with_its_paragraph() -> None:
    out = markdown('A "first.\n\nThen "second" here.', "it")
    assert out == "A «first.\n\nThen «second» here."


def test_markdown_syntax_links_and_code_are_left_alone() -> None:
    text = ("See [the 'text'](https://example.eu/a'b?q=5800 \"t'itle\") and `code 'x' 5800`, <https://eu.eu/1234>, "
            "www.example.eu/12345, a.b@example.eu, [^note-2024] and \\\"escaped\\\".")
    out = markdown(text, "en")
    assert out == text.replace("[the 'text']", "[the ‘text’]")


def test_code_blocks_are_left_alone() -> None:
    text = "Before 5800.\n\n```\nx = '5800'\n```\n\n    indented 'code' 5800\n\nAfter 5800."
    out = markdown(text, "it")
    assert out == text.replace("Before 5800", f"Before 5{NB}800").replace("After 5800", f"After 5{NB}800")


def test_identifiers_are_left_alone() -> None:
    for text in ["COM(2025) 726 final", "COM(2025) 989 final, 2025/0419(COD)", "CELEX 32023R0956",
                 "Regulation (EU) 2023/956", "Law 234/2012", "SWD(2025) 1234", "ITC4 and ITH3",
                 "Transparency Register 93038071152-83", "version 1.0.0", "on 19.3.2025", "sbs_r_nuts2021"]:
        assert markdown(text, "en") == text, text


def test_phone_numbers_and_codes_are_left_alone() -> None:
    for text in ["+32 2 000 00 00", "+39 0212345678", "call 0212345678", "Via Roma 1, 20124 Milano"]:
        assert markdown(text, "it") == text, text


# --- no-break spaces --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("it", "il 54 % e il 54%", "il 54~% e il 54~%"),
        ("en", "EUR 12 500 and EUR 940 million", "EUR~12~500 and EUR~940~million"),
        ("it", "623,5 miliardi di EUR e 2000 EUR", "623,5~miliardi di EUR e 2~000~EUR"),
        ("it", "18,3 Mt l'anno, 50 t, 1,5 %", "18,3~Mt l’anno, 50~t, 1,5~%"),
        ("en", "1.5 % and 5.4 million tonnes", "1.5~% and 5.4~million tonnes"),
        ("it", "dal 1º gennaio 2026 al 26 novembre", "dal 1º~gennaio 2026 al 26~novembre"),
        ("en", "from 1 January 2026 to 5 September", "from 1~January 2026 to 5~September"),
        ("en", "Article 2 – paragraph 1 – point a", "Article~2 – paragraph~1 – point~a"),
        ("it", "articolo 12, Allegato II, punto (b)", "articolo~12, Allegato~II, punto~(b)"),
    ],
)
def test_no_break_spaces(lang: str, text: str, expected: str) -> None:
    assert shown(markdown(text, lang)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a pair split by the source's line break: the break moves before the number, no line is added or lost
        ("prodotto 5,4\nmilioni di tonnellate", "prodotto\n5,4~milioni di tonnellate"),
        ("iniziato il 1º\ngennaio 2026", "iniziato il\n1º~gennaio 2026"),
        ("- a list item of 5\n  tonnes", "- a list item of\n  5~tonnes"),  # the continuation keeps its indent
        ("about EUR\n940 million", "about\nEUR~940~million"),
        # left as typed: the number starts its line (after a marker at most), a doubled space, code
        ("- 5\n  tonnes", "- 5\n  tonnes"),
        ("54\n% of all", "54\n% of all"),
        ("word  5\nt", "word  5\nt"),
        ("`x 5\nt`", "`x 5\nt`"),
    ],
)
def test_a_pair_split_across_source_lines_is_joined(text: str, expected: str) -> None:
    assert shown(markdown(text, "it")) == expected


# --- one grouping rule ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("it", "circa 5800 addetti", "circa 5~800 addetti"),
        ("it", "5800 posti e 22000 addetti", "5~800 posti e 22~000 addetti"),
        ("it", "circa 5 800 addetti", "circa 5~800 addetti"),  # typed with a space: made no-break
        ("en", "425775 firms; 1234567 units", "425~775 firms; 1~234~567 units"),
        ("it", "1234,56 e 12345,6", "1~234,56 e 12~345,6"),  # decimal comma
        ("en", "1234.56 and 0.12345", "1~234.56 and 0.12345"),  # decimal point; decimals are not grouped
        ("it", "1,5 e 1.5", "1,5 e 1.5"),
        ("en", "from 1500 to 2500 firms", "from 1~500 to 2~500 firms"),
        ("en", "5800–6000 jobs", "5~800–6~000 jobs"),
    ],
)
def test_quantities_are_grouped(lang: str, text: str, expected: str) -> None:
    assert shown(markdown(text, lang)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "nel 2024", "in 1900 and 2100", "2026–2027", "2028-2034", "il 1º gennaio 2026", "1 March 1848",
        "Article 1234", "articolo 1500", "page 1234", "pagina 2345", "p. 1234", "n. 12345", "No 4567",
        "2000 imprese",  # could be a year: stays as written
        "1000. a list item",
        "Regulation (EU) 2023/956",
    ],
)
def test_serial_numbers_are_not_grouped(text: str) -> None:
    out = markdown(text, "en")
    assert re.search(r"\d\u00a0\d", out) is None, shown(out)
    assert out.replace(NB, " ") == text


def test_a_year_with_a_unit_or_currency_is_an_amount() -> None:
    assert shown(markdown("2000 t and EUR 2026", "en")) == "2~000~t and EUR~2~026"


def test_tables_and_text_share_the_rule() -> None:
    for value in (999, 1000, 5800, 22000, 1234567):
        assert fmt.number(value, "it") == markdown(str(value) + " addetti", "it").removesuffix(" addetti")
    assert typography.group("123") == "123"
    assert typography.group("5800") == f"5{NB}800"


# --- properties -------------------------------------------------------------------------------

SAMPLES = [
    "L'Unione \"chiede\" 5800 posti dal 1º gennaio 2026, il 54 % (EUR 12500), COM(2025) 726 final.",
    "The Regions' \"asks\": 'EUR 940 million' by 1 January 2028, Article 2 – point a, 2025/0419(COD).",
    "- a list with 1500 items\n- and `code 'x'`\n\n> a \"quote\" of 22000",
    "- produced 5,4\n  milioni di tonnellate dal 1º\n  gennaio\n- 5\n  t",
    "",
    "no digits, no quotes",
]


@pytest.mark.parametrize("text", SAMPLES)
@pytest.mark.parametrize("lang", ["it", "en"])
def test_idempotent_and_line_preserving(text: str, lang: str) -> None:
    once = markdown(text, lang)
    assert markdown(once, lang) == once
    assert plain(plain(text, lang), lang) == plain(text, lang)
    assert once.count("\n") == text.count("\n")
    # only quotation marks, apostrophes, spaces and where a line breaks change: the rest is the same
    def skeleton(t: str) -> str:
        return re.sub("[\"'«»“”‘’]", "q", t).replace(NB, "").replace(" ", "").replace("\n", "")

    assert skeleton(once) == skeleton(text)


def test_markdown_parses_to_the_same_structure() -> None:
    from voceunica.textrules import parser

    text = SAMPLES[2] + "\n\n1. first 1000\n2. [link 'x'](https://e.eu/1234) **\"b\"**\n\n" + SAMPLES[3]
    before = [(t.type, t.tag) for t in parser().parse(text)]
    after = [(t.type, t.tag) for t in parser().parse(markdown(text, "it"))]
    assert before == after
