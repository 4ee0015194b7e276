"""Retry timing: Retry-After in both forms, full-jitter backoff, which statuses are retried."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from aimsource.registry.http.retry import backoff_delay, is_retryable_status, parse_retry_after

NOW = datetime(2026, 11, 26, 22, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        pytest.param("120", 120.0, id="delta-seconds"),
        pytest.param(" 7 ", 7.0, id="whitespace"),
        pytest.param("0", 0.0, id="zero"),
        pytest.param("1.5", 1.5, id="fractional-tolerated"),
        pytest.param("-3", 0.0, id="negative-clamped"),
        pytest.param("Thu, 26 Nov 2026 22:00:30 GMT", 30.0, id="http-date"),
        pytest.param("Thursday, 26-Nov-26 22:01:00 GMT", 60.0, id="rfc850-date"),
        pytest.param("Thu, 26 Nov 2026 21:59:00 GMT", 0.0, id="date-in-the-past"),
        pytest.param(None, None, id="absent"),
        pytest.param("", None, id="empty"),
        pytest.param("soon", None, id="garbage"),
        pytest.param("nan", None, id="nan"),
        pytest.param("inf", None, id="infinity"),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize(
    ("attempt", "bound"),
    [
        pytest.param(1, 0.5, id="first-retry"),
        pytest.param(2, 1.0, id="second-doubles"),
        pytest.param(4, 4.0, id="fourth"),
        pytest.param(10, 30.0, id="capped"),
        pytest.param(10_000, 30.0, id="huge-attempt-no-overflow"),
    ],
)
def test_backoff_is_full_jitter_below_the_exponential_bound(attempt: int, bound: float) -> None:
    rng = random.Random(7)
    delays = [backoff_delay(attempt, base=0.5, cap=30.0, rng=rng) for _ in range(500)]
    assert all(0.0 <= d <= bound for d in delays)
    # Full jitter spreads over the whole range, not just near the bound.
    assert min(delays) < bound * 0.1
    assert max(delays) > bound * 0.9


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (501, False),
        (200, False),
    ],
)
def test_retryable_statuses(status: int, retryable: bool) -> None:
    assert is_retryable_status(status) is retryable
