"""git never runs the repository's code, and a repository cannot change what a revision holds.

A positions repository is untrusted: pull requests from two administrations, built in CI, and a clone
can come with any `.git/config`.  Here a repository arms every trap git offers — fsmonitor, smudge and
clean filters, hooks, pager, external diff, textconv, gpg, lazy fetch through a remote helper — each
writing a marker file when run; the traps are shown to fire under plain git, then every voceunica command
that touches git runs through the installed console script and no marker may appear.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import voceunica
from voceunica import gitrev
from voceunica.errors import VoceunicaError, problem
from voceunica.validate import load_project

from conftest import REPO, make_project

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

# the subprocesses run the same voceunica the tests import, wherever it is installed from
SRC = str(Path(voceunica.__file__).resolve().parents[1])
HOOKS = ("applypatch-msg", "pre-applypatch", "post-applypatch", "pre-commit", "pre-merge-commit",
         "prepare-commit-msg", "commit-msg", "post-commit", "pre-rebase", "post-checkout", "post-merge",
         "pre-push", "pre-receive", "update", "proc-receive", "post-receive", "post-update",
         "reference-transaction", "push-to-checkout", "pre-auto-gc", "post-rewrite", "sendemail-validate",
         "fsmonitor-watchman", "post-index-change", "p4-changelist", "p4-prepare-changelist",
         "p4-post-changelist", "p4-pre-submit")


# --- helpers --------------------------------------------------------------------------------------

def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@e",
                           "-c", "commit.gpgsign=false", *args], check=True, capture_output=True, text=True,
                          env=env)
    return done.stdout


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def voceunica_cmd() -> list[str]:
    """The console script installed beside this Python, as a user runs it."""
    script = Path(sys.executable).parent / ("voceunica.exe" if os.name == "nt" else "voceunica")
    return [str(script)] if script.exists() else [sys.executable, "-m", "voceunica"]


def cli(root: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    # run from the project, so problem paths print project-relative
    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "VOCEUNICA_DEBUG")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [SRC, env.get("PYTHONPATH")]))
    env.update(extra)
    return subprocess.run([*voceunica_cmd(), "-C", str(root), *args], check=False, capture_output=True,
                          text=True, env=env, timeout=300, umask=0o022, cwd=root)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def trap(markers: Path, name: str) -> str:
    """A command that leaves markers/NAME and passes its input through (a working filter or pager)."""
    return f"{markers / 'trap.sh'} {name}"


def arm(root: Path, markers: Path) -> None:
    """Every command-running setting git has, in the repository's own config and hooks."""
    markers.mkdir(exist_ok=True)
    script = markers / "trap.sh"
    script.write_text(f'#!/bin/sh\ntouch "{markers}/$1"\ncat\n', encoding="utf-8")
    script.chmod(0o755)
    for key, name in (("core.fsmonitor", "fsmonitor"), ("filter.evil.smudge", "smudge"),
                      ("filter.evil.clean", "clean"), ("core.pager", "pager"), ("pager.log", "pager-log"),
                      ("diff.external", "external-diff"), ("diff.evil.textconv", "textconv"),
                      ("diff.evil.command", "diff-command"), ("gpg.program", "gpg"),
                      ("core.sshCommand", "ssh"), ("core.editor", "editor")):
        git(root, "config", key, trap(markers, name))
    git(root, "config", "log.showSignature", "true")
    git(root, "config", "core.untrackedCache", "false")
    hooks = root / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    for hook in HOOKS:
        (hooks / hook).write_text(f'#!/bin/sh\ntouch "{markers}/hook-{hook}"\n', encoding="utf-8")
        (hooks / hook).chmod(0o755)
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "attributes").write_text("* filter=evil diff=evil\n", encoding="utf-8")


def fired(markers: Path) -> list[str]:
    return sorted(p.name for p in markers.iterdir() if p.name != "trap.sh")


@pytest.fixture(scope="module")
def armed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample project in git, two commits (a dossier's subtitle changed, its version raised), armed."""
    base = tmp_path_factory.mktemp("armed")
    root = base / "sample"
    for sub in ("positions", "dossiers", "templates", "eu-files"):
        shutil.copytree(REPO / sub, root / sub)
    (root / ".gitignore").write_text("build/\ndist/\n", encoding="utf-8")
    # committed too: a clone brings it along, whatever .git/info says
    (root / ".gitattributes").write_text("* filter=evil diff=evil\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "sample content")
    dossier = root / "dossiers" / "steel-2026.yaml"
    edit(dossier, "and on the steel import regime", "and on the regime for steel imports")
    edit(dossier, 'version: "1.0.0"', 'version: "1.0.1"')
    commit_all(root, "steel dossier: clearer subtitle")
    markers = base / "markers"
    arm(root, markers)
    return root, markers


# --- the traps are armed, and plain git walks into them -------------------------------------------

def test_plain_git_runs_the_planted_commands(armed: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = armed
    other = tmp_path / "copy"
    shutil.copytree(root, other, symlinks=True)
    markers = tmp_path / "markers"
    # the copy's config names the module's trap script; give it its own
    arm(other, markers)
    subprocess.run(["git", "-C", str(other), "status", "--porcelain"], capture_output=True, check=False)
    subprocess.run(["git", "-C", str(other), "archive", "HEAD"], capture_output=True, check=False)
    subprocess.run(["git", "-C", str(other), "diff", "HEAD~1"], capture_output=True, check=False)
    subprocess.run(["git", "-C", str(other), "-c", "user.name=t", "-c", "user.email=t@e", "commit",
                    "--allow-empty", "-qm", "x"], capture_output=True, check=False)
    assert {"fsmonitor", "smudge", "clean", "diff-command", "hook-pre-commit"} <= set(fired(markers))


# --- voceunica does not ---------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["check", "diff", "redline", "release"])
def test_no_command_runs_the_repositorys_code(armed: tuple[Path, Path], tmp_path: Path, command: str) -> None:
    root, markers = armed
    for p in markers.iterdir():
        if p.name != "trap.sh":
            p.unlink()
    before = git(root, "rev-parse", "HEAD")
    args = {
        "check": ["check", "--base", "HEAD~1"],
        "diff": ["diff", "HEAD~1", "--format", "md"],
        "redline": ["redline", "steel-2026", "HEAD~1", "--lang", "en", "-o", str(tmp_path / "r.docx")],
        "release": ["release", "1.0.0", "-j", "1", "--out", str(tmp_path / "dist")],
    }[command]
    res = cli(root, *args, PAGER=trap(markers, "env-pager"))
    assert res.returncode == 0, res.stderr
    assert fired(markers) == []
    if command == "diff":
        assert "### Dossier `steel-2026` — changed" in res.stdout and "**regime for**" in res.stdout
    elif command == "redline":
        assert (tmp_path / "r.docx").is_file()
    elif command == "release":
        assert (tmp_path / "dist" / "1.0.0" / "manifest.json").is_file()
        assert '"dirty": false' in (tmp_path / "dist" / "1.0.0" / "manifest.json").read_text(encoding="utf-8")
    assert git(root, "rev-parse", "HEAD") == before


def test_a_dirty_tree_is_still_found_without_git_status(armed: tuple[Path, Path], tmp_path: Path) -> None:
    root, markers = armed
    other = tmp_path / "copy"
    shutil.copytree(root, other, symlinks=True)
    edit(other / "positions" / "sme-credit.yaml", "# yaml-language-server", "# a note\n# yaml-language-server")
    (other / "positions" / "new-notes.txt").write_text("draft\n", encoding="utf-8")
    (other / "dossiers" / "joint-agenda-2026.yaml").unlink()
    (other / "build").mkdir()
    (other / "build" / "ignored.txt").write_text("ignored\n", encoding="utf-8")
    for p in markers.iterdir():
        if p.name != "trap.sh":
            p.unlink()
    assert gitrev.dirty_paths(other) == ["dossiers/joint-agenda-2026.yaml", "positions/new-notes.txt",
                                         "positions/sme-credit.yaml"]
    # staged but not committed is uncommitted too
    git(other, "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "filter.evil.clean=cat",
        "add", "positions/new-notes.txt")
    assert "positions/new-notes.txt" in gitrev.dirty_paths(other)
    assert fired(markers) == []
    # a checkout that writes CRLF (core.autocrlf) holds the same text
    clean = tmp_path / "clean"
    shutil.copytree(root, clean, symlinks=True)
    pos = clean / "positions" / "energy-costs.yaml"
    pos.write_bytes(pos.read_bytes().replace(b"\n", b"\r\n"))
    assert gitrev.dirty_paths(clean) == []


def test_inherited_git_variables_do_not_redirect_git(armed: tuple[Path, Path], tmp_path: Path) -> None:
    root, markers = armed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    git(elsewhere, "init", "-q")
    (elsewhere / "x.txt").write_text("x\n", encoding="utf-8")
    commit_all(elsewhere, "other history")
    expected = cli(root, "diff", "HEAD~1", "--format", "md")
    assert expected.returncode == 0, expected.stderr
    hostile = {
        "GIT_DIR": str(elsewhere / ".git"), "GIT_WORK_TREE": str(elsewhere),
        "GIT_INDEX_FILE": str(elsewhere / ".git" / "index"), "GIT_OBJECT_DIRECTORY": str(elsewhere / ".git"),
        "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.fsmonitor",
        "GIT_CONFIG_VALUE_0": trap(markers, "env-config"), "GIT_EXTERNAL_DIFF": trap(markers, "env-diff"),
        "GIT_PAGER": trap(markers, "env-git-pager"), "GIT_CEILING_DIRECTORIES": str(root),
    }
    for p in markers.iterdir():
        if p.name != "trap.sh":
            p.unlink()
    res = cli(root, "diff", "HEAD~1", "--format", "md", **hostile)
    assert res.returncode == 0, res.stderr
    assert res.stdout == expected.stdout
    assert cli(root, "release", "1.0.0", "-j", "1", "--out", str(tmp_path / "dist"), **hostile).returncode == 0
    assert fired(markers) == []


def test_a_work_tree_moved_by_core_worktree_is_refused_not_read(mini_repo: Path) -> None:
    git(mini_repo, "config", "core.worktree", str(mini_repo.parent))
    res = cli(mini_repo, "diff", "HEAD", "--format", "md")
    assert res.returncode == 1 and "core.worktree" in res.stderr and "Traceback" not in res.stderr
    assert "added" not in res.stdout  # not every position 'added' because the tree was read at another path


def test_a_partial_clone_does_not_fetch_through_the_repositorys_remote(tmp_path: Path) -> None:
    origin = make_project(tmp_path)
    git(origin, "init", "-q")
    commit_all(origin, "first")
    edit(origin / "positions" / "steel-mini.yaml", "started on 1 January 2026", "started on 2 January 2026")
    commit_all(origin, "second")
    git(origin, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--filter=blob:none", f"file://{origin}", str(clone)], check=True,
                   capture_output=True)
    markers = tmp_path / "markers"
    markers.mkdir()
    # a missing blob is fetched from the promisor remote; `ext::` makes that remote a shell command
    git(clone, "config", "remote.origin.url", f"ext::sh -c touch% {markers}/lazy-fetch")
    git(clone, "config", "protocol.ext.allow", "always")
    res = cli(clone, "check", "--base", "HEAD~1")
    assert fired(markers) == []
    assert res.returncode != 0 and "Traceback" not in res.stderr  # the old text cannot be had: said, not run
    subprocess.run(["git", "-C", str(clone), "cat-file", "-p", "HEAD~1:positions/steel-mini.yaml"],
                   capture_output=True, check=False)
    assert fired(markers) == ["lazy-fetch"]  # the trap was real


# --- what a revision holds is what git stores ---------------------------------------------------

@pytest.fixture
def mini_repo(mini: Path) -> Path:
    git(mini, "init", "-q")
    commit_all(mini, "first")
    return mini


def test_a_committed_export_ignore_does_not_hide_a_changed_position(mini_repo: Path) -> None:
    root = mini_repo
    pos = root / "positions" / "steel-mini.yaml"
    edit(pos, "started on 1 January 2026", "started on 2 January 2026")
    edit(pos, "iniziato il 1º gennaio", "iniziato il 2º gennaio")
    edit(pos, 'version: "1.0.0"', 'version: "1.1.0"')
    edit(pos, "status: agreed", "status: draft")  # the sign-offs were for the old text
    pos.write_text("# $Format:%H$\n" + pos.read_text(encoding="utf-8"), encoding="utf-8")
    (root / ".gitattributes").write_text("positions/** export-ignore\n*.yaml export-subst\n", encoding="utf-8")
    commit_all(root, "second")

    res = cli(root, "diff", "HEAD~1", "HEAD", "--format", "md")
    assert res.returncode == 0, res.stderr
    assert "### Position `steel-mini` — changed" in res.stdout
    assert "removed" not in res.stdout
    assert cli(root, "check", "--base", "HEAD~1").returncode == 0
    with gitrev.checkout(root, "HEAD") as tmp:
        assert (tmp / "positions" / "steel-mini.yaml").read_bytes() == pos.read_bytes()  # $Format$ kept


def test_a_symlink_in_a_revision_is_refused_not_followed(mini_repo: Path, tmp_path: Path) -> None:
    root = mini_repo
    secret = tmp_path / "secret.yaml"
    secret.write_text("id: leaked-secret-value\n", encoding="utf-8")
    (root / "positions" / "leak.yaml").symlink_to(secret)
    commit_all(root, "a link")
    (root / "positions" / "leak.yaml").unlink()
    res = cli(root, "diff", "HEAD", "--format", "md")
    assert res.returncode == 0, res.stderr
    assert "leaked-secret-value" not in res.stdout + res.stderr
    refused = [line for line in res.stderr.splitlines() if line.startswith("positions/leak.yaml")]
    assert refused and "symbolic link" in refused[0]


def test_a_tree_naming_dot_dot_writes_nothing_outside_the_temporary_folder(mini_repo: Path) -> None:
    root = mini_repo

    def mktree(entries: list[str]) -> str:
        done = subprocess.run(["git", "-C", str(root), "mktree"], input="".join(e + "\n" for e in entries),
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"git mktree refuses the name: {done.stderr.strip()}")
        return done.stdout.strip()

    blob = subprocess.run(["git", "-C", str(root), "hash-object", "-w", "--stdin"], input="id: escaped\n",
                          capture_output=True, text=True, check=True).stdout.strip()
    inner = mktree([f"100644 blob {blob}\tescaped.yaml"])
    up = mktree([f"040000 tree {inner}\t.."])
    head = {line.split("\t")[1]: line.split("\t")[0] for line in git(root, "ls-tree", "HEAD").splitlines()}
    positions = mktree([f"040000 tree {up}\t.."] + [
        f"{m}\t{n}" for m, n in (line.split("\t") for line in git(root, "ls-tree", "HEAD:positions").splitlines())])
    top = mktree([f"{meta}\t{name}" for name, meta in head.items() if name != "positions"]
                 + [f"040000 tree {positions}\tpositions"])
    commit = git(root, "commit-tree", top, "-p", "HEAD", "-m", "hand-made").strip()
    project = gitrev.project_at(root, commit)
    assert any("cannot check out" in p.message for p in project.problems)
    assert "steel-mini" in project.positions
    assert not (Path(tempfile.gettempdir()) / "escaped.yaml").exists()
    assert not (root / "escaped.yaml").exists()


# --- a file name cannot forge a diagnostic ----------------------------------------------------------

def test_a_newline_in_a_file_name_cannot_forge_a_diagnostic_line(mini: Path) -> None:
    if os.name == "nt":
        pytest.skip("no newlines in Windows file names")
    (mini / "positions" / "x\nFORGED.yaml:9:9: forged problem\n.yaml").write_text("id: [\n", encoding="utf-8")
    res = cli(mini, "check")
    assert res.returncode == 1
    lines = res.stderr.splitlines()
    assert not any(line.startswith("FORGED.yaml") for line in lines)
    # the name is shown escaped (as \n, or as check's own refusal spells it), on the line of its problem
    named = [line for line in lines if line.startswith("positions/x\\") and "FORGED.yaml:9:9: forged problem" in line]
    assert len(named) >= 1


def test_a_problem_prints_as_one_line_whatever_its_path_and_message_hold() -> None:
    p = problem("a\nB.yaml:9:9: x\r\u2028\u202e\x1b[31m", 2, 3, "bad value 'x\ny'")
    assert str(p) == "a\\nB.yaml:9:9: x\\r\\u2028\\u202e\\x1b[31m:2:3: bad value 'x\\ny'"
    assert len(str(p).splitlines()) == 1
    assert str(problem("positions/città.yaml", 1, 1, "ok")) == "positions/città.yaml:1:1: ok"


def test_git_refuses_commands_that_could_run_repository_code(mini_repo: Path) -> None:
    for args in (("status",), ("archive", "HEAD"), ("diff",), ("log",), ("show",), ("checkout", ".")):
        with pytest.raises(ValueError):
            gitrev.git(mini_repo, *args)
    with pytest.raises(VoceunicaError):
        gitrev.resolve_rev(mini_repo, "--output=/tmp/x")
    assert load_project(mini_repo).errors == []
