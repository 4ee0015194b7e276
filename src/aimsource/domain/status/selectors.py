"""`status.selectors`: one entry per image or filter, in spec order, with what its sync found.

Per-selector `created` counts matched images that have a model, not models created *by this sync*,
so that the entry stays the same between two syncs that found the same registry contents. Name
conflicts and refused creates are listed up to a bound for the whole source, not per selector: a
status must stay small whatever a hostile registry or a broken webhook does; the Degraded
condition counts them all. A pinned tag that moved (`moved`, see `domain.selection.moved`) is reported in its
selector and changes no status value.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from aimsource.domain.resources import SelectorStatus
from aimsource.domain.selection.moved import MovedTag
from aimsource.domain.selection.planning import CONFLICT, REFUSED, NotCreated, Plan
from aimsource.domain.selection.selectors import Repositories, SelectorOutcome
from aimsource.domain.status.text import (
    MAX_LISTED,
    MAX_REASON_LENGTH,
    MAX_REFUSAL_LENGTH,
    MAX_TAG_LENGTH,
    clean,
)
from aimsource.domain.times import format_time

MAX_ENDPOINT_LENGTH = 256
"""A mirror URL in `endpoint` (the CRD's maxLength)."""


def selector_entries(
    outcomes: Sequence[SelectorOutcome],
    *,
    plan: Plan | None,
    created: int,
    created_names: Collection[str] | None,
    missed: Sequence[NotCreated],
    moved: Sequence[MovedTag],
) -> list[SelectorStatus]:
    """The entries for `outcomes`; `missed` are the images without a model not because of the cap."""
    images_with_model = _images_with_model(plan, created, created_names)
    listed = [n for n in missed if n.kind == CONFLICT][:MAX_LISTED]
    listed += [n for n in missed if n.kind == REFUSED][:MAX_LISTED]
    missed_by_selector: dict[int, list[NotCreated]] = {}
    for n in listed:
        missed_by_selector.setdefault(n.candidate.selector_index, []).append(n)
    moved_by_selector: dict[int, list[MovedTag]] = {}
    for m in moved[:MAX_LISTED]:
        moved_by_selector.setdefault(m.selector_index, []).append(m)
    return [
        _selector_status(
            o,
            images_with_model,
            missed_by_selector.get(o.selector.index, ()),
            moved_by_selector.get(o.selector.index, ()),
        )
        for o in outcomes
    ]


LISTED_AT = " listed at "


def repositories_message(found: Repositories) -> str:
    """A wildcard's finding in words: `matched 3 of 12 repositories (1 excluded)`."""
    text = f"matched {found.matched} of {found.seen} repositories"
    if found.excluded:
        text += f" ({found.excluded} excluded)"
    if found.truncated:
        text += f"; only the first {found.matched} by name were taken"
    if found.endpoint:
        text += f"{LISTED_AT}{found.endpoint}"
    return text


def _images_with_model(plan: Plan | None, created: int, created_names: Collection[str] | None) -> set[str]:
    if plan is None:
        return set()
    if created_names is not None:
        made = [c for c in plan.to_create if c.name in created_names]
    else:
        made = list(plan.to_create[: max(0, created)])
    return {c.key for c in plan.existing} | {c.key for c in made}


def _selector_status(
    outcome: SelectorOutcome,
    images_with_model: set[str],
    missed: Sequence[NotCreated] = (),
    moved: Sequence[MovedTag] = (),
) -> SelectorStatus:
    entry: SelectorStatus = {
        "reference": outcome.selector.written,
        "tagsListed": outcome.listed,
        "matched": len(outcome.selected),
        "created": outcome.selected_among(images_with_model),
        "skipped": outcome.tally("not-a-version", "signature"),
        "truncated": outcome.truncated,
    }
    found = outcome.repositories
    if found is not None:
        entry["repositories"] = {"seen": found.seen, "matched": found.matched, "excluded": found.excluded}
        if outcome.failed is None:
            entry["message"] = repositories_message(found)
    not_found = outcome.not_found
    if not_found:  # named in an exact-version list (the spec's own strings, at most 20 of them)
        entry["notFound"] = [clean(tag, MAX_TAG_LENGTH) for tag in not_found[:MAX_LISTED]]
    if outcome.endpoint is not None and outcome.failed is None:
        entry["endpoint"] = clean(outcome.endpoint, MAX_ENDPOINT_LENGTH)
    if outcome.stale is not None and outcome.failed is None:
        entry["stale"] = True
        entry["listedAt"] = format_time(outcome.stale.listed_at)
    conflicts = [n for n in missed if n.kind == CONFLICT]
    if conflicts:
        entry["conflicts"] = [
            {"model": n.candidate.name, "image": n.candidate.key, "existingImage": n.existing_image or ""}
            for n in conflicts
        ]
    refusals = [n for n in missed if n.kind == REFUSED]
    if refusals:
        entry["refused"] = [
            {
                "model": n.candidate.name,
                "image": n.candidate.key,
                "reason": clean(n.api_reason or "Refused", MAX_REASON_LENGTH),
                "message": clean(n.api_message or n.reason, MAX_REFUSAL_LENGTH, keep_end=True),
            }
            for n in refusals
        ]
    if moved:
        entry["moved"] = [
            {"model": m.model, "image": m.image, "recordedDigest": m.recorded, "currentDigest": m.current}
            for m in moved
        ]
    error = outcome.failed
    if error is not None:
        entry["error"] = {"reason": error.reason, "message": clean(error.message)}
    return entry
