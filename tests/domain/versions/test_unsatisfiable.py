"""Constraint lists no version satisfies: `domain/versions/unsatisfiable.py` (`never_satisfied`).

How a selector with such a list fails is in `test_selection_exact_versions.py`."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aimsource.domain.versions.constraints import parse_constraints
from aimsource.domain.versions.semver import Version
from aimsource.domain.versions.unsatisfiable import never_satisfied


@pytest.mark.parametrize(
    ("versions", "why"),
    [
        pytest.param(
            [">=2.0.0", "<1.0.0"], 'no version satisfies both ">=2.0.0" and "<1.0.0"', id="disjoint-pair"
        ),
        pytest.param([">=2 <1"], '">=2 <1" admits no version', id="disjoint-in-one-string"),
        pytest.param(
            [">1.0.0", "<=1.0.0"], 'no version satisfies both ">1.0.0" and "<=1.0.0"', id="touching-open"
        ),
        pytest.param(["<0.0.0-0"], '"<0.0.0-0" admits no version', id="below-the-lowest-version"),
        pytest.param(
            ["^1.2.3", "~2.0"], 'no version satisfies both "^1.2.3" and "~2.0"', id="caret-and-tilde"
        ),
        pytest.param(
            ["1.x || 3.x", "2.x"], 'no version satisfies both "1.x || 3.x" and "2.x"', id="or-pieces"
        ),
        pytest.param(
            ["1.0.0", ">=2.0.0"], 'no version satisfies both "1.0.0" and ">=2.0.0"', id="mixed-exact"
        ),
        pytest.param(
            [">=1.0.0", "<3.0.0", "<2.0.0 || >=2.5.0", ">=2.0.0 <2.5.0"],
            'no version satisfies both "<2.0.0 || >=2.5.0" and ">=2.0.0 <2.5.0"',
            id="names-the-contradicting-pair",
        ),
        pytest.param(
            [">=1.0.0 <2.0.0 || >=3.0.0 <4.0.0", ">=1.5.0 <3.5.0", "<1.5.0 || >=2.0.0 <3.0.0 || >=3.5.0"],
            'no version satisfies all of ">=1.0.0 <2.0.0 || >=3.0.0 <4.0.0", ">=1.5.0 <3.5.0", '
            '"<1.5.0 || >=2.0.0 <3.0.0 || >=3.5.0"',
            id="only-the-three-together",
        ),
    ],
)
def test_never_satisfied_lists_are_found_and_explained(versions: list[str], why: str) -> None:
    assert never_satisfied(parse_constraints(versions)) == why


@pytest.mark.parametrize(
    "versions",
    [
        pytest.param([">=1.0.0", "<2.0.0"], id="a-range"),
        pytest.param([">=1.0.0", "<=1.0.0"], id="one-version-wide"),
        pytest.param(["<0.0.0"], id="only-pre-releases-of-0.0.0"),
        pytest.param(["1.0.0", "1.1.0"], id="exact-list-is-any-of"),
        pytest.param(["*"], id="any"),
        pytest.param([">=1.0.0", "1.0.0+build"], id="build-compares-by-precedence"),
        # No version lies between 1.0.0 and 1.0.1-0, but the arithmetic cannot see it: not reported
        # (sound, not complete).
        pytest.param([">1.0.0", "<1.0.1-0"], id="empty-but-not-provably"),
    ],
)
def test_satisfiable_lists_are_not_reported(versions: list[str]) -> None:
    assert never_satisfied(parse_constraints(versions)) is None


# -- properties --------------------------------------------------------------------------------------

small = st.integers(min_value=0, max_value=3)
pre = st.lists(st.sampled_from([0, 1, "rc1", "a"]), max_size=2).map(tuple)
versions = st.builds(Version, small, small, small, pre)
ops = st.sampled_from(["", "=", ">", ">=", "<", "<=", "~", "^"])
partials = st.one_of(
    versions.map(str),
    st.builds(lambda a, b: f"{a}.{b}", small, small),
    small.map(str),
    st.sampled_from(["*", "1.x", "0.x"]),
)
comparators = st.builds(lambda op, v: f"{op}{v}", ops, partials).filter(lambda t: t not in (">*", "<*"))
constraint_texts = st.one_of(
    comparators,
    st.builds(lambda a, b: f"{a} {b}", comparators, comparators),
    st.builds(lambda a, b: f"{a} || {b}", comparators, comparators),
)
lists = st.lists(constraint_texts, min_size=1, max_size=4)


@given(lists, st.lists(versions, min_size=1, max_size=30))
def test_a_list_reported_as_never_satisfied_admits_none_of_many_versions(
    texts: list[str], tried: list[Version]
) -> None:
    constraints = parse_constraints(texts)
    if never_satisfied(constraints) is not None:
        assert not any(constraints.admits(v) for v in tried)


@given(lists, versions)
def test_a_list_some_version_satisfies_is_never_reported(texts: list[str], version: Version) -> None:
    constraints = parse_constraints(texts)
    if constraints.admits(version):
        assert never_satisfied(constraints) is None
