"""LeaseElectors run as tasks, for the Lease tests on the emulator and on the real control plane."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aimsource.kube import KubeClient
from aimsource.kube.lease import LeaseElector, LeaseSettings


@dataclass
class Candidate:
    """An elector running in a task, with the times its callbacks fired."""

    elector: LeaseElector
    task: asyncio.Task[None] | None = None
    started: list[float] = field(default_factory=list)
    stopped: list[float] = field(default_factory=list)

    @property
    def leading(self) -> bool:
        """What the operator knows of leadership: the callbacks it is given (started, not stopped since)."""
        return len(self.started) > len(self.stopped)

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def running_candidates(
    kube_client: KubeClient, settings: Callable[[str], LeaseSettings]
) -> AsyncIterator[Callable[[str], Candidate]]:
    """Yields `start(identity)`, which runs an elector with `settings(identity)`; stops them all after."""
    made: list[Candidate] = []

    def start(identity: str) -> Candidate:
        started: list[float] = []
        stopped: list[float] = []
        elector = LeaseElector(
            kube_client,
            settings(identity),
            on_started_leading=lambda: started.append(time.monotonic()),
            on_stopped_leading=lambda: stopped.append(time.monotonic()),
        )
        candidate = Candidate(elector, started=started, stopped=stopped)
        candidate.task = asyncio.create_task(candidate.elector.run())
        made.append(candidate)
        return candidate

    yield start
    for candidate in made:
        await candidate.stop()


async def until(predicate: Callable[[], bool], limit: float = 5.0) -> float:
    """Wait (polling) until the predicate holds; the time it took."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > limit:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.02)
    return time.monotonic() - started
