"""Selectors: what each `images` entry or filter asks for, and which listed tags it keeps.

Each entry is parsed once into a `Selector`; a bad reference or constraint becomes that selector's
`error` (one bad entry must not sink the others, and a bad constraint is reported, never dropped
as the reference implementation does). `decide_tags` then gives every listed tag a decision with
a reason a person can read, which `aimsource preview` prints and the planner consumes: the
selected tags come first, newest version first, because the planner fills the `maxModels` budget
in that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aimsource.domain.constraints import Constraints, parse_constraints
from aimsource.domain.errors import InvalidConstraintError, InvalidReferenceError
from aimsource.domain.listings import StaleListing
from aimsource.domain.references import DOCKER_HUB, ImageRef, is_valid_tag, parse_reference
from aimsource.domain.spec import SourceSpec
from aimsource.domain.versions import Version, parse_version

Decision = Literal["selected", "not-a-version", "out-of-range", "signature", "excluded"]

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


@dataclass(frozen=True)
class TagDecision:
    image: ImageRef
    decision: Decision
    reason: str
    version: Version | None


@dataclass(frozen=True)
class SelectorOutcome:
    """What the registry phase learned about one selector."""

    selector: Selector
    decisions: tuple[TagDecision, ...] = ()
    listed: int = 0
    truncated: bool = False
    error: SelectorError | None = None
    reached_registry: bool = False
    stale: StaleListing | None = None
    """Set when the tags are a cached listing served because the registry failed just now."""

    @property
    def failed(self) -> SelectorError | None:
        """The error of this selector, whether found while building it or while syncing."""
        return self.selector.error or self.error

    @property
    def selected(self) -> tuple[TagDecision, ...]:
        return tuple(d for d in self.decisions if d.decision == "selected")


def build_selectors(spec: SourceSpec) -> list[Selector]:
    """One selector per `images` entry, or per filter when `images` is empty.

    A spec with both set is invalid (spec validation reports it); `images` wins here so that the
    function stays total.
    """
    if spec.images:
        return [_build(index, written, (), (), spec) for index, written in enumerate(spec.images)]
    return [_build(index, f.image, f.versions, f.exclude, spec) for index, f in enumerate(spec.filters)]


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
    texts = tuple(versions) or tuple(spec.versions)
    try:
        constraints = parse_constraints(texts) if texts else None
    except InvalidConstraintError as exc:
        # Reported even for an excluded filter: a constraint is never silently dropped. The ref is
        # kept: it is valid, and `preview` can still say which repository was meant.
        return Selector(
            index, written, ref, None, excluded, SelectorError(INVALID_VERSION_CONSTRAINT, str(exc))
        )
    return Selector(index, written, ref, constraints, excluded, None)


def is_excluded(ref: ImageRef, exclude: Sequence[str]) -> bool:
    """Whether `exclude` names the reference's repository.

    Exclusions are repository names without the registry, compared exactly with the normalised
    repository. On Docker Hub an official image may be written with or without `library/`
    (`ubuntu` and `library/ubuntu` are the same repository there); a registry-qualified entry such
    as `docker.io/org/repo` does not match, as the documentation says ("not including the
    registry").
    """
    names = {ref.repository}
    if ref.registry == DOCKER_HUB and ref.repository.startswith("library/"):
        names.add(ref.repository.removeprefix("library/"))
    return any(entry in names for entry in exclude)


def is_signature_tag(tag: str) -> bool:
    """Signature, attestation and SBOM tags: `sha256-*`, `*.sig`, `*.att`, `*.sbom`."""
    return tag.startswith(_SIGNATURE_PREFIXES) or tag.endswith(_SIGNATURE_SUFFIXES)


def decide_tags(selector: Selector, tags: Sequence[str]) -> list[TagDecision]:
    """A decision for each distinct listed tag, selected first (newest first), then the others.

    A pinned selector decides only its own tag (when listed). Selected tags that are not versions
    (kept when no constraints apply) follow the versions, by name; the rest follow in the order
    out-of-range (newest first), not-a-version, signature, excluded.
    """
    ref = selector.ref
    if ref is None or selector.error is not None:
        return []
    unique = list(dict.fromkeys(tags))  # a registry may repeat a tag across pages
    if ref.pinned:
        unique = [t for t in unique if t == ref.tag]
    text = str(selector.constraints) if selector.constraints is not None else ""
    reasons = (f"satisfies {text}", f"does not satisfy {text}")  # once per selector, not per tag
    decisions = [_decide(selector, ref, tag, reasons) for tag in unique]
    return _ordered(decisions)


def _decide(selector: Selector, ref: ImageRef, tag: str, reasons: tuple[str, str]) -> TagDecision:
    image = ref.with_tag(tag)
    if selector.excluded:
        return TagDecision(image, "excluded", f"repository {ref.repository} is excluded", None)
    if is_signature_tag(tag):
        return TagDecision(image, "signature", "signature, attestation or SBOM tag", None)
    if not is_valid_tag(tag):
        return TagDecision(image, "not-a-version", "not a valid tag", None)
    version = parse_version(tag)
    if ref.pinned:
        return TagDecision(image, "selected", "pinned tag", version)
    constraints = selector.constraints
    if constraints is None:
        return TagDecision(image, "selected", "no version constraints", version)
    if version is None:
        return TagDecision(image, "not-a-version", "not a SemVer version", None)
    if constraints.admits(version):
        return TagDecision(image, "selected", reasons[0], version)
    return TagDecision(image, "out-of-range", reasons[1], version)


_GROUP: dict[Decision, int] = {
    "selected": 0,
    "out-of-range": 1,
    "not-a-version": 2,
    "signature": 3,
    "excluded": 4,
}


def _ordered(decisions: list[TagDecision]) -> list[TagDecision]:
    """Group by decision; within a group versions newest first, then non-versions by name.

    Plain sorts with cheap keys rather than a comparison function: a listing can hold tens of
    thousands of tags. Sorting is stable, so versions of equal precedence (`1.0.0`, `v1.0.0`)
    keep name order.
    """
    ordered: list[TagDecision] = []
    for group in sorted(_GROUP, key=_GROUP.__getitem__):
        members = sorted((d for d in decisions if d.decision == group), key=_tag_name)
        ordered += sorted((d for d in members if d.version is not None), key=_version, reverse=True)
        ordered += [d for d in members if d.version is None]
    return ordered


def _tag_name(decision: TagDecision) -> str:
    return decision.image.tag or ""


def _version(decision: TagDecision) -> Version:
    assert decision.version is not None  # only called on decisions that carry a version
    return decision.version
