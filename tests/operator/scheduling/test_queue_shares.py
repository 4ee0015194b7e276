"""SyncQueue with host shares: a stalled registry holds only its share of the workers (fake loop time).

Workers here are the reconciler's loop reduced to its timing: take a name, "sync" for as long as
its registry takes, mark it done. A stalled registry's syncs take 300 s (the registry client's call
deadline); healthy ones take one second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import pytest

from aimsource.operator.scheduling.queue import SyncQueue

pytestmark = pytest.mark.looptime

STALLED, HEALTHY = "stalled.example", "healthy.example"


class Pool:
    """`count` workers on `queue`; `durations(name)` says how long each sync of a name takes."""

    def __init__(self, queue: SyncQueue, count: int, durations: Callable[[str], float]) -> None:
        self.queue = queue
        self.durations = durations
        self.started: list[tuple[str, float]] = []
        self.finished: list[tuple[str, float]] = []
        self.tasks = [asyncio.create_task(self._work()) for _ in range(count)]

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            name = await self.queue.take()
            self.started.append((name, loop.time()))
            try:
                await asyncio.sleep(self.durations(name))
            finally:
                self.queue.done(name)
            self.finished.append((name, loop.time()))

    def start_time(self, name: str) -> float | None:
        return next((t for n, t in self.started if n == name), None)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def durations(table: Mapping[str, float], default: float = 1.0) -> Callable[[str], float]:
    return lambda name: table.get(name.split("-")[0], default)


def now() -> float:
    return asyncio.get_running_loop().time()


async def test_eight_sources_on_a_stalled_registry_leave_workers_for_a_healthy_one() -> None:
    queue = SyncQueue(now, per_host=2)
    pool = Pool(queue, 4, durations({"stalled": 300.0}))
    t0 = now()
    for i in range(8):
        queue.schedule(f"stalled-{i}", t0, {STALLED})
    await asyncio.sleep(5)
    queue.schedule("healthy-0", now(), {HEALTHY})
    await asyncio.sleep(2)
    await pool.close()

    assert pool.start_time("healthy-0") == pytest.approx(t0 + 5)
    assert [name for name, _ in pool.started] == ["stalled-0", "stalled-1", "healthy-0"]
    assert queue.load(STALLED) == 0  # done() ran for the cancelled syncs too


async def test_without_shares_the_stalled_registry_takes_every_worker() -> None:
    # The failure the shares fix, kept as a test so that the one above cannot pass by accident.
    queue = SyncQueue(now)
    pool = Pool(queue, 4, durations({"stalled": 300.0}))
    t0 = now()
    for i in range(8):
        queue.schedule(f"stalled-{i}", t0, {STALLED})
    queue.schedule("healthy-0", t0 + 5, {HEALTHY})
    await asyncio.sleep(120)
    await pool.close()
    assert pool.start_time("healthy-0") is None


async def test_the_stalled_registrys_sources_all_run_in_due_order_as_its_share_frees() -> None:
    queue = SyncQueue(now, per_host=2)
    pool = Pool(queue, 4, durations({"stalled": 300.0}))
    t0 = now()
    for i in reversed(range(6)):  # scheduled in reverse, due in order
        queue.schedule(f"stalled-{i}", t0 + i, {STALLED})
    await asyncio.sleep(1000)
    await pool.close()

    assert [(n, round(t - t0)) for n, t in pool.started] == [
        ("stalled-0", 0),
        ("stalled-1", 1),
        ("stalled-2", 300),
        ("stalled-3", 301),
        ("stalled-4", 600),
        ("stalled-5", 601),
    ]


async def test_a_slot_freed_on_a_host_goes_to_the_earliest_waiter_not_a_newcomer() -> None:
    queue = SyncQueue(now, per_host=1)
    pool = Pool(queue, 4, durations({"first": 10.0, "waiter": 1.0, "newcomer": 1.0}))
    t0 = now()
    queue.schedule("first-0", t0, {STALLED})
    queue.schedule("waiter-0", t0 + 1, {STALLED})
    queue.schedule("newcomer-0", t0 + 9, {STALLED})
    await asyncio.sleep(30)
    await pool.close()
    assert [(n, round(t - t0)) for n, t in pool.started] == [
        ("first-0", 0),
        ("waiter-0", 10),
        ("newcomer-0", 11),
    ]


async def test_rescheduling_a_waiting_source_keeps_its_place_in_line() -> None:
    queue = SyncQueue(now, per_host=1)
    pool = Pool(queue, 2, durations({"first": 10.0}))
    t0 = now()
    queue.schedule("first-0", t0, {STALLED})
    queue.schedule("waiter-0", t0 + 1, {STALLED})
    queue.schedule("later-0", t0 + 2, {STALLED})
    await asyncio.sleep(5)
    queue.schedule("waiter-0", now(), {STALLED})  # a watch event: "due now" again
    assert queue.due("waiter-0") == t0 + 1
    queue.schedule("later-0", t0 + 3600, {STALLED})  # a decision in the future does move it
    await asyncio.sleep(10)
    await pool.close()
    assert [n for n, _ in pool.started] == ["first-0", "waiter-0"]
    assert queue.due("later-0") == t0 + 3600


async def test_a_source_on_two_registries_is_not_overtaken_forever_on_either() -> None:
    # "both" needs a and b. Single-host sources keep a and b busy in turns; without reservations
    # a free slot on a would always go to an "a" source while b is busy, and the other way round.
    queue = SyncQueue(now, per_host=1)
    pool = Pool(queue, 4, durations({}, default=3.0))
    t0 = now()

    async def churn(prefix: str, host: str, offset: float) -> None:
        await asyncio.sleep(offset)
        for i in range(100):
            queue.schedule(f"{prefix}{i}-x", now(), {host})
            await asyncio.sleep(2)

    feeders = [asyncio.create_task(churn("a", "a", 0)), asyncio.create_task(churn("b", "b", 1.5))]
    await asyncio.sleep(2)
    queue.schedule("both-0", now(), {"a", "b"})
    await asyncio.sleep(30)
    started = pool.start_time("both-0")
    for task in feeders:
        task.cancel()
    await pool.close()
    assert started is not None
    assert started - t0 < 10


async def test_a_source_without_hosts_is_never_held_back() -> None:
    queue = SyncQueue(now, per_host=1)
    pool = Pool(queue, 3, durations({"stalled": 300.0}))
    t0 = now()
    queue.schedule("stalled-0", t0, {STALLED})
    queue.schedule("stalled-1", t0, {STALLED})
    queue.schedule("invalid-0", t0 + 1)
    await asyncio.sleep(3)
    await pool.close()
    assert pool.start_time("invalid-0") == pytest.approx(t0 + 1)


async def test_the_number_waiting_for_a_share_is_reported() -> None:
    seen: list[int] = []
    queue = SyncQueue(now, per_host=2, on_waiting=seen.append)
    pool = Pool(queue, 4, durations({"stalled": 300.0}))
    t0 = now()
    for i in range(8):
        queue.schedule(f"stalled-{i}", t0, {STALLED})
    await asyncio.sleep(1)
    assert queue.waiting == 6
    assert seen[-1] == 6
    await asyncio.sleep(1000)  # everything ran; the rest were rescheduled by nobody
    assert queue.waiting == 0
    assert seen[-1] == 0
    await pool.close()


async def test_a_finished_sync_wakes_a_worker_waiting_for_its_share_at_once() -> None:
    queue = SyncQueue(now, per_host=1)
    t0 = now()
    queue.schedule("a", t0, {STALLED})
    queue.schedule("b", t0, {STALLED})
    assert await queue.take() == "a"
    waiter = asyncio.create_task(queue.take())
    await asyncio.sleep(42)
    assert not waiter.done()
    queue.done("a")
    assert await waiter == "b"
    assert now() == pytest.approx(t0 + 42)


async def test_a_waiting_source_deleted_or_moved_to_another_registry_leaves_the_line() -> None:
    queue = SyncQueue(now, per_host=1)
    t0 = now()
    for name in ("first", "deleted", "moved", "later"):
        queue.schedule(name, t0, {STALLED})
    assert await queue.take() == "first"
    waiter = asyncio.create_task(queue.take())
    await asyncio.sleep(1)
    assert queue.waiting == 3
    queue.discard("deleted")
    queue.schedule("moved", now(), {HEALTHY})  # its spec now names another registry
    assert await waiter == "moved"
    assert queue.due("later") == t0
    assert (queue.waiting, len(queue)) == (1, 1)
    queue.done("first")
    assert await queue.take() == "later"


async def test_ten_thousand_waiting_sources_are_parked_once_and_all_run_in_order() -> None:
    queue = SyncQueue(now, per_host=2)
    pool = Pool(queue, 4, durations({}, default=10.0))
    t0 = now()
    for i in range(10_000):
        queue.schedule(f"s{i:05d}", t0 + i / 1000, {STALLED})
    await asyncio.sleep(15)
    assert queue.waiting == 10_000 - 4
    for i in range(10, 100):  # watch events on waiting sources ("due now"): they keep their place
        queue.schedule(f"s{i * 100:05d}", now(), {STALLED})
    await asyncio.sleep(10_000 * 10 / 2 + 60)
    await pool.close()
    assert [n for n, _ in pool.started] == [f"s{i:05d}" for i in range(10_000)]
    assert len(queue) == 0
    assert len(queue._heap) + sum(map(len, queue._parked.values())) <= 64 + 2
