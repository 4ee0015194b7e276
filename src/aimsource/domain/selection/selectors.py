"""Selectors: what each `images` entry or filter asks for, and which listed tags it keeps.

Each entry is parsed once into a `Selector`; a bad reference or constraint becomes that selector's
`error` (one bad entry must not sink the others, and a bad constraint is reported, never dropped
as the reference implementation does). `decide_tags` then gives every listed tag a decision with
a reason a person can read, which `aimsource preview` prints and the planner consumes: the
selected tags come first, newest version first, because the planner fills the `maxModels` budget
in that order.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING

from aimsource.domain.errors import InvalidConstraintError, InvalidReferenceError
from aimsource.domain.patterns import RepositoryPattern, excludes, is_pattern, parse_pattern
from aimsource.domain.references import DOCKER_HUB, ImageRef, is_valid_tag, parse_reference
from aimsource.domain.selection.decisions import (
    DECISIONS,
    EXCLUDED,
    INVALID_TAG,
    NOT_FOUND,
    NOT_SEMVER,
    OUT_OF_RANGE,
    SELECTED,
    SIGNATURE,
    Decision,
    Decisions,
    TagDecision,
)
from aimsource.domain.selection.listings import StaleListing
from aimsource.domain.spec.source import SourceSpec
from aimsource.domain.versions.semver import (
    VersionKey,
    newest_first_plain,
    parse_version,
    plain_release_keys,
    version_key,
)

if TYPE_CHECKING:  # the grammar itself is loaded by the first selector with versions (_build)
    from aimsource.domain.versions.constraints import Constraints

INVALID_REFERENCE = "InvalidReference"
INVALID_VERSION_CONSTRAINT = "InvalidVersionConstraint"

# Cosign and similar tools store signatures, attestations and SBOMs as tags next to the image;
# they are never models.
_SIGNATURE_PREFIXES = ("sha256-",)
_SIGNATURE_SUFFIXES = (".sig", ".att", ".sbom")


@dataclass(frozen=True)
class SelectorError:
    """Why a selector produced nothing; `reason` is a fixed word, `message` names what is wrong."""

    reason: str
    message: str


@dataclass(frozen=True)
class Selector:
    """One entry of `spec.images` or `spec.filters`, parsed."""

    index: int
    written: str
    ref: ImageRef | None
    constraints: Constraints | None
    """None keeps every tag; always None for pinned selectors (their versions are ignored)."""
    excluded: bool
    """A filter whose own repository is in its `exclude`: selects nothing, no registry call."""
    error: SelectorError | None
    pattern: RepositoryPattern | None = None
    """A wildcard filter (`org/aim-*`): `ref` is None until discovery names its repositories, each
    then a selector of its own (`for_repository`)."""
    exclude: tuple[str, ...] = ()
    """The filter's `exclude` entries, kept for the repositories a wildcard finds."""

    def for_repository(self, repository: str) -> Selector:
        """The selector of one repository a wildcard matched: same entry, constraints and exclude."""
        assert self.pattern is not None
        ref = ImageRef(self.pattern.registry, repository)
        return Selector(self.index, self.written, ref, self.constraints, is_excluded(ref, self.exclude), None)


@dataclass(frozen=True)
class Repositories:
    """What a wildcard's discovery found: repositories seen, matched by the pattern, excluded."""

    seen: int
    matched: int
    excluded: int
    truncated: bool = False
    """More repositories matched than a filter may take (`--max-repositories`)."""
    endpoint: str = ""
    """Where the repositories were listed (a catalog, Docker Hub's or GitHub's API), for messages."""


@dataclass(frozen=True)
class SelectorOutcome:
    """What the registry phase learned about one selector."""

    selector: Selector
    decisions: Sequence[TagDecision] = field(default=(), repr=False)
    """A tuple, or the compact `Decisions` of a sync (which does not print its 100,000 tags)."""
    listed: int = 0
    truncated: bool = False
    error: SelectorError | None = None
    reached_registry: bool = False
    stale: StaleListing | None = None
    """Set when the tags are a cached listing served because the registry failed just now."""
    parts: tuple[SelectorOutcome, ...] = ()
    """A wildcard's outcome per matched repository, in name order; its own decisions stay empty."""
    repositories: Repositories | None = None
    """Set for a wildcard whose discovery ran."""
    endpoint: str | None = None
    """The mirror (its URL, from the registries file) that served the listing; None: the registry."""

    @property
    def failed(self) -> SelectorError | None:
        """The error of this selector, whether found while building it or while syncing."""
        return self.selector.error or self.error

    @property
    def selected(self) -> Sequence[TagDecision]:
        if self.parts:
            return [d for part in self.parts for d in part.selected]
        if isinstance(self.decisions, Decisions):
            return self.decisions.selected
        return tuple(d for d in self.decisions if d.decision == "selected")

    def selected_entries(self) -> Iterator[tuple[str, ImageRef | None, str]]:
        """(canonical image, reference, tag) of each selected decision, in order. The reference is
        None when only the tag is kept: it is then `image_ref(self.selector.ref, tag)`."""
        if self.parts:
            return (entry for part in self.parts for entry in part.selected_entries())
        if isinstance(self.decisions, Decisions):
            prefix = self.decisions.repository.key + ":"
            return ((prefix + tag, None, tag) for tag in self.decisions.selected_tags())
        return ((str(d.image), d.image, d.image.tag or "") for d in self.selected)

    def selected_keys(self) -> Iterator[str]:
        """The canonical image (`registry/repository:tag`) of each selected decision."""
        if self.parts:
            return (key for part in self.parts for key in part.selected_keys())
        if isinstance(self.decisions, Decisions):
            prefix = self.decisions.repository.key + ":"
            return (prefix + tag for tag in self.decisions.selected_tags())
        return (str(d.image) for d in self.selected)

    def selected_among(self, images: Collection[str]) -> int:
        """How many selected images (canonical, as `selected_keys`) are in `images`."""
        if self.parts:
            return sum(part.selected_among(images) for part in self.parts)
        if isinstance(self.decisions, Decisions):
            # Few images against a long listing: look the images up among the tags, not the
            # other way round. An image is `prefix + tag` exactly when it starts with the prefix
            # and the rest is a selected tag (distinct: decide_listing keeps each tag once).
            prefix = self.decisions.repository.key + ":"
            mine = {image[len(prefix) :] for image in images if image.startswith(prefix)}
            if not mine:
                return 0
            return len(mine.intersection(self.decisions.selected_tags()))
        return sum(1 for key in self.selected_keys() if key in images)

    @property
    def not_found(self) -> list[str]:
        """The named versions of an exact-version list that the registry does not have."""
        if self.parts:  # per repository would say too much: a wildcard reports what none has
            missing = [set(part.not_found) for part in self.parts if part.failed is None]
            return sorted(set.intersection(*missing)) if missing else []
        if isinstance(self.decisions, Decisions):
            return self.decisions.tags_with("not-found")
        return [d.image.tag or "" for d in self.decisions if d.decision == "not-found"]

    def tally(self, *decisions: Decision) -> int:
        """How many of this selector's decisions are any of `decisions`."""
        if self.parts:
            return sum(part.tally(*decisions) for part in self.parts)
        if isinstance(self.decisions, Decisions):
            return self.decisions.tally(*decisions)
        return sum(1 for d in self.decisions if d.decision in decisions)


def build_selectors(spec: SourceSpec) -> list[Selector]:
    """One selector per `images` entry, or per filter when `images` is empty.

    A spec with both set is invalid (spec validation reports it); `images` wins here so that the
    function stays total.
    """
    if spec.images:
        return [_build(index, written, (), (), spec) for index, written in enumerate(spec.images)]
    return [
        _build_pattern(index, f.image, f.versions, f.exclude, spec)
        if is_pattern(f.image)
        else _build(index, f.image, f.versions, f.exclude, spec)
        for index, f in enumerate(spec.filters)
    ]


def _build_pattern(
    index: int, written: str, versions: Sequence[str], exclude: Sequence[str], spec: SourceSpec
) -> Selector:
    """A wildcard filter: its pattern and constraints now, its repositories at sync time."""
    try:
        pattern = parse_pattern(written, default_registry=spec.registry)
    except InvalidReferenceError as exc:
        return Selector(index, written, None, None, False, SelectorError(INVALID_REFERENCE, str(exc)))
    constraints, error = _read_constraints(tuple(versions) or tuple(spec.versions))
    return Selector(index, written, None, constraints, False, error, pattern, tuple(exclude))


def _build(
    index: int, written: str, versions: Sequence[str], exclude: Sequence[str], spec: SourceSpec
) -> Selector:
    def failed(reason: str, message: str, ref: ImageRef | None = None) -> Selector:
        return Selector(index, written, ref, None, False, SelectorError(reason, message))

    try:
        ref = parse_reference(written, default_registry=spec.registry)
    except InvalidReferenceError as exc:
        return failed(INVALID_REFERENCE, str(exc))
    excluded = is_excluded(ref, exclude)
    if ref.pinned:
        return Selector(index, written, ref, None, excluded, None)
    # An error is reported even for an excluded filter: a constraint is never silently dropped. The
    # ref is kept: it is valid, and `preview` can still say which repository was meant.
    constraints, error = _read_constraints(tuple(versions) or tuple(spec.versions))
    return Selector(index, written, ref, constraints, excluded, error)


def _read_constraints(texts: tuple[str, ...]) -> tuple[Constraints | None, SelectorError | None]:
    """The constraints of a selector without a tag, or why they cannot select anything."""
    if not texts:
        return None, None
    from aimsource.domain.versions.constraints import parse_constraints  # see selector_checks
    from aimsource.domain.versions.unsatisfiable import never_satisfied

    try:
        constraints = parse_constraints(texts)
    except InvalidConstraintError as exc:
        return None, SelectorError(INVALID_VERSION_CONSTRAINT, str(exc))
    why = never_satisfied(constraints)
    if why is not None:
        # Listing the repository could only select nothing: say so instead, as `check` does.
        return None, SelectorError(INVALID_VERSION_CONSTRAINT, f"versions can never be satisfied: {why}")
    return constraints, None


def named_tags(selector: Selector) -> tuple[str, ...] | None:
    """The tags an unpinned selector with an exact-version list names (`versions: ["1.0.0",
    "=1.1.0"]`): a sync checks each with one manifest HEAD instead of listing the repository."""
    if selector.ref is None or selector.ref.pinned or selector.constraints is None:
        return None
    return selector.constraints.named_tags


def is_excluded(ref: ImageRef, exclude: Sequence[str]) -> bool:
    """Whether `exclude` names the reference's repository.

    Exclusions are repository names without the registry, compared exactly with the normalised
    repository, or patterns with `*` (`domain.patterns.excludes`). On Docker Hub an official image
    may be written with or without `library/` (`ubuntu` and `library/ubuntu` are the same
    repository there); a registry-qualified entry such as `docker.io/org/repo` does not match, as
    the documentation says ("not including the registry").
    """
    names = {ref.repository}
    if ref.registry == DOCKER_HUB and ref.repository.startswith("library/"):
        names.add(ref.repository.removeprefix("library/"))
    return any(excludes(entry, name) for entry in exclude for name in names)


def is_signature_tag(tag: str) -> bool:
    """Signature, attestation and SBOM tags: `sha256-*`, `*.sig`, `*.att`, `*.sbom`."""
    return tag.startswith(_SIGNATURE_PREFIXES) or tag.endswith(_SIGNATURE_SUFFIXES)


def decide_tags(selector: Selector, tags: Sequence[str]) -> list[TagDecision]:
    """A decision for each distinct listed tag, selected first (newest first), then the others.

    A pinned selector decides only its own tag (when listed). Selected tags that are not versions
    (kept when no constraints apply) follow the versions, by name; the rest follow in the order
    out-of-range (newest first), not-a-version, signature, excluded.
    """
    return list(decide_listing(selector, tags))


def decide_listing(selector: Selector, tags: Sequence[str], missing: Sequence[str] = ()) -> Decisions:
    """`decide_tags` in its compact form (see `Decisions`): what a sync keeps per selector.

    `missing` are tags of an exact-version list that the registry does not have: they come last,
    as "not-found".
    """
    ref = selector.ref
    if ref is None or selector.error is not None:
        return Decisions(ref or ImageRef("", ""), ("",) * len(DECISIONS), [], b"")
    unique: Iterable[str] = dict.fromkeys(tags)  # a registry may repeat a tag across pages
    if ref.pinned:
        unique = [t for t in unique if t == ref.tag]
    constraints = selector.constraints
    text = str(constraints) if constraints is not None else ""
    named = named_tags(selector)
    exact = named is not None
    if ref.pinned:
        chosen = "pinned tag"
    elif constraints is None:
        chosen = "no version constraints"
    elif exact:
        chosen = f"named in versions {text} (a list of exact versions selects each one that exists)"
    else:
        chosen = f"satisfies {text}"
    reasons = (  # once per selector, not per tag
        chosen,
        f"not named in versions {text}" if exact else f"does not satisfy {text}",
        "not a valid tag",
        "not a SemVer version",  # near-versions get their defects named when read (Decisions)
        "signature, attestation or SBOM tag",
        f"repository {ref.repository} is excluded",
        f"named in versions {text}, but the registry has no such tag",
    )
    # Per output group: (version key, tag) of versions, (tag, code) of the others. The versions of
    # group 0 are selected and those of group 1 out of range: their code is the group's.
    versions: list[list[tuple[VersionKey, str]]] = [[] for _ in range(5)]
    others: list[list[tuple[str, int]]] = [[] for _ in range(5)]
    keep_all = ref.pinned or constraints is None
    # An exact-version list selects the tags it names, as written (Constraints.admits_tag),
    # looked up in a set here rather than through a method call per tag.
    named_set = frozenset(named) if named is not None else None
    rest: Iterable[str] = unique
    newest: list[str] = []  # selected plain releases already in order, newest first
    if keep_all and not selector.excluded:
        # The common case, plain releases kept whole, decided for the whole listing at once.
        listed = list(unique)
        keys = plain_release_keys(listed) if (plain := newest_first_plain(listed)) is None else []
        if plain is not None:
            newest = plain
            rest = ()
        elif None not in keys:
            versions[0] = list(zip(keys, listed, strict=True))  # type: ignore[arg-type]  # no None: checked
            rest = ()
        else:
            versions[0] = [(key, tag) for key, tag in zip(keys, listed, strict=True) if key is not None]
            rest = [tag for key, tag in zip(keys, listed, strict=True) if key is None]
    for tag in rest:
        if selector.excluded:
            others[4].append((tag, EXCLUDED))
        elif tag.startswith(_SIGNATURE_PREFIXES) or tag.endswith(_SIGNATURE_SUFFIXES):
            others[3].append((tag, SIGNATURE))
        elif not is_valid_tag(tag):
            others[2].append((tag, INVALID_TAG))
        elif keep_all:
            key = version_key(tag)
            if key is None:
                others[0].append((tag, SELECTED))
            else:
                versions[0].append((key, tag))
        else:
            assert constraints is not None
            version = parse_version(tag)
            if version is None:
                others[2].append((tag, NOT_SEMVER))
            elif tag in named_set if named_set is not None else constraints.admits(version):
                versions[0].append((version._key, tag))
            else:
                versions[1].append((version._key, tag))
    ordered = newest
    codes = bytearray(bytes([SELECTED]) * len(newest))
    for group, code in enumerate((SELECTED, OUT_OF_RANGE, 0, 0, 0)):
        # Within a group, versions newest first, then the others by name. Sorting by name first
        # and then (stably) by version keeps versions of equal precedence (`1.0.0`, `v1.0.0`) in
        # name order.
        found = versions[group]
        found.sort(key=itemgetter(1))
        found.sort(key=itemgetter(0), reverse=True)
        others_here = others[group]
        others_here.sort(key=itemgetter(0))
        ordered += map(itemgetter(1), found)
        ordered += map(itemgetter(0), others_here)
        codes += bytes([code]) * len(found)
        codes += bytes(map(itemgetter(1), others_here))
    absent = [t for t in dict.fromkeys(missing) if t not in unique]
    ordered += absent
    codes += bytes([NOT_FOUND]) * len(absent)
    return Decisions(ref, reasons, ordered, bytes(codes))
