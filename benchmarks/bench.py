"""Benchmark: every figure of issue 13's table on a large synthetic project, paired and repeated.

    python benchmarks/bench.py [--json] [--repeat 5] [--build-repeat 1] [--large 5000]
                               [--positions 1000] [--dossiers 100] [--rows 10000] [--jobs N] [--keep DIR]

Generates the project in a temporary folder (1 000 positions, 100 dossiers,
annexes of 10 000 rows by default) and runs each stage as a fresh
`python -m voceunica` process:

- `check`, cold (an empty check cache each run), paired with the floor: a fresh
  process loading the same YAML files with PyYAML's C loader and the same CSV
  files with the csv module; the order alternates, the ratio is per pair;
- `check`, nothing changed since the last check;
- the full `build --force -j N`, paired with pandoc turning the same Markdown
  into DOCX (same reference.docx, same parallelism), with the peak memory;
- `build`, nothing changed, beside a stat-only probe of the same files;
- the repository's sample project, `build --force`;
- with `--large N`, the full build's peak memory on a project of N positions.

Each quick stage runs `--repeat` times (median); each full build `--build-repeat`
times.  The machine's load average is recorded after every stage: the machine
is shared, and a figure means something only beside its load and its pair.

Peak memory is that of the whole process tree (the build's worker pool
included): a sampler thread walks /proc every 20 ms and sums the RSS (and
PSS) of the stage's process and all its descendants; "peak MB" is the larger
of that sampled sum and the kernel's exact max RSS of the largest single
process in the tree (wait4 ru_maxrss, which covers waited-for descendants).
Summed RSS counts pages shared by forked workers once per process, so it is
an upper bound; PSS splits shared pages and is the fairer total.

`--json` prints every figure as JSON on stdout (progress goes to stderr).
Figures, not assertions: this is not a test.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Benchmark this checkout's code, whatever an editable install happens to point at.
sys.path.insert(0, str(REPO / "src"))
PROBLEM = re.compile(r"^\S+:\d+:\d+: ")
SECTORS = ["steel", "microelectronics", "sme-credit", "governance", "energy", "trade"]


def position_yaml(i: int) -> str:
    body_it = " ".join(f"Frase {k} della posizione {i} sul mercato interno e la politica industriale." for k in range(12))
    body_en = " ".join(f"Sentence {k} of position {i} on the single market and industrial policy." for k in range(12))
    return f"""format: voceunica/position@1
id: pos-{i:04d}
version: "1.0.0"
sector: {SECTORS[i % len(SECTORS)]}
status: draft
title:
  it: Posizione comune numero {i}
  en: Joint position number {i}
summary:
  it: Sintesi della posizione {i}[^cbam].
  en: Summary of position {i}[^cbam].
asks:
  - text: {{it: Prima richiesta {i}., en: First ask {i}.}}
    eu_file: cbam
  - text: {{it: Seconda richiesta {i}., en: Second ask {i}.}}
sections:
  - heading: {{it: Contesto, en: Context}}
    body:
      it: |
        {body_it}

        {body_it}
      en: |
        {body_en}

        {body_en}
  - heading: {{it: Proposte, en: Proposals}}
    body:
      it: |
        - {body_it[:120]}
        - {body_it[120:240]}
      en: |
        - {body_en[:120]}
        - {body_en[120:240]}
eu_files:
  - key: cbam
    kind: regulation
    number: 2023/956
    celex: 32023R0956
    title: {{it: Meccanismo di adeguamento del carbonio alle frontiere, en: Carbon Border Adjustment Mechanism}}
"""


def with_translation_marks(text: str) -> str:
    """Append the `translated_from` record `voceunica i18n mark` would write, so that
    `check` sees current translations instead of 10 "outdated" warnings per position."""
    import yaml

    from voceunica.fingerprint import translation_marks
    from voceunica.model import Position

    marks = translation_marks(Position.model_validate(yaml.safe_load(text)))
    return text + "translated_from:\n" + "".join(f"  {k}: \"{v}\"\n" for k, v in marks.items())


def annex(i: int, rows: int) -> tuple[str, str]:
    meta = f"""format: voceunica/annex@1
id: annex-{i:02d}
title: {{it: Dati sintetici {i}, en: Synthetic data {i}}}
source: {{it: Generati per il benchmark, en: Generated for the benchmark}}
licence: CC0-1.0
reference_year: 2024
illustrative: true
columns:
  - {{name: row, type: integer, label: {{it: Riga, en: Row}}}}
  - {{name: lombardia, type: decimal, decimals: 1, label: {{it: Lombardia, en: Lombardy}}, unit: {{it: milioni di EUR, en: EUR million}}}}
  - {{name: veneto, type: decimal, decimals: 1, label: {{it: Veneto, en: Veneto}}, unit: {{it: milioni di EUR, en: EUR million}}}}
"""
    csv = "row,lombardia,veneto\n" + "".join(f"{r},{(r * 37) % 100000 / 10},{(r * 53) % 100000 / 10}\n"
                                             for r in range(rows))
    return meta, csv


def dossier_yaml(i: int, positions: list[int], annexes: list[int]) -> str:
    return f"""format: voceunica/dossier@1
id: dossier-{i:03d}
doctype: position-paper
title: {{it: Dossier sintetico {i}, en: Synthetic dossier {i}}}
date: 2026-11-20
version: "1.0.0"
audience: {{it: Commissione europea, en: European Commission}}
addresses: [pos-{positions[0]:04d}/cbam]
authors:
  - region: lombardia
    office: {{it: Delegazione di Regione Lombardia a Bruxelles, en: Delegation of Lombardy to the EU}}
  - region: veneto
    office: {{it: Regione del Veneto – Sede di Bruxelles, en: Veneto Region – Brussels Office}}
contact: {{name: Bench Mark, email: bench@example.eu}}
positions: [{", ".join(f"pos-{p:04d}" for p in positions)}]
annexes: [{", ".join(f"annex-{a:02d}" for a in annexes)}]
layouts: [single]
"""


def generate(root: Path, n_pos: int, n_dos: int, rows: int, n_annex: int = 5) -> None:
    (root / "positions").mkdir(parents=True)
    (root / "dossiers" / "annexes").mkdir(parents=True)
    shutil.copytree(REPO / "templates", root / "templates")
    for i in range(n_pos):
        (root / "positions" / f"pos-{i:04d}.yaml").write_text(with_translation_marks(position_yaml(i)), encoding="utf-8")
    for a in range(n_annex):
        meta, csv = annex(a, rows)
        (root / "dossiers" / "annexes" / f"annex-{a:02d}.yaml").write_text(meta, encoding="utf-8")
        (root / "dossiers" / "annexes" / f"annex-{a:02d}.csv").write_text(csv, encoding="utf-8")
    per = max(1, n_pos // n_dos)
    for d in range(n_dos):
        positions = [(d * per + k) % n_pos for k in range(per)]
        annexes = [d % n_annex] if d < 2 * n_annex and d % 2 == 0 else []  # a few dossiers carry a big table
        (root / "dossiers" / f"dossier-{d:03d}.yaml").write_text(dossier_yaml(d, positions, annexes),
                                                                encoding="utf-8")


def _ppids() -> dict[int, int]:
    out = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            out[int(entry.name)] = int(stat[stat.rindex(b")") + 2:].split()[1])
    return out


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in _ppids().items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def _rss_pss_kb(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, pss


class TreeSampler(threading.Thread):
    """Peak of the summed RSS / PSS of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss_kb = self.peak_pss_kb = self.max_procs = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            pids = _tree(self.pid)
            sizes = [_rss_pss_kb(p) for p in pids]
            self.peak_rss_kb = max(self.peak_rss_kb, sum(r for r, _ in sizes))
            self.peak_pss_kb = max(self.peak_pss_kb, sum(p for _, p in sizes))
            self.max_procs = max(self.max_procs, sum(1 for r, _ in sizes if r))
            self.stop.wait(self.interval)


def run(label: str, cmd: list[str], cwd: Path, env: dict[str, str] | None = None,
        log_dir: Path | None = None, timeout: float | None = None) -> dict:
    """Run one stage as a fresh process; wall time and peak memory of its whole process tree."""
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="voceunica-bench-log-"))
    slug = "".join(c if c.isalnum() else "-" for c in label)
    out_path, err_path = log_dir / f"{slug}.stdout", log_dir / f"{slug}.stderr"
    # stdout/stderr go to files, not pipes: `check` prints every warning, and a
    # pipe nobody reads until the process exits deadlocks once it holds 64 KiB.
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env, start_new_session=True)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        timer = None
        if timeout:  # kill this stage's own process group (and only it) when it overruns
            timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop.set()
        sampler.join()
    code = proc.returncode
    stderr = err_path.read_text(errors="replace")
    stdout = out_path.read_text(errors="replace")
    if code != 0:
        print(f"{label}: exit {code}\n{stderr[-2000:]}", file=sys.stderr)
    largest_mb = usage.ru_maxrss / 1024  # kernel: max RSS of the child or any waited-for descendant
    tree_rss_mb = sampler.peak_rss_kb / 1024
    cpu = usage.ru_utime + usage.ru_stime  # the stage and every descendant it waited for
    return {"label": label, "wall": wall, "cpu": cpu, "peak": max(largest_mb, tree_rss_mb), "tree_rss": tree_rss_mb,
            "tree_pss": sampler.peak_pss_kb / 1024, "largest": largest_mb, "procs": sampler.max_procs,
            "code": code, "stdout": stdout, "stderr": stderr}


def proof_seconds(build: Path) -> float:
    """CPU time of the build's read-back proof alone, redone in this process on
    what the build wrote: each DOCX read back and compared with its Markdown."""
    from voceunica.docx.proof import prove
    from voceunica.render import split_front_matter

    def body(path: Path) -> str:
        return split_front_matter(path.read_text(encoding="utf-8"))[1]

    spent = 0.0
    for docx in sorted(build.glob("*.docx")):
        stem, lang = docx.name[: -len(".docx")].rsplit(".", 1)
        langs = ["it", "en"] if lang == "it-en" else [lang]
        data, bodies = docx.read_bytes(), [body(build / f"{stem}.{x}.md") for x in langs]
        start = time.process_time()
        prove(data, bodies)
        spent += time.process_time() - start
    return spent


FLOOR = """\
import csv, sys, yaml
from pathlib import Path
root = Path(sys.argv[1])
yamls = sorted(root.glob("positions/*.yaml")) + sorted(root.glob("dossiers/**/*.yaml"))
for p in yamls + [root / "templates/labels.yaml"]:
    yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)
for p in sorted(root.glob("dossiers/annexes/*.csv")):
    with p.open(encoding="utf-8", newline="") as f:
        list(csv.reader(f))
"""


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def sample_copy(dst: Path) -> Path:
    """The repository's own sample project, without code, tests or outputs."""
    skip = shutil.ignore_patterns(".*", "build", "dist", "src", "tests", "benchmarks", "docs", "__pycache__",
                                  "*.egg-info", "schemas")
    shutil.copytree(REPO, dst, ignore=skip)
    return dst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--positions", type=int, default=1000)
    ap.add_argument("--dossiers", type=int, default=100)
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="build workers, and parallel pandoc processes (default: all cores)")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each quick stage, paired with its reference "
                    "(median of n; default 5)")
    ap.add_argument("--build-repeat", type=int, default=1, help="full builds, each paired with pandoc (default 1)")
    ap.add_argument("--large", type=int, default=0, metavar="N",
                    help="also the full build's peak memory on a project of N positions (the issue: 5000)")
    ap.add_argument("--no-pandoc", action="store_true", help="skip the pandoc comparison")
    ap.add_argument("--json", action="store_true", help="print every figure as JSON on stdout (progress on stderr)")
    ap.add_argument("--timeout", type=float, default=1800, help="kill a stage after this many seconds (default 1800)")
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it (stage logs in DIR.logs)")
    args = ap.parse_args()
    say = functools.partial(print, file=sys.stderr if args.json else sys.stdout, flush=True)

    tmp = tempfile.TemporaryDirectory(prefix="voceunica-bench-")
    if args.keep:
        root = args.keep.resolve()
        if root.exists():
            shutil.rmtree(root)
        logs = root.with_name(root.name + ".logs")
        shutil.rmtree(logs, ignore_errors=True)
    else:
        root = Path(tmp.name) / "project"
        logs = Path(tmp.name) / "logs"
    logs.mkdir(parents=True)
    t0 = time.perf_counter()
    generate(root, args.positions, args.dossiers, args.rows)
    say(f"project: {args.positions} positions, {args.dossiers} dossiers, 5 annexes of {args.rows} rows "
        f"(generated in {time.perf_counter() - t0:.1f} s) at {root}; {args.jobs} jobs, {os.cpu_count()} cores")
    time.sleep(0.2)  # past the file clock's tick: the check cache trusts no stat taken within one of a change
    src = str(REPO / "src")
    cache = Path(tmp.name) / "cache"  # the check cache, apart from the user's (a cold run gets an empty one)
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1790000000", "XDG_CACHE_HOME": str(cache),
           "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    used = subprocess.run([sys.executable, "-c", "import voceunica; print(voceunica.__file__)"], env=env,
                          capture_output=True, text=True, check=True).stdout.strip()
    say(f"voceunica under test: {used}")
    jobs = ["--jobs", str(args.jobs)]
    report: dict = {"machine": {"cores": os.cpu_count(), "python": sys.version.split()[0], "load_start": load()},
                    "project": {"positions": args.positions, "dossiers": args.dossiers, "annexes": 5,
                                "rows": args.rows, "jobs": args.jobs},
                    "repeat": args.repeat, "build_repeat": args.build_repeat, "rows": []}
    stages: list[dict] = []

    def stage(label: str, cmd: list[str], cwd: Path = root, run_env: dict[str, str] | None = None) -> dict:
        r = run(label, cmd, cwd, run_env or env, logs, args.timeout)
        r["load"] = load()
        say(f"  {label}: {r['wall']:.2f} s, {r['peak']:.0f} MB, exit {r['code']}, load {r['load'][0]}")
        stages.append(r)
        return r

    def row(path: str, runs: list[dict], target: str, limit: float | None, *, floor: list[dict] | None = None,
            floor_name: str = "", ratio_limit: float | None = None, memory: bool = False) -> dict:
        walls = [r["wall"] for r in runs]
        out: dict = {"path": path, "n": len(runs), "wall_s": [round(w, 3) for w in walls],
                     "median_s": round(median(walls), 3), "target": target,
                     "exit": sorted({r["code"] for r in runs}), "load": [r["load"][0] for r in runs]}
        met = [] if limit is None else [median(walls) <= limit]
        if floor:
            fw = [r["wall"] for r in floor]
            ratios = [w / f for w, f in zip(walls, fw, strict=True)]
            out.update(reference=floor_name, reference_s=[round(w, 3) for w in fw],
                       reference_median_s=round(median(fw), 3), ratio=[round(x, 3) for x in ratios],
                       ratio_median=round(median(ratios), 3))
            if ratio_limit is not None:
                met.append(median(ratios) <= ratio_limit)
        if memory:
            out.update(peak_rss_mb=round(median([r["tree_rss"] for r in runs]), 1),
                       peak_pss_mb=round(median([r["tree_pss"] for r in runs]), 1),
                       largest_process_mb=round(median([r["largest"] for r in runs]), 1))
        out["met"] = all(met) and out["exit"] == [0] if met else None
        report["rows"].append(out)
        return out

    py = [sys.executable, "-m", "voceunica", "-C", str(root)]
    floor_cmd = [sys.executable, "-c", FLOOR, str(root)]
    # check, cold (an empty cache each time), paired with the floor: PyYAML's C loader reading the same
    # YAML files and the csv module the same CSV files, in a fresh process too.  The order alternates.
    cold, floor = [], []
    for i in range(args.repeat):
        cold_env = {**env, "XDG_CACHE_HOME": str(cache / f"cold-{i}")}
        pair = [lambda: floor.append(stage("floor: PyYAML C loader + csv", floor_cmd)),
                lambda e=cold_env: cold.append(stage("check, cold", py + ["check"], run_env=e))]
        for f in (pair if i % 2 == 0 else pair[::-1]):
            f()
    problems = [ln for ln in cold[0]["stderr"].splitlines() if PROBLEM.match(ln)]
    n_warn = sum(": warning: " in ln for ln in problems)
    say(f"  check reported {len(problems) - n_warn} errors, {n_warn} warnings")
    row("check, cold", cold, "≤ 2× the floor", None, floor=floor, floor_name="PyYAML C loader + csv, same files",
        ratio_limit=2.0, memory=True)
    stage("check (records the verdict)", py + ["check"])
    time.sleep(0.1)
    warm = [stage("check, nothing changed", py + ["check"]) for _ in range(args.repeat)]
    row("check, nothing changed", warm, "≤ 0.15 s", 0.15)

    full, pandoc_runs, proof = [], [], []
    pandoc = None if args.no_pandoc else shutil.which("pandoc")
    for i in range(args.build_repeat):
        full.append(stage(f"build, full, -j {args.jobs}", py + ["build", "--force", *jobs]))
        md = sorted((root / "build").glob("*.md"))
        if i == 0:
            docx = sorted((root / "build").glob("*.docx"))
            say(f"  outputs: {len(md)} Markdown, {len(docx)} DOCX, "
                f"{sum(p.stat().st_size for p in md + docx) / 1e6:.1f} MB")
            proof.append(proof_seconds(root / "build"))
        if pandoc and md:
            out = root / "pandoc"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            listing = logs / "pandoc-inputs.txt"
            listing.write_text("".join(f"{p.name}\n" for p in md), encoding="utf-8")
            # xargs exits 123 if any pandoc failed; each gets the same reference.docx the build uses.
            cmd = ["xargs", "-a", str(listing), "-P", str(args.jobs), "-I", "{}", pandoc, "-f", "gfm+footnotes",
                   "-t", "docx", "--reference-doc", str(root / "templates" / "reference.docx"),
                   "-o", str(out / "{}.docx"), "{}"]
            pandoc_runs.append(stage(f"pandoc, the same {len(md)} Markdown → DOCX (-P {args.jobs})", cmd,
                                     root / "build"))
    built = row(f"build, full, -j {args.jobs}", full, "≤ 0.2× pandoc", None,
                floor=pandoc_runs or None, floor_name="pandoc, the same Markdown → DOCX", ratio_limit=0.2,
                memory=True)
    if proof:
        built["proof_cpu_s"] = round(proof[0], 2)
        built["proof_share_of_cpu"] = round(proof[0] / max(full[0]["cpu"], 1e-9), 3)
    built["memory_target"] = "≤ 250 MB RSS summed"
    built["memory_met"] = built["peak_rss_mb"] <= 250
    time.sleep(0.1)
    stage("build (records the outputs)", py + ["build", *jobs])
    time.sleep(0.1)
    before = {p: p.stat().st_mtime_ns for p in (root / "build").iterdir()}
    again = [stage("build, nothing changed", py + ["build", *jobs]) for _ in range(args.repeat)]
    probe = [stage("stat-only probe of the same inputs", [sys.executable, "-c", PROBE, str(root)])
             for _ in range(args.repeat)]
    nochange = row("build, nothing changed", again, "≤ 0.15 s, refusing as check would", 0.15, floor=probe,
                   floor_name="a stat of every input and output, fresh process")
    nochange["rewrote"] = sum(1 for p, m in before.items() if not p.exists() or p.stat().st_mtime_ns != m)

    sample = sample_copy(Path(tmp.name) / "sample")
    sample_runs = [stage("sample project, build --force", [sys.executable, "-m", "voceunica", "-C", str(sample),
                                                            "build", "--force", *jobs]) for _ in range(args.repeat)]
    row("sample project build --force", sample_runs, "≤ 0.8 s", 0.8)

    if args.large:
        big = Path(tmp.name) / "large"
        generate(big, args.large, args.dossiers, args.rows)
        large = [stage(f"build, full, {args.large} positions", [sys.executable, "-m", "voceunica", "-C", str(big),
                                                                 "build", *jobs], big)]
        r = row(f"peak memory, full build, {args.large} positions", large, "≤ 500 MB RSS summed", None, memory=True)
        r["met"] = r["peak_rss_mb"] <= 500 and r["exit"] == [0]

    report["machine"]["load_end"] = load()
    failed = sorted({r["label"] for r in stages if r["code"] != 0})
    report["failed_stages"] = failed
    if args.json:
        print(json.dumps(report, indent=1, ensure_ascii=False))
    else:
        print()
        print(f"{'path':<34} | {'median':>8} | {'reference':>9} | {'ratio':>6} | {'RSS / PSS MB':>13} | target | met")
        for r in report["rows"]:
            ref = f"{r['reference_median_s']:.2f}" if "reference_median_s" in r else ""
            ratio = f"{r['ratio_median']:.2f}" if "ratio_median" in r else ""
            mem = f"{r['peak_rss_mb']:.0f} / {r['peak_pss_mb']:.0f}" if "peak_rss_mb" in r else ""
            print(f"{r['path']:<34} | {r['median_s']:>8.3f} | {ref:>9} | {ratio:>6} | {mem:>13} | {r['target']} | "
                  f"{r['met']}")
        print(f"load average: {report['machine']['load_start']} at the start, {report['machine']['load_end']} "
              f"at the end ({os.cpu_count()} cores)")
        if failed:
            print(f"FAILED stages (non-zero exit): {', '.join(failed)}; logs in {logs}")
    if not args.keep:
        tmp.cleanup()


PROBE = """\
import os, sys
for folder in ("positions", "dossiers", "dossiers/annexes", "templates", "build"):
    for e in os.scandir(os.path.join(sys.argv[1], folder)):
        e.stat(follow_symlinks=False)
"""


if __name__ == "__main__":
    main()
