"""The per-selector entries of the status: `domain/status/selectors.py`, through `build_status`."""

from __future__ import annotations

from typing import Any

from aimsource.domain.selection.selectors import SelectorOutcome
from aimsource.domain.spec.source import FilterSpec, SourceSpec
from aimsource.domain.status.build import build_status, format_time, status_changed
from tests.domain.status.builders import T0, T1, UNREACHABLE, models, outcomes_for, planned, status_of


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
