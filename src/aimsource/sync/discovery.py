"""A wildcard filter in a sync: find its repositories, then treat each as an exact filter.

Discovery asks the registry which repositories the pattern matches (`TagLister.list_repositories`:
a catalog, or Docker Hub's or GitHub's API), drops the excluded ones without listing them, and
fetches each remaining repository as an exact filter would be fetched: its tags listed and decided
by the constraints, or one HEAD per named version for a list of exact versions. The selector's
outcome holds one part per repository, in name order, which is what the planner round-robins over
under `maxModels`. A repository that fails is reported in its part; the selector fails only when
discovery itself fails, or when every repository failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from aimsource.domain.selection.selectors import Repositories, Selector, SelectorError, SelectorOutcome
from aimsource.registry.auth.credentials import CredentialStore
from aimsource.registry.errors import RegistryError
from aimsource.sync.ports import TagLister

log = logging.getLogger("aimsource.sync")

Fetched = tuple[SelectorOutcome, dict[str, str | None]]


async def discover(
    selector: Selector,
    *,
    lister: TagLister,
    creds: CredentialStore,
    fetch: Callable[[Selector], Awaitable[Fetched]],
    progress: Callable[[str], None] | None,
    fresh_for: float = 0.0,
) -> Fetched:
    """The wildcard selector's outcome (one part per matched repository) and the digests learned."""
    pattern = selector.pattern
    assert pattern is not None
    if progress:
        progress(f"finding the repositories of {pattern}")
    try:
        found = await lister.list_repositories(
            pattern, credential=creds.for_registry(pattern.registry), credentials=creds, fresh_for=fresh_for
        )
    except RegistryError as exc:
        log.info("selector %s failed: %s", selector.written, exc)
        failure = SelectorError(reason=exc.reason, message=str(exc))
        return SelectorOutcome(selector=selector, error=failure, reached_registry=exc.answered), {}
    children = [selector.for_repository(name) for name in found.repositories]
    kept = [child for child in children if not child.excluded]
    fetched = await asyncio.gather(*(fetch(child) for child in children))
    # Excluded repositories are fetched too: `_fetch` lists nothing for them (but for a preview).
    parts = tuple(outcome for outcome, _ in fetched)
    digests = {image: digest for _, learned in fetched for image, digest in learned.items()}
    counted = [part for part in parts if not part.selector.excluded]
    failures = [part.failed for part in counted if part.failed is not None]
    error = failures[0] if counted and len(failures) == len(counted) else None
    repositories = Repositories(
        seen=found.seen,
        matched=len(kept),
        excluded=len(children) - len(kept),
        truncated=found.truncated,
        endpoint=found.endpoint,
    )
    if progress:
        progress(f"{pattern}: matched {len(kept)} of {found.seen} repositories")
    return SelectorOutcome(
        selector=selector,
        listed=sum(part.listed for part in counted),
        truncated=found.truncated or any(part.truncated for part in counted),
        error=error,
        reached_registry=True,
        parts=parts,
        repositories=repositories,
    ), digests


class SourceRepositories:
    """The repositories each source's wildcard filters matched at its last full sync, by filter.

    A push to a repository that a wildcard matches is decided without a walk (`sync.incremental`);
    whether the repository is new to the source - one more repository in its status - is answered
    here. Bounded by the sources and `--max-repositories` names per filter; a source that has not
    had a full sync since the operator started is unknown (its pushes wait for one).
    """

    def __init__(self) -> None:
        self._by_source: dict[str, dict[int, frozenset[str]]] = {}

    def remember(self, source: str, outcomes: Sequence[SelectorOutcome]) -> None:
        """What a full sync's wildcard filters matched (excluded repositories are not matches)."""
        found = {
            o.selector.index: frozenset(
                p.selector.ref.repository
                for p in o.parts
                if p.selector.ref is not None and not p.selector.excluded
            )
            for o in outcomes
            if o.repositories is not None and o.failed is None
        }
        if found:
            self._by_source[source] = found
        else:
            self._by_source.pop(source, None)

    def of(self, source: str) -> Mapping[int, frozenset[str]]:
        return self._by_source.get(source, {})

    def learn(self, source: str, index: int, repository: str) -> None:
        known = self._by_source.get(source, {}).get(index)
        if known is not None:
            self._by_source[source][index] = known | {repository}

    def forget(self, source: str) -> None:
        self._by_source.pop(source, None)
