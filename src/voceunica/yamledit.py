"""Editing position files in place, the way a careful person would.

ruamel.yaml's round-trip mode keeps comments, key order, quoting and block
scalars, so `voceunica signoff` changes only the approval lines and the git
diff shows exactly that.  Every edit is re-read and validated before the
file is (atomically) replaced.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

from voceunica.errors import VoceunicaError, general, problem
from voceunica.fingerprint import field_name, fingerprint, target_language, texts_by_field, translation_marks
from voceunica.load import parse_yaml, read_project_file
from voceunica.model import Position
from voceunica.project import Project
from voceunica.regions import REGIONS
from voceunica.validate import validate_model
from voceunica.write import atomic_write, recover, replace_together


def _yaml() -> Any:
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap long lines: that would show as a change
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _edit(project: Project, pid: str, change: Any) -> Path:
    path, new_text = _edited(project, pid, change)
    recover(project.root)  # a killed import is finished before this file changes again
    atomic_write(path, new_text)
    return path


def _edited(project: Project, pid: str, change: Any) -> tuple[Path, str]:
    """The position file and its new text after `change`, validated; nothing is written."""
    key = f"position:{pid}"
    if key not in project.files:
        raise VoceunicaError(problem("positions/", 1, 1, f"no position '{pid}'"))
    path = project.files[key]
    shown = path.relative_to(project.root).as_posix()
    y = _yaml()
    text = read_project_file(project.root, path, shown).decode("utf-8")
    doc = y.load(text)
    change(doc)
    buf = io.StringIO()
    y.dump(doc, buf)
    new_text = buf.getvalue()
    loaded, problems = parse_yaml(new_text, shown)
    out = list(problems)
    if loaded is not None:
        validate_model(Position, loaded, out)
    errors = [p for p in out if p.is_error]  # a warning (a bidi mark, say) is check's to repeat, not a refusal
    if errors:  # pragma: no cover - would be a bug in the edit itself
        raise VoceunicaError(errors)
    return path, new_text


def record_signoff(project: Project, pid: str, region: str, by: str, date: dt.date) -> tuple[Path, str]:
    """Record `region`'s approval of position `pid`'s current content."""
    if region not in REGIONS:
        raise VoceunicaError(general(f"unknown region '{region}' (expected {' or '.join(REGIONS)})"))
    if not by.strip():
        raise VoceunicaError(general("--by needs the name of the person approving"))
    pos = project.positions.get(pid)
    if pos is None:
        raise VoceunicaError(problem("positions/", 1, 1, f"no position '{pid}' (or it has errors: run check)"))
    fp = fingerprint(pos)

    def change(doc: Any) -> None:
        from ruamel.yaml.comments import CommentedMap

        signoffs = doc.get("signoffs")
        if signoffs is None:
            signoffs = CommentedMap()
            doc["signoffs"] = signoffs
        entry = CommentedMap()
        entry["by"] = by.strip()
        entry["date"] = date
        entry["fingerprint"] = fp
        # A new approval takes its region's place in REGIONS order, so files read alike.
        after = [i for i, key in enumerate(signoffs) if key in REGIONS[REGIONS.index(region) + 1:]]
        if region not in signoffs and after:
            signoffs.insert(after[0], region, entry)
        else:
            signoffs[region] = entry

    return _edit(project, pid, change), fp


def mark_translated(project: Project, pid: str, fields: list[str] | None = None) -> tuple[Path, list[str]]:
    """Declare the translation of `fields` (default: all) current."""
    pos = project.positions.get(pid)
    if pos is None:
        raise VoceunicaError(problem("positions/", 1, 1, f"no position '{pid}' (or it has errors: run check)"))
    marks = translation_marks(pos)
    unknown = [f for f in (fields or []) if f not in marks]
    if unknown:
        raise VoceunicaError(problem(f"positions/{pid}.yaml", 1, 1,
                                     f"no translated field {', '.join(unknown)} (fields: {', '.join(marks)})"))
    chosen = fields or list(marks)
    changed = [f for f in chosen if pos.translated_from.get(f) != marks[f]]

    def change(doc: Any) -> None:
        from ruamel.yaml.comments import CommentedMap

        record = doc.get("translated_from")
        if record is None:
            record = CommentedMap()
            doc["translated_from"] = record
        for f in chosen:
            record[f] = marks[f]
        for f in [k for k in record if k not in marks]:
            del record[f]  # fields that no longer exist

    return _edit(project, pid, change), changed


_FIELD_PART = re.compile(r"([A-Za-z_]+)|\[(\d+)\]")


def _layout(text: str) -> str:
    """A text as Markdown reads its lines: line ends, trailing spaces and outer
    blank lines do not count; line and paragraph breaks do (lists, paragraphs)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def _field_loc(name: str) -> list[str | int]:
    """'sections[0].body' → ['sections', 0, 'body']."""
    return [m.group(1) if m.group(1) else int(m.group(2)) for m in _FIELD_PART.finditer(name)]


def set_translations(project: Project, pid: str, fields: dict[str, tuple[str, str]]) -> list[str]:
    """Write translations into position `pid`: field -> (target text, hash of the
    source it was made from).  Keeps block style for multi-line texts; a text
    equal but for line ends and trailing spaces is left as it is (so its
    sign-offs stay current).  Returns the fields changed."""
    return set_many_translations(project, {pid: fields}).get(pid, [])


def set_many_translations(project: Project, plan: dict[str, dict[str, tuple[str, str]]]) -> dict[str, list[str]]:
    """`set_translations` for several positions, all or none: every file is edited in memory and
    validated first, then all are swapped in together (see `write.replace_together`).
    Returns the fields changed, by position."""
    changed: dict[str, list[str]] = {}
    edits: dict[Path, bytes | str] = {}
    for pid, fields in sorted(plan.items()):
        edit = _translation_edit(project, pid, fields)
        if edit is not None:
            changed[pid], path, text = edit
            edits[path] = text
    replace_together(project.root, edits)
    return changed


def _translation_edit(project: Project, pid: str,
                      fields: dict[str, tuple[str, str]]) -> tuple[list[str], Path, str] | None:
    pos = project.positions.get(pid)
    if pos is None:
        raise VoceunicaError(problem("positions/", 1, 1, f"no position '{pid}' (or it has errors: run check)"))
    target = target_language(pos)
    current = {field_name(loc): by_lang.get(target, "") for loc, by_lang in texts_by_field(pos).items()}
    texts = {f: t for f, (t, _) in fields.items() if _layout(t) != _layout(current.get(f, ""))}
    marks = {f: h for f, (_, h) in fields.items() if pos.translated_from.get(f) != h}
    changed = sorted(set(texts) | set(marks))
    if not changed:
        return None

    def change(doc: Any) -> None:
        from ruamel.yaml.comments import CommentedMap
        from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

        for f, text in texts.items():
            node = doc
            for part in _field_loc(f):
                node = node[part]
            old = node.get(target)
            if "\n" in text.strip() or isinstance(old, (LiteralScalarString, FoldedScalarString)):
                node[target] = LiteralScalarString(text.strip("\n") + "\n")
            else:
                node[target] = text.strip()
        record = doc.get("translated_from")
        if record is None:
            record = CommentedMap()
            doc["translated_from"] = record
        for f, h in marks.items():
            record[f] = h

    path, new_text = _edited(project, pid, change)
    return changed, path, new_text
