"""Discovered and available models and the `maxModels` cap: `domain/status/counters.py`, through
`build_status`."""

from __future__ import annotations

from tests.domain.status.builders import condition, models, outcomes_for, planned, status_of


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
