"""voceunica's own templates: the defaults a project's `templates/` overrides file by file.

A wheel carries them as package data, `voceunica/default_templates/`, copied from the
repository's top-level `templates/` by the build step in setup.py.  An editable install of
the repository has none there and uses the checkout's `templates/` instead, so an edit to
them shows at once.  The defaults come with the installed code, not with a pull request:
they are trusted (a project's own templates are not, and still run in the sandbox).
"""

from __future__ import annotations

from pathlib import Path

PACKAGED = Path(__file__).resolve().parent / "default_templates"
CHECKOUT = Path(__file__).resolve().parents[2] / "templates"  # src/voceunica/defaults.py -> templates/


def templates_dir() -> Path | None:
    """The folder of the default templates, or None when this installation has none."""
    for folder in (PACKAGED, CHECKOUT):
        if folder is CHECKOUT and folder.parent.joinpath("src", "voceunica") != Path(__file__).resolve().parent:
            continue  # installed elsewhere: no checkout around it
        if (folder / "labels.yaml").is_file():
            return folder
    return None


def read(name: str) -> bytes | None:
    """The bytes of a default file (a '/'-separated name under templates/), or None."""
    folder = templates_dir()
    if folder is None or any(part in ("", ".", "..") for part in name.split("/")):
        return None
    path = folder.joinpath(*name.split("/"))
    return path.read_bytes() if path.is_file() else None


def names() -> list[str]:
    """Every default file, by its '/'-separated name under templates/."""
    folder = templates_dir()
    if folder is None:
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
