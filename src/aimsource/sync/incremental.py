"""An incremental sync: one pushed tag decided for one source, with one manifest HEAD and no listing.

The rules of when that is safe, and the status it leads to, are pure (`domain.pushes.increments`); this
module performs it with the same parts as a full sync: the selectors decide the tag, the planner
applies dedupe, exclusions, the cap and name conflicts, and the engine's create step makes the
model (refusals and conflicts found by the store included). Whenever the increment cannot end
where a full sync would, the answer is `FULL`, and the caller schedules a full sync (which
respects the minimum interval between listings).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from aimsource.domain.pushes.increments import blocker, covering, status_after_push
from aimsource.domain.pushes.payloads import Push
from aimsource.domain.resources import SourceStatus
from aimsource.domain.selection.decisions import TagDecision
from aimsource.domain.selection.planning import plan_sync
from aimsource.domain.selection.selectors import (
    Selector,
    SelectorOutcome,
    build_selectors,
    decide_tags,
    named_tags,
)
from aimsource.domain.spec.source import InvalidSpecError, parse_source
from aimsource.registry.auth.credentials import EMPTY_CREDENTIALS, CredentialStore
from aimsource.registry.errors import RegistryError, TagNotFound
from aimsource.sync.engine import create_planned, read_credentials
from aimsource.sync.ports import ModelStore, SecretReader, TagLister
from aimsource.sync.push_heads import OverBudget, SharedHeads

log = logging.getLogger("aimsource.sync")

Result = Literal["created", "nothing", "full"]
CREATED: Final = "created"
NOTHING: Final = "nothing"
FULL: Final = "full"


@dataclass(frozen=True)
class PushResult:
    result: Result
    why: str
    """A fixed phrase for the log: what was decided and why."""
    status: SourceStatus | None = None
    """The status to write (CREATED only)."""
    created: tuple[str, ...] = field(default=())
    owned_now: int | None = None
    """Models the source owns after this increment (CREATED only)."""
    new_repository: tuple[int, ...] = field(default=())
    """The wildcard filters (by index) for which the pushed repository is new (CREATED only): the
    caller adds it to what they matched (`SourceRepositories.learn`)."""


async def sync_push(
    source_obj: Mapping[str, Any],
    push: Push,
    *,
    lister: TagLister,
    store: ModelStore,
    secrets: SecretReader,
    previous: Mapping[str, Any] | None,
    owned_at_last_sync: int | None,
    credentials: CredentialStore = EMPTY_CREDENTIALS,
    heads: SharedHeads | None = None,
    matched: Mapping[int, Collection[str]] | None = None,
) -> PushResult:
    """Decide `push` for one source; see the module docstring. With `heads`, the manifest HEAD is
    made through it: bounded per source and registry, shared with other sources, a missing tag
    remembered. `matched`: the repositories each wildcard filter (by index) matched at the last
    full sync (`SourceRepositories`); a push covered by a wildcard filter not in it needs a full
    sync."""
    try:
        source = parse_source(source_obj)
    except InvalidSpecError:
        return PushResult(NOTHING, "the source is invalid")
    selectors = build_selectors(source.spec)
    covered = covering(selectors, registry=push.registry, repository=push.repository)
    if not covered:
        return PushResult(NOTHING, "no selector covers the repository")
    if push.tag is None:
        return PushResult(FULL, "the push names no tag")
    decisions: dict[int, TagDecision] = {}
    for selector in covered:
        decided = decide_tags(selector, [push.tag])
        if decided:
            decisions[selector.index] = decided[0]
    selected = {i for i, d in decisions.items() if d.decision == "selected"}
    if not selected:
        return PushResult(NOTHING, "no selector selects the tag")
    image = str(push.ref)
    if image in store.existing():
        return PushResult(NOTHING, "the image has a model already")
    owned = store.owned_count(source.name)
    reason = blocker(
        previous,
        generation=source.generation,
        selectors=len(selectors),
        covered=[s.index for s in covered],
        owned=owned,
        owned_at_last_sync=owned_at_last_sync,
        max_models=source.spec.max_models,
    )
    if reason is not None:
        return PushResult(FULL, reason)
    pinned = {s.index for s in covered if s.ref is not None and s.ref.pinned}
    if pinned & selected:
        # A pinned image without a model after a Ready sync: someone deleted it; a full sync recounts.
        return PushResult(FULL, "a pinned image has no model")
    new_repository, why = _new_repository(selectors, covered, push.repository, matched)
    if why is not None:
        return PushResult(FULL, why)

    creds, secret_error = await read_credentials(source, secrets, credentials)
    if secret_error is not None:
        return PushResult(FULL, "a pull secret cannot be used")
    credential = creds.for_registry(push.registry)
    try:
        if heads is None:
            digest = await lister.manifest_digest(push.ref, credential=credential, credentials=creds)
        else:
            digest = await heads.digest(
                push.ref, credential=credential, credentials=creds, source=source.name
            )
    except TagNotFound:
        return PushResult(NOTHING, "the tag does not exist (any more)")
    except OverBudget:
        return PushResult(FULL, "the push HEADs of the source or registry are spent for now")
    except RegistryError as exc:
        log.info("push %s: HEAD failed: %s", image, exc)
        return PushResult(FULL, "the manifest HEAD failed")

    by_index = {s.index: s for s in covered}
    outcomes = [
        SelectorOutcome(selector=by_index[i], decisions=(d,), listed=1, reached_registry=True)
        for i, d in sorted(decisions.items())
    ]
    plan = plan_sync(
        outcomes,
        source_name=source.name,
        existing_by_image=store.existing(),
        owned=owned,
        max_models=source.spec.max_models,
    )
    if len(plan.to_create) != 1 or plan.not_created:
        return PushResult(FULL, "the plan is not one plain create")
    created, refusals = await create_planned(
        plan.to_create, source=source, lister=lister, store=store, creds=creds, known_digests={image: digest}
    )
    if refusals or not created:
        # A refusal, a conflict the index did not know, or a model of the image made by someone
        # else meanwhile: the full sync reports each as it does for its own creates.
        return PushResult(FULL, "the create did not make a model of ours")
    assert previous is not None  # blocker() returned None
    status = status_after_push(
        previous,
        decisions=decisions,
        pinned=pinned,
        created=True,
        owned_now=owned + 1,
        named={s.index for s in covered if named_tags(s) is not None},
        new_repository=new_repository,
    )
    return PushResult(
        CREATED,
        "created",
        status=status,
        created=created,
        owned_now=owned + 1,
        new_repository=tuple(sorted(new_repository)),
    )


def _new_repository(
    selectors: Sequence[Selector],
    covered: Sequence[Selector],
    repository: str,
    matched: Mapping[int, Collection[str]] | None,
) -> tuple[set[int], str | None]:
    """The covering wildcard filters for which the repository is new, or why a full sync is needed."""
    new: set[int] = set()
    for selector in covered:
        if selectors[selector.index].pattern is None:
            continue
        known = (matched or {}).get(selector.index)
        if known is None:
            return new, "the repositories of a covering wildcard are not known since a full sync"
        if repository in known:
            continue
        names = named_tags(selector)
        if names is not None and len(names) > 1:
            # A full sync would look for each named version in the new repository.
            return new, "a new repository of a wildcard with more than one named version"
        new.add(selector.index)
    return new, None
