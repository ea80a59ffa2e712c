"""Stage 3 — resolve: one validated dossier + one language → one plain document.

Pure functions: no I/O, no templates.  Everything a template needs is
already chosen (the language), formatted (numbers, dates — see `fmt`),
numbered (tables, figures, amendments — each across the dossier) and linked
(one footnote per EU act or note, however many positions cite it), so
templates never juggle languages or formats.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from voceunica import eufiles, fmt, locales, typography
from voceunica.fingerprint import agreed as position_agreed
from voceunica.model import ADOPTED_ACTS, LANGS, Annex, Column, Dossier, EUFile, EUFileRecord, Note, Position, Text
from voceunica.project import AnnexData, Cell, Project
from voceunica.textrules import FOOTNOTE_REF


@dataclass(frozen=True)
class Footnote:
    label: str
    text: str  # Markdown
    origin: tuple[str, str, int] = ("", "", 0)  # (position id, "eu_files" | "notes", index): where it is written


@dataclass(frozen=True)
class RAmendment:
    number: int
    act: str
    provision: str
    commission: str  # "" for a new provision
    amendment: str
    justification: str


@dataclass(frozen=True)
class RPosition:
    id: str
    title: str
    version: str
    status: str
    status_text: str
    sector_text: str
    agreed: bool
    summary: str
    asks: list[str]
    sections: list[tuple[str, str]]
    amendments: list[RAmendment]


@dataclass(frozen=True)
class RChart:
    kind: str  # bar | line
    file: str  # image file name, written beside the Markdown
    alt: str
    title: str
    x_label: str
    categories: list[str]  # x values, formatted
    series: list[tuple[str, list[float | None]]]  # (label, values)
    unit: str
    decimals: int
    target: tuple[float, str] | None = None  # a KPI's target line: (value, label); drawn by voceunica.kpichart


@dataclass(frozen=True)
class RAnnex:
    id: str
    number: int
    title: str
    description: str
    headers: list[str]
    align: list[str]  # "left" | "right"
    rows: list[list[str]]
    source: str
    licence: str
    illustrative: bool
    chart: RChart | None
    figure_number: int | None


@dataclass(frozen=True)
class RStateOfPlay:
    """One EU file's box: where it stands on the dossier's date, and who decides."""

    key: str
    name: str  # short title
    act: str  # 'Regulation (EU) 2026/1384' / 'COM(2025) 989 final, 2025/0419(COD)'
    stage: str
    last_step: str  # 'Council general approach, 12 June 2026' (linked to its source)
    adopted: str  # 'Regulation (EU) 2026/1384, 17 June 2026' once adopted by the dossier's date, else ''
    next_step: str
    who: list[str]  # one line per institution


@dataclass(frozen=True)
class RTimeline:
    """The procedures on a time axis, the dossier's date marked (timeline.py draws it)."""

    file: str  # image file name, written beside the Markdown
    alt: str
    title: str
    today: dt.date
    today_label: str
    rows: list[tuple[str, list[tuple[dt.date, str, bool]]]]  # (file name, [(date, stage label, expected?)])
    lang: str


@dataclass(frozen=True)
class ResolvedDossier:
    id: str
    lang: str
    locale: str
    doctype: str
    title: str
    subtitle: str
    short_title: str
    date: dt.date
    date_text: str
    version: str
    status_text: str
    draft: bool
    audience: str
    authors: list[tuple[str, str, str | None]]  # (region name, office, transparency register id)
    contact: list[str]
    addresses: list[str]
    introduction: str
    positions: list[RPosition]
    annexes: list[RAnnex]
    footnotes: list[Footnote]
    labels: dict[str, str] = field(repr=False)
    layout: str = "dossier"  # brief | dossier (page_layout)
    dateline: str = ""  # 'Bruxelles, 20 novembre 2026'
    state_of_play: list[RStateOfPlay] = field(default_factory=list)
    timeline: RTimeline | None = None


def author_line(name: str, office: str) -> str:
    """'Regione Lombardia – Delegazione …', or the office alone when it already names the region."""
    return office if name in office else f"{name} – {office}"


def act_name(f: EUFile, labels: dict[str, str]) -> str:
    """The citable designation: 'Regulation (EU) 2023/956' (the label `act.regulation`
    with the number for '{n}') or 'COM(2025) 125 final'."""
    if f.number and f.kind in ADOPTED_ACTS:
        return labels[f"act.{f.kind}"].replace("{n}", f.number)
    return f.com or f.celex or f.number or ""


def _identifier(f: EUFile, lang: str) -> str:
    """'. CELEX [32023R0956](EUR-Lex link)', else '. ELI <…>', else nothing: how a footnote ends."""
    if f.celex:
        return f". CELEX [{f.celex}]({eurlex_url(f, lang)})"
    return f". ELI <{f.eli}>" if f.eli else ""


def eurlex_url(f: EUFile, lang: str) -> str | None:
    if f.celex:
        return f"https://eur-lex.europa.eu/legal-content/{lang.upper()}/TXT/?uri=CELEX:{f.celex}"
    return f.eli


def eu_file_line(f: EUFile, lang: str, labels: dict[str, str]) -> str:
    """One reference as Markdown: name, title, identifiers, EUR-Lex link."""
    parts = [act_name(f, labels)]
    if f.com and parts[0] != f.com:
        parts.append(f.com)
    if f.procedure:
        parts.append(f.procedure)
    text = ", ".join(parts) + f" – {f.title[lang]}"
    if f.date:
        text += f" ({fmt.date(f.date, lang)})"
    return text + _identifier(f, lang) + "."


def resolve(project: Project, dossier_id: str, lang: str) -> ResolvedDossier:
    assert lang in LANGS
    d = project.dossiers[dossier_id]
    labels = {k: v[lang] for k, v in project.labels.items()}
    positions = [project.positions[p] for p in d.positions]
    footnotes: list[Footnote] = []
    noted: dict[tuple[str, ...], str] = {}  # note_identity → the label of its one footnote
    rpositions: list[RPosition] = []
    for p in positions:
        amended = sum(len(r.amendments) for r in rpositions)
        files, lines = cited_files(project, p, d.date, lang, labels)
        rpositions.append(resolve_position(p, lang, labels, footnotes, noted, amended + 1, files, lines))
    draft = not all(position_agreed(p) for p in positions)
    addresses = []
    boxes: list[RStateOfPlay] = []
    records: list[EUFileRecord] = []
    for ref in d.addresses:
        pos_id, _, key = ref.partition("/")
        files, lines = cited_files(project, project.positions[pos_id], d.date, lang, labels)
        f = next(f for f in files if f.key == key)
        rec = eufiles.record_for(project, project.positions[pos_id], key)
        box = state_of_play(rec, d.date, lang, labels) if rec is not None else None
        # a catalogue file by its short name and identifiers (its official title is in its footnote)
        short = f"{box.name} – {box.act}" if box is not None and key in lines else None
        addresses.append(short or eu_file_line(f, lang, labels))
        if rec is not None and box is not None and rec not in records:
            records.append(rec)
            boxes.append(box)
    annexes: list[RAnnex] = []
    figures = 0
    for i, annex_id in enumerate(d.annexes, start=1):
        data = project.annexes[annex_id]
        if data.meta.chart is not None:
            figures += 1
        annexes.append(_annex(data, i, figures if data.meta.chart else None, d.id, lang, labels))
    if d.kpis:  # each KPI an annex after the data annexes, with its trend chart (voceunica.scoreboard)
        from voceunica.scoreboard import kpi_annexes

        annexes += kpi_annexes(project, d.id, d.kpis, len(annexes) + 1, figures + 1, lang, labels)
    status = "draft" if draft else "agreed"
    return typeset(ResolvedDossier(
        id=d.id, lang=lang, locale=locales.tag(lang),
        doctype=labels[f"doctype.{d.doctype}"],
        title=d.title[lang], subtitle=_opt(d.subtitle, lang), short_title=_opt(d.short_title, lang) or d.title[lang],
        date=d.date, date_text=fmt.date(d.date, lang), version=d.version,
        status_text=labels[f"status.{status}"], draft=draft, audience=d.audience[lang],
        authors=[(labels[f"region.{a.region}"], a.office[lang], a.transparency_register) for a in d.authors],
        contact=[x for x in (d.contact.name, d.contact.email, d.contact.phone) if x],
        addresses=addresses, introduction=_opt(d.introduction, lang),
        positions=rpositions, annexes=annexes, footnotes=footnotes, labels=labels,
        layout=page_layout(d), dateline=f"{labels['dateline_place']}, {fmt.date(d.date, lang)}",
        state_of_play=boxes, timeline=timeline(records, d, lang, labels) if records else None,
    ))


def cited_files(project: Project, pos: Position, day: dt.date, lang: str,
           labels: dict[str, str]) -> tuple[list[EUFile], dict[str, str]]:
    """A position's EU files on `day`, and the footnote line of each the catalogue holds."""
    files = eufiles.entries(project, pos, day)
    lines = {e: catalogue_line(project.catalogue[e], day, lang, labels)
             for e in pos.eu_files if isinstance(e, str) and e in project.catalogue}
    return files, lines


def catalogue_line(rec: EUFileRecord, day: dt.date, lang: str, labels: dict[str, str]) -> str:
    """A catalogue file as a footnote: its official title on `day` (the act's once adopted),
    identifiers and EUR-Lex link."""
    f = eufiles.as_eu_file(rec, day)
    adopted = f.kind in ADOPTED_ACTS and rec.adopted is not None
    title = (rec.adopted.title if adopted and rec.adopted and rec.adopted.title else rec.title)[lang]
    name = act_name(f, labels)
    text = title if title.startswith(name) or title.lower().startswith(name.lower()) else f"{name} – {title}"
    ids = [x for x in (rec.com, rec.procedure) if x and x not in text]
    if ids:
        text += f" ({', '.join(ids)})"
    return text + _identifier(f, lang) + "."


def _stage(kind: str, labels: dict[str, str]) -> str:
    return labels[f"stage.{kind}"]


def person(p: object, labels: dict[str, str]) -> str:
    from voceunica.model import Person

    assert isinstance(p, Person)
    text = p.name + (f" ({p.group})" if p.group else "")
    if p.fictitious:
        text += f" {labels['sop_fictitious']}"
    elif p.unverified:
        text += f" {labels['sop_unverified']}"
    return text


def state_of_play(rec: EUFileRecord, day: dt.date, lang: str, labels: dict[str, str]) -> RStateOfPlay:
    """The box of one file as of `day`: stage, last step, next step, who decides."""
    done = eufiles.stages_on(rec, day)
    unverified = f" {labels['sop_unverified']}"
    if done:
        last = done[-1]
        when = fmt.date(last.date, lang)
        last_step = f"{_stage(last.stage, labels)}, [{when}]({last.source})" + (unverified if last.unverified else "")
    else:
        last_step = "–"
    nxt = eufiles.next_step_on(rec, day)
    if nxt is not None and rec.next_step is not None:
        stage, date = nxt
        next_step = f"{_stage(stage, labels)}, {labels['sop_expected']} {fmt.date(date, lang)}" if date else \
            _stage(stage, labels)
        if rec.next_step.unverified:
            next_step += unverified
    else:
        next_step = "–"
    who = []
    a = rec.actors
    ep = []
    if a.ep_committee:
        ep.append(f"{a.ep_committee.code} ({a.ep_committee.name[lang]})")
    if a.rapporteur:
        ep.append(f"{labels['sop_rapporteur']} {person(a.rapporteur, labels)}")
    if a.shadows:
        ep.append(f"{labels['sop_shadows']} " + ", ".join(person(p, labels) for p in a.shadows))
    if ep:
        who.append(f"{labels['sop_parliament']}: " + "; ".join(ep))
    if a.council_working_party:
        who.append(f"{labels['sop_council']}: {a.council_working_party[lang]}")
    if a.lead_dg:
        who.append(f"{labels['sop_commission']}: {a.lead_dg[lang]}")
    if rec.competence != "eu":
        note = f" – {rec.competence_note[lang]}" if rec.competence_note else ""
        who.append(f"{labels['competence.' + rec.competence]}{note}")
    if a.unverified and who:
        who[-1] += unverified
    f = eufiles.as_eu_file(rec, day)
    act = act_name(f, labels)
    adopted = ""
    if f.kind in ADOPTED_ACTS and rec.adopted is not None:
        adoption = eufiles.stage_of(rec, "adoption", day)
        adopted = act + (f", [{fmt.date(adoption.date, lang)}]({adoption.source})" if adoption else "")
        if rec.adopted.unverified or (adoption and adoption.unverified):
            adopted += unverified
    if f.procedure and f.procedure not in act:
        act += f", {f.procedure}"
    name = (rec.short_title or rec.title)[lang]
    return RStateOfPlay(rec.key, name, act, labels[f"phase.{eufiles.phase(rec, day)}"], last_step, adopted,
                        next_step, who or ["–"])


def timeline(records: list[EUFileRecord], d: Dossier, lang: str, labels: dict[str, str]) -> RTimeline | None:
    """Every addressed file's stages up to the dossier's date, and its next step, on one time axis."""
    rows: list[tuple[str, list[tuple[dt.date, str, bool]]]] = []
    described = []
    for rec in records:
        points = [(s.date, _stage(s.stage, labels), False) for s in eufiles.stages_on(rec, d.date)]
        nxt = eufiles.next_step_on(rec, d.date)
        if nxt is not None and nxt[1] is not None:
            points.append((nxt[1], _stage(nxt[0], labels), True))
        if not points:
            continue
        name = (rec.short_title or rec.title)[lang]
        rows.append((name, points))
        steps = ", ".join(f"{label}, {labels['sop_expected']} {fmt.date(day, lang)}" if exp else
                          f"{label} {fmt.date(day, lang)}" for day, label, exp in points)
        described.append(f"{name}: {steps}")
    if not rows:
        return None
    title = labels["timeline_title"]
    today = f"{labels['timeline_today']}: {fmt.date(d.date, lang)}"
    alt = f"{title}. " + "; ".join(described) + f". {today}."
    return RTimeline(f"{d.id}.timeline.{lang}.png", alt, title, d.date, labels["timeline_today"], rows, lang)


BRIEF_MAX_POSITIONS = 2


def page_layout(d: Dossier) -> str:
    """The dossier's own choice, else: a position paper on one or two positions is a
    brief (the asks on page 1, as associations' papers open), anything larger a dossier."""
    if d.layout is not None:
        return d.layout
    return "brief" if d.doctype == "position-paper" and len(d.positions) <= BRIEF_MAX_POSITIONS else "dossier"


def _opt(text: Text | None, lang: str) -> str:
    return text[lang] if text is not None else ""


_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")


def _trim(text: str) -> str:
    """Blank lines around a text go, but not the indentation of its first line:
    '    # foo' is code, and stripping would make it a heading."""
    return _LEADING_BLANK_LINES.sub("", text).rstrip()


def note_identity(item: EUFile | Note) -> tuple[str, ...]:
    """What makes two positions' notes one footnote: the same act (its CELEX number,
    else its COM reference, else its act number), or a note of the same words in
    every language (line breaks and indentation aside)."""
    if isinstance(item, EUFile):
        if item.celex:
            return ("celex", item.celex)
        return ("com", item.com) if item.com else ("number", item.number or "")
    return ("note", *(" ".join(item.text[x].split()) for x in LANGS))


def resolve_positions(project: Project, positions: Iterable[Position], day: dt.date, lang: str,
                      labels: dict[str, str], prepare: Callable[[Position], Position] | None = None,
                      ) -> tuple[dict[str, RPosition], list[Footnote]]:
    """Positions outside a dossier (a four-column table, a one-page brief), each resolved once by the
    dossiers' rules: a note several of them cite is one footnote.  `prepare` changes what is resolved,
    never what is cited."""
    footnotes: list[Footnote] = []
    noted: dict[tuple[str, ...], str] = {}
    linked: dict[str, RPosition] = {}
    for pos in positions:
        if pos.id not in linked:
            files, lines = cited_files(project, pos, day, lang, labels)
            linked[pos.id] = resolve_position(prepare(pos) if prepare else pos, lang, labels, footnotes, noted, 1,
                                              files, lines)
    return linked, footnotes


def resolve_position(pos: Position, lang: str, labels: dict[str, str], footnotes: list[Footnote],
                     noted: dict[tuple[str, ...], str], first_amendment: int, eu_files: list[EUFile] | None = None,
                     lines: dict[str, str] | None = None) -> RPosition:
    """`noted` holds the label of every footnote made so far in the dossier: a note
    already made by an earlier position is cited by its label, not made again.  A
    label is '{position id}-{key}' of the first position to cite the note, and the
    footnote keeps where that note is written (pipeline.source_of reports there).
    `eu_files`: the position's EU files with its catalogue references made files (`cited_files`;
    by default only its inline ones), `lines` the footnote text of each catalogue file."""
    if eu_files is None:
        eu_files = [e for e in pos.eu_files if not isinstance(e, str)]
    lines = lines or {}
    defs: dict[str, tuple[str, str, int]] = {
        f.key: (lines.get(f.key) or eu_file_line(f, lang, labels), "eu_files", i) for i, f in enumerate(eu_files)}
    defs.update({n.key: (n.text[lang], "notes", i) for i, n in enumerate(pos.notes)})
    ids: dict[str, tuple[str, ...]] = {f.key: note_identity(f) for f in eu_files}
    ids.update({n.key: note_identity(n) for n in pos.notes})

    def link(text: str) -> str:
        def sub(m: re.Match[str]) -> str:
            key = m.group(1)
            label = noted.get(ids[key])
            if label is None:
                label = noted[ids[key]] = f"{pos.id}-{key}"
                text, group, index = defs[key]
                footnotes.append(Footnote(label, text, (pos.id, group, index)))
            return f"[^{label}]"

        return FOOTNOTE_REF.sub(sub, _trim(text))

    files = {f.key: f for f in eu_files}
    asks = []
    for ask in pos.asks:
        text = link(ask.text[lang])
        if ask.eu_file and f"[^{noted.get(ids[ask.eu_file])}]" not in text:
            text += link(f"[^{ask.eu_file}]")
        asks.append(text)
    return RPosition(
        id=pos.id, title=pos.title[lang], version=pos.version, status=pos.status,
        status_text=labels[f"status.{pos.status}"], sector_text=labels.get(f"sector.{pos.sector}", pos.sector),
        agreed=position_agreed(pos), summary=link(pos.summary[lang]), asks=asks,
        sections=[(s.heading[lang], link(s.body[lang])) for s in pos.sections],
        amendments=[
            RAmendment(i, act_name(files[a.eu_file], labels), a.provision[lang],
                       a.commission[lang].strip() if a.commission else "",
                       a.amendment[lang].strip(), link(a.justification[lang]))
            for i, a in enumerate(pos.amendments, start=first_amendment)
        ],
    )


def _cell_text(column: Column, value: Cell, lang: str, labels: dict[str, str]) -> str:
    if value is None:
        return labels["not_available"]
    if column.type == "category":
        return (column.categories or {})[str(value)][lang]
    if column.type in {"year", "text"}:
        return str(value)
    assert isinstance(value, (int, Decimal))
    if column.type == "percent":
        return fmt.percent(value, lang, column.decimals)
    return fmt.number(value, lang, column.decimals)


def _header(column: Column, lang: str) -> str:
    return f"{column.label[lang]} ({column.unit[lang]})" if column.unit else column.label[lang]


def _annex(data: AnnexData, number: int, figure: int | None, dossier_id: str, lang: str,
           labels: dict[str, str]) -> RAnnex:
    meta: Annex = data.meta
    rows = [[_cell_text(c, v, lang, labels) for c, v in zip(meta.columns, row, strict=True)] for row in data.rows]
    align = ["left" if c.type in ("text", "category") else "right" for c in meta.columns]
    source = meta.source[lang]
    if meta.source_url:
        source = f"[{source}]({meta.source_url})"
    chart = None
    if meta.chart is not None and figure is not None:
        chart = _chart(data, figure, dossier_id, lang, labels)
    return RAnnex(
        id=meta.id, number=number, title=meta.title[lang], description=_opt(meta.description, lang),
        headers=[_header(c, lang) for c in meta.columns], align=align, rows=rows, source=source,
        licence=meta.licence, illustrative=meta.illustrative, chart=chart, figure_number=figure,
    )


def _plotted(cell: Cell) -> float | None:
    """A chart's y value: check_annex refuses a non-numeric y column, so no text reaches here."""
    assert not isinstance(cell, str), cell
    return float(cell) if cell is not None else None


def _chart(data: AnnexData, figure: int, dossier_id: str, lang: str, labels: dict[str, str]) -> RChart:
    meta = data.meta
    chart = meta.chart
    assert chart is not None
    cols = {c.name: (i, c) for i, c in enumerate(meta.columns)}
    xi, xc = cols[chart.x]
    categories = [_cell_text(xc, row[xi], lang, labels) for row in data.rows]
    series = []
    first = cols[chart.y[0]][1]
    for name in chart.y:
        yi, yc = cols[name]
        series.append((yc.label[lang], [_plotted(row[yi]) for row in data.rows]))
    unit = first.unit[lang] if first.unit else ""
    title = chart.title[lang] if chart.title else meta.title[lang]
    described = "; ".join(
        f"{label}: " + ", ".join(
            f"{cat} {fmt.number(Decimal(str(v)), lang, first.decimals) if v is not None else labels['not_available']}"
            for cat, v in zip(categories, values, strict=True))
        for label, values in series)
    kind = labels[f"chart.{chart.type}"]
    alt = f"{kind}: {title}" + (f" ({unit})" if unit else "") + f". {described}."
    return RChart(chart.type, f"{dossier_id}.{meta.id}.{lang}.png", alt, title, xc.label[lang], categories,
                  series, unit, first.decimals)


def typeset(d: ResolvedDossier) -> ResolvedDossier:
    """Every text a reader sees, set in its language's typography (typography.py):
    quotation marks and apostrophes, no-break spaces, digit grouping.  Markdown texts
    keep their syntax; identifiers, contact details, versions and table figures
    (fmt groups them by the same rule) are left as they are."""
    lang = d.lang

    def md(text: str) -> str:
        return typography.markdown(text, lang)

    def pl(text: str) -> str:
        return typography.plain(text, lang)

    positions = [replace(
        p, title=pl(p.title), status_text=pl(p.status_text), sector_text=pl(p.sector_text), summary=md(p.summary),
        asks=[md(a) for a in p.asks], sections=[(pl(h), md(b)) for h, b in p.sections],
        amendments=[replace(a, act=pl(a.act), provision=pl(a.provision), commission=md(a.commission),
                            amendment=md(a.amendment), justification=md(a.justification)) for a in p.amendments],
    ) for p in d.positions]
    annexes = [replace(
        a, title=pl(a.title), description=md(a.description), headers=[pl(h) for h in a.headers],
        rows=_typeset_text_cells(a.rows, a.align, md),
        source=md(a.source),
        chart=replace(a.chart, title=pl(a.chart.title), alt=pl(a.chart.alt)) if a.chart is not None else None,
    ) for a in d.annexes]
    boxes = [replace(b, name=md(b.name), act=md(b.act), stage=md(b.stage), last_step=md(b.last_step),
                     adopted=md(b.adopted), next_step=md(b.next_step), who=[md(w) for w in b.who])
             for b in d.state_of_play]
    figure = replace(d.timeline, alt=pl(d.timeline.alt), title=pl(d.timeline.title)) if d.timeline else None
    return replace(
        d, doctype=pl(d.doctype), title=pl(d.title), subtitle=pl(d.subtitle), short_title=pl(d.short_title),
        date_text=pl(d.date_text), status_text=pl(d.status_text), audience=pl(d.audience),
        authors=[(pl(name), pl(office), tr) for name, office, tr in d.authors],
        addresses=[md(line) for line in d.addresses], introduction=md(d.introduction),
        positions=positions, annexes=annexes, footnotes=[replace(f, text=md(f.text)) for f in d.footnotes],
        labels={k: pl(v) for k, v in d.labels.items()}, dateline=pl(d.dateline),
        state_of_play=boxes, timeline=figure,
    )


def _typeset_text_cells(rows: list[list[str]], align: list[str], md: Callable[[str], str]) -> list[list[str]]:
    """The text columns' cells set like any text (figures come from fmt); an annex may
    have 10 000 rows of a few distinct names, so each distinct cell is set once."""
    text_columns = [i for i, al in enumerate(align) if al == "left"]
    if not text_columns:
        return rows
    done: dict[str, str] = {}
    out = []
    for row in rows:
        cells = list(row)
        for i in text_columns:
            new = done.get(cells[i])
            if new is None:
                new = done[cells[i]] = md(cells[i])
            cells[i] = new
        out.append(cells)
    return out
