"""The one build step pyproject.toml cannot declare: the repository's top-level templates/ (the
defaults' single source, edited in place) go into the wheel as voceunica/default_templates/.

An editable install copies nothing: voceunica.defaults then reads the checkout's templates/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithTemplates(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        source = HERE / "templates"
        target = Path(self.build_lib, "voceunica", "default_templates")
        if not (source / "labels.yaml").is_file():
            raise SystemExit(f"setup.py: no default templates in {source}")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".*", "__pycache__", "*~"))


setup(cmdclass={"build_py": BuildPyWithTemplates})
