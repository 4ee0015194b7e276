"""The checks only `aimsource check` makes, each selector's reference and constraints named at its entry:
`domain/spec/selector_checks.py`, through `check_source`."""

from __future__ import annotations

from typing import Any

import pytest

from aimsource.domain.spec.source import Problem, check_source, parse_source
from tests.crds.samples import IMG, source


def fields(problems: list[Problem] | tuple[Problem, ...]) -> list[str]:
    return [p.field for p in problems]


SELECTORS: dict[str, tuple[dict[str, Any], str, str]] = {
    "wildcard": (
        {"images": ["amdenterpriseai/aim-*:0.8.5"]},
        "spec.images[0]",
        "Wildcard syntax (*) is supported only in filters[].image; list images explicitly, or write a filter",
    ),
    "digest": ({"images": ["org/model@sha256:" + "a" * 64]}, "spec.images[0]", "digests"),
    "upper-case": ({"images": [IMG, "Org/Model:1.0.0"]}, "spec.images[1]", "Org/Model:1.0.0"),
    "filter-wildcard": (
        {"filters": [{"image": "org/a"}, {"image": "*"}]},
        "spec.filters[1].image",
        "docker.io lists repositories one namespace at a time",
    ),
    "filter-wildcard-tag": (
        {"filters": [{"image": "org/aim-*:1.0.0"}]},
        "spec.filters[0].image",
        'a pattern cannot carry a tag; drop ":1.0.0"',
    ),
    "global-constraint": (
        {"images": ["org/a"], "versions": [">=0.8.0", "~>1.2"]},
        "spec.versions[1]",
        "~>1.2",
    ),
    "filter-constraint": (
        {"filters": [{"image": "org/a", "versions": ["banana"]}]},
        "spec.filters[0].versions[0]",
        "banana",
    ),
    "registry": ({"registry": "not a host", "images": ["org/a"]}, "spec.registry", "not a host"),
}


@pytest.mark.parametrize(("spec", "field", "words"), SELECTORS.values(), ids=SELECTORS.keys())
def test_check_source_names_each_bad_selector_at_its_entry(
    spec: dict[str, Any], field: str, words: str
) -> None:
    problems = check_source(source(spec))
    assert fields(problems) == [field]
    assert words in problems[0].reason
    parse_source(source(spec))  # structurally valid: the operator reports these per selector instead


def test_per_selector_paths_keep_their_index_next_to_malformed_entries() -> None:
    problems = check_source(source({"images": [7, "x/*", "org/ok:1"]}))
    assert fields(problems) == ["spec.images[0]", "spec.images[1]"]


def test_a_bad_registry_is_reported_once_not_per_selector() -> None:
    problems = check_source(source({"registry": "bad host", "images": ["org/a", "org/b", "UPPER/c"]}))
    assert fields(problems) == ["spec.registry", "spec.images[2]"]
