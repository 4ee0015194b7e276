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

from aimsource.domain.references import ImageRef
from aimsource.domain.resources import SourceStatus
from aimsource.domain.selection.listings import StaleListing
from aimsource.domain.selection.moved import find_moved
from aimsource.domain.selection.planning import NotCreated, Plan, plan_sync
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
from aimsource.registry.auth.credentials import (
    EMPTY_CREDENTIALS,
    CredentialStore,
    InvalidDockerConfigError,
    parse_docker_config,
)
from aimsource.registry.errors import RegistryError
from aimsource.registry.http.fairness import asking_for, in_lane
from aimsource.registry.mirrors import recording_mirrors
from aimsource.sync.digests import ApiDigests
from aimsource.sync.discovery import discover
from aimsource.sync.listing_budget import ONE_SYNC, ListingBudget
from aimsource.sync.named_versions import resolve_named
from aimsource.sync.pipeline import MAX_SERVER_ERRORS, Pace, Tally, create_planned
from aimsource.sync.ports import ModelStore, SecretError, SecretReader, TagLister

__all__ = [
    "MAX_SERVER_ERRORS",
    "Pace",
    "SyncResult",
    "Tally",
    "create_planned",
    "read_credentials",
    "sync_source",
]

log = logging.getLogger("aimsource.sync")

WALK_FRESHNESS = 0.9
"""A wildcard's walk younger than this share of the source's `syncInterval` is reused (the
operator keeps walks, `SharedWalks`): the next scheduled sync, an interval later, walks again."""

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
    budget: ListingBudget = ONE_SYNC,
    pace: Pace | None = None,
    tally: Tally | None = None,
) -> SyncResult:
    """Runs one sync. `credentials` are used where the source's own pull secrets have none;
    `explain` (previews) also lists excluded repositories to show each tag as excluded; `budget`
    bounds the tags its listings hold (`listing_budget`): one listing per repository. `pace`
    bounds the images checked and created at once; `tally` is kept up to date with what is done.

    Its registry requests are the source's party for the hosts' fair share (`registry.http.fairness`).
    """
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
    with asking_for(source.name):
        return await _sync(
            source,
            lister=lister,
            store=store,
            secrets=secrets,
            now=now,
            previous=previous,
            credentials=credentials,
            progress=progress,
            explain=explain,
            budget=budget,
            pace=pace,
            tally=tally,
        )


async def _sync(
    source: Source,
    *,
    lister: TagLister,
    store: ModelStore,
    secrets: SecretReader,
    now: datetime | None,
    previous: Mapping[str, Any] | None,
    credentials: CredentialStore,
    progress: Progress | None,
    explain: bool,
    budget: ListingBudget,
    pace: Pace | None,
    tally: Tally | None,
) -> SyncResult:
    selectors = build_selectors(source.spec)
    creds, secret_error = await read_credentials(source, secrets, credentials)
    listings = budget.for_sync(lister)
    wildcard = any(s.pattern is not None for s in selectors)
    async with listings.session(_listed(selectors, explain=explain), open_ended=wildcard):
        fetched = await asyncio.gather(
            *(
                _fetch(
                    s,
                    lister=listings,
                    creds=creds,
                    secret_error=secret_error,
                    progress=progress,
                    explain=explain,
                    fresh_for=WALK_FRESHNESS * source.spec.sync_interval,
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
    # Many new images of one repository: their digests from its registry's web API (`digests`).
    api = ApiDigests.planned(outcomes, plan.to_create, known=known_digests, lister=lister, creds=creds)
    try:
        created, refusals = await create_planned(
            plan.to_create,
            source=source,
            lister=lister,
            store=store,
            creds=creds,
            known_digests=known_digests,
            pace=pace,
            tally=tally,
            api=api,
        )
    finally:
        await api.aclose()
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


def _listed(selectors: Sequence[Selector], *, explain: bool) -> set[str]:
    """The repositories the selectors list (not those that only HEAD, or list nothing)."""
    return {
        s.ref.key
        for s in selectors
        if s.error is None
        and s.ref is not None
        and s.ref.tag is None
        and named_tags(s) is None
        and (explain or not s.excluded)
    }


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
    fresh_for: float = 0.0,
) -> tuple[SelectorOutcome, dict[str, str | None]]:
    """Reads one selector's registry; returns its outcome and any digests learned on the way.
    A wildcard's walk may be one younger than `fresh_for` seconds (`SharedWalks`)."""
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
            fresh_for=fresh_for,
        )
    ref = selector.ref
    assert ref is not None  # build_selectors sets ref whenever error is None and there is no pattern
    credential = creds.for_registry(ref.registry)
    if selector.excluded:
        return await _excluded(selector, ref, lister=lister, creds=creds, explain=explain), {}
    named = named_tags(selector)
    if progress:
        progress(f"checking {len(named)} named versions of {ref}" if named else f"listing {ref}")
    digests: dict[str, str | None] = {}
    stale: StaleListing | None = None  # only a listing can be stale (a cached one)
    endpoint: str | None = None  # the mirror that served the listing, if one did
    try:
        # Its requests are the selector's lane of the sync's fair share; who answered, when a
        # mirror did (HEADs say it so).
        with in_lane(selector.written), recording_mirrors() as served:
            if named is not None:
                # An exact-version list: one HEAD per named tag, no listing (see named_versions).
                resolved = await resolve_named(
                    selector, ref, named, lister=lister, credential=credential, credentials=creds
                )
                decisions = resolved.decisions
                digests = resolved.digests
                listed = resolved.found
                truncated = False
            elif ref.tag is not None:
                # The pinned image's HEAD proves it exists and gives the digest in one request.
                digests[str(ref)] = await lister.manifest_digest(
                    ref, credential=credential, credentials=creds
                )
                decisions = decide_listing(selector, [ref.tag])
                listed = 1
                truncated = False
            else:
                listing = await lister.list_tags(ref, credential=credential, credentials=creds)
                decisions = decide_listing(selector, listing.tags)
                listed = len(listing.tags)
                truncated = listing.truncated
                stale = listing.stale
                endpoint = listing.endpoint
        if endpoint is None and served:
            endpoint = served[-1]
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
        endpoint=endpoint,
    ), digests


async def _excluded(
    selector: Selector, ref: ImageRef, *, lister: TagLister, creds: CredentialStore, explain: bool
) -> SelectorOutcome:
    """An excluded repository selects nothing, so a sync spends no registry request on it.

    A preview (`explain`) lists it anyway, so that every tag shows up as excluded and the user sees
    why; a failure to list it is no failure of the source, which would not list it at all.
    """
    named = named_tags(selector)
    tags: Sequence[str] = [ref.tag] if ref.tag else list(named or ())
    if explain and ref.tag is None and named is None:
        try:
            credential = creds.for_registry(ref.registry)
            tags = (await lister.list_tags(ref, credential=credential, credentials=creds)).tags
        except RegistryError:
            tags = []
    # `listed` stays 0: the status must be what the operator writes, and it lists nothing here.
    return SelectorOutcome(selector=selector, decisions=decide_listing(selector, tags))
