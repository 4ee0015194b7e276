"""The test tree mirrors src/aimsource: a newcomer finds the tests of `x/y.py` in `tests/x/test_y*.py`.

A module without such a file must have a row in the table "Modules tested through others" of
tests/README.md, naming the test files that run it; this test fails when a module has neither, and
when a row names a module or a file that does not exist, no test file, or a module that has a file of
its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.deploy.manifests import REPO

SRC = REPO / "src" / "aimsource"
TESTS = REPO / "tests"
README = (TESTS / "README.md").read_text()
TITLE = "Modules tested through others"
HEADING = f"## {TITLE}\n"


def _rows(text: str) -> dict[str, list[str]]:
    """Module (relative to src/aimsource) -> the `tests/...py` paths its row names."""
    assert HEADING in text, f"tests/README.md has no section {TITLE!r}"
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        if found := re.match(r"\| `([^`]+)` \|(.*)\|\s*$", line):
            assert found[1] not in rows, f"two rows for {found[1]}"
            rows[found[1]] = re.findall(r"`(tests/[\w/]+\.py)`", found[2])
    return rows


THROUGH = _rows(README)
MODULES = sorted(p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py") if p.name != "__init__.py")


def own_tests(module: str) -> list[Path]:
    path = Path(module)
    return sorted((TESTS / path.parent).glob(f"test_{path.stem}*.py"))


def test_the_tree_and_the_table_are_read() -> None:
    assert len(MODULES) >= 80, MODULES
    assert len(THROUGH) >= 10, THROUGH


@pytest.mark.parametrize("module", MODULES)
def test_every_module_has_tests_of_its_own_or_a_row(module: str) -> None:
    wanted = (Path("tests") / Path(module).parent / f"test_{Path(module).stem}").as_posix()
    assert own_tests(module) or module in THROUGH, (
        f"src/aimsource/{module} has no {wanted}*.py and no row in the table {TITLE!r} of tests/README.md"
    )


@pytest.mark.parametrize("module", sorted(THROUGH))
def test_every_row_names_a_module_and_test_files_that_exist(module: str) -> None:
    named = THROUGH[module]
    assert (SRC / module).is_file(), f"tests/README.md has a row for src/aimsource/{module}: no such module"
    assert not own_tests(module), (
        f"src/aimsource/{module} has tests of its own ({own_tests(module)[0].name}):"
        " its row in tests/README.md goes"
    )
    assert any(Path(path).name.startswith("test_") for path in named), (
        f"the row of {module} in tests/README.md names no test file: {named}"
    )
    for path in named:
        assert (REPO / path).is_file(), f"the row of {module} in tests/README.md names {path}: no such file"
