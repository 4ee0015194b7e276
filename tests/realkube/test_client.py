"""KubeClient against the real kube-apiserver: the calls the operator makes, as the server answers them."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from aimsource.kube import (
    ClientSettings,
    ForbiddenError,
    KubeClient,
    KubeConfig,
    NotFoundError,
    SecretError,
    UnauthorizedError,
    load_kube_config,
)
from tests.support.realkube import RealKube
from tests.support.realkube_fixtures import MODELS, SOURCES, TEST_LABEL

DOCKER_CONFIG = json.dumps({"auths": {"ghcr.io": {"auth": base64.b64encode(b"bob:s3cr3t-pass").decode()}}})
ENCODED = base64.b64encode(DOCKER_CONFIG.encode()).decode()


def model(name: str, run_id: str, image: str = "org/img:1.0.0", source: str = "src") -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModel",
        "metadata": {"name": name, "labels": {"aim.eai.amd.com/model-source": source, TEST_LABEL: run_id}},
        "spec": {"image": image},
    }


def source(name: str, run_id: str) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": name, "labels": {TEST_LABEL: run_id}},
        "spec": {"images": ["org/img:1.0.0"]},
    }


async def test_create_model_creates_then_reports_existing(
    real_kube: RealKube, kube_client: KubeClient, run_id: str, cleanup_cluster_objects: str
) -> None:
    name = f"m-{run_id}"
    assert await kube_client.create_model(model(name, run_id)) is True
    assert await kube_client.create_model(model(name, run_id, image="other/img:2")) is False
    stored = real_kube.ok("GET", f"{MODELS}/{name}")
    assert stored["spec"]["image"] == "org/img:1.0.0"  # the second create changed nothing
    assert stored["metadata"]["uid"]


async def test_list_pages_follows_continue_pages(
    real_kube: RealKube, kube_client: KubeClient, run_id: str, cleanup_cluster_objects: str
) -> None:
    for index in range(5):
        real_kube.ok("POST", MODELS, model(f"m{index}-{run_id}", run_id))
    pages = [page async for page in kube_client.list_pages(MODELS)]  # pages of 2
    assert all(len(page) <= 2 for page in pages)
    assert len(pages) >= 3
    ours = [
        obj["metadata"]["name"] for page in pages for obj in page if obj["metadata"]["name"].endswith(run_id)
    ]
    assert ours == [f"m{index}-{run_id}" for index in range(5)]


async def test_patch_source_status_changes_only_status(
    real_kube: RealKube, kube_client: KubeClient, run_id: str, cleanup_cluster_objects: str
) -> None:
    name = f"src-{run_id}"
    before = real_kube.ok("POST", SOURCES, source(name, run_id))
    await kube_client.patch_source_status(name, {"status": "Ready", "availableModels": 1})
    after = real_kube.ok("GET", f"{SOURCES}/{name}")
    assert after["status"]["status"] == "Ready"
    assert after["status"]["availableModels"] == 1
    assert after["spec"] == before["spec"]
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    await kube_client.patch_source_status(name, {"availableModels": None})  # None deletes the key
    assert "availableModels" not in real_kube.ok("GET", f"{SOURCES}/{name}")["status"]


async def test_patch_source_status_of_missing_source(kube_client: KubeClient, run_id: str) -> None:
    message = f'aimclustermodelsources.aim.eai.amd.com "gone-{run_id}" not found'
    with pytest.raises(NotFoundError, match=re.escape(message)):
        await kube_client.patch_source_status(f"gone-{run_id}", {"status": "Ready"})


async def test_read_pull_secret_returns_decoded_docker_config(
    real_kube: RealKube, kube_client: KubeClient, namespace: str
) -> None:
    real_kube.ok(
        "POST",
        f"/api/v1/namespaces/{namespace}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "pull"},
            "type": "kubernetes.io/dockerconfigjson",
            "stringData": {".dockerconfigjson": DOCKER_CONFIG},
        },
    )
    assert await kube_client.read_pull_secret(namespace, "pull") == DOCKER_CONFIG.encode()


# The real server refuses a kubernetes.io/dockerconfigjson secret without the key or with invalid
# JSON in it, so those cases arrive as Opaque secrets, which it stores as given.
BAD_SECRETS = [
    pytest.param(None, "not found in namespace", id="missing"),
    pytest.param(
        {"type": "Opaque", "data": {".dockerconfigjson": ENCODED}},
        'has type "Opaque"; expected kubernetes.io/dockerconfigjson',
        id="wrong-type",
    ),
]


@pytest.mark.parametrize(("secret", "message"), BAD_SECRETS)
async def test_unusable_pull_secret_is_named_without_its_content(
    real_kube: RealKube, kube_client: KubeClient, namespace: str, secret: dict[str, Any] | None, message: str
) -> None:
    if secret is not None:
        real_kube.ok(
            "POST",
            f"/api/v1/namespaces/{namespace}/secrets",
            dict(secret, apiVersion="v1", kind="Secret", metadata={"name": "pull"}),
        )
    with pytest.raises(SecretError, match=re.escape(message)) as caught:
        await kube_client.read_pull_secret(namespace, "pull")
    assert caught.value.reason == "PullSecretError"
    assert "s3cr3t" not in str(caught.value)
    assert ENCODED[:12] not in str(caught.value)


def test_the_real_server_refuses_a_dockerconfigjson_secret_without_its_key(
    real_kube: RealKube, namespace: str
) -> None:
    """Why BAD_SECRETS has no missing-key case here: the API server validates the type."""
    status, answer = real_kube.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "pull"},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {"config.json": "e30="},
        },
    )
    assert status == 422, answer
    assert ".dockerconfigjson" in answer["message"]


async def test_event_about_a_cluster_scoped_source_goes_to_default(
    real_kube: RealKube, kube_client: KubeClient, run_id: str, cleanup_cluster_objects: str
) -> None:
    src = real_kube.ok("POST", SOURCES, source(f"src-{run_id}", run_id))
    await kube_client.post_event(src, type="Normal", reason="ModelsCreated", message="Created 2 models")
    events = real_kube.ok(
        "GET",
        f"/api/v1/namespaces/default/events?fieldSelector=involvedObject.uid%3D{src['metadata']['uid']}",
    )["items"]
    [event] = events
    assert event["involvedObject"] == {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "name": f"src-{run_id}",
        "uid": src["metadata"]["uid"],
        "resourceVersion": src["metadata"]["resourceVersion"],
    }
    assert (event["type"], event["reason"]) == ("Normal", "ModelsCreated")
    assert event["message"] == "Created 2 models"
    assert event["source"] == {"component": "aimsource"}
    real_kube.ok("DELETE", f"/api/v1/namespaces/default/events/{event['metadata']['name']}")


async def test_refused_credentials(real_kube_crds: RealKube, fast_settings: ClientSettings) -> None:
    config = load_kube_config(environ={"KUBECONFIG": str(real_kube_crds.kubeconfig)})
    wrong = KubeConfig(server=config.server, ca_data=config.ca_data, ca_file=config.ca_file, token="wrong")
    async with KubeClient(wrong, fast_settings) as client:
        with pytest.raises(UnauthorizedError):
            await client.request("GET", MODELS)


async def test_a_service_account_without_rbac_is_forbidden(
    real_kube_crds: RealKube, namespace: str, tmp_path: Path, fast_settings: ClientSettings
) -> None:
    """A real token (TokenRequest API) authenticates, and RBAC then refuses what is not granted."""
    real_kube_crds.ok(
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "nobody"}},
    )
    token = real_kube_crds.service_account_token(namespace, "nobody")
    kubeconfig = real_kube_crds.write_token_kubeconfig(tmp_path / "kubeconfig", token)
    config = load_kube_config(environ={"KUBECONFIG": str(kubeconfig)}, service_account_dir=tmp_path / "no-sa")
    async with KubeClient(config, fast_settings) as client:
        with pytest.raises(ForbiddenError):
            await client.request("GET", MODELS)
        with pytest.raises(SecretError, match="forbidden by RBAC"):
            await client.read_pull_secret(namespace, "pull")
