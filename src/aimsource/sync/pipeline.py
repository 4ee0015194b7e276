"""Check and create: each new image's digest check and its model's create are one step.

A sync used to check the digest of every new image before creating the first model: a first sync of
2,000 images showed nothing for the 100 s its checks took at 20 requests/s. Here a few workers take
the planned candidates in plan order, and each checks one image and creates its model at once, so
models appear at the pace of the checks, and a sync interrupted half-way has created half its models
(the next one checks only images without a model). The workers bound how many requests one sync
keeps waiting for a registry host (its fair share is served round-robin, `registry.http.fairness`),
and an optional semaphore shared by every sync of the process bounds the creates in flight.

What a create's answer means is unchanged: one refused model (an admission webhook's 403, a 422, a
name held by a model of another image) costs that model only; after `MAX_SERVER_ERRORS` transient
refusals in a row the remaining candidates are not attempted (creates already in flight then still
finish: at most `concurrency - 1` more); an error of the whole store ends the sync.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from aimsource.domain.models import model_body
from aimsource.domain.selection.planning import Candidate, NotCreated, name_conflict, refused
from aimsource.domain.spec.source import Source
from aimsource.domain.writes import CreateRefusedError, NameTakenError
from aimsource.registry.auth.credentials import CredentialStore
from aimsource.registry.errors import RegistryError
from aimsource.registry.http.fairness import in_lane
from aimsource.sync.digests import ApiDigests
from aimsource.sync.ports import ModelStore, TagLister

log = logging.getLogger("aimsource.sync")

MAX_SERVER_ERRORS = 3
"""Consecutive transient refusals (server errors after the store's own retries) after which the
remaining creates of this sync are not attempted: each would wait out the same retries."""

DEFAULT_CONCURRENCY = 8
"""Images one sync checks and creates at once: twice the requests in flight to one host by default,
so a sync alone keeps a host's slots busy while some of its steps wait on the API server."""


@dataclass
class Tally:
    """What a sync has done so far; read (never written) by whoever shows its progress."""

    total: int = 0
    """Images the sync plans to create."""
    checked: int = 0
    created: int = 0
    refused: int = 0
    """Not created: refused, a conflict, or not attempted."""


@dataclass(frozen=True)
class Pace:
    """How many steps one sync runs at once, and the creates in flight for the whole process."""

    concurrency: int = DEFAULT_CONCURRENCY
    shared: asyncio.Semaphore | None = field(default=None, compare=False)


@dataclass
class _Run:
    candidates: Iterator[Candidate]
    tally: Tally
    created: list[str] = field(default_factory=list)
    refusals: list[NotCreated] = field(default_factory=list)
    server_errors: int = 0

    def stopped(self) -> bool:
        return self.server_errors >= MAX_SERVER_ERRORS


async def create_planned(
    candidates: Sequence[Candidate],
    *,
    source: Source,
    lister: TagLister,
    store: ModelStore,
    creds: CredentialStore,
    known_digests: Mapping[str, str | None],
    pace: Pace | None = None,
    tally: Tally | None = None,
    api: ApiDigests | None = None,
) -> tuple[tuple[str, ...], tuple[NotCreated, ...]]:
    """Checks and creates the candidates, taken in plan order by `pace.concurrency` workers.

    Returns the names created (in creation order) and the candidates not created. The digest
    annotation records what the tag pointed at when the model was made; a failed check does not
    block the model: the image was just listed, so it exists. `api`: digests a registry's web API
    gives for many images at once (`digests`), asked before a HEAD.
    """
    pace = pace or Pace()
    run = _Run(candidates=iter(candidates), tally=tally if tally is not None else Tally())
    run.tally.total += len(candidates)

    async def worker() -> None:
        for candidate in run.candidates:
            await _step(
                candidate,
                run,
                source=source,
                lister=lister,
                store=store,
                creds=creds,
                known=known_digests,
                shared=pace.shared,
                api=api,
            )

    workers = [asyncio.ensure_future(worker()) for _ in range(max(1, min(pace.concurrency, len(candidates))))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    return tuple(run.created), tuple(run.refusals)


async def _step(
    candidate: Candidate,
    run: _Run,
    *,
    source: Source,
    lister: TagLister,
    store: ModelStore,
    creds: CredentialStore,
    known: Mapping[str, str | None],
    shared: asyncio.Semaphore | None,
    api: ApiDigests | None,
) -> None:
    if run.stopped():
        _not_attempted(candidate, run)
        return
    digest = await _digest(candidate, lister=lister, creds=creds, known=known, api=api)
    run.tally.checked += 1
    if run.stopped():  # the stop came while this image was checked
        _not_attempted(candidate, run)
        return
    body = model_body(
        candidate,
        source_name=source.name,
        source_uid=source.uid,
        digest=digest,
        image_pull_secrets=source.spec.image_pull_secrets,
    )
    async with shared if shared is not None else contextlib.nullcontext():
        await _create(candidate, body, run, store=store)


async def _create(candidate: Candidate, body: dict[str, object], run: _Run, *, store: ModelStore) -> None:
    try:
        made = await store.create(body)
    except NameTakenError as exc:
        log.warning("model %s not created for %s: %s", candidate.name, candidate.image, exc)
        _refused(run, name_conflict(candidate, exc.existing_image))
        run.server_errors = 0
        return
    except CreateRefusedError as exc:
        log.warning("model %s for %s refused (%s): %s", candidate.name, candidate.image, exc.reason, exc)
        _refused(run, refused(candidate, exc.reason, exc.message))
        run.server_errors = run.server_errors + 1 if exc.transient else 0
        return
    run.server_errors = 0
    if made:
        run.created.append(candidate.name)
        run.tally.created += 1
        log.info("created model %s for %s", candidate.name, candidate.image)


def _not_attempted(candidate: Candidate, run: _Run) -> None:
    _refused(
        run,
        refused(
            candidate,
            "NotAttempted",
            f"not attempted after {run.server_errors} consecutive server errors; the next sync tries again",
        ),
    )


def _refused(run: _Run, refusal: NotCreated) -> None:
    run.refusals.append(refusal)
    run.tally.refused += 1


async def _digest(
    candidate: Candidate,
    *,
    lister: TagLister,
    creds: CredentialStore,
    known: Mapping[str, str | None],
    api: ApiDigests | None,
) -> str | None:
    if str(candidate.ref) in known:
        return known[str(candidate.ref)]
    try:
        with in_lane(candidate.selector):
            if api is not None and (digest := await api.digest(candidate)) is not None:
                return digest
            return await lister.manifest_digest(
                candidate.ref, credential=creds.for_registry(candidate.ref.registry), credentials=creds
            )
    except RegistryError as exc:
        log.info("no digest for %s: %s", candidate.image, exc)
        return None
