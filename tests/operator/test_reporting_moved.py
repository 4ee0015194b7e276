"""One Warning `TagMoved` per new moved tag, compared with the previous status, never per sync."""

from __future__ import annotations

from typing import Any

from aimsource.operator.reporting import MAX_CONFLICT_EVENTS, events_for

OLD = "sha256:" + "a" * 64
NEW = "sha256:" + "b" * 64
NEWER = "sha256:" + "c" * 64


def ready(*moves: tuple[str, str]) -> dict[str, Any]:
    """A Ready status whose one selector lists `moves` as (model, currentDigest)."""
    selector: dict[str, Any] = {"reference": "org/model:1.0.0", "tagsListed": 1, "matched": 1}
    if moves:
        selector["moved"] = [
            {"model": m, "image": f"docker.io/org/{m}:1.0.0", "recordedDigest": OLD, "currentDigest": d}
            for m, d in moves
        ]
    return {"status": "Ready", "conditions": [], "selectors": [selector]}


def moved_events(previous: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    events = events_for(settled_before="Ready", new=new, created=(), previous=previous)
    assert all(e.type == "Warning" for e in events if e.reason == "TagMoved")
    return [e.message for e in events if e.reason == "TagMoved"]


def test_a_new_move_is_one_warning_naming_model_image_and_both_digests() -> None:
    (message,) = moved_events(ready(), ready(("m", NEW)))
    assert "docker.io/org/m:1.0.0" in message
    assert '"m"' in message
    assert OLD in message
    assert NEW in message
    assert "not changed" in message


def test_a_move_already_listed_is_not_announced_again() -> None:
    assert moved_events(ready(("m", NEW)), ready(("m", NEW))) == []


def test_a_tag_that_moves_again_is_announced_again() -> None:
    (message,) = moved_events(ready(("m", NEW)), ready(("m", NEWER)))
    assert NEWER in message


def test_only_the_new_of_several_moves_is_announced() -> None:
    messages = moved_events(ready(("a", NEW)), ready(("a", NEW), ("b", NEW)))
    assert len(messages) == 1
    assert "docker.io/org/b:1.0.0" in messages[0]


def test_first_sync_after_a_restart_uses_the_stored_status_as_memory() -> None:
    # No previous status at all (a new source): every listed move is new.
    assert len(moved_events(None, ready(("a", NEW), ("b", NEW)))) == 2


def test_many_new_moves_are_bounded_in_events() -> None:
    moves = [(f"m{i}", NEW) for i in range(MAX_CONFLICT_EVENTS + 7)]
    messages = moved_events(ready(), ready(*moves))
    assert len(messages) == MAX_CONFLICT_EVENTS + 1
    assert messages[-1].startswith("7 more tags moved")


def test_a_move_adds_no_degraded_warning() -> None:
    events = events_for(settled_before="Ready", new=ready(("m", NEW)), created=(), previous=ready())
    assert [e.reason for e in events] == ["TagMoved"]
