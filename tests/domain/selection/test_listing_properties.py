"""The batched deciding and planning of long listings agree with the tag-by-tag algorithms.

`plain_release_keys`, `decide_listing` and `plan_sync` take shortcuts for listings of tens of
thousands of tags (one regular-expression scan per batch, tags compared as sets per repository,
the capped remainder worked out only when read). Each is checked here, on random listings, against
a direct transcription of the tag-by-tag algorithm it replaced, written in this file so that the
shortcuts are not tested against themselves: same decisions, same order, same plan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from operator import itemgetter

from hypothesis import example, given, settings
from hypothesis import strategies as st

from aimsource.domain.naming import model_name
from aimsource.domain.references import ImageRef, is_valid_tag, parse_reference
from aimsource.domain.selection.decisions import Decisions
from aimsource.domain.selection.planning import ExistingModel, Plan, plan_sync
from aimsource.domain.selection.selectors import (
    Selector,
    SelectorOutcome,
    build_selectors,
    decide_listing,
    is_signature_tag,
    named_tags,
)
from aimsource.domain.spec.source import FilterSpec, SourceSpec
from aimsource.domain.versions.near_misses import explain_not_version
from aimsource.domain.versions.semver import (
    Version,
    newest_first_plain,
    parse_version,
    plain_release_key,
    plain_release_keys,
)

settings.register_profile("aimsource-domain", deadline=None)
settings.load_profile("aimsource-domain")

# Tags as registries list them: mostly plain releases (small numbers, so that `1.0.0` and `v1.0.0`
# tie), and every kind of exception the deciding must route elsewhere.
small = st.integers(min_value=0, max_value=3)
plain = st.builds(lambda v, a, b, c: f"{v}{a}.{b}.{c}", st.sampled_from(["", "v"]), small, small, small)
odd = st.sampled_from(
    [
        "latest", "1.0", "01.0.0", "1.0.0-rc.1", "1.0.0-rc.2", "v1.0.0-alpha", "1.0.0+build.1",
        "1.0.0+build.2", "2.0.0-0", "sha256-abc.sig", "1.0.0.att", "x.sbom", "", " 1.0.0", "1.0.0\n",
        "1.0.0\n2.0.0", "-bad", "a:b", "1:0.0", "V1.0.0", "1.0.0 ", "\u0661.0.0",
        "9" * 40 + ".0.0", "1." + "9" * 70 + ".0", "2024.1.15", "1000.0.0", "3.1000.2",
    ]
)  # fmt: skip
tags = st.lists(st.one_of(plain, plain, plain, odd), max_size=40)


def test_plain_release_keys_is_plain_release_key_of_each_tag_beyond_one_batch() -> None:
    listing = [f"{i // 100}.{i % 100}.{i % 7}" for i in range(10_000)] + ["latest", "v1.2.3"]
    assert plain_release_keys(listing) == [plain_release_key(t) for t in listing]


@given(tags)
def test_plain_release_keys_is_plain_release_key_of_each_tag(listing: list[str]) -> None:
    assert plain_release_keys(listing) == [plain_release_key(t) for t in listing]


canonical = st.builds(lambda a, b, c: f"{a}.{b}.{c}", *[st.integers(min_value=0, max_value=1001)] * 3)


@given(st.lists(st.one_of(canonical, canonical, canonical, plain, odd), unique=True, max_size=30))
@example(["1.0.0", "999.999.999", "0.0.1", "0.10.0", "0.9.0"])
@example(["1.0.0", "1000.0.0"])
@example(["1.0", "1.2.3.4"])  # six numbers, but not three per tag
def test_newest_first_plain_orders_canonical_releases_and_refuses_the_rest(listing: list[str]) -> None:
    ordered = newest_first_plain(listing)
    if all(
        re.fullmatch(r"(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})", t) for t in listing
    ):
        assert ordered == sorted(listing, key=lambda t: tuple(map(int, t.split("."))), reverse=True)
    else:
        assert ordered is None


def test_newest_first_plain_orders_beyond_one_batch() -> None:
    listing = [f"{i // 100}.{i % 100}.{i % 7}" for i in range(10_000)]
    expected = sorted(listing, key=lambda t: tuple(map(int, t.split("."))), reverse=True)
    assert newest_first_plain(listing) == expected
    assert newest_first_plain([*listing, "v1.0.0"]) is None


def reference_rows(selector: Selector, listing: Sequence[str]) -> list[tuple[str, str, str]]:
    """The decisions of `listing` as (image, decision, reason), one tag at a time."""
    ref = selector.ref
    if ref is None or selector.error is not None:
        return []
    unique = list(dict.fromkeys(listing))
    if ref.pinned:
        unique = [t for t in unique if t == ref.tag]
    constraints = selector.constraints
    named = named_tags(selector)
    text = str(constraints) if constraints is not None else ""
    if ref.pinned:
        chosen = "pinned tag"
    elif constraints is None:
        chosen = "no version constraints"
    elif named is not None:
        chosen = f"named in versions {text} (a list of exact versions selects each one that exists)"
    else:
        chosen = f"satisfies {text}"
    out_of_range = f"not named in versions {text}" if named is not None else f"does not satisfy {text}"
    keep_all = ref.pinned or constraints is None
    # (group, version or None, tag, decision, reason); groups in output order
    rows: list[tuple[int, Version | None, str, str, str]] = []
    for tag in unique:
        version = parse_version(tag)
        if selector.excluded:
            rows.append((4, None, tag, "excluded", f"repository {ref.repository} is excluded"))
        elif is_signature_tag(tag) and plain_release_key(tag) is None:
            rows.append((3, None, tag, "signature", "signature, attestation or SBOM tag"))
        elif not is_valid_tag(tag) and plain_release_key(tag) is None:
            rows.append((2, None, tag, "not-a-version", "not a valid tag"))
        elif keep_all:
            rows.append((0, version, tag, "selected", chosen))
        elif version is None:
            rows.append((2, None, tag, "not-a-version", explain_not_version(tag)))
        elif (tag in named) if named is not None else constraints.admits(version):  # type: ignore[union-attr]
            rows.append((0, version, tag, "selected", chosen))
        else:
            rows.append((1, version, tag, "out-of-range", out_of_range))
    ordered = []
    for group in range(5):
        members = [r for r in rows if r[0] == group]
        versions = sorted((r for r in members if r[1] is not None), key=itemgetter(2))
        versions.sort(key=lambda r: r[1] or Version(0, 0, 0), reverse=True)  # stable: ties stay by name
        others = sorted((r for r in members if r[1] is None), key=itemgetter(2))
        ordered += versions + others
    return [(f"{ref.key}:{tag}", decision, reason) for _, _, tag, decision, reason in ordered]


selectors = st.sampled_from(
    [
        FilterSpec("reg.example/org/model"),
        FilterSpec("reg.example/org/model", (">=1.0.0",)),
        FilterSpec("reg.example/org/model", ("<2.0.0-0", "!=1.0.0")),
        FilterSpec("reg.example/org/model", ("1.0.0", "=v2.1.0", "0.0.0")),
        FilterSpec("reg.example/org/model", (), ("org/model",)),
        FilterSpec("reg.example/org/model:v1.0.0"),
        FilterSpec("reg.example/org/model:latest"),
    ]
)


@given(selectors, tags)
@example(FilterSpec("reg.example/org/model"), ["v1.0.0", "1.0.0", "latest", "1.0.0-rc.1"])
@example(FilterSpec("reg.example/org/model", (">=1.0.0",)), ["1.0.0+b", "v1.0.0", "1.0.0+a", "1.0.0"])
def test_decide_listing_orders_as_the_tag_by_tag_algorithm(spec: FilterSpec, listing: list[str]) -> None:
    [selector] = build_selectors(SourceSpec(filters=(spec,)))
    assert list(decide_listing(selector, listing).rows()) == reference_rows(selector, listing)


# --- planning ----------------------------------------------------------------------------------


def reference_plan(
    outcomes: Sequence[SelectorOutcome], existing_by_image: Mapping[str, ExistingModel], owned: int, cap: int
) -> dict[str, object]:
    """plan_sync, key by key: the first selector of an image counts it, models are left alone,
    the budget is filled round-robin across selectors, a held name is a conflict."""
    seen: set[str] = set()
    existing: list[str] = []
    foreign = 0
    queues: list[list[str]] = []
    for outcome in sorted(outcomes, key=lambda o: o.selector.index):
        if outcome.failed is not None or outcome.selector.ref is None:
            continue
        queue = []
        for key in outcome.selected_keys():
            if key in seen:
                continue
            seen.add(key)
            model = existing_by_image.get(key)
            if model is None:
                queue.append(key)
            else:
                existing.append(key)
                foreign += model.source != "mine"
        queues.append(queue)
    order = [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]
    names = {m.name: m.image for m in existing_by_image.values()}
    to_create: list[str] = []
    conflicts: list[str] = []
    taken = 0
    while taken < len(order) and len(to_create) < max(0, cap - owned):
        key = order[taken]
        taken += 1
        name = model_name(parse_reference(key))
        if name in names:
            conflicts.append(key)
        else:
            to_create.append(key)
            names[name] = key
    return {
        "to_create": to_create,
        "existing": existing,
        "conflicts": conflicts,
        "capped": order[taken:],
        "available": len(seen),
        "foreign": foreign,
        "limit_reached": taken < len(order),
    }


def summary(plan: Plan) -> dict[str, object]:
    return {
        "to_create": [c.key for c in plan.to_create],
        "existing": [c.key for c in plan.existing],
        "conflicts": [n.candidate.key for n in plan.not_created if not n.capped],
        "capped": [n.candidate.key for n in plan.not_created if n.capped],
        "available": plan.available,
        "foreign": plan.foreign,
        "limit_reached": plan.limit_reached,
    }


repositories = st.sampled_from(["reg.example/org/a", "reg.example/org/b", "other.example:5000/c"])
versions_lists = st.sampled_from([(), (">=1.0.0",), ("1.0.0", "2.0.0")])
filters = st.lists(st.builds(FilterSpec, repositories, versions_lists), min_size=1, max_size=5)
# Few distinct tags, so that selectors share images and models exist for listed ones.
few = st.builds(lambda v, a, b: f"{v}{a}.{b}.0", st.sampled_from(["", "v"]), small, small)
plain_tags = st.lists(few, max_size=12)


@given(
    filters,
    st.lists(plain_tags, min_size=5, max_size=5),
    st.lists(st.tuples(repositories, few, st.sampled_from(["mine", "theirs", None])), max_size=6),
    st.lists(st.booleans(), min_size=5, max_size=5),
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=0, max_value=12),
)
def test_plan_sync_plans_as_the_key_by_key_algorithm(
    specs: list[FilterSpec],
    listings: list[list[str]],
    models: list[tuple[str, str, str | None]],
    compact: list[bool],
    owned: int,
    cap: int,
) -> None:
    outcomes = []
    for selector, listing, small_form in zip(
        build_selectors(SourceSpec(filters=tuple(specs))), listings, compact, strict=False
    ):
        decisions = decide_listing(selector, listing)
        assert isinstance(decisions, Decisions)
        # Both forms of decisions: the compact one of a sync, the tuple of a preview or a test.
        outcome = SelectorOutcome(
            selector, decisions if small_form else tuple(decisions), listed=len(listing)
        )
        outcomes.append(outcome)
    existing = {}
    for repository, tag, source in models:
        registry, path = repository.split("/", 1)
        ref = ImageRef(registry, path, tag)
        existing[str(ref)] = ExistingModel(model_name(ref), str(ref), source)
    # A model of another image under the name one candidate would get: a conflict to report.
    if outcomes and listings[0]:
        registry, path = specs[0].image.split("/", 1)
        ref = ImageRef(registry, path, listings[0][0])
        existing["elsewhere.example/x:1.0.0"] = ExistingModel(
            model_name(ref), "elsewhere.example/x:1.0.0", None
        )
    planned = plan_sync(outcomes, source_name="mine", existing_by_image=existing, owned=owned, max_models=cap)
    assert summary(planned) == reference_plan(outcomes, existing, owned, cap)
    assert len(planned.not_created) == len(tuple(planned.not_created))
    assert planned.capped == len(summary(planned)["capped"])  # type: ignore[arg-type]
