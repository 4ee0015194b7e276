"""How many tags to ask for per page (`n`), per registry host, and which answers mean "fewer".

Registries disagree on `n`: distribution and Docker Hub take 1,000, Quay caps pages at 100 (and
has answered 413 to more), ECR refuses more than 1,000, ACR ignores it. So a listing starts with
1,000 (100 for quay.io), and an answer that refuses the page size - a 413, the error code
`TOO_MANY_TAGS_REQUESTED` or `PAGINATION_NUMBER_INVALID`, or a 400 whose error message names `n`
or pagination - makes the client ask for that page again with 100 and remember 100 for the host.

The memory is a bounded table: hosts beyond `max_hosts` push the oldest learnt entry out (at worst
that host costs one refused request again), so a registry list that keeps growing, or hostile
names, cannot grow the client's memory.
"""

from __future__ import annotations

import json
import re
from typing import Any

from yarl import URL

SMALL_PAGE_SIZE = 100
SMALL_PAGE_HOSTS = frozenset({"quay.io"})
"""Hosts known to cap pages at 100: asked for 100 from the first page."""
MAX_HOSTS = 1024

_REFUSING_CODES = frozenset({"TOO_MANY_TAGS_REQUESTED", "PAGINATION_NUMBER_INVALID"})
# "invalid n", "n must be <= 100", "parameter n", "pagination", "page size", "maxResults" (ECR).
_NAMES_N = re.compile(r"(?i)(?<![\w-])n(?![\w-])|paginat|page[ _-]?size|maxresults")


class PageSizes:
    """The `n` to ask a host for; learnt per host when a host refuses a larger one."""

    def __init__(self, default: int, *, max_hosts: int = MAX_HOSTS) -> None:
        self._default = default
        self._max_hosts = max_hosts
        self._learnt: dict[str, int] = {}
        self._configured: dict[str, int] = {}

    def configure(self, per_host: dict[str, int], *, default: int | None = None) -> None:
        """First-page sizes the registries file sets (`pageSize`): per host, and for every other
        host when `default` is given."""
        self._configured = dict(per_host)
        if default is not None:
            self._default = default

    def __len__(self) -> int:
        return len(self._learnt)

    def for_host(self, host: str) -> int:
        learnt = self._learnt.get(host)
        if learnt is not None:
            return learnt
        configured = self._configured.get(host)
        if configured is not None:
            return configured
        if host in SMALL_PAGE_HOSTS:
            return min(self._default, SMALL_PAGE_SIZE)
        return self._default

    def smaller(self, host: str, asked: int) -> int | None:
        """The page size to retry with after `host` refused `asked`, remembered for the host;
        None when there is nothing smaller to try (it refused 100 already)."""
        if asked <= SMALL_PAGE_SIZE:
            return None
        if host not in self._learnt and len(self._learnt) >= self._max_hosts:
            del self._learnt[next(iter(self._learnt))]
        self._learnt[host] = SMALL_PAGE_SIZE
        return SMALL_PAGE_SIZE


def refuses_page_size(status: int, body: bytes) -> bool:
    """Whether an answer to a tags page says the page size `n` is too large."""
    if status == 413:
        return True
    if not 400 <= status < 500 or status in (401, 403, 404):
        return False
    errors = error_entries(body)
    if any(e.get("code") in _REFUSING_CODES for e in errors):
        return True
    if status != 400:
        return False
    return any(isinstance(m := e.get("message"), str) and _NAMES_N.search(m[:512]) for e in errors)


def with_smaller_page(url: URL, sizes: PageSizes, host: str) -> URL | None:
    """`url` asking for a smaller page, or None when there is none to ask for.

    Only the `n` parameter changes; everything else of the query - a registry's opaque cursor
    included - goes back byte for byte, as the registry wrote it in its `Link`. A page URL without
    `n` (the registry chose the size itself) is not changed."""
    parts = url.raw_query_string.split("&") if url.raw_query_string else []
    index = next((i for i, part in enumerate(parts) if part.startswith("n=")), None)
    if index is None:
        return None
    try:
        asked = int(parts[index][2:])
    except ValueError:
        return None
    smaller = sizes.smaller(host, asked)
    if smaller is None:
        return None
    parts[index] = f"n={smaller}"
    return URL(f"{url.scheme}://{url.raw_authority}{url.raw_path}?{'&'.join(parts)}", encoded=True)


def error_entries(body: bytes) -> list[dict[str, Any]]:
    """The first entries of a distribution error body (`{"errors": [...]}`); [] for anything else."""
    try:
        document: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return []
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list):
        return []
    return [e for e in errors[:5] if isinstance(e, dict)]
