"""Typography per language: quotation marks, apostrophes, no-break spaces, digit grouping.

The one home of the rules of the EU Interinstitutional Style Guide on how a text
is *set* (../shared/domain.md), as opposed to what it says:

- **Quotation marks**: Italian « », then “ ” inside, then ‘ ’ (Manuale
  interistituzionale di convenzioni redazionali 6.4); English ‘ ’, then “ ”
  inside (Style Guide EN 10.1.9: single quotes first).  Authors type straight
  quotes; their nesting, not which straight quote was typed, decides the level.
  The apostrophe is ’ in both languages.
- **No-break spaces** (U+00A0) inside grouped numbers, between a number and its
  unit, '%', 'EUR' / '€' or 'million', between day and month ('1 January',
  '26 novembre'), and after 'Article', 'Annex', 'Table' … before their number.
- **Grouping**: thousands are separated by a no-break space from four digits on
  ('5 800', '22 000'), in running text and in tables alike — `group` is used
  by `fmt.number` too.  Serial numbers stay as written: years (a four-digit
  number from 1900 to 2100, or after a month name, unless a unit or currency
  goes with it), page, article and other numbers after their word, numbers
  starting with 0, identifiers.

Applied by resolve to the texts of a resolved dossier, so only what is rendered
changes: the YAML, the XLIFF export and diffs keep what the authors typed.
Never touched: code spans and blocks, link targets, autolinks, bare URLs and
e-mail addresses, footnote labels, backslash escapes, identifiers
('COM(2025) 726 final', '2025/0419(COD)', '32023R0956', 'Law 234/2012'),
phone numbers.  Line breaks are never added or removed (a Markdown line still
maps to its source line), and a second pass changes nothing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

NBSP = "\u00a0"
Edit = Callable[[int, str], None]
GROUP_FROM = 4  # digits: '5 800' is grouped, as '22 000' is; years and other serial numbers never

# --- quotation marks --------------------------------------------------------------------

# Opening and closing marks by nesting level (level 1 first); deeper levels repeat the cycle.
_QUOTES = {
    "it": (("«", "»"), ("“", "”"), ("‘", "’")),
    "en": (("‘", "’"), ("“", "”")),
}
_OPENERS = "«“‘"
_CLOSERS = "»”"  # ’ is also the apostrophe: it closes only a ‘ it can match
_OPEN_BEFORE = "([{/–—-" + _OPENERS  # after these (or a space, or the start) a quote opens
_EMPHASIS = "*_~"
_QUOTE_OR_PARAGRAPH = re.compile("['\"«“‘»”’]|\n[ \t]*\n")
_DECADE = re.compile(r"\d\d(?!\d)")  # '90s

# --- what is never touched ----------------------------------------------------------------

# Each pattern with the strings one of which a text must hold for it to match at all (none: always run):
# most texts hold no URL, e-mail address or code, and the check is a fraction of a scan.
_ALWAYS: list[tuple[tuple[str, ...], re.Pattern[str]]] = [
    (("://", "www."), re.compile(r"(?i:https?://|www\.)[^\s<>\"]*[^\s<>\"'.,;:!?)\]»”’]")),  # bare URLs
    (("@",), re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),  # e-mail addresses
    (("(",), re.compile(r"\b(?:COM|JOIN|SWD|SEC|C|PE)\(\d{4}\)[ \u00a0]?\d+(?:[ \u00a0]final)?")),  # COM(2025) 726
    (("/",), re.compile(r"\b\d+(?:/\d+)+(?:[ \u00a0]?\([A-Z]{3}\))?")),  # 2023/956, 2025/0419(COD), 234/2012
    ((), re.compile(r"\b(?:[A-Za-z_]+\d|\d+[A-Za-z_])\w*")),  # letters and digits mixed: 32023R0956, ITC4
    (("+",), re.compile(r"\+\d{1,3}(?:[ \u00a0.\-]?\(?\d+\)?)+")),  # phone numbers: +32 2 000 00 00
    ((), re.compile(r"\b\d+(?:[.:]\d+){2,}")),  # 1.0.0, 19.3.2025
]
_MARKDOWN: list[tuple[tuple[str, ...], re.Pattern[str]]] = [
    (("`",), re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)),  # code spans
    (("](",), re.compile(
        r"\]\(\s*<?[^()\s>]*(?:\([^()\s]*\)[^()\s>]*)*>?(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")),  # targets
    (("<",), re.compile(r"<[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*>|<[^\s<>@]+@[^\s<>]+>|<!--.*?-->", re.S)),
    (("[^",), re.compile(r"\[\^[^\]\s]+\]")),  # footnote references
    (("\\",), re.compile(r"\\[!-/:-@\[-`{-~]")),  # backslash escapes
]
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_BLOCK_HINT = re.compile(r"```|~~~|(?:^|\n)(?: {4}|\t)")
_TRIGGER = re.compile("[0-9'\"«“‘»”’]")
_DIGIT = re.compile("[0-9]")
_QUOTE_CHAR = re.compile("['\"«“‘»”’]")

# --- numbers -------------------------------------------------------------------------------

_UNITS = ("%|‰|EUR|€|USD|GBP|CHF|t|kt|Mt|Gt|kg|km|km²|m|m²|m³|ha|kW|MW|GW|TW|kWh|MWh|GWh|TWh|°C|tCO2|tCO₂|"
          "bn|mln|mld|million|millions|billion|billions|thousand|milione|milioni|miliardo|miliardi|mila|"
          "tonne|tonnes|tonnellata|tonnellate|per cent|per cento|punti percentuali|percentage points")
_UNIT_AFTER = re.compile(rf"(?:{_UNITS})(?![\w²³₂])")
_CURRENCY_BEFORE = re.compile(r"(?:EUR|€|USD|GBP|CHF)[ \u00a0]?\Z")
# Words after which a number is a serial number (an article, a page, a law), not a quantity.
_SERIAL_CUE = re.compile(
    r"(?:\b(?:Articles?|Art|art|artt|[Aa]rticol[oi]|[Pp]ages?|pp?|pag|[Pp]agin[ae]|No|no|n|nr|Nr|[Nn]umbers?|"
    r"[Nn]umero|OJ\s[LC]|GU\s[LC]|[Ll]aws?|[Ll]egge|ISBN|ISSN|CELEX|CAP|ref|rif|[Vv]ersion[e]?|[Pp]aragraph|"
    r"[Pp]aragrafo|[Rr]ecital|[Cc]onsiderando|[Aa]nnex|[Aa]llegato|[Tt]able|[Tt]abella|[Ff]igur[ea])\.?|[nN][°º]|§)"
    r"[ \u00a0]*\Z")
_GROUPED = re.compile(r"(?=\d)(?<![\w.,/\\])\d{1,3}(?:[ \u00a0]\d{3})+(?![\w/])")
_DIGITS = re.compile(r"(?=\d{4})(?<![\w.,/\\#§@+\-])\d{4,}(?![\w/@(]|-\d)")
_LIST_MARKER_AFTER = re.compile(r"[.)](?:[ \t]|$)")
_GAP = r"( |\n[ \t]*)"  # a space, or a line break and the next line's indentation (a soft break)
_NUMBER_UNIT = re.compile(rf"(?<=\d){_GAP}(?={_UNIT_AFTER.pattern})")
_PERCENT_GLUED = re.compile(r"(?<=\d)%")
_CURRENCY_NUMBER = re.compile(rf"(?<![\w])(?:EUR|€|USD|GBP|CHF){_GAP}(?=\d)")
_REFERENCE = re.compile(
    r"\b(?=[AaPpLlTtFfCcRrNn])(?:Articles?|Art\.|art\.|artt\.|[Aa]rticol[oi]|[Pp]aragraphs?|[Pp]aragraf[oi]|"
    r"[Pp]oints?|[Pp]unt[oi]|"
    r"[Ll]ettera|[Aa]nnex|[Aa]llegat[oi]|[Tt]able|[Tt]abella|[Ff]igur[ea]|[Cc]hapter|[Cc]apo|[Rr]ecitals?|"
    r"[Cc]onsiderando|[Pp]ages?|[Pp]agin[ae]|pp?\.|pag\.|nn?\.|No\.)" + _GAP + r"(?=\d|[IVX]+\b|\(\w{1,4}\))")
_POINT_LETTER = re.compile(r"\b(?=[PpLl])(?:[Pp]oint|[Pp]unto|[Ll]ettera|[Ll]etter)" + _GAP + r"(?=[a-z]\b)")


@functools.cache
def _months() -> re.Pattern[str]:
    """Month names of every language (Babel's, from the one locale table), for dates and years."""
    from babel.dates import get_month_names

    from voceunica.locales import LOCALES, babel_locale

    names = {n for lang in LOCALES for n in get_month_names("wide", locale=babel_locale(lang)).values()}
    return re.compile("(?i:" + "|".join(sorted(names, key=len, reverse=True)) + r")\b")


@functools.cache
def _month_before() -> re.Pattern[str]:
    return re.compile(_months().pattern + r"[ \u00a0]*\Z")


@functools.cache
def _day_month() -> re.Pattern[str]:
    return re.compile(r"(?=\d)(?<![\w.,/])(?:\d{1,2}|1º|1°)" + _GAP + "(?=" + _months().pattern + ")")


def group(digits: str) -> str:
    """'5800' → '5 800', '1234567' → '1 234 567' (no-break spaces); fewer than four digits stay.

    The one grouping rule: fmt.number groups table figures with it, and running
    text is grouped the same way (`markdown`, `plain`)."""
    n = len(digits)
    if n < GROUP_FROM:
        return digits
    if n <= 6:  # the common cases spelt out: tables call this for every figure
        return digits[:-3] + NBSP + digits[-3:]
    if n <= 9:
        return digits[:-6] + NBSP + digits[-6:-3] + NBSP + digits[-3:]
    head = n % 3 or 3
    return NBSP.join([digits[:head], *(digits[i:i + 3] for i in range(head, n, 3))])


def markdown(text: str, lang: str) -> str:
    """A Markdown text set in `lang`'s typography; its syntax is left as it is."""
    return _typeset(text, lang, markdown=True)


def plain(text: str, lang: str) -> str:
    """A plain text (a title, a heading, a label) set in `lang`'s typography."""
    return _typeset(text, lang, markdown=False)


@functools.lru_cache(maxsize=1 << 14)  # labels, and positions cited by several dossiers, come back each render
def _typeset(text: str, lang: str, *, markdown: bool) -> str:
    if not text or _TRIGGER.search(text) is None:
        return text
    edits: dict[int, str] = {}  # index → what replaces that one character

    def edit(at: int, new: str) -> None:
        edits.setdefault(at, new)

    joins: list[tuple[int, int, int]] = []
    if _DIGIT.search(text) is not None:
        _numbers(text, edit, joins)
    quoted = _QUOTE_CHAR.search(text) is not None
    if not edits and not joins and not quoted:
        return text
    protected = _protected(text, markdown)  # only now: most texts have nothing to change
    edits = {at: new for at, new in edits.items() if not protected[at]}
    for space, brk, end in joins:  # all of a join, or none of it
        touched = [space, *range(brk, end)]
        if not any(protected[at] or at in edits for at in touched):
            edits[space] = "\n" + text[brk + 1:end]
            edits[brk] = NBSP
            edits.update(dict.fromkeys(range(brk + 1, end), ""))
    if quoted:
        _quotes(text, lang, protected, edit)
    if not edits:
        return text
    out: list[str] = []
    last = 0
    for at in sorted(edits):
        out += (text[last:at], edits[at])
        last = at + 1
    out.append(text[last:])
    return "".join(out)


def _protected(text: str, markdown: bool) -> bytearray:
    """1 for every character no rule may change."""
    mask = bytearray(len(text))
    for gate, pattern in (_MARKDOWN + _ALWAYS if markdown else _ALWAYS):
        if not gate or any(g in text for g in gate):
            for m in pattern.finditer(text):
                mask[m.start():m.end()] = b"\x01" * (m.end() - m.start())
    if markdown and _CODE_BLOCK_HINT.search(text) is not None:
        _protect_code_blocks(text, mask)
    return mask


def _protect_code_blocks(text: str, mask: bytearray) -> None:
    """Fenced code, and indented code after a blank line (a list's indented paragraph
    is protected too: left as typed, which is the safe side)."""
    pos = 0
    fence = ""
    blank_before = True
    in_indented = False
    for line in text.split("\n"):
        end = pos + len(line)
        m = _FENCE.match(line)
        if fence:
            mask[pos:end] = b"\x01" * (end - pos)
            if m is not None and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not line[m.end():].strip():
                fence = ""
        elif m is not None:
            fence = m.group(1)
            mask[pos:end] = b"\x01" * (end - pos)
        elif line.strip() and (line.startswith(("    ", "\t")) and (blank_before or in_indented)):
            in_indented = True
            mask[pos:end] = b"\x01" * (end - pos)
        elif line.strip():
            in_indented = False
        blank_before = not line.strip()
        pos = end + 1


def _quotes(text: str, lang: str, protected: bytearray, edit: Edit) -> None:
    marks = _QUOTES[lang]
    stack: list[str] = []  # what opened each level: '"', "'" or a typographic opener

    def level(depth: int) -> tuple[str, str]:
        return marks[depth % len(marks)]

    for m in _QUOTE_OR_PARAGRAPH.finditer(text):
        i, c = m.start(), m.group()
        if c[0] == "\n":
            stack.clear()  # a quotation does not run on past its paragraph
            continue
        if protected[i]:
            continue
        j = i - 1
        while j >= 0 and text[j] in _EMPHASIS:
            j -= 1
        before = text[j] if j >= 0 else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        opens = before == "" or before.isspace() or before in _OPEN_BEFORE
        if c in _OPENERS:
            stack.append(c)
        elif c in _CLOSERS:
            if stack:
                stack.pop()
        elif c == "’":
            if stack and stack[-1] == "‘" and not after.isalnum():
                stack.pop()
        elif c == '"':
            if opens and after and not after.isspace():
                edit(i, level(len(stack))[0])
                stack.append(c)
            elif not opens:
                edit(i, level(len(stack) - 1)[1] if stack else level(0)[1])
                if stack:
                    stack.pop()
        elif before.isalnum() and after.isalnum():
            edit(i, "’")  # l'Unione, Italy's, don't
        elif not opens:
            if stack and stack[-1] == "'" and not after.isalnum():
                edit(i, level(len(stack) - 1)[1])
                stack.pop()
            else:
                edit(i, "’")  # the Regions' figures, po'
        elif after and not after.isspace():
            if _DECADE.match(text, i + 1):
                edit(i, "’")  # the '90s
            else:
                edit(i, level(len(stack))[0])
                stack.append(c)


def _numbers(text: str, edit: Edit, joins: list[tuple[int, int, int]]) -> None:
    """No-break spaces and grouping; `joins` gets the soft line breaks to join as
    (space to break at instead, line break, end of the next line's indentation)."""
    months = _months()

    def keep_together(gap: re.Match[str]) -> None:
        if gap.group(1) == " ":
            edit(gap.start(1), NBSP)
        else:
            _join(text, gap.start(1), gap.end(1), joins)

    for m in _GROUPED.finditer(text):
        for k in range(m.start(), m.end()):
            if text[k] == " ":
                edit(k, NBSP)
    for m in _DIGITS.finditer(text):
        if _is_quantity(text, m.start(), m.end(), months):
            digits = m.group()
            head = len(digits) % 3 or 3
            for k in range(head, len(digits), 3):
                edit(m.start() + k, NBSP + digits[k])
    for m in _NUMBER_UNIT.finditer(text):
        keep_together(m)
    if "%" in text:
        for m in _PERCENT_GLUED.finditer(text):
            edit(m.start(), NBSP + "%")
    for gate, pattern in ((("EUR", "€", "USD", "GBP", "CHF"), _CURRENCY_NUMBER), ((), _REFERENCE),
                          (("oint", "unto", "etter"), _POINT_LETTER)):
        if not gate or any(g in text for g in gate):
            for m in pattern.finditer(text):
                keep_together(m)
    for m in _day_month().finditer(text):
        keep_together(m)


_LINE_HEAD = re.compile(r"[ \t]*(?:>[ \t]*)*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?")


def _join(text: str, brk: int, end: int, joins: list[tuple[int, int, int]]) -> None:
    """A number and its unit (a day and its month…) on two source lines: the line
    breaks at the space before the number instead, so the pair can be joined
    and no line is added or lost.  Left alone when the number starts its line
    (after a list or quote marker at most) or the space before it is doubled."""
    start = text.rfind("\n", 0, brk) + 1
    left = brk
    while left > start and not text[left - 1].isspace():
        left -= 1
    space = left - 1
    if space < start or text[space] != " " or text[space - 1] in " \t":
        return
    head = text[start:space + 1]
    if not head[_LINE_HEAD.match(head).end():].strip():  # type: ignore[union-attr]  # matches always
        return  # only a list or quote marker before it: the marker's line would be left empty
    joins.append((space, brk, end))


def _is_quantity(text: str, start: int, end: int, months: re.Pattern[str]) -> bool:
    """Whether a run of four or more digits in running text is an amount (grouped) rather
    than a serial number (a year, a page or article number, a code: left as written).
    In doubt, a number stays as written."""
    digits = text[start:end]
    if digits[0] == "0":
        return False  # codes, phone numbers
    line_start = text.rfind("\n", 0, start) + 1
    lead = text[line_start:start]
    if not lead.strip(" \t>") and _LIST_MARKER_AFTER.match(text, end):
        return False  # '1000. ' at the start of a line is a list item's number
    before = text[max(0, start - 24):start]
    if _SERIAL_CUE.search(before):
        return False
    after = text[end:end + 24]
    unit = re.match(r"(?:[.,]\d+)?[ \u00a0]?" + _UNIT_AFTER.pattern, after) is not None
    currency = _CURRENCY_BEFORE.search(before) is not None
    if len(digits) == 4:
        if _month_before().search(before):
            return False  # March 1848
        if 1900 <= int(digits) <= 2100 and not (unit or currency):
            return False  # a year: 'nel 2024', '2026–2027'
    postcode = len(digits) == 5 and re.match(r"[ \u00a0][A-ZÀ-Ý]", after) is not None \
        and re.search(r"(?:,[ \u00a0]|^)\Z", before) is not None  # ', 20124 Milano'
    return not postcode
