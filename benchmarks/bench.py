"""Benchmark: a large synthetic project through check, full build and no-change rebuild.

    python benchmarks/bench.py [--positions 1000] [--dossiers 100] [--rows 10000] [--keep DIR]

Generates the project in a temporary folder (1 000 positions, 100 dossiers,
annexes of 10 000 rows by default), then runs each stage as a fresh
`python -m voceunica` process and prints wall time and peak memory (max RSS
of that process; parallel build workers are reported separately as the
largest child).  When pandoc is installed it also times pandoc turning the
same Markdown files into DOCX, for comparison.  Figures, not assertions:
this is not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
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
        (root / "positions" / f"pos-{i:04d}.yaml").write_text(position_yaml(i), encoding="utf-8")
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


def run(label: str, cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float, int]:
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        print(f"{label}: exit {code}\n{stderr[-2000:]}", file=sys.stderr)
    del before
    return wall, usage.ru_maxrss / 1024, code


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--positions", type=int, default=1000)
    ap.add_argument("--dossiers", type=int, default=100)
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = ap.parse_args()

    tmp = None
    if args.keep:
        root = args.keep
        if root.exists():
            shutil.rmtree(root)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="voceunica-bench-")
        root = Path(tmp.name) / "project"
    t0 = time.perf_counter()
    generate(root, args.positions, args.dossiers, args.rows)
    print(f"project: {args.positions} positions, {args.dossiers} dossiers, 5 annexes of {args.rows} rows "
          f"(generated in {time.perf_counter() - t0:.1f} s) at {root}")
    py = [sys.executable, "-m", "voceunica", "-C", str(root)]
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1790000000"}
    rows = []
    rows.append(("check", *run("check", py + ["check"], root, env)))
    rows.append((f"build (full, -j {args.jobs})", *run("build", py + ["build", "--jobs", str(args.jobs)], root, env)))
    rows.append(("build (nothing changed)", *run("rebuild", py + ["build"], root, env)))
    md = sorted((root / "build").glob("*.md"))
    docx = sorted((root / "build").glob("*.docx"))
    print(f"outputs: {len(md)} Markdown, {len(docx)} DOCX, "
          f"{sum(p.stat().st_size for p in md + docx) / 1e6:.1f} MB")
    pandoc = shutil.which("pandoc")
    if pandoc and md:
        out = root / "pandoc"
        out.mkdir()
        script = "\n".join(f'"{pandoc}" -f gfm+footnotes -t docx -o "{out / p.stem}.docx" "{p}"' for p in md)
        start = time.perf_counter()
        proc = subprocess.run(["bash", "-c", script], cwd=root / "build", capture_output=True)
        rows.append((f"pandoc, same {len(md)} Markdown → DOCX (serial)", time.perf_counter() - start, float("nan"),
                     proc.returncode))
    print(f"{'stage':<48} {'wall s':>8} {'peak MB':>9}")
    for label, wall, mem, code in rows:
        flag = "" if code in (0,) else f"  (exit {code})"
        print(f"{label:<48} {wall:>8.2f} {mem:>9.1f}{flag}")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
