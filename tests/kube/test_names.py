"""Names become path segments only when they are names: `kube/names.py`, checked and escaped before the
client sends anything (against the emulated API server over real HTTP)."""

from __future__ import annotations

import re

import pytest

from aimsource.kube import InvalidNameError, KubeClient, LeaseElector, LeaseSettings, SecretError
from aimsource.kube.names import check_name, name_segment, namespace_segment
from tests.kube.objects import CONTENT, pull_secret
from tests.support.kubeapi import KubeAPI


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
