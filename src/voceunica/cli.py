"""The command line: parse options, call the library, print, set the exit code.

The only place that prints problems and exits.  Exit codes follow linters:
0 clean, 1 problems found, 2 usage or internal error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from voceunica import __version__
from voceunica.errors import Problem, VoceunicaError, summary

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="One voice in Brussels: check and build bilingual IT/EN dossiers from positions/ and dossiers/.",
)


class State:
    root: Path = Path(".")


state = State()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"voceunica {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    directory: Annotated[Optional[Path], typer.Option(
        "-C", "--directory", help="Run as if started in DIR (like git -C).", metavar="DIR")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    state.root = directory if directory is not None else Path(".")
    if not state.root.is_dir():
        typer.echo(f"voceunica: -C {directory}: no such directory", err=True)
        raise typer.Exit(2)


def _shown(p: Problem) -> Problem:
    """Problem paths are project-relative; show them relative to where the user stands."""
    if state.root.resolve() == Path.cwd().resolve() or p.path.startswith("<"):
        return p
    rel = os.path.relpath(state.root / p.path)
    return Problem(rel, p.line, p.col, p.message, p.severity)


def report(problems: list[Problem]) -> None:
    for p in problems:
        typer.echo(str(_shown(p)), err=True)
    if problems:
        typer.echo(summary(problems), err=True)


@app.command()
def check() -> None:
    """Validate positions, dossiers, annexes, labels and templates; print every problem."""
    from voceunica.pipeline import check as run_check

    project = run_check(state.root)
    report(project.problems)
    if project.errors:
        raise typer.Exit(1)
    typer.echo(f"ok: {len(project.positions)} positions, {len(project.dossiers)} dossiers, "
               f"{len(project.annexes)} annexes", err=True)


@app.command()
def build(
    dossiers: Annotated[Optional[list[str]], typer.Argument(help="Dossier ids (default: all).",
                                                            show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output folder (default: build/).",
                                                 metavar="DIR")] = None,
) -> None:
    """Build <id>.it.md, <id>.en.md, <id>.it.docx, <id>.en.docx (and <id>.it-en.docx) for each dossier."""
    from voceunica.pipeline import build as run_build

    result = run_build(state.root, dossiers or (), out)
    for path in result.files:
        typer.echo(os.path.relpath(path))
    typer.echo(f"built {len(result.dossiers)} dossier{'s' if len(result.dossiers) != 1 else ''}, "
               f"{len(result.files)} files", err=True)


def main() -> None:
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except VoceunicaError as exc:
        report(exc.problems)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # click usage errors and the unexpected
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if os.environ.get("VOCEUNICA_DEBUG"):
            raise
        typer.echo(f"voceunica: internal error: {type(exc).__name__}: {exc}\n"
                   "(this is a bug in voceunica; run with VOCEUNICA_DEBUG=1 for details)", err=True)
        sys.exit(2)
