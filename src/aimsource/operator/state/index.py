"""The sync's `ModelStore` over the in-memory index of models that the watch keeps.

kopf maintains two indexes of AIMClusterModels from its watch stream (see `handlers`): by canonical
`spec.image` and by the model-source label (`SOURCE_LABEL`). A steady-state sync therefore asks the
API nothing to learn what exists. A model this process has just created is not in those indexes
until its watch event arrives, so it is also remembered here until that event is seen (`observed`)
or a grace period is over: a sync that starts before the event still counts it (and cannot
overshoot `maxModels`), and a model a user deletes after its event is re-created at the next sync.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import ChainMap
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from aimsource.domain.models import existing_model
from aimsource.domain.resources import MODELS_PATH
from aimsource.domain.selection.planning import ExistingModel
from aimsource.domain.writes import CreateRefusedError, NameTakenError
from aimsource.kube import (
    ApiStatusError,
    KubeClient,
    KubeError,
    NotFoundError,
    ServerError,
    UnauthorizedError,
    UnreachableError,
)

log = logging.getLogger("aimsource.operator")
_REQUEST_PREFIX = re.compile(r"^[A-Z]+ /\S*: ")

ByImage = Mapping[str, Collection[ExistingModel]]
BySource = Mapping[str, Collection[str]]
RECENT_GRACE = 60.0
"""Seconds a just-created model is remembered while its watch event is on the way."""
RIDE_OUT = 10.0
"""Seconds a create tries again while the API server does not answer at all, before its sync fails.
A blip of the API server (or of the way to it) then delays the creates by its length, where a
failed sync is retried only `--retry-base` (30 s) after it started; the Lease's renew deadline is as
long, and past it the leader stops syncing anyway (docs/lifecycle.md, "Interrupted syncs")."""


def model_image_reader(kube: KubeClient) -> Callable[[str], Awaitable[str | None]]:
    """`IndexedModelStore`'s `read_image` over the API: GET the model of a name."""

    async def read(name: str) -> str | None:
        try:
            body = await kube.request("GET", f"{MODELS_PATH}/{quote(name, safe='')}")
        except NotFoundError:
            return None
        model = existing_model(body)
        return None if model is None else model.image

    return read


def _api_message(exc: ApiStatusError) -> str:
    """The API's own words, without the "POST /apis/...: " prefix our client puts before them."""
    return _REQUEST_PREFIX.sub("", str(exc), count=1)


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
        read_image: Callable[[str], Awaitable[str | None]] | None = None,
        ride_out: float = RIDE_OUT,
    ) -> None:
        """`create` posts a model (False on 409 AlreadyExists); `read_image` gives the canonical
        image of the model of a name, for a 409 whose holder the index does not show yet;
        `ride_out`: see RIDE_OUT."""
        self._read_image = read_image
        self._ride_out = ride_out
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
        """See `sync.ports.ModelStore.create`: an answer of the API about this one model (403,
        422, 5xx after the client's retries, a 409 for a model of another image) becomes that
        model's refusal; no answer at all (unreachable, TLS) or 401 stays a failure of the sync,
        which is retried with backoff: the status could not be written either - unless the API
        server answers again within `ride_out` seconds (the create is then made again: a 409 for
        a model whose answer was lost is resolved as ours by the client)."""
        try:
            created = await self._create_riding_out(body)
        except UnauthorizedError:
            raise
        except ApiStatusError as exc:
            raise CreateRefusedError(
                exc.api_reason or exc.reason, _api_message(exc), transient=isinstance(exc, ServerError)
            ) from exc
        model = existing_model(body)
        if not created and model is not None:
            holder = await self._holder(model.name)
            if holder is not None and holder != model.image:
                raise NameTakenError(model.name, holder)
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

    async def _create_riding_out(self, body: dict[str, Any]) -> bool:
        deadline = time.monotonic() + self._ride_out
        pause = min(0.5, self._ride_out)
        while True:
            try:
                return await self._create(body)
            except UnreachableError as exc:
                if time.monotonic() + pause > deadline:
                    raise
                log.info("model not created, tried again: %s", exc)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    async def _holder(self, name: str) -> str | None:
        """The canonical image of the model called `name`: from the index if it shows it, else
        read from the API (the watch may not have delivered it yet); None when unknown."""
        for recent in self._recent.values():
            if recent.model.name == name:
                return recent.model.image
        for models in self._by_image.values():
            for model in models:
                if model.name == name:
                    return model.image
        if self._read_image is None:
            return None
        try:
            return await self._read_image(name)
        except KubeError as exc:
            log.info("model %s not read after a 409: %s", name, exc)
            return None

    def observed(self, image: str | None, *, deleted: bool = False) -> None:
        """The watch delivered an event of a model (of this canonical image, if it has one): the
        index has changed, and a model it now shows need not be remembered here any more.

        A deletion that leaves no model of the image forgets it too: the watch may deliver a
        just-created model's ADDED before `create` returns, or kopf may fold ADDED and a quick
        DELETED into one event; either way a model a user deleted must not count as existing
        for the whole grace period (found on the real API server)."""
        self._snapshot = None
        if image is not None and (not deleted or not self._by_image.get(image)):
            self._recent.pop(image, None)

    def _forget_settled(self) -> None:
        now = self._clock()
        for image, recent in list(self._recent.items()):
            if now - recent.at > self._grace:
                del self._recent[image]
