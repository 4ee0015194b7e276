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

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from typing import overload

from aimsource.domain.naming import model_name
from aimsource.domain.references import ImageRef, model_image
from aimsource.domain.selection.compact_sequences import ComparedAsTuple
from aimsource.domain.selection.decisions import image_ref
from aimsource.domain.selection.prefixed_tags import compact_listing, split_key, unseen_tags
from aimsource.domain.selection.selectors import SelectorOutcome

LIMIT_REASON = "maxModels limit reached"


@dataclass(frozen=True)
class ExistingModel:
    name: str
    image: str
    """canonical_image(spec.image)"""
    source: str | None
    """The value of the label SOURCE_LABEL (domain.resources), if any."""
    digest: str | None = None
    """The annotation DIGEST_ANNOTATION (what the tag pointed at when the model was
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
    not_created: Sequence[NotCreated]
    """A tuple, or as planned a `NotCreatedList` (which builds its capped entries when read)."""
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
        if isinstance(self.not_created, NotCreatedList):
            return self.not_created.capped
        return sum(1 for n in self.not_created if n.capped)


def candidate_for(ref: ImageRef, *, selector_index: int, selector: str) -> Candidate:
    return Candidate(ref=ref, selector_index=selector_index, selector=selector)


def _candidate(ref: ImageRef, key: str, selector_index: int, selector: str) -> Candidate:
    """`candidate_for` with the key already known, without the frozen dataclass's per-field
    object.__setattr__: planning makes one per selected image, tens of thousands for a broad one."""
    candidate = object.__new__(Candidate)
    candidate.__dict__.update(ref=ref, selector_index=selector_index, selector=selector, key=key)
    return candidate


def _capped(candidate: Candidate, reason: str) -> NotCreated:
    """NotCreated(candidate, reason) (kind LIMITED, the class defaults), built as `_candidate` is."""
    entry = object.__new__(NotCreated)
    entry.__dict__.update(candidate=candidate, reason=reason)
    return entry


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


# A selected image without a model yet, before it is a Candidate: (key, reference or None, tag,
# which queue). Candidates are made only for the images a sync may create; the others, often tens
# of thousands, stay tags or tuples until someone reads them (see `NotCreatedList`).
_Entry = tuple[str, ImageRef | None, str, int]


class _Queue:
    """One selector's images that have no model yet, newest first: its round-robin queue.

    `waiting` holds either `_Entry` tuples or, for a compact listing (`Decisions`), just the tags:
    the entry of a tag is then made when the planner or a reader reaches it."""

    __slots__ = ("number", "prefix", "repository", "selector", "selector_index", "tags_only", "waiting")

    def __init__(
        self, repository: ImageRef, selector_index: int, selector: str, number: int, prefix: str
    ) -> None:
        self.repository = repository
        self.selector_index = selector_index
        self.selector = selector
        self.number = number
        self.prefix = prefix
        self.waiting: Sequence[str] | list[_Entry] = []
        self.tags_only = False

    def entry(self, position: int) -> _Entry:
        if self.tags_only:
            tag: str = self.waiting[position]  # type: ignore[assignment]  # tags_only: a tag
            return (self.prefix + tag, None, tag, self.number)
        return self.waiting[position]  # type: ignore[return-value]  # not tags_only: an entry

    def candidate(self, entry: _Entry) -> Candidate:
        key, ref, tag, _ = entry
        return _candidate(ref or image_ref(self.repository, tag), key, self.selector_index, self.selector)


def _round_robin(queues: Sequence[_Queue]) -> Iterator[_Entry]:
    """First of each queue in order, then the second of each, and so on."""
    active = [q for q in queues if q.waiting]
    position = 0
    while active:
        for queue in active:
            yield queue.entry(position)
        position += 1
        active = [q for q in active if position < len(q.waiting)]


class NotCreatedList(ComparedAsTuple[NotCreated]):
    """`Plan.not_created` as planned: the name conflicts, then every image left out by
    `maxModels`, made into `NotCreated` entries only when read.

    The images left out are the round-robin order of the queues past its first `skip` entries,
    worked out on first read: a sync that only counts them (its status) never does.
    Compares equal to the tuple of its entries; adding a sequence to it gives that tuple.
    """

    __slots__ = ("_capped", "_conflicts", "_entries", "_queues", "_reason", "_skip")

    def __init__(
        self, conflicts: Sequence[NotCreated], queues: Sequence[_Queue], skip: int, capped: int, reason: str
    ) -> None:
        self._conflicts = tuple(conflicts)
        self._queues = queues
        self._skip = skip
        self._capped = capped
        self._entries: list[_Entry] | None = None
        self._reason = reason

    @property
    def capped(self) -> int:
        return self._capped

    @property
    def uncapped(self) -> tuple[NotCreated, ...]:
        """The entries that are not `maxModels`' doing."""
        return self._conflicts

    def _left_out(self) -> list[_Entry]:
        if self._entries is None:
            self._entries = list(islice(_round_robin(self._queues), self._skip, None))
        return self._entries

    def __len__(self) -> int:
        return len(self._conflicts) + self._capped

    @overload
    def __getitem__(self, index: int) -> NotCreated: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[NotCreated, ...]: ...
    def __getitem__(self, index: int | slice) -> NotCreated | tuple[NotCreated, ...]:
        if isinstance(index, slice):
            return tuple(self)[index]
        if index < 0:
            index += len(self)
        if 0 <= index < len(self._conflicts):
            return self._conflicts[index]
        if index < 0:
            raise IndexError(index)
        return self._capped_entry(self._left_out()[index - len(self._conflicts)])

    def __iter__(self) -> Iterator[NotCreated]:
        yield from self._conflicts
        if self._capped:
            yield from map(self._capped_entry, self._left_out())

    def _capped_entry(self, entry: _Entry) -> NotCreated:
        return _capped(self._queues[entry[3]].candidate(entry), self._reason)

    def __add__(self, other: Sequence[NotCreated]) -> tuple[NotCreated, ...]:
        return (*self, *other)

    def __radd__(self, other: Sequence[NotCreated]) -> tuple[NotCreated, ...]:
        return (*other, *self)

    def __repr__(self) -> str:  # a plan must not print 100,000 entries
        return f"<{len(self._conflicts)} conflicts, {self._capped} capped>"


def uncapped(not_created: Sequence[NotCreated]) -> Sequence[NotCreated]:
    """The entries of `not_created` that are not `maxModels`' doing, without reading the others."""
    if isinstance(not_created, NotCreatedList):
        return not_created.uncapped
    return [n for n in not_created if n.kind != LIMITED]


def _queued(outcomes: Sequence[SelectorOutcome]) -> Iterator[SelectorOutcome]:
    """The outcomes that get a round-robin queue each, in spec order: a wildcard's repositories
    (its parts, in name order) each get their own, so that every model family gets its newest
    version before any family gets a second."""
    for outcome in sorted(outcomes, key=lambda o: o.selector.index):
        if outcome.parts and outcome.failed is None:
            yield from outcome.parts
        else:
            yield outcome


def plan_sync(
    outcomes: Sequence[SelectorOutcome],
    *,
    source_name: str,
    existing_by_image: Mapping[str, ExistingModel],
    owned: int,
    max_models: int,
) -> Plan:
    """Decide what one sync creates. Outcomes that failed contribute nothing.

    Images are compared by key, `registry/repository:tag`, split at its last ":" into the prefix
    `registry/repository:` and the tag. A compact listing (`Decisions`) gives its selected tags
    and one prefix: when the tags have no ":" (valid tags never do) prefix + tag splits back into
    them, so its tags are compared per prefix, as sets, without making a key per tag."""
    seen: dict[str, set[str] | Sequence[str]] = {}
    """Per prefix, the tags already counted for an earlier selector (a set once it is searched)."""
    existing_tags: dict[str, dict[str, ExistingModel]] = {}
    for key, model in existing_by_image.items():
        prefix, tag = split_key(key)
        existing_tags.setdefault(prefix, {})[tag] = model
    existing: list[Candidate] = []
    foreign = 0
    available = 0
    queues: list[_Queue] = []
    for outcome in _queued(outcomes):
        ref = outcome.selector.ref
        if outcome.failed is not None or ref is None:
            continue
        queue = _Queue(ref, outcome.selector.index, outcome.selector.written, len(queues), "")
        queues.append(queue)
        listing = compact_listing(outcome)
        if listing is not None:
            prefix, tags = listing
            fresh = unseen_tags(seen, prefix, tags)
            available += len(fresh)
            have = existing_tags.get(prefix, {})
            present = [tag for tag in fresh if tag in have] if have else []
            queue.prefix = prefix
            queue.tags_only = True
            queue.waiting = [tag for tag in fresh if tag not in have] if present else fresh
            for tag in present:
                existing.append(queue.candidate((prefix + tag, None, tag, queue.number)))
                foreign += have[tag].source != source_name
            continue
        entries: list[_Entry] = []
        for key, image, tag in outcome.selected_entries():
            prefix, rest = split_key(key)
            if rest in unseen_tags(seen, prefix, (rest,)):
                available += 1
                found = existing_tags.get(prefix, {}).get(rest)
                if found is None:
                    entries.append((key, image, tag, queue.number))
                    continue
                existing.append(queue.candidate((key, image, tag, queue.number)))
                foreign += found.source != source_name
        queue.waiting = entries

    taken_names = {model.name: model.image for model in existing_by_image.values()}
    budget = max(0, max_models - owned)
    to_create: list[Candidate] = []
    conflicts: list[NotCreated] = []
    waiting = sum(len(q.waiting) for q in queues)
    taken = 0
    order = _round_robin(queues)
    while taken < waiting and len(to_create) < budget:
        entry = next(order)
        taken += 1
        candidate = queues[entry[3]].candidate(entry)
        holder = taken_names.get(candidate.name)
        if holder is not None:
            conflicts.append(name_conflict(candidate, holder))
        else:
            to_create.append(candidate)
            taken_names[candidate.name] = candidate.key
    capped = waiting - taken

    return Plan(
        to_create=tuple(to_create),
        existing=tuple(existing),
        not_created=NotCreatedList(conflicts, queues, taken, capped, f"{LIMIT_REASON} ({max_models})"),
        available=available,
        owned_before=owned,
        foreign=foreign,
        limit_reached=bool(capped),
    )
