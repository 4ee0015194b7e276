"""The plan of one sync: which selected images get a model now, which already have one, which wait.

Pure arithmetic over what the registry phase selected and what the store says exists, so every
rule of product.md "Models, limits and the append-only rule" is testable without I/O:

- an image picked by several selectors counts once, for the first selector in spec order (the
  reference implementation counted it twice);
- an image that already has a model — anyone's, compared by canonical `spec.image` — is left
  alone: not created, not adopted, not modified;
- `maxModels` caps the models this source owns, including ones its selectors no longer match; when
  the budget is short, candidates are taken round-robin across selectors in spec order, newest
  first within a selector, so one prolific repository cannot starve the others;
- a candidate whose name is already taken by a model of a different image (a 6-hex hash collision,
  or a hand-made model) is reported as a conflict rather than sent to a create that would fail
  with 409 (a conflict the index did not know yet is found by the create itself: see the sync). Names
  are only computed for candidates within the budget: past it every candidate is reported as
  capped, so a selector that picks 50,000 images costs 50,000 hashes only when it may create them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from aimsource.domain.naming import model_name
from aimsource.domain.references import ImageRef, model_image
from aimsource.domain.selection import SelectorOutcome

LIMIT_REASON = "maxModels limit reached"


@dataclass(frozen=True)
class ExistingModel:
    name: str
    image: str
    """canonical_image(spec.image)"""
    source: str | None
    """The value of label aim.eai.amd.com/model-source, if any."""
    digest: str | None = None
    """The annotation aim.eai.amd.com/source-digest (what the tag pointed at when the model was
    made), when it is a sha256/sha512 digest: a moved tag is found by comparing with it."""


@dataclass(frozen=True)
class Candidate:
    ref: ImageRef
    selector_index: int
    selector: str
    key: str = field(init=False, repr=False, compare=False)
    """The canonical image (`registry/repository:tag`), the key of `existing_by_image`."""

    def __post_init__(self) -> None:
        # Planning reads the key of every candidate, often several times: compute it once, here
        # (a cached_property would take a lock on every first read).
        object.__setattr__(self, "key", str(self.ref))

    # Name and image are derived on first use: a broad selector can pick tens of thousands of
    # images of which a sync creates a handful, and hashing every name would dominate the sync.
    @cached_property
    def name(self) -> str:
        """model_name(ref): the model's metadata.name."""
        return model_name(self.ref)

    @cached_property
    def image(self) -> str:
        """model_image(ref): what goes into spec.image."""
        return model_image(self.ref)


LIMITED = "limit"
CONFLICT = "conflict"
REFUSED = "refused"


@dataclass(frozen=True)
class NotCreated:
    candidate: Candidate
    reason: str
    """What a person reads: why this image has no model."""
    kind: str = LIMITED
    """LIMITED (maxModels), CONFLICT (the name belongs to a model of another image) or REFUSED
    (the store refused the create)."""
    existing_image: str | None = None
    """CONFLICT: the canonical image of the model that holds the name."""
    api_reason: str | None = None
    """REFUSED: the refusing side's word (Forbidden, Invalid, InternalError, ...)."""
    api_message: str | None = None
    """REFUSED: the refusing side's message."""

    @property
    def capped(self) -> bool:
        """Left out because of `maxModels` (as opposed to a name conflict or a refusal)."""
        return self.kind == LIMITED


@dataclass(frozen=True)
class Plan:
    to_create: tuple[Candidate, ...]
    """Creation order: round-robin across selectors in spec order, newest first within one."""
    existing: tuple[Candidate, ...]
    """Selected images that already have a model (anyone's)."""
    not_created: tuple[NotCreated, ...]
    available: int
    """Distinct selected images."""
    owned_before: int
    """Models labelled with this source before the sync."""
    foreign: int
    """Selected images whose model belongs to someone else (another source or a person)."""
    limit_reached: bool
    """Some selected image has no model because of `maxModels`."""

    @property
    def capped(self) -> int:
        """Selected images that have no model because of `maxModels`."""
        return sum(1 for n in self.not_created if n.capped)


def candidate_for(ref: ImageRef, *, selector_index: int, selector: str) -> Candidate:
    return Candidate(ref=ref, selector_index=selector_index, selector=selector)


def name_conflict(candidate: Candidate, existing_image: str) -> NotCreated:
    """`candidate` gets no model: its name is held by a model of `existing_image`."""
    return NotCreated(
        candidate,
        f'name "{candidate.name}" is already used by a model of {existing_image}',
        kind=CONFLICT,
        existing_image=existing_image,
    )


def refused(candidate: Candidate, api_reason: str, message: str) -> NotCreated:
    """`candidate` gets no model this sync: the store refused it (the next sync tries again)."""
    return NotCreated(
        candidate,
        f"refused ({api_reason}): {message}",
        kind=REFUSED,
        api_reason=api_reason,
        api_message=message,
    )


def plan_sync(
    outcomes: Sequence[SelectorOutcome],
    *,
    source_name: str,
    existing_by_image: Mapping[str, ExistingModel],
    owned: int,
    max_models: int,
) -> Plan:
    """Decide what one sync creates. Outcomes that failed contribute nothing."""
    seen: set[str] = set()
    existing: list[Candidate] = []
    foreign = 0
    queues: list[list[Candidate]] = []
    for outcome in sorted(outcomes, key=lambda o: o.selector.index):
        if outcome.failed is not None:
            continue
        queue: list[Candidate] = []
        for decision in outcome.selected:
            candidate = candidate_for(
                decision.image,
                selector_index=outcome.selector.index,
                selector=outcome.selector.written,
            )
            if candidate.key in seen:
                continue
            seen.add(candidate.key)
            model = existing_by_image.get(candidate.key)
            if model is None:
                queue.append(candidate)
                continue
            existing.append(candidate)
            if model.source != source_name:
                foreign += 1
        queues.append(queue)

    taken_names = {model.name: model.image for model in existing_by_image.values()}
    budget = max(0, max_models - owned)
    to_create: list[Candidate] = []
    not_created: list[NotCreated] = []
    for candidate in _round_robin(queues):
        if len(to_create) >= budget:
            not_created.append(NotCreated(candidate, f"{LIMIT_REASON} ({max_models})"))
            continue
        holder = taken_names.get(candidate.name)
        if holder is not None:
            not_created.append(name_conflict(candidate, holder))
        else:
            to_create.append(candidate)
            taken_names[candidate.name] = candidate.key

    return Plan(
        to_create=tuple(to_create),
        existing=tuple(existing),
        not_created=tuple(not_created),
        available=len(seen),
        owned_before=owned,
        foreign=foreign,
        limit_reached=any(n.capped for n in not_created),
    )


def _round_robin(queues: Sequence[Sequence[Candidate]]) -> list[Candidate]:
    """First of each queue in order, then the second of each, and so on."""
    order: list[Candidate] = []
    depth = max((len(q) for q in queues), default=0)
    for position in range(depth):
        order.extend(q[position] for q in queues if position < len(q))
    return order
