from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def make_project(tmp_path: Path, name: str = "mini") -> Path:
    """A copy of a fixture project with the repository's real templates."""
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root)
    shutil.copytree(REPO / "templates", root / "templates")
    return root


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    return make_project(tmp_path)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A copy of the repository's own sample content."""
    root = tmp_path / "sample"
    for sub in ("positions", "dossiers", "templates"):
        shutil.copytree(REPO / sub, root / sub)
    return root
