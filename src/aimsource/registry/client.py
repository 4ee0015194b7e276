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
from collections.abc import Callable, Collection, Coroutine
from dataclasses import dataclass, replace
from functools import partial
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from aimsource.domain.causes import dropping_cause
from aimsource.domain.patterns import RepositoryPattern
from aimsource.domain.references import ImageRef
from aimsource.domain.registries.entries import NO_REGISTRIES, Registries
from aimsource.domain.selection.moved import is_digest
from aimsource.registry.answers import MANIFEST_MEDIA_TYPES, TagListing, check_reply, next_link
from aimsource.registry.auth.credentials import Credential, CredentialStore
from aimsource.registry.auth.flow import AuthScope, AuthState, auth_flow
from aimsource.registry.discovery.apis import discovery_of, walk_api
from aimsource.registry.discovery.catalog import CATALOG_PATH, CATALOG_SCOPE, walk_catalog
from aimsource.registry.discovery.listing import RepositoryListing
from aimsource.registry.discovery.tag_digests import Found, digest_api, walk_tag_digests
from aimsource.registry.errors import RegistryError, Unreachable
from aimsource.registry.hosts import host_tables
from aimsource.registry.http.endpoints import Schemes, netloc
from aimsource.registry.http.limits import HostLimits
from aimsource.registry.http.messages import Outgoing, Reply
from aimsource.registry.http.sending import Sender
from aimsource.registry.http.transport import Transport, ssl_context
from aimsource.registry.listing import walk_tags
from aimsource.registry.mirrors import (
    Endpoint,
    MirrorHealth,
    answered_by_mirror,
    endpoints,
    exhausted,
    note_served,
    passes,
)
from aimsource.registry.observer import EndpointObserver, NullEndpointObserver, NullObserver, RegistryObserver
from aimsource.registry.pages.sizes import PageSizes
from aimsource.registry.settings import RegistrySettings

__all__ = ["MANIFEST_MEDIA_TYPES", "RegistryClient", "RegistryObserver", "TagListing"]

logger = logging.getLogger("aimsource.registry")
_T = TypeVar("_T")
_JSON = (("Accept", "application/json"),)


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
        registries: Registries = NO_REGISTRIES,
        observer: RegistryObserver | None = None,
        endpoint_observer: EndpointObserver | None = None,
        limits: HostLimits | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`registries`: the registries file (mirrors, per-registry limits, TLS), replaced later by
        `configure`; `limits` may be shared between clients; `rng` and `clock` exist for tests."""
        self._settings = settings = settings if settings is not None else RegistrySettings()
        self._flags = settings
        self._registries = NO_REGISTRIES
        self._health = MirrorHealth(
            endpoint_observer if endpoint_observer is not None else NullEndpointObserver()
        )
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
        self._limits = (
            limits
            if limits is not None
            else HostLimits(concurrency=cap, rate=settings.requests_per_second, burst=settings.request_burst)
        )
        self._sender = Sender(
            self._http,
            settings=settings,
            limits=self._limits,
            schemes=self._schemes,
            observer=observer if observer is not None else NullObserver(),
            rng=rng if rng is not None else random.Random(),
        )
        if registries:
            self.configure(registries)

    @property
    def registries(self) -> Registries:
        return self._registries

    def configure(self, registries: Registries) -> None:
        """Apply a registries file (again): mirrors, budgets, page sizes, CAs and plain-HTTP hosts.

        Reads the CA files it names first: a `TLSFailure` leaves everything as it was. Calls under
        way finish with what they started with; the next ones use the new settings."""
        tables = host_tables(self._flags, registries)
        own, default = tables.contexts()
        self._http.set_host_contexts(own, default=default)
        self._settings = tables.settings
        self._schemes.retune(tables.settings)
        self._sender.retune(tables.settings)
        # The "*" entry over the flags for every other host (the flags alone when it sets nothing).
        self._limits.configure(
            default=tables.default_budget,
            per_host=tables.budgets,
        )
        self._page_sizes.configure(tables.page_sizes, default=tables.default_page_size)
        self._registries = registries

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def list_tags(
        self, ref: ImageRef, *, credential: Credential | None, credentials: CredentialStore | None = None
    ) -> TagListing:
        """Every tag of `ref`'s repository (its tag is ignored), following the registry's pages.

        `credential` is for `ref`'s registry; a mirror gets `credentials.for_registry(mirror host)`
        instead (the source's pull secrets), never the registry's."""
        listing, endpoint = await self._at_endpoints(ref, credential, credentials, self._list_tags)
        return listing if endpoint.mirror is None else replace(listing, endpoint=endpoint.mirror)

    async def manifest_digest(
        self, ref: ImageRef, *, credential: Credential | None, credentials: CredentialStore | None = None
    ) -> str | None:
        """The digest of `ref`'s manifest (one HEAD); raises TagNotFound when the tag does not exist.

        None when the registry's `Docker-Content-Digest` is not a sha256/sha512 digest: no digest
        is better than recording whatever a registry wrote there. Mirrors as for `list_tags`."""
        tag = ref.tag
        if tag is None:
            raise ValueError(f"manifest_digest needs a pinned reference, not {ref}")
        digest, _ = await self._at_endpoints(
            ref, credential, credentials, lambda call: self._manifest_digest(call, tag)
        )
        return digest

    async def tag_digests(
        self,
        ref: ImageRef,
        tags: Collection[str],
        *,
        credential: Credential | None,
        found: Found | None = None,
    ) -> dict[str, str]:
        """Digests of some of `tags` from the registry's web API, not retried (`discovery.tag_digests`)."""
        api = digest_api(ref, self._registries, credential)
        if api is None:
            return {}
        call = _Call(AuthScope(netloc(api.base), ref.registry, ref.repository), api.base, self._deadline())
        host = call.scope.host
        send = partial(self._sender.send, deadline=call.deadline, subject=ref.key, registry=host, attempts=1)
        walk = walk_tag_digests(api, tags, settings=self._settings, send=send, found=found)
        return await self._guarded(call, walk)

    async def list_repositories(
        self,
        pattern: RepositoryPattern,
        *,
        credential: Credential | None,
        credentials: CredentialStore | None = None,
        fresh_for: float = 0.0,
    ) -> RepositoryListing:
        """The repositories of `pattern`'s registry that it matches, at most `max_repositories`, by
        name: from Docker Hub's or GitHub's API, or the catalog (`/v2/_catalog`, token scope
        `registry:catalog:*`) of the first endpoint that answers, mirrors as for `list_tags`."""
        kind, url = discovery_of(pattern, self._registries)
        if url is not None:  # Docker Hub and GitHub: their web APIs, on hosts of their own
            api = _Call(AuthScope(netloc(url), pattern.registry, pattern.pattern), url, self._deadline())

            def send(request: Outgoing) -> Coroutine[Any, Any, Reply]:
                return self._sender.send(
                    request, deadline=api.deadline, subject=str(pattern), registry=api.scope.host
                )

            return await self._guarded(
                api,
                walk_api(url, pattern, kind=kind, credential=credential, settings=self._settings, send=send),
            )
        ref = ImageRef(pattern.registry, "_catalog")
        listing, _ = await self._at_endpoints(
            ref, credential, credentials, lambda call: self._catalog(call, pattern), CATALOG_SCOPE
        )
        return listing

    async def _catalog(self, call: _Call, pattern: RepositoryPattern) -> RepositoryListing:
        first = call.base.with_path(CATALOG_PATH).with_query(
            n=str(self._page_sizes.for_host(call.scope.host))
        )
        fetch = lambda url: self._fetch(call, Outgoing("GET", url, _JSON, "tags"))  # noqa: E731
        follow = lambda answered, headers: self._next_page(answered, headers, call, CATALOG_PATH)  # noqa: E731
        return await walk_catalog(first, pattern=pattern, settings=self._settings, fetch=fetch, follow=follow)

    def _deadline(self) -> float:
        return asyncio.get_running_loop().time() + self._settings.call_deadline

    async def _at_endpoints(
        self,
        ref: ImageRef,
        credential: Credential | None,
        credentials: CredentialStore | None,
        work: Callable[[_Call], Coroutine[Any, Any, _T]],
        resource: str = "",
    ) -> tuple[_T, Endpoint]:
        """Run `work` at the first endpoint of `ref`'s registry that answers (`mirrors.py`)."""
        registries = self._registries
        order = endpoints(ref.registry, registries, self._schemes)
        failures: list[tuple[Endpoint, RegistryError]] = []
        for index, endpoint in enumerate(order):
            if endpoint.mirror is None:
                chosen = credential
            else:
                chosen = credentials.for_registry(endpoint.host) if credentials is not None else None
            call = self._start(ref, chosen, endpoint, resource)
            try:
                result = await self._guarded(call, work(call))
            except RegistryError as exc:
                if endpoint.mirror is None:
                    if failures:
                        raise exhausted(ref.registry, [*failures, (endpoint, exc)], fallback=True) from exc
                    raise
                if not passes(exc):
                    self._health.served(ref.registry, endpoint)
                    raise answered_by_mirror(exc, endpoint.mirror) from exc
                following = order[index + 1] if index + 1 < len(order) else None
                self._health.failed(ref.registry, endpoint, exc, following=following)
                failures.append((endpoint, exc))
                continue
            if endpoint.mirror is not None:
                self._health.served(ref.registry, endpoint)
                note_served(endpoint.mirror)
            return result, endpoint
        raise exhausted(ref.registry, failures, fallback=False)

    def _start(
        self, ref: ImageRef, credential: Credential | None, endpoint: Endpoint, resource: str = ""
    ) -> _Call:
        scope = AuthScope(
            endpoint.host, ref.registry, ref.repository, credential=credential, resource=resource
        )
        return _Call(scope=scope, base=endpoint.base, deadline=self._deadline())

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
        path = f"/v2/{call.scope.repository}/tags/list"
        return await walk_tags(
            call.scope,
            call.base.with_path(path).with_query(n=str(self._page_sizes.for_host(call.scope.host))),
            settings=self._settings,
            page_sizes=self._page_sizes,
            fetch=lambda url: self._fetch(call, Outgoing("GET", url, _JSON, "tags")),
            follow=lambda answered, headers: self._next_page(answered, headers, call, path),
        )

    def _next_page(self, answered: URL, headers: CIMultiDictProxy[str], call: _Call, path: str) -> URL | None:
        return next_link(answered, headers, call.scope, base=call.base, settings=self._settings, path=path)

    async def _manifest_digest(self, call: _Call, tag: str) -> str | None:
        url = call.base.with_path(f"/v2/{call.scope.repository}/manifests/{tag}")
        accept = (("Accept", ", ".join(MANIFEST_MEDIA_TYPES)),)
        reply = await self._fetch(call, Outgoing("HEAD", url, accept, "manifest"))
        check_reply(reply, call.scope, kind="manifest", tag=tag)
        written = reply.headers.get("docker-content-digest")
        if written is None:
            # Some registries omit the header on HEAD: fetch the manifest and hash it ourselves.
            reply = await self._fetch(call, Outgoing("GET", url, accept, "manifest"))
            check_reply(reply, call.scope, kind="manifest", tag=tag)
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
