"""The command line as a user meets it: exit codes, problem lines, -C, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voceunica", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_check_clean_project_exits_0(mini: Path) -> None:
    done = run("-C", str(mini), "check")
    assert done.returncode == 0, done.stderr
    assert "ok: 1 positions, 1 dossiers, 1 annexes" in done.stderr


def test_check_prints_every_problem_as_path_line_col_and_exits_1(mini: Path) -> None:
    pos = mini / "positions" / "steel-mini.yaml"
    pos.write_text(pos.read_text(encoding="utf-8").replace("sector: steel", "sectr: steel"), encoding="utf-8")
    dos = mini / "dossiers" / "mini.yaml"
    dos.write_text(dos.read_text(encoding="utf-8").replace("annexes: [exports]", "annexes: [exprots]"),
                   encoding="utf-8")
    done = run("check", cwd=mini)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert "dossiers/mini.yaml:17:11: annexes[0]: no annex 'exprots' (did you mean 'exports'?)" in lines
    assert "positions/steel-mini.yaml:5:1: unknown field 'sectr' (did you mean 'sector'?)" in lines
    assert lines[-1] == "3 errors in 2 files"
    assert "Traceback" not in done.stderr


def test_paths_are_shown_relative_to_where_the_user_stands(mini: Path) -> None:
    pos = mini / "positions" / "steel-mini.yaml"
    pos.write_text(pos.read_text(encoding="utf-8").replace("status: agreed", "status: agred"), encoding="utf-8")
    done = run("-C", "mini", "check", cwd=mini.parent)
    assert done.returncode == 1
    assert done.stderr.startswith("mini/positions/steel-mini.yaml:6:9: status: 'agred' is not allowed")


def test_build_refuses_when_check_finds_errors_and_writes_nothing(mini: Path) -> None:
    pos = mini / "positions" / "steel-mini.yaml"
    pos.write_text(pos.read_text(encoding="utf-8").replace("  en: Steel and CBAM\n", ""), encoding="utf-8")
    done = run("-C", str(mini), "build")
    assert done.returncode == 1
    assert "title: missing English text ('en:')" in done.stderr
    assert not (mini / "build").exists()


def test_unknown_dossier_and_missing_directory(mini: Path) -> None:
    done = run("-C", str(mini), "build", "nope")
    assert done.returncode == 1 and "no dossier 'nope' (known: mini)" in done.stderr
    done = run("-C", str(mini / "missing"), "check")
    assert done.returncode == 2 and "no such directory" in done.stderr


def test_not_a_project(tmp_path: Path) -> None:
    done = run("-C", str(tmp_path), "check")
    assert done.returncode == 1
    assert "not a voceunica project: 'positions/' is missing" in done.stderr


def test_markdown_the_docx_writer_cannot_take_names_the_template_and_writes_nothing(mini: Path) -> None:
    tpl = mini / "templates" / "dossier.md.j2"
    tpl.write_text(tpl.read_text(encoding="utf-8").replace("# {{ labels.key_messages }}",
                                                           "<div>boxed</div>\n\n# {{ labels.key_messages }}"),
                   encoding="utf-8")
    done = run("-C", str(mini), "build")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [line] = [x for x in done.stderr.splitlines() if "cannot write DOCX" in x]
    assert line.startswith(f"{os.path.relpath(tpl)}:1:1: dossier mini: cannot write DOCX (line ")
    assert "HTML '<div>boxed</div>' has no Word equivalent" in line
    assert not (mini / "build").exists()


def test_a_problem_about_no_file_has_no_made_up_location(tmp_path: Path) -> None:
    project = tmp_path / "p"
    for sub in ("positions", "dossiers", "templates"):
        (project / sub).mkdir(parents=True)
    done = run("-C", str(project), "check", "--base", "HEAD")
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert any(line.startswith("voceunica: ") and "not in a git repository" in line for line in lines), lines
    assert not any(line.startswith(".:") for line in lines), lines
