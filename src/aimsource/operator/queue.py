"""A queue of due times that a bounded pool of workers takes sources from.

Thousands of sources must cost little: instead of one sleeping task per source, one heap holds
`(due time, sequence, name)` and the workers sleep only until the earliest due time (or until
something earlier is scheduled). A name is in the heap at most once in effect: scheduling again
replaces the earlier entry (stale heap entries are skipped when they surface). A name taken by a
worker is "running" until `done()`; scheduling it meanwhile is ignored, because the worker
reschedules it from the latest state when it finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import Callable


class SyncQueue:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, str]] = []
        self._current: dict[str, tuple[float, int]] = {}
        self._running: set[str] = set()
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

    def schedule(self, name: str, when: float) -> None:
        """Put `name` in the queue for `when`, replacing any earlier entry; no-op while running."""
        if name in self._running:
            return
        seq = next(self._seq)
        self._current[name] = (when, seq)
        heapq.heappush(self._heap, (when, seq, name))
        self._changed.set()
        self._compact()

    def discard(self, name: str) -> None:
        """Forget `name` (a deleted source). A running sync of it finishes but is not rescheduled
        by the queue; the caller decides."""
        if self._current.pop(name, None) is not None:
            self._changed.set()

    async def take(self) -> str:
        """Wait until some name is due, mark it running and return it."""
        while True:
            self._changed.clear()
            timeout = self._pop_stale()
            if timeout is not None and timeout <= 0:
                _, _, name = heapq.heappop(self._heap)
                del self._current[name]
                self._running.add(name)
                return name
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # (a worker stopped when this replica loses the Lease would keep taking work).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._changed.wait()

    def done(self, name: str) -> None:
        """The worker finished with `name`; it may be scheduled again."""
        self._running.discard(name)

    def _pop_stale(self) -> float | None:
        """Drop replaced entries from the top; return seconds until the top is due, None if empty."""
        while self._heap:
            when, seq, name = self._heap[0]
            if self._current.get(name) == (when, seq):
                return when - self._clock()
            heapq.heappop(self._heap)
        return None

    def _compact(self) -> None:
        """Rebuild the heap when replaced entries outnumber live ones, so memory stays bounded."""
        if len(self._heap) > 64 and len(self._heap) > 2 * len(self._current):
            self._heap = [(when, seq, name) for name, (when, seq) in self._current.items()]
            heapq.heapify(self._heap)
