"""What the client refuses or guards, against the emulated API server over real HTTP: status writes
onto a recreated source, and pull secrets a source may not use. Names that are not names:
test_names.py; the identity (User-Agent, fieldManager) every request carries: test_transport.py."""

from __future__ import annotations

import re

import pytest

from aimsource.kube import InvalidError, KubeClient, SecretError, SourceGoneError
from tests.kube.objects import CONTENT, SOURCES, pull_secret, source
from tests.support.kubeapi import KubeAPI

ALLOWED = "aim.eai.amd.com/allowed-sources"


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
