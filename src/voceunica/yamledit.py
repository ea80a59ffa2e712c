"""Editing position files in place, the way a careful person would.

`signoff`, `i18n mark` and `i18n import` change a few values of a file that
people wrote by hand, in whatever valid style they chose: 2 or 4 spaces,
sequences indented or flush with their key, flow mappings (`{it: …, en: …}`),
single or double quotes, comments anywhere, CRLF line ends.  So the edits are
surgical: PyYAML's safe composer (it builds nodes, constructs nothing, runs no
tag) gives each value's exact place in the text, and only that span is
replaced, or one entry inserted or removed, written in the style detected from
the file itself (its indentation step, its preferred quote, flow or block
approvals).  Everything else stays byte for byte, so the git diff shows only
the changed lines.

ruamel.yaml's round-trip mode was the previous engine: it re-emits the whole
document with one indentation setting, so a file in another valid style came
back with a hundred lines changed.  The edit here is checked instead: the
edited text is parsed again and must give exactly the old data plus the
intended change, and it is validated as a position, before the file is
(atomically) replaced.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from voceunica.errors import VoceunicaError, general, problem
from voceunica.fingerprint import field_name, fingerprint, target_language, texts_by_field, translation_marks
from voceunica.load import _loader_for, parse_yaml, read_project_file
from voceunica.model import Position
from voceunica.project import Project
from voceunica.regions import REGIONS
from voceunica.validate import validate_model
from voceunica.write import atomic_write, recover, replace_together

Loc = tuple[str | int, ...]
Value = str | dt.date | dict[str, Any]


@dataclass(frozen=True)
class Style:
    """How a file writes YAML, read from the file itself."""

    indent: int = 2  # spaces from a key to the keys of its block mapping
    quote: str = "'"  # the quote it uses most for strings that need one
    flow_records: bool = False  # approvals written {by: …, date: …} rather than as a block
    newline: str = "\n"


def detect_style(text: str, root: Node | None = None) -> Style:
    root = root if root is not None else yaml.compose(text, Loader=yaml.SafeLoader)
    steps: Counter[int] = Counter()
    quotes: Counter[str] = Counter()
    stack: list[Node] = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, MappingNode):
            for k, v in node.value:
                if isinstance(v, MappingNode) and not v.flow_style and v.value and not node.flow_style:
                    step = v.value[0][0].start_mark.column - k.start_mark.column
                    if step > 0:
                        steps[step] += 1
                stack.append(v)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, ScalarNode) and node.style in ("'", '"'):
            quotes[node.style] += 1
    # approvals as the file already writes them; the first one as a block
    signoffs = _child(root, "signoffs") if isinstance(root, MappingNode) else None
    known = [v for _, v in signoffs[1].value] if signoffs and isinstance(signoffs[1], MappingNode) else []
    records = any(isinstance(v, MappingNode) and v.flow_style for v in known)
    return Style(indent=steps.most_common(1)[0][0] if steps else 2,
                 quote=quotes.most_common(1)[0][0] if quotes else "'",
                 flow_records=records,
                 newline="\r\n" if "\r\n" in text else "\n")


def _child(node: Node, key: str | int) -> tuple[Node | None, Node] | None:
    """(key node, value node) of `key` in a mapping, (None, item) of index `key` in a sequence."""
    if isinstance(node, MappingNode) and isinstance(key, str):
        for k, v in node.value:
            if isinstance(k, ScalarNode) and k.value == key and k.tag == "tag:yaml.org,2002:str":
                return k, v
    if isinstance(node, SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        return None, node.value[key]
    return None


# --- scalars ---------------------------------------------------------------

_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
                            "|[\x85\u2028\u2029\ufeff]")
_INDICATOR_START = set("-?:,[]{}#&*!|>'\"%@`")


def _plain_ok(s: str, in_flow: bool) -> bool:
    if (not s or s != s.strip() or "\n" in s or "\r" in s or "\t" in s or s[0] in _INDICATOR_START
            or ": " in s or " #" in s or s.endswith(":") or _NON_PRINTABLE.search(s)):
        return False
    if in_flow and any(c in s for c in ",[]{}"):
        return False
    try:
        return bool(yaml.safe_load(f"k: {s}") == {"k": s})
    except yaml.YAMLError:
        return False


def _double(s: str) -> str:
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif _NON_PRINTABLE.match(ch) or ch == "\r":
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _inline(value: str | dt.date, style: Style, *, in_flow: bool, old_style: str | None = None) -> str:
    """A one-line scalar: as the old value was quoted when it can be, plain when safe, else the file's quote."""
    if isinstance(value, dt.date):
        return value.isoformat()
    single_ok = "\n" not in value and "\r" not in value and not _NON_PRINTABLE.search(value)
    if old_style == '"':
        return _double(value)
    if old_style == "'" and single_ok:
        return "'" + value.replace("'", "''") + "'"
    if _plain_ok(value, in_flow):
        return value
    if style.quote == "'" and single_ok:
        return "'" + value.replace("'", "''") + "'"
    return _double(value)


def _literal_lines(value: str) -> list[str] | None:
    """The lines of a literal block holding `value` (which ends with one newline), or None if it cannot."""
    if not value.endswith("\n") or value.endswith("\n\n") or _NON_PRINTABLE.search(value) or "\r" in value:
        return None
    lines = value[:-1].split("\n")
    if not lines[0] or lines[0][0] in " \t" or any(line and not line.strip() for line in lines):
        return None  # leading or whitespace-only lines would need an indentation indicator
    return lines


def _flow(value: Value, style: Style) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v, style)}" for k, v in value.items()) + "}"
    return _inline(value, style, in_flow=True)


def _entry(key: str, value: Value, col: int, style: Style) -> str:
    """`key: value` for a block mapping whose keys sit at column `col`; later lines carry their indentation."""
    nl, inner = style.newline, " " * (col + style.indent)
    if isinstance(value, dict):
        if not value:
            return f"{key}: {{}}"
        if style.flow_records and all(isinstance(v, (str, dt.date)) and "\n" not in str(v) for v in value.values()):
            return f"{key}: {_flow(value, style)}"
        return f"{key}:" + "".join(f"{nl}{inner}{_entry(k, v, col + style.indent, style)}" for k, v in value.items())
    if isinstance(value, str) and "\n" in value.rstrip("\n"):
        lines = _literal_lines(value)
        if lines is not None:
            return f"{key}: |" + "".join(f"{nl}{inner}{line}" if line else nl for line in lines)
    return f"{key}: {_inline(value, style, in_flow=False)}"


# --- the editor ------------------------------------------------------------

class _Editor:
    """A YAML text and the edits made to it.  A value replaced in place waits, with the others, until
    an edit that changes the structure (or the result) needs the text: they are applied together,
    last first, and the text is read again once (an import of a hundred fields re-reads it a few
    times, not two hundred)."""

    def __init__(self, text: str) -> None:
        self.bom = "\ufeff" if text.startswith("\ufeff") else ""
        self.text = text[len(self.bom):]
        self.pending: list[tuple[int, int, str]] = []  # (start, end, new text) in the current text
        self.root = self._compose()
        self.style = detect_style(self.text, self.root)

    def _compose(self) -> Node:
        # nodes only: no tag is ever constructed (the loader load.py reads with, C when it is safe)
        node = yaml.compose(self.text, Loader=_loader_for(self.text))
        if not isinstance(node, MappingNode):
            raise VoceunicaError(general("cannot edit: the file is not a YAML mapping"))
        return node

    def result(self) -> str:
        self._flush()
        return self.bom + self.text

    def _flush(self) -> None:
        if self.pending:
            for start, end, new in sorted(self.pending, reverse=True):
                self.text = self.text[:start] + new + self.text[end:]
            self.pending.clear()
            self.root = self._compose()

    def _splice(self, start: int, end: int, new: str, *, later: bool = False) -> None:
        """Replace text[start:end]; `later`: with the other in-place replacements, at the next flush."""
        if later:
            self.pending.append((start, end, new))
            return
        self.text = self.text[:start] + new + self.text[end:]
        self.root = self._compose()

    def _locate(self, loc: Loc) -> tuple[Node | None, Node | None, bool]:
        """(key node, value node, inside a flow collection) of `loc`; value None when absent."""
        node: Node = self.root
        key: Node | None = None
        in_flow = False
        for part in loc:
            in_flow = in_flow or bool(getattr(node, "flow_style", False))
            found = _child(node, part)
            if found is None:
                return None, None, in_flow
            key, node = found
        return key, node, in_flow

    def _line_end(self, index: int) -> int:
        """The index after the line break ending the line that holds `index` (or the text's end)."""
        if index > 0 and self.text[index - 1] == "\n":
            return index
        nl = self.text.find("\n", index)
        return len(self.text) if nl < 0 else nl + 1

    def _line_start(self, index: int) -> int:
        return self.text.rfind("\n", 0, index) + 1

    def is_block(self, loc: Loc) -> bool:
        _, node, _ = self._locate(loc)
        return isinstance(node, ScalarNode) and node.style in ("|", ">")

    def set(self, loc: Loc, value: Value, before: Iterable[str] = ()) -> None:
        parent_loc, key = loc[:-1], loc[-1]
        _, parent, in_flow = self._locate(parent_loc)
        if parent is None or _is_null(parent):
            self._flush()
            self.set(parent_loc, {str(key): value})
            return
        found = _child(parent, key)
        if found is None:
            if not isinstance(parent, MappingNode) or not isinstance(key, str):
                raise VoceunicaError(general(f"cannot edit: no {field_name(loc)}"))
            self._flush()  # positions move: read the parent again
            fresh = self._locate(parent_loc)[1]
            assert isinstance(fresh, MappingNode)
            self._insert(fresh, key, value, tuple(before))
            return
        key_node, node = found
        in_flow = in_flow or bool(getattr(parent, "flow_style", False))
        if isinstance(value, dict) and isinstance(node, MappingNode) and node.value:
            for k, v in value.items():
                self.set((*loc, k), v)
            return
        if not isinstance(value, dict) and isinstance(node, ScalarNode) and not _is_null(node):
            self._replace_scalar(key_node, node, value, in_flow)  # in place: waits for the next flush
            return
        if self.pending:
            self._flush()
            self.set(loc, value, before)  # the same edit on the text read again
            return
        self._replace_value(key_node, node, value, in_flow)

    def delete(self, loc: Loc) -> None:
        self._flush()
        gkey, parent, _ = self._locate(loc[:-1])
        found = _child(parent, loc[-1]) if parent is not None else None
        if found is None or not isinstance(parent, MappingNode):
            return
        key_node, node = found
        if parent.flow_style:
            self._rewrite_flow(parent, [(k, v) for k, v in parent.value if k is not key_node])
        elif len(parent.value) == 1:
            if gkey is None:
                raise VoceunicaError(general(f"cannot edit: {field_name(loc)} is the only value"))
            # 'key: {}', keeping a comment on the key's line; comments after the entry stay where they are
            colon = self.text.index(":", gkey.end_mark.index)
            line_end = self._line_end(colon)
            rest = self.text[colon + 1:line_end].strip()
            comment = "  " + rest if rest.startswith("#") else ""
            self._splice(colon, self._line_end(node.end_mark.index), ": {}" + comment + self.style.newline)
        else:
            assert key_node is not None
            self._splice(self._line_start(key_node.start_mark.index), self._line_end(node.end_mark.index), "")

    # the three kinds of change

    def _replace_scalar(self, key_node: Node | None, node: ScalarNode, value: str | dt.date, in_flow: bool) -> None:
        start, end = node.start_mark.index, node.end_mark.index
        old = self.text[start:end]
        nl = self.style.newline
        if isinstance(value, str) and not in_flow and (node.style in ("|", ">") or "\n" in value.rstrip("\n")):
            lines = _literal_lines(value)
            if lines is not None:
                if node.style in ("|", ">"):
                    body = old[old.index("\n") + 1:]
                    first = next((b for b in body.split("\n") if b.strip()), "")
                    width = len(first) - len(first.lstrip(" "))
                    header = old[:old.index("\n")].rstrip("\r")
                    comment = header[header.index(" #"):] if " #" in header else ""
                    stripped = old.rstrip(" \t\r\n")
                    tail = old[len(stripped):]
                    tail = tail[tail.index("\n") + 1:] if "\n" in tail else ""
                else:
                    col = key_node.start_mark.column if key_node is not None else node.start_mark.column
                    width, comment, tail = col + self.style.indent, "", ""
                    # a plain value ends before its line break: the block brings its own
                    end = self._line_end(end)
                    rest = self.text[node.end_mark.index:end].strip()
                    if rest.startswith("#"):
                        comment = " " + rest
                    tail = ""
                new = "|" + comment + "".join(nl + (" " * width + line if line else "") for line in lines) + nl + tail
                self._splice(start, end, new, later=True)
                return
        if isinstance(value, str) and "\n" in value:
            new = _double(value)
        else:
            style = node.style if node.style in ("'", '"') else None
            new = _inline(value, self.style, in_flow=in_flow, old_style=style)
        if node.style in ("|", ">"):  # block to one line: the block's trailing lines go too, keep the blank ones
            stripped = old.rstrip(" \t\r\n")
            tail = old[len(stripped):]
            new += nl + (tail[tail.index("\n") + 1:] if "\n" in tail else "")
        self._splice(start, end, new, later=True)

    def _replace_value(self, key_node: Node | None, node: Node, value: Value, in_flow: bool) -> None:
        """A null, empty or differently shaped value replaced as a whole."""
        if in_flow or key_node is None:
            self._splice(node.start_mark.index, node.end_mark.index,
                         _flow(value, self.style) if isinstance(value, dict) else _inline(value, self.style,
                                                                                          in_flow=in_flow))
            return
        col = key_node.start_mark.column
        key_text = self.text[key_node.start_mark.index:key_node.end_mark.index]
        end = node.end_mark.index if node.end_mark.index > key_node.end_mark.index else key_node.end_mark.index + 1
        if isinstance(node, ScalarNode) and _is_null(node):
            end = max(node.end_mark.index, self.text.find(":", key_node.end_mark.index) + 1)
        new = _entry(key_text, value, col, self.style)
        if self.text[end - 1:end] == "\n" and not new.endswith("\n"):
            new += self.style.newline
        self._splice(key_node.start_mark.index, end, new)

    def _insert(self, parent: MappingNode, key: str, value: Value, before: tuple[str, ...]) -> None:
        if parent.flow_style:
            self._rewrite_flow(parent, [*parent.value, (key, value)])
            return
        col = parent.value[0][0].start_mark.column
        line = " " * col + _entry(key, value, col, self.style) + self.style.newline
        for k, _ in parent.value:
            head = self.text[self._line_start(k.start_mark.index):k.start_mark.index]
            if k.value in before and not head.strip():
                at = self._line_start(k.start_mark.index)
                self._splice(at, at, line)
                return
        at = self._line_end(parent.value[-1][1].end_mark.index)
        if at == len(self.text) and not self.text.endswith("\n"):
            line = self.style.newline + line
        self._splice(at, at, line)

    def _rewrite_flow(self, node: MappingNode, items: list[tuple[Any, Any]]) -> None:
        parts = []
        for k, v in items:
            if isinstance(k, Node):
                parts.append(f"{self.text[k.start_mark.index:k.end_mark.index]}: "
                             f"{self.text[v.start_mark.index:v.end_mark.index]}")
            else:
                parts.append(f"{k}: {_flow(v, self.style)}")
        self._splice(node.start_mark.index, node.end_mark.index, "{" + ", ".join(parts) + "}")


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _apply(data: Any, loc: Loc, value: Value | None) -> None:
    """The same change on the data (the edit's expected result): None deletes."""
    for part in loc[:-1]:
        if isinstance(data, dict) and data.get(part) is None:
            data[part] = {}
        data = data[part]
    if value is None:
        data.pop(loc[-1], None)
    elif isinstance(value, dict) and isinstance(data.get(loc[-1]), dict):
        data[loc[-1]].update(copy.deepcopy(value))
    else:
        data[loc[-1]] = copy.deepcopy(value)


class _Change:
    """The edits asked for, applied to both the text and (as the check) the data."""

    def __init__(self, editor: _Editor, data: Any) -> None:
        self.editor, self.expected = editor, copy.deepcopy(data)

    def set(self, loc: Loc, value: Value, before: Iterable[str] = ()) -> None:
        self.editor.set(loc, value, before)
        _apply(self.expected, loc, value)

    def delete(self, loc: Loc) -> None:
        self.editor.delete(loc)
        _apply(self.expected, loc, None)


def _edit(project: Project, pid: str, change: Any) -> Path:
    path, new_text = _edited(project, pid, change)
    recover(project.root)  # a killed import is finished before this file changes again
    atomic_write(path, new_text)
    return path


def _edited(project: Project, pid: str, change: Any) -> tuple[Path, str]:
    """The position file and its new text after `change`, checked and validated; nothing is written."""
    key = f"position:{pid}"
    if key not in project.files:
        raise VoceunicaError(problem("positions/", 1, 1, f"no position '{pid}'"))
    path = project.files[key]
    shown = path.relative_to(project.root).as_posix()
    raw = read_project_file(project.root, path, shown)
    text = raw.decode("utf-8")
    before, _ = parse_yaml(raw, shown)
    if before is None:
        raise VoceunicaError(problem(shown, 1, 1, "cannot edit a file that does not parse: run check"))
    editor = _Editor(text)
    todo = _Change(editor, before.data)
    change(todo)
    new_text = editor.result()
    loaded, problems = parse_yaml(new_text, shown)
    out = list(problems)
    if loaded is not None:
        if loaded.data != todo.expected:  # pragma: no cover - would be a bug in the edit itself
            raise VoceunicaError(problem(shown, 1, 1, "internal error: the edit would change more than it should; "
                                                      "the file is left as it was"))
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

    def change(doc: _Change) -> None:
        # A new approval takes its region's place in REGIONS order, so files read alike.
        doc.set(("signoffs", region), {"by": by.strip(), "date": date, "fingerprint": fp},
                before=REGIONS[REGIONS.index(region) + 1:])

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

    def change(doc: _Change) -> None:
        for f in chosen:
            if pos.translated_from.get(f) != marks[f]:
                doc.set(("translated_from", f), marks[f])
        for f in [k for k in pos.translated_from if k not in marks]:
            doc.delete(("translated_from", f))  # fields that no longer exist

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

    def change(doc: _Change) -> None:
        for f, text in texts.items():
            loc = (*_field_loc(f), target)
            if "\n" in text.strip() or doc.editor.is_block(loc):
                doc.set(loc, text.strip("\n") + "\n")
            else:
                doc.set(loc, text.strip())
        for f, h in marks.items():
            doc.set(("translated_from", f), h)

    path, new_text = _edited(project, pid, change)
    return changed, path, new_text


# --- migrate-eu-files: inline EU files → catalogue references ------------------------------------------

def migrate_eu_files(project: Project, ids: Iterable[str] = ()) -> dict[str, list[str]]:
    """Rewrite the inline `eu_files` entries of positions `ids` (default: all) into references to the
    catalogue (eu-files/<key>.yaml): an entry the catalogue holds (same COM document, procedure, CELEX or
    act number, and the same key) becomes its key; one it lacks is first written to the catalogue from
    the entry (its title marked as the position's, to be replaced by the official one).  Only the entries
    change (and their translation records go): comments and layout stay.  All files or none are written.
    Returns the keys migrated, by position."""
    from voceunica import eufiles

    chosen = list(ids) or sorted(project.positions)
    for pid in chosen:
        if pid not in project.positions:
            raise VoceunicaError(problem("positions/", 1, 1, f"no position '{pid}' (or it has errors: run check)"))
    created: dict[str, tuple[Any, str]] = {}  # key -> (inline entry, position id)
    plan: dict[str, list[tuple[int, str]]] = {}
    refused = []
    for pid in chosen:
        pos = project.positions[pid]
        source = project.sources[f"position:{pid}"]
        for i, e in enumerate(pos.eu_files):
            if isinstance(e, str):
                continue
            rec = eufiles.find(project, e) or project.catalogue.get(e.key)
            if rec is not None and rec.key != e.key:
                refused.append(source.problem(("eu_files", i, "key"), f"eu_files[{i}] ({e.key}) is "
                                              f"{eufiles.FOLDER}/{rec.key}.yaml in the catalogue: rename the key "
                                              f"(and its [^{e.key}] citations) to '{rec.key}', then migrate"))
                continue
            if rec is None and e.key not in created:
                created[e.key] = (e, pid)
            plan.setdefault(pid, []).append((i, e.key))
    if refused:
        raise VoceunicaError(refused)
    edits: dict[Path, bytes | str] = {}
    folder = project.root / eufiles.FOLDER
    for key, (entry, pid) in created.items():
        edits[folder / f"{key}.yaml"] = _catalogue_text(entry, pid)
    for pid, items in plan.items():
        pos = project.positions[pid]

        def change(doc: _Change, items: list[tuple[int, str]] = items, pos: Position = pos) -> None:
            for i, key in items:
                _item_to_scalar(doc, ("eu_files", i), key)
                for lang_field in (f"eu_files[{i}].title",):
                    if lang_field in pos.translated_from:
                        doc.delete(("translated_from", lang_field))

        path, text = _edited(project, pid, change)
        edits[path] = text
    if edits:
        folder.mkdir(exist_ok=True)
        replace_together(project.root, edits)
    return {pid: [k for _, k in items] for pid, items in plan.items()}


def _item_to_scalar(doc: _Change, loc: Loc, value: str) -> None:
    """Replace the block mapping at sequence item `loc` by a plain scalar, keeping what follows it
    (the next item, comments between items) byte for byte."""
    editor = doc.editor
    _, node, _ = editor._locate(loc)
    if not isinstance(node, MappingNode) or node.flow_style or not node.value:
        editor.set(loc, value)
    else:
        last: Node = node
        while isinstance(last, (MappingNode, SequenceNode)) and last.value and not last.flow_style:
            last = last.value[-1][1] if isinstance(last, MappingNode) else last.value[-1]
        start, end = node.start_mark.index, last.end_mark.index  # a block collection ends at the next token
        new = _inline(value, editor.style, in_flow=False)
        if editor.text[end - 1:end] == "\n":
            new += editor.style.newline
        editor._splice(start, end, new)
    _apply(doc.expected, loc, value)


def _catalogue_text(entry: Any, pid: str) -> str:
    """A catalogue record made from a position's inline EU file: what the entry says, nothing invented."""
    from voceunica.model import ADOPTED_ACTS

    data: dict[str, Any] = {"format": "voceunica/eu-file@1", "key": entry.key}
    adopted = entry.kind in ADOPTED_ACTS
    data["type"] = entry.kind if entry.kind != "proposal" else "regulation"
    data["title"] = {"it": entry.title.it, "en": entry.title.en}
    for name in ("com", "procedure"):
        if getattr(entry, name):
            data[name] = getattr(entry, name)
    if not adopted:
        for name in ("celex", "eli"):
            if getattr(entry, name):
                data[name] = getattr(entry, name)
        if entry.date:
            data["date"] = entry.date
    else:
        data["adopted"] = {k: getattr(entry, k) for k in ("number", "celex", "eli") if getattr(entry, k)}
        if entry.date and entry.celex:
            data["stages"] = [{"stage": "adoption", "date": entry.date,
                               "source": f"https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:{entry.celex}"}]
    data["remarks"] = {
        "it": f"Creato da voceunica migrate-eu-files dalla posizione {pid}: sostituire il titolo con quello "
              "ufficiale pubblicato, verificare il tipo e registrare le fasi dell'iter.",
        "en": f"Made by voceunica migrate-eu-files from position {pid}: replace the title with the official one "
              "as published, check the type and record the procedure's stages.",
    }
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False)
    return "# yaml-language-server: $schema=../schemas/eu-file.schema.json\n" + body
