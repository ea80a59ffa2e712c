"""`voceunica fourcol`: the negotiators' four-column table of an EU file in trilogue.

Compose stage.  Commission proposal | Parliament | Council | the Regions' position:
a row per provision the positions amend (their `amendments` on the file), beside
the Parliament's and the Council's texts the catalogue records provision by
provision (`eu-files/<key>.yaml`, `provisions`).  An amendment names its provision
by `provision_id`, or by the catalogue provision's very label (both languages); a
provision the catalogue lacks, or a text it does not record, is said so in the cell
(labels.yaml) and warned about at its line.  Two amendments of one provision are
refused: one voice, one wording.

One file per language: four texts a row leave no room for a second language, and
the negotiators work in English while the regional administrations and Rome read
Italian (`--lang` writes one).  Each file: Markdown from templates/fourcol.md.j2 (the
sandboxed `render`), Word through the dossiers' writer on landscape pages
(`docx.landscape`), read back by `docx.proof`, staged and renamed into place.

Judged, and dated, as of `eufiles.as_of()` (SOURCE_DATE_EPOCH, else today), as
`check` judges the state of play: a file must be in trilogue now.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from voceunica import eufiles, fmt, typography
from voceunica.errors import Problem, VoceunicaError, general, problem
from voceunica.fingerprint import agreed as position_agreed
from voceunica.model import LANGS, Amendment, EUFileRecord, Position, ProvisionTexts
from voceunica.pipeline import check, docx_meta, timestamp
from voceunica.project import Project
from voceunica.resolve import Footnote
from voceunica.write import Staging, refuse_source_folder

TEMPLATE = "fourcol.md.j2"
# The labels the four-column table prints (besides the state of play's and the Word writer's).
LABELS: tuple[str, ...] = (
    "fourcol.doctype", "fourcol.audience", "fourcol.reading", "fourcol.commission", "fourcol.parliament",
    "fourcol.council", "fourcol.regions", "fourcol.new_provision", "fourcol.no_parliament", "fourcol.no_council",
    "justification", "sop_stage", "sop_last_step", "sop_next_step", "dateline_place",
)


@dataclass(frozen=True)
class Row:
    number: int
    provision: str  # 'Article 1 – paragraph 2'
    commission: str  # Markdown; '' for a new provision
    parliament: str  # Markdown, or the label saying the catalogue lacks it
    council: str
    regions: str  # the amendment, new wording in **bold**
    justification: str  # Markdown, its notes as [^label]
    position: str  # the id of the position the amendment is in


@dataclass(frozen=True)
class FourCol:
    """One file's table in one language, ready for templates/fourcol.md.j2."""

    key: str
    lang: str
    name: str  # short title
    title: str  # official title
    act: str  # 'COM(2025) 989 final, 2025/0419(COD)'
    stage: str
    last_step: str
    next_step: str
    who: list[str]
    rows: list[Row]
    footnotes: list[Footnote]
    labels: dict[str, str] = field(repr=False)


@dataclass
class FourColResult:
    files: list[Path]
    rows: int
    warnings: list[Problem]


@dataclass(frozen=True)
class _Item:
    pos: Position
    index: int  # in pos.amendments
    amendment: Amendment
    provision: ProvisionTexts | None  # the catalogue's, when the amendment names one it has


def _norm(text: str) -> str:
    return " ".join(text.split())


def matching_provision(rec: EUFileRecord, a: Amendment) -> ProvisionTexts | None:
    """The catalogue provision an amendment amends: by `provision_id`, else the one of the same label."""
    if a.provision_id is not None:
        return next((p for p in rec.provisions if p.id == a.provision_id), None)
    return next((p for p in rec.provisions
                 if all(_norm(p.provision[lang]) == _norm(a.provision[lang]) for lang in LANGS)), None)


def gather(project: Project, key: str, day: dt.date) -> tuple[EUFileRecord, list[_Item], list[Problem]]:
    """The file's record and every amendment of it, in the order of the positions' ids;
    refused (VoceunicaError) when the file is unknown, not in trilogue on `day`, or
    nobody amends it; warnings for what the table cannot show."""
    rec = project.catalogue.get(key)
    if rec is None:
        close = difflib.get_close_matches(key, list(project.catalogue), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise VoceunicaError(general(f"fourcol: no EU file '{key}' in the catalogue "
                                     f"({eufiles.FOLDER}/{key}.yaml){hint}"))
    source = project.sources[f"eu-file:{key}"]
    where = eufiles.phase(rec, day)
    if where != "trilogue":
        done = eufiles.stages_on(rec, day)
        last = f"its last step is {done[-1].stage.replace('-', ' ')} on {done[-1].date}" if done else \
            "no stage is recorded"
        raise VoceunicaError(source.problem(("stages",) if rec.stages else ("key",), (
            f"fourcol: {key} is not in trilogue on {day} ({last}): the four-column table sets the Parliament's "
            "and the Council's texts beside the Commission's while they negotiate, after the committee vote "
            "and the Council's general approach and before their agreement"), key=True))
    items: list[_Item] = []
    warnings: list[Problem] = []
    for pos in sorted(project.positions.values(), key=lambda p: p.id):
        for i, a in enumerate(pos.amendments):
            if eufiles.record_for(project, pos, a.eu_file) is not rec:
                continue
            items.append(_Item(pos, i, a, matching_provision(rec, a)))
    if not items:
        raise VoceunicaError(source.problem(("key",), f"fourcol: no position amends {key} (no 'amendments' "
                                            f"entry with eu_file: {key}): there is nothing to set beside the "
                                            "co-legislators' texts", key=True))
    seen: dict[str, _Item] = {}
    refused: list[Problem] = []
    ids = ", ".join(p.id for p in rec.provisions) or "none yet"
    for item in items:
        psource = project.sources[f"position:{item.pos.id}"]
        if item.provision is None:
            named = f"provision_id '{item.amendment.provision_id}' names no provision of" \
                if item.amendment.provision_id else "no provision of"
            warnings.append(psource.problem(("amendments", item.index, "provision"), (
                f"amendments[{item.index}]: {named} {eufiles.FOLDER}/{key}.yaml matches it, so its row of the "
                f"four-column table shows no Parliament or Council text; give provision_id (recorded: {ids}) "
                "or record the provision in the catalogue's 'provisions'"), warning=True))
            continue
        first = seen.get(item.provision.id)
        if first is not None:
            refused.append(psource.problem(("amendments", item.index), (
                f"amendments[{item.index}] amends provision '{item.provision.id}' of {key}, as "
                f"{first.pos.id} amendments[{first.index}] does: one voice has one wording per provision; "
                "merge them"), key=True))
            continue
        seen[item.provision.id] = item
    if refused:
        raise VoceunicaError(refused)
    for j, p in enumerate(rec.provisions):
        if p.id not in seen:
            continue
        for who, text in (("parliament", p.parliament), ("council", p.council)):
            if text is None:
                warnings.append(source.problem(("provisions", j, "id"), (
                    f"provisions[{j}] ({p.id}) records no {who} text: its row of the four-column table says so; "
                    f"add '{who}:' (it, en) with its source"), key=True, warning=True))
    return rec, items, warnings


def resolve_fourcol(project: Project, rec: EUFileRecord, items: list[_Item], lang: str, day: dt.date) -> FourCol:
    """The table in one language: texts typeset, notes of the justifications made footnotes."""
    from voceunica import resolve

    labels = {k: typography.plain(v[lang], lang) for k, v in project.labels.items()}
    linked, footnotes = resolve.resolve_positions(project, (item.pos for item in items), day, lang, labels)

    def md(text: str) -> str:
        return typography.markdown(text.strip(), lang)

    rows = []
    for n, item in enumerate(items, start=1):
        a, p = item.amendment, item.provision
        commission = a.commission[lang] if a.commission else p.commission[lang] if p and p.commission else ""
        rows.append(Row(
            number=n, provision=typography.plain(_norm(a.provision[lang]), lang), commission=md(commission),
            parliament=md(p.parliament[lang]) if p and p.parliament else labels["fourcol.no_parliament"],
            council=md(p.council[lang]) if p and p.council else labels["fourcol.no_council"],
            regions=md(a.amendment[lang]),
            justification=md(linked[item.pos.id].amendments[item.index].justification),
            position=item.pos.id))
    cited = {m for r in rows for m in re.findall(r"\[\^([^\]\s]+)\]", r.justification + r.commission + r.regions)}
    box = resolve.state_of_play(rec, day, lang, labels)
    return FourCol(
        key=rec.key, lang=lang, name=typography.plain((rec.short_title or rec.title)[lang], lang),
        title=typography.plain(_norm(rec.title[lang]), lang), act=box.act, stage=md(box.stage),
        last_step=md(box.last_step), next_step=md(box.next_step), who=[md(w) for w in box.who], rows=rows,
        footnotes=[replace(f, text=md(f.text)) for f in footnotes if f.label in cited], labels=labels)


def _dossier_for(project: Project, key: str, items: list[_Item]) -> str:
    """The dossier that presents these amendments (its authors and contact head the table):
    the first, by id, addressing the file, else the first holding an amending position."""
    amending = {i.pos.id for i in items}
    ids = sorted(project.dossiers)
    for did in ids:
        if any(ref.partition("/")[2] == key and ref.partition("/")[0] in amending
               for ref in project.dossiers[did].addresses):
            return did
    for did in ids:
        if amending & set(project.dossiers[did].positions):
            return did
    first = items[0]
    raise VoceunicaError(project.sources[f"position:{first.pos.id}"].problem(("amendments", first.index), (
        f"fourcol: no dossier holds {first.pos.id}: the four-column table takes its authors and contact from "
        "the dossier that presents the amendments"), key=True))


def output_names(out: Path, langs: tuple[str, ...]) -> dict[str, Path]:
    """One language: exactly `out`; both: `out` with .it / .en before its suffix."""
    if len(langs) == 1:
        return {langs[0]: out}
    suffix = out.suffix or ".docx"
    return {lang: out.with_name(f"{out.stem if out.suffix else out.name}.{lang}{suffix}") for lang in langs}


def build_fourcol(root: Path, key: str, out: Path | None = None, langs: tuple[str, ...] = LANGS) -> FourColResult:
    from voceunica import docx as writer
    from voceunica.docx.landscape import landscape
    from voceunica.docx.proof import prove
    from voceunica.render import render_template
    from voceunica.resolve import resolve

    project = check(root)
    if project.errors:
        raise VoceunicaError(project.problems)
    missing = [k for k in LABELS if k not in project.labels]
    if missing:
        raise VoceunicaError([project.sources["labels"].problem(("labels",), f"missing label '{k}' (the "
                                                                "four-column table prints it)") for k in missing])
    day = eufiles.as_of()
    rec, items, warnings = gather(project, key, day)
    target = out if out is not None else project.root / "build" / f"{key}.fourcol.docx"
    refuse_source_folder(project.root, target.parent)
    dossier_id = _dossier_for(project, key, items)
    names = output_names(target, langs)
    reference = project.asset("reference.docx")
    positions = list({i.pos.id: i.pos for i in items}.values())
    draft = not all(position_agreed(p) for p in positions)
    files: dict[Path, bytes] = {}
    for lang in langs:
        t = resolve_fourcol(project, rec, items, lang, day)
        labels = t.labels
        body = render_template(project.template_dirs(), TEMPLATE, t=t, labels=labels)
        base = docx_meta(project, resolve(project, dossier_id, lang))
        date_text = typography.plain(fmt.date(day, lang), lang)
        meta = replace(
            base, title=t.name, subtitle=t.title, short_title=t.name, doctype=labels["fourcol.doctype"],
            date_text=date_text, version=", ".join(f"{p.id} {p.version}" for p in positions),
            status_text=labels["status.draft" if draft else "status.agreed"], draft=draft, eu_files=(t.act,),
            created=timestamp(day), keywords=(key,), dateline=f"{labels['dateline_place']}, {date_text}",
            audience=labels["fourcol.audience"], tables=(), identifier=f"{key}.fourcol.{lang}")
        try:
            data = landscape(body, meta, reference)
            prove(data, [body])
        except writer.DocxError as exc:
            where = f" (line {exc.line} of the {lang} Markdown it renders)" if exc.line else f" ({lang})"
            raise VoceunicaError(problem(f"templates/{TEMPLATE}", 1, 1,
                                         f"fourcol: cannot write DOCX{where}: {exc}")) from None
        files[names[lang]] = data
    with Staging(sync=False) as staging:
        for path, data in files.items():
            staging.add(path, data)
        written = staging.commit()
    return FourColResult(written, len(items), warnings)
