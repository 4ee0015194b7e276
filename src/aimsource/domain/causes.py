"""Causes an error does not chain because they could carry a secret, and how they are logged.

The rule (docs/dev/contracts.md, "Messages are safe to show"): `raise ... from exc` keeps the
cause for whoever reads the traceback, unless the cause could carry a secret - a JSON decode error
of a `.dockerconfigjson` or of a token answer keeps the whole document in `doc`, a Unicode error
the bytes in `object`, an aiohttp error the request's headers (`Authorization`) or the proxy's
credentials. Those sites raise `from None` through `dropping_cause`, so that `--log-level debug`
still says what happened: the exception's type and a redacted message, never the secret.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TypeVar

_E = TypeVar("_E", bound=BaseException)

_MAX = 200
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"]+")
_TOKENISH = re.compile(r"[A-Za-z0-9+/=._~-]{20,}")


def redacted(cause: BaseException) -> str:
    """What may be logged of `cause`: where a decoder stopped and why, or the first line of its
    message with quoted text, URLs (their userinfo and query) and token-shaped runs replaced."""
    if isinstance(cause, json.JSONDecodeError):
        return f"{cause.msg}: line {cause.lineno} column {cause.colno}"
    if isinstance(cause, UnicodeDecodeError):
        return f"{cause.reason} at byte {cause.start}"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    problem = getattr(cause, "problem", None)  # a YAML error: its message quotes the document
    if isinstance(problem, str):
        mark = getattr(cause, "problem_mark", None)
        line = getattr(mark, "line", None)
        return f"{_masked(problem)} at line {line + 1}" if isinstance(line, int) else _masked(problem)
    text = str(cause).split("\n", 1)[0]
    return _masked(text)


def _masked(text: str) -> str:
    text = _URL.sub("<url>", text)
    text = _QUOTED.sub("'***'", text)
    text = _TOKENISH.sub("***", text)
    return text if len(text) <= _MAX else text[: _MAX - 3] + "..."


def dropping_cause(error: _E, cause: BaseException, logger: logging.Logger) -> _E:
    """`error`, after saying at DEBUG that it is raised without `cause` (redacted); for
    `raise dropping_cause(SomeError("..."), exc, logger) from None`."""
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "cause dropped: it could carry a secret",
            extra={"raised": type(error).__name__, "cause": type(cause).__name__, "detail": redacted(cause)},
        )
    return error
