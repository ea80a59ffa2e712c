from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# The mini fixture's files, as the tests name them (project-relative, as problems print them).
POS = "positions/steel-mini.yaml"
DOS = "dossiers/mini.yaml"
ANNEX = "dossiers/annexes/exports.yaml"
CSV = "dossiers/annexes/exports.csv"
LABELS = "templates/labels.yaml"
TEMPLATE = "templates/dossier.md.j2"


@pytest.fixture(scope="session", autouse=True)
def _own_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """check's and build's records go to a folder of this test session (subprocesses inherit it), never to
    the user's ~/.cache/voceunica: a test run neither reads nor leaves a record of its own there."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


def make_project(tmp_path: Path, name: str = "mini") -> Path:
    """A copy of a fixture project with the repository's real templates."""
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root)
    shutil.copytree(REPO / "templates", root / "templates")
    return root


def make_draft(root: Path) -> None:
    """The mini position back to draft (as an edit awaiting sign-off leaves it)."""
    pos = root / POS
    text = pos.read_text(encoding="utf-8")
    assert "status: agreed" in text
    pos.write_text(text.replace("status: agreed", "status: draft"), encoding="utf-8")


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    return make_project(tmp_path)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A copy of the repository's own sample content."""
    root = tmp_path / "sample"
    for sub in ("positions", "dossiers", "templates", "eu-files"):
        shutil.copytree(REPO / sub, root / sub)
    return root
