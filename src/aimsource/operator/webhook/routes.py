"""Which sources cover a pushed repository: a table kept up to date from the source watch.

A push must find its sources without parsing every source's spec per event (ten thousand sources,
a busy registry), so each source's covered repositories (`registry/repository`, Docker Hub aliases
normalised by the reference parser) are computed once per watch event and indexed here. Wildcard
filters cannot be indexed by repository: their patterns are kept by registry, and a push is matched
against the patterns of its registry only (with their exclusions), as discovery would match it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aimsource.domain.patterns import RepositoryPattern
from aimsource.domain.references import ImageRef
from aimsource.domain.selection.selectors import build_selectors, is_excluded
from aimsource.domain.spec.source import InvalidSpecError, parse_source


@dataclass(frozen=True)
class Covered:
    """What one source's pushes are routed by."""

    repositories: frozenset[str] = frozenset()
    """`registry/repository` of each exact selector."""
    patterns: tuple[tuple[RepositoryPattern, tuple[str, ...]], ...] = ()
    """Each wildcard filter's pattern and its `exclude` entries."""


def covered_repositories(body: Mapping[str, Any]) -> frozenset[str]:
    """`registry/repository` of every valid, non-excluded exact selector of a source; none if invalid."""
    return covered_by(body).repositories


def covered_by(body: Mapping[str, Any]) -> Covered:
    """The exact repositories and wildcard patterns of a source's valid selectors; none if invalid."""
    try:
        source = parse_source(body)
    except InvalidSpecError:
        return Covered()
    selectors = [s for s in build_selectors(source.spec) if s.error is None and not s.excluded]
    return Covered(
        frozenset(s.ref.key for s in selectors if s.ref is not None),
        tuple((s.pattern, s.exclude) for s in selectors if s.pattern is not None),
    )


class PushRoutes:
    def __init__(self) -> None:
        self._by_repository: dict[str, set[str]] = {}
        self._of_source: dict[str, frozenset[str]] = {}
        self._patterns: dict[str, dict[str, tuple[tuple[RepositoryPattern, tuple[str, ...]], ...]]] = {}
        """By registry, then source: the wildcard filters on that registry."""

    def update(self, name: str, body: Mapping[str, Any]) -> None:
        covered = covered_by(body)
        self._set(name, covered.repositories)
        self._set_patterns(name, covered.patterns)

    def remove(self, name: str) -> None:
        self._set(name, frozenset())
        self._set_patterns(name, ())

    def sources_for(self, registry: str, repository: str) -> frozenset[str]:
        ref = ImageRef(registry, repository)
        names = set(self._by_repository.get(ref.key, ()))
        for name, patterns in self._patterns.get(ref.registry, {}).items():
            if name not in names and any(
                p.matches(ref.repository) and not is_excluded(ref, exclude) for p, exclude in patterns
            ):
                names.add(name)
        return frozenset(names)

    def _set(self, name: str, keys: frozenset[str]) -> None:
        old = self._of_source.pop(name, frozenset())
        for key in old - keys:
            names = self._by_repository.get(key)
            if names is not None:
                names.discard(name)
                if not names:
                    del self._by_repository[key]
        for key in keys - old:
            self._by_repository.setdefault(key, set()).add(name)
        if keys:
            self._of_source[name] = keys

    def _set_patterns(
        self, name: str, patterns: tuple[tuple[RepositoryPattern, tuple[str, ...]], ...]
    ) -> None:
        for registry in list(self._patterns):
            self._patterns[registry].pop(name, None)
            if not self._patterns[registry]:
                del self._patterns[registry]
        by_registry: dict[str, list[tuple[RepositoryPattern, tuple[str, ...]]]] = {}
        for pattern, exclude in patterns:
            by_registry.setdefault(pattern.registry, []).append((pattern, exclude))
        for registry, found in by_registry.items():
            self._patterns.setdefault(registry, {})[name] = tuple(found)
