"""Push events on the watch side: routed to the sources that cover their repository, queued, or turned
into a full sync that the minimum interval still holds (`operator/state/source_table.py`,
`operator/webhook/routes.py`)."""

from __future__ import annotations

from tests.operator.reconciler_harness import SOURCES, Harness, pushed, settled


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


async def test_a_deleted_source_forgets_its_routes_and_pushes(harness: Harness) -> None:
    await settled(harness)
    harness.reconciler.on_pushes([pushed("1.2.0")])
    harness.reconciler.on_source_event("DELETED", harness.api.get(SOURCES, "src"))
    assert harness.reconciler.on_pushes([pushed("1.3.0")]) == 0
    assert "src" not in harness.reconciler.pending
