"""`helm install`, `helm upgrade` and `helm uninstall` of charts/aimsource on the real control plane.

The server is scripts/kube-testbed's (no kubelet: the Deployment is stored, not run). The release
gets its own namespace and object name (`--set name=...`: the ClusterRole and the events Role are
shared by the cluster, and another test applies deploy/ with the default names). Uninstall must
keep the CRDs (Helm's crds/ directory is install-only) and therefore the sources and the models.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.deploy.helm import CHART, helm
from tests.support.realkube import RealKube

SOURCES = "/apis/aim.eai.amd.com/v1alpha1/aimclustermodelsources"
MODELS = "/apis/aim.eai.amd.com/v1alpha1/aimclustermodels"
CRDS = ("aimclustermodelsources.aim.eai.amd.com", "aimclustermodels.aim.eai.amd.com")


@pytest.fixture
def release(real_kube: RealKube) -> Iterator[tuple[str, str]]:
    suffix = secrets.token_hex(4)
    namespace, name = f"helm-{suffix}", f"aimsource-{suffix}"
    yield namespace, name
    helm(
        "uninstall",
        name,
        "--namespace",
        namespace,
        "--ignore-not-found",
        kubeconfig=real_kube.kubeconfig,
        check=False,
    )
    real_kube.request("DELETE", f"/api/v1/namespaces/{namespace}")
    real_kube.request("DELETE", f"{SOURCES}?labelSelector=aimsource.test/run={suffix}")
    real_kube.request("DELETE", f"{MODELS}?labelSelector=aimsource.test/run={suffix}")


def get(kube: RealKube, *args: str) -> Any:
    return json.loads(kube.kubectl("get", *args, "-o", "json").stdout)


@pytest.mark.timeout(240)
def test_install_upgrade_uninstall_on_a_real_cluster(real_kube: RealKube, release: tuple[str, str]) -> None:
    namespace, name = release
    suffix = name.removeprefix("aimsource-")
    base = ["--namespace", namespace, "--set", f"name={name}", "--set", f"operator.leaseName={name}-leader"]

    installed = helm(
        "install",
        name,
        str(CHART),
        "--create-namespace",
        *base,
        "--wait=false",
        kubeconfig=real_kube.kubeconfig,
    )
    assert "STATUS: deployed" in installed.stdout
    for crd in CRDS:  # installed by this release, or already there (Helm then leaves them alone)
        real_kube.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{crd}")
    deployment = get(real_kube, "deployment", name, "-n", namespace)
    assert deployment["spec"]["replicas"] == 2
    assert deployment["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    role = get(real_kube, "role", name, "-n", namespace)
    assert role["rules"][2]["resourceNames"] == [f"{name}-leader"]
    binding = get(real_kube, "clusterrolebinding", name)
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]
    for service in (f"{name}-metrics", f"{name}-webhook"):
        get(real_kube, "service", service, "-n", namespace)
    get(real_kube, "poddisruptionbudget", name, "-n", namespace)
    get(real_kube, "role", f"{name}-events", "-n", "default")

    # The server checks RBAC, not the chart: the ServiceAccount may do what the operator needs, no more.
    sa = f"system:serviceaccount:{namespace}:{name}"
    assert (
        real_kube.kubectl("auth", "can-i", "create", "aimclustermodels", f"--as={sa}").stdout.strip() == "yes"
    )
    assert (
        real_kube.kubectl("auth", "can-i", "get", "secrets", "-n", namespace, f"--as={sa}").stdout.strip()
        == "yes"
    )
    denied = real_kube.kubectl(
        "auth", "can-i", "get", "secrets", "-n", "kube-system", f"--as={sa}", check=False
    )
    assert denied.stdout.strip() == "no"

    upgraded = helm(
        "upgrade",
        name,
        str(CHART),
        *base,
        "--reuse-values",
        "--set",
        "replicaCount=1",
        "--set",
        "operator.leaderElection=false",
        "--set",
        "operator.logLevel=DEBUG",
        "--set",
        "webhook.enabled=false",
        kubeconfig=real_kube.kubeconfig,
    )
    assert "STATUS: deployed" in upgraded.stdout
    assert "REVISION: 2" in upgraded.stdout
    deployment = get(real_kube, "deployment", name, "-n", namespace)
    assert deployment["spec"]["replicas"] == 1
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["AIMSOURCE_NO_LEADER_ELECTION"] == "true"
    assert env["AIMSOURCE_LOG_LEVEL"] == "DEBUG"
    assert "AIMSOURCE_WEBHOOK_PORT" not in env
    gone = real_kube.kubectl("get", "service", f"{name}-webhook", "-n", namespace, check=False)
    assert gone.returncode != 0  # the upgrade removed what the new values no longer render

    # A source and a model it owns, as the operator would have made them.
    source = real_kube.ok(
        "POST",
        SOURCES,
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModelSource",
            "metadata": {"name": f"helm-{suffix}", "labels": {"aimsource.test/run": suffix}},
            "spec": {"images": ["registry.example.com/amd/model"]},
        },
    )
    real_kube.ok(
        "POST",
        MODELS,
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModel",
            "metadata": {
                "name": f"helm-{suffix}-model",
                "labels": {"aimsource.test/run": suffix},
                "ownerReferences": [
                    {
                        "apiVersion": "aim.eai.amd.com/v1alpha1",
                        "kind": "AIMClusterModelSource",
                        "name": source["metadata"]["name"],
                        "uid": source["metadata"]["uid"],
                    }
                ],
            },
            "spec": {"image": "registry.example.com/amd/model:1.0.0"},
        },
    )

    uninstalled = helm("uninstall", name, "--namespace", namespace, kubeconfig=real_kube.kubeconfig)
    assert f'release "{name}" uninstalled' in uninstalled.stdout
    for kind, args in (
        ("deployment", ["-n", namespace]),
        ("clusterrole", []),
        ("serviceaccount", ["-n", namespace]),
    ):
        assert real_kube.kubectl("get", kind, name, *args, check=False).returncode != 0, kind
    # Helm keeps what it installed from crds/: the CRDs, and with them the source and the model.
    for crd in CRDS:
        get(real_kube, "crd", crd)
    assert real_kube.request("GET", f"{SOURCES}/helm-{suffix}")[0] == 200
    assert real_kube.request("GET", f"{MODELS}/helm-{suffix}-model")[0] == 200
