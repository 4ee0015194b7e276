"""Planning one sync: dedupe, existing models, the maxModels cap and its round-robin order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from aimsource.domain.naming import model_name
from aimsource.domain.references import canonical_image, parse_reference
from aimsource.domain.selection.planning import ExistingModel, Plan, plan_sync
from aimsource.domain.selection.selectors import (
    SelectorError,
    SelectorOutcome,
    build_selectors,
    decide_tags,
)
from aimsource.domain.spec.source import FilterSpec, SourceSpec

SOURCE = "amd-models"


def outcomes_for(
    listing: Mapping[str, Sequence[str]], *, versions: tuple[str, ...] = ()
) -> list[SelectorOutcome]:
    """Selectors for `images` (the listing's keys) with the registry returning the given tags."""
    selectors = build_selectors(SourceSpec(images=tuple(listing), versions=versions))
    return [
        SelectorOutcome(
            s,
            tuple(decide_tags(s, listing[s.written])),
            listed=len(listing[s.written]),
            reached_registry=True,
        )
        for s in selectors
    ]


def existing(*models: tuple[str, str | None]) -> dict[str, ExistingModel]:
    """Existing models by canonical image, from (spec.image, source label) pairs."""
    result = {}
    for image, source in models:
        key = canonical_image(image)
        result[key] = ExistingModel(model_name(parse_reference(image)), key, source)
    return result


def plan(
    outcomes: Sequence[SelectorOutcome],
    *,
    models: Mapping[str, ExistingModel] | None = None,
    owned: int = 0,
    max_models: int = 100,
) -> Plan:
    return plan_sync(
        outcomes, source_name=SOURCE, existing_by_image=models or {}, owned=owned, max_models=max_models
    )


def created(p: Plan) -> list[str]:
    return [c.image for c in p.to_create]


def many_versions(n: int) -> list[str]:
    return [f"1.{i}.0" for i in range(n)]


def test_every_selected_image_is_planned_when_nothing_exists() -> None:
    p = plan(outcomes_for({"org/a": ["1.0.0", "2.0.0", "latest"], "ghcr.io/org/b:0.1": ["0.1"]}))
    assert created(p) == ["org/a:2.0.0", "ghcr.io/org/b:0.1", "org/a:1.0.0", "org/a:latest"]
    assert (p.available, p.owned_before, p.foreign, p.limit_reached, p.not_created, p.existing) == (
        4,
        0,
        0,
        False,
        (),
        (),
    )
    first = p.to_create[0]
    assert (first.name, first.selector_index, first.selector) == (
        model_name(parse_reference("org/a:2.0.0")),
        0,
        "org/a",
    )


def test_round_robin_across_selectors_newest_first_when_capped() -> None:
    outcomes = outcomes_for(
        {"org/a": ["1.0.0", "3.0.0", "2.0.0"], "org/b": ["1.0.0"], "org/c": ["1.0.0", "2.0.0"]}
    )
    p = plan(outcomes, max_models=4)
    assert created(p) == ["org/a:3.0.0", "org/b:1.0.0", "org/c:2.0.0", "org/a:2.0.0"]
    assert [n.candidate.image for n in p.not_created] == ["org/c:1.0.0", "org/a:1.0.0"]
    assert {n.reason for n in p.not_created} == {"maxModels limit reached (4)"}
    assert (p.available, p.limit_reached, p.capped) == (6, True, 2)


def test_creation_order_is_round_robin_even_without_a_cap() -> None:
    p = plan(outcomes_for({"org/a": ["1.0.0", "2.0.0"], "org/b": ["1.0.0", "2.0.0"]}))
    assert created(p) == ["org/a:2.0.0", "org/b:2.0.0", "org/a:1.0.0", "org/b:1.0.0"]


def test_seed_example_fresh_source_creates_up_to_max_models() -> None:
    p = plan(outcomes_for({"org/model": many_versions(250)}), max_models=100)
    assert (len(p.to_create), p.capped, p.available, p.limit_reached) == (100, 150, 250, True)
    assert created(p)[0] == "org/model:1.249.0"  # newest first


def test_seed_example_next_sync_creates_nothing_more() -> None:
    tags = many_versions(250)
    models = existing(*[(f"org/model:{t}", SOURCE) for t in tags[150:]])
    p = plan(outcomes_for({"org/model": tags}), models=models, owned=100, max_models=100)
    assert (len(p.to_create), len(p.existing), p.capped, p.available, p.foreign, p.limit_reached) == (
        0,
        100,
        150,
        250,
        0,
        True,
    )


def test_same_image_from_several_selectors_counts_once_for_the_first() -> None:
    outcomes = outcomes_for(
        {
            "org/a:1.0.0": ["1.0.0"],
            "docker.io/org/a": ["1.0.0", "2.0.0"],
            "index.docker.io/org/a:1.0.0": ["1.0.0"],
        }
    )
    p = plan(outcomes)
    assert [(c.image, c.selector_index) for c in p.to_create] == [("org/a:1.0.0", 0), ("org/a:2.0.0", 1)]
    assert p.available == 2


def test_duplicates_do_not_use_budget_twice() -> None:
    p = plan(outcomes_for({"org/a": ["1.0.0"], "org/a:1.0.0": ["1.0.0"], "org/b": ["1.0.0"]}), max_models=2)
    assert created(p) == ["org/a:1.0.0", "org/b:1.0.0"]
    assert not p.limit_reached


@pytest.mark.parametrize(
    ("source", "foreign"),
    [(None, 1), ("other-source", 1), (SOURCE, 0)],
    ids=["made-by-a-person", "made-by-another-source", "made-by-this-source"],
)
def test_an_image_that_has_a_model_is_left_alone(source: str | None, foreign: int) -> None:
    # The model was written differently (docker.io/ prefix); it is the same image.
    models = existing(("docker.io/org/a:1.0.0", source))
    p = plan(outcomes_for({"org/a": ["1.0.0", "2.0.0"]}), models=models, owned=1 if source == SOURCE else 0)
    assert created(p) == ["org/a:2.0.0"]
    assert [c.image for c in p.existing] == ["org/a:1.0.0"]
    assert (p.foreign, p.available) == (foreign, 2)


def test_foreign_models_do_not_use_the_budget() -> None:
    models = existing(("org/a:1.0.0", None), ("org/a:2.0.0", "other"))
    p = plan(outcomes_for({"org/a": ["1.0.0", "2.0.0", "3.0.0"]}), models=models, max_models=1)
    assert created(p) == ["org/a:3.0.0"]
    assert (p.foreign, p.limit_reached) == (2, False)


def test_owned_models_no_longer_matched_still_count_toward_the_cap() -> None:
    # Three models from an earlier spec still exist; none of them is selected any more.
    models = existing(*[(f"org/old:{v}", SOURCE) for v in ("1.0.0", "2.0.0", "3.0.0")])
    p = plan(outcomes_for({"org/new": ["1.0.0", "2.0.0"]}), models=models, owned=3, max_models=4)
    assert created(p) == ["org/new:2.0.0"]
    assert [n.candidate.image for n in p.not_created] == ["org/new:1.0.0"]
    assert (p.available, p.limit_reached, p.owned_before) == (2, True, 3)


def test_more_owned_than_allowed_creates_nothing() -> None:
    p = plan(outcomes_for({"org/a": ["1.0.0"]}), owned=7, max_models=5)
    assert (created(p), p.capped, p.limit_reached) == ([], 1, True)


def test_failed_selectors_contribute_nothing() -> None:
    [good, bad] = outcomes_for({"org/a": ["1.0.0"], "org/b": ["1.0.0"]})
    failed = SelectorOutcome(bad.selector, bad.decisions, error=SelectorError("Unreachable", "down"))
    invalid = outcomes_for({"org/c": ["1.0.0"]}, versions=("nonsense",))[0]
    p = plan([good, failed, invalid])
    assert (created(p), p.available) == (["org/a:1.0.0"], 1)


def test_excluded_selector_contributes_nothing() -> None:
    [selector] = build_selectors(SourceSpec(filters=(FilterSpec("org/a", exclude=("org/a",)),)))
    p = plan([SelectorOutcome(selector, tuple(decide_tags(selector, ["1.0.0"])))])
    assert (created(p), p.available) == ([], 0)


def test_a_name_taken_by_another_image_is_reported_not_created() -> None:
    name = model_name(parse_reference("org/a:1.0.0"))
    models = {"docker.io/someone/else:9": ExistingModel(name, "docker.io/someone/else:9", None)}
    p = plan(outcomes_for({"org/a": ["1.0.0", "2.0.0"]}), models=models, max_models=2)
    assert created(p) == ["org/a:2.0.0"]
    [conflict] = p.not_created
    assert conflict.candidate.image == "org/a:1.0.0"
    assert name in conflict.reason
    assert "docker.io/someone/else:9" in conflict.reason
    assert (conflict.capped, p.limit_reached, p.capped) == (False, False, 0)


def test_outcomes_are_taken_in_spec_order() -> None:
    first, second = outcomes_for({"org/a": ["1.0.0"], "org/b": ["1.0.0"]})
    assert created(plan([second, first])) == ["org/a:1.0.0", "org/b:1.0.0"]


SQUATTER = "r5139637.evil.example/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"
HUB_QWEN = "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"


def test_the_six_hex_hash_really_collides_for_the_issues_pair() -> None:
    # Byte-compatible with AMD's naming, so the collision is AMD's too: the name stays, the
    # conflict is reported.
    squatter, hub = parse_reference(SQUATTER), parse_reference(HUB_QWEN)
    assert str(squatter) != str(hub)
    assert model_name(squatter) == model_name(hub) == "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726"


def test_a_squatted_name_is_a_conflict_naming_the_model_and_both_images() -> None:
    p = plan(outcomes_for({HUB_QWEN: ["0.8.5"]}), models=existing((SQUATTER, "evil-source")))
    assert (created(p), p.existing, p.foreign) == ([], (), 0)
    [conflict] = p.not_created
    assert (conflict.kind, conflict.capped) == ("conflict", False)
    assert conflict.candidate.key == "docker.io/" + HUB_QWEN
    assert conflict.existing_image == SQUATTER
    assert conflict.reason == (
        f'name "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726" is already used by a model of {SQUATTER}'
    )


def test_two_selected_images_with_one_name_create_the_first_and_report_the_second() -> None:
    p = plan(outcomes_for({HUB_QWEN: ["0.8.5"], SQUATTER: ["0.8.5"]}))
    assert created(p) == [HUB_QWEN]
    [conflict] = p.not_created
    assert (conflict.candidate.key, conflict.existing_image) == (SQUATTER, "docker.io/" + HUB_QWEN)
