"""Go duration strings for spec.syncInterval (lives here, next to the CRD pattern it must agree with)."""

from __future__ import annotations

import pytest

from aimsource.domain.durations import InvalidDurationError, format_duration, parse_duration
from aimsource.domain.errors import DomainError
from aimsource.domain.spec.source import SYNC_INTERVAL_PATTERN


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("15m", 900.0),
        ("1h", 3600.0),
        ("2h30m", 9000.0),
        ("1.5h", 5400.0),
        ("300ms", 0.3),
        ("90s", 90.0),
        ("1h2m3s", 3723.0),
        ("10us", 10e-6),
        ("10\u00b5s", 10e-6),
        ("10\u03bcs", 10e-6),
        ("500ns", 500e-9),
        ("0s", 0.0),
        ("0", 0.0),
        (".5h", 1800.0),
        ("1.h", 3600.0),
        ("-1m", -60.0),
        ("+1m", 60.0),
        ("1m1m", 120.0),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_parse_go_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "expected a number"),
        ("1", "missing unit"),
        ("1h30", "missing unit"),
        ("1d", "unknown unit 'd'"),
        ("1 h", "unknown unit ' h'"),
        ("h", "expected a number"),
        (".h", "expected a number"),
        ("1hour", "unknown unit 'hour'"),
        ("-", "expected a number"),
    ],
    ids=[
        "empty",
        "no-unit",
        "trailing-number",
        "days",
        "space",
        "unit-only",
        "dot-only",
        "word",
        "sign-only",
    ],
)
def test_reject_what_go_rejects_naming_the_text(text: str, why: str) -> None:
    with pytest.raises(InvalidDurationError) as info:
        parse_duration(text)
    assert isinstance(info.value, DomainError)
    assert repr(text) in str(info.value)
    assert why in str(info.value)


@pytest.mark.parametrize(
    "text", ["15m", "1h", "2h30m", "1.5h", "300ms", "10\u00b5s", "1h2m3s4ms"], ids=lambda v: str(v)
)
def test_every_string_the_crd_pattern_admits_parses(text: str) -> None:
    assert SYNC_INTERVAL_PATTERN.fullmatch(text)
    parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (3600.0, "1h"),
        (9000.0, "2h30m"),
        (900.0, "15m"),
        (90.0, "1m30s"),
        (0.3, "300ms"),
        (1.5, "1.5s"),
        (0, "0s"),
    ],
    ids=lambda v: str(v),
)
def test_format_duration_compactly(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)
