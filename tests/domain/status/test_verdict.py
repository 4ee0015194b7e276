"""The status value (Ready, Degraded, Failed), its reason and what is wrong: `domain/status/verdict.py`,
through `build_status`."""

from __future__ import annotations

import pytest

from aimsource.domain.naming import model_name
from aimsource.domain.references import parse_reference
from aimsource.domain.spec.source import FilterSpec, Problem, SourceSpec
from aimsource.domain.times import format_time
from tests.domain.status.builders import (
    NOT_FOUND,
    T1,
    UNREACHABLE,
    condition,
    models,
    outcomes_for,
    planned,
    refused_plan,
    status_of,
)


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


def test_limit_alone_stays_ready() -> None:
    outcomes = outcomes_for({"org/a": ["1.0.0", "2.0.0"]})
    status = status_of(outcomes, planned(outcomes, max_models=1))
    assert (status["status"], status["modelsLimitReached"]) == ("Ready", True)
    assert {"conflicts", "refused"} & set(status["selectors"][0]) == set()
