"""Inline writers: Markdown inline node type -> function writing its runs.

Each function takes the writer, the node, the state of the text and the
formatting the node sits in (`Format`: bold, italic, struck, a character
style, the part its links belong to) and returns runs built through `ooxml`.
A node type missing from `INLINE` is refused with its line.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from collections.abc import Callable

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.part import Part

from voceunica.docx import ooxml
from voceunica.docx.model import DocxError
from voceunica.docx.syntax import BR, COMMENT, line_of, plain_text
from voceunica.docx.tree import Node as SyntaxTreeNode

if TYPE_CHECKING:
    from voceunica.docx.writer import State, Writer


@dataclass(frozen=True)
class Format:
    """What the runs of an inline node inherit from the nodes around it."""

    part: Part | None = None  # where a link's relationship goes (the footnotes part, in a note)
    style: str | None = None  # a character style id for every run (Hyperlink)
    strong: bool = False
    em: bool = False
    strike: bool = False
    # In an amendment table strong text is new, changed or deleted wording, which the
    # European Parliament prints in bold italic: **...** there is Strong Emphasis.
    amendment: bool = False


def _char_style(w: Writer, fmt: Format) -> str | None:
    strong, em = fmt.strong, fmt.em
    if strong and (em or fmt.amendment):
        return w.sid("Strong Emphasis")
    if strong:
        return w.sid("Strong")
    if em:
        return w.sid("Emphasis")
    return None


def _text(w: Writer, node: SyntaxTreeNode, st: State, fmt: Format) -> str:
    return ooxml.run(node.content, fmt.style or _char_style(w, fmt), st.lang.tag, strike=fmt.strike)


def _softbreak(w: Writer, node: SyntaxTreeNode, st: State, fmt: Format) -> str:
    return ooxml.run(" ", fmt.style or _char_style(w, fmt), st.lang.tag, strike=fmt.strike)


def _hardbreak(w: Writer, node: SyntaxTreeNode, st: State, fmt: Format) -> str:
    return ooxml.run_xml("<w:br/>", None, st.lang.tag)


def _strong(w: Writer, node: SyntaxTreeNode, st: State, fmt: Format) -> str:
    return w.inlines(node, st, replace(fmt, strong=True))


def _em(w: Writer, node: SyntaxTreeNode, st: State, fmt: Format) -> str:
    return w.inlines(node, st, replace(fmt, em=True))


def _strike(w: Writer, node: SyntaxTreeNode, st: State, fmt: Format) -> str:
    """~~struck~~: Word's own strikethrough, as pandoc writes it."""
    return w.inlines(node, st, replace(fmt, strike=True))


def _code(w: Writer, node: SyntaxTreeNode, st: State, fmt: Format) -> str:
    return ooxml.run(node.content, w.sid("Verbatim Char"), st.lang.tag)


def _link(w: Writer, node: SyntaxTreeNode, st: State, fmt: Format) -> str:
    """Link text in the Hyperlink style (and no other formatting); `#name` is a bookmark in the document."""
    href = str(node.attrs.get("href", ""))
    inner = w.inlines(node, st, Format(part=fmt.part, style=w.sid("Hyperlink")))
    if href.startswith("#"):
        return ooxml.hyperlink(inner, anchor=href[1:])
    rid = (fmt.part or w.part).relate_to(href, RT.HYPERLINK, is_external=True)
    return ooxml.hyperlink(inner, rid=rid)


def _html(w: Writer, node: SyntaxTreeNode, st: State, fmt: Format) -> str:
    if BR.match(node.content.strip()):
        return ooxml.run_xml("<w:br/>", None, st.lang.tag)
    if COMMENT.match(node.content):
        return ""  # an inline comment is invisible on GitHub too
    raise DocxError(f"inline HTML {node.content!r} has no Word equivalent", line_of(node))


def _nothing(w: Writer, node: SyntaxTreeNode, st: State, fmt: Format) -> str:
    """The back-link GitHub shows after a note; Word has its own."""
    return ""


def _footnote_ref(w: Writer, node: SyntaxTreeNode, st: State, fmt: Format) -> str:
    """The first reference to a note makes the Word footnote; a later one
    repeats its number through a NOTEREF field, as an author in Word would,
    instead of printing the same note twice."""
    label = str(node.meta.get("label", ""))
    definition = st.notes.get(label)
    if definition is None:
        raise DocxError(f"footnote [^{label}] has no definition", line_of(node))
    ref_style = w.sid("Footnote Reference")
    # In the parallel text a note is one footnote with one number in both columns:
    # the first citation, in either language, makes it with every language's wording.
    texts = tuple(s for s in st.together if label in s.notes) or (st,)
    key = ("+".join(s.lang.code for s in texts), label)
    first = w.first_refs.get(key)
    if first is not None:
        fid, mark = first
        return ooxml.field(f"NOTEREF {mark} \\f \\h", str(fid), st.lang.tag, ref_style)
    fid = len(w.footnotes) + 1
    # A note is paragraphs in the Footnote Text style; a list inside one keeps
    # its items' text, one paragraph each (Word notes have no list styles of their own).
    # Each language's wording of a one-paragraph note shares one line: 'it / en'.
    by_text = [[w.inline(p.children[0], s, part=w.notes_part) for p in s.notes[label].walk() if p.type == "paragraph"]
               for s in texts if label in s.notes]
    if all(len(runs) == 1 for runs in by_text):
        by_text = [[ooxml.run(" / ", None, st.lang.tag).join(runs[0] for runs in by_text)]]
    paras = [(w.sid("Footnote Text"), runs) for group in by_text for runs in group]
    if not paras:
        raise DocxError(f"footnote [^{label}] is empty", line_of(node))
    w.footnotes.append(ooxml.footnote(fid, paras, ref_style, st.lang.tag))
    w.bookmarks += 1
    mark = f"_RefNote{fid}"
    w.first_refs[key] = (fid, mark)
    return ooxml.bookmark(w.bookmarks, mark, ooxml.footnote_reference(fid, ref_style, st.lang.tag))


def _image(w: Writer, node: SyntaxTreeNode, st: State, fmt: Format) -> str:
    src = str(node.attrs.get("src", ""))
    alt = plain_text(node)
    if not alt:
        raise DocxError(f"image {src} has no alt text", line_of(node))
    data = w.images.get(src)
    if data is None:
        raise DocxError(f"image {src} not found beside the document", line_of(node))
    rid, img = w.part.get_or_add_image(io.BytesIO(data))
    dpi = img.horz_dpi or 96
    cx = min(int(img.px_width / dpi * 914400), st.lang.width * ooxml.EMU_PER_TWIP)
    cy = int(cx * img.px_height / img.px_width)
    w.shapes += 1
    return ooxml.run_xml(ooxml.picture(rid, w.shapes, src, alt, cx, cy), None, st.lang.tag)


INLINE: dict[str, Callable[[Writer, SyntaxTreeNode, State, Format], str]] = {
    "text": _text,
    "softbreak": _softbreak,
    "hardbreak": _hardbreak,
    "strong": _strong,
    "em": _em,
    "s": _strike,
    "code_inline": _code,
    "link": _link,
    "image": _image,
    "footnote_ref": _footnote_ref,
    "html_inline": _html,
    "footnote_anchor": _nothing,
}
