"""The check cache: `check`'s verdict on an input set, and what `build` made from that set.

Compose stage, beside pipeline.  A `check` records every project file it read
(path, size, mtime, ctime, inode and a SHA-256 of the bytes, from the stat of
the descriptor it read) and the stat of every folder and file of the project's
tree, with the problems it found.  The next `check` stats the same files: when
nothing changed it prints the stored problems without loading anything; a file
whose stat changed but whose bytes did not (`touch`, a checkout of the same
content) is hashed and kept.  Any other difference means a full check.

`build` keeps, per dossier, the stat of the outputs it wrote and the input set
they came from: a build whose inputs and outputs are unchanged is a stat of
both plus the stored verdict, and still refuses when that verdict has errors.

The cache lives outside the checkout (`$XDG_CACHE_HOME/voceunica`, by default
`~/.cache/voceunica`), one file per project (and per output folder), sealed
with an HMAC under a random key kept there (mode 0600).  The repository cannot
plant a cache: nothing it holds is ever read as one, and a file not sealed by
this installation's key — copied, restored, truncated, edited — is ignored.
The format is JSON: reading it can never run code.  A stat is trusted only
when this machine recorded it and the file had not changed within a clock tick
of the recording (git's "racy clean" rule); otherwise the content is hashed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voceunica import __version__
from voceunica.errors import Problem, Severity, VoceunicaError

MAGIC = b"voceunica-cache/1"
MAX_CACHE_BYTES = 64_000_000  # a verdict on 100 000 files; anything larger is not ours
MAX_CACHE_FILES = 256  # projects (and output folders) remembered; temporary test projects come and go
_KEY_BYTES = 32
# Folders of the project root that hold no inputs: outputs (a build must not invalidate the
# verdict it relied on) and tool folders.  Dot-folders at the root (.git, .venv) are skipped too.
_NOT_INPUTS = frozenset({"build", "dist", "site", "node_modules"})  # outputs (site: voceunica site)
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0))

Stat = list[int]  # [size, mtime_ns, ctime_ns, inode]; a tree entry has the mode first


def cache_home() -> Path | None:
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "voceunica"


def read_private(path: Path, limit: int) -> bytes | None:
    """A regular file of ours (not a link, not a FIFO, owned by this user, not writable by
    others), of at most `limit` bytes; None otherwise."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit or st.st_uid != os.getuid() or st.st_mode & 0o022:
            return None
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks) if size <= limit else None
    except OSError:
        return None
    finally:
        os.close(fd)


def cache_key(home: Path, *, create: bool) -> bytes | None:
    path = home / "key"
    key = read_private(path, _KEY_BYTES)
    if key is not None or not create:
        return key if key is not None and len(key) == _KEY_BYTES else None
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(home / f".key.{os.getpid()}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0),
                     0o600)
        try:
            os.write(fd, os.urandom(_KEY_BYTES))
        finally:
            os.close(fd)
        try:
            os.link(home / f".key.{os.getpid()}", path)  # all or nothing, and never over another's key
        except FileExistsError:
            pass
        finally:
            os.unlink(home / f".key.{os.getpid()}")
    except OSError:
        return None
    return cache_key(home, create=False)


def _seal(key: bytes, body: bytes) -> bytes:
    return MAGIC + b" " + hmac.new(key, body, hashlib.sha256).hexdigest().encode() + b"\n" + body


def _unseal(key: bytes, raw: bytes) -> Any:
    head, sep, body = raw.partition(b"\n")
    magic, _, mac = head.partition(b" ")
    if not sep or magic != MAGIC or not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256)
                                                              .hexdigest().encode()):
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def _load(name: str) -> tuple[Path, bytes, Any] | None:
    home = cache_home()
    if home is None:
        return None
    key = cache_key(home, create=False)
    raw = read_private(home / name, MAX_CACHE_BYTES) if key is not None else None
    if key is None or raw is None:
        return None
    body = _unseal(key, raw)
    return (home, key, body) if isinstance(body, dict) else None


def _store(name: str, body: dict[str, Any]) -> None:
    """Write a sealed cache file; a cache that cannot be written is no cache (never an error)."""
    from voceunica.write import Staging

    home = cache_home()
    key = cache_key(home, create=True) if home is not None else None
    if home is None or key is None:
        return
    try:
        with Staging(sync=False) as staging:
            staging.add(home / name, _seal(key, json.dumps(body, separators=(",", ":")).encode()))
            staging.commit()
        kept = sorted((e.stat().st_mtime_ns, e.path) for e in os.scandir(home) if e.name.endswith((".check", ".build")))
        for _, old in kept[:-MAX_CACHE_FILES]:  # projects not checked for longest go first
            os.unlink(old)
    except (VoceunicaError, OSError):
        pass


def _name(*parts: str, suffix: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32] + suffix


# --- what a verdict depends on besides the project --------------------------------------------

def code_digest() -> str:
    """This voceunica: its version, every file of the package (an editable install changes
    under us), the Python running it and what is installed beside it."""
    from voceunica import defaults

    h = hashlib.sha256(f"{__version__}\0{sys.version}\0{sys.executable}\0".encode())
    package = os.path.dirname(os.path.abspath(__file__))
    templates = defaults.templates_dir()  # an editable install's are the checkout's templates/, beside the package
    for top in [package] + ([str(templates)] if templates is not None else []):
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                st = os.stat(os.path.join(dirpath, name))
                h.update(f"{dirpath}/{name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    for entry in sys.path:  # installing or removing a package changes its site-packages folder
        if entry.endswith(("site-packages", "dist-packages")) and os.path.isdir(entry):
            h.update(f"{entry}\0{os.stat(entry).st_mtime_ns}\0".encode())
    return h.hexdigest()


def _environment() -> str:
    """What else `check`'s verdict depends on: the day (the EU files' state of play and the KPIs'
    staleness are judged as of clock.today: SOURCE_DATE_EPOCH, else today).  No other variable
    changes what check finds (VOCEUNICA_DEBUG only how a bug is printed); one that does must be
    named here, or a stored verdict would outlive it."""
    today = f"{dt.date.today()}\0{dt.datetime.now(dt.UTC).date()}\0"
    env = "".join(f"{k}={v}\0" for k, v in sorted(os.environ.items()) if k == "SOURCE_DATE_EPOCH")
    return hashlib.sha256((code_digest() + today + env).encode()).hexdigest()


# --- stats ---------------------------------------------------------------------------------------

def _racy(ctime_ns: int, seen_ns: int) -> bool:
    """Could the file change again without its ctime changing?  Yes while the clock that
    stamps files had not moved on between its last change and when we looked: a tick
    (< 10 ms on Linux) where timestamps have sub-millisecond digits, 2 s where they do not."""
    window = 2_000_000_000 if ctime_ns % 1_000_000 == 0 else 50_000_000
    return ctime_ns >= seen_ns - window


def _stat(st: os.stat_result) -> Stat:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def tree(root: str) -> dict[str, Stat]:
    """Mode and stat of every folder and file of the project (lstat: links are not followed),
    but outputs, tool folders and dot-folders at the root: a file added, removed or renamed
    anywhere changes its folder's stat."""
    st = os.lstat(root)
    out: dict[str, Stat] = {".": [st.st_mode, *_stat(st)]}
    todo = [("", root)]
    while todo:
        rel, path = todo.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue  # unreadable now: the loader could not list it either, and its stat is recorded
        for e in entries:
            if (not rel and (e.name.startswith(".") or e.name in _NOT_INPUTS)) or e.name == "__pycache__":
                continue
            r = f"{rel}/{e.name}" if rel else e.name
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            out[r] = [st.st_mode, *_stat(st)]
            if stat.S_ISDIR(st.st_mode):
                todo.append((r, e.path))
    return out


# --- check's verdict -----------------------------------------------------------------------------

@dataclass
class Verdict:
    problems: list[Problem]
    counts: tuple[int, int, int]  # positions, dossiers, annexes
    dossiers: list[str]
    input_set: str  # a digest of the inputs' content: what build's manifest is keyed by

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


class Recorder:
    """Collects what one `check` read (set as load.read_hook while it runs) and stores its verdict."""

    def __init__(self, root: Path) -> None:
        self.root = os.path.realpath(root)
        self.prefix = self.root.rstrip("/") + "/"
        self.seen = time.time_ns()  # before any stat: a change after it gives a later ctime
        self.tree = tree(self.root)
        self.reads: dict[str, list[Any]] = {}
        self.usable = True

    def __call__(self, path: Path, st: os.stat_result, data: bytes) -> None:
        name = str(path)
        if name.startswith(self.prefix) and "/." not in name and os.sep == "/":  # the loader's paths: root/...
            rel = name[len(self.prefix):]
        else:
            rel = os.path.relpath(os.path.abspath(path), self.root)
            if rel.startswith(os.pardir) or os.path.isabs(rel):
                self.usable = False  # read outside the project: not a verdict on this project alone
                return
            rel = Path(rel).as_posix()
        sha = hashlib.sha256(data).hexdigest()
        if rel in self.reads and self.reads[rel][4] != sha:
            self.usable = False  # it changed between two reads: record nothing
        self.reads.setdefault(rel, [*_stat(st), sha])

    def input_set(self) -> str:
        h = hashlib.sha256()
        for rel, entry in sorted(self.reads.items()):
            h.update(f"{rel}\0{entry[4]}\0".encode())
        for rel, entry in sorted(self.tree.items()):
            if rel not in self.reads and not stat.S_ISDIR(entry[0]):
                h.update(f"{rel}\0{entry[0]}\0{entry[1]}\0{entry[2]}\0".encode())
        return h.hexdigest()

    def store(self, problems: list[Problem], counts: tuple[int, int, int], dossiers: list[str]) -> str:
        input_set = self.input_set()
        if self.usable:
            _store(_name(self.root, suffix=".check"), {
                "root": self.root, "env": _environment(), "seen": self.seen, "tree": self.tree,
                "reads": {rel: [*entry, self.seen] for rel, entry in self.reads.items()},
                "problems": [[p.path, p.line, p.col, p.message, p.severity.value] for p in problems],
                "counts": list(counts), "dossiers": dossiers, "input_set": input_set,
            })
        return input_set


def _ints(value: Any, n: int) -> bool:
    return isinstance(value, list) and len(value) == n and all(type(v) is int for v in value)


def _problems(value: Any) -> list[Problem] | None:
    if not isinstance(value, list):
        return None
    out = []
    for p in value:
        if not (isinstance(p, list) and len(p) == 5 and isinstance(p[0], str) and type(p[1]) is int
                and type(p[2]) is int and isinstance(p[3], str) and p[4] in ("error", "warning", "note")):
            return None
        out.append(Problem(p[0], p[1], p[2], p[3], Severity(p[4])))
    return out


def verdict(root: Path) -> Verdict | None:
    """`check`'s stored verdict when nothing it depends on changed since, else None."""
    real = os.path.realpath(root)
    name = _name(real, suffix=".check")
    found = _load(name)
    if found is None:
        return None
    body = found[2]
    seen, recorded, reads = body.get("seen"), body.get("tree"), body.get("reads")
    problems = _problems(body.get("problems"))
    counts, dossiers, input_set = body.get("counts"), body.get("dossiers"), body.get("input_set")
    if (body.get("root") != real or type(seen) is not int or not isinstance(recorded, dict)
            or not isinstance(reads, dict) or problems is None or not _ints(counts, 3)
            or not isinstance(dossiers, list) or not all(isinstance(d, str) for d in dossiers)
            or not isinstance(input_set, str) or body.get("env") != _environment()):
        return None
    # Every folder and unread file as it was when the verdict was made (their content was never read:
    # their stat is all the verdict depended on) ...
    now = tree(real)
    for rel, entry in recorded.items():
        if not isinstance(rel, str) or not _ints(entry, 5):
            return None
        if rel in reads and stat.S_ISREG(entry[0]):
            continue  # a file read: judged by its content below
        if now.get(rel) != entry or _racy(entry[3], seen):
            return None
    if any(rel not in recorded for rel in now):
        return None
    # ... and every file read unchanged: same stat, or (a stat that changed, or one taken too close
    # to the file's last change to be sure) the same bytes.
    refreshed = False
    for rel, entry in reads.items():
        if not (isinstance(rel, str) and isinstance(entry, list) and len(entry) == 6
                and _ints(entry[:4] + entry[5:], 5) and isinstance(entry[4], str)):
            return None
        path = os.path.join(real, rel)
        try:
            st = _stat(os.stat(path))
        except OSError:
            return None
        if st == entry[:4] and not _racy(entry[2], entry[5]):
            continue
        from voceunica.load import read_project_file  # only when a file must be read again

        before = time.time_ns()
        try:
            data = read_project_file(Path(real), Path(path), rel, limit=MAX_CACHE_BYTES)
        except VoceunicaError:
            return None
        if hashlib.sha256(data).hexdigest() != entry[4]:
            return None
        entry[:] = [*st, entry[4], before]  # the same bytes: trust this stat next time
        refreshed = True
    if refreshed:
        _store(name, body)
    return Verdict(problems, (counts[0], counts[1], counts[2]), list(dossiers), input_set)


# --- build's manifest --------------------------------------------------------------------------

def _build_name(root: str, out_dir: Path) -> str:
    return _name(root, os.path.realpath(out_dir), suffix=".build")


def build_mode(epoch: int | None, pdf: bool) -> str:
    """What outputs depend on besides the inputs: the code and the options."""
    return f"{code_digest()}:{epoch}:{pdf}"


def built(root: Path, out_dir: Path) -> dict[str, dict[str, Any]]:
    """What this machine built into `out_dir`, by dossier: {"inputs": the digest of its inputs,
    "files": {name: SHA-256}}.  The build cache in the output folder can be committed with forged
    outputs beside it; only this record says which outputs came from which inputs."""
    real = os.path.realpath(root)
    found = _load(_build_name(real, out_dir))
    entries = found[2].get("dossiers") if found is not None and found[2].get("root") == real else None
    out = {}
    for dossier, entry in (entries.items() if isinstance(entries, dict) else ()):
        if isinstance(entry, dict) and isinstance(entry.get("inputs"), str) and isinstance(entry.get("files"), dict) \
                and all(isinstance(v, str) for v in entry["files"].values()):
            out[dossier] = {"inputs": entry["inputs"], "files": dict(entry["files"])}
    return out


def record_build(root: Path, out_dir: Path, mode: str, input_set: str, made: dict[str, dict[str, Any]]) -> None:
    """After a build: each dossier's outputs as they are now ({"inputs": digest, "files": {name: SHA-256}},
    the stat of each file), made from `input_set` in `mode`.  Entries of dossiers not in `made` are
    kept (a later build checks them before use)."""
    real = os.path.realpath(root)
    name = _build_name(real, out_dir)
    found = _load(name)
    old = found[2].get("dossiers") if found is not None and found[2].get("root") == real else None
    entries: dict[str, Any] = old if isinstance(old, dict) else {}
    stats: dict[str, dict[str, list[int]]] = {}
    for dossier, entry in made.items():
        seen = time.time_ns()
        files = {}
        for n in sorted(entry["files"]):
            try:
                st = os.lstat(out_dir / n)
            except OSError:
                break
            files[n] = [*_stat(st), seen]
        else:
            stats[dossier] = files
    if any(_racy(f[2], f[4]) for files in stats.values() for f in files.values()):
        time.sleep(0.06)  # just written: let the clock tick once, or the next build must hash them all
        for files in stats.values():
            for f in files.values():
                f[4] = time.time_ns()
    for dossier, files in stats.items():
        entries[dossier] = {"mode": mode, "input_set": input_set, "outputs": files,
                            "inputs": made[dossier]["inputs"], "files": made[dossier]["files"]}
    _store(name, {"root": real, "dossiers": entries})


def fresh_build(root: Path, ids: list[str], out_dir: Path | None, *, force: bool, pdf: bool,
                epoch: int | None) -> list[str] | None:
    """The dossiers a build would consider (all when `ids` is empty) when the stored verdict
    holds and every one's outputs are those it made from the same inputs, by stat alone;
    None when anything must be looked at more closely.  Raises VoceunicaError with the
    verdict's problems when it has errors: build refuses as check would."""
    if force:
        return None
    v = verdict(root)
    if v is None:
        return None
    if v.errors:
        raise VoceunicaError(v.problems)
    wanted = list(ids) or sorted(v.dossiers)
    if not wanted or any(d not in v.dossiers for d in wanted):
        return None  # the full build names what is unknown
    target = out_dir if out_dir is not None else Path(root) / "build"
    found = _load(_build_name(os.path.realpath(root), target))
    entries = found[2].get("dossiers") if found is not None else None
    if not isinstance(entries, dict):
        return None
    try:
        if any(e.name.startswith(".") and e.name.endswith(".tmp") for e in os.scandir(target)):
            return None  # a killed build's litter: the full path cleans it
    except OSError:
        return None
    mode = build_mode(epoch, pdf)
    for d in wanted:
        entry = entries.get(d)
        if not (isinstance(entry, dict) and entry.get("mode") == mode and entry.get("input_set") == v.input_set
                and isinstance(entry.get("outputs"), dict) and entry["outputs"]):
            return None
        for n, recorded in entry["outputs"].items():
            if not (isinstance(n, str) and _ints(recorded, 5)) or "/" in n or n.startswith("."):
                return None
            try:
                st = os.lstat(target / n)
            except OSError:
                return None
            if not stat.S_ISREG(st.st_mode) or _stat(st) != recorded[:4] or _racy(recorded[2], recorded[4]):
                return None
    return wanted
