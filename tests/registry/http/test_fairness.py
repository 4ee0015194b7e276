"""A host's slots round-robin between syncs and their selectors: `registry/http/fairness.py`, and
through `HostLimits` on looptime's fake clock.

The same sharing on a real registry and the real control plane is measured by
`benchmarks/fairness.py` and tested in `tests/realkube/test_fair_share.py`."""

from __future__ import annotations

import asyncio

import pytest

from aimsource.registry.http.fairness import FairGate, asker, asking_for, in_lane
from aimsource.registry.http.limits import HostLimits


async def test_the_asker_is_set_per_party_and_lane_and_inherited_by_tasks() -> None:
    assert asker() == ("", "")
    with asking_for("big"):
        assert asker() == ("big", "")
        with in_lane("repo-a"):
            assert asker() == ("big", "repo-a")
            assert await asyncio.create_task(_ask()) == ("big", "repo-a")
        assert asker() == ("big", "")
    assert asker() == ("", "")


async def _ask() -> tuple[str, str]:
    return asker()


async def test_waiters_are_served_round_robin_between_parties_not_first_come() -> None:
    gate = FairGate(1)
    await gate.acquire("holder", "")
    served: list[str] = []

    async def wait(party: str, lane: str = "") -> None:
        await gate.acquire(party, lane)
        served.append(party)
        gate.release()

    tasks = [asyncio.create_task(wait("big")) for _ in range(5)]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(wait("small")))
    await asyncio.sleep(0)
    assert gate.waiting == 6
    assert gate.waiting_for("big") == 5
    gate.release()
    await asyncio.gather(*tasks)
    assert served == ["big", "small", "big", "big", "big", "big"]


async def test_within_a_party_its_lanes_take_turns() -> None:
    gate = FairGate(1)
    await gate.acquire("sync", "")
    served: list[str] = []

    async def wait(lane: str) -> None:
        await gate.acquire("sync", lane)
        served.append(lane)
        gate.release()

    tasks = [asyncio.create_task(wait(lane)) for lane in ("a", "a", "a", "b", "b", "c")]
    await asyncio.sleep(0)
    gate.release()
    await asyncio.gather(*tasks)
    assert served == ["a", "b", "c", "a", "b", "a"]


async def test_a_free_slot_is_taken_at_once_and_a_cancelled_waiter_leaves_no_trace() -> None:
    gate = FairGate(2)
    await gate.acquire("a", "")
    await gate.acquire("b", "")
    waiter = asyncio.create_task(gate.acquire("c", ""))
    await asyncio.sleep(0)
    assert gate.waiting == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert gate.waiting == 0
    gate.release()
    await asyncio.wait_for(gate.acquire("d", ""), 1)  # the slot was not lost to the cancelled one


async def test_a_waiter_cancelled_after_its_grant_hands_the_slot_on() -> None:
    gate = FairGate(1)
    await gate.acquire("a", "")
    first = asyncio.create_task(gate.acquire("b", ""))
    second = asyncio.create_task(gate.acquire("c", ""))
    await asyncio.sleep(0)
    gate.release()  # granted to b, which is cancelled before it runs
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1)


@pytest.mark.looptime
async def test_a_small_sync_waits_a_turn_not_the_big_syncs_queue() -> None:
    """Four slots and 20 requests/s, as the defaults: a big sync with 200 requests waiting at once
    (first come, the small one would wait ~8 s behind them); a small sync's request arriving later
    waits for its turn at the next token, not behind the tokens of the slots' holders."""
    loop = asyncio.get_running_loop()
    limits = HostLimits(concurrency=4, rate=20.0, burst=40)
    finished: dict[str, float] = {}

    async def request(party: str, key: str) -> None:
        with asking_for(party):
            async with limits.slot("registry.example"):
                await asyncio.sleep(0.01)
        finished[key] = loop.time()

    async def big() -> None:
        await asyncio.gather(*(request("big", f"big-{i}") for i in range(200)))

    started = loop.time()
    big_task = asyncio.create_task(big())
    await asyncio.sleep(5)  # well past the burst: the bucket paces every request
    asked = loop.time()
    await request("small", "small")
    # At most the big one's turn, then the small one's (a token is 0.05 s), plus its 0.01 s request.
    assert finished["small"] - asked <= 2 * 0.05 + 0.01 + 0.005
    await big_task
    assert loop.time() - started == pytest.approx(200 / 20 - 40 / 20 + 0.01, abs=0.5)


@pytest.mark.looptime
async def test_tokens_go_round_robin_too_when_the_budget_not_the_slots_is_short() -> None:
    loop = asyncio.get_running_loop()
    limits = HostLimits(concurrency=100, rate=10.0, burst=1)
    order: list[tuple[str, float]] = []

    async def request(party: str) -> None:
        with asking_for(party):
            async with limits.slot("registry.example"):
                order.append((party, round(loop.time(), 2)))

    big = [asyncio.create_task(request("big")) for _ in range(10)]
    await asyncio.sleep(0)
    started = loop.time()
    await request("small")
    await asyncio.gather(*big)
    assert [p for p, _ in order][:3] == ["big", "big", "small"]  # the burst's token, then turns
    assert order[2][1] - started == pytest.approx(0.2)  # its turn after one of the big ones
    assert order[-1][1] - started == pytest.approx(1.0)  # 11 requests at 10/s after a burst of 1
