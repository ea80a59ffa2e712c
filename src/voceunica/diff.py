"""Semantic diff of two loaded projects, for reviewers of a pull request.

Beside the pipeline stages: it takes two `Project`s (typically
`gitrev.project_at(root, base)` and `load_project(root)`) and compares their
*content* — positions, dossiers and annexes — never their YAML or CSV text.
Both projects should be valid: an item that failed to load is absent, so it
shows as removed (or added).  Pure functions only: no printing, no git.

What is compared
- Items are matched by id; only added, removed or changed ones are listed,
  positions, dossiers and annexes each sorted by id.
- `version` and `status` are item attributes, not fields.  Every other field is
  walked in model order.  A text (`Text`) gives one change per language that
  differs, with a word-level diff; anything else (numbers, identifiers, dates,
  lists of ids, a sign-off) is compared as one value.
- Lists of sub-items (sections, asks, EU files, notes, columns...) are aligned
  on an identity (a key, a column name, a section's heading) with
  `SequenceMatcher`, so an inserted section shows as one added section; items
  whose identity changed are paired index-wise.  Paths use the new index, or
  the old one for a removed sub-item.
- Annex data: rows keyed by the first column's value (by "row N", 1-based,
  when that value is empty or repeated); changed cells, added and removed rows.
  Reordering rows alone is not reported.

JSON shape (`to_json`; keys sorted, two-space indent)::

    {"format": "voceunica/diff@1",
     "positions" | "dossiers" | "annexes": [
       {"kind": "position" | "dossier" | "annex", "id": str,
        "change": "added" | "removed" | "changed",
        "old_version": str | null, "new_version": str | null,
        "old_status": str | null, "new_status": str | null,
        "fields": [{"field": "sections[1].body", "lang": "it" | "en" | null,
                    "old": str | null, "new": str | null,
                    "words": [["equal" | "delete" | "insert", str], ...]}],
        "cells": [{"row": str, "column": str | null,
                   "old": str | null, "new": str | null}]}]}

`lang` is null for a non-text field, whose `words` is empty.  `old`/`new` null
mean added/removed.  A cell with `column` null is a whole row added (`old`
null) or removed (`new` null), its values joined with "; ".
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from typing import Any, Iterator, Literal, Mapping

from pydantic import BaseModel

from voceunica.model import LANGS, Section, Signoff, Text
from voceunica.validate import AnnexData, Cell, Project

Kind = Literal["position", "dossier", "annex"]
Change = Literal["added", "removed", "changed"]
Op = Literal["equal", "delete", "insert"]

ITEM_ATTRIBUTES = ("version", "status")  # reported on the item, not as fields


@dataclass(frozen=True)
class FieldChange:
    field: str  # "sections[1].body"
    lang: str | None  # "it"/"en"; None for a non-text field
    old: str | None
    new: str | None
    words: list[tuple[Op, str]] = field(default_factory=list)


@dataclass(frozen=True)
class CellChange:
    row: str  # the row's key: its first cell, or "row N"
    column: str | None  # None: the whole row was added or removed
    old: str | None
    new: str | None


@dataclass(frozen=True)
class ItemDiff:
    kind: Kind
    id: str
    change: Change
    old_version: str | None = None
    new_version: str | None = None
    old_status: str | None = None
    new_status: str | None = None
    fields: list[FieldChange] = field(default_factory=list)
    cells: list[CellChange] = field(default_factory=list)


@dataclass(frozen=True)
class ProjectDiff:
    positions: list[ItemDiff] = field(default_factory=list)
    dossiers: list[ItemDiff] = field(default_factory=list)
    annexes: list[ItemDiff] = field(default_factory=list)

    def items(self) -> list[ItemDiff]:
        return [*self.positions, *self.dossiers, *self.annexes]

    @property
    def empty(self) -> bool:
        return not self.items()


# --- comparing ---------------------------------------------------------------------

def diff_projects(old: Project, new: Project) -> ProjectDiff:
    return ProjectDiff(
        positions=_diff_items("position", old.positions, new.positions),
        dossiers=_diff_items("dossier", old.dossiers, new.dossiers),
        annexes=_diff_items("annex", old.annexes, new.annexes),
    )


def _diff_items(kind: Kind, old: Mapping[str, BaseModel | AnnexData],
                new: Mapping[str, BaseModel | AnnexData]) -> list[ItemDiff]:
    out = []
    for ident in sorted(old.keys() | new.keys()):
        old_item, new_item = old.get(ident), new.get(ident)
        a, b = _meta(old_item), _meta(new_item)
        change: Change = "added" if a is None else "removed" if b is None else "changed"
        cells = compare_rows(old_item, new_item) \
            if isinstance(old_item, AnnexData) and isinstance(new_item, AnnexData) else []
        if a == b and not cells:
            continue
        fields = compare_models(a, b) if a is not None and b is not None else []
        out.append(ItemDiff(kind, ident, change, getattr(a, "version", None), getattr(b, "version", None),
                            getattr(a, "status", None), getattr(b, "status", None), fields, cells))
    return out


def _meta(item: BaseModel | AnnexData | None) -> BaseModel | None:
    return item.meta if isinstance(item, AnnexData) else item


def compare_models(old: BaseModel, new: BaseModel) -> list[FieldChange]:
    """Every field that differs between two versions of one item, in model order."""
    out: list[FieldChange] = []
    for name in type(new).model_fields:
        if name not in ITEM_ATTRIBUTES:
            _compare(getattr(old, name), getattr(new, name), name, out)
    return out


def _compare(old: Any, new: Any, path: str, out: list[FieldChange]) -> None:
    if old == new:
        return
    sample = new if new is not None else old
    if isinstance(sample, Text):
        for lang in LANGS:
            a = old[lang] if old is not None else None
            b = new[lang] if new is not None else None
            if a != b:
                out.append(FieldChange(path, lang, a, b, word_diff(a or "", b or "")))
    elif isinstance(sample, BaseModel) and not isinstance(sample, Signoff):
        for name in type(sample).model_fields:
            _compare(getattr(old, name, None), getattr(new, name, None), f"{path}.{name}", out)
    elif isinstance(sample, list) and any(isinstance(x, BaseModel) for x in [*(old or []), *(new or [])]):
        for i, a, j, b in _aligned(old or [], new or []):
            _compare(a, b, f"{path}[{j if j is not None else i}]", out)
    elif isinstance(sample, dict):
        a_map, b_map = old or {}, new or {}
        for key in [*a_map, *(k for k in b_map if k not in a_map)]:
            _compare(a_map.get(key), b_map.get(key), f"{path}[{key}]", out)
    else:
        out.append(FieldChange(path, None, show_value(old), show_value(new)))


def _aligned(old: list[Any], new: list[Any]) -> Iterator[tuple[int | None, Any, int | None, Any]]:
    """(old index, old item, new index, new item) pairs; None where one side has no item."""
    matcher = SequenceMatcher(None, [_identity(x) for x in old], [_identity(x) for x in new], autojunk=False)
    for _tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for k in range(max(i2 - i1, j2 - j1)):
            i = i1 + k if i1 + k < i2 else None
            j = j1 + k if j1 + k < j2 else None
            yield i, old[i] if i is not None else None, j, new[j] if j is not None else None


def _identity(item: Any) -> str:
    if isinstance(item, Section):
        return "heading:" + item.heading.it + "\n" + item.heading.en
    for attr in ("key", "name", "region"):
        if isinstance(getattr(item, attr, None), str):
            return f"{attr}:{getattr(item, attr)}"
    if isinstance(item, BaseModel):
        return json.dumps(item.model_dump(mode="json"), sort_keys=True)
    return repr(item)


def show_value(value: Any) -> str | None:
    """A non-text value as reviewers read it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Signoff):
        return f"by {value.by}, {value.date.isoformat()}, {value.fingerprint}"
    if isinstance(value, list):
        return ", ".join(show_value(v) or "" for v in value)
    if isinstance(value, BaseModel):
        return json.dumps(value.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return str(value)


TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


def word_diff(old: str, new: str) -> list[tuple[Op, str]]:
    """Word-level diff; whitespace and each punctuation mark are tokens of their own."""
    a, b = TOKEN.findall(old), TOKEN.findall(new)
    ops: list[tuple[Op, str]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            ops.append(("equal", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            ops.append(("delete", "".join(a[i1:i2])))
        if j2 > j1:
            ops.append(("insert", "".join(b[j1:j2])))
    merged: list[tuple[Op, str]] = []
    for op, text in ops:
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        else:
            merged.append((op, text))
    return merged


def compare_rows(old: AnnexData, new: AnnexData) -> list[CellChange]:
    """Changed cells of rows present on both sides (in the new order), then added, then removed rows."""
    a_cols = [c.name for c in old.meta.columns]
    b_cols = [c.name for c in new.meta.columns]
    a_rows, b_rows = _keyed(old.rows), _keyed(new.rows)
    out: list[CellChange] = []
    for key, row in b_rows.items():
        if key in a_rows:
            a_cells = dict(zip(a_cols, a_rows[key]))
            b_cells = dict(zip(b_cols, row))
            for col in [*b_cols, *(c for c in a_cols if c not in b_cells)]:
                before, after = a_cells.get(col), b_cells.get(col)
                if before != after:  # typed values: 80.10 is 80.1
                    out.append(CellChange(key, col, _cell_text(before), _cell_text(after)))
    out += [CellChange(k, None, None, _row_text(r)) for k, r in b_rows.items() if k not in a_rows]
    out += [CellChange(k, None, _row_text(r), None) for k, r in a_rows.items() if k not in b_rows]
    return out


def _keyed(rows: list[list[Cell]]) -> dict[str, list[Cell]]:
    keys = [_cell_text(r[0]) if r else None for r in rows]
    if None in keys or len(set(keys)) != len(keys):
        return {f"row {n}": r for n, r in enumerate(rows, start=1)}
    return {str(k): r for k, r in zip(keys, rows)}


def _cell_text(cell: Cell) -> str | None:
    return None if cell is None or cell == "" else str(cell)


def _row_text(row: list[Cell]) -> str:
    return "; ".join(_cell_text(c) or "" for c in row)


# --- JSON ----------------------------------------------------------------------------

def to_json(d: ProjectDiff) -> str:
    data = {"format": "voceunica/diff@1", **asdict(d)}
    return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=2) + "\n"


# --- Markdown (a pull-request comment) ----------------------------------------------

NO_CHANGES = "No changes to positions, dossiers or annexes."
KIND_TITLES = {"position": "Position", "dossier": "Dossier", "annex": "Annex"}
_MD_SPECIAL = re.compile(r"([\\`*_~\[\]<>#|!&$])")  # $: GitHub reads $...$ as maths
_MD_LINE_START = re.compile(r"^(\s*)(?:([-+])(?=\s|$)|(\d+)([.)])(?=\s|$))")


def md_escape(text: str) -> str:
    """Backslash-escape what GitHub would read as Markdown (ASCII punctuation only)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def to_markdown(d: ProjectDiff) -> str:
    if d.empty:
        return NO_CHANGES + "\n"
    blocks = ["## Content changes"]
    for item in d.items():
        blocks.append(f"### {KIND_TITLES[item.kind]} `{item.id}` — {item.change}")
        bullets = [f"- `{name}`: " + (_md_value_change(a, b) if item.change == "changed"
                                       else md_escape(a or b or "")) for name, a, b in _value_changes(item)]
        if bullets:
            blocks.append("\n".join(bullets))
        for fc in item.fields:
            if fc.lang is not None:
                blocks.append(f"`{fc.field}` ({fc.lang}):\n\n" + _md_quote(fc.words))
        if item.cells:
            blocks.append(_md_cells(item.cells))
    return "\n\n".join(blocks) + "\n"


def _value_changes(item: ItemDiff) -> list[tuple[str, str | None, str | None]]:
    """(name, old, new) of version, status and the non-text fields; of an added or
    removed item, its version and status."""
    out = [(name, a, b) for name, a, b in (("version", item.old_version, item.new_version),
                                           ("status", item.old_status, item.new_status)) if a != b]
    return out + [(fc.field, fc.old, fc.new) for fc in item.fields if fc.lang is None]


def _md_value_change(old: str | None, new: str | None) -> str:
    if old is None:
        return f"added ({md_escape(new or '')})"
    if new is None:
        return f"removed ({md_escape(old)})"
    return f"~~{md_escape(old)}~~ → **{md_escape(new)}**"


def _md_quote(words: list[tuple[Op, str]]) -> str:
    """The word diff as a blockquote: one source line per line, each mark closed on its line."""
    lines = [""]
    for op, text in words:
        for n, segment in enumerate(text.split("\n")):
            if n:
                lines.append("")
            lines[-1] += _md_mark(op, segment)
    while len(lines) > 1 and not lines[-1].strip():
        lines.pop()
    quoted = []
    for n, line in enumerate(lines):
        line = _MD_LINE_START.sub(_escape_list_marker, line)
        hard_break = n + 1 < len(lines) and line.strip() and lines[n + 1].strip()
        quoted.append(("> " + line).rstrip() + ("\\" if hard_break else ""))
    return "\n".join(quoted)


def _escape_list_marker(m: re.Match[str]) -> str:
    """'- x' or '1. x' at the start of a line would become a list."""
    return m.group(1) + ("\\" + m.group(2) if m.group(2) else m.group(3) + "\\" + m.group(4))


def _md_mark(op: Op, text: str) -> str:
    # GitHub ignores ~~ and ** next to whitespace, so spaces stay outside the marks.
    core = text.strip()
    if op == "equal" or not core:
        return "" if op == "delete" else md_escape(text)
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()):]
    mark = "~~" if op == "delete" else "**"
    return f"{lead}{mark}{md_escape(core)}{mark}{trail}"


def _md_cells(cells: list[CellChange]) -> str:
    rows = ["| Row | Column | Old | New |", "| --- | --- | --- | --- |"]
    for c in cells:
        column = c.column if c.column is not None else ("*row added*" if c.old is None else "*row removed*")
        rows.append("| " + " | ".join([md_escape(c.row), column if c.column is None else md_escape(column),
                                       md_escape(c.old or ""), md_escape(c.new or "")]) + " |")
    return "\n".join(rows)


# --- terminal -----------------------------------------------------------------------

RED, GREEN, BOLD, RESET = "\x1b[31m", "\x1b[32m", "\x1b[1m", "\x1b[0m"


def to_terminal(d: ProjectDiff, color: bool) -> str:
    """Plain text like `git diff --word-diff=plain`, or with ANSI colours."""
    if d.empty:
        return NO_CHANGES + "\n"

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if color and text else text

    def words(op: Op, text: str) -> str:
        if op == "equal":
            return text
        if color:
            return paint(RED if op == "delete" else GREEN, text)
        return f"[-{text}-]" if op == "delete" else f"{{+{text}+}}"

    def change(old: str | None, new: str | None) -> str:
        if old is None:
            return f"added ({words('insert', new or '')})"
        if new is None:
            return f"removed ({words('delete', old)})"
        return f"{words('delete', old)} → {words('insert', new)}"

    out = []
    for item in d.items():
        out.append(paint(BOLD, f"{item.kind} {item.id}: {item.change}"))
        for name, a, b in _value_changes(item):
            out.append(f"  {name}: " + (change(a, b) if item.change == "changed" else a or b or ""))
        for fc in item.fields:
            if fc.lang is not None:
                text = "".join(words(op, t) for op, t in fc.words).rstrip("\n")
                lines = f"  {fc.field} ({fc.lang}): {text}".split("\n")
                out.append("\n    ".join(line.rstrip() for line in lines))
        for c in item.cells:
            if c.column is None:
                out.append(f"  row {c.row}: {change(c.old, c.new)}")
            else:
                out.append(f"  row {c.row}, {c.column}: {change(c.old, c.new)}")
    return "\n".join(out) + "\n"


# --- changelog ------------------------------------------------------------------------

WORDING: dict[str, dict[str, Any]] = {
    "en": {
        "added": {"position": "Added position", "dossier": "Added dossier", "annex": "Added annex"},
        "removed": {"position": "Removed position", "dossier": "Removed dossier", "annex": "Removed annex"},
        "kind": {"position": "Position", "dossier": "Dossier", "annex": "Annex"},
        "version": "version", "status": "status", "changed": "changed",
        "data": "data", "cells": ("{n} cell changed", "{n} cells changed"),
        "rows_added": ("{n} row added", "{n} rows added"), "rows_removed": ("{n} row removed", "{n} rows removed"),
        "none": "No changes.",
    },
    "it": {
        "added": {"position": "Aggiunta la posizione", "dossier": "Aggiunto il dossier",
                  "annex": "Aggiunto l'allegato"},
        "removed": {"position": "Rimossa la posizione", "dossier": "Rimosso il dossier",
                    "annex": "Rimosso l'allegato"},
        "kind": {"position": "Posizione", "dossier": "Dossier", "annex": "Allegato"},
        "version": "versione", "status": "stato", "changed": "modificati",
        "data": "dati", "cells": ("{n} cella modificata", "{n} celle modificate"),
        "rows_added": ("{n} riga aggiunta", "{n} righe aggiunte"),
        "rows_removed": ("{n} riga rimossa", "{n} righe rimosse"),
        "none": "Nessuna modifica.",
    },
}


def changelog(d: ProjectDiff, lang: str, labels: dict[str, str] | None = None) -> str:
    """Release notes in `lang`, one bullet per item.  `labels` (e.g. the project's
    labels in that language) name the statuses: {"status.draft": "Bozza"}."""
    w = WORDING[lang]
    if d.empty:
        return w["none"] + "\n"

    def status(s: str | None) -> str:
        label = (labels or {}).get(f"status.{s}", s or "")
        return label[:1].lower() + label[1:]

    lines = []
    for item in d.items():
        if item.change != "changed":
            version = item.new_version if item.change == "added" else item.old_version
            suffix = f" ({w['version']} {version})" if version else ""
            lines.append(f"- {w[item.change][item.kind]} `{item.id}`{suffix}")
            continue
        head = [f"{item.old_version} → {item.new_version}"] if item.old_version != item.new_version else []
        if item.old_status != item.new_status:
            head.append(f"{w['status']} {status(item.old_status)} → {status(item.new_status)}")
        parts = [", ".join(head)] if head else []
        names = list(dict.fromkeys(_changelog_name(fc.field) for fc in item.fields))
        if names:
            parts.append(f"{w['changed']}: " + ", ".join(f"`{n}`" for n in names))
        if item.cells:
            parts.append(f"{w['data']}: " + _count_cells(item.cells, w))
        lines.append(f"- {w['kind'][item.kind]} `{item.id}`: " + "; ".join(parts))
    return "\n".join(lines) + "\n"


def _changelog_name(path: str) -> str:
    # The translation record is bookkeeping: one mention is enough in release notes.
    return "translated_from" if path.startswith("translated_from[") else path


def _count_cells(cells: list[CellChange], w: dict[str, Any]) -> str:
    counts = (("cells", sum(c.column is not None for c in cells)),
              ("rows_added", sum(c.column is None and c.old is None for c in cells)),
              ("rows_removed", sum(c.column is None and c.new is None for c in cells)))
    return ", ".join(w[key][n != 1].format(n=n) for key, n in counts if n)
