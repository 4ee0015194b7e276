"""The Progressing condition: what a long sync has done so far, while it runs.

A first sync of thousands of images takes minutes (one digest check per new image at the host's
request budget). While it runs, the status carries a `Progressing` condition counting what is done
(`created 500 of 2,000 images`); the sync's own result replaces the whole status when it ends, and
has no such condition: it exists only while there is progress to show.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aimsource.domain.resources import PROGRESSING_CONDITION, TRUE, Condition
from aimsource.domain.times import format_time

SYNCING_REASON = "Syncing"


def progress_message(*, created: int, total: int, checked: int, refused: int) -> str:
    """`created 500 of 2,000 images` (and what was checked, or not created, when it says more)."""
    message = f"created {created:,} of {total:,} images"
    details = []
    if checked > created + refused:
        details.append(f"{checked:,} checked")
    if refused:
        details.append(f"{refused:,} not created")
    return message + (f" ({', '.join(details)})" if details else "")


def with_progress(
    status: Mapping[str, Any],
    *,
    created: int,
    total: int,
    checked: int,
    refused: int,
    generation: int,
    now: datetime,
) -> dict[str, Any]:
    """`status` with its Progressing condition set to these counts (the other conditions kept)."""
    conditions = [c for c in status.get("conditions") or [] if isinstance(c, Mapping)]
    old = next((c for c in conditions if c.get("type") == PROGRESSING_CONDITION), None)
    condition: Condition = {
        "type": PROGRESSING_CONDITION,
        "status": TRUE,
        "reason": SYNCING_REASON,
        "message": progress_message(created=created, total=total, checked=checked, refused=refused),
        "observedGeneration": generation,
        "lastTransitionTime": str(old.get("lastTransitionTime"))
        if old and old.get("lastTransitionTime")
        else format_time(now),
    }
    kept = [dict(c) for c in conditions if c.get("type") != PROGRESSING_CONDITION]
    return {**status, "conditions": [*kept, condition]}
