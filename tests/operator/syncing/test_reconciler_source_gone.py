"""A sync whose source is deleted, or deleted and recreated under the same name, while it runs:
its result is dropped (no status onto the new object, no events, no failure counted), the worker
goes on, and the new object gets its own sync. Against the emulated API server, as in
test_reconciler.py."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.operator.reconciler_harness import SOURCES, Harness, new_source


def replace_source_during_listing(h: Harness, *, recreate: bool) -> list[str]:
    """Make the registry listing delete (and maybe recreate) the source; returns the new uids."""
    original = h.lister.list_tags
    uids: list[str] = []

    async def listing(*args: Any, **kwargs: Any) -> Any:
        if not uids and h.api.find(SOURCES, "src") is not None:
            h.api.delete(SOURCES, "src")
            if recreate:
                new_source(h.api)
                uids.append(h.api.get(SOURCES, "src")["metadata"]["uid"])
            else:
                uids.append("")
        return await original(*args, **kwargs)

    h.lister.list_tags = listing  # type: ignore[method-assign]
    return uids


async def test_a_recreated_source_never_gets_the_stale_sync_result(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    new_source(harness.api)
    old_uid = harness.api.get(SOURCES, "src")["metadata"]["uid"]
    harness.watch()
    uids = replace_source_during_listing(harness, recreate=True)

    with caplog.at_level(logging.INFO, logger="aimsource.operator"):
        await harness.sync()

    [new_uid] = uids
    assert new_uid != old_uid
    assert "status" not in harness.api.get(SOURCES, "src")  # the old sync wrote nothing onto it
    assert harness.events() == []
    assert "source gone during the sync: result dropped" in caplog.text
    assert "src" not in harness.reconciler.table  # it held the gone object; the watch brings the new one
    assert 'result="Error"' not in harness.metrics.render()[0].decode()

    harness.watch()  # the new object, as the watch delivers it
    await harness.sync()
    assert harness.api.get(SOURCES, "src")["status"]["status"] == "Ready"


async def test_a_source_deleted_during_its_sync_is_dropped_without_a_failure(harness: Harness) -> None:
    new_source(harness.api)
    harness.watch()
    replace_source_during_listing(harness, recreate=False)
    await harness.sync()
    assert harness.api.find(SOURCES, "src") is None
    assert harness.events() == []
    assert "src" not in harness.reconciler.table
    assert "src" not in harness.reconciler.queue


async def test_a_newer_object_already_in_the_table_stays_scheduled(harness: Harness) -> None:
    new_source(harness.api)
    harness.watch()
    entry = harness.reconciler.table["src"]
    replace_source_during_listing(harness, recreate=True)
    original = harness.lister.list_tags

    async def listing_then_watch(*args: Any, **kwargs: Any) -> Any:
        result = await original(*args, **kwargs)
        harness.reconciler.on_source_event("DELETED", entry.body)  # the watch catches up mid-sync
        harness.reconciler.on_source_event("ADDED", harness.api.get(SOURCES, "src"))
        return result

    harness.lister.list_tags = listing_then_watch  # type: ignore[method-assign]
    await harness.sync()
    assert "status" not in harness.api.get(SOURCES, "src")
    newer = harness.reconciler.table["src"]
    assert newer is not entry
    assert newer.body["metadata"]["uid"] == harness.api.get(SOURCES, "src")["metadata"]["uid"]
