"""Reading a registry's answers: a final status as one of our errors, a tags page as strings.

Shared by the client's calls (`client.py`); pure functions of a `Reply` and the call's `AuthScope`.
Messages name the registry and repository and never quote more than a bounded, printable excerpt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from multidict import CIMultiDictProxy
from yarl import URL

from aimsource.domain.selection.listings import StaleListing
from aimsource.registry.auth.flow import AuthScope
from aimsource.registry.errors import (
    AuthenticationFailed,
    BadResponse,
    RepositoryNotFound,
    TagNotFound,
)
from aimsource.registry.http.endpoints import netloc, same_origin, scheme_allowed
from aimsource.registry.http.messages import Purpose, Reply
from aimsource.registry.http.sending import reason_phrase
from aimsource.registry.pages.links import next_page
from aimsource.registry.pages.sizes import error_entries
from aimsource.registry.settings import RegistrySettings

MANIFEST_MEDIA_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)


@dataclass(frozen=True)
class TagListing:
    tags: tuple[str, ...]
    """Tags in the registry's order, each once."""
    truncated: bool = False
    """True when the page cap or the tag cap stopped the listing before the registry's last tag."""
    stale: StaleListing | None = None
    """Set only by a cache answering in place of a failed listing (never by this client)."""
    endpoint: str | None = None
    """The mirror (its URL) that served the listing; None when the registry itself did."""


_ERROR_CODE = re.compile(r"[A-Z][A-Z_]{0,39}")


def check_reply(reply: Reply, scope: AuthScope, *, kind: Purpose, tag: str | None = None) -> None:
    """Map a final non-2xx answer to our errors."""
    if 200 <= reply.status < 300:
        return
    subject = scope.subject
    codes = error_codes(reply.body)
    detail = f" ({', '.join(codes)})" if codes else ""
    anonymous = scope.credential is None
    if reply.status == 401:
        raise AuthenticationFailed(f"authentication failed for {subject}: HTTP 401{detail}")
    if reply.status == 403:
        hint = "supply credentials for this registry" if anonymous else "check the credentials may pull it"
        raise AuthenticationFailed(f"authentication failed for {subject}: access denied{detail}; {hint}")
    if reply.status == 404:
        private = " (or it is private: supply credentials)" if anonymous else ""
        if kind == "manifest" and "NAME_UNKNOWN" not in codes:
            raise TagNotFound(f"tag not found: {subject}:{tag}")
        raise RepositoryNotFound(f"repository not found: {subject}{private}")
    raise bad(scope, f"HTTP {reply.status} {reason_phrase(reply.status)}{detail}")


def parse_tags(body: bytes, scope: AuthScope) -> list[str]:
    try:
        document: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise bad(scope, "the tag list is not valid JSON") from exc
    if not isinstance(document, dict):
        raise bad(scope, "the tag list is not a JSON object")
    tags = document.get("tags")
    if tags is None:
        return []  # distribution answers `"tags": null` for a repository without tags
    # json.loads makes exact `str`s: one pass over the types in C rather than isinstance per tag.
    if not isinstance(tags, list) or not set(map(type, tags)) <= {str}:
        raise bad(scope, '"tags" is not a list of strings')
    return tags


def error_codes(body: bytes) -> list[str]:
    """The distribution error codes of an error body (`{"errors": [{"code": ...}]}`), if any."""
    codes = [e.get("code") for e in error_entries(body)]
    return [code for code in codes if isinstance(code, str) and _ERROR_CODE.fullmatch(code)]


def bad(scope: AuthScope, why: str) -> BadResponse:
    return BadResponse(f"bad response from {scope.host} for {scope.subject}: {why}")


def shown(links: Sequence[str]) -> str:
    """A Link header as it may appear in a message: printable, and short whatever was sent."""
    text = ", ".join(links)
    text = "".join(c if 0x20 <= ord(c) < 0x7F else "?" for c in text)
    return repr(text if len(text) <= 120 else text[:117] + "...")


def next_link(
    answered: URL,
    headers: CIMultiDictProxy[str],
    scope: AuthScope,
    *,
    base: URL,
    settings: RegistrySettings,
    path: str,
) -> URL | None:
    """The next page a `Link` header names, if the registry gave one: on the same host and scheme
    rules as the call (`base`), and on the same `path`; anything else is a BadResponse."""
    links = headers.getall("link", ())
    if not links:
        return None
    try:
        following = next_page(links, current=answered)
    except (ValueError, TypeError) as exc:
        raise bad(scope, f"the next-page Link {shown(links)} is not a valid URL") from exc
    if following is None:
        return None
    if not same_origin(following, base) or not scheme_allowed(following, settings):
        raise bad(
            scope,
            f"the next-page Link points to {following.scheme}://{netloc(following)}, not this registry; "
            "refusing to follow it",
        )
    if following.raw_path != path:
        # Another repository's tags (or anything else on the host) must not become this one's.
        raise bad(scope, f"the next-page Link {shown(links)} leaves {path}; refusing to follow it")
    return following
