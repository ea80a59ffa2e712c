"""Stage 2 — validate: typed models and cross-references, every problem collected.

`load_project(root)` reads every position, dossier, annex and the labels,
validates each against the content model, checks that what refers to
something finds it, and returns a `Project` with *all* problems found, each
at its file:line:col.  It never raises for bad input and never stops at the
first problem.
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import os
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar
from collections.abc import Iterator

from pydantic import BaseModel, ValidationError

from voceunica import __version__, defaults, textrules
from voceunica.textrules import FOOTNOTE_REF
from voceunica.errors import Problem, VoceunicaError, problem
from voceunica.load import (
    MAX_BINARY_BYTES, Loaded, SourceMap, Table, folder_refusal, read_csv, read_project_file, read_yaml, refusal,
    parse_yaml,
)
from voceunica.messages import dotted as _dotted
from voceunica.messages import problem_from as _problem_from
from voceunica.model import BINDING_STATUSES, KPI_FORMAT, Column, Kpi
from voceunica.regions import REGIONS
from voceunica.project import AnnexData, Cell, Project
from voceunica.model import (
    ADOPTED_ACTS,
    iter_texts,
    ANNEX_FORMAT, DOSSIER_FORMAT, EU_FILE_FORMAT, LABELS_FORMAT, POSITION_FORMAT,
    Annex, Dossier, EUFileRecord, Labels, Position,
)
from voceunica import eufiles

M = TypeVar("M", bound=BaseModel)
Item = TypeVar("Item", Position, Annex, Dossier, EUFileRecord, Kpi)  # the models kept one to a file, named by their id

FORMATS = {Position: POSITION_FORMAT, Dossier: DOSSIER_FORMAT, Annex: ANNEX_FORMAT, Labels: LABELS_FORMAT,
           EUFileRecord: EU_FILE_FORMAT}
FORMATS[Kpi] = KPI_FORMAT  # kpis/<id>.yaml (voceunica.kpi)

# Labels the Markdown template prints; labels.yaml must define each.  (Those the Word
# writer prints are required where Word files are composed: pipeline.output_problems, with
# the words of the release notes.)
REQUIRED_LABELS = (
    "doctype.position-paper", "doctype.joint-agenda", "doctype.briefing",
    "status.draft", "status.agreed", "status.adopted", "status.withdrawn",
    "key_messages", "annexes", "amendments", "amendment", "commission_text",
    "justification", "table", "figure", "source", "illustrative", "licence",
    "audience", "position", "not_available", "chart.bar", "chart.line", "dateline_place",
    *(f"region.{r}" for r in REGIONS), *(f"act.{a}" for a in ADOPTED_ACTS),
    *eufiles.LABELS,
)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Loading makes hundreds of thousands of small objects and no garbage
    cycles; the cyclic collector, run again and again over them, took 40 % of
    `check` on a large project.  Paused for the load, restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_project(root: Path) -> Project:
    with gc_paused():
        return _load_project(root)


def _load_project(root: Path) -> Project:
    root = root.resolve()
    project = Project(root)
    out = project.problems
    for sub in ("positions", "dossiers", "templates"):
        if sub == "templates" and not os.path.lexists(root / sub) and defaults.templates_dir() is not None:
            continue  # voceunica's default templates serve (a project overrides them file by file)
        if not (root / sub).is_dir():
            out.append(problem(sub + "/", 1, 1, f"not a voceunica project: '{sub}/' is missing in {root}"))
        elif (why := folder_refusal(root, root / sub)) is not None:
            out.append(problem(sub + "/", 1, 1, why))
    if out:
        return project

    def shown(path: Path) -> str:
        return shown_path(path.relative_to(root).as_posix())

    raw_ids: dict[str, set[str]] = {"position": set(), "dossier": set(), "annex": set(), "kpi": set(), "eu-file": set()}

    def load_all(kind: str, folder: Path, model: type[Item]) -> list[tuple[Item, Loaded, Path]]:
        result = []
        seen: dict[str, str] = {}
        # Listing a folder opens none of its files: a FIFO or a link found here is refused when read.
        for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
            if shown(path) != path.relative_to(root).as_posix():
                out.append(problem(shown(path), 1, 1, "the file name holds a control character: rename the file"))
                continue
            loaded, problems = read_yaml(path, shown(path), root=root)
            out.extend(problems)
            if loaded is None:
                raw_ids[kind].add(path.stem)
                continue
            data = loaded.data
            field = "key" if model is EUFileRecord else "id"
            if isinstance(data, dict) and isinstance(data.get(field), str):
                raw_ids[kind].add(data[field])
            obj = validate_model(model, loaded, out)
            if obj is None:
                continue
            ident = obj.key if isinstance(obj, EUFileRecord) else obj.id
            if ident != path.stem:
                out.append(loaded.source.problem((field,), f"{field} '{ident}' does not match the file name "
                                                 f"'{path.name}' (expected '{path.stem}')"))
            if ident in seen:
                out.append(loaded.source.problem((field,), f"{kind} {field} '{ident}' is already used by "
                                                 f"{seen[ident]}"))
                continue
            seen[ident] = shown(path)
            project.sources[f"{kind}:{ident}"] = loaded.source
            project.files[f"{kind}:{ident}"] = path
            result.append((obj, loaded, path))
        return result

    catalogue_dir = root / eufiles.FOLDER
    if catalogue_dir.is_dir() and (why := folder_refusal(root, catalogue_dir)) is not None:
        out.append(problem(eufiles.FOLDER + "/", 1, 1, why))
    elif catalogue_dir.is_dir():
        for rec, loaded, _ in load_all("eu-file", catalogue_dir, EUFileRecord):
            project.catalogue[rec.key] = rec
            check_texts(rec, loaded.source, out)
            out.extend(eufiles.record_problems(rec, loaded.source))
    for pos, loaded, _ in load_all("position", root / "positions", Position):
        project.positions[pos.id] = pos
        check_position(pos, loaded.source, out)
    out.extend(eufiles.position_problems(project, eufiles.as_of()))
    annex_dir = root / "dossiers" / "annexes"
    if annex_dir.is_dir() and (why := folder_refusal(root, annex_dir)) is not None:
        out.append(problem("dossiers/annexes/", 1, 1, why))
    elif annex_dir.is_dir():
        for meta, loaded, path in load_all("annex", annex_dir, Annex):
            data = check_annex(meta, loaded.source, path.with_suffix(".csv"), shown(path.with_suffix(".csv")), out,
                               root=root)
            if data is not None:
                project.annexes[meta.id] = data
    kpi_dir = root / "kpis"  # optional: the pact's KPIs (voceunica.kpi)
    if kpi_dir.is_dir() and (why := folder_refusal(root, kpi_dir)) is not None:
        out.append(problem("kpis/", 1, 1, why))
    elif kpi_dir.is_dir():
        from voceunica.kpi import load_kpis

        project.kpis = load_kpis(root, kpi_dir, "kpis", load_all("kpi", kpi_dir, Kpi), out)
    for dossier, loaded, _ in load_all("dossier", root / "dossiers", Dossier):
        project.dossiers[dossier.id] = dossier
        check_dossier(dossier, loaded.source, project, raw_ids, out)

    labels_path = root / "templates" / "labels.yaml"
    default_labels = None if project.own_template("labels.yaml") else defaults.read("labels.yaml")
    if default_labels is not None:  # trusted: read as it is, outside the project's reader
        labels_file, problems = parse_yaml(default_labels, "templates/labels.yaml")
    else:
        labels_file, problems = read_yaml(labels_path, shown(labels_path), root=root)
    out.extend(problems)
    if labels_file is not None:
        labels = validate_model(Labels, labels_file, out)
        if labels is not None:
            check_texts(labels, labels_file.source, out)
            project.labels = dict(labels.labels)
            project.sources["labels"] = labels_file.source
            missing = [k for k in REQUIRED_LABELS if k not in labels.labels]
            for k in missing:
                out.append(labels_file.source.problem(("labels",), f"missing label '{k}' (the templates print it)"))
    check_templates(project, out)
    project.problems[:] = sorted(set(out))
    return project


# A file name is printed at the start of a problem line: a newline in it could print a
# forged 'positions/x.yaml:9:9: ...' line, a bidi control could reorder what is seen.
_NAME_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def shown_path(rel: str) -> str:
    """A project-relative path as printed: control characters written as escapes."""
    if not _NAME_CONTROL.search(rel):
        return rel
    return _NAME_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", rel)


# --- templates -----------------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")


def template_refusal(root: Path, name: str) -> str | None:
    """Why the template a dossier names is not a file inside templates/, or None."""
    shown = repr(name) if _NAME_CONTROL.search(name) else f"'{name}'"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return f"{shown} is an absolute path; name a file inside templates/"
    if "\\" in name or _NAME_CONTROL.search(name):
        return f"{shown}: write the name with '/' between folders and no control characters"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return f"{shown} is not a plain path inside templates/ (no '..', '.' or empty parts)"
    why = refusal(root / "templates", root / "templates" / name)
    if why is None:
        return None
    if not os.path.lexists(root.joinpath("templates", *name.split("/"))) and defaults.read(name) is not None:
        return None  # voceunica's default
    if why.startswith("cannot read file: it does not exist"):
        return f"no file templates/{name}"
    return f"templates/{name}: {why.replace('outside the project', 'outside templates/')}"


def check_templates(project: Project, out: list[Problem]) -> None:
    """Every file under templates/ must be one voceunica would read, and every
    template (*.j2, and any file a dossier names) must compile: a syntax error
    is reported at its line by `check` (pipeline.check compiles what this gathers),
    not by the first `build` that meets it."""
    folder = project.root / "templates"
    named = {d.template for d in project.dossiers.values() if template_refusal(project.root, d.template) is None}
    sources: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(folder):  # does not descend into linked folders
        dirnames.sort()
        for name in sorted(filenames) + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            path = Path(dirpath, name)
            rel = path.relative_to(folder).as_posix()
            shown = "templates/" + shown_path(rel)
            if shown != "templates/" + rel:
                out.append(problem(shown, 1, 1, "the file name holds a control character: rename the file"))
                continue
            is_template = rel.endswith(".j2") or rel in named
            if os.path.isdir(path):  # a linked folder: fine while it stays inside
                why = folder_refusal(folder, path)
                if why is not None:
                    out.append(problem(shown, 1, 1, why.replace("outside the project", "outside templates/")))
                continue
            why = refusal(folder if is_template else project.root, path, limit=MAX_BINARY_BYTES)
            if why is not None:
                if is_template:
                    why = why.replace("outside the project", "outside templates/")
                out.append(problem(shown, 1, 1, why))
            elif is_template:
                try:
                    sources[rel] = read_project_file(folder, path, shown)
                except VoceunicaError as exc:
                    out.extend(exc.problems)
    project.templates = sources  # compiled by pipeline.check: validation does not import the render stage
    out.extend(overrides(project))


def overrides(project: Project) -> list[Problem]:
    """A note at each file of the project's templates/ that replaces one of voceunica's defaults with
    other bytes: the project no longer follows that default when voceunica is upgraded.  None when the
    project's templates/ is the defaults' own source (this repository, installed editable)."""
    own = project.root / "templates"
    if project.template_dirs() == [own]:
        return []
    out = []
    for name in defaults.names():
        path = own.joinpath(*name.split("/"))
        if not path.is_file() or path.is_symlink():
            continue
        try:
            differs = read_project_file(project.root, path, f"templates/{name}", limit=MAX_BINARY_BYTES) \
                != defaults.read(name)
        except VoceunicaError:
            continue  # check_templates said why
        if differs:
            out.append(problem(f"templates/{name}", 1, 1, f"overrides voceunica {__version__}'s default "
                               "(delete the file to follow the default)", note=True))
    return out


# --- pydantic errors → problems -------------------------------------------------

def validate_model(model: type[M], loaded: Loaded, out: list[Problem]) -> M | None:
    source = loaded.source
    data = loaded.data
    if not isinstance(data, dict):
        out.append(source.problem((), "expected a mapping of fields at the top level"))
        return None
    fmt = data.get("format")
    expected = FORMATS[model]
    if "format" in data and fmt != expected:
        out.append(source.problem(("format",), _format_message(fmt, expected)))
        return None
    # A value the loader could not read is already reported where it stands; the
    # model would only add "expected text, got nothing" at the same place.
    reported = {(p.path, p.line, p.col) for p in out if p.path == source.path}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            found = _problem_from(err, model, source, data)
            if (found.path, found.line, found.col) not in reported:
                out.append(found)
        return None


def _format_message(fmt: Any, expected: str) -> str:
    kind, _, version = expected.partition("@")
    if isinstance(fmt, str) and fmt.startswith(kind + "@"):
        theirs = fmt.partition("@")[2]
        if theirs.isdigit() and int(theirs) > int(version):
            return (f"this file is in format '{fmt}', newer than this voceunica reads ('{expected}'): "
                    "upgrade voceunica")
    return f"unknown format {fmt!r}: expected '{expected}'"


# --- texts -------------------------------------------------------------------------

_HEADING = re.compile(r"^ {0,3}#{1,6}(\s|$)", re.M)
# A line of '=' or '-' right under text turns that text into a (setext) heading.
_SETEXT = re.compile(r"^(?![ \t]*(?:[-*+>|]|\d+[.)])(?:\s|$))[ \t]*\S.*\n {0,3}(=+|-+)[ \t]*$", re.M)


def _text_problem(source: SourceMap, loc: tuple[str | int, ...], text: str, index: int, message: str,
                  *, warning: bool = False) -> Problem:
    offset = text.count("\n", 0, index)
    line, col = source.text_line(loc, offset)
    return problem(source.path, line, col, message, warning=warning)


def check_markdown_text(source: SourceMap, loc: tuple[str | int, ...], text: str, out: list[Problem]) -> None:
    """The Markdown and link rules of `textrules`, at the text's own file and line.
    (Characters are checked on every string as it is loaded.)"""
    for index, message, warning in textrules.markdown_findings(text):
        out.append(_text_problem(source, loc, text, index, f"{_dotted(loc)}: {message}", warning=warning))
    for index, message, warning in textrules.link_findings(text):
        out.append(_text_problem(source, loc, text, index, f"{_dotted(loc)}: {message}", warning=warning))


def check_texts(model: Any, source: SourceMap, out: list[Problem]) -> None:
    for loc, _, text in iter_texts(model):
        check_markdown_text(source, loc, text, out)


def check_position(pos: Position, source: SourceMap, out: list[Problem]) -> None:
    keys: dict[str, tuple[str | int, ...]] = {}
    for group in ("eu_files", "notes"):
        for i, item in enumerate(getattr(pos, group)):
            key = item if isinstance(item, str) else item.key  # a catalogue reference is its key
            at: tuple[str | int, ...] = (group, i) if isinstance(item, str) else (group, i, "key")
            if key in keys:
                out.append(source.problem(at, f"footnote key '{key}' is defined twice"))
            keys[key] = at
    used: set[str] = set()
    for loc, _lang, text in iter_texts(pos):
        check_markdown_text(source, loc, text, out)
        # Each pattern runs only on texts holding its telltale character: a large
        # project has tens of thousands of texts and `check` must stay fast.
        for m in (_HEADING.finditer(text) if "#" in text else ()):
            where = "a section" if loc[0] == "sections" else "this text"
            out.append(_text_problem(source, loc, text, m.start(),
                                     f"{_dotted(loc)}: headings inside {where} are not allowed; "
                                     + ("add a section instead" if loc[0] == "sections" else "the layout gives them")))
        for m in (_SETEXT.finditer(text) if "\n" in text and ("-" in text or "=" in text) else ()):
            out.append(_text_problem(source, loc, text, m.start(1) if m.start(1) >= 0 else m.start(),
                                     f"{_dotted(loc)}: a line of '{m.group(1)[0]}' right under text makes that text "
                                     "a heading; leave a blank line before it (a rule) or remove it"))
        refs = list(FOOTNOTE_REF.finditer(text)) if "[^" in text else []
        if refs and loc[0] in ("notes", "eu_files"):
            out.append(_text_problem(source, loc, text, refs[0].start(),
                                     f"{_dotted(loc)}: a note cannot cite another note ([^{refs[0].group(1)}])"))
        for m in refs:
            key = m.group(1)
            used.add(key)
            if key not in keys:
                close = difflib.get_close_matches(key, list(keys), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                out.append(_text_problem(source, loc, text, m.start(),
                                         f"{_dotted(loc)}: footnote [^{key}] is not defined in 'eu_files' "
                                         f"or 'notes'{hint}"))
    eu_keys = set(eufiles.entry_keys(pos))
    for i, ask in enumerate(pos.asks):
        if ask.eu_file and ask.eu_file not in eu_keys:
            out.append(source.problem(("asks", i, "eu_file"), f"asks[{i}].eu_file: no EU file with key "
                                      f"'{ask.eu_file}' in this position"))
    for i, am in enumerate(pos.amendments):
        if am.eu_file not in eu_keys:
            out.append(source.problem(("amendments", i, "eu_file"), f"amendments[{i}].eu_file: no EU file "
                                      f"with key '{am.eu_file}' in this position"))
        for loc, _lang, text in iter_texts(am.commission, ("amendments", i, "commission")):
            for index, message, warning in textrules.commission_findings(text):
                out.append(_text_problem(source, loc, text, index, f"{_dotted(loc)}: {message}", warning=warning))
    for i, note in enumerate(pos.notes):
        if note.key not in used:
            out.append(source.problem(("notes", i, "key"), f"note '{note.key}' is never cited", warning=True))


def check_dossier(dossier: Dossier, source: SourceMap, project: Project, raw_ids: dict[str, set[str]],
                  out: list[Problem]) -> None:
    check_texts(dossier, source, out)
    def missing(kind: str, ident: str, loc: tuple[str | int, ...]) -> None:
        if ident in raw_ids[kind]:
            return  # it exists but has its own problems, reported there
        names = list(project.positions if kind == "position" else project.annexes)
        close = difflib.get_close_matches(ident, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        out.append(source.problem(loc, f"{_dotted(loc)}: no {kind} '{ident}'{hint}"))

    for group, kind in (("positions", "position"), ("annexes", "annex")):
        seen = set()
        for i, ident in enumerate(getattr(dossier, group)):
            if ident in seen:
                out.append(source.problem((group, i), f"{group}[{i}]: '{ident}' is listed twice"))
            seen.add(ident)
            pool = project.positions if kind == "position" else project.annexes
            if ident not in pool:
                missing(kind, ident, (group, i))
    for i, ref in enumerate(dossier.addresses):
        pos_id, sep, key = ref.partition("/")
        loc = ("addresses", i)
        if not sep or not key:
            out.append(source.problem(loc, f"addresses[{i}]: expected 'position-id/eu-file-key', got {ref!r}"))
            continue
        if pos_id not in dossier.positions:
            out.append(source.problem(loc, f"addresses[{i}]: position '{pos_id}' is not in this dossier's "
                                      "'positions'"))
            continue
        pos = project.positions.get(pos_id)
        if pos is not None and key not in eufiles.entry_keys(pos):
            out.append(source.problem(loc, f"addresses[{i}]: position '{pos_id}' has no EU file '{key}'"))
    why = template_refusal(project.root, dossier.template)
    if why is not None:
        out.append(source.problem(("template",), f"template: {why}"))
    agreed = all(p in project.positions and project.positions[p].status in BINDING_STATUSES for p in dossier.positions)
    for i, ident in enumerate(dossier.annexes):
        annex = project.annexes.get(ident)
        if agreed and annex is not None and annex.meta.illustrative:
            out.append(source.problem(("annexes", i), (
                f"annexes[{i}]: annex '{ident}' is illustrative ({annex.source.path}) and every position of this "
                "dossier is agreed: an agreed paper carries official figures only; take the annex out")))
    regions = [a.region for a in dossier.authors]
    for i, r in enumerate(regions):
        if r in regions[:i]:
            out.append(source.problem(("authors", i, "region"), f"authors[{i}]: region '{r}' is listed twice"))


# --- annexes -----------------------------------------------------------------------

NUMERIC = ("integer", "decimal", "percent", "year")


def check_annex(meta: Annex, source: SourceMap, csv_path: Path, shown: str, out: list[Problem], *,
                root: Path | None = None) -> AnnexData | None:
    check_texts(meta, source, out)
    names = [c.name for c in meta.columns]
    for i, n in enumerate(names):
        if n in names[:i]:
            out.append(source.problem(("columns", i, "name"), f"columns[{i}]: column '{n}' is defined twice"))
    if meta.chart is not None:
        for field_, values in (("x", [meta.chart.x]), ("y", meta.chart.y)):
            for j, v in enumerate(values):
                loc = ("chart", field_) if field_ == "x" else ("chart", "y", j)
                col = next((c for c in meta.columns if c.name == v), None)
                if col is None:
                    out.append(source.problem(loc, f"chart.{field_}: no column '{v}'"))
                elif field_ == "y" and col.type not in ("integer", "decimal", "percent"):
                    out.append(source.problem(loc, f"chart.y: column '{v}' is not numeric"))
    if not os.path.lexists(csv_path):  # anything else there, even a FIFO, is for read_csv to refuse
        out.append(source.problem(("id",), f"the data file {shown} is missing"))
        return None
    table, problems = read_csv(csv_path, shown, root=root)
    out.extend(problems)
    if table is None:
        return None
    if table.header != names:
        extra = [h for h in table.header if h not in names]
        absent = [n for n in names if n not in table.header]
        detail = []
        if extra:
            detail.append(f"not in the metadata: {', '.join(extra)}")
        if absent:
            detail.append(f"missing: {', '.join(absent)}")
        if not detail:
            detail.append(f"order differs from the metadata ({', '.join(names)})")
        out.append(problem(shown, 1, 1, f"CSV header does not match the columns of {source.path}: "
                                        + "; ".join(detail)))
        return None
    rows = typed_rows(meta.columns, table, out)
    return AnnexData(meta, rows, source, shown)


def typed_rows(spec: list[Column], table: Table, out: list[Problem]) -> list[list[Cell]]:
    """A CSV table's rows as typed cells: the one home of cell parsing (annexes, KPI observations)."""
    width = len(spec)
    good: list[tuple[int, list[str]]] = []  # (line, fields as written)
    for line, record in table.rows:
        if len(record) != width:
            out.append(problem(table.path, line, 1, f"row has {len(record)} fields, the header has {width}"))
            continue
        good.append((line, record))
    by_column = list(zip(*(record for _, record in good), strict=True)) or [() for _ in spec]
    columns: list[list[Cell]] = []
    for i, column in enumerate(spec):
        values = list(map(str.strip, by_column[i]))
        fast = _FAST.get(column.type)
        # Annexes run to tens of thousands of rows: a column of clean numbers is checked
        # by one match over the whole column and converted in one pass; only a column
        # with a problem is walked cell by cell to say where.
        if fast is not None and values:
            joined = "\n".join(values)
            if joined.count("\n") == len(values) - 1 and fast[0].fullmatch(joined):
                columns.append(list(map(fast[1], values)))
                continue
        cells = []
        for line, raw in good:
            col = 1 + sum(len(v) + 1 for v in raw[:i])  # where the field starts as written
            cells.append(_cell(column, raw[i].strip(), table.path, line, col, out))
        columns.append(cells)
    return list(map(list, zip(*columns, strict=True))) if columns else []


# ASCII digits only (\d would take any script's digits), and a bounded length:
# int() refuses more than 4 300 digits, and no statistic has 30.
_INTEGER = re.compile(r"-?[0-9]{1,30}")
_DECIMAL = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?")
_INTEGERS = re.compile(rf"{_INTEGER.pattern}(?:\n{_INTEGER.pattern})*")
_DECIMALS = re.compile(rf"{_DECIMAL.pattern}(?:\n{_DECIMAL.pattern})*")
_FAST: dict[str, tuple[re.Pattern[str], Any]] = {  # column type -> (clean values, one a line; converter)
    "integer": (_INTEGERS, int),
    "year": (_INTEGERS, int),
    "decimal": (_DECIMALS, Decimal),
    "percent": (_DECIMALS, Decimal),
}


def _cell(column: Any, value: str, path: str, line: int, col: int, out: list[Problem]) -> Cell:
    shown = value if len(value) <= 40 else value[:37] + "..."

    def bad(msg: str) -> None:
        out.append(problem(path, line, col, f"column '{column.name}': {msg}"))

    if value == "":
        if column.type in ("category", "year"):
            bad("must not be empty")
        return None
    # A text cell is inline Markdown in a table: the same rules as any text.
    findings = (list(textrules.char_findings(value)) + list(textrules.link_findings(value))
                + list(textrules.markdown_findings(value)))
    for index, message, warning in findings:
        out.append(problem(path, line, col + index, f"column '{column.name}': {message}", warning=warning))
    if any(not warning for _, _, warning in findings):
        return None
    if column.type == "text":
        return value
    if column.type == "category":
        if value not in (column.categories or {}):
            bad(f"{value!r} is not one of its categories ({', '.join(column.categories or {})})")
            return None
        return value
    if column.type in ("integer", "year"):
        if not _INTEGER.fullmatch(value):
            bad(f"expected a whole number, got {shown!r} (no thousands separators)")
            return None
        return int(value)
    try:
        if not _DECIMAL.fullmatch(value):
            raise InvalidOperation
        return Decimal(value)
    except InvalidOperation:
        bad(f"expected a number with '.' as decimal point, got {shown!r}")
        return None
