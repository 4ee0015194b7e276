"""AIMClusterModelSource samples judged by the CRD itself: schema, defaults and the CEL rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.crds import seed_examples
from tests.crds.samples import IMG, INVALID, VALID, source
from tests.support.crd_schema import admit

SEED = seed_examples.all_sources()


@pytest.mark.parametrize("spec", VALID.values(), ids=VALID.keys())
def test_crd_admits_valid_sample(spec: dict[str, Any]) -> None:
    assert admit(source(spec))[1] == []


@pytest.mark.parametrize("spec", INVALID.values(), ids=INVALID.keys())
def test_crd_rejects_invalid_sample(spec: Any) -> None:
    assert admit(source(spec))[1] != []


@pytest.mark.parametrize("obj", SEED.values(), ids=SEED.keys())
def test_crd_admits_every_documentation_example(obj: dict[str, Any]) -> None:
    assert admit(obj)[1] == []


@pytest.mark.parametrize(
    "spec",
    [{"images": [IMG], "filters": [{"image": "org/model"}]}, {"registry": "ghcr.io"}, {}],
    ids=["both", "neither", "empty-spec"],
)
def test_cel_rule_names_the_exactly_one_rule(spec: dict[str, Any]) -> None:
    assert admit(source(spec))[1] == ["(root).spec: exactly one of spec.images or spec.filters must be set"]


def test_defaults_are_applied_to_an_omitted_field() -> None:
    stored, errors = admit(source({"images": [IMG]}))
    assert errors == []
    assert stored["spec"] == {
        "images": [IMG],
        "registry": "docker.io",
        "syncInterval": "1h",
        "maxModels": 100,
    }


def test_defaults_replace_nulls_and_keep_given_values() -> None:
    stored, _ = admit(source({"images": [IMG], "registry": None, "maxModels": 7}))
    assert stored["spec"]["registry"] == "docker.io"
    assert stored["spec"]["maxModels"] == 7


@pytest.mark.parametrize(
    ("spec", "where"),
    [
        ({"images": [IMG], "maxModels": 0}, "spec.maxModels"),
        ({"images": [IMG], "syncInterval": "1d"}, "spec.syncInterval"),
        ({"filters": [{"versions": [">=1"]}]}, "spec.filters.0"),
        ({"images": ["o/" + "a" * 511]}, "spec.images.0"),
        ({"images": [IMG], "syncinterval": "1h"}, "spec"),
    ],
    ids=["max-models", "sync-interval", "filter-image-required", "image-length", "unknown-field"],
)
def test_schema_error_points_at_the_field(spec: dict[str, Any], where: str) -> None:
    (error,) = admit(source(spec))[1]
    assert error.startswith(f"{where}: ")
