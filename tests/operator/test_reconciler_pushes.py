"""Push events in the reconciler: routed to covering sources, synced incrementally by a worker,
or turned into a full sync that the minimum interval still holds."""

from __future__ import annotations

from aimsource.domain.push_payloads import Push
from tests.operator.reconciler_harness import MODELS, REPO, SOURCES, Harness, new_source

REGISTRY, _, REPOSITORY = REPO.partition("/")


def pushed(tag: str | None, repository: str = REPOSITORY) -> Push:
    return Push(REGISTRY, repository, tag)


async def settled(harness: Harness, spec: dict | None = None) -> dict:
    new_source(harness.api, spec)
    harness.watch()
    await harness.sync()
    harness.watch()
    status = harness.api.get(SOURCES, "src")["status"]
    assert status["status"] == "Ready"
    return status


async def test_a_pushed_tag_becomes_a_model_with_one_head_and_no_listing(harness: Harness) -> None:
    before = await settled(harness, {"images": [REPO], "maxModels": 10})
    harness.lister.tags[REPO].append("1.2.0")
    harness.lister.calls.clear()

    assert harness.reconciler.on_pushes([pushed("1.2.0")]) == 1
    assert harness.reconciler.queue.due("src") == harness.clock.now  # not held by the minimum interval
    harness.api.reset_requests()
    await harness.reconciler.sync_one("src")

    assert [c[0] for c in harness.lister.calls] == ["head"]
    assert len(harness.api.list(MODELS)) == 3
    after = harness.api.get(SOURCES, "src")["status"]
    assert (after["availableModels"], after["discoveredModels"]) == (3, 3)
    assert after["lastSyncTime"] == before["lastSyncTime"]  # the scheduled sync keeps its time
    assert harness.events() == [("Normal", "ModelsCreated")] * 2
    assert harness.metrics.registry.get_sample_value("aimsource_push_syncs_total", {"result": "created"}) == 1


async def test_a_push_to_a_repository_no_source_covers_schedules_nothing(harness: Harness) -> None:
    await settled(harness)
    due = harness.reconciler.queue.due("src")
    assert harness.reconciler.on_pushes([pushed("1.2.0", "org/other")]) == 0
    assert harness.reconciler.queue.due("src") == due
    assert "src" not in harness.reconciler.pending


async def test_a_push_without_a_tag_asks_for_a_full_sync_held_by_the_minimum_interval(
    harness: Harness,
) -> None:
    await settled(harness)
    last_attempt = harness.reconciler.table["src"].state.last_attempt
    assert last_attempt is not None
    assert harness.reconciler.on_pushes([pushed(None)]) == 1
    assert harness.reconciler.why["src"] == "push event, held by minimum interval"
    assert harness.reconciler.queue.due("src") == last_attempt + 30.0


async def test_a_push_that_cannot_be_decided_alone_ends_in_a_full_sync(harness: Harness) -> None:
    await settled(harness, {"images": [REPO], "maxModels": 3})  # the push would take the last slot
    harness.lister.tags[REPO].append("1.2.0")
    harness.lister.calls.clear()
    harness.reconciler.on_pushes([pushed("1.2.0")])
    await harness.reconciler.sync_one("src")
    assert harness.lister.calls == []
    assert harness.reconciler.table["src"].state.push_requested
    assert harness.metrics.registry.get_sample_value("aimsource_push_syncs_total", {"result": "full"}) == 1

    await harness.sync()  # the full sync, a minute later
    assert [c[0] for c in harness.lister.calls][:1] == ["list"]
    assert not harness.reconciler.table["src"].state.push_requested
    assert len(harness.api.list(MODELS)) == 3


async def test_a_deleted_source_forgets_its_routes_and_pushes(harness: Harness) -> None:
    await settled(harness)
    harness.reconciler.on_pushes([pushed("1.2.0")])
    harness.reconciler.on_source_event("DELETED", harness.api.get(SOURCES, "src"))
    assert harness.reconciler.on_pushes([pushed("1.3.0")]) == 0
    assert "src" not in harness.reconciler.pending
