"""The source table: a source being deleted is not scheduled, and a re-list drops what went away
(`operator/state/source_table.py`; emulated API, real HTTP)."""

from __future__ import annotations

from tests.operator.reconciler_harness import MODELS, SOURCES, Harness, new_source


async def test_a_source_being_deleted_is_not_synced(h: Harness) -> None:
    new_source(h.api)
    h.api.patch(SOURCES, "src", {"metadata": {"finalizers": ["example.com/hold"]}})
    h.api.delete(SOURCES, "src")  # foreground-style: held by a finalizer, deletionTimestamp set
    body = h.api.get(SOURCES, "src")
    assert body["metadata"].get("deletionTimestamp")
    h.reconciler.on_source_event("MODIFIED", body)
    assert "src" not in h.reconciler.queue
    await h.sync()
    assert h.lister.calls == []
    assert h.api.count("create", MODELS) == 0
    assert h.status_writes() == []


async def test_a_relist_drops_sources_it_does_not_show_and_keeps_those_events_touched(h: Harness) -> None:
    new_source(h.api)
    h.watch()
    reconciler = h.reconciler
    reconciler.begin_source_listing()
    reconciler.on_source_event(
        "ADDED", {"metadata": {"name": "fresh", "uid": "u-1"}, "spec": {"images": ["reg.example.com/org/x"]}}
    )
    dropped = reconciler.finish_source_listing({})  # the LIST shows neither
    assert dropped == 1
    assert set(reconciler.table) == {"fresh"}  # an event during the LIST wins over it
