"""The operator's caching lister around the real client, before a real docker-registry behind the
fault front: what a kept listing stands in for (429, 5xx, stalls, a dead host) and what it never
hides (401, 404)."""

from __future__ import annotations

import pytest

from aimsource.domain.references import ImageRef
from aimsource.registry.client import RegistryClient
from aimsource.registry.errors import AuthenticationFailed, RateLimited, RepositoryNotFound, Unreachable
from aimsource.registry.settings import RegistrySettings
from aimsource.sync.listing_cache import CachingTagLister
from tests.support.faults import Fault, FaultFront
from tests.support.registry_fixtures import STANDARD_IMAGES

pytestmark = pytest.mark.registry

QWEN = "amdenterpriseai/aim-qwen-qwen3-32b"
FAST = RegistrySettings(
    backoff_base=0.01,
    backoff_cap=0.05,
    connect_timeout=1.0,
    read_timeout=1.0,
    max_attempts=2,
    retry_after_cap=5.0,
    call_deadline=20.0,
)
TAGS_PATH = r"/tags/list$"


async def listed_then(front: FaultFront, fault: Fault, *, times: int = 10) -> object:
    """List once for real, arm `fault` for the next listing requests, list again."""
    ref = ImageRef(front.host, QWEN)
    async with RegistryClient(FAST) as client:
        cache = CachingTagLister(client)
        fresh = await cache.list_tags(ref, credential=None)
        assert fresh.stale is None
        assert sorted(fresh.tags) == sorted(STANDARD_IMAGES[QWEN])
        front.inject(fault, path=TAGS_PATH, times=times)
        try:
            return await cache.list_tags(ref, credential=None)
        finally:
            front.clear()


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault.rate_limited(retry_after=3600), "RateLimited"),
        (Fault.error(503), "Unreachable"),
        (Fault.stall(3.0), "Unreachable"),
    ],
    ids=["429-long-retry-after", "503-after-retries", "stalled"],
)
async def test_a_passing_failure_serves_the_kept_listing_marked_stale(
    fault_front: FaultFront, fault: Fault, reason: str
) -> None:
    served = await listed_then(fault_front, fault)
    assert sorted(served.tags) == sorted(STANDARD_IMAGES[QWEN])  # type: ignore[attr-defined]
    stale = served.stale  # type: ignore[attr-defined]
    assert stale is not None
    assert stale.reason == reason
    assert fault_front.host in stale.message


@pytest.mark.parametrize(
    ("fault", "error"),
    [(Fault.error(401), AuthenticationFailed), (Fault.error(404), RepositoryNotFound)],
    ids=["401", "404"],
)
async def test_refusals_fail_the_listing_whatever_is_kept(
    fault_front: FaultFront, fault: Fault, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await listed_then(fault_front, fault)


async def test_a_host_that_went_away_is_served_from_the_cache(fault_front: FaultFront) -> None:
    ref = ImageRef(fault_front.host, QWEN)
    async with RegistryClient(FAST) as client:
        cache = CachingTagLister(client)
        await cache.list_tags(ref, credential=None)
        fault_front.stop()  # connection refused from now on
        served = await cache.list_tags(ref, credential=None)
    assert served.stale is not None
    assert served.stale.reason == Unreachable.reason
    assert served.stale.answered is False


async def test_without_a_kept_listing_the_429_fails_as_before(fault_front: FaultFront) -> None:
    fault_front.inject(Fault.rate_limited(retry_after=3600), path=TAGS_PATH)
    async with RegistryClient(FAST) as client:
        with pytest.raises(RateLimited):
            await CachingTagLister(client).list_tags(ImageRef(fault_front.host, QWEN), credential=None)
