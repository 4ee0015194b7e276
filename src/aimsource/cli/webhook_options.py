"""The flags of `aimsource run` that bound the push-event receiver's connections (issue 23).

Kept apart from `run`'s table (which is at its size limit); each row has the fields of
`run._Option` - flag, settings field, variable, help, metavar, parser - and `run` appends them to
its table, so they read, check and show their defaults like every other flag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from aimsource.cli import values
from aimsource.cli.values import show_duration
from aimsource.operator.webhook.connections import ConnectionLimits

_LIMITS = ConnectionLimits()

WEBHOOK_OPTIONS: tuple[tuple[str, str, str, str, str, values.Parser[Any]], ...] = (
    (
        "--webhook-header-timeout",
        "webhook_header_timeout",
        "AIMSOURCE_WEBHOOK_HEADER_TIMEOUT",
        "time a client of the push-event receiver has for a request line and its headers "
        f"(default: {show_duration(_LIMITS.header_timeout)})",
        "DURATION",
        values.positive_duration,
    ),
    (
        "--webhook-body-timeout",
        "webhook_body_timeout",
        "AIMSOURCE_WEBHOOK_BODY_TIMEOUT",
        "time a request to the receiver has once its headers are in: body and answer "
        f"(default: {show_duration(_LIMITS.body_timeout)})",
        "DURATION",
        values.positive_duration,
    ),
    (
        "--webhook-idle-timeout",
        "webhook_idle_timeout",
        "AIMSOURCE_WEBHOOK_IDLE_TIMEOUT",
        "time an idle keep-alive connection to the receiver stays open "
        f"(default: {show_duration(_LIMITS.idle_timeout)})",
        "DURATION",
        values.positive_duration,
    ),
    (
        "--webhook-max-connections",
        "webhook_max_connections",
        "AIMSOURCE_WEBHOOK_MAX_CONNECTIONS",
        "connections open to the receiver at once; beyond, new ones are closed at once "
        f"(default: {_LIMITS.max_connections})",
        "N",
        values.positive_int,
    ),
)


def connection_limits(value: Callable[[str], Any]) -> ConnectionLimits:
    """The limits the flags (read by `value(dest)`, None when unset) give."""
    given = {
        field: v
        for field, dest in (
            ("header_timeout", "webhook_header_timeout"),
            ("body_timeout", "webhook_body_timeout"),
            ("idle_timeout", "webhook_idle_timeout"),
            ("max_connections", "webhook_max_connections"),
        )
        if (v := value(dest)) is not None
    }
    return replace(_LIMITS, **given)
