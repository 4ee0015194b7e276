"""Garbage collection by the real kube-controller-manager: a deleted source takes its models, only its own.

The models are the bodies `aimsource` writes (domain.models.model_body), owner reference included.
"""

from __future__ import annotations

from typing import Any

import pytest

from aimsource.domain.models import model_body
from aimsource.domain.references import parse_reference
from aimsource.domain.selection.planning import Candidate
from tests.support.realkube import RealKube
from tests.support.realkube_fixtures import MODELS, SOURCES, TEST_LABEL


def create_source(real_kube: RealKube, name: str, run_id: str) -> dict[str, Any]:
    return real_kube.ok(
        "POST",
        SOURCES,
        {  # type: ignore[no-any-return]
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModelSource",
            "metadata": {"name": name, "labels": {TEST_LABEL: run_id}},
            "spec": {"images": [f"org/{name}:1.0.0"]},
        },
    )


def create_model(real_kube: RealKube, image: str, run_id: str, owner: dict[str, Any] | None) -> str:
    candidate = Candidate(parse_reference(image), 0, image)
    body = model_body(
        candidate,
        source_name=owner["metadata"]["name"] if owner else "none",
        source_uid=owner["metadata"]["uid"] if owner else "",
        digest=None,
        image_pull_secrets=[],
    )
    body["metadata"]["labels"][TEST_LABEL] = run_id
    assert ("ownerReferences" in body["metadata"]) == (owner is not None)  # none without a uid
    return str(real_kube.ok("POST", MODELS, body)["metadata"]["name"])


def model_names(real_kube: RealKube, run_id: str) -> set[str]:
    items = real_kube.ok("GET", f"{MODELS}?labelSelector={TEST_LABEL}%3D{run_id}")["items"]
    return {item["metadata"]["name"] for item in items}


def exists(real_kube: RealKube, path: str) -> bool:
    return real_kube.request("GET", path)[0] == 200


@pytest.mark.timeout(240)  # kube-controller-manager's garbage collector runs in its own time
def test_deleting_a_source_deletes_its_models_and_nothing_else(
    real_kube_crds: RealKube, run_id: str, cleanup_cluster_objects: str
) -> None:
    kube = real_kube_crds
    doomed = create_source(kube, f"doomed-{run_id}", run_id)
    kept = create_source(kube, f"kept-{run_id}", run_id)
    owned = {
        create_model(kube, f"ghcr.io/org/gc-{run_id}:{tag}", run_id, doomed) for tag in ("1.0.0", "1.1.0")
    }
    other = create_model(kube, f"ghcr.io/org/gc-{run_id}:2.0.0", run_id, kept)
    unowned = create_model(kube, f"ghcr.io/org/gc-{run_id}:3.0.0", run_id, None)
    assert model_names(kube, run_id) == owned | {other, unowned}

    kube.ok("DELETE", f"{SOURCES}/doomed-{run_id}")
    kube.wait_for(
        lambda: not (model_names(kube, run_id) & owned),
        "the garbage collector to delete the models",
        timeout=180,
    )
    assert model_names(kube, run_id) == {other, unowned}
    assert exists(kube, f"{SOURCES}/kept-{run_id}")


def test_foreground_deletion_keeps_the_source_until_its_models_are_gone(
    real_kube_crds: RealKube, run_id: str, cleanup_cluster_objects: str
) -> None:
    """blockOwnerDeletion: with foreground propagation the source outlives its models, not the reverse."""
    kube = real_kube_crds
    doomed = create_source(kube, f"fg-{run_id}", run_id)
    owned = {
        create_model(kube, f"ghcr.io/org/fg-{run_id}:{tag}", run_id, doomed) for tag in ("1.0.0", "1.1.0")
    }
    kube.ok(
        "DELETE",
        f"{SOURCES}/fg-{run_id}",
        {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"},
    )
    seen_with_models_gone = []

    def source_gone() -> bool:
        # The source first: once it is gone, its models must already be (read after it, not before,
        # or a deletion between the two reads looks like a source that outlived its models).
        source_exists = exists(kube, f"{SOURCES}/fg-{run_id}")
        if not source_exists:
            seen_with_models_gone.append(not (model_names(kube, run_id) & owned))
        return not source_exists

    kube.wait_for(source_gone, "the foreground deletion of the source", timeout=60)
    assert seen_with_models_gone == [True]
    assert model_names(kube, run_id) == set()
