"""Statuses built from listings as a sync builds them, for the tests of `domain/status/build.py` and of
its parts (`test_verdict.py`, `test_counters.py`, ...)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aimsource.domain.naming import model_name
from aimsource.domain.references import canonical_image, parse_reference
from aimsource.domain.selection.planning import ExistingModel, Plan, plan_sync
from aimsource.domain.selection.selectors import SelectorError, SelectorOutcome, build_selectors, decide_tags
from aimsource.domain.spec.source import Problem, SourceSpec
from aimsource.domain.status.build import build_status

SOURCE = "amd-models"
T0 = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
UNREACHABLE = SelectorError("Unreachable", "cannot connect to registry ghcr.io")
NOT_FOUND = SelectorError("RepositoryNotFound", "repository docker.io/org/gone not found")


def outcomes_for(
    listing: Mapping[str, Sequence[str] | SelectorError], *, spec: SourceSpec | None = None
) -> list[SelectorOutcome]:
    """Outcomes for `images` = the listing's keys; a SelectorError value means that listing failed."""
    spec = spec or SourceSpec(images=tuple(listing))
    result = []
    for selector in build_selectors(spec):
        answer = listing.get(selector.written, [])
        if isinstance(answer, SelectorError):
            result.append(
                SelectorOutcome(selector, error=answer, reached_registry=answer.reason != "Unreachable")
            )
        elif selector.error is not None or selector.excluded:
            result.append(SelectorOutcome(selector))
        else:
            decisions = tuple(decide_tags(selector, answer))
            result.append(SelectorOutcome(selector, decisions, listed=len(answer), reached_registry=True))
    return result


def models(*images: str, source: str | None = SOURCE) -> dict[str, ExistingModel]:
    return {
        canonical_image(i): ExistingModel(model_name(parse_reference(i)), canonical_image(i), source)
        for i in images
    }


def planned(
    outcomes: Sequence[SelectorOutcome],
    existing: Mapping[str, ExistingModel] | None = None,
    *,
    owned: int = 0,
    max_models: int = 100,
) -> Plan:
    return plan_sync(
        outcomes, source_name=SOURCE, existing_by_image=existing or {}, owned=owned, max_models=max_models
    )


def status_of(
    outcomes: Sequence[SelectorOutcome],
    plan: Plan | None,
    *,
    created: int | None = None,
    previous: Mapping[str, Any] | None = None,
    now: datetime | None = T0,
    generation: int = 1,
    problems: Sequence[Problem] = (),
) -> dict[str, Any]:
    if created is None:
        created = len(plan.to_create) if plan else 0
    return build_status(
        outcomes=outcomes,
        plan=plan,
        created=created,
        problems=problems,
        generation=generation,
        previous=previous,
        now=now,
    )


def condition(status: Mapping[str, Any], kind: str) -> dict[str, Any]:
    [found] = [c for c in status["conditions"] if c["type"] == kind]
    return dict(found)


def refused_plan(outcomes: Sequence[SelectorOutcome], refusals: Mapping[str, tuple[str, str]]) -> Plan:
    """The plan after the store refused the creates of some images (image -> (reason, message)),
    as the sync records them."""
    from dataclasses import replace

    from aimsource.domain.selection.planning import refused

    plan = planned(outcomes)
    gone = [refused(c, *refusals[c.image]) for c in plan.to_create if c.image in refusals]
    return replace(
        plan,
        to_create=tuple(c for c in plan.to_create if c.image not in refusals),
        not_created=plan.not_created + tuple(gone),
    )
