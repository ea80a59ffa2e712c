"""The preview site (`voceunica site`): what it shows, what it never shows, and in a real browser.

The first tests read the files the site writes; the browser tests drive a
headless Chromium (Debian's `chromium` and `chromium-driver`, through selenium)
over file:// URLs and skip, saying why, where those are absent.  The
accessibility check injects axe-core (from the npm registry: `.ci/run` installs
it and sets VOCEUNICA_AXE_JS) and skips without it.  Screenshots go to
VOCEUNICA_SCREENSHOTS when set (to look at them), else to the test's folder.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import POS, REPO, make_draft, make_project

from voceunica.site.mdhtml import to_html
from voceunica.site.publish import LISTING, build_site

SRC = str(REPO / "src")
STEEL = "steel-trade-energy"


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "VOCEUNICA_DEBUG"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [SRC, env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "voceunica", "-C", str(root), *args], check=False,
                          capture_output=True, text=True, env=env, timeout=300)


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@e",
                           "-c", "commit.gpgsign=false", *args], check=True, capture_output=True, text=True)
    return done.stdout


SAMPLE = REPO


def copy_sample(root: Path) -> Path:
    """A copy of the repository's sample content (every content folder it has)."""
    for sub in ("positions", "dossiers", "templates", "eu-files", "kpis"):
        if (SAMPLE / sub).is_dir():
            shutil.copytree(SAMPLE / sub, root / sub)
    for name in ("glossary.yaml",):
        if (SAMPLE / name).is_file():
            shutil.copy(SAMPLE / name, root / name)
    return root


def pages(site: Path) -> dict[str, str]:
    return {p.relative_to(site).as_posix(): p.read_text(encoding="utf-8") for p in sorted(site.rglob("*.html"))}


def words(text: str) -> str:
    """Text as a reader finds it: entities read, whitespace collapsed."""
    return " ".join(html.unescape(text).split())


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_sample(tmp_path_factory.mktemp("site") / "sample")
    build_site(root)
    return root / "site"


# --- the pages -------------------------------------------------------------------------------------

def test_home_lists_the_dossiers_and_positions_by_sector_with_a_switch_to_english(sample_site: Path) -> None:
    home = (sample_site / "index.html").read_text(encoding="utf-8")
    assert '<html lang="it">' in home
    for d in ("steel-2026", "microelectronics-2026", "joint-agenda-2026"):
        assert f'href="dossier/{d}.it.html"' in home
    assert f'href="position/{STEEL}.it.html"' in home and "<h3>Siderurgia</h3>" in home
    assert 'href="index.en.html" hreflang="en" lang="en"' in home  # the switch is in the other language
    assert "Fascicoli UE trattati" in home and "COM(2025) 989 final" in home  # the EU files addressed
    position = (sample_site / f"position/{STEEL}.it.html").read_text(encoding="utf-8")
    assert f'href="../position/{STEEL}.en.html"' in position  # the same position, in English
    assert f'href="../history/{STEEL}.it.html"' in position
    assert "Stato della posizione" in position and "Regione del Veneto" in position
    assert re.search(r"<td>\d+ campi tradotti</td>", position)  # translation freshness
    assert 'class="footnote-ref"' in position and 'class="footnotes"' in position
    dossier = (sample_site / "dossier/steel-2026.en.html").read_text(encoding="utf-8")
    assert '<th scope="col"' in dossier  # annex tables have header cells
    charts = re.findall(r'<img src="([^"]+)" alt="([^"]*)"', dossier)
    assert charts and all(alt.strip() for _, alt in charts)
    assert all((sample_site / "dossier" / src).is_file() for src, _ in charts)


def test_every_page_is_small_has_its_language_and_headings_in_order(sample_site: Path) -> None:
    found = pages(sample_site)
    assert len(found) >= 30
    for name, text in found.items():
        size = len(text.encode("utf-8"))
        assert size < 100_000, f"{name}: {size} bytes"
        lang = "en" if ".en." in name else "it"
        assert f'<html lang="{lang}">' in text, name
        levels = [int(h) for h in re.findall(r"<h([1-6])[ >]", text)]
        assert levels[0] == 1 and levels.count(1) == 1, name
        for before, after in zip(levels, levels[1:], strict=False):
            assert after <= before + 1, f"{name}: h{before} followed by h{after}"
        assert "<img" not in text or not re.search(r'<img(?![^>]*alt="[^"]+")', text), name
        assert "javascript:" not in text.lower()
        scripts = re.findall(r"<script[^>]*>", text)
        assert all(re.fullmatch(r'<script src="(\.\./)*assets/search(-index)?\.js">', s) for s in scripts), name


def test_markdown_is_escaped_and_only_safe_links_survive() -> None:
    out = to_html("A <script>alert(1)</script> [x](javascript:alert(1)) [y](https://eur-lex.europa.eu) "
                  "<img src=x onerror=alert(1)> ![i](file:///etc/passwd)\n\n<div onclick=x>block</div>\n")
    assert "<script" not in out and "<img" not in out and "<div" not in out
    assert "&lt;script&gt;" in out and "&lt;div onclick=x&gt;" in out
    assert 'href="javascript' not in out and 'href="https://eur-lex.europa.eu"' in out
    assert to_html("# T\n\n## S\n", shift=1) == "<h2>T</h2>\n<h3>S</h3>\n"
    assert to_html("a<br>b | c", inline=True) == "a<br>b | c"  # the one tag table cells carry
    assert to_html("<!-- vu:toc -->\n\ntext\n") == "<p>text</p>\n"


def test_drafts_never_appear_without_drafts_and_every_page_says_draft_with_it(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    make_draft(root)
    text = (root / POS).read_text(encoding="utf-8")
    secrets = ["Le Regioni chiedono un CBAM efficace", "The Regions ask for an effective CBAM",
               "Estendere il CBAM ai prodotti a valle", "Extend CBAM to downstream goods",
               "Il periodo definitivo è iniziato", "The definitive period started"]
    assert all(s in text for s in secrets)
    done = cli(root, "site")
    assert done.returncode == 0, done.stderr
    assert "site: 0 positions, 0 dossiers" in done.stderr
    site = root / "site"
    for path in site.rglob("*"):
        if path.is_file():
            data = words(path.read_bytes().decode("utf-8", "replace"))
            assert not [s for s in secrets if s in data], path  # pages, search index, listing: nowhere
    # with --drafts they are there, and every page says DRAFT
    done = cli(root, "site", "--drafts")
    assert done.returncode == 0, done.stderr
    found = pages(site)
    everything = words(" ".join(found.values()) + (site / "assets/search-index.js").read_text(encoding="utf-8"))
    assert all(s in everything for s in secrets)
    for name, page in found.items():
        assert 'class="draft-banner"' in page and ("BOZZA" in page or "DRAFT" in page), name
    # and without it again, the draft pages an earlier run wrote are gone; a file of the user's stays
    (site / "notes.txt").write_text("mine", encoding="utf-8")
    assert cli(root, "site").returncode == 0
    assert not (site / "position/steel-mini.it.html").exists()
    assert (site / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not [p for p in site.rglob("*") if p.is_file() and b"CBAM efficace" in p.read_bytes()]


def test_a_draft_sample_position_leaves_with_its_dossiers(tmp_path: Path) -> None:
    root = copy_sample(tmp_path / "sample")
    pos = root / "positions" / "sme-credit.yaml"
    pos.write_text(pos.read_text(encoding="utf-8").replace("status: agreed", "status: draft", 1), encoding="utf-8")
    result = build_site(root)
    site = result.folder
    assert result.positions == 4
    assert not list(site.rglob("*sme-credit*")) and not list(site.rglob("joint-agenda-2026*"))
    assert (site / "dossier/steel-2026.it.html").is_file()
    index = (site / "assets/search-index.js").read_text(encoding="utf-8")
    assert "sme-credit" not in index and "joint-agenda" not in index


def test_outputs_are_refused_among_the_sources(mini: Path) -> None:
    done = cli(mini, "site", "--out", str(mini / "positions" / "site"))
    assert done.returncode == 1
    assert "outputs cannot go into positions/" in done.stderr and "Traceback" not in done.stderr
    assert not (mini / "positions" / "site").exists()


def test_a_project_without_site_templates_gets_the_defaults_or_is_told_where_they_go(mini: Path) -> None:
    """With voceunica's default templates (voceunica.defaults, where installed) a project needs no
    templates/site/ of its own; without them it is told, in one located line."""
    shutil.rmtree(mini / "templates" / "site")
    done = cli(mini, "site")
    assert "Traceback" not in done.stderr
    try:
        from voceunica.defaults import read as default_template
    except ImportError:
        default_template = None
    if default_template is not None and default_template("site/page.html.j2") is not None:
        assert done.returncode == 0, done.stderr
        assert (mini / "site" / "assets" / "site.css").read_bytes() == default_template("site/site.css")
    else:
        assert done.returncode == 1
        assert "templates/site:1:1: missing page.html.j2, site.css" in done.stderr
        assert not (mini / "site").exists()


def test_after_a_build_the_site_reuses_its_charts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The charts build drew are taken from build/ (the cache vouches for them): no matplotlib, under a second
    of work for the sample on an idle machine (the time is printed; the README gives the figure)."""
    root = copy_sample(tmp_path / "sample")
    assert cli(root, "build", "-j", "1").returncode == 0
    import voceunica.pipeline

    def no_drawing(*_: Any) -> bytes:
        raise AssertionError("a chart was drawn again")

    monkeypatch.setattr(voceunica.pipeline, "render_dossier", no_drawing)
    start = time.perf_counter()
    result = build_site(root)
    took = time.perf_counter() - start
    print(f"site after build: {took:.2f} s in process, {len(result.files)} files")
    pngs = list((result.folder / "dossier").glob("*.png"))
    assert pngs and all(p.read_bytes() == (root / "build" / p.name).read_bytes() for p in pngs)


@pytest.fixture(scope="module")
def history_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini project in git, its summary changed by two words in a second commit (re-signed by both
    regions, translation marked): the history shows the change."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = make_project(tmp_path_factory.mktemp("history"))
    (root / ".gitignore").write_text("site/\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first")
    pos = root / POS
    text = pos.read_text(encoding="utf-8").replace('version: "1.0.0"', 'version: "1.0.1"')
    text = text.replace("chiedono un CBAM efficace", "chiedono un CBAM rapido ed efficace")
    pos.write_text(text.replace("ask for an effective CBAM", "ask for a swift and effective CBAM"), encoding="utf-8")
    for region, name in (("lombardia", "Anna Test"), ("veneto", "Paolo Test")):
        assert cli(root, "signoff", "steel-mini", "--region", region, "--by", name, "--date", "2026-11-20"
                   ).returncode == 0
    assert cli(root, "i18n", "mark", "steel-mini").returncode == 0
    git(root, "commit", "-qam", "second")
    build_site(root)
    return root / "site"


def test_history_shows_the_word_level_change_between_two_commits(history_site: Path) -> None:
    page = (history_site / "history/steel-mini.it.html").read_text(encoding="utf-8")
    assert "Versione 1.0.1" in page and "Versione 1.0.0" in page
    assert "CBAM <ins>rapido ed </ins>efficace" in page
    english = (history_site / "history/steel-mini.en.html").read_text(encoding="utf-8")
    assert "ask for <del>an</del><ins>a swift and</ins> effective CBAM" in english
    assert "rapido" not in english  # each page shows its own language's changes


def test_history_leaves_out_versions_that_were_drafts_then(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = make_project(tmp_path)
    (root / ".gitignore").write_text("site/\n", encoding="utf-8")
    pos = root / POS
    agreed = pos.read_text(encoding="utf-8")
    make_draft(root)
    pos.write_text(pos.read_text(encoding="utf-8").replace("chiedono un CBAM efficace", "chiedono un CBAM provvisorio"),
                   encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "a draft")
    pos.write_text(agreed, encoding="utf-8")  # agreed, as both regions signed it
    git(root, "commit", "-qam", "agreed")
    site = build_site(root).folder
    page = (site / "history/steel-mini.it.html").read_text(encoding="utf-8")
    assert page.count('<section class="version">') == 1
    assert not [p for p in site.rglob("*") if p.is_file() and b"provvisorio" in p.read_bytes()]
    site = build_site(root, drafts=True).folder
    page = (site / "history/steel-mini.it.html").read_text(encoding="utf-8")
    assert page.count('<section class="version">') == 2 and "<del>provvisorio</del>" in page


def test_release_publishes_its_site_beside_its_files(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = make_project(tmp_path)
    (root / ".gitignore").write_text("dist/\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first")
    done = cli(root, "release", "1.0.0", "--site", "-j", "1")
    assert done.returncode == 0, done.stderr
    folder = root / "dist" / "1.0.0"
    assert cli(root, "verify", str(folder)).returncode == 0  # the site's files are in the manifest
    releases = (folder / "site" / "releases.en.html").read_text(encoding="utf-8")
    for name in ("mini.it.docx", "mini.en.docx"):
        sha = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert f'href="../{name}"' in releases and sha in releases
    assert "1.0.0" in (folder / "site" / "index.en.html").read_text(encoding="utf-8")
    assert not (folder / "site" / LISTING).exists()  # a release is written once: no listing of earlier runs


# --- in a real browser -------------------------------------------------------------------------------

def _chromium() -> tuple[str, str] | str:
    """(browser, driver) or why the browser tests cannot run."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        return "Chromium or chromedriver is not installed (apt-get install chromium chromium-driver)"
    return browser, driver


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    found = _chromium()
    if isinstance(found, str):
        pytest.skip(found)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1100,1300"):
        options.add_argument(arg)
    options.binary_location = found[0]
    driver = webdriver.Chrome(options=options, service=Service(found[1]))
    try:
        yield driver
    finally:
        driver.quit()


def shoot(driver: Any, name: str, fallback: Path) -> Path:
    folder = Path(os.environ.get("VOCEUNICA_SCREENSHOTS") or fallback)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    assert driver.save_screenshot(str(path))
    return path


def test_browser_home_language_switch_and_search(browser: Any, sample_site: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get((sample_site / "index.html").as_uri())
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "it"
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "main a")]
    assert len({h for h in links if "/dossier/" in h}) == 3 and len({h for h in links if "/position/" in h}) == 5
    shoot(browser, "home", tmp_path)
    browser.find_element(By.CSS_SELECTOR, f'a[href="position/{STEEL}.it.html"]').click()
    italian = browser.find_element(By.TAG_NAME, "h1").text
    browser.find_element(By.CSS_SELECTOR, "a.lang-switch").click()
    assert browser.current_url.endswith(f"/position/{STEEL}.en.html")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    english = browser.find_element(By.TAG_NAME, "h1").text
    assert english != italian and "Steel" in english
    shoot(browser, "position-en", tmp_path)

    def search(page: str, query: str) -> list[tuple[str, str]]:
        browser.get((sample_site / page).as_uri())
        box = browser.find_element(By.ID, "q")
        box.send_keys(query)
        found = browser.find_elements(By.CSS_SELECTOR, "#vu-results li")
        assert not browser.find_element(By.ID, "vu-all").is_displayed()
        return [(li.get_attribute("lang"), li.find_element(By.TAG_NAME, "a").get_attribute("href")) for li in found]

    hits = search("search.it.html", "rottame")
    assert ("it", (sample_site / f"position/{STEEL}.it.html").as_uri()) in hits
    assert all(lang == "it" for lang, _ in hits)
    shoot(browser, "search-it", tmp_path)
    hits = search("search.it.html", "scrap")  # its English translation finds the English page
    assert ("en", (sample_site / f"position/{STEEL}.en.html").as_uri()) in hits
    assert all(lang == "en" for lang, _ in hits)
    browser.get((sample_site / "index.html").as_uri() + "?")
    form = browser.find_element(By.CSS_SELECTOR, "form.search input")
    form.send_keys("Rottame\n")  # the home page's form leads to the search page, query kept
    assert "search.it.html?q=Rottame" in browser.current_url
    assert browser.find_elements(By.CSS_SELECTOR, "#vu-results li a")


def test_browser_follows_a_position_to_its_history(browser: Any, history_site: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get((history_site / "position/steel-mini.it.html").as_uri())
    browser.find_element(By.LINK_TEXT, "Cronologia").click()
    assert browser.current_url.endswith("/history/steel-mini.it.html")
    inserted = [e.text for e in browser.find_elements(By.TAG_NAME, "ins")]
    assert any("rapido ed" in t for t in inserted)
    shoot(browser, "history", tmp_path)


def _axe_script() -> str | None:
    for candidate in (os.environ.get("VOCEUNICA_AXE_JS"),
                      str(Path.home() / ".cache/voceunica-axe/node_modules/axe-core/axe.min.js"),
                      str(REPO / "node_modules/axe-core/axe.min.js")):
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_text(encoding="utf-8")
    return None


@pytest.mark.parametrize("page", ["index.html", "index.en.html", f"position/{STEEL}.it.html",
                                  f"position/{STEEL}.en.html", "dossier/joint-agenda-2026.it.html",
                                  "dossier/steel-2026.en.html", f"history/{STEEL}.en.html", "search.it.html"])
def test_browser_accessibility_no_serious_violation(browser: Any, sample_site: Path, page: str) -> None:
    script = _axe_script()
    if script is None:
        pytest.skip("axe-core not found (npm install axe-core; set VOCEUNICA_AXE_JS to its axe.min.js)")
    browser.get((sample_site / page).as_uri())
    browser.execute_script(script)
    browser.set_script_timeout(60)
    result = browser.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',"
        " 'best-practice']}}).then(function (r) { done([r.passes.length, r.violations.map(function (v) {"
        " return [v.id, v.impact, v.nodes.length, v.nodes[0].target.join(' ')]; })]); });")
    passes, violations = result
    assert passes > 10  # axe ran its rules (colour contrast, headings, labels, lang, alt text...)
    serious = [v for v in violations if v[1] in ("serious", "critical")]
    assert not serious, serious
    print(page, "axe:", passes, "rules passed; minor:", violations)


@pytest.mark.parametrize("added,message", [
    ("{{ no_such_value }}", "template uses an undefined value"),
    ("{{ 1 // 0 }}", "template error: ZeroDivisionError"),
    ("{% if %}", "template syntax error"),
])
def test_a_mistake_in_a_site_template_is_reported_at_its_own_line(mini: Path, added: str, message: str) -> None:
    page = mini / "templates" / "site" / "home.html.j2"
    lines = page.read_text(encoding="utf-8").splitlines()
    lines.insert(2, added)
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = cli(mini, "site")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    shown = [line.split("/mini/")[-1] for line in done.stderr.splitlines()]
    assert any(line.startswith(f"templates/site/home.html.j2:3:1: {message}") for line in shown), done.stderr
    assert not (mini / "site").exists()
