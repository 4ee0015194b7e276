"""The table of known sources and when each is due: the watch side of the operator (every replica).

Watch events (`on_source_event`), re-lists and push events only update the table and the queue here;
`Reconciler` (operator/syncing/reconciler.py) adds the sync side on top, run by the leader only. Nothing here
reads a registry or writes to the API.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from aimsource.domain.pushes.payloads import Push
from aimsource.domain.resources import PENDING
from aimsource.kube import SourceGoneError
from aimsource.kube.client import FIELD_MANAGER
from aimsource.operator.coexistence.contests import Contests
from aimsource.operator.metrics import Metrics, SourceFacts
from aimsource.operator.scheduling.held import notice_key, wants_notice
from aimsource.operator.scheduling.queue import SyncQueue
from aimsource.operator.scheduling.schedule import NEVER, Policy, decide
from aimsource.operator.scheduling.shares import hosts_of
from aimsource.operator.scheduling.sources import SourceEntry, observe
from aimsource.operator.state.success import LastSuccess
from aimsource.operator.webhook.routes import PushRoutes
from aimsource.sync.discovery import SourceRepositories

log = logging.getLogger("aimsource.operator")

MAX_PENDING_PUSHES = 64
"""Pushes waiting for one source; past it the source gets one full sync instead (a burst of pushes
to one repository costs one listing, not hundreds of HEADs)."""


class SourceTable:
    """Known sources, their schedule and pending pushes; rescheduled on every change."""

    def __init__(
        self,
        *,
        metrics: Metrics,
        policy: Policy,
        clock: Callable[[], float],
        max_syncs_per_host: int | None = None,
        contests: Contests | None = None,
    ) -> None:
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
        self.matched = SourceRepositories()
        """The repositories each source's wildcard filters matched at its last sync here."""
        self.contests = contests or Contests(ours=FIELD_MANAGER, on_count=metrics.set_contested)
        """Sources another controller manages: this operator stands down for them."""
        self.last_success = LastSuccess()
        """When each source last synced successfully (not `lastSyncTime`: that moves on a 401)."""
        self.notices: set[str] = set()
        """Sources whose next take only shows a held spec change or request (operator/held.py)."""
        self.noticed: dict[str, tuple[int, str | None]] = {}
        """What was last shown as held, per source: each change or request is shown once."""

    # --- watch side (every replica) -------------------------------------------------------------
    def on_source_event(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        name = str((body.get("metadata") or {}).get("name"))
        if self._touched is not None:
            self._touched.add(name)
        if event_type == "DELETED":
            self._forget(name, "source deleted")
            return
        if (old := self.table.get(name)) is not None and uid_of(old.body) != uid_of(body):
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
            if name not in touched and (entry is None or uid_of(entry.body) != uid_of(body)):
                self.on_source_event(None, body)
        return dropped

    def _reschedule(self, entry: SourceEntry, *, first: bool = False, contest: bool = False) -> None:
        if self.queue.is_running(entry.name):
            return  # the worker reschedules from the latest state when the sync ends
        if being_deleted(entry.body):
            # Being deleted (foreground deletion, a finalizer of someone else's): a sync would create
            # models that the garbage collector is deleting. It stays known until it is gone.
            if entry.name in self.queue or first:
                log.info("source is being deleted: not synced", extra={"source": entry.name})
            self.queue.discard(entry.name)
            self.why.pop(entry.name, None)
            return
        at = self._clock()
        decision = decide(entry.state, at, self._policy)
        if decision.when == NEVER:
            # Paused, and its status says so: nothing to do until the annotation goes.
            if entry.name in self.queue or first:
                log.info("source paused: not synced", extra={"source": entry.name})
            self.queue.discard(entry.name)
            self.why.pop(entry.name, None)
            return
        if contest:
            decision = replace(decision, when=at, why="another controller writes the status")
        if self.pending.get(entry.name) and decision.when > at:
            # An incremental sync lists nothing: the minimum interval between listings does not hold it.
            decision = replace(decision, when=at, why="push event")
        lapses = self.contests.recheck_at(entry.name)
        if lapses is not None and lapses < decision.when:
            decision = replace(decision, when=lapses, why="competing controller's window ends")
        if wants_notice(decision) and self.noticed.get(entry.name) != notice_key(entry.state):
            self.notices.add(entry.name)  # taken at once: the leader shows it in the status, then waits
            decision = replace(decision, when=at)
        before = self.queue.due(entry.name)
        self.queue.schedule(entry.name, decision.when, hosts_of(entry.body))
        self.why[entry.name] = decision.why
        if first or before is None or abs(before - decision.when) > 0.001:
            log.debug(
                "sync scheduled",
                extra={"source": entry.name, "why": decision.why, "in_seconds": round(decision.when - at, 3)},
            )

    def _source_gone(self, entry: SourceEntry, uid: str | None, exc: SourceGoneError) -> None:
        """Deleted, or recreated under the same name, while we synced: this sync's result is dropped.

        A newer object (a different uid) already in the table is synced on its own; an entry still
        holding the gone object is forgotten, as a missed DELETED event would have done.
        """
        log.info("source gone during the sync: result dropped", extra={"error": str(exc)})
        if self.table.get(entry.name) is entry and uid_of(entry.body) == uid:
            self.table.pop(entry.name, None)
            self.queue.discard(entry.name)
            self.why.pop(entry.name, None)
            self._forget_pushes(entry.name)
            self._count_sources()

    def _forget_pushes(self, name: str) -> None:
        self.routes.remove(name)
        self.pending.pop(name, None)
        self.owned.pop(name, None)
        self.matched.forget(name)
        self.contests.forget(name)
        self.last_success.forget(name)
        self.notices.discard(name)
        self.noticed.pop(name, None)

    # --- push events (the leader's receiver) ----------------------------------------------------
    def on_pushes(self, pushes: Sequence[Push]) -> int:
        """Queue pushed tags for the sources that cover their repositories; returns how many
        sources that is. A push without a tag, or past the per-source bound, asks for a full sync;
        while one is asked for, further pushes are folded into it (it lists the repositories)."""
        touched: set[str] = set()
        for push in pushes:
            for name in self.routes.sources_for(push.registry, push.repository):
                entry = self.table.get(name)
                if entry is None:
                    continue
                if entry.state.paused:
                    # Nothing is synced while paused; the sync that follows the resume lists it all.
                    log.info("push ignored: source paused", extra={"source": name, "push": str(push)})
                    continue
                touched.add(name)
                if entry.state.push_requested:
                    continue  # a full sync is asked for already: it covers this push too
                waiting = self.pending.setdefault(name, [])
                if push.tag is None or len(waiting) >= MAX_PENDING_PUSHES:
                    entry.state = replace(entry.state, push_requested=True)
                    self.pending.pop(name, None)
                elif push not in waiting:
                    waiting.append(push)
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
                    last_success=self.last_success.of(name, e.status),
                    interval=e.state.interval,
                    paused=e.state.paused,
                )
                for name, e in self.table.items()
            }
        )


def being_deleted(body: Mapping[str, Any]) -> bool:
    return bool((body.get("metadata") or {}).get("deletionTimestamp"))


def uid_of(body: Mapping[str, Any]) -> str | None:
    uid = (body.get("metadata") or {}).get("uid")
    return uid if isinstance(uid, str) and uid else None
