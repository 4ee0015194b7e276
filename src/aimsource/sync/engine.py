"""One sync of one source: read registries, plan, create, compute the status.

The phases are kept apart as in AMD's operator (fetch, compose, plan, status), but fetching is
concurrent and every selector gets its own result, so one failing registry never sinks the others.
Nothing here knows whether models live in a cluster or a directory: see `ports`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from aimsource.domain.models import model_body
from aimsource.domain.references import ImageRef
from aimsource.domain.resources import SourceStatus
from aimsource.domain.selection.listings import StaleListing
from aimsource.domain.selection.moved import find_moved
from aimsource.domain.selection.planning import Candidate, NotCreated, Plan, name_conflict, plan_sync, refused
from aimsource.domain.selection.selectors import (
    Selector,
    SelectorError,
    SelectorOutcome,
    build_selectors,
    decide_listing,
    named_tags,
)
from aimsource.domain.spec.source import InvalidSpecError, Source, parse_source
from aimsource.domain.status.build import build_status
from aimsource.domain.writes import CreateRefusedError, NameTakenError
from aimsource.registry.auth.credentials import (
    EMPTY_CREDENTIALS,
    Credential,
    CredentialStore,
    InvalidDockerConfigError,
    parse_docker_config,
)
from aimsource.registry.errors import RegistryError
from aimsource.sync.discovery import discover
from aimsource.sync.named_versions import resolve_named
from aimsource.sync.ports import ModelStore, SecretError, SecretReader, TagLister

log = logging.getLogger("aimsource.sync")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SyncResult:
    """What one sync decided and did."""

    status: SourceStatus
    plan: Plan | None
    outcomes: tuple[SelectorOutcome, ...]
    created: tuple[str, ...]
    """Names of the models this sync created, in creation order."""
    source: Source | None = None
    """The parsed source; None when the object was invalid."""


async def sync_source(
    source_obj: Mapping[str, Any],
    *,
    lister: TagLister,
    store: ModelStore,
    secrets: SecretReader,
    now: datetime | None,
    previous: Mapping[str, Any] | None,
    credentials: CredentialStore = EMPTY_CREDENTIALS,
    progress: Progress | None = None,
    explain: bool = False,
) -> SyncResult:
    """Runs one sync. `credentials` are used where the source's own pull secrets have none;
    `explain` (previews) also lists excluded repositories to show each tag as excluded."""
    try:
        source = parse_source(source_obj)
    except InvalidSpecError as exc:
        metadata = source_obj.get("metadata")
        generation = metadata.get("generation") if isinstance(metadata, Mapping) else None
        status = build_status(
            outcomes=(),
            plan=None,
            created=0,
            problems=exc.problems,
            generation=generation if isinstance(generation, int) else 1,
            previous=previous,
            now=now,
        )
        return SyncResult(status=status, plan=None, outcomes=(), created=())

    selectors = build_selectors(source.spec)
    creds, secret_error = await read_credentials(source, secrets, credentials)
    fetched = await asyncio.gather(
        *(
            _fetch(
                s, lister=lister, creds=creds, secret_error=secret_error, progress=progress, explain=explain
            )
            for s in selectors
        )
    )
    outcomes = tuple(outcome for outcome, _ in fetched)
    known_digests = {image: digest for _, found in fetched for image, digest in found.items()}
    existing = store.existing()
    plan = plan_sync(
        outcomes,
        source_name=source.name,
        existing_by_image=existing,
        owned=store.owned_count(source.name),
        max_models=source.spec.max_models,
    )
    created, refusals = await create_planned(
        plan.to_create, source=source, lister=lister, store=store, creds=creds, known_digests=known_digests
    )
    plan = _account_for_creates(plan, created, refusals)
    status = build_status(
        outcomes=outcomes,
        plan=plan,
        created=len(created),
        created_names=created,
        generation=source.generation,
        previous=previous,
        now=now,
        moved=find_moved(outcomes, known_digests, existing),
    )
    return SyncResult(status=status, plan=plan, outcomes=outcomes, created=created, source=source)


def _account_for_creates(plan: Plan, created: Sequence[str], refusals: Sequence[NotCreated]) -> Plan:
    """The plan as the creates turned out: refusals and conflicts found by the store are not
    created; candidates whose create met a model of their own image were made by someone else.

    Another source selecting the same image, or a person, can create it between our plan and our
    create; it then exists but is not ours, exactly as if the plan had seen it.
    """
    made = set(created)
    missing = {n.candidate.name for n in refusals}
    raced = tuple(c for c in plan.to_create if c.name not in made and c.name not in missing)
    if not raced and not refusals:
        return plan
    return replace(
        plan,
        to_create=tuple(c for c in plan.to_create if c.name in made),
        existing=plan.existing + raced,
        foreign=plan.foreign + len(raced),
        # Kept as planned when nothing was refused: its capped entries are built only when read.
        not_created=(*plan.not_created, *refusals) if refusals else plan.not_created,
    )


async def read_credentials(
    source: Source, secrets: SecretReader, fallback: CredentialStore
) -> tuple[CredentialStore, SelectorError | None]:
    """Secrets are re-read on every sync; one unusable secret fails the source's selectors.

    Failing loudly beats listing anonymously: a user who names a secret expects it to be used, and
    a silent anonymous listing of a private repository reads as "repository not found".
    """
    merged = EMPTY_CREDENTIALS
    problems: list[str] = []
    for name in source.spec.image_pull_secrets:
        origin = f'imagePullSecret "{name}"'
        try:
            raw = await secrets.read(name, source=source.name)
            merged = merged.merged(parse_docker_config(raw, origin=origin))
        except (SecretError, InvalidDockerConfigError) as exc:
            problems.append(str(exc))
    error = SelectorError(reason=SecretError.reason, message="; ".join(problems)) if problems else None
    return merged.merged(fallback), error


async def _fetch(
    selector: Selector,
    *,
    lister: TagLister,
    creds: CredentialStore,
    secret_error: SelectorError | None,
    progress: Progress | None,
    explain: bool,
) -> tuple[SelectorOutcome, dict[str, str | None]]:
    """Reads one selector's registry; returns its outcome and any digests learned on the way."""
    if selector.error is not None:
        return SelectorOutcome(selector=selector, error=selector.error), {}
    if secret_error is not None:
        return SelectorOutcome(selector=selector, error=secret_error), {}
    if selector.pattern is not None:
        return await discover(
            selector,
            lister=lister,
            creds=creds,
            fetch=lambda part: _fetch(
                part, lister=lister, creds=creds, secret_error=None, progress=progress, explain=explain
            ),
            progress=progress,
        )
    ref = selector.ref
    assert ref is not None  # build_selectors sets ref whenever error is None and there is no pattern
    credential = creds.for_registry(ref.registry)
    if selector.excluded:
        return await _excluded(selector, ref, lister=lister, credential=credential, explain=explain), {}
    named = named_tags(selector)
    if progress:
        progress(f"checking {len(named)} named versions of {ref}" if named else f"listing {ref}")
    digests: dict[str, str | None] = {}
    stale: StaleListing | None = None  # only a listing can be stale (a cached one)
    try:
        if named is not None:
            # An exact-version list: one HEAD per named tag, no listing (see named_versions).
            resolved = await resolve_named(selector, ref, named, lister=lister, credential=credential)
            decisions = resolved.decisions
            digests = resolved.digests
            listed = resolved.found
            truncated = False
        elif ref.tag is not None:
            # The pinned image's HEAD proves it exists and gives the digest in one request.
            digests[str(ref)] = await lister.manifest_digest(ref, credential=credential)
            decisions = decide_listing(selector, [ref.tag])
            listed = 1
            truncated = False
        else:
            listing = await lister.list_tags(ref, credential=credential)
            decisions = decide_listing(selector, listing.tags)
            listed = len(listing.tags)
            truncated = listing.truncated
            stale = listing.stale
    except RegistryError as exc:
        log.info("selector %s failed: %s", selector.written, exc)
        return SelectorOutcome(
            selector=selector,
            error=SelectorError(reason=exc.reason, message=str(exc)),
            reached_registry=exc.answered,
        ), {}
    if progress:
        progress(
            f"found {listed} of {len(named)} named versions of {ref}"
            if named
            else f"listed {ref}: {listed} tags"
        )
    return SelectorOutcome(
        selector=selector,
        decisions=decisions,
        listed=listed,
        truncated=truncated,
        reached_registry=stale is None or stale.answered,
        stale=stale,
    ), digests


async def _excluded(
    selector: Selector, ref: ImageRef, *, lister: TagLister, credential: Credential | None, explain: bool
) -> SelectorOutcome:
    """An excluded repository selects nothing, so a sync spends no registry request on it.

    A preview (`explain`) lists it anyway, so that every tag shows up as excluded and the user sees
    why; a failure to list it is no failure of the source, which would not list it at all.
    """
    named = named_tags(selector)
    tags: Sequence[str] = [ref.tag] if ref.tag else list(named or ())
    if explain and ref.tag is None and named is None:
        try:
            tags = (await lister.list_tags(ref, credential=credential)).tags
        except RegistryError:
            tags = []
    # `listed` stays 0: the status must be what the operator writes, and it lists nothing here.
    return SelectorOutcome(selector=selector, decisions=decide_listing(selector, tags))


MAX_SERVER_ERRORS = 3
"""Consecutive transient refusals (server errors after the store's own retries) after which the
remaining creates of this sync are not attempted: each would wait out the same retries."""


async def create_planned(
    candidates: Sequence[Candidate],
    *,
    source: Source,
    lister: TagLister,
    store: ModelStore,
    creds: CredentialStore,
    known_digests: Mapping[str, str | None],
) -> tuple[tuple[str, ...], tuple[NotCreated, ...]]:
    """Creates models in plan order; digests are looked up concurrently first.

    Returns the names created and the candidates the store would not create. One refused model
    (an admission webhook's 403, a 422, a name held by a model of another image) costs that model
    only: it is recorded, the others are still created, and the next sync tries it again. Errors
    of the whole store (the API unreachable) end the sync as before.

    The digest annotation records what the tag pointed at when the model was made. A failed
    digest lookup does not block the model: the image was just listed, so it exists.
    """
    digests = await asyncio.gather(
        *(_digest(c, lister=lister, creds=creds, known=known_digests) for c in candidates)
    )
    created: list[str] = []
    refusals: list[NotCreated] = []
    server_errors = 0
    for candidate, digest in zip(candidates, digests, strict=True):
        if server_errors >= MAX_SERVER_ERRORS:
            refusals.append(
                refused(
                    candidate,
                    "NotAttempted",
                    f"not attempted after {server_errors} consecutive server errors; "
                    "the next sync tries again",
                )
            )
            continue
        body = model_body(
            candidate,
            source_name=source.name,
            source_uid=source.uid,
            digest=digest,
            image_pull_secrets=source.spec.image_pull_secrets,
        )
        try:
            made = await store.create(body)
        except NameTakenError as exc:
            log.warning("model %s not created for %s: %s", candidate.name, candidate.image, exc)
            refusals.append(name_conflict(candidate, exc.existing_image))
            server_errors = 0
            continue
        except CreateRefusedError as exc:
            log.warning("model %s for %s refused (%s): %s", candidate.name, candidate.image, exc.reason, exc)
            refusals.append(refused(candidate, exc.reason, exc.message))
            server_errors = server_errors + 1 if exc.transient else 0
            continue
        server_errors = 0
        if made:
            created.append(candidate.name)
            log.info("created model %s for %s", candidate.name, candidate.image)
    return tuple(created), tuple(refusals)


async def _digest(
    candidate: Candidate, *, lister: TagLister, creds: CredentialStore, known: Mapping[str, str | None]
) -> str | None:
    if str(candidate.ref) in known:
        return known[str(candidate.ref)]
    try:
        return await lister.manifest_digest(
            candidate.ref, credential=creds.for_registry(candidate.ref.registry)
        )
    except RegistryError as exc:
        log.info("no digest for %s: %s", candidate.image, exc)
        return None
