"""What a repository discovery returns, whatever the registry's dialect."""

from __future__ import annotations

from dataclasses import dataclass

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


class MatchCollector:
    """Keeps the names a pattern matches, in name order, up to a cap; counts everything seen."""

    def __init__(self, pattern: RepositoryPattern, cap: int) -> None:
        self._registry = pattern.registry
        self._pattern = pattern
        self._cap = cap
        self._kept: set[str] = set()
        self.seen = 0
        self.overflow = False

    def add(self, names: list[str]) -> None:
        for name in names:
            self.seen += 1
            if name in self._kept or not self._pattern.matches(name) or not self._valid(name):
                continue
            self._kept.add(name)
            if len(self._kept) > self._cap:
                # Keep the first names by name order, whatever order the pages come in.
                self._kept.discard(max(self._kept))
                self.overflow = True

    def _valid(self, name: str) -> bool:
        """Only a name that is a repository by the distribution grammar may become a model's image:
        whatever else a registry lists is dropped here, before anything is written."""
        try:
            return parse_reference(f"{self._registry}/{name}").repository == name
        except InvalidReferenceError:
            return False

    def listing(self, *, truncated: bool, endpoint: str) -> RepositoryListing:
        return RepositoryListing(tuple(sorted(self._kept)), self.seen, truncated or self.overflow, endpoint)
