"""parse_source and check_source: the values they build, and every problem named at its field.

The verdicts themselves are compared with the CRD's in test_agreement.py; these tests pin down what
only the domain does: metadata, all problems at once, readable reasons. The per-selector problems
only `aimsource check` reports are in test_selector_checks.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from aimsource.domain.errors import DomainError
from aimsource.domain.spec.source import (
    FilterSpec,
    InvalidSpecError,
    Problem,
    Source,
    SourceSpec,
    check_source,
    parse_source,
)
from tests.crds.samples import IMG, source


def fields(problems: list[Problem] | tuple[Problem, ...]) -> list[str]:
    return [p.field for p in problems]


def test_parse_source_builds_values_with_defaults() -> None:
    parsed = parse_source(
        source(
            {
                "filters": [
                    {"image": "org/a", "versions": [">=0.8.5"]},
                    {"image": "ghcr.io/org/b:1.0.0", "exclude": ["org/base"]},
                ],
                "versions": [">=0.8.0"],
                "imagePullSecrets": [{"name": "creds"}],
            },
            uid="u-1",
            generation=3,
            annotations={"aim.eai.amd.com/sync-requested-at": "now"},
        )
    )
    assert parsed == Source(
        name="sample",
        uid="u-1",
        generation=3,
        annotations={"aim.eai.amd.com/sync-requested-at": "now"},
        spec=SourceSpec(
            registry="docker.io",
            filters=(
                FilterSpec(image="org/a", versions=(">=0.8.5",)),
                FilterSpec(image="ghcr.io/org/b:1.0.0", exclude=("org/base",)),
            ),
            versions=(">=0.8.0",),
            sync_interval=3600.0,
            image_pull_secrets=("creds",),
            max_models=100,
        ),
    )


def test_a_manifest_from_a_file_gets_empty_uid_and_generation_1() -> None:
    parsed = parse_source(source({"images": [IMG], "syncInterval": "2h30m", "maxModels": 7}))
    assert (parsed.uid, parsed.generation, dict(parsed.annotations)) == ("", 1, {})
    assert (parsed.spec.images, parsed.spec.sync_interval, parsed.spec.max_models) == ((IMG,), 9000.0, 7)


def test_status_and_unknown_metadata_are_ignored() -> None:
    obj = {**source({"images": [IMG]}, resourceVersion="5", labels={"a": "b"}), "status": {"status": "Ready"}}
    assert parse_source(obj).name == "sample"


def test_invalid_spec_error_lists_every_problem_with_its_path() -> None:
    obj = source(
        {
            "images": [IMG, "x" * 513, 7],
            "filters": [{"image": "org/a"}, {"versions": [">=1"]}],
            "syncInterval": "1 hour",
            "maxModels": 0,
            "imagePullSecrets": [{}],
            "colour": "blue",
        }
    )
    with pytest.raises(InvalidSpecError) as info:
        parse_source(obj)
    assert isinstance(info.value, DomainError)
    assert sorted(fields(info.value.problems)) == sorted(
        [
            "spec.colour",
            "spec.images[1]",
            "spec.images[2]",
            "spec.filters[1].image",
            "spec",
            "spec.syncInterval",
            "spec.maxModels",
            "spec.imagePullSecrets[0].name",
        ]
    )
    assert "spec.maxModels: must be between 1 and 10000 (is 0)" in str(info.value)


EXACTLY_ONE = "exactly one of spec.images or spec.filters must be set"
STRUCTURAL: dict[str, tuple[dict[str, Any], Problem]] = {
    "both": (
        {"images": [IMG], "filters": [{"image": "a/b"}]},
        Problem("spec", f"{EXACTLY_ONE} (both are set)"),
    ),
    "neither": ({}, Problem("spec", f"{EXACTLY_ONE} (neither is set)")),
    "max-models-range": (
        {"images": [IMG], "maxModels": 10001},
        Problem("spec.maxModels", "must be between 1 and 10000 (is 10001)"),
    ),
    "max-models-type": (
        {"images": [IMG], "maxModels": "5"},
        Problem("spec.maxModels", "must be an integer, not string"),
    ),
    "image-length": (
        {"images": ["o/" + "a" * 511]},
        Problem("spec.images[0]", "must be at most 512 characters long (is 513)"),
    ),
    "empty-images": ({"images": []}, Problem("spec.images", "must have at least 1 item")),
    "too-many-filters": (
        {"filters": [{"image": f"o/m{i}"} for i in range(101)]},
        Problem("spec.filters", "must have at most 100 items (has 101)"),
    ),
    "unknown-filter-field": (
        {"filters": [{"image": "o/m", "versoins": []}]},
        Problem("spec.filters[0].versoins", "unknown field (expected one of: exclude, image, versions)"),
    ),
    "sync-interval": (
        {"images": [IMG], "syncInterval": "1d"},
        Problem(
            "spec.syncInterval",
            '"1d" is not a duration: write a number and a unit (ns, us, ms, s, m, h), like 15m, 1h or 2h30m',
        ),
    ),
    "images-not-list": ({"images": "org/model"}, Problem("spec.images", "must be a list, not string")),
    "pull-secret-path": (
        {
            "images": [IMG],
            "imagePullSecrets": [{"name": "creds"}, {"name": "../../kube-system/secrets/regcred"}],
        },
        Problem(
            "spec.imagePullSecrets[1].name",
            "'../../kube-system/secrets/regcred' is not a valid Secret name (a DNS-1123 subdomain: "
            'lower-case letters, digits, "-" and ".", starting and ending with a letter or digit)',
        ),
    ),
}


@pytest.mark.parametrize(("spec", "problem"), STRUCTURAL.values(), ids=STRUCTURAL.keys())
def test_structural_problem_reason(spec: dict[str, Any], problem: Problem) -> None:
    assert problem in check_source(source(spec))


METADATA: dict[str, tuple[dict[str, Any], Problem]] = {
    "no-name": ({"name": None}, Problem("metadata.name", "required")),
    "bad-name": (
        {"name": "Amd_Models"},
        Problem(
            "metadata.name",
            '"Amd_Models" is not a valid name (lower-case letters, digits, "-" and ".", '
            "starting and ending with a letter or digit)",
        ),
    ),
    "name-too-long-for-a-label": (
        {"name": "a" * 64},
        Problem(
            "metadata.name",
            "must be at most 63 characters long (is 64): it is the value of the models' label "
            "aim.eai.amd.com/model-source",
        ),
    ),
    "generation": ({"generation": 0}, Problem("metadata.generation", "must be a positive integer, not 0")),
    "annotation-value": (
        {"annotations": {"a": 1}},
        Problem("metadata.annotations.a", "must be a string, not integer"),
    ),
}


@pytest.mark.parametrize(("metadata", "problem"), METADATA.values(), ids=METADATA.keys())
def test_metadata_problem(metadata: dict[str, Any], problem: Problem) -> None:
    obj = source({"images": [IMG]}, **metadata)
    assert check_source(obj) == [problem]
    with pytest.raises(InvalidSpecError):
        parse_source(obj)


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({**source({"images": [IMG]}), "apiVersion": "aim.eai.amd.com/v1"}, ["apiVersion"]),
        ({**source({"images": [IMG]}), "kind": "AIMClusterModel"}, ["kind"]),
        ("not an object", ["(document)"]),
    ],
    ids=["api-version", "kind", "not-a-mapping"],
)
def test_check_source_checks_the_object_header(obj: Any, expected: list[str]) -> None:
    assert fields(check_source(obj)) == expected


def test_valid_source_has_no_problems() -> None:
    assert check_source(source({"images": [IMG, "ghcr.io/org/b"], "versions": ["^0.8.0 || >=1.2.3"]})) == []
