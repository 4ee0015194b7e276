"""The JSON documents of the distribution API's pages, read strictly: error bodies, catalogs.

Everything here reads what a registry wrote and returns only what passed a check: error codes are
short upper-case words, catalog names are strings, a Link header shown in a message is printable
and short.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

_ERROR_CODE = re.compile(r"[A-Z][A-Z_]{0,39}")


def error_codes(body: bytes) -> list[str]:
    """The distribution error codes of an error body (`{"errors": [{"code": ...}]}`), if any."""
    try:
        document: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return []
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list):
        return []
    codes = [e.get("code") for e in errors[:5] if isinstance(e, dict)]
    return [code for code in codes if isinstance(code, str) and _ERROR_CODE.fullmatch(code)]


def tag_names(body: bytes) -> list[str]:
    """The `tags` of a tags page; ValueError saying what is wrong with it."""
    try:
        document: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError("the tag list is not valid JSON") from exc
    if not isinstance(document, dict):
        raise ValueError("the tag list is not a JSON object")
    tags = document.get("tags")
    if tags is None:
        return []  # distribution answers `"tags": null` for a repository without tags
    # json.loads makes exact `str`s: one pass over the types in C rather than isinstance per tag.
    if not isinstance(tags, list) or not set(map(type, tags)) <= {str}:
        raise ValueError('"tags" is not a list of strings')
    return tags


def catalog_names(body: bytes) -> list[str]:
    """The `repositories` of a `/v2/_catalog` page; ValueError saying what is wrong with it."""
    try:
        document: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError("the catalog is not valid JSON") from exc
    if not isinstance(document, dict):
        raise ValueError("the catalog is not a JSON object")
    names = document.get("repositories")
    if names is None:
        return []
    if not isinstance(names, list) or not set(map(type, names)) <= {str}:
        raise ValueError('"repositories" is not a list of strings')
    return names


def shown_links(links: Sequence[str]) -> str:
    """A Link header as it may appear in a message: printable, and short whatever was sent."""
    text = ", ".join(links)
    text = "".join(c if 0x20 <= ord(c) < 0x7F else "?" for c in text)
    return repr(text if len(text) <= 120 else text[:117] + "...")
