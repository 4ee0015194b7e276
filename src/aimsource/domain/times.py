"""Times as Kubernetes writes them: RFC 3339 in UTC with a "Z", to the second.

Written into a status (`lastSyncTime`, `lastTransitionTime`, `listedAt`), an event or a log line,
and read back from a status, an annotation or managedFields, which may hold anything.
"""

from __future__ import annotations

from datetime import UTC, datetime


def format_time(moment: datetime) -> str:
    """`moment` as Kubernetes writes a time; naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: object) -> datetime | None:
    """An RFC 3339 time (aware; naive means UTC); None when absent or unreadable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
