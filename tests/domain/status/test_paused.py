"""The pause annotation, strictly read, and the status of a paused source: `domain/status/paused.py`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from aimsource.domain.status.build import initial_status
from aimsource.domain.status.paused import (
    ignored_pause_message,
    ignored_pause_value,
    is_paused,
    paused_status,
    resumed_status,
    shows_paused,
)

KEY = "aim.eai.amd.com/reconciliation-paused"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def meta(value: object) -> dict[str, Any]:
    return {"name": "src", "annotations": {KEY: value}}


@pytest.mark.parametrize(
    ("metadata", "paused", "ignored"),
    [
        (meta("true"), True, None),
        (meta("True"), False, "True"),
        (meta("TRUE"), False, "TRUE"),
        (meta("1"), False, "1"),
        (meta("yes"), False, "yes"),
        (meta(" true"), False, " true"),
        (meta("false"), False, None),
        (meta(""), False, None),
        (meta("paused please"), False, None),
        (meta(True), False, "True"),  # a YAML boolean (an API server refuses it; a file may hold it)
        ({"name": "src"}, False, None),
        ({"annotations": None}, False, None),
        ({"annotations": ["not", "a", "mapping"]}, False, None),
        (None, False, None),
        ("not metadata", False, None),
    ],
    ids=[
        "exactly-true-pauses",
        "capitalised-does-not",
        "upper-case-does-not",
        "one-does-not",
        "yes-does-not",
        "padded-does-not",
        "false",
        "empty",
        "other-words-are-not-worth-a-warning",
        "yaml-boolean",
        "no-annotations",
        "null-annotations",
        "malformed-annotations",
        "no-metadata",
        "malformed-metadata",
    ],
)
def test_only_the_exact_string_true_pauses(metadata: object, paused: bool, ignored: str | None) -> None:
    assert is_paused(metadata) is paused
    assert ignored_pause_value(metadata) == ignored


def test_the_warning_names_the_value_and_what_pauses() -> None:
    assert ignored_pause_message("True") == (
        f'annotation {KEY}: "True" does not pause the source: only the exact string "true" does '
        "(as in AMD's operator)"
    )


def ready_status() -> dict[str, Any]:
    return {
        "status": "Ready",
        "discoveredModels": 2,
        "availableModels": 2,
        "modelsLimitReached": False,
        "observedGeneration": 3,
        "lastSyncTime": "2025-12-31T00:00:00Z",
        "conditions": [
            {"type": "Ready", "status": "True", "reason": "AllSelectorsSucceeded", "message": "m"},
        ],
    }


def test_a_paused_status_keeps_the_last_sync_and_adds_the_condition() -> None:
    status = paused_status(ready_status(), name="src", settled="Ready", generation=4, now=NOW)
    assert {k: v for k, v in status.items() if k != "conditions"} == {
        k: v for k, v in ready_status().items() if k != "conditions"
    }
    ready, paused = status["conditions"]
    assert ready == ready_status()["conditions"][0]
    assert paused == {
        "type": "Paused",
        "status": "True",
        "reason": "ReconciliationPaused",
        "message": f'Reconciliation paused by the annotation {KEY}="true": no syncs, no models created, '
        f"spec changes not applied. To resume (a sync starts at once): kubectl annotate aimclsrc src {KEY}-",
        "observedGeneration": 4,
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }
    assert shows_paused(status)
    assert not shows_paused(ready_status())


@pytest.mark.parametrize(
    ("status", "settled", "expected"),
    [
        (None, None, "Pending"),
        (initial_status(), None, "Pending"),
        ({**ready_status(), "status": "Progressing"}, "Degraded", "Degraded"),
        ({**ready_status(), "status": "Progressing"}, None, "Pending"),
        ({**ready_status(), "status": "Failed"}, "Ready", "Failed"),
    ],
    ids=["no-status", "never-synced", "held-notice-taken-back", "progressing-never-settled", "kept"],
)
def test_a_paused_status_never_says_a_sync_is_under_way(
    status: dict[str, Any] | None, settled: str | None, expected: str
) -> None:
    paused = paused_status(status, name="src", settled=settled, generation=1, now=NOW)
    assert paused["status"] == expected


def test_a_progressing_condition_goes_with_the_pause_and_the_pause_with_the_resume() -> None:
    held = {**ready_status(), "conditions": [*ready_status()["conditions"], {"type": "Progressing"}]}
    paused = paused_status(held, name="src", settled="Ready", generation=3, now=NOW)
    assert [c["type"] for c in paused["conditions"]] == ["Ready", "Paused"]
    assert resumed_status(paused) == {**paused, "conditions": ready_status()["conditions"]}
    assert not shows_paused({"conditions": [{"type": "Paused", "status": "False"}]})
    assert not shows_paused({"conditions": ["garbage"]})
