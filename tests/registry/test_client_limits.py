"""Per-host politeness (concurrency cap, request budget), endpoints and settings, and the observer.

The bucket's timing is checked on looptime's fake clock; the cap and the "a slow host never blocks
another" rule are checked on real servers with a fault front that stalls.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest
from aiohttp import web
from yarl import URL

from aimsource.domain.references import ImageRef
from aimsource.registry.client import RegistryClient
from aimsource.registry.endpoints import (
    api_host,
    is_loopback,
    plain_http_allowed,
    same_origin,
    scheme_allowed,
)
from aimsource.registry.errors import Unreachable
from aimsource.registry.limits import HostLimits, TokenBucket
from aimsource.registry.settings import RegistrySettings
from tests.support.faults import Fault, FaultFront
from tests.support.registry_server import RunningRegistry
from tests.support.serving import BackgroundServer

QWEN = "amdenterpriseai/aim-qwen-qwen3-32b"


# -- the request budget (fake time) ----------------------------------------------------------------


@pytest.mark.looptime
async def test_token_bucket_allows_a_burst_then_paces_requests() -> None:
    loop = asyncio.get_running_loop()
    bucket = TokenBucket(rate=2.0, burst=2)
    started = loop.time()
    moments = []
    for _ in range(6):
        await bucket.take()
        moments.append(round(loop.time() - started, 3))
    assert moments == [0.0, 0.0, 0.5, 1.0, 1.5, 2.0]


@pytest.mark.looptime
async def test_token_bucket_refills_while_idle_up_to_the_burst() -> None:
    loop = asyncio.get_running_loop()
    bucket = TokenBucket(rate=1.0, burst=3)
    for _ in range(3):
        await bucket.take()
    await asyncio.sleep(100)  # refills to 3, not 100
    started = loop.time()
    for _ in range(4):
        await bucket.take()
    assert loop.time() - started == pytest.approx(1.0)


@pytest.mark.looptime
async def test_concurrent_takers_are_paced_in_arrival_order() -> None:
    loop = asyncio.get_running_loop()
    bucket = TokenBucket(rate=10.0, burst=1)
    started = loop.time()
    done: list[tuple[int, float]] = []

    async def take(index: int) -> None:
        await bucket.take()
        done.append((index, round(loop.time() - started, 3)))

    await asyncio.gather(*(take(i) for i in range(4)))
    assert done == [(0, 0.0), (1, 0.1), (2, 0.2), (3, 0.3)]


@pytest.mark.looptime
async def test_host_limits_are_per_host() -> None:
    loop = asyncio.get_running_loop()
    limits = HostLimits(concurrency=1, rate=1.0, burst=1)
    async with limits.slot("slow.example"):
        started = loop.time()
        async with limits.slot("fast.example"):  # neither the slot nor the budget of slow.example
            assert loop.time() == started


@pytest.mark.looptime
async def test_zero_rate_means_unlimited() -> None:
    loop = asyncio.get_running_loop()
    bucket = TokenBucket(rate=0, burst=1)
    started = loop.time()
    for _ in range(1000):
        await bucket.take()
    # On looptime's clock any pacing shows as elapsed time (a rate of 1/s would take 999 s here).
    assert loop.time() == started
    assert bucket.idle_since(loop.time()) == float("inf")  # no token was ever counted


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


# -- endpoints and settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registry", "host"),
    [
        pytest.param("docker.io", "registry-1.docker.io", id="docker-hub"),
        pytest.param("index.docker.io", "registry-1.docker.io", id="docker-hub-alias"),
        pytest.param("ghcr.io", "ghcr.io", id="ghcr"),
        pytest.param("localhost:5000", "localhost:5000", id="port-kept"),
    ],
)
def test_api_host(registry: str, host: str) -> None:
    assert api_host(registry) == host


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("localhost", True), ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
     ("128.0.0.1", False), ("ghcr.io", False), ("localhost.example", False), ("10.0.0.1", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("url", "insecure", "allowed"),
    [
        pytest.param("https://ghcr.io/v2/", set(), True, id="https-anywhere"),
        pytest.param("http://ghcr.io/v2/", set(), False, id="http-public-refused"),
        pytest.param("http://127.0.0.1:5000/v2/", set(), True, id="http-loopback"),
        pytest.param("http://[::1]:5000/v2/", set(), True, id="http-ipv6-loopback"),
        pytest.param("http://reg.lan:5000/v2/", {"reg.lan"}, True, id="insecure-host-any-port"),
        pytest.param("http://reg.lan:5000/v2/", {"reg.lan:5000"}, True, id="insecure-host-port"),
        pytest.param("http://reg.lan:5001/v2/", {"reg.lan:5000"}, False, id="insecure-other-port"),
        pytest.param("ftp://127.0.0.1/", set(), False, id="other-scheme"),
    ],
)
def test_scheme_allowed(url: str, insecure: set[str], allowed: bool) -> None:
    settings = RegistrySettings(insecure=frozenset(insecure))
    assert scheme_allowed(URL(url), settings) is allowed


def test_insecure_entries_are_normalised() -> None:
    settings = RegistrySettings(insecure=frozenset({" Reg.LAN:5000 "}))
    assert plain_http_allowed(URL("http://reg.lan:5000/"), settings)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"connect_timeout": 0}, id="zero-timeout"),
        pytest.param({"max_attempts": 0}, id="no-attempts"),
        pytest.param({"max_concurrency_per_host": 0}, id="no-concurrency"),
        pytest.param({"requests_per_second": -1}, id="negative-rate"),
        pytest.param({"max_tags_bytes": 0}, id="no-body"),
    ],
)
def test_settings_refuse_values_that_would_hang_or_hammer(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="registry setting"):
        RegistrySettings(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        pytest.param("https://localhost/v2/x", "http://localhost/v2/y", True, id="downgrade-no-port"),
        pytest.param("https://h:5000/a", "http://h:5000/b", True, id="downgrade-port"),
        pytest.param("https://h:5000/a", "https://h:5001/a", False, id="other-port"),
        pytest.param("https://h/a", "https://H/a", True, id="host-case"),
        pytest.param("https://h/a", "https://evil.h/a", False, id="other-host"),
    ],
)
def test_same_origin(a: str, b: str, same: bool) -> None:
    assert same_origin(URL(a), URL(b)) is same
