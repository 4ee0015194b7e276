"""`GET /v2/_catalog`: the repositories of a registry that has a catalog (distribution, Harbor...).

The walk follows `Link` pages exactly as given, on the same host and path (the caller's `follow`
checks both, as for tag listings), stops at the page cap and keeps only the names the pattern
matches. A registry that refuses the catalog (401, 403, 404, 405 once authenticated) cannot resolve
a wildcard: that is `CatalogUnsupported`, whose message says to name the repositories instead.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from multidict import CIMultiDictProxy
from yarl import URL

from aimsource.domain.patterns import RepositoryPattern
from aimsource.registry.discovery.listing import MatchCollector, RepositoryListing
from aimsource.registry.errors import AccessRefused, BadResponse, CatalogUnsupported
from aimsource.registry.http.messages import Reply
from aimsource.registry.http.sending import reason_phrase
from aimsource.registry.settings import RegistrySettings

CATALOG_PATH = "/v2/_catalog"
CATALOG_SCOPE = "registry:catalog:*"
REFUSALS = frozenset({401, 403, 404, 405})

Fetch = Callable[[URL], Awaitable[Reply]]
Follow = Callable[[URL, CIMultiDictProxy[str]], "URL | None"]


async def walk_catalog(
    first: URL, *, pattern: RepositoryPattern, settings: RegistrySettings, fetch: Fetch, follow: Follow
) -> RepositoryListing:
    """Every page of the catalog from `first`; the names `pattern` matches, capped."""
    endpoint = f"{pattern.registry}{CATALOG_PATH}"
    found = MatchCollector(pattern, settings.max_repositories)
    asked: set[str] = set()
    url = first
    for _page in range(settings.max_pages):
        asked.add(url.raw_path_qs)
        try:
            reply = await fetch(url)
        except AccessRefused as exc:  # a token for `registry:catalog:*`, and still a 401
            raise _unsupported(pattern, 401) from exc
        if reply.status in REFUSALS:
            raise _unsupported(pattern, reply.status)
        if not 200 <= reply.status < 300:
            raise BadResponse(
                f"bad response from {pattern.registry} for {CATALOG_PATH}: "
                f"HTTP {reply.status} {reason_phrase(reply.status)}"
            )
        try:
            names = catalog_names(reply.body)
        except ValueError as exc:
            raise BadResponse(f"bad response from {pattern.registry} for {CATALOG_PATH}: {exc}") from exc
        found.add(names)
        del names
        following = follow(reply.url, reply.headers)
        if following is None or following.raw_path_qs in asked:
            return found.listing(truncated=False, endpoint=endpoint)
        url = following
    return found.listing(truncated=True, endpoint=endpoint)


def _unsupported(pattern: RepositoryPattern, status: int) -> CatalogUnsupported:
    return CatalogUnsupported(
        f"{pattern.registry} does not list its repositories (HTTP {status} on {CATALOG_PATH}), "
        f"so the wildcard {pattern} cannot be resolved there: name the repositories instead"
    )


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
