"""Tag decisions: what a selector decided about each listed tag, and the compact form a sync keeps.

A `TagDecision` is what `aimsource preview` prints per tag. A sync keeps `Decisions` instead: the
tags and one decision code each, with the reasons written once per selector (`decide_listing` in
selection.py makes them); a `TagDecision` is built only when one is read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, overload

from aimsource.domain.references import ImageRef
from aimsource.domain.selection.compact_sequences import ComparedAsTuple
from aimsource.domain.versions.near_misses import explain_not_version
from aimsource.domain.versions.semver import Version, parse_version

Decision = Literal["selected", "not-a-version", "out-of-range", "signature", "excluded", "not-found"]


@dataclass(frozen=True)
class TagDecision:
    image: ImageRef
    decision: Decision
    reason: str
    version: Version | None


# Decision codes of the compact form (shared with decide_listing): "not-a-version" has two
# reasons, hence two codes.
SELECTED, OUT_OF_RANGE, INVALID_TAG, NOT_SEMVER, SIGNATURE, EXCLUDED, NOT_FOUND = range(7)
DECISIONS: tuple[Decision, ...] = (
    "selected", "out-of-range", "not-a-version", "not-a-version", "signature", "excluded", "not-found",
)  # fmt: skip


class Decisions(ComparedAsTuple[TagDecision]):
    """`decide_listing`'s answer: the decisions of one selector, in order, kept compactly.

    A listing can hold 100,000 tags. Keeping a `TagDecision` (with its image and version) per
    tag costs hundreds of bytes and microseconds each, for objects nobody reads in a sync: only the
    tag and a decision code are kept; a `TagDecision` is built when one is asked for.
    """

    __slots__ = ("_codes", "_reasons", "_ref", "_selected", "_tags")

    def __init__(self, ref: ImageRef, reasons: Sequence[str], tags: list[str], codes: bytes) -> None:
        self._ref = ref
        self._reasons = tuple(reasons)
        self._tags = tags
        self._codes = codes
        # Selected tags come first: the selection is a prefix.
        self._selected = len(codes) - len(codes.lstrip(bytes([SELECTED])))

    def __len__(self) -> int:
        return len(self._tags)

    @overload
    def __getitem__(self, index: int) -> TagDecision: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[TagDecision]: ...
    def __getitem__(self, index: int | slice) -> TagDecision | Sequence[TagDecision]:
        if isinstance(index, slice):
            return Decisions(self._ref, self._reasons, self._tags[index], self._codes[index])
        return self._decision(self._tags[index], self._codes[index])

    def __iter__(self) -> Iterator[TagDecision]:
        return map(self._decision, self._tags, self._codes)

    def __repr__(self) -> str:  # a dataclass holding this must not print 100,000 decisions
        return f"<{len(self)} decisions for {self._ref}, {self._selected} selected>"

    def _decision(self, tag: str, code: int) -> TagDecision:
        version = parse_version(tag) if code <= OUT_OF_RANGE else None
        return TagDecision(self._ref.with_tag(tag), DECISIONS[code], self._reason(tag, code), version)

    def _reason(self, tag: str, code: int) -> str:
        # A near-version's defects are worked out only here, when a reason is read (a preview
        # row), never while deciding: a sync reads no reasons.
        return explain_not_version(tag) if code == NOT_SEMVER else self._reasons[code]

    @property
    def selected(self) -> Decisions:
        end = self._selected
        return Decisions(self._ref, self._reasons, self._tags[:end], self._codes[:end])

    @property
    def repository(self) -> ImageRef:
        """The selector's reference; every decision's image is it with the decision's tag."""
        return self._ref

    def selected_tags(self) -> list[str]:
        return self._tags[: self._selected]

    def tally(self, *decisions: Decision) -> int:
        """How many decisions are any of `decisions` (not Sequence.count: that counts one value)."""
        return sum(self._codes.count(code) for code, d in enumerate(DECISIONS) if d in decisions)

    def rows(self) -> Iterator[tuple[str, Decision, str]]:
        """(image, decision, reason) of each decision, in order, without building decisions."""
        prefix = self._ref.key + ":"
        reasons = self._reasons
        for tag, code in zip(self._tags, self._codes, strict=True):
            reason = explain_not_version(tag) if code == NOT_SEMVER else reasons[code]
            yield prefix + tag, DECISIONS[code], reason

    def tags_with(self, decision: Decision) -> list[str]:
        """The tags whose decision is `decision`, in order."""
        codes = {code for code, d in enumerate(DECISIONS) if d == decision}
        if not any(code in self._codes for code in codes):  # a C-speed scan: the usual answer
            return []
        return [tag for tag, code in zip(self._tags, self._codes, strict=True) if code in codes]


def image_ref(repository: ImageRef, tag: str) -> ImageRef:
    """`repository.with_tag(tag)`, without the frozen dataclass's per-field object.__setattr__:
    planning makes one per image it reports, tens of thousands for a broad selector."""
    image = object.__new__(ImageRef)
    image.__dict__.update(registry=repository.registry, repository=repository.repository, tag=tag)
    return image
