"""A long sync shows what it has done: a Progressing condition, and the same counts in a metric.

While a sync runs, `showing_progress` reads its `sync.pipeline.Tally` every second into the metric
`aimsource_sync_progress_images{source,state}`, and once the sync has run `FIRST_AFTER` seconds with
images to create, patches the source's status with a `Progressing` condition
(`created 500 of 2,000 images`, `domain.status.progress`) at most every `EVERY` seconds, only when
the counts moved. The sync's own status write replaces it when the sync ends. A failed progress
patch is logged and ends the patches of this sync, never the sync: its own write says what is wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from aimsource.domain.status.progress import with_progress
from aimsource.operator.metrics import Metrics
from aimsource.sync.pipeline import Tally

log = logging.getLogger("aimsource.operator")

FIRST_AFTER = 3.0
"""Seconds a sync runs before its status shows its progress: a short sync writes only its result."""
EVERY = 10.0
"""Seconds between two progress patches of one sync, at least."""
TICK = 1.0
"""Seconds between two readings of the counts (into the metric)."""


@contextlib.asynccontextmanager
async def showing_progress(
    *,
    source: str,
    tally: Tally,
    generation: int,
    status: Callable[[], Mapping[str, Any] | None],
    write: Callable[[Mapping[str, Any]], Awaitable[None]],
    metrics: Metrics,
    clock: Callable[[], float],
    first_after: float | None = None,
    every: float | None = None,
) -> AsyncIterator[None]:
    """Shows `tally` while the body runs; `status` gives the stored status, `write` patches it.
    `first_after` and `every` default to `FIRST_AFTER` and `EVERY`."""
    first_after = FIRST_AFTER if first_after is None else first_after
    every = EVERY if every is None else every
    stop = asyncio.Event()
    task = asyncio.create_task(
        _report(source, tally, generation, status, write, metrics, clock, stop, first_after, every),
        name=f"progress-{source}",
    )
    try:
        yield
    except asyncio.CancelledError:
        task.cancel()  # stopping (leadership lost, shutdown): no waiting for a patch in flight
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise
    finally:
        try:
            # A patch in flight is finished rather than cut, so that the stored status is known.
            stop.set()
            if not task.done():
                await task
        finally:
            metrics.set_sync_progress(source, None)


async def _report(
    source: str,
    tally: Tally,
    generation: int,
    status: Callable[[], Mapping[str, Any] | None],
    write: Callable[[Mapping[str, Any]], Awaitable[None]],
    metrics: Metrics,
    clock: Callable[[], float],
    stop: asyncio.Event,
    first_after: float,
    every: float,
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    patched_at: float | None = None
    patched: tuple[int, int, int, int] | None = None
    writing = True
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), TICK)
        if stop.is_set():
            return
        counts = (tally.total, tally.checked, tally.created, tally.refused)
        if not tally.total:
            continue  # still listing: nothing to count yet
        metrics.set_sync_progress(
            source, dict(zip(("total", "checked", "created", "refused"), counts, strict=True))
        )
        now = loop.time()
        due = now - started >= first_after and (patched_at is None or now - patched_at >= every)
        if not writing or not due or counts == patched:
            continue
        new = with_progress(
            status() or {},
            total=counts[0],
            checked=counts[1],
            created=counts[2],
            refused=counts[3],
            generation=generation,
            now=datetime.datetime.fromtimestamp(clock(), tz=datetime.UTC),
        )
        try:
            await write(new)
        except Exception as exc:  # the sync's own write reports a real problem
            log.warning("progress not written", extra={"error": str(exc)})
            writing = False
        patched_at, patched = loop.time(), counts
