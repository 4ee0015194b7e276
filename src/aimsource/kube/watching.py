"""Watching a collection: the events of a `?watch=true` stream after a resource version.

The caller lists first (`KubeClient.list_pages` reports the list's resource version), then watches
from that version, and starts again from the last version it saw when a watch ends or breaks. When
the server no longer keeps history that old (410 Gone, as an HTTP status or as an ERROR event: an
API server restart, etcd compacted), `WatchExpired` says to list again: whatever changed in the gap
is only seen by a new list.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from aimsource.kube.errors import ApiStatusError, KubeError, error_for_status
from aimsource.kube.transport import ApiTransport

WATCH_SECONDS = 300
"""`timeoutSeconds` of one watch call: the server ends it then (with jitter), and we call again."""
SILENCE = 120.0
"""Seconds without a byte after which a watch counts as broken: kube-apiserver sends a bookmark
about every minute to a watch that allows them, so a live watch is never this quiet."""
MAX_EVENT = 4 * 1024 * 1024
"""Longest event line read, in bytes: etcd keeps objects of at most 1.5 MiB."""
KINDS = frozenset({"ADDED", "MODIFIED", "DELETED", "BOOKMARK"})


class WatchExpired(KubeError):
    """The resource version watched from is too old (410): list again."""

    reason = "Expired"


@dataclass(frozen=True)
class WatchEvent:
    type: str
    """ADDED, MODIFIED, DELETED or BOOKMARK (a bookmark's object carries only its resourceVersion)."""
    object: dict[str, Any]

    @property
    def resource_version(self) -> str | None:
        version = (self.object.get("metadata") or {}).get("resourceVersion")
        return version if isinstance(version, str) and version else None


async def watch(
    transport: ApiTransport,
    path: str,
    resource_version: str,
    *,
    on_open: Callable[[], None] = lambda: None,
    timeout_seconds: int = WATCH_SECONDS,
    silence: float = SILENCE,
) -> AsyncIterator[WatchEvent]:
    """The events of `path` after `resource_version`, until the server ends the watch; a KubeError
    (WatchExpired for 410) when it fails or sends something that is not a watch event."""
    params = {
        "watch": "true",
        "resourceVersion": resource_version,
        "allowWatchBookmarks": "true",
        "timeoutSeconds": str(timeout_seconds),
    }
    try:
        async for line in transport.stream_lines(
            path, params=params, read_timeout=silence, max_line=MAX_EVENT, on_open=on_open
        ):
            yield _event(line, path)
    except ApiStatusError as exc:
        if exc.status == 410:
            raise WatchExpired(str(exc)) from exc
        raise


def _event(line: bytes, path: str) -> WatchEvent:
    try:
        decoded = json.loads(line)
    except ValueError:
        raise KubeError(f"the watch of {path} sent a line that is not JSON") from None
    kind = decoded.get("type") if isinstance(decoded, dict) else None
    obj = decoded.get("object") if isinstance(decoded, dict) else None
    if not isinstance(obj, dict):
        raise KubeError(f"the watch of {path} sent an event without an object")
    if kind == "ERROR":
        code = obj.get("code")
        status = code if isinstance(code, int) else 500
        reason = obj.get("reason") if isinstance(obj.get("reason"), str) else None
        message = f"watch of {path}: {status} {reason or 'error'}: {str(obj.get('message') or '')[:500]}"
        if status == 410:
            raise WatchExpired(message)
        raise error_for_status(status, reason, message)
    if kind not in KINDS:
        raise KubeError(f"the watch of {path} sent an event of unknown type {str(kind)[:40]!r}")
    return WatchEvent(str(kind), obj)
