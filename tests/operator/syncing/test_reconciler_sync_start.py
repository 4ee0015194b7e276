"""A sync starts with a GET of its source: a deletion or a re-creation the watch missed is seen there
(emulated API, real HTTP). Re-lists and sources being deleted, in the table: test_source_table.py."""

from __future__ import annotations

from tests.operator.reconciler_harness import MODELS, SOURCES, Harness, new_source


async def test_a_source_deleted_behind_the_watch_is_dropped_by_its_sync(h: Harness) -> None:
    new_source(h.api)
    h.watch()
    h.api.delete(SOURCES, "src")  # the watch never says so (a missed DELETED)
    await h.sync()
    assert "src" not in h.reconciler.table
    assert "src" not in h.reconciler.queue
    assert h.lister.calls == []
    assert h.api.count("create", MODELS) == 0
    assert h.status_writes() == []


async def test_a_source_recreated_behind_the_watch_is_taken_as_new(h: Harness) -> None:
    new_source(h.api)
    h.watch()
    old_uid = h.reconciler.table["src"].body["metadata"]["uid"]
    h.api.delete(SOURCES, "src")
    new_source(h.api)
    await h.sync()
    entry = h.reconciler.table["src"]
    assert entry.body["metadata"]["uid"] != old_uid
    assert h.status_writes() == []  # nothing written for the old object
    await h.sync()  # the new object syncs on its own
    assert h.api.get(SOURCES, "src")["status"]["status"] == "Ready"


async def test_the_get_at_sync_start_sees_a_deletion_the_watch_has_not_delivered(h: Harness) -> None:
    new_source(h.api)
    h.watch()
    h.api.patch(SOURCES, "src", {"metadata": {"finalizers": ["example.com/hold"]}})
    h.api.delete(SOURCES, "src")
    await h.sync()
    assert h.lister.calls == []
    assert h.status_writes() == []
