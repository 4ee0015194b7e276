"""The last-success time behind `aimsource_source_last_success_timestamp_seconds`: it moves on a
sync that ended Ready or Degraded, never on one the registry refused (a 401 still moves
`lastSyncTime`), and it is the same on every replica and after a restart."""

from __future__ import annotations

import datetime
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from aimsource.operator.scheduling.sources import parse_time
from aimsource.operator.state.success import LastSuccess
from aimsource.registry.errors import AuthenticationFailed
from tests.operator.reconciler_harness import REPO, SOURCES, Harness, new_source

T0 = 1_800_000_000.0


def _status(value: str, synced: float, *, ready_since: float | None = None) -> dict[str, Any]:
    """A status as the operator writes it: Ready condition True only when `value` is Ready."""
    status: dict[str, Any] = {"status": value, "lastSyncTime": _rfc3339(synced)}
    if ready_since is not None:
        ready = "True" if value == "Ready" else "False"
        status["conditions"] = [
            {"type": "Ready", "status": ready, "lastTransitionTime": _rfc3339(ready_since)}
        ]
    return status


def _rfc3339(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_ready_and_degraded_are_successes_at_their_last_sync_time() -> None:
    last = LastSuccess()
    assert last.of("s", _status("Ready", T0, ready_since=T0)) == T0
    assert last.of("s", _status("Degraded", T0 + 60, ready_since=T0 + 60)) == T0 + 60


def test_a_failed_sync_that_reached_the_registry_does_not_move_it() -> None:
    last = LastSuccess()
    last.of("s", _status("Ready", T0, ready_since=T0 - 600))
    # A 401 is an answer: lastSyncTime moves, the status is Failed; the last success stays.
    assert last.of("s", _status("Failed", T0 + 60, ready_since=T0 + 60)) == T0
    assert last.of("s", _status("Failed", T0 + 120, ready_since=T0 + 60)) == T0


def test_a_process_that_first_sees_a_failed_source_counts_from_when_it_stopped_being_ready() -> None:
    last = LastSuccess()  # a restarted operator, or a standby that just started
    assert last.of("s", _status("Failed", T0 + 3600, ready_since=T0 + 60)) == T0 + 60


def test_nothing_is_known_before_the_first_sync() -> None:
    last = LastSuccess()
    assert last.of("s", None) is None
    assert last.of("s", {"status": "Pending"}) is None


def test_a_forgotten_source_starts_over() -> None:
    last = LastSuccess()
    last.of("s", _status("Ready", T0, ready_since=T0))
    last.forget("s")
    assert last.of("s", _status("Failed", T0 + 600, ready_since=T0 + 300)) == T0 + 300


def _last_success(harness: Harness) -> float | None:
    text = harness.metrics.render()[0].decode()
    for family in text_string_to_metric_families(text):
        if family.name == "aimsource_source_last_success_timestamp_seconds":
            return next((s.value for s in family.samples if s.labels == {"source": "src"}), None)
    return None


async def test_revoked_credentials_stop_the_metric_while_last_sync_time_moves(harness: Harness) -> None:
    new_source(harness.api, {"images": [REPO], "syncInterval": "10m"})
    harness.watch()
    await harness.sync()
    harness.watch()
    succeeded = _last_success(harness)
    assert succeeded == parse_time(harness.api.get(SOURCES, "src")["status"]["lastSyncTime"])
    harness.lister.errors[REPO] = AuthenticationFailed("authentication failed for reg.example.com")
    for _ in range(3):
        await harness.sync()
        harness.watch()
    status = harness.api.get(SOURCES, "src")["status"]
    assert status["status"] == "Failed"
    assert status["selectors"][0]["error"]["reason"] == "AuthenticationFailed"
    assert succeeded is not None
    assert (parse_time(status["lastSyncTime"]) or 0) > succeeded  # lastSyncTime moved with every 401...
    assert _last_success(harness) == succeeded  # ...the last success did not
