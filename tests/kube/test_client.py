"""KubeClient against the emulated API server, over real HTTP."""

from __future__ import annotations

import base64
import logging
import re
import time
import traceback
from pathlib import Path
from typing import Any

import kmock
import pytest

from aimsource.kube import (
    ClientSettings,
    KubeClient,
    KubeConfig,
    NotFoundError,
    SecretError,
    ServerError,
    UnauthorizedError,
    UnreachableError,
)
from tests.kube.objects import CONTENT, source
from tests.support.kubeapi import KubeAPI

MODELS = "/apis/aim.eai.amd.com/v1alpha1/aimclustermodels"
DOCKER_CONFIG = CONTENT
ENCODED = base64.b64encode(DOCKER_CONFIG.encode()).decode()


def model(name: str, image: str = "org/img:1.0.0", source: str = "src") -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModel",
        "metadata": {"name": name, "labels": {"aim.eai.amd.com/model-source": source}},
        "spec": {"image": image},
    }


async def test_create_model_creates_then_reports_existing(kube_api: KubeAPI, kube_client: KubeClient) -> None:
    assert await kube_client.create_model(model("m1")) is True
    assert await kube_client.create_model(model("m1", image="other/img:2")) is False
    stored = kube_api.get("aimclustermodels", "m1")
    assert stored["spec"]["image"] == "org/img:1.0.0"  # the second create changed nothing
    assert stored["metadata"]["uid"]


async def test_list_pages_follows_continue_pages(kube_api: KubeAPI, kube_client: KubeClient) -> None:
    for index in range(5):
        kube_api.create("aimclustermodels", model(f"m{index}"))
    kube_api.reset_requests()
    pages = [[obj["metadata"]["name"] for obj in page] async for page in kube_client.list_pages(MODELS)]
    assert pages == [["m0", "m1"], ["m2", "m3"], ["m4"]]  # page size 2
    assert kube_api.count("list", "aimclustermodels") == 3


async def test_patch_source_status_changes_only_status(kube_api: KubeAPI, kube_client: KubeClient) -> None:
    before = kube_api.create("aimclustermodelsources", source())
    kube_api.reset_requests()
    await kube_client.patch_source_status("src", {"status": "Ready", "availableModels": 1})
    after = kube_api.get("aimclustermodelsources", "src")
    assert after["status"] == {"status": "Ready", "availableModels": 1}
    assert after["spec"] == before["spec"]
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert kube_api.count("patch", "aimclustermodelsources", subresource="status") == 1


async def test_patch_source_status_of_missing_source(kube_client: KubeClient) -> None:
    message = 'aimclustermodelsources.aim.eai.amd.com "gone" not found'
    with pytest.raises(NotFoundError, match=re.escape(message)):
        await kube_client.patch_source_status("gone", {"status": "Ready"})


async def test_read_pull_secret_returns_decoded_docker_config(
    kube_api: KubeAPI, kube_client: KubeClient
) -> None:
    kube_api.create(
        "secrets",
        {
            "metadata": {"name": "pull"},
            "type": "kubernetes.io/dockerconfigjson",
            "stringData": {".dockerconfigjson": DOCKER_CONFIG},
        },
        namespace="aim-system",
    )
    assert await kube_client.read_pull_secret("aim-system", "pull") == DOCKER_CONFIG.encode()


BAD_SECRETS = [
    pytest.param(None, 'imagePullSecret "pull" not found in namespace "aim-system"', id="missing"),
    pytest.param(
        {"type": "Opaque", "data": {".dockerconfigjson": ENCODED}},
        'has type "Opaque"; expected kubernetes.io/dockerconfigjson',
        id="wrong-type",
    ),
    pytest.param(
        {"type": "kubernetes.io/dockerconfigjson", "data": {"config.json": "e30="}},
        "has no .dockerconfigjson key",
        id="missing-key",
    ),
    pytest.param(
        {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": "s3cr3t!!"}},
        "not valid base64",
        id="bad-base64",
    ),
]


@pytest.mark.parametrize(("secret", "message"), BAD_SECRETS)
async def test_unusable_pull_secret_is_named_without_its_content(
    kube_api: KubeAPI,
    kube_client: KubeClient,
    secret: dict[str, Any] | None,
    message: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    if secret is not None:
        kube_api.create("secrets", dict(secret, metadata={"name": "pull"}), namespace="aim-system")
    with pytest.raises(SecretError, match=re.escape(message)) as caught:
        await kube_client.read_pull_secret("aim-system", "pull")
    assert caught.value.reason == "PullSecretError"
    assert "s3cr3t" not in str(caught.value)
    assert ENCODED[:12] not in str(caught.value)  # nor its base64
    # Nor the traceback with its causes, nor a DEBUG line about a dropped cause.
    shown = "".join(traceback.format_exception(caught.value)) + caplog.text
    shown += "".join(str(vars(record)) for record in caplog.records)
    assert "s3cr3t" not in shown
    assert ENCODED[:12] not in shown


async def test_event_about_a_cluster_scoped_source_goes_to_default(
    kube_api: KubeAPI, kube_client: KubeClient
) -> None:
    src = kube_api.create("aimclustermodelsources", source())
    await kube_client.post_event(src, type="Normal", reason="ModelsCreated", message="Created 2 models")
    [event] = kube_api.list("events", namespace="default")
    assert event["involvedObject"] == {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "name": "src",
        "uid": src["metadata"]["uid"],
        "resourceVersion": src["metadata"]["resourceVersion"],
    }
    assert (event["type"], event["reason"]) == ("Normal", "ModelsCreated")
    assert event["message"] == "Created 2 models"
    assert event["source"] == {"component": "aimsource"}


@pytest.mark.parametrize("status", [503, 429, 500])
async def test_transient_errors_are_retried(kube_api: KubeAPI, kube_client: KubeClient, status: int) -> None:
    kube_api.handler[f"post {MODELS}"][:2] << status << kmock.headers({"Retry-After": "0"})
    assert await kube_client.create_model(model("m1")) is True
    assert kube_api.find("aimclustermodels", "m1") is not None


async def test_retry_after_is_honoured_but_capped(kube_api: KubeAPI, kube_client: KubeClient) -> None:
    kube_api.handler[f"post {MODELS}"][:1] << 429 << kmock.headers({"Retry-After": "30"})
    started = time.monotonic()
    assert await kube_client.create_model(model("m1")) is True
    assert 0.15 <= time.monotonic() - started < 5  # waited the 0.2 s cap, not 30 s


async def test_persistent_server_errors_give_up(kube_api: KubeAPI, kube_client: KubeClient) -> None:
    kube_api.handler[f"post {MODELS}"] << 503 << kmock.headers({"Retry-After": "0"})
    with pytest.raises(ServerError) as caught:
        await kube_client.create_model(model("m1"))
    assert caught.value.status == 503
    assert len(kube_api.handler[f"post {MODELS}"]) == 4  # one try and three retries


async def test_refused_credentials(tmp_path: Path, fast_settings: ClientSettings) -> None:
    with KubeAPI(token="right") as api:
        async with KubeClient(KubeConfig(server=api.url, token="wrong"), fast_settings) as client:
            with pytest.raises(UnauthorizedError):
                await client.request("GET", MODELS)
        async with KubeClient(KubeConfig(server=api.url, token="right"), fast_settings) as client:
            assert (await client.request("GET", MODELS))["items"] == []


async def test_unreachable_api(fast_settings: ClientSettings) -> None:
    async with KubeClient(KubeConfig(server="http://127.0.0.1:9"), fast_settings) as client:
        with pytest.raises(UnreachableError, match="unreachable"):
            await client.request("GET", MODELS)
