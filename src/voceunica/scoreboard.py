"""The pact's scoreboard, resolved: every KPI in one language, ready for templates/scoreboard.md.j2.

Render stage, beside `resolve`: pure functions over a validated project (no I/O,
no git).  Numbers and dates go through `fmt`, every word through the labels;
what moved between two releases is computed by the caller (`kpi.movements` on
the projects at two tags) and only worded here, once, for the scoreboard and the
release notes alike.  A dossier's `kpis` become annexes through `kpi_annexes`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal

from voceunica import fmt, kpi, locales, typography
from voceunica.mdescape import md_escape
from voceunica.model import Kpi
from voceunica.project import KpiData, Observation, Project
from voceunica.resolve import RAnnex, RChart

TEMPLATE = "scoreboard.md.j2"
LIGHT_MARK = {"green": "●", "amber": "◐", "red": "○", "none": ""}  # a shape beside the words, never colour alone


@dataclass(frozen=True)
class RKpi:
    id: str
    number: int  # table and figure number
    name: str
    definition: str  # Markdown
    unit: str
    kind: str  # official | derived | illustrative
    kind_text: str
    illustrative: bool  # the figures, or the target, are not official: kept out of agreed dossiers
    illustrative_figures: bool  # the figures themselves (or those it is derived from)
    formula: str
    latest: str  # '244,0 miliardi di EUR (2024, Lombardia e Veneto, provvisorio)'
    baseline: str
    target: str
    target_set_by: str
    target_illustrative: bool
    progress: str
    light: str  # green | amber | red | none
    light_text: str  # the light in words: 'GREEN – on track'
    light_mark: str
    stale: str  # '' or why the series is out of date
    calendar: str
    movement: str  # '' when no two releases
    source: str  # Markdown: publisher, dataset, link, licence
    headers: list[str]
    align: list[str]
    rows: list[list[str]]
    chart: RChart


@dataclass(frozen=True)
class RScoreboard:
    lang: str
    locale: str
    title: str
    subtitle: str
    date: dt.date
    date_text: str
    rule: str
    releases: str  # '1.0.0 → 1.1.0', or '' (then `no_releases` says why)
    kpis: list[RKpi]
    labels: dict[str, str] = field(repr=False)


def region_name(region: str, labels: dict[str, str]) -> str:
    return labels[f"kpi.region.{region}"]


def value_text(v: Decimal | float | int, meta: Kpi, lang: str, *, unit: bool = True) -> str:
    n = fmt.number(Decimal(str(v)), lang, meta.decimals)
    return f"{n} {meta.unit[lang]}" if unit else n


def observation_text(o: Observation, meta: Kpi, lang: str, labels: dict[str, str]) -> str:
    """'244.0 EUR billion (2024, Lombardy and Veneto, provisional, published on 14 March 2025)'."""
    published = f", {labels['kpi.published']} {fmt.date(dt.date.fromisoformat(o.published), lang)}" \
        if o.published else ""
    return (f"{value_text(o.value, meta, lang)} ({o.period}, {region_name(o.region, labels)}, "
            f"{labels[f'kpi.status.{o.status}']}{published})")


def calendar_text(meta: Kpi, labels: dict[str, str]) -> str:
    return labels[f"kpi.calendar.{meta.calendar.frequency}"].replace("{n}", str(meta.calendar.months_after))


def source_line(meta: Kpi, lang: str, labels: dict[str, str], *, licence: bool = True) -> str:
    """Publisher (linked), dataset code and, unless an annex prints it apart, the licence as stated."""
    src = meta.source
    publisher = src.publisher[lang]
    if src.url:
        publisher = f"[{publisher}]({src.url})"
    line = f"{publisher}, {labels['kpi.dataset']} {md_escape(src.dataset)}"
    return f"{line}. {labels['licence']}: {md_escape(src.licence)}" if licence else line


def movement_text(m: kpi.Movement, meta: Kpi, lang: str, labels: dict[str, str]) -> str:
    """How the headline figure moved: 'from 244.0 (2024) to 250.1 (2025), +6.1 EUR billion', or 'unchanged'."""
    if m.change == "added" or m.old is None:
        return labels["kpi.new_in_release"]
    if m.new is None:
        return labels["changelog.removed.kpi"]
    delta = m.delta
    assert delta is not None
    if delta == 0 and m.old.period == m.new.period:
        return labels["kpi.unchanged"]
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    change = f"{sign}{value_text(abs(delta), meta, lang)}"
    return (labels["kpi.moved"].replace("{old}", value_text(m.old.value, meta, lang, unit=False))
            .replace("{old_period}", m.old.period).replace("{new}", value_text(m.new.value, meta, lang, unit=False))
            .replace("{new_period}", m.new.period).replace("{delta}", change))


def _chart(kd: KpiData, file: str, lang: str, labels: dict[str, str]) -> RChart:
    meta = kd.meta
    freq = meta.calendar.frequency
    periods = sorted({o.period for o in kd.observations}, key=lambda p: kpi.parse_period(p, freq) or (0, 0))
    series = []
    for region in kpi.iter_regions(meta):
        by_period = {o.period: float(o.value) for o in kpi.series(kd, region)}
        series.append((region_name(region, labels), [by_period.get(p) for p in periods]))
    target_label = labels["kpi.target_line"].replace("{year}", str(meta.target.year)) + \
        f" ({region_name(meta.target.region, labels)})"
    na = labels["not_available"]
    described = "; ".join(
        f"{label}: " + ", ".join(f"{p} {value_text(v, meta, lang, unit=False) if v is not None else na}"
                                 for p, v in zip(periods, values, strict=True))
        for label, values in series)
    title = meta.name[lang]
    alt = (f"{labels['chart.line']}: {title} ({meta.unit[lang]}). {described}. "
           f"{target_label}: {value_text(meta.target.value, meta, lang, unit=False)}.")
    return RChart("line", file, alt, title, labels["kpi.period"], periods, series, meta.unit[lang], meta.decimals,
                  target=(float(meta.target.value), target_label))


def _table(kd: KpiData, lang: str, labels: dict[str, str]) -> tuple[list[str], list[list[str]]]:
    meta = kd.meta
    regions = list(kpi.iter_regions(meta))
    headers = [labels["kpi.period"]] + [f"{region_name(r, labels)} ({meta.unit[lang]})" for r in regions]
    freq = meta.calendar.frequency
    periods = sorted({o.period for o in kd.observations}, key=lambda p: kpi.parse_period(p, freq) or (0, 0))
    cells = {(o.period, o.region): o for o in kd.observations}
    rows = []
    for p in periods:
        row = [p]
        for r in regions:
            o = cells.get((p, r))
            row.append(labels["not_available"] if o is None else
                       value_text(o.value, meta, lang, unit=False)
                       + ("*" if o.status == "provisional" else ""))
        rows.append(row)
    return headers, rows


def resolve_kpi(project: Project, kpi_id: str, number: int, file: str, lang: str, labels: dict[str, str],
                today: dt.date, move: kpi.Movement | None = None) -> RKpi:
    kd = project.kpis[kpi_id]
    meta = kd.meta
    last = kpi.latest(kd)
    stale = kpi.is_stale(kd, today)
    light = kpi.light(kd, stale)
    done = kpi.progress(kd)
    stale_text = ""
    if stale:
        cal = meta.calendar
        expected = kpi.expected_period(today, cal.frequency, cal.months_after)
        stale_text = (labels["kpi.stale"].replace("{expected}", kpi.show_period(expected, cal.frequency))
                      .replace("{due}", fmt.date(kpi.due(expected, cal.frequency, cal.months_after), lang)))
    headers, rows = _table(kd, lang, labels)
    target = (f"{value_text(meta.target.value, meta, lang)} ({meta.target.year}, "
              f"{region_name(meta.target.region, labels)})")
    return RKpi(
        id=meta.id, number=number, name=meta.name[lang], definition=meta.definition[lang].strip(),
        unit=meta.unit[lang], kind=meta.kind, kind_text=labels[f"kpi.kind.{meta.kind}"],
        illustrative=kpi.illustrative_reason(project, meta.id) is not None,
        illustrative_figures=kpi.illustrative_reason(project, meta.id, target=False) is not None,
        formula=meta.formula or "",
        latest=observation_text(last, meta, lang, labels) if last else labels["not_available"],
        baseline=f"{value_text(meta.baseline.value, meta, lang)} ({meta.baseline.year})",
        target=target, target_set_by=meta.target.set_by[lang].strip(), target_illustrative=meta.target.illustrative,
        progress=fmt.percent(done, lang, 0) if done is not None else labels["not_available"],
        light=light, light_text=labels[f"kpi.light.{light}"], light_mark=LIGHT_MARK[light], stale=stale_text,
        calendar=calendar_text(meta, labels),
        movement=movement_text(move, meta, lang, labels) if move is not None else "",
        source=source_line(meta, lang, labels), headers=headers,
        align=["left"] + ["right"] * (len(headers) - 1), rows=rows,
        chart=_chart(kd, file, lang, labels),
    )


def resolve_scoreboard(project: Project, lang: str, today: dt.date,
                       moves: dict[str, kpi.Movement] | None = None, releases: tuple[str, str] | None = None,
                       ) -> RScoreboard:
    """`moves`: what moved between the `releases` (older, newer); None when there are not two."""
    labels = {k: v[lang] for k, v in project.labels.items()}
    items = []
    for i, kid in enumerate(sorted(project.kpis), start=1):
        move = None
        if moves is not None:
            move = moves.get(kid) or kpi.Movement(kid, "unchanged", kpi.latest(project.kpis[kid]),
                                                  kpi.latest(project.kpis[kid]), 0, 0, 0)
        items.append(typeset(resolve_kpi(project, kid, i, f"scoreboard.{kid}.{lang}.png", lang, labels, today,
                                         move), lang))
    labels = {k: typography.plain(v, lang) for k, v in labels.items()}
    return RScoreboard(
        lang=lang, locale=locales.tag(lang), title=labels["kpi.title"], subtitle=labels["kpi.subtitle"],
        date=today, date_text=typography.plain(fmt.date(today, lang), lang), rule=labels["kpi.light.rule"],
        releases=f"{releases[0]} → {releases[1]}" if releases else "", kpis=items, labels=labels,
    )


def typeset(k: RKpi, lang: str) -> RKpi:
    """The scoreboard in its language's typography, as dossiers are (resolve.typeset): quotes,
    no-break spaces; figures in tables are left as fmt wrote them."""
    def pl(text: str) -> str:
        return typography.plain(text, lang)

    def md(text: str) -> str:
        return typography.markdown(text, lang)

    return replace(
        k, name=pl(k.name), definition=md(k.definition), unit=pl(k.unit), latest=pl(k.latest),
        baseline=pl(k.baseline), target=pl(k.target), target_set_by=pl(k.target_set_by), progress=pl(k.progress),
        light_text=pl(k.light_text), stale=pl(k.stale), calendar=pl(k.calendar), movement=pl(k.movement),
        source=md(k.source), headers=[pl(h) for h in k.headers],
        chart=replace(k.chart, title=pl(k.chart.title), alt=pl(k.chart.alt)),
    )


def front_matter(s: RScoreboard) -> str:
    import yaml

    data = {"title": s.title, "subtitle": s.subtitle, "lang": s.locale, "date": s.date.isoformat(),
            "kpis": [k.id for k in s.kpis]}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100).strip()


def render_scoreboard(project: Project, s: RScoreboard) -> str:
    from voceunica.render import render_template

    return render_template(project.template_dirs(), TEMPLATE, s=s, labels=s.labels, front_matter=front_matter(s))


def kpi_annexes(project: Project, dossier_id: str, ids: list[str], first_number: int, first_figure: int,
                lang: str, labels: dict[str, str]) -> list[RAnnex]:
    """A dossier's KPIs as annexes: the observations as a table, the trend chart with its target
    line, and a description saying latest, baseline, target, progress and the traffic light."""
    today = project.dossiers[dossier_id].date  # the dossier judges its KPIs as of its own date
    out = []
    for i, kid in enumerate(kpi.dossier_kpis(project, ids)):
        k = resolve_kpi(project, kid, first_figure + i, f"{dossier_id}.{kid}.{lang}.png", lang, labels, today)
        description = "\n\n".join(filter(None, [
            k.definition,
            f"{labels['kpi.latest']}: {k.latest}. {labels['kpi.baseline']}: {k.baseline}. "
            f"{labels['kpi.target']}: {k.target}. {labels['kpi.progress']}: {k.progress}. "
            f"{labels['kpi.light']}: {k.light_text}.",
            k.stale,
        ]))
        out.append(RAnnex(
            id=kid, number=first_number + i, title=k.name, description=description, headers=k.headers,
            align=k.align, rows=k.rows, source=source_line(project.kpis[kid].meta, lang, labels, licence=False),
            licence=project.kpis[kid].meta.source.licence, illustrative=k.illustrative_figures, chart=k.chart,
            figure_number=first_figure + i,
        ))
    return out

