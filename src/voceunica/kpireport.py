"""`voceunica kpi`: the pact's scoreboard through to files, in Italian and English.

Compose stage.  Checks the project first (its errors refuse the scoreboard), reads
what moved between the last two version tags (through `gitrev`, as `diff` and
`release` do), renders each language's Markdown through templates/scoreboard.md.j2
(the sandboxed environment of `render`), draws each KPI's chart (`kpichart`),
writes the Word file with the dossiers' writer and reads it back (`docx.proof`)
before anything is kept, and stages every file before the first is renamed into
place (`write.Staging`).

The scoreboard is dated, and staleness judged, as of SOURCE_DATE_EPOCH when set,
else the date of the last commit (the same sources give the same bytes), else
today for a project outside git.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from voceunica.errors import VoceunicaError, problem
from voceunica.kpi import Movement, movements
from voceunica.model import LANGS
from voceunica.clock import source_date_epoch
from voceunica.pipeline import check, timestamp
from voceunica.project import Project
from voceunica.write import Staging, clean_stale_temps, refuse_source_folder

# every name `voceunica kpi` writes
OUTPUT_NAME = re.compile(r"scoreboard\.(it|en)\.(md|docx|pdf)|scoreboard\.[a-z0-9-]+\.(it|en)\.png")


@dataclass
class ScoreboardResult:
    files: list[Path]
    date: dt.date
    releases: tuple[str, str] | None
    note: str | None = None


def as_of(root: Path) -> dt.date:
    """SOURCE_DATE_EPOCH, else the last commit's date, else today (UTC)."""
    from voceunica import gitrev

    epoch = source_date_epoch()
    if epoch is None:
        try:
            epoch = gitrev.commit_time(root)
        except VoceunicaError:
            epoch = None
    from voceunica.kpi import reference_date

    return reference_date(epoch)


def release_movements(root: Path) -> tuple[dict[str, Movement] | None, tuple[str, str] | None]:
    """What moved between the last two version tags reachable from HEAD (older, newer), or (None, None).
    The last two by version number: tags made in the same second have no order by date."""
    from voceunica import gitrev
    from voceunica.release import _VERSION

    try:
        tags = sorted((t for t in gitrev.version_tags(root) if _VERSION.fullmatch(t)), key=_version_key, reverse=True)
    except VoceunicaError:
        return None, None
    if len(tags) < 2:
        return None, None
    newer, older = tags[0], tags[1]
    moves = movements(gitrev.project_at(root, older), gitrev.project_at(root, newer))
    return {m.id: m for m in moves}, (older, newer)


def _version_key(tag: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", tag)[:3])


def render_scoreboard_files(project: Project, today: dt.date, moves: dict[str, Movement] | None,
                            releases: tuple[str, str] | None) -> dict[str, bytes | str]:
    """Every file of the scoreboard, by name, in memory; each DOCX proven against its Markdown."""
    from voceunica import docx as writer
    from voceunica.docx.proof import prove
    from voceunica.kpichart import render_png
    from voceunica.render import split_front_matter
    from voceunica.scoreboard import TEMPLATE, render_scoreboard, resolve_scoreboard

    files: dict[str, bytes | str] = {}
    bodies: dict[str, str] = {}
    resolved = {}
    for lang in LANGS:
        rs = resolve_scoreboard(project, lang, today, moves, releases)
        resolved[lang] = rs
        md = render_scoreboard(project, rs)
        files[f"scoreboard.{lang}.md"] = md
        bodies[lang] = split_front_matter(md)[1]
        for k in rs.kpis:
            files[k.chart.file] = render_png(k.chart, lang)
    images = {n: d for n, d in files.items() if n.endswith(".png") and isinstance(d, bytes)}
    reference = project.asset("reference.docx")
    for lang, rs in resolved.items():
        labels = rs.labels
        meta = writer.DocxMeta(
            lang=lang, title=rs.title, subtitle=rs.subtitle, short_title=rs.title,
            doctype=labels["kpi.doctype"], date_text=rs.date_text, version=rs.date.isoformat(),
            status_text=labels["kpi.as_of"] + " " + rs.date_text, draft=False,
            authors=tuple(writer.Author(name=labels[f"region.{r}"], line=labels[f"region.{r}"])
                          for r in ("lombardia", "veneto")),
            contact_lines=(), eu_files=(), labels={k: labels[k] for k in writer.LABELS},
            created=timestamp(rs.date), keywords=tuple(k.name for k in rs.kpis), layout="dossier",
        )
        try:
            data = writer.markdown_to_docx(bodies[lang], meta, reference=reference, images=images)
            prove(data, [bodies[lang]])
        except writer.DocxError as exc:
            where = f" (line {exc.line} of the {lang} Markdown it renders)" if exc.line else f" ({lang})"
            raise VoceunicaError(problem(f"templates/{TEMPLATE}", 1, 1,
                                         f"scoreboard: cannot write DOCX{where}: {exc}")) from None
        files[f"scoreboard.{lang}.docx"] = data
    return files


def build_scoreboard(root: Path, out_dir: Path | None = None, *, pdf: bool = False) -> ScoreboardResult:
    if out_dir is not None:
        refuse_source_folder(root, out_dir)
    project = check(root)
    if project.errors:
        raise VoceunicaError(project.problems)
    if not project.kpis:
        raise VoceunicaError(problem("kpis/", 1, 1, "no KPIs to show: add kpis/<id>.yaml with kpis/<id>.csv"))
    today = as_of(project.root)
    moves, releases = release_movements(project.root)
    files = render_scoreboard_files(project, today, moves, releases)
    note = None
    if pdf:
        from voceunica.docx import to_pdf as convert

        pdfs, note = convert({n: d for n, d in files.items() if n.endswith(".docx") and isinstance(d, bytes)})
        files.update(pdfs)
    target = out_dir if out_dir is not None else project.root / "build"
    clean_stale_temps(target, OUTPUT_NAME)
    with Staging(sync=False) as staging:
        for name in sorted(files):
            staging.add(target / name, files[name])
        written = staging.commit()
    return ScoreboardResult(written, today, releases, note)
