"""The source's status after a sync: values, counters, conditions, per-selector entries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from aimsource.domain.naming import model_name
from aimsource.domain.planning import ExistingModel, Plan, plan_sync
from aimsource.domain.references import canonical_image, parse_reference
from aimsource.domain.selection import SelectorError, SelectorOutcome, build_selectors, decide_tags
from aimsource.domain.spec import FilterSpec, Problem, SourceSpec
from aimsource.domain.status import build_status, format_time, initial_status, status_changed

SOURCE = "amd-models"
T0 = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
UNREACHABLE = SelectorError("Unreachable", "cannot connect to registry ghcr.io")
NOT_FOUND = SelectorError("RepositoryNotFound", "repository docker.io/org/gone not found")


def outcomes_for(
    listing: Mapping[str, Sequence[str] | SelectorError], *, spec: SourceSpec | None = None
) -> list[SelectorOutcome]:
    """Outcomes for `images` = the listing's keys; a SelectorError value means that listing failed."""
    spec = spec or SourceSpec(images=tuple(listing))
    result = []
    for selector in build_selectors(spec):
        answer = listing.get(selector.written, [])
        if isinstance(answer, SelectorError):
            result.append(
                SelectorOutcome(selector, error=answer, reached_registry=answer.reason != "Unreachable")
            )
        elif selector.error is not None or selector.excluded:
            result.append(SelectorOutcome(selector))
        else:
            decisions = tuple(decide_tags(selector, answer))
            result.append(SelectorOutcome(selector, decisions, listed=len(answer), reached_registry=True))
    return result


def models(*images: str, source: str | None = SOURCE) -> dict[str, ExistingModel]:
    return {
        canonical_image(i): ExistingModel(model_name(parse_reference(i)), canonical_image(i), source)
        for i in images
    }


def planned(
    outcomes: Sequence[SelectorOutcome],
    existing: Mapping[str, ExistingModel] | None = None,
    *,
    owned: int = 0,
    max_models: int = 100,
) -> Plan:
    return plan_sync(
        outcomes, source_name=SOURCE, existing_by_image=existing or {}, owned=owned, max_models=max_models
    )


def status_of(
    outcomes: Sequence[SelectorOutcome],
    plan: Plan | None,
    *,
    created: int | None = None,
    previous: Mapping[str, Any] | None = None,
    now: datetime | None = T0,
    generation: int = 1,
    problems: Sequence[Problem] = (),
) -> dict[str, Any]:
    if created is None:
        created = len(plan.to_create) if plan else 0
    return build_status(
        outcomes=outcomes,
        plan=plan,
        created=created,
        problems=problems,
        generation=generation,
        previous=previous,
        now=now,
    )


def condition(status: Mapping[str, Any], kind: str) -> dict[str, Any]:
    [found] = [c for c in status["conditions"] if c["type"] == kind]
    return dict(found)


def test_ready_when_every_selector_succeeded() -> None:
    outcomes = outcomes_for({"org/a": ["1.0.0", "2.0.0"], "org/b:1.0": ["1.0"]})
    status = status_of(outcomes, planned(outcomes))
    assert {k: v for k, v in status.items() if k not in ("conditions", "selectors")} == {
        "status": "Ready",
        "discoveredModels": 3,
        "availableModels": 3,
        "modelsLimitReached": False,
        "observedGeneration": 1,
        "lastSyncTime": "2026-01-15T10:30:00Z",
    }
    assert [(c["type"], c["status"], c["reason"]) for c in status["conditions"]] == [
        ("Ready", "True", "AllSelectorsSucceeded"),
        ("Degraded", "False", "AllSelectorsSucceeded"),
        ("MaxModelsLimitReached", "False", "WithinLimit"),
    ]
    for c in status["conditions"]:
        assert (c["lastTransitionTime"], c["observedGeneration"]) == ("2026-01-15T10:30:00Z", 1)
    assert condition(status, "Ready")["message"] == "2 of 2 selectors synced; 3 images available, 3 models"


def test_degraded_when_some_selectors_failed_names_each_failure() -> None:
    outcomes = outcomes_for({"org/a": ["1.0.0"], "ghcr.io/org/b": UNREACHABLE, "org/gone": NOT_FOUND})
    status = status_of(outcomes, planned(outcomes))
    assert status["status"] == "Degraded"
    ready, degraded = condition(status, "Ready"), condition(status, "Degraded")
    assert (ready["status"], ready["reason"]) == ("False", "SomeSelectorsFailed")
    assert (degraded["status"], degraded["reason"]) == ("True", "SomeSelectorsFailed")
    assert degraded["message"] == (
        "2 of 3 selectors failed: ghcr.io/org/b (Unreachable): cannot connect to registry ghcr.io; "
        "org/gone (RepositoryNotFound): repository docker.io/org/gone not found"
    )
    assert ready["message"] == degraded["message"]


def test_failed_when_every_selector_failed() -> None:
    outcomes = outcomes_for({"ghcr.io/org/b": UNREACHABLE, "org/gone": NOT_FOUND})
    status = status_of(outcomes, planned(outcomes))
    assert (status["status"], condition(status, "Ready")["reason"]) == ("Failed", "AllSelectorsFailed")
    assert condition(status, "Degraded")["status"] == "True"


@pytest.mark.parametrize(
    ("spec", "expected", "reason", "fragment"),
    [
        (
            SourceSpec(images=("org/a", "amdenterpriseai/aim-*")),
            "Degraded",
            "InvalidReference",
            "Wildcard syntax (*)",
        ),
        (
            SourceSpec(images=("org/a",), versions=(">=banana",)),
            "Failed",
            "InvalidVersionConstraint",
            '"banana"',
        ),
    ],
    ids=["wildcard", "bad-constraint"],
)
def test_selector_errors_found_while_building_are_reported(
    spec: SourceSpec, expected: str, reason: str, fragment: str
) -> None:
    outcomes = outcomes_for({"org/a": ["1.0.0"]}, spec=spec)
    status = status_of(outcomes, planned(outcomes))
    assert status["status"] == expected
    entry = next(s for s in status["selectors"] if "error" in s)
    assert entry["error"]["reason"] == reason
    assert fragment in entry["error"]["message"]
    assert fragment in condition(status, "Degraded")["message"]


def test_invalid_spec_is_failed_and_keeps_previous_counters() -> None:
    outcomes = outcomes_for({"org/a": ["1.0.0"]})
    previous = status_of(outcomes, planned(outcomes))
    problems = [
        Problem("spec", "exactly one of images or filters must be set"),
        Problem("spec.maxModels", "must be at most 10000"),
    ]
    status = status_of([], None, previous=previous, problems=problems, generation=2, now=T1)
    assert (status["status"], status["discoveredModels"], status["availableModels"]) == ("Failed", 1, 1)
    ready = condition(status, "Ready")
    assert (ready["reason"], ready["status"], ready["lastTransitionTime"]) == (
        "InvalidSpec",
        "False",
        format_time(T1),
    )
    assert ready["message"] == (
        "spec is invalid: spec: exactly one of images or filters must be set; "
        "spec.maxModels: must be at most 10000"
    )
    assert status["lastSyncTime"] == previous["lastSyncTime"]  # no registry was reached
    assert status["observedGeneration"] == 2


def test_all_filters_excluded_is_ready_with_nothing_available() -> None:
    spec = SourceSpec(
        filters=(FilterSpec("org/a", exclude=("org/a",)), FilterSpec("org/b", exclude=("org/b",)))
    )
    outcomes = outcomes_for({}, spec=spec)
    status = status_of(outcomes, planned(outcomes), previous=None)
    assert (status["status"], status["availableModels"], status["discoveredModels"]) == ("Ready", 0, 0)
    assert "lastSyncTime" not in status  # no registry was asked


def test_seed_max_models_example() -> None:
    tags = [f"1.{i}.0" for i in range(250)]
    existing = models(*[f"org/model:{t}" for t in tags[150:]])
    outcomes = outcomes_for({"org/model": tags})
    status = status_of(outcomes, planned(outcomes, existing, owned=100, max_models=100))
    assert (
        status["status"],
        status["discoveredModels"],
        status["availableModels"],
        status["modelsLimitReached"],
    ) == ("Ready", 100, 250, True)
    limit = condition(status, "MaxModelsLimitReached")
    assert (limit["status"], limit["reason"]) == ("True", "LimitReached")
    assert limit["message"] == (
        "Model creation limit reached (100 models created). 150 available images not created as models."
    )


def test_limit_message_counts_owned_models_and_images_left_without_one() -> None:
    # 3 owned models are no longer selected; 4 images are selected, 1 gets a model now, 3 do not.
    existing = models("org/old:1.0.0", "org/old:2.0.0", "org/old:3.0.0")
    outcomes = outcomes_for({"org/new": ["1.0.0", "2.0.0", "3.0.0", "4.0.0"]})
    status = status_of(outcomes, planned(outcomes, existing, owned=3, max_models=4))
    assert (status["discoveredModels"], status["availableModels"]) == (4, 4)
    assert condition(status, "MaxModelsLimitReached")["message"] == (
        "Model creation limit reached (4 models created). 3 available images not created as models."
    )


def test_discovered_counts_own_models_created_and_foreign() -> None:
    existing = {**models("org/a:1.0.0", source=None), **models("org/old:1.0.0")}
    outcomes = outcomes_for({"org/a": ["1.0.0", "2.0.0", "3.0.0"]})
    plan = planned(outcomes, existing, owned=1)
    status = status_of(outcomes, plan, created=1)  # one of the two creations failed
    assert (status["discoveredModels"], status["availableModels"]) == (1 + 1 + 1, 3)


def test_selector_entries() -> None:
    spec = SourceSpec(
        versions=(">=1.0.0",),
        filters=(FilterSpec("org/a"), FilterSpec("org/b", exclude=("org/b",)), FilterSpec("ghcr.io/org/c")),
    )
    listing: dict[str, Any] = {
        "org/a": ["0.9.0", "1.0.0", "2.0.0", "latest", "sha256-x.sig"],
        "ghcr.io/org/c": UNREACHABLE,
    }
    outcomes = outcomes_for(listing, spec=spec)
    outcomes[0] = SelectorOutcome(
        outcomes[0].selector, outcomes[0].decisions, listed=5, truncated=True, reached_registry=True
    )
    status = status_of(outcomes, planned(outcomes))
    assert status["selectors"] == [
        {"reference": "org/a", "tagsListed": 5, "matched": 2, "created": 2, "skipped": 2, "truncated": True},
        {"reference": "org/b", "tagsListed": 0, "matched": 0, "created": 0, "skipped": 0, "truncated": False},
        {
            "reference": "ghcr.io/org/c",
            "tagsListed": 0,
            "matched": 0,
            "created": 0,
            "skipped": 0,
            "truncated": False,
            "error": {"reason": "Unreachable", "message": "cannot connect to registry ghcr.io"},
        },
    ]


def test_selector_created_counts_matched_images_with_a_model_so_it_does_not_flap() -> None:
    listing = {"org/a": ["1.0.0", "2.0.0"], "org/a:1.0.0": ["1.0.0"]}
    outcomes = outcomes_for(listing)
    first = status_of(outcomes, planned(outcomes))
    assert [s["created"] for s in first["selectors"]] == [2, 1]
    # Next sync: both models exist now, nothing is created.
    second = status_of(
        outcomes, planned(outcomes, models("org/a:1.0.0", "org/a:2.0.0"), owned=2), previous=first, now=T1
    )
    assert [s["created"] for s in second["selectors"]] == [2, 1]
    assert not status_changed(first, second)
    assert second["lastSyncTime"] == format_time(T1)


def test_created_names_say_which_creations_succeeded() -> None:
    outcomes = outcomes_for({"org/a": ["1.0.0", "2.0.0"]})
    plan = planned(outcomes)
    second_only = [plan.to_create[1].name]
    status = build_status(
        outcomes=outcomes,
        plan=plan,
        created=1,
        generation=1,
        previous=None,
        now=T0,
        created_names=second_only,
    )
    assert status["selectors"][0]["created"] == 1
    assert status["discoveredModels"] == 1


def test_last_transition_time_moves_only_when_a_condition_flips() -> None:
    ok = outcomes_for({"org/a": ["1.0.0"], "org/b": ["1.0.0"]})
    first = status_of(ok, planned(ok), now=T0)
    broken = outcomes_for({"org/a": ["1.0.0"], "org/b": NOT_FOUND})
    second = status_of(
        broken, planned(broken, models("org/a:1.0.0", "org/b:1.0.0"), owned=2), previous=first, now=T1
    )
    times = {c["type"]: c["lastTransitionTime"] for c in second["conditions"]}
    assert times == {
        "Ready": format_time(T1),
        "Degraded": format_time(T1),
        "MaxModelsLimitReached": format_time(T0),
    }
    third = status_of(
        broken,
        planned(broken, models("org/a:1.0.0", "org/b:1.0.0"), owned=2),
        previous=second,
        now=T1 + timedelta(hours=1),
    )
    assert {c["type"]: c["lastTransitionTime"] for c in third["conditions"]} == times
    assert not status_changed(second, third)


def test_last_sync_time_only_when_a_registry_answered() -> None:
    reached = outcomes_for({"org/a": ["1.0.0"]})
    first = status_of(reached, planned(reached), now=T0)
    unreachable = outcomes_for({"org/a": UNREACHABLE})
    second = status_of(unreachable, planned(unreachable), previous=first, now=T1)
    assert second["lastSyncTime"] == format_time(T0)
    not_found = outcomes_for({"org/a": NOT_FOUND})  # a 404 is an answer
    assert status_of(not_found, planned(not_found), previous=first, now=T1)["lastSyncTime"] == format_time(T1)


def test_preview_has_no_timestamps() -> None:
    outcomes = outcomes_for({"org/a": ["1.0.0"]})
    status = status_of(outcomes, planned(outcomes), now=None)
    assert "lastSyncTime" not in status
    assert all("lastTransitionTime" not in c for c in status["conditions"])


def test_messages_are_truncated_and_redacted() -> None:
    secret = SelectorError(
        "AuthenticationFailed", "https://user:s3cret@ghcr.io/v2/ said no; Basic dXNlcjpzM2NyZXQ="
    )
    long = SelectorError("BadResponse", "x" * 3000)
    outcomes = outcomes_for({"ghcr.io/org/a": secret, "ghcr.io/org/b": long})
    status = status_of(outcomes, planned(outcomes))
    message = condition(status, "Degraded")["message"]
    assert len(message) == 1024
    assert message.endswith("...")
    for text in (message, status["selectors"][0]["error"]["message"]):
        assert "s3cret" not in text
        assert "dXNlcjpzM2NyZXQ=" not in text
        assert "***@ghcr.io" in text
    assert len(status["selectors"][1]["error"]["message"]) == 1024


def test_status_changed_ignores_last_sync_time_and_condition_order() -> None:
    outcomes = outcomes_for({"org/a": ["1.0.0"]})
    first = status_of(outcomes, planned(outcomes))
    later = {**first, "lastSyncTime": format_time(T1), "conditions": list(reversed(first["conditions"]))}
    assert not status_changed(first, later)
    assert status_changed(None, first)
    assert status_changed(first, {**first, "observedGeneration": 2})
    assert status_changed(first, {**first, "availableModels": 2})
    flipped = [dict(c, status="False") if c["type"] == "Ready" else c for c in first["conditions"]]
    assert status_changed(first, {**first, "conditions": flipped})


def test_initial_status_is_pending() -> None:
    assert initial_status() == {
        "status": "Pending",
        "discoveredModels": 0,
        "availableModels": 0,
        "modelsLimitReached": False,
    }
    assert status_changed(initial_status(), status_of([], None))


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 1, 15, 10, 30, 5, 999999, tzinfo=UTC), "2026-01-15T10:30:05Z"),
        (datetime(2026, 1, 15, 10, 30), "2026-01-15T10:30:00Z"),
        (datetime(2026, 1, 15, 12, 30, tzinfo=timezone(timedelta(hours=2))), "2026-01-15T10:30:00Z"),
    ],
    ids=["utc-drops-fraction", "naive-is-utc", "offset-converted"],
)
def test_format_time_is_rfc3339_utc(moment: datetime, text: str) -> None:
    assert format_time(moment) == text


SQUATTER = "r5139637.evil.example/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"
HUB_QWEN = "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"
QWEN_NAME = "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726"


def test_a_name_conflict_degrades_and_the_selector_names_the_model_and_both_images() -> None:
    outcomes = outcomes_for({HUB_QWEN: ["0.8.5"], "org/a": ["1.0.0"]})
    existing = models(SQUATTER, source="someone-else")
    status = status_of(outcomes, planned(outcomes, existing))
    assert (status["status"], status["discoveredModels"], status["availableModels"]) == ("Degraded", 1, 2)
    degraded, ready = condition(status, "Degraded"), condition(status, "Ready")
    assert (degraded["status"], degraded["reason"]) == ("True", "ModelNameConflict")
    assert (ready["status"], ready["reason"]) == ("False", "ModelNameConflict")
    assert degraded["message"] == (
        f"1 selected image has no model: docker.io/{HUB_QWEN} (model {QWEN_NAME}): "
        f'name "{QWEN_NAME}" is already used by a model of {SQUATTER}'
    )
    hub, other = status["selectors"]
    assert hub["conflicts"] == [
        {"model": QWEN_NAME, "image": f"docker.io/{HUB_QWEN}", "existingImage": SQUATTER}
    ]
    assert (hub["matched"], hub["created"]) == (1, 0)
    assert [k for k in ("conflicts", "refused") if k in other or (k == "refused" and k in hub)] == []


def test_a_conflict_beside_a_failed_selector_is_named_in_the_same_message() -> None:
    outcomes = outcomes_for({HUB_QWEN: ["0.8.5"], "org/gone": NOT_FOUND})
    status = status_of(outcomes, planned(outcomes, models(SQUATTER, source=None)))
    degraded = condition(status, "Degraded")
    assert (status["status"], degraded["reason"]) == ("Degraded", "SomeSelectorsFailed")
    assert degraded["message"].startswith("1 of 2 selectors failed: org/gone (RepositoryNotFound)")
    assert f"is already used by a model of {SQUATTER}" in degraded["message"]


def refused_plan(outcomes: Sequence[SelectorOutcome], refusals: Mapping[str, tuple[str, str]]) -> Plan:
    """The plan after the store refused the creates of some images (image -> (reason, message)),
    as the sync records them."""
    from dataclasses import replace

    from aimsource.domain.planning import refused

    plan = planned(outcomes)
    gone = [refused(c, *refusals[c.image]) for c in plan.to_create if c.image in refusals]
    return replace(
        plan,
        to_create=tuple(c for c in plan.to_create if c.image not in refusals),
        not_created=plan.not_created + tuple(gone),
    )


def test_a_refused_create_degrades_and_the_selector_names_the_model_and_the_apis_reason() -> None:
    outcomes = outcomes_for({"org/a": ["1.0.0", "2.0.0"]})
    message = 'admission webhook "policy.example.com" denied the request: image not allowed'
    plan = refused_plan(outcomes, {"org/a:2.0.0": ("Forbidden", message)})
    status = status_of(outcomes, plan)
    degraded = condition(status, "Degraded")
    assert (status["status"], degraded["reason"], status["discoveredModels"]) == (
        "Degraded",
        "ModelCreateRefused",
        1,
    )
    name = model_name(parse_reference("org/a:2.0.0"))
    assert degraded["message"] == (
        f"1 selected image has no model: docker.io/org/a:2.0.0 (model {name}): refused (Forbidden): {message}"
    )
    [entry] = status["selectors"]
    assert entry["refused"] == [
        {"model": name, "image": "docker.io/org/a:2.0.0", "reason": "Forbidden", "message": message}
    ]
    assert (entry["matched"], entry["created"]) == (2, 1)


def test_listed_conflicts_and_refusals_are_bounded_for_the_whole_source() -> None:
    images = {f"org/m{i}": [f"1.{j}.0" for j in range(15)] for i in range(3)}
    outcomes = outcomes_for(images)
    plan = planned(outcomes)
    long = "head " + "x" * 5000 + " verdict"
    status = status_of(outcomes, refused_plan(outcomes, {c.image: ("Invalid", long) for c in plan.to_create}))
    entries = [e for s in status["selectors"] for e in s.get("refused", [])]
    assert len(entries) == 20
    # The middle is cut: an API server gives its verdict at the end of its message.
    assert all(len(e["message"]) == 256 for e in entries)
    assert all(e["message"].startswith("head x") and e["message"].endswith("x verdict") for e in entries)
    assert all(" ... " in e["message"] for e in entries)
    degraded = condition(status, "Degraded")
    assert degraded["message"].startswith("45 selected images have no model: ")
    assert len(degraded["message"]) == 1024


def test_a_refusal_message_shaped_like_a_credential_is_redacted() -> None:
    outcomes = outcomes_for({"org/a": ["1.0.0"]})
    plan = refused_plan(outcomes, {"org/a:1.0.0": ("Invalid", "bad header Bearer abcdefghijklmnop")})
    status = status_of(outcomes, plan)
    [entry] = status["selectors"][0]["refused"]
    assert entry["message"] == "bad header Bearer ***"
    assert "abcdefghijklmnop" not in str(status)


def test_limit_alone_stays_ready() -> None:
    outcomes = outcomes_for({"org/a": ["1.0.0", "2.0.0"]})
    status = status_of(outcomes, planned(outcomes, max_models=1))
    assert (status["status"], status["modelsLimitReached"]) == ("Ready", True)
    assert {"conflicts", "refused"} & set(status["selectors"][0]) == set()
