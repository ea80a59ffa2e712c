"""The languages' locales, the one table: `it` is Italian of Italy, `en` English of the EU institutions.

BCP 47 tags (`it-IT`) for documents and XLIFF; Babel's identifiers (`it_IT`)
for month names and decimal signs (see `fmt`).
"""

from __future__ import annotations

LOCALES = {"it": "it-IT", "en": "en-GB"}  # keyed by model.LANGS


def tag(lang: str) -> str:
    """The BCP 47 tag: it-IT / en-GB."""
    return LOCALES[lang]


def babel_locale(lang: str) -> str:
    """Babel's (CLDR's) identifier: it_IT / en_GB."""
    return LOCALES[lang].replace("-", "_")
