"""Render: the Markdown is GFM that GitHub and the DOCX writer read the same way."""

from __future__ import annotations

from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

from voceunica.render import md_cell, md_escape, render_markdown, split_front_matter
from voceunica.resolve import resolve
from voceunica.validate import load_project


def render(root: Path, lang: str) -> str:
    project = load_project(root)
    assert project.errors == []
    return render_markdown(resolve(project, "mini", lang), project.template_dirs(), "dossier.md.j2")


def tokens(md: str) -> list:  # type: ignore[type-arg]
    return MarkdownIt("commonmark").enable("table").use(footnote_plugin).parse(split_front_matter(md)[1])


def test_front_matter_is_yaml_with_the_dossier_metadata(mini: Path) -> None:
    meta, body = split_front_matter(render(mini, "it"))
    data = yaml.safe_load(meta)
    assert data["title"] == "Dossier di prova"
    assert data["lang"] == "it-IT" and data["date"] == "2026-03-10" and data["version"] == "1.0.0"
    assert data["eu_files"] == ["Regolamento (UE) 2023/956 – Meccanismo di adeguamento del carbonio alle "
                                "frontiere. CELEX 32023R0956."]
    assert body.startswith("<!-- vu:toc -->")


def test_annex_table_is_a_gfm_table_with_right_aligned_numbers(mini: Path) -> None:
    toks = tokens(render(mini, "it"))
    tables = [t for t in toks if t.type == "table_open"]
    assert len(tables) == 2  # the amendment and the annex
    cells = [t for t in toks if t.type in ("th_open", "td_open")]
    styles = [c.attrGet("style") for c in cells[-9:]]
    assert styles == ["text-align:right"] * 9
    inline = [t.content for t in toks if t.type == "inline"]
    assert "163,1" in inline and "Lombardia (miliardi di EUR)" in inline


def test_every_footnote_reference_has_a_definition(mini: Path) -> None:
    for lang in ("it", "en"):
        toks = tokens(render(mini, lang))
        refs = {c.meta["label"] for t in toks if t.type == "inline" for c in t.children or []
                if c.type == "footnote_ref"}
        assert refs == {"steel-mini-cbam", "steel-mini-note"}
        # the plugin turns definitions into a footnote block: one entry per reference
        assert sum(t.type == "footnote_open" for t in toks) == len(refs)
        md = render(mini, lang)
        for r in refs:
            assert f"\n[^{r}]: " in md


def test_plain_text_is_escaped_and_template_syntax_stays_literal(mini: Path) -> None:
    pos = mini / "positions" / "steel-mini.yaml"
    text = pos.read_text(encoding="utf-8").replace("en: Steel and CBAM", "en: 'Steel | *CBAM* {{ x }} #1'")
    pos.write_text(text, encoding="utf-8")
    md = render(mini, "en")
    assert "# Steel \\| \\*CBAM\\* {{ x }} \\#1" in md


def test_markdown_helpers() -> None:
    assert md_escape("1. not a list") == "1\\. not a list"
    assert md_escape("- not a bullet") == "\\- not a bullet"
    assert md_cell("first **para**\n\nsecond | pipe") == "first **para**<br><br>second \\| pipe"


def test_draft_dossier_says_so_and_shows_position_status(mini: Path) -> None:
    pos = mini / "positions" / "steel-mini.yaml"
    pos.write_text(pos.read_text(encoding="utf-8").replace("status: agreed", "status: draft"), encoding="utf-8")
    md = render(mini, "it")
    assert "> **BOZZA** – Bozza: non tutte le posizioni" in md
    assert "*Versione 1.0.0 · Stato: Bozza*" in md
    assert "`steel-mini`" not in md  # the position's id is internal
    assert "> **DRAFT** – Draft: not every position" in render(mini, "en")
    assert "BOZZA" not in render_final(mini)


def render_final(root: Path) -> str:
    pos = root / "positions" / "steel-mini.yaml"
    pos.write_text(pos.read_text(encoding="utf-8").replace("status: draft", "status: agreed"), encoding="utf-8")
    return render(root, "it")


def test_an_office_that_names_its_region_is_not_prefixed_with_it_again(mini: Path) -> None:
    data = yaml.safe_load(split_front_matter(render(mini, "it"))[0])
    assert data["authors"] == ["Delegazione di Regione Lombardia a Bruxelles", "Regione del Veneto – Sede di Bruxelles"]
