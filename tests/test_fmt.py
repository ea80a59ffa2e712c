"""EU Interinstitutional Style for numbers, money and dates (../shared/domain.md)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from voceunica import fmt

NB = "\u00a0"


@pytest.mark.parametrize(
    ("value", "lang", "decimals", "expected"),
    [
        (Decimal("152231.32"), "en", 2, f"152{NB}231.32"),
        (Decimal("152231.32"), "it", 2, f"152{NB}231,32"),
        (1234, "it", 0, f"1{NB}234"),  # from four digits on, as running text (typography.group)
        (123, "it", 0, "123"),
        (12500, "en", 0, f"12{NB}500"),
        (1234567, "it", 0, f"1{NB}234{NB}567"),
        (Decimal("163.85"), "it", 1, "163,8"),  # round half to even
        (Decimal("-1500.5"), "en", 1, f"-1{NB}500.5"),
        (Decimal("0.05"), "it", 2, "0,05"),
        (Decimal("-15000.5"), "en", 1, f"-15{NB}000.5"),
    ],
)
def test_number(value: Decimal, lang: str, decimals: int, expected: str) -> None:
    assert fmt.number(value, lang, decimals) == expected


def test_tables_and_running_text_group_numbers_by_one_rule() -> None:
    """A figure reads the same in a table (fmt) and in a note (typography): '5 800' in both."""
    from voceunica import typography

    assert fmt.number(5800, "it") == typography.markdown("5800", "it") == f"5{NB}800"
    assert fmt.number(22000, "en") == typography.markdown("22 000", "en") == f"22{NB}000"
    assert fmt.number(5800, "en") == typography.group("5800")


def test_money_puts_the_code_first_in_english_and_last_in_italian() -> None:
    assert fmt.money(12500, "en") == f"EUR{NB}12{NB}500"
    assert fmt.money(12500, "it") == f"12{NB}500{NB}EUR"


@pytest.mark.parametrize(
    ("date", "lang", "expected"),
    [
        (dt.date(2026, 3, 10), "it", "10 marzo 2026"),
        (dt.date(2026, 3, 10), "en", "10 March 2026"),
        (dt.date(2026, 2, 1), "it", "1º febbraio 2026"),
        (dt.date(2026, 2, 1), "en", "1 February 2026"),
    ],
)
def test_date(date: dt.date, lang: str, expected: str) -> None:
    assert fmt.date(date, lang) == expected


def test_short_date_and_percent() -> None:
    assert fmt.short_date(dt.date(2025, 3, 19)) == "19.3.2025"
    assert fmt.percent(Decimal("12.5"), "it", 1) == f"12,5{NB}%"
    assert fmt.percent(Decimal("1234.5"), "en", 1) == f"1{NB}234.5{NB}%"


def test_one_locale_table_for_every_language() -> None:
    from voceunica import locales
    from voceunica.model import LANGS

    assert tuple(locales.LOCALES) == LANGS
    assert [locales.tag(lang) for lang in LANGS] == ["it-IT", "en-GB"]
    assert [locales.babel_locale(lang) for lang in LANGS] == ["it_IT", "en_GB"]
