"""Stage 5 — write: put finished bytes on disk, never half a file.

Every file is written to a temporary name in the target folder and renamed
into place, so a reader (or a crash) sees the old file or the new one,
never a torn one.  A set of files (a build) is staged completely before
the first rename, so a full disk changes nothing.  Files that must survive
a power cut too (sources, releases) are fsynced, with their folder.

A killed run leaves its temporary files behind; the next run that writes
into that folder removes them.  Each writer holds an flock on its temporary
file while it lives, so a temporary file whose lock can be taken belongs to
a dead process: only those are removed, never a running writer's.

Several source files changed together (an XLIFF import) are swapped in under
a journal: written first, then renamed.  `recover()` finishes such a swap
that a kill interrupted, so the files are never half old, half new.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from voceunica.errors import VoceunicaError, problem

# what tempfile.mkstemp(prefix=".NAME.", suffix=".tmp") names a file: the 8 random characters are its alphabet
TEMP_NAME = re.compile(r"\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp")
JOURNAL = ".voceunica-journal.json"
SOURCE_NAME = re.compile(r"[^/]+\.ya?ml")  # the files voceunica edits in place, in positions/

def cannot_write(path: Path | str, exc: OSError) -> VoceunicaError:
    # absolute: the CLI shows it relative to where the user stands, whatever -C says
    return VoceunicaError(problem(os.path.abspath(path), 1, 1, f"cannot write: {exc.strerror or exc}"))


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename is still atomic
    finally:
        os.close(fd)


def _locked_by_a_dead_process(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return False
        raise
    return True


def remove_stale(path: Path) -> bool:
    """Remove a temporary file or staging folder if no live process holds it (see the module docstring)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False  # gone already, a symlink, or not ours to open
    try:
        if not _locked_by_a_dead_process(fd):
            return False
        before = os.fstat(fd)
        now = os.lstat(path)
        if (before.st_dev, before.st_ino) != (now.st_dev, now.st_ino):
            return False  # renamed into place meanwhile: that name is someone else's now
        if stat.S_ISDIR(now.st_mode):
            import shutil

            shutil.rmtree(path, ignore_errors=True)
        elif stat.S_ISREG(now.st_mode):
            os.unlink(path)
        else:
            return False
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def stale_temps(folder: Path) -> dict[str, list[Path]]:
    """Temporary files in `folder` by the name they were to become (see TEMP_NAME)."""
    found: dict[str, list[Path]] = {}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        m = TEMP_NAME.fullmatch(entry.name)
        if m and entry.is_file(follow_symlinks=False):
            found.setdefault(m.group("target"), []).append(Path(entry.path))
    return found


def clean_stale_temps(folder: Path, targets: re.Pattern[str]) -> list[Path]:
    """Temporary files a killed writer left in `folder` for a file whose name matches `targets`.

    Only names voceunica writes there count: another program's temporary file
    with a look-alike name is not ours to remove (and holds no lock of ours)."""
    removed: list[Path] = []
    for target, temps in stale_temps(folder).items():
        if targets.fullmatch(target):
            removed.extend(p for p in temps if remove_stale(p))
    return removed


class Staging:
    """Files written beside their targets under temporary names, renamed into place by `commit()`.

    Used as a context manager: leaving it without `commit()` (an error, Ctrl-C)
    removes every temporary file, so a failed run leaves nothing behind.
    """

    def __init__(self, *, sync: bool = True) -> None:
        self.sync = sync
        self.staged: list[tuple[Path, str, int]] = []  # target, temporary file, its open (locked) fd
        self._stale: dict[Path, dict[str, list[Path]]] = {}  # by folder: read once, not once per file

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()

    def add(self, path: Path, data: bytes | str) -> None:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        folder = path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise VoceunicaError(problem(os.path.abspath(folder), 1, 1,
                                         "cannot write here: a file of that name is in the way")) from None
        except OSError as exc:
            raise VoceunicaError(problem(os.path.abspath(folder), 1, 1,
                                         f"cannot create the folder: {exc.strerror}")) from None
        if folder not in self._stale:
            self._stale[folder] = stale_temps(folder)
        for temp in self._stale[folder].pop(path.name, []):
            remove_stale(temp)  # a killed run's attempt at this very file
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        except OSError as exc:
            raise cannot_write(path, exc) from None
        self.staged.append((path, tmp, fd))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # alive: see remove_stale
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view):]
            try:
                mode = stat.S_IMODE(os.stat(path).st_mode)  # a source keeps its permissions
            except OSError:
                mode = 0o644  # mkstemp makes files private; outputs are for everyone who can read the folder
            os.fchmod(fd, mode)
            if self.sync:
                os.fsync(fd)
        except OSError as exc:
            raise cannot_write(path, exc) from None

    def commit(self) -> list[Path]:
        """Rename every staged file into place, in the order added."""
        done = []
        try:
            while self.staged:
                path, tmp, fd = self.staged[0]
                try:
                    os.replace(tmp, path)
                except OSError as exc:
                    raise cannot_write(path, exc) from None
                self.staged.pop(0)
                os.close(fd)
                done.append(path)
        finally:
            if self.sync:
                for folder in sorted({p.parent for p in done}):
                    fsync_dir(folder)
        return done

    def abort(self) -> None:
        while self.staged:
            _, tmp, fd = self.staged.pop()
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            os.close(fd)


def atomic_write(path: Path, data: bytes | str) -> None:
    with Staging() as staging:
        staging.add(path, data)
        staging.commit()


def write_all(out_dir: Path, files: Mapping[str, bytes | str], *, sync: bool = True) -> list[Path]:
    """Write a set of named outputs (names relative to `out_dir`): all staged first, then renamed.
    A failure (a full disk) leaves every earlier file as it was."""
    with Staging(sync=sync) as staging:
        for name in sorted(files):
            staging.add(out_dir / name, files[name])
        return staging.commit()


# --- several sources at once --------------------------------------------------------------------------------

def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha(path: Path) -> str | None:
    try:
        return _sha(path.read_bytes())
    except OSError:
        return None


def replace_together(root: Path, files: dict[Path, bytes | str]) -> None:
    """Change several files under `root` all or none, even if killed half-way.

    Every new file is staged (and synced) first; then a journal naming each
    temporary file, its target and the target's old and new hash is written
    at `root/JOURNAL`: from that moment the change is decided, and `recover()`
    finishes it if this process dies before the last rename.  Before the
    journal exists, a kill leaves only temporary files, which the next run
    removes: nothing changed.
    """
    recover(root)  # an earlier import, killed, is finished before this one starts
    if len(files) <= 1:
        for path, data in files.items():
            atomic_write(path, data)
        return
    journal = root / JOURNAL
    with Staging() as staging:
        entries = []
        before: dict[Path, bytes | None] = {}
        for path in sorted(files):
            data = files[path]
            raw = data.encode("utf-8") if isinstance(data, str) else data
            old: bytes | None
            try:
                old = path.read_bytes()
            except OSError:
                old = None
            before[path] = old
            staging.add(path, raw)
            entries.append({"target": os.path.relpath(path, root),
                            "temp": os.path.relpath(staging.staged[-1][1], root),
                            "old": None if old is None else _sha(old), "new": _sha(raw)})
        record = json.dumps({"voceunica": "replace-together@1", "files": entries}, indent=1) + "\n"
        with Staging() as jstage:
            jstage.add(journal, record)
            jfd = os.dup(jstage.staged[0][2])  # keep the journal locked while we work on it
            try:
                jstage.commit()
            except BaseException:
                os.close(jfd)
                raise
        try:
            staging.commit()
        except VoceunicaError:
            # a rename refused: put back the files already swapped, so still none changed
            for path, old in before.items():
                if old is not None and _file_sha(path) != _sha(old):
                    with contextlib.suppress(VoceunicaError):
                        atomic_write(path, old)
            os.unlink(journal)
            raise
        except BaseException:
            # Ctrl-C between two renames: like a kill, the journal and the files still to rename
            # stay for `recover()`, which the next command runs
            for _, _, fd in staging.staged:
                os.close(fd)
            staging.staged.clear()
            raise
        else:
            os.unlink(journal)
            fsync_dir(root)
        finally:
            os.close(jfd)


def recover(root: Path) -> list[Path]:
    """Finish a `replace_together` that a killed process left half done, then remove the temporary files
    killed writers left among the sources; returns the files it completed.

    A target whose content is neither the old nor the new one was edited
    since: it is left as the person made it, and its temporary file dropped.
    A journal still locked belongs to a running process and is left alone.
    """
    finished = _finish_journal(root)
    # after the journal: its temporary files are the ones it still needed
    clean_stale_temps(root, re.compile(re.escape(JOURNAL)))
    clean_stale_temps(root / "positions", SOURCE_NAME)
    return finished


def _finish_journal(root: Path) -> list[Path]:
    journal = root / JOURNAL
    try:
        fd = os.open(journal, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return []
    finished: list[Path] = []
    try:
        if not _locked_by_a_dead_process(fd):
            return []
        try:
            record = json.loads(os.read(fd, 1 << 20).decode("utf-8"))
            entries = record["files"]
            assert isinstance(entries, list)
        except (ValueError, KeyError, TypeError, AssertionError, UnicodeDecodeError):
            entries = []  # not ours, or not readable: nothing to finish
        base = root.resolve()
        for entry in entries:
            try:
                target = (root / entry["target"]).resolve()
                temp = (root / entry["temp"]).resolve()
                old, new = entry["old"], entry["new"]
            except (KeyError, TypeError, OSError):
                continue
            if base not in target.parents or temp.parent != target.parent or not TEMP_NAME.fullmatch(temp.name):
                continue  # a journal never points outside the project, nor at anything but our temp files
            if not temp.is_file():
                continue  # renamed into place before the kill
            current = _file_sha(target)
            if current in (old, new) and _file_sha(temp) == new:
                with contextlib.suppress(OSError):
                    os.replace(temp, target)
                    finished.append(target)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
        for folder in sorted({p.parent for p in finished}):
            fsync_dir(folder)
        with contextlib.suppress(OSError):
            os.unlink(journal)
    finally:
        os.close(fd)
    return finished


# --- where outputs may go -----------------------------------------------------------------------------------

SOURCE_FOLDERS = ("positions", "dossiers", "templates", "eu-files", ".git")


def _git_dirs(root: Path) -> list[Path]:
    """The project's git folder: `.git` beside it or above it, and where a `.git` file (a worktree) points."""
    for folder in (root, *root.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return [dot_git]
        if dot_git.is_file():
            found = [dot_git]
            try:
                line = dot_git.read_text(encoding="utf-8", errors="replace")[:4096].strip()
            except OSError:
                return found
            if line.startswith("gitdir:"):
                found.append(folder / line[len("gitdir:"):].strip())
            return found
    return []


def refuse_source_folder(root: Path, out: Path, option: str = "--out") -> None:
    """Outputs never go among the sources: `out` (after `..` and symlinks) inside positions/, dossiers/,
    templates/ or the git folder is refused."""
    real = out.resolve()
    root = root.resolve()
    forbidden = [(root / sub, f"{sub}/") for sub in SOURCE_FOLDERS[:-1]] + [(g, ".git/") for g in _git_dirs(root)]
    for folder, name in forbidden:
        base = folder.resolve()
        if real == base or base in real.parents:
            raise VoceunicaError(problem(str(Path.cwd() / out), 1, 1,
                                         f"{option} {out}: outputs cannot go into {name}, where the sources "
                                         "are; choose another folder"))
