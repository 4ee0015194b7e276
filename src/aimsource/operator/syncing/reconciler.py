"""Syncs out: the leader's workers take due sources from the table and write what a sync returned.

The table of known sources and the due-time queue live in `SourceTable` (operator/state/source_table.py),
kept up to date by watch events on every replica. Workers (`worker`, run by the leader only) take
due sources and run `sync_source`; this module then writes what it returned - the status when
something in it changed, events on creations and on a change into trouble - and reschedules from
the updated state. How a status is written, and the notices that are no sync's result (a held
sync, a pause), are in `StatusWriter` (status_writes.py). Nothing here deletes or edits a model.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from aimsource.domain.pushes.budgets import PushLimits
from aimsource.domain.pushes.payloads import Push
from aimsource.domain.resources import PENDING, PROGRESSING, READY
from aimsource.domain.status.build import initial_status
from aimsource.domain.status.paused import ignored_pause_message, ignored_pause_value
from aimsource.kube import KubeClient, KubeError, SourceGoneError
from aimsource.operator.coexistence.contests import Contests
from aimsource.operator.logs import source_context
from aimsource.operator.metrics import Metrics
from aimsource.operator.reporting import events_for, status_write_needed
from aimsource.operator.scheduling.schedule import Policy, decide
from aimsource.operator.scheduling.sources import SourceEntry, observe
from aimsource.operator.state.source_table import being_deleted, uid_of
from aimsource.operator.syncing.progress import showing_progress
from aimsource.operator.syncing.secrets import NamespaceSecrets
from aimsource.operator.syncing.status_writes import ContestedError, StatusWriter
from aimsource.registry.http.fairness import asking_for
from aimsource.sync.engine import Pace, SyncResult, Tally, sync_source
from aimsource.sync.incremental import CREATED, FULL, sync_push
from aimsource.sync.listing_budget import DEFAULT_PER_PROCESS, ListingBudget, TagBudget
from aimsource.sync.ports import ModelStore, TagLister
from aimsource.sync.push_heads import SharedHeads

log = logging.getLogger("aimsource.operator")


class Reconciler(StatusWriter):
    """The source table plus the sync side: workers that sync due sources and write what came back."""

    def __init__(
        self,
        *,
        kube: KubeClient,
        lister: TagLister,
        store: ModelStore,
        namespace: str,
        metrics: Metrics,
        policy: Policy,
        clock: Callable[[], float] = time.time,
        max_syncs_per_host: int | None = None,
        contests: Contests | None = None,
        push_limits: PushLimits | None = None,
        listing_budget: ListingBudget | None = None,
        learn_repository: Callable[[str, str], object] | None = None,
    ) -> None:
        """`learn_repository(registry, repository)`: tells the kept wildcard walks of a pushed
        repository that a wildcard matched (`CachingTagLister.learn`)."""
        super().__init__(
            metrics=metrics,
            policy=policy,
            clock=clock,
            max_syncs_per_host=max_syncs_per_host,
            contests=contests,
        )
        self._kube = kube
        self._lister = lister
        self._learn_repository = learn_repository
        self._store = store
        self._secrets = NamespaceSecrets(kube, namespace)
        self._budget = listing_budget or ListingBudget(process=TagBudget(DEFAULT_PER_PROCESS))
        """The tags listings may hold: per sync, and for all syncs together (one `TagBudget`)."""
        self.heads = SharedHeads(lister, limits=push_limits or PushLimits(), clock=clock)
        """Push HEADs: bounded per source and registry, shared between sources, misses remembered."""
        # Each sync checks and creates `creates_per_source` images at once; all of them together
        # have at most `max_creates` creates in flight.
        self._pace = Pace(concurrency=policy.creates_per_source, shared=asyncio.Semaphore(policy.max_creates))

    # --- sync side (the leader's workers) ------------------------------------------------------
    async def worker(self) -> None:
        """Take due sources forever; cancelled when this replica stops leading."""
        while True:
            name = await self.queue.take()
            try:
                with source_context(name):
                    await self.sync_one(name)
            except Exception:  # a worker must survive whatever one source does
                log.exception("sync crashed", extra={"source": name})
            finally:
                self.queue.done(name)
                entry = self.table.get(name)
                if entry is not None:
                    try:
                        self._reschedule(entry)
                    except Exception:  # a worker must survive whatever one source does
                        log.exception("reschedule failed", extra={"source": name})

    async def sync_one(self, name: str) -> None:
        entry = self.table.get(name)
        if entry is None:
            return
        try:
            fresh = await self._refresh(entry)
        except KubeError as exc:
            self._failed(entry, self._clock())
            log.warning("sync failed: source not read", extra={"error": str(exc)})
            return
        if fresh is None or being_deleted(fresh.body):
            return
        entry = fresh
        if await self._stands_down(entry) or await self._pause_or_resume(entry):
            return
        if name in self.notices and await self._show_held(entry):
            return
        pushes = self.pending.pop(name, None)
        if pushes and decide(entry.state, self._clock(), self._policy).when > self._clock():
            await self._sync_pushes(entry, pushes)
            return
        started = self._clock()
        state = entry.state
        entry.state = replace(
            state, last_attempt=started, handled_request=state.requested, push_requested=False
        )
        body = entry.body
        uid = uid_of(body)  # the object this sync is for: its status writes are guarded by it
        log.info("sync started", extra={"generation": state.generation, "why": self.why.get(name, "")})
        if (value := ignored_pause_value(body.get("metadata"))) is not None:
            log.warning("not paused", extra={"why": ignored_pause_message(value)})
        try:
            await self._mark_in_progress(entry, generation=state.generation, uid=uid)
            tally = Tally()
            async with self._showing_progress(entry, tally, generation=state.generation, uid=uid):
                result = await sync_source(
                    body,
                    lister=self._lister,
                    store=self._store,
                    secrets=self._secrets,
                    now=datetime.datetime.fromtimestamp(started, tz=datetime.UTC),
                    previous=entry.status,
                    budget=self._budget,
                    pace=self._pace,
                    tally=tally,
                )
            await self._report(entry, body, result, uid=uid)
        except SourceGoneError as exc:
            self._source_gone(entry, uid, exc)
            return
        except ContestedError:
            return  # announced by the check; the models this sync created stay, as every model does
        except KubeError as exc:
            self._failed(entry, started)
            log.warning("sync failed", extra={"error": str(exc)})
            return
        except Exception:
            # A bug must not kill the worker or stop the other sources; it retries with backoff.
            self._failed(entry, started)
            log.exception("sync crashed")
            return
        if result.plan is not None:
            self.owned[name] = result.plan.owned_before + len(result.created)
        self.matched.remember(name, result.outcomes)
        outcome = result.status.get("status")
        invalid = result.source is None  # won't get better until the spec changes: no backoff
        failures = 0 if outcome == READY or invalid else entry.state.failures + 1
        entry.state = replace(
            entry.state,
            failures=failures,
            synced_generation=state.generation,
            last_sync=self._clock(),
            inherited=False,
        )
        self._metrics.sync_finished(str(outcome), self._clock() - started, created=len(result.created))
        self._count_sources()
        log.info(
            "sync finished",
            extra={
                "status": outcome,
                "models_created": len(result.created),
                "available": result.status.get("availableModels"),
                "discovered": result.status.get("discoveredModels"),
                "seconds": round(self._clock() - started, 3),
            },
        )

    def _showing_progress(
        self, entry: SourceEntry, tally: Tally, *, generation: int, uid: str | None
    ) -> contextlib.AbstractAsyncContextManager[None]:
        """A long sync's Progressing condition and progress metric (`syncing.progress`)."""

        async def write(status: Mapping[str, Any]) -> None:
            await self._write(entry, status, uid=uid)

        return showing_progress(
            source=entry.name,
            tally=tally,
            generation=generation,
            status=lambda: entry.status,
            write=write,
            metrics=self._metrics,
            clock=self._clock,
        )

    async def _refresh(self, entry: SourceEntry) -> SourceEntry | None:
        """Checks the source as stored now (a GET): the watch may have missed its deletion or its
        recreation (after a re-list kopf sends no DELETED). Gone or another uid: the entry is
        dropped (a newer object is taken as a new source, rescheduled when this worker finishes).
        Being deleted: that is folded in. Otherwise the sync goes on with what the watch gave."""
        body = await self._kube.get_source(entry.name)
        if body is None or uid_of(body) != uid_of(entry.body):
            if self.table.get(entry.name) is entry:
                self._forget(entry.name, "source gone before its sync: dropped")
                if body is not None:
                    self.on_source_event(None, body)
            return None
        if self.table.get(entry.name) is not entry:
            return None  # replaced by a watch event while we read; that entry is synced on its own
        if being_deleted(body) and not being_deleted(entry.body):
            return observe(entry, body)
        return entry

    async def _sync_pushes(self, entry: SourceEntry, pushes: Sequence[Push]) -> None:
        """Decide each pushed tag alone; the first that cannot be ends in a full sync (which
        covers the rest: it lists the repositories)."""
        uid = uid_of(entry.body)
        for push in pushes:
            try:
                # The source's party in the hosts' fair share, as its full syncs: never two shares.
                with asking_for(entry.name):
                    result = await sync_push(
                        entry.body,
                        push,
                        lister=self._lister,
                        store=self._store,
                        secrets=self._secrets,
                        previous=entry.status,
                        owned_at_last_sync=self.owned.get(entry.name),
                        heads=self.heads,
                        matched=self.matched.of(entry.name),
                    )
                self._metrics.push_synced(result.result, created=len(result.created))
                log.info("push synced", extra={"push": str(push), "result": result.result, "why": result.why})
                if result.result == CREATED and result.status is not None:
                    self.owned[entry.name] = result.owned_now or 0
                    for index in result.new_repository:  # new to the source's wildcards: theirs now,
                        self.matched.learn(entry.name, index, push.repository)
                    if result.new_repository and self._learn_repository is not None:
                        self._learn_repository(push.registry, push.repository)  # and the kept walks'

                    done = SyncResult(status=result.status, plan=None, outcomes=(), created=result.created)
                    await self._report(entry, entry.body, done, uid=uid)
            except SourceGoneError as exc:
                self._source_gone(entry, uid, exc)
                return
            except ContestedError:
                self.pending.pop(entry.name, None)
                return
            except Exception as exc:  # an API failure or a bug: the full sync retries with backoff
                log.warning("push sync failed", extra={"push": str(push), "error": str(exc)})
                result = None
            if result is None or result.result == FULL:
                entry.state = replace(entry.state, push_requested=True)
                return

    async def _stands_down(self, entry: SourceEntry) -> bool:
        """Whether another controller manages the source: then this sync lists nothing, creates
        nothing and writes nothing, and the source is checked again when the other's claim lapses
        (or at its interval, whichever comes first). Entering a contest is announced once."""
        now = self._clock()
        verdict = self.contests.check(entry.name, entry.body, now)
        if not verdict.contested:
            return False
        state = entry.state
        # Recorded as handled so that a spec change, a request or a push does not retry every
        # minimum interval while the other controller holds the source.
        entry.state = replace(
            state,
            last_attempt=now,
            last_sync=now,
            synced_generation=state.generation,
            handled_request=state.requested,
            push_requested=False,
            inherited=False,
        )
        self.pending.pop(entry.name, None)
        await self._announce(entry, verdict.event)
        return True

    def _failed(self, entry: SourceEntry, started: float) -> None:
        entry.state = replace(entry.state, failures=entry.state.failures + 1)
        self._metrics.sync_finished("Error", self._clock() - started, created=0)

    async def _mark_in_progress(self, entry: SourceEntry, *, generation: int, uid: str | None) -> None:
        """Pending on first sight; Progressing while a sync for a new generation runs."""
        if not entry.status:
            await self._write(entry, initial_status(), uid=uid)
        elif entry.status.get("observedGeneration") != generation and entry.status.get("status") not in (
            PENDING,
            PROGRESSING,
        ):
            await self._write(entry, {**entry.status, "status": PROGRESSING}, uid=uid)

    async def _report(
        self, entry: SourceEntry, body: Mapping[str, Any], result: SyncResult, *, uid: str | None
    ) -> None:
        new = result.status
        before, settled_before = entry.status, entry.settled
        if status_write_needed(before, new):
            # The watch may deliver this very write (and `observe` fold it into the entry) before
            # the call returns, as a real API server does: judge the change against what was before.
            await self._write(entry, new, uid=uid)
        for event in events_for(
            settled_before=settled_before, new=new, created=result.created, previous=before
        ):
            try:
                await self._kube.post_event(body, type=event.type, reason=event.reason, message=event.message)
            except KubeError as exc:
                log.warning("event not posted", extra={"reason": event.reason, "error": str(exc)})
        if new.get("status") not in (PENDING, PROGRESSING):
            entry.settled = new.get("status")


async def run_workers(reconciler: Reconciler, count: int) -> None:
    """The bounded pool: `count` workers until cancelled."""
    workers = [asyncio.create_task(reconciler.worker(), name=f"sync-worker-{i}") for i in range(count)]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
