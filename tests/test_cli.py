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
    for sub in ("positions", "dossiers", "templates", "eu-files"):
        (project / sub).mkdir(parents=True)
    done = run("-C", str(project), "check", "--base", "HEAD")
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert any(line.startswith("voceunica: ") and "not in a git repository" in line for line in lines), lines
    assert not any(line.startswith(".:") for line in lines), lines


# --- conventions: project root, paths, formats, help, completion, the charts extra ---------------

def console(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The console script the installation made, as a user runs it."""
    script = Path(sys.executable).parent / "voceunica"
    return subprocess.run([str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_the_project_is_found_from_a_subfolder(mini: Path) -> None:
    pos = mini / "positions" / "steel-mini.yaml"
    pos.write_text(pos.read_text(encoding="utf-8").replace("sector: steel", "sectr: steel"), encoding="utf-8")
    done = console("check", cwd=mini / "dossiers" / "annexes")
    assert done.returncode == 1
    # found from two levels down, and shown relative to where the user stands
    assert "../../positions/steel-mini.yaml:5:1: unknown field 'sectr' (did you mean 'sector'?)" in \
        done.stderr.splitlines(), done.stderr


def test_the_search_for_the_project_stops_at_a_git_repository_top(mini: Path, tmp_path: Path) -> None:
    repo = mini / "nested"
    (repo / ".git").mkdir(parents=True)  # a repository inside the project folder: its own world
    (repo / "sub").mkdir()
    done = console("check", cwd=repo / "sub")
    assert done.returncode == 1 and "positions" in done.stderr and "ok:" not in done.stderr
    assert console("check", cwd=mini / "positions").returncode == 0


def test_relative_path_options_are_relative_to_the_current_folder(mini: Path, tmp_path: Path) -> None:
    here = tmp_path / "here"
    here.mkdir()
    done = console("-C", str(mini), "schema", "--out", "s", cwd=here)
    assert done.returncode == 0, done.stderr
    assert (here / "s" / "position.schema.json").is_file() and not (mini / "s").exists()
    done = console("-C", str(mini), "i18n", "export", "--out", "t.xlf", cwd=here)
    assert done.returncode == 0 and (here / "t.xlf").is_file()


def test_check_as_json_and_as_github_annotations(mini: Path) -> None:
    pos = mini / "positions" / "steel-mini.yaml"
    pos.write_text(pos.read_text(encoding="utf-8").replace("sector: steel", "sectr: steel"), encoding="utf-8")
    done = console("check", "--format", "json", cwd=mini)
    assert done.returncode == 1
    import json

    report = json.loads(done.stdout)
    assert {"path": "positions/steel-mini.yaml", "line": 5, "col": 1, "severity": "error",
            "message": "unknown field 'sectr' (did you mean 'sector'?)"} in report["problems"]
    assert report["errors"] >= 1
    done = console("check", "-f", "github", cwd=mini)
    assert done.returncode == 1
    assert "::error file=positions/steel-mini.yaml,line=5,col=1::unknown field 'sectr' (did you mean 'sector'?)" \
        in done.stdout.splitlines(), done.stdout


def test_github_annotations_escape_what_would_end_them() -> None:
    from voceunica.cli import _github_escape

    assert _github_escape("a%b\nc") == "a%25b%0Ac"
    assert _github_escape("dir,x:y.yaml", prop=True) == "dir%2Cx%3Ay.yaml"


def test_dash_h_is_help_everywhere() -> None:
    for args in (["-h"], ["check", "-h"], ["i18n", "-h"], ["i18n", "export", "-h"]):
        done = console(*args)
        assert done.returncode == 0 and "Usage: voceunica" in done.stdout, (args, done.stderr)


def test_shell_completion(tmp_path: Path) -> None:
    done = console(env={"_VOCEUNICA_COMPLETE": "complete_bash", "COMP_WORDS": "voceunica ch", "COMP_CWORD": "1"},
                   cwd=tmp_path)
    assert done.returncode == 0 and "check" in done.stdout.split()
    assert "--install-completion" in console("--help").stdout


def test_build_without_the_charts_extra_says_what_to_install_at_the_dossier(mini: Path, tmp_path: Path) -> None:
    shim = tmp_path / "no-matplotlib" / "matplotlib"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'matplotlib'\", name='matplotlib')\n", encoding="utf-8")
    # a cache of its own: a chart another test drew for the same annex would need no matplotlib
    bare = {"PYTHONPATH": str(shim.parent), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = console("build", "-j", "1", cwd=mini, env=bare)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0] == ("dossiers/mini.yaml:17:1: annex 'exports' has a chart, and charts need "
                                           "matplotlib, which is not installed: pip install 'voceunica[charts]'")
    assert not (mini / "build").exists() or not list((mini / "build").glob("*.docx"))
    assert console("check", cwd=mini, env=bare).returncode == 0  # check needs none
