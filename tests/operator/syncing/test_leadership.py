"""The worker pool runs only while leading, and stops at once when leading stops."""

from __future__ import annotations

import asyncio

import pytest

from aimsource.operator.syncing.leadership import WorkerSwitch

pytestmark = pytest.mark.looptime


async def test_losing_the_lease_cancels_a_running_sync_at_once() -> None:
    events: list[str] = []

    async def pool() -> None:
        events.append("started")
        try:
            await asyncio.sleep(3600)  # a long sync
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    switch = WorkerSwitch(pool)
    assert not switch.leading
    switch.start()
    switch.start()  # leading again while leading: still one pool
    await asyncio.sleep(1)
    assert switch.leading
    loop = asyncio.get_running_loop()
    before = loop.time()
    await switch.stop()
    assert loop.time() - before < 0.01
    assert events == ["started", "cancelled"]
    assert not switch.leading
    await switch.stop()  # stopping twice is harmless


async def test_leading_again_starts_a_new_pool() -> None:
    runs = 0

    async def pool() -> None:
        nonlocal runs
        runs += 1
        await asyncio.Event().wait()

    switch = WorkerSwitch(pool)
    switch.start()
    await asyncio.sleep(0)
    await switch.stop()
    switch.start()
    await asyncio.sleep(0)
    assert (runs, switch.leading) == (2, True)
    await switch.stop()


async def test_the_switch_reports_leading_and_not_leading() -> None:
    seen: list[bool] = []

    async def pool() -> None:
        await asyncio.sleep(3600)

    switch = WorkerSwitch(pool, on_change=seen.append)
    switch.start()
    switch.start()  # already leading: not reported twice
    await switch.stop()
    await switch.stop()  # not leading: nothing to report
    assert seen == [True, False]
