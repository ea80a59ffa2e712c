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
    "joint-agenda-2026.en.docx": "f05ea39b54695c4e25bc39cf1de32006c2d26b3653ec93e5132c3eb01c577953",
    "joint-agenda-2026.it-en.docx": "d936eaac92d9a10dcd127875fd91d0ff7c67dc86a1160c0f24cf1d2f28afce37",
    "joint-agenda-2026.it.docx": "8e45dafedb186bcf3e12e368dc3b4663ff0a65407b4826b72e826262ab592a6d",
    "microelectronics-2026.en.docx": "37c1b8476fec69c41ee9c32d8b69f16b9283ebc19116cb8d20b4dd759a4d3b92",
    "microelectronics-2026.it-en.docx": "91f3d023912ac0aa587e5f0f9423204a2c6f364365c88424f083c7171ed6fbbd",
    "microelectronics-2026.it.docx": "35b8970307d3eb18f12f7d3969248e8b2a5eca0aaf2088785d3dc940e3e53fc2",
    "steel-2026.en.docx": "5676729ba58c298c737616340f8497aa57840b237258ab0b10e3c894187c49c6",
    "steel-2026.it-en.docx": "ec8f2141d741a0df7b3e50563073f06b345f33be6cbd83ef0d00f10362dfd1b4",
    "steel-2026.it.docx": "90feee4f7e24b01fad81c974ae0e3783220e0c189695683cb5cf6962e37b44ec",
}


def test_sample_docx_bytes_are_pinned(sample: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    build(sample, force=True, jobs=1)
    got = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((sample / "build").glob("*.docx"))}
    assert got == DOCX_SHA256
