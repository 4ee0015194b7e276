"""A ValidatingAdmissionPolicy of the real kube-apiserver refuses one model: the operator, running as a
process, creates the others, says in the source's status why that one is missing, and creates it once
the policy is lifted.

The emulator's refusals (tests/support/kubeapi_refusals.py) imitate a webhook's answer; here the
answer is the API server's own, from CEL evaluated by its admission chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aimsource.domain.naming import model_name
from aimsource.domain.references import parse_reference
from tests.e2e.operator_process import OperatorProcess
from tests.support.realkube import RealKube
from tests.support.realkube_fixtures import MODELS, SOURCES, TEST_LABEL
from tests.support.registry_server import RunningRegistry

POLICIES = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies"
BINDINGS = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings"
SOURCE_LABEL = "aim.eai.amd.com/model-source"
MESSAGE = "models of this image are not admitted on this cluster"


def policy(name: str, refused: str) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": ["aim.eai.amd.com"],
                        "apiVersions": ["*"],
                        "operations": ["CREATE"],
                        "resources": ["aimclustermodels"],
                    }
                ]
            },
            "validations": [
                {
                    "expression": f"object.metadata.name != '{refused}'",
                    "message": MESSAGE,
                    "reason": "Forbidden",
                }
            ],
        },
    }


def binding(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {"policyName": name, "validationActions": ["Deny"]},
    }


def probe(real_kube: RealKube, name: str, image: str) -> int:
    """The answer to a dry-run create of the model `name` (nothing is stored)."""
    status, _ = real_kube.request(
        "POST",
        f"{MODELS}?dryRun=All",
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModel",
            "metadata": {"name": name},
            "spec": {"image": image},
        },
    )
    return status


@pytest.fixture
def policy_name(real_kube: RealKube, run_id: str) -> Iterator[str]:
    name = f"refuse-one-model-{run_id}"
    yield name
    real_kube.request("DELETE", f"{BINDINGS}/{name}")
    real_kube.request("DELETE", f"{POLICIES}/{name}")


def source_status(real_kube: RealKube, name: str) -> dict[str, Any]:
    status, obj = real_kube.request("GET", f"{SOURCES}/{name}")
    return (obj.get("status") or {}) if status == 200 else {}


def models_of(real_kube: RealKube, name: str) -> dict[str, str]:
    listing = real_kube.ok("GET", f"{MODELS}?labelSelector={SOURCE_LABEL}={name}")
    return {m["metadata"]["name"]: m["spec"]["image"] for m in listing["items"]}


@pytest.mark.timeout(300)  # the policy takes effect and is lifted in the API server's own time
def test_a_model_refused_by_an_admission_policy_is_reported_and_created_once_lifted(
    real_kube_crds: RealKube,
    anonymous_registry: RunningRegistry,
    cleanup_cluster_objects: str,
    namespace: str,
    run_id: str,
    policy_name: str,
    tmp_path: Path,
) -> None:
    kube, registry = real_kube_crds, anonymous_registry
    repo = f"vap/{run_id}"
    with registry.pusher() as pusher:
        pusher.push_image(repo, ("1.0.0", "1.1.0", "1.2.0"))
    images = [f"{registry.host}/{repo}:{tag}" for tag in ("1.0.0", "1.1.0", "1.2.0")]
    refused = model_name(parse_reference(images[1]))

    kube.ok("POST", POLICIES, policy(policy_name, refused))
    kube.ok("POST", BINDINGS, binding(policy_name))
    # The policy reaches the admission chain through an informer: wait until it answers.
    kube.wait_for(lambda: probe(kube, refused, images[1]) == 403, "the policy in force", timeout=30)
    assert probe(kube, model_name(parse_reference(images[0])), images[0]) == 201

    source = f"vap-{run_id}"
    kube.ok(
        "POST",
        SOURCES,
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModelSource",
            "metadata": {"name": source, "labels": {TEST_LABEL: run_id}},
            "spec": {"images": [f"{registry.host}/{repo}"], "syncInterval": "1h"},
        },
    )
    op = OperatorProcess(kube.kubeconfig, tmp_path, extra=("--namespace", namespace)).start()
    try:

        def degraded() -> dict[str, Any] | None:
            st = source_status(kube, source)
            return st if st.get("status") == "Degraded" else None

        st = op.wait(degraded, timeout=60, message="the source Degraded")
        assert sorted(models_of(kube, source).values()) == [images[0], images[2]]
        assert (st["discoveredModels"], st["availableModels"]) == (2, 3)
        [entry] = st["selectors"][0]["refused"]
        assert (entry["model"], entry["image"], entry["reason"]) == (refused, images[1], "Forbidden")
        # The API server's own words: which policy and binding refused it, and the policy's message.
        assert MESSAGE in entry["message"]
        assert policy_name in entry["message"]
        [degraded_condition] = [c for c in st["conditions"] if c["type"] == "Degraded"]
        assert (degraded_condition["status"], degraded_condition["reason"]) == ("True", "ModelCreateRefused")
        assert refused in degraded_condition["message"]

        kube.ok("DELETE", f"{BINDINGS}/{policy_name}")  # lifted: the next (retried) sync creates it
        # The API server drops a deleted binding from its own cache in its own time. Lifted means
        # no longer refused: 201, or 409 once the operator's retried sync has created the model
        # first (a dry run of a name that exists), which is what this test waits for anyway.
        kube.wait_for(lambda: probe(kube, refused, images[1]) in (201, 409), "the policy lifted", timeout=120)

        def ready() -> dict[str, Any] | None:
            st = source_status(kube, source)
            return st if st.get("status") == "Ready" else None

        st = op.wait(ready, timeout=90, message="the source Ready after the policy was lifted")
        assert sorted(models_of(kube, source).values()) == images
        assert "refused" not in st["selectors"][0]
        assert st["discoveredModels"] == 3
    finally:
        op.stop()
