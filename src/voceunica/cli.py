"""The command line: parse options, call the library, print, set the exit code.

The only place that prints problems and exits.  Exit codes follow linters:
0 clean, 1 problems found, 2 usage or internal error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Protocol, TypeGuard

import typer

from voceunica import __version__
from voceunica.errors import Problem, VoceunicaError, counted, summary

if TYPE_CHECKING:  # the project type pulls in pydantic and YAML; --help and --version stay fast
    from voceunica.project import Project

# -h as well as --help, in every command (click's contexts inherit it)
HELP = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    context_settings=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="One voice in Brussels: check and build bilingual IT/EN dossiers from positions/ and dossiers/.",
)


class CheckFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


class State:
    root: Path = Path(".")
    format: CheckFormat = CheckFormat.text  # how problems are printed (check --format)
    dossiers: list[str] = []  # the dossiers a build was asked for


state = State()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"voceunica {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    directory: Annotated[Path | None, typer.Option(
        "-C", "--directory", help="Run as if started in DIR (like git -C).", metavar="DIR")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    start = directory if directory is not None else Path(".")
    if not start.is_dir():
        typer.echo(f"voceunica: -C {directory}: no such directory", err=True)
        raise typer.Exit(2)
    from voceunica.project import find_root
    from voceunica.write import recover

    state.root = find_root(start) or start  # from a subfolder too, as git finds its repository

    recover(state.root)  # whatever runs next sees an import a kill interrupted finished, never half applied


def _shown(p: Problem) -> Problem:
    """Problem paths are project-relative (or absolute, for files outside the
    project); show them relative to where the user stands."""
    if not p.path:
        return p
    if Path(p.path).is_absolute():
        rel = os.path.relpath(p.path)
        return Problem(p.path if rel.startswith("..") else rel, p.line, p.col, p.message, p.severity)
    if state.root.resolve() == Path.cwd().resolve() or p.path.startswith("<"):
        return p
    rel = os.path.relpath(state.root / p.path)
    return Problem(rel, p.line, p.col, p.message, p.severity)


def _cwd_path(path: Path) -> Path:
    """A path option as the user typed it: relative to the current folder, whatever -C or the project root."""
    return path if path.is_absolute() else Path.cwd() / path


def _github_escape(text: str, *, prop: bool = False) -> str:
    """GitHub's workflow-command escaping (data; a property also escapes ':' and ',')."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def report_as(problems: list[Problem], fmt: CheckFormat) -> None:
    """Problems on stdout for machines: JSON, or GitHub workflow annotations."""
    import json

    shown = [_shown(p) for p in problems]
    if fmt is CheckFormat.json:
        typer.echo(json.dumps({
            "problems": [{"path": p.path or None, "line": p.line or None, "col": p.col or None,
                          "severity": p.severity.value, "message": p.message} for p in shown],
            "errors": sum(p.is_error for p in shown), "warnings": sum(p.severity.value == "warning" for p in shown),
        }, indent=1, ensure_ascii=False))
        return
    for p in shown:
        kind = {"error": "error", "warning": "warning"}.get(p.severity.value, "notice")
        where = f" file={_github_escape(p.path, prop=True)},line={p.line},col={p.col}" if p.path else ""
        typer.echo(f"::{kind}{where}::{_github_escape(p.message)}")


def report(problems: list[Problem]) -> None:
    if state.format is not CheckFormat.text:
        report_as(problems, state.format)
        return
    for p in problems:
        typer.echo(str(_shown(p)), err=True)
    if any(p.severity.value != "note" for p in problems):
        typer.echo(summary(problems), err=True)


@app.command()
def check(
    base: Annotated[str | None, typer.Option(
        "--base", help="Also compare with this git revision: versions must increase when content changes.",
        metavar="REV")] = None,
    format: Annotated[CheckFormat, typer.Option(
        "--format", "-f", help="text (path:line:col: message, on stderr), json or github (workflow "
        "annotations ::error file=…,line=…::), on stdout.")] = CheckFormat.text,
) -> None:
    """Validate positions, dossiers, annexes, labels and templates; print every problem."""
    from voceunica.pipeline import check as run_check

    state.format = format

    import gc

    gc.disable()  # a short process: the collector's pass over the loaded project (~65 ms) would free nothing
    project = run_check(state.root, base)
    code = _checked(project.problems, (len(project.positions), len(project.dossiers), len(project.annexes)))
    if code:
        raise typer.Exit(code)


def _checked(problems: list[Problem], counts: tuple[int, int, int]) -> int:
    """What `check` prints, and its exit code."""
    report(problems)
    if any(p.is_error for p in problems):
        return 1
    typer.echo(f"ok: {counts[0]} positions, {counts[1]} dossiers, {counts[2]} annexes", err=True)
    return 0


@app.command()
def build(
    dossiers: Annotated[list[str] | None, typer.Argument(help="Dossier ids (default: all).",
                                                            show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: build/).",
                                                 metavar="DIR")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Parallel workers (default: all cores).",
                                                min=1)] = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even dossiers whose inputs did not change.")] = False,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also make a PDF of every DOCX (needs LibreOffice).")] = False,
) -> None:
    """Build <id>.it.md, <id>.en.md, <id>.it.docx, <id>.en.docx (and <id>.it-en.docx) for each dossier."""
    from voceunica.pipeline import build as run_build

    out = _cwd_path(out) if out is not None else None

    state.dossiers = dossiers or []  # where to say that charts need the charts extra (see main)
    result = run_build(state.root, dossiers or (), out, jobs=jobs, force=force, progress=progress_printer("build"),
                       pdf=pdf)
    if result.note:
        typer.echo(f"note: {result.note}", err=True)
    for path in result.files:
        typer.echo(os.path.relpath(path))
    built = len(result.dossiers) - len(result.skipped)
    typer.echo(f"built {counted(built, 'dossier')}, {len(result.files)} files"
               + (f"; {len(result.skipped)} up to date" if result.skipped else ""), err=True)


def progress_printer(what: str) -> Callable[[int, int, str], None]:
    """A progress bar on a terminal, plain log lines otherwise (CI logs)."""
    tty = sys.stderr.isatty() and os.environ.get("TERM") != "dumb"

    def show(done: int, total: int, label: str) -> None:
        if tty:
            width = 24
            filled = width * done // total
            sys.stderr.write(f"\r{what} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label:<30}")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        else:
            typer.echo(f"{what}: {done}/{total} {label}", err=True)

    return show


@app.command()
def signoff(
    position: Annotated[str, typer.Argument(help="Position id.")],
    region: Annotated[str, typer.Option("--region", help="lombardia or veneto.")],
    by: Annotated[str, typer.Option("--by", help="Name of the person approving.")],
    date: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: today).")] = None,
) -> None:
    """Record a region's approval of a position's current content (edits the YAML in place)."""
    import datetime as dt

    from voceunica.validate import load_project
    from voceunica.yamledit import record_signoff

    try:
        when = dt.date.fromisoformat(date) if date else dt.date.today()
    except ValueError:
        typer.echo(f"voceunica: --date {date!r}: expected YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None
    project = load_project(state.root)
    path, fp = record_signoff(project, position, region, by, when)
    typer.echo(f"{os.path.relpath(path)}: {region} approved {position} ({fp})", err=True)


@app.command("migrate-eu-files")
def migrate_eu_files(
    positions: Annotated[list[str] | None, typer.Argument(help="Position ids (default: all).")] = None,
) -> None:
    """Rewrite positions' inline EU files into references to the catalogue (eu-files/), comments kept."""
    from voceunica.validate import load_project
    from voceunica.yamledit import migrate_eu_files as migrate

    project = load_project(state.root)
    done = migrate(project, positions or [])
    for pid, keys in done.items():
        typer.echo(f"positions/{pid}.yaml: cites the catalogue for {', '.join(keys)} (eu-files/); its content "
                   f"changed, so both regions sign off again (voceunica signoff {pid} --region …)", err=True)
    if not done:
        typer.echo("nothing to migrate: every EU file is a catalogue reference", err=True)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="The new project's folder (new or empty).", metavar="DIR")],
    package: Annotated[str | None, typer.Option(
        "--package", help="What CI and the pre-commit hook install (default: this version, "
        "voceunica[charts]==X.Y.Z), e.g. 'voceunica[charts] @ git+https://github.com/ORG/voceunica@vX.Y.Z'.",
        metavar="SPEC")] = None,
) -> None:
    """Start a content repository: an example position and dossier, CI workflow, pre-commit hook, README."""
    from voceunica.scaffold import PACKAGE, scaffold

    target = _cwd_path(directory)
    files = scaffold(target, shown=str(directory), package=package or PACKAGE)
    for rel in files:
        typer.echo(os.path.relpath(target / rel))
    typer.echo(f"init: {counted(len(files), 'file')} in {directory}; next: cd {directory} && voceunica build",
               err=True)


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for the schema files (default: the "
                                                 "project's schemas/).", metavar="DIR")] = None,
) -> None:
    """Write JSON Schemas for positions, dossiers, annexes and labels (for editors)."""
    from voceunica.schema import write_schemas

    target = _cwd_path(out) if out is not None else state.root / "schemas"
    for path in write_schemas(target):
        typer.echo(os.path.relpath(path))


@app.command()
def release(
    version: Annotated[str, typer.Argument(help="Release version, e.g. 1.0.0.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Releases folder (default: dist/).",
                                                 metavar="DIR")] = None,
    allow_dirty: Annotated[bool, typer.Option("--allow-dirty", help="Release uncommitted changes too.")] = False,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also make a PDF of every DOCX (needs LibreOffice).")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Parallel workers.")] = None,
    site: Annotated[bool, typer.Option("--site", help="Also publish the preview site in VERSION/site/.")] = False,
) -> None:
    """Build every dossier in final mode into DIR/VERSION/, with manifest, changelogs and a zip bundle."""
    from voceunica.release import release as run_release

    out = _cwd_path(out) if out is not None else None

    result = run_release(state.root, version, out, allow_dirty=allow_dirty, pdf=pdf, jobs=jobs,
                         progress=progress_printer("release"), site=site)
    if result.pdf_note:
        typer.echo(f"note: {result.pdf_note}", err=True)
    typer.echo(f"released {version}: {os.path.relpath(result.folder)}/ ({len(result.files)} files), "
               f"{os.path.relpath(result.bundle)}", err=True)


@app.command()
def site(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: site/).",
                                                 metavar="DIR")] = None,
    drafts: Annotated[bool, typer.Option("--drafts", help="Include positions not agreed yet, every page marked "
                                                          "DRAFT (internal previews only).")] = False,
) -> None:
    """Write a static preview site: home, positions and dossiers in both languages, history, releases, search."""
    from voceunica.site.publish import build_site

    result = build_site(state.root, out, drafts=drafts)
    typer.echo(f"{os.path.relpath(result.folder)}/index.html")
    typer.echo(f"site: {counted(result.positions, 'position')}, {counted(result.dossiers, 'dossier')}, "
               f"{len(result.files)} files" + (" (with drafts)" if drafts else ""), err=True)


@app.command()
def verify(
    folder: Annotated[Path, typer.Argument(help="A release folder, e.g. dist/1.0.0.")],
) -> None:
    """Check a release folder against its manifest.json."""
    from voceunica.release import verify as run_verify

    found = run_verify(folder)
    report(found)
    if found:
        raise typer.Exit(1)
    typer.echo(f"ok: {folder} matches its manifest", err=True)


@app.command()
def fourcol(
    key: Annotated[str, typer.Argument(help="The EU file's key in the catalogue (eu-files/KEY.yaml).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="The .docx to write (default: build/KEY.fourcol"
                                                 ".docx); without --lang, FILE.it.docx and FILE.en.docx.",
                                                 metavar="FILE")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="it or en: one file, exactly FILE.")] = None,
) -> None:
    """The negotiators' four-column table of a file in trilogue: Commission | Parliament | Council | Regions."""
    from voceunica.fourcol import build_fourcol

    if lang not in (None, "it", "en"):
        typer.echo(f"voceunica fourcol: --lang {lang!r}: expected it or en (try 'voceunica fourcol --help')", err=True)
        raise typer.Exit(2)
    result = build_fourcol(state.root, key, _cwd_path(out) if out is not None else None,
                           (lang,) if lang else ("it", "en"))
    report(result.warnings)
    for path in result.files:
        typer.echo(os.path.relpath(path))
    typer.echo(f"{key}: {result.rows} amended provision(s), {len(result.files)} file(s)", err=True)


class Audience(StrEnum):
    commission = "commission"
    parliament = "parliament"
    council = "council"
    cor = "cor"


@app.command("brief")
def audience_brief(
    dossier: Annotated[str, typer.Argument(help="Dossier id.")],
    audience: Annotated[Audience, typer.Option("--audience", help="The institution the brief is for.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: build/).",
                                                 metavar="DIR")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write the PDF of each DOCX (needs LibreOffice).")] = False,
) -> None:
    """A one-page brief per language: the dossier's asks (at most three) for one institution."""
    from voceunica.audience import build_brief

    result = build_brief(state.root, dossier, audience.value, _cwd_path(out) if out is not None else None, pdf=pdf)
    report(result.warnings)
    for path in result.files:
        typer.echo(os.path.relpath(path))
    shown = ", ".join(f"{lang} {what}" for lang, what in result.pages.items())
    typer.echo(f"brief {dossier} for the {audience.value}: {result.asks} ask(s); {shown}", err=True)


@app.command()
def glossary(
    tbx: Annotated[Path | None, typer.Option("--tbx", help="Export the glossary as TBX (TBX-Basic) to FILE.",
                                                metavar="FILE")] = None,
) -> None:
    """The shared glossary (glossary.yaml): its terms, or with --tbx a TBX file for CAT tools."""
    from voceunica.glossary import require_glossary, to_tbx
    from voceunica.write import atomic_write

    found = require_glossary(state.root)
    if tbx is None:
        for term in found.glossary.terms:
            typer.echo(f"{term.it} = {term.en}" + (f"  (IATE {term.iate})" if term.iate else ""))
        return
    target = tbx if tbx.is_absolute() else Path.cwd() / tbx
    atomic_write(target, to_tbx(found))
    typer.echo(f"{os.path.relpath(target)}: {len(found.glossary.terms)} terms", err=True)


@app.command()
def kpi(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: build/).",
                                                 metavar="DIR")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also make a PDF of each DOCX (needs LibreOffice).")] = False,
) -> None:
    """The pact's KPI scoreboard: scoreboard.it/en.md and .docx, a trend chart per KPI."""
    from voceunica.kpireport import build_scoreboard

    result = build_scoreboard(state.root, out, pdf=pdf)
    if result.note:
        typer.echo(f"note: {result.note}", err=True)
    for path in result.files:
        typer.echo(os.path.relpath(path))
    moved = f", moves {result.releases[0]} → {result.releases[1]}" if result.releases else ""
    typer.echo(f"scoreboard as of {result.date.isoformat()}{moved}: {len(result.files)} files", err=True)


class DiffFormat(StrEnum):
    text = "text"
    md = "md"
    json = "json"


def _project_at(rev: str | None, *, strict: bool) -> Project:
    """The project at a git revision, or the working tree when `rev` is None.

    strict: its errors stop the command; otherwise they are shown as warnings
    (a diff still shows what could be read)."""
    from voceunica.gitrev import project_at
    from voceunica.validate import load_project

    project = load_project(state.root) if rev is None else project_at(state.root, rev)
    if project.errors:
        shown = [Problem(p.path if rev is None else f"{p.path} (at {rev})", p.line, p.col, p.message)
                 for p in project.errors]
        if strict:
            raise VoceunicaError(shown)
        for p in shown:
            typer.echo(f"{_shown(p)} (left out of the diff)", err=True)
    return project


@app.command()
def diff(
    base: Annotated[str, typer.Argument(help="Git revision to compare from.")],
    head: Annotated[str | None, typer.Argument(help="Git revision to compare to (default: working tree).",
                                                  show_default=False)] = None,
    format: Annotated[DiffFormat, typer.Option("--format", "-f", help="text (terminal), md (pull request), "
                                               "json (machines).")] = DiffFormat.text,
    color: Annotated[bool | None, typer.Option("--color/--no-color", help="Colour (default: on a terminal).",
                                                  show_default=False)] = None,
) -> None:
    """Semantic diff of positions, dossiers and annexes between two revisions."""
    from voceunica.diff import diff_projects, to_json, to_markdown, to_terminal

    d = diff_projects(_project_at(base, strict=False), _project_at(head, strict=False))
    if format is DiffFormat.json:
        typer.echo(to_json(d), nl=False)
    elif format is DiffFormat.md:
        typer.echo(to_markdown(d), nl=False)
    else:
        use_color = sys.stdout.isatty() and not os.environ.get("NO_COLOR") if color is None else color
        typer.echo(to_terminal(d, use_color), nl=False)


@app.command()
def redline(
    dossier: Annotated[str, typer.Argument(help="Dossier id.")],
    base: Annotated[str, typer.Argument(help="Git revision of the old text.")],
    head: Annotated[str | None, typer.Argument(help="Git revision of the new text (default: working tree).",
                                                  show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="The .docx file to write.", metavar="FILE")] = Path(
        "redline.docx"),
    lang: Annotated[str, typer.Option("--lang", help="it or en.")] = "it",
    author: Annotated[str, typer.Option("--author", help="Author of the tracked changes.")] = "voceunica",
) -> None:
    """The dossier as Word, with tracked changes (author, date) from BASE to HEAD."""
    from voceunica.pipeline import redline as run_redline

    if lang not in ("it", "en"):
        typer.echo(f"voceunica: --lang {lang!r}: expected it or en", err=True)
        raise typer.Exit(2)
    target = out if out.is_absolute() else Path.cwd() / out
    changes = run_redline(_project_at(base, strict=True), _project_at(head, strict=True), dossier, lang, target,
                          author=author, label=f"{base} → {head or 'working tree'}")
    typer.echo(f"{os.path.relpath(target)}: {changes} tracked change(s) from {base} to {head or 'working tree'}",
               err=True)


i18n = typer.Typer(help="Translation status and freshness.", no_args_is_help=True, context_settings=HELP)
app.add_typer(i18n, name="i18n")


@i18n.command("status")
def i18n_status(
    position: Annotated[list[str] | None, typer.Argument(help="Position ids (default: all).")] = None,
) -> None:
    """Per position and field: translated, missing or outdated, with totals."""
    from voceunica.fingerprint import target_language, translation_status
    from voceunica.validate import load_project

    project = load_project(state.root)
    totals = {"translated": 0, "missing": 0, "outdated": 0}
    for pid in position or sorted(project.positions):
        pos = project.positions.get(pid)
        if pos is None:
            typer.echo(f"{pid}: no such position (or it has errors: run check)", err=True)
            raise typer.Exit(1)
        states = translation_status(pos)
        counts = {k: sum(s.state == k for s in states) for k in totals}
        for k in totals:
            totals[k] += counts[k]
        target = target_language(pos)
        typer.echo(f"{pid} ({pos.source_language} → {target}): " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        for s in states:
            if s.state != "translated":
                typer.echo(f"  {s.state:<10} {s.field}")
    typer.echo("total: " + ", ".join(f"{v} {k}" for k, v in totals.items()))
    if totals["missing"] or totals["outdated"]:
        raise typer.Exit(1)


@i18n.command("mark")
def i18n_mark(
    position: Annotated[str, typer.Argument(help="Position id.")],
    field: Annotated[list[str] | None, typer.Option("--field", help="Only this field (repeatable).")] = None,
) -> None:
    """Declare a position's translation current (after updating it)."""
    from voceunica.validate import load_project
    from voceunica.yamledit import mark_translated

    project = load_project(state.root)
    path, changed = mark_translated(project, position, field)
    typer.echo(f"{os.path.relpath(path)}: {len(changed)} field(s) marked translated", err=True)


@i18n.command("export")
def i18n_export(
    position: Annotated[list[str] | None, typer.Argument(help="Position ids (default: all).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="The XLIFF file to write.", metavar="FILE")] = Path(
        "voceunica.xlf"),
) -> None:
    """Write the texts to translate as XLIFF 1.2, for Trados, memoQ or OmegaT."""
    from voceunica.validate import load_project
    from voceunica.write import atomic_write
    from voceunica.xliff import export_xliff

    project = load_project(state.root)
    data = export_xliff(project, position or None)
    target = out if out.is_absolute() else Path.cwd() / out
    atomic_write(target, data)
    typer.echo(f"{os.path.relpath(target)}: {data.count(b'<trans-unit ')} units from "
               f"{len(position or project.positions)} position(s)", err=True)


@i18n.command("tmx")
def i18n_tmx(
    out: Annotated[Path, typer.Argument(help="The TMX file to write.", metavar="FILE")],
) -> None:
    """Write every aligned IT/EN text (current translations, dossiers, annexes) as a TMX 1.4b memory."""
    from voceunica.tmx import export_tmx
    from voceunica.validate import load_project
    from voceunica.write import atomic_write

    data = export_tmx(load_project(state.root))
    target = out if out.is_absolute() else Path.cwd() / out
    atomic_write(target, data)
    typer.echo(f"{os.path.relpath(target)}: {data.count(b'<tu ')} aligned texts", err=True)


@i18n.command("import")
def i18n_import(
    file: Annotated[Path, typer.Argument(help="An XLIFF file exported by `i18n export` and translated.")],
) -> None:
    """Write confirmed translations from an XLIFF file back into the positions, marked current."""
    from voceunica.errors import VoceunicaError, problem
    from voceunica.validate import load_project
    from voceunica.xliff import import_xliff

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise VoceunicaError(problem(str(file), 1, 1, f"cannot read file: {exc.strerror}")) from None
    project = load_project(state.root)
    done = import_xliff(project, data, str(file.resolve()))
    for item in done:
        typer.echo(f"{item.position}: {', '.join(item.fields)}")
    typer.echo(f"imported {sum(len(i.fields) for i in done)} field(s) into {len(done)} position(s); "
               "changed texts need new sign-offs", err=True)


def _unchanged(args: list[str]) -> int | None:
    """`[-C DIR] check` and `[-C DIR] build [ID ...]` when nothing changed since the last run:
    the stored verdict (voceunica.checkcache), answered before Typer parses anything — Typer
    builds a pydantic adapter per option, which costs more than the whole answer.  None for
    anything else, or when something changed: Typer runs the command as usual."""
    root = Path(".")
    if len(args) >= 2 and args[0] in ("-C", "--directory"):
        root, args = Path(args[1]), args[2:]
    if args[:1] == ["build"]:  # the number of workers changes nothing when nothing is built
        rest, args = args[1:], args[:1]
        while rest:
            jobs, rest = (rest[1:2], rest[2:]) if rest[0] in ("-j", "--jobs") else \
                ([rest[0].removeprefix("--jobs=")], rest[1:]) if rest[0].startswith("--jobs=") else ([], rest)
            if not jobs and rest:
                args, rest = args + rest[:1], rest[1:]
            elif not (jobs and jobs[0].isdigit() and int(jobs[0]) >= 1):
                return None  # Typer says what is wrong with it
    if not args or args[0] not in ("check", "build") or any(a.startswith("-") for a in args[1:]) \
            or (args[0] == "check" and len(args) > 1) or not root.is_dir():
        return None
    from voceunica.checkcache import fresh_build, verdict
    from voceunica.write import recover

    state.root = root
    recover(root)  # as main_options does before every command
    if args[0] == "check":
        found = verdict(root)
        return None if found is None else _checked(found.problems, found.counts)
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()  # as pipeline.source_date_epoch reads it
    fresh = fresh_build(root, args[1:], None, force=False, pdf=False, epoch=int(epoch) if epoch.isdigit() else None)
    if fresh is None:
        return None
    typer.echo(f"built 0 dossiers, 0 files; {len(fresh)} up to date", err=True)
    return 0


def main() -> None:
    try:
        code = _unchanged(sys.argv[1:])
        if code is None:
            code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except VoceunicaError as exc:
        report(exc.problems)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # usage errors and the unexpected
        if isinstance(exc, ModuleNotFoundError) and (exc.name or "").partition(".")[0] == "matplotlib":
            # the charts extra is not installed: say so at the dossier that needs it
            from voceunica.pipeline import charts_missing

            report([charts_missing(state.root, state.dossiers)])
            sys.exit(1)
        if _is_click_exception(exc):
            # One line, like every other diagnostic: the message and where help is.
            ctx = getattr(exc, "ctx", None)
            where = ctx.command_path if ctx is not None else "voceunica"
            message = exc.format_message()
            if message:  # (no command at all: typer has shown the help, which is the answer)
                typer.echo(f"{where}: {message} (try '{where} --help')", err=True)
            sys.exit(exc.exit_code)
        if os.environ.get("VOCEUNICA_DEBUG"):
            raise
        typer.echo(f"voceunica: internal error: {type(exc).__name__}: {exc}\n"
                   "(this is a bug in voceunica; run with VOCEUNICA_DEBUG=1 for details)", err=True)
        sys.exit(2)


class _ClickException(Protocol):
    """What we use of click's ClickException (see below why it is not imported)."""

    exit_code: int

    def format_message(self) -> str: ...


def _is_click_exception(exc: BaseException) -> TypeGuard[_ClickException]:
    """Usage errors come from click's ClickException, which typer >= 0.16 vendors
    as typer._click and older typer imports from click: recognise it by name
    rather than import either (a missing click once turned every usage error
    into a traceback)."""
    return any(cls.__name__ == "ClickException" for cls in type(exc).__mro__)
