"""`voceunica release` and `verify`: final-mode builds that are complete, checkable, reproducible and atomic.

The sample project (five positions agreed by both regions, fully translated) is put in a scratch
git repository and released once as 1.0.0 for the whole module; tests that change anything work on
their own copy of that repository (with its dist/).  Every command runs as a subprocess, as a user
or CI would run it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import voceunica
from voceunica.validate import load_project

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

REPO = Path(__file__).resolve().parents[1]
# the subprocesses run the same voceunica the tests import, wherever it is installed from
SRC = str(Path(voceunica.__file__).resolve().parents[1])
DOSSIERS = ("joint-agenda-2026", "microelectronics-2026", "steel-2026")
POSITIONS = ("energy-costs", "joint-representation", "microelectronics-chips", "sme-credit", "steel-trade-energy")


# --- helpers --------------------------------------------------------------------------------------

def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@e",
                           "-c", "commit.gpgsign=false", *args], check=True, capture_output=True, text=True)
    return done.stdout


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "VOCEUNICA_DEBUG")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [SRC, env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def cli(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # umask fixed so folder permissions do not depend on who runs the tests
    return subprocess.run([sys.executable, "-m", "voceunica", "-C", str(root), *args], check=False,
                          capture_output=True, text=True, env=cli_env(**env), timeout=300, umask=0o022)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under `folder` (hidden ones too), files with their SHA-256."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): (sha(p) if p.is_file() else "dir") for p in sorted(folder.rglob("*"))}


def partials(dist: Path, version: str) -> list[Path]:
    return sorted(dist.glob(f".{version}.partial-*"))


def clone(base: Path, tmp_path: Path, *, with_dist: bool = True) -> Path:
    """A copy of the repository (work tree, .git and, by default, dist/) in another folder."""
    target = tmp_path / "repo"
    shutil.copytree(base, target, symlinks=True, ignore=None if with_dist else shutil.ignore_patterns("dist"))
    assert git(target, "status", "--porcelain") == ""
    return target


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


@dataclass
class Released:
    root: Path
    result: subprocess.CompletedProcess[str]

    @property
    def folder(self) -> Path:
        return self.root / "dist" / "1.0.0"


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Released:
    """The repository's sample content (as the `sample` fixture copies it) in git, released as 1.0.0."""
    root = tmp_path_factory.mktemp("release") / "sample"
    for sub in ("positions", "dossiers", "templates", "eu-files"):
        shutil.copytree(REPO / sub, root / sub)
    (root / ".gitignore").write_text("build/\ndist/\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "sample content")
    return Released(root, cli(root, "release", "1.0.0", "-j", "1"))


# --- a release --------------------------------------------------------------------------------------

def test_release_writes_a_complete_folder_with_manifest_changelogs_and_zip(released: Released) -> None:
    res, root, folder = released.result, released.root, released.folder
    assert res.returncode == 0, res.stderr
    assert "released 1.0.0" in res.stderr
    dist = root / "dist"
    assert sorted(p.name for p in dist.iterdir()) == ["1.0.0", "1.0.0.zip"]  # no staging folder left behind

    names = {p.name for p in folder.iterdir()}
    assert all(p.is_file() for p in folder.iterdir())
    assert {"manifest.json", "CHANGELOG.it.md", "CHANGELOG.en.md"} <= names
    for d in DOSSIERS:
        assert {f"{d}.it.md", f"{d}.en.md", f"{d}.it.docx", f"{d}.en.docx", f"{d}.it-en.docx"} <= names

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["release"] == "1.0.0"
    assert manifest["source_commit"] == git(root, "rev-parse", "HEAD").strip()
    assert manifest["dirty"] is False
    assert manifest["source_date_epoch"] == int(git(root, "log", "-1", "--format=%ct").strip())
    # every released file is listed, with its hash and size (the manifest itself aside)
    assert set(manifest["files"]) == names - {"manifest.json"}
    for name, entry in manifest["files"].items():
        data = (folder / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    # the positions, with their versions and both sign-offs as recorded in the sources
    project = load_project(root)
    assert sorted(manifest["positions"]) == sorted(POSITIONS)
    for pid, entry in manifest["positions"].items():
        pos = project.positions[pid]
        assert entry["version"] == pos.version and entry["status"] == "agreed"
        for region in ("lombardia", "veneto"):
            signed = getattr(pos.signoffs, region)
            assert entry["signoffs"][region] == signed.model_dump(mode="json")
            assert set(entry["signoffs"][region]) >= {"by", "date", "fingerprint"}
    assert sorted(manifest["dossiers"]) == sorted(DOSSIERS)
    for d, entry in manifest["dossiers"].items():
        assert entry == {"version": project.dossiers[d].version, "positions": project.dossiers[d].positions}

    assert (folder / "CHANGELOG.it.md").read_text(encoding="utf-8").startswith(
        "# Registro delle modifiche – 1.0.0\n\n*prima versione*\n")
    changelog_en = (folder / "CHANGELOG.en.md").read_text(encoding="utf-8")
    assert changelog_en.startswith("# Changelog – 1.0.0\n\n*first release*\n")
    assert all(f"`{pid}`" in changelog_en for pid in POSITIONS)

    # the zip bundle: the same files under 1.0.0/, same bytes, one fixed timestamp
    with zipfile.ZipFile(dist / "1.0.0.zip") as z:
        infos = z.infolist()
        assert sorted(i.filename for i in infos) == sorted(f"1.0.0/{n}" for n in names)
        for info in infos:
            assert z.read(info) == (folder / info.filename.split("/", 1)[1]).read_bytes()
        assert len({i.date_time for i in infos}) == 1


def test_verify_accepts_the_release_and_names_a_changed_file(released: Released, tmp_path: Path) -> None:
    assert released.result.returncode == 0, released.result.stderr
    root = clone(released.root, tmp_path)
    res = cli(root, "verify", str(root / "dist" / "1.0.0"))
    assert res.returncode == 0, res.stderr
    assert "matches its manifest" in res.stderr

    victim = root / "dist" / "1.0.0" / "steel-2026.en.md"
    data = bytearray(victim.read_bytes())
    data[100] ^= 0x01  # one byte, same size
    victim.write_bytes(bytes(data))
    res = cli(root, "verify", str(root / "dist" / "1.0.0"))
    assert res.returncode == 1
    complaints = [line for line in res.stderr.splitlines() if "differs from the manifest" in line]
    assert len(complaints) == 1 and "steel-2026.en.md" in complaints[0]
    assert "Traceback" not in res.stderr


def test_a_release_is_reproducible_elsewhere_in_another_timezone_and_locale(released: Released,
                                                                            tmp_path: Path) -> None:
    assert released.result.returncode == 0, released.result.stderr
    other = clone(released.root, tmp_path, with_dist=False)
    out = tmp_path / "elsewhere"
    res = cli(other, "release", "1.0.0", "-j", "1", "--out", str(out),
              TZ="America/New_York", LANG="C", LC_ALL="C")
    assert res.returncode == 0, res.stderr
    first, second = snapshot(released.folder), snapshot(out / "1.0.0")
    assert len(first) > 20
    assert first == second  # every file, same SHA-256
    assert (out / "1.0.0.zip").read_bytes() == (released.root / "dist" / "1.0.0.zip").read_bytes()
    assert not (other / "dist").exists()  # --out was honoured


# --- refusals -----------------------------------------------------------------------------------------

def test_a_draft_position_stops_the_release_and_leaves_dist_alone(released: Released, tmp_path: Path) -> None:
    root = clone(released.root, tmp_path)
    pos = root / "positions" / "sme-credit.yaml"
    text = pos.read_text(encoding="utf-8")
    assert "\nstatus: agreed\n" in text
    pos.write_text(text.replace("\nstatus: agreed\n", "\nstatus: draft\n", 1), encoding="utf-8")
    commit_all(root, "sme-credit back to draft")
    before = snapshot(root / "dist")

    res = cli(root, "release", "1.0.1", "-j", "1")
    assert res.returncode == 1
    named = [line for line in res.stderr.splitlines() if "sme-credit.yaml" in line]
    assert named and any("not agreed" in line for line in named)
    assert not any("steel-trade-energy" in line for line in res.stderr.splitlines())  # only the draft is named
    assert snapshot(root / "dist") == before
    assert not (root / "dist" / "1.0.1").exists() and not (root / "dist" / "1.0.1.zip").exists()
    assert partials(root / "dist", "1.0.1") == []


def test_a_dirty_tree_is_refused_unless_allowed(released: Released, tmp_path: Path) -> None:
    root = clone(released.root, tmp_path)
    with (root / "positions" / "energy-costs.yaml").open("a", encoding="utf-8") as f:
        f.write("# a note not yet committed\n")
    (root / "notes.txt").write_text("draft notes\n", encoding="utf-8")
    before = snapshot(root / "dist")

    res = cli(root, "release", "1.0.1", "-j", "1")
    assert res.returncode == 1
    dirty = [line for line in res.stderr.splitlines() if "uncommitted change" in line]
    assert any("energy-costs.yaml" in line for line in dirty) and any("notes.txt" in line for line in dirty)
    assert snapshot(root / "dist") == before

    res = cli(root, "release", "1.0.1", "-j", "1", "--allow-dirty")
    assert res.returncode == 0, res.stderr
    manifest = json.loads((root / "dist" / "1.0.1" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["dirty"] is True
    assert cli(root, "verify", str(root / "dist" / "1.0.1")).returncode == 0


def test_an_existing_release_is_never_overwritten(released: Released, tmp_path: Path) -> None:
    assert released.result.returncode == 0, released.result.stderr
    root = clone(released.root, tmp_path)
    before = snapshot(root / "dist")
    res = cli(root, "release", "1.0.0", "-j", "1")
    assert res.returncode == 1
    assert "release 1.0.0 already exists" in res.stderr
    assert "Traceback" not in res.stderr
    assert snapshot(root / "dist") == before


# --- atomicity ----------------------------------------------------------------------------------------

def _start(root: Path, version: str, *, slow_writes: float = 0.0) -> subprocess.Popen[bytes]:
    """`voceunica -C root release VERSION -j 1` in the background; with slow_writes, every file write
    (voceunica.write.atomic_write, used for the staging folder and the zip) takes that much longer."""
    code = ("import sys, time\n"
            "import voceunica.write as w\n"
            "_write = w.atomic_write\n"
            f"def slow(path, data):\n    _write(path, data)\n    time.sleep({slow_writes})\n"
            "w.atomic_write = slow\n"
            "from voceunica.cli import main\n"
            "sys.argv[0] = 'voceunica'\n"
            "main()\n")
    args = ["-c", code] if slow_writes else ["-m", "voceunica"]
    return subprocess.Popen([sys.executable, *args, "-C", str(root), "release", version, "-j", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=cli_env(), umask=0o022)


def _kill_when(proc: subprocess.Popen[bytes], ready: object, timeout: float = 120.0) -> tuple[bool, str]:
    """Poll until `ready()` or the process ends; SIGKILL it if still running.
    Returns (whether it was killed, its stderr)."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if ready():  # type: ignore[operator]
            break
        time.sleep(0.002)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.stderr is not None
    with proc.stderr:
        err = proc.stderr.read().decode("utf-8", "replace")
    return proc.returncode == -signal.SIGKILL, err


def _assert_complete(root: Path, version: str) -> None:
    folder = root / "dist" / version
    res = cli(root, "verify", str(folder))
    assert res.returncode == 0, res.stderr
    assert {"manifest.json", "CHANGELOG.it.md", "CHANGELOG.en.md"} <= {p.name for p in folder.iterdir()}
    assert (root / "dist" / f"{version}.zip").is_file()
    assert partials(root / "dist", version) == []


def test_a_killed_release_leaves_no_version_folder(released: Released, tmp_path: Path) -> None:
    """Kill as soon as the staging folder appears (natural timing: it may also finish first)."""
    root = clone(released.root, tmp_path)
    dist, earlier = root / "dist", snapshot(root / "dist" / "1.0.0")
    proc = _start(root, "1.0.1")
    # (dist/1.0.1 appearing is also a cue: a release that is not staged would show up there)
    killed, err = _kill_when(proc, lambda: bool(partials(dist, "1.0.1")) or (dist / "1.0.1").exists())
    if killed and not (dist / "1.0.1").exists():
        # cut short: nothing released; a stale staging folder may remain, and the next run clears it
        res = cli(root, "release", "1.0.1", "-j", "1")
        assert res.returncode == 0, res.stderr
    else:
        # it got to the rename before the kill (or finished): then the release is whole
        assert killed or proc.returncode == 0, err
    _assert_complete(root, "1.0.1")
    assert snapshot(dist / "1.0.0") == earlier


def test_a_release_killed_while_staging_leaves_no_version_folder(released: Released, tmp_path: Path) -> None:
    """Deterministic: writes are slowed down so the kill surely lands while files are being staged."""
    root = clone(released.root, tmp_path)
    dist, earlier = root / "dist", snapshot(root / "dist")
    proc = _start(root, "1.0.1", slow_writes=0.1)
    killed, err = _kill_when(proc, lambda: any(any(p.iterdir()) for p in partials(dist, "1.0.1"))
                             or (dist / "1.0.1").exists())
    assert killed, f"the release ended (exit {proc.returncode}) before it could be killed while staging: {err}"
    assert not (dist / "1.0.1").exists()
    stale = partials(dist, "1.0.1")
    assert len(stale) == 1 and any(stale[0].iterdir())  # half-written, hidden, never mistaken for a release
    assert {k: v for k, v in snapshot(dist).items() if not k.startswith(".")} == earlier  # 1.0.0 untouched

    res = cli(root, "release", "1.0.1", "-j", "1")
    assert res.returncode == 0, res.stderr
    assert not stale[0].exists()
    _assert_complete(root, "1.0.1")
    assert cli(root, "verify", str(dist / "1.0.0")).returncode == 0


# --- permissions ------------------------------------------------------------------------------------------

def test_the_release_folder_has_ordinary_permissions(released: Released) -> None:
    assert released.result.returncode == 0, released.result.stderr
    dist = released.root / "dist"
    assert stat.S_IMODE(released.folder.stat().st_mode) == stat.S_IMODE(dist.stat().st_mode)
