"""pause_step: what the leader's take of a source writes about a pause (`operator/scheduling/pausing.py`)."""

from __future__ import annotations

from typing import Any

from aimsource.operator.scheduling.pausing import pause_step
from aimsource.operator.scheduling.schedule import ScheduleState
from aimsource.operator.scheduling.sources import SourceEntry

NOW = 1_800_000_000.0
SHOWN = {
    "status": "Ready",
    "conditions": [{"type": "Ready", "status": "True"}, {"type": "Paused", "status": "True"}],
}


def entry(*, paused: bool, status: dict[str, Any] | None) -> SourceEntry:
    return SourceEntry(
        name="src",
        body={},
        state=ScheduleState(generation=2, interval=3600.0, paused=paused),
        status=status,
        settled="Ready",
    )


def test_a_source_neither_paused_nor_shown_paused_is_none_of_its_business() -> None:
    assert pause_step(entry(paused=False, status={"status": "Ready"}), NOW) is None
    assert pause_step(entry(paused=False, status=None), NOW) is None


def test_a_pause_not_yet_shown_writes_the_paused_status() -> None:
    step = pause_step(entry(paused=True, status={"status": "Progressing"}), NOW)
    assert step is not None
    assert step.paused
    assert step.status is not None
    assert step.status["status"] == "Ready"  # the settled outcome, not the held notice
    assert [c["type"] for c in step.status["conditions"]] == ["Paused"]
    assert step.status["conditions"][0]["observedGeneration"] == 2


def test_a_pause_already_shown_writes_nothing() -> None:
    step = pause_step(entry(paused=True, status=SHOWN), NOW)
    assert step is not None
    assert step.paused
    assert step.status is None


def test_a_resume_drops_the_condition_and_lets_the_sync_go_on() -> None:
    step = pause_step(entry(paused=False, status=SHOWN), NOW)
    assert step is not None
    assert not step.paused
    assert step.status == {"status": "Ready", "conditions": [{"type": "Ready", "status": "True"}]}
