"""The semantic diff as release notes: CHANGELOG.<lang>.md of a release.

Unlike the reviewers' views (`present`), release notes go out with the
dossiers, so every word comes from the project's labels (templates/labels.yaml,
in the release's language): `changelog.*`, the kinds (`position`, `dossier`,
`annex`), `version`, `status` and the statuses themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from voceunica.diff.compare import CellChange, ProjectDiff

if TYPE_CHECKING:
    from voceunica.kpi import Movement
    from voceunica.project import Project

# The labels release notes print: labels.yaml must define each (see validate.REQUIRED_LABELS).
LABELS = (
    "changelog.title", "changelog.since", "changelog.first_release", "changelog.no_changes",
    "changelog.added.position", "changelog.added.dossier", "changelog.added.annex",
    "changelog.removed.position", "changelog.removed.dossier", "changelog.removed.annex",
    "changelog.changed", "changelog.data", "changelog.cell_changed", "changelog.cells_changed",
    "changelog.row_added", "changelog.rows_added", "changelog.row_removed", "changelog.rows_removed",
    "position", "dossier", "annex", "version", "status",
    "status.draft", "status.agreed", "status.adopted", "status.withdrawn",
)


def release_notes(d: ProjectDiff, labels: Mapping[str, str], version: str, previous: str | None,
                  kpis: Sequence[str] = ()) -> str:
    """A whole CHANGELOG file: title, what it is compared with, one bullet per item; then the
    KPI updates (`kpi_lines`) under their own heading."""
    head = f"# {labels['changelog.title']} – {version}\n\n"
    head += f"*{labels['changelog.since']} {previous}*\n\n" if previous else \
        f"*{labels['changelog.first_release']}*\n\n"
    body = "" if d.empty and kpis else changelog(d, labels).strip()
    if kpis:
        body += ("\n\n" if body else "") + f"## {labels['changelog.kpis']}\n\n" + "\n".join(kpis)
    return head + body + "\n"


def kpi_lines(moves: Sequence[Movement], new: Project, lang: str,
              labels: Mapping[str, str]) -> list[str]:
    """One bullet per KPI that moved between two releases: how its headline figure moved (worded
    as the scoreboard words it) and how many observations were added, revised or removed."""
    from voceunica.scoreboard import movement_text

    words = dict(labels)
    out = []
    for m in moves:
        if m.change in ("added", "removed"):
            out.append(f"- {labels[f'changelog.{m.change}.kpi']} `{m.id}`")
            continue
        meta = new.kpis[m.id].meta
        counts = (labels["changelog.kpi_observations"].replace("{added}", str(m.added))
                  .replace("{revised}", str(m.revised)).replace("{removed}", str(m.removed)))
        out.append(f"- {labels['kpi.indicator']} `{m.id}`: {movement_text(m, meta, lang, words)}; {counts}")
    return out


def changelog(d: ProjectDiff, labels: Mapping[str, str]) -> str:
    """Release notes, one bullet per item, in the language of `labels` (the
    project's labels in that language: {"status.draft": "Bozza", ...})."""
    if d.empty:
        return labels["changelog.no_changes"] + "\n"

    def word(key: str) -> str:
        """A label inside a sentence: 'Versione' → 'versione'."""
        label = labels[key]
        return label[:1].lower() + label[1:]

    lines = []
    for item in d.items():
        if item.change != "changed":
            version = item.new_version if item.change == "added" else item.old_version
            suffix = f" ({word('version')} {version})" if version else ""
            lines.append(f"- {labels[f'changelog.{item.change}.{item.kind}']} `{item.id}`{suffix}")
            continue
        head = [f"{item.old_version} → {item.new_version}"] if item.old_version != item.new_version else []
        if item.old_status != item.new_status:
            head.append(f"{word('status')} {_status(labels, item.old_status)} → {_status(labels, item.new_status)}")
        parts = [", ".join(head)] if head else []
        names = list(dict.fromkeys(_changelog_name(fc.field) for fc in item.fields))
        if names:
            parts.append(f"{labels['changelog.changed']}: " + ", ".join(f"`{n}`" for n in names))
        if item.cells:
            parts.append(f"{labels['changelog.data']}: " + _count_cells(item.cells, labels))
        lines.append(f"- {labels[item.kind]} `{item.id}`: " + "; ".join(parts))
    return "\n".join(lines) + "\n"


def _status(labels: Mapping[str, str], status: str | None) -> str:
    label = labels.get(f"status.{status}", status or "")
    return label[:1].lower() + label[1:]


def _changelog_name(path: str) -> str:
    # The translation record is bookkeeping: one mention is enough in release notes.
    return "translated_from" if path.startswith("translated_from[") else path


def _count_cells(cells: list[CellChange], labels: Mapping[str, str]) -> str:
    counts = (("cell_changed", "cells_changed", sum(c.column is not None for c in cells)),
              ("row_added", "rows_added", sum(c.column is None and c.old is None for c in cells)),
              ("row_removed", "rows_removed", sum(c.column is None and c.new is None for c in cells)))
    return ", ".join(f"{n} {labels['changelog.' + (one if n == 1 else many)]}" for one, many, n in counts if n)
