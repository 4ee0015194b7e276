"""Who else writes a source's status: a pure reading of `metadata.managedFields`.

AMD AIM's operator runs its own `AIMClusterModelSource` controller and cannot turn it off; on a
cluster that runs it, each source has two controllers that both create models and both write the
status. The API server records every writer in `metadata.managedFields`: one entry per field
manager and operation, with the subresource it wrote (`status` for the status subresource) and the
`time` of its last write that changed the object. A recent status write by a manager that is not
ours means another controller manages the source.

Only status writers count: people and GitOps tools (kubectl, Argo CD, Flux) write metadata and spec,
never the status subresource, and must not make aimsource stand down. Our own writes (manager
`aimsource`) never count, whatever they touched.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from aimsource.domain.times import parse_time

STATUS_SUBRESOURCE = "status"
WRITE_OPERATIONS = frozenset({"Update", "Apply"})
MAX_MANAGER_NAME = 128
"""The API server's own limit on a field manager's name; longer text is not a manager we trust."""


@dataclass(frozen=True)
class Competitor:
    """Another field manager that wrote the status within the window."""

    manager: str
    last_write: datetime.datetime
    operation: str

    def until(self, window: float) -> datetime.datetime:
        """When this competitor's claim lapses if it writes no more."""
        return self.last_write + datetime.timedelta(seconds=window)


def window_for(setting: float, sync_interval: float) -> float:
    """Seconds another controller's writes must have stopped before aimsource takes a source back.

    AIM's source controller writes a source's status once per `syncInterval` of that source (it
    requeues every source after its interval and updates `lastSyncTime`), so a quiet spell shorter
    than that interval says nothing; twice the interval tolerates one late or failed sync of
    theirs. The setting is the floor, for short intervals and for controllers that write rarely.
    """
    return max(setting, 2.0 * sync_interval)


def competitor(
    managed_fields: object, *, now: datetime.datetime, ours: str, window: float
) -> Competitor | None:
    """The most recent status writer other than `ours` whose last write is within `window`
    seconds before `now` (or after it: clocks may be skewed); None when there is none.

    Malformed entries (not a mapping, no manager, an unreadable time) are ignored: they cannot
    prove that anyone else is there, and a source must never stall on a field we cannot read.
    """
    if not isinstance(managed_fields, list):
        return None
    latest: Competitor | None = None
    for entry in managed_fields:
        found = _status_write(entry, ours)
        if found is None:
            continue
        if (now - found.last_write).total_seconds() > window:
            continue
        if latest is None or found.last_write > latest.last_write:
            latest = found
    return latest


def _status_write(entry: object, ours: str) -> Competitor | None:
    if not isinstance(entry, Mapping):
        return None
    manager = entry.get("manager")
    operation = entry.get("operation")
    if not isinstance(manager, str) or not manager or len(manager) > MAX_MANAGER_NAME or manager == ours:
        return None
    if entry.get("subresource") != STATUS_SUBRESOURCE or operation not in WRITE_OPERATIONS:
        return None
    written = parse_time(entry.get("time"))
    if written is None:
        return None
    return Competitor(manager=manager, last_write=written, operation=str(operation))
