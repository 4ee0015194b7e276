"""domain/selection/compact_sequences.py: a compact sequence compares and hashes as the tuple it
stands for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import overload

from aimsource.domain.selection.compact_sequences import ComparedAsTuple


class Squares(ComparedAsTuple[int]):
    """The squares of 0 .. n-1, made when read."""

    __slots__ = ("_n",)

    def __init__(self, n: int) -> None:
        self._n = n

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[int, ...]: ...
    def __getitem__(self, index: int | slice) -> int | tuple[int, ...]:
        if isinstance(index, slice):
            return tuple(self)[index]
        if not -self._n <= index < self._n:
            raise IndexError(index)
        return (index % self._n) ** 2

    def __iter__(self) -> Iterator[int]:
        return (i * i for i in range(self._n))


def test_equal_to_any_sequence_of_equal_items() -> None:
    assert Squares(4) == (0, 1, 4, 9)
    assert Squares(4) == [0, 1, 4, 9]
    assert Squares(4) == Squares(4)
    assert Squares(0) == ()


def test_unequal_to_other_items_other_lengths_strings_and_non_sequences() -> None:
    assert Squares(4) != (0, 1, 4, 10)
    assert Squares(4) != (0, 1, 4)
    assert Squares(3) != (0, 1, 4, 9)
    assert Squares(1) != "0"
    assert Squares(1) != {0}
    assert Squares(1) != 0


def test_hashed_as_its_tuple() -> None:
    assert hash(Squares(5)) == hash((0, 1, 4, 9, 16))
    assert {Squares(3): "found"}[(0, 1, 4)] == "found"


def test_no_instance_dictionary() -> None:
    assert not hasattr(Squares(1), "__dict__")
