"""Per-host politeness (concurrency cap, request budget) through the client, and the observer.

The cap and the "a slow host never blocks another" rule are checked on real servers with a fault
front that stalls; the bucket's timing alone, on looptime's fake clock, is in test_limits.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest
from aiohttp import web

from aimsource.domain.references import ImageRef
from aimsource.registry.client import RegistryClient
from aimsource.registry.errors import Unreachable
from aimsource.registry.settings import RegistrySettings
from tests.support.faults import Fault, FaultFront
from tests.support.registry_server import RunningRegistry
from tests.support.serving import BackgroundServer

QWEN = "amdenterpriseai/aim-qwen-qwen3-32b"


# -- the cap on real servers -----------------------------------------------------------------------


@pytest.mark.registry
async def test_concurrency_cap_queues_one_slow_host_without_blocking_another(
    anonymous_registry: RunningRegistry, make_fault_front: Callable[[RunningRegistry], FaultFront]
) -> None:
    slow = make_fault_front(anonymous_registry)
    fast = make_fault_front(anonymous_registry)
    settings = RegistrySettings(max_concurrency_per_host=2)
    async with RegistryClient(settings) as client:
        await client.list_tags(ImageRef(slow.host, QWEN), credential=None)  # learn the scheme: no probe below
        slow.clear()
        slow.inject(Fault.stall(1.0), path="tags/list", times=6)
        started = time.monotonic()
        slow_calls = asyncio.gather(
            *(client.list_tags(ImageRef(slow.host, QWEN), credential=None) for _ in range(6))
        )
        await asyncio.sleep(0.05)
        await client.list_tags(ImageRef(fast.host, QWEN), credential=None)
        fast_done = time.monotonic() - started
        await slow_calls
        slow_done = time.monotonic() - started
    assert fast_done < 1.0  # not queued behind the slow host
    assert slow_done >= 3.0  # 6 stalls of 1 s, 2 at a time
    assert slow.log.count(path="tags/list") == 6


@pytest.mark.registry
async def test_request_budget_paces_one_host(anonymous_registry: RunningRegistry) -> None:
    settings = RegistrySettings(requests_per_second=10.0, request_burst=1)
    async with RegistryClient(settings) as client:
        ref = ImageRef(anonymous_registry.host, QWEN)
        await client.list_tags(ref, credential=None)
        started = time.monotonic()
        for _ in range(4):
            await client.list_tags(ref, credential=None)
    assert time.monotonic() - started >= 0.35


# -- the observer ----------------------------------------------------------------------------------


class Observer:
    def __init__(self) -> None:
        self.statuses: list[tuple[str, int | None]] = []
        self.remaining: list[tuple[str, int]] = []
        self.limits: list[tuple[str, int]] = []

    def request(self, host: str, status: int | None) -> None:
        self.statuses.append((host, status))

    def retry(self, host: str) -> None:
        pass

    def ratelimit_remaining(self, host: str, remaining: int) -> None:
        self.remaining.append((host, remaining))

    def ratelimit_wait(self, host: str, seconds: float) -> None:
        pass

    def ratelimit_limit(self, host: str, limit: int) -> None:
        self.limits.append((host, limit))


@pytest.fixture
def docker_hub_like() -> Iterator[BackgroundServer]:
    """A registry stand-in that sends Docker Hub's rate-limit headers on every answer."""

    async def tags(request: web.Request) -> web.Response:
        return web.json_response(
            {"name": "library/x", "tags": ["1.0.0"]},
            headers={"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "76;w=21600"},
        )

    app = web.Application()
    app.router.add_get("/v2/{name:.*}/tags/list", tags)
    with BackgroundServer(app, name="docker-hub-like") as server:
        yield server


async def test_docker_hub_ratelimit_remaining_reaches_the_observer(docker_hub_like: BackgroundServer) -> None:
    observer = Observer()
    async with RegistryClient(observer=observer) as client:
        listing = await client.list_tags(ImageRef(docker_hub_like.host, "library/x"), credential=None)
    assert listing.tags == ("1.0.0",)
    assert observer.remaining == [(docker_hub_like.host, 76)]
    assert observer.limits == [(docker_hub_like.host, 100)]
    assert observer.statuses == [(docker_hub_like.host, 200)]


async def test_no_answer_is_observed_as_none() -> None:
    observer = Observer()
    settings = RegistrySettings(max_attempts=2, backoff_base=0.01)
    async with RegistryClient(settings, observer=observer) as client:
        with pytest.raises(Unreachable, match=r"unreachable: 127\.0\.0\.1:1: connection refused"):
            await client.list_tags(ImageRef("127.0.0.1:1", "a/b"), credential=None)
    assert observer.statuses == [("127.0.0.1:1", None), ("127.0.0.1:1", None)]
