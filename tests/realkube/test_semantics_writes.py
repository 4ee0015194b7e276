"""Our writes as the real API server records them: field manager, strict validation, User-Agent.

`managedFields` name the manager of each write: aimsource's creates and status patches show
`aimsource` (not `python-httpx` or `Go-http-client`), which is what other tools (issue 11) look for.
A create with a field the schema does not know is refused under `fieldValidation=Strict`, instead
of being stored without it after a warning.
"""

from __future__ import annotations

from typing import Any

import pytest

from aimsource.domain.models import model_body
from aimsource.domain.references import parse_reference
from aimsource.domain.selection.planning import Candidate
from aimsource.kube import ApiStatusError, KubeClient
from tests.support.realkube import RealKube
from tests.support.realkube_fixtures import MODELS, SOURCES, TEST_LABEL


def our_model(image: str, run_id: str, owner: dict[str, Any]) -> dict[str, Any]:
    body = model_body(
        Candidate(parse_reference(image), 0, image),
        source_name=owner["metadata"]["name"],
        source_uid=owner["metadata"]["uid"],
        digest=None,
        image_pull_secrets=[],
    )
    body["metadata"]["labels"][TEST_LABEL] = run_id
    return body


def managers(obj: dict[str, Any]) -> set[tuple[str, str, str]]:
    fields = obj["metadata"]["managedFields"]
    return {(m["manager"], m["operation"], m.get("subresource", "")) for m in fields}


async def test_creates_and_status_patches_are_recorded_as_aimsource(
    real_kube_crds: RealKube, kube_client: KubeClient, run_id: str, cleanup_cluster_objects: str
) -> None:
    kube = real_kube_crds
    src = kube.ok(
        "POST",
        SOURCES,
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModelSource",
            "metadata": {"name": f"fm-{run_id}", "labels": {TEST_LABEL: run_id}},
            "spec": {"images": [f"ghcr.io/org/fm-{run_id}"]},
        },
    )
    body = our_model(f"ghcr.io/org/fm-{run_id}:1.0.0", run_id, src)
    assert await kube_client.create_model(body) is True
    await kube_client.patch_source_status(
        src["metadata"]["name"], {"status": "Ready"}, uid=src["metadata"]["uid"]
    )

    model = kube.ok("GET", f"{MODELS}/{body['metadata']['name']}")
    assert managers(model) == {("aimsource", "Update", "")}
    source = kube.ok("GET", f"{SOURCES}/fm-{run_id}")
    assert ("aimsource", "Update", "status") in managers(source)
    assert all(m["manager"] != "python-httpx" for m in source["metadata"]["managedFields"])


async def test_a_create_with_an_unknown_field_is_refused_under_strict_validation(
    real_kube_crds: RealKube, kube_client: KubeClient, run_id: str, cleanup_cluster_objects: str
) -> None:
    src = real_kube_crds.ok(
        "POST",
        SOURCES,
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModelSource",
            "metadata": {"name": f"strict-{run_id}", "labels": {TEST_LABEL: run_id}},
            "spec": {"images": [f"ghcr.io/org/strict-{run_id}"]},
        },
    )
    body = our_model(f"ghcr.io/org/strict-{run_id}:1.0.0", run_id, src)
    body["spec"]["imagePullPolicy"] = "Always"  # not in the AIMClusterModel schema we ship
    with pytest.raises(ApiStatusError) as refused:
        await kube_client.create_model(body)
    assert refused.value.status == 400
    assert 'unknown field "spec.imagePullPolicy"' in str(refused.value)
    status, _ = real_kube_crds.request("GET", f"{MODELS}/{body['metadata']['name']}")
    assert status == 404  # nothing stored, not even without the field
