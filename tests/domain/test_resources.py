"""domain/resources.py agrees with the CRDs in src/aimsource/crds/, which are the API's truth.

The domain reads no files, so the group, the names and the status words are repeated there; a CRD
edited without the facts (or the other way round) would make the operator watch, write or report
something the API server does not serve or prunes. The status TypedDicts are checked key by key
against the CRD's status schema: a key the schema lacks is silently pruned by the API server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aimsource.domain import resources as facts

CRDS = Path(facts.__file__).resolve().parent.parent / "crds"


def crd(plural: str) -> dict[str, Any]:
    path = CRDS / f"{facts.GROUP}_{plural}.yaml"
    assert path.is_file(), f"no CRD file {path.name} in {CRDS}"
    return yaml.safe_load(path.read_text())  # type: ignore[no-any-return]


def status_schema() -> dict[str, Any]:
    (version,) = [v for v in crd(facts.SOURCE_PLURAL)["spec"]["versions"] if v["name"] == facts.VERSION]
    return version["schema"]["openAPIV3Schema"]["properties"]["status"]  # type: ignore[no-any-return]


def keys(typed: Any) -> set[str]:
    return set(typed.__required_keys__) | set(typed.__optional_keys__)


@pytest.mark.parametrize(
    ("plural", "kind", "name", "path"),
    [
        (facts.SOURCE_PLURAL, facts.SOURCE_KIND, facts.SOURCE_CRD, facts.SOURCES_PATH),
        (facts.MODEL_PLURAL, facts.MODEL_KIND, facts.MODEL_CRD, facts.MODELS_PATH),
    ],
)
def test_group_version_kind_and_plural_are_the_crds(plural: str, kind: str, name: str, path: str) -> None:
    doc = crd(plural)
    spec = doc["spec"]
    assert doc["metadata"]["name"] == name
    assert spec["group"] == facts.GROUP
    assert spec["scope"] == "Cluster"  # the paths have no namespace segment
    assert (spec["names"]["kind"], spec["names"]["plural"]) == (kind, plural)
    served = [v["name"] for v in spec["versions"] if v["served"] and v["storage"]]
    assert served == [facts.VERSION]
    assert f"{spec['group']}/{served[0]}" == facts.API_VERSION
    assert path == f"/apis/{spec['group']}/{served[0]}/{spec['names']['plural']}"


def test_status_values_are_the_crds_enum() -> None:
    enum = status_schema()["properties"]["status"]["enum"]
    assert enum == [*facts.SOURCE_STATUSES, *facts.FOREIGN_STATUSES]
    assert set(facts.SOURCE_STATUSES) > facts.TRANSIENT_STATUSES


def test_condition_statuses_and_types_are_the_crds() -> None:
    conditions = status_schema()["properties"]["conditions"]
    assert conditions["items"]["properties"]["status"]["enum"] == list(facts.CONDITION_STATUSES)
    for kind in (facts.READY_CONDITION, facts.DEGRADED_CONDITION, facts.LIMIT_CONDITION):
        assert kind in conditions["description"], f"condition {kind} is not described by the CRD"
    assert set(conditions["items"]["required"]) <= facts.Condition.__required_keys__


def test_source_status_keys_are_the_crds() -> None:
    assert keys(facts.SourceStatus) == set(status_schema()["properties"])


def test_selector_status_keys_are_the_crds() -> None:
    selector = status_schema()["properties"]["selectors"]["items"]["properties"]
    assert keys(facts.SelectorStatus) == set(selector)
    for field, typed in [
        ("conflicts", facts.ConflictEntry),
        ("refused", facts.RefusedEntry),
        ("moved", facts.MovedEntry),
    ]:
        assert keys(typed) == set(selector[field]["items"]["properties"]), field
    assert keys(facts.ErrorEntry) == set(selector["error"]["properties"])
    conditions = status_schema()["properties"]["conditions"]["items"]["properties"]
    assert keys(facts.Condition) == set(conditions)
