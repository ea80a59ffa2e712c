"""The CI kit shipped with the repository: the workflow and the pre-commit hook call real commands."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def voceunica_calls(text: str) -> list[list[str]]:
    """Every `voceunica ...` command line in a shell snippet, as argv (options with values kept)."""
    calls = []
    for line in text.splitlines():
        for m in re.finditer(r"(?:^|&&|\|\||;)\s*(voceunica\s[^|>&;]*)", line):
            calls.append(shlex.split(m.group(1)))
    return calls


def test_workflow_is_github_actions_yaml_with_a_check_and_a_release_job() -> None:
    wf = yaml.safe_load((REPO / ".github/workflows/voceunica.yml").read_text(encoding="utf-8"))
    # PyYAML reads the key `on` as True (YAML 1.1); GitHub reads it as "on".
    triggers = wf.get("on", wf.get(True))
    assert "pull_request" in triggers and triggers["push"]["tags"] == ["v*.*.*"]
    assert set(wf["jobs"]) == {"check", "release"}
    for job in wf["jobs"].values():
        assert job["runs-on"] == "ubuntu-latest"
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step), step


def test_every_voceunica_command_in_the_workflow_exists_with_its_options() -> None:
    wf = yaml.safe_load((REPO / ".github/workflows/voceunica.yml").read_text(encoding="utf-8"))
    calls = [c for job in wf["jobs"].values() for step in job["steps"] for c in voceunica_calls(step.get("run", ""))]
    assert {c[1] for c in calls} >= {"check", "diff", "release", "verify"}
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
    wf = yaml.safe_load((REPO / ".github/workflows/voceunica.yml").read_text(encoding="utf-8"))
    check, release = (wf["jobs"][j]["steps"] for j in ("check", "release"))
    calls = [c for step in check for c in voceunica_calls(step.get("run", ""))]
    assert ["voceunica", "site", "--drafts", "--out", "site-preview"] in calls
    upload = next(s for s in check if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "site-preview"
    runs = " ".join(s.get("run", "") for s in release)
    assert "--site" in runs and "--pdf" in runs
    uses = [s.get("uses", "").split("@")[0] for s in release]
    assert uses.index("actions/upload-pages-artifact") < uses.index("actions/deploy-pages")
    assert wf["permissions"]["pages"] == "write" and wf["permissions"]["id-token"] == "write"
