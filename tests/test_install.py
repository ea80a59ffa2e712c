"""The installed artifact, the way a user gets it: a fresh venv, `pip install`, the console script.

The rest of the suite runs the code in place; this test builds the wheel with
`python -m build` (the sdist, then the wheel from it) and installs it into a new
virtual environment, where pip picks the newest releases the dependency bounds
allow, and runs the `voceunica` script that installation made.  A dependency
that changed under us (typer no longer installing click turned every usage error
into a traceback) shows up here.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import REPO


def _build_wheel(out: Path) -> subprocess.CompletedProcess[str]:
    """`python -m build`: the sdist, and the wheel built from it (so the sdist must carry templates/)."""
    return subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], capture_output=True,
                          text=True, timeout=900)


def _pip_install(env_dir: Path, wheel: Path) -> subprocess.CompletedProcess[str]:
    py = env_dir / "bin" / "python"
    # with the extras the README's first command installs: the samples' charts need matplotlib
    return subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           f"{wheel}[charts]"], capture_output=True, text=True, timeout=900)


OFFLINE = ("Could not find a version", "NewConnectionError", "Temporary failure in name resolution",
           "No matching distribution")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("build") is None:
        pytest.skip("the build package is not installed (pip install build; the test extra has it)")
    dist = tmp_path_factory.mktemp("dist")
    done = _build_wheel(dist)
    if done.returncode != 0:
        if any(s in done.stdout + done.stderr for s in OFFLINE) and not os.environ.get("CI"):
            pytest.skip("no package index reachable to build the wheel in isolation (CI runs this test)")
        pytest.fail(f"python -m build failed:\n{(done.stdout + done.stderr)[-3000:]}")
    [wheel] = dist.glob("voceunica-*.whl")
    env_dir = tmp_path_factory.mktemp("fresh") / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    done = _pip_install(env_dir, wheel)
    if done.returncode != 0:
        if any(s in done.stderr for s in OFFLINE) and not os.environ.get("CI"):
            pytest.skip("no package index reachable to install into a fresh venv (CI runs this test)")
        pytest.fail(f"pip install into a fresh venv failed:\n{done.stderr[-3000:]}")
    script = env_dir / "bin" / "voceunica"
    assert script.is_file(), "the installation made no voceunica console script"
    return script


def _run(script: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VOCEUNICA_DEBUG")}
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=600, cwd=cwd, env=env)


@pytest.mark.parametrize("args", [["--bogus"], ["build", "-j", "0"], ["signoff"], ["nosuch"], ["build", "--out"]],
                         ids=" ".join)
def test_usage_errors_exit_2_with_one_line(installed: Path, args: list[str]) -> None:
    done = _run(installed, *args)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("voceunica"), lines


def test_the_installed_script_builds_the_sample(installed: Path, sample: Path) -> None:
    done = _run(installed, "-C", str(sample), "build", "-j", "1")
    assert done.returncode == 0, done.stderr
    built = sorted(p.name for p in (sample / "build").glob("*.docx"))
    assert "steel-2026.it.docx" in built and "steel-2026.it-en.docx" in built, built
    # it ran the installed copy, not this checkout
    where = subprocess.run([str(installed.parent / "python"), "-c", "import voceunica; print(voceunica.__file__)"],
                           capture_output=True, text=True, check=True, env={"PATH": os.environ.get("PATH", "")})
    assert not where.stdout.strip().startswith(str(REPO)), where.stdout


def test_the_installed_check_reports_a_located_error(installed: Path, sample: Path) -> None:
    pos = sample / "positions" / "steel-trade-energy.yaml"
    text = pos.read_text(encoding="utf-8")
    line = text[: text.index("sector: ")].count("\n") + 1
    pos.write_text(text.replace("sector: ", "sector: !!bool ", 1), encoding="utf-8")
    done = _run(installed, "check", cwd=sample)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"positions/steel-trade-energy.yaml:{line}:9: YAML tag '!!bool' is not supported: write the value " \
           "without it" in done.stderr.splitlines(), done.stderr


def test_init_check_and_build_outside_the_repository(installed: Path, tmp_path: Path) -> None:
    """The acceptance: install the wheel, `voceunica init offices`, `cd offices`, `voceunica check &&
    voceunica build` — with the default templates the wheel carries, nothing from this checkout."""
    done = _run(installed, "init", "offices", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    offices = tmp_path / "offices"
    for args in (["check"], ["build", "-j", "1"]):
        done = _run(installed, *args, cwd=offices)
        assert done.returncode == 0, (args, done.stderr)
        assert "Traceback" not in done.stderr
    built = sorted(p.name for p in (offices / "build").glob("example.*"))
    assert {"example.it.md", "example.en.md", "example.it.docx", "example.en.docx"} <= set(built), built
    from docx import Document

    assert any("CBAM" in p.text for p in Document(str(offices / "build" / "example.en.docx")).paragraphs)
    where = subprocess.run([str(installed.parent / "python"), "-c",
                            "from voceunica import defaults; print(defaults.templates_dir())"],
                           capture_output=True, text=True, check=True, cwd=tmp_path,
                           env={"PATH": os.environ.get("PATH", "")})
    folder = where.stdout.strip()
    assert folder.endswith("site-packages/voceunica/default_templates"), folder  # the packaged copy
    wf = (offices / ".github/workflows/voceunica.yml").read_text(encoding="utf-8")
    assert 'VOCEUNICA_PACKAGE: "voceunica[charts]==' in wf
