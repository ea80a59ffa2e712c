"""Review rules: one voice only for content both regions approved, versions that move forward.

`signoff_problems` and `translation_problems` need only the working tree;
`version_problems` compares with the project at a base revision (`check
--base REV`).  All return `Problem`s; `check` prints them with the rest.
"""

from __future__ import annotations

import re

from voceunica.errors import Problem
from voceunica.fingerprint import content, fingerprint, signoff_state, translation_status
from voceunica.model import BINDING_STATUSES, LANG_NAMES, Position
from voceunica.project import Project
from voceunica.regions import REGIONS, short_name


def signoff_problems(project: Project) -> list[Problem]:
    out = []
    for pos in project.positions.values():
        source = project.sources[f"position:{pos.id}"]
        binding = pos.status in BINDING_STATUSES
        for region in REGIONS:
            state = signoff_state(pos, region)
            if state == "current":
                continue
            s = getattr(pos.signoffs, region)
            how = f"voceunica signoff {pos.id} --region {region} --by NAME"
            if state == "stale":
                assert s is not None
                msg = (f"{short_name(region)}'s approval (by {s.by}, {s.date.isoformat()}) is stale: "
                       f"the content changed after it was given")
                loc: tuple[str | int, ...] = ("signoffs", region)
            else:
                msg = f"{short_name(region)} has not approved this content"
                loc = ("signoffs",) if ("signoffs",) in source.values else ("status",)
            if binding:
                out.append(source.problem(loc, f"status is '{pos.status}' but {msg}; re-approve ({how}) "
                                               "or set status: draft"))
            elif state == "stale":
                out.append(source.problem(loc, msg, warning=True))
    return out


def translation_problems(project: Project) -> list[Problem]:
    out = []
    for pos in project.positions.values():
        source = project.sources[f"position:{pos.id}"]
        src_name = LANG_NAMES[pos.source_language]
        for st in translation_status(pos):
            if st.state == "outdated":
                out.append(source.problem(
                    st.loc, f"{st.field}.{st.loc[-1]}: translation outdated: the {src_name} text changed "
                            f"since it was translated (once updated: voceunica i18n mark {pos.id})",
                    warning=True))
    return out


def suggest_bump(old: Position, new: Position) -> str:
    """Patch for wording, minor when asks/sections/amendments/EU files were added or removed."""
    major, minor, patch = (int(x) for x in old.version.split("."))
    a, b = content(old), content(new)
    structural = any(len(a.get(k, [])) != len(b.get(k, [])) for k in ("asks", "sections", "amendments", "eu_files"))
    return f"{major}.{minor + 1}.0" if structural else f"{major}.{minor}.{patch + 1}"


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v))


def version_problems(base: Project, head: Project, base_rev: str) -> list[Problem]:
    out = []
    for pid, new in head.positions.items():
        old = base.positions.get(pid)
        if old is None:
            continue
        source = head.sources[f"position:{pid}"]
        if _version(new.version) < _version(old.version):
            out.append(source.problem(("version",), f"version went down from {old.version} (at {base_rev}) "
                                                    f"to {new.version}"))
        elif fingerprint(new) != fingerprint(old) and new.version == old.version:
            out.append(source.problem(("version",), f"position '{pid}' changed since {base_rev} but its version "
                                                    f"is still {old.version}: bump it (suggested: "
                                                    f"{suggest_bump(old, new)})"))
    removed = set(base.positions) - set(head.positions)
    for did, dossier in head.dossiers.items():
        source = head.sources[f"dossier:{did}"]
        for i, pid in enumerate(dossier.positions):
            if pid in removed:
                out.append(source.problem(("positions", i), f"position '{pid}' was removed since {base_rev} "
                                                            f"but dossier '{did}' still lists it"))
    return out
