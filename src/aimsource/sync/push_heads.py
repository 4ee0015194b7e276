"""The manifest HEADs of incremental syncs, bounded and shared between sources.

Several sources may cover a pushed repository, and a push is decided for each. The HEAD that
decides whether the tag exists is the same for all of them (same image, same credential), so it
is made once: a second source asking while it is in flight waits for it, and one asking shortly
after gets its answer (a digest is kept for `DIGEST_FOR` seconds, a missing tag for the budget's
`missing_for`). A HEAD not yet made spends the budget of the source and of the registry
(`domain.pushes.budgets`); past either, `OverBudget` and the caller falls back to a full sync.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable

from aimsource.domain.pushes.budgets import PushBudget, PushLimits
from aimsource.domain.references import ImageRef
from aimsource.registry.auth.credentials import Credential, CredentialStore
from aimsource.registry.errors import TagNotFound
from aimsource.sync.ports import TagLister

DIGEST_FOR = 60.0
"""Seconds a HEAD's digest answers the other sources a push covers."""
MAX_DIGESTS = 1024


class OverBudget(Exception):
    """The source's or the registry's push HEADs are spent for now: sync the source in full."""


class SharedHeads:
    def __init__(self, lister: TagLister, *, limits: PushLimits, clock: Callable[[], float]) -> None:
        self._lister = lister
        self._clock = clock
        self.budget = PushBudget(limits, clock)
        self._inflight: dict[str, asyncio.Future[str | None]] = {}
        self._digests: OrderedDict[str, tuple[str | None, float]] = OrderedDict()
        self.made = 0
        """HEADs made (not answered from memory or by another source's HEAD in flight)."""

    async def digest(
        self,
        ref: ImageRef,
        *,
        credential: Credential | None,
        source: str,
        credentials: CredentialStore | None = None,
    ) -> str | None:
        """The manifest digest of `ref`; TagNotFound when it does not exist (remembered), OverBudget
        when it is not known and no HEAD may be made now. Other RegistryErrors pass through.
        `credentials`: the source's, from which a mirror's is taken; they are part of the key, so a
        HEAD made with one source's mirror credential answers no source without it."""
        mirrors = ",".join(
            sorted(f"{h}={c.identity}" for h, c in (credentials.entries.items() if credentials else ()))
        )
        key = f"{ref}\0{credential.identity if credential is not None else ''}\0{mirrors}"
        if self.budget.missing(key):
            raise TagNotFound(f"{ref}: not found (a push of it was answered 404 recently)")
        kept = self._digests.get(key)
        if kept is not None and self._clock() - kept[1] < DIGEST_FOR:
            return kept[0]
        inflight = self._inflight.get(key)
        if inflight is not None:
            return await asyncio.shield(inflight)
        if not self.budget.take(source=source, registry=ref.registry):
            raise OverBudget(f"push HEADs of {source} or {ref.registry} are spent for now")
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        self.made += 1
        try:
            digest = await self._lister.manifest_digest(ref, credential=credential, credentials=credentials)
        except TagNotFound as exc:
            self.budget.found_missing(key)
            _fail(future, exc)
            raise
        except Exception as exc:
            _fail(future, exc)
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._inflight[key]
        future.set_result(digest)
        self._digests.pop(key, None)
        self._digests[key] = (digest, self._clock())
        while len(self._digests) > MAX_DIGESTS:
            self._digests.popitem(last=False)
        return digest


def _fail(future: asyncio.Future[str | None], exc: Exception) -> None:
    future.set_exception(exc)
    future.exception()  # marks it retrieved: no "never retrieved" warning when no other source waited
