"""What a finished sync should tell the cluster: whether to write status, which events to post.

Pure decisions, kept apart from the code that performs them so that the "write only on change" and
"warn only on a change into Degraded or Failed" rules (and "one Warning per new name conflict", "one
Warning per new moved tag") are tested as tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aimsource.domain.resources import (
    DEGRADED,
    DEGRADED_CONDITION,
    FAILED,
    FALSE,
    NAME_CONFLICT_REASON,
    READY_CONDITION,
    TRUE,
    SourceStatus,
)
from aimsource.domain.status.build import status_changed

MAX_NAMES_IN_EVENT = 10
MAX_EVENT_MESSAGE = 1000
BAD_STATES = {DEGRADED: "SyncDegraded", FAILED: "SyncFailed"}
MAX_CONFLICT_EVENTS = 10
"""Warnings for new name conflicts per sync; more are summed up in one more event."""
CONFLICT_REASON = NAME_CONFLICT_REASON
MOVED_REASON = "TagMoved"


@dataclass(frozen=True)
class EventSpec:
    type: str  # Normal | Warning
    reason: str  # ModelsCreated | SyncDegraded | SyncFailed | ModelNameConflict | TagMoved
    message: str


def status_write_needed(previous: Mapping[str, Any] | None, new: SourceStatus) -> bool:
    """Write when anything but lastSyncTime changed, or when lastSyncTime moved."""
    if previous is None:
        return True
    return status_changed(previous, new) or previous.get("lastSyncTime") != new.get("lastSyncTime")


def events_for(
    *,
    settled_before: str | None,
    new: SourceStatus,
    created: Sequence[str],
    previous: Mapping[str, Any] | None = None,
) -> list[EventSpec]:
    """The events of one sync.

    `settled_before` is the status value before this sync, ignoring the transient Pending and
    Progressing, so that a spec change on an already failing source does not warn again.
    `previous` is the stored status before this sync: a name conflict it already listed is not
    announced again, so each conflict gets one Warning, whatever the number of syncs (and of
    operator restarts: the memory is the status itself).
    """
    events: list[EventSpec] = []
    if created:
        shown = ", ".join(created[:MAX_NAMES_IN_EVENT])
        more = len(created) - MAX_NAMES_IN_EVENT
        suffix = f" and {more} more" if more > 0 else ""
        noun = "model" if len(created) == 1 else "models"
        events.append(EventSpec("Normal", "ModelsCreated", f"Created {len(created)} {noun}: {shown}{suffix}"))
    fresh = [c for c in conflicts(new) if c not in set(conflicts(previous or {}))]
    for model, image, existing in fresh[:MAX_CONFLICT_EVENTS]:
        events.append(
            EventSpec(
                "Warning",
                CONFLICT_REASON,
                _truncate(
                    f'Model "{model}" is not created for {image}: the name is already used by a model of '
                    f"{existing}"
                ),
            )
        )
    if len(fresh) > MAX_CONFLICT_EVENTS:
        events.append(
            EventSpec(
                "Warning",
                CONFLICT_REASON,
                (
                    f"{len(fresh) - MAX_CONFLICT_EVENTS} more new model name conflicts: see the source's "
                    "status.selectors[].conflicts"
                ),
            )
        )
    events.extend(_moved_events(new, previous or {}))
    state = new.get("status")
    # A change into Degraded that is only about new conflicts was just announced, one Warning per
    # conflict; a second Warning saying the same would not help anyone.
    announced = bool(fresh) and _only_conflicts(new)
    if isinstance(state, str) and state in BAD_STATES and state != settled_before and not announced:
        events.append(EventSpec("Warning", BAD_STATES[state], _truncate(_problem(new, state))))
    return events


def conflicts(status: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The name conflicts a status lists, as (model, image, existingImage), in status order."""
    found = []
    for selector in status.get("selectors") or ():
        if not isinstance(selector, Mapping):
            continue
        for entry in selector.get("conflicts") or ():
            if isinstance(entry, Mapping):
                found.append(
                    (str(entry.get("model")), str(entry.get("image")), str(entry.get("existingImage")))
                )
    return found


def moves(status: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """The moved tags a status lists, as (model, image, recordedDigest, currentDigest)."""
    found = []
    for selector in status.get("selectors") or ():
        if not isinstance(selector, Mapping):
            continue
        for entry in selector.get("moved") or ():
            if isinstance(entry, Mapping):
                found.append(
                    (
                        str(entry.get("model")),
                        str(entry.get("image")),
                        str(entry.get("recordedDigest")),
                        str(entry.get("currentDigest")),
                    )
                )
    return found


def _moved_events(new: Mapping[str, Any], previous: Mapping[str, Any]) -> list[EventSpec]:
    """One Warning per move the previous status did not list: a tag that stays moved is not
    announced again at every sync, one that moves once more (another current digest) is."""
    known = set(moves(previous))
    fresh = [m for m in moves(new) if m not in known]
    events = [
        EventSpec(
            "Warning",
            MOVED_REASON,
            _truncate(
                f'Tag {image} moved: model "{model}" records {recorded}, the registry now serves '
                f"{current}; the model is not changed"
            ),
        )
        for model, image, recorded, current in fresh[:MAX_CONFLICT_EVENTS]
    ]
    if len(fresh) > MAX_CONFLICT_EVENTS:
        events.append(
            EventSpec(
                "Warning",
                MOVED_REASON,
                (
                    f"{len(fresh) - MAX_CONFLICT_EVENTS} more tags moved: see the source's "
                    "status.selectors[].moved"
                ),
            )
        )
    return events


def _only_conflicts(status: Mapping[str, Any]) -> bool:
    """Whether name conflicts are all that is wrong: no failed selector, no refused create."""
    reasons = [
        c.get("reason")
        for c in status.get("conditions") or ()
        if isinstance(c, Mapping) and c.get("type") == DEGRADED_CONDITION
    ]
    refused = any(isinstance(s, Mapping) and s.get("refused") for s in status.get("selectors") or ())
    return reasons == [CONFLICT_REASON] and not refused


def _problem(status: Mapping[str, Any], state: str) -> str:
    """The message of the condition that explains the bad state."""
    wanted = (DEGRADED_CONDITION, TRUE) if state == DEGRADED else (READY_CONDITION, FALSE)
    for cond in status.get("conditions") or ():
        if isinstance(cond, Mapping) and (cond.get("type"), cond.get("status")) == wanted:
            message = cond.get("message")
            if isinstance(message, str) and message:
                return message
    return f"The source is {state}."


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_EVENT_MESSAGE else text[: MAX_EVENT_MESSAGE - 3] + "..."
