"""Pydantic's error types → our messages: every type the models can produce has its row in one table.

`test_every_error_type_our_models_produce_has_a_message` provokes the errors
(each field of a valid position, dossier, annex and labels file replaced by
values of every kind, removed, or given an extra key) and fails when a type
appears that `messages.MESSAGES` does not map — a new field kind or a pydantic
upgrade — so a message is written for it on purpose.  The table below pins
each type to the exact message `check` prints.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import pytest
from pydantic import BaseModel, ValidationError

from voceunica import messages
from voceunica.load import parse_yaml
from voceunica.model import Annex, Dossier, Labels, Position

REPO = Path(__file__).resolve().parents[1]
MINI = REPO / "tests" / "fixtures" / "mini"
FILES: list[tuple[type[BaseModel], Path]] = [
    (Position, MINI / "positions" / "steel-mini.yaml"),
    (Dossier, MINI / "dossiers" / "mini.yaml"),
    (Annex, MINI / "dossiers" / "annexes" / "exports.yaml"),
    (Labels, REPO / "templates" / "labels.yaml"),
]
# One value of every kind YAML can give, and the edge cases of the constraints.
VALUES: list[Any] = [None, True, 7, 1.5, "x", "", "a" * 100, [], ["x"], [1] * 10, {}, {"x": 1},
                     dt.date(2020, 1, 1), dt.datetime(2020, 1, 1, 10), -1, 99999]

# Every error type our models produce today.
PRODUCED = {
    "bool_type", "date_type", "dict_type", "extra_forbidden", "greater_than_equal", "int_type", "less_than_equal",
    "list_type", "literal_error", "missing", "model_type", "string_pattern_mismatch", "string_too_long",
    "string_too_short", "string_type", "too_long", "too_short", "value_error",
}


def _paths(node: Any, loc: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield loc
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        yield from _paths(value, loc + (key,))


def _variants(data: dict[str, Any], model: type[BaseModel]) -> Iterator[dict[str, Any]]:
    """`data` with one value replaced, removed, or given an unknown key; and each absent field set."""
    def copy_at(loc: tuple[Any, ...]) -> tuple[dict[str, Any], Any]:
        d = copy.deepcopy(data)
        parent = d
        for part in loc[:-1]:
            parent = parent[part]
        return d, parent

    for loc in list(_paths(data))[1:]:
        for value in VALUES:
            d, parent = copy_at(loc)
            parent[loc[-1]] = value
            yield d
        d, parent = copy_at(loc)
        del parent[loc[-1]]
        yield d
        d, parent = copy_at(loc)
        if isinstance(parent[loc[-1]], dict):
            parent[loc[-1]]["zz_unknown"] = 1
            yield d
    for name in model.model_fields:
        for value in VALUES:
            yield {**data, name: value}


def _errors() -> Iterator[tuple[type[BaseModel], Any, dict[str, Any]]]:
    for model, path in FILES:
        loaded, _ = parse_yaml(path.read_bytes(), path.name)
        assert loaded is not None
        model.model_validate(loaded.data)  # the starting point is valid
        for data in _variants(loaded.data, model):
            try:
                model.model_validate(data)
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    yield model, data, dict(err)


def test_every_error_type_our_models_produce_has_a_message() -> None:
    produced: set[str] = set()
    for model, data, err in _errors():
        produced.add(err["type"])
        _, message, _ = messages.MESSAGES[err["type"]](messages.failure(err, model, data))
        assert message.strip(), err
    assert produced == PRODUCED, "a new pydantic error type: give it a row in messages.MESSAGES and here"
    assert set(messages.MESSAGES) >= PRODUCED


POSITION = (MINI / "positions" / "steel-mini.yaml").read_text(encoding="utf-8")
ANNEX = (MINI / "dossiers" / "annexes" / "exports.yaml").read_text(encoding="utf-8")


# (error type, model, file, text to replace, replacement, expected 'line:col: message')
CASES: list[tuple[str, type[BaseModel], str, str, str, str]] = [
    ("missing", Position, POSITION, "sector: steel\n", "",
     "1:1: missing required field 'sector'"),
    ("missing", Position, POSITION, "  en: Steel and CBAM\n", "",
     "7:1: title: missing English text ('en:')"),
    ("extra_forbidden", Position, POSITION, "sector: steel", "sector: steel\nsectr: x",
     "6:1: unknown field 'sectr' (did you mean 'sector'?)"),
    ("extra_forbidden", Position, POSITION, "  en: Steel and CBAM", "  en: Steel and CBAM\n  de: Stahl",
     "10:3: unknown field 'de' (texts have exactly 'it:' and 'en:')"),
    ("string_type", Annex, ANNEX, "licence: CC BY 4.0", "licence: 1.10",
     "5:10: licence: expected text, got a number (1.1); quote it: '1.10'"),
    ("model_type", Position, POSITION, "title:\n  it: Acciaio e CBAM\n  en: Steel and CBAM", "title: Steel",
     "7:8: title: expected the text in both languages ('it:' and 'en:'), got text ('Steel')"),
    ("model_type", Position, POSITION, "signoffs:\n  lombardia:\n    by: Anna Test\n    date: 2026-03-09\n"
     "    fingerprint: sha256:3ff056bd6a4a25b4\n", "signoffs:\n  lombardia: yes\n",
     "42:14: signoffs.lombardia: expected a mapping of fields, got true/false (true)"),
    ("dict_type", Position, POSITION, "translated_from:\n  title: '446718636724'",
     "translated_from: []\nx_:\n  title: '4'",
     "50:18: translated_from: expected a mapping of fields, got a list"),
    ("list_type", Position, POSITION, "notes:\n  - key: note\n    text: {it: Nota di prova., en: A test note.}",
     "notes: none",
     "32:8: notes: expected a list, got text ('none')"),
    ("date_type", Position, POSITION, "    date: 2026-03-09\n    fingerprint: sha256:3ff056bd6a4a25b4\n  veneto:",
     "    date: '2026-03-09'\n    fingerprint: sha256:3ff056bd6a4a25b4\n  veneto:",
     "44:11: signoffs.lombardia.date: expected a date written as YYYY-MM-DD (unquoted), got text ('2026-03-09')"),
    ("int_type", Annex, ANNEX, "reference_year: 2024", "reference_year: '2024'",
     "6:17: reference_year: expected a whole number, got text ('2024')"),
    ("bool_type", Annex, ANNEX, "reference_year: 2024", "reference_year: 2024\nillustrative: 'yes'",
     "7:15: illustrative: expected true or false, got text ('yes')"),
    ("literal_error", Position, POSITION, "sector: steel", "sector: steal",
     "5:9: sector: 'steal' is not allowed; expected one of 'steel', 'microelectronics', 'sme-credit', "
     "'governance', 'energy', 'trade', 'cohesion' or 'research'"),
    ("string_pattern_mismatch", Position, POSITION, 'version: "1.0.0"', 'version: "1.0"',
     "4:10: version: malformed version '1.0' (expected e.g. '1.2.0')"),
    ("string_too_short", Position, POSITION, "  it: Acciaio e CBAM", "  it: ''",
     "8:7: title.it: must not be empty"),
    ("string_too_long", Position, POSITION, "id: steel-mini", "id: " + "a" * 65,
     "3:5: id: String should have at most 64 characters"),
    ("too_short", Annex, ANNEX, "y: [lombardia, veneto]", "y: []",
     "11:32: chart.y: needs at least 1 item"),
    ("too_long", Position, POSITION, "asks:\n", "asks:\n" + "  - text: {it: a, en: b}\n" * 5,
     "14:3: asks: has more than the 5 items allowed"),
    ("greater_than_equal", Annex, ANNEX, "reference_year: 2024", "reference_year: 1900",
     "6:17: reference_year: Input should be greater than or equal to 1950"),
    ("less_than_equal", Annex, ANNEX, "decimals: 1, label: {it: Lombardia", "decimals: 7, label: {it: Lombardia",
     "9:48: columns[1].decimals: Input should be less than or equal to 6"),
    ("value_error", Position, POSITION, "    number: 2023/956\n", "",
     "26:5: eu_files[0]: an adopted act (regulation) needs its 'number', e.g. '2023/956'"),
]


@pytest.mark.parametrize(("error_type", "model", "text", "old", "new", "expected"), CASES)
def test_each_error_type_has_its_message(error_type: str, model: type[BaseModel], text: str, old: str, new: str,
                                         expected: str) -> None:
    assert old in text
    loaded, problems = parse_yaml(text.replace(old, new, 1), "f.yaml")
    assert loaded is not None and not problems
    with pytest.raises(ValidationError) as exc:
        model.model_validate(loaded.data)
    errors = [dict(e) for e in exc.value.errors(include_url=False)]
    assert error_type in {e["type"] for e in errors}
    err = next(e for e in errors if e["type"] == error_type)
    assert str(messages.problem_from(err, model, loaded.source, loaded.data)) == f"f.yaml:{expected}"


def test_every_type_produced_is_pinned_to_a_message() -> None:
    assert {case[0] for case in CASES} == PRODUCED
