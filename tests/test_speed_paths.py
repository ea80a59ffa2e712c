"""The fast paths give what the slow ones gave: annex tables written from their rows, charts drawn once.

Each fast path is compared with the path it replaces, on the sample's own
content: the Word files made with the annexes' rows (`docx.annex`) and the
ones made by parsing the annexes' Markdown back are byte for byte the same,
and the fast path is shown to have been taken (else the test would compare
the slow path with itself).
"""

from __future__ import annotations

import dataclasses
import re
import struct
import zlib
from pathlib import Path

import pytest

from voceunica import docx as writer
from voceunica.docx import annex
from voceunica.docx.model import AnnexTable
from voceunica.model import LANGS
from voceunica.pipeline import check, docx_meta
from voceunica.render import render_markdown, split_front_matter
from voceunica.resolve import resolve

EPOCH = 1790000000


def _png() -> bytes:
    """A 1×1 picture: the charts' content does not matter here, only that the writer can place them."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Rows of every annex table written from its rows."""
    taken: list[int] = []
    direct = annex.table

    def table(w, match, st):  # type: ignore[no-untyped-def]
        taken.append(len(match.table.rows))
        return direct(w, match, st)

    monkeypatch.setattr(annex, "table", table)
    return taken


def _both_ways(root: Path, dossier_id: str) -> list[tuple[str, bytes, bytes]]:
    """(name, made from the rows, made from the Markdown) for every Word file of a dossier."""
    project = check(root)
    reference = project.asset("reference.docx")
    bodies, metas = {}, {}
    images: dict[str, bytes] = {}
    for lang in LANGS:
        rd = resolve(project, dossier_id, lang)
        bodies[lang] = split_front_matter(render_markdown(rd, project.template_dirs(), "dossier.md.j2"))[1]
        images.update((name, _png()) for name in re.findall(r"!\[[^\]]*\]\(([^)\s]+\.png)\)", bodies[lang]))
        metas[lang] = docx_meta(project, rd, EPOCH)
    plain = {lang: dataclasses.replace(m, tables=()) for lang, m in metas.items()}
    out = []
    for lang in LANGS:
        assert metas[lang].tables, "the dossier should have annexes"
        out.append((f"{dossier_id}.{lang}.docx",
                    writer.markdown_to_docx(bodies[lang], metas[lang], reference=reference, images=images),
                    writer.markdown_to_docx(bodies[lang], plain[lang], reference=reference, images=images)))
    out.append((f"{dossier_id}.it-en.docx",
                writer.parallel_docx(bodies["it"], metas["it"], bodies["en"], metas["en"], reference=reference,
                                     images=images),
                writer.parallel_docx(bodies["it"], plain["it"], bodies["en"], plain["en"], reference=reference,
                                     images=images)))
    return out


@pytest.mark.parametrize("dossier_id", ["joint-agenda-2026", "microelectronics-2026", "steel-2026"])
def test_annex_tables_from_rows_are_the_tables_parsed_from_markdown(sample: Path, dossier_id: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    taken = _counting(monkeypatch)
    for name, direct, parsed in _both_ways(sample, dossier_id):
        assert direct == parsed, f"{name}: the Word file differs when its annexes are written from their rows"
    # every annex of every language, single and parallel, went the direct way
    project = check(sample)
    annexes = len(project.dossiers[dossier_id].annexes)
    assert len(taken) == 4 * annexes, taken


def _body(md_rows: list[str]) -> str:
    return "\n".join(["# Annex", "", "Table 1 – Data", "", *md_rows, "", "Source: here.", ""])


def _docx(markdown: str, tables: tuple[AnnexTable, ...], sample: Path) -> bytes:
    project = check(sample)
    rd = resolve(project, "steel-2026", "en")
    meta = dataclasses.replace(docx_meta(project, rd, EPOCH), tables=tables)
    return writer.markdown_to_docx(markdown, meta, reference=project.asset("reference.docx"))


def test_a_table_the_markdown_does_not_hold_exactly_is_parsed_as_written(sample: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    taken = _counting(monkeypatch)
    table = AnnexTable(["Year", "Value (EUR)"], ["right", "right"], [["2023", "1 000"], ["2024", "2 000"]])
    exact = ["| Year | Value (EUR) |", "| ---: | ---: |", "| 2023 | 1 000 |", "| 2024 | 2 000 |"]
    md = _body(exact)
    assert _docx(md, (table,), sample) == _docx(md, (), sample)
    assert taken == [2]
    # a template that writes it otherwise, or a cell holding Markdown: the Markdown is what counts
    for rows, cells in ((["|Year|Value (EUR)|", *exact[1:]], table.rows),
                        ([*exact[:3], "| 2024 | *2 000* |"], [["2023", "1 000"], ["2024", "*2 000*"]]),
                        ([*exact[:3], "| 2024 | 2 000 |", "| 2025 | 3 000 |"], table.rows)):
        taken.clear()
        changed = AnnexTable(table.headers, table.align, cells)
        md = _body(rows)
        assert _docx(md, (changed,), sample) == _docx(md, (), sample)
        assert taken == []


EDGES = ["\u00a0x", "x\u00a0", "a\u00a0b", "a  b", " ", "", "a&amp;b", "a\\|b", "a<br>b", "*x*", "1\u2007000"]


@pytest.mark.parametrize("cell", EDGES)
def test_cells_at_the_edge_of_plain_text_give_what_parsing_gives(sample: Path, cell: str) -> None:
    from voceunica.mdescape import md_cell

    table = AnnexTable(["A", "B"], ["left", "right"], [[cell, "1"], ["y", cell]])
    md = _body(["| A | B |", "| --- | ---: |", f"| {md_cell(cell)} | 1 |", f"| y | {md_cell(cell)} |"])
    assert _docx(md, (table,), sample) == _docx(md, (), sample)


def test_an_annex_table_in_a_fence_stays_code(sample: Path) -> None:
    table = AnnexTable(["A", "B"], ["left", "left"], [["x", "y"]])
    md = "```\n\n| A | B |\n| --- | --- |\n| x | y |\n\n```\n"
    data = _docx(md, (table,), sample)
    assert data == _docx(md, (), sample)


# --- charts: drawn once per content, kept sealed in the user's cache folder ----------------------------

def _fresh_charts(monkeypatch: pytest.MonkeyPatch, home: Path) -> list[str]:
    """A process that has drawn nothing, with its cache folder at `home`; the charts it draws."""
    from voceunica import charts, pipeline

    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.setattr(pipeline, "_CHARTS", None)
    monkeypatch.setattr(charts, "_DRAWN", {})
    drawn: list[str] = []
    draw = charts.render_png

    def counting(chart, lang):  # type: ignore[no-untyped-def]
        drawn.append(charts.chart_key(chart, lang))
        return draw(chart, lang)

    monkeypatch.setattr(charts, "render_png", counting)
    return drawn


def _pictures(root: Path) -> dict[str, bytes]:
    from voceunica.pipeline import render_many

    project = check(root)
    out: dict[str, bytes] = {}
    for files in render_many(project, sorted(project.dossiers), EPOCH, jobs=1).values():
        out.update((n, d) for n, d in files.items() if n.endswith(".png") and isinstance(d, bytes))
    return out


def test_each_distinct_chart_is_drawn_once_then_read_from_the_sealed_cache(sample: Path, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = _fresh_charts(monkeypatch, tmp_path / "cache")
    first = _pictures(sample)
    assert drawn and len(drawn) == len(set(drawn)), "a chart was drawn twice"
    shared = [n for n in first if ".timeline." not in n]
    assert len(shared) > len(drawn), "the sample should show one annex's chart in several dossiers"
    # another run: nothing drawn, the same bytes
    drawn = _fresh_charts(monkeypatch, tmp_path / "cache")
    assert _pictures(sample) == first
    assert drawn == []
    # a cached picture changed by hand (or planted) is not sealed by this cache's key: drawn again
    for path in (tmp_path / "cache" / "voceunica" / "charts").iterdir():
        data = path.read_bytes()
        path.write_bytes(data[:-20] + bytes(20))
    drawn = _fresh_charts(monkeypatch, tmp_path / "cache")
    assert _pictures(sample) == first
    assert len(drawn) == len(set(drawn)) > 0

