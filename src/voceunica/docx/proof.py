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
import zipfile
from collections import Counter
from dataclasses import dataclass

from lxml import etree

from voceunica.docx import DocxError

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DOCPR = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"

# Paragraph styles that hold what the writer adds from the dossier's metadata,
# not from the Markdown: the cover, the contents heading and the language row of the
# parallel text.
# The contents are a field result (skipped as every field result is).
NOT_FROM_MARKDOWN = frozenset({"Cover Logos", "Cover Doctype", "Title", "Subtitle", "Cover Label", "Cover Text",
                               "TOC Heading", "Parallel Language"})

_NOT_WORD = re.compile(r"[^\w\s]|_")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BR = re.compile(r"<br\s*/?>", re.I)
# A link's or image's target: ](url "title"), with one level of parentheses in the url.
_TARGET = re.compile(r"\]\(\s*<?[^()\s>]*(?:\([^()\s]*\)[^()\s>]*)*>?(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
_NOTE_LABEL = re.compile(r"(?<!\\)\[\^[^\]\s]+\]:?")
# An ordered list's number is Word's automatic numbering, not text; a line that
# merely starts with a year ("2026. The...") keeps it.  Either reading is accepted.
_LIST_NUMBER = re.compile(r"^((?:[ \t]*>)*[ \t]*)(\d{1,9})[.)](?=[ \t]|$)", re.M)
_PIPE = re.compile(r"(?<!\\)\|")


@dataclass
class Words:
    required: Counter[str]
    optional: Counter[str]  # list numbers: text or Word numbering
    lines: dict[str, int]  # first Markdown line (1-based) of each word


def _norm(text: str) -> list[str]:
    return _NOT_WORD.sub("", text).split()


def markdown_words(markdown: str) -> Words:
    optional: Counter[str] = Counter()

    def number(m: re.Match[str]) -> str:
        optional[m.group(2)] += 1
        return m.group(1) + " "

    # Blank out what is syntax, keeping line breaks so every word keeps its line.
    text = _COMMENT.sub(lambda m: "\n" * m.group().count("\n"), markdown)
    text = _BR.sub(" ", text)
    text = _TARGET.sub("] ", text)
    text = _NOTE_LABEL.sub(" ", text)
    text = _LIST_NUMBER.sub(number, text)
    text = _PIPE.sub(" ", text)
    required: Counter[str] = Counter()
    lines: dict[str, int] = {}
    for i, line in enumerate(text.split("\n"), start=1):
        if "&" in line:
            line = html.unescape(line)
        for word in _norm(line):
            required[word] += 1
            lines.setdefault(word, i)
    return Words(required, optional, lines)


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
        if name is not None and name.get(f"{_W}val") in NOT_FROM_MARKDOWN:
            out.add(st.get(f"{_W}styleId", ""))
    return out


def _part_text(xml: bytes, skip_styles: set[str]) -> str:
    root = etree.fromstring(xml, etree.XMLParser(huge_tree=True))
    out: list[str] = []
    skipped = False  # inside a paragraph the Markdown did not make
    in_result = 0  # inside a field's result (contents, page and note numbers): made by Word, not written
    for el in root.iter(f"{_W}p", f"{_W}pStyle", f"{_W}t", f"{_W}fldChar", f"{_W}tab", f"{_W}br", _DOCPR):
        tag = el.tag
        if tag == f"{_W}t":
            if not skipped and not in_result:
                out.append(el.text or "")
        elif tag == f"{_W}p":
            skipped = False
            out.append("\n")
        elif tag == f"{_W}pStyle":
            skipped = el.get(f"{_W}val") in skip_styles
        elif tag == f"{_W}fldChar":
            kind = el.get(f"{_W}fldCharType")
            if kind == "separate":
                in_result += 1
            elif kind == "end" and in_result:
                in_result -= 1
        elif tag == _DOCPR:
            if not skipped:
                out.append(" " + (el.get("descr") or "") + " ")
        else:
            out.append(" ")
    return "".join(out)


def prove(docx: bytes, markdowns: list[str]) -> None:
    """Raise `DocxError` (with the Markdown line, and `index` of the Markdown
    text it is in) unless the document's words are exactly the Markdown's."""
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
        word = min(missing, key=lambda w: min(s.lines.get(w, 1 << 30) for s in sources))
        index = next(i for i, s in enumerate(sources) if word in s.lines)
        err = DocxError(f"the Word file lost text: '{word}' is in the Markdown but not in the document "
                        f"({sum(missing.values())} word(s) missing); nothing was written", sources[index].lines[word])
    else:
        word = sorted(extra)[0]
        err = DocxError(f"the Word file has text the Markdown does not: '{word}' "
                        f"({sum(extra.values())} word(s) more); nothing was written")
    err.index = next((i for i, s in enumerate(sources) if word in s.lines), 0)
    err.word = word
    raise err
