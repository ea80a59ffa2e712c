"""Only regular files inside the project are read, and templates run in a sandbox.

A pull request can add any kind of file.  Each hostile case plants a unique secret in a
file outside the project and checks that voceunica refuses the way in, names the file
in the project that leads there, and prints or writes none of the secret.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from voceunica import load
from voceunica.validate import load_project
from conftest import POS, DOS, ANNEX, CSV, TEMPLATE

SECRET = "SECRET-7f3a9c-do-not-print"


pytestmark = pytest.mark.skipif(os.name != "posix", reason="symbolic links, FIFOs")


def run(root: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it in the project folder (problems show project-relative paths)."""
    return subprocess.run([sys.executable, "-m", "voceunica", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=root)


def problems(root: Path) -> list[str]:
    return [str(p) for p in load_project(root).problems]


def line_of(root: Path, rel: str, needle: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def outside(tmp_path: Path, name: str, data: bytes | str) -> Path:
    """A file outside the project, holding the secret."""
    folder = tmp_path / "outside"
    folder.mkdir(exist_ok=True)
    path = folder / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def link_out(root: Path, rel: str, tmp_path: Path, content: bytes | str | None = None) -> Path:
    """Replace the project file `rel` by a link to a copy outside that also holds the secret
    (so that, read, it would be a valid file and the secret would reach the outputs)."""
    path = root / rel
    if content is None:
        data = path.read_bytes()
        content = data.replace(b"Steel and CBAM", SECRET.encode()) if path.suffix == ".yaml" else data
    target = outside(tmp_path, path.name, content)
    path.unlink()
    path.symlink_to(target)
    return target


def assert_secret_kept(done: subprocess.CompletedProcess[str], root: Path) -> None:
    assert SECRET not in done.stdout and SECRET not in done.stderr
    assert "Traceback" not in done.stderr
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            assert SECRET.encode() not in p.read_bytes(), p


@pytest.mark.parametrize("rel", [POS, ANNEX, CSV, DOS, "templates/labels.yaml", TEMPLATE,
                                 "templates/reference.docx"])
def test_a_link_to_a_file_outside_the_project_is_refused_by_name(mini: Path, tmp_path: Path, rel: str) -> None:
    link_out(mini, rel, tmp_path)
    done = run(mini, "check")
    assert done.returncode == 1
    assert f"{rel}:1:1: refused: a symbolic link leads it outside" in done.stderr
    assert_secret_kept(done, mini)
    done = run(mini, "build")
    assert done.returncode == 1
    assert_secret_kept(done, mini)
    assert not (mini / "build").exists()


def test_an_annex_csv_linked_to_a_secret_file_prints_none_of_it(mini: Path, tmp_path: Path) -> None:
    # before, a header mismatch quoted the target's first line
    link_out(mini, CSV, tmp_path, f"{SECRET},token\nx,y\n")
    done = run(mini, "check")
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (f"{CSV}:1:1: refused: a symbolic link leads it outside the project "
                                           "(voceunica reads only files inside it)")
    assert_secret_kept(done, mini)


def test_a_logo_linked_outside_is_refused(mini: Path, tmp_path: Path) -> None:
    target = outside(tmp_path, "logo.png", SECRET)
    (mini / "templates" / "logo-veneto.png").symlink_to(target)
    done = run(mini, "build")
    assert done.returncode == 1
    assert "templates/logo-veneto.png:1:1: refused: a symbolic link leads it outside" in done.stderr
    assert_secret_kept(done, mini)


def test_a_folder_linked_outside_is_not_searched(mini: Path, tmp_path: Path) -> None:
    (mini / "positions").rename(tmp_path / "elsewhere")
    (mini / "positions").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert problems(mini)[0] == ("positions/:1:1: refused: a symbolic link leads it outside the project "
                                 "(voceunica reads only files inside it)")


def test_a_link_into_the_git_folder_is_refused(mini: Path) -> None:
    # CI checkouts keep their token in .git/config
    (mini / ".git").mkdir()
    (mini / ".git" / "config").write_text(f"[http]\n\textraheader = {SECRET}\n", encoding="utf-8")
    (mini / CSV).unlink()
    (mini / CSV).symlink_to(Path("../../.git/config"))
    found = problems(mini)
    assert found == [f"{CSV}:1:1: refused: a symbolic link leads it into the git folder"]


def test_a_link_that_stays_inside_the_project_is_followed(mini: Path) -> None:
    """Decided: a link whose target is a regular file inside the project (outside .git) is
    read like that file, so shared files can be linked; only where it ends up counts."""
    shared = mini / "shared"
    shared.mkdir()
    (mini / POS).rename(shared / "steel-mini.yaml")
    (mini / POS).symlink_to(Path("../shared/steel-mini.yaml"))
    (mini / CSV).rename(shared / "exports.csv")
    (mini / CSV).symlink_to(shared / "exports.csv")  # absolute, but inside
    done = run(mini, "build")
    assert done.returncode == 0, done.stderr
    assert (mini / "build" / "mini.it.docx").is_file()


def test_a_template_linked_elsewhere_in_the_project_is_refused(mini: Path) -> None:
    """Templates must resolve inside templates/, not just inside the project."""
    (mini / "positions" / "x.md.j2").write_text("{{ d.title }}\n", encoding="utf-8")
    (mini / "templates" / "x.md.j2").symlink_to(Path("../positions/x.md.j2"))
    assert "templates/x.md.j2:1:1: refused: a symbolic link leads it outside templates/ " \
           "(voceunica reads only files inside it)" in problems(mini)


@pytest.mark.parametrize("rel", [POS, CSV])
def test_a_fifo_is_refused_without_waiting(mini: Path, rel: str) -> None:
    (mini / rel).unlink()
    os.mkfifo(mini / rel)
    done = run(mini, "check", timeout=60)  # before, check waited forever for a writer
    assert done.returncode == 1
    assert f"{rel}:1:1: refused: a named pipe (FIFO), not a regular file" in done.stderr


def test_a_file_swapped_for_a_link_after_the_look_is_not_followed(mini: Path, tmp_path: Path) -> None:
    """The last look resolves the path; the open walks it one folder at a time without
    following links, so a folder replaced by a link in between is refused."""
    target = tmp_path / "outside"
    target.mkdir()
    (target / "steel-mini.yaml").write_text(SECRET, encoding="utf-8")
    (mini / "link").symlink_to(target, target_is_directory=True)
    with pytest.raises(load._Refused, match="replaced by a symbolic link"):
        load._open_under(str(mini.resolve()), ("link", "steel-mini.yaml"), os.O_RDONLY)


def test_an_oversized_file_is_refused_unread(mini: Path) -> None:
    with open(mini / POS, "r+b") as f:
        f.truncate(load.MAX_FILE_BYTES + 1)
    assert problems(mini) == [f"{POS}:1:1: file is larger than 2 MB"]


def test_a_file_name_with_a_newline_cannot_forge_a_problem_line(mini: Path) -> None:
    (mini / "positions" / "x.yaml\nFORGED.yaml:9:9: y.yaml").write_text("id: x\n", encoding="utf-8")
    done = run(mini, "check")
    assert done.returncode == 1
    assert not any(line.startswith("FORGED") for line in done.stderr.splitlines())
    assert "the file name holds a control character: rename the file" in done.stderr


# --- template names ---------------------------------------------------------------------

@pytest.mark.parametrize(("name", "message"), [
    ("/etc/passwd", "template: '/etc/passwd' is an absolute path; name a file inside templates/"),
    ("../x", "template: '../x' is not a plain path inside templates/ (no '..', '.' or empty parts)"),
    ("../../../../../../etc/passwd", "is not a plain path inside templates/"),
    ("sub\\..\\..\\x", "write the name with '/' between folders"),
    ("nope.md.j2", "template: no file templates/nope.md.j2"),
])
def test_a_template_name_must_be_a_file_inside_templates(mini: Path, name: str, message: str) -> None:
    with open(mini / DOS, "a", encoding="utf-8") as f:
        f.write(f"template: '{name}'\n")
    line = line_of(mini, DOS, "template:")
    done = run(mini, "check")
    assert done.returncode == 1
    [found] = [p for p in done.stderr.splitlines() if p.startswith(f"{DOS}:{line}:11: ")]
    assert message in found


def test_a_template_name_that_is_a_link_out_is_refused_at_its_line(mini: Path, tmp_path: Path) -> None:
    target = outside(tmp_path, "t.md.j2", SECRET)
    (mini / "templates" / "t.md.j2").symlink_to(target)
    with open(mini / DOS, "a", encoding="utf-8") as f:
        f.write("template: t.md.j2\n")
    line = line_of(mini, DOS, "template:")
    found = problems(mini)
    assert (f"{DOS}:{line}:11: template: templates/t.md.j2: refused: a symbolic link leads it outside "
            "templates/ (voceunica reads only files inside it)") in found
    assert not any(SECRET in p for p in found)


# --- the sandbox -------------------------------------------------------------------------

ESCAPES = [
    ("{{ ''.__class__.__mro__ }}", "access to attribute '__class__' of 'str' object is unsafe"),
    ("{{ cycler.__init__.__globals__.os.system('touch MARKER') }}",
     "access to attribute '__init__' of 'type' object is unsafe"),
    ("{{ d|attr('__class__') }}", "access to attribute '__class__' of 'ResolvedDossier' object is unsafe"),
    ("{{ '{0.__class__}'.format(d) }}", "access to attribute '__class__' of 'ResolvedDossier' object is unsafe"),
    ("{{ d.positions.append(1) }}", "access to attribute 'append' of 'list' object is unsafe"),
]


@pytest.mark.parametrize(("payload", "message"), ESCAPES, ids=[e[0] for e in ESCAPES])
def test_a_template_cannot_escape_the_sandbox(mini: Path, payload: str, message: str) -> None:
    tpl = mini / TEMPLATE
    tpl.write_text(tpl.read_text(encoding="utf-8") + f"\n{payload}\n", encoding="utf-8")
    line = line_of(mini, TEMPLATE, payload)
    done = run(mini, "build")
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (f"{TEMPLATE}:{line}:1: template error: {message} "
                                           "(templates run in a sandbox)")
    assert not (mini / "MARKER").exists()
    assert not (mini / "build").exists()


def test_a_runtime_error_in_a_template_is_located(mini: Path) -> None:
    tpl = mini / TEMPLATE
    tpl.write_text(tpl.read_text(encoding="utf-8") + "\n{{ 1 // 0 }}\n", encoding="utf-8")
    line = line_of(mini, TEMPLATE, "1 // 0")
    done = run(mini, "build")
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == f"{TEMPLATE}:{line}:1: template error: ZeroDivisionError: " \
                                          "integer division or modulo by zero"


def test_an_included_template_is_read_like_any_project_file(mini: Path, tmp_path: Path) -> None:
    (mini / "templates" / "part.md.j2").symlink_to(outside(tmp_path, "part.md.j2", SECRET))
    tpl = mini / TEMPLATE
    tpl.write_text(tpl.read_text(encoding="utf-8") + '\n{% include "part.md.j2" %}\n', encoding="utf-8")
    from voceunica.errors import VoceunicaError
    from voceunica.render import render_markdown
    from voceunica.resolve import resolve

    project = load_project(mini)
    with pytest.raises(VoceunicaError) as err:
        render_markdown(resolve(project, "mini", "it"), project.template_dirs(), "dossier.md.j2")
    assert str(err.value).startswith("templates/part.md.j2:1:1: refused: a symbolic link leads it outside")
    assert SECRET not in str(err.value)


def test_check_reports_a_template_syntax_error_at_its_line(mini: Path) -> None:
    tpl = mini / TEMPLATE
    tpl.write_text(tpl.read_text(encoding="utf-8") + "\n{% if d.draft %}\nno endif\n", encoding="utf-8")
    (mini / "templates" / "unused.md.j2").write_text("a\n\n{{ d.title | nosuchfilter }}\n", encoding="utf-8")
    done = run(mini, "check")
    assert done.returncode == 1  # before, exit 0: only build found it
    lines = done.stderr.splitlines()
    assert any(line.startswith(f"{TEMPLATE}:") and "template syntax error: Unexpected end of template" in line
               for line in lines), lines
    assert "templates/unused.md.j2:3:1: template syntax error: No filter named 'nosuchfilter'." in lines


def test_the_filters_still_work_in_the_sandbox(mini: Path) -> None:
    tpl = mini / TEMPLATE
    tpl.write_text(tpl.read_text(encoding="utf-8")
                   + "\nMD {{ '*a* | b' | md }} CELL {{ 'x|y\n\nz' | cell }} ONE {{ 'a\n b' | oneline }}\n",
                   encoding="utf-8")
    done = run(mini, "build")
    assert done.returncode == 0, done.stderr
    text = (mini / "build" / "mini.it.md").read_text(encoding="utf-8")
    assert "MD \\*a\\* \\| b CELL x\\|y<br><br>z ONE a b" in text


# --- build/ can be committed too ---------------------------------------------------------

def test_a_fifo_as_the_build_cache_does_not_hang_build(mini: Path) -> None:
    (mini / "build").mkdir()
    os.mkfifo(mini / "build" / ".voceunica-cache.json")
    done = run(mini, "build", timeout=120)  # before, build waited forever for a writer
    assert done.returncode == 0, done.stderr
    assert (mini / "build" / "mini.it.md").is_file()


def test_a_build_cache_naming_files_outside_is_not_followed(mini: Path, tmp_path: Path) -> None:
    import hashlib
    import json

    from voceunica.pipeline import _up_to_date

    secret = outside(tmp_path, "secret.txt", SECRET)
    (mini / "build").mkdir()
    sha = hashlib.sha256(SECRET.encode()).hexdigest()
    # a committed cache that would confirm a guess about a file outside the project
    for name in (f"../../outside/{secret.name}", str(secret)):
        entry = {"inputs": "x", "files": {name: sha}}
        (mini / "build" / ".voceunica-cache.json").write_text(json.dumps({"mini": entry}), encoding="utf-8")
        assert _up_to_date(mini / "build", entry, "x") is False
    assert _up_to_date(mini / "build", {"inputs": "x", "files": ["a"]}, "x") is False
