"""versions.md's tables of exact-version lists and near-versions hold for the code."""

from __future__ import annotations

import pytest

from aimsource.domain.versions.constraints import parse_constraints
from aimsource.domain.versions.near_misses import explain_not_version
from tests.deploy.markdown import DOCS, code_spans, table_with

VERSIONS = (DOCS / "versions.md").read_text()
NEAR = table_with(VERSIONS, "Tag", "Reason shown by `preview`")
NOT_EXACT = table_with(VERSIONS, "Entry", "Why it is not an exact version")


@pytest.mark.parametrize("row", NEAR.rows, ids=lambda r: code_spans(r[0])[0])
def test_near_version_reason_is_the_one_preview_shows(row: tuple[str, ...]) -> None:
    [tag], [reason] = code_spans(row[0]), code_spans(row[1])
    assert explain_not_version(tag) == reason


@pytest.mark.parametrize("row", NOT_EXACT.rows, ids=lambda r: r[0])
def test_entries_that_are_not_exact_make_an_and_list(row: tuple[str, ...]) -> None:
    entries = code_spans(row[0])
    assert entries
    for entry in entries:
        assert parse_constraints(["1.0.0", entry]).named_tags is None, entry
    assert parse_constraints(["1.0.0", "=1.1.0", "v2.0.0"]).named_tags == ("1.0.0", "1.1.0", "v2.0.0")
