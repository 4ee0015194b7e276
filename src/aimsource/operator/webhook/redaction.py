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

LOGGERS = ("aiohttp.server", "aiohttp.web", "aiohttp.access", "aiohttp.internal", "asyncio")
"""The loggers the webhook server's records can come through (asyncio: a task's unretrieved error)."""
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

    def __init__(self, token: Callable[[], bytes | None]) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            token = self.token()
        except Exception:  # the token's reader must not break logging
            token = None
        message = redact(record.getMessage(), token)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            lines = traceback.format_exception_only(type(exc), exc)
            message += ": " + redact(" ".join(lines), token)
        record.msg, record.args = " ".join(message.split()), None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


_FILTER: RedactingFilter | None = None


def redact_server_logs(token: Callable[[], bytes | None]) -> None:
    """Installs the filter on aiohttp's loggers (once per process; the latest token source wins)."""
    global _FILTER
    if _FILTER is None:
        _FILTER = RedactingFilter(token)
        for name in LOGGERS:
            logging.getLogger(name).addFilter(_FILTER)
    else:
        _FILTER.token = token
