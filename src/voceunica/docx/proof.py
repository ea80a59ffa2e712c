"""Proof that a Word file says everything its Markdown says, read back from the file.

The way mdformat re-parses what it wrote before keeping it: after a package
is made, its text is read back from the zip — body, tables, footnotes, alt
text — and compared, word for word, with the words of the Markdown it came
from.  Any word missing from the document, or any word the document has
that the Markdown did not, refuses the build with the Markdown line it is on.

The Markdown side is read *without* the Markdown parser the writer uses, so
that what the parser drops (nesting past its limit, a comment that swallows
the rest) is caught too: the source loses only what is syntax by any reading
(link targets, footnote labels, list numbers, comments and directives), then
both sides are reduced to their letters and digits, split at white space and
counted.  Order is not compared: the parallel text sets the two languages
side by side, and the same words in another order are not a loss.
"""

from __future__ import annotations

import html
import io
import re
import string
import zipfile
from collections import Counter
from dataclasses import dataclass

from lxml import etree

from voceunica.docx import DocxError

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DOCPR = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"

# Paragraph styles that hold what the writer adds from the dossier's metadata,
# not from the Markdown: the cover, the contents (a field Word fills in) and the language row of the
# parallel text.
NOT_FROM_MARKDOWN = frozenset({"Cover Logos", "Cover Doctype", "Title", "Subtitle", "Cover Label", "Cover Text",
                               "TOC Heading", "TOC 1", "TOC 2", "TOC 3", "Parallel Language"})

_SKIPPED = {name.lower() for name in NOT_FROM_MARKDOWN}
# ASCII punctuation is where Markdown's syntax lives ('**', '[', '|', '#'); deleting it on
# both sides lets 'CBAM[^n].' meet 'CBAM.' and '**Reg**ione' meet 'Regione'.  Other
# characters ('«', '–', '€') read the same on both sides and may stay.
_NOT_WORD = str.maketrans("", "", string.punctuation)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BR_TAG = re.compile(r"<br\s*/?>", re.I)
# A link's or image's target: ](url "title"), with one level of parentheses in the url.
_TARGET = re.compile(r"\]\(\s*<?[^()\s>]*(?:\([^()\s]*\)[^()\s>]*)*>?(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
_NOTE_LABEL = re.compile(r"(?<!\\)\[\^[^\]\s]+\]:?")
# An ordered list's number is Word's automatic numbering, not text; a line that
# merely starts with a year ("2026. The...") keeps it.  Either reading is accepted.
_LIST_NUMBER = re.compile(r"^((?:[ \t]*>)*[ \t]*)(\d{1,9})[.)](?=[ \t]|$)", re.M)


@dataclass
class Words:
    required: Counter[str]
    optional: Counter[str]  # list numbers: text or Word numbering
    text: str  # the Markdown with its syntax blanked out, line for line


def _norm(text: str) -> list[str]:
    return text.translate(_NOT_WORD).split()


def markdown_words(markdown: str) -> Words:
    optional: Counter[str] = Counter()

    def number(m: re.Match[str]) -> str:
        optional[m.group(2)] += 1
        return m.group(1) + " "

    # Blank out what is syntax, keeping line breaks so every word keeps its line.
    text = _COMMENT.sub(lambda m: "\n" * m.group().count("\n"), markdown)
    text = _BR_TAG.sub(" ", text)
    text = _TARGET.sub("] ", text)
    text = _NOTE_LABEL.sub(" ", text)
    text = _LIST_NUMBER.sub(number, text)
    text = text.replace("\\|", "").replace("|", " ")  # an escaped pipe is text: deleted as punctuation anyway
    if "&" in text:
        text = html.unescape(text)
    return Words(Counter(_norm(text)), optional, text)


def line_of(words: Words, word: str) -> int | None:
    """The first Markdown line holding `word` (looked up only when a proof fails)."""
    for i, line in enumerate(words.text.split("\n"), start=1):
        if word in _norm(line):
            return i
    return None


def docx_words(docx: bytes) -> Counter[str]:
    """The words a reader of the Word file sees, as the file holds them."""
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        names = set(z.namelist())
        skip = _style_ids(z.read("word/styles.xml")) if "word/styles.xml" in names else set()
        parts = [z.read("word/document.xml")]
        if "word/footnotes.xml" in names:
            parts.append(z.read("word/footnotes.xml"))
    words: Counter[str] = Counter()
    for xml in parts:
        words.update(_norm(_part_text(xml, skip)))
    return words


def _style_ids(styles_xml: bytes) -> set[str]:
    root = etree.fromstring(styles_xml)
    out = set()
    for st in root.iterchildren(f"{_W}style"):
        name = st.find(f"{_W}name")
        if name is not None and (name.get(f"{_W}val") or "").lower() in _SKIPPED:  # Word: "toc 1" is "TOC 1"
            out.add(st.get(f"{_W}styleId", ""))
    return out


_P, _T, _PSTYLE, _INSTR = f"{_W}p", f"{_W}t", f"{_W}pStyle", f"{_W}instrText"
_FLDCHAR, _W_BR, _TAB, _CR = f"{_W}fldChar", f"{_W}br", f"{_W}tab", f"{_W}cr"
_VAL, _FLDTYPE = f"{_W}val", f"{_W}fldCharType"


def _part_text(xml: bytes, skip_styles: set[str]) -> str:
    # A document with a 10 000-row annex has some 300 000 elements: libxml2 does
    # the bulk (parse, one walk, text serialisation); Python sees only the few
    # kinds of element that need a decision, never a run or a text node.  A line
    # break after each paragraph keeps the words of two paragraphs apart.
    root = etree.fromstring(xml.replace(b"</w:p>", b"</w:p>\n"), etree.XMLParser(huge_tree=True))
    skipped: list[etree._Element] = []
    fields: dict[int, etree._Element] = {}
    alt: list[etree._Element] = []
    for el in root.iter(_INSTR, _PSTYLE, _FLDCHAR, _W_BR, _TAB, _CR, _DOCPR):
        tag = el.tag
        if tag == _PSTYLE:
            if el.get(_VAL) in skip_styles:
                skipped.append(el.getparent().getparent())
        elif tag == _INSTR:
            el.text = ""  # a field's code is not text
        elif tag == _FLDCHAR:
            paragraph = el.getparent().getparent()
            fields[id(paragraph)] = paragraph
        elif tag == _DOCPR:
            alt.append(el)
        else:
            el.tail = " " + (el.tail or "")
    for paragraph in skipped:
        for t in paragraph.iter(_T):
            t.text = ""
    for paragraph in fields.values():
        in_result = 0  # a field's result (page and note numbers) is made by Word, not written
        for el in paragraph.iter(_FLDCHAR, _T):
            if el.tag == _T:
                if in_result:
                    el.text = ""
            elif el.get(_FLDTYPE) == "separate":
                in_result += 1
            elif el.get(_FLDTYPE) == "end" and in_result:
                in_result -= 1
    shown = [el.get("descr") or "" for el in alt if not any(p in skipped for p in el.iterancestors(_P))]
    return etree.tostring(root, method="text", encoding="unicode") + " " + " ".join(shown)


def prove(docx: bytes, markdowns: list[str]) -> None:
    """Raise `DocxError` unless the document's words are exactly the Markdown's.
    The error's `places` are (Markdown index, line, word) of the lost text: the
    lines of words lost entirely (every occurrence gone), up to five lines."""
    sources = [markdown_words(md) for md in markdowns]
    required: Counter[str] = Counter()
    optional: Counter[str] = Counter()
    for s in sources:
        required.update(s.required)
        optional.update(s.optional)
    found = docx_words(docx)
    missing = required - found
    extra = found - required - optional
    if not missing and not extra:
        return
    if missing:
        # A word with every occurrence gone shows where the loss is; one that is
        # merely rarer than it should be could be at any of its lines.
        whole = [w for w in missing if missing[w] == required[w]] or list(missing)
        places = sorted({(i, line_of(s, w) or 0, w) for i, s in enumerate(sources) for w in whole
                         if w in s.required}, key=lambda p: (p[1] or 1 << 30, p[0]))
        lines_seen: set[tuple[int, int]] = set()
        kept = []
        for index, line, w in places:
            if (index, line) not in lines_seen and len(kept) < 5:
                lines_seen.add((index, line))
                kept.append((index, line, w))
        index, line, word = kept[0]
        err = DocxError(f"the Word file lost text: '{word}' is in the Markdown but not in the document "
                        f"({sum(missing.values())} word(s) missing); nothing was written", line or None,
                        index=index, word=word)
        err.places = kept
        raise err
    word = sorted(extra)[0]
    raise DocxError(f"the Word file has text the Markdown does not: '{word}' "
                    f"({sum(extra.values())} word(s) more); nothing was written", word=word)
