"""A queue of due times that a bounded pool of workers takes sources from.

Thousands of sources must cost little: instead of one sleeping task per source, one heap holds
`(due time, sequence, name)` and the workers sleep only until the earliest due time (or until
something earlier is scheduled). A name is in the heap at most once in effect: scheduling again
replaces the earlier entry (stale heap entries are skipped when they surface). A name taken by a
worker is "running" until `done()`; scheduling it meanwhile is ignored, because the worker
reschedules it from the latest state when it finishes.

Each name carries the registry hosts its sync calls. A free worker takes the earliest due name whose
hosts are all below their share (see `shares`); due names passed over stay in the heap with their
due time, so they keep their place in line. Rescheduling a name that is already due to another time
that is also due keeps the earlier time, for the same reason (a watch event must not send a waiting
source to the back of the line).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Iterable

from aimsource.operator.shares import ShareScan

NO_HOSTS: frozenset[str] = frozenset()


class SyncQueue:
    def __init__(
        self,
        clock: Callable[[], float],
        *,
        per_host: int | None = None,
        on_waiting: Callable[[int], None] | None = None,
    ) -> None:
        """`per_host`: syncs touching one registry host that may run at once (None: no share).
        `on_waiting` is told, after each look for work, how many due names wait for a share."""
        self._clock = clock
        self._per_host = per_host
        self._on_waiting = on_waiting
        self._heap: list[tuple[float, int, str]] = []
        self._current: dict[str, tuple[float, int]] = {}
        self._hosts: dict[str, frozenset[str]] = {}
        self._running: dict[str, frozenset[str]] = {}
        self._load: Counter[str] = Counter()
        self._seq = itertools.count()
        self._changed = asyncio.Event()
        self.waiting = 0
        """Due names that wait for a host share, as of the last look for work that found none."""

    def __len__(self) -> int:
        return len(self._current)

    def __contains__(self, name: object) -> bool:
        return name in self._current

    def due(self, name: str) -> float | None:
        """When `name` is scheduled, or None when it is not (or is running)."""
        entry = self._current.get(name)
        return None if entry is None else entry[0]

    def is_running(self, name: str) -> bool:
        return name in self._running

    @property
    def running(self) -> frozenset[str]:
        return frozenset(self._running)

    def load(self, host: str) -> int:
        """Running syncs that touch `host`."""
        return self._load.get(host, 0)

    def schedule(self, name: str, when: float, hosts: Iterable[str] = NO_HOSTS) -> None:
        """Put `name` in the queue for `when`, replacing any earlier entry; no-op while running."""
        if name in self._running:
            return
        self._hosts[name] = frozenset(hosts)
        old = self._current.get(name)
        if old is not None and old[0] <= when <= self._clock():
            self._changed.set()  # its hosts may have changed
            return  # due already, and still: it keeps its place in line
        seq = next(self._seq)
        self._current[name] = (when, seq)
        heapq.heappush(self._heap, (when, seq, name))
        self._changed.set()
        self._compact()

    def discard(self, name: str) -> None:
        """Forget `name` (a deleted source). A running sync of it finishes but is not rescheduled
        by the queue; the caller decides."""
        self._hosts.pop(name, None)
        if self._current.pop(name, None) is not None:
            self._changed.set()

    async def take(self) -> str:
        """Wait until some name is due, mark it running and return it."""
        while True:
            self._changed.clear()
            name, timeout = self._pick()
            if name is not None:
                return name
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # (a worker stopped when this replica loses the Lease would keep taking work).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._changed.wait()

    def done(self, name: str) -> None:
        """The worker finished with `name`; it may be scheduled again."""
        hosts = self._running.pop(name, None)
        if hosts is None:
            return
        self._load.subtract(hosts)
        for host in hosts:
            if self._load[host] <= 0:
                del self._load[host]
        self._changed.set()  # its hosts' shares have room again

    def _pick(self) -> tuple[str | None, float | None]:
        """The earliest due name that may start now (marked running), else None and the seconds
        until the next name falls due (None: nothing is scheduled)."""
        now = self._clock()
        scan = ShareScan(self._load, self._per_host) if self._per_host is not None else None
        passed: list[tuple[float, int, str]] = []
        picked: str | None = None
        timeout = self._pop_stale(now)
        while timeout is not None and timeout <= 0:
            entry = heapq.heappop(self._heap)
            name = entry[2]
            hosts = self._hosts.get(name, NO_HOSTS)
            if scan is None or scan.admit(hosts):
                del self._current[name]
                self._running[name] = hosts
                self._load.update(hosts)
                picked = name
                break
            passed.append(entry)
            timeout = self._pop_stale(now)
        for entry in passed:  # they keep their due time, hence their place
            heapq.heappush(self._heap, entry)
        if picked is None:  # a whole scan: every due name left waits for a share
            self.waiting = len(passed)
            if self._on_waiting is not None:
                self._on_waiting(self.waiting)
        return picked, timeout

    def _pop_stale(self, now: float) -> float | None:
        """Drop replaced entries from the top; return seconds until the top is due, None if empty."""
        while self._heap:
            when, seq, name = self._heap[0]
            if self._current.get(name) == (when, seq):
                return when - now
            heapq.heappop(self._heap)
        return None

    def _compact(self) -> None:
        """Rebuild the heap when replaced entries outnumber live ones, so memory stays bounded."""
        if len(self._heap) > 64 and len(self._heap) > 2 * len(self._current):
            self._heap = [(when, seq, name) for name, (when, seq) in self._current.items()]
            heapq.heapify(self._heap)
