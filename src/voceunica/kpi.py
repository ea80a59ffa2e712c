"""The pact's KPIs: kpis/<id>.yaml (definition) beside kpis/<id>.csv (observations).

Validation stage.  `load_kpis` reads and checks every KPI like an annex (typed
CSV cells through validate's one cell parser, each problem at its file:line:col);
`kpi_problems` checks the project as a whole against a reference date: a series
gone stale by its own release calendar, a derived value that does not match its
formula, an illustrative figure (or target) in a dossier whose positions are
agreed.  The rest is arithmetic the scoreboard and the release notes share:
the latest figure, progress towards the target, the traffic light and its rule,
and how a KPI moved between two revisions.

Formulas are a tiny language, parsed by one regular expression and never
evaluated as code: `sum(a, b, ...)`, `difference(a, b)`, `ratio(a, b)`,
`percent(a, b)` (100 × a / b), each argument the id of another KPI, taken at the
same period and region.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, DivisionByZero, InvalidOperation
from pathlib import Path

from voceunica import textrules
from voceunica.clock import today
from voceunica.errors import Problem, problem
from voceunica.load import Loaded, SourceMap, read_csv
from voceunica.messages import dotted
from voceunica.model import BINDING_STATUSES, KPI_REGIONS, SCOREBOARD, Column, Kpi, Text
from voceunica.project import KpiData, Observation, Project

# The labels the scoreboard and a KPI annex print: labels.yaml must define each once the project has KPIs.
LABELS = (
    "kpi.title", "kpi.subtitle", "kpi.doctype", "kpi.as_of", "kpi.latest", "kpi.baseline", "kpi.target", "kpi.progress",
    "kpi.set_by", "kpi.target_illustrative", "kpi.calendar", "kpi.kind",
    "kpi.kind.official", "kpi.kind.derived", "kpi.kind.illustrative", "kpi.formula", "kpi.dataset",
    "kpi.period", "kpi.region.lombardia", "kpi.region.veneto", "kpi.region.both", "kpi.status.provisional",
    "kpi.status.final", "kpi.published",
    "kpi.light", "kpi.light.green", "kpi.light.amber", "kpi.light.red", "kpi.light.none", "kpi.light.rule",
    "kpi.stale", "kpi.calendar.yearly", "kpi.calendar.quarterly", "kpi.calendar.monthly",
    "kpi.movement", "kpi.moved", "kpi.unchanged", "kpi.no_releases", "kpi.new_in_release",
    "kpi.target_line", "kpi.overview", "kpi.indicator", "changelog.kpis", "changelog.kpi_observations",
    "changelog.added.kpi", "changelog.removed.kpi",
)

CSV_HEADER = ["period", "region", "value", "status", "published"]
STATUSES = ("provisional", "final")


def _columns() -> list[Column]:
    def text(it: str, en: str) -> Text:
        return Text(it=it, en=en)

    return [
        Column(name="period", type="text", label=text("Periodo", "Period")),
        Column(name="region", type="category", label=text("Regione", "Region"),
               categories={r: text(r, r) for r in KPI_REGIONS}),
        Column(name="value", type="decimal", label=text("Valore", "Value")),
        Column(name="status", type="category", label=text("Stato", "Status"),
               categories={s: text(s, s) for s in STATUSES}),
        Column(name="published", type="text", label=text("Pubblicato", "Published")),
    ]


# --- periods ----------------------------------------------------------------------------------

_PERIOD = {
    "yearly": re.compile(r"(\d{4})"),
    "quarterly": re.compile(r"(\d{4})-Q([1-4])"),
    "monthly": re.compile(r"(\d{4})-(0[1-9]|1[0-2])"),
}
_PERIOD_EXAMPLE = {"yearly": "2025", "quarterly": "2025-Q3", "monthly": "2025-09"}
_MONTHS_PER = {"yearly": 12, "quarterly": 3, "monthly": 1}

Period = tuple[int, int]  # (year, number within the year: 1 for a year, the quarter, the month)


def parse_period(text: str, frequency: str) -> Period | None:
    m = _PERIOD[frequency].fullmatch(text)
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2)) if m.lastindex and m.lastindex > 1 else 1


def show_period(p: Period, frequency: str) -> str:
    year, n = p
    return str(year) if frequency == "yearly" else f"{year}-Q{n}" if frequency == "quarterly" else f"{year}-{n:02d}"


def _end_month(p: Period, frequency: str) -> int:
    """The period's last month, counted from year 0: a total order across frequencies."""
    return p[0] * 12 + p[1] * _MONTHS_PER[frequency]


def _previous(p: Period, frequency: str) -> Period:
    year, n = p
    if frequency == "yearly":
        return year - 1, 1
    last = 4 if frequency == "quarterly" else 12
    return (year, n - 1) if n > 1 else (year - 1, last)


def due(p: Period, frequency: str, months_after: int) -> dt.date:
    """The last day of the month by which the calendar promises the period's figures."""
    month = _end_month(p, frequency) + months_after - 1  # 0-based month count
    year, m = divmod(month, 12)
    return dt.date(year, m + 1, calendar.monthrange(year, m + 1)[1])


def expected_period(today: dt.date, frequency: str, months_after: int) -> Period:
    """The newest period whose figures the calendar says are out by `today`."""
    p: Period = (today.year, 1) if frequency == "yearly" else \
        (today.year, (today.month - 1) // 3 + 1) if frequency == "quarterly" else (today.year, today.month)
    while due(p, frequency, months_after) > today:
        p = _previous(p, frequency)
    return p


def reference_date(epoch: int | None) -> dt.date:
    """What `check` judges staleness against (clock.today: SOURCE_DATE_EPOCH's day, else today)."""
    return today(epoch)


# --- formulas -------------------------------------------------------------------------------------

_FORMULA = re.compile(r"\s*(sum|difference|ratio|percent)\s*\(\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)\s*\)\s*")
_ARITY = {"sum": (2, 20), "difference": (2, 2), "ratio": (2, 2), "percent": (2, 2)}


@dataclass(frozen=True)
class Formula:
    op: str
    args: tuple[str, ...]


def parse_formula(text: str) -> Formula | str:
    """The formula, or why it is not one (a message)."""
    m = _FORMULA.fullmatch(text)
    if m is None:
        return (f"formula {text[:60]!r} is not understood: write sum(a, b, ...), difference(a, b), ratio(a, b) "
                "or percent(a, b), each argument a KPI id")
    op, args = m.group(1), tuple(a.strip() for a in m.group(2).split(","))
    low, high = _ARITY[op]
    if not low <= len(args) <= high:
        return f"formula: {op}() takes {low if low == high else f'{low} or more'} KPI ids, got {len(args)}"
    return Formula(op, args)


def evaluate(f: Formula, values: list[Decimal]) -> Decimal | None:
    try:
        if f.op == "sum":
            return sum(values, Decimal(0))
        if f.op == "difference":
            return values[0] - values[1]
        if f.op == "ratio":
            return values[0] / values[1]
        return values[0] / values[1] * 100
    except (DivisionByZero, InvalidOperation):
        return None


# --- loading --------------------------------------------------------------------------------------

def load_kpis(root: Path, folder: Path, shown: str, items: list[tuple[Kpi, Loaded, Path]],
              out: list[Problem]) -> dict[str, KpiData]:
    """Each validated definition with its observations (`items`: validate's load_all of kpis/)."""
    from voceunica.validate import check_texts

    found: dict[str, KpiData] = {}
    for meta, loaded, path in items:
        source = loaded.source
        check_texts(meta, source, out)
        if meta.id == SCOREBOARD:
            out.append(source.problem(("id",), f"'{SCOREBOARD}' is reserved: in a dossier's kpis it means every KPI"))
        if meta.source.url is not None and not textrules.safe_url(meta.source.url):
            out.append(source.problem(("source", "url"), "source.url: not an allowed link (https:// or http://)"))
        if meta.target.region not in meta.regions:
            out.append(source.problem(("target", "region"), f"target.region: '{meta.target.region}' is not one of "
                                      f"this KPI's regions ({', '.join(meta.regions)})"))
        for i, r in enumerate(meta.regions):
            if r in meta.regions[:i]:
                out.append(source.problem(("regions", i), f"regions[{i}]: '{r}' is listed twice"))
        if meta.formula is not None:
            f = parse_formula(meta.formula)
            if isinstance(f, str):
                out.append(source.problem(("formula",), f))
        csv_path = path.with_suffix(".csv")
        csv_shown = f"{shown}/{csv_path.name}"
        if not os.path.lexists(csv_path):
            out.append(source.problem(("id",), f"the observations file {csv_shown} is missing"))
            continue
        obs = _observations(meta, source, root, csv_path, csv_shown, out)
        if obs is not None:
            found[meta.id] = KpiData(meta, obs, source, csv_shown)
    return found


def _observations(meta: Kpi, source: SourceMap, root: Path, csv_path: Path, shown: str,
                  out: list[Problem]) -> list[Observation] | None:
    from voceunica.validate import typed_rows

    table, problems = read_csv(csv_path, shown, root=root)
    out.extend(problems)
    if table is None:
        return None
    if table.header != CSV_HEADER:
        out.append(problem(shown, 1, 1, f"CSV header must be {','.join(CSV_HEADER)} (got {','.join(table.header)})"))
        return None
    before = len(out)
    rows = typed_rows(_columns(), table, out)
    lines = [line for line, record in table.rows if len(record) == len(CSV_HEADER)]
    records = {line: record for line, record in table.rows}
    if len(out) > before and any(p.is_error for p in out[before:]):
        return None
    obs: list[Observation] = []
    seen: dict[tuple[Period, str], int] = {}
    freq = meta.calendar.frequency

    def at(line: int, column: int, message: str) -> None:
        record = records[line]
        col = 1 + sum(len(v) + 1 for v in record[:column])
        out.append(problem(shown, line, col, message))

    for line, (period, region, value, status, published) in zip(lines, rows, strict=True):
        assert isinstance(period, str) and isinstance(region, str) and isinstance(status, str)
        p = parse_period(period, freq)
        if p is None:
            at(line, 0, f"column 'period': {period!r} is not a {freq} period (e.g. {_PERIOD_EXAMPLE[freq]}), "
                        f"as the calendar in {source.path} says")
            continue
        if region not in meta.regions:
            at(line, 1, f"column 'region': '{region}' is not one of the KPI's regions ({', '.join(meta.regions)})")
            continue
        if not isinstance(value, Decimal):
            at(line, 2, "column 'value': must not be empty (leave the row out until the figure is published)")
            continue
        if published:
            try:
                dt.date.fromisoformat(str(published))
            except ValueError:
                at(line, 4, f"column 'published': expected a date YYYY-MM-DD, got {str(published)[:40]!r}")
                continue
        key = (p, region)
        if key in seen:
            at(line, 0, f"{period} {region} is given twice (first at line {seen[key]})")
            continue
        seen[key] = line
        obs.append(Observation(show_period(p, freq), region, value, status, str(published or ""), line))
    return sorted(obs, key=lambda o: (_key(o, freq), KPI_REGIONS.index(o.region)))


def _key(o: Observation, frequency: str) -> Period:
    p = parse_period(o.period, frequency)
    assert p is not None
    return p


# --- the project as a whole -------------------------------------------------------------------------

def kpi_problems(project: Project, today: dt.date) -> list[Problem]:
    """Staleness and formula warnings at each KPI file, and the dossiers' KPI references (errors)."""
    out: list[Problem] = []
    for kd in project.kpis.values():
        out += _stale(kd, today) + _formula_problems(project, kd)
    out += dossier_problems(project)
    if project.kpis and "labels" in project.sources:
        out += [project.sources["labels"].problem(("labels",), f"missing label '{k}' (the scoreboard prints it)")
                for k in LABELS if k not in project.labels]
    return out


def _stale(kd: KpiData, today: dt.date) -> list[Problem]:
    cal = kd.meta.calendar
    expected = expected_period(today, cal.frequency, cal.months_after)
    latest = latest_period(kd)
    if latest is not None and latest >= expected:
        return []
    when = due(expected, cal.frequency, cal.months_after)
    have = f"the latest observation is {show_period(latest, cal.frequency)}" if latest else "it has no observations"
    missed = 0
    p = expected
    while latest is None or p > latest:
        missed += 1
        p = _previous(p, cal.frequency)
        if missed > 99:
            break
    cycles = "one release" if missed == 1 else f"{missed} releases"
    return [kd.source.problem(("calendar",), (
        f"KPI '{kd.meta.id}' is stale: its calendar ({cal.frequency}, {cal.months_after} months after each "
        f"period) expected the {show_period(expected, cal.frequency)} figures by {when.isoformat()}, "
        f"but {have} in {kd.csv_path} ({cycles} behind, as of {today.isoformat()})"), warning=True)]


def latest_period(kd: KpiData) -> Period | None:
    keys = [_key(o, kd.meta.calendar.frequency) for o in kd.observations]
    return max(keys) if keys else None


def _formula_problems(project: Project, kd: KpiData) -> list[Problem]:
    meta = kd.meta
    if meta.formula is None:
        return []
    f = parse_formula(meta.formula)
    if isinstance(f, str):
        return []  # reported when loaded
    out = []
    for arg in f.args:
        if arg not in project.kpis:
            close = difflib.get_close_matches(arg, list(project.kpis), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            out.append(kd.source.problem(("formula",), f"formula: no KPI '{arg}'{hint}"))
        elif arg == meta.id or _uses(project, arg, meta.id, set()):
            out.append(kd.source.problem(("formula",), f"formula: '{arg}' depends on '{meta.id}' (a cycle)"))
    if out:
        return out
    inputs = {arg: {(o.period, o.region): o.value for o in project.kpis[arg].observations} for arg in f.args}
    tolerance = Decimal(1).scaleb(-meta.decimals) / 2
    for o in kd.observations:
        values = [inputs[arg].get((o.period, o.region)) for arg in f.args]
        absent = [arg for arg, v in zip(f.args, values, strict=True) if v is None]
        if absent:
            out.append(kd.source.problem(("formula",), (
                f"formula: {o.period} {o.region} ({kd.csv_path}:{o.line}) cannot be checked: "
                f"'{absent[0]}' has no figure for it"), warning=True))
            continue
        computed = evaluate(f, [v for v in values if v is not None])
        if computed is None or abs(computed - o.value) > tolerance:
            shown = "undefined (division by zero)" if computed is None else \
                f"{computed.quantize(Decimal(1).scaleb(-meta.decimals))}"
            out.append(kd.source.problem(("formula",), (
                f"formula: {o.period} {o.region} is {o.value} in {kd.csv_path}:{o.line}, "
                f"but {meta.formula.strip()} gives {shown}"), warning=True))
    return out


def _uses(project: Project, kpi_id: str, target: str, seen: set[str]) -> bool:
    """Whether `kpi_id`'s formula reaches `target`."""
    if kpi_id in seen or kpi_id not in project.kpis:
        return False
    seen.add(kpi_id)
    formula = project.kpis[kpi_id].meta.formula
    f = parse_formula(formula) if formula else None
    if not isinstance(f, Formula):
        return False
    return any(a == target or _uses(project, a, target, seen) for a in f.args)


def illustrative_reason(project: Project, kpi_id: str, seen: frozenset[str] = frozenset(), *,
                        target: bool = True) -> str | None:
    """Why a KPI is not fit for an agreed dossier, or None: illustrative figures (its own or those
    it is derived from) or, unless `target` is False, an illustrative target."""
    kd = project.kpis.get(kpi_id)
    if kd is None or kpi_id in seen:
        return None
    if kd.meta.kind == "illustrative":
        return "its figures are illustrative"
    if target and kd.meta.target.illustrative:
        return "its target is illustrative (no agreement or decision set it)"
    f = parse_formula(kd.meta.formula) if kd.meta.formula else None
    if isinstance(f, Formula):
        for arg in f.args:
            if illustrative_reason(project, arg, seen | {kpi_id}, target=False) is not None:
                return f"it is derived from '{arg}', which is illustrative"
    return None


def dossier_kpis(project: Project, ids: list[str]) -> list[str]:
    """A dossier's `kpis`, with 'scoreboard' standing for every KPI (by id), each once."""
    out: list[str] = []
    for ident in ids:
        for k in (sorted(project.kpis) if ident == SCOREBOARD else [ident]):
            if k not in out:
                out.append(k)
    return out


def agreed_dossier(project: Project, dossier_id: str) -> bool:
    """Every position of the dossier is agreed (or adopted) by both regions: it speaks for them."""
    d = project.dossiers[dossier_id]
    return bool(d.positions) and all(
        p in project.positions and project.positions[p].status in BINDING_STATUSES for p in d.positions)


def dossier_problems(project: Project) -> list[Problem]:
    out: list[Problem] = []
    for did, d in project.dossiers.items():
        source = project.sources.get(f"dossier:{did}")
        if source is None:
            continue
        agreed = agreed_dossier(project, did)
        for i, ident in enumerate(d.kpis):
            loc = ("kpis", i)
            if ident in d.kpis[:i]:
                out.append(source.problem(loc, f"kpis[{i}]: '{ident}' is listed twice"))
                continue
            if ident != SCOREBOARD and ident not in project.kpis:
                if not project.files.get(f"kpi:{ident}"):
                    close = difflib.get_close_matches(ident, [*project.kpis, SCOREBOARD], n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    out.append(source.problem(loc, f"{dotted(loc)}: no KPI '{ident}'{hint}"))
                continue
            if not agreed:
                continue
            for k in dossier_kpis(project, [ident]):
                why = illustrative_reason(project, k)
                if why is not None:
                    where = f"{project.kpis[k].source.path}"
                    out.append(source.problem(loc, (
                        f"{dotted(loc)}: KPI '{k}' cannot be in this dossier: {why} ({where}), and every position "
                        "of the dossier is agreed; take it out, or use official figures and a target set by a "
                        "decision")))
    return out


# --- the scoreboard's arithmetic ------------------------------------------------------------------

def headline_region(meta: Kpi) -> str:
    return meta.target.region


def series(kd: KpiData, region: str) -> list[Observation]:
    return [o for o in kd.observations if o.region == region]


def latest(kd: KpiData, region: str | None = None) -> Observation | None:
    obs = series(kd, region or headline_region(kd.meta))
    return obs[-1] if obs else None


def progress(kd: KpiData) -> Decimal | None:
    """How far the headline figure has come from the baseline to the target, in percent."""
    last = latest(kd)
    meta = kd.meta
    base, goal = Decimal(str(meta.baseline.value)), Decimal(str(meta.target.value))
    if last is None or goal == base:
        return None
    return (last.value - base) / (goal - base) * 100


def expected_progress(kd: KpiData) -> Decimal | None:
    """Where the straight path from the baseline (end of its year) to the target (end of its year)
    stands at the end of the latest observed period, in percent."""
    last = latest(kd)
    meta = kd.meta
    if last is None or meta.target.year <= meta.baseline.year:
        return None
    end = _end_month(_key(last, meta.calendar.frequency), meta.calendar.frequency)
    start, stop = meta.baseline.year * 12 + 12, meta.target.year * 12 + 12
    return Decimal(end - start) / Decimal(stop - start) * 100


def light(kd: KpiData, stale: bool = False) -> str:
    """green | amber | red | none, by the rule the label kpi.light.rule states in words."""
    done, due_ = progress(kd), expected_progress(kd)
    if done is None or due_ is None or due_ <= 0 or stale:  # nothing after the baseline yet: no rating
        return "none"
    if done >= due_:
        return "green"
    return "amber" if done > 0 else "red"


def is_stale(kd: KpiData, today: dt.date) -> bool:
    cal = kd.meta.calendar
    latest_ = latest_period(kd)
    return latest_ is None or latest_ < expected_period(today, cal.frequency, cal.months_after)


# --- between two revisions -------------------------------------------------------------------------

@dataclass(frozen=True)
class Movement:
    id: str
    change: str  # added | removed | changed (| unchanged: what the scoreboard shows for a KPI that did not move)
    old: Observation | None  # the headline region's latest figure in the older revision
    new: Observation | None
    added: int  # observations added, revised (value or status) and removed
    revised: int
    removed: int

    @property
    def delta(self) -> Decimal | None:
        if self.old is None or self.new is None:
            return None
        return self.new.value - self.old.value


def movements(old: Project, new: Project) -> list[Movement]:
    """Every KPI whose definition's headline figure or observations differ between two revisions."""
    out = []
    for kid in sorted(old.kpis.keys() | new.kpis.keys()):
        a, b = old.kpis.get(kid), new.kpis.get(kid)
        if a is None or b is None:
            kd = a or b
            assert kd is not None
            out.append(Movement(kid, "added" if a is None else "removed", latest(a) if a else None,
                                latest(b) if b else None, len(b.observations) if b else 0, 0,
                                len(a.observations) if a else 0))
            continue
        before = {(o.period, o.region): o for o in a.observations}
        after = {(o.period, o.region): o for o in b.observations}
        added = len(after.keys() - before.keys())
        removed = len(before.keys() - after.keys())
        revised = sum((before[k].value, before[k].status) != (after[k].value, after[k].status)
                      for k in before.keys() & after.keys())
        if added or removed or revised or a.meta != b.meta:
            out.append(Movement(kid, "changed", latest(a), latest(b), added, revised, removed))
    return out


def iter_regions(meta: Kpi) -> Iterator[str]:
    yield from (r for r in KPI_REGIONS if r in meta.regions)
