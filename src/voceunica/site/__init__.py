"""The preview site: the project as static HTML pages, beside the Word writer.

`render_site()` turns a validated project (plus the history and releases the
caller read from git and dist/, see `publish.py`) into every file of the site,
in memory: a home page, a page per position and per dossier in each
language, a history page per position, the releases, a search page with its
prebuilt index, the stylesheet and a small script.  Nothing here reads git or
writes to disk.

What goes in (the rule that keeps drafts in): by default only positions both
regions agreed on their current text (`fingerprint.agreed`), and only the
dossiers made entirely of them — a dossier is never shown with a position
missing, nor with a draft one.  `drafts=True` adds everything else, and every
page then carries a DRAFT banner.

The pages come from the project's `templates/site/*.html.j2`, in Jinja's
immutable sandbox with autoescaping on; every text goes through `mdhtml`,
which escapes it and keeps only safe links.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
from markupsafe import Markup

from voceunica import fmt
from voceunica.errors import VoceunicaError, general, problem
from voceunica.fingerprint import agreed, signoff_state, target_language, translation_status
from voceunica.mdescape import md_cell, md_escape, oneline
from voceunica.model import LANGS, Dossier, Position
from voceunica.project import Project
from voceunica.regions import REGIONS
from voceunica.render import ProjectLoader, render_in, render_markdown, split_front_matter
from voceunica.resolve import Footnote, ResolvedDossier, resolve
from voceunica.resolve import cited_files as cited_files
from voceunica.resolve import resolve_position as resolve_position
from voceunica.site.mdhtml import plain, to_html
from voceunica.site.script import SEARCH_JS

TEMPLATES = "site"  # templates/site/
MAX_PAGE_BYTES = 100_000  # every page, before images (tests/test_site.py holds the sample to it)

# Every word the site prints beyond the ones the documents print (labels.yaml holds them).
LABELS = (
    "site.title", "site.home", "site.dossiers", "site.positions_by_sector", "site.eu_files_addressed",
    "site.latest_release", "site.no_release", "site.releases", "site.search", "site.search_hint",
    "site.search_all", "site.search_found", "site.no_results", "site.history", "site.status_panel",
    "site.signoffs", "site.signoff.current", "site.signoff.stale", "site.signoff.missing", "site.translation",
    "site.translation.source", "site.translation.translated", "site.translation.missing",
    "site.translation.outdated", "site.in_dossiers", "site.draft_banner", "site.language_switch", "site.commit",
    "site.no_history", "site.first_version", "site.files", "site.size", "site.skip", "site.changed_field",
    "site.main_nav",
)


@dataclass(frozen=True)
class Change:
    """One field of a position that changed from one version to the next (diff.FieldChange's data)."""

    field: str
    lang: str | None  # None: not a text (a number, a list of ids, a sign-off)
    old: str | None
    new: str | None
    words: tuple[tuple[str, str], ...] = ()  # ("equal" | "delete" | "insert", text)


@dataclass(frozen=True)
class Version:
    """A position as one commit left it, with what changed since the previous version listed."""

    commit: str
    date: str  # YYYY-MM-DD, the commit's
    version: str
    status: str
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class ReleasedFile:
    name: str
    sha256: str
    size: int
    href: str  # from the site's root folder


@dataclass(frozen=True)
class Release:
    version: str
    date: str
    changelog: dict[str, str]  # lang -> the release notes' Markdown
    files: tuple[ReleasedFile, ...]


ImagesFn = Callable[[str], dict[str, bytes]]  # a dossier id -> the images its Markdown shows, by file name


def included(project: Project, drafts: bool) -> tuple[list[Position], list[Dossier]]:
    """The positions and dossiers the site shows (see the module docstring)."""
    positions = [p for _, p in sorted(project.positions.items()) if drafts or agreed(p)]
    shown = {p.id for p in positions}
    dossiers = [d for _, d in sorted(project.dossiers.items()) if all(p in shown for p in d.positions)]
    return positions, dossiers


def other(lang: str) -> str:
    return next(x for x in LANGS if x != lang)


def page_name(kind: str, ident: str, lang: str) -> str:
    """Where a page lives, from the site's root: index.html is the Italian home."""
    if kind == "home":
        return "index.html" if lang == LANGS[0] else f"index.{lang}.html"
    if kind in ("releases", "search"):
        return f"{kind}.{lang}.html"
    return f"{kind}/{ident}.{lang}.html"


def render_site(project: Project, *, drafts: bool = False, history: dict[str, list[Version]] | None = None,
                releases: list[Release] | None = None, images: ImagesFn | None = None) -> dict[str, bytes]:
    """Every file of the site by its path from the site's root folder."""
    site = _Site(project, drafts, history, releases or [], images)
    return site.render()


@functools.cache
def _environment(folders: tuple[Path, ...]) -> jinja2.Environment:
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        loader=ProjectLoader(list(folders), under=f"templates/{TEMPLATES}"), undefined=jinja2.StrictUndefined,
        autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env


class _Site:
    def __init__(self, project: Project, drafts: bool, history: dict[str, list[Version]] | None,
                 releases: list[Release], images: ImagesFn | None) -> None:
        self.project = project
        self.drafts = drafts
        self.history = history
        self.releases = sorted(releases, key=lambda r: _version_key(r.version), reverse=True)
        self.images = images
        self.positions, self.dossiers = included(project, drafts)
        # each a fingerprint of the whole position: once per position, not once per page that shows it
        self.signoffs = {p.id: {r: signoff_state(p, r) for r in REGIONS} for p in self.positions}
        self.files: dict[str, bytes] = {}
        self.index: list[dict[str, str]] = []
        self.resolved: dict[tuple[str, str], ResolvedDossier] = {}
        self.labels = {lang: {k: v[lang] for k, v in project.labels.items()} for lang in LANGS}
        missing = [k for k in LABELS if k not in project.labels]
        if missing:
            source = project.sources.get("labels")
            where = source.problem(("labels",), "") if source else problem("templates/labels.yaml", 1, 1, "")
            raise VoceunicaError([problem(where.path, where.line, where.col,
                                          f"missing label '{k}' (the site prints it)") for k in missing])

    # --- pages --------------------------------------------------------------------------------

    def render(self) -> dict[str, bytes]:
        missing = [n for n in ("page.html.j2", "site.css") if not self.project.has_asset(f"{TEMPLATES}/{n}")]
        if missing:
            raise VoceunicaError(problem(f"templates/{TEMPLATES}/", 1, 1, f"missing {', '.join(missing)}: the site's "
                                         "pages come from templates/site/ (copy it from voceunica's own repository)"))
        for lang in LANGS:
            for pos in self.positions:
                self.position_page(pos, lang)
                self.history_page(pos, lang)
            for d in self.dossiers:
                self.dossier_page(d, lang)
            self.releases_page(lang)
            self.home_page(lang)
        for lang in LANGS:
            self.search_page(lang)  # last: it lists every page
        index = json.dumps(self.index, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        self.files["assets/search-index.js"] = f"window.VU_INDEX={index};\n".encode()
        self.files["assets/search.js"] = SEARCH_JS.encode()
        self.files["assets/site.css"] = self._asset("site.css")
        return self.files

    def _asset(self, name: str) -> bytes:
        return self.project.asset(f"{TEMPLATES}/{name}")

    def _page(self, kind: str, ident: str, lang: str, template: str, title: str, **context: Any) -> None:
        name = page_name(kind, ident, lang)
        base = "../" * name.count("/")
        env = _environment(tuple(folder / TEMPLATES for folder in self.project.template_dirs()))
        labels = self.labels[lang]
        text = render_in(env, template, f"templates/{TEMPLATES}",
                         lang=lang, other_lang=other(lang), labels=labels, other_labels=self.labels[other(lang)],
                         title=title, base=base, draft=self.drafts, kind=kind,
                         switch=base + page_name(kind, ident, other(lang)),
                         home=base + page_name("home", "", lang), search=base + page_name("search", "", lang),
                         releases_page=base + page_name("releases", "", lang), **context)
        self.files[name] = text.encode("utf-8")

    def _search_entry(self, kind: str, ident: str, lang: str, title: str, body: str) -> None:
        self.index.append({"u": page_name(kind, ident, lang), "l": lang, "k": self.labels[lang][kind],
                           "t": title, "x": plain(body)})

    def home_page(self, lang: str) -> None:
        labels = self.labels[lang]
        sectors: dict[str, list[dict[str, str]]] = {}
        for pos in self.positions:
            sectors.setdefault(labels.get(f"sector.{pos.sector}", pos.sector), []).append(self._pos_link(pos, lang))
        addressed: dict[str, list[dict[str, str]]] = {}
        for d in self.dossiers:  # as the dossier's cover lists them (catalogue files on its date)
            for line in self._resolved(d.id, lang).addresses:
                addressed.setdefault(to_html(line, inline=True), []).append(self._dossier_link(d, lang))
        latest = self.releases[0] if self.releases else None
        self._page("home", "", lang, "home.html.j2", labels["site.title"],
                   dossiers=[self._dossier_link(d, lang) for d in self.dossiers],
                   sectors=sorted(sectors.items()),
                   addressed=[(Markup(line), ds) for line, ds in addressed.items()],
                   latest=latest, latest_date=_date(latest.date, lang) if latest else "")

    def _pos_link(self, pos: Position, lang: str) -> dict[str, str]:
        return {"href": page_name("position", pos.id, lang), "title": pos.title[lang], "version": pos.version,
                "status": self.labels[lang][f"status.{pos.status}"]}

    def _dossier_link(self, d: Dossier, lang: str) -> dict[str, str]:
        return {"href": page_name("dossier", d.id, lang), "title": d.title[lang], "version": d.version,
                "doctype": self.labels[lang][f"doctype.{d.doctype}"], "date": fmt.date(d.date, lang)}

    def position_page(self, pos: Position, lang: str) -> None:
        labels = self.labels[lang]
        footnotes: list[Footnote] = []
        # An EU file from the catalogue is cited as it stood on the newest dossier's date that carries the position.
        day = max((d.date for d in self.dossiers if pos.id in d.positions),
                  default=max((d.date for d in self.project.dossiers.values()), default=dt.date.today()))
        files, lines = cited_files(self.project, pos, day, lang, labels)
        rp = resolve_position(pos, lang, labels, footnotes, {}, 1, files, lines)
        md = [rp.summary, "", f"# {md_escape(labels['asks'])}", ""]
        md += [f"{i}. {ask}" for i, ask in enumerate(rp.asks, start=1)] + [""]
        for heading, body in rp.sections:
            md += [f"# {md_escape(heading)}", "", body, ""]
        if rp.amendments:
            md += [f"# {md_escape(labels['amendments'])}", ""]
            for a in rp.amendments:
                md += [f"## {md_escape(labels['amendment'])} {a.number} – {md_escape(a.act)}, {md_escape(a.provision)}",
                       "", f"| {md_escape(labels['commission_text'])} | {md_escape(labels['amendment'])} |",
                       "| --- | --- |", f"| {md_cell(a.commission)} | {md_cell(a.amendment)} |", "",
                       f"**{md_escape(labels['justification'])}.** {a.justification}", ""]
        md += [f"[^{n.label}]: {oneline(n.text)}" for n in footnotes]
        body = to_html("\n".join(md), shift=1)
        status = self._status(pos, lang)
        in_dossiers = [self._dossier_link(d, lang) for d in self.dossiers if pos.id in d.positions]
        self._page("position", pos.id, lang, "position.html.j2", rp.title, position=rp, body=Markup(body),
                   sector=labels.get(f"sector.{pos.sector}", pos.sector), status=status, in_dossiers=in_dossiers,
                   history=page_name("history", pos.id, lang))
        self._search_entry("position", pos.id, lang, rp.title, body)

    def _status(self, pos: Position, lang: str) -> dict[str, Any]:
        labels = self.labels[lang]
        signoffs = []
        for region in REGIONS:
            s = getattr(pos.signoffs, region)
            signoffs.append({"region": labels[f"region.{region}"],
                             "state": labels[f"site.signoff.{self.signoffs[pos.id][region]}"],
                             "by": s.by if s else "", "date": fmt.date(s.date, lang) if s else ""})
        states = translation_status(pos)
        counts = {k: sum(s.state == k for s in states) for k in ("translated", "missing", "outdated")}
        freshness: list[tuple[str, str, str]] = []
        for x in LANGS:
            if x == pos.source_language:
                freshness.append((self.labels[x]["language"], x, labels["site.translation.source"]))
            else:
                assert x == target_language(pos)
                freshness.append((self.labels[x]["language"], x, ", ".join(
                    f"{n} {labels[f'site.translation.{k}']}" for k, n in counts.items() if n or k == "translated")))
        return {"status": labels[f"status.{pos.status}"], "version": pos.version,
                "signoffs": signoffs, "freshness": freshness}

    def _resolved(self, dossier_id: str, lang: str) -> ResolvedDossier:
        if (dossier_id, lang) not in self.resolved:
            self.resolved[dossier_id, lang] = resolve(self.project, dossier_id, lang)
        return self.resolved[dossier_id, lang]

    def dossier_page(self, d: Dossier, lang: str) -> None:
        rd = self._resolved(d.id, lang)
        markdown = render_markdown(rd, self.project.template_dirs(), d.template)
        body = to_html(split_front_matter(markdown)[1], shift=1)
        shown = re.findall(r'<img src="([^"/]+)"', body)  # the charts (and any figure) the Markdown shows
        if shown and self.images is not None:
            available = self.images(d.id)
            missing = [name for name in shown if name not in available]
            if missing:
                raise VoceunicaError(general(f"dossier {d.id}: no image {', '.join(missing)} to show"))
            for name in shown:
                self.files[f"dossier/{name}"] = available[name]
        positions = [self._pos_link(self.project.positions[p], lang) for p in d.positions]
        self._page("dossier", d.id, lang, "dossier.html.j2", rd.title, dossier=rd, body=Markup(body),
                   positions=positions, addresses=[Markup(to_html(a, inline=True)) for a in rd.addresses])
        self._search_entry("dossier", d.id, lang, rd.title, body)

    def history_page(self, pos: Position, lang: str) -> None:
        labels = self.labels[lang]
        versions = None
        if self.history is not None:
            versions = []
            for v in reversed(self.history.get(pos.id, [])):
                changes = [{"field": c.field, "html": Markup(_diff_html(c))}
                           for c in v.changes if c.lang in (None, lang)]
                versions.append({"commit": v.commit[:12], "date": _date(v.date, lang), "version": v.version,
                                 "status": labels.get(f"status.{v.status}", v.status), "changes": changes})
        self._page("history", pos.id, lang, "history.html.j2", f"{labels['site.history']}: {pos.title[lang]}",
                   position_title=pos.title[lang], position_href=page_name("position", pos.id, lang),
                   versions=versions)

    def releases_page(self, lang: str) -> None:
        shown = [{"version": r.version, "date": _date(r.date, lang), "files": r.files,
                  "changelog": Markup(to_html(split_front_matter(r.changelog.get(lang, ""))[1], shift=2))}
                 for r in self.releases]
        self._page("releases", "", lang, "releases.html.j2", self.labels[lang]["site.releases"], releases=shown)

    def search_page(self, lang: str) -> None:
        pages = [{"href": e["u"], "title": e["t"], "lang": e["l"], "kind": e["k"]}
                 for e in sorted(self.index, key=lambda e: (e["l"] != lang, e["l"], e["k"], e["t"]))]
        self._page("search", "", lang, "search.html.j2", self.labels[lang]["site.search"], pages=pages)


def _diff_html(change: Change) -> str:
    """A change as HTML: words kept, <del>deleted</del>, <ins>inserted</ins> (everything escaped)."""
    if change.words:
        tag = {"equal": "{}", "delete": "<del>{}</del>", "insert": "<ins>{}</ins>"}
        return "".join(tag[op].format(html.escape(text)) for op, text in change.words)
    parts = []
    if change.old is not None:
        parts.append(f"<del>{html.escape(change.old)}</del>")
    if change.new is not None:
        parts.append(f"<ins>{html.escape(change.new)}</ins>")
    return " → ".join(parts)


def _date(iso: str, lang: str) -> str:
    try:
        return fmt.date(dt.date.fromisoformat(iso), lang)
    except ValueError:
        return iso


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in "".join(c if c.isdigit() else " " for c in version).split()[:3])
