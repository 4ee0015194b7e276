"""Repository walks shared between sources: the same wildcard walks its registry once at a time.

When the operator starts, or a registry's push covers many sources, several sources with the same
wildcard sync together; each would walk the same catalog or API pages. A walk in progress is
joined instead, and a finished one is reused by a sync that accepts a walk that old: `fresh_for`,
which the engine sets from the source's `syncInterval` (the walk is as fresh as the source's own
schedule would make it), and never less than `reuse_for` (30 s). Two sources with the same
wildcard thus cost one walk per the shorter of their intervals. Walks are keyed by registry,
pattern and credential (and the mirror credentials the source has), so a walk made with one
source's pull secret is never shared with a source that has another or none. A failed walk is not
kept. At most `max_entries` finished walks are kept, oldest dropped first.

A push to a repository that a kept walk's pattern matches proves the repository exists: `learn`
adds it to those walks, so that the syncs that reuse them list it without walking again.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from aimsource.domain.patterns import RepositoryPattern
from aimsource.registry.auth.credentials import Credential, CredentialStore
from aimsource.registry.discovery.listing import RepositoryListing

_Key = tuple[str, str, tuple[str, ...]]


class SharedWalks:
    def __init__(
        self, *, reuse_for: float = 30.0, max_entries: int = 256, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._reuse_for = reuse_for
        self._max_entries = max_entries
        self._clock = clock
        self._running: dict[_Key, asyncio.Future[RepositoryListing]] = {}
        self._done: OrderedDict[_Key, tuple[float, RepositoryListing]] = OrderedDict()
        self.walks = 0
        """How many walks were made (for tests and metrics): joins and reuses are not walks."""

    async def walk(
        self,
        pattern: RepositoryPattern,
        credential: Credential | None,
        credentials: CredentialStore | None,
        start: Callable[[], Awaitable[RepositoryListing]],
        *,
        fresh_for: float = 0.0,
    ) -> RepositoryListing:
        """The walk of `pattern`: a kept one younger than `fresh_for` (at least `reuse_for`)
        seconds, the one running, else a new one (`start`)."""
        key = _key(pattern, credential, credentials)
        kept = self._done.get(key)
        if kept is not None and self._clock() - kept[0] < max(self._reuse_for, fresh_for):
            return kept[1]
        running = self._running.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[RepositoryListing] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        self.walks += 1
        try:
            listing = await start()
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: the sources that joined re-raise it themselves
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._running[key]
        future.set_result(listing)
        self._done[key] = (self._clock(), listing)
        self._done.move_to_end(key)
        while len(self._done) > self._max_entries:
            self._done.popitem(last=False)
        return listing

    def learn(self, registry: str, repository: str) -> int:
        """Adds a pushed repository to the kept walks on `registry` whose pattern matches it and
        that hold every match (a truncated walk took the first names only: the repository may be
        past its cap); returns how many walks learned it. Their age does not change."""
        learned = 0
        for key, (at, listing) in list(self._done.items()):
            pattern = listing.pattern
            if (
                key[0] != registry
                or pattern is None
                or listing.truncated
                or not pattern.matches(repository)
                or repository in listing.repositories
            ):
                continue
            self._done[key] = (at, listing.with_repository(repository))
            learned += 1
        return learned


def _key(
    pattern: RepositoryPattern, credential: Credential | None, credentials: CredentialStore | None
) -> _Key:
    others = tuple(
        sorted(f"{host}={c.identity}" for host, c in (credentials.entries.items() if credentials else ()))
    )
    return (pattern.registry, pattern.pattern + "|" + (credential.identity if credential else ""), others)
