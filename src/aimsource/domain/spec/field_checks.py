"""Reading untrusted values field by field, collecting every problem on the way.

`FieldChecker` checks a value's type and size against the limits it is given and records what is
wrong at the value's path (`spec.filters[2].image`), so that one pass over a manifest reports all
of its problems, not only the first. The messages name types as YAML/JSON does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    field: str
    reason: str


class FieldChecker:
    """Collects problems while reading values, so that one pass reports all of them."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, reason: str) -> None:
        self.problems.append(Problem(path, reason))

    def mapping(self, value: Any, path: str, known: frozenset[str] | None = None) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.add(path, f"must be a mapping, not {type_name(value)}")
            return None
        for key in value:
            if known is not None and key not in known:
                self.add(f"{path}.{key}", f"unknown field (expected one of: {', '.join(sorted(known))})")
        return value

    def string(self, value: Any, path: str, *, max_length: int, min_length: int = 1) -> str | None:
        if not isinstance(value, str):
            self.add(path, f"must be a string, not {type_name(value)}")
            return None
        if len(value) < min_length:
            self.add(path, "must not be empty")
            return None
        if len(value) > max_length:
            self.add(path, f"must be at most {max_length} characters long (is {len(value)})")
            return None
        return value

    def items(self, value: Any, path: str, *, max_items: int, min_items: int = 0) -> list[Any]:
        """The list at `path` (empty when absent or wrong), after checking its length."""
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            self.add(path, f"must be a list, not {type_name(value)}")
            return []
        if len(value) < min_items:
            self.add(path, f"must have at least {min_items} item{'s' if min_items > 1 else ''}")
        if len(value) > max_items:
            self.add(path, f"must have at most {max_items} items (has {len(value)})")
        return list(value)

    def strings(
        self, value: Any, path: str, *, max_items: int, max_length: int, min_items: int = 0
    ) -> tuple[str, ...]:
        texts = (
            self.string(item, f"{path}[{i}]", max_length=max_length)
            for i, item in enumerate(self.items(value, path, max_items=max_items, min_items=min_items))
        )
        return tuple(text for text in texts if text is not None)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def type_name(value: Any) -> str:
    """The YAML/JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    for kind, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string")):
        if isinstance(value, kind):
            return name
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list | tuple):
        return "list"
    return type(value).__name__


def show(value: Any) -> str:
    """A value for messages: scalars as written, containers by their type."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return repr(value)
    return type_name(value)
