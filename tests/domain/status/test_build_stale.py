"""A selector decided on a kept listing: Degraded with reason StaleListing, never Ready, never Failed."""

from __future__ import annotations

from datetime import UTC, datetime

from aimsource.domain.selection.listings import StaleListing
from aimsource.domain.selection.planning import plan_sync
from aimsource.domain.selection.selectors import SelectorError, SelectorOutcome, build_selectors, decide_tags
from aimsource.domain.spec.source import parse_source
from aimsource.domain.status.build import build_status, status_changed
from tests.crds.samples import source

LISTED = datetime(2025, 1, 15, 8, 0, tzinfo=UTC)
NOW = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)
STALE = StaleListing(LISTED, "RateLimited", "rate limited by docker.io; retry after 3600 s", True)


def status_of(*kinds: str, now: datetime = NOW, previous: dict | None = None) -> dict:
    spec = parse_source(source({"images": [f"org/m{i}" for i in range(len(kinds))]})).spec
    outcomes = []
    for kind, selector in zip(kinds, build_selectors(spec), strict=True):
        if kind == "failed":
            outcomes.append(
                SelectorOutcome(
                    selector=selector, error=SelectorError("Unreachable", "down"), reached_registry=False
                )
            )
            continue
        outcomes.append(
            SelectorOutcome(
                selector=selector,
                decisions=tuple(decide_tags(selector, ["1.0.0"])),
                listed=1,
                reached_registry=True,
                stale=STALE if kind == "stale" else None,
            )
        )
    plan = plan_sync(outcomes, source_name="sample", existing_by_image={}, owned=0, max_models=10)
    return build_status(
        outcomes=outcomes, plan=plan, created=len(plan.to_create), generation=1, previous=previous, now=now
    )


def condition(status: dict, kind: str) -> dict:
    return next(c for c in status["conditions"] if c["type"] == kind)


def test_a_stale_selector_degrades_with_reason_stale_listing_and_its_age() -> None:
    status = status_of("fresh", "stale")
    assert status["status"] == "Degraded"
    degraded = condition(status, "Degraded")
    assert degraded["reason"] == "StaleListing"
    assert degraded["message"] == (
        "1 of 2 selectors use the last good listing: org/m1 (listed at 2025-01-15T08:00:00Z; "
        "RateLimited: rate limited by docker.io; retry after 3600 s)"
    )
    assert condition(status, "Ready")["status"] == "False"
    assert status["selectors"][1]["stale"] is True
    assert status["selectors"][1]["listedAt"] == "2025-01-15T08:00:00Z"
    assert "stale" not in status["selectors"][0]
    assert status["availableModels"] == 2  # the kept tags are decided as usual


def test_every_selector_stale_is_degraded_not_failed() -> None:
    status = status_of("stale", "stale")
    assert (status["status"], condition(status, "Degraded")["reason"]) == ("Degraded", "StaleListing")


def test_a_failed_selector_beside_a_stale_one_keeps_some_selectors_failed_and_names_both() -> None:
    status = status_of("failed", "stale")
    degraded = condition(status, "Degraded")
    assert (status["status"], degraded["reason"]) == ("Degraded", "SomeSelectorsFailed")
    assert "org/m0 (Unreachable)" in degraded["message"]
    assert "last good listing: org/m1" in degraded["message"]


def test_a_stale_status_is_stable_between_syncs_on_the_same_kept_listing() -> None:
    """listedAt, not an age in seconds: a second stale sync changes nothing but lastSyncTime."""
    first = status_of("stale")
    second = status_of("stale", now=datetime(2025, 1, 15, 11, 0, tzinfo=UTC), previous=first)
    assert not status_changed(first, second)
