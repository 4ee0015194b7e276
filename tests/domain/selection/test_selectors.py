"""Selectors from a spec, and the decision for each listed tag."""

from __future__ import annotations

import pytest

from aimsource.domain.references import ImageRef
from aimsource.domain.selection.decisions import TagDecision
from aimsource.domain.selection.selectors import (
    Selector,
    SelectorError,
    SelectorOutcome,
    build_selectors,
    decide_tags,
    is_excluded,
    is_signature_tag,
)
from aimsource.domain.spec.source import FilterSpec, SourceSpec


def one(spec: SourceSpec) -> Selector:
    [selector] = build_selectors(spec)
    return selector


def selector_for(image: str, *versions: str, exclude: tuple[str, ...] = ()) -> Selector:
    return one(SourceSpec(filters=(FilterSpec(image, tuple(versions), exclude),)))


def decided(selector: Selector, tags: list[str]) -> list[tuple[str | None, str]]:
    return [(d.image.tag, d.decision) for d in decide_tags(selector, tags)]


# --- build_selectors ---------------------------------------------------------------------------


def test_images_mode_gives_one_selector_per_entry_in_order() -> None:
    spec = SourceSpec(images=("org/a:1.0", "ghcr.io/org/b", "c"), versions=(">=1.0.0",))
    selectors = build_selectors(spec)
    assert [(s.index, s.written, str(s.ref)) for s in selectors] == [
        (0, "org/a:1.0", "docker.io/org/a:1.0"),
        (1, "ghcr.io/org/b", "ghcr.io/org/b"),
        (2, "c", "docker.io/library/c"),
    ]
    assert [s.error for s in selectors] == [None, None, None]
    assert selectors[0].constraints is None  # pinned: versions ignored
    assert str(selectors[1].constraints) == ">=1.0.0"


def test_spec_registry_is_the_default_registry() -> None:
    assert str(one(SourceSpec(registry="ghcr.io", images=("org/a",))).ref) == "ghcr.io/org/a"


@pytest.mark.parametrize(
    ("global_versions", "own_versions", "expected"),
    [
        ((">=0.8.0",), (), ">=0.8.0"),
        ((">=0.8.0",), (">=0.8.5",), ">=0.8.5"),
        ((), (">=1.0.0", "<2.0.0"), ">=1.0.0, <2.0.0"),
        ((), (), None),
    ],
    ids=["global-applies", "own-replaces-global", "own-only", "none-keeps-every-tag"],
)
def test_filter_versions_replace_global_ones(
    global_versions: tuple[str, ...], own_versions: tuple[str, ...], expected: str | None
) -> None:
    spec = SourceSpec(versions=global_versions, filters=(FilterSpec("org/a", own_versions),))
    constraints = one(spec).constraints
    assert (None if constraints is None else str(constraints)) == expected


def test_pinned_selector_ignores_even_invalid_versions() -> None:
    selector = one(SourceSpec(versions=("not a constraint",), images=("org/a:1.0",)))
    assert (selector.error, selector.constraints) == (None, None)


@pytest.mark.parametrize(
    ("written", "fragment"),
    [
        ("amdenterpriseai/aim-*", "Wildcard syntax (*) is supported only in filters[].image"),
        ("org/a@sha256:" + "0" * 64, "digests"),
        ("Org/A", "lower-case"),
    ],
    ids=["wildcard", "digest", "upper-case"],
)
def test_invalid_reference_is_an_error_of_that_selector_only(written: str, fragment: str) -> None:
    selectors = build_selectors(SourceSpec(images=("org/good", written)))
    assert selectors[0].error is None
    bad = selectors[1]
    assert bad.ref is None
    assert bad.error is not None
    assert bad.error.reason == "InvalidReference"
    assert fragment in bad.error.message
    assert written[:50] in bad.error.message


@pytest.mark.parametrize(
    ("spec", "culprit"),
    [
        (SourceSpec(versions=(">=0.8.0", ">=banana"), images=("org/a",)), ">=banana"),
        (SourceSpec(filters=(FilterSpec("org/a", ("~>1.0",)),)), "~>1.0"),
        (SourceSpec(versions=("1.2.3.4",), filters=(FilterSpec("org/a"),)), "1.2.3.4"),
    ],
    ids=["global-in-images-mode", "own-in-filter", "global-in-filter"],
)
def test_invalid_constraint_is_an_error_naming_the_string(spec: SourceSpec, culprit: str) -> None:
    selector = one(spec)
    assert selector.error is not None
    assert selector.error.reason == "InvalidVersionConstraint"
    assert culprit in selector.error.message
    assert selector.constraints is None
    assert str(selector.ref) == "docker.io/org/a"


def test_filter_own_valid_versions_shadow_invalid_global_ones() -> None:
    spec = SourceSpec(versions=("garbage",), filters=(FilterSpec("org/a", (">=1.0.0",)), FilterSpec("org/b")))
    first, second = build_selectors(spec)
    assert first.error is None
    assert second.error is not None
    assert second.error.reason == "InvalidVersionConstraint"


def test_images_win_when_both_are_set() -> None:
    # Such a spec is invalid (spec validation reports it); selection must still be total.
    spec = SourceSpec(images=("org/a",), filters=(FilterSpec("org/b"),))
    assert [s.written for s in build_selectors(spec)] == ["org/a"]


@pytest.mark.parametrize(
    ("image", "exclude", "excluded"),
    [
        ("amdenterpriseai/aim-base", ("amdenterpriseai/aim-base",), True),
        ("amdenterpriseai/aim-base", ("amdenterpriseai/aim-experimental",), False),
        ("amdenterpriseai/aim-base", ("amdenterpriseai/aim",), False),
        ("amdenterpriseai/aim-base", ("aim-base",), False),
        ("ghcr.io/org/repo", ("org/repo",), True),
        ("ghcr.io/org/repo", ("ghcr.io/org/repo",), False),
        ("ubuntu", ("ubuntu",), True),
        ("ubuntu", ("library/ubuntu",), True),
        ("ghcr.io/ubuntu", ("library/ubuntu",), False),
        ("org/repo:1.0", ("org/repo",), True),
    ],
    ids=[
        "exact",
        "other-repo",
        "prefix-is-not-a-match",
        "last-component-is-not-a-match",
        "registry-not-included",
        "registry-written-does-not-match",
        "official-short",
        "official-with-library",
        "library-only-on-docker-hub",
        "pinned-filter",
    ],
)
def test_exclude_matches_repository_names_exactly(
    image: str, exclude: tuple[str, ...], excluded: bool
) -> None:
    selector = selector_for(image, exclude=exclude)
    assert selector.excluded is excluded
    assert selector.ref is not None
    assert is_excluded(selector.ref, exclude) is excluded


# --- decide_tags -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "signature"),
    [
        ("sha256-" + "a" * 64 + ".sig", True),
        ("sha256-" + "a" * 64, True),
        ("1.0.0.sig", True),
        ("1.0.0.att", True),
        ("1.0.0.sbom", True),
        ("1.0.0", False),
        ("signed", False),
        ("sha256", False),
        ("v1.0.0-sig", False),
    ],
    ids=[
        "cosign-signature",
        "sha256-prefix",
        "sig",
        "att",
        "sbom",
        "version",
        "word",
        "bare-sha256",
        "sig-not-suffix",
    ],
)
def test_is_signature_tag(tag: str, signature: bool) -> None:
    assert is_signature_tag(tag) is signature


def test_constraints_select_versions_newest_first_and_explain_the_rest() -> None:
    selector = selector_for("org/a", ">=0.8.0", "<1.0.0")
    tags = ["0.7.9", "0.8.0", "latest", "0.9.1", "0.8.1-rc1", "1.0.0", "0.8.0-rc1", "dev", "sha256-abc.sig"]
    decisions = decide_tags(selector, tags)
    assert [(d.image.tag, d.decision) for d in decisions] == [
        ("0.9.1", "selected"),
        ("0.8.1-rc1", "selected"),
        ("0.8.0", "selected"),
        ("1.0.0", "out-of-range"),
        ("0.8.0-rc1", "out-of-range"),
        ("0.7.9", "out-of-range"),
        ("dev", "not-a-version"),
        ("latest", "not-a-version"),
        ("sha256-abc.sig", "signature"),
    ]
    reasons = {d.image.tag: d.reason for d in decisions}
    assert reasons["0.9.1"] == "satisfies >=0.8.0, <1.0.0"
    assert reasons["1.0.0"] == "does not satisfy >=0.8.0, <1.0.0"
    assert reasons["latest"] == "not a SemVer version"
    assert reasons["sha256-abc.sig"] == "signature, attestation or SBOM tag"


@pytest.mark.parametrize(
    "tag", ["latest", "dev", "1.2", "2024.01", "01.2.3", "1.2.3.4"], ids=lambda t: f"non-semver-{t}"
)
def test_non_semver_tags_are_skipped_when_constraints_apply(tag: str) -> None:
    assert decided(selector_for("org/a", ">=0.0.0"), [tag]) == [(tag, "not-a-version")]


def test_without_constraints_every_tag_but_signatures_is_selected() -> None:
    selector = selector_for("org/a")
    assert decided(selector, ["latest", "0.9.0", "v1.0.0", "dev", "x.sbom", "1.0.0"]) == [
        ("1.0.0", "selected"),
        ("v1.0.0", "selected"),  # same precedence as 1.0.0: ordered by name
        ("0.9.0", "selected"),
        ("dev", "selected"),
        ("latest", "selected"),
        ("x.sbom", "signature"),
    ]
    assert decide_tags(selector, ["latest"])[0].reason == "no version constraints"


def test_leading_v_is_a_version() -> None:
    decisions = decide_tags(selector_for("org/a", "^1.0.0"), ["v1.2.0", "v2.0.0"])
    assert [(d.image.tag, d.decision, str(d.version)) for d in decisions] == [
        ("v1.2.0", "selected", "1.2.0"),
        ("v2.0.0", "out-of-range", "2.0.0"),
    ]


def test_decisions_carry_the_pinned_image() -> None:
    [decision] = decide_tags(selector_for("ghcr.io/org/a", ">=1.0.0"), ["1.0.0"])
    assert decision.image == ImageRef("ghcr.io", "org/a", "1.0.0")
    assert decision.image.pinned


def test_repeated_tags_are_decided_once() -> None:
    assert decided(selector_for("org/a"), ["1.0.0", "1.0.0", "2.0.0"]) == [
        ("2.0.0", "selected"),
        ("1.0.0", "selected"),
    ]


def test_invalid_tags_from_a_registry_are_never_selected() -> None:
    assert decided(selector_for("org/a"), ["ok", "has space", "-x"]) == [
        ("ok", "selected"),
        ("-x", "not-a-version"),
        ("has space", "not-a-version"),
    ]


def test_pinned_selector_decides_only_its_own_tag() -> None:
    selector = selector_for("org/a:0.8.5", ">=9.9.9")
    assert decided(selector, ["0.8.4", "0.8.5", "latest"]) == [("0.8.5", "selected")]
    assert decide_tags(selector, ["0.8.5"])[0].reason == "pinned tag"
    assert decided(selector, ["0.8.4"]) == []


def test_pinned_non_version_tag_is_selected() -> None:
    assert decided(selector_for("org/a:latest", ">=1.0.0"), ["latest"]) == [("latest", "selected")]


def test_pinned_signature_tag_never_becomes_a_model() -> None:
    assert decided(selector_for("org/a:1.0.0.sig"), ["1.0.0.sig"]) == [("1.0.0.sig", "signature")]


def test_excluded_selector_selects_nothing() -> None:
    selector = selector_for("org/a", exclude=("org/a",))
    assert decided(selector, ["1.0.0", "latest"]) == [("1.0.0", "excluded"), ("latest", "excluded")]


def test_failed_selector_decides_nothing() -> None:
    assert decide_tags(selector_for("org/a", "nonsense"), ["1.0.0"]) == []
    assert decide_tags(one(SourceSpec(images=("Bad/Ref",))), ["1.0.0"]) == []


def test_prerelease_rules_follow_plain_precedence() -> None:
    selector = selector_for("org/a", ">=0.8.1-rc1")
    assert decided(selector, ["0.8.1-rc1", "0.8.1", "0.9.0-rc1", "0.8.0"]) == [
        ("0.9.0-rc1", "selected"),
        ("0.8.1", "selected"),
        ("0.8.1-rc1", "selected"),
        ("0.8.0", "out-of-range"),
    ]


def test_outcome_reports_failure_from_building_or_syncing() -> None:
    good = selector_for("org/a")
    bad = selector_for("org/a", "nonsense")
    network = SelectorError("Unreachable", "cannot reach docker.io")
    assert SelectorOutcome(good).failed is None
    assert SelectorOutcome(good, error=network).failed == network
    assert SelectorOutcome(bad).failed == bad.error
    decision = TagDecision(ImageRef("docker.io", "org/a", "1"), "selected", "x", None)
    skipped = TagDecision(ImageRef("docker.io", "org/a", "y"), "not-a-version", "x", None)
    assert SelectorOutcome(good, decisions=(decision, skipped)).selected == (decision,)


def test_the_constraint_grammar_loads_with_the_first_source_that_has_versions() -> None:
    """A source of whole repositories (no versions) is parsed, checked, selected and decided
    without importing the constraint grammar: a sixth of the domain's import time, for every short
    `aimsource sync`. Run in a fresh interpreter, where nothing has imported it yet."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from aimsource.domain.selection.selectors import build_selectors, decide_listing\n"
        "from aimsource.domain.spec.source import parse_source\n"
        "def source(filter):\n"
        "    return {'apiVersion': 'aim.eai.amd.com/v1alpha1', 'kind': 'AIMClusterModelSource',\n"
        "            'metadata': {'name': 's'}, 'spec': {'filters': [filter]}}\n"
        "def loaded():\n"
        "    return sorted(m for m in ('aimsource.domain.versions.constraints',"
        " 'aimsource.domain.versions.unsatisfiable')"
        " if m in sys.modules)\n"
        "[plain] = build_selectors(parse_source(source({'image': 'org/model'})).spec)\n"
        "decide_listing(plain, ['1.0.0', 'latest'])\n"
        "print(loaded())\n"
        "ranged_source = parse_source(source({'image': 'org/model', 'versions': ['>=1.0.0']}))\n"
        "[ranged] = build_selectors(ranged_source.spec)\n"
        "print(loaded(), [d.image.tag for d in decide_listing(ranged, ['0.9.0', '1.0.0'])"
        " if d.decision == 'selected'])\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        "[]",
        "['aimsource.domain.versions.constraints', 'aimsource.domain.versions.unsatisfiable'] ['1.0.0']",
    ]
