"""A paused source in the reconciler (`aim.eai.amd.com/reconciliation-paused: "true"`): nothing listed,
nothing created, the status shows it once; removing the annotation syncs at once."""

from __future__ import annotations

from tests.operator.reconciler_harness import MODELS, REPO, SOURCES, Harness, new_source, pushed, settled

PAUSED = "aim.eai.amd.com/reconciliation-paused"


def annotate(harness: Harness, value: str | None) -> None:
    harness.api.patch(SOURCES, "src", {"metadata": {"annotations": {PAUSED: value}}})
    harness.watch()


def paused_condition(harness: Harness) -> dict | None:
    status = harness.api.get(SOURCES, "src").get("status") or {}
    return next((c for c in status.get("conditions") or [] if c["type"] == "Paused"), None)


async def test_a_source_created_paused_lists_nothing_and_shows_pending_and_paused(harness: Harness) -> None:
    new_source(harness.api)
    annotate(harness, "true")
    assert harness.reconciler.queue.due("src") == harness.clock.now  # taken once, to show it

    await harness.sync()
    harness.watch()

    assert harness.lister.calls == []
    assert harness.api.list(MODELS) == []
    status = harness.api.get(SOURCES, "src")["status"]
    assert status["status"] == "Pending"
    assert "observedGeneration" not in status
    condition = paused_condition(harness)
    assert condition is not None
    assert (condition["status"], condition["reason"]) == ("True", "ReconciliationPaused")
    assert "kubectl annotate aimclsrc src aim.eai.amd.com/reconciliation-paused-" in condition["message"]
    assert harness.status_writes() == ["patch"]  # one patch
    assert harness.reconciler.queue.due("src") is None  # nothing more until the annotation goes
    assert harness.metrics.registry.get_sample_value("aimsource_source_paused", {"source": "src"}) == 1


async def test_watch_events_of_a_paused_source_write_nothing(harness: Harness) -> None:
    await settled(harness)
    calls = len(harness.lister.calls)
    annotate(harness, "true")
    await harness.sync()
    harness.watch()
    for generation_change in ({"syncInterval": "2h"}, {"maxModels": 3}):
        harness.api.patch(SOURCES, "src", {"spec": generation_change})
        harness.watch()
        assert harness.reconciler.queue.due("src") is None
    harness.api.reset_requests()
    await harness.reconciler.sync_one("src")  # even if taken: nothing to write
    assert harness.status_writes() == []
    assert len(harness.lister.calls) == calls


async def test_a_pause_keeps_the_last_sync_outcome_and_a_spec_change_waits(harness: Harness) -> None:
    before = await settled(harness, {"images": [REPO], "maxModels": 10})
    calls = len(harness.lister.calls)
    annotate(harness, "true")
    harness.api.patch(SOURCES, "src", {"spec": {"maxModels": 1}})
    harness.watch()
    await harness.sync()
    harness.watch()

    status = harness.api.get(SOURCES, "src")["status"]
    assert status["status"] == "Ready"  # the last sync's outcome, not a fake one
    assert status["observedGeneration"] == before["observedGeneration"]  # the edit is not synced
    assert harness.api.get(SOURCES, "src")["metadata"]["generation"] > status["observedGeneration"]
    assert {c["type"] for c in status["conditions"]} == {
        "Ready",
        "Degraded",
        "MaxModelsLimitReached",
        "Paused",
    }
    assert len(harness.lister.calls) == calls
    assert len(harness.api.list(MODELS)) == 2  # untouched


async def test_removing_the_annotation_syncs_at_once_and_drops_the_condition(harness: Harness) -> None:
    new_source(harness.api)
    annotate(harness, "true")
    await harness.sync()
    harness.watch()
    assert harness.api.list(MODELS) == []

    annotate(harness, None)
    assert harness.reconciler.queue.due("src") == harness.clock.now
    assert harness.reconciler.why["src"] == "resumed"
    await harness.reconciler.sync_one("src")
    harness.watch()

    assert len(harness.api.list(MODELS)) == 2
    status = harness.api.get(SOURCES, "src")["status"]
    assert status["status"] == "Ready"
    assert paused_condition(harness) is None
    assert harness.metrics.registry.get_sample_value("aimsource_source_paused", {"source": "src"}) == 0


async def test_a_resume_soon_after_a_listing_waits_only_the_spec_change_floor(harness: Harness) -> None:
    await settled(harness)
    listed = harness.reconciler.table["src"].state.last_attempt
    annotate(harness, "true")
    await harness.reconciler.sync_one("src")  # the pause shown, at once
    harness.watch()
    annotate(harness, None)
    assert harness.reconciler.queue.due("src") == listed + 5.0  # not the 30 s minimum interval


async def test_other_values_do_not_pause(harness: Harness) -> None:
    new_source(harness.api)
    annotate(harness, "True")
    assert harness.reconciler.why["src"] == "created"
    await harness.sync()
    assert len(harness.api.list(MODELS)) == 2
    assert paused_condition(harness) is None


async def test_a_push_to_a_paused_source_is_ignored(harness: Harness) -> None:
    await settled(harness, {"images": [REPO], "maxModels": 10})
    annotate(harness, "true")
    await harness.sync()
    harness.watch()
    harness.lister.tags[REPO].append("1.2.0")
    harness.lister.calls.clear()

    assert harness.reconciler.on_pushes([pushed("1.2.0")]) == 0
    assert harness.reconciler.queue.due("src") is None
    assert harness.reconciler.pending == {}
    await harness.reconciler.sync_one("src")
    assert harness.lister.calls == []
    assert len(harness.api.list(MODELS)) == 2


async def test_pushes_waiting_when_the_pause_comes_are_dropped(harness: Harness) -> None:
    await settled(harness, {"images": [REPO], "maxModels": 10})
    harness.lister.tags[REPO].append("1.2.0")
    harness.reconciler.on_pushes([pushed("1.2.0")])
    annotate(harness, "true")
    harness.lister.calls.clear()
    await harness.reconciler.sync_one("src")
    assert harness.lister.calls == []
    assert harness.reconciler.pending == {}
    assert len(harness.api.list(MODELS)) == 2
