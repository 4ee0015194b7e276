"""When to try a request again, and how long to wait first.

Retried: timeouts, connection errors, 5xx and 429 - the failures that may go away by themselves.
Waits grow exponentially with "full jitter" (a uniform draw between 0 and the exponential bound),
which spreads many sources hitting one registry instead of having them retry in lock-step. A
`Retry-After` from the registry wins over our own guess: it is honoured as given (seconds or an
HTTP date), but a wait longer than the cap, or past the call's deadline, is not waited out - the
caller reports "rate limited; retry after N s" and the sync is rescheduled instead of blocking a
worker for minutes.
"""

from __future__ import annotations

import email.utils
import random
from datetime import UTC, datetime

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait according to a `Retry-After` value, or None when absent or unreadable.

    Accepts delta-seconds ("120") and an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT"); a date in the
    past means 0. Fractional seconds are tolerated although the RFC allows only integers.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):
            return None
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Full-jitter wait before retry number `attempt` (1 = first retry): U(0, min(cap, base*2^(n-1)))."""
    bound = min(cap, base * (2 ** min(max(0, attempt - 1), 60)))
    return rng.uniform(0.0, bound)
