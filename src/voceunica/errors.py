"""Problems: every user-facing error is data with a location.

Stages return lists of `Problem`s; raising `VoceunicaError` carries one or
more of them up to the single place (the CLI) that prints them and sets the
exit code.  Nothing here prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from collections.abc import Iterable


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"  # for information: nothing to fix (a template that overrides voceunica's default)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the user's input, at `path:line:col` (1-based)."""

    path: str
    line: int
    col: int
    message: str
    severity: Severity = field(default=Severity.ERROR, compare=False)

    def __str__(self) -> str:
        # A file name (or a value quoted in a message) comes from the repository: a newline in it would
        # print a second, forged `path:line:col:` line that editors and CI annotations believe.
        prefix = "" if self.severity is Severity.ERROR else f"{self.severity.value}: "
        if not self.path:  # about no file (git missing, a bad option value): no made-up location
            return f"voceunica: {prefix}{_one_line(self.message)}"
        return f"{_one_line(self.path)}:{self.line}:{self.col}: {prefix}{_one_line(self.message)}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the bidi embeddings,
# overrides and isolates that make a terminal show a name other than the one it is
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _one_line(text: str) -> str:
    if not _UNPRINTABLE.search(text):
        return text
    return _UNPRINTABLE.sub(
        lambda m: _ESCAPES.get(c := m.group(), f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"),
        text)


def problem(path: str | Path, line: int, col: int, message: str, *, warning: bool = False,
            note: bool = False) -> Problem:
    severity = Severity.NOTE if note else Severity.WARNING if warning else Severity.ERROR
    return Problem(str(path), max(line, 1), max(col, 1), message, severity)


def general(message: str, *, warning: bool = False) -> Problem:
    """A problem that belongs to no file: printed as 'voceunica: message', never at a fake '.:1:1'."""
    return Problem("", 0, 0, message, Severity.WARNING if warning else Severity.ERROR)


class VoceunicaError(Exception):
    """The one exception type for problems a user can fix.

    It carries one or more `Problem`s; `str()` gives them one per line.
    """

    def __init__(self, problems: Problem | Iterable[Problem]) -> None:
        self.problems: list[Problem] = (
            [problems] if isinstance(problems, Problem) else sorted(problems)
        )
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def at(cls, path: str | Path, message: str, line: int = 1, col: int = 1) -> VoceunicaError:
        return cls(problem(path, line, col, message))


def summary(problems: list[Problem]) -> str:
    """'3 errors, 1 warning in 2 files' — the line under a problem list."""
    problems = [p for p in problems if p.severity is not Severity.NOTE]  # a note is no problem
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    files = len({p.path for p in problems if p.path})
    parts = [counted(n, noun) for n, noun in ((errors, "error"), (warnings, "warning")) if n]
    if not parts:
        return "no problems"
    if not files:
        return ", ".join(parts)
    return f"{', '.join(parts)} in {counted(files, 'file')}"


def counted(n: int, noun: str) -> str:
    """'1 file', '3 files': the English nouns our messages count take an s."""
    return f"{n} {noun}{'s' if n != 1 else ''}"
