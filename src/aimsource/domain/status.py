"""The `.status` of a source after a sync, and whether it differs from what is stored.

Built in one place so that the operator, `aimsource sync` and `aimsource preview` report the same
numbers. Two properties matter in production:

- stability: nothing in the status changes between two syncs that found the same registry
  contents except `lastSyncTime` (per-selector `created` counts matched images that have a model,
  not models created *by this sync*; `lastTransitionTime` moves only when a condition flips), so
  `status_changed` lets the operator skip the write;
- safety: messages name each failing selector and why, are bounded in size, and pass through a
  last redaction of anything shaped like a credential, although the registry layer never puts one
  in its messages.

Status values: `Ready` when no selector failed and every selected image within `maxModels` has a
model (a source whose filters are all excluded is Ready: nothing failed), `Degraded` when some
selector failed or some image got no model because its name is taken by a model of another image
(reason `ModelNameConflict`, listed in the selector's `conflicts`) or the API refused its create
(reason `ModelCreateRefused`, listed in the selector's `refused`) or some selector's tags are a
cached listing because its registry failed just now (reason `StaleListing`: the selector says
`stale: true` and `listedAt`), `Failed` when every selector failed or the spec is invalid. A pinned
tag that moved (`moved`, see `domain.moved`) is reported in its selector and changes no status
value. `Pending` is `initial_status()`; `Progressing` is the operator's to write.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aimsource.domain.moved import MovedTag
from aimsource.domain.planning import CONFLICT, REFUSED, NotCreated, Plan, uncapped
from aimsource.domain.selection import SelectorOutcome
from aimsource.domain.spec import Problem

PENDING = "Pending"
PROGRESSING = "Progressing"
READY = "Ready"
DEGRADED = "Degraded"
FAILED = "Failed"

READY_CONDITION = "Ready"
DEGRADED_CONDITION = "Degraded"
LIMIT_CONDITION = "MaxModelsLimitReached"

MAX_MESSAGE_LENGTH = 1024
MAX_LISTED = 20
"""Entries in the selectors' `conflicts`, and in their `refused`, for the whole source."""
MAX_REASON_LENGTH = 64
MAX_REFUSAL_LENGTH = 256
MAX_TAG_LENGTH = 128
NAME_CONFLICT_REASON = "ModelNameConflict"
CREATE_REFUSED_REASON = "ModelCreateRefused"
STALE_LISTING_REASON = "StaleListing"

_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_AUTH_VALUE = re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9._~+/=-]{8,}")


def initial_status() -> dict[str, Any]:
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
) -> dict[str, Any]:
    """The full `.status` body after one sync.

    `created` is how many of `plan.to_create` were created; `created_names`, when given, says
    which ones (otherwise the first `created` in plan order are assumed). `plan` None with
    `problems` means the spec is invalid: Failed, reason InvalidSpec, counters kept from
    `previous`. `now` None (preview) writes no new timestamps. `moved` lists the pinned tags
    found moved (reported, never acted on).
    """
    prev = previous or {}
    failures = [(o.selector.written, error) for o in outcomes if (error := o.failed) is not None]

    missed = list(uncapped(plan.not_created)) if plan is not None else []
    stale = [o for o in outcomes if o.stale is not None and o.failed is None]
    if problems:
        status, reason = FAILED, "InvalidSpec"
        trouble = "spec is invalid: " + "; ".join(f"{p.field}: {p.reason}" for p in problems)
    elif failures and len(failures) == len(outcomes):
        status, reason = FAILED, "AllSelectorsFailed"
        trouble = _failure_message(failures, len(outcomes))
    elif failures:
        status, reason = DEGRADED, "SomeSelectorsFailed"
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
        status, reason, trouble = READY, "AllSelectorsSucceeded", ""

    images_with_model = _images_with_model(plan, created, created_names)
    if plan is not None:
        discovered = plan.owned_before + created + plan.foreign
        available = plan.available
        limit_reached = plan.limit_reached
        owned_now = plan.owned_before + created
        limit_message = (
            f"Model creation limit reached ({owned_now} models created). "
            f"{plan.capped} available images not created as models."
            if limit_reached
            else within_limit_message(owned_now)
        )
    else:
        discovered = int(prev.get("discoveredModels", 0))
        available = int(prev.get("availableModels", 0))
        limit_reached = bool(prev.get("modelsLimitReached", False))
        old = _conditions_by_type(prev).get(LIMIT_CONDITION, {})
        limit_message = str(old.get("message", "")) or (
            "Model creation limit reached." if limit_reached else "Within the model creation limit."
        )

    ok = len(outcomes) - len(failures)
    summary = summary_message(ok, len(outcomes), available=available, discovered=discovered)
    conditions = [
        (READY_CONDITION, status == READY, reason, summary if status == READY else trouble),
        (DEGRADED_CONDITION, status != READY, reason, trouble if status != READY else "No selector failed"),
        (LIMIT_CONDITION, limit_reached, "LimitReached" if limit_reached else "WithinLimit", limit_message),
    ]

    body: dict[str, Any] = {
        "status": status,
        "discoveredModels": discovered,
        "availableModels": available,
        "modelsLimitReached": limit_reached,
        "observedGeneration": generation,
    }
    if now is not None and any(o.reached_registry for o in outcomes):
        body["lastSyncTime"] = format_time(now)
    elif "lastSyncTime" in prev:
        body["lastSyncTime"] = prev["lastSyncTime"]
    body["conditions"] = _conditions(conditions, prev, generation=generation, now=now)
    # Listed up to a bound for the whole source, not per selector: a status must stay small
    # whatever a hostile registry or a broken webhook does; the Degraded condition counts them all.
    listed = [n for n in missed if n.kind == CONFLICT][:MAX_LISTED]
    listed += [n for n in missed if n.kind == REFUSED][:MAX_LISTED]
    missed_by_selector: dict[int, list[NotCreated]] = {}
    for n in listed:
        missed_by_selector.setdefault(n.candidate.selector_index, []).append(n)
    moved_by_selector: dict[int, list[MovedTag]] = {}
    for m in moved[:MAX_LISTED]:
        moved_by_selector.setdefault(m.selector_index, []).append(m)
    body["selectors"] = [
        _selector_status(
            o,
            images_with_model,
            missed_by_selector.get(o.selector.index, ()),
            moved_by_selector.get(o.selector.index, ()),
        )
        for o in outcomes
    ]
    return body


def summary_message(ok: int, total: int, *, available: int, discovered: int) -> str:
    """The Ready condition's message of a Ready source."""
    return f"{ok} of {total} selectors synced; {available} images available, {discovered} models"


def within_limit_message(owned: int) -> str:
    """The MaxModelsLimitReached condition's message while the limit is not reached."""
    return f"Within the model creation limit ({owned} models created)."


def status_changed(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """Whether writing `new` over `old` changes anything but `lastSyncTime`."""
    if old is None:
        return True
    return _comparable(old) != _comparable(new)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a "Z", to the second (as Kubernetes writes times); naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _failure_message(failures: Sequence[tuple[str, Any]], total: int) -> str:
    parts = "; ".join(f"{written} ({error.reason}): {error.message}" for written, error in failures)
    return f"{len(failures)} of {total} selectors failed: {parts}"


def _images_with_model(plan: Plan | None, created: int, created_names: Collection[str] | None) -> set[str]:
    if plan is None:
        return set()
    if created_names is not None:
        made = [c for c in plan.to_create if c.name in created_names]
    else:
        made = list(plan.to_create[: max(0, created)])
    return {c.key for c in plan.existing} | {c.key for c in made}


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


def _selector_status(
    outcome: SelectorOutcome,
    images_with_model: set[str],
    missed: Sequence[NotCreated] = (),
    moved: Sequence[MovedTag] = (),
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "reference": outcome.selector.written,
        "tagsListed": outcome.listed,
        "matched": len(outcome.selected),
        "created": outcome.selected_among(images_with_model),
        "skipped": outcome.tally("not-a-version", "signature"),
        "truncated": outcome.truncated,
    }
    not_found = outcome.not_found
    if not_found:  # named in an exact-version list (the spec's own strings, at most 20 of them)
        entry["notFound"] = [_clean(tag, MAX_TAG_LENGTH) for tag in not_found[:MAX_LISTED]]
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
                "reason": _clean(n.api_reason or "Refused", MAX_REASON_LENGTH),
                "message": _clean(n.api_message or n.reason, MAX_REFUSAL_LENGTH, keep_end=True),
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
        entry["error"] = {"reason": error.reason, "message": _clean(error.message)}
    return entry


def _conditions(
    wanted: Sequence[tuple[str, bool, str, str]],
    prev: Mapping[str, Any],
    *,
    generation: int,
    now: datetime | None,
) -> list[dict[str, Any]]:
    before = _conditions_by_type(prev)
    result = []
    for kind, flag, reason, message in wanted:
        value = "True" if flag else "False"
        condition: dict[str, Any] = {
            "type": kind,
            "status": value,
            "reason": reason,
            "message": _clean(message),
            "observedGeneration": generation,
        }
        old = before.get(kind)
        if old is not None and old.get("status") == value and old.get("lastTransitionTime"):
            condition["lastTransitionTime"] = old["lastTransitionTime"]
        elif now is not None:
            condition["lastTransitionTime"] = format_time(now)
        result.append(condition)
    return result


def _conditions_by_type(status: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    conditions = status.get("conditions") or []
    return {str(c.get("type")): c for c in conditions if isinstance(c, Mapping)}


def _comparable(status: Mapping[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in status.items() if k not in ("lastSyncTime", "conditions")}
    body["conditions"] = {k: dict(v) for k, v in _conditions_by_type(status).items()}
    return body


def _clean(message: str, limit: int = MAX_MESSAGE_LENGTH, *, keep_end: bool = False) -> str:
    """Redact credential-shaped text and bound the length, so a status stays readable and safe.

    With `keep_end`, the middle is cut instead of the end: an API server's refusal names the
    object first and gives its verdict last (kube-apiserver: `... is forbidden: ValidatingAdmission
    Policy 'p' with binding 'b' denied request: <the policy's message>`), and the verdict is the
    part a reader needs."""
    text = _AUTH_VALUE.sub(lambda m: f"{m.group(1)} ***", _URL_USERINFO.sub("***@", message))
    if len(text) > limit and keep_end:
        head = limit // 4
        text = text[:head] + " ... " + text[len(text) - (limit - head - 5) :]
    elif len(text) > limit:
        text = text[: limit - 3] + "..."
    return text
