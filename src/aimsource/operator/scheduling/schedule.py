"""When should a source sync next, and why: one pure function of the source's state and the time.

Like Flux's `shouldScan`, every trigger (creation, a spec change, the sync-request annotation, the
interval, a retry after failure, an overdue source at start-up) is decided in one place, so that the
rules can be read and tested as a table, and the minimum interval between two listings of one source
is applied last, whatever the trigger. Times are seconds on one clock (epoch seconds in the
operator; the tests may use any clock).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from aimsource.domain.options import values
from aimsource.domain.options.declared import option


@dataclass(frozen=True)
class ScheduleState:
    """What the scheduler knows about one source."""

    generation: int
    """metadata.generation as last seen."""

    interval: float
    """Seconds: the source's syncInterval."""

    jitter: float = 0.0
    """This source's fixed share, in [0, 1), of the jitter window (see `jitter_for`)."""

    synced_generation: int | None = None
    """Generation used by the last sync (from this process, or status.observedGeneration)."""

    last_sync: float | None = None
    """When the last sync finished (in this process), or status.lastSyncTime when `inherited`."""

    last_attempt: float | None = None
    """When the last listing of this source started, in this process."""

    failures: int = 0
    """Consecutive failed syncs."""

    requested: str | None = None
    """The current value of the annotation REQUEST_ANNOTATION (domain.resources)."""

    handled_request: str | None = None
    """The value of that annotation when it was last honoured (or seen at start-up)."""

    push_requested: bool = False
    """A push event asked for a full sync (its tag could not be decided alone)."""

    paused: bool = False
    """The source carries the pause annotation (`domain.status.paused`): it is not synced."""

    paused_shown: bool = False
    """Its status shows it paused (condition Paused True): while paused, nothing is left to do;
    once resumed, a sync is due at once."""

    inherited: bool = False
    """True while `last_sync` comes from the status written by an earlier process or another
    replica rather than from a sync made here: an overdue source then syncs within the start-up
    window instead of all at once."""


@dataclass(frozen=True)
class Policy:
    """The operator-wide knobs of scheduling (`OperatorSettings.schedule`): when sources sync, how
    many at once, and how often the indexes are reconciled."""

    min_interval: float = field(
        default=30.0,
        metadata=option(
            "--min-sync-interval",
            "DURATION",
            values.duration,
            "least time between two listings of one source, whatever triggers them but a spec change, "
            "which waits at most 5s (docs/lifecycle.md)",
        ),
    )
    """Seconds: the least time between the starts of two listings of one source, whatever
    triggers them (`--min-sync-interval`), except a spec change or a resume: see `spec_change_floor`."""

    spec_change_floor: float = 5.0
    """Seconds: what holds a listing for a spec change (or a resume) instead (the lower of the two).
    An edit is a person's deliberate act and is answered at once; the floor still bounds what a loop of edits
    (two controllers fighting over a field) costs the registry: one listing per floor."""

    retry_base: float = field(
        default=30.0,
        metadata=option(
            "--retry-base",
            "DURATION",
            values.positive_duration,
            "first backoff after a failed sync, doubled each time, capped at syncInterval",
        ),
    )
    """Seconds: the first backoff after a failed sync; doubled after each further failure and
    capped at the source's syncInterval."""

    startup_spread: float = field(
        default=10.0,
        metadata=option(
            "--startup-spread",
            "DURATION",
            values.duration,
            "window over which overdue sources are spread at start-up",
        ),
    )
    """Seconds: at start-up, sources whose last sync is overdue are spread over this window so
    that they do not all list at once."""

    jitter_share: float = 0.1
    """The jitter window as a share of the interval..."""

    jitter_cap: float = 60.0
    """...but never more than this many seconds."""

    workers: int = field(
        default=8,
        metadata=option("--workers", "N", values.positive_int, "syncs running at once"),
    )
    """How many syncs run at the same time (the size of the worker pool)."""

    max_syncs_per_host: int = field(
        default=4,
        metadata=option(
            "--max-syncs-per-host",
            "N",
            values.positive_int,
            "syncs touching one registry host at once, its share of the workers",
            detail="so that a registry that stalls or throttles cannot hold them all "
            "([rate-limits.md](rate-limits.md#fair-workers-one-registry-cannot-hold-every-sync))",
        ),
    )
    """How many syncs touching one registry host run at the same time: a host's share of the
    workers. A source counts against each host its selectors name and starts only when all of
    them are below their share, so a registry that stalls or throttles holds at most this many
    workers and the others keep syncing sources on other registries (docs/rate-limits.md). At
    least ``workers`` turns the shares off. Default: half the default pool, and as many as the
    requests in flight to one host (``RegistrySettings.max_concurrency_per_host``), so that an
    installation on a single registry syncs as many sources at once as before the shares existed."""

    creates_per_source: int = field(
        default=8,
        metadata=option(
            "--creates-per-source",
            "N",
            values.positive_int,
            "new images one sync checks and creates at once",
            detail="(each image's digest check and its model's create are one step; "
            "[rate-limits.md](rate-limits.md#what-a-source-costs))",
        ),
    )
    """How many new images one sync checks (one manifest HEAD each) and creates at once. Each
    image's model is created as soon as its check returns, so models appear at the pace of the
    registry's request budget; it also bounds the requests one sync keeps waiting for a host."""

    max_creates: int = field(
        default=32,
        metadata=option(
            "--max-creates",
            "N",
            values.positive_int,
            "model creates in flight at once, all syncs together",
        ),
    )
    """How many AIMClusterModel creates the operator has in flight at once, all syncs together:
    the API server sees at most this many of ours, however many sources sync."""

    resync_interval: float = field(
        default=600.0,
        metadata=option(
            "--resync-interval",
            "DURATION",
            values.positive_duration,
            "time between reconciles of the model index and source table with paged lists",
            detail="(they also are after every re-list of the watch, which sends nothing for objects "
            "deleted while it was down)",
        ),
    )
    """Seconds between two reconciles of the model index and the source table against paged
    LISTs (also done after every re-list of a watch)."""


@dataclass(frozen=True)
class Decision:
    when: float
    """The time at which the source should sync."""

    why: str
    """A fixed phrase: paused (`when` is now while the status does not show it yet, else never:
    infinity), resumed, created, spec changed, sync requested, push event, retry after failure,
    interval elapsed, overdue at start-up; with "held by minimum interval" appended when the
    minimum interval pushed the time back (HELD)."""


HELD = "held by minimum interval"


def jitter_for(name: str) -> float:
    """A stable share in [0, 1) for a source, so that sources with one interval do not fire
    together and the decision stays a pure function."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def backoff(failures: int, *, base: float, cap: float) -> float:
    """Seconds to wait after `failures` consecutive failures: base, 2*base, 4*base... capped."""
    if failures <= 0:
        return 0.0
    exponent = min(failures - 1, 32)  # beyond this the cap has long been reached
    return min(base * 2.0**exponent, cap)


PAUSED = "paused"
NEVER = math.inf


def decide(state: ScheduleState, now: float, policy: Policy) -> Decision:
    """When the source should sync next, and why."""
    if state.paused:
        # Nothing is listed: the minimum interval does not apply. Taken once, to show it in the status.
        return Decision(NEVER if state.paused_shown else now, PAUSED)
    when, why = _trigger(state, now, policy)
    if state.last_attempt is not None:
        least = policy.min_interval
        if why in ("spec changed", "resumed"):
            least = min(least, policy.spec_change_floor)
        earliest = state.last_attempt + least
        if earliest > when:
            return Decision(earliest, f"{why}, {HELD}")
    return Decision(when, why)


def _trigger(state: ScheduleState, now: float, policy: Policy) -> tuple[float, str]:
    if state.paused_shown:
        return now, "resumed"  # a person's deliberate act, answered like a spec change
    if state.synced_generation != state.generation:
        if state.synced_generation is None and state.last_sync is None:
            return now, "created"
        return now, "spec changed"
    if state.requested is not None and state.requested != state.handled_request:
        return now, "sync requested"
    if state.push_requested:
        return now, "push event"
    if state.failures > 0 and state.last_attempt is not None:
        wait = backoff(state.failures, base=policy.retry_base, cap=state.interval)
        return state.last_attempt + wait, "retry after failure"
    spread = state.jitter * policy.startup_spread
    if state.last_sync is None:
        return now + spread, "overdue at start-up"
    window = min(state.interval * policy.jitter_share, policy.jitter_cap)
    due = state.last_sync + state.interval + state.jitter * window
    if state.inherited and due <= now:
        return now + spread, "overdue at start-up"
    return due, "interval elapsed"
