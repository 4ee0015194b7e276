"""Incremental syncs: when one pushed tag may be decided without listing, and the status after it.

A push names a registry, a repository and (usually) a tag. A full sync would list every covering
repository, plan, create and report; an incremental sync decides the pushed tag alone (one
manifest HEAD) and must end where the full sync would have ended. That holds only when the last
full sync left nothing undecided, so `blocker` answers, from the stored status, whether the
increment is safe, and why not:

- the last sync was not `Ready` (a failed selector, a name conflict or a refused create: the full
  sync must retry and report those), or was for another generation of the spec;
- the cap was reached, or the push would take the last free slot: which images win the last
  slots is the round-robin order of the whole plan (selector by selector, newest first), and a
  push that arrives first is not necessarily the one a full sync would pick;
- a covering selector's listing was truncated (a full sync may not even see the tag);
- the number of models owned by the source changed since the last sync (a user deleted one: the
  full sync re-creates it and recounts).

Otherwise the pushed tag is created like any planned candidate, and `status_after_push` moves the
counters by exactly what the full sync would have found new: one more listed tag in every covering
selector, one more selected and modelled image where it was selected, one more skipped where it
was not a version. `lastSyncTime` does not move: it times the scheduled listing, which stays the
safety net and must not be postponed by a stream of pushes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, cast

from aimsource.domain.resources import FALSE, LIMIT_CONDITION, READY, READY_CONDITION, TRUE, SourceStatus
from aimsource.domain.selection.decisions import TagDecision
from aimsource.domain.selection.selectors import Repositories, Selector
from aimsource.domain.status.conditions import summary_message, within_limit_message
from aimsource.domain.status.selectors import LISTED_AT as _LISTED_AT
from aimsource.domain.status.selectors import repositories_message


def covering(selectors: Sequence[Selector], *, registry: str, repository: str) -> list[Selector]:
    """The selectors (valid, not excluded) that read the pushed repository.

    A wildcard filter whose pattern matches the repository covers it as the selector of that one
    repository (`Selector.for_repository`: same index, constraints and exclusions), as discovery
    would have made it, whether or not a full sync has seen the repository yet."""
    found = []
    for s in selectors:
        if s.error is not None or s.excluded:
            continue
        if s.pattern is not None and s.pattern.registry == registry and s.pattern.matches(repository):
            s = s.for_repository(repository)
            if s.excluded:
                continue
        elif s.ref is None or s.ref.registry != registry or s.ref.repository != repository:
            continue
        found.append(s)
    return found


def blocker(
    previous: Mapping[str, Any] | None,
    *,
    generation: int,
    selectors: int,
    covered: Collection[int],
    owned: int,
    owned_at_last_sync: int | None,
    max_models: int,
) -> str | None:
    """Why the pushed tag needs a full sync (a phrase for the log), or None when it does not."""
    if not previous or previous.get("status") != READY:
        return "the last sync was not Ready"
    if previous.get("observedGeneration") != generation:
        return "the spec changed since the last sync"
    entries = previous.get("selectors")
    if not isinstance(entries, list) or len(entries) != selectors:
        return "the status does not list every selector"
    if any(not isinstance(entries[i], Mapping) or entries[i].get("truncated") for i in covered):
        return "a covering listing was truncated"
    if previous.get("modelsLimitReached"):
        return "the model limit was reached"
    if owned_at_last_sync is None or owned != owned_at_last_sync:
        return "the source's models changed since the last sync"
    if max_models - owned < 2:
        return "the push would take the last free model slot"
    return None


def _found(entry: dict[str, Any], tag: str) -> None:
    """A named version pushed at last: one more tag that exists, no longer `notFound`."""
    entry["tagsListed"] = int(entry.get("tagsListed", 0)) + 1
    missing = [t for t in entry.get("notFound") or () if t != tag]
    if missing:
        entry["notFound"] = missing
    else:
        entry.pop("notFound", None)


def _one_more_repository(entry: dict[str, Any]) -> None:
    """A wildcard filter's entry with the pushed repository counted (seen and matched)."""
    counts = entry.get("repositories")
    if not isinstance(counts, Mapping):
        return
    found = Repositories(
        seen=int(counts.get("seen", 0)) + 1,
        matched=int(counts.get("matched", 0)) + 1,
        excluded=int(counts.get("excluded", 0)),
        # The message of the last discovery names where it listed; the count is all that moves.
        endpoint=str(entry.get("message", "")).partition(_LISTED_AT)[2],
    )
    entry["repositories"] = {"seen": found.seen, "matched": found.matched, "excluded": found.excluded}
    if "message" in entry:
        entry["message"] = repositories_message(found)


def status_after_push(
    previous: Mapping[str, Any],
    *,
    decisions: Mapping[int, TagDecision],
    pinned: Collection[int],
    created: bool,
    owned_now: int,
    named: Collection[int] = (),
    new_repository: Collection[int] = (),
) -> SourceStatus:
    """The status after one pushed tag was decided by the covering selectors (by index).

    `decisions` holds each covering selector's decision of the tag; `pinned` the covering pinned
    selectors, which list nothing (their count of listed tags is always 1). `created`: a model now
    exists for the tag (this push made it). `named`: the covering selectors with a list of exact
    versions, which list nothing either: a full sync sees only the tags they name, so a push counts
    for them only when it is one of those (and is then no longer `notFound`). `new_repository`:
    the covering wildcard filters for which the pushed repository is one their last discovery did
    not list: one more repository seen and matched, as the next discovery would count it.
    """
    status = {k: v for k, v in previous.items()}
    entries = [dict(e) for e in previous.get("selectors") or ()]
    selected_anywhere = False
    for index in new_repository:
        _one_more_repository(entries[index])
    for index, decision in decisions.items():
        entry = entries[index]
        if index in named:
            if decision.decision == "selected":
                _found(entry, decision.image.tag or "")
            else:
                continue  # never listed: a full sync would not see this tag at all
        elif index not in pinned:
            entry["tagsListed"] = int(entry.get("tagsListed", 0)) + 1
        if decision.decision == "selected":
            selected_anywhere = True
            entry["matched"] = int(entry.get("matched", 0)) + 1
            if created:
                entry["created"] = int(entry.get("created", 0)) + 1
        elif decision.decision in ("not-a-version", "signature"):
            entry["skipped"] = int(entry.get("skipped", 0)) + 1
    status["selectors"] = entries
    if selected_anywhere:
        status["availableModels"] = int(previous.get("availableModels", 0)) + 1
        if created:
            status["discoveredModels"] = int(previous.get("discoveredModels", 0)) + 1
    conditions = []
    for condition in previous.get("conditions") or ():
        condition = dict(condition)
        if condition.get("type") == READY_CONDITION and condition.get("status") == TRUE:
            condition["message"] = summary_message(
                len(entries),
                len(entries),
                available=int(status.get("availableModels", 0)),
                discovered=int(status.get("discoveredModels", 0)),
            )
        elif condition.get("type") == LIMIT_CONDITION and condition.get("status") == FALSE:
            condition["message"] = within_limit_message(owned_now)
        conditions.append(condition)
    status["conditions"] = conditions
    # `previous` is the status the last full sync wrote (`blocker` found it Ready, for this generation,
    # with an entry per selector; the CRD's schema checked its types): a `SourceStatus`, moved above.
    return cast(SourceStatus, status)
