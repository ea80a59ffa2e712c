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
    "joint-agenda-2026.en.docx": "61572381c20582e620f960369d429b43c1314578f4f89866d9b07d84a923fd05",
    "joint-agenda-2026.it-en.docx": "aa180cc2712af63001427969a9a15b7b4eaa3e0ca329f48afc6c71436a54fd46",
    "joint-agenda-2026.it.docx": "fb720f57864524378b81415eaccd55e3113e470650f6bf82d8d6fe8fcd1c8861",
    "microelectronics-2026.en.docx": "4c48b82dd264dd18e12dfa5cc5013348c09444e035769aab391b2679abb1c641",
    "microelectronics-2026.it-en.docx": "1338d6c28dce606aaf102d115f155fa7b57b99427fb5a7267e94e07118c6fb37",
    "microelectronics-2026.it.docx": "38f2fdc2be2e6c0489933cbe6bca614f068ce943ea42cb17247c8dbb1d7396b7",
    "steel-2026.en.docx": "5c60ecd07c971773bbd970446ed9f4806e101137579fc0652d1feed64abba37a",
    "steel-2026.it-en.docx": "efa26722d26b31f3423c32f8ab4490f764a826a68a62db6ad205b90e54f863a0",
    "steel-2026.it.docx": "c84ed16b05d9a889da71671594bdb530df5584868313455d704710e32b64887f",
}


def test_sample_docx_bytes_are_pinned(sample: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    build(sample, force=True, jobs=1)
    got = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((sample / "build").glob("*.docx"))}
    assert got == DOCX_SHA256
