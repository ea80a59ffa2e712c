"""What the Word layer is given and what it raises: the data types every module of `voceunica.docx` shares.

Kept apart from the package's face (`voceunica.docx`) so that the modules
inside the layer import it, and the face imports them, without a cycle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


class DocxError(Exception):
    """The Markdown cannot be written as Word without losing something; `line`
    is the line of the rendered Markdown body, when known."""

    def __init__(self, message: str, line: int | None = None, *, index: int = 0, word: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.index = index  # which Markdown text: 0 (single, or Italian in a parallel text), 1 (English)
        self.word = word  # the word that was lost, when a read-back found the loss
        self.places: list[tuple[int, int, str]] = []  # (Markdown index, line, word) of each loss found


@dataclass(frozen=True)
class Author:
    name: str  # "Regione Lombardia"
    line: str  # as the cover shows it: "Delegazione di Regione Lombardia a Bruxelles"
    transparency_register: str | None = None
    logo: Path | None = None
    logo_data: bytes | None = field(default=None, repr=False)  # the logo as read from the project


@dataclass(frozen=True)
class AnnexTable:
    """An annex's table as resolve gives it, cell texts formatted per language (fmt.py):
    the writer makes the Word table from these rows where its Markdown is exactly them (`annex`)."""

    headers: Sequence[str]
    align: Sequence[str]  # "left" | "right", per column
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class DocxMeta:
    lang: str  # it | en
    title: str
    subtitle: str
    short_title: str  # running header
    doctype: str
    date_text: str
    version: str
    status_text: str
    draft: bool  # BOZZA / DRAFT on every page
    authors: tuple[Author, ...]
    contact_lines: tuple[str, ...]
    eu_files: tuple[str, ...]  # plain text, one per EU file addressed
    labels: dict[str, str] = field(hash=False)
    created: dt.datetime  # document properties; never the wall clock
    keywords: tuple[str, ...] = ()
    identifier: str = ""
    layout: str = "dossier"  # brief: a head block and the text on page 1; dossier: cover and contents
    dateline: str = ""  # 'Bruxelles, 20 novembre 2026' (brief)
    audience: str = ""  # whom the paper addresses (brief)
    # the annexes' tables, which the Markdown holds too
    tables: tuple[AnnexTable, ...] = field(default=(), repr=False, hash=False, compare=False)
