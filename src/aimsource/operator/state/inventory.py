"""The operator's own index of AIMClusterModels: fed by watch events, reconciled against paged LISTs.

A watch misses deletions: after it ends with 410 Gone (an API server restart, a long network cut,
etcd compacted past our resource version) the watcher must list again, and nothing tells it of an
object deleted in the gap. An index fed by
events alone would keep such a model for ever: never re-created, and still counted against its
source's `maxModels`. So the index is also replaced, now and then and after every re-list, by what a
paged LIST of the API returns (`reconcile`). Events that arrive while a LIST is being read are newer
than (or as new as) what the LIST shows of their object, so they win over it.

Only three small values are kept per model (name, canonical image, source label), so ten thousand
models cost a few MiB, and a LIST is folded in page by page.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from aimsource.domain.models import existing_model, owning_source
from aimsource.domain.selection.planning import ExistingModel

_T = TypeVar("_T")


@dataclass(frozen=True)
class Known:
    """What the index keeps of one model: its image entry (None without a usable spec.image) and its
    source label (counted for `maxModels` whatever its image)."""

    model: ExistingModel | None
    source: str | None


def known(body: Mapping[str, Any]) -> tuple[str, Known] | None:
    meta = body.get("metadata") or {}
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        return None
    return name, Known(existing_model(body), owning_source(body))


@dataclass(frozen=True)
class ReconcileResult:
    listed: int
    added: int
    removed: int


class ModelInventory:
    """By name, by canonical image and by source label; the last two are live mappings that
    `IndexedModelStore` reads (`by_image`, `by_source`)."""

    def __init__(self) -> None:
        self._by_name: dict[str, Known] = {}
        self.by_image: dict[str, set[ExistingModel]] = {}
        self.by_source: dict[str, set[str]] = {}
        self._touched: dict[str, Known | None] | None = None
        """While a LIST is read: the state events gave each object meanwhile (None: deleted)."""

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> Collection[str]:
        return self._by_name.keys()

    def apply(self, body: Mapping[str, Any], *, deleted: bool) -> ExistingModel | None:
        """One watch event; returns the model's image entry (None when it has none)."""
        parsed = known(body)
        if parsed is None:
            return None
        name, entry = parsed
        if self._touched is not None:
            self._touched[name] = None if deleted else entry
        if deleted:
            self._remove(name)
        else:
            self._put(name, entry)
        return entry.model

    async def reconcile(self, pages: AsyncIterable[list[dict[str, Any]]]) -> ReconcileResult:
        """Replace the index with a LIST read page by page (events meanwhile win); on an error of
        the LIST the index is left as it was, plus the events."""
        self._touched = {}
        listed: dict[str, Known] = {}
        try:
            async for page in pages:
                for body in page:
                    parsed = known(body)
                    if parsed is not None:
                        listed[parsed[0]] = parsed[1]
            touched = self._touched
        finally:
            self._touched = None
        for name, entry in touched.items():
            if entry is None:
                listed.pop(name, None)
            else:
                listed[name] = entry
        removed = [name for name in self._by_name if name not in listed]
        added = [name for name in listed if name not in self._by_name]
        for name in removed:
            self._remove(name)
        for name, entry in listed.items():
            if self._by_name.get(name) != entry:
                self._put(name, entry)
        return ReconcileResult(listed=len(listed), added=len(added), removed=len(removed))

    def _put(self, name: str, entry: Known) -> None:
        self._remove(name)
        self._by_name[name] = entry
        if entry.model is not None:
            self.by_image.setdefault(entry.model.image, set()).add(entry.model)
        if entry.source is not None:
            self.by_source.setdefault(entry.source, set()).add(name)

    def _remove(self, name: str) -> None:
        entry = self._by_name.pop(name, None)
        if entry is None:
            return
        if entry.model is not None:
            _discard(self.by_image, entry.model.image, entry.model)
        if entry.source is not None:
            _discard(self.by_source, entry.source, name)


def _discard(index: dict[str, set[_T]], key: str, value: _T) -> None:
    values = index.get(key)
    if values is not None:
        values.discard(value)
        if not values:
            del index[key]
