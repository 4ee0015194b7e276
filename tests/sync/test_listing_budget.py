"""One memory bound per sync and per process for the tags listings hold, and one listing per
repository within a sync: the engine over the recording registry double."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aimsource.domain.references import ImageRef
from aimsource.registry.auth.credentials import Credential
from aimsource.registry.client import TagListing
from aimsource.sync.engine import sync_source
from aimsource.sync.listing_budget import ListingBudget, TagBudget
from tests.sync.doubles import MemoryStore, RecordingLister

REGISTRY = "reg.example.com"


class NoSecrets:
    async def read(self, name: str, *, source: str) -> bytes:
        raise AssertionError("no secret is read")


class SlowLister(RecordingLister):
    """Listings that take a while, recording how many run at once."""

    running: int = 0
    most: int = 0

    async def list_tags(
        self, ref: ImageRef, *, credential: Credential | None, credentials: object = None
    ) -> TagListing:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(0.02)
            return await super().list_tags(ref, credential=credential)
        finally:
            self.running -= 1


def source(name: str, images: list[str], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": name, "generation": 1},
        "spec": {"images": images, "maxModels": 10000, **spec},
    }


def repositories(count: int, tags: int) -> dict[str, list[str]]:
    return {f"{REGISTRY}/org/r{i}": [f"1.{i}.{t}" for t in range(tags)] for i in range(count)}


async def sync(body: dict[str, Any], lister: RecordingLister, budget: ListingBudget) -> Any:
    return await sync_source(
        body, lister=lister, store=MemoryStore(), secrets=NoSecrets(), now=None, previous=None, budget=budget
    )


async def test_five_filters_on_one_repository_cost_one_listing() -> None:
    lister = RecordingLister(tags={f"{REGISTRY}/org/model": ["1.0.0", "1.1.0", "2.0.0"]})
    image = f"{REGISTRY}/org/model"
    body = source("s", [])
    del body["spec"]["images"]
    body["spec"]["filters"] = [{"image": image, "versions": [f">={i}.0.0"]} for i in range(5)]
    result = await sync(body, lister, ListingBudget())
    assert lister.count("list") == 1
    assert [entry.get("tagsListed") for entry in result.status["selectors"]] == [3] * 5


async def test_a_sync_holds_at_most_its_budget_and_lists_nothing_past_it() -> None:
    lister = SlowLister(tags=repositories(10, 300))
    body = source("s", list(lister.tags))
    result = await sync(body, lister, ListingBudget(max_tags=300, per_sync=1000))
    listed = [e["tagsListed"] for e in result.status["selectors"]]
    assert sum(listed) == 1000  # 300 + 300 + 300 + 100 (cut), then nothing
    assert sorted(listed, reverse=True)[:4] == [300, 300, 300, 100]
    assert lister.count("list") == 4
    assert lister.most <= 1000 // 300  # never more listings at once than the budget holds whole
    truncated = [e.get("truncated", False) for e in result.status["selectors"]]
    assert truncated.count(True) == 7


async def test_past_the_process_budget_a_sync_waits_and_then_lists() -> None:
    process = TagBudget(600)
    lister = SlowLister(tags=repositories(4, 100))
    budget = ListingBudget(max_tags=300, per_sync=600, process=process)
    first = source("a", [f"{REGISTRY}/org/r0", f"{REGISTRY}/org/r1"])
    second = source("b", [f"{REGISTRY}/org/r2", f"{REGISTRY}/org/r3"])
    results = await asyncio.gather(sync(first, lister, budget), sync(second, lister, budget))
    assert [r.status["status"] for r in results] == ["Ready", "Ready"]  # the second waited, did not fail
    assert [e["tagsListed"] for r in results for e in r.status["selectors"]] == [100] * 4
    assert lister.most <= 2  # one sync's reservation (600) at a time
    assert process.free == 600  # everything given back


async def test_a_sync_gives_back_what_it_did_not_keep_once_its_listings_are_done() -> None:
    process = TagBudget(1000)
    lister = RecordingLister(tags=repositories(1, 10))
    budget = ListingBudget(max_tags=300, per_sync=1000, process=process)
    listings = budget.for_sync(lister)
    async with listings.session({f"{REGISTRY}/org/r0"}):
        assert process.free == 700
        await listings.list_tags(ImageRef(REGISTRY, "org/r0"), credential=None)
        assert process.free == 990  # only the 10 tags it keeps
    assert process.free == 1000


async def test_a_cancelled_waiter_leaves_the_budget_whole() -> None:
    process = TagBudget(100)
    assert await process.reserve(100) == 100
    waiter = asyncio.ensure_future(process.reserve(50))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    process.give_back(100)
    assert process.free == 100
    assert await process.reserve(80) == 80


async def test_a_wildcards_small_repositories_list_at_the_hosts_pace_and_a_big_one_is_listed_again() -> None:
    tags = repositories(40, 5)
    tags[f"{REGISTRY}/org/zbig"] = [f"2.0.{t}" for t in range(9000)]
    budget = ListingBudget(max_tags=10_000, per_sync=20_000)
    wildcard = SlowLister(tags=tags)
    body = source("wild", [], filters=[{"image": f"{REGISTRY}/org/*"}])
    del body["spec"]["images"]

    result = await sync(body, wildcard, budget)

    entry = result.status["selectors"][0]
    assert (entry["tagsListed"], entry["truncated"]) == (40 * 5 + 9000, False)
    assert wildcard.most == 4  # parts of the budget: the host's concurrency, not one or two at a time
    # 41 repositories, and `zbig` once more: its part (under 9,000 tags) cut it, a whole share did not.
    assert wildcard.count("list") == 42
    exact = SlowLister(tags=repositories(40, 5))
    await sync(source("exact", [f"{REGISTRY}/org/r{i}" for i in range(40)]), exact, budget)
    assert exact.most == 2  # exact filters: whole shares only, as the budget allows
