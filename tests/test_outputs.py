"""Outputs only where they belong, hostile manifests, and writes that fail cleanly.

`verify` reads a manifest someone else made: every name in it is checked before
any file is opened.  `--out` never points among the sources.  A full disk or a
folder that cannot be made gives one located line, exit 1, and leaves no file
behind — old outputs stay as they were.  Commands run through the installed
console script, as a user runs them.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import voceunica
from voceunica.errors import VoceunicaError
from voceunica.release import verify

SRC = str(Path(voceunica.__file__).resolve().parents[1])
SCRIPT = Path(sys.executable).parent / "voceunica"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "VOCEUNICA_DEBUG")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [SRC, env.get("PYTHONPATH")]))  # the voceunica under test
    cmd = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "voceunica"]
    return subprocess.run([*cmd, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


def tree(folder: Path) -> dict[str, str]:
    """Every entry under `folder`, hidden ones too, files with their SHA-256."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


def one_error(res: subprocess.CompletedProcess[str]) -> str:
    """The single problem line of a failed run, no traceback."""
    assert res.returncode == 1, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr
    problems = [line for line in res.stderr.splitlines() if re.match(r".+:\d+:\d+: ", line)]
    assert len(problems) == 1, res.stderr
    return problems[0]


# --- verify: a hostile manifest -------------------------------------------------------------------------

def _release(tmp_path: Path, files: dict[str, object] | None = None, text: str | None = None) -> Path:
    folder = tmp_path / "dist" / "1.0.0"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.md").write_bytes(b"hello\n")
    (folder / "sub" / "b.md").write_bytes(b"x\n")
    good = {"a.md": {"sha256": hashlib.sha256(b"hello\n").hexdigest(), "size": 6},
            "sub/b.md": {"sha256": hashlib.sha256(b"x\n").hexdigest(), "size": 2}}
    if text is None:
        text = json.dumps({"release": "1.0.0", "files": good if files is None else files}, indent=2)
    (folder / "manifest.json").write_text(text, encoding="utf-8")
    return folder


def test_a_sound_release_verifies(tmp_path: Path) -> None:
    folder = _release(tmp_path)
    assert verify(folder) == []
    res = cli("verify", str(folder))
    assert res.returncode == 0, res.stderr


ENTRY = {"sha256": "0" * 64, "size": 6}
BAD_NAMES = {
    "../../../etc/passwd": "'..'",
    "/etc/passwd": "absolute path",
    "sub/../../x": "'..'",
    "./a.md": "'.'",
    "sub//b.md": "empty part",
    "C:/Windows/win.ini": "drive letter",
    "sub\\b.md": "backslash",
    "a\nFORGED.yaml:9:9: x": "control characters",
    "a\x1b[2Jb": "control characters",
    "": "empty file name",
    "manifest.json": "cannot list itself",
}


def _manifest_text(entries: dict[str, object]) -> str:
    """One entry a line, so a test knows the line of each: 'files' on line 3, the first entry on line 4."""
    body = ",\n".join(f"    {json.dumps(k)}: {json.dumps(v)}" for k, v in entries.items())
    return '{\n  "release": "1.0.0",\n  "files": {\n' + body + "\n  }\n}\n"


@pytest.mark.parametrize("name", list(BAD_NAMES))
def test_a_name_that_leaves_the_release_is_refused_at_its_line(tmp_path: Path, name: str) -> None:
    folder = _release(tmp_path, text=_manifest_text({
        "a.md": {"sha256": hashlib.sha256(b"hello\n").hexdigest(), "size": 6},
        name: ENTRY,
        "sub/b.md": {"sha256": hashlib.sha256(b"x\n").hexdigest(), "size": 2}}))
    found = verify(folder)
    assert len(found) == 1, found
    p = found[0]
    assert p.path == str(folder / "manifest.json") and (p.line, p.col) == (5, 5), p  # the line of that entry
    assert BAD_NAMES[name] in p.message
    res = cli("verify", str(folder))
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "manifest.json:5:5: " in res.stderr
    assert not any(line.startswith("FORGED") for line in res.stderr.splitlines())


def test_verify_is_no_oracle_for_files_outside_the_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An existing and a missing file outside give the same answer, and nothing outside is even looked at."""
    outside = tmp_path / "secret.txt"
    outside.write_text("secret\n", encoding="utf-8")
    answers = []
    for target in ("../../secret.txt", "../../missing.txt"):
        folder = _release(tmp_path / target[-10:-4], {target: ENTRY})
        touched: list[str] = []
        for fn in ("open", "lstat", "stat"):
            real = getattr(os, fn)

            def spy(path, *a, _real=real, _touched=touched, **k):  # type: ignore[no-untyped-def]
                _touched.append(os.fspath(path))
                return _real(path, *a, **k)
            monkeypatch.setattr(os, fn, spy)
        found = verify(folder)
        monkeypatch.undo()
        assert all(str(folder) in t for t in touched), touched
        answers.append([p.message.replace("secret", "X").replace("missing", "X") for p in found])
    assert answers[0] == answers[1] and len(answers[0]) == 1


@pytest.mark.parametrize("text, line, words", [
    ('{\n  "release": "1.0.0",\n  "files": ["a.md", "sub/b.md"]\n}\n', 3, "not a list"),
    ('{\n  "release": "1.0.0"\n}\n', 1, "not missing"),
    ('[1, 2]\n', 1, "JSON object"),
    ('{\n  "files": {\n    "a.md": 5\n  }\n}\n', 3, "not a number"),
    ('{\n  "files": {\n    "a.md": {"sha256": "zz", "size": 6}\n  }\n}\n', 3, "64 lowercase hex"),
    ('{\n  "files": {\n    "a.md": {"sha256": "' + "a" * 64 + '", "size": true}\n  }\n}\n', 3, "whole number"),
    ('{\n  "files": {\n    "a.md": {"sha256": "' + "a" * 64 + '", "size": -1}\n  }\n}\n', 3, "whole number"),
    ('{\n  "files": {\n    "a.md": {},\n    "a.md": {}\n  }\n}\n', 4, "appears twice"),
    ('{\n  "files": {\n    "a.md": \n', 4, "not valid JSON"),
    ('[' * 100000, 1, "manifest"),
])
def test_a_malformed_manifest_is_a_located_error(tmp_path: Path, text: str, line: int, words: str) -> None:
    folder = _release(tmp_path, text=text)
    found = verify(folder)
    assert len(found) == 1 and found[0].line == line and words in found[0].message, found
    res = cli("verify", str(folder))
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert f"manifest.json:{line}:" in res.stderr


def test_symlinks_are_not_followed_out_of_the_release(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "x.md").write_text("x\n", encoding="utf-8")
    folder = _release(tmp_path)
    (folder / "sub" / "b.md").unlink()
    (folder / "sub" / "b.md").symlink_to(tmp_path / "outside" / "deep" / "x.md")  # same bytes as listed
    (folder / "elsewhere").symlink_to(outside)
    found = {(Path(p.path).name, p.message) for p in verify(folder)}
    assert ("b.md", "a symbolic link; a release holds only regular files") in found
    assert ("elsewhere", "not listed in the manifest") in found
    assert not any(name == "x.md" for name, _ in found)  # the linked folder was not walked

    (folder / "manifest.json").unlink()
    (folder / "manifest.json").symlink_to(tmp_path / "outside" / "deep" / "x.md")
    assert ["not a regular file" in p.message for p in verify(folder)] == [True]


# --- --out among the sources ----------------------------------------------------------------------------

@pytest.mark.parametrize("out", ["positions", "./positions/../positions", "positions/sub", "dossiers/annexes",
                                 "templates", ".git/x", "linked"])
def test_build_out_among_the_sources_is_refused(mini: Path, out: str) -> None:
    (mini / ".git").mkdir()
    (mini / "linked").symlink_to(mini / "templates")
    before = tree(mini)
    res = cli("build", "--out", out, cwd=mini)
    line = one_error(res)
    assert ":1:1: --out " in line and "where the sources are" in line
    assert tree(mini) == before


def test_release_out_among_the_sources_is_refused_before_anything_runs(mini: Path) -> None:
    before = tree(mini)
    res = cli("release", "1.0.0", "--out", "dossiers/../positions", cwd=mini)
    line = one_error(res)
    assert "outputs cannot go into positions/" in line
    assert tree(mini) == before


def test_out_beside_the_sources_is_fine(mini: Path) -> None:
    res = cli("build", "--out", "positions-out", cwd=mini)
    assert res.returncode == 0, res.stderr
    assert (mini / "positions-out" / "mini.it.docx").is_file()


# --- ids every file system takes ----------------------------------------------------------------------------

def test_a_long_dossier_id_is_refused_by_check_at_the_file(mini: Path) -> None:
    long_id = "d" * 240
    src = mini / "dossiers" / "mini.yaml"
    src.rename(mini / "dossiers" / f"{long_id}.yaml")
    target = mini / "dossiers" / f"{long_id}.yaml"
    target.write_text(target.read_text(encoding="utf-8").replace("id: mini", f"id: {long_id}"), encoding="utf-8")
    res = cli("check", cwd=mini)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert f"dossiers/{long_id}.yaml:2:5: " in res.stderr and "64" in res.stderr, res.stderr
    res = cli("build", cwd=mini)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert not (mini / "build").exists()


# --- writes that fail ------------------------------------------------------------------------------------

def test_an_output_folder_that_is_a_file_gives_one_line(mini: Path) -> None:
    (mini / "out").write_text("not a folder\n", encoding="utf-8")
    res = cli("build", "--out", "out", cwd=mini)
    line = one_error(res)
    assert line.startswith("out:1:1: cannot write here"), line
    assert (mini / "out").read_text(encoding="utf-8") == "not a folder\n"


def _no_temps(folder: Path) -> None:
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


def test_a_full_disk_during_a_build_changes_nothing(mini: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voceunica import write
    from voceunica.pipeline import build

    build(mini, force=True)
    (mini / "build" / "mini.it.md").write_text("an old output\n", encoding="utf-8")
    before = tree(mini / "build")
    calls = {"n": 0}
    real = os.write

    def full(fd: int, data: object) -> int:
        calls["n"] += 1
        if calls["n"] == 3:  # the third file of the build
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)  # type: ignore[arg-type]

    monkeypatch.setattr(write.os, "write", full)
    with pytest.raises(VoceunicaError) as err:
        build(mini, force=True)
    monkeypatch.undo()
    [p] = err.value.problems
    assert p.message == "cannot write: No space left on device" and p.path.startswith(str(mini / "build"))
    assert tree(mini / "build") == before  # old outputs whole, no temporary file
    build(mini, force=True)
    assert (mini / "build" / "mini.it.md").read_text(encoding="utf-8") != "an old output\n"
    _no_temps(mini / "build")


def test_a_failed_rename_removes_every_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voceunica import write

    real, calls = os.replace, {"n": 0}

    def failing(a: object, b: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        real(a, b)  # type: ignore[arg-type]

    monkeypatch.setattr(write.os, "replace", failing)
    with pytest.raises(VoceunicaError) as err:
        write.write_all(tmp_path, {"a.md": "a", "b.md": "b", "c.md": "c"})
    assert str(err.value) == f"{tmp_path / 'b.md'}:1:1: cannot write: Read-only file system"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"]


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 64 KiB tmpfs: a real full disk.  Needs mount rights (root in a container that allows it)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("a real full disk needs root to mount a small tmpfs")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_a_real_full_disk_gives_one_line_and_leaves_nothing(mini: Path, small_disk: Path) -> None:
    res = cli("build", "--out", str(small_disk / "b"), cwd=mini)
    line = one_error(res)
    assert line.endswith(": cannot write: No space left on device") and "/b/mini." in line, line
    assert list((small_disk / "b").iterdir()) == []


def test_files_changed_together_are_put_back_when_a_rename_fails(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from voceunica import write

    (tmp_path / "positions").mkdir()
    paths = [tmp_path / "positions" / f"{n}.yaml" for n in "abc"]
    for p in paths:
        p.write_text(f"old {p.name}\n", encoding="utf-8")
    real, calls = os.replace, {"n": 0}

    def failing(a: object, b: object) -> None:
        if str(b).endswith(".yaml"):
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
        real(a, b)  # type: ignore[arg-type]

    monkeypatch.setattr(write.os, "replace", failing)
    with pytest.raises(VoceunicaError, match="cannot write: Input/output error"):
        write.replace_together(tmp_path, {p: f"new {p.name}\n" for p in paths})
    monkeypatch.undo()
    assert [p.read_text(encoding="utf-8") for p in paths] == [f"old {p.name}\n" for p in paths]
    assert sorted(q.name for q in tmp_path.rglob("*")) == ["a.yaml", "b.yaml", "c.yaml", "positions"]
