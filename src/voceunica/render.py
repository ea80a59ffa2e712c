"""Stage 4 — render: a resolved dossier → Markdown, through the Jinja templates.

Templates come only from the project's `templates/` folder, never from
data; `StrictUndefined` makes a misspelt variable an error instead of
silently empty text.  Values are inserted literally (a `{{ }}` in a
position stays `{{ }}`).

A template is part of the pull request like any position, so it is treated
as untrusted: it runs in Jinja's immutable sandbox (no `__class__`, no
`__globals__`, no mutating the data) and is read like every project file
(a regular file inside templates/, never through a link leading out).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Callable

import jinja2
import jinja2.sandbox
import yaml

from voceunica.errors import Problem, VoceunicaError, problem
from voceunica.load import read_project_file
from voceunica.mdescape import md_cell, md_cells, md_escape, oneline

if TYPE_CHECKING:  # `check` imports this module to compile templates: it need not load resolve and Babel
    from voceunica.resolve import ResolvedDossier

class ProjectLoader(jinja2.BaseLoader):
    """Templates from the given folders, each read with `read_project_file`
    (jinja2's FileSystemLoader refuses '..' but follows links anywhere)."""

    def __init__(self, folders: list[Path], under: str | None = None) -> None:
        self.folders = folders
        self.under = under  # the folder problems name ('templates/site'); by default each folder's own name
        self.shown: dict[str, str] = {}  # file name given to Jinja -> as problems show it

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = jinja2.loaders.split_template_path(template)  # TemplateNotFound for '..'
        for folder in self.folders:
            path = folder.joinpath(*pieces)
            if not os.path.lexists(path):
                continue
            shown = f"{self.under or folder.name}/{'/'.join(pieces)}"
            raw = read_project_file(folder, path, shown)
            try:
                source = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise VoceunicaError(problem(shown, raw[: exc.start].count(b"\n") + 1, 1,
                                             "file is not valid UTF-8")) from None
            self.shown[str(path)] = shown
            # Compiling costs five times the rendering: a template is compiled again only
            # when its bytes change, and the check reads it the same safe way.
            return source, str(path), lambda: read_project_file(folder, path, shown) == raw  # noqa: B023 - returned at once, the loop goes no further
        raise jinja2.TemplateNotFound(template)


_ENVIRONMENTS: dict[tuple[Path, ...], jinja2.Environment] = {}


def environment(template_dirs: list[Path]) -> jinja2.Environment:
    """The sandboxed environment for these template folders, made once per process."""
    key = tuple(template_dirs)
    env = _ENVIRONMENTS.get(key)
    if env is None:
        env = _ENVIRONMENTS[key] = _new_environment(key)
    return env


def _new_environment(template_dirs: tuple[Path, ...]) -> jinja2.Environment:
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        loader=ProjectLoader(list(template_dirs)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md_escape, cell=md_cell, cells=md_cells, oneline=oneline)
    return env


def front_matter(d: ResolvedDossier) -> str:
    from voceunica.resolve import author_line

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
    return render_template(template_dirs, template, d=d, labels=d.labels, front_matter=front_matter(d))


def render_template(template_dirs: list[Path], template: str, **context: Any) -> str:
    """Markdown from a template of templates/ in the sandbox; whatever goes wrong is a
    problem at the template's line (the dossier's template, the KPI scoreboard's)."""
    text = render_in(environment(template_dirs), template, "templates", **context)
    # Collapse runs of blank lines left by template control blocks.
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def render_in(env: jinja2.Environment, template: str, folder: str, **context: Any) -> str:
    """`template` rendered in `env`; whatever goes wrong is a problem at the template's line, named
    under `folder` ('templates', 'templates/site') where the loader cannot say."""
    try:
        tpl = env.get_template(template)
        text = tpl.render(**context)
    except VoceunicaError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        raise VoceunicaError(problem(f"{folder}/{exc.name or template}", exc.lineno or 1, 1,
                                     f"template syntax error: {exc.message}")) from None
    except jinja2.TemplateNotFound as exc:
        shown, line = _where(exc, env.loader, template, folder)
        raise VoceunicaError(problem(shown, line, 1, f"template not found: {exc.name}")) from None
    except jinja2.UndefinedError as exc:
        shown, line = _where(exc, env.loader, template, folder)
        raise VoceunicaError(problem(shown, line, 1, f"template uses an undefined value: {exc.message}")) from None
    except jinja2.exceptions.SecurityError as exc:
        shown, line = _where(exc, env.loader, template, folder)
        message = f"template error: {str(exc).rstrip('.')} (templates run in a sandbox)"
        raise VoceunicaError(problem(shown, line, 1, message)) from None
    except Exception as exc:  # noqa: BLE001 - whatever a template does wrong is the template's line, not a crash
        shown, line = _where(exc, env.loader, template, folder)
        message = (exc.message or type(exc).__name__) if isinstance(exc, jinja2.TemplateError) \
            else f"{type(exc).__name__}: {exc}"
        raise VoceunicaError(problem(shown, line, 1, f"template error: {message}")) from None
    return text


def _where(exc: BaseException, loader: Any, template: str, folder: str = "templates") -> tuple[str, int]:
    """The innermost template line the error went through (Jinja puts template
    lines into the traceback), else line 1 of the template rendered."""
    shown, line = f"{folder}/{template}", 1
    tb = exc.__traceback__
    while tb is not None:
        name = loader.shown.get(tb.tb_frame.f_code.co_filename) if isinstance(loader, ProjectLoader) else None
        if name is not None:
            shown, line = name, tb.tb_lineno
        tb = tb.tb_next
    return shown, line


def template_problems(sources: dict[str, bytes], folder: str = "templates") -> list[Problem]:
    """Syntax errors (and unknown filters or tests) in templates, by their
    path under templates/ and content, each at its line.  Compiles, never renders."""
    env = environment([])
    out = []
    for name, raw in sorted(sources.items()):
        shown = f"{folder}/{name}"
        try:
            env.compile(raw.decode("utf-8"), name, shown)
        except UnicodeDecodeError as exc:
            out.append(problem(shown, raw[: exc.start].count(b"\n") + 1, 1, "file is not valid UTF-8"))
        except jinja2.TemplateSyntaxError as exc:
            out.append(problem(shown, exc.lineno or 1, 1, f"template syntax error: {exc.message}"))
        except RecursionError:
            out.append(problem(shown, 1, 1, "template syntax error: nested too deeply"))
    return out


def split_front_matter(markdown: str) -> tuple[str, str]:
    """(front matter YAML, body) of a Markdown file we wrote."""
    if markdown.startswith("---\n"):
        end = markdown.find("\n---\n", 4)
        if end != -1:
            return markdown[4:end], markdown[end + 5:].lstrip("\n")
    return "", markdown
