"""Who is asking: a host's slots go round-robin between syncs, and within a sync between its lanes.

A registry host's concurrency slots (`limits.HostLimits`) are few and shared by every source of the
process. Handed out first-come, a sync that queued 2,000 digest checks would make a one-image source
created a moment later wait behind all of them. So every request carries who asks - a *party* (one
sync: the source's name) and a *lane* inside it (one selector) - in a context variable that the sync
engine sets, and `FairGate` serves the waiting parties in turn, one request each, and inside a party
its lanes in turn. A party that waits alone gets every slot, so a big sync alone is as fast as
before; a small sync arriving next to it waits for one slot to free, not for the big one's queue.

The context variable keeps the signatures of the client untouched: tasks started by a sync (its
concurrent fetches and checks) inherit it, and code that sets none (the CLI's one-source commands)
is one anonymous party.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import OrderedDict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

ANONYMOUS = ""

_party: contextvars.ContextVar[str] = contextvars.ContextVar("aimsource_registry_party", default=ANONYMOUS)
_lane: contextvars.ContextVar[str] = contextvars.ContextVar("aimsource_registry_lane", default=ANONYMOUS)


@contextmanager
def asking_for(party: str) -> Iterator[None]:
    """Requests made inside (and by tasks started inside) are `party`'s, in its anonymous lane."""
    party_token = _party.set(party)
    lane_token = _lane.set(ANONYMOUS)
    try:
        yield
    finally:
        _lane.reset(lane_token)
        _party.reset(party_token)


@contextmanager
def in_lane(lane: str) -> Iterator[None]:
    """Requests made inside are in `lane` of the current party (a selector of the sync)."""
    token = _lane.set(lane)
    try:
        yield
    finally:
        _lane.reset(token)


def asker() -> tuple[str, str]:
    """The (party, lane) of the code running now."""
    return _party.get(), _lane.get()


class Budget(Protocol):
    """A request budget the gate spends from (`limits.TokenBucket`)."""

    def ready_in(self, now: float) -> float: ...

    def spend(self, now: float) -> None: ...


class FairGate:
    """`capacity` slots and an optional budget; a slot is granted with a token of the budget, and
    while either is short, waiters are served round-robin by party, then by lane.

    Inside one lane waiters are served in arrival order. A waiter cancelled while waiting leaves
    its queue; one cancelled just after being granted a slot hands the slot on (its token is spent).
    Granting slot and token together keeps every waiter in the round: no request holds a slot while
    it sleeps for a token that a request of another party could have used.
    """

    def __init__(self, capacity: int, *, bucket: Budget | None = None) -> None:
        self._free = capacity
        self._bucket = bucket
        self._timer: asyncio.TimerHandle | None = None
        self._queues: OrderedDict[str, OrderedDict[str, deque[asyncio.Future[None]]]] = OrderedDict()

    @property
    def waiting(self) -> int:
        return sum(len(q) for lanes in self._queues.values() for q in lanes.values())

    def waiting_for(self, party: str) -> int:
        return sum(len(q) for q in self._queues.get(party, {}).values())

    async def acquire(self, party: str, lane: str) -> None:
        if self._free > 0 and not self._queues and self._token_ready():
            self._take()
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(party, OrderedDict()).setdefault(lane, deque()).append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # granted, then cancelled before it could use the slot
            else:
                self._forget(party, lane, future)
            raise

    def release(self) -> None:
        self._free += 1
        self._grant()

    def _token_ready(self) -> bool:
        if self._bucket is None:
            return True
        loop = asyncio.get_running_loop()
        wait = self._bucket.ready_in(loop.time())
        if wait <= 0:
            return True
        if self._timer is None:
            self._timer = loop.call_later(wait, self._tick)
        return False

    def _tick(self) -> None:
        self._timer = None
        self._grant()

    def _take(self) -> None:
        self._free -= 1
        if self._bucket is not None:
            self._bucket.spend(asyncio.get_running_loop().time())

    def _grant(self) -> None:
        while self._free > 0 and self._queues and self._token_ready():
            party, lanes = self._queues.popitem(last=False)
            lane, queue = lanes.popitem(last=False)
            future = queue.popleft()
            if queue:
                lanes[lane] = queue  # this lane goes to the back of its party
            if lanes:
                self._queues[party] = lanes  # this party goes to the back of the round
            if future.done():
                continue
            self._take()
            future.set_result(None)

    def _forget(self, party: str, lane: str, future: asyncio.Future[None]) -> None:
        lanes = self._queues.get(party)
        queue = lanes.get(lane) if lanes is not None else None
        if queue is None or lanes is None:
            return
        try:
            queue.remove(future)
        except ValueError:
            return
        if not queue:
            del lanes[lane]
        if not lanes:
            del self._queues[party]
