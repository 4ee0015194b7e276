"""Digests of new images from the registry's web API, where that costs fewer requests than HEADs.

A model records its image's manifest digest, so every new image costs one manifest HEAD (and never
again once it has a model). Docker Hub's tags API and GitHub's package versions list 100 tags with
their digests a request (`registry.discovery.tag_digests`). The rule, per repository of a sync:

- its tags were listed by the registry itself (not a mirror: a mirror's tags may point elsewhere
  than the upstream's, and a mirror is asked because the upstream should not be), and
- its new images (planned models whose digest this sync does not know yet) outnumber the API
  pages its listing needs, ceil(tags / 100): a first sync, or a push of many tags at once.

Then the API is walked once, when the first of its images is checked, and each image takes its
digest as soon as the page holding it is read (so the first model still appears at once); an image
the API does not give is HEADed as before. A walk that fails (429, 5xx, 404, no token) only means
HEADs; after a 429 or an unreachable host, this sync asks that registry's API no more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from aimsource.domain.references import ImageRef
from aimsource.domain.selection.planning import Candidate
from aimsource.domain.selection.selectors import SelectorOutcome, named_tags
from aimsource.registry.auth.credentials import CredentialStore
from aimsource.registry.discovery.tag_digests import worth_asking
from aimsource.registry.errors import AuthenticationFailed, RateLimited, RegistryError, Unreachable
from aimsource.sync.ports import TagLister

log = logging.getLogger("aimsource.sync")


@dataclass
class _Walk:
    repository: ImageRef
    tags: frozenset[str]
    found: dict[str, str] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    done: bool = False
    page: asyncio.Event = field(default_factory=asyncio.Event)

    def publish(self, digests: dict[str, str]) -> None:
        self.found.update(digests)
        self._wake()

    def finish(self) -> None:
        self.done = True
        self._wake()

    def _wake(self) -> None:
        self.page.set()
        self.page = asyncio.Event()


class ApiDigests:
    """The digests one sync takes from registries' web APIs; `digest` is asked once per image."""

    def __init__(self, walks: Mapping[str, _Walk], *, lister: TagLister, creds: CredentialStore) -> None:
        self._walks = dict(walks)
        self._lister = lister
        self._creds = creds
        self._failed: set[str] = set()
        """Registries whose API was rate limited or unreachable: not asked again by this sync."""

    @classmethod
    def planned(
        cls,
        outcomes: Sequence[SelectorOutcome],
        candidates: Sequence[Candidate],
        *,
        known: Mapping[str, str | None],
        lister: TagLister,
        creds: CredentialStore,
    ) -> ApiDigests:
        """The walks worth making for these candidates, by the rule above (none started yet)."""
        new: dict[str, set[str]] = {}
        refs: dict[str, ImageRef] = {}
        for candidate in candidates:
            tag = candidate.ref.tag
            if tag is not None and candidate.key not in known:
                new.setdefault(candidate.ref.key, set()).add(tag)
                refs[candidate.ref.key] = candidate.ref
        listed = _listings(outcomes)
        walks = {
            key: _Walk(ImageRef(refs[key].registry, refs[key].repository), frozenset(tags))
            for key, tags in new.items()
            if (count := listed.get(key)) is not None and worth_asking(len(tags), count)
        }
        return cls(walks, lister=lister, creds=creds)

    @property
    def repositories(self) -> int:
        """Repositories whose digests are asked of an API (for tests and benchmarks)."""
        return len(self._walks)

    async def digest(self, candidate: Candidate) -> str | None:
        """The image's digest from its registry's API; None when it must be HEADed."""
        walk = self._walks.get(candidate.ref.key)
        tag = candidate.ref.tag
        if walk is None or tag is None or tag not in walk.tags:
            return None
        if walk.task is None:
            if candidate.ref.registry in self._failed:
                return None
            walk.task = asyncio.ensure_future(self._walk(walk))
        while tag not in walk.found and not walk.done:
            await walk.page.wait()
        return walk.found.get(tag)

    async def _walk(self, walk: _Walk) -> None:
        ref = walk.repository
        try:
            credential = self._creds.for_registry(ref.registry)
            await self._lister.tag_digests(ref, walk.tags, credential=credential, found=walk.publish)
        except RegistryError as exc:
            if isinstance(exc, (RateLimited, Unreachable, AuthenticationFailed)):  # no better for the next
                self._failed.add(ref.registry)
            log.info("no digests from the API for %s (%s): HEADs instead", ref.key, exc)
        finally:
            walk.finish()
        missing = len(walk.tags) - len(walk.found)
        if missing:
            log.debug("the API gave %d of %d digests of %s", len(walk.found), len(walk.tags), ref.key)

    async def aclose(self) -> None:
        """Ends the walks still running (the sync is over or was cancelled)."""
        tasks = [w.task for w in self._walks.values() if w.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _listings(outcomes: Sequence[SelectorOutcome]) -> dict[str, int | None]:
    """Tags listed per repository by the registry itself; None for one a mirror listed."""
    found: dict[str, int | None] = {}
    for outcome in _all_parts(outcomes):
        selector = outcome.selector
        ref = selector.ref
        if (
            outcome.failed is not None
            or ref is None
            or ref.tag is not None
            or named_tags(selector) is not None
        ):
            continue
        if outcome.endpoint is not None or found.get(ref.key, 0) is None:
            found[ref.key] = None
        else:
            found[ref.key] = max(found.get(ref.key) or 0, outcome.listed)
    return found


def _all_parts(outcomes: Sequence[SelectorOutcome]) -> Iterator[SelectorOutcome]:
    for outcome in outcomes:
        yield outcome
        yield from outcome.parts
