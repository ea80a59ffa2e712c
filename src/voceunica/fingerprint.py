"""Content fingerprints: what a sign-off approves and what a translation was made from.

A position's *content* is every substantive field in both languages — not
its version, status, sign-offs or translation records, which describe the
content rather than being it.  Its fingerprint is a SHA-256 over canonical
JSON, so key order and YAML formatting do not matter and any change of
wording does.  Fields left at their default value are not part of it: a field
a later voceunica adds to the position format (say, an ask's `audiences`) does
not make every sign-off stale, and writing a default out (`eu_file: null`) is
no change of content.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from voceunica.model import BINDING_STATUSES, LANGS, Position, iter_texts
from voceunica.regions import REGIONS

NOT_CONTENT = {"format", "version", "status", "signoffs", "translated_from", "source_language"}


def content(pos: Position) -> dict[str, Any]:
    return pos.model_dump(mode="json", exclude=NOT_CONTENT, exclude_defaults=True)


def fingerprint(pos: Position) -> str:
    canonical = json.dumps(content(pos), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


SignoffState = Literal["current", "stale", "missing"]


def signoff_state(pos: Position, region: str) -> SignoffState:
    s = getattr(pos.signoffs, region)
    if s is None:
        return "missing"
    return "current" if s.fingerprint == fingerprint(pos) else "stale"


def agreed(pos: Position) -> bool:
    """A position speaks for both regions only when both approved *this* content."""
    return pos.status in BINDING_STATUSES and all(signoff_state(pos, r) == "current" for r in REGIONS)


# --- translation freshness ----------------------------------------------------------

def text_hash(text: str) -> str:
    """Whitespace-insensitive hash of one source text (12 hex digits)."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:12]


def field_name(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass(frozen=True)
class FieldStatus:
    field: str  # "sections[0].body"
    loc: tuple[str | int, ...]  # location of the target-language text
    state: Literal["translated", "missing", "outdated"]


def target_language(pos: Position) -> str:
    return next(lang for lang in LANGS if lang != pos.source_language)


def texts_by_field(pos: Position) -> dict[tuple[str | int, ...], dict[str, str]]:
    """Every translated field's location ('sections', 0, 'body') → its text per language, in order."""
    texts: dict[tuple[str | int, ...], dict[str, str]] = {}
    for loc, lang, text in iter_texts(pos):
        if loc[0] != "translated_from":
            texts.setdefault(loc[:-1], {})[lang] = text
    return texts


def translation_status(pos: Position) -> list[FieldStatus]:
    """Per translated field: is the target text there, and made from the current source?"""
    source = pos.source_language
    target = target_language(pos)
    out = []
    for loc, by_lang in texts_by_field(pos).items():
        name = field_name(loc)
        if not by_lang.get(target, "").strip():
            state: Literal["translated", "missing", "outdated"] = "missing"
        elif pos.translated_from.get(name) == text_hash(by_lang.get(source, "")):
            state = "translated"
        else:
            state = "outdated"
        out.append(FieldStatus(name, loc + (target,), state))
    return out


def translation_marks(pos: Position) -> dict[str, str]:
    """The `translated_from` record that declares every current translation fresh."""
    source = pos.source_language
    marks = {}
    for loc, lang, text in iter_texts(pos):
        if lang == source and loc[0] != "translated_from":
            marks[field_name(loc[:-1])] = text_hash(text)
    return marks
