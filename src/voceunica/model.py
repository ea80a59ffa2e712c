"""The content model: typed, validated shapes of positions, dossiers and annexes.

Pydantic models with `extra="forbid"` (a misspelt field is an error) and
strict types (`version: 1.10` is a float, not the text "1.10").  Identifier
formats follow ../shared/domain.md.  The validate stage turns pydantic's
errors into `Problem`s at the right file:line.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field, model_validator

from voceunica.regions import Region

LANGS: tuple[str, ...] = ("it", "en")
LANG_NAMES = {"it": "Italian", "en": "English"}

POSITION_FORMAT = "voceunica/position@1"
DOSSIER_FORMAT = "voceunica/dossier@1"
ANNEX_FORMAT = "voceunica/annex@1"
LABELS_FORMAT = "voceunica/labels@1"


# pattern -> (what it is, an example): for messages, since JSON Schema keeps only the pattern.
PATTERNS: dict[str, tuple[str, str]] = {}


def _pattern(regex: str, what: str, example: str) -> Any:
    """A string constraint that editors see in the JSON Schema and `check` explains."""
    anchored = f"^(?:{regex})$"
    PATTERNS[anchored] = (what, example)
    return Field(pattern=anchored)


# An id names files (`<dossier>.<annex>.it.png`, `.<name>.XXXXXXXX.tmp` while written): 64 keeps every
# such name far under the 255 bytes every file system allows.
Slug = Annotated[str, _pattern(r"[a-z0-9]+(-[a-z0-9]+)*", "identifier", "steel-cbam"), Field(max_length=64)]
SemVer = Annotated[str, _pattern(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)", "version", "1.2.0")]
ComRef = Annotated[str, _pattern(r"(COM|JOIN|SWD|C)\(\d{4}\) \d+( final)?", "Commission document number",
                                 "COM(2025) 125 final")]
Procedure = Annotated[str, _pattern(r"\d{4}/\d{4} ?\((COD|NLE|CNS|APP)\)", "procedure number", "2025/0419(COD)")]
Celex = Annotated[str, _pattern(r"[0-9CE]\d{4}[A-Z]{1,2}\d{4}(\(\d+\))?", "CELEX number", "32023R0956")]
Eli = Annotated[str, _pattern(r"https?://data\.europa\.eu/eli/[a-z_]+/\d{4}/\d+(/[a-z0-9_]+)*/oj", "ELI",
                              "http://data.europa.eu/eli/reg/2023/956/oj")]
ActNumber = Annotated[str, _pattern(r"\d{4}/\d{1,4}", "act number", "2023/956")]
TransparencyId = Annotated[str, _pattern(r"\d{9,12}-\d{2}", "Transparency Register ID", "93038071152-83")]
Email = Annotated[str, _pattern(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", "e-mail address", "name@example.eu")]
Url = Annotated[str, _pattern(r"https?://\S+", "web address", "https://eur-lex.europa.eu/...")]
NonEmpty = Annotated[str, Field(min_length=1)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Text(Model):
    """A human text, in every language.  Markdown is allowed where the field says so."""

    it: NonEmpty
    en: NonEmpty

    def __getitem__(self, lang: str) -> str:
        return str(getattr(self, lang))


EUFileKind = Literal[
    "regulation", "implementing-regulation", "delegated-regulation", "directive", "decision",
    "communication", "proposal", "framework", "other",
]

# Adopted acts are cited by their number: 'Regulation (EU) 2023/956' (the labels act.<kind>).
ADOPTED_ACTS: tuple[str, ...] = ("regulation", "implementing-regulation", "delegated-regulation", "directive",
                                 "decision")


class EUFile(Model):
    """A reference to an EU file: an act, a proposal, a communication."""

    key: Slug  # cited in texts as a footnote: [^key]
    kind: EUFileKind
    title: Text  # short descriptive title: "Carbon Border Adjustment Mechanism (CBAM)"
    number: ActNumber | None = None  # for adopted acts: 2023/956
    com: ComRef | None = None
    procedure: Procedure | None = None
    celex: Celex | None = None
    eli: Eli | None = None
    date: dt.date | None = None

    @model_validator(mode="after")
    def _identified(self) -> EUFile:
        if not (self.number or self.com or self.celex):
            raise ValueError("an EU file needs at least one of 'number', 'com' or 'celex'")
        if self.kind in ADOPTED_ACTS and not self.number:
            raise ValueError(f"an adopted act ({self.kind}) needs its 'number', e.g. '2023/956'")
        return self


class Note(Model):
    """A footnote for a source or a remark, cited as [^key]."""

    key: Slug
    text: Text


class Section(Model):
    heading: Text
    body: Text  # Markdown


class Ask(Model):
    """A key message: one specific request, tied where possible to an EU file."""

    text: Text
    eu_file: Slug | None = None


class Amendment(Model):
    """Proposed wording, in the European Parliament's two-column layout."""

    eu_file: Slug
    provision: Text  # "Article 2 – paragraph 1 – point a" / "Articolo 2 – paragrafo 1 – lettera a"
    # The text proposed by the Commission, quoted verbatim, deleted words in **bold**;
    # left out for a new provision (its cell stays empty, as the Parliament prints it).
    commission: Text | None = None
    amendment: Text  # new or changed wording in **bold** (printed bold italic)
    justification: Text


class Signoff(Model):
    by: NonEmpty
    date: dt.date
    fingerprint: Annotated[str, _pattern(r"sha256:[0-9a-f]{16,64}", "fingerprint", "sha256:0123456789abcdef")]


class Signoffs(Model):
    # One approval per region: a field per code in regions.REGIONS (tests/test_schema.py holds them together).
    lombardia: Signoff | None = None
    veneto: Signoff | None = None


PositionStatus = Literal["draft", "agreed", "adopted", "withdrawn"]
# A position in one of these statuses speaks for both regions: each must have approved its content.
BINDING_STATUSES: tuple[str, ...] = ("agreed", "adopted")
Sector = Literal["steel", "microelectronics", "sme-credit", "governance", "energy", "trade", "cohesion",
                 "research"]


class Position(Model):
    """One shared position of the two regions: positions/<id>.yaml."""

    format: Literal["voceunica/position@1"]
    id: Slug
    version: SemVer
    sector: Sector
    status: PositionStatus
    source_language: Literal["it", "en"] = "it"
    title: Text
    summary: Text  # Markdown
    asks: Annotated[list[Ask], Field(min_length=1, max_length=5)]
    sections: Annotated[list[Section], Field(min_length=1)]
    eu_files: list[EUFile] = []
    notes: list[Note] = []
    amendments: list[Amendment] = []
    signoffs: Signoffs = Signoffs()
    # Translation freshness: for each translated field ("title", "sections[0].body"),
    # a short hash of the source-language text it was translated from.  Written
    # by `voceunica i18n mark`; a source text that no longer matches its hash
    # has an outdated translation.  Kept beside the texts so it merges with them.
    translated_from: dict[str, Annotated[str, _pattern(r"[0-9a-f]{12}", "source hash", "0123456789ab")]] = {}


class Office(Model):
    region: Region
    office: Text
    transparency_register: TransparencyId | None = None


class Contact(Model):
    name: NonEmpty
    email: Email
    phone: str | None = None


DossierType = Literal["position-paper", "joint-agenda", "briefing"]
Layout = Literal["single", "parallel"]


class Dossier(Model):
    """Which positions and annexes make a dossier, for which EU file and audience."""

    format: Literal["voceunica/dossier@1"]
    id: Slug
    doctype: DossierType
    title: Text
    subtitle: Text | None = None
    short_title: Text | None = None
    date: dt.date
    version: SemVer
    audience: Text
    addresses: Annotated[list[str], Field(min_length=1)]  # "position-id/eu-file-key"
    authors: Annotated[list[Office], Field(min_length=1)]
    contact: Contact
    introduction: Text | None = None  # Markdown
    positions: Annotated[list[Slug], Field(min_length=1)]
    annexes: list[Slug] = []
    template: str = "dossier.md.j2"
    layouts: Annotated[list[Layout], Field(min_length=1)] = ["single", "parallel"]
    # brief: dateline and key messages on page 1, no cover, no contents (a position paper);
    # dossier: cover, contents, sections, annexes.  Unset: chosen by resolve.page_layout.
    layout: Literal["brief", "dossier"] | None = None


ColumnType = Literal["text", "category", "integer", "decimal", "percent", "year"]


class Column(Model):
    name: NonEmpty  # the CSV header
    type: ColumnType
    label: Text
    unit: Text | None = None  # shown in the heading: "(EUR billion)" / "(miliardi di EUR)"
    decimals: Annotated[int, Field(ge=0, le=6)] = 0
    categories: dict[str, Text] | None = None  # for type 'category': code -> label

    @model_validator(mode="after")
    def _categories(self) -> Column:
        if self.type == "category" and not self.categories:
            raise ValueError("a 'category' column needs 'categories' (code -> it/en label)")
        if self.type != "category" and self.categories:
            raise ValueError("'categories' only applies to columns of type 'category'")
        return self


class Chart(Model):
    type: Literal["bar", "line"]
    x: NonEmpty  # column name
    y: Annotated[list[str], Field(min_length=1)]  # column names
    title: Text | None = None


class Annex(Model):
    """Metadata of a data annex: dossiers/annexes/<id>.yaml beside <id>.csv."""

    format: Literal["voceunica/annex@1"]
    id: Slug
    title: Text
    description: Text | None = None
    source: Text
    source_url: Url | None = None
    licence: NonEmpty
    reference_year: Annotated[int, Field(ge=1950, le=2100)]
    illustrative: bool = False
    columns: Annotated[list[Column], Field(min_length=1)]
    chart: Chart | None = None


class Labels(Model):
    """templates/labels.yaml: every word the templates print, in both languages."""

    format: Literal["voceunica/labels@1"]
    labels: dict[str, Text]


_LEAVES = (str, int, float, bool, dt.date, type(None))


def iter_texts(obj: Any, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """Every (location, language, text) in a validated model."""
    if type(obj) is Text:
        for lang in LANGS:
            yield loc + (lang,), lang, getattr(obj, lang)
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if not isinstance(value, _LEAVES):  # most fields hold no text: skip a generator each
                yield from iter_texts(value, loc + (name,))
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from iter_texts(item, loc + (i,))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(v, _LEAVES):
                yield from iter_texts(v, loc + (k,))
