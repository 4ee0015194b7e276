"""Only the leader syncs: start the worker pool when leading, cancel it the moment leading stops.

Every replica watches (so a standby's index and queue are warm when it takes over); the Lease
decides which one runs the workers. `kube.LeaseElector` calls `start`/`stop`; `stop` cancels the
running syncs and waits for them, so a replica that loses the Lease writes nothing afterwards.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger("aimsource.operator")


class WorkerSwitch:
    def __init__(
        self,
        run_pool: Callable[[], Coroutine[Any, Any, None]],
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self._run_pool = run_pool
        self._on_change = on_change
        """Told True when syncs start here, False when they stop (the aimsource_leader gauge)."""
        self._task: asyncio.Task[None] | None = None

    @property
    def leading(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.leading:
            log.info("leading: syncs started")
            self._task = asyncio.create_task(self._run_pool(), name="sync-workers")
            if self._on_change is not None:
                self._on_change(True)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            if self._on_change is not None:
                self._on_change(False)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            log.info("not leading: syncs stopped")
