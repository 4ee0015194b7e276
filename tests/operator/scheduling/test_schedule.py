"""decide(state, now): when a source syncs next, and why — as a table."""

from __future__ import annotations

import pytest

from aimsource.operator.scheduling.schedule import (
    Decision,
    Policy,
    ScheduleState,
    backoff,
    decide,
    jitter_for,
)

NOW = 10_000.0
HOUR = 3600.0
POLICY = Policy(min_interval=30.0, retry_base=30.0, startup_spread=10.0, jitter_share=0.1, jitter_cap=60.0)


def state(**kw: object) -> ScheduleState:
    base: dict[str, object] = {
        "generation": 1,
        "interval": HOUR,
        "synced_generation": 1,
        "last_sync": NOW - 60,
    }
    base.update(kw)
    return ScheduleState(**base)  # type: ignore[arg-type]


CASES = [
    ("new-source-syncs-at-once", state(synced_generation=None, last_sync=None), Decision(NOW, "created")),
    ("spec-change-syncs-at-once", state(generation=2), Decision(NOW, "spec changed")),
    (
        "spec-change-10s-after-a-listing-is-not-held-by-the-min-interval",
        state(generation=2, last_attempt=NOW - 10),
        Decision(NOW, "spec changed"),
    ),
    (
        "spec-change-right-after-a-listing-waits-for-the-spec-change-floor",
        state(generation=2, last_attempt=NOW - 2),
        Decision(NOW + 3, "spec changed, held by minimum interval"),
    ),
    (
        "new-request-annotation-syncs-at-once",
        state(requested="t2", handled_request="t1"),
        Decision(NOW, "sync requested"),
    ),
    (
        "handled-request-annotation-is-ignored",
        state(requested="t1", handled_request="t1"),
        Decision(NOW - 60 + HOUR, "interval elapsed"),
    ),
    (
        "request-hammering-is-held-by-min-interval",
        state(requested="t3", handled_request="t2", last_attempt=NOW - 1),
        Decision(NOW + 29, "sync requested, held by minimum interval"),
    ),
    ("steady-source-syncs-one-interval-after-last", state(), Decision(NOW - 60 + HOUR, "interval elapsed")),
    ("paused-source-is-taken-once-to-show-it", state(paused=True), Decision(NOW, "paused")),
    (
        "paused-source-shown-paused-never-syncs-whatever-is-pending",
        state(paused=True, paused_shown=True, generation=2, requested="t2", push_requested=True),
        Decision(float("inf"), "paused"),
    ),
    (
        "paused-source-is-shown-at-once-right-after-a-listing",
        state(paused=True, last_attempt=NOW - 1),
        Decision(NOW, "paused"),
    ),
    ("resumed-source-syncs-at-once", state(paused_shown=True), Decision(NOW, "resumed")),
    (
        "resume-right-after-a-listing-waits-for-the-spec-change-floor",
        state(paused_shown=True, last_attempt=NOW - 2),
        Decision(NOW + 3, "resumed, held by minimum interval"),
    ),
    (
        "jitter-adds-at-most-a-tenth-of-the-interval-capped",
        state(jitter=0.5),
        Decision(NOW - 60 + HOUR + 30, "interval elapsed"),
    ),
    (
        "short-interval-jitter-is-a-tenth-of-it",
        state(interval=100.0, last_sync=NOW, jitter=0.5),
        Decision(NOW + 105, "interval elapsed"),
    ),
    (
        "first-failure-retries-after-retry-base",
        state(failures=1, last_attempt=NOW),
        Decision(NOW + 30, "retry after failure"),
    ),
    (
        "third-failure-backs-off-4x",
        state(failures=3, last_attempt=NOW),
        Decision(NOW + 120, "retry after failure"),
    ),
    (
        "backoff-is-capped-at-the-interval",
        state(failures=20, last_attempt=NOW, interval=600.0),
        Decision(NOW + 600, "retry after failure"),
    ),
    (
        "tiny-interval-failing-source-is-held-by-min-interval",
        state(failures=5, last_attempt=NOW, interval=1.0),
        Decision(NOW + 30, "retry after failure, held by minimum interval"),
    ),
    (
        "overdue-at-startup-is-spread-over-the-window",
        state(last_sync=NOW - 2 * HOUR, inherited=True, jitter=0.5),
        Decision(NOW + 5, "overdue at start-up"),
    ),
    (
        "not-overdue-at-startup-keeps-its-schedule",
        state(last_sync=NOW - 600, inherited=True),
        Decision(NOW - 600 + HOUR, "interval elapsed"),
    ),
    (
        "synced-generation-but-never-reached-a-registry-is-spread",
        state(last_sync=None, jitter=0.25),
        Decision(NOW + 2.5, "overdue at start-up"),
    ),
    (
        "spec-change-beats-a-pending-backoff",
        state(generation=3, synced_generation=2, failures=4, last_attempt=NOW - 40),
        Decision(NOW, "spec changed"),
    ),
]


def test_a_min_interval_below_the_spec_change_floor_holds_a_spec_change_no_longer_than_it() -> None:
    policy = Policy(min_interval=3.0, spec_change_floor=5.0)
    assert decide(state(generation=2, last_attempt=NOW - 2), NOW, policy) == Decision(
        NOW + 1, "spec changed, held by minimum interval"
    )


@pytest.mark.parametrize(("st", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decide(st: ScheduleState, expected: Decision) -> None:
    assert decide(st, NOW, POLICY) == expected


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, 0.0), (1, 30.0), (2, 60.0), (3, 120.0), (6, 960.0), (7, 1000.0), (500, 1000.0)],
    ids=["none", "first", "second", "third", "sixth", "capped", "huge-count-does-not-overflow"],
)
def test_backoff_doubles_from_base_up_to_cap(failures: int, expected: float) -> None:
    assert backoff(failures, base=30.0, cap=1000.0) == expected


def test_jitter_is_stable_per_source_and_spread_between_sources() -> None:
    shares = [jitter_for(f"source-{i}") for i in range(200)]
    assert jitter_for("source-1") == shares[1]
    assert all(0.0 <= s < 1.0 for s in shares)
    # sources with one interval do not fire together
    assert min(shares) < 0.1
    assert max(shares) > 0.9
