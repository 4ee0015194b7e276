"""The values of command-line flags and `AIMSOURCE_*` variables: one parser per kind, for every command.

A parser takes the text and returns the value, or raises `InvalidValueError` with a reason that
quotes the text but not where it came from; the CLI adds the origin (`--workers: ...`,
`$AIMSOURCE_WORKERS: ...`, `cli.values.read`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal, TypeVar

from aimsource.domain.durations import InvalidDurationError, parse_duration
from aimsource.domain.kube_names import is_subdomain

T = TypeVar("T")
Parser = Callable[[str], T]
LogFormat = Literal["text", "json"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class InvalidValueError(ValueError):
    """A flag's or variable's text that is not a value of its kind; the message says why."""


def text(value: str) -> str:
    return value


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise InvalidValueError(f"expected a whole number, got {value!r}") from exc
    if number < 1:
        raise InvalidValueError(f"must be at least 1, got {value!r}")
    return number


def rate(value: str) -> float:
    """Requests per second, 0 or more (0: no budget)."""
    try:
        number = float(value)
    except ValueError as exc:
        raise InvalidValueError(f"expected a number of requests per second, got {value!r}") from exc
    if not number >= 0:  # NaN too
        raise InvalidValueError(f"must not be negative, got {value!r}")
    return number


def port(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise InvalidValueError(f"expected a port number, got {value!r}") from exc
    if not 0 <= number <= 65535:
        raise InvalidValueError(f"a port is between 0 and 65535, got {value!r}")
    return number


def duration(value: str) -> float:
    """A Go duration (30s, 1m, 1h30m, 500ms) of zero or more, in seconds."""
    try:
        seconds = parse_duration(value)
    except InvalidDurationError as exc:
        raise InvalidValueError(f"expected a duration such as 30s, 1m or 1h30m, got {value!r}") from exc
    if seconds < 0:
        raise InvalidValueError(f"must not be negative, got {value!r}")
    return seconds


def positive_duration(value: str) -> float:
    seconds = duration(value)
    if seconds <= 0:
        raise InvalidValueError(f"must be more than zero, got {value!r}")
    return seconds


def boolean(value: str) -> bool:
    """true/false, yes/no, on/off, 1/0; empty is false (an unset variable)."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidValueError(f"expected true or false, got {value!r}")


def secret_name(value: str) -> str:
    if not is_subdomain(value):
        raise InvalidValueError(
            f"expected a Secret name (lower-case letters, digits, '-' and '.'), got {value!r}"
        )
    return value


def log_format(value: str) -> LogFormat:
    if value == "text":
        return "text"
    if value == "json":
        return "json"
    raise InvalidValueError(f"expected text or json, got {value!r}")


def log_level(value: str) -> str:
    level = value.upper()
    if level not in _LOG_LEVELS:
        raise InvalidValueError(f"expected DEBUG, INFO, WARNING, ERROR or CRITICAL, got {value!r}")
    return level


def comma_list(value: str) -> list[str]:
    """`a, b,,c` -> [a, b, c]: a variable that stands for a repeatable flag."""
    return [part.strip() for part in value.split(",") if part.strip()]


def hosts(values: Iterable[str]) -> frozenset[str]:
    """Registry hosts (`host[:port]`) as the registry client compares them: trimmed, lower-case."""
    return frozenset(h.strip().lower() for h in values if h.strip())
