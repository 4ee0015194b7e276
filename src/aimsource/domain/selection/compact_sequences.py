"""Sequences that a sync keeps compactly and that compare as the tuples they stand for.

`Decisions` (a listing's decisions) and `NotCreatedList` (the images a plan leaves out) hold tens
of thousands of entries as tags and codes and build an entry only when it is read. Whoever compares
them (a test, a status comparison) must not see the difference: both are equal to any sequence of
equal entries and hash as the tuple of their entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class ComparedAsTuple(Sequence[T]):
    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))
