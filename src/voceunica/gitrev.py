"""Reading the project as it was at a git revision.

The content at REV is materialised with `git archive` into a temporary
folder and loaded like any project, so every later stage works unchanged
on old content.  Git is a program we call, never a library we import.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from voceunica.errors import VoceunicaError, problem
from voceunica.validate import Project, load_project

CONTENT = ("positions", "dossiers", "templates")


def git(root: Path, *args: str, binary: bool = False) -> str | bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise VoceunicaError(problem(".", 1, 1, "git is not installed")) from None
    if done.returncode != 0:
        msg = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise VoceunicaError(problem(".", 1, 1, f"git {' '.join(args[:2])}: {msg[-1] if msg else 'failed'}"))
    return done.stdout if binary else done.stdout.decode("utf-8", "replace")


def toplevel(root: Path) -> Path:
    return Path(str(git(root, "rev-parse", "--show-toplevel")).strip())


def resolve_rev(root: Path, rev: str) -> str:
    try:
        return str(git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")).strip()
    except VoceunicaError:
        raise VoceunicaError(problem(".", 1, 1, f"unknown git revision '{rev}'")) from None


@contextmanager
def checkout(root: Path, rev: str) -> Iterator[Path]:
    """A temporary folder holding the project's content as it was at `rev`."""
    root = root.resolve()
    commit = resolve_rev(root, rev)
    prefix = str(git(root, "rev-parse", "--show-prefix")).strip()
    paths = [f"{prefix}{c}" for c in CONTENT]
    listed = str(git(root, "ls-tree", "--name-only", commit, "--", *paths)).split()
    with tempfile.TemporaryDirectory(prefix="voceunica-rev-") as tmp:
        out = Path(tmp)
        if listed:
            data = git(root, "archive", "--format=tar", commit, "--", *listed, binary=True)
            assert isinstance(data, bytes)
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                tar.extractall(out, filter="data")
        project_dir = out / prefix if prefix else out
        for c in CONTENT:
            (project_dir / c).mkdir(parents=True, exist_ok=True)
        yield project_dir


def project_at(root: Path, rev: str) -> Project:
    """The project at `rev`, loaded and validated; paths stay project-relative."""
    with checkout(root, rev) as tmp:
        project = load_project(tmp)
        project.root = root.resolve()  # it is the same project, seen earlier
        return project


def head_commit(root: Path) -> str:
    return str(git(root, "rev-parse", "HEAD")).strip()


def commit_time(root: Path, rev: str = "HEAD") -> int:
    return int(str(git(root, "log", "-1", "--format=%ct", rev)).strip())


def dirty_paths(root: Path) -> list[str]:
    out = str(git(root, "status", "--porcelain", "--untracked-files=normal", "--", "."))
    return [line[3:] for line in out.splitlines() if line.strip()]
