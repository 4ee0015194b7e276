"""docs/dev/contracts.md names code, never copies it: every name it gives must still exist.

The page used to repeat signatures and drifted from the code; now it only points at modules and
objects, and this test imports each `aimsource.…` name and opens each `tests/…` path it mentions.
"""

from __future__ import annotations

import importlib
import re

import pytest

from tests.deploy.manifests import REPO

CONTRACTS = (REPO / "docs" / "dev" / "contracts.md").read_text()
DOTTED = sorted(set(re.findall(r"`(aimsource(?:\.\w+)+)`", CONTRACTS)))
TEST_PATHS = sorted(set(re.findall(r"`(tests/[\w/]+\.py)`", CONTRACTS)))


def _resolve(dotted: str) -> object:
    """Imports the longest importable module prefix, then walks attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            target = getattr(target, attr)
        return target
    raise ModuleNotFoundError(dotted)


def test_the_page_names_code() -> None:
    assert len(DOTTED) >= 15, DOTTED
    assert TEST_PATHS


@pytest.mark.parametrize("dotted", DOTTED)
def test_every_named_object_exists(dotted: str) -> None:
    try:
        _resolve(dotted)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"docs/dev/contracts.md names {dotted}, which does not exist: {exc}")


@pytest.mark.parametrize("path", TEST_PATHS)
def test_every_named_test_file_exists(path: str) -> None:
    assert (REPO / path).is_file(), f"docs/dev/contracts.md names {path}, which does not exist"


def test_no_signatures_are_copied() -> None:
    """A `def` or `class` line in the page is a copy of code that will drift."""
    copied = re.findall(r"^\s*(?:async def|def|class) \w+", CONTRACTS, flags=re.M)
    assert not copied, copied
