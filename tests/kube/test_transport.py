"""Who we are on every request: User-Agent, fieldManager and fieldValidation (`kube/transport.py`), against
the emulated API server over real HTTP."""

from __future__ import annotations

import re

import pytest

import aimsource
from aimsource.kube import ApiStatusError, KubeClient, LeaseElector, LeaseSettings
from tests.kube.objects import SOURCES, model, source
from tests.support.kubeapi import KubeAPI


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
