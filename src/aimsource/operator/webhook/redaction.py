"""aiohttp's own log records of the webhook server, without the token and without tracebacks.

aiohttp logs "Error handling request" with the exception of a malformed or over-long request line,
and that exception quotes the line: `POST /hooks/<provider>/<token>`. A filter on aiohttp's loggers
rewrites every such record before any handler sees it: the path after `/hooks/<provider>/` (and the
current token, wherever it appears) becomes `<redacted>`, and the exception becomes one line (its
type and redacted message) instead of a traceback, so a client that disconnects or sends garbage
costs one short line, not thirty.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable

from aimsource.domain.pushes.payloads import PARSERS

LOGGERS = ("aiohttp.server", "aiohttp.web", "aiohttp.access", "aiohttp.internal")
"""The loggers the webhook server's records come through: one line each, redacted."""
KEEP_TRACEBACKS = ("asyncio",)
"""Loggers whose records may come from the webhook server (a task's unretrieved error) but mostly
from elsewhere: redacted, with their traceback kept (as text, itself redacted)."""
REDACTED = "<redacted>"
_PROVIDERS = "|".join(sorted(map(re.escape, PARSERS), key=len, reverse=True))
_PATH = re.compile(rf"(/hooks/)((?:{_PROVIDERS})/)?[^\s'\"\\]*")


def redact(text: str, token: bytes | None) -> str:
    """`text` with every webhook path's token part, and the token itself, replaced."""
    text = _PATH.sub(lambda m: f"{m.group(1)}{m.group(2) or ''}{REDACTED}", text)
    if token:
        secret = token.decode(errors="replace")
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record in place: redacted message, the exception as one redacted line."""

    def __init__(self, token: Callable[[], bytes | None], *, one_line: bool = True) -> None:
        super().__init__()
        self.token = token
        self.one_line = one_line

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            token = self.token()
        except Exception:  # the token's reader must not break logging
            token = None
        message = redact(record.getMessage(), token)
        exc = record.exc_info[1] if record.exc_info else None
        if not self.one_line:
            if exc is not None:
                record.exc_text = redact("".join(traceback.format_exception(exc)), token).rstrip("\n")
            record.msg, record.args, record.exc_info = message, None, None
            return True
        if exc is not None:
            lines = traceback.format_exception_only(type(exc), exc)
            message += ": " + redact(" ".join(lines), token)
        record.msg, record.args = " ".join(message.split()), None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


_FILTERS: list[RedactingFilter] = []


def redact_server_logs(token: Callable[[], bytes | None]) -> None:
    """Installs the filters on those loggers (once per process; the latest token source wins)."""
    if not _FILTERS:
        _FILTERS.extend((RedactingFilter(token), RedactingFilter(token, one_line=False)))
        for names, installed in ((LOGGERS, _FILTERS[0]), (KEEP_TRACEBACKS, _FILTERS[1])):
            for name in names:
                logging.getLogger(name).addFilter(installed)
    for installed in _FILTERS:
        installed.token = token
