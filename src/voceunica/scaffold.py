"""`voceunica init DIR`: a new content repository that checks and builds at once.

What it writes comes from scaffold_files/ (package data): an example position agreed by both
regions — its sign-offs' fingerprints and translation marks computed here from its content, as
`signoff` and `i18n mark` would, never written by hand — an example dossier, the CI workflow and
the pre-commit hook pinned to this voceunica, a .gitignore and a README for the offices.  No
templates: voceunica's defaults serve until the project puts its own in templates/.

Everything is written into a temporary folder beside DIR and renamed into place, so an
interrupted init leaves no half-made project.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import yaml

from voceunica import __version__
from voceunica.errors import VoceunicaError, problem
from voceunica.fingerprint import fingerprint, translation_marks
from voceunica.model import Position
from voceunica.regions import REGIONS

FILES = Path(__file__).resolve().parent / "scaffold_files"
WORKFLOW = ".github/workflows/voceunica.yml"
PACKAGE = f"voceunica[charts]=={__version__}"  # what the workflow installs: this version
CHECK_PACKAGE = f"voceunica=={__version__}"  # the pre-commit hook's: check draws no chart, so no matplotlib

# scaffold_files/<name> -> where it goes in the project
LAYOUT = {
    "README.md": "README.md",
    "gitignore": ".gitignore",
    "pre-commit-config.yaml": ".pre-commit-config.yaml",
    "voceunica.yml": WORKFLOW,
    "dossier.yaml": "dossiers/example.yaml",
    "position.yaml": "positions/example-cbam.yaml",
}


def fill(text: str, package: str = PACKAGE, today: dt.date | None = None) -> str:
    check = CHECK_PACKAGE if package == PACKAGE else package  # another source (a git URL): the hook's too
    return (text.replace("__VOCEUNICA_PACKAGE__", package).replace("__VOCEUNICA_VERSION__", __version__)
            .replace("__VOCEUNICA_CHECK_PACKAGE__", check)
            .replace("__TODAY__", (today or dt.date.today()).isoformat()))


def workflow(package: str = PACKAGE) -> str:
    """The CI workflow, installing `package` (a pinned version, a git URL, or '.[charts]' for voceunica's
    own repository, whose .github/workflows/voceunica.yml is this text)."""
    return fill((FILES / "voceunica.yml").read_text(encoding="utf-8"), package)


def agreed_position(text: str, today: dt.date) -> str:
    """The example position's YAML with both regions' sign-offs of its content and every
    translation marked current, appended in the layout `signoff` and `i18n mark` write."""
    pos = Position.model_validate(yaml.safe_load(text))
    fp = fingerprint(pos)
    lines = [text.rstrip("\n"), "signoffs:"]
    for region, name in zip(REGIONS, ("Nome Cognome", "Nome Cognome"), strict=True):
        lines += [f"  {region}:", f"    by: {name}", f"    date: {today.isoformat()}", f"    fingerprint: {fp}"]
    lines.append("translated_from:")
    lines += [f"  {field}: '{digest}'" for field, digest in translation_marks(pos).items()]
    return "\n".join(lines) + "\n"


def scaffold(target: Path, *, shown: str | None = None, today: dt.date | None = None,
             package: str = PACKAGE) -> list[str]:
    """Write a new content repository at `target` (a new or empty folder); the files written, relative
    to it.  Raises VoceunicaError at `shown` (the folder as the user named it) when it cannot."""
    shown = shown or str(target)
    today = today or dt.date.today()
    if not package.strip() or any(c in package for c in "\"\\\n\r"):
        raise VoceunicaError(problem(shown, 1, 1, f"--package {package!r}: expected a pip requirement "
                                     "without quotes or line breaks"))
    if target.exists() or target.is_symlink():
        if not target.is_dir() or target.is_symlink():
            raise VoceunicaError(problem(shown, 1, 1, "exists and is not a folder: name a new or empty folder"))
        if any(target.iterdir()):
            raise VoceunicaError(problem(shown.rstrip("/") + "/", 1, 1,
                                         "not empty: init writes a new project into a new or empty folder"))
    parent = target.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    except OSError as exc:
        raise VoceunicaError(problem(shown, 1, 1, f"cannot create it: {exc.strerror}")) from None
    try:
        written = []
        for name, rel in LAYOUT.items():
            text = fill((FILES / name).read_text(encoding="utf-8"), package, today)
            if name == "position.yaml":
                text = agreed_position(text, today)
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            written.append(rel)
        staging.chmod(0o777 & ~_umask())
        os.replace(staging, target)  # onto a missing or empty folder
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise VoceunicaError(problem(shown, 1, 1, f"cannot write it: {exc.strerror}")) from None
    return sorted(written)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
