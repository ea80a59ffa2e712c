"""`voceunica brief DOSSIER --audience …`: a one-page brief of a dossier's asks for one institution.

Compose stage.  At most three of the dossier's asks (in its order), those relevant to
the audience: by each ask's `audiences:`, or, for an ask that names none, by the
stage of its EU file (the Parliament and the Council while they legislate, the
Commission on communications and on acts to implement, the Committee of the
Regions while a proposal is before the co-legislators).  Each ask names the
provisions the position amends (else the act), the addressee from the catalogue
(committee, rapporteur and shadows; working party, through the Permanent
Representation; lead DG) and the deadline (the catalogue's next step); the page
ends with each office's Transparency Register line — "public authority, not
registered" where the dossier gives no number (public authorities are not required
to register, ../shared/domain.md).  Everything as of the dossier's date, as its
state-of-play box, so a rebuild gives the same bytes.

One page per language: the brief's head (`docx.document.brief_head`, through the
dossiers' writer) and templates/audience-brief.md.j2 (sandboxed `render`), proven by
`docx.proof`.  With LibreOffice the PDF is laid out and measured (`docx.pages`): a
brief that runs over is refused, saying by how much; without it a warning says the
page count could not be verified, and the files are written.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from voceunica import eufiles, fmt, typography
from voceunica.errors import Problem, VoceunicaError, general, problem
from voceunica.model import LANGS, Ask, EUFileRecord, Position
from voceunica.pipeline import check, docx_meta
from voceunica.project import Project
from voceunica.resolve import Footnote, person
from voceunica.write import Staging, refuse_source_folder

AUDIENCES: tuple[str, ...] = ("commission", "parliament", "council", "cor")
TEMPLATE = "audience-brief.md.j2"
MAX_ASKS = 3
LABELS: tuple[str, ...] = (
    *(f"brief.doctype.{a}" for a in AUDIENCES), *(f"audience.{a}" for a in AUDIENCES),
    "asks", "brief.on", "brief.addressee", "brief.deadline", "brief.no_deadline", "brief.not_recorded",
    "brief.via_rp", "brief.public_authority", "brief.as_for", "transparency_register", "sop_rapporteur", "sop_shadows",
    "sop_expected", "sop_unverified", "sop_fictitious", "sop_commission",
)
# The stages at which an institution can act on a file, for an ask that names no audience.
_BY_PHASE: dict[str, frozenset[str]] = {
    "parliament": frozenset({"proposal", "committee-vote", "plenary-first-reading", "council-general-approach",
                             "trilogue"}),
    "council": frozenset({"proposal", "committee-vote", "plenary-first-reading", "council-general-approach",
                          "trilogue"}),
    "cor": frozenset({"proposal", "committee-vote"}),
    "commission": frozenset({"communication", "proposal", "adoption", "publication", "application", "review"}),
}
# A body-text line of the reference document (11 points and its spacing), to say how much to cut.
LINE_PT = 14.0


@dataclass(frozen=True)
class Pick:
    pos: Position
    index: int  # in pos.asks
    ask: Ask
    rec: EUFileRecord | None


@dataclass(frozen=True)
class RAsk:
    number: int
    text: str  # Markdown, its notes as [^label]
    on: str  # the provisions amended, else the act
    addressee: str
    deadline: str
    same_as: int = 0  # the number of the ask before it with the same provisions, addressee and deadline


@dataclass(frozen=True)
class RBrief:
    lang: str
    audience: str
    asks: list[RAsk]
    register: list[str]  # one line per office
    footnotes: list[Footnote]
    labels: dict[str, str] = field(repr=False)


@dataclass
class BriefResult:
    files: list[Path]
    asks: int
    warnings: list[Problem]
    pages: dict[str, str]  # language -> 'one page (72 % full)', or why it was not measured


def relevant(project: Project, pos: Position, ask: Ask, audience: str, day: dt.date) -> bool:
    if ask.audiences:
        return audience in ask.audiences
    rec = eufiles.record_for(project, pos, ask.eu_file) if ask.eu_file else None
    return rec is not None and eufiles.phase(rec, day) in _BY_PHASE[audience]


def pick(project: Project, dossier_id: str, audience: str) -> tuple[list[Pick], list[Problem]]:
    """The asks for the audience (at most three, in the dossier's order) and a warning for those left out."""
    d = project.dossiers[dossier_id]
    found = []
    for pid in d.positions:
        pos = project.positions[pid]
        for i, ask in enumerate(pos.asks):
            if relevant(project, pos, ask, audience, d.date):
                rec = eufiles.record_for(project, pos, ask.eu_file) if ask.eu_file else None
                found.append(Pick(pos, i, ask, rec))
    left = found[MAX_ASKS:]
    warnings = []
    if left:
        listed = "; ".join(f"{p.pos.id} asks[{p.index}]" for p in left)
        warnings.append(project.sources[f"dossier:{dossier_id}"].problem(("positions",), (
            f"{len(left)} more ask(s) are for the {audience}, but a one-page brief carries {MAX_ASKS}: left out "
            f"of the brief are {listed} (the dossier's first asks go in: put those that matter most first)"),
            key=True, warning=True))
    return found[:MAX_ASKS], warnings


def addressee(rec: EUFileRecord | None, audience: str, labels: dict[str, str], lang: str) -> str:
    """Who receives the ask, from the catalogue: committee and rapporteur; working party; lead DG."""
    name = labels[f"audience.{audience}"]
    a = rec.actors if rec is not None else None
    unverified = f" {labels['sop_unverified']}" if a is not None and a.unverified else ""
    if audience == "parliament":
        parts = []
        if a is not None and a.ep_committee is not None:
            parts.append(f"{a.ep_committee.code} ({a.ep_committee.name[lang]})")
        if a is not None and a.rapporteur is not None:
            parts.append(f"{labels['sop_rapporteur']} {person(a.rapporteur, labels)}")
        if a is not None and a.shadows:
            parts.append(f"{labels['sop_shadows']} " + ", ".join(person(s, labels) for s in a.shadows))
        return f"{name} – " + ("; ".join(parts) + unverified if parts else labels["brief.not_recorded"])
    if audience == "council":
        wp = a.council_working_party[lang] + unverified if a is not None and a.council_working_party else \
            labels["brief.not_recorded"]
        return f"{name} – {wp}, {labels['brief.via_rp']}"
    if audience == "commission":
        dg = a.lead_dg[lang] + unverified if a is not None and a.lead_dg else labels["brief.not_recorded"]
        return f"{name} – {dg}"
    return name


def resolve_brief(project: Project, dossier_id: str, audience: str, picks: list[Pick], lang: str) -> RBrief:
    from voceunica import resolve

    d = project.dossiers[dossier_id]
    day = d.date
    labels = {k: typography.plain(v[lang], lang) for k, v in project.labels.items()}
    # An ask's EU file is named on its own line ('On:'), not by a footnote with the act's official
    # title, as the dossier cites it: a page has no room for both.
    linked, footnotes = resolve.resolve_positions(
        project, (p.pos for p in picks), day, lang, labels,
        prepare=lambda pos: pos.model_copy(update={"asks": [a.model_copy(update={"eu_file": None}) for a in pos.asks]}))
    asks: list[RAsk] = []
    for n, p in enumerate(picks, start=1):
        if p.rec is not None:
            provisions = [a.provision[lang] for a in p.pos.amendments
                          if eufiles.record_for(project, p.pos, a.eu_file) is p.rec]
            act = eufiles.act_label(p.rec, labels, day)
            name = (p.rec.short_title or p.rec.title)[lang]
            on = f"{act} ({name})" + (": " + "; ".join(" ".join(x.split()) for x in provisions) if provisions else "")
            nxt = eufiles.next_step_on(p.rec, day)
            if nxt is not None and p.rec.next_step is not None:
                stage, date = nxt
                deadline = f"{labels[f'stage.{stage}']}, {labels['sop_expected']} {fmt.date(date, lang)}" \
                    if date else labels[f"stage.{stage}"]
                deadline += f" {labels['sop_unverified']}" if p.rec.next_step.unverified else ""
            else:
                deadline = labels["brief.no_deadline"]
        else:
            on, deadline = labels["brief.not_recorded"], labels["brief.no_deadline"]
        ask = RAsk(n, typography.markdown(linked[p.pos.id].asks[p.index], lang), typography.markdown(on, lang),
                   typography.markdown(addressee(p.rec, audience, labels, lang), lang),
                   typography.markdown(deadline, lang))
        same = next((a.number for a in asks if (a.on, a.addressee, a.deadline) == (ask.on, ask.addressee,
                                                                                    ask.deadline)), 0)
        asks.append(replace(ask, same_as=same))  # said once: 'as for ask 1'
    register = []
    for office in d.authors:
        tr = office.transparency_register or labels["brief.public_authority"]
        register.append(typography.plain(f"{office.office[lang]}: {tr}", lang))
    cited = {f.label for f in footnotes if any(f"[^{f.label}]" in a.text for a in asks)}
    return RBrief(lang, audience, asks, register,
                  [replace(f, text=typography.markdown(f.text, lang)) for f in footnotes if f.label in cited], labels)


def build_brief(root: Path, dossier_id: str, audience: str, out_dir: Path | None = None, *,
                pdf: bool = False) -> BriefResult:
    from voceunica import docx as writer
    from voceunica.docx.pages import measure
    from voceunica.docx.proof import prove
    from voceunica.render import render_template
    from voceunica.resolve import resolve

    if out_dir is not None:
        refuse_source_folder(root, out_dir)
    project = check(root)
    if project.errors:
        raise VoceunicaError(project.problems)
    if dossier_id not in project.dossiers:
        raise VoceunicaError(general(f"brief: no dossier '{dossier_id}' (dossiers/{dossier_id}.yaml); known: "
                                     + ", ".join(sorted(project.dossiers))))
    missing = [k for k in LABELS if k not in project.labels]
    if missing:
        raise VoceunicaError([project.sources["labels"].problem(("labels",), f"missing label '{k}' (the one-page "
                                                                "brief prints it)") for k in missing])
    picks, warnings = pick(project, dossier_id, audience)
    dsource = project.sources[f"dossier:{dossier_id}"]
    if not picks:
        raise VoceunicaError(dsource.problem(("positions",), (
            f"brief: no ask of {dossier_id}'s positions is for the {audience} (by its 'audiences', or by its EU "
            f"file's stage): add '{audience}' to the audiences of the asks it can act on"), key=True))
    target = out_dir if out_dir is not None else project.root / "build"
    stem = f"{dossier_id}.brief-{audience}"
    docs: dict[str, bytes] = {}
    for lang in LANGS:
        b = resolve_brief(project, dossier_id, audience, picks, lang)
        body = render_template(project.template_dirs(), TEMPLATE, b=b, labels=b.labels)
        rd = resolve(project, dossier_id, lang)
        who = b.labels[f"audience.{audience}"]
        if audience == "parliament":
            committees = [p.rec.actors.ep_committee.code for p in picks if p.rec and p.rec.actors.ep_committee]
            who += (" – " + ", ".join(dict.fromkeys(committees))) if committees else ""
        acts = [eufiles.act_label(p.rec, b.labels, rd.date) for p in picks if p.rec is not None]
        meta = replace(docx_meta(project, rd), doctype=b.labels[f"brief.doctype.{audience}"], subtitle="",
                       audience=typography.plain(who, lang), eu_files=tuple(dict.fromkeys(acts)), layout="brief",
                       tables=(), identifier=f"{stem}.{lang}")
        try:
            data = writer.markdown_to_docx(body, meta, reference=project.asset("reference.docx"))
            prove(data, [body])
        except writer.DocxError as exc:
            where = f" (line {exc.line} of the {lang} Markdown it renders)" if exc.line else f" ({lang})"
            raise VoceunicaError(problem(f"templates/{TEMPLATE}", 1, 1,
                                         f"brief: cannot write DOCX{where}: {exc}")) from None
        docs[f"{stem}.{lang}.docx"] = data
    pdfs, note = writer.to_pdf(docs)
    pages: dict[str, str] = {}
    if not pdfs:
        warnings.append(general(f"brief: could not verify that each brief fits one page ({note}); written "
                                "unverified", warning=True))
        pages = {lang: "not measured" for lang in LANGS}
    over = []
    for lang in LANGS if pdfs else ():
        m = measure(docs[f"{stem}.{lang}.docx"], pdfs[f"{stem}.{lang}.pdf"])
        if m.count <= 1:
            pages[lang] = "one page" + (f" ({round(m.fills[0] * 100)} % full)" if m.fills else "")
            continue
        if m.fills is not None:
            extra = sum(m.fills[1:])
            which = {2: "second", 3: "third", 4: "fourth"}.get(m.count, f"{m.count}th")
            over.append(f"{lang}: runs to {m.count} pages (the {which} {round(m.fills[-1] * 100)} % full); cut "
                        f"~{math.ceil(extra * m.area_pt / LINE_PT)} lines")
        else:
            over.append(f"{lang}: runs to {m.count} pages")
    if over:
        longest = max(picks, key=lambda p: len(p.ask.text.en) + len(p.ask.text.it))
        raise VoceunicaError(project.sources[f"position:{longest.pos.id}"].problem(("asks", longest.index, "text"), (
            f"brief {dossier_id} for the {audience} does not fit one page — " + "; ".join(over)
            + f": shorten the asks (the longest, asks[{longest.index}], is here) or address fewer to the "
            f"{audience}; nothing was written"), key=True))
    files: dict[str, bytes] = dict(docs)
    if pdf:
        files.update(pdfs)
    with Staging(sync=False) as staging:
        for name in sorted(files):
            staging.add(target / name, files[name])
        written = staging.commit()
    return BriefResult(written, len(picks), warnings, pages)
