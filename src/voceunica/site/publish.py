"""`voceunica site`: the preview site composed and written — beside pipeline.py, not the HTML writer.

The HTML writer (`voceunica.site`) sits with the Word writer and knows
nothing of git or of the disk.  This module gathers what it needs and writes
what it makes:

- **history**: each position's versions along the first-parent history of
  HEAD, read with `cat-file` only (gitrev's plumbing: no `log`, no checkout),
  each version parsed and validated like a file of the working tree and
  compared with the previous one by the semantic diff (`diff.compare_models`).
  Without `--drafts`, only versions whose status was agreed (or adopted) are shown: a text
  that was a draft then is never published now;
- **releases**: `dist/VERSION/manifest.json` (read with the release's own
  checks) and its changelogs; the DOCX/PDF files linked with their SHA-256;
- **charts**: the PNG `build` wrote, when build's cache says it is current
  (so the site takes well under a second after a build), else drawn again;
- the whole site is staged and renamed into place (`write.Staging`); files an
  earlier run wrote that this one does not (a draft position's page, after a
  `--drafts` run) are removed, and only those: `.voceunica-site.json` lists them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from voceunica import gitrev
from voceunica.diff import compare_models
from voceunica.errors import Problem, VoceunicaError, general
from voceunica.load import read_project_file
from voceunica.model import BINDING_STATUSES, Position
from voceunica.clock import source_date_epoch
from voceunica.pipeline import CACHE_NAME, MAX_OUTPUT_BYTES, check, inputs_digest
from voceunica.project import Project
from voceunica.site import Change, Release, ReleasedFile, Version, included, render_site
from voceunica.validate import validate_model
from voceunica.write import Staging, refuse_source_folder

LISTING = ".voceunica-site.json"
MAX_COMMITS = 2000  # how far back the history goes along first parents
_CHUNK = 200


@dataclass
class SiteResult:
    folder: Path
    files: list[str]
    positions: int
    dossiers: int
    removed: list[str]


def build_site(root: Path, out_dir: Path | None = None, *, drafts: bool = False,
               dist: Path | None = None) -> SiteResult:
    """Check the project, render the site and write it into `out_dir` (default `site/`)."""
    if out_dir is not None:
        refuse_source_folder(root, out_dir)
    project = _checked(root)
    target = (out_dir if out_dir is not None else project.root / "site").resolve()
    dist_dir = (dist if dist is not None else project.root / "dist").resolve()
    releases = find_releases(dist_dir, os.path.relpath(dist_dir, target))
    files = site_files(project, drafts=drafts, releases=releases, build_dir=project.root / "build")
    removed = write_site(target, files)
    positions, dossiers = included(project, drafts)
    return SiteResult(target, sorted(files), len(positions), len(dossiers), removed)


def _checked(root: Path) -> Project:
    """The project, refused when `check` finds errors — by check's stored verdict when nothing changed
    since it was given (checkcache: the site then loads the project but compiles no template twice)."""
    from voceunica.checkcache import verdict
    from voceunica.validate import load_project

    known = verdict(root)
    if known is None:
        project = check(root)
    else:
        if known.errors:
            raise VoceunicaError(known.problems)
        project = load_project(root)
    if project.errors:
        raise VoceunicaError(project.problems)
    return project


def site_files(project: Project, *, drafts: bool, releases: list[Release],
               build_dir: Path | None = None, charts: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """Every file of the site; `charts`: the images already made (a release has them all), by name."""
    try:
        history: dict[str, list[Version]] | None = position_history(project, drafts)
    except VoceunicaError:
        history = None  # not a git repository (or no commit yet): the history pages say so
    built = _built_images(project, build_dir) if build_dir is not None and charts is None else {}

    def images(dossier_id: str) -> dict[str, bytes]:
        if charts is not None:
            return charts
        if dossier_id not in built:  # build/ has none from today's inputs: made as build makes them
            from voceunica.pipeline import render_dossier

            made = render_dossier(project, dossier_id, source_date_epoch())
            built[dossier_id] = {n: d for n, d in made.items() if n.endswith(".png") and isinstance(d, bytes)}
        return built[dossier_id]

    return render_site(project, drafts=drafts, history=history, releases=releases, images=images)


def _built_images(project: Project, build_dir: Path) -> dict[str, dict[str, bytes]]:
    """Per dossier, the images in build/ that build's cache vouches for: made from today's inputs, unchanged since."""
    try:
        cache = json.loads(read_project_file(build_dir, build_dir / CACHE_NAME, CACHE_NAME).decode("utf-8"))
    except (OSError, ValueError, VoceunicaError):
        return {}
    if not isinstance(cache, dict):
        return {}
    out: dict[str, dict[str, bytes]] = {}
    epoch = source_date_epoch()
    for dossier_id in project.dossiers:
        entry = cache.get(dossier_id)
        if not isinstance(entry, dict) or not isinstance(entry.get("files"), dict):
            continue
        if entry.get("inputs") not in (digest := inputs_digest(project, dossier_id, epoch), digest + ":pdf"):
            continue
        found: dict[str, bytes] = {}
        for name, sha in entry["files"].items():
            if not (isinstance(name, str) and name.endswith(".png") and "/" not in name):
                continue
            try:
                data = read_project_file(build_dir, build_dir / name, name, limit=MAX_OUTPUT_BYTES)
            except VoceunicaError:
                break
            if hashlib.sha256(data).hexdigest() != sha:
                break
            found[name] = data
        else:
            out[dossier_id] = found
    return out


# --- history ------------------------------------------------------------------------------------------

def _batch_check(root: Path, names: list[str]) -> list[str | None]:
    """The object id each revision expression names, or None where it names nothing."""
    if not names:
        return []
    out = gitrev.git(root, "cat-file", "--batch-check", input="".join(f"{n}\n" for n in names).encode())
    lines = out.splitlines()
    if len(lines) != len(names):
        raise VoceunicaError(general("git cat-file --batch-check: unexpected output"))
    return [None if line.endswith(" missing") or " " not in line else line.split(" ")[0] for line in lines]


def first_parents(root: Path) -> list[str]:
    """HEAD and its first parents, newest first (at most MAX_COMMITS), in a few batches."""
    commits: list[str] = []
    tip: str | None = "HEAD"  # (no commit yet: HEAD~0 is missing, and the history is empty)
    while tip is not None and len(commits) < MAX_COMMITS:
        got = [c for c in _batch_check(root, [f"{tip}~{k}" for k in range(_CHUNK)]) if c is not None]
        commits += got
        tip = _batch_check(root, [f"{got[-1]}~1"])[0] if len(got) == _CHUNK else None
    return commits[:MAX_COMMITS]


def _commit_date(raw: bytes) -> str:
    """The committer date of a commit object, YYYY-MM-DD (UTC)."""
    for line in raw.split(b"\n\n", 1)[0].split(b"\n"):
        if line.startswith(b"committer "):
            return dt.datetime.fromtimestamp(int(line.rsplit(b" ", 2)[1]), tz=dt.UTC).date().isoformat()
    return ""


def position_history(project: Project, drafts: bool) -> dict[str, list[Version]]:
    """For each position the site shows: its versions, oldest first, each with its changes."""
    from voceunica.load import parse_yaml

    root = project.root
    commits = first_parents(root)
    shown, _ = included(project, drafts)
    rels = {p.id: project.files[f"position:{p.id}"].relative_to(root).as_posix() for p in shown}
    ids = list(rels)
    blobs = _batch_check(root, [f"{c}:./{rels[pid]}" for pid in ids for c in commits])
    history: dict[str, list[tuple[str, str]]] = {}  # position -> (commit, blob), oldest first
    for i, pid in enumerate(ids):
        row = blobs[i * len(commits):(i + 1) * len(commits)]
        last = None
        for commit, blob in reversed(list(zip(commits, row, strict=True))):
            if blob is not None and blob != last:
                history.setdefault(pid, []).append((commit, blob))
            last = blob
    # every blob and commit object wanted, in one cat-file call
    data = _objects(root, sorted({o for versions in history.values() for pair in versions for o in pair}))
    dates = {c: _commit_date(data[c]) for versions in history.values() for c, _ in versions}
    out: dict[str, list[Version]] = {}
    for pid, versions in history.items():
        previous: Position | None = None
        listed: list[Version] = []
        for commit, blob in versions:
            loaded, problems = parse_yaml(data[blob], rels[pid])
            found: list[Problem] = list(problems)
            pos = validate_model(Position, loaded, found) if loaded is not None else None
            # Agreed then: its status said so, which `check` (and CI) allowed only with both regions'
            # approvals of that very text; today's fingerprint rules may differ from the ones it was signed under.
            if pos is None or (not drafts and pos.status not in BINDING_STATUSES):
                continue  # unreadable now, or not agreed then: not shown
            changes: tuple[Change, ...] = ()
            if previous is not None:
                changes = tuple(Change(c.field, c.lang, c.old, c.new, tuple(c.words))
                                for c in compare_models(previous, pos)
                                if not c.field.startswith(("translated_from", "signoffs")))
                if not changes and pos.version == previous.version and pos.status == previous.status:
                    continue  # the same content, rewritten (a comment, the layout)
            listed.append(Version(commit, dates.get(commit, ""), pos.version, pos.status, changes))
            previous = pos
        out[pid] = listed
    return out


def _objects(root: Path, oids: list[str]) -> dict[str, bytes]:
    """The stored bytes of each object (`cat-file --batch`: no filter, textconv or attribute applies)."""
    if not oids:
        return {}
    raw = gitrev.git(root, "cat-file", "--batch", input="".join(f"{o}\n" for o in oids).encode(), binary=True)
    found: dict[str, bytes] = {}
    pos = 0
    for oid in oids:
        eol = raw.index(b"\n", pos)
        header = raw[pos:eol].split(b" ")
        size = int(header[2]) if len(header) == 3 and header[1] in (b"blob", b"commit") else 0
        found[oid] = raw[eol + 1:eol + 1 + size]
        pos = eol + 1 + size + 1
    return found


# --- releases -----------------------------------------------------------------------------------------

def find_releases(dist: Path, href_prefix: str) -> list[Release]:
    """Every release folder in `dist` with a well-formed manifest; hrefs as seen from the site's folder."""
    from voceunica.release import MANIFEST

    out = []
    try:
        entries = sorted(e.name for e in os.scandir(dist) if e.is_dir(follow_symlinks=False))
    except OSError:
        return []
    for name in entries:
        try:
            raw = read_project_file(dist, dist / name / MANIFEST, f"{name}/{MANIFEST}", limit=64 << 20)
        except VoceunicaError:
            continue
        release = release_from(raw, f"{name}/{MANIFEST}", lambda n, v=name: _read_text(dist, f"{v}/{n}"),
                               f"{href_prefix}/{name}/" if href_prefix != "." else f"{name}/")
        if release is not None:
            out.append(release)
    return out


def _read_text(folder: Path, name: str) -> str:
    try:
        return read_project_file(folder, folder / name, name).decode("utf-8")
    except (VoceunicaError, UnicodeDecodeError):
        return ""


def release_from(manifest: bytes, shown: str, changelog: object, href_prefix: str) -> Release | None:
    """A release as the site shows it, from its manifest (checked as `verify` checks it) and changelogs."""
    from voceunica.release import read_manifest

    listed, problems = read_manifest(manifest, shown)
    if problems:
        return None
    meta = json.loads(manifest.decode("utf-8"))
    version = str(meta.get("release", ""))
    epoch = meta.get("source_date_epoch")
    date = dt.datetime.fromtimestamp(epoch, tz=dt.UTC).date().isoformat() if isinstance(epoch, int) else ""
    files = tuple(ReleasedFile(n, str(e["sha256"]), int(str(e["size"])), href_prefix + n)
                  for n, e in sorted(listed.items()) if n.endswith((".docx", ".pdf")) and "/" not in n)
    read = changelog if callable(changelog) else (lambda _n: "")
    return Release(version, date, {lang: str(read(f"CHANGELOG.{lang}.md")) for lang in ("it", "en")}, files)


def release_site(project: Project, version: str, files: dict[str, bytes], dist: Path, epoch: int) -> dict[str, bytes]:
    """The site of a release, as `site/...` files beside the released ones: agreed content only, this
    release (its changelogs, its DOCX/PDF with their SHA-256) and the earlier ones in `dist`."""
    this = Release(version, dt.datetime.fromtimestamp(epoch, tz=dt.UTC).date().isoformat(),
                   {lang: files.get(f"CHANGELOG.{lang}.md", b"").decode("utf-8") for lang in ("it", "en")},
                   tuple(ReleasedFile(n, hashlib.sha256(d).hexdigest(), len(d), f"../{n}")
                         for n, d in sorted(files.items()) if n.endswith((".docx", ".pdf"))))
    earlier = [r for r in find_releases(dist, "../..") if r.version != version]
    charts = {n: d for n, d in files.items() if n.endswith(".png")}
    site = site_files(project, drafts=False, releases=[this, *earlier], charts=charts)
    return {f"site/{name}": data for name, data in site.items()}


# --- writing ------------------------------------------------------------------------------------------

def write_site(target: Path, files: dict[str, bytes]) -> list[str]:
    """Stage every file, rename them all into place, then remove what an earlier run wrote and this one did not."""
    previous: list[str] = []
    try:
        listed = json.loads(read_project_file(target, target / LISTING, LISTING).decode("utf-8"))
        if isinstance(listed, list):
            previous = [n for n in listed if isinstance(n, str)]
    except (OSError, ValueError, VoceunicaError):
        pass
    with Staging(sync=False) as staging:
        for name in sorted(files):
            staging.add(target / name, files[name])
        staging.add(target / LISTING, json.dumps(sorted(files), indent=0) + "\n")
        staging.commit()
    removed = []
    base = target.resolve()
    for name in sorted(set(previous) - set(files)):
        path = (target / name)
        parts = name.split("/")
        if name.startswith("/") or any(p in ("", ".", "..") for p in parts) or base not in path.resolve().parents:
            continue  # the listing is a file on disk like any other: it names nothing outside the site
        try:
            if path.is_file() and not path.is_symlink():
                path.unlink()
                removed.append(name)
        except OSError:
            pass
    return removed
