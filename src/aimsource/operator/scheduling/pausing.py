"""What the leader writes when a source is paused or resumed (`domain.status.paused`).

The watch side keeps `ScheduleState.paused` (the annotation) and `paused_shown` (the status carries
Paused True); `decide` takes a paused source once, so that the leader shows the pause, and never
again while it lasts, and takes a resumed one at once. `pause_step` says what that take writes: a
pause is one status patch, made only when the status does not show it yet (watch events of a
paused source write nothing); a resume drops the condition as its sync starts.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aimsource.domain.status.paused import paused_status, resumed_status, shows_paused
from aimsource.operator.scheduling.sources import SourceEntry


@dataclass(frozen=True)
class PauseStep:
    status: Mapping[str, Any] | None
    """The status to write first; None: nothing."""
    paused: bool
    """The source is paused: no sync follows. False: resumed, its sync follows the write."""


def pause_step(entry: SourceEntry, now: float) -> PauseStep | None:
    """What a take of `entry` writes about a pause; None when it is neither paused nor resumed."""
    if entry.state.paused:
        if shows_paused(entry.status):
            return PauseStep(status=None, paused=True)
        status = paused_status(
            entry.status,
            name=entry.name,
            settled=entry.settled,
            generation=entry.state.generation,
            now=datetime.datetime.fromtimestamp(now, tz=datetime.UTC),
        )
        return PauseStep(status=status, paused=True)
    if shows_paused(entry.status):
        return PauseStep(status=resumed_status(entry.status or {}), paused=False)
    return None
