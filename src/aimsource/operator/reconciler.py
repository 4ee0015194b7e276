"""Sources in, syncs out: the table of known sources, the due-time queue, and one sync's effects.

Watch events (`on_source_event`) only update the table and the queue. Workers (`worker`, run by the
leader only) take due sources and run `sync_source`; this module then writes what it returned -
the status when something in it changed, events on creations and on a change into trouble - and
reschedules from the updated state. Nothing here deletes or edits a model.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from aimsource.domain.push_payloads import Push
from aimsource.domain.status import PENDING, PROGRESSING, READY, initial_status
from aimsource.kube import KubeClient, KubeError, SourceGoneError
from aimsource.kube import SecretError as KubeSecretError
from aimsource.kube.client import FIELD_MANAGER
from aimsource.operator.contests import Contests
from aimsource.operator.logs import source_context
from aimsource.operator.metrics import Metrics, SourceFacts
from aimsource.operator.push_routes import PushRoutes
from aimsource.operator.queue import SyncQueue
from aimsource.operator.reporting import EventSpec, events_for, status_write_needed
from aimsource.operator.schedule import Policy, decide
from aimsource.operator.shares import hosts_of
from aimsource.operator.sources import SourceEntry, observe, parse_time
from aimsource.sync.engine import SyncResult, sync_source
from aimsource.sync.incremental import CREATED, FULL, sync_push
from aimsource.sync.ports import ModelStore, SecretError, TagLister

log = logging.getLogger("aimsource.operator")

MAX_PENDING_PUSHES = 64
"""Pushes waiting for one source; past it the source gets one full sync instead (a burst of pushes
to one repository costs one listing, not hundreds of HEADs)."""


class NamespaceSecrets:
    """`sync.ports.SecretReader` over the operator namespace; secrets are read on every sync."""

    def __init__(self, kube: KubeClient, namespace: str) -> None:
        self._kube = kube
        self._namespace = namespace

    async def read(self, name: str, *, source: str) -> bytes:
        try:
            return await self._kube.read_pull_secret(self._namespace, name, source=source)
        except KubeSecretError as exc:
            raise SecretError(str(exc)) from None


class Reconciler:
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
    ) -> None:
        self._kube = kube
        self._lister = lister
        self._store = store
        self._secrets = NamespaceSecrets(kube, namespace)
        self._metrics = metrics
        self._policy = policy
        self._clock = clock
        self.table: dict[str, SourceEntry] = {}
        self.queue = SyncQueue(clock, per_host=max_syncs_per_host, on_waiting=metrics.set_waiting_for_share)
        self.why: dict[str, str] = {}
        """Why each source is scheduled (for the "sync started" log line)."""
        self._touched: set[str] | None = None
        """While a LIST of sources is read: the names that watch events touched meanwhile."""
        self.routes = PushRoutes()
        self.pending: dict[str, list[Push]] = {}
        """Pushed tags waiting for an incremental sync, by source."""
        self.owned: dict[str, int] = {}
        """Models each source owned when its last sync here ended (None: not synced here yet)."""
        self.contests = contests or Contests(ours=FIELD_MANAGER, on_count=metrics.set_contested)
        """Sources another controller manages: this operator stands down for them."""

    # --- watch side (every replica) -------------------------------------------------------------
    def on_source_event(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        name = str((body.get("metadata") or {}).get("name"))
        if self._touched is not None:
            self._touched.add(name)
        if event_type == "DELETED":
            self._forget(name, "source deleted")
            return
        if (old := self.table.get(name)) is not None and _uid(old.body) != _uid(body):
            self._forget(name, "source recreated")  # a new object: nothing of the old one carries over
        first = name not in self.table
        entry = observe(self.table.get(name), body)
        self.routes.update(name, body)
        self.table[name] = entry
        # A new competitor is handled at once (announced, and nothing more written), not at the
        # next interval: its own writes of lastSyncTime would keep pushing that back.
        self._reschedule(entry, first=first, contest=self.contests.fresh(name, body, self._clock()))
        self._count_sources()

    def _forget(self, name: str, why: str) -> None:
        if self.table.pop(name, None) is not None:
            self.queue.discard(name)
            self.why.pop(name, None)
            self._forget_pushes(name)
            log.info(why, extra={"source": name})
        self._count_sources()

    # --- re-lists (see `resync`) ----------------------------------------------------------------
    def begin_source_listing(self) -> None:
        self._touched = set()

    def finish_source_listing(self, listed: Mapping[str, Mapping[str, Any]] | None) -> int:
        """Fold a LIST of sources in (None: the LIST failed): sources it does not show were deleted
        while the watch was away, ones it shows that the table lacks or holds under another uid are
        taken; names that watch events touched during the LIST keep what the events said.
        Returns how many sources were dropped."""
        touched, self._touched = self._touched or set(), None
        if listed is None:
            return 0
        dropped = 0
        for name in [n for n in self.table if n not in listed and n not in touched]:
            self._forget(name, "source deleted (seen by a re-list)")
            dropped += 1
        for name, body in listed.items():
            entry = self.table.get(name)
            if name not in touched and (entry is None or _uid(entry.body) != _uid(body)):
                self.on_source_event(None, body)
        return dropped

    def _reschedule(self, entry: SourceEntry, *, first: bool = False, contest: bool = False) -> None:
        if self.queue.is_running(entry.name):
            return  # the worker reschedules from the latest state when the sync ends
        if _deleting(entry.body):
            # Being deleted (foreground deletion, a finalizer of someone else's): a sync would create
            # models that the garbage collector is deleting. It stays known until it is gone.
            if entry.name in self.queue or first:
                log.info("source is being deleted: not synced", extra={"source": entry.name})
            self.queue.discard(entry.name)
            self.why.pop(entry.name, None)
            return
        at = self._clock()
        decision = decide(entry.state, at, self._policy)
        if contest:
            decision = replace(decision, when=at, why="another controller writes the status")
        if self.pending.get(entry.name) and decision.when > at:
            # An incremental sync lists nothing: the minimum interval between listings does not hold it.
            decision = replace(decision, when=at, why="push event")
        lapses = self.contests.recheck_at(entry.name)
        if lapses is not None and lapses < decision.when:
            decision = replace(decision, when=lapses, why="competing controller's window ends")
        before = self.queue.due(entry.name)
        self.queue.schedule(entry.name, decision.when, hosts_of(entry.body))
        self.why[entry.name] = decision.why
        if first or before is None or abs(before - decision.when) > 0.001:
            log.debug(
                "sync scheduled",
                extra={"source": entry.name, "why": decision.why, "in_seconds": round(decision.when - at, 3)},
            )

    def _forget_pushes(self, name: str) -> None:
        self.routes.remove(name)
        self.pending.pop(name, None)
        self.owned.pop(name, None)
        self.contests.forget(name)

    # --- push events (the leader's receiver) ----------------------------------------------------
    def on_pushes(self, pushes: Sequence[Push]) -> int:
        """Queue pushed tags for the sources that cover their repositories; returns how many
        sources that is. A push without a tag, or past the per-source bound, asks for a full sync."""
        touched: set[str] = set()
        for push in pushes:
            for name in self.routes.sources_for(push.registry, push.repository):
                entry = self.table.get(name)
                if entry is None:
                    continue
                waiting = self.pending.setdefault(name, [])
                if push.tag is None or len(waiting) >= MAX_PENDING_PUSHES:
                    entry.state = replace(entry.state, push_requested=True)
                    self.pending.pop(name, None)
                elif push not in waiting:
                    waiting.append(push)
                touched.add(name)
        for name in touched:
            self._reschedule(self.table[name])
        return len(touched)

    def _count_sources(self) -> None:
        counts = Counter((e.status or {}).get("status") or PENDING for e in self.table.values())
        self._metrics.set_sources(counts)
        self._metrics.set_source_facts(
            {
                name: SourceFacts(
                    status=str((e.status or {}).get("status") or PENDING),
                    last_success=parse_time((e.status or {}).get("lastSyncTime")),
                    interval=e.state.interval,
                )
                for name, e in self.table.items()
            }
        )

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
        if fresh is None or _deleting(fresh.body):
            return
        entry = fresh
        if await self._stands_down(entry):
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
        uid = _uid(body)  # the object this sync is for: its status writes are guarded by it
        log.info("sync started", extra={"generation": state.generation, "why": self.why.get(name, "")})
        try:
            await self._mark_in_progress(entry, generation=state.generation, uid=uid)
            result = await sync_source(
                body,
                lister=self._lister,
                store=self._store,
                secrets=self._secrets,
                now=datetime.datetime.fromtimestamp(started, tz=datetime.UTC),
                previous=entry.status,
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

    async def _refresh(self, entry: SourceEntry) -> SourceEntry | None:
        """Checks the source as stored now (a GET): the watch may have missed its deletion or its
        recreation (after a re-list kopf sends no DELETED). Gone or another uid: the entry is
        dropped (a newer object is taken as a new source, rescheduled when this worker finishes).
        Being deleted: that is folded in. Otherwise the sync goes on with what the watch gave."""
        body = await self._kube.get_source(entry.name)
        if body is None or _uid(body) != _uid(entry.body):
            if self.table.get(entry.name) is entry:
                self._forget(entry.name, "source gone before its sync: dropped")
                if body is not None:
                    self.on_source_event(None, body)
            return None
        if self.table.get(entry.name) is not entry:
            return None  # replaced by a watch event while we read; that entry is synced on its own
        if _deleting(body) and not _deleting(entry.body):
            return observe(entry, body)
        return entry

    async def _sync_pushes(self, entry: SourceEntry, pushes: Sequence[Push]) -> None:
        """Decide each pushed tag alone; the first that cannot be ends in a full sync (which
        covers the rest: it lists the repositories)."""
        uid = _uid(entry.body)
        for push in pushes:
            try:
                result = await sync_push(
                    entry.body,
                    push,
                    lister=self._lister,
                    store=self._store,
                    secrets=self._secrets,
                    previous=entry.status,
                    owned_at_last_sync=self.owned.get(entry.name),
                )
                self._metrics.push_synced(result.result, created=len(result.created))
                log.info("push synced", extra={"push": str(push), "result": result.result, "why": result.why})
                if result.result == CREATED and result.status is not None:
                    self.owned[entry.name] = result.owned_now or 0
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

    def _source_gone(self, entry: SourceEntry, uid: str | None, exc: SourceGoneError) -> None:
        """Deleted, or recreated under the same name, while we synced: this sync's result is dropped.

        A newer object (a different uid) already in the table is synced on its own; an entry still
        holding the gone object is forgotten, as a missed DELETED event would have done.
        """
        log.info("source gone during the sync: result dropped", extra={"error": str(exc)})
        if self.table.get(entry.name) is entry and _uid(entry.body) == uid:
            self.table.pop(entry.name, None)
            self.queue.discard(entry.name)
            self.why.pop(entry.name, None)
            self._forget_pushes(entry.name)
            self._count_sources()

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

    async def _announce(self, entry: SourceEntry, event: EventSpec | None) -> None:
        if event is not None:
            try:
                await self._kube.post_event(
                    entry.body, type=event.type, reason=event.reason, message=event.message
                )
            except KubeError as exc:
                log.warning("event not posted", extra={"reason": event.reason, "error": str(exc)})

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

    async def _write(self, entry: SourceEntry, status: Mapping[str, Any], *, uid: str | None) -> None:
        """One patch of the status subresource, guarded by the source's uid (SourceGoneError when it
        no longer matches); keys that disappeared are removed. Not when another controller took the
        source during the sync (the latest watched object says so): ContestedError."""
        verdict = self.contests.check(entry.name, entry.body, self._clock())
        if verdict.contested:
            await self._announce(entry, verdict.event)
            raise ContestedError(entry.name)
        patch: dict[str, Any] = {key: None for key in (entry.status or {}) if key not in status}
        patch.update(status)
        await self._kube.patch_source_status(entry.name, patch, uid=uid)
        before = entry.status or {}
        changed = sorted(k for k in {*before, *status} if before.get(k) != status.get(k))
        entry.status = dict(status)
        log.debug("status written", extra={"status": status.get("status"), "changed": ",".join(changed)})


def _deleting(body: Mapping[str, Any]) -> bool:
    return bool((body.get("metadata") or {}).get("deletionTimestamp"))


class ContestedError(Exception):
    """Another controller took the source during this sync: nothing more is written."""


def _uid(body: Mapping[str, Any]) -> str | None:
    uid = (body.get("metadata") or {}).get("uid")
    return uid if isinstance(uid, str) and uid else None


async def run_workers(reconciler: Reconciler, count: int) -> None:
    """The bounded pool: `count` workers until cancelled."""
    workers = [asyncio.create_task(reconciler.worker(), name=f"sync-worker-{i}") for i in range(count)]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
