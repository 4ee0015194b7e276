"""What a repository discovery returns, whatever the registry's dialect."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from aimsource.domain.errors import InvalidReferenceError
from aimsource.domain.patterns import RepositoryPattern
from aimsource.domain.references import parse_reference


@dataclass(frozen=True)
class RepositoryListing:
    repositories: tuple[str, ...]
    """The repositories that match the pattern, by name, at most `max_repositories` of them."""
    seen: int
    """Repositories the registry listed, matching or not."""
    truncated: bool = False
    """More repositories matched than were kept, or the page cap ended the walk early."""
    endpoint: str = ""
    """Where they were listed (`registry.example.com/v2/_catalog`), for messages."""
    pattern: RepositoryPattern | None = field(default=None, compare=False)
    """The pattern they were listed for."""
    updated: Mapping[str, float] = field(default_factory=dict, compare=False, repr=False)
    """When each repository last changed (Unix seconds), where the API says so (Docker Hub's
    `last_updated`, GitHub's `updated_at`): a repository unchanged since its last good listing of
    tags need not be listed again."""

    def with_repository(self, repository: str) -> RepositoryListing:
        """This listing with one more matching repository (a pushed one), counted as seen."""
        names = tuple(sorted({*self.repositories, repository}))
        return replace(self, repositories=names, seen=self.seen + len(names) - len(self.repositories))


class MatchCollector:
    """Keeps the names a pattern matches, in name order, up to a cap; counts everything seen."""

    def __init__(self, pattern: RepositoryPattern, cap: int) -> None:
        self._registry = pattern.registry
        self._pattern = pattern
        self._cap = cap
        self._kept: set[str] = set()
        self._updated: dict[str, float] = {}
        self.seen = 0
        self.overflow = False

    def add(self, names: list[str], updated: Mapping[str, float] | None = None) -> None:
        """Counts `names` as seen and keeps those that match; `updated`: when some of them last
        changed, as the API said (kept for the kept names only)."""
        for name in names:
            self.seen += 1
            if name in self._kept or not self._pattern.matches(name) or not self._valid(name):
                continue
            self._kept.add(name)
            if updated is not None and name in updated:
                self._updated[name] = updated[name]
            if len(self._kept) > self._cap:
                # Keep the first names by name order, whatever order the pages come in.
                dropped = max(self._kept)
                self._kept.discard(dropped)
                self._updated.pop(dropped, None)
                self.overflow = True

    def _valid(self, name: str) -> bool:
        """Only a name that is a repository by the distribution grammar may become a model's image:
        whatever else a registry lists is dropped here, before anything is written."""
        try:
            return parse_reference(f"{self._registry}/{name}").repository == name
        except InvalidReferenceError:
            return False

    def listing(self, *, truncated: bool, endpoint: str) -> RepositoryListing:
        return RepositoryListing(
            tuple(sorted(self._kept)),
            self.seen,
            truncated or self.overflow,
            endpoint,
            pattern=self._pattern,
            updated=dict(self._updated),
        )
