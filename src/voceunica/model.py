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

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from voceunica.regions import Region

LANGS: tuple[str, ...] = ("it", "en")
LANG_NAMES = {"it": "Italian", "en": "English"}

POSITION_FORMAT = "voceunica/position@1"
DOSSIER_FORMAT = "voceunica/dossier@1"
ANNEX_FORMAT = "voceunica/annex@1"
LABELS_FORMAT = "voceunica/labels@1"
EU_FILE_FORMAT = "voceunica/eu-file@1"


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
# ELI types as the Publications Office mints them: reg, reg_impl, reg_del, dir, dir_impl, dir_del, dec, dec_impl, …
ELI_TYPES = r"(reg|dir|dec)(_impl|_del)?|reco|opin|agree"
Eli = Annotated[str, _pattern(rf"https?://data\.europa\.eu/eli/({ELI_TYPES})/\d{{4}}/\d+(/[a-z0-9_]+)*/oj", "ELI",
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


def _entry_kind(value: Any) -> str:
    return "str" if isinstance(value, str) else "dict"


# A catalogue reference ('steel-import-regime') or an inline EU file; the tags are the ones
# messages.py drops from an error's path, so an error reads as 'eu_files[0].kind'.
EUFileEntry = Annotated[Annotated[Slug, Tag("str")] | Annotated[EUFile, Tag("dict")], Discriminator(_entry_kind)]


class Note(Model):
    """A footnote for a source or a remark, cited as [^key]."""

    key: Slug
    text: Text


class Section(Model):
    heading: Text
    body: Text  # Markdown


# Who an ask is addressed to: the EU institutions the regions reach directly, and the
# national bodies through which they reach the Council or act on national matters.
Audience = Literal["commission", "parliament", "council", "cor", "italian-government", "permanent-representation",
                   "arera", "istat"]
EU_AUDIENCES: tuple[str, ...] = ("commission", "parliament", "council", "cor")


class Ask(Model):
    """A key message: one specific request, tied where possible to an EU file."""

    text: Text
    eu_file: Slug | None = None
    # Who can act on it (checked against the catalogue's competence); a brief per audience picks by it.
    audiences: list[Audience] = []


class Amendment(Model):
    """Proposed wording, in the European Parliament's two-column layout."""

    eu_file: Slug
    # The catalogue provision it amends (eu-files/<key>.yaml, 'provisions'), whose EP and Council texts
    # a four-column table sets beside it.
    provision_id: Slug | None = None
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
    # An entry is a key of the catalogue (eu-files/<key>.yaml), or an EU file written out here.
    eu_files: list[EUFileEntry] = []
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
    # KPIs of the pact printed as annexes after `annexes` (kpis/<id>.yaml); 'scoreboard' means all of them.
    kpis: list[Slug] = []
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


# --- the catalogue of EU files: eu-files/<key>.yaml ---------------------------------------

# The procedure's steps, in the order a file goes through them (ordinary legislative procedure).
STAGES: tuple[str, ...] = (
    "proposal", "committee-vote", "plenary-first-reading", "council-general-approach", "provisional-agreement",
    "adoption", "publication", "application", "review",
)
StageKind = Literal[
    "proposal", "committee-vote", "plenary-first-reading", "council-general-approach", "provisional-agreement",
    "adoption", "publication", "application", "review",
]
# What a file is (or will be once adopted): a proposal for a regulation has type 'regulation'.
EUFileType = Literal["regulation", "implementing-regulation", "delegated-regulation", "directive", "decision",
                     "communication", "framework", "other"]
Competence = Literal["eu", "national", "shared"]
CommitteeCode = Annotated[str, _pattern(r"[A-Z]{4}", "EP committee code", "ITRE")]


class Stage(Model):
    """One step of the procedure, dated, with where it was read."""

    stage: StageKind
    date: dt.date
    source: Url  # where it was read: EUR-Lex, the Legislative Observatory, a press release
    unverified: bool = False  # only one secondary source gave it
    note: Text | None = None


class Person(Model):
    name: NonEmpty
    group: str | None = None  # EP political group: EPP, S&D, Renew, ECR, Greens/EFA, …
    fictitious: bool = False  # a sample name, not a real person (printed as such)
    unverified: bool = False


class Committee(Model):
    code: CommitteeCode
    name: Text


class Actors(Model):
    """Who decides: the lead EP committee, rapporteur and shadows, the Council working party, the lead DG."""

    ep_committee: Committee | None = None
    rapporteur: Person | None = None
    shadows: list[Person] = []
    council_working_party: Text | None = None
    lead_dg: Text | None = None  # 'DG TAXUD'
    unverified: bool = False


class NextStep(Model):
    stage: StageKind
    date: dt.date  # expected; once passed with no stage recorded, the record is stale (check warns)
    note: Text | None = None
    unverified: bool = False


class AdoptedAct(Model):
    """The act a file became: 'Regulation (EU) 2026/1384'."""

    number: ActNumber
    title: Text | None = None  # the act's official title as published, once it differs from the proposal's
    celex: Celex | None = None
    eli: Eli | None = None
    unverified: bool = False


class ProvisionTexts(Model):
    """One provision as each institution words it (files in trilogue: the four-column table)."""

    id: Slug  # amendments name it in 'provision_id'
    provision: Text  # 'Article 2 – paragraph 1'
    commission: Text | None = None
    parliament: Text | None = None  # the committee's or plenary's amendment
    council: Text | None = None  # the general approach
    source: Url | None = None


class EUFileRecord(Model):
    """One EU file (proposal or act) shared by every position: eu-files/<key>.yaml."""

    format: Literal["voceunica/eu-file@1"]
    key: Slug  # = file name; positions cite it by this key
    type: EUFileType
    title: Text  # the official title as published in each language
    short_title: Text | None = None  # 'Carbon Border Adjustment Mechanism (CBAM)'
    com: ComRef | None = None
    procedure: Procedure | None = None
    celex: Celex | None = None  # of the proposal or communication
    eli: Eli | None = None
    date: dt.date | None = None  # of the proposal or communication
    amends: list[ActNumber] = []  # every act it amends: '2023/956'
    repeals: list[ActNumber] = []
    competence: Competence = "eu"  # 'national': the Member State acts, the Commission cannot
    competence_note: Text | None = None  # who acts on what
    stages: list[Stage] = []
    adopted: AdoptedAct | None = None
    actors: Actors = Actors()
    next_step: NextStep | None = None
    provisions: list[ProvisionTexts] = []
    remarks: Text | None = None  # what is unverified, and why

    @model_validator(mode="after")
    def _identified(self) -> EUFileRecord:
        if not (self.com or self.celex or self.adopted):
            raise ValueError("an EU file needs at least one of 'com', 'celex' or 'adopted'")
        return self


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


# --- KPIs of the pact: kpis/<id>.yaml beside kpis/<id>.csv ------------------------------------

KPI_FORMAT = "voceunica/kpi@1"
# A region of a KPI's breakdown: each region, and both together.
KpiRegion = Literal["lombardia", "veneto", "both"]
KPI_REGIONS: tuple[str, ...] = ("lombardia", "veneto", "both")
SCOREBOARD = "scoreboard"  # in a dossier's `kpis`: every KPI (so no KPI may have this id)
Number = Annotated[float, Field(allow_inf_nan=False)] | int


class Baseline(Model):
    value: Number
    year: Annotated[int, Field(ge=1950, le=2100)]


class Target(Model):
    value: Number
    year: Annotated[int, Field(ge=1950, le=2100)]
    region: KpiRegion = "both"  # whose figure the target is set for
    set_by: Text  # the text of the agreement or decision that set it
    illustrative: bool = False  # no decision set it yet: a placeholder, printed as such


class KpiSource(Model):
    publisher: Text
    dataset: NonEmpty  # the publisher's code: 'sbs_r_nuts2021', 'Coeweb'
    url: Url | None = None
    licence: NonEmpty  # as the publisher states it


class Calendar(Model):
    """When new figures come out: a period's figures are due `months_after` months after it ends
    (yearly, 3: the 2025 figures by the end of March 2026)."""

    frequency: Literal["yearly", "quarterly", "monthly"]
    months_after: Annotated[int, Field(ge=0, le=36)]


class Kpi(Model):
    """One indicator of the pact's monitoring: definition, baseline, target, source and calendar."""

    format: Literal["voceunica/kpi@1"]
    id: Slug
    name: Text
    definition: Text  # Markdown
    unit: Text  # 'EUR billion' / 'miliardi di EUR'
    decimals: Annotated[int, Field(ge=0, le=6)] = 0
    regions: Annotated[list[KpiRegion], Field(min_length=1)]
    direction: Literal["increase", "decrease"] = "increase"  # which way is progress
    baseline: Baseline
    target: Target
    source: KpiSource
    calendar: Calendar
    kind: Literal["official", "derived", "illustrative"]
    formula: str | None = None  # derived only: sum(a, b, ...), difference(a, b), ratio(a, b), percent(a, b)

    @model_validator(mode="after")
    def _formula(self) -> Kpi:
        if self.kind == "derived" and not self.formula:
            raise ValueError("a derived KPI needs its 'formula', e.g. 'sum(kpi-a, kpi-b)'")
        if self.kind != "derived" and self.formula:
            raise ValueError("'formula' only applies to a KPI of kind 'derived'")
        return self
