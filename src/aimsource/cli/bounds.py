"""The flags of `aimsource run` that bound what strangers and registries can cost (issue 23): the
push-event receiver's connections, the registry work pushes may cause, the tags listings hold.

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
from aimsource.domain.pushes.budgets import PushLimits
from aimsource.operator.webhook.connections import ConnectionLimits
from aimsource.sync.listing_budget import DEFAULT_PER_PROCESS, DEFAULT_PER_SYNC

_LIMITS = ConnectionLimits()
_PUSHES = PushLimits()

BOUND_OPTIONS: tuple[tuple[str, str, str, str, str, values.Parser[Any]], ...] = (
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
    (
        "--push-heads-per-source",
        "push_heads_per_source",
        "AIMSOURCE_PUSH_HEADS_PER_SOURCE",
        "manifest HEADs pushes may cost one source a minute; past it, a full sync "
        f"(default: {_PUSHES.heads_per_source})",
        "N",
        values.positive_int,
    ),
    (
        "--push-heads-per-registry",
        "push_heads_per_registry",
        "AIMSOURCE_PUSH_HEADS_PER_REGISTRY",
        "manifest HEADs pushes may cost one registry host a minute, all sources together "
        f"(default: {_PUSHES.heads_per_registry})",
        "N",
        values.positive_int,
    ),
    (
        "--push-missing-for",
        "push_missing_for",
        "AIMSOURCE_PUSH_MISSING_FOR",
        "how long a pushed tag found missing is not asked for again "
        f"(default: {show_duration(_PUSHES.missing_for)})",
        "DURATION",
        values.duration,
    ),
    (
        "--sync-listing-tags",
        "sync_listing_tags",
        "AIMSOURCE_SYNC_LISTING_TAGS",
        "tags one sync's listings may hold together (at least --max-tags); past it listings are "
        f"cut and marked truncated (default: {DEFAULT_PER_SYNC})",
        "N",
        values.positive_int,
    ),
    (
        "--listing-tags",
        "listing_tags",
        "AIMSOURCE_LISTING_TAGS",
        "tags all syncs' listings may hold together; past it a sync waits before listing "
        f"(default: {DEFAULT_PER_PROCESS})",
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


def push_limits(value: Callable[[str], Any]) -> PushLimits:
    """The push budgets the flags (read by `value(dest)`, None when unset) give."""
    given = {
        field: v
        for field, dest in (
            ("heads_per_source", "push_heads_per_source"),
            ("heads_per_registry", "push_heads_per_registry"),
            ("missing_for", "push_missing_for"),
        )
        if (v := value(dest)) is not None
    }
    return replace(_PUSHES, **given)
