"""Contact sheets of the sample dossiers: every page of every PDF, as a liaison officer sees them.

    python docs/contact_sheet.py            # writes docs/contact-sheet/*.png and docs/contact-sheet/README.md

It copies the project to a temporary folder, builds each sample dossier in both layouts (`brief` and
`dossier`, whatever its own file chooses) with `voceunica build --pdf` (the console script, as a user
runs it), turns every page into a small PNG with `pdftoppm` and lays the pages of each PDF side by side
in one picture per dossier and layout. Under each page: its number and how full it is (the last inked
line above the footer, as a share of the text area), so a half-empty page shows at a glance.

Needs LibreOffice (`soffice`), poppler (`pdftoppm`) and Pillow (installed with matplotlib). A
development tool: nothing in the package imports it.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "contact-sheet"
DPI = 30  # an A4 page becomes 248 x 351 pixels
COLUMNS = 6
# The text area of the reference document's A4 page (top and bottom margins with header and footer),
# as shares of the page height.
TOP, BOTTOM = 0.07, 0.91


def fill(page: Image.Image) -> float:
    """How far down the text area the last inked row reaches (0 to 1)."""
    grey = page.convert("L")
    w, h = grey.size
    top, bottom = int(h * TOP), int(h * BOTTOM)
    px = grey.load()
    last = top
    for y in range(top, bottom):
        if any(px[x, y] < 200 for x in range(0, w, 2)):  # type: ignore[index]
            last = y
    return (last - top) / (bottom - top)


def layout_copy(project: Path, dossier: Path, layout: str) -> None:
    """Set `layout:` in one dossier file of the copied project (replace the line, or add it after `doctype:`)."""
    text = dossier.read_text(encoding="utf-8")
    if re.search(r"(?m)^layout:", text):
        text = re.sub(r"(?m)^layout:.*$", f"layout: {layout}", text)
    else:
        text = re.sub(r"(?m)^(doctype:.*)$", rf"\1\nlayout: {layout}", text, count=1)
    dossier.write_text(text, encoding="utf-8")


def build(project: Path, exe: str) -> Path:
    out = project / "build"
    res = subprocess.run([exe, "-C", str(project), "build", "--pdf", "--force", "--out", str(out)],
                         check=False, capture_output=True, text=True,
                         env={**os.environ, "SOURCE_DATE_EPOCH": "1790000000"})
    if res.returncode != 0:
        raise SystemExit(f"voceunica build failed ({project.name} layout):\n{res.stderr}")
    return out


def sheet(pdf: Path, work: Path) -> tuple[Image.Image, list[float]]:
    folder = work / pdf.stem
    folder.mkdir()
    subprocess.run(["pdftoppm", "-png", "-r", str(DPI), str(pdf), str(folder / "page")], check=True)
    pages = [Image.open(p).convert("RGB") for p in sorted(folder.glob("page-*.png"),
                                                         key=lambda p: int(p.stem.rsplit("-", 1)[1]))]
    fills = [fill(p) for p in pages]
    pw, ph = pages[0].size
    label = 14
    columns = min(COLUMNS, len(pages))
    rows = (len(pages) + columns - 1) // columns
    canvas = Image.new("RGB", (columns * (pw + 8) + 8, rows * (ph + label + 8) + 8), "#d0d4d8")
    draw = ImageDraw.Draw(canvas)
    for i, (page, f) in enumerate(zip(pages, fills, strict=True)):
        x = 8 + (i % columns) * (pw + 8)
        y = 8 + (i // columns) * (ph + label + 8)
        canvas.paste(page, (x, y))
        last = i == len(pages) - 1
        colour = "#222222" if f >= 2 / 3 or last else "#b00020"
        draw.text((x + 2, y + ph + 2), f"{i + 1}  {f:.0%}", fill=colour)
    return canvas, fills


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where the sheets go (default docs/contact-sheet)")
    parser.add_argument("--project", type=Path, default=ROOT, help="the project to build (default this repository)")
    args = parser.parse_args()
    beside = Path(sys.executable).parent / "voceunica"  # the console script of this interpreter's environment
    exe = str(beside) if beside.exists() else shutil.which("voceunica") or "voceunica"
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed: apt-get install -y libreoffice-writer poppler-utils", file=sys.stderr)
            return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.png"):
        old.unlink()
    lines = ["# Contact sheets of the sample dossiers", "",
             "Made by `python docs/contact_sheet.py` from the sample content: every page of every PDF, "
             "in both layouts, with each page's fill (share of the text area down to its last line; "
             "red below two thirds, the last page excepted).", "",
             "| dossier | layout | PDF | pages | pages under 2/3 full (last excepted) |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for layout in ("brief", "dossier"):
            project = Path(tmp) / layout
            shutil.copytree(args.project, project, ignore=shutil.ignore_patterns(".git", "build", "docs", ".voceunica*",
                                                                          "__pycache__", "*.egg-info"))
            for dossier in sorted((project / "dossiers").glob("*.yaml")):
                layout_copy(project, dossier, layout)
            out = build(project, exe)
            work = Path(tmp) / f"png-{layout}"
            work.mkdir()
            for pdf in sorted(out.glob("*.pdf")):
                canvas, fills = sheet(pdf, work)
                name = f"{pdf.stem}.{layout}.png"
                # 32 colours keep a sheet near 100 KB in the repository, legible enough to judge a page
                canvas.quantize(colors=32).save(args.out / name, optimize=True)
                low = [str(i + 1) for i, f in enumerate(fills[:-1]) if f < 2 / 3]
                dossier_id, lang = pdf.stem.split(".", 1)
                lines.append(f"| {dossier_id} | {layout} | [{lang}]({name}) | {len(fills)} | {', '.join(low) or '–'} |")
                print(f"{name}: {len(fills)} pages, fill " + " ".join(f"{f:.0%}" for f in fills))
    (args.out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
