"""Per-host politeness: a concurrency cap and a request budget for every registry host.

Both are keyed by host, so a registry that is slow or throttling only queues its own requests and
never holds up another registry's. One `HostLimits` lives in a `RegistryClient`; every source using
that client (the operator runs one client per process) shares the same cap and budget per host,
which is what a registry sees: one polite client, not N sources each with their own allowance.

The budget is a token bucket in reservation form: a request that finds the bucket empty takes a
token anyway (the count goes negative) and sleeps until its token would have arrived. That keeps
waiters in arrival order without a lock and never lets a burst exceed `burst` requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """The politeness owed to one host: requests in flight, requests/s (0: none) and burst."""

    concurrency: int
    rate: float
    burst: int


class TokenBucket:
    """`rate` requests per second on average, at most `burst` at once; rate 0 means unlimited."""

    def __init__(self, *, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._updated: float | None = None

    def idle_since(self, now: float) -> float:
        """Seconds since the last request took a token (infinite when none ever did)."""
        return float("inf") if self._updated is None else now - self._updated

    async def take(self) -> None:
        if self._rate <= 0:
            return
        now = asyncio.get_running_loop().time()
        if self._updated is not None:
            self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        self._tokens -= 1.0
        if self._tokens < 0:
            await asyncio.sleep(-self._tokens / self._rate)


class _HostState:
    __slots__ = ("bucket", "budget", "semaphore", "users")

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.semaphore = asyncio.Semaphore(budget.concurrency)
        self.bucket = TokenBucket(rate=budget.rate, burst=budget.burst)
        self.users = 0  # tasks holding or waiting for a slot


class HostLimits:
    """One semaphore and one token bucket per registry host, created on first use.

    Entries nobody holds or waits for are dropped once their bucket has refilled (after
    `burst / rate` seconds idle): such an entry is identical to a fresh one, so evicting it changes
    no behaviour, and the map stays as large as the set of registries in use, not every host ever
    named. Sweeps run at most every `sweep_interval` seconds, on the way out of a slot.
    """

    def __init__(self, *, concurrency: int, rate: float, burst: int, sweep_interval: float = 30.0) -> None:
        self._default = Budget(concurrency=concurrency, rate=rate, burst=burst)
        self._budgets: Mapping[str, Budget] = {}
        self._hosts: dict[str, _HostState] = {}
        self._sweep_interval = sweep_interval
        self._swept: float | None = None

    def configure(self, *, default: Budget | None, per_host: Mapping[str, Budget]) -> None:
        """Budgets from the registries file: `per_host` for the hosts it names, `default` (None:
        keep the one given at construction) for every other host. A host whose budget changes
        starts afresh; requests holding a slot of its old budget finish under it."""
        if default is not None:
            self._default = default
        self._budgets = dict(per_host)
        for host, state in list(self._hosts.items()):
            if state.budget != self.budget(host):
                del self._hosts[host]

    def budget(self, host: str) -> Budget:
        return self._budgets.get(host, self._default)

    def __len__(self) -> int:
        return len(self._hosts)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one of `host`'s concurrent slots, after spending one request of its budget."""
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _HostState(self.budget(host))
        state.users += 1
        try:
            async with state.semaphore:
                await state.bucket.take()
                yield
        finally:
            state.users -= 1
            self._maybe_sweep()

    def _maybe_sweep(self) -> None:
        now = asyncio.get_running_loop().time()
        if self._swept is not None and now - self._swept < self._sweep_interval:
            return
        self._swept = now
        self.sweep(now)

    def sweep(self, now: float) -> None:
        """Drop every entry that is idle and whose bucket is full again."""
        idle = [
            host
            for host, state in self._hosts.items()
            if state.users == 0 and state.bucket.idle_since(now) >= _refill(state.budget)
        ]
        for host in idle:
            del self._hosts[host]


def _refill(budget: Budget) -> float:
    return budget.burst / budget.rate if budget.rate > 0 else 0.0
