"""Stage 5 — write: put finished bytes on disk, never half a file.

Every file is written to a temporary name in the target folder and renamed
into place, so a reader (or a crash) sees the old file or the new one,
never a torn one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes | str) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_all(out_dir: Path, files: dict[str, bytes | str]) -> list[Path]:
    """Write a set of named outputs; names are relative to `out_dir`."""
    written = []
    for name in sorted(files):
        target = out_dir / name
        atomic_write(target, files[name])
        written.append(target)
    return written
