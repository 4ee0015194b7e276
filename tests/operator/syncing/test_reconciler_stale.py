"""A registry that rate-limits after a good listing: the source is Degraded (StaleListing), not
Failed, keeps its models, and says how old the listing it used is. Against the emulated API server,
as in test_reconciler.py, with the operator's caching lister around the registry double."""

from __future__ import annotations

from aimsource.registry.errors import AuthenticationFailed, RateLimited
from aimsource.sync.listing_cache import CachingTagLister
from tests.operator.reconciler_harness import MODELS, REPO, SOURCES, Harness, new_source


def with_cache(h: Harness, max_age: float = 24 * 3600) -> CachingTagLister:
    cache = CachingTagLister(h.lister, max_age=max_age, clock=h.clock, observer=h.metrics)
    h.reconciler._lister = cache
    return cache


def sample(h: Harness, name: str) -> float | None:
    return h.metrics.registry.get_sample_value(name)


async def test_a_rate_limited_listing_uses_the_last_good_one_and_degrades(harness: Harness) -> None:
    with_cache(harness)
    new_source(harness.api, {"images": [REPO], "maxModels": 1})
    harness.watch()
    await harness.sync()
    listed_at = harness.api.get(SOURCES, "src")["status"]["lastSyncTime"]
    assert sample(harness, "aimsource_listing_cache_entries") == 1
    assert sample(harness, "aimsource_listing_cache_tags") == 2

    harness.lister.errors[REPO] = RateLimited("rate limited by reg.example.com; retry after 3600 s")
    for _ in range(2):
        harness.watch()
        await harness.sync()
    status = harness.api.get(SOURCES, "src")["status"]
    assert status["status"] == "Degraded"
    selector = status["selectors"][0]
    assert (selector["stale"], selector["listedAt"], selector["tagsListed"]) == (True, listed_at, 2)
    assert "error" not in selector
    degraded = next(c for c in status["conditions"] if c["type"] == "Degraded")
    assert (degraded["status"], degraded["reason"]) == ("True", "StaleListing")
    assert f"listed at {listed_at}" in degraded["message"]
    assert "RateLimited" in degraded["message"]
    # The capped image is still capped from the cached listing: the decisions are made as usual.
    assert status["modelsLimitReached"] is True
    assert len(harness.api.list(MODELS)) == 1
    # One Warning on the change into Degraded, not one per sync.
    assert harness.events() == [("Normal", "ModelsCreated"), ("Warning", "SyncDegraded")]
    assert (
        harness.metrics.registry.get_sample_value(
            "aimsource_stale_listings_total", {"host": "reg.example.com"}
        )
        == 2
    )

    del harness.lister.errors[REPO]  # the registry answers again: fresh, Ready, no stale fields
    harness.watch()
    await harness.sync()
    status = harness.api.get(SOURCES, "src")["status"]
    assert status["status"] == "Ready"
    assert "stale" not in status["selectors"][0]
    assert "listedAt" not in status["selectors"][0]


async def test_without_a_recent_listing_or_on_auth_failure_the_source_fails(harness: Harness) -> None:
    cache = with_cache(harness, max_age=600)
    new_source(harness.api, {"images": [REPO]})
    harness.watch()
    await harness.sync()
    harness.lister.errors[REPO] = AuthenticationFailed("authentication failed for reg.example.com: HTTP 401")
    harness.watch()
    await harness.sync()
    status = harness.api.get(SOURCES, "src")["status"]
    assert status["status"] == "Failed"
    assert status["selectors"][0]["error"]["reason"] == "AuthenticationFailed"
    assert cache.entries == 1  # kept, but not for an authentication failure

    harness.clock.now += 600  # older than the max age (each sync also moves the clock)
    harness.lister.errors[REPO] = RateLimited("rate limited by reg.example.com")
    harness.watch()
    await harness.sync()
    status = harness.api.get(SOURCES, "src")["status"]
    assert status["status"] == "Failed"
    assert status["selectors"][0]["error"]["reason"] == "RateLimited"
    assert cache.entries == 0
