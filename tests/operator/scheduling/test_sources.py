"""observe(): watched objects folded into each source's scheduling state."""

from __future__ import annotations

from typing import Any

import pytest

from aimsource.operator.scheduling.sources import REQUEST_ANNOTATION, interval_of, observe, parse_time

T0 = "2026-01-01T00:00:00Z"
T0_EPOCH = parse_time(T0)


def obj(
    *,
    generation: int = 1,
    status: dict[str, Any] | None = None,
    interval: Any = "30m",
    request: str | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "src", "generation": generation}
    if request is not None:
        meta["annotations"] = {REQUEST_ANNOTATION: request}
    body: dict[str, Any] = {"metadata": meta, "spec": {"syncInterval": interval, "images": ["a/b"]}}
    if status is not None:
        body["status"] = status
    return body


def synced(generation: int = 1, at: str = T0, state: str = "Ready") -> dict[str, Any]:
    return {"status": state, "observedGeneration": generation, "lastSyncTime": at}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (obj(), {"synced_generation": None, "last_sync": None, "inherited": False, "handled_request": None}),
        (obj(status=synced()), {"synced_generation": 1, "last_sync": T0_EPOCH, "inherited": True}),
        (obj(generation=3, status=synced(2)), {"generation": 3, "synced_generation": 2}),
        (obj(status=synced(), request="2025-12-31T23:00:00Z"), {"handled_request": "2025-12-31T23:00:00Z"}),
        (obj(status=synced(), request="2026-01-01T00:05:00Z"), {"handled_request": None}),
        (obj(status=synced(), request="please"), {"handled_request": "please"}),
        (obj(request="please"), {"handled_request": None}),
        (obj(interval="2h30m"), {"interval": 9000.0}),
    ],
    ids=[
        "new-source-knows-nothing",
        "status-of-an-earlier-process-is-inherited",
        "spec-changed-while-down",
        "request-older-than-last-sync-was-honoured",
        "request-newer-than-last-sync-is-pending",
        "non-time-request-of-a-synced-source-is-not-replayed",
        "request-on-a-new-source-is-pending",
        "interval-from-spec",
    ],
)
def test_first_sight(body: dict[str, Any], expected: dict[str, Any]) -> None:
    state = observe(None, body).state
    assert {k: getattr(state, k) for k in expected} == expected


def test_later_events_keep_what_only_this_process_knows() -> None:
    entry = observe(None, obj(status=synced()))
    entry.state = entry.state.__class__(**{**entry.state.__dict__, "failures": 2, "last_attempt": 5.0})
    entry = observe(entry, obj(generation=2, status=synced(), interval="1h"))
    assert (entry.state.generation, entry.state.interval) == (2, 3600.0)
    assert (entry.state.failures, entry.state.last_attempt, entry.state.synced_generation) == (2, 5.0, 1)


def test_progress_of_the_leader_is_adopted_by_a_standby() -> None:
    entry = observe(None, obj(status=synced()))
    entry = observe(entry, obj(generation=2, status=synced(2, "2026-01-01T01:00:00Z")))
    assert entry.state.synced_generation == 2
    assert entry.state.last_sync == parse_time("2026-01-01T01:00:00Z")


def test_a_request_honoured_by_the_leader_is_not_repeated() -> None:
    entry = observe(None, obj(status=synced()))
    entry = observe(entry, obj(status=synced(), request="2026-01-01T00:10:00Z"))
    assert entry.state.handled_request is None
    entry = observe(entry, obj(status=synced(at="2026-01-01T00:10:01Z"), request="2026-01-01T00:10:00Z"))
    assert entry.state.handled_request == "2026-01-01T00:10:00Z"


def test_settled_state_ignores_pending_and_progressing() -> None:
    entry = observe(None, obj(status=synced(state="Failed")))
    assert entry.settled == "Failed"
    entry = observe(entry, obj(generation=2, status=synced(state="Progressing")))
    assert entry.settled == "Failed"


@pytest.mark.parametrize(
    ("interval", "expected"),
    [("15m", 900.0), (None, 3600.0), ("soon", 3600.0), (42, 3600.0), ("100ms", 0.1)],
    ids=["go-duration", "absent-is-default", "invalid-is-default", "not-a-string", "sub-second"],
)
def test_interval_of(interval: Any, expected: float) -> None:
    assert interval_of({"spec": {"syncInterval": interval}}) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [(T0, 1767225600.0), ("2026-01-01T00:00:00.5+00:00", 1767225600.5), ("yesterday", None), (None, None)],
    ids=["zulu", "offset-and-fraction", "not-a-time", "absent"],
)
def test_parse_time(text: Any, expected: float | None) -> None:
    assert parse_time(text) == expected


PAUSED = "aim.eai.amd.com/reconciliation-paused"


@pytest.mark.parametrize(
    ("value", "conditions", "expected"),
    [
        (None, [], (False, False)),
        ("true", [], (True, False)),
        ("true", [{"type": "Paused", "status": "True"}], (True, True)),
        ("True", [], (False, False)),
        (None, [{"type": "Paused", "status": "True"}], (False, True)),
        (None, [{"type": "Paused", "status": "False"}], (False, False)),
    ],
    ids=["absent", "true-pauses", "shown", "only-lower-case-true-pauses", "resumed-not-yet-shown", "false"],
)
def test_pause_annotation_and_paused_status_are_observed(
    value: str | None, conditions: list[dict[str, str]], expected: tuple[bool, bool]
) -> None:
    body = obj(status={**synced(), "conditions": conditions})
    if value is not None:
        body["metadata"]["annotations"] = {PAUSED: value}
    first = observe(None, body)
    assert (first.state.paused, first.state.paused_shown) == expected
    later = observe(observe(None, obj(status=synced())), body)
    assert (later.state.paused, later.state.paused_shown) == expected
