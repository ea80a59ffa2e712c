"""The rules every text obeys, in one place: characters, links, and Markdown the writer can carry.

Stage 2 (validate) applies them; nothing else decides what a text may hold.

- **Characters** (every string of every YAML file, every CSV cell): no control
  characters or non-characters, which XML cannot hold or which show as nothing;
  a warning for bidirectional overrides (U+202E and kin), which can make a
  text read differently from what it says.
- **Links** (every Markdown text and CSV cell): only `https:`, `http:`,
  `mailto:` and in-document `#anchors` become links.  `ms-msdt:`, `search-ms:`
  (the "Follina" family), `javascript:`, `file:`, `data:`... are refused.
- **Markdown** (texts that are Markdown): what the DOCX writer would lose or
  misread — HTML and comments of any kind, nesting past what the writer keeps,
  an unclosed code fence, footnote definitions and link reference definitions
  inside a text, images — is refused at its line.

Each rule returns `(offset, message, is_warning)`; callers turn the offset into
file:line:col through their source map.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

Finding = tuple[int, str, bool]  # offset in the text, message, warning?

# A footnote reference, [^key], and not a definition ([^key]:).
FOOTNOTE_REF = re.compile(r"\[\^([^\]\s]+)\](?!:)")

# --- characters ---------------------------------------------------------------------------

_BAD_CHAR = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
                       "|[\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff\U000efffe\U000effff"
                       "\U000ffffe\U000fffff\U0010fffe\U0010ffff]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def char_findings(text: str) -> Iterator[Finding]:
    for m in _BAD_CHAR.finditer(text):
        c = ord(m.group())
        kind = "non-character" if c >= 0xFDD0 and not 0xD800 <= c <= 0xDFFF else "control character"
        yield m.start(), f"{kind} U+{c:04X} is not allowed (a Word file cannot hold it)", False
    for m in _BIDI.finditer(text):
        yield (m.start(), f"bidirectional control U+{ord(m.group()):04X} can make the text read differently "
                          "from what it says; remove it", True)


# Both kinds at once, for a one-pass pre-test over many strings.
ODD_CHAR = f"{_BAD_CHAR.pattern}|{_BIDI.pattern}"


# --- links ---------------------------------------------------------------------------------

SAFE_LINK = re.compile(r"(?:https?://|mailto:|#)", re.I)
# Link destinations as Markdown writes them: ](target), <scheme:...> autolinks, [ref]: target.
_DESTINATION = re.compile(r"\]\(\s*<?([^\s)>]*)|<([A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*)>"
                          r"|^ {0,3}\[(?!\^)[^\]]+\]:\s*<?(\S*)", re.M)


def link_findings(text: str) -> Iterator[Finding]:
    if "](" not in text and "<" not in text and "]:" not in text:
        return
    for m in _DESTINATION.finditer(text):
        target = next(g for g in m.groups() if g is not None)
        if not SAFE_LINK.match(target):
            shown = target[:60] + ("…" if len(target) > 60 else "")
            yield (m.start(), f"link target '{shown}' is not allowed: links must start with https://, http://, "
                              "mailto: or # (anything else can run code when the document is opened)", False)


def safe_url(url: str) -> bool:
    return SAFE_LINK.match(url) is not None and not url.startswith("#")


# --- the Commission's text in an amendment -------------------------------------------------------

# An amendment sets its wording against the Commission's own, word for word: a summary
# or paraphrase in that column ("(summary) …") cannot be amended, nor found in EUR-Lex.
_SUMMARY = re.compile(r"\s*\((summary|sintesi|riassunto|paraphrase|parafrasi)\)", re.I)
_NO_TEXT = re.compile(r"\s*[-\u2013\u2014]?\s*\Z")


def commission_findings(text: str) -> Iterator[Finding]:
    """Warnings for a Commission-text cell that is not a verbatim quotation."""
    m = _SUMMARY.match(text)
    if m is not None:
        yield (m.start(1) - 1, f"the Commission's text is marked '({m.group(1)})': an amendment quotes the "
                               "proposal verbatim (copy its wording from EUR-Lex)", True)
    elif _NO_TEXT.match(text):
        yield (0, "a new provision has no Commission text: leave 'commission' out and its cell stays empty",
               True)


# --- Markdown ---------------------------------------------------------------------------------

MAX_NESTING = 6  # lists and quotes inside one text; the writer and Word go deeper, readers do not
_PARSE_NESTING = 100  # the checking parser goes far past MAX_NESTING, so nothing deeper hides from it
# Only a text with one of these can hold a construct the rules below look for;
# most texts have none, and parsing tens of thousands of them would make `check` slow.
_INLINE_TRIGGER = re.compile(r"[<`]|~~~|!\[|\[(?!\^[^\]\s]+\](?!:))")
# A line that starts indented (code, nested lists), with a quote, or with two list markers.
_LINE_TRIGGER = re.compile(r"^(?:[ \t]|[ \t]*>|[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+(?:[-*+>]|\d{1,9}[.)])(?:[ \t]|$))",
                           re.M)
_LINE_LEAD = frozenset(" \t>-*+0123456789")


def _needs_parse(text: str) -> bool:
    """Two small scans instead of one with every alternative at every character (3x
    faster on the benchmark's 18 000 texts); a one-line text can only trigger the
    line rules through its first character."""
    if _INLINE_TRIGGER.search(text) is not None:
        return True
    if "\n" not in text and text[:1] not in _LINE_LEAD:
        return False
    return _LINE_TRIGGER.search(text) is not None


_FENCE_CLOSE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*$")
_REFERENCE_DEF = re.compile(r"^ {0,3}(?:>[ \t]?)*\[(?!\^)[^\]]+\]:", re.M)
_FOOTNOTE_DEF = re.compile(r"^[ \t]*(?:>[ \t]?)*\[\^[^\]\s]+\]:", re.M)


def parser(max_nesting: int = _PARSE_NESTING) -> MarkdownIt:
    """The one Markdown dialect: CommonMark with GitHub's tables, strikethrough and
    footnotes, as reviewers see it on GitHub.  The DOCX writer reads with it too
    (with markdown-it's usual nesting limit; `check` looks deeper)."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.footnote import footnote_plugin

    md = MarkdownIt("commonmark", {"html": True, "maxNesting": max_nesting})
    return md.enable(["table", "strikethrough"]).use(footnote_plugin)


@functools.cache
def _check_parser() -> MarkdownIt:
    """Made once per process: building a parser costs more than parsing a short text."""
    return parser()


def markdown_findings(text: str) -> Iterator[Finding]:
    if not _needs_parse(text):
        return
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def at(line: int) -> int:
        return starts[min(max(line, 0), len(lines) - 1)]

    env: dict[str, object] = {}
    tokens = _check_parser().parse(text, env)
    depth = 0
    deepest_reported = False
    for tok in _flatten(tokens):
        where = at(tok.map[0]) if tok.map else 0
        t = tok.type
        if t in ("bullet_list_open", "ordered_list_open", "blockquote_open"):
            depth += 1
            if depth > MAX_NESTING and not deepest_reported:
                deepest_reported = True
                yield where, (f"lists and quotes are nested more than {MAX_NESTING} levels deep; "
                              "a reader loses track (and a Markdown reader drops what is nested too deep)"), False
        elif t in ("bullet_list_close", "ordered_list_close", "blockquote_close"):
            depth -= 1
        elif t in ("html_block", "html_inline"):
            yield where + _offset_in(text, where, tok.content), _html_message(tok.content), False
        elif t == "fence" and tok.map:
            end = tok.map[1] - 1
            closing = _FENCE_CLOSE.match(lines[end]) if end > tok.map[0] and end < len(lines) else None
            if closing is None or closing.group(1)[0] != tok.markup[0] or len(closing.group(1)) < len(tok.markup):
                yield where, (f"code fence '{tok.markup}' is never closed: everything after it would be shown "
                              "as code"), False
        elif t == "image":
            yield where, "images are not supported in position texts; figures come from annexes (chart:)", False
        if t in _LITERAL and "<!--" in tok.content:
            # Not a comment in this text alone (unclosed, or in code), but in the dossier it opens one
            # that runs to the next '-->' there: the build's proof would refuse at a template line.
            yield (where + _offset_in(text, where, "<!--"),
                   "'<!--' is not allowed in a text, not even unclosed or in code: in the dossier it starts a "
                   "comment that hides everything up to the next '-->'", False)
    for m in _FOOTNOTE_DEF.finditer(text):
        yield m.start(), ("a footnote definition ('[^key]: ...') cannot stand in a text: put the note in "
                          "'notes:' (or 'eu_files:') and cite it with [^key]"), False
    if env.get("references"):
        for m in _REFERENCE_DEF.finditer(text):
            yield m.start(), ("link reference definitions ('[name]: target') are not allowed in a text: "
                              "write the link inline, [text](https://...)"), False


_LITERAL = frozenset({"text", "code_inline", "code_block", "fence"})  # tokens whose content is shown as written
_DIRECTIVE = re.compile(r"<!--\s*vu[:-]")


def _html_message(content: str) -> str:
    html = content.strip()
    if _DIRECTIVE.match(html):
        return "layout directives (<!-- vu:... -->) belong in templates, not in texts"
    if html.startswith("<!--"):
        if "-->" not in html:
            return "comment '<!--' is never closed with '-->': everything after it would disappear"
        return (f"comment {html.splitlines()[0][:40]!r} is not allowed in a text: readers disagree on where "
                "a comment ends, and the text it hides reaches no one")
    return f"HTML {html.splitlines()[0][:40]!r} is not allowed in a text; use Markdown"


def _offset_in(text: str, start: int, content: str) -> int:
    found = text.find(content.strip()[:20], start)
    return found - start if found != -1 else 0


def _flatten(tokens: Iterable[Token]) -> Iterator[Token]:
    for tok in tokens:
        if tok.type == "inline" and tok.children:
            for child in tok.children:
                if child.map is None:
                    child.map = tok.map
                yield child
        else:
            yield tok
