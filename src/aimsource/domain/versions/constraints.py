"""Version constraints: the npm range grammar, with plain SemVer precedence for pre-releases.

A constraint string is parsed once, when it is built, into alternatives (`||`) of comparator sets
(spaces or commas mean AND); `admits` then only compares versions. A string that does not parse
raises `InvalidConstraintError` naming it — never a silently dropped constraint, which is how the
reference implementation loses users' filters.

Grammar and meaning (npm's, see https://github.com/npm/node-semver#ranges), with our choices:

- comparators `=`, `>`, `>=`, `<`, `<=`; a bare version means `=`; whitespace may follow an operator
  (`>= 1.0.0`); versions may carry a leading lower-case `v` (`>=v1.0.0`).
- `~1.2.3` is `>=1.2.3 <1.3.0-0`, `~1.2` the same from 1.2.0, `~1` is `>=1.0.0 <2.0.0-0`.
- `^1.2.3` is `>=1.2.3 <2.0.0-0`; `^0.8.0` is `>=0.8.0 <0.9.0-0`; `^0.0.3` is `>=0.0.3 <0.0.4-0`.
- a partial version is an x-range: `1`, `1.x`, `1.*` mean `>=1.0.0 <2.0.0-0`; `*`, `x` mean any
  version. Wildcards only at the end (`1.x.3` is an error), pre-release and build only on a full
  `MAJOR.MINOR.PATCH` version.
- with an operator, a partial version is completed with zeros where that is its lower end:
  `>=0.9` is `>=0.9.0` and `<1.2` is `<1.2.0` (npm writes `<1.2.0-0`; with plain precedence that
  would also drop 1.2.0's pre-releases, which zero-completion keeps). Where the operator points at
  the upper end the whole x-range is taken, as npm does: `<=1.2` is `<1.3.0-0`, `>1.2` is
  `>=1.3.0-0` (npm: `>=1.3.0`; plain precedence puts 1.3.0-rc1 above every 1.2.x).
- hyphen ranges `A - B` (spaces around the dash) are `>=A <=B`; a partial `B` takes its x-range:
  `1.0 - 2.0` is `>=1.0.0 <2.1.0-0`. `1.0.0-2.0.0` without spaces is a version with a pre-release,
  as in npm.
- rejected rather than guessed: an empty string or empty alternative, `~>` (Ruby's operator, whose
  meaning differs from `~`), `==`, `!=`, operators without a version, four-part versions, leading
  zeros, and `>*` / `<*` (which no version satisfies).

Pre-releases are NOT treated as npm treats them (only admitted by a comparator on the same
`MAJOR.MINOR.PATCH`): every comparison is plain SemVer precedence, as in the reference
implementation. So `>=0.8.0` admits `0.8.1-rc1` but not `0.8.0-rc1`, and `<1.0.0` admits
`1.0.0-rc1` (it sorts below 1.0.0); write `<1.0.0-0` to keep 1.0.0's pre-releases out. Upper bounds
that the grammar produces (`~`, `^`, x-ranges) end at `-0`, the lowest pre-release, so `^1.2.3`
never admits `2.0.0-rc1`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from aimsource.domain.errors import InvalidConstraintError
from aimsource.domain.references import is_valid_tag
from aimsource.domain.versions.semver import Version, parse_version

Op = Literal["=", "<", "<=", ">", ">="]

# Words are anything that is not a separator or an operator, so that junk such as "1.0.0@x" gets
# a "not a version" message; "!" and a lone "|" are reported as unexpected characters.
_TOKEN = re.compile(
    r"(?P<or>\|\|)|(?P<comma>,)|(?P<op>>=|<=|>|<|=|~|\^)"
    r"|(?P<word>[^\s,|<>=~^!]+)|(?P<space>\s+)|(?P<bad>.)",
    re.DOTALL,
)
_NUMBER = re.compile(r"0|[1-9][0-9]*")
# One exact version, optionally after "=" (spaces allowed around it, as the tokenizer allows): the
# group is the version as written, which parse_constraint has already checked to be full SemVer.
_EXACT = re.compile(r"\s*=?\s*(v?[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)\s*")
_WILDCARDS = frozenset({"x", "X", "*"})


@dataclass(frozen=True)
class Comparator:
    """One primitive comparison against a full version, by plain SemVer precedence."""

    op: Op
    version: Version

    def admits(self, version: Version) -> bool:
        if self.op == ">=":
            return version >= self.version
        if self.op == "<":
            return version < self.version
        if self.op == ">":
            return version > self.version
        if self.op == "<=":
            return version <= self.version
        return version.same_precedence(self.version)

    def __str__(self) -> str:
        return f"{self.op}{self.version}"


_Alternative = tuple[Comparator, ...]  # AND of comparators; empty means any version


@dataclass(frozen=True)
class Constraint:
    """One constraint string as the user wrote it; building it parses it (or raises)."""

    text: str
    _alternatives: tuple[_Alternative, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            alternatives = _parse(self.text)
        except _Problem as problem:
            raise InvalidConstraintError(
                f"invalid version constraint {_quote(self.text)}: {problem}"
            ) from problem
        object.__setattr__(self, "_alternatives", alternatives)

    @property
    def exact_tag(self) -> str | None:
        """The tag this constraint names when it is one exact version (`1.0.0`, `=1.1.0`,
        `v2.0.0`, `= 1.2.3-rc1`): the version as written, without `=`. None for anything else:
        partial versions (`1.0`), ranges, and versions with build metadata or over 128 characters,
        which no tag can be (`+` is not a tag character)."""
        match = _EXACT.fullmatch(self.text)
        if match is None or "+" in match[1] or not is_valid_tag(match[1]):
            return None
        return match[1]

    @property
    def alternatives(self) -> tuple[tuple[Comparator, ...], ...]:
        """The parsed form: OR of AND-sets of comparators (an empty set admits every version)."""
        return self._alternatives

    @property
    def normalized(self) -> str:
        """The desugared form, e.g. `>=1.2.0 <1.3.0-0` for `~1.2`; `*` for any version."""
        return " || ".join(" ".join(str(c) for c in alt) or "*" for alt in self._alternatives)

    def admits(self, version: Version) -> bool:
        return any(all(c.admits(version) for c in alt) for alt in self._alternatives)

    def __str__(self) -> str:
        return self.text


def parse_constraint(text: str) -> Constraint:
    """Parse one constraint string; raises InvalidConstraintError naming it when it does not parse."""
    return Constraint(text)


@dataclass(frozen=True)
class Constraints:
    """A list of constraint strings: a version must satisfy all of them (none: any version).

    A list made only of exact versions (`["1.0.0", "=1.1.0"]`) means any of them instead, as AMD's
    newer operator reads it: `named_tags` are then the tags it names, and a sync checks each with
    one manifest HEAD instead of listing the repository. Read as AND, such a list of two versions
    would select nothing.
    """

    items: tuple[Constraint, ...]
    named_tags: tuple[str, ...] | None = field(init=False, compare=False)
    """The distinct tags of an exact-version list, in list order; None for any other list."""

    def __post_init__(self) -> None:
        tags = [c.exact_tag for c in self.items]
        named = tuple(dict.fromkeys(t for t in tags if t is not None))
        exact = bool(tags) and len(named) > 0 and None not in tags
        object.__setattr__(self, "named_tags", named if exact else None)

    def admits(self, version: Version) -> bool:
        if self.named_tags is not None:  # by precedence; `admits_tag` is the exact, per-tag test
            return any(c.admits(version) for c in self.items)
        return all(c.admits(version) for c in self.items)

    def admits_tag(self, tag: str, version: Version) -> bool:
        """Whether the tag (whose version is `version`) is selected: for an exact-version list,
        only the tags it names, as written (`1.0.0` names neither `v1.0.0` nor `1.0.0+b`)."""
        if self.named_tags is not None:
            return tag in self.named_tags
        return self.admits(version)

    def __str__(self) -> str:
        return ", ".join(c.text for c in self.items)


def parse_constraints(texts: Sequence[str]) -> Constraints:
    """Parse every string; the first that does not parse raises InvalidConstraintError naming it."""
    if isinstance(texts, str):  # a str is a Sequence[str] too: one character per "constraint"
        raise TypeError("parse_constraints expects a list of constraint strings, not one string")
    return Constraints(tuple(parse_constraint(text) for text in texts))


# --- parsing -----------------------------------------------------------------------------------


class _Problem(Exception):
    """Why a constraint does not parse; becomes the tail of the InvalidConstraintError message."""


def _quote(text: str) -> str:
    # JSON quoting is the string as written for every ordinary constraint, and keeps a message on
    # one line (newlines, quotes escaped) when the input is not ordinary.
    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True)
class _Token:
    kind: Literal["or", "comma", "op", "word"]
    text: str


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "bad":
            hint = ' (use "||" for OR)' if match.group() == "|" else ""
            raise _Problem(f"unexpected {_quote(match.group())}{hint}")
        if kind in ("or", "comma", "op", "word"):
            tokens.append(_Token(kind, match.group()))  # type: ignore[arg-type]
    return tokens


def _split(tokens: list[_Token], kind: str) -> list[list[_Token]]:
    parts: list[list[_Token]] = [[]]
    for token in tokens:
        if token.kind == kind:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _parse(text: str) -> tuple[_Alternative, ...]:
    tokens = _tokenize(text)
    if not tokens:
        raise _Problem("empty constraint")
    alternatives = []
    for alternative in _split(tokens, "or"):
        if not alternative:
            raise _Problem('empty alternative next to "||"')
        comparators: list[Comparator] = []
        for group in _split(alternative, "comma"):
            if not group:
                raise _Problem('nothing between commas (a stray ",")')
            comparators.extend(_parse_group(group))
        alternatives.append(tuple(comparators))
    return tuple(alternatives)


def _parse_group(group: list[_Token]) -> list[Comparator]:
    """Comparators, hyphen ranges and bare versions separated by spaces (all ANDed)."""
    comparators: list[Comparator] = []
    i = 0
    while i < len(group):
        token = group[i]
        following = group[i + 1] if i + 1 < len(group) else None
        if token.kind == "op":
            if token.text == "~" and following is not None and following.text.startswith(">"):
                raise _Problem('"~>" is not supported: use "~" (patch updates) or "^" (minor updates)')
            if following is None or following.kind != "word" or following.text == "-":
                raise _Problem(f"expected a version after {_quote(token.text)}")
            comparators.extend(_desugar(token.text, _Partial.parse(following.text)))
            i += 2
        elif token.text == "-":
            raise _Problem('"-" must stand between two versions (a hyphen range "1.0.0 - 2.0.0")')
        elif following is not None and following.text == "-":
            upper = group[i + 2] if i + 2 < len(group) else None
            if upper is None or upper.kind != "word" or upper.text == "-":
                raise _Problem(f"hyphen range from {_quote(token.text)} needs a version after the dash")
            comparators.extend(_hyphen(_Partial.parse(token.text), _Partial.parse(upper.text)))
            i += 3
        else:
            comparators.extend(_desugar("=", _Partial.parse(token.text)))
            i += 1
    return comparators


@dataclass(frozen=True)
class _Partial:
    """A version in a constraint: 0 to 3 numbers, the rest wildcards (an x-range)."""

    numbers: tuple[int, ...]
    full: Version | None  # set when all three numbers are given (with pre-release and build)

    @staticmethod
    def parse(word: str) -> _Partial:
        def problem(why: str) -> _Problem:
            return _Problem(f"{_quote(word)} is not a version ({why})")

        text = word[1:] if word[:1] == "v" and word[1:2].isdigit() else word
        core, plus, _build = text.partition("+")
        core, dash, _pre = core.partition("-")
        parts = core.split(".")
        if len(parts) > 3:
            raise problem("more than MAJOR.MINOR.PATCH")
        numbers: list[int] = []
        for position, part in enumerate(parts):
            if part in _WILDCARDS:
                if any(rest not in _WILDCARDS for rest in parts[position + 1 :]):
                    raise problem("only wildcards may follow a wildcard")
                break
            if not _NUMBER.fullmatch(part):
                why = "leading zero" if part.isdigit() else "expected numbers such as 1.2.3, or x / *"
                raise problem(why)
            try:
                numbers.append(int(part))
            except ValueError as exc:  # beyond Python's int() digit limit: no real tag has such a number
                raise problem("number too long") from exc
        if len(numbers) < 3:
            if plus or dash:
                raise problem("a pre-release or build needs a full MAJOR.MINOR.PATCH version")
            return _Partial(tuple(numbers), None)
        full = parse_version(text)
        if full is None:
            raise problem("invalid pre-release or build identifier")
        return _Partial(tuple(numbers), full)

    @property
    def any(self) -> bool:
        return not self.numbers

    def floor(self) -> Version:
        """The lowest version of the x-range: missing numbers are zeros."""
        if self.full is not None:
            return self.full
        major, minor, patch = (*self.numbers, 0, 0, 0)[:3]
        return Version(major, minor, patch)

    def ceiling(self) -> Version:
        """For a partial version, the lowest version above its x-range (npm's `-0` bound)."""
        if len(self.numbers) == 1:
            return _lowest(self.numbers[0] + 1, 0, 0)
        return _lowest(self.numbers[0], self.numbers[1] + 1, 0)


def _lowest(major: int, minor: int, patch: int) -> Version:
    """`M.m.p-0`: the lowest pre-release, below every other version of M.m.p."""
    return Version(major, minor, patch, (0,))


def _desugar(op: str, partial: _Partial) -> tuple[Comparator, ...]:
    if partial.any:
        if op in (">", "<"):
            raise _Problem(f'"{op}" with a wildcard matches no version')
        return ()  # =*, >=*, <=*, ~*, ^*: any version
    floor = partial.floor()
    if op == ">=":
        return (Comparator(">=", floor),)
    if op == "<":
        return (Comparator("<", floor),)
    if op == "~":
        bound = (
            _lowest(floor.major + 1, 0, 0)
            if len(partial.numbers) == 1
            else _lowest(floor.major, floor.minor + 1, 0)
        )
        return (Comparator(">=", floor), Comparator("<", bound))
    if op == "^":
        return (Comparator(">=", floor), Comparator("<", _caret_ceiling(partial.numbers)))
    if partial.full is not None:  # =, >, <= on a full version compare against it
        return (Comparator("=" if op == "=" else ">" if op == ">" else "<=", partial.full),)
    ceiling = partial.ceiling()
    if op == ">":
        return (Comparator(">=", ceiling),)
    if op == "<=":
        return (Comparator("<", ceiling),)
    return (Comparator(">=", floor), Comparator("<", ceiling))  # "=": the x-range


def _caret_ceiling(numbers: tuple[int, ...]) -> Version:
    """`^` allows changes that do not modify the left-most non-zero number given (npm)."""
    major, *rest = numbers
    if major > 0 or not rest:
        return _lowest(major + 1, 0, 0)
    minor = rest[0]
    if minor > 0 or len(rest) == 1:
        return _lowest(0, minor + 1, 0)
    return _lowest(0, 0, rest[1] + 1)


def _hyphen(lower: _Partial, upper: _Partial) -> tuple[Comparator, ...]:
    low = () if lower.any else (Comparator(">=", lower.floor()),)
    if upper.any:
        return low
    if upper.full is not None:
        return (*low, Comparator("<=", upper.full))
    return (*low, Comparator("<", upper.ceiling()))
