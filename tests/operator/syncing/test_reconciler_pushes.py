"""Push events in the reconciler: a pushed tag synced incrementally by a worker, or, when it cannot be
decided alone, a full sync. Their routing and queueing (the watch side) are in test_source_table_pushes.py."""

from __future__ import annotations

from typing import Any

from aimsource.domain.references import ImageRef
from aimsource.registry.client import TagListing
from aimsource.registry.http.fairness import asker
from tests.operator.reconciler_harness import MODELS, REPO, SOURCES, Harness, pushed, settled


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


async def test_a_pushs_head_asks_as_its_source_in_the_hosts_fair_share(harness: Harness) -> None:
    """The fair share (`registry.http.fairness`) serves parties in turn: a push HEAD of no party
    would be a second share of the host for its source, beside its full syncs."""
    parties: list[tuple[str, str]] = []
    head = harness.lister.manifest_digest
    listing = harness.lister.list_tags

    async def asking_head(ref: ImageRef, **kwargs: Any) -> str | None:
        parties.append(("head", asker()[0]))
        return await head(ref, **kwargs)

    async def asking_listing(ref: ImageRef, **kwargs: Any) -> TagListing:
        parties.append(("list", asker()[0]))
        return await listing(ref, **kwargs)

    harness.lister.manifest_digest = asking_head  # type: ignore[method-assign]
    harness.lister.list_tags = asking_listing  # type: ignore[method-assign]
    await settled(harness, {"images": [REPO], "maxModels": 10})
    harness.lister.tags[REPO].append("1.2.0")
    parties.clear()
    harness.reconciler.on_pushes([pushed("1.2.0")])
    await harness.reconciler.sync_one("src")
    assert len(harness.api.list(MODELS)) == 3
    assert parties == [("head", "src")]  # not ANONYMOUS: the same party as the full sync's

    harness.lister.tags[REPO].append("1.3.0")
    await harness.sync()  # a full sync, for comparison
    assert {party for _, party in parties[1:]} == {"src"}
