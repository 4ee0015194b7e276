"""The source tree reads as the design: rooms of at most 12 modules, each saying what it holds.

A newcomer opening a folder of src/aimsource should see a handful of named concerns, not a list
(issue "Rooms a newcomer can read"). These checks keep it so as modules are added.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.deploy.manifests import REPO

SRC = REPO / "src" / "aimsource"
MOST_MODULES = 12
MOST_LINES = 400
PACKAGES = sorted(p.parent for p in SRC.rglob("__init__.py"))
MODULES = sorted(p for p in SRC.rglob("*.py") if p.name != "__init__.py")


def _name(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def test_the_tree_is_read() -> None:
    assert len(PACKAGES) >= 15, PACKAGES
    assert len(MODULES) >= 80, len(MODULES)


@pytest.mark.parametrize("package", PACKAGES, ids=_name)
def test_no_folder_holds_more_than_twelve_modules(package: Path) -> None:
    modules = sorted(p.name for p in package.glob("*.py") if p.name != "__init__.py")
    assert len(modules) <= MOST_MODULES, (
        f"src/aimsource/{_name(package)} holds {len(modules)} modules directly (at most {MOST_MODULES}):"
        f" group them into sub-packages by concern: {modules}"
    )


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != SRC], ids=_name)
def test_every_package_opens_with_what_it_holds(package: Path) -> None:
    docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
    assert docstring, f"src/aimsource/{_name(package)}/__init__.py has no docstring"
    assert len(docstring.splitlines()) >= 3, (
        f"src/aimsource/{_name(package)}/__init__.py needs a docstring saying what the package holds"
        " and what it may use"
    )


@pytest.mark.parametrize("module", [m for m in MODULES if m.parent != SRC], ids=_name)
def test_module_names_do_not_repeat_their_package(module: Path) -> None:
    package = module.parent.name
    shorter = module.stem[len(package) + 1 :]
    assert not module.stem.startswith(f"{package}_"), (
        f"src/aimsource/{_name(module)} repeats its package's name: call it {shorter}.py"
    )


@pytest.mark.parametrize("module", MODULES, ids=_name)
def test_no_module_is_over_four_hundred_lines(module: Path) -> None:
    lines = len(module.read_text().splitlines())
    assert lines <= MOST_LINES, (
        f"src/aimsource/{_name(module)} has {lines} lines (at most {MOST_LINES}): split it"
    )
