"""Stage 4 — render: a resolved dossier → Markdown, through the Jinja templates.

Templates come only from the project's `templates/` folder, never from
data; `StrictUndefined` makes a misspelt variable an error instead of
silently empty text.  Values are inserted literally (a `{{ }}` in a
position stays `{{ }}`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2
import yaml

from voceunica.errors import VoceunicaError, problem
from voceunica.resolve import ResolvedDossier, author_line

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


def md_escape(text: str) -> str:
    """Plain text → Markdown that shows exactly that text."""
    out = _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))
    # a line starting with "1." or "-" would become a list
    return re.sub(r"^(\d+)([.)])", r"\1\\\2", re.sub(r"^([+-])(\s)", r"\\\1\2", out))


def md_cell(text: str) -> str:
    """Markdown (inline) → one table cell: paragraphs joined by <br>, pipes escaped."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip())]
    return "<br><br>".join(p.replace("|", "\\|") for p in paragraphs if p)


def oneline(text: str) -> str:
    return " ".join(text.split())


def environment(template_dirs: list[Path]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in template_dirs]),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md_escape, cell=md_cell, oneline=oneline)
    return env


def front_matter(d: ResolvedDossier) -> str:
    data: dict[str, Any] = {
        "title": d.title,
        "subtitle": d.subtitle or None,
        "doctype": d.doctype,
        "dossier": d.id,
        "lang": d.locale,
        "date": d.date.isoformat(),
        "version": d.version,
        "status": d.status_text,
        "audience": d.audience,
        "authors": [author_line(name, office) for name, office, _ in d.authors],
        "contact": ", ".join(d.contact),
        "eu_files": [re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line) for line in d.addresses],
        "positions": [f"{p.id} {p.version} ({p.status_text})" for p in d.positions],
    }
    data = {k: v for k, v in data.items() if v is not None}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100).strip()


def render_markdown(d: ResolvedDossier, template_dirs: list[Path], template: str) -> str:
    env = environment(template_dirs)
    try:
        tpl = env.get_template(template)
        text = tpl.render(d=d, labels=d.labels, front_matter=front_matter(d))
    except jinja2.TemplateSyntaxError as exc:
        raise VoceunicaError(problem(f"templates/{exc.name or template}", exc.lineno or 1, 1,
                                     f"template syntax error: {exc.message}")) from None
    except jinja2.TemplateNotFound as exc:
        raise VoceunicaError(problem(f"templates/{template}", 1, 1, f"template not found: {exc.name}")) from None
    except jinja2.UndefinedError as exc:
        raise VoceunicaError(problem(f"templates/{template}", _template_line(exc, template), 1,
                                     f"template uses an undefined value: {exc.message}")) from None
    # Collapse runs of blank lines left by template control blocks.
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def _template_line(exc: BaseException, template: str) -> int:
    tb = exc.__traceback__
    line = 1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(template):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def split_front_matter(markdown: str) -> tuple[str, str]:
    """(front matter YAML, body) of a Markdown file we wrote."""
    if markdown.startswith("---\n"):
        end = markdown.find("\n---\n", 4)
        if end != -1:
            return markdown[4:end], markdown[end + 5:].lstrip("\n")
    return "", markdown
