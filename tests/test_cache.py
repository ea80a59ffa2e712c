"""The caches: what a build skips, what `--force` must not forget, and check's stored verdict
(voceunica.checkcache) — never trusted further than this machine's own records of these bytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DOS, POS
from voceunica import checkcache
from voceunica.errors import VoceunicaError
from voceunica.pipeline import build, check


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home / "voceunica"


def settle() -> None:
    """Let the file clock tick past the last change: a stat taken within a tick of a change
    is not trusted (checkcache._racy), and these tests want the stat path taken."""
    time.sleep(0.1)


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOCEUNICA_")}
    return subprocess.run([sys.executable, "-m", "voceunica", "-C", str(root), *args], capture_output=True,
                          text=True, env=env, timeout=300)


def spoil(root: Path) -> None:
    """A warning (a note never cited) in the mini position, an error (an unknown field) in its dossier."""
    pos = root / POS
    pos.write_text(pos.read_text(encoding="utf-8").replace(
        "notes:\n", "notes:\n  - key: unused\n    text: {it: Mai citata., en: Never cited.}\n"), encoding="utf-8")
    with (root / DOS).open("a", encoding="utf-8") as f:
        f.write("colour: blue\n")


def cache_file(home: Path, root: Path) -> Path:
    return home / checkcache._name(os.path.realpath(root), suffix=".check")


# --- build ------------------------------------------------------------------------------------------

def test_forcing_one_dossier_keeps_the_others_up_to_date(sample: Path) -> None:
    out = sample / "build"
    first = build(sample, out_dir=out, jobs=1)
    assert sorted(first.skipped) == [] and len(first.dossiers) == 3
    forced = build(sample, ["steel-2026"], out_dir=out, jobs=1, force=True)
    assert forced.skipped == [] and forced.dossiers == ["steel-2026"]
    settle()
    again = build(sample, out_dir=out, jobs=1)
    # before the fix, the forced build dropped the other dossiers' cache entries: 2 of 3 rebuilt
    assert sorted(again.skipped) == sorted(first.dossiers), again.skipped
    assert again.files == []
    # and that answer came from a stat of inputs and outputs, without loading the project
    assert checkcache.fresh_build(sample, [], out, force=False, pdf=False, epoch=None) == sorted(first.dossiers)


def test_a_no_change_build_is_a_stat_and_outputs_touched_by_hand_are_rebuilt(mini: Path) -> None:
    settle()
    first = cli(mini, "build")
    assert first.returncode == 0, first.stderr
    settle()
    again = cli(mini, "build", "-j", "2")
    assert again.returncode == 0 and again.stdout == "", again.stderr
    assert again.stderr.strip() == "built 0 dossiers, 0 files; 1 up to date"
    docx = mini / "build" / "mini.it.docx"
    data, st = docx.read_bytes(), docx.stat()
    docx.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size, same mtime: only the ctime tells
    os.utime(docx, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert checkcache.fresh_build(mini, [], None, force=False, pdf=False, epoch=None) is None
    fixed = cli(mini, "build")
    assert fixed.returncode == 0 and "built 1 dossier" in fixed.stderr, fixed.stderr
    assert docx.read_bytes() == data
    (mini / "build" / "mini.en.md").unlink()
    assert checkcache.fresh_build(mini, [], None, force=False, pdf=False, epoch=None) is None
    assert cli(mini, "build").returncode == 0 and (mini / "build" / "mini.en.md").is_file()


def test_the_sites_templates_leave_the_dossiers_up_to_date_and_the_dossiers_template_does_not(mini: Path) -> None:
    out = mini / "build"
    assert build(mini, out_dir=out, jobs=1).dossiers == ["mini"]
    site_css = mini / "templates" / "site" / "site.css"
    site_css.parent.mkdir(exist_ok=True)
    site_css.write_text("body { color: #111; }\n", encoding="utf-8")  # the site's own style: not a dossier's input
    settle()
    assert build(mini, out_dir=out, jobs=1).skipped == ["mini"]
    template = mini / "templates" / "dossier.md.j2"
    template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    settle()
    assert build(mini, out_dir=out, jobs=1).dossiers == ["mini"]


def test_build_refuses_on_the_stored_verdict_as_check_would(mini: Path) -> None:
    spoil(mini)
    settle()
    refused = check(mini)
    assert refused.errors
    settle()
    assert checkcache.verdict(mini) is not None
    with pytest.raises(VoceunicaError) as exc:
        checkcache.fresh_build(mini, [], None, force=False, pdf=False, epoch=None)
    assert exc.value.problems == refused.problems
    with pytest.raises(VoceunicaError):
        build(mini, jobs=1)
    done = cli(mini, "build")
    assert done.returncode == 1 and "colour" in done.stderr and not (mini / "build").exists()


# --- check's verdict ------------------------------------------------------------------------------

def test_an_unchanged_check_reports_the_same_problems_and_warnings(mini: Path, cache_home: Path) -> None:
    spoil(mini)
    settle()
    cold = cli(mini, "check")
    assert cold.returncode == 1 and ": warning: " in cold.stderr and "colour" in cold.stderr, cold.stderr
    assert cache_file(cache_home, mini).is_file()
    cached = checkcache.verdict(mini)
    assert cached is not None and cached.problems == check(mini).problems
    settle()
    hit = cli(mini, "check")
    assert (hit.returncode, hit.stdout, hit.stderr) == (cold.returncode, cold.stdout, cold.stderr)


def test_an_edit_invalidates_even_with_the_same_size_and_mtime(mini: Path) -> None:
    settle()
    assert not check(mini).errors
    settle()
    assert checkcache.verdict(mini) is not None
    pos = mini / POS
    text, st = pos.read_text(encoding="utf-8"), pos.stat()
    edited = text.replace("status: agreed", "status: agreex")  # same length: an invalid status
    pos.write_text(edited, encoding="utf-8")
    os.utime(pos, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert pos.stat().st_size == st.st_size and pos.stat().st_mtime_ns == st.st_mtime_ns
    assert checkcache.verdict(mini) is None
    done = cli(mini, "check")
    assert done.returncode == 1 and "agreex" in done.stderr, done.stderr


def test_the_same_bytes_with_a_new_stat_are_hashed_and_kept(mini: Path) -> None:
    settle()
    clean = check(mini).problems
    os.utime(mini / POS)  # touched: a new mtime, the same content
    settle()
    found = checkcache.verdict(mini)
    assert found is not None and found.problems == clean


def test_a_new_file_or_a_change_within_a_clock_tick_is_not_trusted_by_stat(mini: Path) -> None:
    settle()
    check(mini)
    (mini / "positions" / "new.yaml").write_text("format: voceunica/position@1\n", encoding="utf-8")
    assert checkcache.verdict(mini) is None  # the folder changed
    check(mini)  # no settle: the folder changed just before the check looked at it
    assert checkcache.verdict(mini) is None


@pytest.mark.parametrize("spoilt", ["garbage", "truncated", "magic", "types", "huge", "fifo", "link"])
def test_a_corrupt_cache_is_ignored(mini: Path, cache_home: Path, tmp_path: Path, spoilt: str) -> None:
    settle()
    check(mini)
    settle()
    path = cache_file(cache_home, mini)
    raw = path.read_bytes()
    key = (cache_home / "key").read_bytes()
    head, _, body = raw.partition(b"\n")
    path.unlink()
    if spoilt == "garbage":
        path.write_bytes(os.urandom(5000))
    elif spoilt == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif spoilt == "magic":  # another format version, correctly sealed
        path.write_bytes(b"voceunica-cache/0" + checkcache._seal(key, body)[len(checkcache.MAGIC):])
    elif spoilt == "types":  # sealed with our key, but the shapes are wrong (a bug, an older layout)
        data = json.loads(body)
        data["problems"] = [["x", "1", 1, "m", "error"]]
        data["reads"] = {k: [str(v) for v in e] for k, e in data["reads"].items()}
        path.write_bytes(checkcache._seal(key, json.dumps(data).encode()))
    elif spoilt == "huge":
        with path.open("wb") as f:
            f.write(head + b"\n")
            f.truncate(checkcache.MAX_CACHE_BYTES + 1)
    elif spoilt == "fifo":
        os.mkfifo(path)
    else:
        (tmp_path / "elsewhere").write_bytes(raw)
        path.symlink_to(tmp_path / "elsewhere")
    assert checkcache.verdict(mini) is None
    done = cli(mini, "check")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr


def test_a_key_others_could_read_or_write_is_not_used(mini: Path, cache_home: Path) -> None:
    settle()
    check(mini)
    settle()
    assert checkcache.verdict(mini) is not None
    (cache_home / "key").chmod(0o666)
    assert checkcache.verdict(mini) is None


def forged(root: Path, claim: list[list[object]]) -> bytes:
    """A cache body as an attacker who knows everything but this machine's key would write it:
    the right stats and content hashes of every file, and the verdict they want."""
    recorder = checkcache.Recorder(root)
    for p in sorted(root.rglob("*")):
        if p.is_file():
            recorder(p, p.stat(), p.read_bytes())
    body = {"root": recorder.root, "env": checkcache._environment(), "seen": 0, "tree": recorder.tree,
            "reads": {k: [*e, 0] for k, e in recorder.reads.items()}, "problems": claim, "counts": [1, 1, 1],
            "dossiers": ["mini"], "input_set": recorder.input_set()}
    return json.dumps(body).encode()


def test_a_cache_planted_in_the_repository_cannot_pass_a_bad_file(mini: Path, cache_home: Path) -> None:
    spoil(mini)
    settle()
    body = forged(mini, [])
    # in the checkout (a pull request can commit any folder, ignored or not) ...
    planted = mini / ".voceunica-cache"
    planted.mkdir()
    for name in ("check.json", cache_file(cache_home, mini).name):
        (planted / name).write_bytes(checkcache._seal(b"k" * 32, body))
    # ... or in the cache folder itself, sealed with a key of the attacker's
    cache_home.mkdir(parents=True)
    cache_file(cache_home, mini).write_bytes(checkcache._seal(os.urandom(32), body))
    (cache_home / "key").write_bytes(os.urandom(32))
    (cache_home / "key").chmod(0o600)
    settle()
    assert checkcache.verdict(mini) is None
    done = cli(mini, "check")
    assert done.returncode == 1 and "colour" in done.stderr, done.stderr
    assert cli(mini, "build").returncode == 1


def test_a_check_against_a_base_is_not_cached(mini: Path, cache_home: Path) -> None:
    assert checkcache.Recorder  # (a verdict with --base depends on git history: always computed)
    subprocess.run(["git", "init", "-q", str(mini)], check=True)
    subprocess.run(["git", "-C", str(mini), "-c", "user.name=t", "-c", "user.email=t@e", "-c",
                    "commit.gpgsign=false", "commit", "-qm", "x", "--allow-empty"], check=True)
    check(mini, "HEAD")
    assert not cache_file(cache_home, mini).exists()


def test_the_cache_folder_keeps_the_projects_checked_last(mini: Path, cache_home: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cache_home.mkdir(parents=True)
    for i in range(3):  # temporary projects checked long ago
        old = cache_home / f"{i:032x}.check"
        old.write_bytes(b"x")
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
    monkeypatch.setattr(checkcache, "MAX_CACHE_FILES", 2)
    settle()
    check(mini)
    kept = sorted(p.name for p in cache_home.iterdir() if p.name != "key")
    assert kept == sorted([f"{2:032x}.check", cache_file(cache_home, mini).name])


def test_outputs_committed_with_a_build_cache_vouching_for_them_are_built_again(
        mini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    settle()
    build(mini, jobs=1)
    md = mini / "build" / "mini.en.md"
    good = md.read_text(encoding="utf-8")
    forged = good + "\n[Sign here](https://attacker.example)\n"
    md.write_text(forged, encoding="utf-8")
    listed = mini / "build" / ".voceunica-cache.json"
    cache = json.loads(listed.read_text(encoding="utf-8"))
    cache["mini"]["files"]["mini.en.md"] = hashlib.sha256(forged.encode()).hexdigest()  # the inputs digest is public
    listed.write_text(json.dumps(cache), encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "ci-runner"))  # a fresh machine: no record of its own
    again = build(mini, jobs=1)
    assert again.skipped == [] and md.read_text(encoding="utf-8") == good
