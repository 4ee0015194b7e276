"""Exact-version lists (`versions: ["1.0.0", "1.1.0"]` means any of them) and lists no version satisfies.

Which lists no version satisfies, and why, is in `test_unsatisfiable.py`.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aimsource.domain.selection.selectors import (
    INVALID_VERSION_CONSTRAINT,
    build_selectors,
    decide_listing,
    decide_tags,
    named_tags,
)
from aimsource.domain.spec.source import FilterSpec, SourceSpec
from aimsource.domain.versions.constraints import parse_constraints
from aimsource.domain.versions.semver import Version, parse_version

# -- which lists are exact-version lists -----------------------------------------------------------


@pytest.mark.parametrize(
    ("versions", "tags"),
    [
        pytest.param(["1.0.0", "1.1.0"], ("1.0.0", "1.1.0"), id="two-bare-versions"),
        pytest.param(["1.0.0", "=1.1.0", "v2.0.0"], ("1.0.0", "1.1.0", "v2.0.0"), id="bare-equals-and-v"),
        pytest.param(["= 1.2.3"], ("1.2.3",), id="equals-space-version"),
        pytest.param(["  1.2.3  "], ("1.2.3",), id="surrounding-spaces"),
        pytest.param(["=v1.2.3"], ("v1.2.3",), id="equals-v-keeps-the-v"),
        pytest.param(["0.9.0-rc1", "0.9.0"], ("0.9.0-rc1", "0.9.0"), id="pre-release-is-exact"),
        pytest.param(["1.0.0-2.0.0"], ("1.0.0-2.0.0",), id="no-spaces-is-a-pre-release-not-a-range"),
        pytest.param(["1.0.0", "=1.0.0", "1.0.0"], ("1.0.0",), id="repeats-collapse"),
        pytest.param(["1.0.0"], ("1.0.0",), id="a-single-version"),
    ],
)
def test_lists_made_only_of_exact_versions_name_their_tags(
    versions: list[str], tags: tuple[str, ...]
) -> None:
    assert parse_constraints(versions).named_tags == tags


@pytest.mark.parametrize(
    "versions",
    [
        pytest.param(["1.0"], id="partial-version"),
        pytest.param(["1"], id="major-only"),
        pytest.param(["1.0.x"], id="x-range"),
        pytest.param(["1.0.0 - 2.0.0"], id="hyphen-range"),
        pytest.param(["1.0.0", ">=1.1.0"], id="mixed-with-a-comparator"),
        pytest.param(["1.0.0", "1.1"], id="mixed-with-a-partial"),
        pytest.param(["1.0.0 || 1.1.0"], id="or-in-one-string"),
        pytest.param(["1.0.0, 1.1.0"], id="comma-in-one-string"),
        pytest.param(["1.0.0 1.1.0"], id="space-in-one-string"),
        pytest.param(["1.0.0+build.5"], id="build-metadata-cannot-be-a-tag"),
        pytest.param(["~1.0.0"], id="tilde"),
        pytest.param(["^1.0.0"], id="caret"),
        pytest.param(["<=1.0.0"], id="less-or-equal"),
        pytest.param(["*"], id="any"),
        pytest.param(["1.0.0-" + "a" * 130], id="longer-than-a-tag"),
    ],
)
def test_other_lists_are_not_exact_version_lists(versions: list[str]) -> None:
    assert parse_constraints(versions).named_tags is None


def test_an_exact_list_admits_only_the_tags_it_names_as_written() -> None:
    constraints = parse_constraints(["1.0.0", "=1.1.0", "v2.0.0"])
    for tag, admitted in [
        ("1.0.0", True),
        ("1.1.0", True),
        ("v2.0.0", True),
        ("v1.0.0", False),  # same version, another tag: written as in the list
        ("2.0.0", False),
        ("1.0.1", False),
    ]:
        version = parse_version(tag)
        assert version is not None
        assert constraints.admits_tag(tag, version) is admitted, tag


def test_an_exact_list_admits_any_of_its_versions_by_precedence() -> None:
    # `admits` (by version) reads the list as OR too, so no caller can read it as an empty AND.
    constraints = parse_constraints(["1.0.0", "1.1.0"])
    assert constraints.admits(Version(1, 0, 0))
    assert constraints.admits(Version(1, 1, 0))
    assert not constraints.admits(Version(1, 0, 1))


def test_a_mixed_list_keeps_and() -> None:
    constraints = parse_constraints(["1.0.0", ">=0.5.0"])
    assert constraints.admits_tag("1.0.0", Version(1, 0, 0))
    assert constraints.admits_tag("v1.0.0", Version(1, 0, 0))  # by precedence, as any AND list
    assert not constraints.admits_tag("0.6.0", Version(0, 6, 0))


# -- selectors ---------------------------------------------------------------------------------------


def spec(**fields: object) -> SourceSpec:
    return SourceSpec(**fields)  # type: ignore[arg-type]


def test_global_and_filter_versions_both_make_named_selectors_and_pinned_ignore_them() -> None:
    selectors = build_selectors(
        spec(
            versions=("1.0.0", "1.1.0"),
            filters=(
                FilterSpec(image="org/a"),
                FilterSpec(image="org/b", versions=("=2.0.0", "v2.1.0")),
                FilterSpec(image="org/c", versions=(">=1.0.0",)),
                FilterSpec(image="org/d:0.1.0"),
            ),
        )
    )
    assert [named_tags(s) for s in selectors] == [("1.0.0", "1.1.0"), ("2.0.0", "v2.1.0"), None, None]


def test_decisions_of_a_named_selector_select_named_tags_newest_first_and_report_the_missing() -> None:
    (selector,) = build_selectors(spec(images=("org/a",), versions=("1.0.0", "1.2.0", "=1.1.0", "3.0.0")))
    decisions = decide_listing(selector, ["1.0.0", "1.2.0", "1.1.0"], missing=["3.0.0"])
    rows = [(d.image.tag, d.decision) for d in decisions]
    assert rows == [
        ("1.2.0", "selected"),
        ("1.1.0", "selected"),
        ("1.0.0", "selected"),
        ("3.0.0", "not-found"),
    ]
    assert decisions[0].reason.startswith("named in versions 1.0.0, 1.2.0, =1.1.0, 3.0.0")
    assert (
        decisions[3].reason
        == "named in versions 1.0.0, 1.2.0, =1.1.0, 3.0.0, but the registry has no such tag"
    )
    assert decisions.tags_with("not-found") == ["3.0.0"]


def test_a_named_selector_given_other_tags_keeps_only_the_named_ones() -> None:
    # What an incremental sync does with one pushed tag: it must not select a tag the list does not name.
    (selector,) = build_selectors(spec(images=("org/a",), versions=("1.0.0", "1.1.0")))
    decided = {
        d.image.tag: (d.decision, d.reason)
        for d in decide_tags(selector, ["1.2.0", "v1.0.0", "1.1.0", "dev"])
    }
    assert decided == {
        "1.1.0": ("selected", decided["1.1.0"][1]),
        "1.2.0": ("out-of-range", "not named in versions 1.0.0, 1.1.0"),
        "v1.0.0": ("out-of-range", "not named in versions 1.0.0, 1.1.0"),
        "dev": ("not-a-version", "not a SemVer version"),
    }


# -- lists no version satisfies ---------------------------------------------------------------------


def test_a_never_satisfied_list_fails_its_selector_before_any_registry_request() -> None:
    selectors = build_selectors(
        spec(
            versions=(">=2.0.0", "<1.0.0"),
            filters=(FilterSpec(image="org/a"), FilterSpec(image="org/b", versions=(">=1.0.0",))),
        )
    )
    assert selectors[0].error is not None
    assert selectors[0].error.reason == INVALID_VERSION_CONSTRAINT
    assert selectors[0].error.message == (
        'versions can never be satisfied: no version satisfies both ">=2.0.0" and "<1.0.0"'
    )
    assert selectors[1].error is None  # its own versions replace the global ones


# -- properties --------------------------------------------------------------------------------------

small = st.integers(min_value=0, max_value=3)
pre = st.lists(st.sampled_from([0, 1, "rc1", "a"]), max_size=2).map(tuple)
versions = st.builds(Version, small, small, small, pre)


@given(st.lists(versions.map(str), min_size=1, max_size=5), st.booleans())
def test_every_list_of_exact_versions_names_each_tag_once_in_order(texts: list[str], equals: bool) -> None:
    written = [("=" + t) if equals else t for t in texts]
    assert parse_constraints(written).named_tags == tuple(dict.fromkeys(texts))
