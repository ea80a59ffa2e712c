"""voceunica brief DOSSIER --audience: a one-page brief of the asks for one institution (issue 14, item 5)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import docx
import pytest

from voceunica.audience import pick, relevant
from voceunica.pipeline import check

CLI = Path(sys.executable).with_name("voceunica")
OFFICE = shutil.which("soffice") is not None
needs_office = pytest.mark.skipif(not OFFICE, reason="LibreOffice (soffice) is not installed: no page count")


def run(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], cwd=root, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, check=False)


def text_of(path: Path) -> str:
    d = docx.Document(str(path))
    parts = [p.text for p in d.paragraphs]
    parts += [c.text for t in d.tables for row in t.rows for c in row.cells]
    return "\n".join(parts).replace("\u00a0", " ")


def long_fourth_ask(root: Path) -> None:
    """The steel position's export ask (for the Commission) becomes a long one for the Parliament:
    the Parliament's brief then carries three asks, too many words for a page."""
    pos = root / "positions" / "steel-trade-energy.yaml"
    s = pos.read_text(encoding="utf-8").replace("status: agreed", "status: draft", 1)
    it = " ".join(["Le Regioni chiedono al Parlamento di rafforzare il monitoraggio delle importazioni di prodotti "
                   "a valle e di coinvolgere le autorità regionali nelle valutazioni periodiche."] * 6)
    en = " ".join(["The Regions ask the Parliament to strengthen the monitoring of imports of downstream goods "
                   "and to involve regional authorities in the periodic assessments."] * 6)
    for old, new in (("    eu_file: cbam\n    audiences: [commission]", "    eu_file: cbam-downstream\n"
                      "    audiences: [parliament]"),
                     ("        Find a lasting solution for Union exports of steel and downstream goods to third\n"
                      "        markets before free allocation is phased out.\n", f"        {en}\n"),
                     ("        Individuare, prima della progressiva eliminazione delle quote gratuite, una "
                      "soluzione\n        stabile per le esportazioni di acciaio e di prodotti a valle dell'Unione "
                      "verso i mercati\n        terzi.\n", f"        {it}\n")):
        assert old in s
        s = s.replace(old, new)
    pos.write_text(s, encoding="utf-8")


@needs_office
def test_the_parliaments_brief_is_one_page_per_language(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run(sample, "brief", "steel-2026", "--audience", "parliament", "--out", str(out), "--pdf")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert re.search(r"2 ask\(s\); it one page \(\d+ % full\), en one page \(\d+ % full\)", res.stderr)
    for lang in ("it", "en"):
        pdf = out / f"steel-2026.brief-parliament.{lang}.pdf"
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout \
            if shutil.which("pdfinfo") else "Pages: 1"
        assert re.search(r"^Pages:\s+1$", info, re.M)
    en = text_of(out / "steel-2026.brief-parliament.en.docx")
    it = text_of(out / "steel-2026.brief-parliament.it.docx")
    assert "Brief for the European Parliament" in en and "Nota per il Parlamento europeo" in it
    # the committee and the rapporteur (a fictitious name, said so), the article, the deadline
    assert "ENVI (Committee on the Environment, Climate and Food Safety); rapporteur Luca Modello (S&D) " \
           "(fictitious name)" in en
    assert "ITRE" in en and "relatore Luca Modello (S&D) (nome fittizio)" in it
    assert "COM(2025) 989 final (CBAM extension to downstream goods): Article 1 – new provision" in en
    assert "Deadline: Provisional agreement, expected by 31 March 2027 (unverified)" in en
    assert "Scadenza: Accordo provvisorio, previsto per il 31 marzo 2027 (da verificare)" in it
    # the Transparency Register line: the offices give no number, so it says what they are
    assert "Transparency Register: Delegation of Lombardy Region to the EU: public authority, not registered" in en
    assert "autorità pubblica, non iscritta" in it
    # asks for the Commission or for Rome stay out of the Parliament's brief
    assert "lasting solution for Union exports" not in en and "network charges" not in en


@needs_office
def test_a_fourth_long_ask_is_refused_with_the_overflow(sample: Path, tmp_path: Path) -> None:
    long_fourth_ask(sample)
    out = tmp_path / "out"
    res = run(sample, "brief", "steel-2026", "--audience", "parliament", "--out", str(out), "--pdf")
    assert res.returncode == 1, res.stderr
    m = re.search(r"^positions/steel-trade-energy\.yaml:\d+:\d+: brief steel-2026 for the parliament does not fit "
                  r"one page — it: runs to 2 pages \(the second (\d+) % full\); cut ~(\d+) lines; en: runs to 2 "
                  r"pages \(the second \d+ % full\); cut ~\d+ lines: shorten the asks \(the longest, asks\[1\], is "
                  r"here\)", res.stderr, re.M)
    assert m, res.stderr
    assert 0 < int(m.group(1)) < 100 and int(m.group(2)) > 0
    assert not out.exists() or not list(out.iterdir())  # nothing written


def test_without_libreoffice_it_warns_and_writes(sample: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("git",):
        found = shutil.which(tool)
        if found:
            (bare / tool).symlink_to(found)
    out = tmp_path / "out"
    res = run(sample, "brief", "steel-2026", "--audience", "council", "--out", str(out), env={"PATH": str(bare)})
    assert res.returncode == 0, res.stderr
    assert "voceunica: warning: brief: could not verify that each brief fits one page (LibreOffice" in res.stderr
    names = sorted(p.name for p in out.iterdir() if "council" in p.name)
    assert names == ["steel-2026.brief-council.en.docx", "steel-2026.brief-council.it.docx"]
    en = text_of(out / "steel-2026.brief-council.en.docx")
    assert "Working Party on the Environment (unverified), through Italy’s Permanent Representation" in en
    # three asks on one file: what the second and third share with the first is said once
    res = run(sample, "brief", "microelectronics-2026", "--audience", "parliament", "--out", str(out),
              env={"PATH": str(bare)})
    assert res.returncode == 0, res.stderr
    en = text_of(out / "microelectronics-2026.brief-parliament.en.docx")
    assert en.count("Addressed to: European Parliament – ITRE") == 1
    assert en.count("On, addressed to, deadline: as for ask 1") == 2


def test_asks_are_chosen_by_audience_or_by_stage(sample: Path) -> None:
    project = check(sample)
    picks, warnings = pick(project, "steel-2026", "commission")
    assert [(p.pos.id, p.index) for p in picks] == [("steel-trade-energy", 1), ("steel-trade-energy", 2)]
    assert not warnings
    pos = project.positions["steel-trade-energy"]
    ask = pos.asks[0].model_copy(update={"audiences": []})  # cbam-downstream, in trilogue
    day = project.dossiers["steel-2026"].date
    assert relevant(project, pos, ask, "parliament", day) and relevant(project, pos, ask, "council", day)
    assert not relevant(project, pos, ask, "commission", day)
    adopted = pos.asks[2].model_copy(update={"audiences": []})  # the steel import regime, adopted and applying
    assert relevant(project, pos, adopted, "commission", day)
    assert not relevant(project, pos, adopted, "parliament", day)
    # more than three: the dossier's first three, and one warning at the dossier naming the rest
    picks, warnings = pick(project, "joint-agenda-2026", "commission")
    assert len(picks) == 3
    [w] = warnings
    assert w.path == "dossiers/joint-agenda-2026.yaml" and w.severity.value == "warning"
    assert re.match(r"\d+ more ask\(s\) are for the commission, but a one-page brief carries 3", w.message)


def test_no_ask_for_the_audience_and_an_unknown_dossier_are_refused(sample: Path, tmp_path: Path) -> None:
    res = run(sample, "brief", "steel-2026", "--audience", "cor", "--out", str(tmp_path / "o"))
    assert res.returncode == 1
    assert re.search(r"^dossiers/steel-2026\.yaml:\d+:1: brief: no ask of steel-2026's positions is for the cor",
                     res.stderr, re.M)
    res = run(sample, "brief", "steel-2062", "--audience", "cor")
    assert res.returncode == 1 and "voceunica: brief: no dossier 'steel-2062'" in res.stderr
    assert run(sample, "brief", "steel-2026", "--audience", "ecb").returncode == 2
