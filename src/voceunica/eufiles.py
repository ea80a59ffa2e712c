"""The catalogue of EU files (eu-files/<key>.yaml) and what `check` knows from it.

A position cites a catalogue file by its key (`eu_files: [cbam-downstream]`); the
catalogue holds what every position shares and what changes under them: the
procedure's dated stages, the act a file became, who decides, the next step.
This module checks a catalogue record on its own (identifiers that agree with
each other, stages in order, an adoption with its act), the positions against
the state of play (an adopted act called a proposal, amendments to a text the
co-legislators have already agreed, a stale record, an ask addressed to someone
who cannot act), and computes the state of play on a date for the dossier's box
and timeline (resolve formats it).

The date `check` judges by is `as_of()`: SOURCE_DATE_EPOCH when set (a CI run or
a test pins it), else today — a record is stale now, whatever a dossier's date.
A dossier shows the state of play on its own date, so a rebuild gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterator

from voceunica.clock import today
from voceunica.errors import Problem, problem
from voceunica.load import SourceMap
from voceunica.messages import dotted
from voceunica.model import (
    ADOPTED_ACTS, EU_AUDIENCES, STAGES, EUFile, EUFileRecord, Position, Stage, iter_texts,
)
from voceunica.project import Project
from voceunica.textrules import FOOTNOTE_REF

FOLDER = "eu-files"
# Once one of these is recorded the co-legislators have agreed a text: the Commission's is history.
AGREED = ("provisional-agreement", "adoption", "publication", "application", "review")
_ORDER = {s: i for i, s in enumerate(STAGES)}
# The labels the state-of-play box and the timeline print (validate requires them in labels.yaml).
LABELS: tuple[str, ...] = (
    "state_of_play", "sop_file", "sop_stage", "sop_adopted", "sop_last_step", "sop_next_step", "sop_who",
    "sop_expected", "sop_parliament", "sop_council", "sop_commission", "sop_rapporteur", "sop_shadows",
    "sop_fictitious", "sop_unverified",
    "competence.national", "competence.shared", "timeline_title", "timeline_today",
    *(f"stage.{s}" for s in STAGES),
    *(f"phase.{p}" for p in (*STAGES, "trilogue", "communication")),
)


def as_of() -> dt.date:
    """The date `check` judges the state of play by (clock.today: SOURCE_DATE_EPOCH's day, else today)."""
    return today()


# --- the state of play on a date ------------------------------------------------------------

def stages_on(rec: EUFileRecord, day: dt.date | None) -> list[Stage]:
    """The stages recorded by `day` (all when None), in the order they happened."""
    return sorted((s for s in rec.stages if day is None or s.date <= day),
                  key=lambda s: (s.date, _ORDER[s.stage]))


def stage_of(rec: EUFileRecord, kind: str, day: dt.date | None = None) -> Stage | None:
    return next((s for s in stages_on(rec, day) if s.stage == kind), None)


def adopted_on(rec: EUFileRecord, day: dt.date | None = None) -> bool:
    """Adopted by `day`: the act is recorded and so is its adoption (by then)."""
    return rec.adopted is not None and (stage_of(rec, "adoption", day) is not None
                                         or not any(s.stage == "adoption" for s in rec.stages))


def phase(rec: EUFileRecord, day: dt.date | None = None) -> str:
    """Where the file stands: the furthest stage reached, or 'trilogue' between the two
    institutions' positions and their agreement; 'communication' for a non-legislative file."""
    if rec.type in ("communication", "framework", "other") and rec.adopted is None:
        return "communication"
    reached = {s.stage for s in stages_on(rec, day)}
    if not reached:
        return "adoption" if rec.adopted is not None else "proposal"
    furthest = max(reached, key=_ORDER.__getitem__)
    ep = bool(reached & {"committee-vote", "plenary-first-reading"})
    if furthest in ("committee-vote", "plenary-first-reading", "council-general-approach") and ep \
            and "council-general-approach" in reached:
        return "trilogue"
    return furthest


def next_step_on(rec: EUFileRecord, day: dt.date | None) -> tuple[str, dt.date | None] | None:
    """The next expected step: the record's own when not yet reached, else none."""
    n = rec.next_step
    if n is None or stage_of(rec, n.stage, day) is not None:
        return None
    return n.stage, n.date


def stale(rec: EUFileRecord, day: dt.date) -> bool:
    """The next step's date has passed and nothing was recorded since."""
    n = rec.next_step
    if n is None or n.date >= day:
        return False
    return not any(s.date >= n.date or s.stage == n.stage for s in rec.stages)


def act_kind(rec: EUFileRecord, day: dt.date | None) -> str:
    if adopted_on(rec, day) and rec.type in ADOPTED_ACTS:
        return rec.type
    if rec.type in ("communication", "framework", "other"):
        return rec.type
    return "proposal"


def as_eu_file(rec: EUFileRecord, day: dt.date | None = None) -> EUFile:
    """The record as a position's EU file on `day`: the adopted act once adopted, else the proposal."""
    kind = act_kind(rec, day)
    if kind in ADOPTED_ACTS and rec.adopted is not None:
        adoption = stage_of(rec, "adoption", day)
        return EUFile(key=rec.key, kind=kind, title=rec.title, number=rec.adopted.number, com=rec.com,  # type: ignore[arg-type]
                      procedure=rec.procedure, celex=rec.adopted.celex, eli=rec.adopted.eli,
                      date=adoption.date if adoption else None)
    return EUFile(key=rec.key, kind=kind, title=rec.title, com=rec.com, procedure=rec.procedure,  # type: ignore[arg-type]
                  celex=rec.celex, eli=rec.eli, number=rec.adopted.number if rec.adopted else None,
                  date=rec.date)


def entries(project: Project, pos: Position, day: dt.date | None = None) -> list[EUFile]:
    """Every EU file a position cites, in its order: catalogue references made EU files on `day`.
    (A reference to a key the catalogue lacks is an error `check` reports; it is left out here.)"""
    out = []
    for e in pos.eu_files:
        if isinstance(e, str):
            rec = project.catalogue.get(e)
            if rec is not None:
                out.append(as_eu_file(rec, day))
        else:
            out.append(e)
    return out


def entry_keys(pos: Position) -> list[str]:
    return [e if isinstance(e, str) else e.key for e in pos.eu_files]


def record_for(project: Project, pos: Position, key: str) -> EUFileRecord | None:
    """The catalogue record behind a position's EU file `key`: by reference, or an inline
    entry naming the same COM document, procedure, CELEX or act number."""
    for e in pos.eu_files:
        if isinstance(e, str):
            if e == key:
                return project.catalogue.get(e)
        elif e.key == key:
            return find(project, e)
    return None


def find(project: Project, f: EUFile) -> EUFileRecord | None:
    for rec in project.catalogue.values():
        if (f.com and f.com == rec.com) or (f.procedure and f.procedure == rec.procedure) \
                or (f.celex and f.celex in (rec.celex, rec.adopted.celex if rec.adopted else None)) \
                or (f.number and rec.adopted is not None and f.number == rec.adopted.number):
            return rec
    return None


def act_label(rec: EUFileRecord, labels: dict[str, str], day: dt.date | None = None) -> str:
    """'Regulation (EU) 2026/1384' once adopted, else 'COM(2025) 726 final'."""
    kind = act_kind(rec, day)
    if kind in ADOPTED_ACTS and rec.adopted is not None:
        return labels[f"act.{kind}"].replace("{n}", rec.adopted.number)
    return rec.com or rec.celex or ""


# --- one catalogue record ---------------------------------------------------------------------

_CELEX_SECTOR = {"regulation": "R", "implementing-regulation": "R", "delegated-regulation": "R",
                 "directive": "L", "decision": "D"}
_ELI_TYPE = {"regulation": "reg", "implementing-regulation": "reg_impl", "delegated-regulation": "reg_del",
             "directive": "dir", "decision": "dec"}
_COM = re.compile(r"(COM|JOIN|SWD|C)\((\d{4})\) (\d+)")
_ELI = re.compile(r"/eli/([a-z_]+)/(\d{4})/(\d+)/")


def record_problems(rec: EUFileRecord, source: SourceMap) -> list[Problem]:
    """Identifiers that agree with each other, stages in the procedure's order, an adoption with its act."""
    out: list[Problem] = []
    legislative = rec.type in ADOPTED_ACTS
    if rec.com and rec.celex and (m := _COM.match(rec.com)) and m.group(1) == "COM":
        com_year, com_num = m.group(2), int(m.group(3))
        if not (rec.celex[1:5] == com_year and rec.celex[-4:].isdigit() and int(rec.celex[-4:]) == com_num
                and rec.celex[0] == "5"):
            out.append(source.problem(("celex",), f"celex: '{rec.celex}' does not match {rec.com} "
                                      f"(expected 5{com_year}PC{com_num:04d} or 5{com_year}DC{com_num:04d})"))
    if rec.adopted is not None:
        a = rec.adopted
        year, num = a.number.split("/")
        sector = _CELEX_SECTOR.get(rec.type)
        if a.celex and sector:
            expected = f"3{year}{sector}{int(num):04d}"
            if a.celex.split("(")[0] != expected:
                out.append(source.problem(("adopted", "celex"), f"adopted.celex: '{a.celex}' does not match "
                                          f"the act {a.number} of type {rec.type} (expected {expected})"))
        if a.eli and (m := _ELI.search(a.eli)):
            want = _ELI_TYPE.get(rec.type)
            if (want and m.group(1) != want) or m.group(2) != year or m.group(3) != str(int(num)):
                out.append(source.problem(("adopted", "eli"), f"adopted.eli: '{a.eli}' does not match the act "
                                          f"{a.number} (expected …/eli/{want or m.group(1)}/{year}/{int(num)}/oj)"))
        if not legislative:
            out.append(source.problem(("adopted",), f"adopted: a file of type '{rec.type}' is not adopted as an act "
                                      "with a number; give its type (regulation, directive, …)"))
    seen: dict[str, int] = {}
    for i, s in enumerate(rec.stages):
        if s.stage in seen and s.stage != "review":
            out.append(source.problem(("stages", i, "stage"), f"stages[{i}]: '{s.stage}' is recorded twice "
                                      f"(first at stages[{seen[s.stage]}])"))
        seen.setdefault(s.stage, i)
        for j, t in enumerate(rec.stages[:i]):
            if _ORDER[t.stage] < _ORDER[s.stage] and t.date > s.date:
                out.append(source.problem(("stages", i, "date"), f"stages[{i}]: {s.stage} on {s.date} comes before "
                                          f"stages[{j}] ({t.stage}, {t.date}): check the dates", warning=True))
                break
    if "adoption" in seen and rec.adopted is None and legislative:
        out.append(source.problem(("stages", seen["adoption"], "stage"), "an adoption is recorded but not the "
                                  "act: add 'adopted: {number: YYYY/N, celex: …, eli: …}'"))
    if rec.adopted is not None and legislative and rec.stages and "adoption" not in seen:
        out.append(source.problem(("adopted",), "adopted: the act is given but its adoption is not in 'stages': "
                                  "add '- {stage: adoption, date: …, source: …}'"))
    n = rec.next_step
    if n is not None and n.stage in seen:
        out.append(source.problem(("next_step", "stage"), f"next_step: '{n.stage}' is already recorded "
                                  f"(stages[{seen[n.stage]}]): give the step after it, or remove next_step",
                                  warning=True))
    ids = [p.id for p in rec.provisions]
    for i, ident in enumerate(ids):
        if ident in ids[:i]:
            out.append(source.problem(("provisions", i, "id"), f"provisions[{i}]: id '{ident}' is used twice"))
    return out


# --- positions against the state of play ---------------------------------------------------------

_PROPOSAL_WORD = re.compile(r"\b(propost[ae]|proposals?|proposed|proposta di regolamento)\b", re.I)
_SENTENCE_END = re.compile(r"[.;!?](?:\s|$)|\n\s*\n")


def _sentences(text: str) -> Iterator[tuple[int, str]]:
    start = 0
    for m in _SENTENCE_END.finditer(text):
        yield start, text[start:m.end()]
        start = m.end()
    if start < len(text):
        yield start, text[start:]


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _date(day: dt.date) -> str:
    """'17 June 2026': check speaks English, plainly (no Babel, no no-break spaces in a terminal)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _adopted_as(rec: EUFileRecord) -> str:
    assert rec.adopted is not None
    kind = {"regulation": "Regulation", "implementing-regulation": "Implementing Regulation",
            "delegated-regulation": "Delegated Regulation", "directive": "Directive",
            "decision": "Decision"}.get(rec.type, "act")
    adoption = stage_of(rec, "adoption")
    when = f" on {_date(adoption.date)}" if adoption else ""
    return f"{kind} (EU) {rec.adopted.number}{when}"


def position_problems(project: Project, day: dt.date) -> list[Problem]:
    """Every position against the catalogue, as of `day` (see `as_of`)."""
    out: list[Problem] = []
    for pos in project.positions.values():
        source = project.sources.get(f"position:{pos.id}")
        if source is not None:
            out.extend(_position(project, pos, source, day))
    return out


def _position(project: Project, pos: Position, source: SourceMap, day: dt.date) -> Iterator[Problem]:
    cat = project.catalogue
    records: dict[str, EUFileRecord] = {}
    for i, e in enumerate(pos.eu_files):
        if isinstance(e, str):
            rec = cat.get(e)
            if rec is None:
                close = difflib.get_close_matches(e, list(cat), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                yield source.problem(("eu_files", i), f"eu_files[{i}]: no EU file '{e}' in the catalogue "
                                     f"({FOLDER}/{e}.yaml){hint}")
                continue
            records[e] = rec
            continue
        rec = find(project, e)
        if rec is None:
            continue
        records[e.key] = rec
        if e.kind == "proposal" and adopted_on(rec, day):
            yield source.problem(("eu_files", i, "kind"), f"eu_files[{i}] ({e.key}) calls {e.com or e.key} a "
                                 f"proposal, but {FOLDER}/{rec.key}.yaml records it adopted as {_adopted_as(rec)}: "
                                 f"cite the catalogue file instead (eu_files: [{rec.key}], or run "
                                 "voceunica migrate-eu-files) and say 'Regulation', not 'proposal', in the text",
                                 warning=True)
    adopted = {k: r for k, r in records.items() if adopted_on(r, day)}
    if adopted:
        coms = {r.com: k for k, r in adopted.items() if r.com}
        for loc, _lang, text in iter_texts(pos):
            if loc[0] in ("translated_from", "eu_files"):
                continue
            yield from _called_proposal(source, loc, text, adopted, coms)
    for i, am in enumerate(pos.amendments):
        rec = records.get(am.eu_file)
        if am.provision_id is not None and (rec is None or am.provision_id not in {p.id for p in rec.provisions}):
            yield source.problem(("amendments", i, "provision_id"), f"amendments[{i}].provision_id: no provision "
                                 f"'{am.provision_id}' in {FOLDER}/{rec.key if rec else am.eu_file}.yaml "
                                 "('provisions')")
        if rec is None:
            continue
        agreed = [s for s in stages_on(rec, day) if s.stage in AGREED]
        if agreed:
            first = agreed[0]
            where = ("amendments", i, "commission") if am.commission is not None else ("amendments", i, "eu_file")
            message = (f"amendments[{i}] amends the Commission's text of {rec.key}, but the co-legislators reached "
                       f"a {first.stage.replace('-', ' ')} on {_date(first.date)} ({FOLDER}/{rec.key}.yaml): the "
                       "Commission's text is no longer negotiated; address the agreed text or its implementation, "
                       "or remove the amendment")
            yield source.problem(where, message, key=True, warning=True)
    for i, ask in enumerate(pos.asks):
        rec = records.get(ask.eu_file) if ask.eu_file else None
        if rec is None:
            continue
        if stale(rec, day) and rec.next_step is not None:
            n = rec.next_step
            yield source.problem(("asks", i, "eu_file"), f"asks[{i}] cites {rec.key}, whose next step "
                                 f"({n.stage.replace('-', ' ')}, expected {_date(n.date)}) has passed with no stage "
                                 f"recorded since: the record is stale; check the procedure and update 'stages' and "
                                 f"'next_step' in {FOLDER}/{rec.key}.yaml", warning=True)
        if rec.competence == "national":
            for j, who in enumerate(ask.audiences):
                if who in EU_AUDIENCES and who != "council":
                    yield source.problem(("asks", i, "audiences", j), f"asks[{i}] is addressed to the {who}, which "
                                         f"cannot act on {rec.key}: {FOLDER}/{rec.key}.yaml marks it a national "
                                         "competence; address it to the Italian government (italian-government) "
                                         "or through the Permanent Representation (permanent-representation)",
                                         warning=True)


def _called_proposal(source: SourceMap, loc: tuple[str | int, ...], text: str,
                     adopted: dict[str, EUFileRecord], coms: dict[str, str]) -> Iterator[Problem]:
    """A sentence that cites an adopted file ([^key] or its COM number) and calls it a proposal."""
    if "[^" not in text and not any(c in text for c in coms):
        return
    for start, sentence in _sentences(text):
        cited = [m.group(1) for m in FOOTNOTE_REF.finditer(sentence) if m.group(1) in adopted]
        cited += [k for c, k in coms.items() if c in sentence]
        word = _PROPOSAL_WORD.search(sentence)
        if not cited or word is None:
            continue
        rec = adopted[cited[0]]
        at = start + word.start()
        line, col = source.text_line(loc, text.count("\n", 0, at))
        yield problem(source.path, line, col, f"{dotted(loc)}: calls {rec.com or rec.key} a proposal "
                      f"('{word.group(1)}'), but "
                      f"{FOLDER}/{rec.key}.yaml records it adopted as {_adopted_as(rec)}: cite the act "
                      "(and its application date), not the proposal", warning=True)
