"""Which tags are versions, what they parse to, and how versions sort (SemVer 2.0 precedence)."""

from __future__ import annotations

import itertools

import pytest

from aimsource.domain.versions.semver import Version, parse_version


def v(tag: str) -> Version:
    version = parse_version(tag)
    assert version is not None, tag
    return version


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        pytest.param("0.8.5", Version(0, 8, 5), id="plain_release"),
        pytest.param("v1.2.3", Version(1, 2, 3), id="leading_v_is_accepted"),
        pytest.param("0.8.1-rc1", Version(0, 8, 1, ("rc1",)), id="prerelease_alphanumeric"),
        pytest.param("1.0.0-rc.1", Version(1, 0, 0, ("rc", 1)), id="prerelease_numeric_id_is_int"),
        pytest.param("1.0.0-0", Version(1, 0, 0, (0,)), id="prerelease_zero"),
        pytest.param("1.0.0-0a", Version(1, 0, 0, ("0a",)), id="prerelease_digit_led_word_is_text"),
        pytest.param("1.0.0-x-y.--", Version(1, 0, 0, ("x-y", "--")), id="prerelease_hyphens"),
        pytest.param("1.0.0+build.7", Version(1, 0, 0, (), ("build", "7")), id="build_metadata"),
        pytest.param("1.0.0+007", Version(1, 0, 0, (), ("007",)), id="build_allows_leading_zeros"),
        pytest.param(
            "v2.0.0-beta.2+exp.sha.5114f85",
            Version(2, 0, 0, ("beta", 2), ("exp", "sha", "5114f85")),
            id="prerelease_and_build",
        ),
        pytest.param("12345678901234567890.0.0", Version(12345678901234567890, 0, 0), id="big_numbers"),
    ],
)
def test_semver_tag_parses(tag: str, expected: Version) -> None:
    assert parse_version(tag) == expected


@pytest.mark.parametrize(
    "tag",
    [
        pytest.param("latest", id="latest"),
        pytest.param("dev", id="dev"),
        pytest.param("1.2", id="two_parts"),
        pytest.param("1", id="one_part"),
        pytest.param("2024.01", id="date_like"),
        pytest.param("1.2.3.4", id="four_parts"),
        pytest.param("01.2.3", id="leading_zero_major"),
        pytest.param("1.02.3", id="leading_zero_minor"),
        pytest.param("1.2.03", id="leading_zero_patch"),
        pytest.param("1.0.0-01", id="leading_zero_numeric_prerelease"),
        pytest.param("1.0.0-", id="empty_prerelease"),
        pytest.param("1.0.0-rc..1", id="empty_prerelease_identifier"),
        pytest.param("1.0.0+", id="empty_build"),
        pytest.param("1.0.0-rc_1", id="underscore_in_prerelease"),
        pytest.param("V1.2.3", id="upper_case_v"),
        pytest.param("vv1.2.3", id="double_v"),
        pytest.param("v", id="v_alone"),
        pytest.param("=1.2.3", id="operator_is_not_part_of_a_tag"),
        pytest.param(" 1.2.3", id="leading_space"),
        pytest.param("1.2.3\n", id="trailing_newline"),
        pytest.param("\u0661.2.3", id="non_ascii_digit"),
        pytest.param("sha256-abc.sig", id="signature_tag"),
        pytest.param("", id="empty"),
        pytest.param("1" * 5000 + ".0.0", id="number_beyond_int_digit_limit"),
    ],
)
def test_non_semver_tag_is_not_a_version(tag: str) -> None:
    assert parse_version(tag) is None


# Ascending by precedence; the first rows are the example chain of semver.org section 11.
ASCENDING = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1-0",
    "1.0.1",
    "1.1.0",
    "1.10.0",
    "2.0.0-rc1",
    "2.0.0",
    "10.0.0",
]


@pytest.mark.parametrize(
    ("lower", "higher"),
    [pytest.param(a, b, id=f"{a}_below_{b}") for a, b in itertools.pairwise(ASCENDING)],
)
def test_precedence_orders_adjacent_versions(lower: str, higher: str) -> None:
    low, high = v(lower), v(higher)
    assert low < high
    assert low <= high
    assert high > low
    assert high >= low
    assert not high < low
    assert not low >= high


def test_sorting_tags_follows_precedence() -> None:
    shuffled = [ASCENDING[i] for i in (7, 3, 14, 0, 11, 5, 9, 1, 13, 6, 2, 10, 4, 12, 8)]
    versions = [parse_version(t) for t in shuffled]
    assert [str(v) for v in sorted(v for v in versions if v is not None)] == ASCENDING


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param("1.0.0+a", "1.0.0+b", id="build_differs"),
        pytest.param("1.0.0", "1.0.0+b", id="build_versus_none"),
        pytest.param("v1.0.0", "1.0.0", id="v_prefix"),
    ],
)
def test_build_metadata_and_v_prefix_do_not_affect_precedence(left: str, right: str) -> None:
    a, b = v(left), v(right)
    assert a.same_precedence(b)
    assert a <= b
    assert b <= a
    assert not a < b
    assert not b < a


def test_versions_differing_in_build_are_different_values() -> None:
    # Two tags are two images: equality must not merge them although they sort together.
    assert parse_version("1.0.0+a") != parse_version("1.0.0+b")
    assert len({parse_version("1.0.0+a"), parse_version("1.0.0+b")}) == 2


@pytest.mark.parametrize(
    ("tag", "text"),
    [
        pytest.param("v1.2.3", "1.2.3", id="v_dropped"),
        pytest.param("1.0.0-rc.1+b.2", "1.0.0-rc.1+b.2", id="prerelease_and_build_kept"),
    ],
)
def test_str_is_canonical_semver(tag: str, text: str) -> None:
    assert str(parse_version(tag)) == text


def test_is_prerelease() -> None:
    assert Version(1, 0, 0, ("rc", 1)).is_prerelease
    assert not Version(1, 0, 0, (), ("rc",)).is_prerelease


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"major": -1, "minor": 0, "patch": 0}, id="negative_number"),
        pytest.param({"major": 1, "minor": 0, "patch": 0, "prerelease": ("1",)}, id="digit_string_id"),
        pytest.param({"major": 1, "minor": 0, "patch": 0, "prerelease": ("",)}, id="empty_id"),
        pytest.param({"major": 1, "minor": 0, "patch": 0, "prerelease": (-1,)}, id="negative_id"),
        pytest.param({"major": 1, "minor": 0, "patch": 0, "build": ("a b",)}, id="bad_build_id"),
    ],
)
def test_version_refuses_values_no_tag_can_have(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"version|identifier"):
        Version(**kwargs)  # type: ignore[arg-type]
