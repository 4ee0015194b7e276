"""Conditions: Ready, Degraded and MaxModelsLimitReached, from the verdict and the counters.

`lastTransitionTime` moves only when a condition flips (the previous status's time is kept
otherwise), so that two syncs that found the same registry contents write the same conditions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from aimsource.domain.resources import (
    DEGRADED_CONDITION,
    FALSE,
    LIMIT_CONDITION,
    LIMIT_REACHED_REASON,
    READY,
    READY_CONDITION,
    TRUE,
    WITHIN_LIMIT_REASON,
    Condition,
)
from aimsource.domain.status.counters import Counters
from aimsource.domain.status.text import clean
from aimsource.domain.status.verdict import Verdict
from aimsource.domain.times import format_time


def summary_message(ok: int, total: int, *, available: int, discovered: int) -> str:
    """The Ready condition's message of a Ready source."""
    return f"{ok} of {total} selectors synced; {available} images available, {discovered} models"


def within_limit_message(owned: int) -> str:
    """The MaxModelsLimitReached condition's message while the limit is not reached."""
    return f"Within the model creation limit ({owned} models created)."


def source_conditions(
    verdict: Verdict,
    counters: Counters,
    *,
    selectors: int,
    previous: Mapping[str, Any],
    generation: int,
    now: datetime | None,
) -> list[Condition]:
    """The three conditions after a sync of `selectors` selectors; `now` None writes no new times."""
    ready = verdict.status == READY
    summary = summary_message(
        selectors - len(verdict.failures),
        selectors,
        available=counters.available,
        discovered=counters.discovered,
    )
    limit_reached = counters.limit_reached
    wanted = [
        (READY_CONDITION, ready, verdict.reason, summary if ready else verdict.trouble),
        (
            DEGRADED_CONDITION,
            not ready,
            verdict.reason,
            verdict.trouble if not ready else "No selector failed",
        ),
        (
            LIMIT_CONDITION,
            limit_reached,
            LIMIT_REACHED_REASON if limit_reached else WITHIN_LIMIT_REASON,
            _limit_message(counters, previous),
        ),
    ]
    return _conditions(wanted, previous, generation=generation, now=now)


def conditions_by_type(status: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The conditions of a status (ours or as read back), by type; malformed entries are skipped."""
    conditions = status.get("conditions") or []
    return {str(c.get("type")): c for c in conditions if isinstance(c, Mapping)}


def _limit_message(counters: Counters, previous: Mapping[str, Any]) -> str:
    if counters.owned is not None:
        if counters.limit_reached:
            return (
                f"Model creation limit reached ({counters.owned} models created). "
                f"{counters.capped} available images not created as models."
            )
        return within_limit_message(counters.owned)
    # Nothing planned (an invalid spec): the previous message stays, as the counters do.
    old = conditions_by_type(previous).get(LIMIT_CONDITION, {})
    return str(old.get("message", "")) or (
        "Model creation limit reached." if counters.limit_reached else "Within the model creation limit."
    )


def _conditions(
    wanted: Sequence[tuple[str, bool, str, str]],
    previous: Mapping[str, Any],
    *,
    generation: int,
    now: datetime | None,
) -> list[Condition]:
    before = conditions_by_type(previous)
    result = []
    for kind, flag, reason, message in wanted:
        value = TRUE if flag else FALSE
        condition: Condition = {
            "type": kind,
            "status": value,
            "reason": reason,
            "message": clean(message),
            "observedGeneration": generation,
        }
        old = before.get(kind)
        if old is not None and old.get("status") == value and old.get("lastTransitionTime"):
            condition["lastTransitionTime"] = old["lastTransitionTime"]
        elif now is not None:
            condition["lastTransitionTime"] = format_time(now)
        result.append(condition)
    return result
