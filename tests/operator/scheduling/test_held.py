"""A spec change or sync request held back by the minimum interval is shown in the status at once:
`Progressing`, a `Progressing` condition saying when the listing starts, the old
`observedGeneration` until the sync of the new generation finished."""

from __future__ import annotations

from typing import Any

from aimsource.domain.resources import REQUEST_ANNOTATION
from aimsource.operator.scheduling.held import held_status
from aimsource.operator.scheduling.schedule import Decision
from aimsource.operator.scheduling.sources import parse_time
from tests.operator.reconciler_harness import REPO, SOURCES, Harness, settled

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def _condition(status: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in status.get("conditions") or [] if c["type"] == kind), None)


def test_held_status_keeps_the_last_sync_and_says_when_the_listing_starts() -> None:
    before = {
        "status": "Ready",
        "observedGeneration": 1,
        "lastSyncTime": "2027-01-15T07:59:50Z",
        "conditions": [{"type": "Ready", "status": "True", "reason": "AllSelectorsSucceeded"}],
    }
    decision = Decision(T0 + 20, "sync requested, held by minimum interval")
    status = held_status(before, generation=1, decision=decision, now=T0, min_interval=30.0)
    assert status["status"] == "Progressing"
    assert (status["observedGeneration"], status["lastSyncTime"]) == (1, "2027-01-15T07:59:50Z")
    held = _condition(status, "Progressing")
    assert held is not None
    assert (held["status"], held["reason"], held["lastTransitionTime"]) == (
        "True",
        "MinimumInterval",
        "2027-01-15T08:00:00Z",
    )
    assert held["message"] == (
        "Sync requested; the listing starts at 2027-01-15T08:00:20Z, 20s from now: "
        "two listings of one source are at least 30s apart"
    )
    assert _condition(status, "Ready") == before["conditions"][0]
    again = held_status(status, generation=1, decision=decision, now=T0 + 1, min_interval=30.0)
    assert [c["type"] for c in again["conditions"]] == ["Ready", "Progressing"]  # replaced, not added


async def _request_sync(harness: Harness, value: str) -> None:
    harness.api.patch(SOURCES, "src", {"metadata": {"annotations": {REQUEST_ANNOTATION: value}}})
    harness.watch()


async def test_a_request_right_after_a_sync_is_shown_at_once_and_runs_when_the_interval_ends(
    harness: Harness,
) -> None:
    synced = await settled(harness, {"images": [REPO], "syncInterval": "1h"})
    listed_at = parse_time(synced["lastSyncTime"])
    assert listed_at is not None
    listings = harness.lister.count("list")
    harness.clock.now += 5
    await _request_sync(harness, "2027-01-15T08:01:05Z")
    assert harness.reconciler.queue.due("src") == harness.clock.now  # taken at once, to be shown
    await harness.reconciler.sync_one("src")
    status = harness.api.get(SOURCES, "src")["status"]
    assert status["status"] == "Progressing"
    assert status["observedGeneration"] == synced["observedGeneration"]
    held = _condition(status, "Progressing")
    assert held is not None
    assert held["reason"] == "MinimumInterval"
    assert "25s from now" in held["message"]
    assert harness.lister.count("list") == listings  # shown, not listed
    harness.watch()  # our own write comes back through the watch: shown once, not again
    harness.reconciler._reschedule(harness.reconciler.table["src"])
    assert "src" not in harness.reconciler.notices
    assert harness.reconciler.queue.due("src") == listed_at + 30
    harness.clock.now = listed_at + 30
    await harness.reconciler.sync_one("src")
    status = harness.api.get(SOURCES, "src")["status"]
    assert status["status"] == "Ready"
    assert _condition(status, "Progressing") is None
    assert harness.lister.count("list") == listings + 1


async def test_a_spec_change_is_not_held_by_the_minimum_interval(harness: Harness) -> None:
    await settled(harness, {"images": [REPO], "syncInterval": "1h"})
    harness.clock.now += 10  # well inside the 30 s minimum interval
    harness.api.patch(SOURCES, "src", {"spec": {"images": [f"{REPO}:1.0.0"]}})
    harness.watch()
    assert harness.reconciler.why["src"] == "spec changed"
    assert harness.reconciler.queue.due("src") == harness.clock.now
    assert "src" not in harness.reconciler.notices
    await harness.reconciler.sync_one("src")
    status = harness.api.get(SOURCES, "src")["status"]
    assert (status["status"], status["observedGeneration"]) == ("Ready", 2)


async def test_a_spec_change_within_the_floor_is_shown_with_the_old_generation(harness: Harness) -> None:
    await settled(harness, {"images": [REPO], "syncInterval": "1h"})
    harness.clock.now += 1
    harness.api.patch(SOURCES, "src", {"spec": {"images": [f"{REPO}:1.0.0"]}})
    harness.watch()
    await harness.reconciler.sync_one("src")
    status = harness.api.get(SOURCES, "src")["status"]
    held = _condition(status, "Progressing")
    assert held is not None
    assert (status["status"], status["observedGeneration"], held["observedGeneration"]) == (
        "Progressing",
        1,
        2,
    )
    assert "Spec changed; the listing starts" in held["message"]
    assert "4s from now" in held["message"]
    harness.clock.now += 4
    await harness.reconciler.sync_one("src")
    status = harness.api.get(SOURCES, "src")["status"]
    assert (status["status"], status["observedGeneration"]) == ("Ready", 2)
    assert _condition(status, "Progressing") is None
