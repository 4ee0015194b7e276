"""Structured logs: text for people or one JSON object per line, with the source on every line.

The source being synced is kept in a context variable set by the worker for the duration of a sync,
so every line logged during it (ours, the sync engine's, the registry client's) carries the source
name without passing a logger around. Messages are fixed phrases with the details in `extra`
fields, so that tests and log queries can match them; credentials are never passed to a logger.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

current_source: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "aimsource_current_source", default=None
)

_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime", "source"}
)


@contextmanager
def source_context(name: str) -> Iterator[None]:
    """Tag every log line emitted inside the block (in this task) with the source `name`."""
    token = current_source.set(name)
    try:
        yield
    finally:
        current_source.reset(token)


class SourceFilter(logging.Filter):
    """Adds `record.source` from the context (or keeps one passed in `extra`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "source", None):
            record.source = current_source.get() or "-"
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, source, message, and the `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC)
        data: dict[str, Any] = {
            "time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "source": getattr(record, "source", "-"),
            "message": record.getMessage(),
        }
        data.update(_extras(record))
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        elif record.exc_text:  # a traceback kept as (redacted) text, see webhook.redaction
            data["error"] = record.exc_text
        return json.dumps(data, default=str, sort_keys=False)


class TextFormatter(logging.Formatter):
    """`time level [source] message key=value...`"""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s [%(source)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return line


def setup_logging(*, fmt: str, level: str) -> None:
    """Configure the root logger for the operator process."""
    handler = logging.StreamHandler()
    handler.addFilter(SourceFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("aimsource").setLevel(level.upper())
    # kopf logs every handler call at INFO; only its warnings and errors matter to operators.
    logging.getLogger("kopf").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
