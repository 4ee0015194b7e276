"""Per-host politeness, on looptime's fake clock: `registry/http/limits.py` (`TokenBucket`, `HostLimits`).

The same limits on real servers, through the client, are in `test_client_limits.py`."""

from __future__ import annotations

import asyncio

import pytest

from aimsource.registry.http.limits import HostLimits, TokenBucket


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


async def test_idle_host_limits_are_evicted() -> None:
    limits = HostLimits(concurrency=2, rate=1000.0, burst=2, sweep_interval=0.0)
    for i in range(50):
        async with limits.slot(f"host-{i}.example"):
            pass
    held = limits.slot("busy.example")
    await held.__aenter__()
    limits.sweep(now=1e12)  # far in the future: every idle bucket has refilled
    assert len(limits) == 1  # only the host a request still holds
    await held.__aexit__(None, None, None)
    limits.sweep(now=1e12)
    assert len(limits) == 0


def test_configured_budgets_per_host_and_for_the_others() -> None:
    from aimsource.registry.http.limits import Budget

    limits = HostLimits(concurrency=4, rate=20.0, burst=40)
    assert limits.budget("a.example") == Budget(4, 20.0, 40)
    limits.configure(default=Budget(2, 5.0, 10), per_host={"m.example": Budget(1, 1.0, 2)})
    assert limits.budget("a.example") == Budget(2, 5.0, 10)
    assert limits.budget("m.example") == Budget(1, 1.0, 2)
    limits.configure(default=None, per_host={})
    assert limits.budget("m.example") == Budget(2, 5.0, 10)  # None keeps the last default


async def test_a_host_whose_budget_changes_starts_afresh() -> None:
    from aimsource.registry.http.limits import Budget

    limits = HostLimits(concurrency=1, rate=1000.0, burst=1000)  # kept for a second once idle
    async with limits.slot("m.example"), limits.slot("other.example"):
        pass
    assert len(limits) == 2
    limits.configure(default=None, per_host={"m.example": Budget(3, 1000.0, 1000)})
    assert len(limits) == 1  # m.example's old semaphore of 1 is gone; other.example kept its own
    entered = 0

    async def enter() -> None:
        nonlocal entered
        async with limits.slot("m.example"):
            entered += 1
            await asyncio.sleep(0.05)

    await asyncio.wait_for(asyncio.gather(enter(), enter(), enter()), timeout=0.12)  # 3 at once
    assert entered == 3
