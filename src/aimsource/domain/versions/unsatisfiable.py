"""Constraint lists that no version can ever satisfy (`>=2.0.0`, `<1.0.0`), found by interval arithmetic.

Each constraint is a union of intervals of versions (one per `||` alternative, the intersection of
its comparators); a list means the intersection of its constraints. The answer is *sound*: a list is
reported only when the intersection is provably empty. Where the arithmetic cannot see emptiness
(an open interval between neighbours, such as `>1.0.0 <1.0.1-0`, holds no version although it is
not empty as an interval) the list is not reported: a wrong "never satisfied" would be worse than
a missed one, since `check` would refuse a working manifest.

The lowest version there is, `0.0.0-0`, is the lower end of every interval, so `<0.0.0-0` is found
empty too. An exact-version list (`["1.0.0", "1.1.0"]`) means any of its versions and is never
empty.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import combinations

from aimsource.domain.versions.constraints import Comparator, Constraint, Constraints
from aimsource.domain.versions.semver import Version

_LOWEST = Version(0, 0, 0, (0,))
MAX_PIECES = 4096
"""Beyond this many intervals the arithmetic gives up (and reports nothing): hostile `||` chains
must not make `check` slow."""


@dataclass(frozen=True)
class _Interval:
    low: Version
    low_closed: bool
    high: Version | None  # None: no upper end
    high_closed: bool

    @property
    def empty(self) -> bool:
        if self.high is None:
            return False
        if self.low > self.high:
            return True
        return self.low.same_precedence(self.high) and not (self.low_closed and self.high_closed)

    def meet(self, other: _Interval) -> _Interval:
        """The intersection: the higher lower end and the lower upper end (at a tie, an open end
        wins, since the end version is then in only one of them)."""
        if other.low > self.low:
            low, low_closed = other.low, other.low_closed
        elif self.low > other.low:
            low, low_closed = self.low, self.low_closed
        else:
            low, low_closed = self.low, self.low_closed and other.low_closed
        if other.high is None:
            high, high_closed = self.high, self.high_closed
        elif self.high is None or other.high < self.high:
            high, high_closed = other.high, other.high_closed
        elif self.high < other.high:
            high, high_closed = self.high, self.high_closed
        else:
            high, high_closed = self.high, self.high_closed and other.high_closed
        return _Interval(low, low_closed, high, high_closed)


_EVERYTHING = _Interval(_LOWEST, True, None, False)


def _comparator(c: Comparator) -> _Interval:
    v = c.version
    if c.op == ">=":
        return _Interval(v, True, None, False)
    if c.op == ">":
        return _Interval(v, False, None, False)
    if c.op == "<":
        return _Interval(_LOWEST, True, v, False)
    if c.op == "<=":
        return _Interval(_LOWEST, True, v, True)
    return _Interval(v, True, v, True)


def _pieces(constraint: Constraint) -> list[_Interval]:
    """The non-empty intervals whose union is what the constraint admits."""
    found = []
    for alternative in constraint.alternatives:
        interval = _EVERYTHING
        for comparator in alternative:
            interval = interval.meet(_comparator(comparator))
        if not interval.empty:
            found.append(interval)
    return found


def _meet_all(constraints: tuple[Constraint, ...]) -> list[_Interval] | None:
    """The non-empty pieces of the intersection; None when there are too many to follow."""
    pieces = [_EVERYTHING]
    for constraint in constraints:
        theirs = _pieces(constraint)
        pieces = [m for a in pieces for b in theirs if not (m := a.meet(b)).empty]
        if len(pieces) > MAX_PIECES:
            return None
        if not pieces:
            break
    return pieces


def never_satisfied(constraints: Constraints) -> str | None:
    """Why no version can satisfy the list, naming the constraints that contradict each other;
    None when some version may satisfy it (or when that cannot be proven either way)."""
    if constraints.named_tags is not None:
        return None
    items = constraints.items
    whole = _meet_all(items)
    if whole is None or whole:
        return None
    for item in items:
        if _meet_all((item,)) == []:
            return f"{_quote(item)} admits no version"
    for pair in combinations(items, 2):
        if _meet_all(pair) == []:
            return f"no version satisfies both {_quote(pair[0])} and {_quote(pair[1])}"
    return "no version satisfies all of " + ", ".join(_quote(c) for c in items)


def _quote(constraint: Constraint) -> str:
    return json.dumps(constraint.text, ensure_ascii=False)
