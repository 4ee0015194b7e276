"""domain/times.py: times written and read as Kubernetes writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from aimsource.domain.times import format_time, parse_time


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 1, 15, 10, 30, 5, 999999, tzinfo=UTC), "2026-01-15T10:30:05Z"),
        (datetime(2026, 1, 15, 10, 30), "2026-01-15T10:30:00Z"),
        (datetime(2026, 1, 15, 12, 30, tzinfo=timezone(timedelta(hours=2))), "2026-01-15T10:30:00Z"),
    ],
    ids=["utc-drops-fraction", "naive-is-utc", "offset-converted"],
)
def test_format_time_is_rfc3339_utc(moment: datetime, text: str) -> None:
    assert format_time(moment) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-15T10:30:05Z", datetime(2026, 1, 15, 10, 30, 5, tzinfo=UTC)),
        ("2026-01-15T12:30:05.5+02:00", datetime(2026, 1, 15, 10, 30, 5, 500000, tzinfo=UTC)),
        ("2026-01-15T10:30:05", datetime(2026, 1, 15, 10, 30, 5, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
        (1767225600, None),
    ],
    ids=["zulu", "offset-and-fraction", "naive-is-utc", "not-a-time", "empty", "absent", "not-a-string"],
)
def test_parse_time_reads_rfc3339_or_gives_none(text: Any, expected: datetime | None) -> None:
    assert parse_time(text) == expected


def test_a_written_time_reads_back() -> None:
    moment = datetime(2026, 12, 4, 22, 50, 30, tzinfo=UTC)
    assert parse_time(format_time(moment)) == moment
