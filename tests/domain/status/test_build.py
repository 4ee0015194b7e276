"""The source's status after a sync as a whole: `build_status`'s times, `status_changed`, `initial_status`.

Each part of the status has its own file: `test_status_verdict.py`, `test_status_counters.py`,
`test_status_conditions.py`, `test_status_selectors.py`, `test_status_text.py`.
"""

from __future__ import annotations

from aimsource.domain.status.build import format_time, initial_status, status_changed
from tests.domain.status.builders import NOT_FOUND, T0, T1, UNREACHABLE, outcomes_for, planned, status_of


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
