"""Version constraints: every grammar form, its exact meaning, pre-releases and invalid strings."""

from __future__ import annotations

import pytest

from aimsource.domain.errors import DomainError, InvalidConstraintError
from aimsource.domain.versions.constraints import Constraint, parse_constraint, parse_constraints
from aimsource.domain.versions.semver import Version, parse_version


def v(tag: str) -> Version:
    version = parse_version(tag)
    assert version is not None, tag
    return version


# --- what each form means ------------------------------------------------------------------------

DESUGARING = [
    # comparators, partial versions completed with zeros at their lower end
    ("=1.2.3", "=1.2.3", "equal_operator"),
    ("1.2.3", "=1.2.3", "bare_version_means_equal"),
    ("v1.2.3", "=1.2.3", "v_prefix_on_bare_version"),
    (">=v1.2.3", ">=1.2.3", "v_prefix_after_operator"),
    (">= 1.0.0", ">=1.0.0", "space_after_operator"),
    ("  >=1.0.0  ", ">=1.0.0", "surrounding_whitespace"),
    (">=0.9", ">=0.9.0", "partial_lower_bound_completed_with_zeros"),
    (">=1", ">=1.0.0", "major_only_lower_bound"),
    ("<1.2", "<1.2.0", "partial_less_than_completed_with_zeros"),
    ("<1.0.0", "<1.0.0", "less_than"),
    (">1.2.3", ">1.2.3", "greater_than"),
    (">1.2", ">=1.3.0-0", "partial_greater_than_skips_the_whole_minor"),
    (">1", ">=2.0.0-0", "major_greater_than_skips_the_whole_major"),
    ("<=1.2.3", "<=1.2.3", "at_most"),
    ("<=1.2", "<1.3.0-0", "partial_at_most_includes_the_whole_minor"),
    (">=1.0.0-rc.1", ">=1.0.0-rc.1", "prerelease_bound"),
    (">=1.0.0+build", ">=1.0.0+build", "build_metadata_accepted"),
    # tilde
    ("~1.2.0", ">=1.2.0 <1.3.0-0", "tilde_full"),
    ("~1.2.3", ">=1.2.3 <1.3.0-0", "tilde_keeps_lower_patch"),
    ("~1.2", ">=1.2.0 <1.3.0-0", "tilde_major_minor"),
    ("~1", ">=1.0.0 <2.0.0-0", "tilde_major_only"),
    ("~0.2.3", ">=0.2.3 <0.3.0-0", "tilde_zero_major"),
    ("~1.2.3-beta.2", ">=1.2.3-beta.2 <1.3.0-0", "tilde_prerelease"),
    ("~ 1.2.0", ">=1.2.0 <1.3.0-0", "tilde_with_space"),
    ("~*", "*", "tilde_wildcard"),
    # caret
    ("^1.2.3", ">=1.2.3 <2.0.0-0", "caret_full"),
    ("^0.8.0", ">=0.8.0 <0.9.0-0", "caret_zero_major"),
    ("^0.0.3", ">=0.0.3 <0.0.4-0", "caret_zero_major_minor"),
    ("^1.2", ">=1.2.0 <2.0.0-0", "caret_major_minor"),
    ("^1", ">=1.0.0 <2.0.0-0", "caret_major_only"),
    ("^0.2", ">=0.2.0 <0.3.0-0", "caret_zero_major_partial"),
    ("^0.0", ">=0.0.0 <0.1.0-0", "caret_zero_zero_partial"),
    ("^0", ">=0.0.0 <1.0.0-0", "caret_zero"),
    ("^0.0.3-beta", ">=0.0.3-beta <0.0.4-0", "caret_prerelease"),
    ("^1.x", ">=1.0.0 <2.0.0-0", "caret_x_range"),
    # x-ranges
    ("1.x", ">=1.0.0 <2.0.0-0", "x_major"),
    ("1.X", ">=1.0.0 <2.0.0-0", "upper_case_x"),
    ("1.*", ">=1.0.0 <2.0.0-0", "star_major"),
    ("1.2.*", ">=1.2.0 <1.3.0-0", "star_minor"),
    ("1.2.x", ">=1.2.0 <1.3.0-0", "x_minor"),
    ("1.x.x", ">=1.0.0 <2.0.0-0", "x_x_after_major"),
    ("1", ">=1.0.0 <2.0.0-0", "bare_major_is_x_range"),
    ("1.2", ">=1.2.0 <1.3.0-0", "bare_major_minor_is_x_range"),
    ("=1.2", ">=1.2.0 <1.3.0-0", "equal_partial_is_x_range"),
    ("*", "*", "star"),
    ("x", "*", "x"),
    ("*.*.*", "*", "all_wildcards"),
    (">=*", "*", "at_least_wildcard"),
    ("<=1.x", "<2.0.0-0", "at_most_x_range"),
    (">1.x", ">=2.0.0-0", "above_x_range"),
    ("<1.x", "<1.0.0", "below_x_range"),
    # hyphen ranges
    ("1.0.0 - 2.0.0", ">=1.0.0 <=2.0.0", "hyphen_full"),
    ("1.0 - 2.0", ">=1.0.0 <2.1.0-0", "hyphen_partial_upper_takes_x_range"),
    ("1.2.3 - 2", ">=1.2.3 <3.0.0-0", "hyphen_major_upper"),
    ("1.2 - 2.3.4", ">=1.2.0 <=2.3.4", "hyphen_partial_lower"),
    ("* - 2.0.0", "<=2.0.0", "hyphen_wildcard_lower"),
    ("1.0.0 - *", ">=1.0.0", "hyphen_wildcard_upper"),
    ("v1.0.0 - v2.0.0", ">=1.0.0 <=2.0.0", "hyphen_with_v"),
    ("1.0.0-2.0.0", "=1.0.0-2.0.0", "dash_without_spaces_is_a_prerelease"),
    # AND and OR
    (">=0.8.0 <1.0.0", ">=0.8.0 <1.0.0", "space_is_and"),
    (">=0.8.0, <1.0.0", ">=0.8.0 <1.0.0", "comma_is_and"),
    (">=0.8.0,<1.0.0", ">=0.8.0 <1.0.0", "comma_without_space"),
    ("1.0.0 - 2.0.0 <1.5", ">=1.0.0 <=2.0.0 <1.5.0", "hyphen_and_comparator"),
    ("1.0.0 - 2.0.0, <1.5", ">=1.0.0 <=2.0.0 <1.5.0", "hyphen_comma_comparator"),
    ("^1.2 || ~0.8", ">=1.2.0 <2.0.0-0 || >=0.8.0 <0.9.0-0", "or_of_ranges"),
    ("1.0.0||2.0.0", "=1.0.0 || =2.0.0", "or_without_spaces"),
    ("<1 || >=2 <3 || 5.x", "<1.0.0 || >=2.0.0 <3.0.0 || >=5.0.0 <6.0.0-0", "three_alternatives"),
    ("* || 1.0.0", "* || =1.0.0", "wildcard_alternative"),
]


@pytest.mark.parametrize(("text", "normalized"), [pytest.param(t, n, id=i) for t, n, i in DESUGARING])
def test_constraint_desugars_to(text: str, normalized: str) -> None:
    assert parse_constraint(text).normalized == normalized


# --- which versions each form admits -------------------------------------------------------------

ADMITS = [
    # product.md pre-release rules: plain SemVer precedence, unlike npm
    (">=0.8.0", "0.8.1-rc1", True, "at_least_admits_later_prerelease"),
    (">=0.8.0", "0.8.0-rc1", False, "at_least_excludes_own_prerelease"),
    (">=0.8.1-rc1", "0.8.1-rc1", True, "prerelease_bound_admits_itself"),
    (">=0.8.1-rc1", "0.8.1", True, "prerelease_bound_admits_its_release"),
    (">=0.8.1-rc1", "0.9.0-rc1", True, "prerelease_bound_admits_later_prerelease"),
    (">=0.8.1-rc1", "0.8.1-rc0", False, "prerelease_bound_excludes_earlier_prerelease"),
    (">=0.8.1-rc1", "0.8.0", False, "prerelease_bound_excludes_earlier_release"),
    ("<1.0.0", "1.0.0-rc1", True, "below_release_admits_its_prerelease"),
    ("<1.0.0-0", "1.0.0-rc1", False, "below_dash_zero_excludes_prereleases"),
    ("<1.0.0", "0.99.0-rc1", True, "below_admits_earlier_prerelease"),
    (">0.8.0", "0.8.1-rc1", True, "greater_admits_later_prerelease"),
    ("=1.0.0-rc1", "1.0.0-rc1", True, "equal_prerelease"),
    ("=1.0.0", "1.0.0-rc1", False, "equal_release_excludes_prerelease"),
    # the seed documentation's examples
    (">=0.8.5", "0.8.5", True, "doc_at_least_admits_itself"),
    (">=0.8.5", "0.8.4", False, "doc_at_least_excludes_lower"),
    ("<2.0.0", "1.99.99", True, "doc_below_admits_lower"),
    ("<2.0.0", "2.0.0", False, "doc_below_excludes_itself"),
    ("~1.2.0", "1.2.9", True, "tilde_range_admits_patch"),
    ("~1.2.0", "1.3.0", False, "tilde_range_excludes_next_minor"),
    ("~1.2.0", "1.3.0-rc1", False, "tilde_range_excludes_next_minor_prerelease"),
    ("~1.2.0", "1.1.9", False, "tilde_range_excludes_lower"),
    ("^1.0.0", "1.9.3", True, "caret_range_admits_minor"),
    ("^1.0.0", "2.0.0", False, "caret_range_excludes_next_major"),
    ("^1.0.0", "2.0.0-rc1", False, "caret_range_excludes_next_major_prerelease"),
    ("^1.0.0", "1.5.0-rc1", True, "caret_range_admits_prerelease_inside"),
    ("^0.8.0", "0.9.0", False, "caret_zero_major_excludes_next_minor"),
    ("^0.0.3", "0.0.4", False, "caret_zero_zero_excludes_next_patch"),
    # x-ranges and partials
    ("1.x", "1.0.0", True, "x_range_admits_its_floor"),
    ("1.x", "1.0.0-rc1", False, "x_range_excludes_prerelease_of_floor"),
    ("1.x", "1.99.0", True, "x_range_admits_inside"),
    ("1.x", "2.0.0-0", False, "x_range_excludes_next_major_lowest_prerelease"),
    ("*", "0.0.0-0", True, "star_admits_the_lowest_version"),
    ("*", "99.0.0-rc1", True, "star_admits_prereleases"),
    ("<=1.2", "1.2.99", True, "partial_at_most_admits_whole_minor"),
    ("<1.2", "1.1.99", True, "partial_below_admits_lower"),
    ("<1.2", "1.2.0", False, "partial_below_excludes_floor"),
    (">1.2", "1.2.99", False, "partial_greater_excludes_whole_minor"),
    (">1.2", "1.3.0-rc1", True, "partial_greater_admits_next_minor_prerelease"),
    (">=0.9", "0.9.0", True, "partial_at_least_admits_floor"),
    # hyphen ranges
    ("1.0.0 - 2.0.0", "2.0.0", True, "hyphen_upper_inclusive"),
    ("1.0.0 - 2.0.0", "2.0.1", False, "hyphen_excludes_above"),
    ("1.0 - 2.0", "2.0.9", True, "hyphen_partial_upper_admits_its_patches"),
    ("1.0 - 2.0", "2.1.0", False, "hyphen_partial_upper_excludes_next_minor"),
    ("1.0.0 - 2.0.0", "0.9.9", False, "hyphen_excludes_below"),
    # build metadata is ignored
    ("=1.0.0", "1.0.0+build.5", True, "equal_ignores_build"),
    ("<=1.0.0", "1.0.0+build.5", True, "at_most_ignores_build"),
    ("<1.0.0", "1.0.0+build.5", False, "below_ignores_build"),
    # v-prefixed tags
    (">=1.0.0", "v1.2.0", True, "v_prefixed_tag_admitted"),
    ("~0.8", "v0.8.3", True, "v_prefixed_tag_in_tilde"),
    ("<1.0.0", "v1.0.0", False, "v_prefixed_tag_excluded"),
    # AND and OR
    (">=0.8.0 <1.0.0", "0.9.0", True, "and_admits_inside"),
    (">=0.8.0 <1.0.0", "1.0.0", False, "and_excludes_outside"),
    (">=0.8.0, <1.0.0", "0.7.0", False, "comma_and_excludes_outside"),
    ("<0.5.0 || >=1.0.0", "0.4.0", True, "or_admits_first"),
    ("<0.5.0 || >=1.0.0", "1.1.0", True, "or_admits_second"),
    ("<0.5.0 || >=1.0.0", "0.7.0", False, "or_excludes_gap"),
    ("1.0.0 2.0.0", "1.0.0", False, "and_of_two_exact_versions_admits_nothing"),
]


@pytest.mark.parametrize(("text", "tag", "admitted"), [pytest.param(t, g, a, id=i) for t, g, a, i in ADMITS])
def test_constraint_admits(text: str, tag: str, admitted: bool) -> None:
    assert parse_constraint(text).admits(v(tag)) is admitted


# --- invalid strings -----------------------------------------------------------------------------

INVALID = [
    (">>1", "expected a version after", "double_operator"),
    ("~>1.0", '"~>" is not supported', "ruby_pessimistic_operator"),
    ("=>1.0.0", "expected a version after", "reversed_operator"),
    ("==1.0.0", "expected a version after", "double_equals"),
    ("!=1.0.0", 'unexpected "!"', "not_equal"),
    ("1.2.3.4", "more than MAJOR.MINOR.PATCH", "four_parts"),
    ("abc", '"abc" is not a version', "word"),
    ("latest", '"latest" is not a version', "latest"),
    ("", "empty constraint", "empty"),
    ("   ", "empty constraint", "only_spaces"),
    (">=", 'expected a version after ">="', "operator_without_version"),
    ("~", 'expected a version after "~"', "tilde_without_version"),
    (">= <1.0.0", 'expected a version after ">="', "operator_followed_by_operator"),
    ("1.0.0 -", "needs a version after the dash", "hyphen_without_upper"),
    ("- 2.0.0", '"-" must stand between two versions', "hyphen_without_lower"),
    ("1.0.0 - 2.0.0 - 3.0.0", '"-" must stand between two versions', "double_hyphen_range"),
    ("1.0.0 - >=2.0.0", "needs a version after the dash", "hyphen_with_operator_upper"),
    ("a || ", '"a" is not a version', "bad_alternative_then_empty"),
    ("1.0.0 || ", 'empty alternative next to "||"', "trailing_or"),
    ("|| 1.0.0", 'empty alternative next to "||"', "leading_or"),
    ("1.0.0 |||| 2.0.0", 'empty alternative next to "||"', "double_or"),
    ("1.0.0 | 2.0.0", 'use "||" for OR', "single_pipe"),
    (">=1.0.0,", 'a stray ","', "trailing_comma"),
    (", >=1.0.0", 'a stray ","', "leading_comma"),
    (">=1.0.0,,<2.0.0", 'a stray ","', "double_comma"),
    ("01.2.3", "leading zero", "leading_zero"),
    (">=1.02", "leading zero", "leading_zero_in_partial"),
    ("1.x.3", "only wildcards may follow a wildcard", "number_after_wildcard"),
    ("1.2-rc1", "needs a full MAJOR.MINOR.PATCH", "prerelease_on_partial"),
    ("1.2.x-rc1", "needs a full MAJOR.MINOR.PATCH", "prerelease_on_x_range"),
    ("1.2.3-", "invalid pre-release or build", "empty_prerelease"),
    ("1.2.3-01", "invalid pre-release or build", "leading_zero_prerelease"),
    ("V1.2.3", '"V1.2.3" is not a version', "upper_case_v"),
    ("v", '"v" is not a version', "v_alone"),
    (">*", "matches no version", "greater_than_wildcard"),
    ("<x", "matches no version", "less_than_wildcard"),
    ("1.0.0 @latest", '"@latest" is not a version', "junk_word"),
    (">=\u0661.0.0", "not a version", "non_ascii_digit"),
    (">=" + "1" * 5000, "number too long", "number_beyond_int_digit_limit"),
]


@pytest.mark.parametrize(("text", "reason"), [pytest.param(t, r, id=i) for t, r, i in INVALID])
def test_invalid_constraint_is_rejected_naming_it(text: str, reason: str) -> None:
    with pytest.raises(InvalidConstraintError) as raised:
        parse_constraint(text)
    message = str(raised.value)
    assert message.startswith(f'invalid version constraint "{text}": ')
    assert reason in message
    assert isinstance(raised.value, DomainError)


def test_invalid_constraint_message_stays_on_one_line() -> None:
    with pytest.raises(InvalidConstraintError) as raised:
        parse_constraint('>=1.0.0\n"x"')
    assert str(raised.value).startswith('invalid version constraint ">=1.0.0\\n\\"x\\"": ')
    assert "\n" not in str(raised.value)


# --- the Constraint and Constraints values -------------------------------------------------------


def test_constraint_keeps_the_text_as_written() -> None:
    constraint = parse_constraint(" >= 0.8 ")
    assert constraint.text == " >= 0.8 "
    assert str(constraint) == " >= 0.8 "
    assert constraint == Constraint(" >= 0.8 ")


def test_building_a_constraint_directly_also_validates() -> None:
    with pytest.raises(InvalidConstraintError, match='">>1"'):
        Constraint(">>1")


def test_constraint_exposes_parsed_alternatives() -> None:
    (first, second) = parse_constraint("~1.2 || 3.0.0").alternatives
    assert [str(c) for c in first] == [">=1.2.0", "<1.3.0-0"]
    assert [(c.op, c.version) for c in second] == [("=", Version(3, 0, 0))]


def test_constraint_list_means_all_of_them() -> None:
    constraints = parse_constraints([">=0.8.0", "<1.0.0"])
    assert [c.text for c in constraints.items] == [">=0.8.0", "<1.0.0"]
    assert constraints.admits(v("0.8.5"))
    assert not constraints.admits(v("1.0.0"))
    assert not constraints.admits(v("0.7.9"))
    assert str(constraints) == ">=0.8.0, <1.0.0"


def test_empty_constraint_list_admits_every_version() -> None:
    constraints = parse_constraints([])
    assert constraints.items == ()
    assert constraints.admits(v("0.0.0-0"))


def test_first_invalid_constraint_in_a_list_is_named() -> None:
    with pytest.raises(InvalidConstraintError) as raised:
        parse_constraints([">=0.8.0", "~>1.0", ">>1"])
    assert str(raised.value).startswith('invalid version constraint "~>1.0": ')


def test_parse_constraints_refuses_a_single_string() -> None:
    with pytest.raises(TypeError, match="list of constraint strings"):
        parse_constraints(">=1.0.0")
