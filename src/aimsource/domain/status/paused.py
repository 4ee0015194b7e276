"""A paused source: the annotation that pauses it, and the status it shows while paused.

AMD's current operator skips a source annotated `aim.eai.amd.com/reconciliation-paused: "true"`;
so does aimsource, with the same strict reading: only the exact string `true` pauses, as in AMD's
operator, so that one manifest means the same under both. Anything else (`"True"`, `"1"`,
`"false"`, an empty string) does not pause; values that look as if they meant to
(`ignored_pause_value`) are worth a warning from `check` and the operator.

While paused, nothing of the source is synced: no listing, no push, no model. Its status keeps what
its last sync found - `status.status` stays that sync's outcome (Pending if it never synced; a
Progressing notice is taken back, since nothing is in progress), `observedGeneration` stays the
generation that sync used, so a spec change made while paused shows as not yet synced - and gains
one condition, `Paused` True, which says how to resume. Resuming drops the condition; the sync
that follows writes the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aimsource.domain.resources import (
    PAUSED_ANNOTATION,
    PAUSED_CONDITION,
    PAUSED_REASON,
    PAUSED_VALUE,
    PENDING,
    PROGRESSING_CONDITION,
    TRANSIENT_STATUSES,
    TRUE,
    Condition,
)
from aimsource.domain.status.build import initial_status
from aimsource.domain.times import format_time

_MEANT_TO_PAUSE = frozenset({"true", "yes", "y", "on", "1"})


def _annotations(metadata: object) -> Mapping[str, Any]:
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    return annotations if isinstance(annotations, Mapping) else {}


def is_paused(metadata: object) -> bool:
    """Whether a source's `metadata` pauses it: the annotation is exactly the string `true`."""
    return _annotations(metadata).get(PAUSED_ANNOTATION) == PAUSED_VALUE


def ignored_pause_value(metadata: object) -> str | None:
    """The annotation's value when it looks meant to pause but does not (`True`, `1`, ` true`):
    a person should hear that the source is not paused. None otherwise (absent, `true`, `false`)."""
    value = _annotations(metadata).get(PAUSED_ANNOTATION)
    if value is None or value == PAUSED_VALUE:
        return None
    text = str(value)
    return text if text.strip().lower() in _MEANT_TO_PAUSE else None


def ignored_pause_message(value: str) -> str:
    """One line saying that `value` does not pause the source, and what does."""
    return (
        f'annotation {PAUSED_ANNOTATION}: "{value}" does not pause the source: only the exact '
        f'string "{PAUSED_VALUE}" does (as in AMD\'s operator)'
    )


def paused_message(name: str) -> str:
    """The Paused condition's message: what it means and how to resume."""
    return (
        f'Reconciliation paused by the annotation {PAUSED_ANNOTATION}="{PAUSED_VALUE}": no syncs, '
        "no models created, spec changes not applied. To resume (a sync starts at once): "
        f"kubectl annotate aimclsrc {name} {PAUSED_ANNOTATION}-"
    )


def shows_paused(status: Mapping[str, Any] | None) -> bool:
    """Whether a status (ours or as read back) carries the condition Paused True."""
    conditions = (status or {}).get("conditions") or []
    return any(
        isinstance(c, Mapping) and c.get("type") == PAUSED_CONDITION and c.get("status") == TRUE
        for c in conditions
    )


def paused_status(
    status: Mapping[str, Any] | None,
    *,
    name: str,
    settled: str | None,
    generation: int,
    now: datetime,
) -> dict[str, Any]:
    """The status to write when the source is paused: `status` with the Paused condition, without a
    Progressing one, and `status.status` back to `settled` (the last sync's outcome; Pending when
    none) if it said a sync was pending or under way."""
    body: dict[str, Any] = dict(status or initial_status())
    if body.get("status") in TRANSIENT_STATUSES:
        body["status"] = settled if settled is not None and settled not in TRANSIENT_STATUSES else PENDING
    condition: Condition = {
        "type": PAUSED_CONDITION,
        "status": TRUE,
        "reason": PAUSED_REASON,
        "message": paused_message(name),
        "observedGeneration": generation,
        "lastTransitionTime": format_time(now),
    }
    return {**body, "conditions": [*_others(body, (PAUSED_CONDITION, PROGRESSING_CONDITION)), condition]}


def resumed_status(status: Mapping[str, Any]) -> dict[str, Any]:
    """`status` without its Paused condition (written as a sync of a resumed source starts)."""
    return {**status, "conditions": _others(status, (PAUSED_CONDITION,))}


def _others(status: Mapping[str, Any], dropped: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        dict(c)
        for c in status.get("conditions") or []
        if isinstance(c, Mapping) and c.get("type") not in dropped
    ]
