"""The `.status` of a source after a sync, and whether it differs from what is stored.

Built in one place so that the operator, `aimsource sync` and `aimsource preview` report the same
numbers. `build_status` puts together three parts, each in its own module:

- classification (`status_verdict`): the status value, the reason and what is wrong;
- counters (`status_counters`): discovered and available models, whether `maxModels` was hit;
- conditions (`status_conditions`): Ready, Degraded and MaxModelsLimitReached;

and the per-selector entries (`status_selectors`). Two properties matter in production:

- stability: nothing in the status changes between two syncs that found the same registry
  contents except `lastSyncTime` (per-selector `created` counts matched images that have a model,
  not models created *by this sync*; `lastTransitionTime` moves only when a condition flips), so
  `status_changed` lets the operator skip the write;
- safety: messages name each failing selector and why, are bounded in size, and pass through a
  last redaction of anything shaped like a credential (`status_text.clean`), although the
  registry layer never puts one in its messages.

`Pending` is `initial_status()`; `Progressing` is the operator's to write.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from aimsource.domain.resources import PENDING, SourceStatus
from aimsource.domain.selection.moved import MovedTag
from aimsource.domain.selection.planning import Plan
from aimsource.domain.selection.selectors import SelectorOutcome
from aimsource.domain.spec.field_checks import Problem
from aimsource.domain.status.conditions import conditions_by_type, source_conditions
from aimsource.domain.status.counters import count
from aimsource.domain.status.selectors import selector_entries
from aimsource.domain.status.text import MAX_LISTED as MAX_LISTED  # re-exported: a bound tests rely on
from aimsource.domain.status.verdict import classify
from aimsource.domain.times import format_time

__all__ = ["MAX_LISTED", "build_status", "initial_status", "status_changed"]


def initial_status() -> SourceStatus:
    """What a new source shows until its first sync finishes."""
    return {"status": PENDING, "discoveredModels": 0, "availableModels": 0, "modelsLimitReached": False}


def build_status(
    *,
    outcomes: Sequence[SelectorOutcome],
    plan: Plan | None,
    created: int,
    problems: Sequence[Problem] = (),
    generation: int,
    previous: Mapping[str, Any] | None,
    now: datetime | None,
    created_names: Collection[str] | None = None,
    moved: Sequence[MovedTag] = (),
) -> SourceStatus:
    """The full `.status` body after one sync.

    `created` is how many of `plan.to_create` were created; `created_names`, when given, says
    which ones (otherwise the first `created` in plan order are assumed). `plan` None with
    `problems` means the spec is invalid: Failed, reason InvalidSpec, counters kept from
    `previous`. `now` None (preview) writes no new timestamps. `moved` lists the pinned tags
    found moved (reported, never acted on).
    """
    prev = previous or {}
    verdict = classify(outcomes, plan, problems)
    counters = count(plan, created, prev)
    body: SourceStatus = {
        "status": verdict.status,
        "discoveredModels": counters.discovered,
        "availableModels": counters.available,
        "modelsLimitReached": counters.limit_reached,
        "observedGeneration": generation,
    }
    if now is not None and any(o.reached_registry for o in outcomes):
        body["lastSyncTime"] = format_time(now)
    elif "lastSyncTime" in prev:
        body["lastSyncTime"] = prev["lastSyncTime"]
    body["conditions"] = source_conditions(
        verdict, counters, selectors=len(outcomes), previous=prev, generation=generation, now=now
    )
    body["selectors"] = selector_entries(
        outcomes, plan=plan, created=created, created_names=created_names, missed=verdict.missed, moved=moved
    )
    return body


def status_changed(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """Whether writing `new` over `old` changes anything but `lastSyncTime`."""
    if old is None:
        return True
    return _comparable(old) != _comparable(new)


def _comparable(status: Mapping[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in status.items() if k not in ("lastSyncTime", "conditions")}
    body["conditions"] = {k: dict(v) for k, v in conditions_by_type(status).items()}
    return body
