"""Reading the project as it was at a git revision, and what is not committed yet.

The content at REV is written blob by blob into a temporary folder and loaded
like any project, so every later stage works unchanged on old content.  Git is
a program we call, never a library we import.

The repository is untrusted: pull requests come from two administrations and
CI builds them, and a clone can come with any `.git/config`.  Git runs commands
that a repository names — fsmonitor, hooks, filter drivers (smudge, clean,
process), textconv and external diff drivers, pagers, gpg for `log.showSignature`,
remote helpers for a partial clone's lazy fetch — and attributes (export-ignore,
export-subst, filters, eol) change what `archive` and `checkout` produce.  So:

- every call goes through `git()`, which runs only the plumbing commands in
  `_PLUMBING`: none of them diffs, converts content, writes the index or refs,
  or runs a hook;
- with a clean environment (no inherited GIT_* can point it at another
  repository, index, config or program) and command-line config that wins
  over the repository's own for what is left (fsmonitor, hooks, pager, bare
  repositories committed into the project, replace refs, network);
- revisions are read with `ls-tree` and `cat-file --batch`: the bytes git
  stores, whatever the attributes say;
- the working tree is compared with HEAD by hashing its files here, so no
  clean filter or fsmonitor is ever asked.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, overload
from pathlib import Path, PurePosixPath

from voceunica.errors import Problem, VoceunicaError, general, problem
from voceunica.project import Project
from voceunica.validate import load_project

CONTENT = ("positions", "dossiers", "templates", "kpis", "eu-files")

# Commands that read objects, refs and the index and nothing else.  `status`, `diff`, `log`/`show`
# (textconv, external diff, showSignature → gpg.program), `archive`/`checkout` (filters, attributes),
# `hash-object` without --no-filters (clean filters) and `tag` (column.ui) are kept out on purpose.
_PLUMBING = frozenset({"rev-parse", "ls-tree", "cat-file", "ls-files", "for-each-ref"})

# Command-line config outranks the repository's `.git/config` (and is "protected" config, so
# safe.bareRepository is honoured from here).
_CONFIG = (
    "core.fsmonitor=false",  # every command that reads the index would run the repository's command
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.useReplaceRefs=false",  # refs/replace would change what a commit holds
    "safe.bareRepository=explicit",  # a committed folder with HEAD, config, objects/, refs/ is no repository
    "gc.auto=0",
    "maintenance.auto=false",
)

_MODE_FILE = {"100644", "100755"}
_MODE_LINK = "120000"
_MODE_GITLINK = "160000"


def _environment() -> dict[str, str]:
    # GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, GIT_OBJECT_DIRECTORY, GIT_CONFIG_*, GIT_EXEC_PATH,
    # GIT_EXTERNAL_DIFF, GIT_SSH_COMMAND... set by a CI step, a hook that runs voceunica or an .envrc
    # would point git elsewhere or at other programs; none is needed to read a repository.
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("GIT_")}
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_OPTIONAL_LOCKS="0",  # reading never rewrites .git/index
        GIT_LITERAL_PATHSPECS="1",  # a project folder named `*` or `:(glob)x` is a name, not a pattern
        GIT_NO_REPLACE_OBJECTS="1",
        # no transport at all: a partial clone would fetch missing blobs through the repository's
        # remote, and `protocol.ext.allow=always` there would make that a shell command
        GIT_ALLOW_PROTOCOL="",
        GIT_PAGER="cat",
    )
    return env


def _git_program() -> str | None:
    """git from the absolute folders of PATH only.

    An empty or relative PATH entry means the current folder, which is usually
    the repository, and the repository can ship an executable called `git`.  On
    Windows only git.exe: a .cmd/.bat goes through cmd.exe and its quoting."""
    names = ["git.exe"] if os.name == "nt" else ["git"]
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        if not folder or not os.path.isabs(folder):
            continue
        for name in names:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return None


@overload
def git(root: Path, *args: str, binary: Literal[False] = False, input: bytes | None = None) -> str: ...
@overload
def git(root: Path, *args: str, binary: Literal[True], input: bytes | None = None) -> bytes: ...
def git(root: Path, *args: str, binary: bool = False, input: bytes | None = None) -> str | bytes:
    """Run a plumbing command in the repository holding `root`; stdout, decoded unless `binary`."""
    if not args or args[0] not in _PLUMBING:
        raise ValueError(f"git {args[:1]} is not a command voceunica runs")
    program = _git_program()
    if program is None:
        raise VoceunicaError(general("git is not installed"))
    options = [arg for pair in _CONFIG for arg in ("-c", pair)]
    cmd = [program, "--no-pager", "--no-replace-objects", "-C", str(root), *options, *args]
    try:
        # stdin never the terminal's or CI's: git must not wait on it
        done = subprocess.run(cmd, input=input, stdin=subprocess.DEVNULL if input is None else None,
                              capture_output=True, check=False, env=_environment())
    except OSError as exc:
        raise VoceunicaError(general(f"cannot run git: {exc.strerror or exc}")) from None
    if done.returncode != 0:
        msg = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise VoceunicaError(general(f"git {' '.join(args[:2])}: {msg[-1] if msg else 'failed'}"))
    return done.stdout if binary else done.stdout.decode("utf-8", "replace")


def _text(root: Path, *args: str) -> str:
    return git(root, *args).strip()


def toplevel(root: Path) -> Path:
    return Path(_text(root, "rev-parse", "--show-toplevel"))


def _project_prefix(root: Path) -> str:
    """Where the project sits in the repository's tree ('' at the top, else 'sub/dir/')."""
    out = git(root, "rev-parse", "--show-toplevel", "--show-prefix", "--absolute-git-dir").split("\n")
    top, prefix, gitdir = Path(out[0]), out[1], Path(out[2])
    # The work tree is where the repository's .git is, unless `core.worktree` (which command-line
    # config cannot override) moves it: then the prefix is taken from the wrong folder and the
    # project's positions would be looked for at another path in the tree.
    if (top / prefix).resolve() != root.resolve() or _git_dir_of(top) != gitdir.resolve():
        raise VoceunicaError(general(f"git's work tree ({top}) is not the folder holding the "
                                                f"repository ({gitdir}): core.worktree is set?"))
    return prefix


def _git_dir_of(top: Path) -> Path | None:
    """The repository `top/.git` stands for: the folder, or where a worktree's or submodule's .git file points."""
    dotgit = top / ".git"
    try:
        if dotgit.is_dir():
            return dotgit.resolve()
        first = dotgit.read_text(encoding="utf-8").splitlines()[0]
    except (OSError, UnicodeDecodeError, IndexError):
        return None
    return (top / first[len("gitdir: "):]).resolve() if first.startswith("gitdir: ") else None


def resolve_rev(root: Path, rev: str) -> str:
    # rev-parse obeys, or passes through, an argument that looks like an option (and
    # --end-of-options is newer than some git still in use)
    if rev.startswith("-") or not rev:
        raise VoceunicaError(general(f"unknown git revision '{rev}'"))
    try:
        return _text(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except VoceunicaError:
        try:
            _text(root, "rev-parse", "--git-dir")
        except VoceunicaError:
            raise VoceunicaError(general(f"{root} is not in a git repository: there is no revision "
                                         f"'{rev}' to compare with")) from None
        raise VoceunicaError(general(f"unknown git revision '{rev}'")) from None


@dataclass(frozen=True)
class _Entry:
    mode: str
    kind: str
    oid: str
    path: str  # from the top of the repository


def _tree(root: Path, commit: str, prefix: str) -> list[_Entry]:
    """Every entry under the project's content folders (or the whole project) at `commit`."""
    paths = [f"{prefix}{c}" for c in CONTENT]
    out = git(root, "ls-tree", "-r", "-z", "--full-tree", commit, "--", *paths, binary=True)
    return [_parse_tree_line(raw) for raw in out.split(b"\0") if raw]


def _parse_tree_line(raw: bytes) -> _Entry:
    meta, _, name = raw.partition(b"\t")
    mode, kind, oid = meta.decode("ascii").split(" ")
    return _Entry(mode, kind, oid, os.fsdecode(name))


def _safe_relative(path: str) -> PurePosixPath | None:
    """`path` as a relative path that stays where it is put, or None.

    Git's own checks (no `..`, no `.git`, no absolute names) are made when it
    checks out or receives objects, not when it reads a tree; a hand-made tree
    object can hold any name."""
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or "\0" in path:
        return None
    if any(p in ("", ".", "..") or p.lower() == ".git" for p in parts):
        return None
    if os.name == "nt" and any(":" in p for p in parts):
        return None  # `C:x` changes drive, `a:b` names an NTFS stream
    return PurePosixPath(*parts)


def _blobs(root: Path, oids: list[str]) -> dict[str, bytes]:
    """The stored bytes of each blob: `cat-file --batch` applies no filter, textconv or attribute."""
    if not oids:
        return {}
    unique = sorted(set(oids))
    out = git(root, "cat-file", "--batch", input="".join(f"{o}\n" for o in unique).encode("ascii"),
              binary=True)
    found: dict[str, bytes] = {}
    pos = 0
    for oid in unique:
        eol = out.index(b"\n", pos)
        header = out[pos:eol].decode("ascii", "replace").split(" ")
        if len(header) != 3 or header[0] != oid or header[1] != "blob":
            why = " ".join(header[1:])
            raise VoceunicaError(general(f"git object {oid} is not a readable blob ({why})"))
        size = int(header[2])
        found[oid] = out[eol + 1:eol + 1 + size]
        pos = eol + 1 + size + 1  # the contents end with a newline of cat-file's own
    return found


def _materialise(root: Path, commit: str, prefix: str, out: Path) -> list[Problem]:
    """Write the project's content at `commit` into `out`; what was refused, as problems."""
    refused: list[Problem] = []
    files: list[tuple[PurePosixPath, str]] = []
    for entry in _tree(root, commit, prefix):
        shown = entry.path[len(prefix):] if entry.path.startswith(prefix) else entry.path
        rel = _safe_relative(entry.path)
        if rel is None:
            refused.append(problem(shown, 1, 1, f"a file name git cannot check out, at {commit[:12]}: not read"))
        elif entry.mode == _MODE_LINK:
            refused.append(problem(shown, 1, 1, f"a symbolic link at {commit[:12]}: only regular files are read"))
        elif entry.mode == _MODE_GITLINK:
            refused.append(problem(shown, 1, 1, f"a git submodule at {commit[:12]}: not read"))
        elif entry.mode in _MODE_FILE and entry.kind == "blob":
            files.append((rel, entry.oid))
        else:
            refused.append(problem(shown, 1, 1, f"git entry of mode {entry.mode} at {commit[:12]}: not read"))
    data = _blobs(root, [oid for _, oid in files])
    for rel, oid in files:
        target = out.joinpath(*rel.parts)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # O_EXCL: a tree naming one file twice (or twice but for case, on a folding file system)
            # does not get the second copy silently
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                         | getattr(os, "O_BINARY", 0), 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(data[oid])
        except OSError as exc:
            shown = rel.as_posix()[len(prefix):] if rel.as_posix().startswith(prefix) else rel.as_posix()
            refused.append(problem(shown, 1, 1, f"cannot be read at {commit[:12]}: {exc.strerror or exc}"))
    return refused


@contextmanager
def _checkout(root: Path, rev: str) -> Iterator[tuple[Path, list[Problem]]]:
    root = root.resolve()
    commit = resolve_rev(root, rev)
    prefix = _project_prefix(root)
    with tempfile.TemporaryDirectory(prefix="voceunica-rev-") as tmp:
        out = Path(tmp)
        refused = _materialise(root, commit, prefix, out)
        project_dir = out / prefix if prefix else out
        for c in CONTENT:
            (project_dir / c).mkdir(parents=True, exist_ok=True)
        yield project_dir, refused


@contextmanager
def checkout(root: Path, rev: str) -> Iterator[Path]:
    """A temporary folder holding the project's content as it was at `rev` (regular files only)."""
    with _checkout(root, rev) as (project_dir, _):
        yield project_dir


def project_at(root: Path, rev: str) -> Project:
    """The project at `rev`, loaded and validated; paths stay project-relative."""
    with _checkout(root, rev) as (tmp, refused):
        project = load_project(tmp)
        project.root = root.resolve()  # it is the same project, seen earlier
        project.problems[:] = sorted(set(project.problems + refused))
        return project


def head_commit(root: Path) -> str:
    return _text(root, "rev-parse", "--verify", "HEAD^{commit}")


def commit_time(root: Path, rev: str = "HEAD") -> int:
    """The committer date of `rev`, from the commit object itself (`log` would run gpg for
    a repository that sets log.showSignature)."""
    raw = git(root, "cat-file", "commit", resolve_rev(root, rev), binary=True)
    for line in raw.split(b"\n\n", 1)[0].split(b"\n"):
        if line.startswith(b"committer "):
            return int(line.rsplit(b" ", 2)[1])
    raise VoceunicaError(general(f"git commit {rev} has no committer line"))


def version_tags(root: Path) -> list[str]:
    """Tag names reachable from HEAD, newest first."""
    out = str(git(root, "for-each-ref", "--merged", "HEAD", "--sort=-creatordate",
                  "--format=%(refname:strip=2)", "refs/tags/"))
    return [line for line in out.splitlines() if line]


def _object_format(root: Path) -> str:
    try:
        fmt = _text(root, "rev-parse", "--show-object-format")
    except VoceunicaError:
        return "sha1"  # git before 2.25 knows no other
    if fmt not in ("sha1", "sha256"):
        raise VoceunicaError(general(f"git object format {fmt!r} is not supported"))
    return fmt


def _blob_id(data: bytes, fmt: str) -> str:
    return hashlib.new(fmt, b"blob %d\0" % len(data) + data).hexdigest()


def _index(root: Path) -> dict[str, tuple[str, str]]:
    """Index entries under the project: path → (mode, oid); conflicted paths map to ('', '')."""
    out = git(root, "ls-files", "-s", "-z", "--full-name", "--", ".", binary=True)
    entries: dict[str, tuple[str, str]] = {}
    for raw in out.split(b"\0"):
        if not raw:
            continue
        meta, _, name = raw.partition(b"\t")
        mode, oid, stage = meta.decode("ascii").split(" ")
        path = os.fsdecode(name)
        entries[path] = (mode, oid) if stage == "0" else ("", "")
    return entries


def _worktree_matches(path: Path, mode: str, oid: str, fmt: str) -> bool:
    try:
        st = os.lstat(path)
        if mode == _MODE_LINK:
            return stat.S_ISLNK(st.st_mode) and _blob_id(os.fsencode(os.readlink(path)), fmt) == oid
        if mode not in _MODE_FILE or not stat.S_ISREG(st.st_mode):
            return False
        data = path.read_bytes()
    except OSError:
        return False
    # a checkout with core.autocrlf (or eol=crlf) holds CRLF where git stores LF: the same text
    return _blob_id(data, fmt) == oid or (b"\r\n" in data and _blob_id(data.replace(b"\r\n", b"\n"), fmt) == oid)


def dirty_paths(root: Path) -> list[str]:
    """Project files (project-relative) that differ from HEAD: staged or not, deleted, or untracked.

    `git status` would refresh the index through the repository's fsmonitor
    command and clean filters; here git only lists HEAD, the index and the
    untracked files, and the working files are hashed in Python."""
    root = root.resolve()
    prefix = _project_prefix(root)
    fmt = _object_format(root)
    try:
        head = resolve_rev(root, "HEAD")
    except VoceunicaError:
        head = None  # no commit yet: everything is uncommitted
    committed: dict[str, tuple[str, str]] = {}
    if head is not None:
        listed = git(root, "ls-tree", "-r", "-z", "--full-tree", head, *(["--", prefix] if prefix else []),
                     binary=True)
        for raw in listed.split(b"\0"):
            if raw:
                e = _parse_tree_line(raw)
                committed[e.path] = (e.mode, e.oid)
    staged = _index(root)
    dirty: set[str] = set()
    for path in committed.keys() | staged.keys():
        mode, oid = committed.get(path, ("", ""))
        if mode == _MODE_GITLINK:
            continue  # a submodule's own state is not the project's
        if staged.get(path) != (mode, oid) or not _worktree_matches(root / path[len(prefix):], mode, oid, fmt):
            dirty.add(path)
    untracked = git(root, "ls-files", "-z", "--others", "--exclude-standard", "--directory",
                    "--no-empty-directory", "--full-name", "--", ".", binary=True)
    dirty.update(os.fsdecode(raw) for raw in untracked.split(b"\0") if raw)
    return sorted(p[len(prefix):] if p.startswith(prefix) else p for p in dirty)
