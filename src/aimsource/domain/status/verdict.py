"""Classification: which status value a sync earns, its reason, and the message saying why.

`Ready` when no selector failed and every selected image within `maxModels` has a model (a source
whose filters are all excluded is Ready: nothing failed); `Degraded` when some selector failed, or
some image got no model because its name is taken by a model of another image (reason
`ModelNameConflict`) or the API refused its create (reason `ModelCreateRefused`), or some
selector's tags are a cached listing because its registry failed just now (reason
`StaleListing`); `Failed` when every selector failed or the spec is invalid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aimsource.domain.resources import (
    ALL_SELECTORS_FAILED_REASON,
    ALL_SELECTORS_SUCCEEDED_REASON,
    CREATE_REFUSED_REASON,
    DEGRADED,
    FAILED,
    INVALID_SPEC_REASON,
    NAME_CONFLICT_REASON,
    READY,
    SOME_SELECTORS_FAILED_REASON,
    STALE_LISTING_REASON,
)
from aimsource.domain.selection.planning import CONFLICT, NotCreated, Plan, uncapped
from aimsource.domain.selection.selectors import SelectorError, SelectorOutcome
from aimsource.domain.spec.field_checks import Problem
from aimsource.domain.times import format_time


@dataclass(frozen=True)
class Verdict:
    status: str
    """READY, DEGRADED or FAILED."""
    reason: str
    """The reason of the Ready and Degraded conditions."""
    trouble: str
    """What is wrong, for a person; empty when Ready."""
    failures: Sequence[tuple[str, SelectorError]]
    """The failed selectors (as written in the spec) and why."""
    missed: Sequence[NotCreated]
    """Selected images that got no model, not because of `maxModels`."""


def classify(
    outcomes: Sequence[SelectorOutcome], plan: Plan | None, problems: Sequence[Problem] = ()
) -> Verdict:
    """The verdict on one sync; `problems` (the spec is invalid) wins over everything else."""
    failures = [(o.selector.written, error) for o in outcomes if (error := o.failed) is not None]
    missed = list(uncapped(plan.not_created)) if plan is not None else []
    stale = [o for o in outcomes if o.stale is not None and o.failed is None]
    if problems:
        status, reason = FAILED, INVALID_SPEC_REASON
        trouble = "spec is invalid: " + "; ".join(f"{p.field}: {p.reason}" for p in problems)
    elif failures and len(failures) == len(outcomes):
        status, reason = FAILED, ALL_SELECTORS_FAILED_REASON
        trouble = _failure_message(failures, len(outcomes))
    elif failures:
        status, reason = DEGRADED, SOME_SELECTORS_FAILED_REASON
        trouble = _failure_message(failures, len(outcomes))
        if stale:
            trouble += "; " + _stale_message(stale, len(outcomes))
        if missed:
            trouble += "; " + _missed_message(missed)
    elif stale:
        # The registry failed in a way that passes (429, 5xx, unreachable) and the last good
        # listing was recent enough to decide on: not a failure, but not current either.
        status, reason = DEGRADED, STALE_LISTING_REASON
        trouble = _stale_message(stale, len(outcomes))
        if missed:
            trouble += "; " + _missed_message(missed)
    elif missed:
        # Every selector synced, but some selected image has no model and will not get one by
        # waiting: a person must look (rename, a webhook's rule, a model in the way).
        status = DEGRADED
        reason = NAME_CONFLICT_REASON if any(n.kind == CONFLICT for n in missed) else CREATE_REFUSED_REASON
        trouble = _missed_message(missed)
    else:
        status, reason, trouble = READY, ALL_SELECTORS_SUCCEEDED_REASON, ""
    return Verdict(status=status, reason=reason, trouble=trouble, failures=failures, missed=missed)


def _failure_message(failures: Sequence[tuple[str, SelectorError]], total: int) -> str:
    parts = "; ".join(f"{written} ({error.reason}): {error.message}" for written, error in failures)
    return f"{len(failures)} of {total} selectors failed: {parts}"


def _stale_message(stale: Sequence[SelectorOutcome], total: int) -> str:
    parts = []
    for outcome in stale:
        info = outcome.stale
        assert info is not None  # only stale outcomes are passed
        parts.append(
            f"{outcome.selector.written} (listed at {format_time(info.listed_at)}; "
            f"{info.reason}: {info.message})"
        )
    return f"{len(stale)} of {total} selectors use the last good listing: " + "; ".join(parts)


def _missed_message(missed: Sequence[NotCreated]) -> str:
    head = "1 selected image has" if len(missed) == 1 else f"{len(missed)} selected images have"
    parts = "; ".join(f"{n.candidate.key} (model {n.candidate.name}): {n.reason}" for n in missed)
    return f"{head} no model: {parts}"
