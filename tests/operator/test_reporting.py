"""Status writes only on change (plus lastSyncTime); events only on creation or a change into trouble."""

from __future__ import annotations

from typing import Any

import pytest

from aimsource.operator.reporting import EventSpec, events_for, status_write_needed


def status(
    state: str = "Ready", sync: str = "2026-01-01T00:00:00Z", *, message: str = "", models: int = 2
) -> dict[str, Any]:
    ready = "True" if state == "Ready" else "False"
    degraded = "False" if state == "Ready" else "True"
    return {
        "status": state,
        "discoveredModels": models,
        "lastSyncTime": sync,
        "conditions": [
            {
                "type": "Ready",
                "status": ready,
                "message": message,
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            },
            {
                "type": "Degraded",
                "status": degraded,
                "message": message,
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            },
        ],
    }


@pytest.mark.parametrize(
    ("previous", "new", "expected"),
    [
        (None, status(), True),
        (status(), status(), False),
        (status(), status(sync="2026-01-01T01:00:00Z"), True),
        (status(models=2), status(models=3), True),
        (status("Ready"), status("Degraded"), True),
    ],
    ids=["first-status", "nothing-changed", "only-last-sync-moved", "count-changed", "state-changed"],
)
def test_status_write_needed(previous: dict[str, Any] | None, new: dict[str, Any], expected: bool) -> None:
    assert status_write_needed(previous, new) is expected


@pytest.mark.parametrize(
    ("before", "new", "created", "expected"),
    [
        ("Ready", status(), [], []),
        (None, status(), ["m1"], [EventSpec("Normal", "ModelsCreated", "Created 1 model: m1")]),
        ("Ready", status(), ["a", "b"], [EventSpec("Normal", "ModelsCreated", "Created 2 models: a, b")]),
        (
            "Ready",
            status(),
            [f"m{i}" for i in range(12)],
            [
                EventSpec(
                    "Normal",
                    "ModelsCreated",
                    "Created 12 models: m0, m1, m2, m3, m4, m5, m6, m7, m8, m9 and 2 more",
                )
            ],
        ),
        (
            "Ready",
            status("Failed", message="x/y: authentication failed"),
            [],
            [EventSpec("Warning", "SyncFailed", "x/y: authentication failed")],
        ),
        ("Failed", status("Failed", message="still failing"), [], []),
        (
            "Ready",
            status("Degraded", message="1 of 2 failed"),
            [],
            [EventSpec("Warning", "SyncDegraded", "1 of 2 failed")],
        ),
        ("Degraded", status("Degraded", message="1 of 2 failed"), [], []),
        (
            "Degraded",
            status("Failed", message="all failed"),
            [],
            [EventSpec("Warning", "SyncFailed", "all failed")],
        ),
        (
            None,
            status("Failed", message=""),
            [],
            [EventSpec("Warning", "SyncFailed", "The source is Failed.")],
        ),
        (
            "Ready",
            status("Degraded", message="half"),
            ["new"],
            [
                EventSpec("Normal", "ModelsCreated", "Created 1 model: new"),
                EventSpec("Warning", "SyncDegraded", "half"),
            ],
        ),
    ],
    ids=[
        "steady-ready-is-silent",
        "one-model-created",
        "models-created",
        "long-lists-are-shortened",
        "ready-to-failed-warns",
        "failed-again-is-silent",
        "ready-to-degraded-warns",
        "degraded-again-is-silent",
        "degraded-to-failed-warns",
        "first-sync-failing-warns-with-fallback-text",
        "created-and-degraded",
    ],
)
def test_events_for(
    before: str | None, new: dict[str, Any], created: list[str], expected: list[EventSpec]
) -> None:
    assert events_for(settled_before=before, new=new, created=created) == expected


def test_warning_message_is_bounded() -> None:
    (event,) = events_for(settled_before="Ready", new=status("Failed", message="x" * 5000), created=[])
    assert len(event.message) <= 1000
