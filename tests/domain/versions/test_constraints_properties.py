"""Properties of versions and constraints that must hold for every input, checked with hypothesis.

The ordering is checked against a direct transcription of semver.org section 11 working on the
strings, so the sort key in `versions.py` is not tested against itself.
"""

from __future__ import annotations

import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from aimsource.domain.errors import InvalidConstraintError
from aimsource.domain.versions.constraints import parse_constraint
from aimsource.domain.versions.semver import Version, parse_version

settings.register_profile("aimsource-domain", deadline=None)
settings.load_profile("aimsource-domain")

# Small numbers so that generated versions often share major/minor/patch and the interesting
# comparisons (same tuple, pre-release against release) actually happen.
numbers = st.integers(min_value=0, max_value=4)
numeric_ids = st.integers(min_value=0, max_value=12)
word_ids = st.text(alphabet="abrc-01", min_size=1, max_size=4).filter(lambda s: not s.isdigit())
prereleases = st.lists(st.one_of(numeric_ids, word_ids), max_size=3).map(tuple)
builds = st.lists(st.text(alphabet="ab01-", min_size=1, max_size=3), max_size=2).map(tuple)
versions = st.builds(Version, numbers, numbers, numbers, prereleases, builds)
releases = st.builds(Version, numbers, numbers, numbers)

# Text that looks like tags and constraints, so the parsers' deep paths are reached, not only
# their first "not a version" exit.
GRAMMAR_ALPHABET = "0123456789.xX*vV-+~^<>=|, \t!rcab"
grammar_text = st.text(alphabet=GRAMMAR_ALPHABET, max_size=24)


def reference_compare(left: str, right: str) -> int:
    """semver.org section 11, written out literally: -1, 0 or 1."""

    def split(text: str) -> tuple[list[int], list[str]]:
        core, _, pre = text.split("+")[0].partition("-")
        return [int(n) for n in core.split(".")], pre.split(".") if pre else []

    (lcore, lpre), (rcore, rpre) = split(left), split(right)
    if lcore != rcore:
        return -1 if lcore < rcore else 1
    if not lpre or not rpre:  # a release has higher precedence than its pre-releases
        return int(bool(rpre)) - int(bool(lpre))
    for a, b in itertools.zip_longest(lpre, rpre):
        if a is None:
            return -1
        if b is None:
            return 1
        if a == b:
            continue
        if a.isdigit() and b.isdigit():
            return -1 if int(a) < int(b) else 1
        if a.isdigit() != b.isdigit():  # numeric identifiers sort below alphanumeric ones
            return -1 if a.isdigit() else 1
        return -1 if a < b else 1
    return 0


# --- versions ------------------------------------------------------------------------------------


@given(st.one_of(st.text(), grammar_text))
def test_parse_version_never_raises(text: str) -> None:
    result = parse_version(text)
    assert result is None or isinstance(result, Version)


@given(versions)
def test_version_text_parses_back_to_the_same_version(version: Version) -> None:
    assert parse_version(str(version)) == version
    assert parse_version("v" + str(version)) == version


@given(versions, versions)
def test_ordering_matches_semver_specification(a: Version, b: Version) -> None:
    expected = reference_compare(str(a), str(b))
    assert (a < b, a.same_precedence(b), a > b) == (expected < 0, expected == 0, expected > 0)
    assert (a <= b) == (expected <= 0)
    assert (a >= b) == (expected >= 0)


@given(versions, versions, versions)
def test_ordering_is_a_total_order(a: Version, b: Version, c: Version) -> None:
    assert a <= b or b <= a  # total
    if a <= b and b <= a:  # antisymmetric up to build metadata
        assert a.same_precedence(b)
    if a <= b and b <= c:  # transitive
        assert a <= c
    if a < b and b < c:
        assert a < c
    assert all(x <= y for x, y in itertools.pairwise(sorted([c, a, b])))


@given(versions, versions)
def test_ordering_agrees_with_major_minor_patch(a: Version, b: Version) -> None:
    if (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch):
        assert a < b


@given(versions)
def test_prerelease_sorts_below_its_release(version: Version) -> None:
    release = Version(version.major, version.minor, version.patch)
    if version.prerelease:
        assert version < release
    else:
        assert version.same_precedence(release)


# --- constraints ---------------------------------------------------------------------------------


@given(st.one_of(st.text(), grammar_text))
def test_parse_constraint_raises_only_invalid_constraint_error(text: str) -> None:
    try:
        constraint = parse_constraint(text)
    except InvalidConstraintError as error:
        message = str(error)
    else:
        assert constraint.text == text
        return
    assert message.startswith(f"invalid version constraint {json.dumps(text, ensure_ascii=False)}: ")


@given(releases, versions)
def test_tilde_never_admits_another_minor_or_a_lower_version(base: Version, version: Version) -> None:
    if parse_constraint(f"~{base}").admits(version):
        assert (version.major, version.minor) == (base.major, base.minor)
        assert version >= base


@given(releases, versions)
def test_caret_never_admits_another_major_or_a_lower_version(base: Version, version: Version) -> None:
    if parse_constraint(f"^{base}").admits(version):
        assert version >= base
        if base.major > 0:
            assert version.major == base.major
        elif base.minor > 0:
            assert (version.major, version.minor) == (0, base.minor)
        else:
            assert (version.major, version.minor, version.patch) == (0, 0, base.patch)


@given(versions)
def test_version_admits_itself(version: Version) -> None:
    for form in ("={}", ">={}", "<={}", "{}", "v{}", "~{}", "^{}", "{} - {}", "* || {}"):
        text = form.format(version, version)
        assert parse_constraint(text).admits(version), text


@given(numbers, numbers, versions)
def test_x_range_admits_its_minor_line_from_its_release_on(major: int, minor: int, version: Version) -> None:
    inside = (version.major, version.minor) == (major, minor) and version >= Version(major, minor, 0)
    for text in (
        f"{major}.{minor}.x",
        f"{major}.{minor}",
        f"~{major}.{minor}",
        f">={major}.{minor} <={major}.{minor}",
    ):
        assert parse_constraint(text).admits(version) is inside, text


@given(versions, versions, versions)
def test_hyphen_range_of_full_versions_is_inclusive(low: Version, high: Version, version: Version) -> None:
    admitted = parse_constraint(f"{low} - {high}").admits(version)
    assert admitted is (low <= version <= high)


OPERATORS = ["", "=", ">", ">=", "<", "<=", "~", "^"]


@st.composite
def simple_constraints(draw: st.DrawFn) -> str:
    """One comparator of any operator over a full, partial or wildcard version."""
    op = draw(st.sampled_from(OPERATORS))
    version = draw(versions)
    partial = draw(
        st.sampled_from(
            [
                str(version),
                f"{version.major}",
                f"{version.major}.{version.minor}",
                f"{version.major}.x",
                f"{version.major}.{version.minor}.*",
                "*",
            ]
        )
    )
    if partial == "*" and op in (">", "<"):
        partial = str(version)
    return f"{op}{partial}"


@given(simple_constraints(), simple_constraints(), versions)
def test_or_and_and_compose(left: str, right: str, version: Version) -> None:
    a, b = parse_constraint(left).admits(version), parse_constraint(right).admits(version)
    assert parse_constraint(f"{left} || {right}").admits(version) is (a or b)
    assert parse_constraint(f"{left} {right}").admits(version) is (a and b)
    assert parse_constraint(f"{left}, {right}").admits(version) is (a and b)


@given(simple_constraints(), simple_constraints(), versions)
def test_normalized_form_means_the_same(left: str, right: str, version: Version) -> None:
    constraint = parse_constraint(f"{left} || {right}")
    assert parse_constraint(constraint.normalized).admits(version) is constraint.admits(version)
