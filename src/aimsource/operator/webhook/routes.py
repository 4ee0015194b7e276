"""Which sources cover a pushed repository: a table kept up to date from the source watch.

A push must find its sources without parsing every source's spec per event (ten thousand sources,
a busy registry), so each source's covered repositories (`registry/repository`, Docker Hub aliases
normalised by the reference parser) are computed once per watch event and indexed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aimsource.domain.references import ImageRef
from aimsource.domain.selection.selectors import build_selectors
from aimsource.domain.spec.source import InvalidSpecError, parse_source


def covered_repositories(body: Mapping[str, Any]) -> frozenset[str]:
    """`registry/repository` of every valid, non-excluded selector of a source; none if invalid."""
    try:
        source = parse_source(body)
    except InvalidSpecError:
        return frozenset()
    selectors = build_selectors(source.spec)
    return frozenset(s.ref.key for s in selectors if s.ref is not None and s.error is None and not s.excluded)


class PushRoutes:
    def __init__(self) -> None:
        self._by_repository: dict[str, set[str]] = {}
        self._of_source: dict[str, frozenset[str]] = {}

    def update(self, name: str, body: Mapping[str, Any]) -> None:
        self._set(name, covered_repositories(body))

    def remove(self, name: str) -> None:
        self._set(name, frozenset())

    def sources_for(self, registry: str, repository: str) -> frozenset[str]:
        return frozenset(self._by_repository.get(ImageRef(registry, repository).key, ()))

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
