"""The semantic diff, computed: what changed between two loaded projects.

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
"""

from __future__ import annotations

import datetime as dt
import json
import re
import dataclasses
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Literal
from collections.abc import Iterator, Mapping

from pydantic import BaseModel

from voceunica.model import LANGS, Section, Signoff, Text
from voceunica.project import AnnexData, Cell, Project

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
    words: list[tuple[Op, str]] = dataclasses.field(default_factory=list)


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
    fields: list[FieldChange] = dataclasses.field(default_factory=list)
    cells: list[CellChange] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class ProjectDiff:
    positions: list[ItemDiff] = dataclasses.field(default_factory=list)
    dossiers: list[ItemDiff] = dataclasses.field(default_factory=list)
    annexes: list[ItemDiff] = dataclasses.field(default_factory=list)

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
            a_cells = dict(zip(a_cols, a_rows[key], strict=True))
            b_cells = dict(zip(b_cols, row, strict=True))
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
    return {str(k): r for k, r in zip(keys, rows, strict=True)}


def _cell_text(cell: Cell) -> str | None:
    return None if cell is None or cell == "" else str(cell)


def _row_text(row: list[Cell]) -> str:
    return "; ".join(_cell_text(c) or "" for c in row)
