"""Numbers, money and dates per language, in the EU Interinstitutional Style.

Babel supplies the month names and the decimal sign; grouping follows the
EU style guide (../shared/domain.md), not Babel's national `it` default:
thousands are separated by a no-break space in both languages
(EN `152 231.32`, IT `152 231,32`), money is `EUR 12 500` in English and
`12 500 EUR` in Italian, dates are `19 March 2025` / `19 marzo 2025`
(`1º febbraio 2026`).  These functions are the templates' filters.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

from babel.dates import format_date

from voceunica.locales import babel_locale

NBSP = "\u00a0"
_DECIMAL_SIGN = {"it": ",", "en": "."}


def number(value: int | float | Decimal, lang: str, decimals: int = 0, *, group_four: bool = False) -> str:
    """`12500.5` → `12 500,5` (it) / `12 500.5` (en), no-break space for thousands.

    Four-digit numbers stay ungrouped in running text (EU style allows it);
    tables pass `group_four=True` so figures align by digit.
    """
    q = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN) if decimals \
        else Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    sign = "-" if q < 0 else ""
    text = f"{abs(q):f}"
    whole, _, frac = text.partition(".")
    if len(whole) > 4 or (group_four and len(whole) == 4):
        groups: list[str] = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        groups.insert(0, whole)
        whole = NBSP.join(groups)
    out = sign + whole
    if frac:
        out += _DECIMAL_SIGN[lang] + frac
    return out


def money(value: int | float | Decimal, lang: str, decimals: int = 0, currency: str = "EUR") -> str:
    """`EUR 12 500` (en) / `12 500 EUR` (it)."""
    n = number(value, lang, decimals)
    return f"{currency}{NBSP}{n}" if lang == "en" else f"{n}{NBSP}{currency}"


def percent(value: int | float | Decimal, lang: str, decimals: int = 0) -> str:
    """`12.5 %` / `12,5 %` — EU style puts a no-break space before the sign."""
    return f"{number(value, lang, decimals)}{NBSP}%"


def date(value: dt.date, lang: str) -> str:
    """`10 March 2026` / `10 marzo 2026`, `1º febbraio 2026` for the first of the month."""
    if lang == "it" and value.day == 1:
        return "1º " + format_date(value, "MMMM y", locale=babel_locale(lang))
    return format_date(value, "d MMMM y", locale=babel_locale(lang))


def short_date(value: dt.date) -> str:
    """Numeric date, the same in both languages: `19.3.2025`."""
    return f"{value.day}.{value.month}.{value.year}"

