"""The CRDs as Kubernetes will read them: names, printer columns, subresources, a structural schema
where every field is described (for `kubectl explain`), and a kustomization that lists them all."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
import yaml

from tests.support.components import require_binary
from tests.support.crd_schema import (
    CRD_DIR,
    MODELS_CRD,
    SOURCES_CRD,
    admit,
    load_crd,
    root_schema,
    to_json_schema,
    version,
    walk,
)

CRDS = [SOURCES_CRD, MODELS_CRD]


@pytest.mark.parametrize(
    ("filename", "name", "kind", "short"),
    [
        (SOURCES_CRD, "aimclustermodelsources.aim.eai.amd.com", "AIMClusterModelSource", "aimclsrc"),
        (MODELS_CRD, "aimclustermodels.aim.eai.amd.com", "AIMClusterModel", "aimclmdl"),
    ],
    ids=["source", "model"],
)
def test_crd_names_scope_and_version(filename: str, name: str, kind: str, short: str) -> None:
    crd = load_crd(filename)
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["metadata"]["name"] == name
    spec = crd["spec"]
    assert spec["group"] == "aim.eai.amd.com"
    assert spec["scope"] == "Cluster"
    assert spec["names"]["kind"] == kind
    assert f"{spec['names']['plural']}.{spec['group']}" == name
    assert spec["names"]["shortNames"] == [short]
    assert spec["names"]["categories"] == ["aim"]
    (only,) = spec["versions"]
    assert (only["name"], only["served"], only["storage"]) == ("v1alpha1", True, True)
    assert only["subresources"] == {"status": {}}


@pytest.mark.parametrize(
    ("filename", "columns"),
    [
        (
            SOURCES_CRD,
            [
                ("Status", "string", ".status.status"),
                ("Models", "integer", ".status.discoveredModels"),
                ("LastSync", "string", ".status.lastSyncTime"),
                ("Age", "date", ".metadata.creationTimestamp"),
            ],
        ),
        (MODELS_CRD, [("Image", "string", ".spec.image"), ("Age", "date", ".metadata.creationTimestamp")]),
    ],
    ids=["source", "model"],
)
def test_printer_columns_match_the_documented_kubectl_get(filename: str, columns: list[Any]) -> None:
    # kubectl prints NAME first by itself and upper-cases the names: NAME STATUS MODELS LASTSYNC AGE.
    printed = version(load_crd(filename))["additionalPrinterColumns"]
    assert [(c["name"], c["type"], c["jsonPath"]) for c in printed] == columns


@pytest.mark.parametrize("filename", CRDS, ids=["source", "model"])
def test_every_field_has_a_description_for_kubectl_explain(filename: str) -> None:
    undescribed = [
        path
        for path, node in walk(root_schema(filename))
        if not node.get("description") and path != ".metadata"
    ]
    assert undescribed == []


@pytest.mark.parametrize("filename", CRDS, ids=["source", "model"])
def test_metadata_schema_is_only_its_type(filename: str) -> None:
    """kube-apiserver refuses a CRD whose metadata schema says more (even a description) than this."""
    assert root_schema(filename)["properties"]["metadata"] == {"type": "object"}


@pytest.mark.parametrize("filename", CRDS, ids=["source", "model"])
def test_schema_is_structural_every_node_has_a_type(filename: str) -> None:
    untyped = [
        path
        for path, node in walk(root_schema(filename))
        if "type" not in node and not node.get("x-kubernetes-int-or-string")
    ]
    assert untyped == []
    to_json_schema(root_schema(filename))  # raises on a keyword the tests would not check


@pytest.mark.parametrize("filename", CRDS, ids=["source", "model"])
def test_every_default_is_valid_for_its_own_field(filename: str) -> None:
    import jsonschema

    for path, node in walk(root_schema(filename)):
        if "default" in node:
            errors = list(jsonschema.Draft7Validator(to_json_schema(node)).iter_errors(node["default"]))
            assert errors == [], path


def test_status_is_closed_except_for_the_model_controllers_status() -> None:
    open_nodes = [
        (filename, path)
        for filename in CRDS
        for path, node in walk(root_schema(filename))
        if node.get("x-kubernetes-preserve-unknown-fields")
    ]
    assert open_nodes == [(MODELS_CRD, ".status")]


def test_documented_status_example_is_a_valid_status() -> None:
    from tests.crds.seed_examples import STATUS_EXAMPLE

    obj = {"metadata": {"name": "x"}, "spec": {"images": ["a/b:1"]}, **yaml.safe_load(STATUS_EXAMPLE)}
    assert admit(obj)[1] == []


def test_a_full_operator_status_is_valid() -> None:
    status = {
        "status": "Degraded",
        "lastSyncTime": "2025-01-15T10:30:00Z",
        "discoveredModels": 3,
        "availableModels": 4,
        "modelsLimitReached": False,
        "observedGeneration": 2,
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "SelectorsFailed",
                "message": "1 of 2 selectors failed",
                "lastTransitionTime": "2025-01-15T10:30:00Z",
                "observedGeneration": 2,
            }
        ],
        "selectors": [
            {
                "reference": "a/b",
                "tagsListed": 10,
                "matched": 4,
                "created": 3,
                "skipped": 2,
                "truncated": False,
            },
            {
                "reference": "c/d",
                "error": {"reason": "RepositoryNotFound", "message": "docker.io/c/d: not found"},
            },
        ],
    }
    obj = {"metadata": {"name": "x"}, "spec": {"images": ["a/b", "c/d"]}, "status": status}
    assert admit(obj)[1] == []
    bad = {**obj, "status": {**status, "status": "Sleeping"}}
    assert admit(bad)[1] != []


def test_kustomization_lists_every_crd_file() -> None:
    kustomization = yaml.safe_load((CRD_DIR / "kustomization.yaml").read_text(encoding="utf-8"))
    files = sorted(p.name for p in CRD_DIR.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(kustomization["resources"]) == files == sorted(CRDS)


def test_kubectl_kustomize_builds_the_crds() -> None:
    kubectl = require_binary("kubectl", "kubernetes-client")
    built = subprocess.run(
        [kubectl, "kustomize", str(CRD_DIR)], capture_output=True, text=True, check=True, timeout=30
    )
    names = sorted(doc["metadata"]["name"] for doc in yaml.safe_load_all(built.stdout))
    assert names == ["aimclustermodels.aim.eai.amd.com", "aimclustermodelsources.aim.eai.amd.com"]
