"""Per-host politeness: a concurrency cap and a request budget for every registry host.

Both are keyed by host, so a registry that is slow or throttling only queues its own requests and
never holds up another registry's. One `HostLimits` lives in a `RegistryClient`; every source using
that client (the operator runs one client per process) shares the same cap and budget per host,
which is what a registry sees: one polite client, not N sources each with their own allowance.

The slots are handed out fairly (`fairness.FairGate`): when a host is busy, its waiting requests are
served round-robin between the syncs asking (and within a sync between its selectors), so one sync
with thousands of requests never holds up a small one for more than a slot's turn.

The budget is a token bucket. The gate grants a slot only together with a token (`ready_in`,
`spend`), so no request holds a slot while it sleeps for a token, and tokens go round-robin too;
a burst never exceeds `burst` requests. `take` (reservation form: the count goes negative and the
taker sleeps until its token would have arrived) serves callers outside a gate.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aimsource.registry.http.fairness import FairGate, asker


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
        self._refill(now)
        self._tokens -= 1.0
        if self._tokens < 0:
            await asyncio.sleep(-self._tokens / self._rate)

    def ready_in(self, now: float) -> float:
        """Seconds until a token is there to `spend` (0 when one is there now)."""
        if self._rate <= 0:
            return 0.0
        self._refill(now)
        # Within a hair of a token counts as one: a timer set for the exact moment may wake a
        # rounding error early, and must not then wait for an interval too small to pass.
        return 0.0 if self._tokens >= 1.0 - 1e-6 else (1.0 - self._tokens) / self._rate

    def spend(self, now: float) -> None:
        """Takes a token that `ready_in` said is there, without waiting (the fair gate's way)."""
        if self._rate <= 0:
            return
        self._refill(now)
        self._tokens -= 1.0

    def _refill(self, now: float) -> None:
        if self._updated is not None:
            self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now


class _HostState:
    __slots__ = ("bucket", "budget", "gate", "users")

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.bucket = TokenBucket(rate=budget.rate, burst=budget.burst)
        self.gate = FairGate(budget.concurrency, bucket=self.bucket)
        self.users = 0  # tasks holding or waiting for a slot


class HostLimits:
    """One fair gate (`fairness.FairGate`) and one token bucket per registry host, created on first use.

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
        """Hold one of `host`'s concurrent slots, after spending one request of its budget.

        Slots and tokens go together, round-robin between the parties waiting (see `fairness`):
        a request waits in its party's turn for both, never in a queue of its own for a token."""
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _HostState(self.budget(host))
        state.users += 1
        party, lane = asker()
        try:
            await state.gate.acquire(party, lane)  # a slot and a token, in the parties' turn
            try:
                yield
            finally:
                state.gate.release()
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
