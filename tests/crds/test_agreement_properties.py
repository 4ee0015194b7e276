"""Generated specs: parse_source and the CRD never disagree, and nothing the CRD admits crashes parsing.

The tables in test_agreement.py hold the cases we thought of; these explore the boundaries
(lengths, counts, ranges, durations, types, nulls) in combinations we did not.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from aimsource.domain.durations import parse_duration
from aimsource.domain.spec.source import SYNC_INTERVAL_PATTERN, InvalidSpecError, Source, parse_source
from tests.crds.samples import source
from tests.support.crd_schema import admit

ABSENT = object()


def text(lengths: list[int]) -> st.SearchStrategy[str]:
    return st.sampled_from(lengths).map(lambda n: ("org/m" + "a" * n)[:n])


def lists(item: st.SearchStrategy[Any], sizes: list[int]) -> st.SearchStrategy[list[Any]]:
    # Long lists repeat one item: the count is what is being tested, and generation stays fast.
    return st.tuples(st.sampled_from(sizes), item, st.lists(item, max_size=2)).map(
        lambda t: (t[2] + [t[1]] * t[0])[: max(t[0], len(t[2]))] if t[0] else []
    )


odd = st.sampled_from([None, 7, True, 1.5, "x", [], {}])
# Secret names: DNS-1123 subdomains near the length bound, and strings that break the pattern in
# one place (a path, a capital, an edge dash or dot, an empty label, a final newline).
secret_name = st.one_of(
    st.sampled_from([0, 1, 2, 253, 254]).map(lambda n: ("r" + "e-g.c" * 51)[: n - 1] + "d" if n else ""),
    st.from_regex(r"[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?(\.[a-z0-9]{1,4}){0,2}", fullmatch=True),
    st.sampled_from(["../x", "a/b", "Reg", "-a", "a-", ".a", "a.", "a..b", "a\n", "a b", "a%2fb", "a_b"]),
)
image = st.one_of(text([0, 1, 5, 512, 513]), odd)
constraint = st.one_of(text([0, 1, 256, 257]), odd)
filter_item = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "image": image,
            "versions": st.one_of(lists(constraint, [0, 1, 20, 21]), odd),
            "exclude": st.one_of(lists(image, [0, 1, 100, 101]), odd),
            "extra": st.just(1),
        },
    ),
    odd,
)
duration = st.one_of(
    st.from_regex(SYNC_INTERVAL_PATTERN, fullmatch=True),
    st.text(alphabet="0123456789.hmsnu\u00b5\u03bc d-", max_size=12),
    odd,
)
spec = st.fixed_dictionaries(
    {},
    optional={
        "registry": st.one_of(text([0, 1, 9, 255, 256]), odd),
        "images": st.one_of(lists(image, [0, 1, 2, 100, 101]), odd),
        "filters": st.one_of(lists(filter_item, [0, 1, 2, 100, 101]), odd),
        "versions": st.one_of(lists(constraint, [0, 1, 20, 21]), odd),
        "syncInterval": duration,
        "imagePullSecrets": st.one_of(
            lists(
                st.one_of(st.fixed_dictionaries({}, optional={"name": secret_name}), odd),
                [0, 1, 16, 17],
            ),
            odd,
        ),
        "maxModels": st.one_of(
            st.integers(min_value=-2, max_value=10002), st.sampled_from([0, 1, 10000, 10001]), odd
        ),
        "unknown": st.just("x"),
    },
)


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`good` about four times in five, so that generated specs are often valid, near a boundary."""
    return st.one_of(good, good, good, good, bad)


near_image = mostly(text([1, 5, 512]), st.one_of(text([0, 513]), odd))
near_constraint = mostly(text([1, 256]), text([0, 257]))
near_filter = st.fixed_dictionaries(
    {"image": near_image},
    optional={
        "versions": lists(near_constraint, [0, 1, 20, 20, 21]),
        "exclude": lists(near_image, [1, 100, 100, 101]),
    },
)
near_valid_spec = st.tuples(
    st.sampled_from(["images", "filters"]),
    st.sampled_from([1, 2, 100, 100, 100, 101]),
    st.fixed_dictionaries(
        {},
        optional={
            "registry": mostly(text([1, 9, 255]), text([0, 256])),
            "versions": lists(near_constraint, [0, 1, 20, 20, 21]),
            "syncInterval": mostly(st.from_regex(SYNC_INTERVAL_PATTERN, fullmatch=True), duration),
            "imagePullSecrets": lists(
                st.fixed_dictionaries({"name": mostly(secret_name, text([0, 5, 254]))}), [1, 16, 17]
            ),
            "maxModels": mostly(st.sampled_from([1, 100, 10000]), st.sampled_from([0, 10001, "1"])),
        },
    ),
    near_image,
    near_filter,
).map(lambda t: {**t[2], t[0]: [t[3] if t[0] == "images" else t[4]] * t[1]})


@settings(max_examples=120, deadline=None)
@given(st.one_of(spec, near_valid_spec))
def test_domain_and_crd_agree_on_generated_specs(generated: dict[str, Any]) -> None:
    obj = source(generated)
    stored, errors = admit(obj)
    try:
        parsed: Source | None = parse_source(obj)
    except InvalidSpecError:
        parsed = None
    assert (parsed is not None) == (errors == []), errors or "the domain rejects what the CRD admits"
    if parsed is not None:
        assert parse_source(stored) == parsed


@settings(max_examples=300, deadline=None)
@given(st.from_regex(SYNC_INTERVAL_PATTERN, fullmatch=True))
def test_every_duration_the_pattern_admits_parses(text: str) -> None:
    assert parse_duration(text) >= 0
