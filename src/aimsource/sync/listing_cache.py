"""The last good listing of each repository, served when the registry fails in a way that passes.

A `TagLister` wrapped around the registry client, owned by the operator (the CLI keeps nothing
between runs, so it has no use for one). Every successful listing is kept; when a later listing of
the same repository fails with a 429, a 5xx, a timeout or an unreachable host (`RateLimited`,
`Unreachable`) and the kept one is younger than `max_age`, that one is returned instead, marked
`stale` with the time it was read. Refusals that waiting does not fix - authentication, a missing
repository, TLS, a malformed answer - are never papered over: they fail the selector as before.

Memory is bounded twice, least recently used first: at most `max_entries` repositories and at
most `max_tags` tags in all. A listing with more tags than that on its own is not kept. A
truncated listing may be kept and is served as it was, truncated.

Listings are kept per credential as well as per repository: a private repository's tags, read with
one source's pull secret, are never served to a source that has another credential or none.

Kept listings also spare requests: where a wildcard's discovery said when a repository last
changed (Docker Hub's and GitHub's APIs do), a kept listing that began more than `UNCHANGED_MARGIN`
after that time is served without asking the registry (`unchanged_listing_served`): nothing was
pushed to the repository since. The margin absorbs clocks that disagree and an API that learns of a
push late; `max_age` still bounds how old a listing served this way may be.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from aimsource.domain.patterns import RepositoryPattern
from aimsource.domain.references import ImageRef
from aimsource.domain.selection.listings import StaleListing
from aimsource.domain.times import format_time
from aimsource.registry.auth.credentials import Credential, CredentialStore
from aimsource.registry.client import TagListing
from aimsource.registry.discovery.listing import RepositoryListing
from aimsource.registry.errors import RateLimited, Unreachable
from aimsource.sync.ports import TagLister
from aimsource.sync.shared_walks import SharedWalks

log = logging.getLogger("aimsource.sync")

DEFAULT_MAX_AGE = 24 * 3600.0
DEFAULT_MAX_ENTRIES = 1000
DEFAULT_MAX_TAGS = 200_000
"""About 15 MiB of tag strings for typical tags; one repository alone may have 100,000."""

UNCHANGED_MARGIN = 300.0
"""Seconds between a repository's last change (the API's clock) and the start of a kept listing
(ours) before that listing is trusted to hold the change."""

PASSING_FAILURES = (RateLimited, Unreachable)
"""What a cached listing may stand in for: 429; 5xx after retries, timeouts, unreachable hosts."""


class ListingCacheObserver(Protocol):
    def listing_cache_size(self, entries: int, tags: int) -> None:
        """The cache now holds `entries` listings with `tags` tags in all."""

    def stale_listing_served(self, registry: str) -> None:
        """A kept listing of a repository on `registry` was served in place of a failed one."""

    def unchanged_listing_served(self, registry: str) -> None:
        """A kept listing of a repository on `registry` was served because the repository had not
        changed since it was read (no request made)."""


@dataclass(frozen=True)
class _Entry:
    listing: TagListing
    at: float
    """Wall-clock time (Unix seconds) the listing began."""


_Key = tuple[str, str, str]  # (registry/repository, credential identity or "", mirrors' identities)


class CachingTagLister:
    """`sync.ports.TagLister` over another lister, with the last good listing per repository."""

    def __init__(
        self,
        inner: TagLister,
        *,
        max_age: float = DEFAULT_MAX_AGE,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_tags: int = DEFAULT_MAX_TAGS,
        observer: ListingCacheObserver | None = None,
        clock: Callable[[], float] = time.time,
        mirror_hosts: Callable[[str], Iterable[str]] = lambda registry: (),
        walks: SharedWalks | None = None,
    ) -> None:
        """`max_age` in seconds; 0 keeps nothing (every failure fails as without a cache).
        `mirror_hosts(registry)`: the hosts of its mirrors (the registries file), whose credentials
        are part of the key too: a listing read at a mirror with one source's mirror credential is
        never served to a source without it."""
        if max_age < 0 or max_entries < 1 or max_tags < 1:
            raise ValueError("listing cache: max_age must not be negative, max_entries and max_tags positive")
        self._inner = inner
        self._max_age = max_age
        self._max_entries = max_entries
        self._max_tags = max_tags
        self._observer = observer
        self._clock = clock
        self._mirror_hosts = mirror_hosts
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self._tags = 0
        self._walks = walks if walks is not None else SharedWalks(clock=clock)
        self._updated: OrderedDict[str, float] = OrderedDict()
        """When each repository (`registry/repository`) last changed, as its discovery last said."""
        self.unchanged_served = 0

    @property
    def entries(self) -> int:
        return len(self._entries)

    @property
    def tags(self) -> int:
        return self._tags

    async def list_tags(
        self, ref: ImageRef, *, credential: Credential | None, credentials: CredentialStore | None = None
    ) -> TagListing:
        key = (
            ref.key,
            credential.identity if credential is not None else "",
            self._mirrors(ref, credentials),
        )
        unchanged = self._unchanged(key)
        if unchanged is not None:
            return unchanged
        started = self._clock()
        try:
            listing = await self._inner.list_tags(ref, credential=credential, credentials=credentials)
        except PASSING_FAILURES as exc:
            entry = self._fresh(key)
            if entry is None:
                raise
            self._entries.move_to_end(key)
            listed_at = datetime.fromtimestamp(entry.at, tz=UTC)
            log.warning(
                "listing of %s failed (%s); using the listing of %s",
                ref.key,
                exc.reason,
                format_time(listed_at),
            )
            if self._observer is not None:
                self._observer.stale_listing_served(ref.registry)
            stale = StaleListing(
                listed_at=listed_at, reason=exc.reason, message=str(exc), answered=exc.answered
            )
            return replace(entry.listing, stale=stale)
        if self._max_age > 0:
            self._keep(key, listing, started)
        return listing

    def _unchanged(self, key: _Key) -> TagListing | None:
        """The kept listing of a repository that has not changed since it began, if there is one."""
        updated = self._updated.get(key[0])
        if updated is None:
            return None
        entry = self._fresh(key)
        if (
            entry is None
            or entry.listing.stale is not None
            or entry.listing.truncated  # perhaps only cut at a sync's share: listed again
            or updated > entry.at - UNCHANGED_MARGIN
        ):
            return None
        self._entries.move_to_end(key)
        self.unchanged_served += 1
        log.debug("%s unchanged since its last listing: not listed again", key[0])
        if self._observer is not None:
            self._observer.unchanged_listing_served(key[0].split("/", 1)[0])
        return entry.listing

    async def manifest_digest(
        self, ref: ImageRef, *, credential: Credential | None, credentials: CredentialStore | None = None
    ) -> str | None:
        return await self._inner.manifest_digest(ref, credential=credential, credentials=credentials)

    async def tag_digests(
        self,
        ref: ImageRef,
        tags: Collection[str],
        *,
        credential: Credential | None,
        found: Callable[[dict[str, str]], None] | None = None,
    ) -> dict[str, str]:
        return await self._inner.tag_digests(ref, tags, credential=credential, found=found)

    def _mirrors(self, ref: ImageRef, credentials: CredentialStore | None) -> str:
        if credentials is None:
            return ""
        found = []
        for host in self._mirror_hosts(ref.registry):
            credential = credentials.for_registry(host)
            if credential is not None:
                found.append(f"{host}={credential.identity}")
        return ",".join(found)

    async def list_repositories(
        self,
        pattern: RepositoryPattern,
        *,
        credential: Credential | None,
        credentials: CredentialStore | None = None,
        fresh_for: float = 0.0,
    ) -> RepositoryListing:
        """The inner lister's walk, shared by the sources with the same wildcard (`SharedWalks`);
        the times it gives of the repositories' last changes are noted for `list_tags`."""
        found = await self._walks.walk(
            pattern,
            credential,
            credentials,
            lambda: self._inner.list_repositories(pattern, credential=credential, credentials=credentials),
            fresh_for=fresh_for,
        )
        for name, at in found.updated.items():
            key = f"{pattern.registry}/{name}"
            # A kept walk may be older than a push `learn` noted: the later time stands.
            self._updated[key] = max(at, self._updated.get(key, at))
            self._updated.move_to_end(key)
        while len(self._updated) > 4 * self._max_entries:  # more than the listings kept is no use
            self._updated.popitem(last=False)
        return found

    def learn(self, registry: str, repository: str) -> int:
        """A pushed repository, for the kept walks that match it (`SharedWalks.learn`); a push
        also means the repository changed now: its kept listings are listed again."""
        self._updated[f"{registry}/{repository}"] = self._clock()
        return self._walks.learn(registry, repository)

    def _fresh(self, key: _Key) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        # A clock stepped back makes an age negative: such a listing is as recent as it gets.
        if self._clock() - entry.at > self._max_age:
            self._drop(key)
            self._changed()
            return None
        return entry

    def _keep(self, key: _Key, listing: TagListing, started: float) -> None:
        self._drop(key)  # a newer listing replaces the old one, even when it cannot be kept itself
        size = len(listing.tags)
        if size <= self._max_tags:
            self._entries[key] = _Entry(listing, started)
            self._tags += size
            while len(self._entries) > self._max_entries or self._tags > self._max_tags:
                self._drop(next(iter(self._entries)))
        self._changed()

    def _drop(self, key: _Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._tags -= len(entry.listing.tags)

    def _changed(self) -> None:
        if self._observer is not None:
            self._observer.listing_cache_size(len(self._entries), self._tags)
