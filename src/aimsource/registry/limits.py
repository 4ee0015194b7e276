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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class TokenBucket:
    """`rate` requests per second on average, at most `burst` at once; rate 0 means unlimited."""

    def __init__(self, *, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._updated: float | None = None

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


class HostLimits:
    """One semaphore and one token bucket per host, created on first use."""

    def __init__(self, *, concurrency: int, rate: float, burst: int) -> None:
        self._concurrency = concurrency
        self._rate = rate
        self._burst = burst
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._buckets: dict[str, TokenBucket] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one of `host`'s concurrent slots, after spending one request of its budget."""
        semaphore = self._semaphores.get(host)
        if semaphore is None:
            semaphore = self._semaphores[host] = asyncio.Semaphore(self._concurrency)
        bucket = self._buckets.get(host)
        if bucket is None:
            bucket = self._buckets[host] = TokenBucket(rate=self._rate, burst=self._burst)
        async with semaphore:
            await bucket.take()
            yield
