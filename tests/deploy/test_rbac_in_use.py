"""The operator, run as deploy/ runs it, makes no API request that deploy/'s RBAC would refuse.

test_rbac.py compares the grants with a table of what the code does; this test does not trust the
table. It runs `aimsource run` as a process (with the Deployment's environment and leader election
on) against the emulated API and a real registry, drives one source through everything the
operator does — read a pull secret, check images, create a model, write status, post events, hold
and release the Lease — and then judges every request the API server recorded against the grants
that `kubectl kustomize deploy/` renders, resourceNames included.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.manifests import CLUSTER, OPERATOR_NAMESPACE, Grant, one, operator_grants, render
from tests.e2e.operator_process import OperatorProcess
from tests.e2e.scenario import events_for, models_of, source, wait_synced
from tests.support.kubeapi import KubeAPI, RequestRecord
from tests.support.registry_server import RunningRegistry

pytestmark = [pytest.mark.e2e, pytest.mark.registry]

SOURCE = "rbac-in-use"
SECRET = "rbac-in-use-creds"
IMAGE = "amdenterpriseai/aim-qwen-qwen3-32b"  # seeded into every test registry with tag 0.8.5


def _allowed(record: RequestRecord, grants: set[Grant]) -> bool:
    resource = record.plural + (f"/{record.subresource}" if record.subresource else "")
    return any(
        (g.group, g.resource, g.verb) == (record.group, resource, record.verb)
        and (g.scope == CLUSTER or g.scope == record.namespace)
        and (not g.names or record.name in g.names)
        for g in grants
    )


def _describe(record: RequestRecord) -> str:
    resource = record.plural + (f"/{record.subresource}" if record.subresource else "")
    where = f" in {record.namespace}" if record.namespace else ""
    name = f" {record.name}" if record.name else ""
    return f"{record.verb} {record.group or 'core'}/{resource}{name}{where}"


def _deployment_env(objects: list[dict[str, Any]]) -> dict[str, str]:
    """The operator container's plain environment values (the namespace comes from the pod)."""
    pod = one(objects, "Deployment", "aimsource")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return {item["name"]: item["value"] for item in container["env"] if "value" in item}


def _pull_secret(registry: RunningRegistry) -> dict[str, Any]:
    config = json.dumps(registry.docker_config()).encode()
    return {
        "metadata": {"name": SECRET},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(config).decode()},
    }


def test_every_request_of_a_running_operator_is_granted(
    htpasswd_registry: RunningRegistry,
    tmp_path: Path,
) -> None:
    objects = render()
    grants = operator_grants(objects)
    host = htpasswd_registry.host
    with KubeAPI(namespaces=(OPERATOR_NAMESPACE, "default")) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        api.create("secrets", _pull_secret(htpasswd_registry), namespace=OPERATOR_NAMESPACE)
        # One image that exists and one that does not: a model, ModelsCreated, and Degraded with
        # its Warning event.
        api.create(
            "aimclustermodelsources",
            source(
                SOURCE,
                images=[f"{host}/{IMAGE}:0.8.5", f"{host}/{IMAGE}:9.9.9"],
                secrets=[SECRET],
            ),
        )
        op = OperatorProcess(kubeconfig, tmp_path, election=True)
        op.env.update(_deployment_env(objects))
        try:
            op.start()
            wait_synced(api, op, SOURCE, state="Degraded", timeout=30)
            op.wait(lambda: len(events_for(api, SOURCE)) >= 2, message="ModelsCreated and SyncDegraded")
        finally:
            op.stop()  # SIGTERM: the Lease is released too
        assert len(models_of(api, SOURCE)) == 1
        records = api.requests
        assert not api.internal_errors, "\n".join(api.internal_errors)

    touched = {(r.verb, r.plural, r.subresource) for r in records}
    for expected in [
        ("get", "secrets", None),
        ("create", "aimclustermodels", None),
        ("patch", "aimclustermodelsources", "status"),
        ("create", "events", None),
        ("create", "leases", None),
        ("update", "leases", None),
    ]:
        assert expected in touched, f"the scenario did not exercise {expected}; it proves less than it says"
    refused = sorted({_describe(r) for r in records if not _allowed(r, grants)})
    assert not refused, "deploy/ RBAC would refuse:\n" + "\n".join(refused)
