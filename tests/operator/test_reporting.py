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


HUB = "docker.io/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"
SQUAT = "r5139637.evil.example/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"
QWEN = "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726"


def with_conflicts(
    *found: tuple[str, str, str], reason: str = "ModelNameConflict", refused: bool = False
) -> dict[str, Any]:
    body = status("Degraded" if found or refused else "Ready", message="not created")
    for cond in body["conditions"]:
        cond["reason"] = reason
    selector: dict[str, Any] = {"reference": "amdenterpriseai/aim-qwen-qwen3-32b"}
    if found:
        selector["conflicts"] = [{"model": m, "image": i, "existingImage": e} for m, i, e in found]
    if refused:
        selector["refused"] = [{"model": "x", "image": "y", "reason": "Forbidden", "message": "no"}]
    body["selectors"] = [selector]
    return body


def conflict_event(model: str, image: str, existing: str) -> EventSpec:
    return EventSpec(
        "Warning",
        "ModelNameConflict",
        f'Model "{model}" is not created for {image}: the name is already used by a model of {existing}',
    )


def test_a_new_conflict_is_one_warning_naming_the_model_and_both_images() -> None:
    new = with_conflicts((QWEN, HUB, SQUAT))
    # The change into Degraded is about this conflict only: its own Warning says it all.
    assert events_for(settled_before="Ready", new=new, created=[], previous=status()) == [
        conflict_event(QWEN, HUB, SQUAT)
    ]


def test_a_conflict_already_in_the_previous_status_is_not_announced_again() -> None:
    old = with_conflicts((QWEN, HUB, SQUAT))
    assert (
        events_for(
            settled_before="Degraded", new=with_conflicts((QWEN, HUB, SQUAT)), created=[], previous=old
        )
        == []
    )
    # A spec change (Progressing keeps the selectors) or an operator restart (the stored status
    # is read back) keeps the memory: it is the status itself.
    progressing = {**old, "status": "Progressing"}
    assert (
        events_for(
            settled_before="Degraded",
            new=with_conflicts((QWEN, HUB, SQUAT)),
            created=[],
            previous=progressing,
        )
        == []
    )


def test_only_the_new_one_of_several_conflicts_is_announced() -> None:
    old = with_conflicts((QWEN, HUB, SQUAT))
    new = with_conflicts((QWEN, HUB, SQUAT), ("other-1-0-0-abcdef", "docker.io/o/m:1.0.0", "evil.io/o/m:1"))
    assert events_for(settled_before="Degraded", new=new, created=[], previous=old) == [
        conflict_event("other-1-0-0-abcdef", "docker.io/o/m:1.0.0", "evil.io/o/m:1")
    ]


def test_a_conflict_that_comes_back_is_announced_again() -> None:
    gone = status()
    assert events_for(
        settled_before="Ready", new=with_conflicts((QWEN, HUB, SQUAT)), created=[], previous=gone
    ) == [conflict_event(QWEN, HUB, SQUAT)]


def test_a_conflict_beside_other_trouble_keeps_the_degraded_warning() -> None:
    new = with_conflicts((QWEN, HUB, SQUAT), reason="SomeSelectorsFailed")
    assert [e.reason for e in events_for(settled_before="Ready", new=new, created=[], previous=status())] == [
        "ModelNameConflict",
        "SyncDegraded",
    ]
    refused = with_conflicts((QWEN, HUB, SQUAT), refused=True)
    assert [
        e.reason for e in events_for(settled_before="Ready", new=refused, created=[], previous=status())
    ] == ["ModelNameConflict", "SyncDegraded"]


def test_many_new_conflicts_are_bounded_in_events() -> None:
    found = [(f"m{i}", f"docker.io/o/m:{i}", f"evil.io/o/m:{i}") for i in range(15)]
    events = events_for(settled_before="Ready", new=with_conflicts(*found), created=[], previous=None)
    assert len(events) == 11
    assert events[:10] == [conflict_event(*c) for c in found[:10]]
    assert events[10].message.startswith("5 more new model name conflicts")
