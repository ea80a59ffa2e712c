"""The semantic diff, presented: for a terminal, a pull-request comment, machines.

Every word here is English: reviewers of a pull request read it, as they read
`check`.  (Release notes, which the offices send out, are `changelog`'s, in
the project's labels.)

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

import json
from dataclasses import asdict

from voceunica.diff.compare import CellChange, ItemDiff, Op, ProjectDiff
from voceunica.mdescape import escape_list_marker, gfm_escape


# --- JSON ----------------------------------------------------------------------------

def to_json(d: ProjectDiff) -> str:
    data = {"format": "voceunica/diff@1", **asdict(d)}
    return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=2) + "\n"


# --- Markdown (a pull-request comment) ----------------------------------------------

NO_CHANGES = "No changes to positions, dossiers or annexes."
KIND_TITLES = {"position": "Position", "dossier": "Dossier", "annex": "Annex"}


def to_markdown(d: ProjectDiff) -> str:
    if d.empty:
        return NO_CHANGES + "\n"
    blocks = ["## Content changes"]
    for item in d.items():
        blocks.append(f"### {KIND_TITLES[item.kind]} `{item.id}` — {item.change}")
        bullets = [f"- `{name}`: " + (_md_value_change(a, b) if item.change == "changed"
                                       else gfm_escape(a or b or "")) for name, a, b in _value_changes(item)]
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
        return f"added ({gfm_escape(new or '')})"
    if new is None:
        return f"removed ({gfm_escape(old)})"
    return f"~~{gfm_escape(old)}~~ → **{gfm_escape(new)}**"


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
    for n, raw in enumerate(lines):
        line = escape_list_marker(raw)
        hard_break = n + 1 < len(lines) and line.strip() and lines[n + 1].strip()
        quoted.append(("> " + line).rstrip() + ("\\" if hard_break else ""))
    return "\n".join(quoted)


def _md_mark(op: Op, text: str) -> str:
    # GitHub ignores ~~ and ** next to whitespace, so spaces stay outside the marks.
    core = text.strip()
    if op == "equal" or not core:
        return "" if op == "delete" else gfm_escape(text)
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()):]
    mark = "~~" if op == "delete" else "**"
    return f"{lead}{mark}{gfm_escape(core)}{mark}{trail}"


def _md_cells(cells: list[CellChange]) -> str:
    rows = ["| Row | Column | Old | New |", "| --- | --- | --- | --- |"]
    for c in cells:
        column = c.column if c.column is not None else ("*row added*" if c.old is None else "*row removed*")
        rows.append("| " + " | ".join([gfm_escape(c.row), column if c.column is None else gfm_escape(column),
                                       gfm_escape(c.old or ""), gfm_escape(c.new or "")]) + " |")
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
