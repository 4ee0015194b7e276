"""SyncQueue: due times in one heap, taken by a bounded pool of workers (fake loop time)."""

from __future__ import annotations

import asyncio

import pytest

from aimsource.operator.scheduling.queue import SyncQueue

pytestmark = pytest.mark.looptime


def new_queue() -> SyncQueue:
    return SyncQueue(clock=asyncio.get_running_loop().time)


async def take_timed(queue: SyncQueue) -> tuple[str, float]:
    name = await queue.take()
    return name, asyncio.get_running_loop().time()


async def test_names_come_out_in_due_order_at_their_due_time() -> None:
    queue = new_queue()
    t0 = asyncio.get_running_loop().time()
    queue.schedule("late", t0 + 30)
    queue.schedule("early", t0 + 10)
    queue.schedule("middle", t0 + 20)
    got = [await take_timed(queue) for _ in range(3)]
    assert [(n, round(t - t0)) for n, t in got] == [("early", 10), ("middle", 20), ("late", 30)]


async def test_rescheduling_replaces_the_earlier_entry() -> None:
    queue = new_queue()
    t0 = asyncio.get_running_loop().time()
    queue.schedule("a", t0 + 100)
    queue.schedule("a", t0 + 5)
    queue.schedule("b", t0 + 50)
    assert len(queue) == 2
    assert [await take_timed(queue) for _ in range(2)] == [("a", t0 + 5), ("b", t0 + 50)]
    assert len(queue) == 0


async def test_an_earlier_entry_wakes_a_sleeping_worker() -> None:
    queue = new_queue()
    t0 = asyncio.get_running_loop().time()
    queue.schedule("slow", t0 + 1000)
    waiter = asyncio.create_task(take_timed(queue))
    await asyncio.sleep(1)
    queue.schedule("urgent", t0 + 3)
    assert await waiter == ("urgent", t0 + 3)


async def test_discarded_name_never_comes_out() -> None:
    queue = new_queue()
    t0 = asyncio.get_running_loop().time()
    queue.schedule("deleted", t0 + 1)
    queue.schedule("kept", t0 + 2)
    queue.discard("deleted")
    assert await take_timed(queue) == ("kept", t0 + 2)
    assert "deleted" not in queue


async def test_a_running_name_is_not_scheduled_twice_until_done() -> None:
    queue = new_queue()
    t0 = asyncio.get_running_loop().time()
    queue.schedule("a", t0)
    assert await queue.take() == "a"
    queue.schedule("a", t0 + 1)  # e.g. a watch event while the sync runs: ignored
    assert "a" not in queue
    assert queue.running == {"a"}
    queue.done("a")
    queue.schedule("a", t0 + 2)
    assert await take_timed(queue) == ("a", t0 + 2)


async def test_workers_share_the_due_names_without_duplicates() -> None:
    queue = new_queue()
    t0 = asyncio.get_running_loop().time()
    for i in range(50):
        queue.schedule(f"s{i}", t0 + i % 5)
    taken: list[str] = []

    async def worker() -> None:
        while True:
            name = await queue.take()
            taken.append(name)
            await asyncio.sleep(0.5)
            queue.done(name)

    workers = [asyncio.create_task(worker()) for _ in range(4)]
    await asyncio.sleep(30)
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    assert sorted(taken) == sorted(f"s{i}" for i in range(50))


async def test_many_reschedules_keep_the_heap_small() -> None:
    queue = new_queue()
    t0 = asyncio.get_running_loop().time()
    for round_ in range(100):
        for i in range(10):
            queue.schedule(f"s{i}", t0 + 1000 + round_)
    assert len(queue) == 10
    assert len(queue._heap) <= 2 * 10 + 64
