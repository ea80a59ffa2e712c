"""The whole way through: project → every output file, gathered in memory, then written.

`build()` checks first and refuses to build anything when `check` finds
errors; it renders every requested dossier in every language and layout
into memory and only then writes, each file atomically.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Callable, Iterable, Iterator, Sequence

from voceunica import defaults
from voceunica.clock import source_date_epoch, today
from voceunica.errors import Problem, VoceunicaError, problem
from voceunica.model import LANGS, Dossier, Position
from voceunica.project import Project
from voceunica.validate import load_project
from voceunica.write import Staging, atomic_write, clean_stale_temps, refuse_source_folder

if TYPE_CHECKING:  # the render machinery loads only when something is rendered: `check` starts fast
    from voceunica.checkcache import Recorder
    from voceunica.docx import DocxMeta
    from voceunica.resolve import ResolvedDossier


@dataclass
class BuildResult:
    files: list[Path]
    dossiers: list[str]
    skipped: list[str]  # up to date: inputs unchanged since the last build
    note: str | None = None  # e.g. why no PDF could be made


def check(root: Path, base: str | None = None) -> Project:
    """Everything `voceunica check` reports: validation, sign-offs, translations,
    and, against a base revision, version discipline."""
    return _check(root, base)[0]


def _check(root: Path, base: str | None = None) -> tuple[Project, str | None]:
    """check(), recording its verdict in the check cache (checkcache) with every file it read;
    also returns the digest of that input set (None against a base: not cached)."""
    from voceunica.checkcache import Recorder
    from voceunica.review import signoff_problems, translation_problems, version_problems

    from voceunica.validate import gc_paused

    recorder = Recorder(root) if base is None else None
    with gc_paused(), _reads_recorded(recorder):
        project = load_project(root)
        found = signoff_problems(project) + translation_problems(project) + output_problems(project)
        from voceunica.glossary import glossary_problems

        found += glossary_problems(project)  # glossary.yaml, and translations that depart from it
        if project.kpis or any(d.kpis for d in project.dossiers.values()):
            from voceunica.kpi import kpi_problems

            found += kpi_problems(project, today())  # stale series: see kpi.py
        if project.templates:
            from voceunica.render import template_problems

            found += template_problems(project.templates)
    if base is not None:
        from voceunica.gitrev import project_at

        found += version_problems(project_at(root, base), project, base)
    project.problems[:] = sorted(set(project.problems + found))
    if recorder is None:
        return project, None
    counts = (len(project.positions), len(project.dossiers), len(project.annexes))
    return project, recorder.store(project.problems, counts, sorted(project.dossiers))


@contextlib.contextmanager
def _reads_recorded(recorder: Recorder | None) -> Iterator[None]:
    """Every project file read meanwhile goes to `recorder` (load.read_hook), however the check ends."""
    from voceunica import load

    load.read_hook = recorder
    try:
        yield
    finally:
        load.read_hook = None


def output_problems(project: Project) -> list[Problem]:
    """What the outputs need from the project: every style the Word writer uses in
    templates/reference.docx, and every word the Word files and the release notes
    print in labels.yaml.  Checked here, where outputs are composed, so validation
    knows nothing of Word or releases."""
    from voceunica.diff.changelog import LABELS as NOTES_LABELS
    from voceunica.docx.styles import LABELS as WORD_LABELS, missing_styles

    out: list[Problem] = []
    if project.labels and "labels" in project.sources:
        for keys, who in ((WORD_LABELS, "the Word files print it"), (NOTES_LABELS, "release notes print it")):
            out += [project.sources["labels"].problem(("labels",), f"missing label '{k}' ({who})")
                    for k in keys if k not in project.labels]
    shown = "templates/reference.docx"
    if not os.path.lexists(project.reference_docx):
        return out + [problem(shown, 1, 1, "missing: the DOCX writer takes its Word styles from it "
                                           "(python -m voceunica.docx.reference templates/reference.docx)")]
    try:
        data = project.asset("reference.docx")
    except VoceunicaError as exc:
        return out + exc.problems
    missing = missing_styles(data)
    if missing is None:
        return out + [problem(shown, 1, 1, "not a Word document (word/styles.xml is missing)")]
    return out + [problem(shown, 1, 1, f"style '{name}' is missing; the DOCX writer needs it") for name in missing]


def select(project: Project, ids: Iterable[str]) -> list[str]:
    ids = list(ids)
    if not ids:
        return sorted(project.dossiers)
    unknown = [i for i in ids if i not in project.dossiers]
    if unknown:
        known = ", ".join(sorted(project.dossiers)) or "none"
        raise VoceunicaError([problem("dossiers/", 1, 1, f"no dossier '{i}' (known: {known})") for i in unknown])
    return ids


def timestamp(dossier_date: dt.date, epoch: int | None = None) -> dt.datetime:
    """What DOCX files are stamped with: the given epoch (a release passes the
    commit date), else SOURCE_DATE_EPOCH, else the dossier's own date — never
    the wall clock, so the same sources always give the same bytes."""
    epoch = epoch if epoch is not None else source_date_epoch()
    if epoch is not None:
        return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).replace(tzinfo=None)
    return dt.datetime(dossier_date.year, dossier_date.month, dossier_date.day)


def render_dossier(project: Project, dossier_id: str, epoch: int | None = None) -> dict[str, bytes | str]:
    """Every output file of one dossier, by name, in memory."""
    from dataclasses import replace
    from functools import partial

    from voceunica.charts import figure, png as chart_png
    from voceunica.render import render_markdown, split_front_matter
    from voceunica.resolve import resolve

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
            if annex.chart is not None and annex.chart.target is not None:  # a KPI's trend (voceunica.kpichart)
                from voceunica.kpichart import render_png as kpi_png

                files[annex.chart.file] = kpi_png(annex.chart, lang)
            elif annex.chart is not None:
                files[annex.chart.file] = chart_png(annex.chart, lang, _charts())
        if rd.timeline is not None:
            from voceunica.timeline import render_png as timeline_png

            timeline = rd.timeline  # drawn once per content, as the charts are
            files[timeline.file] = figure("timeline", replace(timeline, file=""), partial(timeline_png, timeline),
                                          _charts())
    files.update(_docx_files(project, dossier_id, resolved, bodies, files, epoch))
    return files


class _ChartCache:
    """Charts drawn by earlier runs (`charts.ChartStore`), in the user's cache folder beside check's
    verdicts: never in the checkout, where a pull request could plant a picture that does not show
    its data.  Each is sealed with that folder's key (as `checkcache` seals its files) and named for
    this voceunica (`checkcache.code_digest`); an unsealed or altered file is drawn again."""

    MAGIC = b"voceunica-chart/1"

    def __init__(self) -> None:
        from voceunica import checkcache

        self.home = checkcache.cache_home()
        self.secret = checkcache.cache_key(self.home, create=True) if self.home is not None else None
        self.code = checkcache.code_digest() if self.secret is not None else ""

    def _path(self, key: str) -> Path:
        assert self.home is not None
        name = hashlib.sha256(f"{self.code}\0{key}".encode()).hexdigest()[:40]
        return self.home / "charts" / f"{name}.png"

    def _seal(self, key: str, data: bytes) -> bytes:
        import hmac

        assert self.secret is not None
        return self.MAGIC + b" " + hmac.new(self.secret, key.encode() + b"\0" + data, "sha256").hexdigest().encode()

    def get(self, key: str) -> bytes | None:
        import hmac

        from voceunica import checkcache

        if self.secret is None:
            return None
        raw = checkcache.read_private(self._path(key), MAX_OUTPUT_BYTES)
        head, sep, data = (raw or b"").partition(b"\n")
        return data if sep and hmac.compare_digest(head, self._seal(key, data)) else None

    def put(self, key: str, data: bytes) -> None:
        if self.secret is None:
            return
        try:  # a cache that cannot be written is no cache, never an error
            with Staging(sync=False) as staging:
                staging.add(self._path(key), self._seal(key, data) + b"\n" + data)
                staging.commit()
        except (VoceunicaError, OSError):
            pass


_CHARTS: _ChartCache | None = None


def _charts() -> _ChartCache:
    """The chart cache of this process (made before forking: workers inherit it)."""
    global _CHARTS  # noqa: PLW0603 - one per process
    if _CHARTS is None:
        _CHARTS = _ChartCache()
    return _CHARTS


def _docx_files(project: Project, dossier_id: str, resolved: dict[str, ResolvedDossier],
                bodies: dict[str, str], files: dict[str, bytes | str], epoch: int | None) -> dict[str, bytes]:
    """Every Word file of a dossier, each read back and compared with its Markdown
    (`docx.proof`) before it is kept: a file that lost a word is never written."""
    from voceunica import docx as writer
    from voceunica.docx.proof import prove

    dossier = project.dossiers[dossier_id]
    out: dict[str, bytes] = {}
    reference = project.asset("reference.docx")
    images = {name: data for name, data in files.items() if name.endswith(".png") and isinstance(data, bytes)}
    metas = {lang: docx_meta(project, rd, epoch) for lang, rd in resolved.items()}
    langs: tuple[str, ...] = ()
    try:
        if "single" in dossier.layouts:
            for lang in LANGS:
                langs = (lang,)
                data = writer.markdown_to_docx(bodies[lang], metas[lang], reference=reference,
                                               images=images)
                prove(data, [bodies[lang]])
                out[f"{dossier_id}.{lang}.docx"] = data
        if "parallel" in dossier.layouts:
            langs = ("it", "en")
            data = writer.parallel_docx(bodies["it"], metas["it"], bodies["en"], metas["en"],
                                        reference=reference, images=images)
            prove(data, [bodies["it"], bodies["en"]])
            out[f"{dossier_id}.it-en.docx"] = data
    except writer.DocxError as exc:
        places: Sequence[tuple[int, int | None, str | None]] = exc.places or [(exc.index, exc.line, exc.word)]
        found = []
        for index, line, word in places:
            lang = langs[min(index, len(langs) - 1)] if langs else LANGS[0]
            message = str(exc) if len(places) == 1 else \
                f"the Word file lost text here ('{word}' is missing); nothing was written"
            found.append(source_of(project, dossier_id, lang, bodies[lang], message, line, word))
        raise VoceunicaError(sorted(set(found))) from None
    return out


_NOTE_DEF = re.compile(r"^\[\^([^\]\s]+)\]:")
_MD_LEAD = re.compile(r"^(?:[ \t]*(?:>|[-*+]|\d{1,9}[.)])[ \t]+)+")


def source_of(project: Project, dossier_id: str, lang: str, body: str, exc: Exception | str,
              line_no: int | None = None, word: str | None = None) -> Problem:
    """Where the text the writer could not carry came from: the position (or
    dossier, or label) whose text holds that Markdown line, at its own file and
    line — a content mistake is never reported at a template line.  Only when
    no input holds it does the template take the blame."""
    from voceunica import typography
    from voceunica.model import iter_texts

    md_lines = body.split("\n")
    raw = md_lines[line_no - 1] if line_no and 0 < line_no <= len(md_lines) else ""
    dossier = project.dossiers[dossier_id]
    note = _NOTE_DEF.match(raw)
    if note is not None:  # a footnote: resolve knows which position's eu_files/notes entry made it
        from voceunica.resolve import resolve

        origins = {f.label: f.origin for f in resolve(project, dossier_id, lang).footnotes}
        pid, group, i = origins.get(note.group(1), ("", "", 0))
        source = project.sources.get(f"position:{pid}")
        if source is not None:
            item = getattr(project.positions[pid], group)[i]
            key = item if isinstance(item, str) else item.key  # a catalogue reference is its key
            return source.problem((group, i, "key"), f"{group}[{i}] ({key}): {exc}")
    needle = _MD_LEAD.sub("", raw).strip()
    candidates: list[tuple[str, Position | Dossier]] = [
        (f"position:{p}", project.positions[p]) for p in dossier.positions if p in project.positions]
    candidates.append((f"dossier:{dossier_id}", dossier))
    for probe in (needle, word):
        if not probe or len(probe) < 3:
            continue
        for key, model in candidates:
            source = project.sources.get(key)
            if source is None:
                continue
            for loc, text_lang, text in iter_texts(model):
                # The Markdown holds the text as typeset (line breaks where the source has them).
                shown = typography.markdown(text, lang) if text_lang == lang else ""
                at = shown.find(probe)
                if at != -1:
                    line, col = source.text_line(loc, shown.count("\n", 0, at))
                    return problem(source.path, line, col, f"{'.'.join(map(str, loc))}: {exc}")
    where = f" (line {line_no} of the {lang} Markdown it renders)" if line_no else f" ({lang})"
    return problem(f"templates/{dossier.template}", 1, 1, f"dossier {dossier_id}: cannot write DOCX{where}: {exc}")


def docx_meta(project: Project, rd: ResolvedDossier, epoch: int | None = None) -> DocxMeta:
    from voceunica import docx as writer
    from voceunica.regions import REGIONS
    from voceunica.resolve import author_line

    logos = {region: project.root / "templates" / f"logo-{region}.png" for region in REGIONS}
    data = {region: project.asset(path.name) for region, path in logos.items() if project.has_asset(path.name)}
    dossier = project.dossiers[rd.id]
    authors = tuple(
        writer.Author(name=name, line=author_line(name, office), transparency_register=tr,
                      logo=logos[a.region] if a.region in data else None, logo_data=data.get(a.region))
        for (name, office, tr), a in zip(rd.authors, dossier.authors, strict=True)
    )
    return writer.DocxMeta(
        lang=rd.lang, title=rd.title, subtitle=rd.subtitle, short_title=rd.short_title, doctype=rd.doctype,
        date_text=rd.date_text, version=rd.version, status_text=rd.status_text, draft=rd.draft,
        authors=authors, contact_lines=tuple(rd.contact),
        eu_files=tuple(_plain(line) for line in rd.addresses),
        labels={k: rd.labels[k] for k in writer.LABELS},
        created=timestamp(rd.date, epoch),
        keywords=tuple(p.sector_text for p in rd.positions),
        layout=rd.layout, dateline=rd.dateline, audience=rd.audience,
        tables=tuple(writer.AnnexTable(a.headers, a.align, a.rows) for a in rd.annexes),
    )


def _plain(markdown_line: str) -> str:
    return re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", markdown_line).replace("<", "").replace(">", "")


ProgressFn = Callable[[int, int, str], None]


def templates_digest(project: Project) -> bytes:
    """A hash of every file under templates/ a dossier can read: shared by all dossiers, so a build makes
    it once.  The preview site's pages and styles (templates/site/) are left out: editing them rebuilds
    the site, not every dossier."""
    from voceunica.load import MAX_CSV_BYTES, read_project_file

    h = hashlib.sha256()
    folder = project.root / "templates"
    for p in sorted(p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).parts[0] != "site"):
        rel = p.relative_to(project.root).as_posix()
        h.update(rel.encode() + b"\0")
        h.update(hashlib.sha256(read_project_file(project.root, p, rel, limit=MAX_CSV_BYTES)).digest())
    if len(project.template_dirs()) > 1:  # the defaults a project does not override build it too
        for name in (n for n in defaults.names() if not n.startswith("site/")):
            h.update(f"default:{name}\0".encode() + hashlib.sha256(defaults.read(name) or b"").digest())
    return h.digest()


def inputs_digest(project: Project, dossier_id: str, epoch: int | None, templates: bytes | None = None) -> str:
    """A hash of everything a dossier's outputs depend on: its YAML, its
    positions and annexes, every template (`templates`: templates_digest, when
    the caller has it already), the voceunica version and the timestamp.
    Equal digests mean the outputs would be byte-identical."""
    from voceunica import __version__
    from voceunica.load import MAX_CSV_BYTES, read_project_file

    d = project.dossiers[dossier_id]
    paths = [project.files[f"dossier:{dossier_id}"]]
    paths += [project.files[f"position:{p}"] for p in d.positions]
    # the catalogue: a file's state of play (or an inline entry matching it) changes boxes and footnotes
    paths += [path for key, path in sorted(project.files.items()) if key.startswith("eu-file:")]
    for a in d.annexes:
        meta = project.files[f"annex:{a}"]
        paths += [meta, meta.with_suffix(".csv")]
    if d.kpis:
        from voceunica.kpi import dossier_kpis

        for k in dossier_kpis(project, d.kpis):
            meta = project.files[f"kpi:{k}"]
            paths += [meta, meta.with_suffix(".csv")]
    h = hashlib.sha256(f"voceunica {__version__}\0epoch {epoch}\0".encode())
    for p in paths:
        rel = p.relative_to(project.root).as_posix()
        h.update(rel.encode() + b"\0")
        h.update(hashlib.sha256(read_project_file(project.root, p, rel, limit=MAX_CSV_BYTES)).digest())
    h.update(templates if templates is not None else templates_digest(project))
    return h.hexdigest()


CACHE_NAME = ".voceunica-cache.json"
# every name build writes: <dossier>.<lang>.md/.docx/.pdf, <dossier>.it-en.docx, <dossier>.<annex>.<lang>.png
OUTPUT_NAME = re.compile(r"[a-z0-9-]+\.(it|en|it-en)\.(md|docx|pdf)|[a-z0-9-]+\.[a-z0-9-]+\.(it|en)\.png|"
                         + re.escape(CACHE_NAME))


# build/ can be committed too: its cache and outputs are read like project files (a FIFO
# named .voceunica-cache.json hung build; a cache naming '../../x' had it hash files outside).
MAX_OUTPUT_BYTES = 500_000_000


def _load_cache(out_dir: Path) -> dict[str, Any]:
    from voceunica.load import read_project_file

    try:
        data = json.loads(read_project_file(out_dir, out_dir / CACHE_NAME, CACHE_NAME).decode("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError, VoceunicaError):
        return {}


def _up_to_date(out_dir: Path, entry: Any, digest: str) -> bool:
    """The cache says these inputs made these files, and the files are still those bytes."""
    from voceunica.load import read_project_file

    if not isinstance(entry, dict) or entry.get("inputs") != digest:
        return False
    files = entry.get("files")
    if not isinstance(files, dict):
        return False
    for name, sha in files.items():
        try:
            data = read_project_file(out_dir, out_dir / str(name), str(name), limit=MAX_OUTPUT_BYTES)
        except VoceunicaError:
            return False
        if hashlib.sha256(data).hexdigest() != sha:
            return False
    return bool(files)


# The project a worker renders from.  Forked workers inherit it from the parent
# (no copy is made until a page is written to); workers started by "spawn" load
# it once from disk.  Sending it with every task would pickle the whole project
# — every position and every annex row — once per dossier.
_WORKER_PROJECT: Project | None = None


def _worker_init(root: Path) -> None:
    global _WORKER_PROJECT  # noqa: PLW0603 - a pool initializer's only way to give the worker its state
    if _WORKER_PROJECT is None:
        _WORKER_PROJECT = load_project(root)


def _render_job(args: tuple[str, int | None]) -> dict[str, bytes | str]:
    dossier_id, epoch = args
    assert _WORKER_PROJECT is not None
    try:
        return render_dossier(_WORKER_PROJECT, dossier_id, epoch)
    finally:
        _return_free_memory()


Sink = Callable[[str, dict[str, bytes | str]], None]


def render_many(project: Project, ids: list[str], epoch: int | None, jobs: int | None = None,
                progress: ProgressFn | None = None, sink: Sink | None = None) -> dict[str, dict[str, bytes | str]]:
    """Render dossiers, in parallel across cores when there are several.  With `sink`, each
    dossier's outputs go to it as soon as they are made and are not kept here (nothing is returned)."""
    results: dict[str, dict[str, bytes | str]] = {}

    def done(i: int, dossier_id: str, outputs: dict[str, bytes | str]) -> None:
        if sink is not None:
            sink(dossier_id, outputs)
        else:
            results[dossier_id] = outputs
        if progress:
            progress(i, len(ids), dossier_id)

    workers = min(len(ids), jobs or os.cpu_count() or 1)
    # The collector would walk the whole project again and again while rendering (one large dossier:
    # 3.6 s → 2.4 s frozen), and in forked workers it would write to every page it visits: frozen
    # objects are left alone, so the project stays shared instead of copied per worker.
    gc.collect()
    gc.freeze()
    try:
        if workers <= 1:
            for i, dossier_id in enumerate(ids, start=1):
                outputs = render_dossier(project, dossier_id, epoch)
                _return_free_memory()
                done(i, dossier_id, outputs)
        else:
            _render_forked(project, ids, epoch, workers, done)
    finally:
        gc.unfreeze()
    return {d: results[d] for d in ids} if sink is None else {}


def _render_forked(project: Project, ids: list[str], epoch: int | None, workers: int,
                   done: Callable[[int, str, dict[str, bytes | str]], None]) -> None:
    """`workers` at a time: this process and `workers - 1` forked ones.  Every process forked
    counts the whole project once more in memory (its pages are the parent's, but resident in it
    too), and the parent would only wait: so it renders too, taking the next dossier whenever its
    workers are busy."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    global _WORKER_PROJECT  # noqa: PLW0603 - set before forking, so workers inherit it (see above)
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    _draw_charts(project, ids)  # before forking: drawn once, matplotlib imported once (or not at all)
    _return_free_memory()  # what loading freed is not copied into every worker's count
    _WORKER_PROJECT = project
    # Lightest first for this process, heaviest first for the workers (by annex rows): two large
    # annexes are rarely written at once, so the processes' peaks do not add up.
    queue = sorted(ids, key=lambda d: sum(len(project.annexes[a].rows) for a in project.dossiers[d].annexes))
    pending: dict[Future[dict[str, bytes | str]], str] = {}
    finished = 0
    try:
        with ProcessPoolExecutor(max_workers=workers - 1, mp_context=ctx, initializer=_worker_init,
                                 initargs=(project.root,)) as pool:
            while queue or pending:
                while queue and len(pending) < workers - 1:
                    dossier_id = queue.pop()
                    pending[pool.submit(_render_job, (dossier_id, epoch))] = dossier_id
                for fut in [f for f in pending if f.done()]:
                    finished += 1
                    done(finished, pending.pop(fut), fut.result())
                if queue:
                    dossier_id = queue.pop(0)
                    outputs = render_dossier(project, dossier_id, epoch)
                    _return_free_memory()
                    finished += 1
                    done(finished, dossier_id, outputs)
                elif pending:
                    wait(pending, return_when=FIRST_COMPLETED)
    finally:
        _WORKER_PROJECT = None


_LIBC: Any = None


def _return_free_memory() -> None:
    """Give the heap pages freed since back to the system (glibc's malloc_trim; elsewhere nothing):
    a dossier's 10 000-row annex, once written, would otherwise stay resident to the end."""
    global _LIBC  # noqa: PLW0603 - looked up once per process
    if _LIBC is None:
        import ctypes

        try:
            _LIBC = ctypes.CDLL(None)
        except OSError:
            _LIBC = False
    trim = getattr(_LIBC, "malloc_trim", None) if _LIBC else None
    if trim is not None:
        trim(0)


def _draw_charts(project: Project, ids: list[str]) -> None:
    """Every distinct chart of these dossiers, drawn (or read from the cache) in this process, so that
    the workers it forks inherit them: none draws a chart another drew, none imports matplotlib."""
    from voceunica.charts import png
    from voceunica.resolve import resolve

    for dossier_id in ids:
        if any(project.annexes[a].meta.chart is not None for a in project.dossiers[dossier_id].annexes):
            for lang in LANGS:
                for annex in resolve(project, dossier_id, lang).annexes:
                    if annex.chart is not None and getattr(annex.chart, "target", None) is None:  # KPIs draw apart
                        png(annex.chart, lang, _charts())


def build(root: Path, dossier_ids: Iterable[str] = (), out_dir: Path | None = None, *,
          jobs: int | None = None, force: bool = False, progress: ProgressFn | None = None,
          pdf: bool = False) -> BuildResult:
    from voceunica import checkcache

    if out_dir is not None:
        refuse_source_folder(root, out_dir)
    dossier_ids = list(dossier_ids)
    epoch = source_date_epoch()
    fresh = checkcache.fresh_build(root, dossier_ids, out_dir, force=force, pdf=pdf, epoch=epoch)
    if fresh is not None:  # check's verdict, the inputs and the outputs unchanged: a stat of each, nothing loaded
        return BuildResult([], fresh, fresh)
    project, input_set = _check(root)
    if project.errors:
        raise VoceunicaError(project.problems)
    ids = select(project, dossier_ids)
    target = out_dir if out_dir is not None else project.root / "build"
    epoch = source_date_epoch()
    # --force rebuilds the dossiers asked for; the cache keeps every other dossier's entry (dropping
    # them made the next plain build redo 99 dossiers of 100 after `build ONE --force`).
    cache = _load_cache(target)
    shared = templates_digest(project)
    digests = {d: inputs_digest(project, d, epoch, shared) + (":pdf" if pdf else "") for d in ids}
    # What this machine built, not the build cache beside the outputs: build/ can be committed, forged
    # outputs and a cache entry vouching for them included (checkcache.built).
    sealed = checkcache.built(project.root, target)
    todo = [d for d in ids if force or not _up_to_date(target, sealed.get(d), digests[d])]
    skipped = [d for d in ids if d not in todo]
    cache.update({d: sealed[d] for d in skipped})
    note = None

    def stage(dossier_id: str, outputs: dict[str, bytes | str]) -> None:
        """A dossier's files (proven already) to temporary files as soon as it is rendered, not held to the end."""
        nonlocal note
        if pdf:
            from voceunica.docx import to_pdf as convert

            pdfs, note = convert({n: d for n, d in outputs.items() if n.endswith(".docx") and isinstance(d, bytes)})
            outputs.update(pdfs)
        cache[dossier_id] = {
            "inputs": digests[dossier_id],
            "files": {name: hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()
                      for name, data in sorted(outputs.items())},
        }
        for name in sorted(outputs):
            staging.add(target / name, outputs[name])

    # Every file is staged before the first is renamed into place: a full disk, a bad folder or a dossier
    # that fails its proof changes nothing.  No fsync: outputs can always be built again, and syncing each
    # would slow every build.
    clean_stale_temps(target, OUTPUT_NAME)  # even when everything is up to date, a killed build's litter goes
    with Staging(sync=False) as staging:
        render_many(project, todo, epoch, jobs, progress, sink=stage)
        if todo:
            staging.add(target / CACHE_NAME, json.dumps(cache, indent=1, sort_keys=True) + "\n")
        written = staging.commit()
    if todo:
        written.pop()
    if input_set is not None:  # what the next build can confirm by a stat (checkcache.fresh_build)
        made = {d: cache[d] for d in ids if d in cache}
        checkcache.record_build(project.root, target, checkcache.build_mode(epoch, pdf), input_set, made)
    return BuildResult(sorted(written), ids, skipped, note)


def redline(old: Project, new: Project, dossier_id: str, lang: str, out: Path, *, author: str,
            label: str) -> int:
    """Write the dossier in `lang` with tracked changes from `old` to `new`; returns the number of changes.

    The result is re-read before writing: accepting every change must give
    exactly the new text and rejecting every change exactly the old one.
    """
    from voceunica.docx import DocxError, verified_redline

    for project, which in ((old, "old"), (new, "new")):
        if dossier_id not in project.dossiers:
            raise VoceunicaError(problem("dossiers/", 1, 1, f"no dossier '{dossier_id}' in the {which} revision"))
    name = f"{dossier_id}.{lang}.docx"
    old_docx = render_dossier(old, dossier_id)[name]
    new_docx = render_dossier(new, dossier_id)[name]
    assert isinstance(old_docx, bytes) and isinstance(new_docx, bytes)
    when = timestamp(new.dossiers[dossier_id].date)
    try:
        merged, changes = verified_redline(old_docx, new_docx, author=author, date=when, label=label)
    except DocxError as exc:
        raise VoceunicaError(problem(name, 1, 1, str(exc))) from None
    atomic_write(out, merged)
    return changes


CHARTS_EXTRA = "pip install 'voceunica[charts]'"


def charts_missing(root: Path, dossier_ids: Iterable[str] = ()) -> Problem:
    """Why a build stopped when matplotlib (the charts extra) is not installed, placed at the first
    dossier that has a chart; build and release turn the ImportError into this."""
    from voceunica.errors import general

    project = load_project(root)
    for dossier_id in [d for d in (list(dossier_ids) or sorted(project.dossiers)) if d in project.dossiers]:
        dossier = project.dossiers[dossier_id]
        charted = [a for a in dossier.annexes if a in project.annexes and project.annexes[a].meta.chart is not None]
        source = project.sources.get(f"dossier:{dossier_id}")
        if source is not None and (charted or dossier.kpis):
            what = f"annex '{charted[0]}' has a chart" if charted else "its KPIs have trend charts"
            return source.problem(("annexes" if charted else "kpis",),
                                  f"{what}, and charts need matplotlib, which is not installed: {CHARTS_EXTRA}",
                                  key=True)
    return general(f"this build draws charts, which need matplotlib, which is not installed: {CHARTS_EXTRA}")
