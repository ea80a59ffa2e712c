"""Stage 1 — load: read YAML and CSV files, keeping the file:line:col of every value.

YAML is *composed* into nodes with PyYAML's safe loader and walked by hand so
that every value's position lands in a `SourceMap` keyed by its path
(`("sections", 0, "body", "en")`), and duplicate keys — which PyYAML would
silently collapse — are reported.  Nothing here knows what a position is.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml
import yaml.constructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from voceunica.errors import Problem, problem

MAX_FILE_BYTES = 2_000_000  # a position is a few KB; refuse what cannot be one
MAX_DEPTH = 40  # bounds the recursion before the parser can blow the stack

Path_ = tuple[str | int, ...]


class Mark(NamedTuple):
    """Where a value stands.  A named tuple, not a dataclass: a large project has
    100 000 of them, and a frozen dataclass costs several times more to make."""

    line: int  # 1-based
    col: int  # 1-based
    raw: str | None = None  # the scalar as written, for messages ("quote it: '1.10'")
    block: bool = False  # literal/folded block scalar: text starts on the next line


@dataclass
class SourceMap:
    """Where every value (and every mapping key) of one YAML file stands."""

    path: str
    values: dict[Path_, Mark] = field(default_factory=dict)
    keys: dict[Path_, Mark] = field(default_factory=dict)

    def at(self, loc: Path_, *, key: bool = False) -> tuple[int, int]:
        """Best position for `loc`: the exact node, else its nearest ancestor."""
        table = self.keys if key else self.values
        loc = tuple(loc)
        while loc:
            if loc in table:
                m = table[loc]
                return m.line, m.col
            if not key and loc in self.keys:
                m = self.keys[loc]
                return m.line, m.col
            loc = loc[:-1]
        return 1, 1

    def text_line(self, loc: Path_, offset_line: int) -> tuple[int, int]:
        """Line of the `offset_line`-th line (0-based) inside a text value."""
        m = self.values.get(tuple(loc))
        if m is None:
            return self.at(loc)
        if m.block:
            return m.line + 1 + offset_line, 1
        return m.line + offset_line, m.col if offset_line == 0 else 1

    def problem(self, loc: Path_, message: str, *, key: bool = False, warning: bool = False) -> Problem:
        line, col = self.at(loc, key=key)
        return problem(self.path, line, col, message, warning=warning)


@dataclass
class Loaded:
    """One YAML document: its plain data and where each value stood."""

    data: Any
    source: SourceMap


_STR = "tag:yaml.org,2002:str"
_BLOCK_STYLES = ("|", ">")
_new_mark = tuple.__new__


class _Constructor(yaml.constructor.SafeConstructor):
    pass


def read_yaml(path: Path, display: str | None = None) -> tuple[Loaded | None, list[Problem]]:
    """Parse one YAML file.  Returns (None, problems) when it cannot be read at all."""
    shown = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [problem(shown, 1, 1, f"cannot read file: {exc.strerror}")]
    return parse_yaml(raw, shown)


def parse_yaml(raw: bytes | str, shown: str) -> tuple[Loaded | None, list[Problem]]:
    if len(raw) > MAX_FILE_BYTES:
        return None, [problem(shown, 1, 1, f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB")]
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            return None, [problem(shown, line, 1, "file is not valid UTF-8")]
    else:
        text = raw
    try:
        node = yaml.compose(text, Loader=_loader_for(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or "invalid YAML"
        ctx = f" ({exc.context})" if exc.context else ""
        return None, [problem(shown, line, col, f"YAML syntax error: {what}{ctx}")]
    except RecursionError:
        return None, [problem(shown, 1, 1, f"nesting deeper than {MAX_DEPTH} levels")]
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        return None, [problem(shown, 1, 1, f"YAML error: {exc}")]
    source = SourceMap(shown)
    if node is None:
        return Loaded({}, source), [problem(shown, 1, 1, "file is empty")]
    problems: list[Problem] = []
    walker = _Walker(source, problems)
    try:
        data = walker.walk(node, (), 0)
    except _TooDeep as exc:
        return None, [problem(shown, exc.line, exc.col, f"nesting deeper than {MAX_DEPTH} levels")]
    return Loaded(data, source), problems


def _loader_for(text: str) -> type:
    """The C loader is ~10x faster but crashes the process on absurdly deep
    flow nesting ('[[[[...'); only text with many brackets can nest that deep,
    so such text goes to the pure-Python loader, whose depth we bound."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is None or text.count("[") + text.count("{") > 1000:
        return yaml.SafeLoader
    return fast


class _TooDeep(Exception):
    def __init__(self, line: int, col: int) -> None:
        self.line, self.col = line, col


class _Walker:
    def __init__(self, source: SourceMap, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        self.constructor = _Constructor()

    def _mark(self, node: Node) -> Mark:
        m = node.start_mark
        if type(node) is ScalarNode:
            return _new_mark(Mark, (m.line + 1, m.column + 1, node.value, node.style in _BLOCK_STYLES))
        return _new_mark(Mark, (m.line + 1, m.column + 1, None, False))

    def walk(self, node: Node, loc: Path_, depth: int) -> Any:
        mark = self._mark(node)
        if depth > MAX_DEPTH:
            raise _TooDeep(mark.line, mark.col)
        self.source.values[loc] = mark
        if isinstance(node, MappingNode):
            if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
                self.problems.append(problem(self.source.path, mark.line, mark.col,
                                             "YAML merge keys ('<<') are not supported: write the fields out"))
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.scalar(key_node) if isinstance(key_node, ScalarNode) else None
                km = self._mark(key_node)
                if not isinstance(key, str):
                    self.problems.append(problem(self.source.path, km.line, km.col,
                                                 "field names must be plain text"))
                    continue
                if key in out:
                    first = self.source.keys[loc + (key,)]
                    self.problems.append(problem(
                        self.source.path, km.line, km.col,
                        f"duplicate field '{key}' (first given at line {first.line}); YAML would keep only the last",
                    ))
                    continue
                self.source.keys[loc + (key,)] = km
                out[key] = self.walk(value_node, loc + (key,), depth + 1)
            return out
        if isinstance(node, SequenceNode):
            return [self.walk(item, loc + (i,), depth + 1) for i, item in enumerate(node.value)]
        return self.scalar(node)

    def scalar(self, node: Node) -> Any:
        if node.tag == _STR:  # most values are plain text: skip the constructor's machinery
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            m = node.start_mark
            self.problems.append(problem(self.source.path, m.line + 1, m.column + 1,
                                         f"cannot read value {node.value!r}: {exc}"))
            return None


# --- CSV -----------------------------------------------------------------

@dataclass
class Table:
    """A CSV file: header and rows, each row with its 1-based file line."""

    path: str
    header: list[str]
    rows: list[tuple[int, list[str]]]


def read_csv(path: Path, display: str | None = None) -> tuple[Table | None, list[Problem]]:
    shown = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [problem(shown, 1, 1, f"cannot read file: {exc.strerror}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [problem(shown, raw[: exc.start].count(b"\n") + 1, 1, "file is not valid UTF-8")]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    try:
        line = 1
        for record in reader:
            start = line
            line = reader.line_num + 1
            if not record or record == [""]:
                continue
            if header is None:
                header = [h.strip() for h in record]
            else:
                rows.append((start, record))
    except csv.Error as exc:
        return None, [problem(shown, reader.line_num, 1, f"CSV syntax error: {exc}")]
    if header is None:
        return None, [problem(shown, 1, 1, "CSV file is empty: it needs a header row")]
    return Table(shown, header, rows), []
