"""The build cache: what a build skips, and what `--force` must not forget."""

from __future__ import annotations

from pathlib import Path

from voceunica.pipeline import build


def test_forcing_one_dossier_keeps_the_others_up_to_date(sample: Path) -> None:
    out = sample / "build"
    first = build(sample, out_dir=out, jobs=1)
    assert sorted(first.skipped) == [] and len(first.dossiers) == 3
    forced = build(sample, ["steel-2026"], out_dir=out, jobs=1, force=True)
    assert forced.skipped == [] and forced.dossiers == ["steel-2026"]
    again = build(sample, out_dir=out, jobs=1)
    # before the fix, the forced build dropped the other dossiers' cache entries: 2 of 3 rebuilt
    assert sorted(again.skipped) == sorted(first.dossiers), again.skipped
    assert again.files == []
