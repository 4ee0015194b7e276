"""The sync's `ModelStore` over the in-memory index of models that the watch keeps.

kopf maintains two indexes of AIMClusterModels from its watch stream (see `handlers`): by canonical
`spec.image` and by the `aim.eai.amd.com/model-source` label. A steady-state sync therefore asks the
API nothing to learn what exists. A model this process has just created is not in those indexes
until its watch event arrives, so it is also remembered here until that event is seen (`observed`)
or a grace period is over: a sync that starts before the event still counts it (and cannot
overshoot `maxModels`), and a model a user deletes after its event is re-created at the next sync.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aimsource.domain.models import SOURCE_LABEL
from aimsource.domain.planning import ExistingModel
from aimsource.domain.references import canonical_image

ByImage = Mapping[str, Collection[ExistingModel]]
BySource = Mapping[str, Collection[str]]
RECENT_GRACE = 60.0
"""Seconds a just-created model is remembered while its watch event is on the way."""


def existing_model(body: Mapping[str, Any]) -> ExistingModel | None:
    """What the index keeps of one AIMClusterModel; None when it has no usable spec.image."""
    image = (body.get("spec") or {}).get("image")
    meta = body.get("metadata") or {}
    if not isinstance(image, str) or not image:
        return None
    source = (meta.get("labels") or {}).get(SOURCE_LABEL)
    return ExistingModel(name=str(meta.get("name")), image=canonical_image(image),
                         source=source if isinstance(source, str) and source else None)


def _pick(models: Collection[ExistingModel]) -> ExistingModel | None:
    """One model per image: several may share an image (a user's and a source's); prefer a
    source-owned one so that a source sees its own model as its own, then the first by name."""
    if not models:
        return None
    return min(models, key=lambda m: (m.source is None, m.name))


@dataclass(frozen=True)
class _Recent:
    model: ExistingModel
    at: float


class IndexedModelStore:
    """`sync.ports.ModelStore` over the watch-fed indexes plus the just-created models."""

    def __init__(
        self,
        *,
        create: Callable[[dict[str, Any]], Awaitable[bool]],
        clock: Callable[[], float],
        grace: float = RECENT_GRACE,
        by_image: ByImage | None = None,
        by_source: BySource | None = None,
    ) -> None:
        self._by_image: ByImage = by_image if by_image is not None else {}
        self._by_source: BySource = by_source if by_source is not None else {}
        self._create = create
        self._clock = clock
        self._grace = grace
        self._recent: dict[str, _Recent] = {}  # by canonical image
        self._snapshot: dict[str, ExistingModel] | None = None

    def bind(self, *, by_image: ByImage, by_source: BySource) -> None:
        """Use these live indexes (kopf hands them over at start-up)."""
        self._by_image = by_image
        self._by_source = by_source
        self._snapshot = None

    def existing(self) -> Mapping[str, ExistingModel]:
        self._forget_settled()
        if self._snapshot is None:
            # Built once per change of the index, not once per sync: planning reads every entry.
            self._snapshot = {
                image: model for image, models in self._by_image.items() if (model := _pick(models))
            }
        if not self._recent:
            return self._snapshot
        return ChainMap(self._snapshot, {image: r.model for image, r in self._recent.items()})

    def owned_count(self, source_name: str) -> int:
        self._forget_settled()
        names = set(self._by_source.get(source_name, ()))
        names.update(r.model.name for r in self._recent.values() if r.model.source == source_name)
        return len(names)

    async def create(self, body: dict[str, Any]) -> bool:
        created = await self._create(body)
        model = existing_model(body)
        if model is not None:
            if not created:
                # A 409: the model exists, whatever the index says yet, but someone else made it
                # (another source racing us, or a person), so it must not count as ours; and when
                # that someone was another source of this process, what it recorded stays.
                if model.image in self._recent:
                    return created
                model = replace(model, source=None)
            self._recent[model.image] = _Recent(model, self._clock())
        return created

    def observed(self, image: str | None, *, deleted: bool = False) -> None:
        """The watch delivered an event of a model (of this canonical image, if it has one): the
        index has changed, and a model it now shows need not be remembered here any more."""
        self._snapshot = None
        if image is not None and not deleted:
            self._recent.pop(image, None)

    def _forget_settled(self) -> None:
        now = self._clock()
        for image, recent in list(self._recent.items()):
            if now - recent.at > self._grace:
                del self._recent[image]

