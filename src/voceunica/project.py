"""The loaded project: every position, dossier, annex and label, with where each came from.

Stage 2's product and every later stage's input.  A type of its own, so that
a stage needing the project does not import the validation stage to get it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from voceunica import defaults
from voceunica.errors import Problem
from voceunica.load import MAX_BINARY_BYTES, SourceMap, read_project_file
from voceunica.model import Annex, Dossier, EUFileRecord, Kpi, Position, Text

Cell = str | int | Decimal | None


@dataclass
class AnnexData:
    meta: Annex
    rows: list[list[Cell]]
    source: SourceMap
    csv_path: str


@dataclass(frozen=True)
class Observation:
    """One row of kpis/<id>.csv."""

    period: str  # '2025', '2025-Q3', '2025-09'
    region: str  # lombardia | veneto | both
    value: Decimal
    status: str  # provisional | final
    published: str  # ISO date, or '' when not recorded
    line: int  # in the CSV


@dataclass
class KpiData:
    meta: Kpi
    observations: list[Observation]
    source: SourceMap
    csv_path: str


@dataclass
class Project:
    root: Path
    positions: dict[str, Position] = field(default_factory=dict)
    dossiers: dict[str, Dossier] = field(default_factory=dict)
    annexes: dict[str, AnnexData] = field(default_factory=dict)
    kpis: dict[str, KpiData] = field(default_factory=dict)
    catalogue: dict[str, EUFileRecord] = field(default_factory=dict)  # eu-files/<key>.yaml, by key
    labels: dict[str, Text] = field(default_factory=dict)
    sources: dict[str, SourceMap] = field(default_factory=dict)  # "position:<id>" -> where it came from
    files: dict[str, Path] = field(default_factory=dict)  # same keys -> file
    problems: list[Problem] = field(default_factory=list)
    templates: dict[str, bytes] = field(default_factory=dict)  # every template under templates/, to compile
    _assets: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def template_dirs(self) -> list[Path]:
        """Where templates are looked for, in order: the project's own templates/ first, then
        voceunica's defaults (left out when the project's folder is the defaults' source)."""
        own = self.root / "templates"
        folder = defaults.templates_dir()
        if folder is None or (own.is_dir() and own.resolve() == folder):
            return [own]
        return [own, folder]

    def own_template(self, name: str) -> bool:
        """Whether the project has its own templates/<name> (a link counts: reading it says what is wrong)."""
        return os.path.lexists(self.root.joinpath("templates", *name.split("/")))

    @property
    def reference_docx(self) -> Path:
        """The project's templates/reference.docx, else the default one (the first that exists)."""
        for folder in self.template_dirs():
            if os.path.lexists(folder / "reference.docx"):
                return folder / "reference.docx"
        return self.root / "templates" / "reference.docx"

    def asset(self, name: str) -> bytes:
        """A file of templates/ (reference.docx, a logo), read once: the project's own through the
        safe reader, else voceunica's default.  Every dossier and language of a build uses the same
        bytes (forked workers inherit what the parent read).  Raises VoceunicaError when the file
        is refused or missing in both."""
        if name not in self._assets:
            path = self.root / "templates" / name
            data = None if self.own_template(name) else defaults.read(name)
            self._assets[name] = data if data is not None else \
                read_project_file(self.root, path, f"templates/{name}", limit=MAX_BINARY_BYTES)
        return self._assets[name]

    def has_asset(self, name: str) -> bool:
        return self.own_template(name) or defaults.read(name) is not None


def find_root(start: Path) -> Path | None:
    """The project `start` is in: the nearest folder, from `start` up, holding both positions/ and
    dossiers/ — as git finds its repository from a subfolder.  The walk never leaves the top of a
    git repository (a project lies inside the repository that versions it), nor goes above the home
    folder; it ends at the file system's root.  None when no such folder is found."""
    here = start.resolve()
    try:
        home: Path | None = Path.home().resolve()
    except (RuntimeError, KeyError):  # no home folder known (a bare container): the file system's root bounds it
        home = None
    for folder in (here, *here.parents):
        if (folder / "positions").is_dir() and (folder / "dossiers").is_dir():
            return folder
        if folder == home or (folder / ".git").exists():
            return None
    return None
