"""Every zip voceunica reads or writes: DOCX packages, redlines, release bundles.

python-docx stamps every zip entry with the local time of saving; the same
dossier built twice would differ.  Here a package is written with a fixed
entry order (`[Content_Types].xml` first, as Office expects, then by name),
one fixed timestamp, fixed attributes and a chosen deflate level; each XML
part is checked well-formed (expat) before it is zipped.  No other module
imports `zipfile`.

A document python-docx has built is zipped once (`save`): its parts are
taken as python-docx would write them, never deflated by python-docx and
then inflated and deflated again here.  A part may be given as a sequence of
chunks (the body of a large document): it is checked and deflated a chunk
at a time, never joined into one copy.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from voceunica.docx.model import DocxError

if TYPE_CHECKING:
    from docx.document import Document

# A part's bytes, whole or as chunks written one after the other.
Data = bytes | Sequence[bytes]

ZIP_EPOCH_MIN = 315532800  # 1980-01-01: zip cannot store earlier dates

BadPackage = zipfile.BadZipFile  # what reading a file that is no zip raises


def _stamp(epoch: int) -> tuple[int, int, int, int, int, int]:
    when = dt.datetime.fromtimestamp(max(epoch, ZIP_EPOCH_MIN), tz=dt.UTC)
    return (when.year, when.month, when.day, when.hour, when.minute, when.second - when.second % 2)


def epoch_of(when: dt.datetime) -> int:
    """Seconds since 1970 of a document date (naive dates are UTC, as `pipeline.timestamp` makes them)."""
    return int(when.replace(tzinfo=dt.UTC).timestamp())


def deterministic_zip(entries: Iterable[tuple[str, Data]], epoch: int, level: int = 6) -> bytes:
    """Any files as a zip that depends on nothing but them: sorted names, one stamp, fixed attributes."""
    stamp = _stamp(epoch)
    ordered = sorted(entries, key=lambda e: (e[0] != "[Content_Types].xml", e[0]))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in ordered:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            if isinstance(data, bytes):
                z.writestr(info, data, compresslevel=level)
                continue
            # What writestr does, a chunk at a time: the same deflate stream, the same header once closed.
            info._compresslevel = level  # type: ignore[attr-defined]  # noqa: SLF001 - as writestr passes it to open()
            with z.open(info, "w") as dest:
                for chunk in data:
                    dest.write(chunk)
    return buf.getvalue()


def utf8_chunks(text: str, size: int = 1 << 20) -> list[bytes]:
    """`text` encoded a slice at a time: a large document's body never exists as one more whole copy."""
    return [text[i:i + size].encode("utf-8") for i in range(0, len(text), size)]


def read_parts(package: bytes, names: Iterable[str] | None = None) -> dict[str, bytes]:
    """The parts of a package by name, in stored order; with `names`, only those
    of them it has.  Raises `BadPackage` if the bytes are no zip."""
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        wanted = None if names is None else set(names)
        return {i.filename: z.read(i.filename) for i in z.infolist() if wanted is None or i.filename in wanted}


def read_part(package: bytes, name: str, *, limit: int | None = None) -> bytes | None:
    """One part; None when the bytes are no zip, lack the part, or it is larger than
    `limit` bytes once inflated (a zip bomb is not read)."""
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as z:
            if limit is not None and z.getinfo(name).file_size > limit:
                return None
            return z.read(name)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, NotImplementedError):
        return None


def stamp_of(package: bytes) -> int:
    """The epoch a package's (first) entry is stamped with, to write an edited copy alike."""
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        infos = z.infolist()
    if not infos:
        return ZIP_EPOCH_MIN
    return calendar.timegm(infos[0].date_time + (0, 0, 0))


def write_parts(parts: Mapping[str, Data], epoch: int, level: int = 6) -> bytes:
    """A package of `parts`, every XML part checked well-formed first, zipped deterministically."""
    for name, data in parts.items():
        well_formed(name, data)
    return deterministic_zip(parts.items(), epoch, level)


class _Parts:
    """Where python-docx's package writer puts each part: kept by name instead of deflated into a zip."""

    def __init__(self) -> None:
        self.parts: dict[str, bytes] = {}

    def write(self, pack_uri: Any, blob: bytes) -> None:
        self.parts[pack_uri.membername] = blob


def save(doc: Document, epoch: int, edits: dict[str, Callable[[bytes], Data]] | None = None,
         level: int = 6) -> bytes:
    """The document as python-docx would save it, zipped once, deterministically; `edits` rewrite named
    parts on the way (as `rezip`'s)."""
    from docx.opc.pkgwriter import PackageWriter

    package = doc.part.package
    for part in package.parts:  # what OpcPackage.save does before writing
        part.before_marshal()
    parts = package.parts
    sink = _Parts()
    # PackageWriter.write's three steps, into `sink` instead of a zip of python-docx's own
    PackageWriter._write_content_types_stream(sink, parts)  # type: ignore[no-untyped-call]  # noqa: SLF001
    PackageWriter._write_pkg_rels(sink, package.rels)  # type: ignore[no-untyped-call]  # noqa: SLF001
    PackageWriter._write_parts(sink, parts)  # type: ignore[arg-type]  # noqa: SLF001
    edits = edits or {}
    return write_parts({name: edits[name](data) if name in edits else data for name, data in sink.parts.items()},
                       epoch, level)


def rezip(docx: bytes, epoch: int | None = None, edits: dict[str, Callable[[bytes], bytes]] | None = None,
          level: int = 6) -> bytes:
    """The package again, deterministically; `edits` rewrite named parts on the way.
    Without `epoch`, the entries keep the stamp the package has."""
    edits = edits or {}
    parts = {name: edits[name](data) if name in edits else data for name, data in read_parts(docx).items()}
    return write_parts(parts, stamp_of(docx) if epoch is None else epoch, level)


def well_formed(name: str, data: Data) -> None:
    """Refuse a package part that is not well-formed XML before it is zipped:
    Word reports such a file as corrupt and offers to 'repair' it.  The check
    is expat's (C, no tree built): a tenth of a second for a 10 000-row annex."""
    if not (name.endswith(".xml") or name.endswith(".rels")):
        return
    import pyexpat

    parser = pyexpat.ParserCreate()
    try:
        if isinstance(data, bytes):
            parser.Parse(data, True)
        else:
            for chunk in data:
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except pyexpat.ExpatError as exc:
        raise DocxError(f"internal error: the part {name} would not be well-formed XML "
                        f"(line {exc.lineno}: {pyexpat.ErrorString(exc.code)}); nothing was written") from None
