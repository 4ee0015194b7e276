"""Keeping the operator's picture of the cluster equal to the server's: first lists, and re-lists.

At start-up, before anything is watched or synced, the sources and the models are listed
page by page (`limit`/`continue`), which is also how a missing CRD shows: its collection is not
served (404) - the operator waits for it for a bounded time, then fails naming it; kopf, which
looks for the resources once, would otherwise never watch them and idle. `/readyz` waits for
these lists.

Later, a watch can miss deletions (see `inventory`): whenever kopf re-lists the sources - its
re-listed objects arrive as events of type None, which only a listing sends -, when the watch of
models (`model_watch`) must list again, and on a schedule, both collections are listed again and
the model index and the source table are reconciled with them. A burst of re-listed events asks
for one reconcile once it has settled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from aimsource.domain.resources import MODEL_CRD, MODELS_PATH, SOURCE_CRD, SOURCES_PATH
from aimsource.kube import KubeClient, KubeError, NotFoundError
from aimsource.operator.state.inventory import ModelInventory, ReconcileResult

log = logging.getLogger("aimsource.operator")

COLLECTIONS = {SOURCES_PATH: SOURCE_CRD, MODELS_PATH: MODEL_CRD}  # path -> the CRD that serves it
PAGE_SIZE = 500
"""Items per page of every list: the API server's own chunk size for a full list is 500."""


class CrdNotServedError(Exception):
    """A CRD of ours is not served within the bound; the message names it."""


class SourceTable(Protocol):
    """The reconciler's side of a source re-list (see `Reconciler.begin_source_listing`)."""

    def begin_source_listing(self) -> None: ...
    def finish_source_listing(self, listed: Mapping[str, Mapping[str, Any]] | None) -> int: ...


class Resync:
    def __init__(
        self,
        *,
        kube: KubeClient,
        inventory: ModelInventory,
        sources: SourceTable,
        on_models_changed: Callable[[], None],
        interval: float,
        crd_wait: float,
        settle: float = 2.0,
        page_size: int = PAGE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._kube = kube
        self._inventory = inventory
        self._sources = sources
        self._on_models_changed = on_models_changed
        self._interval = interval
        self._crd_wait = crd_wait
        self._settle = settle
        self._page_size = page_size
        self._clock = clock
        self.listed = asyncio.Event()
        """Set once the first lists of sources and models are in."""
        self._requested_at: float | None = None
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()  # one reconcile at a time: the schedule's and the model watch's
        self.reconciles = 0
        self.models_version: str | None = None
        """The resourceVersion of the last complete list of models: where their watch starts."""

    async def initial(self) -> None:
        """Wait (bounded) until both collections are served, then list them; CrdNotServedError."""
        deadline = self._clock() + self._crd_wait
        for path, crd in COLLECTIONS.items():
            await self._wait_served(path, crd, deadline)
        await self.reconcile(why="start-up")
        self.listed.set()

    async def _wait_served(self, path: str, crd: str, deadline: float) -> None:
        waited = False
        while True:
            try:
                await self._kube.request("GET", path, params={"limit": "1"})
                if waited:
                    log.info("custom resource served", extra={"crd": crd})
                return
            except NotFoundError:
                problem = (
                    f"the CustomResourceDefinition {crd} is not installed or not established"
                    " (its resources are not served)"
                )
            except KubeError as exc:
                problem = f"{crd}: its resources cannot be listed: {exc}"
            if self._clock() >= deadline:
                raise CrdNotServedError(
                    f"{problem}; gave up after {self._crd_wait:g}s."
                    " Install the CRDs (deploy/crds) before the operator."
                )
            if not waited:
                log.warning("waiting for a custom resource", extra={"crd": crd, "error": problem})
                waited = True
            await asyncio.sleep(1.0)

    def relisted(self) -> None:
        """kopf delivered a re-listed object: reconcile once the burst has settled."""
        if not self.listed.is_set():
            return
        self._requested_at = self._clock()
        self._wake.set()

    async def run(self) -> None:
        """Reconcile on request (after a re-list) and every `interval`; runs until cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            why = "schedule"
            while self._requested_at is not None:
                quiet = self._requested_at + self._settle - self._clock()
                if quiet <= 0:
                    why = "watch re-listed"
                    break
                await asyncio.sleep(quiet)
            self._wake.clear()
            self._requested_at = None
            try:
                await self.reconcile(why=why)
            except KubeError as exc:  # the watch still runs; the next request or schedule retries
                log.warning("index reconcile failed", extra={"error": str(exc)})

    async def reconcile(self, *, why: str) -> tuple[ReconcileResult, int]:
        """List the models and the sources and fold both in; (models result, sources dropped)."""
        async with self._lock:
            return await self._reconcile(why)

    async def _reconcile(self, why: str) -> tuple[ReconcileResult, int]:
        versions: list[str] = []
        pages = self._kube.list_pages(MODELS_PATH, page_size=self._page_size, on_version=versions.append)
        result = await self._inventory.reconcile(pages)
        if versions:
            self.models_version = versions[-1]
        self._on_models_changed()
        self._sources.begin_source_listing()
        listed: dict[str, Mapping[str, Any]] | None = None
        try:
            listed = {}
            async for page in self._kube.list_pages(SOURCES_PATH, page_size=self._page_size):
                for body in page:
                    name = (body.get("metadata") or {}).get("name")
                    if isinstance(name, str):
                        listed[name] = body
        except BaseException:
            listed = None
            raise
        finally:
            dropped = self._sources.finish_source_listing(listed)
        self.reconciles += 1
        level = logging.INFO if result.added or result.removed or dropped else logging.DEBUG
        log.log(
            level,
            "index reconciled",
            extra={
                "why": why,
                "models": result.listed,
                "models_added": result.added,
                "models_removed": result.removed,
                "sources": len(listed or ()),
                "sources_dropped": dropped,
            },
        )
        return result, dropped
