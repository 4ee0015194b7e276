"""Pull-secret trust end to end: a secret annotated with `aim.eai.amd.com/allowed-sources` serves
only the sources it lists; another source naming it fails with a message naming the secret, and
works once the annotation lists it (the annotation is re-read on every sync)."""

from __future__ import annotations

import base64
import json

import pytest

from tests.e2e.cluster import Cluster
from tests.e2e.operator_process import OperatorProcess
from tests.e2e.scenario import SOURCES, condition, models_of, source, wait_synced
from tests.support.registry_server import RunningRegistry

ALLOWED = "aim.eai.amd.com/allowed-sources"


def test_a_secret_serves_only_the_sources_it_allows(
    shared_cluster: Cluster, shared_operator: OperatorProcess, htpasswd_registry: RunningRegistry, unique: str
) -> None:
    host, secret = htpasswd_registry.host, f"{unique}-creds"
    image = f"{host}/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"
    assert htpasswd_registry.password is not None
    auth = base64.b64encode(f"{htpasswd_registry.username}:{htpasswd_registry.password}".encode()).decode()
    config = json.dumps({"auths": {host: {"auth": auth}}}).encode()
    shared_cluster.create(
        "secrets",
        {
            "metadata": {"name": secret, "annotations": {ALLOWED: "team-a, team-b"}},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(config).decode()},
        },
        namespace="aim-system",
    )
    shared_cluster.create(SOURCES, source(unique, images=[image], secrets=[secret]))

    st = wait_synced(shared_cluster, shared_operator, unique, state="Failed")
    message = condition(st, "Ready")["message"]
    assert f'imagePullSecret "{secret}"' in message
    assert f'may not be used by source "{unique}"' in message
    assert [s["error"]["reason"] for s in st["selectors"]] == ["PullSecretError"]
    assert models_of(shared_cluster, unique) == {}
    for secret_text in htpasswd_registry.secret_strings():
        assert secret_text not in json.dumps(st) + shared_operator.log_text()

    shared_cluster.patch(
        "secrets",
        secret,
        {"metadata": {"annotations": {ALLOWED: f"team-a,{unique}"}}},
        namespace="aim-system",
    )
    st = wait_synced(shared_cluster, shared_operator, unique, state="Ready", timeout=30)
    assert list(models_of(shared_cluster, unique).values()) == [image]


def test_a_secret_that_is_not_utf8_is_named_and_its_content_shown_nowhere(
    shared_cluster: Cluster, shared_operator: OperatorProcess, htpasswd_registry: RunningRegistry, unique: str
) -> None:
    """kube-apiserver stores it (Go's JSON decoder takes invalid UTF-8); our decoder refuses it,
    and its UnicodeDecodeError keeps the bytes, credentials and all."""
    refused_without_showing(
        b'{"auths": {"HOST": {"auth": "\xffAUTH"}}}',
        shared_cluster,
        shared_operator,
        htpasswd_registry,
        unique,
    )


# The emulator stores what kube-apiserver would refuse (it validates a dockerconfigjson secret as
# JSON), as an API server that does not check would, or a secret written before it checked.
@pytest.mark.emulator_only
def test_a_secret_that_is_not_json_is_named_and_its_content_shown_nowhere(
    shared_cluster: Cluster, shared_operator: OperatorProcess, htpasswd_registry: RunningRegistry, unique: str
) -> None:
    """The JSON decode error keeps the whole document in `doc`."""
    refused_without_showing(
        b'{"auths": {"HOST": {"auth": "AUTH"', shared_cluster, shared_operator, htpasswd_registry, unique
    )


def refused_without_showing(
    document: bytes,
    shared_cluster: Cluster,
    shared_operator: OperatorProcess,
    htpasswd_registry: RunningRegistry,
    unique: str,
) -> None:
    """A source naming a secret of this (malformed) `.dockerconfigjson` fails naming the secret;
    the error is not chained to the decode error, and the operator's DEBUG log says only where
    decoding stopped: no credential in the status or the log."""
    host, secret = htpasswd_registry.host, f"{unique}-creds"
    assert htpasswd_registry.password is not None
    auth = base64.b64encode(f"{htpasswd_registry.username}:{htpasswd_registry.password}".encode())
    config = document.replace(b"HOST", host.encode()).replace(b"AUTH", auth)
    shared_cluster.create(
        "secrets",
        {
            "metadata": {"name": secret},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(config).decode()},
        },
        namespace="aim-system",
    )
    image = f"{host}/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"
    shared_cluster.create(SOURCES, source(unique, images=[image], secrets=[secret]))

    st = wait_synced(shared_cluster, shared_operator, unique, state="Failed")
    message = condition(st, "Ready")["message"]
    assert f'imagePullSecret "{secret}"' in message
    assert "not valid JSON" in message
    shared_operator.wait(lambda: "cause dropped" in shared_operator.log_text(), message="the DEBUG line")
    exposed = json.dumps(st) + shared_operator.log_text()
    for secret_text in htpasswd_registry.secret_strings():
        assert secret_text not in exposed
