"""The leader's status writes, and the ones that only tell what is going on.

`StatusWriter` is the source table (operator/state/source_table.py) plus the one way the leader
writes a source's status - `_write`: one patch of the status subresource, guarded by the source's
uid and by the check that no other controller took it - and the notices made with it, which are no
sync's result: a spec change or request held by the minimum interval (operator/scheduling/held.py)
and a pause or a resume (operator/scheduling/pausing.py). `Reconciler` (reconciler.py) adds the
syncs on top.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from aimsource.kube import KubeClient, KubeError, SourceGoneError
from aimsource.operator.reporting import EventSpec
from aimsource.operator.scheduling.held import held_status, notice_key, wants_notice
from aimsource.operator.scheduling.pausing import pause_step
from aimsource.operator.scheduling.schedule import decide
from aimsource.operator.scheduling.sources import SourceEntry
from aimsource.operator.state.source_table import SourceTable, uid_of

log = logging.getLogger("aimsource.operator")


class StatusWriter(SourceTable):
    """The source table plus the leader's status writes (the API client is the subclass's)."""

    _kube: KubeClient

    async def _show_held(self, entry: SourceEntry) -> bool:
        """Writes that the minimum interval holds a spec change or a request back, and until when
        (operator/held.py); False when it no longer does, and the sync goes ahead instead."""
        self.notices.discard(entry.name)
        now = self._clock()
        decision = decide(entry.state, now, self._policy)
        if not wants_notice(decision) or decision.when <= now:
            return False
        self.noticed[entry.name] = notice_key(entry.state)
        status = held_status(
            entry.status,
            generation=entry.state.generation,
            decision=decision,
            now=now,
            min_interval=self._policy.min_interval,
        )
        # Only the notice can be lost: the sync still runs when it is due.
        if await self._notice(entry, status, lost="held sync not shown in the status"):
            log.info(
                "sync held by the minimum interval",
                extra={"why": decision.why, "in_seconds": round(decision.when - now, 3)},
            )
        return True

    async def _pause_or_resume(self, entry: SourceEntry) -> bool:
        """Shows a pause in the status, once (operator/scheduling/pausing.py): True, nothing is
        synced. Or, for a resumed source, drops the Paused condition: False, its sync goes on."""
        step = pause_step(entry, self._clock())
        if step is None:
            return False
        if step.paused:
            self.pending.pop(entry.name, None)  # the sync after the resume lists everything
            self.notices.discard(entry.name)
        if step.status is not None:
            lost = "pause not shown in the status" if step.paused else "resume not shown in the status"
            if await self._notice(entry, step.status, lost=lost):
                log.info("source paused: not synced" if step.paused else "source resumed")
            # Not retried at once when lost: the source's next watch event tries again.
            entry.state = replace(entry.state, paused_shown=step.paused)
        return step.paused

    async def _notice(self, entry: SourceEntry, status: Mapping[str, Any], *, lost: str) -> bool:
        """Writes a status that only tells what is going on; False when it could not be."""
        uid = uid_of(entry.body)
        try:
            await self._write(entry, status, uid=uid)
        except SourceGoneError as exc:
            self._source_gone(entry, uid, exc)
        except ContestedError:
            pass  # announced by the check
        except KubeError as exc:
            log.warning(lost, extra={"error": str(exc)})
        else:
            return True
        return False

    async def _announce(self, entry: SourceEntry, event: EventSpec | None) -> None:
        if event is not None:
            try:
                await self._kube.post_event(
                    entry.body, type=event.type, reason=event.reason, message=event.message
                )
            except KubeError as exc:
                log.warning("event not posted", extra={"reason": event.reason, "error": str(exc)})

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


class ContestedError(Exception):
    """Another controller took the source during this sync: nothing more is written."""
