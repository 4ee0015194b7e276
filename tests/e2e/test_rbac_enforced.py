"""RBAC is really enforced under the e2e scenarios on the real server: take one verb away, get a 403.

Every `[real]` scenario runs the operator with a token of deploy/'s ServiceAccount, bound to the
ClusterRole and Roles that `kubectl apply -k deploy/` installed. That the scenarios pass proves the
grants suffice only if a missing grant would fail them. Here the operator runs as another
ServiceAccount bound to copies of deploy/'s roles with one verb removed: the server refuses what
that verb allowed, and the refusal shows in the source's status and in the operator's log.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.cluster import OPERATOR_NAMESPACE, SERVICE_ACCOUNT, Cluster, RealBackend
from tests.e2e.operator_process import running_operator
from tests.e2e.scenario import MODELS, SOURCES, condition, models_of, source, wait_synced
from tests.support.realkube import ROOT, RealKube
from tests.support.registry_server import RunningRegistry

RBAC_KINDS = ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")


def rendered_rbac(kube: RealKube) -> list[dict[str, Any]]:
    """deploy/'s roles and bindings as `kubectl kustomize deploy/` renders them."""
    rendered = kube.kubectl("kustomize", str(ROOT / "deploy")).stdout
    return [obj for obj in yaml.safe_load_all(rendered) if obj and obj["kind"] in RBAC_KINDS]


def without_verb(
    objects: list[dict[str, Any]], account: str, *, resource: str, verb: str
) -> list[dict[str, Any]]:
    """Copies of the roles and bindings for `account`, with `verb` on `resource` removed (once)."""
    copies, removed = [], 0
    for original in objects:
        obj = copy.deepcopy(original)
        namespace = obj["metadata"].get("namespace")
        obj["metadata"] = {"name": account, **({"namespace": namespace} if namespace else {})}
        if obj["kind"].endswith("Binding"):
            assert obj["subjects"] == [
                {"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": OPERATOR_NAMESPACE}
            ]
            obj["subjects"][0]["name"] = account
            obj["roleRef"]["name"] = account
        for rule in obj.get("rules") or []:
            if resource in rule.get("resources", ()) and verb in rule["verbs"]:
                assert rule["resources"] == [resource], "a rule to split, not to edit"
                rule["verbs"].remove(verb)
                removed += 1
        copies.append(obj)
    assert removed == 1, f"deploy/ grants {verb} on {resource} in {removed} rules"
    return copies


@pytest.fixture
def crippled_kubeconfig(real_backend: RealBackend, unique: str, tmp_path: Path) -> Iterator[Path]:
    """A kubeconfig for a ServiceAccount holding deploy/'s RBAC less `create` on models."""
    kube = real_backend.kube
    account = f"aimsource-{unique}"[:63]
    objects = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": account, "namespace": OPERATOR_NAMESPACE},
        },
        *without_verb(rendered_rbac(kube), account, resource="aimclustermodels", verb="create"),
    ]
    manifest = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    kube.kubectl("apply", "--server-side", "-f", "-", input=manifest)
    try:
        token = kube.service_account_token(OPERATOR_NAMESPACE, account)
        yield kube.write_token_kubeconfig(tmp_path / "kubeconfig", token)
    finally:
        kube.kubectl("delete", "--ignore-not-found", "--wait=false", "-f", "-", input=manifest)


@pytest.fixture
def real_cluster(real_backend: RealBackend) -> Iterator[Cluster]:
    cluster = Cluster(real_backend)
    yield cluster
    cluster.clean_up()


def test_an_operator_without_create_on_models_is_refused_by_the_real_server(
    real_cluster: Cluster,
    crippled_kubeconfig: Path,
    tmp_path: Path,
    registry: RunningRegistry,
    unique: str,
) -> None:
    image = f"{registry.host}/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"  # seeded in every test registry
    real_cluster.create(SOURCES, source(unique, images=[image]))

    with running_operator(crippled_kubeconfig, tmp_path) as op:
        st = wait_synced(real_cluster, op, unique, state="Degraded", timeout=30)
        warnings = [r["message"] for r in op.log_records() if r.get("level") == "WARNING"]

    assert models_of(real_cluster, unique) == {}
    account = f"system:serviceaccount:{OPERATOR_NAMESPACE}:aimsource-{unique}"
    [entry] = st["selectors"][0]["refused"]
    assert (entry["image"], entry["reason"]) == (image, "Forbidden")
    # The real server's own words: who was refused what.
    assert f'User "{account}" cannot create resource "{MODELS}"' in entry["message"], entry
    assert entry["model"] in condition(st, "Degraded")["message"]
    assert [m for m in warnings if f'{account}" cannot create resource "{MODELS}"' in m], warnings
