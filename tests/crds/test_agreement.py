"""The domain's spec rules agree with the CRD's: same verdict, same defaults, same limits.

The operator re-checks every spec (a CRD may be installed without its schema or CEL rule) and
`aimsource check` validates offline; both go through `parse_source`, so any disagreement with the
CRD here means a manifest that one accepts and the other rejects.
"""

from __future__ import annotations

from typing import Any

import pytest

from aimsource.domain.durations import parse_duration
from aimsource.domain.spec import source as domain
from aimsource.domain.spec.source import InvalidSpecError, parse_source
from tests.crds import seed_examples
from tests.crds.samples import INVALID, VALID, source
from tests.support.crd_schema import SOURCES_CRD, admit, root_schema

SAMPLES = {**{f"valid-{k}": v for k, v in VALID.items()}, **{f"invalid-{k}": v for k, v in INVALID.items()}}
SEED = seed_examples.all_sources()


def domain_accepts(obj: dict[str, Any]) -> bool:
    try:
        parse_source(obj)
    except InvalidSpecError:
        return False
    return True


@pytest.mark.parametrize("spec", SAMPLES.values(), ids=SAMPLES.keys())
def test_parse_source_verdict_equals_the_crds(spec: Any) -> None:
    obj = source(spec)
    crd_errors = admit(obj)[1]
    assert domain_accepts(obj) == (crd_errors == []), crd_errors


@pytest.mark.parametrize(
    "obj",
    [*[source(spec) for spec in VALID.values()], *SEED.values()],
    ids=[*VALID.keys(), *SEED.keys()],
)
def test_parse_source_applies_the_crds_defaults(obj: dict[str, Any]) -> None:
    stored, errors = admit(obj)
    assert errors == []
    assert parse_source(obj) == parse_source(stored)


def test_default_values_are_the_crds() -> None:
    props = root_schema(SOURCES_CRD)["properties"]["spec"]["properties"]
    parsed = parse_source(source({"images": ["org/model:1.0.0"]})).spec
    assert parsed.registry == props["registry"]["default"] == "docker.io"
    assert parsed.sync_interval == parse_duration(props["syncInterval"]["default"]) == 3600.0
    assert parsed.max_models == props["maxModels"]["default"] == 100


def spec_props() -> dict[str, Any]:
    return root_schema(SOURCES_CRD)["properties"]["spec"]["properties"]  # type: ignore[no-any-return]


LIMITS = [
    ("registry", "maxLength", domain.MAX_REGISTRY_LENGTH),
    ("images", "maxItems", domain.MAX_SELECTORS),
    ("images.items", "maxLength", domain.MAX_IMAGE_LENGTH),
    ("filters", "maxItems", domain.MAX_SELECTORS),
    ("filters.items.properties.image", "maxLength", domain.MAX_IMAGE_LENGTH),
    ("filters.items.properties.versions", "maxItems", domain.MAX_VERSIONS),
    ("filters.items.properties.versions.items", "maxLength", domain.MAX_CONSTRAINT_LENGTH),
    ("filters.items.properties.exclude", "maxItems", domain.MAX_EXCLUDES),
    ("filters.items.properties.exclude.items", "maxLength", domain.MAX_IMAGE_LENGTH),
    ("versions", "maxItems", domain.MAX_VERSIONS),
    ("versions.items", "maxLength", domain.MAX_CONSTRAINT_LENGTH),
    ("syncInterval", "maxLength", domain.MAX_SYNC_INTERVAL_LENGTH),
    ("syncInterval", "pattern", domain.SYNC_INTERVAL_PATTERN.pattern),
    ("imagePullSecrets", "maxItems", domain.MAX_PULL_SECRETS),
    ("imagePullSecrets.items.properties.name", "maxLength", domain.MAX_SECRET_NAME_LENGTH),
    ("imagePullSecrets.items.properties.name", "pattern", domain.SECRET_NAME_PATTERN),
    ("maxModels", "minimum", domain.MIN_MAX_MODELS),
    ("maxModels", "maximum", domain.MAX_MAX_MODELS),
]


@pytest.mark.parametrize(("path", "keyword", "value"), LIMITS, ids=[f"{p}:{k}" for p, k, _ in LIMITS])
def test_domain_limits_are_the_crds(path: str, keyword: str, value: Any) -> None:
    node: Any = spec_props()
    first, *rest = path.split(".")
    node = node[first]
    for key in rest:
        node = node[key]
    assert node[keyword] == value


def test_spec_fields_are_the_crds() -> None:
    assert set(spec_props()) == set(domain.SPEC_FIELDS)


def test_cel_message_is_the_domains() -> None:
    (rule,) = root_schema(SOURCES_CRD)["properties"]["spec"]["x-kubernetes-validations"]
    assert rule["message"] == domain.EXACTLY_ONE_MESSAGE
