"""The operator's last good listing per repository: served for 429/5xx/timeouts, bounded, LRU."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aimsource.domain.references import ImageRef
from aimsource.registry.auth.credentials import Credential
from aimsource.registry.client import TagListing
from aimsource.registry.errors import (
    AuthenticationFailed,
    BadResponse,
    RateLimited,
    RegistryError,
    RepositoryNotFound,
    TLSFailure,
    Unreachable,
)
from aimsource.sync.listing_cache import CachingTagLister
from tests.sync.doubles import RecordingLister

REPO = "reg.example.com/org/model"
REF = ImageRef("reg.example.com", "org/model")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Sizes:
    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []
        self.served: list[str] = []

    def listing_cache_size(self, entries: int, tags: int) -> None:
        self.sizes.append((entries, tags))

    def stale_listing_served(self, registry: str) -> None:
        self.served.append(registry)


def make(**kwargs: object) -> tuple[CachingTagLister, RecordingLister, Clock]:
    inner = RecordingLister(tags={REPO: ["1.0.0", "1.1.0"]})
    clock = Clock()
    return CachingTagLister(inner, clock=clock, **kwargs), inner, clock  # type: ignore[arg-type]


def unreachable_after_5xx() -> Unreachable:
    error = Unreachable("unreachable: reg.example.com: HTTP 503 Service Unavailable after 5 attempts")
    error.answered = True
    return error


@pytest.mark.parametrize(
    "error",
    [
        RateLimited("rate limited by reg.example.com; retry after 3600 s", retry_after=3600),
        unreachable_after_5xx(),
        Unreachable("unreachable: reg.example.com: timed out waiting for an answer"),
        Unreachable("unreachable: reg.example.com: host name does not resolve"),
    ],
    ids=["429", "5xx", "timeout", "unreachable"],
)
async def test_a_passing_failure_is_answered_with_the_last_listing_marked_stale(error: RegistryError) -> None:
    observer = Sizes()
    cache, inner, clock = make(observer=observer)
    fresh = await cache.list_tags(REF, credential=None)
    assert fresh.stale is None
    listed_at = datetime.fromtimestamp(clock.now, tz=UTC)
    clock.now += 3 * 3600
    inner.errors[REPO] = error
    stale = await cache.list_tags(REF, credential=None)
    assert stale.tags == fresh.tags
    assert stale.stale is not None
    assert stale.stale.listed_at == listed_at
    assert (stale.stale.reason, stale.stale.message) == (error.reason, str(error))
    assert stale.stale.answered == error.answered
    assert observer.served == ["reg.example.com"]


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationFailed("authentication failed for reg.example.com/org/model: HTTP 401"),
        RepositoryNotFound("repository not found: reg.example.com/org/model"),
        TLSFailure("TLS verification failed for reg.example.com: self-signed certificate"),
        BadResponse("bad response from reg.example.com for org/model: the tag list is not valid JSON"),
    ],
    ids=["auth", "404", "tls", "bad-response"],
)
async def test_refusals_that_waiting_does_not_fix_are_never_papered_over(error: RegistryError) -> None:
    cache, inner, _ = make()
    await cache.list_tags(REF, credential=None)
    inner.errors[REPO] = error
    with pytest.raises(type(error)):
        await cache.list_tags(REF, credential=None)


async def test_a_listing_older_than_the_max_age_is_not_used_and_is_dropped() -> None:
    cache, inner, clock = make(max_age=3600)
    await cache.list_tags(REF, credential=None)
    clock.now += 3601
    inner.errors[REPO] = RateLimited("rate limited by reg.example.com")
    with pytest.raises(RateLimited):
        await cache.list_tags(REF, credential=None)
    assert (cache.entries, cache.tags) == (0, 0)


async def test_max_age_zero_keeps_nothing() -> None:
    cache, inner, _ = make(max_age=0)
    await cache.list_tags(REF, credential=None)
    assert cache.entries == 0
    inner.errors[REPO] = RateLimited("rate limited by reg.example.com")
    with pytest.raises(RateLimited):
        await cache.list_tags(REF, credential=None)


async def test_no_listing_yet_fails_as_before() -> None:
    cache, inner, _ = make()
    inner.errors[REPO] = RateLimited("rate limited by reg.example.com")
    with pytest.raises(RateLimited):
        await cache.list_tags(REF, credential=None)


async def test_a_listing_read_with_one_credential_is_never_served_to_another() -> None:
    cache, inner, _ = make()
    alice = Credential("alice", "secret-a")
    await cache.list_tags(REF, credential=alice)
    inner.errors[REPO] = RateLimited("rate limited by reg.example.com")
    with pytest.raises(RateLimited):
        await cache.list_tags(REF, credential=None)
    with pytest.raises(RateLimited):
        await cache.list_tags(REF, credential=Credential("bob", "secret-b"))
    assert (await cache.list_tags(REF, credential=alice)).stale is not None


async def test_entries_are_capped_least_recently_used_first() -> None:
    observer = Sizes()
    cache, inner, _ = make(max_entries=2, observer=observer)
    refs = [ImageRef("reg.example.com", f"org/m{i}") for i in range(3)]
    for ref in refs:
        inner.tags[ref.key] = ["1.0.0"]
    await cache.list_tags(refs[0], credential=None)
    await cache.list_tags(refs[1], credential=None)
    inner.errors[refs[0].key] = RateLimited("rate limited")
    await cache.list_tags(refs[0], credential=None)  # served: now the most recently used
    del inner.errors[refs[0].key]
    await cache.list_tags(refs[2], credential=None)  # evicts m1, the least recently used
    assert (cache.entries, cache.tags) == (2, 2)
    assert observer.sizes[-1] == (2, 2)
    for ref in refs:
        inner.errors[ref.key] = RateLimited("rate limited")
    assert (await cache.list_tags(refs[0], credential=None)).stale is not None
    assert (await cache.list_tags(refs[2], credential=None)).stale is not None
    with pytest.raises(RateLimited):
        await cache.list_tags(refs[1], credential=None)


async def test_total_tags_are_capped_and_a_listing_too_big_alone_is_not_kept() -> None:
    cache, inner, _ = make(max_tags=5)
    small = ImageRef("reg.example.com", "org/small")
    big = ImageRef("reg.example.com", "org/big")
    inner.tags[small.key] = ["1", "2", "3"]
    inner.tags[big.key] = [str(i) for i in range(6)]
    await cache.list_tags(REF, credential=None)  # 2 tags
    await cache.list_tags(small, credential=None)  # 3 tags: 5 in all
    assert (cache.entries, cache.tags) == (2, 5)
    await cache.list_tags(big, credential=None)  # 6 > 5: not kept, nothing evicted for it
    assert (cache.entries, cache.tags) == (2, 5)
    inner.tags[small.key] = ["1", "2", "3", "4"]  # 6 in all: the oldest (REF) goes
    await cache.list_tags(small, credential=None)
    assert (cache.entries, cache.tags) == (1, 4)


async def test_a_truncated_listing_is_kept_and_served_truncated() -> None:
    inner = RecordingLister()
    truncated = TagListing(("1.0.0",), truncated=True)

    class Truncating:
        async def list_tags(
            self, ref: ImageRef, *, credential: Credential | None, credentials: object = None
        ) -> TagListing:
            if inner.errors:
                raise inner.errors[REPO]
            return truncated

        async def manifest_digest(
            self, ref: ImageRef, *, credential: Credential | None, credentials: object = None
        ) -> str | None:
            return None

    cache = CachingTagLister(Truncating())
    await cache.list_tags(REF, credential=None)
    inner.errors[REPO] = RateLimited("rate limited")
    served = await cache.list_tags(REF, credential=None)
    assert served.truncated
    assert served.stale is not None


async def test_manifest_heads_pass_through_uncached() -> None:
    cache, inner, _ = make()
    pinned = ImageRef("reg.example.com", "org/model", "1.0.0")
    assert await cache.manifest_digest(pinned, credential=None) is not None
    inner.errors[REPO] = RateLimited("rate limited")
    with pytest.raises(RateLimited):
        await cache.manifest_digest(pinned, credential=None)
