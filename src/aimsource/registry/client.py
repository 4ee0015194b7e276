"""The OCI distribution client: list a repository's tags, check a pinned tag's manifest.

One `RegistryClient` per process, shared by every source: it owns the single aiohttp session
(HTTP/1.1 keep-alive, in `transport.py`), the per-registry limits, the token cache and the memory
of which hosts speak plain HTTP. A call gets a deadline (`call_deadline`) covering its pages,
retries and waits; within it, `auth.py` decides what credentials to send, `sending.py` makes each
request, and this module turns the answers into tags or a digest - or into one of our errors
(`errors.py`), named for the registry and repository, never an aiohttp exception.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from aimsource.domain.causes import dropping_cause
from aimsource.domain.patterns import RepositoryPattern
from aimsource.domain.references import ImageRef
from aimsource.domain.selection.listings import StaleListing
from aimsource.domain.selection.moved import is_digest
from aimsource.registry.auth.credentials import Credential
from aimsource.registry.auth.flow import AuthScope, AuthState, auth_flow
from aimsource.registry.discovery.apis import api_base, walk_api
from aimsource.registry.discovery.catalog import CATALOG_PATH, CATALOG_SCOPE, walk_catalog
from aimsource.registry.discovery.listing import RepositoryListing
from aimsource.registry.errors import (
    AuthenticationFailed,
    BadResponse,
    RegistryError,
    RepositoryNotFound,
    TagNotFound,
    Unreachable,
)
from aimsource.registry.http.endpoints import Schemes, api_host, netloc, same_origin, scheme_allowed
from aimsource.registry.http.limits import HostLimits
from aimsource.registry.http.messages import Outgoing, Purpose, Reply
from aimsource.registry.http.sending import Sender, reason_phrase
from aimsource.registry.http.transport import Transport, ssl_context
from aimsource.registry.observer import NullObserver, RegistryObserver
from aimsource.registry.pages.documents import error_codes, shown_links, tag_names
from aimsource.registry.pages.links import next_page
from aimsource.registry.pages.sizes import PageSizes, refuses_page_size, with_smaller_page
from aimsource.registry.settings import RegistrySettings

__all__ = ["MANIFEST_MEDIA_TYPES", "RegistryClient", "RegistryObserver", "RepositoryListing", "TagListing"]

logger = logging.getLogger("aimsource.registry")

MANIFEST_MEDIA_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
_T = TypeVar("_T")
_JSON = (("Accept", "application/json"),)


@dataclass(frozen=True)
class TagListing:
    tags: tuple[str, ...]
    """Tags in the registry's order, each once."""
    truncated: bool = False
    """True when the page cap or the tag cap stopped the listing before the registry's last tag."""
    stale: StaleListing | None = None
    """Set only by a cache answering in place of a failed listing (never by this client)."""


@dataclass(frozen=True)
class _Call:
    """One public call: who asks for what, where the API starts, and when we give up (loop time)."""

    scope: AuthScope
    base: URL
    deadline: float


class RegistryClient:
    """Lists tags and checks manifests on any number of registries; one per process, shared.

    Safe to use from many tasks at once (on one event loop). Every method raises only
    `RegistryError` subclasses; `aclose()` (or `async with`) releases the connections.
    """

    def __init__(
        self,
        settings: RegistrySettings | None = None,
        *,
        observer: RegistryObserver | None = None,
        limits: HostLimits | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`limits` may be shared between clients; `rng` and `clock` exist for tests."""
        self._settings = settings = settings if settings is not None else RegistrySettings()
        self._schemes = Schemes(settings)
        self._auth = AuthState(settings, clock=clock)
        self._met: set[str] = set()  # API hosts that answered at least once
        self._leads: dict[tuple[str, ...], asyncio.Event] = {}  # what a leading request is learning
        self._bad_digests: set[tuple[str, str]] = set()  # (host, repository) already logged
        self._page_sizes = PageSizes(settings.page_size)
        cap = settings.max_concurrency_per_host
        self._http = Transport(
            ssl_context=ssl_context(settings.ca_file), user_agent=settings.user_agent, keepalive_per_host=cap
        )
        self._sender = Sender(
            self._http,
            settings=settings,
            limits=limits
            if limits is not None
            else HostLimits(concurrency=cap, rate=settings.requests_per_second, burst=settings.request_burst),
            schemes=self._schemes,
            observer=observer if observer is not None else NullObserver(),
            rng=rng if rng is not None else random.Random(),
        )

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def list_tags(self, ref: ImageRef, *, credential: Credential | None) -> TagListing:
        """Every tag of `ref`'s repository (its tag is ignored), following the registry's pages."""
        call = self._start(ref, credential)
        return await self._guarded(call, self._list_tags(call))

    async def manifest_digest(self, ref: ImageRef, *, credential: Credential | None) -> str | None:
        """The digest of `ref`'s manifest (one HEAD); raises TagNotFound when the tag does not exist.

        None when the registry's `Docker-Content-Digest` is not a sha256/sha512 digest: no digest
        is better than recording whatever a registry wrote there."""
        if ref.tag is None:
            raise ValueError(f"manifest_digest needs a pinned reference, not {ref}")
        call = self._start(ref, credential)
        return await self._guarded(call, self._manifest_digest(call, ref.tag))

    async def list_repositories(
        self, pattern: RepositoryPattern, *, credential: Credential | None
    ) -> RepositoryListing:
        """The repositories of `pattern`'s registry that it matches, from Docker Hub's or GitHub's
        API (`discovery.apis`) or the registry's catalog (`/v2/_catalog`, token scope
        `registry:catalog:*`): at most `max_repositories`, by name."""
        base = api_base(pattern.registry, self._settings)
        if base is not None:  # Docker Hub and GHCR: their web APIs, on hosts of their own
            scope = AuthScope(netloc(base), pattern.registry, pattern.pattern)
            api = _Call(scope, base, asyncio.get_running_loop().time() + self._settings.call_deadline)

            def send(request: Outgoing) -> Coroutine[Any, Any, Reply]:
                return self._sender.send(
                    request, deadline=api.deadline, subject=str(pattern), registry=scope.host
                )

            walk = walk_api(base, pattern, credential=credential, settings=self._settings, send=send)
            return await self._guarded(api, walk)
        call = self._start(ImageRef(pattern.registry, "_catalog"), credential, resource=CATALOG_SCOPE)
        host = call.scope.host
        return await self._guarded(
            call,
            walk_catalog(
                call.base.with_path(CATALOG_PATH).with_query(n=str(self._page_sizes.for_host(host))),
                pattern=pattern,
                settings=self._settings,
                fetch=lambda url: self._fetch(call, Outgoing("GET", url, _JSON, "tags")),
                follow=lambda answered, headers: self._next_page(answered, headers, call, CATALOG_PATH),
            ),
        )

    def _start(self, ref: ImageRef, credential: Credential | None, *, resource: str = "") -> _Call:
        host = api_host(ref.registry)
        scope = AuthScope(host, ref.registry, ref.repository, credential=credential, resource=resource)
        deadline = asyncio.get_running_loop().time() + self._settings.call_deadline
        return _Call(scope=scope, base=self._schemes.base_url(host), deadline=deadline)

    async def _guarded(self, call: _Call, work: Coroutine[Any, Any, _T]) -> _T:
        """Run one call under its deadline; whatever escapes is one of our errors."""
        try:
            async with asyncio.timeout_at(call.deadline):
                return await work
        except RegistryError:
            raise
        except TimeoutError as exc:
            raise Unreachable(
                f"unreachable: {call.scope.host}: no answer for {call.scope.subject} within the "
                f"{self._settings.call_deadline:g} s deadline"
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:  # a safety net: transport.py maps these already
            # Not chained: aiohttp's errors keep the request's Authorization header (`request_info`).
            failure = Unreachable(f"unreachable: {call.scope.host}: {type(exc).__name__}")
            raise dropping_cause(failure, exc, logger) from None

    async def _list_tags(self, call: _Call) -> TagListing:
        settings = self._settings
        path = f"/v2/{call.scope.repository}/tags/list"
        host = call.scope.host
        url = call.base.with_path(path).with_query(n=str(self._page_sizes.for_host(host)))
        # A dict keeps the registry's order and drops repeats in one structure (no list + set).
        tags: dict[str, None] = {}
        asked: set[str] = set()
        accept = _JSON
        for _page in range(settings.max_pages):
            asked.add(url.raw_path_qs)
            reply = await self._fetch(call, Outgoing("GET", url, accept, "tags"))
            if refuses_page_size(reply.status, reply.body):
                # Quay answered 413 to n > 100, ECR refuses n > 1000: ask this page again with 100.
                smaller = with_smaller_page(url, self._page_sizes, host)
                if smaller is not None:
                    logger.info("%s refused %s; asking for 100 tags per page", host, url.query_string[:80])
                    url = smaller
                    asked.add(url.raw_path_qs)
                    reply = await self._fetch(call, Outgoing("GET", url, accept, "tags"))
            _check(reply, call, kind="tags")
            try:
                page_tags = tag_names(reply.body)
            except ValueError as exc:
                raise _bad(call, str(exc)) from exc
            answered, headers = reply.url, reply.headers
            del reply  # the raw page is not needed any more
            if len(tags) + len(page_tags) <= settings.max_tags:
                tags.update(dict.fromkeys(page_tags))  # the common case: the whole page fits
            else:
                for tag in page_tags:
                    if len(tags) >= settings.max_tags and tag not in tags:
                        cap = settings.max_tags
                        logger.warning(
                            "tag listing of %s truncated at the cap of %d tags", call.scope.subject, cap
                        )
                        return TagListing(tuple(tags), truncated=True)
                    tags[tag] = None
            del page_tags
            following = self._next_page(answered, headers, call, path)
            if following is None:
                return TagListing(tuple(tags))
            if len(tags) >= settings.max_tags:
                cap = settings.max_tags
                logger.warning("listing of %s truncated at the cap of %d tags", call.scope.subject, cap)
                return TagListing(tuple(tags), truncated=True)
            if following.raw_path_qs in asked:  # host and path are checked: the query tells pages apart
                logger.warning(
                    "tag listing of %s: the registry links back to a page already read; ending the listing",
                    call.scope.subject,
                )
                return TagListing(tuple(tags))
            url = following
        logger.warning(
            "tag listing of %s truncated after %d pages (%d tags)",
            call.scope.subject,
            settings.max_pages,
            len(tags),
        )
        return TagListing(tuple(tags), truncated=True)

    def _next_page(self, answered: URL, headers: CIMultiDictProxy[str], call: _Call, path: str) -> URL | None:
        links = headers.getall("link", ())
        if not links:
            return None
        try:
            following = next_page(links, current=answered)
        except (ValueError, TypeError) as exc:
            raise _bad(call, f"the next-page Link {shown_links(links)} is not a valid URL") from exc
        if following is None:
            return None
        base = self._schemes.base_url(call.scope.host)
        if not same_origin(following, base) or not scheme_allowed(following, self._settings):
            raise _bad(
                call,
                f"the next-page Link points to {following.scheme}://{netloc(following)}, "
                "not this registry; refusing to follow it",
            )
        if following.raw_path != path:
            # Another repository's tags (or anything else on the host) must not become this one's.
            raise _bad(
                call,
                f"the next-page Link {shown_links(links)} leaves {path}; refusing to follow it",
            )
        return following

    async def _manifest_digest(self, call: _Call, tag: str) -> str | None:
        url = call.base.with_path(f"/v2/{call.scope.repository}/manifests/{tag}")
        accept = (("Accept", ", ".join(MANIFEST_MEDIA_TYPES)),)
        reply = await self._fetch(call, Outgoing("HEAD", url, accept, "manifest"))
        _check(reply, call, kind="manifest", tag=tag)
        written = reply.headers.get("docker-content-digest")
        if written is None:
            # Some registries omit the header on HEAD: fetch the manifest and hash it ourselves.
            reply = await self._fetch(call, Outgoing("GET", url, accept, "manifest"))
            _check(reply, call, kind="manifest", tag=tag)
            written = reply.headers.get("docker-content-digest")
            if written is None:
                return "sha256:" + hashlib.sha256(reply.body).hexdigest()
        digest = written.strip()
        if is_digest(digest):  # only what a registry may compute: nothing else reaches an object we write
            return digest
        key = (call.scope.host, call.scope.repository)
        if key not in self._bad_digests:
            if len(self._bad_digests) > 4096:
                self._bad_digests.clear()  # a bound, not a cache: at worst a line is logged again
            self._bad_digests.add(key)
            logger.warning(
                "%s sends a Docker-Content-Digest that is not a sha256/sha512 digest (%d characters); "
                "its images get no digest",
                call.scope.subject,
                len(digest),
            )
        return None

    async def _fetch(self, call: _Call, request: Outgoing) -> Reply:
        """Send one request through the auth flow; the first one to learn something goes alone.

        Until a host has answered once we do not know whether it wants Basic, a token or nothing,
        and until a token for a scope is cached every caller would fetch its own: fifty sources
        starting together would pay fifty 401s and fifty token requests. So one request leads, the
        others with the same need wait for it and then start with what it learnt."""
        while (lead := self._lead_key(call)) is not None:
            pending = self._leads.get(lead)
            if pending is None:
                self._leads[lead] = event = asyncio.Event()
                try:
                    return await self._drive(call, request)
                finally:
                    self._met.add(call.scope.host)
                    del self._leads[lead]
                    event.set()
            await pending.wait()
        return await self._drive(call, request)

    def _lead_key(self, call: _Call) -> tuple[str, ...] | None:
        host = call.scope.host
        if host not in self._met:
            return ("host", host)
        challenge = self._auth.challenges.get(host)
        if (
            challenge is not None
            and challenge.scheme == "bearer"
            and self._auth.token(call.scope.token_key) is None
        ):
            return ("token", *call.scope.token_key)
        return None

    async def _drive(self, call: _Call, request: Outgoing) -> Reply:
        """Drive the auth flow: send what it yields, feed it the answers; the last answer is final."""
        flow = auth_flow(request, scope=call.scope, state=self._auth, settings=self._settings)
        outgoing = next(flow)
        while True:
            reply = await self._sender.send(
                outgoing, deadline=call.deadline, subject=call.scope.subject, registry=call.scope.host
            )
            try:
                outgoing = flow.send(reply)
            except StopIteration:
                return reply


def _check(reply: Reply, call: _Call, *, kind: Purpose, tag: str | None = None) -> None:
    """Map a final non-2xx answer to our errors."""
    if 200 <= reply.status < 300:
        return
    subject = call.scope.subject
    codes = error_codes(reply.body)
    detail = f" ({', '.join(codes)})" if codes else ""
    anonymous = call.scope.credential is None
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
    raise _bad(call, f"HTTP {reply.status} {reason_phrase(reply.status)}{detail}")


def _bad(call: _Call, why: str) -> BadResponse:
    return BadResponse(f"bad response from {call.scope.host} for {call.scope.subject}: {why}")
