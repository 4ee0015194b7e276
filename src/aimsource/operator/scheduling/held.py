"""A spec change or sync request that the minimum interval holds back, shown in the status at once.

Without this a `kubectl annotate ... sync-requested-at=...` (or an edit made within the spec-change
floor of the last listing) left the status as it was - `Ready`, the old `observedGeneration` - for up
to the minimum interval, as if nothing had been asked. The leader writes instead, right away:
`status: Progressing` and a `Progressing` condition (reason `MinimumInterval`) that says when the
listing will start. The rest of the status stays as the last sync left it - `observedGeneration`
included, which moves only when a sync of the new generation finished - and the next sync's status,
which has no `Progressing` condition, replaces it all.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from aimsource.domain.resources import PROGRESSING, TRUE
from aimsource.domain.status.build import initial_status
from aimsource.domain.times import format_time
from aimsource.operator.scheduling.schedule import HELD, Decision, ScheduleState

PROGRESSING_CONDITION = "Progressing"
HELD_REASON = "MinimumInterval"
SHOWN = ("spec changed", "sync requested")
"""The triggers a person sets off: when held, they are shown; the others (retries, pushes without a
tag) wait silently, as they always did."""


def wants_notice(decision: Decision) -> bool:
    """Whether `decision` holds back a trigger that a person set off."""
    return decision.why in {f"{trigger}, {HELD}" for trigger in SHOWN}


def notice_key(state: ScheduleState) -> tuple[int, str | None]:
    """What was asked: a new generation or a new request value is shown once, not at every
    reschedule while it waits."""
    return (state.generation, state.requested)


def held_status(
    status: Mapping[str, Any] | None, *, generation: int, decision: Decision, now: float, min_interval: float
) -> dict[str, Any]:
    """The status to write while `decision` holds the listing back."""
    trigger = decision.why.removesuffix(f", {HELD}")
    starts = _time(decision.when)
    message = (
        f"{trigger[0].upper()}{trigger[1:]}; the listing starts at {starts}, "
        f"{max(0, round(decision.when - now))}s from now: two listings of one source are at least "
        f"{min_interval:g}s apart"
    )
    if trigger == "spec changed":
        message += " (a spec change waits only for a short floor)"
    condition = {
        "type": PROGRESSING_CONDITION,
        "status": TRUE,
        "reason": HELD_REASON,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": _time(now),
    }
    body = dict(status or initial_status())
    others = [c for c in body.get("conditions") or [] if (c or {}).get("type") != PROGRESSING_CONDITION]
    return {**body, "status": PROGRESSING, "conditions": [*others, condition]}


def _time(seconds: float) -> str:
    return format_time(datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC))
