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
from voceunica.errors import Problem, VoceunicaError, problem
from voceunica.fingerprint import agreed, signoff_state, translation_status
from voceunica.pipeline import ProgressFn, check, render_many, source_date_epoch
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
            pdf: bool = False, jobs: int | None = None, progress: ProgressFn | None = None) -> ReleaseResult:
    from voceunica import gitrev

    if not _VERSION.fullmatch(version):
        raise VoceunicaError(problem(".", 1, 1, f"release version {version!r} should look like 1.2.0 or v1.2.0"))
    if out_dir is not None:
        refuse_source_folder(root, out_dir)
    problems, project = final_problems(root, allow_dirty)
    if problems:
        raise VoceunicaError(problems)
    from voceunica.validate import Project

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
        if STAGING_NAME.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
            if remove_stale(Path(entry.path)):
                removed.append(Path(entry.path))
    return removed


def deterministic_zip(version: str, files: dict[str, bytes], epoch: int) -> bytes:
    """Sorted entries under VERSION/, fixed timestamps and permissions: same files, same zip."""
    from voceunica.docx.package import deterministic_zip as zip_entries

    return zip_entries([(f"{version}/{name}", data) for name, data in files.items()], epoch)


def to_pdf(docx_files: dict[str, bytes]) -> tuple[dict[str, bytes], str | None]:
    """PDF of every DOCX through LibreOffice (see `voceunica.pdf`); without it, a note and no PDFs."""
    from voceunica.pdf import convert

    return convert(docx_files)


def changelogs(root: Path, project: object, version: str) -> dict[str, bytes]:
    """CHANGELOG.it.md / CHANGELOG.en.md from the semantic diff since the previous release tag."""
    from voceunica import gitrev
    from voceunica.diff import changelog, diff_projects
    from voceunica.validate import Project

    assert isinstance(project, Project)
    previous = previous_tag(root, version)
    if previous is not None:
        base = gitrev.project_at(root, previous)
    else:
        base = Project(project.root)
    d = diff_projects(base, project)
    out = {}
    titles = {"it": "Registro delle modifiche", "en": "Changelog"}
    since = {"it": "rispetto a", "en": "since"}
    first = {"it": "prima versione", "en": "first release"}
    for lang in ("it", "en"):
        head = f"# {titles[lang]} – {version}\n\n"
        head += f"*{since[lang]} {previous}*\n\n" if previous else f"*{first[lang]}*\n\n"
        out[f"CHANGELOG.{lang}.md"] = (head + changelog(d, lang).strip() + "\n").encode("utf-8")
    return out


def previous_tag(root: Path, version: str) -> str | None:
    """The newest version tag reachable from HEAD other than this release's own."""
    from voceunica import gitrev

    try:
        tags = str(gitrev.git(root, "tag", "--merged", "HEAD", "--sort=-creatordate")).split()
    except VoceunicaError:
        return None
    for tag in tags:
        if _VERSION.fullmatch(tag) and tag.lstrip("v") != version.lstrip("v"):
            return tag
    return None


def verify(folder: Path) -> list[Problem]:
    """Check a release folder against its manifest: every file there, each with its hash."""
    manifest_path = folder / MANIFEST
    shown = str(manifest_path)
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        listed = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [problem(shown, 1, 1, f"cannot read the manifest: {exc}")]
    out = []
    for name, entry in sorted(listed.items()):
        path = folder / name
        if not path.is_file():
            out.append(problem(str(path), 1, 1, "listed in the manifest but missing"))
            continue
        data = path.read_bytes()
        if len(data) != entry.get("size") or sha256(data) != entry.get("sha256"):
            out.append(problem(str(path), 1, 1, "differs from the manifest (SHA-256 or size)"))
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and name != MANIFEST and name not in listed:
            out.append(problem(str(path), 1, 1, "not listed in the manifest"))
    return out
