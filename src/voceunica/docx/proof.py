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

import functools
import html
import re
import string
from collections import Counter
from dataclasses import dataclass

from lxml import etree

from voceunica.docx.model import DocxError
from voceunica.docx.ooxml import W_NS
from voceunica.docx.package import read_parts

_W = f"{{{W_NS}}}"

# Paragraph styles that hold what the writer adds from the dossier's metadata,
# not from the Markdown: the cover, the contents (a field Word fills in) and the language row of the
# parallel text.
NOT_FROM_MARKDOWN = frozenset({"Cover Logos", "Cover Doctype", "Title", "Subtitle", "Cover Label", "Cover Text",
                               "TOC Heading", "TOC 1", "TOC 2", "TOC 3", "Parallel Language"})

_SKIPPED = {name.lower() for name in NOT_FROM_MARKDOWN}
# ASCII punctuation is where Markdown's syntax lives ('**', '[', '|', '#'); deleting it on
# both sides lets 'CBAM[^n].' meet 'CBAM.' and '**Reg**ione' meet 'Regione'.  Other
# characters ('«', '–', '€') read the same on both sides and may stay.
# Done on UTF-8 bytes: an ASCII byte is never part of another character's encoding, and
# bytes.translate deletes with a table lookup per byte (str.translate looks up a dict per
# character).
_PUNCTUATION = string.punctuation.encode("ascii")
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
    required: Counter[bytes]
    optional: Counter[bytes]  # list numbers: text or Word numbering
    text: str  # the Markdown with its syntax blanked out, line for line


def _norm(text: str | bytes) -> list[bytes]:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    # A no-break space separates words too (the writer puts one after a note's mark).
    return raw.translate(None, _PUNCTUATION).replace(b"\xc2\xa0", b" ").split()


def markdown_words(markdown: str) -> Words:
    optional: Counter[bytes] = Counter()

    def number(m: re.Match[str]) -> str:
        optional[m.group(2).encode("ascii")] += 1
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


def line_of(words: Words, word: bytes) -> int | None:
    """The first Markdown line holding `word` (looked up only when a proof fails)."""
    for i, line in enumerate(words.text.split("\n"), start=1):
        if word in _norm(line):
            return i
    return None


def docx_words(docx: bytes) -> Counter[bytes]:
    """The words a reader of the Word file sees, as the file holds them."""
    found = read_parts(docx, ("word/styles.xml", "word/document.xml", "word/footnotes.xml"))
    skip = _style_ids(found["word/styles.xml"]) if "word/styles.xml" in found else frozenset()
    parts = [found["word/document.xml"]]
    if "word/footnotes.xml" in found:
        parts.append(found["word/footnotes.xml"])
    words: Counter[bytes] = Counter()
    for xml in parts:
        words.update(_norm(_part_text(xml, skip)))
    return words


@functools.lru_cache(maxsize=8)  # every document of a build shares one reference's styles
def _style_ids(styles_xml: bytes) -> frozenset[str]:
    root = etree.fromstring(styles_xml)
    out = set()
    for st in root.iterchildren(f"{_W}style"):
        name = st.find(f"{_W}name")
        if name is not None and (name.get(f"{_W}val") or "").lower() in _SKIPPED:  # Word: "toc 1" is "TOC 1"
            out.add(st.get(f"{_W}styleId", ""))
    return frozenset(out)


# The parts are read with regular expressions over their bytes, not a tree: a
# document with a 10 000-row annex has some 300 000 elements, and building them
# cost more than a third of writing the file.  That is sound here because every
# part has just passed expat's well-formedness check (package.well_formed) and
# the body is written by one serialiser (ooxml.py) whose spelling these follow.
_INSTR = re.compile(rb"<w:instrText\b[^>]*>[^<]*</w:instrText>")
# A field's result (contents entries, page and note numbers) is made by Word, not written.
_FIELD_RESULT = re.compile(rb'<w:fldChar w:fldCharType="separate"/>.*?<w:fldChar w:fldCharType="end"/>', re.S)
_TEXT = re.compile(rb'<(?:w:t(?:\s[^>]*)?>([^<]*)</w:t>|(/w:p>)|w:(?:br|tab|cr)\b|wp:docPr\b[^>]*?\bdescr="([^"]*)")')


@functools.lru_cache(maxsize=8)
def _skipped_paragraphs(style_ids: frozenset[str]) -> re.Pattern[bytes] | None:
    if not style_ids:
        return None
    names = b"|".join(re.escape(s.encode()) for s in sorted(style_ids))
    return re.compile(rb"<w:p\b[^>]*><w:pPr><w:pStyle w:val=\"(?:" + names + rb")\"/>.*?</w:p>", re.S)


def _part_text(xml: bytes, skip_styles: frozenset[str]) -> bytes:
    xml = _INSTR.sub(b"", xml)
    xml = _FIELD_RESULT.sub(b"", xml)
    skipped = _skipped_paragraphs(skip_styles)
    if skipped is not None:
        xml = skipped.sub(b"", xml)
    text = b"".join([t or (b"\n" if p else b" " + d + b" ") for t, p, d in _TEXT.findall(xml)])
    if b"&" in text:  # the escaper writes &amp; &lt; &gt; &quot;: read them as the characters they are
        text = html.unescape(text.decode("utf-8")).encode("utf-8")
    return text


def prove(docx: bytes, markdowns: list[str]) -> None:
    """Raise `DocxError` unless the document's words are exactly the Markdown's.
    The error's `places` are (Markdown index, line, word) of the lost text: the
    lines of words lost entirely (every occurrence gone), up to five lines."""
    sources = [markdown_words(md) for md in markdowns]
    required: Counter[bytes] = Counter()
    optional: Counter[bytes] = Counter()
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
        kept: list[tuple[int, int, str]] = []
        for index, line, w in places:
            if (index, line) not in lines_seen and len(kept) < 5:
                lines_seen.add((index, line))
                kept.append((index, line, w.decode("utf-8", "replace")))
        index, line, word = kept[0]
        err = DocxError(f"the Word file lost text: '{word}' is in the Markdown but not in the document "
                        f"({sum(missing.values())} word(s) missing); nothing was written", line or None,
                        index=index, word=word)
        err.places = kept
        raise err
    word = sorted(extra)[0].decode("utf-8", "replace")
    raise DocxError(f"the Word file has text the Markdown does not: '{word}' "
                    f"({sum(extra.values())} word(s) more); nothing was written", word=word)
