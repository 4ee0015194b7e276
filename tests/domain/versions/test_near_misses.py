"""Tags that look like versions but are not: the reason names what is wrong with them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aimsource.domain.selection.selectors import build_selectors, decide_listing, decide_tags
from aimsource.domain.spec.source import SourceSpec
from aimsource.domain.versions.near_misses import explain_not_version, looks_like_version, version_defects
from aimsource.domain.versions.semver import parse_version


@pytest.mark.parametrize(
    ("tag", "defects"),
    [
        pytest.param("2026.08.0-preview", ['leading zero in minor "08"'], id="calendar-leading-zero-minor"),
        pytest.param("1.2", ["missing patch (a version is MAJOR.MINOR.PATCH)"], id="missing-patch"),
        pytest.param("v1", ["missing minor and patch (a version is MAJOR.MINOR.PATCH)"], id="major-only"),
        pytest.param(
            "2024.01",
            ['leading zero in minor "01"', "missing patch (a version is MAJOR.MINOR.PATCH)"],
            id="two-defects-both-named",
        ),
        pytest.param("v1.2.3.4", ["four numbers (a version has three: MAJOR.MINOR.PATCH)"], id="four-parts"),
        pytest.param("1.02.3", ['leading zero in minor "02"'], id="leading-zero-minor"),
        pytest.param("01.2.3", ['leading zero in major "01"'], id="leading-zero-major"),
        pytest.param("1.2.03", ['leading zero in patch "03"'], id="leading-zero-patch"),
        pytest.param("1.2.3-", ['empty pre-release (nothing after "-")'], id="empty-pre-release"),
        pytest.param("1.2.3+", ['empty build metadata (nothing after "+")'], id="empty-build"),
        pytest.param(
            "1.2.3-rc..1",
            ["an empty pre-release identifier (two dots in a row, or a dot at an end)"],
            id="empty-pre-release-identifier",
        ),
        pytest.param(
            "1.2.3-rc.01", ['leading zero in numeric pre-release identifier "01"'], id="pre-release-zero"
        ),
        pytest.param(
            "1.2.3-rc_1",
            ['"_" in pre-release "rc_1" (only letters, digits and "-" are allowed)'],
            id="underscore-in-pre-release",
        ),
        pytest.param(
            "1.2.3_build",
            ['unexpected "_" after the numbers (a pre-release starts with "-", build metadata with "+")'],
            id="underscore-after-numbers",
        ),
        pytest.param(
            "V1.2.3", ['upper-case "V" (only a lower-case "v" may precede the version)'], id="upper-case-v"
        ),
        pytest.param("1..2.3", ["an empty number (two dots in a row, or a dot at an end)"], id="double-dot"),
        pytest.param(
            "1.2.3." + "", ["an empty number (two dots in a row, or a dot at an end)"], id="trailing-dot"
        ),
    ],
)
def test_each_defect_of_a_near_version_is_named(tag: str, defects: list[str]) -> None:
    assert version_defects(tag) == defects
    assert explain_not_version(tag) == "not a SemVer version: " + "; ".join(defects)


@pytest.mark.parametrize("tag", ["latest", "dev", "main-3f2a", "sha-1234", "v", "vv1.2.3", ""])
def test_tags_that_do_not_look_like_versions_get_the_plain_reason(tag: str) -> None:
    assert version_defects(tag) == []
    assert explain_not_version(tag) == "not a SemVer version"


@pytest.mark.parametrize("tag", ["1.2.3", "v0.8.5", "1.0.0-rc.1+build.5", "0.0.0-0"])
def test_versions_have_no_defects(tag: str) -> None:
    assert version_defects(tag) == []


def test_a_number_too_long_to_read_is_named() -> None:
    tag = "1.2." + "9" * 5000  # Python refuses int() of this; parse_version says "not a version"
    assert parse_version(tag) is None
    assert version_defects(tag) == ["a number too long to read"]


def test_preview_rows_and_decisions_carry_the_explanation() -> None:
    (selector,) = build_selectors(SourceSpec(images=("org/a",), versions=(">=1.0.0",)))
    tags = ["2026.08.0-preview", "latest", "1.2", "1.5.0"]
    rows = {
        image.rsplit(":", 1)[1]: (decision, reason)
        for image, decision, reason in decide_listing(selector, tags).rows()
    }
    assert rows["2026.08.0-preview"] == ("not-a-version", 'not a SemVer version: leading zero in minor "08"')
    assert rows["1.2"] == (
        "not-a-version",
        "not a SemVer version: missing patch (a version is MAJOR.MINOR.PATCH)",
    )
    assert rows["latest"] == ("not-a-version", "not a SemVer version")
    assert rows["1.5.0"][0] == "selected"
    decided = {d.image.tag: d.reason for d in decide_tags(selector, tags)}
    assert decided["2026.08.0-preview"] == rows["2026.08.0-preview"][1]


# Text close to versions: digits, dots and the characters that break them.
near = st.text(alphabet="0123456789..--++vVrcab_", min_size=1, max_size=16)


@given(near)
def test_a_version_looking_tag_is_explained_exactly_when_it_is_not_a_version(tag: str) -> None:
    if not looks_like_version(tag):
        assert version_defects(tag) == []
    elif parse_version(tag) is None:
        assert version_defects(tag), tag  # every failure is explained
        assert "not a SemVer version: " in explain_not_version(tag)
    else:
        assert version_defects(tag) == []


@given(
    st.integers(0, 99), st.integers(0, 99), st.integers(0, 99),
    st.sampled_from(["0", "00", ""]), st.sampled_from(["major", "minor", "patch"]),
)  # fmt: skip
def test_a_leading_zero_is_named_at_its_position(
    major: int, minor: int, patch: int, pad: str, where: str
) -> None:
    numbers = {"major": str(major), "minor": str(minor), "patch": str(patch)}
    numbers[where] = "0" + pad + numbers[where]
    tag = ".".join(numbers.values())
    assert f'leading zero in {where} "{numbers[where]}"' in version_defects(tag)
