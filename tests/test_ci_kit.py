"""The CI kit: one workflow (the scaffold's, this repository's generated from it), valid for GitHub,
least-privilege, on current actions, whose pull-request steps run here as written."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from voceunica import cikit, scaffold

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github/workflows/voceunica.yml"
PACKAGED = Path(scaffold.__file__).parent / "scaffold_files" / "voceunica.yml"


def load(path: Path = WORKFLOW) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def voceunica_calls(text: str) -> list[list[str]]:
    """Every `voceunica ...` command line in a shell snippet, as argv (options with values kept)."""
    calls = []
    for line in text.splitlines():
        for m in re.finditer(r"(?:^|&&|\|\||;)\s*(voceunica\s[^|>&;]*)", line):
            calls.append(shlex.split(m.group(1)))
    return calls


def test_this_repositorys_workflow_is_the_scaffolds() -> None:
    assert WORKFLOW.read_text(encoding="utf-8") == scaffold.workflow(".[charts]"), (
        "regenerate it: python -c \"from voceunica.scaffold import workflow; "
        "open('.github/workflows/voceunica.yml', 'w').write(workflow('.[charts]'))\"")


@pytest.mark.parametrize("path", [WORKFLOW, PACKAGED], ids=["repository", "scaffold"])
def test_the_workflow_passes_githubs_schema(path: Path, tmp_path: Path) -> None:
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")
    if exe is None:
        pytest.skip("check-jsonschema is not installed (pip install check-jsonschema; the test extra has it)")
    target = tmp_path / "voceunica.yml"
    target.write_text(scaffold.workflow() if path == PACKAGED else path.read_text(encoding="utf-8"), encoding="utf-8")
    done = subprocess.run([exe, "--builtin-schema", "vendor.github-workflows", str(target)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_jobs_permissions_and_action_versions() -> None:
    wf = load()
    triggers = wf.get("on", wf.get(True))  # PyYAML reads the key `on` as True (YAML 1.1)
    assert "pull_request" in triggers and triggers["push"]["tags"] == ["v*.*.*"]
    assert set(wf["jobs"]) == {"check", "release", "pages"}
    assert wf["permissions"] == {}  # nothing by default: each job asks for its own
    perms = {name: job["permissions"] for name, job in wf["jobs"].items()}
    assert perms == {"check": {"contents": "read", "pull-requests": "write"}, "release": {"contents": "write"},
                     "pages": {"pages": "write", "id-token": "write"}}
    current = {"actions/checkout": "v7", "actions/setup-python": "v7", "actions/upload-artifact": "v7",
               "actions/upload-pages-artifact": "v5", "actions/deploy-pages": "v5"}  # as of late 2026
    for job in wf["jobs"].values():
        assert job["runs-on"] == "ubuntu-latest"
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step), step
            if "uses" in step:
                action, version = step["uses"].split("@")
                assert current[action] == version, step["uses"]
            assert "${{" not in step.get("run", ""), step  # expressions go through env:, never into the shell


def test_every_voceunica_command_in_the_workflow_exists_with_its_options() -> None:
    wf = load()
    calls = [c for job in wf["jobs"].values() for step in job["steps"] for c in voceunica_calls(step.get("run", ""))]
    assert {c[1] for c in calls} >= {"check", "build", "release", "verify", "site"}
    for call in calls:
        options = [a for a in call[2:] if a.startswith("-")]
        done = subprocess.run([sys.executable, "-m", "voceunica", call[1], "--help"], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        for opt in options:
            assert opt in done.stdout, f"{call[1]} has no option {opt}"


def test_pre_commit_hook_runs_check_on_content_files() -> None:
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["entry"] == "voceunica check" and hook["pass_filenames"] is False
    assert re.match(hook["files"], "positions/steel-trade-energy.yaml")
    assert not re.match(hook["files"], "src/voceunica/cli.py")


def test_the_preview_site_goes_to_pull_requests_with_drafts_and_to_pages_on_a_tag() -> None:
    wf = load()
    check, release, pages = (wf["jobs"][j]["steps"] for j in ("check", "release", "pages"))
    calls = [c for step in check for c in voceunica_calls(step.get("run", ""))]
    assert ["voceunica", "site", "--drafts", "--out", "site-preview"] in calls
    uploads = {s["with"]["name"]: s["with"]["path"] for s in check if s.get("uses", "").startswith("actions/upload")}
    assert uploads == {"review": "review", "site-preview": "site-preview"}
    runs = " ".join(s.get("run", "") for s in release)
    assert "--site" in runs and "--pdf" in runs and "gh release create" in runs
    assert release[-1]["uses"].startswith("actions/upload-pages-artifact@")
    assert wf["jobs"]["pages"]["needs"] == "release" and pages[-1]["uses"].startswith("actions/deploy-pages@")


# --- the comment -------------------------------------------------------------------------------

def test_a_long_diff_is_cut_under_githubs_limit_with_a_link() -> None:
    body = cikit.MARKER + "\n" + "".join(f"- line {i} é\n" for i in range(9000)) + "```\ncode\n" * 3000
    cut = cikit.fit(body, "https://example.org/artifact")
    assert len(cut) <= cikit.LIMIT < len(body)
    assert cut.startswith(cikit.MARKER + "\n")
    assert "[the review artifact](https://example.org/artifact)" in cut.splitlines()[-1]
    assert cut[: cut.rindex("\n\n---\n")].count("```") % 2 == 0  # no code block left open
    assert cikit.fit("short", "u") == "short"
    wide = cikit.MARKER + "\n" + "🇮🇹 Lombardia e Veneto\n" * 6000  # flags: two UTF-16 units per code point
    assert len(cikit.fit(wide, "u").encode("utf-16-le")) // 2 <= cikit.LIMIT


# --- the pull-request job, run here as written ---------------------------------------------------

FAKE_GH = r"""#!/usr/bin/env python3
import json, os, sys
log = os.environ["FAKE_GH_LOG"]
args = sys.argv[1:]
body = next((a[len("body=@"):] for a in args if a.startswith("body=@")), None)
with open(log, "a", encoding="utf-8") as f:
    f.write(json.dumps({"args": args, "body": open(body, encoding="utf-8").read() if body else None}) + "\n")
if os.environ.get("FAKE_GH_FAIL"):
    sys.stderr.write("HTTP 403: Resource not accessible by integration\n")
    sys.exit(1)
if "--paginate" in args:
    print(os.environ.get("FAKE_GH_EXISTING", ""))
else:
    print("https://github.com/org/offices/pull/7#issuecomment-99")
"""


def git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.eu", "GIT_COMMITTER_NAME": "T",
           "GIT_COMMITTER_EMAIL": "t@example.eu", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pull_request(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A content repository made by `voceunica init`, with a pull request's branch on top of main
    (the dossier's title changed, its version raised) and origin/main where checkout puts it."""
    where = tmp_path_factory.mktemp("pr")
    done = subprocess.run([sys.executable, "-m", "voceunica", "init", "offices"], cwd=where, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    repo = where / "offices"
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(repo, "checkout", "-q", "-b", "change")
    dossier = repo / "dossiers" / "example.yaml"
    text = dossier.read_text(encoding="utf-8")
    text = text.replace("title: {it: Acciaio e CBAM, en: Steel and CBAM}",
                        "title: {it: Acciaio e CBAM a valle, en: Steel and downstream CBAM}")
    dossier.write_text(text.replace('version: "1.0.0"', 'version: "1.1.0"'), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "change")
    return repo


def run_pr_steps(repo: Path, tmp: Path, job: str = "check", **extra: str,
                 ) -> tuple[list[tuple[str, int, str]], list[dict[str, Any]], Path]:
    """Every `run:` step of a job (the pull request's by default), in bash as GitHub runs it (-e,
    pipefail), with the workflow's env, the step's env (its ${{ }} expressions given values) and its
    `if:` honoured; the install steps are left out (this voceunica is installed, and LibreOffice).
    A fake `gh` records its calls."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "gh").write_text(FAKE_GH, encoding="utf-8")
    (bin_dir / "voceunica").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m voceunica "$@"\n', encoding="utf-8")
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    for name in ("gh", "voceunica", "python"):
        (bin_dir / name).chmod(stat.S_IRWXU)
    log, summary = tmp / "gh.log", tmp / "summary.md"
    expressions = {"github.token": "fake-token", "github.event.pull_request.number": "7",
                   "github.event.pull_request.head.repo.full_name": extra.pop("head", "org/offices"),
                   "steps.review.outputs.artifact-url": "https://github.com/org/offices/actions/runs/1/artifacts/2"}
    wf = load(repo / ".github/workflows/voceunica.yml")
    env = {k: v for k, v in os.environ.items() if k not in ("VOCEUNICA_DEBUG", "GITHUB_STEP_SUMMARY")}
    env.update(wf["env"], PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", GITHUB_ACTIONS="true",
               GITHUB_EVENT_NAME="pull_request", GITHUB_BASE_REF="main", GITHUB_HEAD_REF="change",
               GITHUB_REPOSITORY="org/offices", GITHUB_SERVER_URL="https://github.com", GITHUB_RUN_ID="1",
               GITHUB_STEP_SUMMARY=str(summary), FAKE_GH_LOG=str(log))
    env.update(extra)
    ran = []
    failed = False
    for step in wf["jobs"][job]["steps"]:
        if "run" not in step or "pip install" in step["run"] or "apt-get" in step["run"]:
            continue
        condition = step.get("if", "success()")
        if failed and "!cancelled()" not in condition:
            continue
        step_env = {k: re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: expressions[m.group(1)], str(v))
                    for k, v in step.get("env", {}).items()}
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=repo,
                              env={**env, **step_env}, capture_output=True, text=True, timeout=600)
        assert "Traceback" not in done.stderr, done.stderr
        ran.append((step["run"], done.returncode, done.stderr[-2000:]))
        failed = failed or done.returncode != 0
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    return ran, calls, summary


def test_the_pull_request_steps_run_as_written(pull_request: Path, tmp_path: Path) -> None:
    ran, calls, summary = run_pr_steps(pull_request, tmp_path)
    assert [code for _, code, _ in ran] == [0] * len(ran) == [0] * 5, ran
    review = pull_request / "review"
    files = sorted(p.relative_to(review).as_posix() for p in review.rglob("*") if p.is_file())
    assert files == ["diff.json", "diff.md", "example/example.en.docx", "example/example.en.md",
                     "example/example.it-en.docx", "example/example.it.docx", "example/example.it.md",
                     "example/example.redline.en.docx", "example/example.redline.it.docx"], files
    from docx import Document

    redline = Document(str(review / "example" / "example.redline.en.docx"))
    xml = redline.element.xml
    assert "w:ins" in xml and "downstream" in xml  # the changed title as a tracked insertion
    # the comment: looked for by its marker, then posted once, marker first
    lookup, post = calls
    assert lookup["args"][:3] == ["api", "--paginate", "repos/org/offices/issues/7/comments"]
    assert cikit.MARKER in lookup["args"][-1]
    assert post["args"][:4] == ["api", "--method", "POST", "repos/org/offices/issues/7/comments"]
    assert post["body"].startswith(cikit.MARKER + "\n") and "> Steel and **downstream** CBAM" in post["body"]
    assert post["body"].rstrip().endswith("(https://github.com/org/offices/actions/runs/1/artifacts/2)")
    assert "issuecomment-99" in summary.read_text(encoding="utf-8")
    assert (pull_request / "site-preview" / "index.html").is_file()


def test_the_comment_is_updated_in_place(pull_request: Path, tmp_path: Path) -> None:
    (pull_request / "review").mkdir(exist_ok=True)
    (pull_request / "review" / "diff.md").write_text("## Dossiers\n\nchanged\n", encoding="utf-8")
    env = {"FAKE_GH_LOG": str(tmp_path / "gh.log"), "FAKE_GH_EXISTING": "4242", "GITHUB_REPOSITORY": "org/offices",
           "PR_NUMBER": "7", "PR_HEAD_REPO": "org/offices", "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}
    calls = _comment(pull_request, tmp_path, env)
    assert [c["args"][:4] for c in calls][1] == ["api", "--method", "PATCH", "repos/org/offices/issues/comments/4242"]


def _comment(repo: Path, tmp: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "gh").write_text(FAKE_GH, encoding="utf-8")
    (bin_dir / "gh").chmod(stat.S_IRWXU)
    full = {**os.environ, **env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-m", "voceunica.cikit", "comment", "review/diff.md"], cwd=repo,
                          env=full, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    log = Path(env["FAKE_GH_LOG"])
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


def test_a_forks_pull_request_gets_a_job_summary(pull_request: Path, tmp_path: Path) -> None:
    (pull_request / "review").mkdir(exist_ok=True)
    (pull_request / "review" / "diff.md").write_text("## Dossiers\n\nchanged by a fork\n", encoding="utf-8")
    env = {"FAKE_GH_LOG": str(tmp_path / "gh.log"), "GITHUB_REPOSITORY": "org/offices", "PR_NUMBER": "7",
           "PR_HEAD_REPO": "someone/offices", "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}
    assert _comment(pull_request, tmp_path, env) == []  # gh never called: the token could not comment
    text = (tmp_path / "s.md").read_text(encoding="utf-8")
    assert "changed by a fork" in text and "someone/offices" in text


def test_a_refused_comment_degrades_to_the_summary(pull_request: Path, tmp_path: Path) -> None:
    (pull_request / "review").mkdir(exist_ok=True)
    (pull_request / "review" / "diff.md").write_text("## Dossiers\n\nrefused\n", encoding="utf-8")
    env = {"FAKE_GH_LOG": str(tmp_path / "gh.log"), "FAKE_GH_FAIL": "1", "GITHUB_REPOSITORY": "org/offices",
           "PR_NUMBER": "7", "PR_HEAD_REPO": "org/offices", "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}
    assert len(_comment(pull_request, tmp_path, env)) == 1
    text = (tmp_path / "s.md").read_text(encoding="utf-8")
    assert "refused" in text and "HTTP 403" in text


@pytest.mark.soffice
@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="needs LibreOffice (soffice) and poppler (pdftotext); .ci/run installs them")
def test_the_release_steps_run_as_written(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "voceunica", "init", "offices"], cwd=tmp_path, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    repo = tmp_path / "offices"
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    git(repo, "tag", "v1.0.0")
    ran, calls, _ = run_pr_steps(repo, tmp_path, job="release", GITHUB_REF_NAME="v1.0.0", GITHUB_REF="refs/tags/v1.0.0",
                                 GITHUB_EVENT_NAME="push")
    assert [code for _, code, _ in ran] == [0] * 4, ran  # release, verify, gh release, the Pages folder
    [release] = calls
    assert release["args"] == ["release", "create", "v1.0.0", "dist/1.0.0.zip", "--title", "v1.0.0", "--notes-file",
                               "dist/1.0.0/CHANGELOG.en.md"]
    assert (repo / "dist/1.0.0/example.it.pdf").is_file()
    assert (repo / "pages/site/index.html").is_file() and "site/index.html" in (repo / "pages/index.html").read_text(
        encoding="utf-8")
