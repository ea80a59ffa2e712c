"""Pydantic's errors → our messages: one table from pydantic's error types to what `check` says.

Pydantic names each error by a type ('string_type', 'missing', ...) and words
it for programmers ("Input should be a valid string").  `MESSAGES` maps every
type our models produce (tests/test_messages.py provokes each one) to a
message for the people who write the YAML: where, what was expected, what was
found, and a hint when one helps ("quote it: '1.10'").  A type not in the
table keeps pydantic's own words, after the field's path.

Foundation: it knows the content model and nothing of files.  Where a value
stands comes from a `Source` (load.SourceMap has its shape).
"""

from __future__ import annotations

import builtins
import difflib
import types
import typing
from dataclasses import dataclass
from typing import Any, Protocol
from collections.abc import Callable, Mapping, Sequence

from pydantic import BaseModel

from voceunica.errors import Problem, counted
from voceunica.model import LANG_NAMES, LANGS, PATTERNS, Text

Loc = tuple[str | int, ...]


class Source(Protocol):
    """Where every value of one file stands: `load.SourceMap`."""

    @property
    def values(self) -> Mapping[Loc, Any]: ...  # loc -> a mark with `.raw`, the scalar as written

    def problem(self, loc: Loc, message: str, *, key: bool = False,
                warning: bool = False) -> Problem: ...


@dataclass(frozen=True)
class Failure:
    """One pydantic error, its path into the data cleaned of pydantic's union tags."""

    type: str  # pydantic's error type: 'string_type'
    loc: Loc  # ('sections', 0, 'heading', 'it')
    input: Any  # the value found
    ctx: Mapping[str, Any]  # pydantic's context: {'pattern': ...}, {'min_length': 1}, ...
    msg: str  # pydantic's own words
    model: builtins.type[BaseModel]  # the model of the whole file (`type` is the field above)
    written: str | None  # the scalar as the YAML wrote it ('1.10'), if known

    @property
    def where(self) -> str:
        return dotted(self.loc)


# What a message says and where: (location, message, at the key rather than the value?).
Said = tuple[Loc, str, bool]
Message = Callable[[Failure], Said]


def _missing(f: Failure) -> Said:
    parent, name = f.loc[:-1], f.loc[-1]
    if _model_at(f.model, parent) is Text and name in LANGS:
        msg = f"{dotted(parent)}: missing {LANG_NAMES[str(name)]} text ('{name}:')"
    else:
        msg = f"{dotted(parent)}: missing required field '{name}'" if parent else f"missing required field '{name}'"
    return parent, msg, bool(parent)


def _extra(f: Failure) -> Said:
    parent, name = f.loc[:-1], str(f.loc[-1])
    parent_model = _model_at(f.model, parent)
    hint = ""
    if isinstance(parent_model, type) and issubclass(parent_model, BaseModel):
        close = difflib.get_close_matches(name, list(parent_model.model_fields), n=1, cutoff=0.6)
        if close:
            hint = f" (did you mean '{close[0]}'?)"
        elif parent_model is Text:
            hint = " (texts have exactly 'it:' and 'en:')"
    return f.loc, f"unknown field '{name}'{hint}", True


def _text(f: Failure) -> Said:
    hint = ""
    if isinstance(f.input, (int, float, bool)):  # YAML read a number or a boolean where text was meant
        hint = f"; quote it: '{f.written if f.written is not None else f.input}'"
    return f.loc, f"{f.where}: expected text, got {typename(f.input)}{hint}", False


def _mapping(f: Failure) -> Said:
    if _model_at(f.model, f.loc) is Text:
        return f.loc, f"{f.where}: expected the text in both languages ('it:' and 'en:'), got {typename(f.input)}", \
            False
    return f.loc, f"{f.where}: expected a mapping of fields, got {typename(f.input)}", False


def _expected(what: str) -> Message:
    def message(f: Failure) -> Said:
        return f.loc, f"{f.where}: expected {what}, got {typename(f.input)}", False
    return message


def _literal(f: Failure) -> Said:
    return f.loc, f"{f.where}: {f.input!r} is not allowed; expected one of {f.ctx.get('expected', '')}", False


def _pattern(f: Failure) -> Said:
    what, example = PATTERNS.get(f.ctx.get("pattern", ""), ("value", ""))
    return f.loc, f"{f.where}: malformed {what} {f.input!r} (expected e.g. {example!r})", False


def _empty(f: Failure) -> Said:
    return f.loc, f"{f.where}: must not be empty", False


def _too_few(f: Failure) -> Said:
    n: int = f.ctx["min_length"]  # pydantic's too_short always carries it
    return f.loc, f"{f.where}: needs at least {counted(n, 'item')}", False


def _too_many(f: Failure) -> Said:
    return f.loc, f"{f.where}: has more than the {f.ctx.get('max_length')} items allowed", False


def _pydantic_says(f: Failure) -> Said:
    """Pydantic's words after the path: clear enough for bounds, and a model validator's own message."""
    return f.loc, f"{f.where}: {f.msg.removeprefix('Value error, ')}", False


MESSAGES: dict[str, Message] = {
    "missing": _missing,
    "extra_forbidden": _extra,
    "string_type": _text,
    "model_type": _mapping,
    "dict_type": _mapping,
    "list_type": _expected("a list"),
    "date_type": _expected("a date written as YYYY-MM-DD (unquoted)"),
    "int_type": _expected("a whole number"),
    "bool_type": _expected("true or false"),
    "literal_error": _literal,
    "string_pattern_mismatch": _pattern,
    "string_too_short": _empty,
    "too_short": _too_few,
    "too_long": _too_many,
    "string_too_long": _pydantic_says,  # "String should have at most 64 characters"
    "greater_than_equal": _pydantic_says,  # "Input should be greater than or equal to 1950"
    "less_than_equal": _pydantic_says,  # "Input should be less than or equal to 2100"
    "value_error": _pydantic_says,  # a model validator's ValueError: its message is ours
    # Lax-mode variants: our models are strict and do not produce these, but a field
    # made lax one day should read the same.
    "str_type": _text,
    "model_attributes_type": _mapping,
    "date_parsing": _expected("a date written as YYYY-MM-DD (unquoted)"),
    "date_from_datetime_inexact": _expected("a date written as YYYY-MM-DD (unquoted)"),
    "int_parsing": _expected("a whole number"),
    "int_from_float": _expected("a whole number"),
}


def problem_from(err: Mapping[str, Any], model: type[BaseModel], source: Source, data: Any) -> Problem:
    """One of pydantic's errors (`ValidationError.errors()`) on `data`, which was
    validated against `model` and read from `source`, as a located problem."""
    f = failure(err, model, data, source.values)
    loc, message, key = MESSAGES.get(f.type, _pydantic_says)(f)
    return source.problem(loc, message, key=key)


def failure(err: Mapping[str, Any], model: type[BaseModel], data: Any,
            marks: Mapping[Loc, Any] | None = None) -> Failure:
    kind = str(err["type"])
    raw_loc = tuple(err["loc"])
    # A missing field's own name is the last part, even when it reads like a union tag ('date').
    loc = _clean_loc(raw_loc[:-1], data) + raw_loc[-1:] if kind == "missing" and raw_loc else \
        _clean_loc(raw_loc, data)
    mark = (marks or {}).get(loc)
    return Failure(kind, loc, err.get("input"), err.get("ctx") or {}, str(err["msg"]), model,
                   getattr(mark, "raw", None))


def dotted(loc: Sequence[Any]) -> str:
    """('sections', 0, 'heading') → 'sections[0].heading'; the whole file is 'file'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "file"


def typename(value: Any) -> str:
    """What was found, as a message says it: 'a number (1.1)', 'text ('abc')', 'nothing'."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value[:40]!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _clean_loc(loc: tuple[Any, ...], data: Any) -> Loc:
    """Drop pydantic's union-member tags, keeping the path into the data."""
    clean: list[str | int] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node
                or isinstance(node, list) and isinstance(part, int) and part < len(node)):
            clean.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part in _UNION_TAGS:
            continue  # a union tag such as 'Signoff'
        else:
            clean.append(part)
            node = None
    return tuple(clean)


_UNION_TAGS = {"str", "int", "float", "bool", "date", "list", "dict", "none", "function-after",
               "lax-or-strict", "is-instance[date]"}


def _model_at(model: Any, loc: Sequence[str | int]) -> Any:
    """The model (or type) that the data at `loc` should match."""
    tp = model
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            f = tp.model_fields.get(part) if isinstance(part, str) else None
            if f is None:
                return None
            tp = f.annotation
        else:
            origin = typing.get_origin(tp)
            args = typing.get_args(tp)
            if origin is list and args:
                tp = args[0]
            elif origin is dict and len(args) == 2:
                tp = args[1]
            else:
                return None
    return _unwrap(tp)


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp
