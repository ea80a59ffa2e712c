"""The sample's Word files, byte for byte: a refactoring of the Word layer must not change them.

The digests below are of the repository's sample project built with a fixed
SOURCE_DATE_EPOCH.  When a change to the output is *intended* (a new style, a
writer fix, a new dependency version that zips differently), rebuild and
paste the new digests:

    d=$(mktemp -d) && cp -r positions dossiers templates "$d" &&
    SOURCE_DATE_EPOCH=1790000000 voceunica -C "$d" build --force -j 1 &&
    (cd "$d/build" && sha256sum *.docx)

and say in the commit message why the bytes changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from voceunica.pipeline import build

EPOCH = "1790000000"
DOCX_SHA256 = {
    "joint-agenda-2026.en.docx": "5fc24548f57150e65157b26e33f94a73cea7b98ab1188e81e09ee2940ee64905",
    "joint-agenda-2026.it-en.docx": "298b374383424aa432483870bc900d32f6b17fd77ecc2ec5b9a3b3621569a88e",
    "joint-agenda-2026.it.docx": "eed658c8c012329b56d73dc2695accac4964ae57a16c5ff0de09f5c1128c410f",
    "microelectronics-2026.en.docx": "f66db7a54b12618061f4a376f0e32a0a26b1a59c9fe614eb1c13a77b91a97998",
    "microelectronics-2026.it-en.docx": "6252872d20c5bfac3597c7b1709485b5057c6f2e4aa607d9eae012c40d6b98b9",
    "microelectronics-2026.it.docx": "14c84afc5257238fd3e562369fe1d4a9945598bfef8c360c5b3e09a3f1a17bf9",
    "steel-2026.en.docx": "47a2748d1d623ad0d7678b00d5c861d244ceb3ed3ac5821799f12391a6f7956e",
    "steel-2026.it-en.docx": "08f64e57cb835a8dda58edc2b84f92fc67cce49411f4edddf2c1980cd5a11613",
    "steel-2026.it.docx": "41c6a71ca0f910a9d8d2bb2c8e93c59789865f5f454343ba2d5b5ee023899319",
}


def test_sample_docx_bytes_are_pinned(sample: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    build(sample, force=True, jobs=1)
    got = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((sample / "build").glob("*.docx"))}
    assert got == DOCX_SHA256
