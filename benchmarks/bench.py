"""Benchmark: a large synthetic project through check, full build and no-change rebuild.

    python benchmarks/bench.py [--positions 1000] [--dossiers 100] [--rows 10000] [--jobs N] [--keep DIR]

Generates the project in a temporary folder (1 000 positions, 100 dossiers,
annexes of 10 000 rows by default), then runs each stage as a fresh
`python -m voceunica` process and prints wall time and peak memory.

Peak memory is that of the whole process tree (the build's worker pool
included): a sampler thread walks /proc every 20 ms and sums the RSS (and
PSS) of the stage's process and all its descendants; "peak MB" is the larger
of that sampled sum and the kernel's exact max RSS of the largest single
process in the tree (wait4 ru_maxrss, which covers waited-for descendants).
Summed RSS counts pages shared by forked workers once per process, so it is
an upper bound; PSS splits shared pages and is the fairer total.

When pandoc is installed it also times pandoc turning the same Markdown
files into DOCX (same reference.docx, same number of parallel jobs as the
build), for comparison.  Figures, not assertions: this is not a test.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--positions", type=int, default=1000)
    ap.add_argument("--dossiers", type=int, default=100)
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="build workers, and parallel pandoc processes (default: all cores)")
    ap.add_argument("--no-pandoc", action="store_true", help="skip the pandoc comparison")
    ap.add_argument("--timeout", type=float, default=1800, help="kill a stage after this many seconds (default 1800)")
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it (stage logs in DIR.logs)")
    args = ap.parse_args()

    tmp = None
    if args.keep:
        root = args.keep.resolve()
        if root.exists():
            shutil.rmtree(root)
        logs = root.with_name(root.name + ".logs")
        shutil.rmtree(logs, ignore_errors=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="voceunica-bench-")
        root = Path(tmp.name) / "project"
        logs = Path(tmp.name) / "logs"
    logs.mkdir(parents=True)
    t0 = time.perf_counter()
    generate(root, args.positions, args.dossiers, args.rows)
    print(f"project: {args.positions} positions, {args.dossiers} dossiers, 5 annexes of {args.rows} rows "
          f"(generated in {time.perf_counter() - t0:.1f} s) at {root}; {args.jobs} jobs, {os.cpu_count()} cores",
          flush=True)
    py = [sys.executable, "-m", "voceunica", "-C", str(root)]
    src = str(REPO / "src")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1790000000",
           "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    used = subprocess.run([sys.executable, "-c", "import voceunica; print(voceunica.__file__)"], env=env,
                          capture_output=True, text=True, check=True).stdout.strip()
    print(f"voceunica under test: {used}")
    jobs = ["--jobs", str(args.jobs)]
    rows = []

    def stage(label: str, cmd: list[str], cwd: Path = root) -> dict:
        r = run(label, cmd, cwd, env, logs, args.timeout)
        print(f"  {label}: {r['wall']:.2f} s, {r['peak']:.0f} MB, exit {r['code']}", flush=True)
        rows.append(r)
        return r

    check = stage("check", py + ["check"])
    problems = [ln for ln in check["stderr"].splitlines() if PROBLEM.match(ln)]
    n_warn = sum(": warning: " in ln for ln in problems)
    print(f"  check reported {len(problems) - n_warn} errors, {n_warn} warnings")
    if len(problems) > n_warn:
        print("  first error: " + next(ln for ln in problems if ": warning: " not in ln)[:200])
    full = stage(f"build (full, -j {args.jobs})", py + ["build", *jobs])
    md = sorted((root / "build").glob("*.md"))
    docx = sorted((root / "build").glob("*.docx"))
    n_md, n_docx = len(md), len(docx)
    print(f"  outputs: {n_md} Markdown, {n_docx} DOCX, {sum(p.stat().st_size for p in md + docx) / 1e6:.1f} MB")
    proof_cpu = proof_seconds(root / "build")
    print(f"  read-back proof (part of the build): {proof_cpu:.2f} s CPU for {n_docx} DOCX = "
          f"{100 * proof_cpu / max(full['cpu'], 1e-9):.1f} % of the build's {full['cpu']:.1f} s CPU "
          "(target < 10 %)", flush=True)
    before = {p: p.stat().st_mtime_ns for p in md + docx}
    again = stage("build (nothing changed)", py + ["build", *jobs])
    touched = sum(1 for p, m in before.items() if not p.exists() or p.stat().st_mtime_ns != m)
    print(f"  no-change rebuild rewrote {touched} of {len(before)} output files; "
          f"build said: {(again['stderr'].strip().splitlines() or [''])[-1][:100]}")

    pandoc = None if args.no_pandoc else shutil.which("pandoc")
    pr = None
    if pandoc and md:
        out = root / "pandoc"
        out.mkdir()
        listing = logs / "pandoc-inputs.txt"
        listing.write_text("".join(f"{p.name}\n" for p in md), encoding="utf-8")
        # xargs exits 123 if any pandoc failed; each gets the same reference.docx the build uses.
        cmd = ["xargs", "-a", str(listing), "-P", str(args.jobs), "-I", "{}", pandoc, "-f", "gfm+footnotes",
               "-t", "docx", "--reference-doc", str(root / "templates" / "reference.docx"),
               "-o", str(out / "{}.docx"), "{}"]
        pr = stage(f"pandoc, same {n_md} Markdown → DOCX (-P {args.jobs})", cmd, root / "build")

    print()
    w = max(len(r["label"]) for r in rows)
    print(f"{'stage':<{w}} | {'wall s':>8} | {'peak MB':>8} | {'tree PSS MB':>11} | {'largest proc MB':>15} | procs")
    print(f"{'-' * w}-|-{'-' * 8}-|-{'-' * 8}-|-{'-' * 11}-|-{'-' * 15}-|------")
    for r in rows:
        flag = "" if r["code"] == 0 else f"  (exit {r['code']})"
        print(f"{r['label']:<{w}} | {r['wall']:>8.2f} | {r['peak']:>8.1f} | {r['tree_pss']:>11.1f} | "
              f"{r['largest']:>15.1f} | {r['procs']:>5}{flag}")
    print()
    print(f"check: {check['wall']:.2f} s (target < 1 s: {'met' if check['wall'] < 1 else 'NOT met'})")
    if pr is not None:
        ratio = full["wall"] / pr["wall"] if pr["wall"] else float("nan")
        verdict = "faster" if full["wall"] < pr["wall"] else "SLOWER"
        print(f"build vs pandoc: voceunica full build {full['wall']:.2f} s ({n_md} Markdown + {n_docx} DOCX) vs "
              f"pandoc {pr['wall']:.2f} s ({n_md} DOCX from the same Markdown) → build is {verdict} "
              f"({ratio:.2f}× pandoc's time; target: faster)")
    else:
        print("build vs pandoc: pandoc not run")
    worst = max(rows[:3], key=lambda r: r["peak"])
    print(f"peak memory: {worst['peak']:.0f} MB in '{worst['label']}' "
          f"(target < 500 MB: {'met' if worst['peak'] < 500 else 'NOT met'})")
    failed = [r["label"] for r in rows if r["code"] != 0]
    if failed:
        print(f"FAILED stages (non-zero exit): {', '.join(failed)}; logs in {logs}")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
