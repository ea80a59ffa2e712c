"""Numbers, money and dates per language, in the EU Interinstitutional Style.

Babel supplies the month names and the decimal sign; grouping follows the
EU style guide (../shared/domain.md), not Babel's national `it` default:
thousands are separated by a no-break space in both languages
(EN `152 231.32`, IT `152 231,32`), from four digits on, by the rule running
text follows too (`typography.group`), money is `EUR 12 500` in English and
`12 500 EUR` in Italian, dates are `19 March 2025` / `19 marzo 2025`
(`1º febbraio 2026`).  These functions are the templates' filters.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

from babel.dates import format_date

from voceunica.locales import babel_locale
from voceunica.typography import NBSP, group

_DECIMAL_SIGN = {"it": ",", "en": "."}


def number(value: int | float | Decimal, lang: str, decimals: int = 0) -> str:
    """`12500.5` → `12 500,5` (it) / `12 500.5` (en), `5800` → `5 800`: no-break
    spaces from four digits on, the one grouping rule of running text too
    (`typography.group`), so a figure reads the same in a note and in a table.
    """
    q = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN) if decimals \
        else Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    sign = "-" if q < 0 else ""
    whole, _, frac = f"{abs(q):f}".partition(".")
    out = sign + group(whole)
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

