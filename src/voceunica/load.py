"""Stage 1 — load: read YAML and CSV files, keeping the file:line:col of every value.

YAML is *composed* into nodes with PyYAML's safe loader and walked by hand so
that every value's position lands in a `SourceMap` keyed by its path
(`("sections", 0, "body", "en")`), and duplicate keys — which PyYAML would
silently collapse — are reported.  Nothing here knows what a position is.
"""

from __future__ import annotations

import csv
import re
import io
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any, NamedTuple

import yaml
import yaml.constructor
import yaml.reader
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from voceunica import textrules
from voceunica.errors import Problem, VoceunicaError, problem

MAX_FILE_BYTES = 2_000_000  # a position is a few KB; refuse what cannot be one
MAX_DEPTH = 40  # bounds the recursion before the parser can blow the stack
# Aliases let a few hundred bytes stand for billions of values ("billion laughs");
# the walk counts what it expands and stops long before memory is at risk.
MAX_VALUES = 200_000

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
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_BLOCK_STYLES = ("|", ">")
_new_mark = tuple.__new__


class _Constructor(yaml.constructor.SafeConstructor):
    pass


def read_yaml(path: Path, display: str | None = None, *, root: Path | None = None,
              ) -> tuple[Loaded | None, list[Problem]]:
    """Parse one YAML file of the project at `root` (by default: the file's own
    folder).  Returns (None, problems) when it cannot be read at all."""
    shown = display or str(path)
    try:
        raw = read_project_file(root if root is not None else path.parent, path, shown)
    except VoceunicaError as exc:
        return None, exc.problems
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
    except yaml.reader.ReaderError as exc:  # a raw control character, placed by PyYAML's own rule
        # (the C loader reports a byte offset, the Python one a character offset: find it again)
        found = yaml.reader.Reader.NON_PRINTABLE.search(text)
        at = found.start() if found else 0
        before = text[:at]
        exc.position = at
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        return None, [problem(shown, line, col, f"control character U+{exc.character:04X} is not allowed"
                              if isinstance(exc.character, int) else f"YAML error: {exc.reason}")]
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        return None, [problem(shown, 1, 1, f"YAML error: {exc}")]
    source = SourceMap(shown)
    if node is None:
        return Loaded({}, source), [problem(shown, 1, 1, "file is empty")]
    problems: list[Problem] = []
    # Only a file holding an odd character, or a backslash (a double-quoted escape: "\f"), can give a
    # value one: nearly no file does, and then no value is searched again.
    walker = _Walker(source, problems, "\\" in text or _ODD_CHAR.search(text) is not None)
    try:
        data = walker.walk(node, (), 0)
    except _TooMany as exc:
        return None, [problem(shown, exc.line, exc.col,
                              f"more than {MAX_VALUES:,} values once YAML aliases ('*name') are expanded; "
                              "write the values out")]
    except _TooDeep as exc:
        return None, [problem(shown, exc.line, exc.col, f"nesting deeper than {MAX_DEPTH} levels")]
    return Loaded(data, source), problems


def _loader_for(text: str) -> type:
    """The C loader is ~10x faster but crashes the process on absurdly deep
    flow nesting ('[[[[...'); only text with many brackets can nest that deep,
    so such text goes to the pure-Python loader, whose depth we bound."""
    fast: type | None = getattr(yaml, "CSafeLoader", None)  # absent when PyYAML was built without libyaml
    if fast is None or text.count("[") + text.count("{") > 1000:
        return yaml.SafeLoader
    return fast


class _TooDeep(Exception):
    def __init__(self, line: int, col: int) -> None:
        self.line, self.col = line, col


class _TooMany(_TooDeep):
    pass


# One scan finds the strings that need `textrules.char_findings`: nearly none do.
_ODD_CHAR = re.compile(textrules.ODD_CHAR)


# The tags a plain scalar may resolve to by itself; an explicit tag ('!!bool maybe',
# '!!timestamp x') asks the constructor for conversions it cannot always make.
_IMPLICIT = yaml.resolver.Resolver()


class _Walker:
    def __init__(self, source: SourceMap, problems: list[Problem], odd: bool = True) -> None:
        self.source = source
        self.problems = problems
        self.odd = odd
        self.constructor = _Constructor()
        self.count = 0

    def _mark(self, node: Node) -> Mark:
        m = node.start_mark
        if type(node) is ScalarNode:
            return _new_mark(Mark, (m.line + 1, m.column + 1, node.value, node.style in _BLOCK_STYLES))
        return _new_mark(Mark, (m.line + 1, m.column + 1, None, False))

    def walk(self, node: Node, loc: Path_, depth: int) -> Any:
        mark = self._mark(node)
        if depth > MAX_DEPTH:
            raise _TooDeep(mark.line, mark.col)
        self.count += 1
        if self.count > MAX_VALUES:
            raise _TooMany(mark.line, mark.col)
        self.source.values[loc] = mark
        if isinstance(node, MappingNode):
            if node.tag != _MAP:
                self.unsupported_tag(node)
            if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
                self.problems.append(problem(self.source.path, mark.line, mark.col,
                                             "YAML merge keys ('<<') are not supported: write the fields out"))
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                km = self._mark(key_node)
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # reported above, once
                key = self.scalar(key_node) if isinstance(key_node, ScalarNode) else None
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
            if node.tag != _SEQ:
                self.unsupported_tag(node)
            return [self.walk(item, loc + (i,), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)  # the composer makes only mapping, sequence and scalar nodes
        return self.scalar(node)

    def unsupported_tag(self, node: Node) -> None:
        m = node.start_mark
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        self.problems.append(problem(self.source.path, m.line + 1, m.column + 1,
                                     f"YAML tag '{tag}' is not supported: write the value without it"))

    def characters(self, node: ScalarNode) -> None:
        """Every string of every YAML file obeys the character rules, located in the
        scalar (a double-quoted escape such as "\\f" is placed at its scalar)."""
        m = node.start_mark
        block = node.style in _BLOCK_STYLES
        for index, message, warning in textrules.char_findings(node.value):
            offset = node.value.count("\n", 0, index)
            if node.style in (None, "|") or (block and offset):
                line = m.line + 1 + offset + (1 if block else 0)
                col = (m.column + 1 + index) if offset == 0 and not block else 1
            else:
                line, col = m.line + 1, m.column + 1
            self.problems.append(problem(self.source.path, line, col, message, warning=warning))

    def scalar(self, node: ScalarNode) -> Any:
        if node.tag == _STR:  # most values are plain text: skip the constructor's machinery
            if self.odd and _ODD_CHAR.search(node.value) is not None:
                self.characters(node)
            return node.value
        m = node.start_mark
        # types-PyYAML leaves Resolver.resolve unannotated; it returns the tag, a str
        implicit = _STR if node.style else \
            _IMPLICIT.resolve(ScalarNode, node.value, (True, False))  # type: ignore[no-untyped-call]
        if node.tag != implicit:
            self.unsupported_tag(node)
            return None
        try:
            return self.constructor.construct_object(node, deep=True)
        except Exception as exc:  # noqa: BLE001 - any constructor failure is a bad value, not a crash
            why = "too many digits" if "int_max_str_digits" in str(exc) else str(exc).split("\n")[0]
            self.problems.append(problem(self.source.path, m.line + 1, m.column + 1,
                                         f"cannot read value {node.value[:40]!r}: {why}"))
            return None


# --- CSV -----------------------------------------------------------------

@dataclass
class Table:
    """A CSV file: header and rows, each row with its 1-based file line."""

    path: str
    header: list[str]
    rows: list[tuple[int, list[str]]]


def read_csv(path: Path, display: str | None = None, *, root: Path | None = None,
             ) -> tuple[Table | None, list[Problem]]:
    shown = display or str(path)
    try:
        raw = read_project_file(root if root is not None else path.parent, path, shown, limit=MAX_CSV_BYTES)
    except VoceunicaError as exc:
        return None, exc.problems
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


# --- reading a project file ----------------------------------------------------------
#
# Every file voceunica takes from a project comes through `read_project_file`.  A pull
# request can add any kind of file: a symbolic link to ~/.ssh/id_rsa or to the CI's
# .git/config (which holds the checkout token), a named pipe that blocks the reader
# forever, /dev/zero.  Such a file is refused by its kind and place, before it is opened,
# and again on the opened descriptor, so a swap between the two looks cannot slip past.
# A refusal names the path, never the content: a refused file was not read.

MAX_CSV_BYTES = 50_000_000  # an annex of 100 000 long rows; beyond is not an annex
MAX_BINARY_BYTES = 20_000_000  # reference.docx, logos

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # opening a FIFO without it waits for a writer
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_WALK_BY_FD = os.open in os.supports_dir_fd and bool(_O_NOFOLLOW and _O_DIRECTORY)


class _Refused(Exception):
    pass


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "refused: a named pipe (FIFO), not a regular file"
    if stat.S_ISSOCK(mode):
        return "refused: a socket, not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "refused: a device, not a regular file"
    return "refused: not a regular file"


def _inside(root: Path, path: Path) -> tuple[str, tuple[str, ...]]:
    """(the real root, the parts of the real path under it), or _Refused.

    Links are followed on paper (realpath) so that one staying inside the
    project keeps working; where it ends up decides."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    try:
        rel = os.path.relpath(real, real_root)
    except ValueError:  # another drive (Windows)
        raise _Refused("refused: it is outside the project (voceunica reads only files inside it)") from None
    parts = tuple(Path(rel).parts)
    if rel == os.curdir:
        raise _Refused("a folder, not a file")
    if os.path.isabs(rel) or parts[0] == os.pardir:
        via = "a symbolic link leads it" if os.path.islink(path) or real != os.path.abspath(path) else "it is"
        raise _Refused(f"refused: {via} outside the project (voceunica reads only files inside it)")
    if ".git" in parts:  # credentials live in .git/config; a link inside the project must not reach them
        raise _Refused("refused: a symbolic link leads it into the git folder")
    return real_root, parts


def refusal(root: Path, path: Path, *, limit: int = MAX_FILE_BYTES) -> str | None:
    """Why `path` would not be read as a file of the project at `root`, or None.
    Looks, never opens (a look cannot hang on a FIFO)."""
    try:
        _inside(root, path)
        st = os.stat(path)
    except _Refused as exc:
        return str(exc)
    except OSError as exc:
        return _os_reason(exc)
    kind = _kind(st.st_mode)
    if kind:
        return kind
    if st.st_size > limit:
        return _too_large(limit)
    return None


def folder_refusal(root: Path, path: Path) -> str | None:
    """Why the folder `path` would not be searched for project files, or None."""
    try:
        if os.path.realpath(path) != os.path.realpath(root):
            _inside(root, path)
    except _Refused as exc:
        return str(exc)
    return None if os.path.isdir(path) else "not a folder"


# Set by a caller that must know every file a step read (checkcache: the inputs of `check`'s
# verdict): called with the path, the stat of the descriptor it was read from, and the bytes.
ReadHook = Callable[[Path, os.stat_result, bytes], None]
read_hook: ReadHook | None = None


def read_project_file(root: Path, path: Path, shown: str, *, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of `path`, a regular file inside the project at `root`, of at most
    `limit` bytes.  Anything else is a `VoceunicaError` at `shown`:1:1 saying why,
    without a word of what the file holds."""
    try:
        data, st = _read(root, path, limit)
        if read_hook is not None:
            read_hook(path, st, data)
        return data
    except _Refused as exc:
        raise VoceunicaError(problem(shown, 1, 1, str(exc))) from None
    except OSError as exc:
        raise VoceunicaError(problem(shown, 1, 1, _os_reason(exc))) from None


_READ_FLAGS = os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_CLOEXEC | _O_NOCTTY | _O_BINARY
_DIR_FLAGS = os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC


def _read(root: Path, path: Path, limit: int) -> tuple[bytes, os.stat_result]:
    if _WALK_BY_FD:
        # Most files are plain files in plain folders: walk to them from the root without
        # following anything, which proves them inside.  Only where a link is met is the
        # path resolved (realpath: an lstat per component) and judged by where it ends.
        parts = _plain_parts(root, path)
        fd = _open_plain(root, parts, limit) if parts is not None else None
        if fd is not None:
            return _read_fd(fd, limit)
    real_root, parts = _inside(root, path)
    _refuse_unless_regular(os.stat(os.path.join(real_root, *parts)), limit)
    return _read_fd(_open_under(real_root, parts, _READ_FLAGS), limit)


def _plain_parts(root: Path, path: Path) -> tuple[str, ...] | None:
    """The parts of `path` under `root` as written, or None when it is not written under it."""
    rel = os.path.relpath(path, root)  # lexical: '..' and links are left to the careful path
    parts = tuple(rel.split(os.sep))
    if os.path.isabs(rel) or parts[0] in (os.curdir, os.pardir) or ".git" in parts:
        return None
    return parts


def _open_plain(root: Path, parts: tuple[str, ...], limit: int) -> int | None:
    """An fd of root/parts when no part is a link (None when one is), refusing what is
    not a regular file of at most `limit` bytes before opening it."""
    import errno

    dir_fd = os.open(root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    try:
        for part in parts[:-1]:
            try:
                nxt = os.open(part, _DIR_FLAGS, dir_fd=dir_fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    return None
                raise
            os.close(dir_fd)
            dir_fd = nxt
        st = os.stat(parts[-1], dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            return None
        _refuse_unless_regular(st, limit)
        return _open_in(dir_fd, parts[-1], _READ_FLAGS)
    finally:
        os.close(dir_fd)


def _refuse_unless_regular(st: os.stat_result, limit: int) -> None:
    """Refuse, before opening it, what is not a regular file of at most `limit` bytes."""
    kind = _kind(st.st_mode)
    if kind:
        raise _Refused(kind)
    if st.st_size > limit:
        raise _Refused(_too_large(limit))


def _open_in(dir_fd: int, name: str, flags: int) -> int:
    """Open `name` in the folder `dir_fd`: it was looked at just before, so a failure now means it changed."""
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        raise _changed(exc) from None


def _read_fd(fd: int, limit: int) -> tuple[bytes, os.stat_result]:
    """Read an opened file, closing it; refused unless it is a regular file of at most `limit` bytes.
    Returns the bytes and the descriptor's stat, taken before reading (a change made while
    reading gives the file a later time than this stat, so a cache keyed by it sees it)."""
    try:
        st = os.fstat(fd)
        kind = _kind(st.st_mode)  # what was opened, not what was looked at
        if kind:
            raise _Refused(kind)
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew after the look
            raise _Refused(_too_large(limit))
        return b"".join(chunks), st
    finally:
        os.close(fd)


def _open_under(real_root: str, parts: tuple[str, ...], flags: int) -> int:
    """Open root/parts one folder at a time, refusing a symbolic link at every
    step: the path was resolved just before, so a link met now was put there since."""
    if not _WALK_BY_FD:
        return os.open(os.path.join(real_root, *parts), flags)
    dir_fd = os.open(real_root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    try:
        for part in parts[:-1]:
            nxt = _open_in(dir_fd, part, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC)
            os.close(dir_fd)
            dir_fd = nxt
        return _open_in(dir_fd, parts[-1], flags)
    finally:
        os.close(dir_fd)


def _changed(exc: OSError) -> Exception:
    import errno

    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return _Refused("refused: it was replaced by a symbolic link while being read")
    return exc


def _os_reason(exc: OSError) -> str:
    import errno

    if exc.errno == errno.ENOENT:
        return "cannot read file: it does not exist (or is a broken symbolic link)"
    if exc.errno == errno.ELOOP:
        return "refused: a loop of symbolic links"
    return f"cannot read file: {exc.strerror or 'error'}"


def _too_large(limit: int) -> str:
    return f"file is larger than {limit / 1_000_000:g} MB"
