"""Markdown → HTML for the site, in the dialect every other reader of our Markdown uses.

The parser is `textrules.parser()` — CommonMark with GitHub's tables,
strikethrough and footnotes, the one the DOCX writer reads — so a page says
what the Word file says.  Its output is escaped throughout by markdown-it's
renderer; on top of that:

- **no raw HTML**: an HTML block or inline is printed as the text it is,
  except `<br>` (which `md_cell` puts into table cells) and the template's
  layout directives (`<!-- vu:toc -->`), which are dropped.  `check` refuses
  HTML in every text, so only a template could hold any;
- **links**: only what `textrules.SAFE_LINK` allows (https, http, mailto,
  #anchors) becomes a link; images only as the chart files we write beside
  the page (a plain `name.png`);
- headings move down by `shift` levels (a dossier's `#` is the page's `<h2>`),
  and table header cells say they head a column.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from voceunica.textrules import SAFE_LINK, parser

_IMAGE = re.compile(r"[a-z0-9][a-z0-9.-]*\.png")
_BR = re.compile(r"^<br\s*/?>$", re.I)
_DIRECTIVE = re.compile(r"^<!--\s*vu:[a-z-]+\s*-->\s*$")


def _valid_link(url: str) -> bool:
    return SAFE_LINK.match(url) is not None or _IMAGE.fullmatch(url) is not None


def _html_inline(_self: Any, tokens: Sequence[Token], idx: int, _options: Any, _env: Any) -> str:
    content = tokens[idx].content
    return "<br>" if _BR.match(content.strip()) else html.escape(content)


def _html_block(_self: Any, tokens: Sequence[Token], idx: int, _options: Any, _env: Any) -> str:
    content = tokens[idx].content
    if _DIRECTIVE.match(content):
        return ""
    return f"<p>{html.escape(content.strip())}</p>\n"


@functools.cache
def _parser() -> MarkdownIt:
    md = parser(max_nesting=20)
    md.validateLink = _valid_link  # type: ignore[method-assign]
    md.add_render_rule("html_inline", _html_inline)
    md.add_render_rule("html_block", _html_block)
    return md


def to_html(markdown: str, *, shift: int = 0, inline: bool = False) -> str:
    """Markdown → HTML.  `inline`: one paragraph's content without the <p> (a title, a table cell)."""
    md = _parser()
    env: dict[str, Any] = {}
    tokens = md.parse(markdown, env)
    for tok in tokens:
        if tok.type in ("heading_open", "heading_close"):
            tok.tag = f"h{min(int(tok.tag[1]) + shift, 6)}"
        elif tok.type == "th_open":
            tok.attrSet("scope", "col")
    if inline and [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]:
        return str(md.renderer.render(tokens[1:2], md.options, env))
    return str(md.renderer.render(tokens, md.options, env))


_TAG = re.compile(r"<[^>]*>")


def plain(fragment: str) -> str:
    """The words of an HTML fragment we made (for the search index): tags out, entities read."""
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).replace("↩︎", " ").split())
