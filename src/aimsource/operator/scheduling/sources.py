"""What the operator remembers of each source between watch events and syncs.

The watch delivers whole objects; `observe` folds each one into the source's `ScheduleState`,
keeping what only this process knows (when it last listed, how many syncs failed in a row) and
taking from the object what the cluster knows (generation, interval, the sync-request and pause
annotations, whether its status shows it paused, and - from a status written by an earlier process
or by the leader - when it last synced). A request annotation whose time is not after the last
sync counts as already handled, so that a restart or a takeover does not replay old requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from aimsource.domain.durations import InvalidDurationError, parse_duration
from aimsource.domain.resources import REQUEST_ANNOTATION, TRANSIENT_STATUSES
from aimsource.domain.spec.source import DEFAULT_SYNC_INTERVAL
from aimsource.domain.status.paused import is_paused, shows_paused
from aimsource.domain.times import parse_time as read_time
from aimsource.operator.scheduling.schedule import ScheduleState, jitter_for


@dataclass
class SourceEntry:
    """One source as the operator knows it (mutable: replaced field by field by its owner)."""

    name: str
    body: Mapping[str, Any]
    """The latest object delivered by the watch."""
    state: ScheduleState
    status: Mapping[str, Any] | None
    """The status as last written by us or seen on the watch."""
    settled: str | None
    """The last status value other than Pending/Progressing (for change-only warnings)."""


def parse_time(text: object) -> float | None:
    """An RFC 3339 timestamp as epoch seconds (the scheduler's clock); None when absent or unreadable."""
    moment = read_time(text)
    return None if moment is None else moment.timestamp()


def interval_of(body: Mapping[str, Any]) -> float:
    """spec.syncInterval in seconds; the default when absent or invalid (the sync reports that)."""
    text = (body.get("spec") or {}).get("syncInterval")
    if not isinstance(text, str):
        return DEFAULT_SYNC_INTERVAL
    try:
        seconds = parse_duration(text)
    except InvalidDurationError:
        return DEFAULT_SYNC_INTERVAL
    return max(seconds, 0.0)


def observe(entry: SourceEntry | None, body: Mapping[str, Any]) -> SourceEntry:
    """Fold a watched object into what we know of its source."""
    meta = body.get("metadata") or {}
    name = str(meta.get("name"))
    generation = _int(meta.get("generation")) or 1
    requested = (meta.get("annotations") or {}).get(REQUEST_ANNOTATION)
    requested = requested if isinstance(requested, str) and requested else None
    status = body.get("status") or None
    paused = is_paused(meta)
    seen_sync = parse_time(status.get("lastSyncTime")) if status else None
    seen_generation = _int(status.get("observedGeneration")) if status else None

    if entry is None:
        state = ScheduleState(
            generation=generation,
            interval=interval_of(body),
            jitter=jitter_for(name),
            synced_generation=seen_generation,
            last_sync=seen_sync,
            inherited=seen_sync is not None,
            requested=requested,
            paused=paused,
            paused_shown=shows_paused(status),
            # A request that is not a timestamp cannot be compared with the last sync: when the
            # source has synced before, assume it was honoured rather than replay it on restart.
            handled_request=requested if status and parse_time(requested) is None else None,
        )
        settled = status.get("status") if status else None
        entry = SourceEntry(
            name=name,
            body=body,
            state=state,
            status=status,
            settled=settled if settled not in TRANSIENT_STATUSES else None,
        )
    else:
        state = replace(
            entry.state,
            generation=generation,
            interval=interval_of(body),
            requested=requested,
            paused=paused,
            paused_shown=shows_paused(status),
        )
        # Progress made elsewhere (the leader, while we stand by) shows in the status.
        if seen_sync is not None and (state.last_sync is None or seen_sync > state.last_sync):
            state = replace(state, last_sync=seen_sync, inherited=True)
        if seen_generation is not None and (state.synced_generation or 0) < seen_generation <= generation:
            state = replace(state, synced_generation=seen_generation)
        entry.body, entry.state, entry.status = body, state, status
        if status and status.get("status") not in TRANSIENT_STATUSES:
            entry.settled = status.get("status")

    if state.requested is not None and state.requested != state.handled_request:
        asked = parse_time(state.requested)
        done = state.last_sync
        if asked is not None and done is not None and asked <= done:
            entry.state = replace(state, handled_request=state.requested)
    return entry


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
