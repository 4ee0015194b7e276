"""The Progressing condition of a running sync: `domain/status/progress.py`."""

from __future__ import annotations

from datetime import UTC, datetime

from aimsource.domain.status.progress import progress_message, with_progress

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
READY = {"type": "Ready", "status": "False", "reason": "Syncing", "message": "", "observedGeneration": 1}


def test_the_message_counts_what_is_done() -> None:
    assert progress_message(created=500, total=2000, checked=500, refused=0) == "created 500 of 2,000 images"
    assert (
        progress_message(created=10, total=2000, checked=14, refused=2)
        == "created 10 of 2,000 images (14 checked, 2 not created)"
    )


def test_the_condition_is_added_beside_the_others_and_keeps_its_transition_time() -> None:
    first = with_progress(
        {"status": "Pending", "conditions": [READY]},
        created=1,
        total=2000,
        checked=1,
        refused=0,
        generation=3,
        now=NOW,
    )
    assert first["status"] == "Pending"
    assert first["conditions"][0] == READY
    progressing = first["conditions"][1]
    assert progressing == {
        "type": "Progressing",
        "status": "True",
        "reason": "Syncing",
        "message": "created 1 of 2,000 images",
        "observedGeneration": 3,
        "lastTransitionTime": "2026-12-07T12:00:00Z",
    }
    later = with_progress(
        first, created=700, total=2000, checked=700, refused=0, generation=3, now=NOW.replace(hour=13)
    )
    assert [c["type"] for c in later["conditions"]] == ["Ready", "Progressing"]
    assert later["conditions"][1]["message"] == "created 700 of 2,000 images"
    assert later["conditions"][1]["lastTransitionTime"] == "2026-12-07T12:00:00Z"
