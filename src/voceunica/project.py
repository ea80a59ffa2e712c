"""The loaded project: every position, dossier, annex and label, with where each came from.

Stage 2's product and every later stage's input.  A type of its own, so that
a stage needing the project does not import the validation stage to get it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from voceunica.errors import Problem
from voceunica.load import SourceMap
from voceunica.model import Annex, Dossier, Position, Text

Cell = str | int | Decimal | None


@dataclass
class AnnexData:
    meta: Annex
    rows: list[list[Cell]]
    source: SourceMap
    csv_path: str


@dataclass
class Project:
    root: Path
    positions: dict[str, Position] = field(default_factory=dict)
    dossiers: dict[str, Dossier] = field(default_factory=dict)
    annexes: dict[str, AnnexData] = field(default_factory=dict)
    labels: dict[str, Text] = field(default_factory=dict)
    sources: dict[str, SourceMap] = field(default_factory=dict)  # "position:<id>" -> where it came from
    files: dict[str, Path] = field(default_factory=dict)  # same keys -> file
    problems: list[Problem] = field(default_factory=list)
    templates: dict[str, bytes] = field(default_factory=dict)  # every template under templates/, to compile

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def template_dirs(self) -> list[Path]:
        return [self.root / "templates"]

    @property
    def reference_docx(self) -> Path:
        return self.root / "templates" / "reference.docx"
