"""What a finished sync should tell the cluster: whether to write status, which events to post.

Pure decisions, kept apart from the code that performs them so that the "write only on change" and
"warn only on a change into Degraded or Failed" rules are tested as tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aimsource.domain.status import status_changed

MAX_NAMES_IN_EVENT = 10
MAX_EVENT_MESSAGE = 1000
BAD_STATES = {"Degraded": "SyncDegraded", "Failed": "SyncFailed"}


@dataclass(frozen=True)
class EventSpec:
    type: str  # Normal | Warning
    reason: str  # ModelsCreated | SyncDegraded | SyncFailed
    message: str


def status_write_needed(previous: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """Write when anything but lastSyncTime changed, or when lastSyncTime moved."""
    if previous is None:
        return True
    return status_changed(previous, new) or previous.get("lastSyncTime") != new.get("lastSyncTime")


def events_for(
    *, settled_before: str | None, new: Mapping[str, Any], created: Sequence[str]
) -> list[EventSpec]:
    """The events of one sync.

    `settled_before` is the status value before this sync, ignoring the transient Pending and
    Progressing, so that a spec change on an already failing source does not warn again.
    """
    events: list[EventSpec] = []
    if created:
        shown = ", ".join(created[:MAX_NAMES_IN_EVENT])
        more = len(created) - MAX_NAMES_IN_EVENT
        suffix = f" and {more} more" if more > 0 else ""
        noun = "model" if len(created) == 1 else "models"
        events.append(EventSpec("Normal", "ModelsCreated", f"Created {len(created)} {noun}: {shown}{suffix}"))
    state = new.get("status")
    if isinstance(state, str) and state in BAD_STATES and state != settled_before:
        events.append(EventSpec("Warning", BAD_STATES[state], _truncate(_problem(new, state))))
    return events


def _problem(status: Mapping[str, Any], state: str) -> str:
    """The message of the condition that explains the bad state."""
    wanted = ("Degraded", "True") if state == "Degraded" else ("Ready", "False")
    for cond in status.get("conditions") or ():
        if isinstance(cond, Mapping) and (cond.get("type"), cond.get("status")) == wanted:
            message = cond.get("message")
            if isinstance(message, str) and message:
                return message
    return f"The source is {state}."


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_EVENT_MESSAGE else text[: MAX_EVENT_MESSAGE - 3] + "..."
