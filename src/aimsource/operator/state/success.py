"""When a source last synced successfully, for `aimsource_source_last_success_timestamp_seconds`.

`status.lastSyncTime` is not that time: it moves on every sync that got *an* answer from a
registry, a 401 included, so a source whose credentials were revoked would look fresh forever and
the alert `AimsourceSourceNotSynced` would never fire. A success here is a sync that ended `Ready`
or `Degraded`: at least one selector listed its registry (so the registry was reached and did not
refuse us); its time is that status's `lastSyncTime`.

A `Failed` status does not say when the last success was, so the time is remembered per source
from the statuses this process has seen (every replica watches them, so the leader and the standbys
export the same value). A process that first sees a source already `Failed` (after a restart) uses
the Ready condition's `lastTransitionTime` instead: when the source stopped being `Ready`, which is
the first sync after its last full success, or its first sync if it never had one; the alert then
counts from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aimsource.domain.resources import DEGRADED, FALSE, READY, READY_CONDITION
from aimsource.domain.status.conditions import conditions_by_type
from aimsource.operator.scheduling.sources import parse_time

SUCCESSES = frozenset({READY, DEGRADED})
"""Status values that a sync ends with when at least one selector listed its registry."""


class LastSuccess:
    """The last success of each source, as far as this process can tell."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    def of(self, name: str, status: Mapping[str, Any] | None) -> float | None:
        """The time for the source's current `status` (None: none known, the series is left out)."""
        status = status or {}
        synced = parse_time(status.get("lastSyncTime"))
        if status.get("status") in SUCCESSES and synced is not None:
            self._seen[name] = max(synced, self._seen.get(name, synced))
        if name in self._seen:
            return self._seen[name]
        ready = conditions_by_type(status).get(READY_CONDITION) or {}
        if ready.get("status") == FALSE and synced is not None:
            return parse_time(ready.get("lastTransitionTime"))
        return None

    def forget(self, name: str) -> None:
        self._seen.pop(name, None)
