"""Bad inputs, one row each: YAML, CSV, templates, Markdown, paths, git, XLIFF, signals, usage.

Every row is a small mutation of a fresh copy of the `mini` fixture (with an earlier build
in build/), run through the installed `voceunica` console script the way a user runs it.
Each row asserts:

- the exit code (1 for problems, 0 where the rule only warns, 2 for usage errors);
- a diagnostic line `path:line:col: ...` at the expected file (and line and column where
  the input pins them down), and that every other line is a diagnostic or the summary;
- no traceback and no "internal error" anywhere in stdout or stderr;
- the project's sources *and* the earlier build/ output are byte-identical afterwards;
- a secret planted outside the project (for the link cases) is never printed or copied.

Then a property-based fuzz test of `check` on mutated positions: in-process for speed
(only `VoceunicaError` may escape), and a handful through the console script
(exit 0 or 1, no traceback).  VOCEUNICA_FUZZ_EXAMPLES=N runs N in-process cases (default 300).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ANNEX, CSV, DOS, LABELS, POS, TEMPLATE, make_project

VOCEUNICA = Path(sys.executable).parent / "voceunica"
SECRET = "SECRET-bad-inputs-5b1e0d-never-print"

BODY_EN = "        The definitive period started on 1 January 2026[^note].\n"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symbolic links, FIFOs, signals")

# A diagnostic line, or the summary under them, or check's all-clear line: nothing else goes to stderr.
DIAGNOSTIC = re.compile(r"^.+:\d+:\d+: |^voceunica: ")
SUMMARY = re.compile(r"^(\d+ errors?(, \d+ warnings?)?|\d+ warnings?)( in \d+ files?)?$|^ok: ")


# --- helpers --------------------------------------------------------------------------------

def run(root: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VOCEUNICA), *args], cwd=root, capture_output=True, text=True, timeout=timeout,
                          env=_env())


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "VOCEUNICA_"))}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", TERM="dumb")
    return env


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under `root` with what it is: file hash, link target, folder, or special file
    (never opened: a FIFO would block)."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            st_ = os.lstat(p)
            if stat.S_ISLNK(st_.st_mode):
                out[rel] = "link:" + os.readlink(p)
            elif stat.S_ISDIR(st_.st_mode):
                out[rel] = "dir"
            elif stat.S_ISREG(st_.st_mode):
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[rel] = f"special:{stat.S_IFMT(st_.st_mode):o}"
    return out


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append(root: Path, rel: str, text: str) -> None:
    with open(root / rel, "a", encoding="utf-8") as f:
        f.write(text)


def write_bytes(root: Path, rel: str, data: bytes) -> None:
    (root / rel).write_bytes(data)


def line_of(root: Path, rel: str, needle: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").split("\n")  # not splitlines(): a form feed is no line end
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def body(root: Path, markdown: str) -> None:
    """Add a paragraph (or more) of Markdown to the English body of the position's first section."""
    indented = "".join("        " + line + "\n" if line else "\n" for line in markdown.split("\n"))
    edit(root, POS, BODY_EN, BODY_EN + "\n" + indented)


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.eu", "-c", "commit.gpgsign=false",
                    *args], cwd=root, check=True, capture_output=True, env=_env(), timeout=60)


def committed(root: Path) -> None:
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")


def outside(tmp: Path, name: str, data: str) -> Path:
    folder = tmp / "outside"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(data, encoding="utf-8")
    return folder / name


@dataclass
class Expect:
    """The diagnostic that must be printed: `path:line:col: ...message...`.
    line or col None: any (the input does not pin it down)."""

    path: str
    line: int | None
    col: int | None
    message: str | tuple[str, ...]  # a tuple: any one of them (libxml words some errors differently)
    args: tuple[str, ...] = ()  # appended to the row's command (e.g. a file made by the mutation)


Mutation = Callable[[Path, Path], "Expect | None"]


@dataclass(frozen=True)
class Case:
    mutate: Mutation
    command: tuple[str, ...]
    code: int
    timeout: float


CASES: dict[str, Case] = {}


def bad(case_id: str, *command: str, code: int = 1, timeout: float = 60,
        default: tuple[str, ...] = ("check",)) -> Callable[[Mutation], Mutation]:
    """Register a row: `mutate(root, tmp)` damages the project and returns the diagnostic that
    must be printed (an Expect), or None for usage errors (code 2: one line, no location)."""
    def register(mutate: Mutation) -> Mutation:
        assert case_id not in CASES, case_id
        CASES[case_id] = Case(mutate, command or default, code, timeout)
        return mutate
    return register


# --- YAML ------------------------------------------------------------------------------------

@bad("yaml-dossier-without-date")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, DOS, "date: 2026-03-10\n", "")
    return Expect(DOS, 1, 1, "missing required field 'date'")


@bad("yaml-signoff-without-date")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, POS, "    by: Anna Test\n    date: 2026-03-09\n", "    by: Anna Test\n")
    return Expect(POS, line_of(root, POS, "lombardia:"), 3, "signoffs.lombardia: missing required field 'date'")


@bad("yaml-python-apply-tag-on-a-list")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, POS, "sector: steel", "sector: !!python/object/apply:os.system [touch PWNED]")
    return Expect(POS, line_of(root, POS, "sector:"), 9, "YAML tag '!!python/object/apply:os.system' is not supported")


@bad("yaml-unclosed-flow-sequence")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, POS, "sector: steel", "sector: [steel")
    return Expect(POS, line_of(root, POS, "sector: [steel") + 1, 7, "YAML syntax error: did not find expected ','")


@bad("yaml-mapping-value-not-allowed")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, POS, "sector: steel", "sector: steel: x")
    return Expect(POS, line_of(root, POS, "sector: steel: x"), 14, "YAML syntax error: mapping values are not allowed")


@bad("yaml-duplicate-key")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, POS, "status: agreed\n", "status: agreed\nstatus: draft\n")
    line = line_of(root, POS, "status: draft")
    return Expect(POS, line, 1, f"duplicate field 'status' (first given at line {line - 1})")


@bad("yaml-tab-indentation")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, POS, "  it: Acciaio e CBAM", "\tit: Acciaio e CBAM")
    return Expect(POS, line_of(root, POS, "\tit: Acciaio"), 1, "YAML syntax error: found character that cannot start")


def _tag_case(case_id: str, value: str, tag: str) -> None:
    @bad(case_id)
    def _(root: Path, tmp: Path) -> Expect:
        edit(root, POS, "sector: steel", f"sector: {value}")
        return Expect(POS, line_of(root, POS, f"sector: {value}"), 9, f"YAML tag '{tag}' is not supported")


_tag_case("yaml-tag-float", "!!float x", "!!float")
_tag_case("yaml-tag-bool", "!!bool maybe", "!!bool")
_tag_case("yaml-tag-timestamp", "!!timestamp x", "!!timestamp")
_tag_case("yaml-tag-local", "!foo steel", "!foo")
_tag_case("yaml-tag-python-name", '!!python/name:os.system ""', "!!python/name:os.system")


@bad("yaml-tag-python-object-apply")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, POS, "  it: Acciaio e CBAM", '  it: !!python/object/apply:os.system ["touch PWNED"]')
    return Expect(POS, line_of(root, POS, "os.system"), 7,
                  "YAML tag '!!python/object/apply:os.system' is not supported")


@bad("yaml-alias-bomb-nine-levels")
def _(root: Path, tmp: Path) -> Expect:
    lines = ['  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"  {name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    append(root, POS, "x_bomb:\n" + "\n".join(lines) + "\n")
    return Expect(POS, None, None, "once YAML aliases ('*name') are expanded")


@bad("yaml-merge-key")
def _(root: Path, tmp: Path) -> Expect:
    append(root, POS, "base: &b {x: 1}\nother:\n  <<: *b\n")
    return Expect(POS, line_of(root, POS, "<<: *b"), 3, "YAML merge keys ('<<') are not supported")


@bad("yaml-undefined-alias")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, POS, "sector: steel", "sector: *nosuch")
    return Expect(POS, line_of(root, POS, "*nosuch"), 9, "YAML syntax error: found undefined alias")


@bad("yaml-nesting-50-flow")
def _(root: Path, tmp: Path) -> Expect:
    append(root, POS, "deep: " + "[" * 50 + "]" * 50 + "\n")
    return Expect(POS, line_of(root, POS, "deep: [[["), None, "nesting deeper than 40 levels")


@bad("yaml-nesting-50-block")
def _(root: Path, tmp: Path) -> Expect:
    append(root, POS, "deep:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 51)) + "  " * 51 + "v\n")
    return Expect(POS, None, None, "nesting deeper than 40 levels")


@bad("yaml-huge-int-5000-digits")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, ANNEX, "reference_year: 2024", "reference_year: " + "9" * 5000)
    return Expect(ANNEX, line_of(root, ANNEX, "reference_year:"), 17, "too many digits")


@bad("yaml-huge-int-as-version")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, POS, 'version: "1.0.0"', "version: " + "9" * 5000)
    return Expect(POS, line_of(root, POS, "version: 999"), 10, "too many digits")


@bad("yaml-not-utf8")
def _(root: Path, tmp: Path) -> Expect:
    write_bytes(root, POS, (root / POS).read_bytes().replace(b"Acciaio e CBAM", b"Acciaio \xe8 CBAM"))
    return Expect(POS, 8, 1, "file is not valid UTF-8")


@bad("yaml-utf16-bom")
def _(root: Path, tmp: Path) -> Expect:
    write_bytes(root, POS, (root / POS).read_text(encoding="utf-8").encode("utf-16"))
    return Expect(POS, 1, 1, "file is not valid UTF-8")


@bad("yaml-nul-byte")
def _(root: Path, tmp: Path) -> Expect:
    write_bytes(root, POS, (root / POS).read_bytes().replace(b"Acciaio e CBAM", b"Acciaio\x00CBAM"))
    return Expect(POS, line_of(root, POS, "Acciaio\x00CBAM"), 14, "control character U+0000 is not allowed")


@bad("yaml-empty-position")
def _(root: Path, tmp: Path) -> Expect:
    write_bytes(root, POS, b"")
    return Expect(POS, 1, 1, "file is empty")


@bad("yaml-comment-only-position")
def _(root: Path, tmp: Path) -> Expect:
    write_bytes(root, POS, b"# nothing here yet\n")
    return Expect(POS, 1, 1, "file is empty")


@bad("yaml-empty-annex")
def _(root: Path, tmp: Path) -> Expect:
    write_bytes(root, ANNEX, b"")
    return Expect(ANNEX, 1, 1, "file is empty")


@bad("yaml-empty-labels")
def _(root: Path, tmp: Path) -> Expect:
    write_bytes(root, LABELS, b"")
    return Expect(LABELS, 1, 1, "file is empty")


@bad("yaml-top-level-list")
def _(root: Path, tmp: Path) -> Expect:
    write_bytes(root, POS, b"- a\n- b\n")
    return Expect(POS, 1, 1, "expected a mapping of fields at the top level")


@bad("yaml-two-documents")
def _(root: Path, tmp: Path) -> Expect:
    append(root, POS, "---\nid: other\n")
    return Expect(POS, line_of(root, POS, "---"), 1, "YAML syntax error: but found another document")


@bad("yaml-complex-key")
def _(root: Path, tmp: Path) -> Expect:
    append(root, POS, "[a, b]: c\n")
    return Expect(POS, line_of(root, POS, "[a, b]: c"), 1, "field names must be plain text")


@bad("yaml-newer-format")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, POS, "format: voceunica/position@1", "format: voceunica/position@2")
    return Expect(POS, 2, 9, "newer than this voceunica reads")


@bad("yaml-larger-than-2mb")
def _(root: Path, tmp: Path) -> Expect:
    with open(root / POS, "r+b") as f:
        f.truncate(2_000_001)
    return Expect(POS, 1, 1, "file is larger than 2 MB")


@bad("yaml-impossible-date")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, DOS, "date: 2026-03-10", "date: 2026-02-30")
    return Expect(DOS, line_of(root, DOS, "date: 2026-02-30"), 7, "day is out of range for month")


@bad("yaml-id-not-file-name")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, POS, "id: steel-mini", "id: other-id")
    return Expect(POS, 3, 5, "id 'other-id' does not match the file name 'steel-mini.yaml'")


@bad("yaml-duplicate-position-id")
def _(root: Path, tmp: Path) -> Expect:
    write_bytes(root, "positions/copy.yaml", (root / POS).read_bytes())
    return Expect(POS, 3, 5, "position id 'steel-mini' is already used by positions/copy.yaml")


# --- characters in every kind of text ----------------------------------------------------------

SUBTITLE_AFTER = "title: {it: Dossier di prova, en: Test dossier}\n"


def _subtitle(root: Path, it: str) -> int:
    edit(root, DOS, SUBTITLE_AFTER, SUBTITLE_AFTER + f"subtitle: {{it: {it}, en: Subtitle}}\n")
    return line_of(root, DOS, "subtitle:")


@bad("char-form-feed-escape-in-dossier-subtitle")
def _(root: Path, tmp: Path) -> Expect:
    return Expect(DOS, _subtitle(root, '"Sotto\\ftitolo"'), 16, "control character U+000C is not allowed")


@bad("char-form-feed-escape-in-dossier-subtitle-build", "build")
def _(root: Path, tmp: Path) -> Expect:
    return Expect(DOS, _subtitle(root, '"Sotto\\ftitolo"'), 16, "control character U+000C is not allowed")


@bad("char-raw-form-feed-in-dossier-subtitle")
def _(root: Path, tmp: Path) -> Expect:
    return Expect(DOS, _subtitle(root, "Sotto\ftitolo"), 21, "control character U+000C is not allowed")


@bad("char-u202e-in-dossier-subtitle", code=0)
def _(root: Path, tmp: Path) -> Expect:
    return Expect(DOS, _subtitle(root, '"Sotto\u202etitolo"'), 16, "warning: bidirectional control U+202E")


@bad("char-uffff-in-dossier-subtitle")
def _(root: Path, tmp: Path) -> Expect:
    return Expect(DOS, _subtitle(root, '"Sotto\uffff"'), 22, "U+FFFF is not allowed")


def _description(root: Path, it: str) -> int:
    edit(root, ANNEX, "source: {it:", f"description: {{it: {it}, en: A description}}\nsource: {{it:")
    return line_of(root, ANNEX, "description:")


@bad("char-form-feed-in-annex-description")
def _(root: Path, tmp: Path) -> Expect:
    return Expect(ANNEX, _description(root, '"Una\\fdescrizione"'), 19, "control character U+000C is not allowed")


@bad("char-u202e-in-annex-description", code=0)
def _(root: Path, tmp: Path) -> Expect:
    return Expect(ANNEX, _description(root, '"Una\u202edescrizione"'), 19, "warning: bidirectional control U+202E")


@bad("char-uffff-in-annex-description")
def _(root: Path, tmp: Path) -> Expect:
    return Expect(ANNEX, _description(root, "Una\uffff"), 22, "U+FFFF is not allowed")


@bad("char-form-feed-in-csv-cell")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, CSV, "2024,163.9", "2024,16\f3.9")
    return Expect(CSV, 3, 8, "column 'lombardia': control character U+000C is not allowed")


@bad("char-uffff-in-csv-cell")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, CSV, "2024,163.9", "2024,16\uffff3.9")
    return Expect(CSV, 3, 8, "column 'lombardia': non-character U+FFFF is not allowed")


@bad("char-nul-in-csv-cell")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, CSV, "2024,163.9", "2024,163.\x009")
    return Expect(CSV, 3, 10, "column 'lombardia': control character U+0000 is not allowed")


def _text_column(root: Path, value_2024: str) -> None:
    edit(root, ANNEX, "  - {name: veneto,",
         "  - {name: note, type: text, label: {it: Nota, en: Note}}\n  - {name: veneto,")
    edit(root, CSV, "year,lombardia,veneto", "year,lombardia,note,veneto")
    edit(root, CSV, "2023,163.1,", "2023,163.1,ok,")
    edit(root, CSV, "2024,163.9,", f"2024,163.9,{value_2024},")


@bad("char-u202e-in-csv-text-cell", code=0)
def _(root: Path, tmp: Path) -> Expect:
    _text_column(root, "ab\u202ecd")
    return Expect(CSV, 3, 14, "warning: column 'note': bidirectional control U+202E")


LABEL = "key_messages: {it: Messaggi chiave,"


@bad("char-form-feed-in-labels")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, LABELS, LABEL, 'key_messages: {it: "Messaggi\\fchiave",')
    return Expect(LABELS, line_of(root, LABELS, "key_messages:"), 22, "control character U+000C is not allowed")


@bad("char-u202e-in-labels", code=0)
def _(root: Path, tmp: Path) -> Expect:
    edit(root, LABELS, LABEL, 'key_messages: {it: "Messaggi\u202echiave",')
    return Expect(LABELS, line_of(root, LABELS, "key_messages:"), 22, "warning: bidirectional control U+202E")


@bad("char-uffff-in-labels")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, LABELS, LABEL, 'key_messages: {it: "Messaggi\uffffchiave",')
    return Expect(LABELS, line_of(root, LABELS, "key_messages:"), 31, "U+FFFF is not allowed")


@bad("char-raw-form-feed-in-position-body")
def _(root: Path, tmp: Path) -> Expect:
    body(root, "a\fb")
    return Expect(POS, line_of(root, POS, "a\fb"), 10, "control character U+000C is not allowed")


# --- CSV -------------------------------------------------------------------------------------

@bad("csv-row-too-short")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, CSV, "2024,163.9,80.1", "2024,163.9")
    return Expect(CSV, 3, 1, "row has 2 fields, the header has 3")


@bad("csv-row-too-long")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, CSV, "2024,163.9,80.1", "2024,163.9,80.1,7")
    return Expect(CSV, 3, 1, "row has 4 fields, the header has 3")


@bad("csv-bad-number")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, CSV, "2024,163.9", "2024,16x3.9")
    return Expect(CSV, 3, 6, "column 'lombardia': expected a number with '.' as decimal point, got '16x3.9'")


@bad("csv-5000-digit-decimal")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, CSV, "2024,163.9", "2024," + "9" * 5000)
    return Expect(CSV, 3, 6, "column 'lombardia': expected a number")


@bad("csv-5000-digit-year")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, CSV, "2024,163.9", "9" * 5000 + ",163.9")
    return Expect(CSV, 3, 1, "column 'year': expected a whole number")


@bad("csv-nan")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, CSV, "2024,163.9", "2024,nan")
    return Expect(CSV, 3, 6, "got 'nan'")


@bad("csv-overflowing-float")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, CSV, "2024,163.9", "2024,1e999")
    return Expect(CSV, 3, 6, "got '1e999'")


@bad("csv-unterminated-quote")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, CSV, "2024,163.9", '2024,"163.9')
    return Expect(CSV, 3, 1, "CSV syntax error")


@bad("csv-header-mismatch")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, CSV, "year,lombardia,veneto", "year,lombardy,veneto")
    return Expect(CSV, 1, 1, "not in the metadata: lombardy; missing: lombardia")


@bad("csv-duplicate-header")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, CSV, "year,lombardia,veneto", "year,lombardia,lombardia")
    return Expect(CSV, 1, 1, "CSV header does not match")


@bad("csv-javascript-link-in-text-cell")
def _(root: Path, tmp: Path) -> Expect:
    _text_column(root, "[x](javascript:alert(1))")
    return Expect(CSV, 3, 14, "column 'note': link target 'javascript:")


@bad("csv-not-utf8")
def _(root: Path, tmp: Path) -> Expect:
    write_bytes(root, CSV, (root / CSV).read_bytes().replace(b"2024,163.9", b"2024,163.9\xff"))
    return Expect(CSV, 3, 1, "file is not valid UTF-8")


@bad("csv-empty-file")
def _(root: Path, tmp: Path) -> Expect:
    write_bytes(root, CSV, b"")
    return Expect(CSV, 1, 1, "CSV file is empty")


@bad("csv-missing")
def _(root: Path, tmp: Path) -> Expect:
    (root / CSV).unlink()
    return Expect(ANNEX, 2, 5, "the data file dossiers/annexes/exports.csv is missing")


@bad("csv-is-a-folder")
def _(root: Path, tmp: Path) -> Expect:
    (root / CSV).unlink()
    (root / CSV).mkdir()
    return Expect(CSV, 1, 1, "a folder, not a file")


# --- templates ---------------------------------------------------------------------------------

@bad("template-jinja-syntax-error")
def _(root: Path, tmp: Path) -> Expect:
    append(root, TEMPLATE, "\n{% if d.draft %}\nno endif\n")
    return Expect(TEMPLATE, None, 1, "template syntax error: Unexpected end of template")


@bad("template-unknown-filter")
def _(root: Path, tmp: Path) -> Expect:
    append(root, TEMPLATE, "\n{{ d.title | nosuchfilter }}\n")
    return Expect(TEMPLATE, line_of(root, TEMPLATE, "nosuchfilter"), 1, "No filter named 'nosuchfilter'")


@bad("template-undefined-variable", "build")
def _(root: Path, tmp: Path) -> Expect:
    append(root, TEMPLATE, "\n{{ nosuchvar.attr }}\n")
    return Expect(TEMPLATE, line_of(root, TEMPLATE, "nosuchvar"), 1, "'nosuchvar' is undefined")


@bad("template-sandbox-escape-mro", "build")
def _(root: Path, tmp: Path) -> Expect:
    append(root, TEMPLATE, "\n{{ ''.__class__.__mro__ }}\n")
    return Expect(TEMPLATE, line_of(root, TEMPLATE, "__mro__"), 1,
                  "access to attribute '__class__' of 'str' object is unsafe (templates run in a sandbox)")


@bad("template-runtime-error", "build")
def _(root: Path, tmp: Path) -> Expect:
    append(root, TEMPLATE, "\n{{ 1 // 0 }}\n")
    return Expect(TEMPLATE, line_of(root, TEMPLATE, "1 // 0"), 1, "ZeroDivisionError")


@bad("template-absolute-path")
def _(root: Path, tmp: Path) -> Expect:
    append(root, DOS, "template: /etc/passwd\n")
    return Expect(DOS, line_of(root, DOS, "template:"), 11, "template: '/etc/passwd' is an absolute path")


@bad("template-dotdot")
def _(root: Path, tmp: Path) -> Expect:
    append(root, DOS, "template: ../x\n")
    return Expect(DOS, line_of(root, DOS, "template:"), 11, "template: '../x' is not a plain path inside templates/")


@bad("template-not-utf8")
def _(root: Path, tmp: Path) -> Expect:
    write_bytes(root, TEMPLATE, (root / TEMPLATE).read_bytes() + b"\n\xff\n")
    return Expect(TEMPLATE, None, 1, "file is not valid UTF-8")


@bad("template-missing")
def _(root: Path, tmp: Path) -> Expect:
    append(root, DOS, "template: own.md.j2\n")  # neither the project's nor one of voceunica's defaults
    return Expect(DOS, line_of(root, DOS, "template:"), 11, "template: no file templates/own.md.j2")


# --- Markdown in position texts ----------------------------------------------------------------

def _markdown_case(case_id: str, markdown: str, needle: str, message: str) -> None:
    @bad(f"markdown-{case_id}")
    def _(root: Path, tmp: Path) -> Expect:
        body(root, markdown)
        return Expect(POS, line_of(root, POS, needle), None, f"sections[0].body.en: {message}")


_NESTING = "lists and quotes are nested more than 6 levels deep"
_LINK = "is not allowed: links must start with https://, http://, mailto: or #"
for _id, _md, _needle, _message in [
    ("html-block", "<div>\nhidden\n</div>", "<div>", "HTML '<div>' is not allowed in a text"),
    ("inline-html", "a <span>b</span> c", "<span>", "HTML '<span>' is not allowed in a text"),
    ("comment", "a <!-- b --> c", "<!-- b -->", "comment '<!-- b -->' is not allowed in a text"),
    ("comment-with-double-hyphen", "a <!-- b -- c -->", "<!-- b -- c", "comment '<!-- b -- c -->' is not allowed"),
    ("comment-never-closed", "<!-- da rivedere\n\nMore text.", "<!-- da rivedere",
     "comment '<!--' is never closed with '-->'"),
    ("comment-opened-inline-never-closed", "a <!-- b", "a <!-- b", "'<!--' is not allowed in a text"),
    ("comment-in-code-span", "see `<!-- x -->` here", "see `<!--", "'<!--' is not allowed in a text"),
    ("layout-directive", "<!-- vu:pagebreak -->", "vu:pagebreak", "layout directives (<!-- vu:... -->) belong in"),
    ("unclosed-fence", "```\ncode that never ends", "```", "code fence '```' is never closed"),
    ("list-12-levels", "\n".join("  " * i + f"- level {i}" for i in range(12)), "- level 6", _NESTING),
    ("quote-25-levels", ">" * 25 + " deep", ">>>>>", _NESTING),
    ("stray-footnote-definition", "[^x]: a note nobody cites", "[^x]:", "a footnote definition ('[^key]: ...')"),
    ("reference-style-image", "![alt][img]\n\n[img]: https://example.eu/a.png", "![alt][img]",
     "images are not supported in position texts"),
    ("inline-image", "![alt](https://example.eu/a.png)", "![alt]", "images are not supported in position texts"),
    ("link-reference-definition", "[foo][bar]\n\n[bar]: https://example.eu", "[bar]: https",
     "link reference definitions ('[name]: target') are not allowed"),
    ("link-ms-msdt", "[x](ms-msdt:/id%20PCWDiagnostic)", "ms-msdt",
     f"link target 'ms-msdt:/id%20PCWDiagnostic' {_LINK}"),
    ("link-search-ms", "[x](search-ms:query=a)", "search-ms", f"link target 'search-ms:query=a' {_LINK}"),
    ("link-javascript", "[x](javascript:alert(1))", "javascript", "link target 'javascript:"),
    ("link-data", "[x](data:text/html,hi)", "data:text", f"link target 'data:text/html,hi' {_LINK}"),
    ("link-file", "[x](file:///etc/passwd)", "file:///", f"link target 'file:///etc/passwd' {_LINK}"),
    ("autolink-javascript", "<javascript:alert(1)>", "<javascript", "link target 'javascript:alert(1)'"),
    ("atx-heading", "# Heading", "# Heading", "headings inside a section are not allowed"),
    ("setext-heading", "Title\n=====", "=====", "a line of '=' right under text makes that text a heading"),
    ("undefined-footnote", "see[^nosuch]", "[^nosuch]", "footnote [^nosuch] is not defined"),
]:
    _markdown_case(_id, _md, _needle, _message)


@bad("markdown-comment-opened-in-a-title-build", "build")
def _(root: Path, tmp: Path) -> Expect:
    """Passed check and was refused by build at templates/dossier.md.j2:1:1 (the proof)."""
    edit(root, POS, "  en: Steel and CBAM", "  en: Steel <!-- and CBAM")
    return Expect(POS, line_of(root, POS, "Steel <!--"), 7, "title.en: '<!--' is not allowed in a text")


@bad("markdown-comment-opened-in-a-dossier-introduction")
def _(root: Path, tmp: Path) -> Expect:
    append(root, DOS, "introduction: {it: 'Intro <!-- aperto', en: Intro}\n")
    return Expect(DOS, line_of(root, DOS, "introduction:"), 20, "introduction.it: '<!--' is not allowed in a text")


# --- paths -------------------------------------------------------------------------------------

_REFUSED_LINK = "refused: a symbolic link leads it outside the project"


@bad("path-position-linked-outside")
def _(root: Path, tmp: Path) -> Expect:
    target = outside(tmp, "steel.yaml", (root / POS).read_text(encoding="utf-8").replace("Steel and CBAM", SECRET))
    (root / POS).unlink()
    (root / POS).symlink_to(target)
    return Expect(POS, 1, 1, _REFUSED_LINK)


@bad("path-position-linked-outside-build", "build")
def _(root: Path, tmp: Path) -> Expect:
    target = outside(tmp, "steel.yaml", (root / POS).read_text(encoding="utf-8").replace("Steel and CBAM", SECRET))
    (root / POS).unlink()
    (root / POS).symlink_to(target)
    return Expect(POS, 1, 1, _REFUSED_LINK)


@bad("path-csv-linked-outside")
def _(root: Path, tmp: Path) -> Expect:
    target = outside(tmp, "exports.csv", f"{SECRET},token\nx,y\n")
    (root / CSV).unlink()
    (root / CSV).symlink_to(target)
    return Expect(CSV, 1, 1, _REFUSED_LINK)


@bad("path-labels-linked-outside")
def _(root: Path, tmp: Path) -> Expect:
    target = outside(tmp, "labels.yaml", (root / LABELS).read_text(encoding="utf-8") + f"# {SECRET}\n")
    (root / LABELS).unlink()
    (root / LABELS).symlink_to(target)
    return Expect(LABELS, 1, 1, _REFUSED_LINK)


@bad("path-position-is-a-fifo", timeout=20)
def _(root: Path, tmp: Path) -> Expect:
    (root / POS).unlink()
    os.mkfifo(root / POS)
    return Expect(POS, 1, 1, "refused: a named pipe (FIFO), not a regular file")


@bad("path-csv-is-a-fifo", timeout=20)
def _(root: Path, tmp: Path) -> Expect:
    (root / CSV).unlink()
    os.mkfifo(root / CSV)
    return Expect(CSV, 1, 1, "refused: a named pipe (FIFO), not a regular file")


@bad("path-folder-named-like-yaml")
def _(root: Path, tmp: Path) -> Expect:
    (root / "positions" / "extra.yaml").mkdir()
    return Expect("positions/extra.yaml", 1, 1, "a folder, not a file")


@bad("path-file-name-with-newline")
def _(root: Path, tmp: Path) -> Expect:
    (root / "positions" / "x.yaml\nFORGED.yaml:9:9: y.yaml").write_text("id: x\n", encoding="utf-8")
    return Expect("positions/x.yaml\\u000aFORGED.yaml:9:9: y.yaml", 1, 1,
                  "the file name holds a control character: rename the file")


@bad("path-position-id-240-chars")
def _(root: Path, tmp: Path) -> Expect:
    long_id = "a" * 240
    edit(root, POS, "id: steel-mini", f"id: {long_id}")
    return Expect(POS, 3, 5, "id: String should have at most 64 characters")


@bad("path-dossier-id-240-chars-build", "build")
def _(root: Path, tmp: Path) -> Expect:
    edit(root, DOS, "id: mini", "id: " + "m" * 240)
    return Expect(DOS, 2, 5, "id: String should have at most 64 characters")


@bad("path-out-positions-slash", "build", "--out", "positions/")
def _(root: Path, tmp: Path) -> Expect:
    return Expect("positions", 1, 1, "outputs cannot go into positions/, where the sources are")


@bad("path-out-dossiers-annexes", "build", "--out", "dossiers/annexes")
def _(root: Path, tmp: Path) -> Expect:
    return Expect("dossiers/annexes", 1, 1, "outputs cannot go into dossiers/, where the sources are")


@bad("path-out-is-a-source-file", "build", "--out", "positions/steel-mini.yaml")
def _(root: Path, tmp: Path) -> Expect:
    return Expect(POS, 1, 1, "outputs cannot go into positions/, where the sources are")


@bad("path-verify-missing-release", "verify", "nosuch")
def _(root: Path, tmp: Path) -> Expect:
    return Expect("nosuch/manifest.json", 1, 1, "cannot read the manifest")


# --- git ---------------------------------------------------------------------------------------

@bad("git-base-unknown-revision", "check", "--base", "NOSUCHREV")
def _(root: Path, tmp: Path) -> Expect:
    committed(root)
    return Expect("", None, None, "unknown git revision 'NOSUCHREV'")


@bad("git-base-looks-like-an-option", "check", "--base", "--output=PWNED")
def _(root: Path, tmp: Path) -> Expect:
    committed(root)
    return Expect("", None, None, "unknown git revision '--output=PWNED'")


@bad("git-base-outside-a-repository", "check", "--base", "HEAD")
def _(root: Path, tmp: Path) -> Expect:
    return Expect("", None, None, "'HEAD'")


@bad("git-diff-unknown-revision", "diff", "NOSUCHREV")
def _(root: Path, tmp: Path) -> Expect:
    committed(root)
    return Expect("", None, None, "unknown git revision 'NOSUCHREV'")


@bad("git-redline-unknown-revision", "redline", "mini", "NOSUCHREV")
def _(root: Path, tmp: Path) -> Expect:
    committed(root)
    return Expect("", None, None, "unknown git revision 'NOSUCHREV'")


# --- XLIFF -------------------------------------------------------------------------------------

def _xliff(root: Path) -> bytes:
    from voceunica.validate import load_project
    from voceunica.xliff import export_xliff

    return export_xliff(load_project(root))


def _translated(data: bytes, unit_id: str, text: str) -> bytes:
    from lxml import etree

    from voceunica.xliff import XLIFF_NS

    x = f"{{{XLIFF_NS}}}"
    tree = etree.fromstring(data)
    unit = next(u for u in tree.iter(f"{x}trans-unit") if u.get("id") == unit_id)
    target = unit.find(f"{x}target")
    for child in list(target):
        target.remove(child)
    target.text = text
    target.set("state", "translated")
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def _xlf(root: Path, data: bytes | str) -> tuple[str, ...]:
    (root / "t.xlf").write_bytes(data.encode() if isinstance(data, str) else data)
    return ("t.xlf",)


def _line_in(data: bytes, needle: bytes) -> int:
    return next(i for i, line in enumerate(data.splitlines(), start=1) if needle in line)


IMPORT = ("i18n", "import")


@bad("xliff-not-xml", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    return Expect("t.xlf", 1, None, "not well-formed XML", args=_xlf(root, "hello, not xml\n"))


@bad("xliff-unclosed-element", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    data = '<?xml version="1.0"?>\n<xliff version="1.2">\n<file>\n</xliff>\n'
    return Expect("t.xlf", 4, None, "not well-formed XML", args=_xlf(root, data))


@bad("xliff-external-entity", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    secret = outside(tmp, "secret.txt", SECRET)
    data = (f'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>\n'
            '<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">&e;</xliff>\n')
    return Expect("t.xlf", 1, 1, "XLIFF files with a DTD (<!DOCTYPE ...>) are not accepted", args=_xlf(root, data))


@bad("xliff-entity-expansion", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {n} "{("&" + p + ";") * 10}">' for p, n in zip("abcdefgh", "bcdefghi", strict=True))
    data = (f'<?xml version="1.0"?>\n<!DOCTYPE x [{entities}]>\n'
            '<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">&i;</xliff>\n')
    return Expect("t.xlf", 1, None, ("XLIFF files with a DTD (<!DOCTYPE ...>) are not accepted",
                                     "not well-formed XML: Maximum entity amplification"), args=_xlf(root, data))


@bad("xliff-wrong-version", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    data = _xliff(root).replace(b'version="1.2"', b'version="2.0"', 1)
    return Expect("t.xlf", _line_in(data, b"<xliff"), 1, "not an XLIFF 1.2 file", args=_xlf(root, data))


@bad("xliff-unknown-position", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    data = _translated(_xliff(root), "title", "Steel!").replace(b"positions/steel-mini.yaml", b"positions/nope.yaml")
    return Expect("t.xlf", _line_in(data, b"<file "), 1, "no position for original='positions/nope.yaml'",
                  args=_xlf(root, data))


@bad("xliff-original-escapes-the-project", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    data = _translated(_xliff(root), "title", "Steel!").replace(b"positions/steel-mini.yaml",
                                                                b"positions/../../etc/passwd")
    return Expect("t.xlf", _line_in(data, b"<file "), 1, "no position for original=", args=_xlf(root, data))


@bad("xliff-target-with-a-javascript-link", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    data = _translated(_xliff(root), "title", "[x](javascript:alert(1)) Steel")
    return Expect("t.xlf", _line_in(data, b"javascript"), 1, "title: link target 'javascript:", args=_xlf(root, data))


@bad("xliff-target-with-html", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    data = _translated(_xliff(root), "title", "<div>Steel</div>")
    return Expect("t.xlf", _line_in(data, b"&lt;div"), 1, "title: HTML '<div>Steel</div>' is not allowed",
                  args=_xlf(root, data))


@bad("xliff-source-changed-since-export", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    data = _translated(_xliff(root), "title", "Steel and the CBAM")
    edit(root, POS, "it: Acciaio e CBAM", "it: Acciaio, CBAM ed energia")
    return Expect("t.xlf", _line_in(data, b'id="title"'), 1, "title: the source text changed since this file was "
                  "exported", args=_xlf(root, data))


@bad("xliff-unknown-unit", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    data = _translated(_xliff(root), "title", "Steel!").replace(b'id="title"', b'id="nosuch"')
    return Expect("t.xlf", _line_in(data, b'id="nosuch"'), 1, "no translated field 'nosuch'", args=_xlf(root, data))


@bad("xliff-footnote-reference-lost", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    data = _translated(_xliff(root), "summary", "The Regions ask for an effective CBAM.")
    return Expect("t.xlf", None, 1, "summary: the translation must keep the footnote references [^cbam]",
                  args=_xlf(root, data))


@bad("xliff-empty-translation", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    data = _translated(_xliff(root), "title", "  ")
    return Expect("t.xlf", None, 1, "title: empty translation", args=_xlf(root, data))


@bad("xliff-wrong-target-language", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    data = _translated(_xliff(root), "title", "Steel!").replace(b'target-language="en-GB"',
                                                                b'target-language="fr-FR"')
    return Expect("t.xlf", _line_in(data, b"<file "), 1, "target-language should be en-GB, not 'fr-FR'",
                  args=_xlf(root, data))


@bad("xliff-control-character-reference", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    data = _translated(_xliff(root), "title", "Steel").replace(b">Steel<", b">Ste&#12;el<")
    return Expect("t.xlf", _line_in(data, b"&#12;"), None, "not well-formed XML", args=_xlf(root, data))


@bad("xliff-not-utf8", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    data = _translated(_xliff(root), "title", "Steel").replace(b">Steel<", b">Ste\xffel<")
    return Expect("t.xlf", _line_in(data, b"\xff"), None, "not well-formed XML", args=_xlf(root, data))


@bad("xliff-300-levels-deep", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    data = '<?xml version="1.0"?>\n' + "<a>" * 300 + "</a>" * 300 + "\n"
    return Expect("t.xlf", 2, None, "not well-formed XML", args=_xlf(root, data))


@bad("xliff-missing-file", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    return Expect("nosuch.xlf", 1, 1, "cannot read file", args=("nosuch.xlf",))


@bad("xliff-is-a-folder", *IMPORT)
def _(root: Path, tmp: Path) -> Expect:
    (root / "d.xlf").mkdir()
    return Expect("d.xlf", 1, 1, "cannot read file", args=("d.xlf",))


# --- commands given bad arguments (exit 1, located) ----------------------------------------------

@bad("args-build-unknown-dossier", "build", "nope")
def _(root: Path, tmp: Path) -> Expect:
    return Expect("dossiers/", 1, 1, "no dossier 'nope' (known: mini)")


@bad("args-signoff-unknown-region", "signoff", "steel-mini", "--region", "sicilia", "--by", "X")
def _(root: Path, tmp: Path) -> Expect:
    return Expect("", None, None, "unknown region 'sicilia' (expected lombardia or veneto)")


@bad("args-signoff-unknown-position", "signoff", "nope", "--region", "veneto", "--by", "X")
def _(root: Path, tmp: Path) -> Expect:
    return Expect("positions/", 1, 1, "no position 'nope'")


@bad("args-i18n-export-unknown-position", "i18n", "export", "nope")
def _(root: Path, tmp: Path) -> Expect:
    return Expect("positions/", 1, 1, "no position 'nope'")


# --- usage errors: exit 2, one line --------------------------------------------------------------

def _usage(case_id: str, *command: str) -> None:
    @bad(f"usage-{case_id}", *command, code=2, default=())
    def _(root: Path, tmp: Path) -> None:
        return None


_usage("unknown-option", "--bogus")
_usage("jobs-zero", "build", "-j", "0")
_usage("jobs-not-a-number", "build", "-j", "x")
_usage("unknown-command", "frobnicate")
_usage("signoff-without-arguments", "signoff")
_usage("check-extra-argument", "check", "extra")
_usage("signoff-impossible-date", "signoff", "steel-mini", "--region", "lombardia", "--by", "X", "--date", "2026-13-45")
_usage("diff-unknown-format", "diff", "HEAD", "--format", "pdf")
_usage("redline-unknown-language", "redline", "mini", "HEAD", "--lang", "fr")
_usage("directory-missing", "-C", "nosuchdir", "check")


# --- the runner ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def earlier_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """build/ of a good project, made once: every row starts with a copy of it."""
    root = make_project(tmp_path_factory.mktemp("earlier"))
    done = run(root, "build", timeout=300)
    assert done.returncode == 0, done.stderr
    assert (root / "build" / "mini.it.docx").is_file()
    return root / "build"


def fresh(tmp_path: Path, earlier_build: Path) -> Path:
    root = make_project(tmp_path)
    shutil.copytree(earlier_build, root / "build")
    return root


@dataclass
class Outcome:
    root: Path
    expect: Expect | None
    before: dict[str, str]
    done: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             earlier_build: Path) -> dict[str, Outcome | BaseException]:
    """Every selected row, prepared one after the other and then run side by side (the
    commands are independent processes: this keeps the table fast on two cores)."""
    selected = [item.callspec.params["case_id"] for item in request.session.items
                if getattr(item, "callspec", None) is not None and "case_id" in item.callspec.params]
    base = tmp_path_factory.mktemp("bad")
    prepared: dict[str, tuple[Path, Expect | None, dict[str, str]]] = {}
    failed: dict[str, Outcome | BaseException] = {}
    for case_id in selected:
        case = CASES[case_id]
        tmp = base / case_id
        tmp.mkdir()
        try:
            root = fresh(tmp, earlier_build)
            expect = case.mutate(root, tmp)
            prepared[case_id] = (root, expect, snapshot(root))
        except Exception as exc:  # reported by the row itself
            failed[case_id] = exc

    def one(case_id: str) -> Outcome:
        root, expect, before = prepared[case_id]
        case = CASES[case_id]
        extra = expect.args if expect is not None else ()
        return Outcome(root, expect, before, run(root, *case.command, *extra, timeout=case.timeout))

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {case_id: pool.submit(one, case_id) for case_id in prepared}
    for case_id, future in futures.items():
        failed[case_id] = future.exception() or future.result()
    return failed


def assert_clean_output(done: subprocess.CompletedProcess[str], root: Path) -> None:
    both = done.stdout + done.stderr
    assert "Traceback" not in both, both
    assert "internal error" not in both, both
    assert SECRET not in both
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            assert SECRET.encode() not in p.read_bytes(), p
    assert not (root / "PWNED").exists()


def test_the_fixture_is_clean(tmp_path: Path, earlier_build: Path) -> None:
    """The rows below fail because of their mutation, not because the copy is bad."""
    root = fresh(tmp_path, earlier_build)
    before = snapshot(root)
    done = run(root, "check")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["ok: 1 positions, 1 dossiers, 1 annexes"]
    assert snapshot(root) == before


@pytest.mark.parametrize("case_id", list(CASES))
def test_bad_input(outcomes: dict[str, Outcome | BaseException], case_id: str) -> None:
    outcome = outcomes[case_id]
    if isinstance(outcome, BaseException):
        raise outcome
    code = CASES[case_id].code
    done, expect = outcome.done, outcome.expect
    assert_clean_output(done, outcome.root)
    assert done.returncode == code, done.stderr
    lines = done.stderr.splitlines()
    if code == 2:
        assert expect is None
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("voceunica"), lines
        assert "Traceback" not in done.stdout
    else:
        assert expect is not None
        line = r"\d+" if expect.line is None else str(expect.line)
        col = r"\d+" if expect.col is None else str(expect.col)
        # a problem about no file is 'voceunica: message', never at a made-up '.:1:1'
        located = re.compile(f"^{re.escape(expect.path)}:{line}:{col}: " if expect.path else "^voceunica: ")
        hits = [x for x in lines if located.match(x)]
        assert hits, f"no line at {expect.path}:{line}:{col}:\n{done.stderr}"
        wanted = (expect.message,) if isinstance(expect.message, str) else expect.message
        assert any(w in x for x in hits for w in wanted), f"{wanted!r} not in {hits}"
        assert all(DIAGNOSTIC.match(x) or SUMMARY.match(x) for x in lines), done.stderr
    assert snapshot(outcome.root) == outcome.before, "a source or an earlier output changed"


# --- signals ---------------------------------------------------------------------------------------

def test_sigint_while_reading_input_exits_130_and_changes_nothing(tmp_path: Path, earlier_build: Path) -> None:
    """`i18n import` given a FIFO blocks reading it (as `cat` would); Ctrl-C there must end it cleanly."""
    root = fresh(tmp_path, earlier_build)
    fifo = root / "in.xlf"
    os.mkfifo(fifo)
    before = snapshot(root)
    # `with`: the pipes are closed even when the test fails (an unclosed pipe warned in the next test)
    with subprocess.Popen([str(VOCEUNICA), "i18n", "import", "in.xlf"], cwd=root, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=_env()) as proc:
        writer = None
        try:
            deadline = time.monotonic() + 60
            while writer is None:  # a non-blocking open for writing succeeds once the reader is there
                try:
                    writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                except OSError:
                    assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
                    time.sleep(0.01)
            # Ctrl-C as a user gives it: again if the first one is not answered.  On a loaded machine
            # a signal sent the instant the file opens was, twice in full runs, never acted on.
            out = err = ""
            for _ in range(12):
                proc.send_signal(signal.SIGINT)
                try:
                    out, err = proc.communicate(timeout=5)
                    break
                except subprocess.TimeoutExpired:
                    continue
        finally:
            if writer is not None:
                os.close(writer)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert "Traceback" not in out + err, err
    assert proc.returncode == 130, err
    assert snapshot(root) == before


def test_a_closed_stdout_sigpipe_gives_no_traceback(tmp_path: Path, earlier_build: Path) -> None:
    root = fresh(tmp_path, earlier_build)
    before = snapshot(root)
    read_end, write_end = os.pipe()
    os.close(read_end)  # whoever reads the output went away (`voceunica ... | head -0`)
    try:
        done = subprocess.run([str(VOCEUNICA), "i18n", "status"], cwd=root, stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60, env=_env())
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert done.returncode in (1, 120, -signal.SIGPIPE), done.stderr
    assert snapshot(root) == before


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 60


# --- fuzz --------------------------------------------------------------------------------------------

FUZZ_EXAMPLES = int(os.environ.get("VOCEUNICA_FUZZ_EXAMPLES", "300"))
FIXTURE_POSITION = (Path(__file__).resolve().parent / "fixtures" / "mini" / POS).read_text(encoding="utf-8")

# What breaks YAML, Markdown, the text rules and the decoders: syntax, controls, odd Unicode.
_SPECIAL = list(":-?[]{},#&*!|>'\"%@`\n\t \r\\") + list("<>()^=~_+.") + [
    "\x00", "\x07", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u00a0", "\u2028", "\u2029", "\u202e", "\u2066",
    "\ufeff", "\ufffd", "\uffff", "\ufdd0", "\U0001f600", "\U0010ffff", "\ud800", "è", "º",
    "<!--", "-->", "```", "[^note]", "[^x]: ", "](javascript:x)", "<div>", "&a ", "*a", "!!float ", "<<: ",
    "\n- ", "\n  - ", ": |\n", "---\n", "...\n", "> ", "1. ", "# ", "\n    ",
]
_piece = st.one_of(st.sampled_from(_SPECIAL), st.text(min_size=1, max_size=8),
                   st.builds(lambda c, n: c * n, st.sampled_from(list("[{-> `*#\n ") + ["  ", "\t"]),
                             st.integers(2, 400)))


@st.composite
def mutated_position(draw: st.DrawFn) -> str:
    text = FIXTURE_POSITION
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "duplicate-line", "drop-line"]))
        i = draw(st.integers(0, len(text)))
        if op == "insert":
            text = text[:i] + draw(_piece) + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 40)):]
        elif op == "replace":
            text = text[:i] + draw(_piece) + text[i + draw(st.integers(1, 10)):]
        else:
            lines = text.split("\n")
            k = min(i * len(lines) // max(len(text), 1), len(lines) - 1)
            lines[k:k + 1] = [lines[k], lines[k]] if op == "duplicate-line" else []
            text = "\n".join(lines)
    return text


def _write_position(root: Path, text: str) -> None:
    (root / POS).write_bytes(text.encode("utf-8", "surrogatepass"))  # a lone surrogate: bytes UTF-8 refuses


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("fuzz"))


_FUZZ = settings(deadline=None, derandomize=True, database=None, print_blob=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                        HealthCheck.function_scoped_fixture])


@settings(_FUZZ, max_examples=FUZZ_EXAMPLES)
@given(text=mutated_position())
def test_fuzz_check_in_process(fuzz_root: Path, text: str) -> None:
    from voceunica.errors import VoceunicaError
    from voceunica.pipeline import check

    _write_position(fuzz_root, text)
    try:
        project = check(fuzz_root)
    except VoceunicaError as exc:
        problems = exc.problems
        assert problems, "a VoceunicaError with nothing to say"
    else:
        problems = project.problems
        if project.errors:
            assert any(p.path in (POS, DOS) for p in project.errors), project.errors
    for p in problems:
        shown = str(p)
        assert "\n" not in shown and p.line >= 1 and p.col >= 1, shown
        assert re.match(r"^.+:\d+:\d+: ", shown), shown


@settings(_FUZZ, max_examples=5)
@given(text=mutated_position())
def test_fuzz_check_through_the_console_script(fuzz_root: Path, text: str) -> None:
    _write_position(fuzz_root, text)
    done = run(fuzz_root, "check", timeout=60)
    both = done.stdout + done.stderr
    assert "Traceback" not in both and "internal error" not in both, both
    assert done.returncode in (0, 1), both
    lines = done.stderr.splitlines()
    assert all(DIAGNOSTIC.match(x) or SUMMARY.match(x) for x in lines), done.stderr
    if done.returncode == 1:
        assert any(x.startswith(f"{POS}:") or x.startswith(f"{DOS}:") for x in lines), done.stderr


def test_no_command_at_all_shows_the_help_and_exits_2(tmp_path: Path) -> None:
    done = run(tmp_path, timeout=60)
    assert done.returncode == 2
    assert "Usage: voceunica" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not [line for line in done.stderr.splitlines() if line.startswith("voceunica:")], done.stderr
