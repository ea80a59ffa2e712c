"""The pact's KPIs (issue 15): definitions and observations checked, the scoreboard built, tracked over releases.

The acceptance runs as a new user would, through the installed console script:
`voceunica kpi --out out/` writes the scoreboard in both languages (Markdown and Word, read back here);
a series two calendar cycles behind makes `check` warn at its file; an illustrative KPI in an agreed
dossier is refused at the dossier's line; two tagged releases with different observations make the
release notes and the scoreboard say which KPIs moved, and by how much.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from voceunica import kpi, typography
from voceunica.kpichart import TARGET_COLOUR
from voceunica.pipeline import check
from voceunica.validate import load_project

REPO = Path(__file__).resolve().parents[1]
VOCEUNICA = Path("/tmp/venv/bin/voceunica")
SCRIPT = str(VOCEUNICA) if VOCEUNICA.exists() else shutil.which("voceunica") or "voceunica"
KPIS = ("exports-goods", "investment-mobilised", "microelectronics-employment", "shared-fund-commitments",
        "sme-guarantees")
EPOCH = "1795737600"  # 2026-11-27: staleness and the scoreboard's date do not follow the clock


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the sample project with its KPIs (every content folder the repository has)."""
    root = tmp_path / "project"
    for sub in ("positions", "dossiers", "templates", "kpis", "eu-files"):
        if (REPO / sub).is_dir():
            shutil.copytree(REPO / sub, root / sub)
    return root


def run(root: Path, *args: str, epoch: str = EPOCH) -> subprocess.CompletedProcess[str]:
    """The console script, started in the project (problems print project-relative paths)."""
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["SOURCE_DATE_EPOCH"] = epoch
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, env=env, timeout=300, check=False,
                          cwd=root)


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(root: Path, rel: str, needle: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def flat(text: str) -> str:
    """Text with the typography's no-break spaces as plain spaces (typography.py sets them)."""
    return re.sub(r"[\u00a0\u202f\u2007]", " ", text)


def docx_words(data: bytes) -> tuple[str, list[str], list[bytes]]:
    """(every word of body and tables, the pictures' alt texts, the pictures), read back with python-docx."""
    import docx

    doc = docx.Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    alts = [el.get("descr", "") for el in doc.element.body.iter()
            if el.tag.endswith("}docPr")]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        pictures = [z.read(n) for n in sorted(z.namelist()) if n.startswith("word/media/")]
    return " ".join(flat(" ".join(parts)).split()), [flat(a) for a in alts], pictures


def has_colour(png: bytes, hex_colour: str) -> bool:
    from PIL import Image

    want = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    colours = Image.open(io.BytesIO(png)).convert("RGB").getcolors(maxcolors=1 << 24) or []
    return any(colour == want for _count, colour in colours)


# --- acceptance -------------------------------------------------------------------------------

def test_kpi_command_writes_the_scoreboard_in_both_languages(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run(project, "kpi", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "scoreboard as of 2026-11-27" in done.stderr
    for lang in ("it", "en"):
        md = flat((out / f"scoreboard.{lang}.md").read_text(encoding="utf-8"))
        words, alts, pictures = docx_words((out / f"scoreboard.{lang}.docx").read_bytes())
        p = load_project(project)
        labels = {k: flat(typography.plain(v[lang], lang)) for k, v in p.labels.items()}  # as printed
        for key in ("kpi.latest", "kpi.baseline", "kpi.target", "kpi.progress", "kpi.light", "source"):
            assert md.count(labels[key]) >= len(KPIS), (lang, key)
            assert words.count(labels[key]) >= len(KPIS), (lang, key)
        assert labels["kpi.light.rule"].split(":")[0] in words  # the rule is stated, in words
        for kid in KPIS:
            meta = p.kpis[kid].meta
            assert flat(typography.plain(meta.name[lang], lang)) in words
            assert flat(typography.plain(meta.source.dataset, lang)) in words  # the source line names the dataset
            assert (out / f"scoreboard.{kid}.{lang}.png").is_file()
        # every chart: one picture per KPI, alt text naming both regions and the target line
        target = labels["kpi.target_line"].split(" ")[0]
        assert len(alts) == len(KPIS) == len(pictures)
        for alt in alts:
            assert target in alt and labels["kpi.region.lombardia"] in alt and labels["kpi.region.veneto"] in alt
        assert all(has_colour(png, TARGET_COLOUR) for png in pictures)  # the dashed target line is drawn
    # the figures as formatted in each language: 244,0 / 244.0, progress in percent
    it = flat((out / "scoreboard.it.md").read_text(encoding="utf-8"))
    en = flat((out / "scoreboard.en.md").read_text(encoding="utf-8"))
    assert "244,0 miliardi di EUR" in it
    assert "244.0 EUR billion" in en
    assert "| 26 % | ● GREEN – on track |" in en  # sme-guarantees: 25.7 % against 25 % due
    assert "AMBER" in en and "NO RATING" in en


def test_a_series_two_cycles_behind_makes_check_warn_at_its_file(project: Path) -> None:
    csv = project / "kpis" / "exports-goods.csv"
    csv.write_text("\n".join(line for line in csv.read_text(encoding="utf-8").splitlines()
                             if not line.startswith("2024,")) + "\n", encoding="utf-8")
    done = run(project, "check")
    assert done.returncode == 0, done.stderr  # a warning: the build goes on
    line = line_of(project, "kpis/exports-goods.yaml", "calendar:")
    assert re.search(rf"^kpis/exports-goods\.yaml:{line}:\d+: warning: KPI 'exports-goods' is stale: .*expected "
                     r"the 2025 figures by 2026-03-31, but the latest observation is 2023 .*\(2 releases behind, "
                     r"as of 2026-11-27\)", done.stderr, re.M), done.stderr


def test_a_series_up_to_date_by_its_calendar_gives_no_warning(project: Path) -> None:
    done = run(project, "check", epoch="1740787200")  # 1 March 2025: the 2024 figures are due by 31 March
    assert "stale" not in done.stderr, done.stderr


def test_an_illustrative_kpi_in_an_agreed_dossier_is_refused_at_its_line(project: Path) -> None:
    edit(project, "dossiers/steel-2026.yaml", "annexes: [", "kpis: [exports-goods, sme-guarantees]\nannexes: [")
    done = run(project, "check")
    assert done.returncode == 1
    line = line_of(project, "dossiers/steel-2026.yaml", "kpis:")
    # both: the exports' target is a placeholder, the guarantees' figures are illustrative
    assert re.search(rf"^dossiers/steel-2026\.yaml:{line}:\d+: kpis\[0\]: KPI 'exports-goods' cannot be in this "
                     r"dossier: its target is illustrative", done.stderr, re.M), done.stderr
    assert re.search(rf"^dossiers/steel-2026\.yaml:{line}:\d+: kpis\[1\]: KPI 'sme-guarantees' cannot be in this "
                     r"dossier: its figures are illustrative \(kpis/sme-guarantees\.yaml\)", done.stderr, re.M)
    build = run(project, "build", "steel-2026", "--out", str(project.parent / "b"))
    assert build.returncode == 1 and not (project.parent / "b").exists()


def test_derived_from_illustrative_and_the_scoreboard_alias_are_refused_too(project: Path) -> None:
    edit(project, "kpis/investment-mobilised.yaml", "  illustrative: true\n", "")
    edit(project, "dossiers/steel-2026.yaml", "annexes: [", "kpis: [scoreboard]\nannexes: [")
    p = check(project)
    found = [str(x) for x in p.errors if "kpis[0]" in x.message]
    assert any("'investment-mobilised'" in m and "derived from 'sme-guarantees'" in m for m in found), found
    assert len(found) == len(KPIS)


def test_an_illustrative_annex_in_an_agreed_dossier_is_refused(project: Path) -> None:
    edit(project, "dossiers/steel-2026.yaml", "annexes: [steel-district",
         "annexes: [microelectronics-employment-index, steel-district")
    p = check(project)
    line = line_of(project, "dossiers/steel-2026.yaml", "annexes:")
    assert [(x.path, x.line, x.message.split(":")[0]) for x in p.errors] == [
        ("dossiers/steel-2026.yaml", line, "annexes[0]")]
    assert "is illustrative" in p.errors[0].message


def test_the_sample_builds_clean() -> None:
    p = check(REPO)
    assert [str(x) for x in p.errors] == []
    assert sorted(p.kpis) == list(KPIS)
    for d in p.dossiers.values():  # no illustrative figures in the agreed sample dossiers
        assert not any(p.annexes[a].meta.illustrative for a in d.annexes if a in p.annexes)


def test_an_official_kpi_is_an_annex_of_an_agreed_dossier(project: Path, tmp_path: Path) -> None:
    edit(project, "kpis/exports-goods.yaml", "  illustrative: true\n", "")
    edit(project, "dossiers/steel-2026.yaml", "annexes: [", "kpis: [exports-goods]\nannexes: [")
    out = tmp_path / "b"
    done = run(project, "build", "steel-2026", "--out", str(out))
    assert done.returncode == 0, done.stderr
    en = flat((out / "steel-2026.en.md").read_text(encoding="utf-8"))
    assert "## Annex 3 – Exports of goods" in en
    assert "Latest: 244.0 EUR billion (2024, Lombardy and Veneto, provisional)" in en
    assert "Out of date: by its release calendar the 2025 figures were due by 31 March 2026." in en
    words, alts, pictures = docx_words((out / "steel-2026.en.docx").read_bytes())
    assert "Traffic light: NO RATING" in words
    kpi_alt = [a for a in alts if "Target 2028 (Lombardy and Veneto): 260.0" in a]
    assert len(kpi_alt) == 1
    assert any(has_colour(png, TARGET_COLOUR) for png in pictures)
    assert (out / "steel-2026.exports-goods.en.png").is_file()


def test_the_same_sources_give_the_same_scoreboard(project: Path) -> None:
    import datetime as dt

    from voceunica.kpireport import render_scoreboard_files

    p = check(project)
    first = render_scoreboard_files(p, dt.date(2026, 11, 27), None, None)
    again = render_scoreboard_files(check(project), dt.date(2026, 11, 27), None, None)
    assert sorted(first) == sorted(again) and all(first[n] == again[n] for n in first)
    assert sum(n.endswith(".png") for n in first) == 2 * len(KPIS)


# --- observations and formulas, located ---------------------------------------------------------

def test_bad_observations_are_located_in_the_csv(project: Path) -> None:
    (project / "kpis" / "exports-goods.csv").write_text(
        "period,region,value,status,published\n"
        "2023,lombardia,163.1,final,\n"
        "2023-Q1,veneto,81.9,final,\n"
        "2023,lazio,1.0,final,\n"
        "2023,lombardia,1.0,final,\n"
        "2024,veneto,80,1,final,\n"
        "2024,both,1 000,final,\n"
        "2024,lombardia,1.0,finished,\n"
        "2025,veneto,1.0,final,31/03/2026\n", encoding="utf-8")
    p = check(project)
    messages = {(x.line, x.col): x.message for x in p.errors if x.path == "kpis/exports-goods.csv"}
    assert messages[(4, 6)] == "column 'region': 'lazio' is not one of its categories (lombardia, veneto, both)"
    assert messages[(6, 1)] == "row has 6 fields, the header has 5"
    assert any(k == (7, 11) and "expected a number with '.' as decimal point" in m for k, m in messages.items())
    assert any(k == (8, 20) and "'finished' is not one of its categories" in m for k, m in messages.items())


def test_rows_that_parse_are_checked_against_the_kpi(project: Path) -> None:
    (project / "kpis" / "exports-goods.csv").write_text(
        "period,region,value,status,published\n"
        "2023,lombardia,163.1,final,\n"
        "2023-Q1,veneto,81.9,final,\n"
        "2023,lombardia,1.0,final,\n"
        "2024,veneto,1.0,final,31/03/2026\n", encoding="utf-8")
    p = check(project)
    messages = {(x.line, x.col): x.message for x in p.errors if x.path == "kpis/exports-goods.csv"}
    assert messages[(3, 1)].startswith("column 'period': '2023-Q1' is not a yearly period (e.g. 2025)")
    assert messages[(4, 1)] == "2023 lombardia is given twice (first at line 2)"
    assert messages[(5, 23)].startswith("column 'published': expected a date YYYY-MM-DD")


def test_a_derived_value_off_its_formula_is_a_warning_at_the_formula(project: Path) -> None:
    edit(project, "kpis/investment-mobilised.csv", "2025,both,320.0", "2025,both,321.0")
    p = check(project)
    line = line_of(project, "kpis/investment-mobilised.yaml", "formula:")
    found = [x for x in p.problems if x.path == "kpis/investment-mobilised.yaml"]
    assert [(x.line, x.is_error) for x in found] == [(line, False)]
    assert "2025 both is 321.0 in kpis/investment-mobilised.csv:4, but sum(sme-guarantees, " \
           "shared-fund-commitments) gives 320.0" in found[0].message


@pytest.mark.parametrize(("formula", "message"), [
    ("__import__('os').system('x')", "is not understood"),
    ("sum(sme-guarantees)", "sum() takes 2 or more KPI ids, got 1"),
    ("ratio(sme-guarantees, nowhere)", "formula: no KPI 'nowhere'"),
    ("sum(sme-guarantees, investment-mobilised)", "depends on 'investment-mobilised' (a cycle)"),
])
def test_formulas_are_a_tiny_language_never_code(project: Path, formula: str, message: str) -> None:
    edit(project, "kpis/investment-mobilised.yaml", "formula: sum(sme-guarantees, shared-fund-commitments)",
         f"formula: \"{formula}\"")
    p = check(project)
    line = line_of(project, "kpis/investment-mobilised.yaml", "formula:")
    assert any(x.path == "kpis/investment-mobilised.yaml" and x.line == line and message in x.message
               for x in p.errors), [str(x) for x in p.problems]


def test_formula_evaluation() -> None:
    f = kpi.parse_formula("percent(a, b)")
    assert isinstance(f, kpi.Formula)
    assert kpi.evaluate(f, [Decimal(1), Decimal(4)]) == Decimal(25)
    assert kpi.evaluate(f, [Decimal(1), Decimal(0)]) is None


def test_calendar_arithmetic() -> None:
    import datetime as dt

    assert kpi.due((2025, 1), "yearly", 3) == dt.date(2026, 3, 31)
    assert kpi.expected_period(dt.date(2026, 3, 30), "yearly", 3) == (2024, 1)
    assert kpi.expected_period(dt.date(2026, 3, 31), "yearly", 3) == (2025, 1)
    assert kpi.expected_period(dt.date(2026, 11, 27), "quarterly", 1) == (2026, 3)
    assert kpi.expected_period(dt.date(2026, 11, 27), "monthly", 2) == (2026, 8)  # September's due 30.11.
    assert kpi.expected_period(dt.date(2026, 11, 30), "monthly", 2) == (2026, 9)


def test_a_misspelt_field_and_a_reserved_id_are_located(project: Path) -> None:
    edit(project, "kpis/exports-goods.yaml", "decimals: 1", "decimal: 1")
    shutil.copy(project / "kpis" / "sme-guarantees.yaml", project / "kpis" / "scoreboard.yaml")
    shutil.copy(project / "kpis" / "sme-guarantees.csv", project / "kpis" / "scoreboard.csv")
    edit(project, "kpis/scoreboard.yaml", "id: sme-guarantees", "id: scoreboard")
    p = check(project)
    where = {(x.path, x.line) for x in p.errors}
    assert ("kpis/exports-goods.yaml", line_of(project, "kpis/exports-goods.yaml", "decimal: 1")) in where
    assert ("kpis/scoreboard.yaml", line_of(project, "kpis/scoreboard.yaml", "id: scoreboard")) in where


# --- over releases ----------------------------------------------------------------------------------

def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@e",
                           "-c", "commit.gpgsign=false", *args], check=True, capture_output=True, text=True)
    return done.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_two_releases_name_the_kpis_that_moved_and_by_how_much(project: Path, tmp_path: Path) -> None:
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "first")
    git(project, "tag", "v1.0.0")
    with (project / "kpis" / "exports-goods.csv").open("a", encoding="utf-8") as f:
        f.write("2025,lombardia,170.2,provisional,2026-03-16\n2025,veneto,82.4,provisional,2026-03-16\n"
                "2025,both,252.6,provisional,2026-03-16\n")
    edit(project, "kpis/sme-guarantees.csv", "2025,veneto,110.0", "2025,veneto,112.5")
    edit(project, "kpis/sme-guarantees.csv", "2025,both,320.0", "2025,both,322.5")
    edit(project, "kpis/investment-mobilised.csv", "2025,veneto,110.0", "2025,veneto,112.5")
    edit(project, "kpis/investment-mobilised.csv", "2025,both,320.0", "2025,both,322.5")
    git(project, "commit", "-q", "-am", "2025 exports; guarantees revised")
    git(project, "tag", "v1.1.0")

    dist = tmp_path / "dist"
    done = run(project, "release", "v1.1.0", "--out", str(dist), "-j", "1")
    assert done.returncode == 0, done.stderr
    notes = flat((dist / "v1.1.0" / "CHANGELOG.en.md").read_text(encoding="utf-8"))
    assert "*since v1.0.0*" in notes and "## Indicators (KPIs)" in notes
    assert "- Indicator `exports-goods`: from 244.0 (2024) to 252.6 (2025), +8.6 EUR billion; " \
           "observations: 3 added, 0 revised, 0 removed" in notes
    assert "- Indicator `sme-guarantees`: from 320.0 (2025) to 322.5 (2025), +2.5 EUR million; " \
           "observations: 0 added, 2 revised, 0 removed" in notes
    assert "shared-fund-commitments" not in notes  # what did not move is not listed
    notes_it = flat((dist / "v1.1.0" / "CHANGELOG.it.md").read_text(encoding="utf-8"))
    assert "- Indicatore `exports-goods`: da 244,0 (2024) a 252,6 (2025), +8,6 miliardi di EUR" in notes_it

    out = tmp_path / "out"
    done = run(project, "kpi", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "moves v1.0.0 → v1.1.0" in done.stderr
    en = flat((out / "scoreboard.en.md").read_text(encoding="utf-8"))
    assert "**Movement between the last two releases (v1.0.0 → v1.1.0):** from 244.0 (2024) to 252.6 (2025), " \
           "+8.6 EUR billion" in en
    assert en.count("(v1.0.0 → v1.1.0):** unchanged") == 2  # the fund and the employment index
    words, _, _ = docx_words((out / "scoreboard.en.docx").read_bytes())
    assert "from 320.0 (2025) to 322.5 (2025), +2.5 EUR million" in words
