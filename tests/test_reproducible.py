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
    "steel-2026.en.docx": "46f05b27ea0d6bb65ae5a29846ba7bdb8469ed7a36dc1694b433cf03ba9894f6",
    "steel-2026.it-en.docx": "8e2d4500b0f664ccace4592b5e10d4213564b45884943e0a44c8a21bd3658c7e",
    "steel-2026.it.docx": "65dfd29c66859f8f5b7d22f3de63f4d34898b598fab323ac859c067dcabcd75a",
}


def test_sample_docx_bytes_are_pinned(sample: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    build(sample, force=True, jobs=1)
    got = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((sample / "build").glob("*.docx"))}
    assert got == DOCX_SHA256
