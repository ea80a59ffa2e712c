"""The import contract: data flows one way, and the imports show it.

Every module of the package sits in one layer; a module may import its own
layer and the layers before it, never a later one.  Imports inside functions
count too (a lazy import is still a dependency).  A new module must be given
a layer here: where it sits is a design decision, not an accident.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

LAYERS: list[tuple[str, set[str]]] = [
    ("foundation", {"voceunica", "voceunica.errors", "voceunica.model", "voceunica.fmt", "voceunica.textrules",
                    "voceunica.write", "voceunica.locales", "voceunica.regions", "voceunica.mdescape",
                    "voceunica.messages", "voceunica.typography", "voceunica.defaults", "voceunica.clock"}),
    ("load", {"voceunica.load"}),
    ("project", {"voceunica.project"}),
    ("validate", {"voceunica.validate", "voceunica.fingerprint", "voceunica.review", "voceunica.eufiles",
                  "voceunica.glossary"}),
    ("resolve and render", {"voceunica.resolve", "voceunica.render", "voceunica.charts", "voceunica.timeline"}),
    # the writers: Word (every voceunica.docx.* module) and the site's HTML (voceunica.site.*)
    ("word", {"voceunica.docx", "voceunica.site"}),
    ("compose and exchange", {"voceunica.pipeline", "voceunica.gitrev", "voceunica.diff", "voceunica.xliff",
                              "voceunica.checkcache",
                              "voceunica.yamledit", "voceunica.release", "voceunica.schema", "voceunica.tmx",
                              "voceunica.site.publish",  # reads git and dist/, writes the site: composes
                              "voceunica.scaffold",  # init: a new project, its example signed off
                              "voceunica.fourcol", "voceunica.audience"}),  # trilogue table, one-page briefs
    ("command line", {"voceunica.cli", "voceunica.__main__", "voceunica.cikit"}),  # cikit: the CI workflow's steps
]
# The pact's KPIs: checked with the project, resolved and drawn beside the dossiers, composed with them.
for _layer, _module in (("validate", "voceunica.kpi"), ("resolve and render", "voceunica.scoreboard"),
                        ("resolve and render", "voceunica.kpichart"),
                        ("compose and exchange", "voceunica.kpireport")):
    next(members for name, members in LAYERS if name == _layer).add(_module)


def layer_of(module: str) -> int:
    named = any(module in members for _, members in LAYERS)  # a module named on its own has its own layer
    for package in ("voceunica.docx", "voceunica.diff", "voceunica.site"):  # else it shares its package's
        if module.startswith(package + ".") and not named:
            module = package
    for rank, (_, members) in enumerate(LAYERS):
        if module in members:
            return rank
    raise AssertionError(f"{module} has no layer: add it to LAYERS in {Path(__file__).name}")


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted((SRC / "voceunica").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(path: Path, package: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}  # `from voceunica import docx` names a module
    known = modules()
    return {name for name in found if name in known}


@pytest.mark.parametrize("module", sorted(modules()))
def test_no_module_imports_a_later_stage(module: str) -> None:
    path = modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    rank = layer_of(module)
    later = sorted(dep for dep in imports(path, package) if dep != module and layer_of(dep) > rank)
    assert not later, f"{module} ({LAYERS[rank][0]}) imports later stages: {later}"


def test_validation_knows_nothing_of_word() -> None:
    for module, path in modules().items():
        if layer_of(module) <= layer_of("voceunica.validate"):
            package = module if path.name == "__init__.py" else module.rpartition(".")[0]
            word = [d for d in imports(path, package) if layer_of(d) == layer_of("voceunica.docx")]
            assert not word, f"{module} imports the Word layer: {word}"


def test_the_checker_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    """A lazy import inside a function (the kind that hid validate → render) and a
    relative one are both dependencies."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from voceunica.render import template_problems\nfrom . import docx\n",
                     encoding="utf-8")
    assert imports(probe, "voceunica") == {"voceunica", "voceunica.render", "voceunica.docx"}
