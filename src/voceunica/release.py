"""Releases: what the Brussels offices send out, built in final mode, bit for bit reproducible.

`release()` refuses — with every reason at once — unless each position in a
released dossier is agreed by both regions on its current content and fully
translated, the project validates, and the working tree is clean.  It builds
everything into a hidden staging folder beside the target, writes the
manifest, changelogs and a zip bundle, and renames the folder into place
last: a failure or a kill leaves no `DIR/VERSION/` and never touches an
earlier release.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import stat
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from voceunica import __version__
from voceunica.errors import Problem, VoceunicaError, general, problem
from voceunica.fingerprint import agreed, signoff_state, translation_status
from voceunica.clock import source_date_epoch
from voceunica.pipeline import ProgressFn, check, render_many
from voceunica.write import (fsync_dir, atomic_write, clean_stale_temps, refuse_source_folder, remove_stale,
                              write_all)

_VERSION = re.compile(r"v?\d+\.\d+\.\d+([-.][0-9A-Za-z.]+)?")
MANIFEST = "manifest.json"


@dataclass
class ReleaseResult:
    folder: Path
    bundle: Path
    files: list[str]
    pdf_note: str | None


def final_problems(root: Path, allow_dirty: bool) -> tuple[list[Problem], object]:
    """Every reason this project cannot be released now."""
    from voceunica import gitrev

    project = check(root)
    out = list(project.errors)
    released = {p for d in project.dossiers.values() for p in d.positions}
    for pid in sorted(released):
        pos = project.positions.get(pid)
        if pos is None:
            continue
        src = project.sources[f"position:{pid}"]
        if not agreed(pos):
            states = ", ".join(f"{r} {signoff_state(pos, r)}" for r in ("lombardia", "veneto"))
            out.append(src.problem(("status",), f"position '{pid}' is not agreed by both regions on its current "
                                                f"content (status {pos.status}; sign-offs: {states})"))
        for st in translation_status(pos):
            if st.state != "translated":
                out.append(src.problem(st.loc, f"position '{pid}': translation {st.state} for {st.field}"))
    if not allow_dirty:
        try:
            dirty = gitrev.dirty_paths(root)
        except VoceunicaError as exc:
            out.extend(exc.problems)
        else:
            for path in dirty[:20]:
                out.append(problem(path, 1, 1, "uncommitted change: commit it, or release with --allow-dirty"))
    return sorted(set(out)), project


def release_epoch(root: Path) -> int:
    """SOURCE_DATE_EPOCH when set, else the commit date of the sources."""
    from voceunica import gitrev

    epoch = source_date_epoch()
    if epoch is not None:
        return epoch
    try:
        return gitrev.commit_time(root)
    except VoceunicaError:
        return 315532800  # 1980-01-01, the earliest zip date: not in git, no date to trust


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def release(root: Path, version: str, out_dir: Path | None = None, *, allow_dirty: bool = False,
            pdf: bool = False, jobs: int | None = None, progress: ProgressFn | None = None,
            site: bool = False) -> ReleaseResult:
    from voceunica import gitrev

    if not _VERSION.fullmatch(version):
        raise VoceunicaError(general(f"release version {version!r} should look like 1.2.0 or v1.2.0"))
    if out_dir is not None:
        refuse_source_folder(root, out_dir)
    problems, project = final_problems(root, allow_dirty)
    if problems:
        raise VoceunicaError(problems)
    from voceunica.project import Project

    assert isinstance(project, Project)
    dist = (out_dir if out_dir is not None else project.root / "dist").resolve()
    final = dist / version
    if os.path.lexists(final):
        raise VoceunicaError(problem(str(final), 1, 1, f"release {version} already exists; "
                                                       "releases are never overwritten"))
    epoch = release_epoch(root)
    ids = sorted(project.dossiers)
    rendered = render_many(project, ids, epoch, jobs, progress)
    files: dict[str, bytes] = {}
    for outputs in rendered.values():
        for name, data in outputs.items():
            files[name] = data.encode("utf-8") if isinstance(data, str) else data
    pdf_note = None
    if pdf:
        pdfs, pdf_note = to_pdf({n: d for n, d in files.items() if n.endswith(".docx")})
        files.update(pdfs)
    try:
        commit = gitrev.head_commit(root)
    except VoceunicaError:
        commit = None
    files.update(changelogs(root, project, version))
    if site:  # the preview site of this release, beside its files (site/index.html), listed in the manifest
        from voceunica.site.publish import release_site

        files.update(release_site(project, version, files, dist, epoch))
    manifest = {
        "release": version,
        "voceunica": __version__,
        "source_commit": commit,
        "source_date_epoch": epoch,
        "dirty": bool(allow_dirty and commit and gitrev.dirty_paths(root)),
        "dossiers": {d: {"version": project.dossiers[d].version, "positions": project.dossiers[d].positions}
                     for d in ids},
        "positions": {
            pid: {
                "version": pos.version,
                "status": pos.status,
                "signoffs": {r: (s.model_dump(mode="json") if (s := getattr(pos.signoffs, r)) else None)
                             for r in ("lombardia", "veneto")},
            }
            for pid, pos in sorted(project.positions.items())
            if any(pid in d.positions for d in project.dossiers.values())
        },
        "files": {name: {"sha256": sha256(data), "size": len(data)} for name, data in sorted(files.items())},
    }
    files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")

    try:
        dist.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{version}.partial-", dir=dist))
    except OSError as exc:
        raise VoceunicaError(problem(str(dist), 1, 1, f"cannot write: {exc.strerror or exc}")) from None
    # Held while this run lives: a later run removes a staging folder only when no live release holds it.
    lock = os.open(staging, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        clean_stale_releases(dist)
        staging.chmod(0o755)  # mkdtemp makes it private; a release is for everyone who can read dist/
        write_all(staging, files)
        bundle = dist / f"{version}.zip"
        atomic_write(bundle, deterministic_zip(version, files, epoch))
        if os.path.lexists(final):  # a release of the same version that ran alongside this one got there first
            raise VoceunicaError(problem(str(final), 1, 1, f"release {version} already exists; "
                                                           "releases are never overwritten"))
        staging.rename(final)  # the release appears complete, or not at all
        fsync_dir(dist)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        os.close(lock)
    return ReleaseResult(final, bundle, sorted(files), pdf_note)


STAGING_NAME = re.compile(rf"\.({_VERSION.pattern})\.partial-[a-z0-9_]{{8}}")  # mkdtemp(prefix=".VERSION.partial-")


def clean_stale_releases(dist: Path) -> list[Path]:
    """Staging folders and temporary files that killed releases left in `dist` (only unlocked ones: see write)."""
    removed = clean_stale_temps(dist, re.compile(_VERSION.pattern + r"\.zip"))
    try:
        entries = list(os.scandir(dist))
    except OSError:
        return removed
    for entry in entries:
        if (STAGING_NAME.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)
                and remove_stale(Path(entry.path))):
            removed.append(Path(entry.path))
    return removed


def deterministic_zip(version: str, files: dict[str, bytes], epoch: int) -> bytes:
    """Sorted entries under VERSION/, fixed timestamps and permissions: same files, same zip."""
    from voceunica.docx import deterministic_zip as zip_entries

    return zip_entries([(f"{version}/{name}", data) for name, data in files.items()], epoch)


def to_pdf(docx_files: dict[str, bytes]) -> tuple[dict[str, bytes], str | None]:
    """PDF of every DOCX through LibreOffice (see `voceunica.docx.pdf`); without it, a note and no PDFs."""
    from voceunica.docx import to_pdf as convert

    return convert(docx_files)


def changelogs(root: Path, project: object, version: str) -> dict[str, bytes]:
    """CHANGELOG.it.md / CHANGELOG.en.md from the semantic diff since the previous release tag."""
    from voceunica import gitrev
    from voceunica.diff import diff_projects, release_notes
    from voceunica.diff.changelog import kpi_lines
    from voceunica.kpi import movements
    from voceunica.project import Project

    assert isinstance(project, Project)
    previous = previous_tag(root, version)
    base = gitrev.project_at(root, previous) if previous is not None else Project(project.root)
    d = diff_projects(base, project)
    moves = movements(base, project)  # the KPIs' updates: their own section of the notes
    out = {}
    for lang in ("it", "en"):
        # Every word is the project's own (templates/labels.yaml), the statuses too ('bozza → concordato').
        words = {key: text[lang] for key, text in project.labels.items()}
        kpis = kpi_lines(moves, project, lang, words) if moves else []
        out[f"CHANGELOG.{lang}.md"] = release_notes(d, words, version, previous, kpis).encode("utf-8")
    return out


def previous_tag(root: Path, version: str) -> str | None:
    """The newest version tag reachable from HEAD other than this release's own."""
    from voceunica import gitrev

    try:
        tags = gitrev.version_tags(root)
    except VoceunicaError:
        return None
    for tag in tags:
        if _VERSION.fullmatch(tag) and tag.lstrip("v") != version.lstrip("v"):
            return tag
    return None


MANIFEST_MAX = 64 << 20  # far above any real manifest; a bigger one is not read into memory
_SHA256 = re.compile(r"[0-9a-f]{64}")


def verify(folder: Path) -> list[Problem]:
    """Check a release folder against its manifest: every file there, each with its hash.

    The manifest is input like any other: its shape and every name in it are
    checked before any listed file is opened, a name can only point inside
    the release, and no symlink is followed out of it.
    """
    manifest_path = folder / MANIFEST
    shown = str(manifest_path)
    try:
        info = os.lstat(manifest_path)
        if not stat.S_ISREG(info.st_mode):
            return [problem(shown, 1, 1, "the manifest is not a regular file (a symlink, a folder, …)")]
        if info.st_size > MANIFEST_MAX:
            return [problem(shown, 1, 1, f"the manifest is larger than {MANIFEST_MAX >> 20} MB")]
        fd = os.open(manifest_path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            raw = f.read(MANIFEST_MAX + 1)
    except OSError as exc:
        return [problem(shown, 1, 1, f"cannot read the manifest: {exc.strerror or exc}")]
    listed, out = read_manifest(raw, shown)
    if out:
        return out  # nothing listed is opened while the list itself is suspect
    root = folder.resolve()
    for name, entry in sorted(listed.items()):
        path = folder / name
        out.extend(_check_listed(root, name, path, entry))
    for path in _release_files(folder):
        name = path.relative_to(folder).as_posix()
        if name != MANIFEST and name not in listed:
            out.append(problem(str(path), 1, 1, "not listed in the manifest"))
    return out


def read_manifest(raw: bytes, shown: str) -> tuple[dict[str, dict[str, object]], list[Problem]]:
    """The manifest's `files`, name -> {sha256, size}, or the problems that make it unusable, located."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        return {}, [problem(shown, line, 1, "the manifest is not UTF-8 text")]

    def at(offset: int, message: str) -> Problem:
        line = text.count("\n", 0, offset) + 1
        return problem(shown, line, offset - (text.rfind("\n", 0, offset) + 1) + 1, message)

    class Duplicate(Exception):
        pass

    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        seen: dict[str, object] = {}
        for key, value in pairs:
            if key in seen:
                raise Duplicate(key)  # json keeps the last silently: a second entry could hide the first
            seen[key] = value
        return seen

    try:
        manifest = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        return {}, [problem(shown, exc.lineno, exc.colno, f"not valid JSON: {exc.msg}")]
    except Duplicate as exc:
        key = json.dumps(exc.args[0])
        second = _find(text, key, _find(text, key, 0) + 1)
        return {}, [at(second, f"the key {_quoted(exc.args[0])} appears twice")]
    except RecursionError:
        return {}, [problem(shown, 1, 1, "not a usable manifest: nested too deeply")]
    if not isinstance(manifest, dict):
        return {}, [problem(shown, 1, 1, "the manifest should be a JSON object with a 'files' object")]
    files_at = _find(text, json.dumps("files"), 0)
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        what = "missing" if listed is None else f"a {_json_type(listed)}"
        return {}, [at(files_at, f"'files' should be an object of file name -> {{sha256, size}}, not {what}")]
    out = []
    for name, entry in listed.items():
        where = _find(text, json.dumps(name, ensure_ascii=False), files_at)
        if where == files_at:
            where = _find(text, json.dumps(name), files_at)
        why = _bad_name(name)
        if why:
            out.append(at(where, f"files: {_quoted(name)}: {why}"))
            continue
        if not isinstance(entry, dict):
            out.append(at(where, f"files: {_quoted(name)}: should be {{sha256, size}}, not a {_json_type(entry)}"))
            continue
        sha, size = entry.get("sha256"), entry.get("size")
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            out.append(at(where, f"files: {_quoted(name)}: sha256 should be 64 lowercase hex digits"))
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            out.append(at(where, f"files: {_quoted(name)}: size should be a whole number of bytes"))
    return ({n: e for n, e in listed.items()} if not out else {}), sorted(out)


def _find(text: str, needle: str, start: int) -> int:
    """Where `needle` is first written after `start` (else `start`): the line a problem is shown at."""
    found = text.find(needle, start)
    return found if found >= 0 else start


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "number"
    return {dict: "object", list: "list", str: "string", type(None): "null"}.get(type(value), "value")


def _quoted(name: str) -> str:
    """A file name as a diagnostic may print it: control characters escaped, so no name forges a line."""
    return json.dumps(name)[:120]


def _bad_name(name: str) -> str | None:
    """Why `name` cannot be a file of this release, or None: a plain relative path inside the folder."""
    if not name:
        return "an empty file name"
    if any(ord(c) < 32 or 127 <= ord(c) < 160 or c in "\u2028\u2029" for c in name):
        return "control characters in a file name"
    if "\\" in name:
        return "a backslash in a file name (releases use / between folders)"
    if name.startswith("/"):
        return "an absolute path; names are relative to the release folder"
    if re.match(r"[A-Za-z]:", name):
        return "a drive letter; names are relative to the release folder"
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "'.', '..' or an empty part in a path; names stay inside the release folder"
    if name == MANIFEST:
        return "the manifest cannot list itself"
    if len(name.encode("utf-8")) > 4096 or any(len(p.encode("utf-8")) > 255 for p in parts):
        return "a file name longer than file systems allow"
    return None


def _check_listed(root: Path, name: str, path: Path, entry: dict[str, object]) -> list[Problem]:
    """One listed file: there, a regular file reached without a symlink, with the listed size and hash."""
    here = root
    for part in name.split("/"):
        here = here / part
        try:
            info = os.lstat(here)
        except FileNotFoundError:
            return [problem(str(path), 1, 1, "listed in the manifest but missing")]
        except OSError as exc:
            return [problem(str(path), 1, 1, f"cannot read: {exc.strerror or exc}")]
        if stat.S_ISLNK(info.st_mode):
            return [problem(str(path), 1, 1, "a symbolic link; a release holds only regular files")]
    if not stat.S_ISREG(info.st_mode):
        return [problem(str(path), 1, 1, "not a regular file")]
    if info.st_size != entry["size"]:
        return [problem(str(path), 1, 1, "differs from the manifest (SHA-256 or size)")]
    h = hashlib.sha256()
    try:
        fd = os.open(here, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    except OSError as exc:
        return [problem(str(path), 1, 1, f"cannot read: {exc.strerror or exc}")]
    if h.hexdigest() != entry["sha256"]:
        return [problem(str(path), 1, 1, "differs from the manifest (SHA-256 or size)")]
    return []


def _release_files(folder: Path) -> list[Path]:
    """Every file and symlink in the release folder, without following a symlink out of it."""
    found = []
    for top, dirs, names in os.walk(folder, followlinks=False):
        for d in list(dirs):
            if os.path.islink(os.path.join(top, d)):
                found.append(Path(top, d))  # listed as a file: walking it would leave the release
                dirs.remove(d)
        found.extend(Path(top, n) for n in names)
    return sorted(found)
