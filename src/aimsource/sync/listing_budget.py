"""One memory bound per sync and one per process for the tags that listings hold.

`--max-tags` bounds one listing. A sync lists all its repositories at once, and the operator runs
several syncs at once, so without more the memory of listings is that bound times the selectors
times the workers. Here:

- selectors of one sync on the same repository (and credential) share **one listing**;
- a sync's listings count against **one budget of tags** (`per_sync`): a listing takes a share
  before it starts - a whole listing's (`max_tags`) when that much is free, else, while few
  listings run, a part of what is free - and gives back what it did not keep, so listings in
  flight and listings kept add up to at most `per_sync`; listings past that wait for a share. The
  client stops a listing at its share (`registry.listing.listing_at_most`); a listing cut by a
  part is listed again with a whole share; one past what is left is cut there (and `truncated`,
  as a listing over `--max-tags` is), and once nothing is left the repository is not listed at
  all (its selector is `truncated` with no tags).
- the whole process has **one budget** (`TagBudget`, shared by every sync): a sync reserves what it
  may need (its budget, or `max_tags` per repository when it lists fewer) before its first listing,
  **waiting** (never failing) while other syncs hold it, and gives back what it did not keep as
  soon as its listings are done and the rest when the sync ends. One reservation per sync, taken
  at once, so syncs cannot deadlock waiting for each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, replace

from aimsource.domain.patterns import RepositoryPattern
from aimsource.domain.references import ImageRef
from aimsource.registry.auth.credentials import Credential, CredentialStore
from aimsource.registry.client import TagListing
from aimsource.registry.discovery.listing import RepositoryListing
from aimsource.registry.listing import listing_at_most
from aimsource.sync.ports import TagLister

log = logging.getLogger("aimsource.sync")

DEFAULT_PER_SYNC = 200_000
"""Tags one sync's listings may hold: twice the default `--max-tags`."""
PARTIAL_SLOTS = 4
"""Listings of one sync that may run at once when some run on a part of its budget: a host's
default concurrency. Each listing in flight reads whole pages whatever its share (a page of a
hostile registry is up to the body cap), so this also bounds a sync's pages in flight."""
MIN_PART = 1_000
"""The smallest part worth a listing: one page at the default page size."""

DEFAULT_PER_PROCESS = 800_000
"""Tags all syncs' listings may hold together: the default workers (8) each with a listing at the
default cap. A sync holds its reservation while its registry answers slowly, so a budget below
`--max-syncs-per-host` listings would let one stalled registry hold it all and stop every sync."""


class TagBudget:
    """A process-wide budget of tags, handed out in reservations, first come first served."""

    def __init__(self, total: int) -> None:
        if total < 1:
            raise ValueError("a tag budget must be positive")
        self.total = total
        self.free = total
        self._waiting: deque[tuple[int, asyncio.Future[None]]] = deque()

    async def reserve(self, amount: int) -> int:
        """Waits until `amount` (at most the total) is free and takes it; returns what was taken."""
        amount = max(0, min(amount, self.total))
        if not self._waiting and self.free >= amount:
            self.free -= amount
            return amount
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((amount, waiter))
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.give_back(amount)  # granted just as we were cancelled
            else:
                self._waiting = deque(w for w in self._waiting if w[1] is not waiter)
                self._wake()
            raise
        return amount

    def give_back(self, amount: int) -> None:
        self.free = min(self.total, self.free + amount)
        self._wake()

    def _wake(self) -> None:
        while self._waiting and self._waiting[0][0] <= self.free:
            amount, waiter = self._waiting.popleft()
            if waiter.done():
                continue
            self.free -= amount
            waiter.set_result(None)


@dataclass(frozen=True)
class ListingBudget:
    """What bounds the listings of a sync: the per-listing cap (`--max-tags`), the sync's budget and
    the process's (None: a single sync, the CLI's)."""

    max_tags: int = 100_000
    per_sync: int = DEFAULT_PER_SYNC
    process: TagBudget | None = None

    def for_sync(self, lister: TagLister) -> SyncListings:
        """The listings of one sync; its budget is never less than one whole listing."""
        per_sync = max(self.per_sync, self.max_tags)
        return SyncListings(lister, max_tags=self.max_tags, per_sync=per_sync, process=self.process)


ONE_SYNC = ListingBudget()
"""The default: a sync on its own (the CLI's), with the default caps."""


class SyncListings:
    """`TagLister` for one sync: shared listings per repository, within the sync's budget."""

    def __init__(
        self,
        inner: TagLister,
        *,
        max_tags: int,
        per_sync: int = DEFAULT_PER_SYNC,
        process: TagBudget | None = None,
    ) -> None:
        self._inner = inner
        self._max_tags = max(1, max_tags)
        self._per_sync = max(1, per_sync)
        self._process = process
        self._shared: dict[tuple[str, str], asyncio.Task[TagListing]] = {}
        self._reserved = 0
        self._kept = 0
        self._free = 0
        """Reserved, neither kept by a listing done nor taken by one in flight."""
        self._in_flight = 0
        self._pending = 0
        self._parts = False
        """Whether listings may run on a part of the budget: a wildcard's sync, until a listing
        turns out big (see `_list`)."""
        self._turn = asyncio.Condition()
        self.listings = 0
        """Listings made (for tests and benchmarks)."""

    @contextlib.asynccontextmanager
    async def session(
        self, repositories: Collection[str], *, open_ended: bool = False
    ) -> AsyncIterator[SyncListings]:
        """Reserves for the listings of `repositories` (distinct keys), gives all back at the end.
        `open_ended`: a wildcard will name more repositories once discovered; the sync then
        reserves its whole budget and gives back what is left only at the end."""
        self._pending = sys.maxsize if open_ended else len(repositories)
        self._parts = open_ended
        want = self._per_sync if open_ended else min(self._per_sync, len(repositories) * self._max_tags)
        self._reserved = await self._process.reserve(want) if self._process is not None else want
        self._free = self._reserved
        try:
            yield self
        finally:
            for task in self._shared.values():
                task.cancel()
            if self._process is not None:
                self._process.give_back(self._reserved)
            self._reserved = self._free = 0

    async def list_tags(
        self, ref: ImageRef, *, credential: Credential | None, credentials: CredentialStore | None = None
    ) -> TagListing:
        # Every selector of one sync has the same credentials: the repository is the key.
        key = (ref.key, credential.identity if credential is not None else "")
        task = self._shared.get(key)
        if task is None:
            task = asyncio.ensure_future(self._list(ref, credential, credentials))
            self._shared[key] = task
        return await asyncio.shield(task)

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

    async def list_repositories(
        self,
        pattern: RepositoryPattern,
        *,
        credential: Credential | None,
        credentials: CredentialStore | None = None,
        fresh_for: float = 0.0,
    ) -> RepositoryListing:
        return await self._inner.list_repositories(
            pattern, credential=credential, credentials=credentials, fresh_for=fresh_for
        )

    async def _list(
        self, ref: ImageRef, credential: Credential | None, credentials: CredentialStore | None
    ) -> TagListing:
        """One listing: it takes a share of what the sync has left (waiting while other listings
        of the sync hold it), keeps what fits, and gives the rest back.

        A whole listing's share (`max_tags`) when that much is free, or when no other listing is in
        flight (then all that is left: a listing past it is cut there). Otherwise, in a wildcard's
        sync and while fewer than `PARTIAL_SLOTS` listings run, a part of what is free: its
        hundreds of small repositories then list at the host's concurrency instead of one or two
        at a time. The part bounds the listing (`registry.listing.listing_at_most`); one cut by it
        is listed again with a whole share. The first listing of `MIN_PART` tags or more ends the
        parts for the sync: a registry of big (or hostile) repositories is listed a whole share at
        a time, as an exact filter's are, and costs at most a few second listings.
        """
        try:
            whole_only = False
            while True:
                share, partial = await self._share(whole_only=whole_only)
                if share <= 0:
                    log.warning("%s not listed: the sync's listings hold all it may", ref.key)
                    return TagListing((), truncated=True)
                kept = 0
                try:
                    self.listings += 1
                    with listing_at_most(share):
                        listing = await self._inner.list_tags(
                            ref, credential=credential, credentials=credentials
                        )
                    if len(listing.tags) > share:  # a lister that does not honour the share
                        log.warning("listing of %s cut at the sync's budget (%d tags)", ref.key, share)
                        listing = replace(listing, tags=listing.tags[:share], truncated=True)
                    if len(listing.tags) >= MIN_PART or listing.truncated:
                        self._parts = False
                    if partial and listing.truncated and len(listing.tags) >= share:
                        log.info("%s has more tags than its part of the budget: listed again", ref.key)
                        whole_only = True
                        continue  # `finally` gives the part back
                    kept = len(listing.tags)
                    return listing
                finally:
                    async with self._turn:
                        self._kept += kept
                        self._free += share - kept
                        self._in_flight -= 1
                        # One listing's end frees one listing's room: waking every waiter (a
                        # wildcard has a thousand) would cost a thousand checks per listing. Two
                        # are woken in arrival order; one that cannot go on waits for the next
                        # end, and once none is in flight the first woken always can.
                        self._turn.notify(2)
        finally:
            self._done_one()

    async def _share(self, *, whole_only: bool) -> tuple[int, bool]:
        """Waits for and takes a share (see `_list`); returns it and whether it is a part."""
        async with self._turn:

            def ready() -> bool:
                if self._free >= self._max_tags or self._in_flight == 0:
                    return True
                return (
                    self._parts
                    and not whole_only
                    and self._in_flight < PARTIAL_SLOTS
                    and self._free >= MIN_PART
                )

            await self._turn.wait_for(ready)
            if self._free >= self._max_tags or self._in_flight == 0:
                share, partial = min(self._max_tags, self._free), False
            else:
                share, partial = self._free // (PARTIAL_SLOTS - self._in_flight), True
            if share > 0:
                self._free -= share
                self._in_flight += 1
            self._turn.notify(1)  # the next waiter may go on too (a part, or nothing left to take)
            return share, partial

    def _done_one(self) -> None:
        """After the last listing, what was reserved and not kept goes back to the process."""
        self._pending -= 1
        if self._pending == 0 and self._process is not None and self._free > 0:
            self._process.give_back(self._free)
            self._reserved -= self._free
            self._free = 0
