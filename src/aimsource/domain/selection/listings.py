"""A listing served from the operator's cache because the registry could not be read just now.

When a listing fails for a reason that passes (429, 5xx, a timeout, an unreachable host), the
operator may answer with the last good listing of the repository (`sync.listing_cache`). The
selector then decides on those tags as usual, but its status says `stale: true` with the time of
that listing, and the source is `Degraded` with reason `StaleListing` instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class StaleListing:
    listed_at: datetime
    """When the cached listing was read from the registry (aware, UTC)."""
    reason: str
    """The reason word of the failure that made the cache answer (RateLimited, Unreachable)."""
    message: str
    """That failure's message (safe to show: the registry layer never puts a secret in one)."""
    answered: bool
    """Whether the registry gave an HTTP answer (a 429 or 5xx) rather than none at all."""
