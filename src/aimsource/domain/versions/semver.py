"""SemVer 2.0 versions read from image tags, ordered by SemVer precedence.

A tag is a version only when it is exactly SemVer 2.0 (`MAJOR.MINOR.PATCH[-pre][+build]`), with an
optional leading lower-case `v` because many registries tag `v1.2.3`. Everything else (`latest`,
`1.2`, `2024.01`, `01.2.3`) is *not* a version: `parse_version` returns None instead of guessing, so
that the selection can count such tags as skipped rather than mis-order them.

Ordering is SemVer precedence (section 11 of semver.org): numeric identifiers compare as numbers and
sort below alphanumeric ones, a pre-release sorts below its release, build metadata is ignored.
Equality (`==`) stays the dataclass's field-by-field equality, so `1.0.0+a` and `1.0.0+b` — two
different tags — are not equal although neither sorts before the other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import add, itemgetter, mul

# The regular expression suggested by semver.org, restricted to ASCII digits ("\d" would also
# accept other scripts' digits) and matched with fullmatch (so a trailing newline is not accepted).
_NUM = r"0|[1-9][0-9]*"
_PRE_ID = r"0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*"
_BUILD_ID = r"[0-9A-Za-z-]+"
_SEMVER = re.compile(
    rf"v?(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>(?:{_PRE_ID})(?:\.(?:{_PRE_ID}))*))?"
    rf"(?:\+(?P<build>{_BUILD_ID}(?:\.{_BUILD_ID})*))?"
)
_ALNUM_ID = re.compile(r"[0-9A-Za-z-]+")
# The common case, a plain release (`1.2.3`, `v1.2.3`): one cheap match, no groups to split, and
# nothing to validate, so a listing of tens of thousands of tags is read in microseconds per tag.
_PLAIN = re.compile(r"v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
# The same test for many tags at once, one per line of their join: every line matches exactly once,
# a plain release with its three numbers, any other line (through `.*`) with three empty groups.
_PLAIN_LINES = re.compile(r"^(?:v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)|.*)$", re.MULTILINE)
_BATCH = 4096  # tags per join: bounds the transient strings and tuples of a 100,000-tag listing
_MAX_PLAIN = 64  # a plain release at least this long is left to `parse_version` (see below)
# The numbers of most versions: a dictionary look-up is several times cheaper than int() of a string.
_SMALL_NUMBERS = {str(n): n for n in range(1000)}

# A sort key: (major, minor, patch, pre) where `pre` is (1,) for a release — above every
# pre-release — and (0, ids...) for a pre-release; a numeric id is (0, n, "") and an alphanumeric
# one (1, 0, s) so numbers sort below words, and a shorter list of equal ids sorts first.
_PreId = tuple[int, int, str]
_Key = tuple[int, int, int, tuple[int, tuple[_PreId, ...]]]
_RELEASE: tuple[int, tuple[_PreId, ...]] = (1, ())
VersionKey = _Key


@dataclass(frozen=True)
class Version:
    """A SemVer 2.0 version; `<`, `<=`, `>`, `>=` follow SemVer precedence (build ignored)."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[int | str, ...] = ()
    build: tuple[str, ...] = ()
    _key: _Key = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Reject values that could never come from a tag: they would sort wrongly (a digit-only
        # string id would compare as text) and print as something that does not parse back.
        if self.major < 0 or self.minor < 0 or self.patch < 0:
            raise ValueError(f"negative number in version {self.major}.{self.minor}.{self.patch}")
        for ident in self.prerelease:
            if isinstance(ident, int):
                if ident < 0:
                    raise ValueError(f"negative pre-release identifier {ident}")
            elif not _ALNUM_ID.fullmatch(ident) or ident.isdigit():
                raise ValueError(f"invalid pre-release identifier {ident!r}")
        for ident in self.build:
            if not _ALNUM_ID.fullmatch(ident):
                raise ValueError(f"invalid build identifier {ident!r}")
        pre = (
            _RELEASE
            if not self.prerelease
            else (0, tuple((0, i, "") if isinstance(i, int) else (1, 0, i) for i in self.prerelease))
        )
        object.__setattr__(self, "_key", (self.major, self.minor, self.patch, pre))

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(i) for i in self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    def __lt__(self, other: Version) -> bool:
        return self._key < other._key

    def __le__(self, other: Version) -> bool:
        return self._key <= other._key

    def __gt__(self, other: Version) -> bool:
        return self._key > other._key

    def __ge__(self, other: Version) -> bool:
        return self._key >= other._key

    def same_precedence(self, other: Version) -> bool:
        """True when neither sorts before the other (they differ at most in build metadata)."""
        return self._key == other._key


def plain_release_key(tag: str) -> VersionKey | None:
    """`version_key` of a plain release tag (`1.2.3`, `v1.2.3`, short); None for any other tag,
    version or not. Such a tag is also a valid tag and no signature tag."""
    plain = _PLAIN.fullmatch(tag)
    if plain is None or len(tag) >= 64:
        return None
    return (int(plain[1]), int(plain[2]), int(plain[3]), _RELEASE)


def plain_release_keys(tags: Sequence[str]) -> list[VersionKey | None]:
    """`[plain_release_key(tag) for tag in tags]`, at a fraction of the cost for a long listing.

    One regular-expression scan per batch of tags instead of one match per tag, and the numbers
    converted by C-level `map`s when the whole batch is plain releases (the usual listing)."""
    keys: list[VersionKey | None] = []
    for start in range(0, len(tags), _BATCH):
        batch = tags[start : start + _BATCH]
        text = "\n".join(batch)
        found = _PLAIN_LINES.findall(text)
        if (
            len(found) != len(batch)
            or text.count("\n") != len(batch) - 1
            or max(map(len, batch)) >= _MAX_PLAIN
        ):
            # A tag with a line break or a long one: rare enough to take one at a time.
            keys.extend(map(plain_release_key, batch))
        elif all(map(itemgetter(0), found)):
            major, minor, patch = (_numbers(list(map(itemgetter(i), found))) for i in range(3))
            keys.extend(zip(major, minor, patch, repeat(_RELEASE)))
        else:
            keys.extend(
                (int(major), int(minor), int(patch), _RELEASE) if major else None
                for major, minor, patch in found
            )
    return keys


def newest_first_plain(tags: Sequence[str]) -> list[str] | None:
    """`tags` newest first, when every tag is a canonical release `MAJOR.MINOR.PATCH` (no `v`)
    with numbers below 1000, the usual listing; None when any is not.

    Such tags name distinct versions, so the order has no ties to break by name. Each tag is
    checked by splitting the batch's join at "." and looking every part up among the canonical
    numbers, and ordered by one integer: no regular expression, no tuple per tag."""
    keys: list[int] = []
    for start in range(0, len(tags), _BATCH):
        batch = tags[start : start + _BATCH]
        if set(map(str.count, batch, repeat("."))) != {2}:  # two dots in every tag
            return None
        try:
            numbers = list(map(_SMALL_NUMBERS.__getitem__, ".".join(batch).split(".")))
        except KeyError:  # a part that is not a canonical number below 1000
            return None
        major, minor, patch = numbers[0::3], numbers[1::3], numbers[2::3]
        keys += map(add, map(mul, major, repeat(1_000_000)), map(add, map(mul, minor, repeat(1000)), patch))
    return list(map(itemgetter(1), sorted(zip(keys, tags, strict=True), key=itemgetter(0), reverse=True)))


def _numbers(texts: list[str]) -> list[int]:
    """`[int(text) for text in texts]` of digit strings without leading zeros."""
    try:
        return list(map(_SMALL_NUMBERS.__getitem__, texts))
    except KeyError:  # some number of 1000 or more
        return list(map(int, texts))


def version_key(tag: str) -> VersionKey | None:
    """The precedence sort key of the version `tag` names (None when it names none); keys compare
    as the versions do. Cheaper than `parse_version` for plain releases: no object is built."""
    key = plain_release_key(tag)
    if key is not None:
        return key
    version = parse_version(tag)
    return None if version is None else version._key


def parse_version(tag: str) -> Version | None:
    """The version a tag names, or None when the tag is not SemVer 2.0 (with an optional `v`)."""
    plain = _PLAIN.fullmatch(tag)
    if plain is not None and len(tag) < 64:  # short: int() of its numbers cannot fail
        major, minor, patch = int(plain[1]), int(plain[2]), int(plain[3])
        # The regular expression has validated what __post_init__ would: fill the fields directly.
        version = object.__new__(Version)
        version.__dict__.update(
            major=major, minor=minor, patch=patch, prerelease=(), build=(),
            _key=(major, minor, patch, _RELEASE),
        )  # fmt: skip
        return version
    match = _SEMVER.fullmatch(tag)
    if match is None:
        return None
    try:
        pre = match["pre"]
        prerelease = tuple(int(i) if i.isdigit() else i for i in pre.split(".")) if pre else ()
        build = tuple(match["build"].split(".")) if match["build"] else ()
        return Version(int(match["major"]), int(match["minor"]), int(match["patch"]), prerelease, build)
    except ValueError:
        # Only reachable for numbers too long for int() (Python's 4300-digit guard): not a tag
        # anyone pushes, and "not a version" is the honest answer for it.
        return None
