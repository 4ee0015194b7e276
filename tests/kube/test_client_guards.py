"""What the client refuses or guards, against the emulated API server over real HTTP: names that
are not names, status writes onto a recreated source, pull secrets a source may not use, and the
identity (User-Agent, fieldManager) every request carries."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

import aimsource
from aimsource.kube import (
    ApiStatusError,
    InvalidError,
    InvalidNameError,
    KubeClient,
    LeaseElector,
    LeaseSettings,
    SecretError,
    SourceGoneError,
)
from aimsource.kube.names import check_name, name_segment, namespace_segment
from tests.support.kubeapi import KubeAPI

SOURCES = "aimclustermodelsources"
CONTENT = json.dumps({"auths": {"ghcr.io": {"auth": base64.b64encode(b"bob:s3cr3t-pass").decode()}}})
ALLOWED = "aim.eai.amd.com/allowed-sources"


def source(name: str = "src") -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": name},
        "spec": {"images": ["org/img:1.0.0"]},
    }


def model(name: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModel",
        "metadata": {"name": name},
        "spec": spec or {"image": "org/img:1.0.0"},
    }


def pull_secret(
    api: KubeAPI, name: str, *, namespace: str = "aim-system", annotations: dict[str, str] | None = None
) -> None:
    meta: dict[str, Any] = {"name": name}
    if annotations is not None:
        meta["annotations"] = annotations
    api.create(
        "secrets",
        {
            "metadata": meta,
            "type": "kubernetes.io/dockerconfigjson",
            "stringData": {".dockerconfigjson": CONTENT},
        },
        namespace=namespace,
    )


# --- names become path segments only when they are names -------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../../kube-system/secrets/regcred",
        "..",
        ".",
        "a/b",
        "Regcred",
        "reg%2Fcred",
        "reg cred",
        "",
        "-regcred",
        "regcred-",
        "x" * 254,
        "reg?cred",
        "reg#cred",
    ],
)
async def test_a_pull_secret_name_that_is_not_a_name_sends_nothing(
    kube_api: KubeAPI, kube_client: KubeClient, name: str
) -> None:
    pull_secret(kube_api, "regcred", namespace="kube-system")
    kube_api.reset_requests()
    with pytest.raises(SecretError, match="is not a valid Kubernetes name: it must be a DNS-1123 subdomain"):
        await kube_client.read_pull_secret("aim-system", name, source="src")
    assert kube_api.requests == []


async def test_a_valid_name_reaches_exactly_its_namespace_and_name(
    kube_api: KubeAPI, kube_client: KubeClient
) -> None:
    pull_secret(kube_api, "reg.cred-1")
    kube_api.reset_requests()
    assert await kube_client.read_pull_secret("aim-system", "reg.cred-1", source="src") == CONTENT.encode()
    [record] = kube_api.requests
    assert (record.verb, record.plural, record.namespace, record.name) == (
        "get",
        "secrets",
        "aim-system",
        "reg.cred-1",
    )


async def test_names_in_other_paths_are_checked_too(kube_api: KubeAPI, kube_client: KubeClient) -> None:
    kube_api.reset_requests()
    with pytest.raises(InvalidNameError, match=re.escape("source name '../x' is not a valid")):
        await kube_client.patch_source_status("../x", {"status": "Ready"})
    with pytest.raises(SecretError, match="namespace 'kube-system/secrets' is not a valid Kubernetes"):
        await kube_client.read_pull_secret("kube-system/secrets", "regcred")
    with pytest.raises(InvalidNameError, match="lease name"):
        LeaseElector(kube_client, LeaseSettings(name="../leader"))
    assert kube_api.requests == []


def test_segments_are_escaped_even_where_the_rules_allow_nothing_to_escape() -> None:
    assert name_segment("reg.cred-1") == "reg.cred-1"
    assert namespace_segment("aim-system") == "aim-system"
    assert check_name("a" * 253) == "a" * 253
    with pytest.raises(InvalidNameError):
        namespace_segment("a.b")  # a namespace is a DNS-1123 label: no dots


# --- status writes guarded by the source's uid ------------------------------------------------------


async def test_guarded_status_write_lands_on_the_same_source(
    kube_api: KubeAPI, kube_client: KubeClient
) -> None:
    uid = kube_api.create(SOURCES, source())["metadata"]["uid"]
    kube_api.patch(SOURCES, "src", {"status": {"status": "Pending", "discoveredModels": 3}}, status=True)
    await kube_client.patch_source_status("src", {"status": "Ready", "discoveredModels": None}, uid=uid)
    assert kube_api.get(SOURCES, "src")["status"] == {"status": "Ready"}  # None removed a key, as before


async def test_a_recreated_source_never_gets_the_old_sync_status(
    kube_api: KubeAPI, kube_client: KubeClient
) -> None:
    old_uid = kube_api.create(SOURCES, source())["metadata"]["uid"]
    kube_api.delete(SOURCES, "src")
    new = kube_api.create(SOURCES, source())
    kube_api.reset_requests()
    with pytest.raises(
        SourceGoneError,
        match=re.escape(f'aimclustermodelsource "src" (uid {old_uid}) was deleted or recreated'),
    ):
        await kube_client.patch_source_status("src", {"status": "Ready"}, uid=old_uid)
    assert "status" not in kube_api.get(SOURCES, "src")
    assert kube_api.get(SOURCES, "src")["metadata"]["resourceVersion"] == new["metadata"]["resourceVersion"]
    assert [(r.verb, r.subresource) for r in kube_api.requests] == [("patch", "status"), ("get", None)]


async def test_a_deleted_source_is_gone(kube_api: KubeAPI, kube_client: KubeClient) -> None:
    uid = kube_api.create(SOURCES, source())["metadata"]["uid"]
    kube_api.delete(SOURCES, "src")
    with pytest.raises(SourceGoneError, match="no longer exists"):
        await kube_client.patch_source_status("src", {"status": "Ready"}, uid=uid)


async def test_a_refused_status_of_the_same_source_stays_a_refusal(
    kube_api: KubeAPI, kube_client: KubeClient
) -> None:
    uid = kube_api.create(SOURCES, source())["metadata"]["uid"]
    with pytest.raises(InvalidError, match=re.escape("status.status")):
        await kube_client.patch_source_status("src", {"status": "Sleeping"}, uid=uid)


# --- pull-secret trust: aim.eai.amd.com/allowed-sources ---------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "source_name", "allowed"),
    [
        pytest.param(None, "anyone", True, id="absent-means-any"),
        pytest.param("team-a", "team-a", True, id="listed"),
        pytest.param(" team-a ,  team-b,", "team-b", True, id="whitespace-tolerated"),
        pytest.param("team-a,team-b", "team-c", False, id="not-listed"),
        pytest.param("team-a", "team", False, id="no-prefix-match"),
        pytest.param("", "team-a", False, id="empty-allows-none"),
    ],
)
async def test_a_secret_may_restrict_the_sources_that_use_it(
    kube_api: KubeAPI, kube_client: KubeClient, annotation: str | None, source_name: str, allowed: bool
) -> None:
    pull_secret(kube_api, "pull", annotations=None if annotation is None else {ALLOWED: annotation})
    if allowed:
        found = await kube_client.read_pull_secret("aim-system", "pull", source=source_name)
        assert found == CONTENT.encode()
        return
    with pytest.raises(SecretError) as caught:
        await kube_client.read_pull_secret("aim-system", "pull", source=source_name)
    assert str(caught.value) == (
        f'imagePullSecret "pull" in namespace "aim-system" may not be used by source'
        f' "{source_name}": the secret\'s {ALLOWED} annotation does not list it'
    )
    assert "s3cr3t" not in str(caught.value)


async def test_a_restricted_secret_is_refused_to_a_caller_that_names_no_source(
    kube_api: KubeAPI, kube_client: KubeClient
) -> None:
    pull_secret(kube_api, "pull", annotations={ALLOWED: "team-a"})
    with pytest.raises(SecretError, match="may not be used by a caller that names no source"):
        await kube_client.read_pull_secret("aim-system", "pull")


# --- who we are: User-Agent, fieldManager, fieldValidation ------------------------------------------


async def test_every_request_says_aimsource_and_every_write_names_its_field_manager(
    kube_api: KubeAPI, kube_client: KubeClient
) -> None:
    src = kube_api.create(SOURCES, source())
    kube_api.reset_requests()
    assert await kube_client.create_model(model("m1"))
    await kube_client.patch_source_status("src", {"status": "Ready"}, uid=src["metadata"]["uid"])
    await kube_client.patch_source_status("src", {"status": "Ready"})
    await kube_client.post_event(src, type="Normal", reason="ModelsCreated", message="Created 1 model")
    assert [page async for page in kube_client.list_pages("/apis/aim.eai.amd.com/v1alpha1/aimclustermodels")]
    elector = LeaseElector(kube_client, LeaseSettings(namespace="aim-system", identity="me"))
    assert await elector.try_acquire_or_renew()  # create
    assert await elector.try_acquire_or_renew()  # get + update
    writes = {"create", "update", "patch"}
    seen = [
        (r.verb, r.plural, r.query.get("fieldManager"), r.query.get("fieldValidation"))
        for r in kube_api.requests
        if r.verb in writes
    ]
    assert seen == [
        ("create", "aimclustermodels", "aimsource", "Strict"),
        ("patch", SOURCES, "aimsource", None),
        ("patch", SOURCES, "aimsource", None),
        ("create", "events", "aimsource", "Strict"),
        ("create", "leases", "aimsource", "Strict"),
        ("update", "leases", "aimsource", None),
    ]
    assert {r.user_agent for r in kube_api.requests} == {f"aimsource/{aimsource.__version__}"}
    assert all("fieldManager" not in r.query for r in kube_api.requests if r.verb not in writes)


async def test_strict_creates_refuse_fields_the_crd_does_not_declare(
    kube_api: KubeAPI, kube_client: KubeClient
) -> None:
    message = re.escape('strict decoding error: unknown field "spec.typo"')
    with pytest.raises(ApiStatusError, match=message) as caught:
        await kube_client.create_model(model("m1", {"image": "org/img:1.0.0", "typo": 1}))
    assert caught.value.status == 400
    assert kube_api.find("aimclustermodels", "m1") is None
