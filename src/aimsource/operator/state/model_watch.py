"""The watch of AIMClusterModels that keeps the model index current between lists.

Ours rather than kopf's: every model a sync creates comes back as an event, and kopf, which gives
each object a worker task and its handler machinery, spent about 1 ms of CPU on each - half of
what separated a first sync of 2,000 models from a bare client doing the same calls
(benchmarks/first_sync.py). Here an event is a JSON line decoded and folded into the index.

It starts from the resource version of the start-up list (`Resync.initial`), and continues from
the last version seen when a watch ends (the server ends each after about five minutes) or breaks
(retried with a backoff of at most `MAX_BACKOFF`). When that version is too old (410: an API
server restart, etcd compacted), the models and the sources are listed again (`Resync.reconcile`,
which also removes what was deleted meanwhile) and the watch starts from that list.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from aimsource.domain.resources import MODELS_PATH
from aimsource.kube import KubeClient, KubeError, WatchExpired
from aimsource.operator.state.resync import Resync

log = logging.getLogger("aimsource.operator")

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 5.0
"""Longest wait before watching again after a failure, in seconds: a watch that is down delays
nothing but the index, and the API server is back in seconds after a restart."""

ModelEvent = Callable[[str, Mapping[str, Any]], None]


class ModelWatch:
    def __init__(self, *, kube: KubeClient, resync: Resync, on_event: ModelEvent) -> None:
        self._kube = kube
        self._resync = resync
        self._on_event = on_event
        self.watching = asyncio.Event()
        """Set once the first watch call is accepted (readiness waits for it)."""
        self.expired = 0
        """Times the watch had to list again (410)."""

    async def run(self) -> None:
        """Watch until cancelled; never raises a KubeError (it logs and retries)."""
        version = self._resync.models_version
        failures = 0
        while True:
            try:
                if version is None:
                    await self._resync.reconcile(why="model watch expired")
                    version = self._resync.models_version
                    if version is None:
                        raise KubeError(f"the list of {MODELS_PATH} carried no resourceVersion")
                began = time.monotonic()
                async for event in self._kube.watch(MODELS_PATH, version, on_open=self.watching.set):
                    failures = 0
                    version = event.resource_version or version
                    if event.type != "BOOKMARK":
                        self._on_event(event.type, event.object)
                if time.monotonic() - began < FIRST_BACKOFF:  # ended at once: not in a tight loop
                    await asyncio.sleep(FIRST_BACKOFF)
            except WatchExpired:
                self.expired += 1
                log.info("model watch expired; listing the models again", extra={"resource_version": version})
                version = None
            except KubeError as exc:
                failures += 1
                delay = min(FIRST_BACKOFF * 2 ** (failures - 1), MAX_BACKOFF) * (0.5 + random.random() / 2)
                log.warning(
                    "model watch failed; watching again",
                    extra={"error": str(exc), "retry_in": round(delay, 2), "failures": failures},
                )
                await asyncio.sleep(delay)
