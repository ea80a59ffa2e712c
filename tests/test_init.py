"""`voceunica init` and the packaged defaults: a new project checks and builds at once with
voceunica's own templates, and a project's templates/ overrides them file by file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from voceunica import __version__, defaults
from voceunica.fingerprint import agreed
from voceunica.validate import load_project


def vu(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "VOCEUNICA_DEBUG"}
    return subprocess.run([sys.executable, "-m", "voceunica", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=600)


@pytest.fixture(scope="module")
def offices(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("init")
    done = vu("init", "offices", cwd=where)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return where / "offices"


def test_init_writes_a_content_repository(offices: Path) -> None:
    files = sorted(p.relative_to(offices).as_posix() for p in offices.rglob("*") if p.is_file())
    assert files == [".github/workflows/voceunica.yml", ".gitignore", ".pre-commit-config.yaml", "README.md",
                     "dossiers/example.yaml", "positions/example-cbam.yaml"]
    assert not (offices / "templates").exists()  # voceunica's defaults serve until the project overrides one
    project = load_project(offices)
    assert project.errors == []
    assert agreed(project.positions["example-cbam"])  # both sign-offs current: fingerprints computed, not typed


def test_the_workflow_and_the_hook_are_pinned_to_this_version(offices: Path) -> None:
    package = f"voceunica[charts]=={__version__}"
    wf = yaml.safe_load((offices / ".github/workflows/voceunica.yml").read_text(encoding="utf-8"))
    assert wf["env"]["VOCEUNICA_PACKAGE"] == package
    [repo] = yaml.safe_load((offices / ".pre-commit-config.yaml").read_text(encoding="utf-8"))["repos"]
    [hook] = repo["hooks"]
    assert hook["additional_dependencies"] == [f"voceunica=={__version__}"]  # check needs no charts extra
    assert hook["entry"] == "voceunica check"
    # the same hook as the one this repository publishes (.pre-commit-hooks.yaml)
    [published] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == published["id"] and hook["pass_filenames"] is published["pass_filenames"] is False
    assert "__" not in (offices / "README.md").read_text(encoding="utf-8")  # every placeholder filled


def test_check_and_build_work_at_once(offices: Path, tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(offices, project)
    done = vu("check", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr and "note:" not in done.stderr, done.stderr
    done = vu("build", "-j", "1", cwd=project / "positions")  # from a subfolder too
    assert done.returncode == 0, done.stderr
    built = sorted(p.name for p in (project / "build").iterdir() if not p.name.startswith("."))
    assert built == ["example.en.docx", "example.en.md", "example.it-en.docx", "example.it.docx",
                     "example.it.md"], built
    from docx import Document

    text = "\n".join(p.text for p in Document(str(project / "build" / "example.it.docx")).paragraphs)
    assert "Estendere il CBAM" in text
    done = vu("site", "--drafts", "--out", str(tmp_path / "site"), cwd=project)  # the site's templates too
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "index.html").is_file()


@pytest.mark.parametrize("what", ["folder", "file"])
def test_init_refuses_a_non_empty_folder_or_a_file(tmp_path: Path, what: str) -> None:
    target = tmp_path / "offices"
    if what == "folder":
        target.mkdir()
        (target / "notes.txt").write_text("mine\n", encoding="utf-8")
    else:
        target.write_text("mine\n", encoding="utf-8")
    done = vu("init", "offices", cwd=tmp_path)
    assert done.returncode == 1
    first = done.stderr.splitlines()[0]
    assert first == ("offices/:1:1: not empty: init writes a new project into a new or empty folder" if what == "folder"
                     else "offices:1:1: exists and is not a folder: name a new or empty folder"), done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["offices"]  # nothing else written, nothing left over
    if what == "folder":
        assert [p.name for p in target.iterdir()] == ["notes.txt"]


def test_init_into_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "offices").mkdir()
    done = vu("init", "offices", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["offices"]  # the staging folder renamed into place
    assert (tmp_path / "offices" / "positions" / "example-cbam.yaml").is_file()


def test_the_defaults_are_this_repositorys_templates_in_an_editable_install() -> None:
    folder = defaults.templates_dir()
    assert folder is not None
    if folder == defaults.PACKAGED:
        pytest.skip("installed from a wheel: the defaults are the packaged copy")
    assert folder == (REPO / "templates").resolve()
    assert "dossier.md.j2" in defaults.names() and "site/page.html.j2" in defaults.names()


def test_a_projects_template_overrides_the_default_and_check_notes_it(offices: Path, tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(offices, project)
    (project / "templates").mkdir()
    shutil.copy(REPO / "templates" / "labels.yaml", project / "templates" / "labels.yaml")  # the same bytes
    own = (REPO / "templates" / "dossier.md.j2").read_text(encoding="utf-8") + "\nOUR-OWN-TEMPLATE\n"
    (project / "templates" / "dossier.md.j2").write_text(own, encoding="utf-8")
    done = vu("check", cwd=project)
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if "note:" in line]
    assert notes == [f"templates/dossier.md.j2:1:1: note: overrides voceunica {__version__}'s default "
                     "(delete the file to follow the default)"], done.stderr  # an identical copy is no override
    done = vu("check", "--format", "github", cwd=project)
    assert "::notice file=templates/dossier.md.j2,line=1,col=1::overrides" in done.stdout
    done = vu("build", "-j", "1", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "OUR-OWN-TEMPLATE" in (project / "build" / "example.en.md").read_text(encoding="utf-8")


def test_a_projects_template_stays_in_the_sandbox(offices: Path, tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(offices, project)
    (project / "templates").mkdir()
    (project / "templates" / "dossier.md.j2").write_text("{{ d.__class__.__mro__ }}\n", encoding="utf-8")
    done = vu("build", "-j", "1", cwd=project)
    assert done.returncode == 1
    assert "templates/dossier.md.j2:1:1: template error:" in done.stderr and "sandbox" in done.stderr, done.stderr


def test_the_sample_repository_is_not_noisy() -> None:
    done = vu("check", "--format", "json", cwd=REPO)
    assert '"note"' not in done.stdout, done.stdout  # its templates/ is the defaults' source


def test_init_can_install_voceunica_from_git(tmp_path: Path) -> None:
    spec = "voceunica[charts] @ git+https://github.com/example/voceunica@v0.1.0"
    done = vu("init", "offices", "--package", spec, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    wf = yaml.safe_load((tmp_path / "offices/.github/workflows/voceunica.yml").read_text(encoding="utf-8"))
    assert wf["env"]["VOCEUNICA_PACKAGE"] == spec
    [repo] = yaml.safe_load((tmp_path / "offices/.pre-commit-config.yaml").read_text(encoding="utf-8"))["repos"]
    assert repo["hooks"][0]["additional_dependencies"] == [spec]
    done = vu("init", "other", "--package", 'x"\nrun: evil', cwd=tmp_path)
    assert done.returncode == 1 and "expected a pip requirement" in done.stderr
    assert not (tmp_path / "other").exists()
