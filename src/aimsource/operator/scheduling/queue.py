"""A queue of due times that a bounded pool of workers takes sources from.

Thousands of sources must cost little: instead of one sleeping task per source, one heap holds
`(due time, sequence, name)` and the workers sleep only until the earliest due time (or until
something earlier is scheduled). A name is in the heap at most once in effect: scheduling again
replaces the earlier entry (stale heap entries are skipped when they surface). A name taken by a
worker is "running" until `done()`; scheduling it meanwhile is ignored, because the worker
reschedules it from the latest state when it finishes.

Each name carries the registry hosts its sync calls. A free worker takes the earliest due name whose
hosts are all below their share (see `shares`). A due name passed over is *parked* with its due
time in a small heap of its own host set: when the first of a host set cannot start, none behind it
can (they need the same hosts, and the first reserves them), so a look for work costs one step per
host set, not per waiting name - ten thousand sources on one stalled registry are one step.
Rescheduling a name that is already due to another time that is also due keeps the earlier time,
so that a watch event does not send a waiting source to the back of the line.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Iterable

from aimsource.operator.scheduling.shares import ShareScan

NO_HOSTS: frozenset[str] = frozenset()
_Entry = tuple[float, int, str]
"""(due time, sequence, name): the sequence breaks ties in scheduling order and marks stale copies."""


class SyncQueue:
    def __init__(
        self,
        clock: Callable[[], float],
        *,
        per_host: int | None = None,
        on_waiting: Callable[[int], None] | None = None,
    ) -> None:
        """`per_host`: syncs touching one registry host that may run at once (None: no share).
        `on_waiting` is told, whenever a look for work finds none, how many due names wait for a
        share."""
        self._clock = clock
        self._per_host = per_host
        self._on_waiting = on_waiting
        self._heap: list[_Entry] = []
        self._current: dict[str, tuple[float, int]] = {}
        self._hosts: dict[str, frozenset[str]] = {}
        self._parked: dict[frozenset[str], list[_Entry]] = {}
        self._parked_names: set[str] = set()
        self._running: dict[str, frozenset[str]] = {}
        self._load: Counter[str] = Counter()
        self._seq = itertools.count()
        self._changed = asyncio.Event()

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

    @property
    def waiting(self) -> int:
        """Due names passed over because a host of theirs is at its share."""
        return len(self._parked_names)

    def load(self, host: str) -> int:
        """Running syncs that touch `host`."""
        return self._load.get(host, 0)

    def schedule(self, name: str, when: float, hosts: Iterable[str] = NO_HOSTS) -> None:
        """Put `name` in the queue for `when`, replacing any earlier entry; no-op while running."""
        if name in self._running:
            return
        hosts = frozenset(hosts)
        old = self._current.get(name)
        if old is not None and old[0] <= when <= self._clock():
            if self._hosts.get(name) == hosts:
                return  # due already, and still: it keeps its place in line
            when = old[0]  # new hosts, same place: re-entered below with its due time
        self._hosts[name] = hosts
        self._parked_names.discard(name)  # a parked entry of it, if any, is now stale
        seq = next(self._seq)
        self._current[name] = (when, seq)
        heapq.heappush(self._heap, (when, seq, name))
        self._changed.set()
        self._compact()

    def discard(self, name: str) -> None:
        """Forget `name` (a deleted source). A running sync of it finishes but is not rescheduled
        by the queue; the caller decides."""
        self._hosts.pop(name, None)
        self._parked_names.discard(name)
        if self._current.pop(name, None) is not None:
            self._changed.set()

    async def take(self) -> str:
        """Wait until some name is due and may start, mark it running and return it."""
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
        timeout = self._pop_stale(now)
        if self._per_host is None:
            if timeout is not None and timeout <= 0:
                return self._start(heapq.heappop(self._heap)[2]), timeout
            return None, timeout
        scan = ShareScan(self._load, self._per_host)
        # One candidate per parked host set (its earliest), merged with the due names of the
        # main heap in due order.
        heads: list[tuple[float, int, str, frozenset[str]]] = []
        for hosts in list(self._parked):
            entry = self._parked_head(hosts)
            if entry is not None:
                heads.append((*entry, hosts))
        heapq.heapify(heads)
        while True:
            main_due = timeout is not None and timeout <= 0
            if heads and (not main_due or heads[0][:2] < self._heap[0][:2]):
                _, _, name, hosts = heapq.heappop(heads)
                if scan.admit(hosts):
                    heapq.heappop(self._parked[hosts])
                    self._parked_names.discard(name)
                    return self._start(name), timeout
                continue  # the rest of this host set cannot start either
            if not main_due:
                break
            entry = heapq.heappop(self._heap)
            hosts = self._hosts.get(entry[2], NO_HOSTS)
            if scan.admit(hosts):
                return self._start(entry[2]), timeout
            heapq.heappush(self._parked.setdefault(hosts, []), entry)
            self._parked_names.add(entry[2])
            timeout = self._pop_stale(now)
        if self._on_waiting is not None:
            self._on_waiting(self.waiting)
        return None, timeout

    def _start(self, name: str) -> str:
        del self._current[name]
        hosts = self._hosts.get(name, NO_HOSTS)
        self._running[name] = hosts
        self._load.update(hosts)
        return name

    def _live(self, entry: _Entry) -> bool:
        when, seq, name = entry
        return self._current.get(name) == (when, seq)

    def _parked_head(self, hosts: frozenset[str]) -> _Entry | None:
        """The earliest live entry parked under `hosts` (stale ones dropped), None if none."""
        group = self._parked[hosts]
        while group and not (self._live(group[0]) and group[0][2] in self._parked_names):
            heapq.heappop(group)
        if not group:
            del self._parked[hosts]
            return None
        return group[0]

    def _pop_stale(self, now: float) -> float | None:
        """Drop replaced entries from the top; return seconds until the top is due, None if empty."""
        while self._heap:
            if self._live(self._heap[0]):
                return self._heap[0][0] - now
            heapq.heappop(self._heap)
        return None

    def _compact(self) -> None:
        """Rebuild the heaps when replaced entries outnumber live ones, so memory stays bounded."""
        size = len(self._heap) + sum(len(group) for group in self._parked.values())
        if size > 64 and size > 2 * len(self._current):
            self._heap = [(w, s, n) for n, (w, s) in self._current.items() if n not in self._parked_names]
            heapq.heapify(self._heap)
            for hosts in list(self._parked):
                group = [e for e in self._parked[hosts] if self._live(e) and e[2] in self._parked_names]
                if group:
                    heapq.heapify(group)
                    self._parked[hosts] = group
                else:
                    del self._parked[hosts]
