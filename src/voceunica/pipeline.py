"""The whole way through: project → every output file, gathered in memory, then written.

`build()` checks first and refuses to build anything when `check` finds
errors; it renders every requested dossier in every language and layout
into memory and only then writes, each file atomically.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from voceunica.errors import VoceunicaError, problem
from voceunica.model import LANGS
from voceunica.render import render_markdown, split_front_matter
from voceunica.resolve import ResolvedDossier, resolve
from voceunica.validate import Project, load_project
from voceunica.write import write_all

DOCX_LABELS = ("contents", "page", "of", "version", "date", "status", "contact", "eu_files",
               "transparency_register", "draft_marking")


@dataclass
class BuildResult:
    files: list[Path]
    dossiers: list[str]


def check(root: Path, base: str | None = None) -> Project:
    """Everything `voceunica check` reports: validation, sign-offs, translations,
    and, against a base revision, version discipline."""
    from voceunica.review import signoff_problems, translation_problems, version_problems

    project = load_project(root)
    found = signoff_problems(project) + translation_problems(project)
    if base is not None:
        from voceunica.gitrev import project_at

        found += version_problems(project_at(root, base), project, base)
    project.problems[:] = sorted(set(project.problems + found))
    return project


def select(project: Project, ids: Iterable[str]) -> list[str]:
    ids = list(ids)
    if not ids:
        return sorted(project.dossiers)
    unknown = [i for i in ids if i not in project.dossiers]
    if unknown:
        known = ", ".join(sorted(project.dossiers)) or "none"
        raise VoceunicaError([problem("dossiers/", 1, 1, f"no dossier '{i}' (known: {known})") for i in unknown])
    return ids


def timestamp(project: Project, dossier_date: dt.date) -> dt.datetime:
    """What DOCX files are stamped with: SOURCE_DATE_EPOCH when set, else the
    dossier's own date — never the wall clock, so builds are reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).replace(tzinfo=None)
    return dt.datetime(dossier_date.year, dossier_date.month, dossier_date.day)


def render_dossier(project: Project, dossier_id: str) -> dict[str, bytes | str]:
    """Every output file of one dossier, by name, in memory."""
    from voceunica.charts import render_png

    dossier = project.dossiers[dossier_id]
    files: dict[str, bytes | str] = {}
    resolved: dict[str, ResolvedDossier] = {}
    bodies: dict[str, str] = {}
    for lang in LANGS:
        rd = resolve(project, dossier_id, lang)
        resolved[lang] = rd
        md = render_markdown(rd, project.template_dirs(), dossier.template)
        files[f"{dossier_id}.{lang}.md"] = md
        bodies[lang] = split_front_matter(md)[1]
        for annex in rd.annexes:
            if annex.chart is not None:
                files[annex.chart.file] = render_png(annex.chart, lang)
    files.update(_docx_files(project, dossier_id, resolved, bodies, files))
    return files


def _docx_files(project: Project, dossier_id: str, resolved: dict[str, ResolvedDossier],
                bodies: dict[str, str], files: dict[str, bytes | str]) -> dict[str, bytes]:
    from voceunica import docx as writer

    dossier = project.dossiers[dossier_id]
    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="voceunica-") as tmp:
        resources = Path(tmp)
        for name, data in files.items():
            if name.endswith(".png"):
                (resources / name).write_bytes(data if isinstance(data, bytes) else data.encode())
        metas = {lang: docx_meta(project, rd) for lang, rd in resolved.items()}
        try:
            if "single" in dossier.layouts:
                for lang in LANGS:
                    out[f"{dossier_id}.{lang}.docx"] = writer.markdown_to_docx(
                        bodies[lang], metas[lang], reference=project.reference_docx, resource_dir=resources)
            if "parallel" in dossier.layouts:
                out[f"{dossier_id}.it-en.docx"] = writer.parallel_docx(
                    bodies["it"], metas["it"], bodies["en"], metas["en"],
                    reference=project.reference_docx, resource_dir=resources)
        except writer.DocxError as exc:
            raise VoceunicaError(problem(f"{dossier_id} (rendered Markdown)", getattr(exc, "line", None) or 1, 1,
                                         f"cannot write DOCX: {exc}")) from None
    return out


def docx_meta(project: Project, rd: ResolvedDossier) -> object:
    from voceunica import docx as writer

    logos = {region: project.root / "templates" / f"logo-{region}.png" for region in ("lombardia", "veneto")}
    dossier = project.dossiers[rd.id]
    authors = tuple(
        writer.Author(name=name, office=office, transparency_register=tr,
                      logo=logos[a.region] if logos[a.region].is_file() else None)
        for (name, office, tr), a in zip(rd.authors, dossier.authors)
    )
    return writer.DocxMeta(
        lang=rd.lang, title=rd.title, subtitle=rd.subtitle, short_title=rd.short_title, doctype=rd.doctype,
        date_text=rd.date_text, version=rd.version, status_text=rd.status_text, draft=rd.draft,
        authors=authors, contact_lines=tuple(rd.contact),
        eu_files=tuple(_plain(line) for line in rd.addresses),
        labels={k: rd.labels[k] for k in DOCX_LABELS},
        created=timestamp(project, rd.date),
        keywords=tuple(p.sector_text for p in rd.positions),
    )


def _plain(markdown_line: str) -> str:
    return re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", markdown_line).replace("<", "").replace(">", "")


def build(root: Path, dossier_ids: Iterable[str] = (), out_dir: Path | None = None) -> BuildResult:
    project = check(root)
    if project.errors:
        raise VoceunicaError(project.problems)
    ids = select(project, dossier_ids)
    files: dict[str, bytes | str] = {}
    for dossier_id in ids:
        files.update(render_dossier(project, dossier_id))
    target = out_dir if out_dir is not None else project.root / "build"
    return BuildResult(write_all(target, files), ids)
